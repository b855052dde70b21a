/* ops.c - small row-wise kernels. Accumulation is in float32 like PyTorch's
 * CPU kernels except where noted; results stay within float32 tolerance. */
#include "ops.h"

#include <math.h>
#include <string.h>

void op_layernorm(const float *x, float *y, int64_t rows, int C, const float *w, const float *b,
                  float eps) {
    /* float sums in SIMD lanes (as PyTorch's CPU kernel): two passes, so
     * the variance is taken about the mean and stays accurate */
#pragma omp parallel for schedule(static) if (rows * C > 65536)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * C;
        float *yr = y + r * C;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int c = 0; c < C; c++) sum += xr[c];
        const float m = sum / (float)C;
        float var = 0.0f;
#pragma omp simd reduction(+ : var)
        for (int c = 0; c < C; c++) var += (xr[c] - m) * (xr[c] - m);
        const float inv = 1.0f / sqrtf(var / (float)C + eps);
#pragma omp simd
        for (int c = 0; c < C; c++) yr[c] = (xr[c] - m) * inv * w[c] + b[c];
    }
}

void op_layernorm2d(float *x, int C, int64_t HW, const float *w, const float *b, float eps) {
    /* blocks of 64 pixels, channels outer within a block: each pixel's sums
     * still run over c in order, and a block's sums vectorise across pixels */
#pragma omp parallel for schedule(static) if (HW * C > 65536)
    for (int64_t p0 = 0; p0 < HW; p0 += 64) {
        const int np = HW - p0 < 64 ? (int)(HW - p0) : 64;
        double mean[64] = {0}, var[64] = {0};
        float m[64], inv[64];
        for (int c = 0; c < C; c++) {
            const float *r = x + (int64_t)c * HW + p0;
            for (int i = 0; i < np; i++) mean[i] += r[i];
        }
        for (int i = 0; i < np; i++) mean[i] /= C;
        for (int c = 0; c < C; c++) {
            const float *r = x + (int64_t)c * HW + p0;
            for (int i = 0; i < np; i++) {
                const double d = r[i] - mean[i];
                var[i] += d * d;
            }
        }
        for (int i = 0; i < np; i++) {
            var[i] /= C;
            inv[i] = (float)(1.0 / sqrt(var[i] + eps)), m[i] = (float)mean[i];
        }
        for (int c = 0; c < C; c++) {
            float *r = x + (int64_t)c * HW + p0;
            const float wc = w[c], bc = b[c];
            for (int i = 0; i < np; i++) r[i] = (r[i] - m[i]) * inv[i] * wc + bc;
        }
    }
}

void op_gelu(float *x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

void op_relu(float *x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void op_softmax_rows(float *x, int64_t rows, int n, int n_threads) {
#pragma omp parallel for schedule(static) num_threads(n_threads) if (rows * n > 65536)
    for (int64_t r = 0; r < rows; r++) {
        float *row = x + r * n, m = -INFINITY, total = 0.0f;
#pragma omp simd reduction(max : m)
        for (int i = 0; i < n; i++) m = row[i] > m ? row[i] : m;
        for (int i = 0; i < n; i++) row[i] -= m;
        op_exp_nonpos(row, n);
#pragma omp simd reduction(+ : total)
        for (int i = 0; i < n; i++) total += row[i];
        const float inv = 1.0f / total;
        for (int i = 0; i < n; i++) row[i] *= inv;
    }
}

void op_add(float *y, const float *x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

void op_transpose(const float *x, float *y, int R, int C) {
#pragma omp parallel for schedule(static) if ((int64_t)R * C > 65536)
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) y[(int64_t)c * R + r] = x[(int64_t)r * C + c];
}

void op_sigmoid(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = 1.0f / (1.0f + expf(-x[i]));
}

/* e^v for v <= 0: v = k ln2 + r with k rounded to nearest (the 1.5 * 2^23
 * trick), e^r by a degree-7 polynomial, 2^k built in the exponent bits. A
 * NaN stays NaN (through r) without being converted to an integer, which C
 * leaves undefined: non-finite features must not crash the decoder. */
static inline float exp_nonpos(float v) {
    v = v < -87.0f ? -87.0f : v > 0.0f ? 0.0f : v;
    float k = v * 1.44269504088896341f + 12582912.0f;
    k = k - 12582912.0f;
    float r = v - k * 0.693145751953125f; /* ln2 in two parts (Cody-Waite) */
    r = r - k * 1.428606765330187045e-06f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = ((int32_t)(k == k ? k : 0.0f) + 127) * (1 << 23);
    float scale;
    memcpy(&scale, &e, sizeof scale);
    return p * scale;
}

void op_exp_nonpos(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = exp_nonpos(x[i]);
}

static inline float gelu_vec1(float v) {
    const float z = v * 0.70710678118654752f, a = fabsf(z);
    const float t = 1.0f / (0.3275911f * a + 1.0f);
    float r = 1.061405429f * t + -1.453152027f;
    r = r * t + 1.421413741f;
    r = r * t + -0.284496736f;
    r = r * t + 0.254829592f;
    const float erf_a = 1.0f - r * t * exp_nonpos(-(z * z)); /* erf(|z|) */
    return v * 0.5f * (1.0f + (z < 0.0f ? -erf_a : erf_a));
}

void op_gelu_vec(float *x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) x[i] = gelu_vec1(x[i]);
}

void op_gelu_vec_serial(float *x, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) x[i] = gelu_vec1(x[i]);
}
