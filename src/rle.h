/* rle.h - run-length encodings of masks: the uncompressed COCO form
 * (column-major, alternating runs starting with zeros) built in time
 * proportional to the mask's pixels plus its boundary, from row-major masks
 * streamed one row at a time. The public decode and COCO string functions are
 * declared in sam2.h. */
#ifndef SAM2_RLE_H
#define SAM2_RLE_H

#include <stdint.h>

#include "sam2.h"

/* Builds the column-major RLE of an (h, w) mask that arrives row by row.
 * It remembers only the previous row and the vertical transitions (pixels
 * that differ from the pixel above), so memory is O(w + boundary), never
 * O(h * w). One builder can encode many masks of the same size in turn
 * (rle_rows_reset between them). */
typedef struct rle_rows {
    int h, w;          /* mask size */
    int y;             /* rows pushed so far */
    uint8_t *prev;     /* (w) previous row, 0/1 */
    int32_t *tx, *ty;  /* (cap) transitions: column, row (row h = past the end) */
    int64_t n, cap;
    int32_t *col_n;    /* (w + 1) transitions per column, then prefix sums */
    int32_t *sx, *sy;  /* (cap) scratch for the column sort */
} rle_rows;

/* Prepares a builder for (h, w) masks. Free it with rle_rows_free. */
sam2_status rle_rows_init(rle_rows *r, int h, int w);

/* Forgets the current mask so that a new one can be pushed. */
void rle_rows_reset(rle_rows *r);

/* Appends the next row (w values, nonzero = foreground). Fails only when out
 * of memory or when more than h rows are pushed. */
sam2_status rle_rows_push(rle_rows *r, const uint8_t *row);

/* A row in parts: rle_rows_compare takes columns [x0, x0 + n) of the next
 * row (row holds the whole row; the columns not compared must equal the
 * previous row's), and rle_rows_push_repeat then ends the row. Fails when out
 * of memory, when the columns lie outside the row or when all h rows were
 * pushed. */
sam2_status rle_rows_compare(rle_rows *r, const uint8_t *row, int x0, int n);

/* Appends a row equal to the previous one (all zeros when it is the first):
 * no transitions, so no work. After rle_rows_compare it ends the row whose
 * changed columns were compared. */
sam2_status rle_rows_push_repeat(rle_rows *r);

/* Finishes the mask (all h rows must have been pushed) and writes the RLE of
 * the (H, W) image in which the mask is placed with its top-left pixel at
 * (x0, y0), everything else zero. The mask must fit: x0 + w <= W, y0 + h <= H.
 * *counts is malloc'd (the caller frees it). The builder keeps its
 * transitions, so it may be finished again with another placement. */
sam2_status rle_rows_finish(rle_rows *r, int x0, int y0, int H, int W, int64_t **counts, int *n_counts);

void rle_rows_free(rle_rows *r);

/* RLE of a whole row-major (h, w) mask (nonzero = foreground). */
sam2_status rle_encode(const uint8_t *mask, int h, int w, int64_t **counts, int *n_counts);

/* RLE of the mask logits > thr of a row-major (h, w) float map. */
sam2_status rle_encode_logits(const float *logits, int h, int w, float thr, int64_t **counts, int *n_counts);

/* Packed RLE: the counts as unsigned LEB128 varints (7 bits a byte), for
 * records held in bulk before NMS: a run below 128 pixels takes one byte
 * instead of eight. *out is malloc'd; counts must be non-negative. */
sam2_status rle_pack(const int64_t *counts, int n_counts, uint8_t **out, size_t *n_bytes);

/* The n_counts counts of a packed RLE, malloc'd into *counts. Fails on
 * bytes that do not hold exactly n_counts varints. */
sam2_status rle_unpack(const uint8_t *bytes, size_t n_bytes, int n_counts, int64_t **counts);

/* Foreground pixel count: the sum of the odd-indexed runs. */
int64_t rle_area(const int64_t *counts, int n_counts);

/* Pixels two RLEs of the same image have in common, in time linear in their
 * runs. */
int64_t rle_intersection_area(const int64_t *a, int na, const int64_t *b, int nb);

#endif
