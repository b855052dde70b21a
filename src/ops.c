/* ops.c - small row-wise kernels. Accumulation is in float32 like PyTorch's
 * CPU kernels except where noted; results stay within float32 tolerance. */
#include "ops.h"

#include <math.h>

void op_layernorm(const float *x, float *y, int64_t rows, int C, const float *w, const float *b,
                  float eps) {
#pragma omp parallel for schedule(static) if (rows * C > 65536)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * C;
        float *yr = y + r * C;
        double mean = 0.0;
        for (int c = 0; c < C; c++) mean += xr[c];
        mean /= C;
        double var = 0.0;
        for (int c = 0; c < C; c++) {
            double d = xr[c] - mean;
            var += d * d;
        }
        var /= C;
        float inv = (float)(1.0 / sqrt(var + eps));
        float m = (float)mean;
        for (int c = 0; c < C; c++) yr[c] = (xr[c] - m) * inv * w[c] + b[c];
    }
}

void op_layernorm2d(float *x, int C, int64_t HW, const float *w, const float *b, float eps) {
#pragma omp parallel for schedule(static) if (HW * C > 65536)
    for (int64_t p = 0; p < HW; p++) {
        double mean = 0.0;
        for (int c = 0; c < C; c++) mean += x[(int64_t)c * HW + p];
        mean /= C;
        double var = 0.0;
        for (int c = 0; c < C; c++) {
            double d = x[(int64_t)c * HW + p] - mean;
            var += d * d;
        }
        var /= C;
        float inv = (float)(1.0 / sqrt(var + eps));
        float m = (float)mean;
        for (int c = 0; c < C; c++) {
            float *v = &x[(int64_t)c * HW + p];
            *v = (*v - m) * inv * w[c] + b[c];
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

void op_softmax_rows(float *x, int64_t rows, int n) {
#pragma omp parallel for schedule(static) if (rows * n > 65536)
    for (int64_t r = 0; r < rows; r++) {
        float *v = x + r * n;
        float mx = v[0];
        for (int i = 1; i < n; i++) mx = v[i] > mx ? v[i] : mx;
        float s = 0.0f;
        for (int i = 0; i < n; i++) {
            v[i] = expf(v[i] - mx);
            s += v[i];
        }
        float inv = 1.0f / s;
        for (int i = 0; i < n; i++) v[i] *= inv;
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
