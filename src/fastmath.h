/* fastmath.h - exp and erf approximations written so the compiler can
 * vectorise the loops that call them (no libm calls, no branches). Their
 * error is a few float32 ulps; they serve softmax and GELU in the encoder,
 * where libm's scalar expf/erff would cost more than the matrix products. */
#ifndef SAM2_FASTMATH_H
#define SAM2_FASTMATH_H

#include <stdint.h>

/* e^x for any float x, relative error below 2e-7 for x in [-87, 88]; inputs
 * below -87 give about 1.6e-38 instead of a smaller value or 0, inputs above
 * 88 give e^88, a NaN gives NaN (through r, never converted to an integer,
 * which C leaves undefined). Cody-Waite range reduction and a degree-6
 * polynomial. */
static inline float fm_expf(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    const float shifted = x * 1.44269504088896341f + 128.5f;
    int32_t k = (int32_t)(shifted == shifted ? shifted : 128.0f) - 128; /* round(x / ln 2) */
    float n = (float)k;
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f; /* x - n ln 2 with ln 2 split in two parts */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    union {
        int32_t i;
        float f;
    } scale;
    scale.i = (k + 127) << 23; /* 2^k, k in [-125, 127] */
    return y * scale.f;
}

/* erf(x) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), the
 * formula PyTorch's vectorised CPU GELU uses. */
static inline float fm_erff(float x) {
    float a = x < 0.0f ? -x : x;
    float t = 1.0f / (0.3275911f * a + 1.0f);
    float r = 1.061405429f;
    r = r * t - 1.453152027f;
    r = r * t + 1.421413741f;
    r = r * t - 0.284496736f;
    r = r * t + 0.254829592f;
    float e = 1.0f - r * t * fm_expf(-a * a);
    return x < 0.0f ? -e : e;
}

/* Exact-form GELU, 0.5 x (1 + erf(x / sqrt 2)), with fm_erff. */
static inline float fm_gelu(float x) { return 0.5f * x * (1.0f + fm_erff(x * 0.70710678118654752f)); }

#endif
