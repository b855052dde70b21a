/* rle_sketch.h - a coarse sketch of a mask for cheap upper bounds on how
 * much two masks overlap: the mask's pixel count in each cell of a fixed
 * grid over the image. The sum over cells of the smaller of two counts is
 * never below the true intersection, so a pair that cannot reach a required
 * overlap is ruled out in a fixed number of additions, without walking both
 * RLEs. */
#ifndef SAM2_RLE_SKETCH_H
#define SAM2_RLE_SKETCH_H

#include <stdint.h>

enum { RLE_SKETCH_SIDE = 16 };

typedef struct rle_sketch {
    int64_t cell[RLE_SKETCH_SIDE * RLE_SKETCH_SIDE]; /* row-major cells */
} rle_sketch;

/* The sketch of a column-major RLE over an (H, W) image. */
void rle_sketch_make(const int64_t *counts, int n_counts, int H, int W, rle_sketch *s);

/* An upper bound of the pixels two masks of the same image share. */
int64_t rle_sketch_bound(const rle_sketch *a, const rle_sketch *b);

/* A lower bound of the same: in each cell, what the two counts must share
 * because together they exceed the cell. Near-identical masks are
 * recognised by it without walking their RLEs. */
int64_t rle_sketch_lower(const rle_sketch *a, const rle_sketch *b, int H, int W);

#endif
