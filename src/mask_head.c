/* mask_head.c - the decoder's mask logits, one row of the token grid at a
 * time (see mask_head.h). A grid row of g tokens becomes two rows of 2g
 * upscaled features, then four rows of 4g logits. */
#include "mask_head.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_small.h"
#include "ops.h"

/* (Cin, Cout, 2, 2) as (4 * Cout, Cin): row (tap, o), column i. */
static float *taps_first(const float *w, int Cin, int Cout) {
    float *t = malloc(sizeof(float) * (size_t)4 * Cout * Cin);
    if (!t) return NULL;
    for (int i = 0; i < Cin; i++)
        for (int o = 0; o < Cout; o++)
            for (int k = 0; k < 4; k++) t[((size_t)k * Cout + o) * Cin + i] = w[((size_t)i * Cout + o) * 4 + k];
    return t;
}

sam2_status mask_head_init(int d, const float *up1_w, const float *up1_b, const float *ln_w, const float *ln_b,
                           const float *up2_w, const float *up2_b, mask_head_weights *hw) {
    memset(hw, 0, sizeof *hw);
    if (d < 8 || d % 8) return SAM2_FAIL(SAM2_ERR_PARAM, "mask head: token width %d is not a multiple of 8", d);
    hw->d = d, hw->C1 = d / 4, hw->C2 = d / 8;
    hw->w1t = taps_first(up1_w, d, hw->C1);
    hw->w2t = taps_first(up2_w, hw->C1, hw->C2);
    hw->b1 = up1_b, hw->ln_w = ln_w, hw->ln_b = ln_b, hw->b2 = up2_b;
    if (!hw->w1t || !hw->w2t) {
        mask_head_free(hw);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the mask head's weights");
    }
    return SAM2_OK;
}

void mask_head_free(mask_head_weights *hw) {
    if (!hw) return;
    free(hw->w1t), free(hw->w2t);
    memset(hw, 0, sizeof *hw);
}

/* Per thread: the first product of a grid row (4*C1, g), its upscaled
 * features (C1, 4g), their product (4*C2, 4g), one row of the second
 * upscaling (C2, 4g) and its logits (nt, 4g). */
static size_t row_floats(const mask_head_weights *hw, int g, int nt) {
    return (size_t)4 * hw->C1 * g + (size_t)hw->C1 * 4 * g + (size_t)4 * hw->C2 * 4 * g + (size_t)hw->C2 * 4 * g +
           (size_t)nt * 4 * g;
}

size_t mask_head_scratch_floats(const mask_head_weights *hw, int g, int nt, int n_threads) {
    return (size_t)n_threads * row_floats(hw, g, nt);
}

size_t mask_head_skip_floats(const mask_head_weights *hw, int g) {
    return (size_t)hw->C2 * 16 * g * g + (size_t)hw->C1 * 4 * g * g;
}

/* Column x of a row of n * f pixels (f = 2 or 4) to plane x % f, place x / f. */
static void split_columns(const float *src, int n, int f, float *dst) {
    for (int q = 0; q < f; q++)
        for (int j = 0; j < n; j++) dst[(size_t)q * n + j] = src[(size_t)j * f + q];
}

void mask_head_skips(const mask_head_weights *hw, int g, const float *hr0, const float *hr1, float *skips) {
    const int W1 = 2 * g, W2 = 4 * g;
    float *s0 = skips, *s1 = skips + (size_t)hw->C2 * W2 * W2;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < hw->C2 * W2; r++) split_columns(hr0 + (size_t)r * W2, g, 4, s0 + (size_t)r * W2);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < hw->C1 * W1; r++) split_columns(hr1 + (size_t)r * W1, g, 2, s1 + (size_t)r * W1);
}

/* out (C, n) of row stride ldo = y rows tap * C + c (row stride ldy, from
 * column col0) + b[c] + skip rows c (row stride lds; NULL: none). */
static void add_rows(const float *y, size_t ldy, int col0, int tap, int C, int n, const float *b, const float *skip,
                     size_t lds, float *out, size_t ldo) {
    for (int c = 0; c < C; c++) {
        const float *t = y + ((size_t)tap * C + c) * ldy + col0, *s = skip ? skip + (size_t)c * lds : NULL;
        float *o = out + (size_t)c * ldo;
        const float bc = b[c];
        if (s) {
#pragma omp simd
            for (int j = 0; j < n; j++) o[j] = t[j] + bc + s[j];
        } else {
#pragma omp simd
            for (int j = 0; j < n; j++) o[j] = t[j] + bc;
        }
    }
}

/* A grid row's pixels are kept in tap order, never interleaved: the first
 * upscaling's pixel (ry, 2j + kx) sits at column (2 ry + kx) g + j, and of
 * an output row the second's pixel 4j + q at column q g + j; the skips are
 * split the same way once per image (mask_head_skips). Only the logits are
 * interleaved, nt rows instead of C1 + C2. */
void mask_head_run(const mask_head_weights *hw, int g, const mask_head_first *first, const float *skips,
                   const float *hyp, int nt, float *masks, float *scratch, int n_threads) {
    const int C1 = hw->C1, C2 = hw->C2, N1 = 4 * C1, W1 = 2 * g, W2 = 4 * g;
    const size_t HW = (size_t)g * g, plane1 = (size_t)W1 * W1, plane2 = (size_t)W2 * W2;
    const float *s0 = skips, *s1 = skips ? skips + (size_t)C2 * plane2 : NULL;
#pragma omp parallel for schedule(static) num_threads(n_threads) /* no BLAS call inside */
    for (int iy = 0; iy < g; iy++) {
        float *y1 = scratch + (size_t)omp_get_thread_num() * row_floats(hw, g, nt);
        float *u1 = y1 + (size_t)N1 * g, *y2 = u1 + (size_t)C1 * 4 * g, *u2 = y2 + (size_t)4 * C2 * 4 * g;
        float *lg = u2 + (size_t)C2 * W2;
        const size_t p0 = (size_t)iy * g;
        /* the grid row's first product */
        const float *f = y1;
        size_t ldf = (size_t)g;
        if (first->full) {
            f = first->full + p0, ldf = HW;
        } else {
            mm_wide(N1, g, first->K, first->Z, first->K, first->L + p0, (int)HW, 0.0f, y1, g);
            for (int r = 0; r < N1; r++) {
                float *yr = y1 + (size_t)r * g;
                const float *sh = first->shared + (size_t)r * HW + p0, *al = first->alpha + p0;
#pragma omp simd
                for (int j = 0; j < g; j++) yr[j] += al[j] * sh[j];
            }
        }
        /* two rows of the first upscaling, tap by tap, then LayerNorm2d and GELU */
        for (int k = 0; k < 4; k++) {
            const int ry = k / 2, kx = k % 2;
            add_rows(f, ldf, 0, k, C1, g, hw->b1, s1 ? s1 + (size_t)(2 * iy + ry) * W1 + (size_t)kx * g : NULL,
                     plane1, u1 + (size_t)k * g, (size_t)4 * g);
        }
        op_layernorm2d(u1, C1, 4 * g, hw->ln_w, hw->ln_b, 1e-6f); /* too small to start threads */
        op_gelu_vec_serial(u1, (int64_t)C1 * 4 * g);
        /* the second upscaling's product for both rows, then per output row
         * its features, GELU, the hypernetwork product and the logits */
        mm_wide(4 * C2, 4 * g, C1, hw->w2t, C1, u1, 4 * g, 0.0f, y2, 4 * g);
        for (int ry = 0; ry < 2; ry++)
            for (int ky = 0; ky < 2; ky++) {
                const int row = 4 * iy + 2 * ry + ky;
                for (int q = 0; q < 4; q++) {
                    const int kx1 = q / 2, kx2 = q % 2;
                    add_rows(y2, (size_t)4 * g, (2 * ry + kx1) * g, 2 * ky + kx2, C2, g, hw->b2,
                             s0 ? s0 + (size_t)row * W2 + (size_t)q * g : NULL, plane2, u2 + (size_t)q * g, (size_t)W2);
                }
                op_gelu_vec_serial(u2, (int64_t)C2 * W2);
                mm_wide(nt, W2, C2, hyp, C2, u2, W2, 0.0f, lg, W2);
                for (int m = 0; m < nt; m++) {
                    float *o = masks + (size_t)m * plane2 + (size_t)row * W2;
                    const float *l = lg + (size_t)m * W2;
                    for (int j = 0; j < g; j++)
                        for (int q = 0; q < 4; q++) o[4 * j + q] = l[(size_t)q * g + j];
                }
            }
    }
}
