/* rle_bits.h - a mask as bits, column by column over its box, for exact
 * overlaps of masks with many runs. A noisy mask over a large region can
 * have thousands of runs, and walking two of them in step costs a branch per
 * run; the same overlap as bits is one AND and one popcount per 64 pixels.
 * Consensus compares hundreds of thousands of such pairs. */
#ifndef SAM2_RLE_BITS_H
#define SAM2_RLE_BITS_H

#include <stdint.h>

#include "error.h"

typedef struct rle_bits {
    int x0, ncols;  /* columns x0 .. x0 + ncols - 1 */
    int w0, nw;     /* words w0 .. w0 + nw - 1 of each column (row y: word y / 64, bit y % 64) */
    uint64_t *w;    /* ncols * nw words, column by column; NULL: not made */
} rle_bits;

/* Makes b from a column-major RLE over an image of height H when its bits
 * take no more words than the RLE has runs (where the bits are both smaller
 * and faster to compare); otherwise leaves b->w NULL (the RLE stays the way
 * to its overlaps). Fails only when out of memory. */
sam2_status rle_bits_make_if_dense(const int64_t *counts, int n_counts, int H, rle_bits *b);

/* The pixels two masks of the same image share; both must have bits. */
int64_t rle_bits_intersection(const rle_bits *a, const rle_bits *b);

void rle_bits_free(rle_bits *b);

#endif
