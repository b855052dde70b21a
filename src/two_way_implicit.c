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
 * across pixels. The image-sized passes run tile by tile of pixels with
 * every prompt of the call inside a tile: the image's products (several
 * MiB each) are then read once per call instead of once per prompt. */
#include "two_way_implicit.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "gemm.h"
#include "gemm_small.h"
#include "ops.h"
#include "vec16.h"

/* Per-image products of S, each (I, HW), a tile's part of a row read as
 * one contiguous run: layer 0's image-to-token queries (with bias) and
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

/* Floats of one (I, HW) product. */
static size_t ix_floats(int HW, int I) { return (size_t)HW * I; }

/* Rows a layer's image-to-token update adds to a state (state_rows,
 * append_rows): per head the probabilities of all tokens but the last, one
 * row for the last tokens' share (each head's probabilities sum to one), the
 * LayerNorm's mean and the bias. */
static int rows_per_update(const sam2_config *c, int T) { return c->dec_heads * (T - 1) + 3; }

static int kmax_of(const sam2_config *c, int T) { return c->dec_depth * rows_per_update(c, T); }

/* The per-image block: src (HW, d), the products, g (d), scratch for a
 * scaled weight (d, I), then the per-pixel doubles. */
typedef struct ix_view {
    float *src, *ix[IX_MAX], *g, *wsc;
    double *px;
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
    return v;
}

size_t twi_image_floats(const sam2_config *c, int HW) {
    const int d = c->d_model, I = d / c->dec_attn_downsample;
    return (size_t)HW * d + (size_t)n_ix(c) * ix_floats(HW, I) + d + (size_t)d * I + 1 + 2 * (size_t)HW * PX_N;
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

/* Scratch of one prompt's constants in the image-to-token updates: U and
 * a scaled copy (R, d) or the state's vectors through the query weight
 * (Kmax, max(I, R)), and a block-diagonal (R, I). */
static size_t per_prompt_floats(const sam2_config *c, int T) {
    const int d = c->d_model, I = d / c->dec_attn_downsample, R = c->dec_heads * T, Kmax = kmax_of(c, T);
    const size_t second = (size_t)Kmax * (I > R ? I : R) > (size_t)R * d ? (size_t)Kmax * (I > R ? I : R) : (size_t)R * d;
    return (size_t)R * d + second + (size_t)R * I;
}

static size_t first_consts_floats(int R);
static size_t first_tile_floats(int R);
static size_t second_consts_floats(int R, int Kmax);
static size_t second_tile_floats(int R);
static size_t t2i_floats(int B, int n, int H, int I, int d, int Kmax, int n_threads);

size_t twi_work_floats(const sam2_config *c, int B, int T, int n_threads) {
    const int I = c->d_model / c->dec_attn_downsample;
    const int R = c->dec_heads * T;
    const size_t pp = per_prompt_floats(c, T), t1 = first_tile_floats(R), t2 = second_tile_floats(R);
    const size_t c1 = first_consts_floats(R), c2 = second_consts_floats(R, kmax_of(c, T));
    const size_t tile = t1 > t2 ? t1 : t2;
    const size_t t2i = t2i_floats(B, T, c->dec_heads, I, c->d_model, kmax_of(c, T), n_threads);
    size_t rest = (size_t)B * (c1 > c2 ? c1 : c2) + (size_t)n_threads * (pp > tile ? pp : tile);
    rest = rest > t2i ? rest : t2i;
    return 3 * (size_t)B * T * I + rest;
}

/* Prompts run side by side, one per thread with single-threaded GEMMs
 * (OpenBLAS shares these skinny products badly between threads), even
 * when there are fewer prompts than threads: a GEMM inside a serialised
 * parallel region (an if clause that fails) sees no active region, so
 * OpenBLAS starts a nested team for it, new threads every call (10 ms of
 * every kept prompt's final attention, run one prompt at a time). */
static int prompt_threads(int n_threads) { return n_threads > 1 && gemm_nested_ok() ? n_threads : 1; }

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
    gemm(0, 1, I, HW, d, 1.0f, wsc, d, S, d, 0.0f, y, HW);
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
    for (int p = 0; p < HW; p++) /* layer 0's queries, with their bias, transposed */
        for (int i = 0; i < I; i++) v.ix[IX_Q0][(size_t)i * HW + p] = i2t_q[(size_t)p * I + i];
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


/* Y (H*T, np), row h*T + j: scale * (alpha[p] * sum_i t[j][h*hd+i] CT[h*hd+i][p0+p]
 * + sum_i t[j][h*hd+i] PT[h*hd+i][p0+p]) for the np pixels from p0 of
 * (I, HW) products CT and PT; alpha (from p0) and PT optional; t (T, I). */
static void head_prod(int H, int T, int hd, int HW, int p0, int np, const float *t, float scale, const float *CT,
                      const float *alpha, const float *PT, float *Y) {
    const int I = H * hd;
    for (int h = 0; h < H; h++) {
        float *Yh = Y + (size_t)h * T * np;
        mm_wide(T, np, hd, t + h * hd, I, CT + (size_t)h * hd * HW + p0, HW, 0.0f, Yh, np);
        if (alpha)
            for (int j = 0; j < T; j++) {
                float *y = Yh + (size_t)j * np;
#pragma omp simd
                for (int i = 0; i < np; i++) y[i] *= alpha[i];
            }
        if (PT) mm_wide(T, np, hd, t + h * hd, I, PT + (size_t)h * hd * HW + p0, HW, 1.0f, Yh, np);
        if (scale != 1.0f)
            for (size_t i = 0; i < (size_t)T * np; i++) Yh[i] *= scale;
    }
}

/* o (n, I), columns of head h: o[j][h*hd+i] = sum_p W[h*n+j][p] CT[h*hd+i][p0+p]
 * over the np pixels from p0 of the (I, HW) product CT; W (H*n, np). */
static void head_dot(int H, int n, int hd, int HW, int p0, int np, const float *W, const float *CT, float *o) {
    const int I = H * hd;
    for (int h = 0; h < H; h++)
        mm_dots(n, hd, np, W + (size_t)h * n * np, np, CT + (size_t)h * hd * HW + p0, HW, 0.0f, o + h * hd, I);
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

/* A symmetric G (R, R) in place as the upper triangle of 2 G - diag(G):
 * then p . (G p) = p . (upper p), at half the multiply-adds. */
static void to_upper(float *G, int R) {
    for (int r = 0; r < R; r++)
        for (int s = 0; s < R; s++) G[(size_t)r * R + s] = s < r ? 0.0f : s > r ? 2.0f * G[(size_t)r * R + s] : G[(size_t)r * R + s];
}

/* Sums over the R rows of the probabilities P (R, np) at every pixel, all
 * in one pass over P: vo[v][p] = sum_r P[r][p] * vec[v][r] for nv row
 * weights and mo[m][p] = sum_r P[r][p] * mat[m][r][p] for nm matrices (R,
 * np), r in order. Blocks of 16 pixels keep the nv + nm sums in registers. */
static inline __attribute__((always_inline)) void col_sums(const float *P, int R, int np, int nv,
                                                           const float *const *vec, float *const *vo, int nm,
                                                           const float *const *mat, float *const *mo) {
    const int nb = np / 16;
    for (int b = 0; b < nb; b++) {
        const size_t p0 = (size_t)b * 16;
        v16 acc[8] = {{0}};
        for (int r = 0; r < R; r++) {
            const v16 pr = load16(P + (size_t)r * np + p0);
            for (int v = 0; v < nv; v++) acc[v] += pr * vec[v][r];
            for (int m = 0; m < nm; m++) acc[nv + m] += pr * load16(mat[m] + (size_t)r * np + p0);
        }
        for (int v = 0; v < nv; v++) store16(vo[v] + p0, acc[v]);
        for (int m = 0; m < nm; m++) store16(mo[m] + p0, acc[nv + m]);
    }
    for (int p = nb * 16; p < np; p++) {
        float acc[8] = {0};
        for (int r = 0; r < R; r++) {
            const float pr = P[(size_t)r * np + p];
            for (int v = 0; v < nv; v++) acc[v] += pr * vec[v][r];
            for (int m = 0; m < nm; m++) acc[nv + m] += pr * mat[m][(size_t)r * np + p];
        }
        for (int v = 0; v < nv; v++) vo[v][p] = acc[v];
        for (int m = 0; m < nm; m++) mo[m][p] = acc[nv + m];
    }
}

/* ------------------------------------------- image-to-token updates */

/* An update's rows of the vectors Nm from K0 (d each), for the values U
 * (H*T, d) after the LayerNorm weight g: per head h and token t < T - 1
 * (U[h,t] - U[h,T-1]) g, then (sum_h U[h,T-1]) g. With probabilities that
 * sum to one per head, sum_t P[h,t] U[h,t] = U[h,T-1] + sum_{t<T-1} P[h,t]
 * (U[h,t] - U[h,T-1]): one row for every head's last token instead of H.
 * The mean and bias rows follow (written by the caller). */
static void state_rows(int H, int T, int d, const float *U, const float *g, float *Nm, int K0) {
    float *out = Nm + (size_t)K0 * d, *last = out + (size_t)H * (T - 1) * d;
    for (int e = 0; e < d; e++) last[e] = 0.0f;
    for (int h = 0; h < H; h++) {
        const float *ul = U + ((size_t)h * T + T - 1) * d;
        for (int t = 0; t < T - 1; t++) {
            const float *u = U + ((size_t)h * T + t) * d;
            float *o = out + ((size_t)h * (T - 1) + t) * d;
            for (int e = 0; e < d; e++) o[e] = (u[e] - ul[e]) * g[e];
        }
        for (int e = 0; e < d; e++) last[e] += ul[e];
    }
    for (int e = 0; e < d; e++) last[e] *= g[e];
}

/* A LayerNorm's new rows of a state over a tile's np pixels from p0, from
 * row K0 of LT (rows_per_update of them, matching state_rows): per head the
 * probabilities P (H*T, np) of all tokens but the last times rstd, rstd
 * (for the last tokens' row), -rstd * mean and ones. */
static void append_rows(float *LT, int HW, int K0, int H, int T, const float *P, int np, int p0, const float *rstd,
                        const float *neg_mean_rstd) {
    int k = K0;
    for (int h = 0; h < H; h++)
        for (int t = 0; t < T - 1; t++, k++) {
            const float *pr = P + ((size_t)h * T + t) * np;
            float *lr = LT + (size_t)k * HW + p0;
#pragma omp simd
            for (int i = 0; i < np; i++) lr[i] = rstd[i] * pr[i];
        }
    memcpy(LT + (size_t)k * HW + p0, rstd, sizeof(float) * np);
    memcpy(LT + (size_t)(k + 1) * HW + p0, neg_mean_rstd, sizeof(float) * np);
    for (int i = 0; i < np; i++) LT[(size_t)(k + 2) * HW + p0 + i] = 1.0f;
}

/* Pixels per tile of the image-to-token updates: every step there is per
 * pixel, so a tile of the image's products is read once for all prompts of
 * a call while it sits in the cache, and each prompt's intermediates stay
 * there too. A multiple of 16: the products' full vectors. */
#define TILE_PX 128

/* Per-prompt constants of layer 0's update: G = U U^T and, for depth 2,
 * Gg = (U g0^2) U^T stacked (2R, R), each as its upper triangle
 * (to_upper), then U's sums: . 1, . g0, . g0^2, . g0 b0 (R each). */
static size_t first_consts_floats(int R) { return 2 * (size_t)R * R + 4 * (size_t)R; }

/* Per-thread scratch of one tile of layer 0's update: P, X, Xg (R, TILE_PX)
 * each, PG (2R, TILE_PX), eight per-pixel sums and two per-pixel factors. */
static size_t first_tile_floats(int R) { return (size_t)5 * R * TILE_PX + 10 * TILE_PX; }

void twi_i2t_first(const sam2_config *c, const mask_decoder_weights *w, int B, int T, int HW, const float *qa,
                   const float *queries, float *state, const two_way_cache *cache, int n_threads, float *work) {
    const attn_weights *a = &w->layers[0].i2t;
    const int d = c->d_model, H = c->dec_heads, I = a->internal, hd = I / H, R = H * T, D = c->dec_depth;
    const int Kmax = kmax_of(c, T), K = rows_per_update(c, T);
    const float scale = 1.0f / sqrtf((float)hd), *g0 = w->layers[0].n4_w, *b0 = w->layers[0].n4_b;
    const ix_view v = ix_layout(c, HW, cache->ix);
    float *k = work, *vv = k + (size_t)B * T * I, *consts = work + 3 * (size_t)B * T * I;
    float *tiles = consts + (size_t)B * first_consts_floats(R);
    linear(qa, B * T, d, a->k_w, a->k_b, I, k);
    linear(queries, B * T, d, a->v_w, a->v_b, I, vv);
    double sg = 0, sg2 = 0, sgb = 0, sb = 0, bb = 0;
    for (int e = 0; e < d; e++)
        sg += g0[e], sg2 += (double)g0[e] * g0[e], sgb += (double)g0[e] * b0[e], sb += b0[e], bb += (double)b0[e] * b0[e];
    const int pt = prompt_threads(n_threads);
    const size_t ppf = per_prompt_floats(c, T);
    /* per prompt: the value rows U through the out-projection, their Gram
     * matrices and sums, and the state's vectors and header */
#pragma omp parallel for schedule(dynamic) num_threads(pt) if (pt > 1)
    for (int b = 0; b < B; b++) {
        float *U = tiles + (size_t)omp_get_thread_num() * ppf, *Ug = U + (size_t)R * d, *vbd = Ug + (size_t)R * d;
        float *G = consts + (size_t)b * first_consts_floats(R), *vec = G + 2 * (size_t)R * R;
        out_rows(a, H, d, T, vv + (size_t)b * T * I, vbd, U);
        gemm(0, 1, R, R, d, 1.0f, U, d, U, d, 0.0f, G, R);
        to_upper(G, R);
        if (D == 2) {
            for (int r = 0; r < R; r++)
                for (int e = 0; e < d; e++) Ug[(size_t)r * d + e] = U[(size_t)r * d + e] * g0[e] * g0[e];
            gemm(0, 1, R, R, d, 1.0f, Ug, d, U, d, 0.0f, G + (size_t)R * R, R);
            to_upper(G + (size_t)R * R, R);
        }
        for (int r = 0; r < R; r++) {
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int e = 0; e < d; e++) {
                const double u = U[(size_t)r * d + e];
                s0 += u, s1 += u * g0[e], s2 += u * g0[e] * g0[e], s3 += u * g0[e] * b0[e];
            }
            vec[r] = (float)s0, vec[R + r] = (float)s1, vec[2 * R + r] = (float)s2, vec[3 * R + r] = (float)s3;
        }
        st_view s = st_layout(c, HW, Kmax, state + (size_t)b * HW * d);
        s.K[0] = K, s.K[1] = Kmax;
        state_rows(H, T, d, U, g0, s.Nm, 0);
        memcpy(s.Nm + (size_t)(K - 2) * d, g0, sizeof(float) * d);
        memcpy(s.Nm + (size_t)(K - 1) * d, b0, sizeof(float) * d);
    }
    /* per tile of pixels, every prompt: the probabilities, the update's
     * products with the shared tokens and with itself, the LayerNorm's
     * statistics and the state's rows */
    const int ntile = (HW + TILE_PX - 1) / TILE_PX, tt = ntile < n_threads ? ntile : n_threads;
#pragma omp parallel for schedule(static) num_threads(tt) if (tt > 1) /* no BLAS call inside */
    for (int ti = 0; ti < ntile; ti++) {
        const int p0 = ti * TILE_PX, np = HW - p0 < TILE_PX ? HW - p0 : TILE_PX;
        float *P = tiles + (size_t)omp_get_thread_num() * first_tile_floats(R), *X = P + (size_t)R * TILE_PX;
        float *Xg = X + (size_t)R * TILE_PX, *PG = Xg + (size_t)R * TILE_PX, *acc = PG + 2 * (size_t)R * TILE_PX;
        float *pu = acc, *pxs = pu + TILE_PX, *pgp = pxs + TILE_PX, *a1 = pgp + TILE_PX, *a2 = a1 + TILE_PX;
        float *a3 = a2 + TILE_PX, *a4 = a3 + TILE_PX, *a5 = a4 + TILE_PX, *rs = a5 + TILE_PX, *rm = rs + TILE_PX;
        for (int b = 0; b < B; b++) {
            const float *kb = k + (size_t)b * T * I, *vb = vv + (size_t)b * T * I;
            const float *G = consts + (size_t)b * first_consts_floats(R), *vec = G + 2 * (size_t)R * R;
            head_prod(H, T, hd, HW, p0, np, kb, scale, v.ix[IX_Q0], NULL, NULL, P);
            softmax_groups_t(P, np, H, T, NULL, acc);
            head_prod(H, T, hd, HW, p0, np, vb, 1.0f, v.ix[IX_A0], NULL, NULL, X); /* S . U without the bias share */
            if (D == 2) head_prod(H, T, hd, HW, p0, np, vb, 1.0f, v.ix[IX_A0G], NULL, NULL, Xg);
            mm_wide_upper(R, np, G, R, P, np, PG, np); /* the quadratic forms' halves, (R, np) each */
            if (D == 2) mm_wide_upper(R, np, G + (size_t)R * R, R, P, np, PG + (size_t)R * np, np);
            if (D == 2) {
                const float *vs[4] = {vec, vec + R, vec + 2 * R, vec + 3 * R};
                const float *ms[4] = {X, PG, Xg, PG + (size_t)R * np};
                float *vo[4] = {pu, a1, a4, a5}, *mo[4] = {pxs, pgp, a2, a3};
                col_sums(P, R, np, 4, vs, vo, 4, ms, mo);
            } else {
                const float *vs[1] = {vec}, *ms[2] = {X, PG};
                float *vo[1] = {pu}, *mo[2] = {pxs, pgp};
                col_sums(P, R, np, 1, vs, vo, 2, ms, mo);
            }
            st_view s = st_layout(c, HW, Kmax, state + (size_t)b * HW * d);
            for (int i = 0; i < np; i++) {
                const int p = p0 + i;
                const double *px = v.px + (size_t)p * PX_N;
                const double m = (px[PX_SUM] + pu[i]) / d;
                /* the bias share bo0 / H of every row of U, times P summed over
                 * all heads (each head's sums to 1), is s . bo0 */
                const double sq = px[PX_SQ] + 2.0 * ((double)pxs[i] + px[PX_SBO0]) + pgp[i];
                double var = sq / d - m * m;
                var = var > 0 ? var : 0;
                const double rstd = 1.0 / sqrt(var + 1e-5);
                rs[i] = (float)rstd, rm[i] = (float)(-rstd * m);
                s.alpha[p] = (float)rstd;
                if (D == 2) { /* mean and squared norm of layer 0's tokens */
                    const double xgsum = px[PX_SG] + a1[i];                                  /* x . g0 */
                    const double x2g2 = px[PX_SGSQ] + 2.0 * ((double)a2[i] + px[PX_SG2BO0]) + a3[i]; /* x^2 . g0^2 */
                    const double xg2 = px[PX_SG2] + a4[i], xgb = px[PX_SGB] + a5[i];         /* x . g0^2, x . g0 b0 */
                    const double yy = x2g2 - 2.0 * m * xg2 + m * m * sg2, yb = xgb - m * sgb;
                    s.mean0[p] = (rstd * (xgsum - m * sg) + sb) / d;
                    s.sq0[p] = rstd * rstd * yy + 2.0 * rstd * yb + bb;
                }
            }
            append_rows(s.LT, HW, 0, H, T, P, np, p0, rs, rm);
        }
    }
}

/* Per-prompt constants of layer 1's update: the state's part of the scores
 * and of the products with U, (Zt; NU) (2R, Kmax); G = U U^T (R, R) as its
 * upper triangle; the score bias per row and U's row sums (R each). */
static size_t second_consts_floats(int R, int Kmax) { return 2 * (size_t)R * Kmax + (size_t)R * R + 2 * (size_t)R; }

/* Per-thread scratch of one tile of layer 1's update: P (R, TILE_PX), X
 * (2R, TILE_PX), PG (R, TILE_PX), four per-pixel sums and two factors. */
static size_t second_tile_floats(int R) { return (size_t)4 * R * TILE_PX + 6 * TILE_PX; }

void twi_i2t_second(const sam2_config *c, const mask_decoder_weights *w, int B, int T, int HW, const float *qa,
                    const float *queries, float *state, const two_way_cache *cache, int n_threads, float *work) {
    const twoway_layer_weights *L1 = &w->layers[1];
    const attn_weights *a = &L1->i2t;
    const int d = c->d_model, H = c->dec_heads, I = a->internal, hd = I / H, R = H * T, Kmax = kmax_of(c, T);
    const float scale = 1.0f / sqrtf((float)hd), *g1 = L1->n4_w, *b1 = L1->n4_b;
    const ix_view v = ix_layout(c, HW, cache->ix);
    const size_t ncf = second_consts_floats(R, Kmax);
    float *k = work, *vv = k + (size_t)B * T * I, *consts = work + 3 * (size_t)B * T * I;
    float *tiles = consts + (size_t)B * ncf;
    linear(qa, B * T, d, a->k_w, a->k_b, I, k);
    linear(queries, B * T, d, a->v_w, a->v_b, I, vv);
    const int pt = prompt_threads(n_threads);
    const size_t ppf = per_prompt_floats(c, T);
    /* per prompt: the state's vectors through the query weight and against
     * U, U's Gram matrix and sums, the query bias's part of the scores; the
     * state's vectors then take this LayerNorm's weight (the tiles below
     * read only what is computed here, not the vectors) */
#pragma omp parallel for schedule(dynamic) num_threads(pt) if (pt > 1)
    for (int b = 0; b < B; b++) {
        float *U = tiles + (size_t)omp_get_thread_num() * ppf, *NQ = U + (size_t)R * d;
        float *bd = NQ + (size_t)Kmax * (I > R ? I : R);
        float *Zt = consts + (size_t)b * ncf, *G = Zt + 2 * (size_t)R * Kmax, *cb = G + (size_t)R * R, *usum = cb + R;
        const float *kb = k + (size_t)b * T * I, *vb = vv + (size_t)b * T * I;
        st_view s = st_open(c, HW, state + (size_t)b * HW * d);
        const int K = s.K[0];
        gemm(0, 1, K, I, d, 1.0f, s.Nm, d, a->q_w, d, 0.0f, NQ, I);
        block_diag(H, T, hd, kb, bd);
        gemm(0, 1, R, K, I, scale, bd, I, NQ, I, 0.0f, Zt, K);
        out_rows(a, H, d, T, vb, bd, U);
        gemm(0, 1, R, K, d, 1.0f, U, d, s.Nm, d, 0.0f, Zt + (size_t)R * K, K); /* NU */
        gemm(0, 1, R, R, d, 1.0f, U, d, U, d, 0.0f, G, R);
        to_upper(G, R);
        for (int h = 0; h < H; h++)
            for (int j = 0; j < T; j++) {
                float sum = 0.0f;
                for (int t = 0; t < hd; t++) sum += a->q_b[h * hd + t] * kb[(size_t)j * I + h * hd + t];
                cb[h * T + j] = sum * scale;
            }
        for (int r = 0; r < R; r++) {
            double s0 = 0;
            for (int e = 0; e < d; e++) s0 += U[(size_t)r * d + e];
            usum[r] = (float)s0;
        }
        for (int r = 0; r < K; r++)
            for (int e = 0; e < d; e++) s.Nm[(size_t)r * d + e] *= g1[e];
        const int Kn = K + rows_per_update(c, T);
        state_rows(H, T, d, U, g1, s.Nm, K);
        memcpy(s.Nm + (size_t)(Kn - 2) * d, g1, sizeof(float) * d);
        memcpy(s.Nm + (size_t)(Kn - 1) * d, b1, sizeof(float) * d);
    }
    /* per tile of pixels, every prompt: scores, probabilities, the new
     * LayerNorm's statistics, the state's rows rescaled and extended */
    const int ntile = (HW + TILE_PX - 1) / TILE_PX, tt = ntile < n_threads ? ntile : n_threads;
#pragma omp parallel for schedule(static) num_threads(tt) if (tt > 1) /* no BLAS call inside */
    for (int ti = 0; ti < ntile; ti++) {
        const int p0 = ti * TILE_PX, np = HW - p0 < TILE_PX ? HW - p0 : TILE_PX;
        float *P = tiles + (size_t)omp_get_thread_num() * second_tile_floats(R), *X = P + (size_t)R * TILE_PX;
        float *X2 = X + (size_t)R * np, *PG = X + 2 * (size_t)R * TILE_PX, *acc = PG + (size_t)R * TILE_PX;
        float *pu = acc, *pxs = pu + TILE_PX, *px2 = pxs + TILE_PX, *pgp = px2 + TILE_PX, *rs = pgp + TILE_PX;
        float *rm = rs + TILE_PX;
        for (int b = 0; b < B; b++) {
            const float *kb = k + (size_t)b * T * I, *vb = vv + (size_t)b * T * I;
            const float *Zt = consts + (size_t)b * ncf, *G = Zt + 2 * (size_t)R * Kmax, *cb = G + (size_t)R * R;
            const float *usum = cb + R;
            st_view s = st_open(c, HW, state + (size_t)b * HW * d);
            const int K = s.K[0];
            /* scores (keys + pe) Wq^T + bq against the tokens' keys: shared
             * part scaled by alpha, positional part, state part, query bias;
             * the state's part of layer 0's tokens . U in the same product */
            head_prod(H, T, hd, HW, p0, np, kb, scale, v.ix[IX_Q1], s.alpha + p0, v.ix[IX_PQ1], P);
            mm_wide(2 * R, np, K, Zt, K, s.LT + p0, HW, 0.0f, X, np);
            for (size_t i = 0; i < (size_t)R * np; i++) P[i] += X[i];
            softmax_groups_t(P, np, H, T, cb, acc);
            /* layer 0's tokens . U: the shared part (times alpha below) */
            head_prod(H, T, hd, HW, p0, np, vb, 1.0f, v.ix[IX_A1], NULL, NULL, X);
            mm_wide_upper(R, np, G, R, P, np, PG, np);
            {
                const float *vs[1] = {usum}, *ms[3] = {X, X2, PG};
                float *vo[1] = {pu}, *mo[3] = {pxs, px2, pgp};
                col_sums(P, R, np, 1, vs, vo, 3, ms, mo);
            }
            for (int i = 0; i < np; i++) {
                const int p = p0 + i;
                /* as in the first layer, the bias shares times P add up to one bo1 */
                const double al = s.alpha[p], sgbo1 = v.px[(size_t)p * PX_N + PX_SGBO1];
                const double pk = al * ((double)pxs[i] + sgbo1) + px2[i];
                const double m = s.mean0[p] + pu[i] / d, sq = s.sq0[p] + 2.0 * pk + pgp[i];
                double var = sq / d - m * m;
                var = var > 0 ? var : 0;
                const double rstd = 1.0 / sqrt(var + 1e-5);
                rs[i] = (float)rstd, rm[i] = (float)(-rstd * m);
                s.alpha[p] = (float)(rstd * al);
            }
            for (int r = 0; r < K; r++) {
                float *lr = s.LT + (size_t)r * HW + p0;
#pragma omp simd
                for (int i = 0; i < np; i++) lr[i] *= rs[i];
            }
            append_rows(s.LT, HW, K, H, T, P, np, p0, rs, rm);
        }
    }
    for (int b = 0; b < B; b++) {
        st_view s = st_open(c, HW, state + (size_t)b * HW * d);
        s.K[0] += rows_per_update(c, T);
    }
}

/* ------------------------------------------------ token-to-image */

/* Pixels per tile of the token-to-image attention: longer than TILE_PX, as
 * each tile ends in dot products along its pixels, whose final sums across
 * vector lanes a longer run pays for (512 against 256: a quarter less time
 * in this attention at 1024 x 1024; the tile's rows still fit the
 * second-level cache). */
#define T2I_TILE_PX 512

/* Floats of twi_t2i's scratch after q and o for B prompts of n query
 * tokens: each prompt's score rows on the state (Rn, Kmax); per thread a
 * tile of scores (Rn, T2I_TILE_PX), a head_dot output (n, I) and every
 * prompt's running softmax (t2i_run_floats); per thread the products of
 * one prompt with the weights. */
static size_t t2i_run_floats(int Rn, int n, int I, int Kmax) {
    return 2 * (size_t)Rn + (size_t)Rn * Kmax + (size_t)n * I; /* maximum, sum, . state rows, . shared values */
}
static size_t t2i_weights_floats(int Rn, int I, int d, int Kmax) {
    const size_t nw = (size_t)Kmax * I > (size_t)Rn * d ? (size_t)Kmax * I : (size_t)Rn * d;
    return nw + (size_t)Rn * I;
}
static size_t t2i_floats(int B, int n, int H, int I, int d, int Kmax, int n_threads) {
    const int Rn = H * n;
    const size_t tile = (size_t)Rn * T2I_TILE_PX + (size_t)n * I + (size_t)B * t2i_run_floats(Rn, n, I, Kmax);
    return (size_t)B * Rn * Kmax + (size_t)n_threads * (tile + t2i_weights_floats(Rn, I, d, Kmax));
}

void twi_t2i(const sam2_config *c, const mask_decoder_weights *w, int l, int B, int n, int HW, const float *q_in,
             const float *state, size_t sstride, float *out, const two_way_cache *cache, int n_threads, float *work) {
    const int D = c->dec_depth, final = l >= D;
    const attn_weights *a = final ? &w->final_attn : &w->layers[l].t2i;
    const int d = c->d_model, H = c->dec_heads, I = a->internal, hd = I / H, Rn = H * n;
    const float scale = 1.0f / sqrtf((float)hd);
    const ix_view v = ix_layout(c, HW, cache->ix);
    const float *CK = v.ix[final ? IX_KF : IX_K1], *CV = v.ix[final ? IX_VF : IX_V1];
    const float *pe_kt = v.ix[final ? IX_PKF : IX_PK1];
    /* the states' width comes from the transformer's tokens, not these n */
    const int Kmax = st_open(c, HW, state).Kmax;
    const size_t run = t2i_run_floats(Rn, n, I, Kmax), wf = t2i_weights_floats(Rn, I, d, Kmax);
    const size_t nw = wf - (size_t)Rn * I, tile = (size_t)Rn * T2I_TILE_PX + (size_t)n * I + (size_t)B * run;
    float *q = work, *o = q + (size_t)B * n * I, *Zall = work + 3 * (size_t)B * n * I;
    float *tiles = Zall + (size_t)B * Rn * Kmax, *wts = tiles + (size_t)n_threads * tile;
    linear(q_in, B * n, d, a->q_w, a->q_b, I, q);
    const int pt = prompt_threads(n_threads);
    /* per prompt: the query rows against the state's vectors through the
     * key weight, (Nm W^T) first, or for few query rows the rows through W
     * first, whichever is less work */
#pragma omp parallel for schedule(dynamic) num_threads(pt) if (pt > 1)
    for (int b = 0; b < B; b++) {
        const st_view s = st_open(c, HW, state + (size_t)b * sstride);
        const int K = s.K[0], rows_first = (double)Rn * d * (I + K) < (double)K * I * (d + Rn);
        float *NW = wts + (size_t)omp_get_thread_num() * wf, *bd = NW + nw, *Zt = Zall + (size_t)b * Rn * Kmax;
        block_diag(H, n, hd, q + (size_t)b * n * I, bd);
        if (rows_first) {
            gemm(0, 0, Rn, d, I, scale, bd, I, a->k_w, d, 0.0f, NW, d);
            gemm(0, 1, Rn, K, d, 1.0f, NW, d, s.Nm, d, 0.0f, Zt, K);
        } else {
            gemm(0, 1, K, I, d, 1.0f, s.Nm, d, a->k_w, d, 0.0f, NW, I);
            gemm(0, 1, Rn, K, I, scale, bd, I, NW, I, 0.0f, Zt, K);
        }
    }
    /* tiles of pixels split between threads, every prompt per tile: the
     * scores (shared part scaled by alpha, positional part, state part; the
     * key bias shifts a whole row and drops out), then a running softmax
     * along the pixels whose exponentials meet the state's rows and the
     * shared values while the tile is at hand */
    const int ntile = (HW + T2I_TILE_PX - 1) / T2I_TILE_PX, tt = ntile < n_threads ? ntile : n_threads;
    int used = 1;
#pragma omp parallel num_threads(tt) if (tt > 1) /* no BLAS call inside */
    {
        const int th = omp_get_thread_num(), nth = omp_get_num_threads();
        if (th == 0) used = nth;
        float *S = tiles + (size_t)th * tile, *oh = S + (size_t)Rn * T2I_TILE_PX, *acc = oh + (size_t)n * I;
        for (int b = 0; b < B; b++) {
            float *m = acc + (size_t)b * run, *sum = m + Rn, *WL = sum + Rn;
            for (int r = 0; r < Rn; r++) m[r] = -INFINITY, sum[r] = 0.0f;
            memset(WL, 0, sizeof(float) * ((size_t)Rn * Kmax + (size_t)n * I));
        }
        const int t0 = (int)((long)ntile * th / nth), t1 = (int)((long)ntile * (th + 1) / nth);
        for (int ti = t0; ti < t1; ti++) {
            const int p0 = ti * T2I_TILE_PX, np = HW - p0 < T2I_TILE_PX ? HW - p0 : T2I_TILE_PX;
            for (int b = 0; b < B; b++) {
                const st_view s = st_open(c, HW, state + (size_t)b * sstride);
                const int K = s.K[0];
                float *m = acc + (size_t)b * run, *sum = m + Rn, *WL = sum + Rn, *OH = WL + (size_t)Rn * Kmax;
                head_prod(H, n, hd, HW, p0, np, q + (size_t)b * n * I, scale, CK, s.alpha + p0, pe_kt, S);
                mm_wide(Rn, np, K, Zall + (size_t)b * Rn * Kmax, K, s.LT + p0, HW, 1.0f, S, np);
                for (int r = 0; r < Rn; r++) {
                    float *row = S + (size_t)r * np, mt = m[r];
                    for (int i = 0; i < np; i++) mt = row[i] > mt ? row[i] : mt;
                    if (mt > m[r]) { /* a new maximum: what was summed so far shrinks */
                        const float f = m[r] == -INFINITY ? 0.0f : expf(m[r] - mt);
                        float *oh_r = OH + (size_t)(r % n) * I + (size_t)(r / n) * hd;
                        sum[r] *= f;
                        for (int k = 0; k < K; k++) WL[(size_t)r * K + k] *= f;
                        for (int i = 0; i < hd; i++) oh_r[i] *= f;
                        m[r] = mt;
                    }
                    for (int i = 0; i < np; i++) row[i] -= mt;
                    op_exp_nonpos(row, np);
                    float total = 0.0f;
#pragma omp simd reduction(+ : total)
                    for (int i = 0; i < np; i++) total += row[i];
                    sum[r] += total;
                }
                /* values: the exponentials on the state, then on the shared part */
                mm_dots(Rn, K, np, S, np, s.LT + p0, HW, 1.0f, WL, K);
                for (int r = 0; r < Rn; r++) {
                    float *row = S + (size_t)r * np;
#pragma omp simd
                    for (int i = 0; i < np; i++) row[i] *= s.alpha[p0 + i];
                }
                head_dot(H, n, hd, HW, p0, np, S, CV, oh);
                for (size_t i = 0; i < (size_t)n * I; i++) OH[i] += oh[i];
            }
        }
    }
    /* per prompt: the threads' running sums merged and normalised, then the
     * state's part of the values through the value weight */
#pragma omp parallel for schedule(dynamic) num_threads(pt) if (pt > 1)
    for (int b = 0; b < B; b++) {
        const st_view s = st_open(c, HW, state + (size_t)b * sstride);
        const int K = s.K[0], rows_first = (double)Rn * d * (I + K) < (double)K * I * (d + Rn);
        float *NW = wts + (size_t)omp_get_thread_num() * wf, *OV = NW + nw;
        float *m0 = tiles + (size_t)Rn * T2I_TILE_PX + (size_t)n * I + (size_t)b * run; /* thread 0's */
        float *sum0 = m0 + Rn, *WL0 = sum0 + Rn, *OH0 = WL0 + (size_t)Rn * Kmax;
        for (int t = 1; t < used; t++) {
            const float *mt = m0 + (size_t)t * tile, *sumt = mt + Rn, *WLt = sumt + Rn, *OHt = WLt + (size_t)Rn * Kmax;
            for (int r = 0; r < Rn; r++) {
                const float mx = mt[r] > m0[r] ? mt[r] : m0[r];
                const float f0 = m0[r] == -INFINITY ? 0.0f : expf(m0[r] - mx);
                const float ft = mt[r] == -INFINITY ? 0.0f : expf(mt[r] - mx);
                const size_t oo = (size_t)(r % n) * I + (size_t)(r / n) * hd;
                sum0[r] = sum0[r] * f0 + sumt[r] * ft;
                for (int k = 0; k < K; k++) WL0[(size_t)r * K + k] = WL0[(size_t)r * K + k] * f0 + WLt[(size_t)r * K + k] * ft;
                for (int i = 0; i < hd; i++) OH0[oo + i] = OH0[oo + i] * f0 + OHt[oo + i] * ft;
                m0[r] = mx;
            }
        }
        float *ob = o + (size_t)b * n * I;
        for (int r = 0; r < Rn; r++) {
            const float inv = 1.0f / sum0[r];
            const size_t oo = (size_t)(r % n) * I + (size_t)(r / n) * hd;
            for (int k = 0; k < K; k++) WL0[(size_t)r * K + k] *= inv;
            for (int i = 0; i < hd; i++) ob[oo + i] = OH0[oo + i] * inv;
        }
        if (rows_first) {
            gemm(0, 0, Rn, d, K, 1.0f, WL0, K, s.Nm, d, 0.0f, NW, d);
            gemm(0, 1, Rn, I, d, 1.0f, NW, d, a->v_w, d, 0.0f, OV, I);
        } else {
            gemm(0, 1, K, I, d, 1.0f, s.Nm, d, a->v_w, d, 0.0f, NW, I);
            gemm(0, 0, Rn, I, K, 1.0f, WL0, K, NW, I, 0.0f, OV, I);
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

void twi_src_times(const sam2_config *c, int HW, const two_way_cache *cache, const float *W, int N, float *SWt,
                   float *scratch) {
    const int d = c->d_model;
    const ix_view v = ix_layout(c, HW, cache->ix);
    for (int n = 0; n < N; n++)
        for (int e = 0; e < d; e++) scratch[(size_t)n * d + e] = W[(size_t)n * d + e] * v.g[e];
    gemm(0, 1, N, HW, d, 1.0f, scratch, d, v.src, d, 0.0f, SWt, HW);
}

void twi_tokens_times(const sam2_config *c, int HW, const float *state, const float *W, int N, float *Z,
                      const float **alpha, const float **L, int *K) {
    const int d = c->d_model;
    const st_view s = st_open(c, HW, state);
    gemm(0, 1, N, s.K[0], d, 1.0f, W, d, s.Nm, d, 0.0f, Z, s.K[0]);
    *alpha = s.alpha, *L = s.LT, *K = s.K[0];
}
