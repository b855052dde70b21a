/* amg_filters.h - how the generator's filters thinned its candidates, as
 * a line for people and as JSON, with a hint when nothing came through. */
#ifndef SAM2_AMG_FILTERS_H
#define SAM2_AMG_FILTERS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "sam2.h"

/* One line: each filter with the candidates it let through, e.g.
 * "1024 clicks -> 3072 candidates -> 40 with predicted IoU > 0.88 (highest
 * 0.93) -> ...". Truncated to fit n bytes. */
void amg_filters_line(const sam2_amg_filter_counts *f, const sam2_amg_params *p, char *buf, size_t n);

/* Where the remedy is given: flags of one run, or the axes of a sweep. */
typedef enum { AMG_HINT_FLAGS, AMG_HINT_GRID } amg_hint_for;

/* When the generator kept nothing although the decoder answered: which
 * setting stopped every candidate and how far to relax it; "" otherwise. */
void amg_filters_hint(const sam2_amg_filter_counts *f, const sam2_amg_params *p, amg_hint_for to, char *buf,
                      size_t n);

/* {"clicks": .., "candidates": .., "above_pred_iou": .., ..., "max_pred_iou":
 * .. or null}. */
cJSON *amg_filters_json(const sam2_amg_filter_counts *f);

#endif
