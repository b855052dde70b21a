/* two_way_implicit.c - the image side of the two-way transformer as a
 * low-rank update of the shared image tokens (see two_way_implicit.h).
 *
 * Notation: S (HW, d) the shared tokens, centred row by row (LayerNorm
 * ignores a row's mean), I the attention width, H heads of hd = I / H, T
 * tokens per prompt, R = H * T. A prompt's state is
 *     keys[p] = alpha[p] (S[p] * g) + sum_k LT[k][p] Nm[k],
 * LT (K, HW) and Nm (K, d), kept in the (HW, d) floats its tokens would
 * take: a header, LT (row stride HW, room for Kmax rows), alpha, Nm and,
 * for depth 2, the mean and squared norm of layer 0's tokens (doubles),
 * which layer 1's LayerNorm needs. Everything per pixel is stored pixel-
 * minor ((rows, HW)), so the per-head products and the softmaxes vectorise
 * across pixels and each prompt's remaining products are a few GEMMs. */
#include "two_way_implicit.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "gemm.h"
#include "ops.h"

/* Per-image products of S, each (I, HW) stored in blocks of 16 pixels,
 * (HW/16, I, 16), so that a block's rows are read as one contiguous run:
 * layer 0's image-to-token queries (with bias) and
 * out-projection S Wo0; the final attention's keys and values on S g and
 * the positional part of its keys; for depth 2 also S g0^2 Wo0, layer 1's
 * token-to-image keys and values, image-to-token queries and
 * out-projection on S g0, and the positional parts of those keys and
 * queries. */
enum { IX_Q0, IX_A0, IX_KF, IX_VF, IX_PKF, IX_A0G, IX_K1, IX_V1, IX_Q1, IX_A1, IX_PQ1, IX_PK1, IX_MAX };
/* Per-pixel sums of S (doubles): sum, sum of squares, . bo0; for depth 2
 * also . g0, squares . g0^2, . (g0^2 bo0), . g0^2, . (g0 b0), . (g0 bo1),
 * with g0, b0 layer 0's last LayerNorm and bo0, bo1 the out-projection
 * biases of layers 0 and 1's image-to-token attentions. */
enum { PX_SUM, PX_SQ, PX_SBO0, PX_SG, PX_SGSQ, PX_SG2BO0, PX_SG2, PX_SGB, PX_SGBO1, PX_N };
#define HEADER 8 /* floats before LT: K and Kmax */

static int n_ix(const sam2_config *c) { return c->dec_depth == 2 ? IX_MAX : IX_A0G; }

/* Floats of one blocked (I, HW) product (HW rounded up to 16). */
static size_t ix_floats(int HW, int I) { return (size_t)(HW + 15) / 16 * 16 * I; }

/* Blocked copy of y (I, HW) with row stride ldy. */
static void to_blocks(const float *y, size_t ldy, int I, int HW, float *out) {
    memset(out, 0, sizeof(float) * ix_floats(HW, I));
    for (int i = 0; i < I; i++)
        for (int p = 0; p < HW; p++) out[((size_t)(p / 16) * I + i) * 16 + p % 16] = y[(size_t)i * ldy + p];
}

static int kmax_of(const sam2_config *c, int T) { return c->dec_depth * (c->dec_heads * T + 2); }

/* The per-image block: src (HW, d), the products, g (d), scratch for a
 * scaled weight (d, I), then the per-pixel doubles. */
typedef struct ix_view {
    float *src, *ix[IX_MAX], *g, *wsc;
    double *px;
    float *tmp; /* (I, HW) a product before blocking */
} ix_view;

static ix_view ix_layout(const sam2_config *c, int HW, float *base) {
    const int d = c->d_model, I = d / c->dec_attn_downsample;
    ix_view v;
    memset(&v, 0, sizeof v);
    v.src = base;
    float *p = base + (size_t)HW * d;
    for (int i = 0; i < n_ix(c); i++, p += ix_floats(HW, I)) v.ix[i] = p;
    v.g = p, p += d;
    v.wsc = p, p += (size_t)d * I;
    p += ((size_t)(p - base)) & 1; /* doubles on 8 bytes */
    v.px = (double *)(void *)p;
    v.tmp = (float *)(void *)(v.px + (size_t)HW * PX_N);
    return v;
}

size_t twi_image_floats(const sam2_config *c, int HW) {
    const int d = c->d_model, I = d / c->dec_attn_downsample;
    return (size_t)HW * d + (size_t)n_ix(c) * ix_floats(HW, I) + d + (size_t)d * I + 1 + 2 * (size_t)HW * PX_N +
           (size_t)HW * I;
}

/* The state of one prompt. */
typedef struct st_view {
    int *K, Kmax;
    float *LT, *alpha, *Nm;
    double *mean0, *sq0;
} st_view;

static st_view st_layout(const sam2_config *c, int HW, int Kmax, float *base) {
    st_view s;
    s.K = (int *)(void *)base;
    s.Kmax = Kmax;
    s.LT = base + HEADER;
    s.alpha = s.LT + (size_t)Kmax * HW;
    s.Nm = s.alpha + HW;
    float *p = s.Nm + (size_t)Kmax * c->d_model;
    p += ((size_t)(p - base)) & 1;
    s.mean0 = (double *)(void *)p;
    s.sq0 = s.mean0 + HW;
    return s;
}

static st_view st_open(const sam2_config *c, int HW, const float *base) {
    const int *hdr = (const int *)(const void *)base;
    return st_layout(c, HW, hdr[1], (float *)base);
}

int twi_applies(const sam2_config *c, int T, int HW) {
    const int d = c->d_model, I = d / c->dec_attn_downsample, Kmax = kmax_of(c, T);
    if (c->dec_depth < 1 || c->dec_depth > 2 || c->dec_heads * T >= I || I / c->dec_heads > 16) return 0;
    size_t need = HEADER + (size_t)HW * Kmax + HW + (size_t)Kmax * d + 1 + 4 * (size_t)HW;
    return need <= (size_t)HW * d;
}

/* Scratch of one prompt's image-side work. */
static size_t per_prompt_floats(const sam2_config *c, int T, int HW) {
    const int d = c->d_model, I = d / c->dec_attn_downsample, R = c->dec_heads * T, Kmax = kmax_of(c, T);
    return 6 * (size_t)HW * R + 2 * (size_t)R * d + 4 * (size_t)R * R + 3 * (size_t)R * Kmax +
           2 * (size_t)Kmax * (I > R ? I : R) + 2 * (size_t)R * I + 8 * (size_t)R + 8 * (size_t)HW;
}

size_t twi_work_floats(const sam2_config *c, int B, int T, int HW, int n_threads) {
    const int I = c->d_model / c->dec_attn_downsample;
    return 3 * (size_t)B * T * I + (size_t)n_threads * per_prompt_floats(c, T, HW);
}

/* Prompts run side by side, one per thread with single-threaded GEMMs
 * (OpenBLAS shares these skinny products badly between threads), when
 * there are enough of them; otherwise one after another. */
static int prompt_threads(int B, int n_threads) {
    return B >= n_threads && n_threads > 1 && gemm_nested_ok() ? n_threads : 1;
}

/* ------------------------------------------------------- per image */

/* y (I, HW) = (S diag(f) W^T)^T for W (I, d) (w_rows_out = 0), or (S
 * diag(f) W)^T for W (d, I) (w_rows_out = 1), f = g * g2 (NULL: 1). */
static void project_t(const sam2_config *c, int HW, const float *S, const float *W, int w_rows_out, const float *g,
                      const float *g2, const ix_view *v, float *y) {
    float *wsc = v->wsc;
    const int d = c->d_model, I = d / c->dec_attn_downsample;
    for (int i = 0; i < I; i++) /* wsc (I, d) = W diag(f) as rows of outputs */
        for (int e = 0; e < d; e++) {
            const float f = (g ? g[e] : 1.0f) * (g2 ? g2[e] : 1.0f);
            wsc[(size_t)i * d + e] = (w_rows_out ? W[(size_t)e * I + i] : W[(size_t)i * d + e]) * f;
        }
    gemm(0, 1, I, HW, d, 1.0f, wsc, d, S, d, 0.0f, v->tmp, HW);
    to_blocks(v->tmp, (size_t)HW, I, HW, y);
}

void twi_prepare(const sam2_config *c, const mask_decoder_weights *w, int HW, const float *src, const float *kpe,
                 const float *i2t_q, two_way_cache *cache) {
    const int d = c->d_model, D = c->dec_depth, I = d / c->dec_attn_downsample;
    ix_view v = ix_layout(c, HW, cache->ix);
    /* the shared tokens are kept centred (each row minus its mean): a
     * LayerNorm does not see a row's mean, which goes into the constant
     * part of the state, and centred sums do not cancel */
#pragma omp parallel for schedule(static)
    for (int p = 0; p < HW; p++) {
        const float *s = src + (size_t)p * d;
        double mean = 0;
        for (int e = 0; e < d; e++) mean += s[e];
        mean /= d;
        for (int e = 0; e < d; e++) v.src[(size_t)p * d + e] = (float)(s[e] - mean);
    }
    src = v.src;
    const float *g0 = w->layers[0].n4_w, *b0 = w->layers[0].n4_b, *bo0 = w->layers[0].i2t.o_b;
    const float *bo1 = D == 2 ? w->layers[1].i2t.o_b : NULL;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < HW; p++) {
        const float *s = src + (size_t)p * d;
        double a[PX_N] = {0};
        for (int e = 0; e < d; e++) {
            const double x = s[e], g = g0[e];
            a[PX_SUM] += x, a[PX_SQ] += x * x, a[PX_SBO0] += x * bo0[e];
            if (bo1) {
                a[PX_SG] += x * g, a[PX_SGSQ] += x * x * g * g, a[PX_SG2BO0] += x * g * g * bo0[e];
                a[PX_SG2] += x * g * g, a[PX_SGB] += x * g * b0[e], a[PX_SGBO1] += x * g * bo1[e];
            }
        }
        memcpy(v.px + (size_t)p * PX_N, a, sizeof a);
    }
    for (int p = 0; p < HW; p++) /* layer 0's queries, with their bias, blocked */
        for (int i = 0; i < I; i++) v.ix[IX_Q0][((size_t)(p / 16) * I + i) * 16 + p % 16] = i2t_q[(size_t)p * I + i];
    for (int e = 0; e < d; e++) v.g[e] = g0[e] * (D == 2 ? w->layers[1].n4_w[e] : 1.0f);
    project_t(c, HW, src, w->layers[0].i2t.o_w, 1, NULL, NULL, &v, v.ix[IX_A0]);
    project_t(c, HW, src, w->final_attn.k_w, 0, v.g, NULL, &v, v.ix[IX_KF]);
    project_t(c, HW, src, w->final_attn.v_w, 0, v.g, NULL, &v, v.ix[IX_VF]);
    project_t(c, HW, kpe, w->final_attn.k_w, 0, NULL, NULL, &v, v.ix[IX_PKF]);
    if (D == 2) {
        const twoway_layer_weights *L1 = &w->layers[1];
        project_t(c, HW, src, w->layers[0].i2t.o_w, 1, g0, g0, &v, v.ix[IX_A0G]);
        project_t(c, HW, src, L1->t2i.k_w, 0, g0, NULL, &v, v.ix[IX_K1]);
        project_t(c, HW, src, L1->t2i.v_w, 0, g0, NULL, &v, v.ix[IX_V1]);
        project_t(c, HW, src, L1->i2t.q_w, 0, g0, NULL, &v, v.ix[IX_Q1]);
        project_t(c, HW, src, L1->i2t.o_w, 1, g0, NULL, &v, v.ix[IX_A1]);
        project_t(c, HW, kpe, L1->i2t.q_w, 0, NULL, NULL, &v, v.ix[IX_PQ1]);
        project_t(c, HW, kpe, L1->t2i.k_w, 0, NULL, NULL, &v, v.ix[IX_PK1]);
    }
}

/* --------------------------------------------------------- kernels */

/* Sixteen pixels: the kernels below keep a few of these in registers. */
typedef float v16 __attribute__((vector_size(64), aligned(4)));

/* acc[q] = sum_i tr[q][i] * C[i][p0 .. p0+16), i < hd, for N = 4 or 8
 * tokens (rows of C with stride cs): one load of C feeds N products. */
#define DOTN(N)                                                                      \
    static inline void dot##N(const float *const *tr, int hd, const float *C, size_t cs, v16 *acc) { \
        v16 a[N];                                                                    \
        for (int q = 0; q < N; q++) a[q] = (v16){0};                                 \
        for (int i = 0; i < hd; i++) {                                               \
            v16 c;                                                                   \
            memcpy(&c, C + (size_t)i * cs, sizeof c);                                \
            for (int q = 0; q < N; q++) a[q] += tr[q][i] * c;                        \
        }                                                                            \
        for (int q = 0; q < N; q++) acc[q] = a[q];                                   \
    }
DOTN(4)

/* One token: four partial sums, so that the fused multiply-adds do not wait
 * on each other. */
static inline void dot1(const float *const *tr, int hd, const float *C, size_t cs, v16 *acc) {
    v16 a[4] = {{0}, {0}, {0}, {0}};
    int i = 0;
    for (; i + 4 <= hd; i += 4)
        for (int u = 0; u < 4; u++) {
            v16 c;
            memcpy(&c, C + (size_t)(i + u) * cs, sizeof c);
            a[u] += tr[0][i + u] * c;
        }
    for (; i < hd; i++) {
        v16 c;
        memcpy(&c, C + (size_t)i * cs, sizeof c);
        a[0] += tr[0][i] * c;
    }
    acc[0] = (a[0] + a[1]) + (a[2] + a[3]);
}
DOTN(8)

/* Y (H*T, HW), row h*T + j: scale * (alpha[p] * sum_i t[j][h*hd+i] CT[h*hd+i][p]
 * + sum_i t[j][h*hd+i] PT[h*hd+i][p]), alpha and PT optional; t (T, I).
 * Blocks of 16 pixels, tokens four at a time. */
static void head_prod(int H, int T, int hd, int HW, const float *t, float scale, const float *CT, const float *alpha,
                      const float *PT, float *Y, int n_threads) {
    const int I = H * hd, nb = HW / 16;
    const size_t cs = 16; /* rows of a block */
#pragma omp parallel for schedule(static) num_threads(n_threads)
    for (int item = 0; item < H * nb; item++) {
        const int h = item / nb, p0 = (item % nb) * 16;
        const size_t off = ((size_t)(p0 / 16) * I + (size_t)h * hd) * 16;
        const float *C = CT + off, *Pp = PT ? PT + off : NULL;
        /* blocks of one head lie I * 16 floats apart, a stride the hardware
         * prefetchers miss: fetch the block two items ahead */
        if ((item % nb) + 2 < nb)
            for (int i = 0; i < hd; i++) {
                __builtin_prefetch(C + (size_t)2 * I * 16 + (size_t)i * cs, 0, 3);
                if (Pp) __builtin_prefetch(Pp + (size_t)2 * I * 16 + (size_t)i * cs, 0, 3);
            }
        v16 al = {0};
        if (alpha) memcpy(&al, alpha + p0, sizeof al);
        for (int j0 = 0; j0 < T;) { /* tokens eight, four or one at a time (the last rows repeated) */
            const int w = T - j0 > 4 ? 8 : T - j0 > 1 ? 4 : 1;
            const float *tr[8];
            for (int q = 0; q < w; q++) tr[q] = t + (size_t)(j0 + q < T ? j0 + q : j0) * I + h * hd;
            v16 a[8], b[8] = {{0}};
            if (w == 8) {
                dot8(tr, hd, C, cs, a);
                if (Pp) dot8(tr, hd, Pp, cs, b);
            } else if (w == 1) {
                dot1(tr, hd, C, cs, a);
                if (Pp) dot1(tr, hd, Pp, cs, b);
            } else {
                dot4(tr, hd, C, cs, a);
                if (Pp) dot4(tr, hd, Pp, cs, b);
            }
            for (int q = 0; q < w && j0 + q < T; q++) {
                v16 y = scale * ((alpha ? a[q] * al : a[q]) + b[q]);
                memcpy(Y + (size_t)(h * T + j0 + q) * HW + p0, &y, sizeof y);
            }
            j0 += w;
        }
    }
    for (int p = nb * 16; p < HW; p++) /* the last pixels, one by one */
        for (int h = 0; h < H; h++)
            for (int j = 0; j < T; j++) {
                const float *tj = t + (size_t)j * I + h * hd;
                float acc = 0.0f, acc2 = 0.0f;
                for (int i = 0; i < hd; i++) {
                    const size_t at = ((size_t)(p / 16) * I + h * hd + i) * 16 + p % 16;
                    acc += tj[i] * CT[at];
                    if (PT) acc2 += tj[i] * PT[at];
                }
                Y[(size_t)(h * T + j) * HW + p] = scale * ((alpha ? acc * alpha[p] : acc) + acc2);
            }
}

/* o (n, I), columns of head h: o[j][h*hd+i] = sum_p W[h*n+j][p] CT[h*hd+i][p],
 * CT blocked; hd <= 16. */
static void head_dot(int H, int n, int hd, int HW, const float *W, const float *CT, float *o, int n_threads) {
    const int I = H * hd, nb = HW / 16;
#pragma omp parallel for schedule(static) num_threads(n_threads)
    for (int r = 0; r < H * n; r++) {
        const int h = r / n, j = r % n;
        const float *wr = W + (size_t)r * HW;
        v16 acc[16];
        for (int i = 0; i < hd; i++) acc[i] = (v16){0};
        for (int b = 0; b < nb; b++) {
            v16 wv;
            memcpy(&wv, wr + (size_t)b * 16, sizeof wv);
            const float *cb = CT + ((size_t)b * I + (size_t)h * hd) * 16;
            if (b + 2 < nb) /* the stride of head_prod's blocks: fetch ahead */
                for (int i = 0; i < hd; i++) __builtin_prefetch(cb + (size_t)2 * I * 16 + (size_t)i * 16, 0, 3);
            for (int i = 0; i < hd; i++) {
                v16 cv;
                memcpy(&cv, cb + (size_t)i * 16, sizeof cv);
                acc[i] += wv * cv;
            }
        }
        for (int i = 0; i < hd; i++) {
            float sum = 0.0f;
            for (int q = 0; q < 16; q++) sum += acc[i][q];
            for (int p = nb * 16; p < HW; p++) sum += wr[p] * CT[((size_t)(p / 16) * I + h * hd + i) * 16 + p % 16];
            o[(size_t)j * I + h * hd + i] = sum;
        }
    }
}

/* Softmax within each head's group of T rows of P (H*T, HW), per pixel,
 * after adding c[r] to row r when given. */
static void softmax_groups_t(float *P, int HW, int H, int T, const float *c, float *tmp) {
    float *m = tmp, *sum = tmp + HW;
    for (int h = 0; h < H; h++) {
        float *g = P + (size_t)h * T * HW;
        for (int p = 0; p < HW; p++) m[p] = -INFINITY, sum[p] = 0.0f;
        for (int j = 0; j < T; j++) {
            float *row = g + (size_t)j * HW;
            const float cj = c ? c[h * T + j] : 0.0f;
#pragma omp simd
            for (int p = 0; p < HW; p++) {
                row[p] += cj;
                m[p] = row[p] > m[p] ? row[p] : m[p];
            }
        }
        for (int j = 0; j < T; j++) {
            float *row = g + (size_t)j * HW;
#pragma omp simd
            for (int p = 0; p < HW; p++) row[p] -= m[p];
        }
        op_exp_nonpos(g, (int64_t)T * HW);
        for (int j = 0; j < T; j++) {
            const float *row = g + (size_t)j * HW;
#pragma omp simd
            for (int p = 0; p < HW; p++) sum[p] += row[p];
        }
        for (int p = 0; p < HW; p++) sum[p] = 1.0f / sum[p];
        for (int j = 0; j < T; j++) {
            float *row = g + (size_t)j * HW;
#pragma omp simd
            for (int p = 0; p < HW; p++) row[p] *= sum[p];
        }
    }
}

/* Block-diagonal rows (H*T, I) of t (T, I): row h*T + j holds t[j]'s
 * head-h slice, zeros elsewhere, so one GEMM does every head's product. */
static void block_diag(int H, int T, int hd, const float *t, float *out) {
    const int I = H * hd;
    memset(out, 0, sizeof(float) * (size_t)H * T * I);
    for (int h = 0; h < H; h++)
        for (int j = 0; j < T; j++) memcpy(out + ((size_t)(h * T + j)) * I + h * hd, t + (size_t)j * I + h * hd, sizeof(float) * hd);
}

/* U (R, d): per head and token v_h Wo_h^T + bo / heads (the heads' shares
 * of the bias add up to bo, since each head's probabilities sum to 1).
 * vbd (R, I) scratch. */
static void out_rows(const attn_weights *a, int H, int d, int T, const float *v, float *vbd, float *U) {
    const int I = a->internal, R = H * T;
    block_diag(H, T, I / H, v, vbd);
    for (int r = 0; r < R; r++)
        for (int e = 0; e < d; e++) U[(size_t)r * d + e] = a->o_b[e] / (float)H;
    gemm(0, 1, R, d, I, 1.0f, vbd, I, a->o_w, I, 1.0f, U, d);
}

/* out[p] += sum_r A[r][p] * B[r][p] over R rows of (R, HW). */
static void col_dots(const float *A, const float *B, int R, int HW, float *out) {
    for (int r = 0; r < R; r++) {
        const float *a = A + (size_t)r * HW, *b = B + (size_t)r * HW;
#pragma omp simd
        for (int p = 0; p < HW; p++) out[p] += a[p] * b[p];
    }
}

/* out[p] = sum_r A[r][p] * v[r]. */
static void col_weighted(const float *A, const float *v, int R, int HW, float *out) {
    memset(out, 0, sizeof(float) * HW);
    for (int r = 0; r < R; r++) {
        const float *a = A + (size_t)r * HW, vr = v[r];
#pragma omp simd
        for (int p = 0; p < HW; p++) out[p] += a[p] * vr;
    }
}

/* ------------------------------------------- image-to-token updates */

void twi_i2t_first(const sam2_config *c, const mask_decoder_weights *w, int B, int T, int HW, const float *qa,
                   const float *queries, float *state, const two_way_cache *cache, int n_threads, float *work) {
    const attn_weights *a = &w->layers[0].i2t;
    const int d = c->d_model, H = c->dec_heads, I = a->internal, hd = I / H, R = H * T, D = c->dec_depth;
    const int Kmax = kmax_of(c, T), K = R + 2;
    const float scale = 1.0f / sqrtf((float)hd), *g0 = w->layers[0].n4_w, *b0 = w->layers[0].n4_b;
    const ix_view v = ix_layout(c, HW, cache->ix);
    float *k = work, *vv = k + (size_t)B * T * I, *scratch = work + 3 * (size_t)B * T * I;
    linear(qa, B * T, d, a->k_w, a->k_b, I, k);
    linear(queries, B * T, d, a->v_w, a->v_b, I, vv);
    double sg = 0, sg2 = 0, sgb = 0, sb = 0, bb = 0;
    for (int e = 0; e < d; e++)
        sg += g0[e], sg2 += (double)g0[e] * g0[e], sgb += (double)g0[e] * b0[e], sb += b0[e], bb += (double)b0[e] * b0[e];
    const int pt = prompt_threads(B, n_threads), inner = pt > 1 ? 1 : n_threads;
    const size_t ppf = per_prompt_floats(c, T, HW);
#pragma omp parallel for schedule(dynamic) num_threads(pt) if (pt > 1)
    for (int b = 0; b < B; b++) {
        float *P = scratch + (size_t)omp_get_thread_num() * ppf, *X = P + (size_t)HW * R, *PG = X + (size_t)HW * R;
        float *PGg = PG + (size_t)HW * R, *Xg = PGg + (size_t)HW * R; /* PGg right after PG: one GEMM */
        float *U = Xg + (size_t)HW * R, *Ug = U + (size_t)R * d, *G = Ug + (size_t)R * d; /* G, Gg: (2R, R) */
        float *vbd = G + 2 * (size_t)R * R, *vec = vbd + (size_t)R * I; /* usum, ug, ug2, ugb (R each) */
        float *acc = vec + 4 * (size_t)R; /* 8 (HW) per-pixel sums */
        const float *kb = k + (size_t)b * T * I, *vb = vv + (size_t)b * T * I;
        head_prod(H, T, hd, HW, kb, scale, v.ix[IX_Q0], NULL, NULL, P, inner);
        softmax_groups_t(P, HW, H, T, NULL, acc);
        out_rows(a, H, d, T, vb, vbd, U);
        head_prod(H, T, hd, HW, vb, 1.0f, v.ix[IX_A0], NULL, NULL, X, inner); /* S . U without the bias share */
        gemm(0, 1, R, R, d, 1.0f, U, d, U, d, 0.0f, G, R);
        int nG = R;
        if (D == 2) {
            head_prod(H, T, hd, HW, vb, 1.0f, v.ix[IX_A0G], NULL, NULL, Xg, inner);
            for (int r = 0; r < R; r++)
                for (int e = 0; e < d; e++) Ug[(size_t)r * d + e] = U[(size_t)r * d + e] * g0[e] * g0[e];
            gemm(0, 1, R, R, d, 1.0f, Ug, d, U, d, 0.0f, G + (size_t)R * R, R);
            nG = 2 * R;
        }
        gemm(0, 0, nG, HW, R, 1.0f, G, R, P, HW, 0.0f, PG, HW); /* G symmetric: (P G)^T = G P^T */
        float *usum = vec, *ug = vec + R, *ug2 = ug + R, *ugb = ug2 + R;
        for (int r = 0; r < R; r++) {
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int e = 0; e < d; e++) {
                const double u = U[(size_t)r * d + e];
                s0 += u, s1 += u * g0[e], s2 += u * g0[e] * g0[e], s3 += u * g0[e] * b0[e];
            }
            usum[r] = (float)s0, ug[r] = (float)s1, ug2[r] = (float)s2, ugb[r] = (float)s3;
        }
        float *pu = acc, *pxs = acc + HW, *pgp = pxs + HW, *a1 = pgp + HW, *a2 = a1 + HW, *a3 = a2 + HW;
        float *a4 = a3 + HW, *a5 = a4 + HW;
        col_weighted(P, usum, R, HW, pu);
        memset(pxs, 0, sizeof(float) * 2 * HW);
        col_dots(P, X, R, HW, pxs);
        col_dots(P, PG, R, HW, pgp);
        if (D == 2) {
            col_weighted(P, ug, R, HW, a1);
            memset(a2, 0, sizeof(float) * 2 * HW);
            col_dots(P, Xg, R, HW, a2);
            col_dots(P, PGg, R, HW, a3);
            col_weighted(P, ug2, R, HW, a4);
            col_weighted(P, ugb, R, HW, a5);
        }
        st_view s = st_layout(c, HW, Kmax, state + (size_t)b * HW * d);
        s.K[0] = K, s.K[1] = Kmax;
        float *rs = X; /* X is spent: rstd and -rstd * mean per pixel */
        for (int p = 0; p < HW; p++) {
            const double *px = v.px + (size_t)p * PX_N;
            const double m = (px[PX_SUM] + pu[p]) / d;
            /* the bias share bo0 / H of every row of U, times P summed over
             * all heads (each head's sums to 1), is s . bo0 */
            const double sq = px[PX_SQ] + 2.0 * ((double)pxs[p] + px[PX_SBO0]) + pgp[p];
            double var = sq / d - m * m;
            var = var > 0 ? var : 0;
            const double rstd = 1.0 / sqrt(var + 1e-5);
            rs[p] = (float)rstd, rs[HW + p] = (float)(-rstd * m);
            s.alpha[p] = (float)rstd;
            if (D == 2) { /* mean and squared norm of layer 0's tokens */
                const double xgsum = px[PX_SG] + a1[p];                                  /* x . g0 */
                const double x2g2 = px[PX_SGSQ] + 2.0 * ((double)a2[p] + px[PX_SG2BO0]) + a3[p]; /* x^2 . g0^2 */
                const double xg2 = px[PX_SG2] + a4[p], xgb = px[PX_SGB] + a5[p];         /* x . g0^2, x . g0 b0 */
                const double yy = x2g2 - 2.0 * m * xg2 + m * m * sg2, yb = xgb - m * sgb;
                s.mean0[p] = (rstd * (xgsum - m * sg) + sb) / d;
                s.sq0[p] = rstd * rstd * yy + 2.0 * rstd * yb + bb;
            }
        }
        for (int r = 0; r < R; r++) {
            const float *pr = P + (size_t)r * HW;
            float *lr = s.LT + (size_t)r * HW;
#pragma omp simd
            for (int p = 0; p < HW; p++) lr[p] = rs[p] * pr[p];
        }
        memcpy(s.LT + (size_t)R * HW, rs + HW, sizeof(float) * HW);
        for (int p = 0; p < HW; p++) s.LT[(size_t)(R + 1) * HW + p] = 1.0f;
        for (int r = 0; r < R; r++)
            for (int e = 0; e < d; e++) s.Nm[(size_t)r * d + e] = U[(size_t)r * d + e] * g0[e];
        memcpy(s.Nm + (size_t)R * d, g0, sizeof(float) * d);
        memcpy(s.Nm + (size_t)(R + 1) * d, b0, sizeof(float) * d);
    }
}

void twi_i2t_second(const sam2_config *c, const mask_decoder_weights *w, int B, int T, int HW, const float *qa,
                    const float *queries, float *state, const two_way_cache *cache, int n_threads, float *work) {
    const twoway_layer_weights *L1 = &w->layers[1];
    const attn_weights *a = &L1->i2t;
    const int d = c->d_model, H = c->dec_heads, I = a->internal, hd = I / H, R = H * T, Kmax = kmax_of(c, T);
    const float scale = 1.0f / sqrtf((float)hd), *g1 = L1->n4_w, *b1 = L1->n4_b;
    const ix_view v = ix_layout(c, HW, cache->ix);
    float *k = work, *vv = k + (size_t)B * T * I, *scratch = work + 3 * (size_t)B * T * I;
    linear(qa, B * T, d, a->k_w, a->k_b, I, k);
    linear(queries, B * T, d, a->v_w, a->v_b, I, vv);
    const int pt = prompt_threads(B, n_threads), inner = pt > 1 ? 1 : n_threads;
    const size_t ppf = per_prompt_floats(c, T, HW);
#pragma omp parallel for schedule(dynamic) num_threads(pt) if (pt > 1)
    for (int b = 0; b < B; b++) {
        float *P = scratch + (size_t)omp_get_thread_num() * ppf, *X = P + (size_t)HW * R, *X2 = X + (size_t)HW * R;
        float *PG = X2 + (size_t)HW * R, *U = PG + (size_t)HW * R, *G = U + (size_t)R * d, *cb = G + (size_t)R * R;
        float *usum = cb + R, *Zt = usum + R, *NQ = Zt + 2 * (size_t)R * Kmax; /* Zt then NU; NQ (K, I) */
        float *bd = NQ + (size_t)Kmax * (I > R ? I : R), *acc = bd + (size_t)R * I;
        const float *kb = k + (size_t)b * T * I, *vb = vv + (size_t)b * T * I;
        st_view s = st_open(c, HW, state + (size_t)b * HW * d);
        const int K = s.K[0];
        /* scores (keys + pe) Wq^T + bq against the tokens' keys: shared part
         * scaled by alpha, positional part, state part, query bias */
        head_prod(H, T, hd, HW, kb, scale, v.ix[IX_Q1], s.alpha, v.ix[IX_PQ1], P, inner);
        gemm(0, 1, K, I, d, 1.0f, s.Nm, d, a->q_w, d, 0.0f, NQ, I);
        block_diag(H, T, hd, kb, bd);
        gemm(0, 1, R, K, I, scale, bd, I, NQ, I, 0.0f, Zt, K);
        /* the state's part of the scores and of layer 0's tokens . U in one
         * product: (Zt; NU) (2R, K) times LT, into X (added to P) and X2 */
        out_rows(a, H, d, T, vb, bd, U);
        float *NU = Zt + (size_t)R * K;
        gemm(0, 1, R, K, d, 1.0f, U, d, s.Nm, d, 0.0f, NU, K);
        gemm(0, 0, 2 * R, HW, K, 1.0f, Zt, K, s.LT, HW, 0.0f, X, HW);
        for (size_t i = 0; i < (size_t)R * HW; i++) P[i] += X[i];
        for (int h = 0; h < H; h++)
            for (int j = 0; j < T; j++) {
                float sum = 0.0f;
                for (int t = 0; t < hd; t++) sum += a->q_b[h * hd + t] * kb[(size_t)j * I + h * hd + t];
                cb[h * T + j] = sum * scale;
            }
        softmax_groups_t(P, HW, H, T, cb, acc);
        /* layer 0's tokens . U: the shared part (times alpha below) */
        head_prod(H, T, hd, HW, vb, 1.0f, v.ix[IX_A1], NULL, NULL, X, inner);
        gemm(0, 1, R, R, d, 1.0f, U, d, U, d, 0.0f, G, R);
        gemm(0, 0, R, HW, R, 1.0f, G, R, P, HW, 0.0f, PG, HW);
        for (int r = 0; r < R; r++) {
            double s0 = 0;
            for (int e = 0; e < d; e++) s0 += U[(size_t)r * d + e];
            usum[r] = (float)s0;
        }
        float *pu = acc, *pxs = acc + HW, *px2 = pxs + HW, *pgp = px2 + HW;
        col_weighted(P, usum, R, HW, pu);
        memset(pxs, 0, sizeof(float) * 3 * HW);
        col_dots(P, X, R, HW, pxs);
        col_dots(P, X2, R, HW, px2);
        col_dots(P, PG, R, HW, pgp);
        float *rs = X;
        for (int p = 0; p < HW; p++) {
            /* as in the first layer, the bias shares times P add up to one bo1 */
            const double al = s.alpha[p], sgbo1 = v.px[(size_t)p * PX_N + PX_SGBO1];
            const double pk = al * ((double)pxs[p] + sgbo1) + px2[p];
            const double m = s.mean0[p] + pu[p] / d, sq = s.sq0[p] + 2.0 * pk + pgp[p];
            double var = sq / d - m * m;
            var = var > 0 ? var : 0;
            const double rstd = 1.0 / sqrt(var + 1e-5);
            rs[p] = (float)rstd, rs[HW + p] = (float)(-rstd * m);
            s.alpha[p] = (float)(rstd * al);
        }
        for (int r = 0; r < K; r++) {
            float *lr = s.LT + (size_t)r * HW;
#pragma omp simd
            for (int p = 0; p < HW; p++) lr[p] *= rs[p];
        }
        for (int r = 0; r < R; r++) {
            const float *pr = P + (size_t)r * HW;
            float *lr = s.LT + (size_t)(K + r) * HW;
#pragma omp simd
            for (int p = 0; p < HW; p++) lr[p] = rs[p] * pr[p];
        }
        memcpy(s.LT + (size_t)(K + R) * HW, rs + HW, sizeof(float) * HW);
        for (int p = 0; p < HW; p++) s.LT[(size_t)(K + R + 1) * HW + p] = 1.0f;
        for (int r = 0; r < K; r++)
            for (int e = 0; e < d; e++) s.Nm[(size_t)r * d + e] *= g1[e];
        for (int r = 0; r < R; r++)
            for (int e = 0; e < d; e++) s.Nm[(size_t)(K + r) * d + e] = U[(size_t)r * d + e] * g1[e];
        memcpy(s.Nm + (size_t)(K + R) * d, g1, sizeof(float) * d);
        memcpy(s.Nm + (size_t)(K + R + 1) * d, b1, sizeof(float) * d);
        s.K[0] = K + R + 2;
    }
}

/* ------------------------------------------------ token-to-image */

void twi_t2i(const sam2_config *c, const mask_decoder_weights *w, int l, int B, int n, int HW, const float *q_in,
             const float *state, size_t sstride, float *out, const two_way_cache *cache, int n_threads, float *work) {
    const int D = c->dec_depth, final = l >= D;
    const attn_weights *a = final ? &w->final_attn : &w->layers[l].t2i;
    const int d = c->d_model, H = c->dec_heads, I = a->internal, hd = I / H, Rn = H * n;
    const float scale = 1.0f / sqrtf((float)hd);
    const ix_view v = ix_layout(c, HW, cache->ix);
    const float *CK = v.ix[final ? IX_KF : IX_K1], *CV = v.ix[final ? IX_VF : IX_V1];
    const float *pe_kt = v.ix[final ? IX_PKF : IX_PK1];
    float *q = work, *o = q + (size_t)B * n * I, *scratch = work + 3 * (size_t)B * n * I;
    linear(q_in, B * n, d, a->q_w, a->q_b, I, q);
    const int pt = prompt_threads(B, n_threads), inner = pt > 1 ? 1 : n_threads;
    /* the states' width comes from the transformer's tokens, not these n */
    const int Kmax = st_open(c, HW, state).Kmax;
    const size_t nw = (size_t)Kmax * I > (size_t)Rn * d ? (size_t)Kmax * I : (size_t)Rn * d;
    const size_t ppf = (size_t)Rn * HW + 2 * (size_t)Rn * Kmax + nw + 2 * (size_t)Rn * I;
#pragma omp parallel for schedule(dynamic) num_threads(pt) if (pt > 1)
    for (int b = 0; b < B; b++) {
        const st_view s = st_open(c, HW, state + (size_t)b * sstride);
        const int K = s.K[0];
        float *Sr = scratch + (size_t)omp_get_thread_num() * ppf;
        float *Zt = Sr + (size_t)Rn * HW, *WL = Zt + (size_t)Rn * K, *NW = WL + (size_t)Rn * K;
        float *bd = NW + nw, *OV = bd + (size_t)Rn * I;
        /* the state's vectors through a weight: (Nm W^T) first, or for few
         * query rows the rows through W first, whichever is less work */
        const int rows_first = (double)Rn * d * (I + K) < (double)K * I * (d + Rn);
        const float *qb = q + (size_t)b * n * I;
        float *ob = o + (size_t)b * n * I;
        /* scores: shared part scaled by alpha, positional part, state part
         * (the key bias shifts a whole row, so it drops out) */
        head_prod(H, n, hd, HW, qb, scale, CK, s.alpha, pe_kt, Sr, inner);
        block_diag(H, n, hd, qb, bd);
        if (rows_first) {
            gemm(0, 0, Rn, d, I, scale, bd, I, a->k_w, d, 0.0f, NW, d);
            gemm(0, 1, Rn, K, d, 1.0f, NW, d, s.Nm, d, 0.0f, Zt, K);
        } else {
            gemm(0, 1, K, I, d, 1.0f, s.Nm, d, a->k_w, d, 0.0f, NW, I);
            gemm(0, 1, Rn, K, I, scale, bd, I, NW, I, 0.0f, Zt, K);
        }
        gemm(0, 0, Rn, HW, K, 1.0f, Zt, K, s.LT, HW, 1.0f, Sr, HW);
        op_softmax_rows(Sr, Rn, HW, inner);
        /* values: the probabilities on the state, then on the shared part */
        gemm(0, 1, Rn, K, HW, 1.0f, Sr, HW, s.LT, HW, 0.0f, WL, K);
        for (int r = 0; r < Rn; r++) {
            float *row = Sr + (size_t)r * HW;
#pragma omp simd
            for (int p = 0; p < HW; p++) row[p] *= s.alpha[p];
        }
        head_dot(H, n, hd, HW, Sr, CV, ob, inner);
        if (rows_first) {
            gemm(0, 0, Rn, d, K, 1.0f, WL, K, s.Nm, d, 0.0f, NW, d);
            gemm(0, 1, Rn, I, d, 1.0f, NW, d, a->v_w, d, 0.0f, OV, I);
        } else {
            gemm(0, 1, K, I, d, 1.0f, s.Nm, d, a->v_w, d, 0.0f, NW, I);
            gemm(0, 0, Rn, I, K, 1.0f, WL, K, NW, I, 0.0f, OV, I);
        }
        for (int h = 0; h < H; h++)
            for (int j = 0; j < n; j++)
                for (int i = 0; i < hd; i++)
                    ob[(size_t)j * I + h * hd + i] += OV[(size_t)(h * n + j) * I + h * hd + i] + a->v_b[h * hd + i];
    }
    linear(o, B * n, I, a->o_w, a->o_b, d, out);
}

void two_way_keys(const sam2_config *c, int HW, const float *state, const two_way_cache *cache, float *keys) {
    const int d = c->d_model;
    const ix_view v = ix_layout(c, HW, cache->ix);
    const st_view s = st_open(c, HW, state);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < HW; p++) {
        const float *sp = v.src + (size_t)p * d, al = s.alpha[p];
        float *kp = keys + (size_t)p * d;
        for (int e = 0; e < d; e++) kp[e] = al * (sp[e] * v.g[e]);
    }
    gemm(1, 0, HW, d, s.K[0], 1.0f, s.LT, HW, s.Nm, d, 1.0f, keys, d);
}
