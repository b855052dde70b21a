/* token_ops.c - row-wise kernels over channels-last token maps: LayerNorm,
 * bias + GELU, bias add, max pooling, transposition. */
/* The exp/erf/max loops below only vectorise when the compiler may assume
 * that float operations do not trap (we never enable FP exceptions). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "token_ops.h"

#include <math.h>

#include "fastmath.h"

/* Rows of work below which a kernel stays on the calling thread. */
#define TOK_PAR_MIN 32768

/* Sum of n floats with 16 independent partial sums (vectorisable). */
static float sum16(const float *x, int n) {
    float s[16] = {0};
    int c = 0;
    for (; c + 16 <= n; c += 16)
        for (int j = 0; j < 16; j++) s[j] += x[c + j];
    float t = 0.0f;
    for (; c < n; c++) t += x[c];
    for (int j = 0; j < 16; j++) t += s[j];
    return t;
}

/* Sum of (x - m)^2 over n floats, 16 partial sums. */
static float sqdev16(const float *x, int n, float m) {
    float s[16] = {0};
    int c = 0;
    for (; c + 16 <= n; c += 16)
        for (int j = 0; j < 16; j++) {
            float d = x[c + j] - m;
            s[j] += d * d;
        }
    float t = 0.0f;
    for (; c < n; c++) t += (x[c] - m) * (x[c] - m);
    for (int j = 0; j < 16; j++) t += s[j];
    return t;
}

void tok_layernorm(float *x, float *y, int64_t rows, int C, const float *w, const float *b, float eps,
                   const float *add_bias, int n_threads) {
#pragma omp parallel for schedule(static) num_threads(n_threads) if (rows * C > TOK_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        float *xr = x + r * C, *yr = y + r * C;
        float mean = sum16(xr, C) / (float)C;
        float var = sqdev16(xr, C, mean) / (float)C;
        float inv = 1.0f / sqrtf(var + eps);
        for (int c = 0; c < C; c++) yr[c] = (xr[c] - mean) * inv * w[c] + b[c];
        if (add_bias)
            for (int c = 0; c < C; c++) xr[c] += add_bias[c];
    }
}

void tok_bias_gelu(float *x, int64_t rows, int C, const float *bias, int n_threads) {
#pragma omp parallel for schedule(static) num_threads(n_threads) if (rows * C > TOK_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        float *xr = x + r * C;
        for (int c = 0; c < C; c++) xr[c] = fm_gelu(xr[c] + bias[c]);
    }
}

void tok_add_bias(float *x, int64_t rows, int C, const float *bias, int n_threads) {
#pragma omp parallel for schedule(static) num_threads(n_threads) if (rows * C > TOK_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        float *xr = x + r * C;
        for (int c = 0; c < C; c++) xr[c] += bias[c];
    }
}

void tok_maxpool(const float *x, int H, int W, int C, int sh, int sw, const float *bias, float *y,
                 int n_threads) {
    const int Ho = H / sh, Wo = W / sw;
#pragma omp parallel for schedule(static) num_threads(n_threads) if ((int64_t)Ho * Wo * C > TOK_PAR_MIN)
    for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++) {
            float *o = y + ((int64_t)oy * Wo + ox) * C;
            const float *first = x + ((int64_t)oy * sh * W + (int64_t)ox * sw) * C;
            for (int c = 0; c < C; c++) o[c] = first[c];
            for (int dy = 0; dy < sh; dy++)
                for (int dx = 0; dx < sw; dx++) {
                    const float *p = x + ((int64_t)(oy * sh + dy) * W + (int64_t)ox * sw + dx) * C;
                    for (int c = 0; c < C; c++) o[c] = p[c] > o[c] ? p[c] : o[c];
                }
            if (bias)
                for (int c = 0; c < C; c++) o[c] += bias[c];
        }
}

void tok_transpose(const float *x, int64_t N, int C, float *y, int n_threads) {
    const int B = 32;
    const int64_t nb = (N + B - 1) / B;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (N * C > TOK_PAR_MIN)
    for (int64_t bi = 0; bi < nb; bi++) {
        int64_t r0 = bi * B, r1 = r0 + B < N ? r0 + B : N;
        for (int c0 = 0; c0 < C; c0 += B) {
            int c1 = c0 + B < C ? c0 + B : C;
            for (int c = c0; c < c1; c++)
                for (int64_t r = r0; r < r1; r++) y[(int64_t)c * N + r] = x[r * C + c];
        }
    }
}
