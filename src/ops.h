/* ops.h - elementwise and row-wise operations shared by the encoder and the
 * decoder. Tensors are row-major float32; "rows" are the last dimension. */
#ifndef SAM2_OPS_H
#define SAM2_OPS_H

#include <stdint.h>

/* LayerNorm over the last dimension C of `rows` rows, in place allowed
 * (y may equal x). w, b: (C). */
void op_layernorm(const float *x, float *y, int64_t rows, int C, const float *w, const float *b,
                  float eps);

/* LayerNorm2d of a (C, HW) channels-first map: normalises each pixel over C. */
void op_layernorm2d(float *x, int C, int64_t HW, const float *w, const float *b, float eps);

/* Exact (erf) GELU, in place. */
void op_gelu(float *x, int64_t n);

/* ReLU, in place. */
void op_relu(float *x, int64_t n);

/* Softmax over each row of length n, in place (maximum subtracted,
 * op_exp_nonpos, normalised by the row's sum), rows split over n_threads. */
void op_softmax_rows(float *x, int64_t rows, int n, int n_threads);

/* y += x, elementwise. */
void op_add(float *y, const float *x, int64_t n);

/* Transposes (R, C) to (C, R). */
void op_transpose(const float *x, float *y, int R, int C);

/* Logistic sigmoid, in place. */
void op_sigmoid(float *x, int64_t n);

/* e^x in place for x <= 0 (softmax arguments; below -87 gives e^-87), as a
 * loop the compiler vectorises: within 1.4 ulp of the exact value (libm's
 * expf: 1 ulp), about five times faster than expf per element. */
void op_exp_nonpos(float *x, int64_t n);

/* GELU as PyTorch's vectorised CPU kernel computes it, in place:
 * (x / 2) (1 + erf(x / sqrt 2)) with its erf approximation (Abramowitz and
 * Stegun 7.1.26, |error| < 1.5e-7): within 2e-7 of op_gelu, several times
 * faster. */
void op_gelu_vec(float *x, int64_t n);
/* The same on the calling thread only (for callers already in parallel). */
void op_gelu_vec_serial(float *x, int64_t n);

#endif
