/* amg_row.h - one row of an upsampled mask: the bilinear value of every
 * pixel from its two horizontally interpolated source rows, counted above
 * the stability score's two cut-offs and thresholded into a 0/1 row. The
 * generator's inner loop over every pixel of every candidate it keeps. */
#ifndef SAM2_AMG_ROW_H
#define SAM2_AMG_ROW_H

#include <stdint.h>

#include "sam2.h"

/* v[x] = r0[x] * h0 + r1[x] * h1 (two products and one sum, in that order,
 * as PyTorch's separable kernel rounds them) for x in [0, n); bin[x] =
 * v > thr; adds the number of v > hi to *n_hi and of v > lo to *n_lo. */
void amg_row_separable(const float *r0, const float *r1, float h0, float h1, int n, float thr, float hi, float lo,
                       uint8_t *bin, int64_t *n_hi, int64_t *n_lo);

/* v below (above) t by a margin far beyond the rounding of a bilinear
 * value: a convex combination of values all below (above) t this way stays
 * below (above) it when computed in float. */
static inline int amg_below(float v, float t) { return v + 1e-4f * (1.0f + (v < 0 ? -v : v)) < t; }
static inline int amg_above(float v, float t) { return v - 1e-4f * (1.0f + (v < 0 ? -v : v)) > t; }

/* Runs of output columns that read the same two source columns: columns
 * [start[k], start[k + 1]) interpolate between source columns c0[k] and
 * c1[k]. */
typedef struct amg_col_runs {
    int n;
    int *start, *c0, *c1; /* (n + 1), (n), (n) */
} amg_col_runs;

/* The runs of the n_cols columns whose taps are i0[x], i1[x]. */
sam2_status amg_col_runs_init(amg_col_runs *r, const int *i0, const int *i1, int n_cols);

/* Releases the runs; safe on a zeroed or already freed struct. */
void amg_col_runs_free(amg_col_runs *r);

/* Columns [x0, x0 + n) of an output row: 0 all below every threshold, 1
 * all above, 2 to be computed. */
typedef struct amg_span {
    int x0, n, kind;
} amg_span;

/* The runs of output rows between source rows ra and rb, merged into spans
 * of one kind (at most runs->n): every output value of a run is a convex
 * combination of its four source values (ra and rb at columns c0 and c1),
 * so it is 0 when all four lie below tmin and 1 when all lie above tmax,
 * each by a margin far beyond the interpolation's rounding; otherwise, or
 * when a value is NaN, 2. */
void amg_span_list(const amg_col_runs *runs, const float *ra, const float *rb, float tmin, float tmax, amg_span *spans,
                   int *n_spans);

/* The first and last x with bin[x] != 0 of a row made from spans (kind 0
 * all zeros, 1 all ones, 2 as computed in bin); returns 0 when the row is
 * all zeros. Only computed spans are read. */
int amg_spans_extent(const amg_span *spans, int n_spans, const uint8_t *bin, int *first, int *last);

/* The first and last x with bin[x] != 0, by eight bytes at a time; returns
 * 0 (and leaves first and last alone) when the row is all zeros. */
int amg_row_span(const uint8_t *bin, int n, int *first, int *last);

#endif
