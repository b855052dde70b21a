/* amg_gap_fill.h - the pieces of sam2_amg_gap_fill, for tests. */
#ifndef SAM2_AMG_GAP_FILL_H
#define SAM2_AMG_GAP_FILL_H

#include <stdint.h>

#include "sam2.h"

/* One 4-connected region of uncovered pixels and its point farthest from
 * covered pixels and the image border (3-4 chamfer distance). */
typedef struct gap_region {
    int64_t area;
    int x, y;
    int32_t dist;
} gap_region;

/* The ranges of every parameter (an error naming the first out of range). */
sam2_status gap_fill_params_check(const sam2_gap_fill_params *g);

/* Marks the pixels of a column-major RLE in covered (h, w), row-major. */
void gap_coverage_add(const int64_t *counts, int n_counts, int w, int h, uint8_t *covered);

/* The pixels of a column-major RLE not marked in covered. */
int64_t gap_uncovered(const int64_t *counts, int n_counts, int w, int h, const uint8_t *covered);

/* The uncovered regions of at least min_area pixels, largest first (at most
 * max_regions of them, out holds that many). */
sam2_status gap_find_regions(const uint8_t *covered, int w, int h, int64_t min_area, int max_regions,
                             gap_region *out, int *n_out);

#endif
