/* amg_agree.h - how much two masks of one image overlap, and whether they
 * agree (mask IoU at least a threshold), fast enough to compare every pair
 * of a pool of thousands: bounds from boxes and sketches first, exact
 * counts only near the threshold. Used by consensus and level picking. */
#ifndef SAM2_AMG_AGREE_H
#define SAM2_AMG_AGREE_H

#include <stdint.h>

#include "rle_bits.h"
#include "rle_sketch.h"
#include "sam2.h"

/* Inclusive pixel boxes' overlap area (0 when apart); boxes are x, y, w, h
 * with w = x1 - x0 as in the records. */
int64_t amg_box_overlap(const float *a, const float *b);

/* The pixels two masks share: from their bits when both have them, else
 * by walking their RLEs. */
int64_t amg_overlap(const sam2_amg_mask *a, const sam2_amg_mask *b, const rle_bits *ba, const rle_bits *bb);

/* 0 when the areas and boxes of two records rule out mask IoU at least
 * agree (1: they may agree; no sketches needed to ask). */
int amg_may_agree(const sam2_amg_mask *a, const sam2_amg_mask *b, double agree);

/* 1 when two records of one image have mask IoU at least agree, without
 * sketches: the areas and boxes first, then their RLEs. */
int amg_agree_exact(const sam2_amg_mask *a, const sam2_amg_mask *b, double agree);

/* 1 when two records of the same (H, W) image have mask IoU at least agree
 * (sa, sb: their sketches; ba, bb: their bits, or empty ones). */
int amg_agreeing(const sam2_amg_mask *a, const sam2_amg_mask *b, const rle_sketch *sa, const rle_sketch *sb,
                 const rle_bits *ba, const rle_bits *bb, double agree, int H, int W);

/* click[i]: the index of the first answer of candidate i's click (one
 * click's answers are consecutive in a pool: same click, same crop box). */
void amg_click_ids(const sam2_amg_mask *c, int n, int *click);

#endif
