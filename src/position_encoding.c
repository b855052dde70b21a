/* position_encoding.c - Hiera's bicubic-resized absolute position embedding
 * and the FPN neck's sine position encoding. Both are separable, so they are
 * computed from 1-D tables and broadcast. */
#include "position_encoding.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Cubic convolution kernel for |x| <= 1 and for 1 < |x| < 2 (A = -0.75). */
static float cubic_near(float x, float A) { return ((A + 2) * x - (A + 3)) * x * x + 1; }
static float cubic_far(float x, float A) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; }

/* The four taps (clamped indices) and weights of output position `o` when
 * resizing n_in samples to n_out. */
static void cubic_taps(int o, int n_in, int n_out, int idx[4], float wt[4]) {
    const float A = -0.75f, scale = (float)n_in / (float)n_out;
    float src = scale * ((float)o + 0.5f) - 0.5f;
    float f = floorf(src);
    float t = src - f;
    wt[0] = cubic_far(t + 1.0f, A);
    wt[1] = cubic_near(t, A);
    wt[2] = cubic_near(1.0f - t, A);
    wt[3] = cubic_far(2.0f - t, A);
    for (int j = 0; j < 4; j++) {
        int i = (int)f - 1 + j;
        idx[j] = i < 0 ? 0 : i >= n_in ? n_in - 1 : i;
    }
}

void pe_bicubic(const float *in, int ih, int iw, float *out, int oh, int ow) {
    for (int y = 0; y < oh; y++) {
        int iy[4], ix[4];
        float wy[4], wx[4];
        cubic_taps(y, ih, oh, iy, wy);
        for (int x = 0; x < ow; x++) {
            cubic_taps(x, iw, ow, ix, wx);
            float acc = 0.0f;
            for (int i = 0; i < 4; i++) {
                const float *row = in + (size_t)iy[i] * iw;
                float r = row[ix[0]] * wx[0];
                for (int j = 1; j < 4; j++) r += row[ix[j]] * wx[j];
                acc += r * wy[i];
            }
            out[(size_t)y * ow + x] = acc;
        }
    }
}

sam2_status pe_hiera(const float *pos_embed, int bh, int bw, const float *pos_window, int ws, int C, int H, int W,
                     const float *bias, float *out, int n_threads) {
    if (ws < 1 || H % ws || W % ws)
        return SAM2_FAIL(SAM2_ERR_CONFIG,
                         "the %dx%d patch-embedding map is not a whole number of %dx%d position-embedding windows "
                         "(window_spec[0])",
                         H, W, ws, ws);
    /* cl (bh, bw, C): pos_embed channels-last; rows (bh, W, C): each source
     * row resized along x; win (ws, ws, C) channels-last (+ bias). */
    float *cl = malloc(sizeof(float) * ((size_t)bh * bw * C + (size_t)bh * W * C + (size_t)ws * ws * C));
    if (!cl) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the position embedding");
    float *rows = cl + (size_t)bh * bw * C, *win = rows + (size_t)bh * W * C;
    for (int c = 0; c < C; c++) {
        for (int p = 0; p < bh * bw; p++) cl[(size_t)p * C + c] = pos_embed[(size_t)c * bh * bw + p];
        for (int p = 0; p < ws * ws; p++)
            win[(size_t)p * C + c] = pos_window[(size_t)c * ws * ws + p] + (bias ? bias[c] : 0.0f);
    }
    for (int r = 0; r < bh; r++)
        for (int x = 0; x < W; x++) {
            int ix[4];
            float wx[4];
            cubic_taps(x, bw, W, ix, wx);
            float *dst = rows + ((size_t)r * W + x) * C;
            const float *s0 = cl + ((size_t)r * bw + ix[0]) * C, *s1 = cl + ((size_t)r * bw + ix[1]) * C;
            const float *s2 = cl + ((size_t)r * bw + ix[2]) * C, *s3 = cl + ((size_t)r * bw + ix[3]) * C;
            for (int c = 0; c < C; c++) dst[c] = s0[c] * wx[0] + s1[c] * wx[1] + s2[c] * wx[2] + s3[c] * wx[3];
        }
#pragma omp parallel for schedule(static) num_threads(n_threads) if ((long)H * W * C > 32768)
    for (int y = 0; y < H; y++) {
        int iy[4];
        float wy[4];
        cubic_taps(y, bh, H, iy, wy);
        for (int x = 0; x < W; x++) {
            float *dst = out + ((size_t)y * W + x) * C;
            const float *r0 = rows + ((size_t)iy[0] * W + x) * C, *r1 = rows + ((size_t)iy[1] * W + x) * C;
            const float *r2 = rows + ((size_t)iy[2] * W + x) * C, *r3 = rows + ((size_t)iy[3] * W + x) * C;
            const float *wv = win + ((size_t)(y % ws) * ws + (x % ws)) * C;
            for (int c = 0; c < C; c++) dst[c] = (r0[c] * wy[0] + r1[c] * wy[1] + r2[c] * wy[2] + r3[c] * wy[3]) + wv[c];
        }
    }
    free(cl);
    return SAM2_OK;
}

sam2_status pe_sine(int n_feats, float temperature, int normalize, float scale, int H, int W, float *out,
                    int n_threads) {
    if (n_feats < 2 || n_feats % 2)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "sine position encoding needs an even channel count (got %d)", n_feats);
    const int npf = n_feats / 2;
    float *ty = malloc(sizeof(float) * (size_t)npf * (H + W)); /* (npf, H) then (npf, W) */
    if (!ty) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the sine position encoding");
    float *tx = ty + (size_t)npf * H;
    for (int k = 0; k < npf; k++) {
        float dim_t = powf(temperature, (float)(2 * (k / 2)) / (float)npf);
        for (int y = 0; y < H; y++) {
            float p = (float)(y + 1);
            if (normalize) p = p / ((float)H + 1e-6f) * scale;
            p = p / dim_t;
            ty[(size_t)k * H + y] = (k % 2) ? cosf(p) : sinf(p);
        }
        for (int x = 0; x < W; x++) {
            float p = (float)(x + 1);
            if (normalize) p = p / ((float)W + 1e-6f) * scale;
            p = p / dim_t;
            tx[(size_t)k * W + x] = (k % 2) ? cosf(p) : sinf(p);
        }
    }
#pragma omp parallel for schedule(static) num_threads(n_threads) if ((long)n_feats * H * W > 32768)
    for (int k = 0; k < npf; k++) {
        float *oy = out + (size_t)k * H * W, *ox = out + (size_t)(npf + k) * H * W;
        for (int y = 0; y < H; y++) {
            float v = ty[(size_t)k * H + y];
            for (int x = 0; x < W; x++) oy[(size_t)y * W + x] = v;
            memcpy(ox + (size_t)y * W, tx + (size_t)k * W, sizeof(float) * (size_t)W);
        }
    }
    free(ty);
    return SAM2_OK;
}
