/* score_grid.h - a sweep of the two score thresholds drawn from one image's
 * own candidates, for models and images whose scores sit outside the range
 * the official defaults expect. */
#ifndef SAM2_SCORE_GRID_H
#define SAM2_SCORE_GRID_H

#include <stddef.h>

#include "sam2.h"

/* Writes "pred-iou-thresh=A,B,C;stability-score-thresh=X,Y,Z" (a --grid
 * text) from the records of `all`, a run that kept every candidate
 * (thresholds off, no NMS): pred_iou_thresh at the 50th, 75th and 90th
 * percentiles of the predicted IoUs, stability_score_thresh at the 25th,
 * 50th and 75th percentiles of the stability scores of the candidates that
 * pass the lowest of those. Each value is rounded down to 0.01 (one step
 * below an exact multiple, as the IoU filter is strict) and clamped to 0..1,
 * so at least that share of the candidates passes; repeated values appear
 * once. Returns 0, or -1 when `all` has no record with finite scores,
 * memory runs out or text is too small. */
int score_grid_text(const sam2_amg_result *all, char *text, size_t size);

#endif
