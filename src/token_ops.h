/* token_ops.h - row-wise kernels over channels-last token maps (rows, C),
 * the layout the Hiera trunk works in. Every kernel runs on up to n_threads
 * OpenMP threads and is written so the compiler vectorises its inner loop. */
#ifndef SAM2_TOKEN_OPS_H
#define SAM2_TOKEN_OPS_H

#include <stdint.h>

/* y (rows, C) = LayerNorm(x) with weight w and bias b (C), statistics in
 * float32 over each row. When add_bias is not NULL, x += add_bias (C) after
 * the row has been normalised (this fuses a later residual bias into the
 * same pass). x and y must not overlap. */
void tok_layernorm(float *x, float *y, int64_t rows, int C, const float *w, const float *b, float eps,
                   const float *add_bias, int n_threads);

/* x (rows, C) = GELU(x + bias), exact-erf form, in place. */
void tok_bias_gelu(float *x, int64_t rows, int C, const float *bias, int n_threads);

/* x (rows, C) += bias (C). */
void tok_add_bias(float *x, int64_t rows, int C, const float *bias, int n_threads);

/* Max pool with kernel = stride = (sh, sw), floor mode, of a (H, W, C) map
 * into (H/sh, W/sw, C); when bias is not NULL it is added to every output
 * row. */
void tok_maxpool(const float *x, int H, int W, int C, int sh, int sw, const float *bias, float *y,
                 int n_threads);

/* y (C, N) = x (N, C) transposed (blocked for cache use). */
void tok_transpose(const float *x, int64_t N, int C, float *y, int n_threads);

#endif
