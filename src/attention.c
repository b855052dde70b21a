/* attention.c - windowed multi-head attention of the Hiera blocks. Matrix
 * products go through gemm(); the softmax between them is vectorised and
 * fused with the normalisation of the output rows. */
/* The exp/erf/max loops below only vectorise when the compiler may assume
 * that float operations do not trap (we never enable FP exceptions). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "attention.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fastmath.h"
#include "gemm.h"
#include "gemm_bf16.h"

/* Score elements of one query block (floats). Each GEMM call packs the
 * window's keys (or values) again, so the block must have enough rows for
 * that to be cheap (256 rows at 4096 keys), while staying in cache. */
#define ATTN_SCORE_BUDGET (1 << 20)
/* Elements below which a copy kernel stays on the calling thread. */
#define ATTN_PAR_MIN 32768

sam2_status attn_geom_init(attn_geom *g, int H, int W, int win, int sh, int sw, const char *what) {
    memset(g, 0, sizeof *g);
    if (H < 1 || W < 1 || win < 0 || sh < 1 || sw < 1)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "%s: bad attention geometry (map %dx%d, window %d, pooling %dx%d)", what, H,
                         W, win, sh, sw);
    g->H = H, g->W = W, g->win = win, g->sh = sh, g->sw = sw;
    g->Ho = H / sh, g->Wo = W / sw;
    if (g->Ho < 1 || g->Wo < 1)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "%s: pooling %dx%d empties the %dx%d map", what, sh, sw, H, W);
    if (win == 0) {
        g->nwy = g->nwx = 1;
        g->th = H, g->tw = W;
    } else {
        g->nwy = (H + win - 1) / win, g->nwx = (W + win - 1) / win;
        g->th = g->tw = win;
    }
    g->qh = g->th / sh, g->qw = g->tw / sw;
    if (win > 0 && (sh > 1 || sw > 1)) {
        /* The official code reverses the partition with square windows of
         * win / sh over the pooled map padded anew: it only works when those
         * windows are the pooled input windows. */
        if (g->qh < 1 || g->qh != g->qw)
            return SAM2_FAIL(SAM2_ERR_CONFIG, "%s: window %d pooled by %dx%d gives %dx%d windows (must be square, non-empty)",
                             what, win, sh, sw, g->qh, g->qw);
        int ny = (g->Ho + g->qh - 1) / g->qh, nx = (g->Wo + g->qw - 1) / g->qw;
        if (ny != g->nwy || nx != g->nwx)
            return SAM2_FAIL(SAM2_ERR_CONFIG,
                             "%s: the %dx%d map in windows of %d has %dx%d windows but its %dx%d pooled map has %dx%d "
                             "(the official code cannot run this either)",
                             what, H, W, win, g->nwy, g->nwx, g->Ho, g->Wo, ny, nx);
    }
    g->identity = g->nwy == 1 && g->nwx == 1 && g->th == H && g->tw == W;
    return SAM2_OK;
}

int64_t attn_tokens(const attn_geom *g) { return (int64_t)g->nwy * g->nwx * g->th * g->tw; }

int64_t attn_queries(const attn_geom *g) { return (int64_t)g->nwy * g->nwx * g->qh * g->qw; }

void attn_partition(const attn_geom *g, const float *x, int C, float *xw, int n_threads) {
    const int rows = g->nwy * g->th; /* padded map rows */
    const int64_t work = attn_tokens(g) * C;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (work > ATTN_PAR_MIN)
    for (int py = 0; py < rows; py++) {
        int wy = py / g->th, iy = py % g->th;
        for (int wx = 0; wx < g->nwx; wx++) {
            float *dst = xw + ((((int64_t)wy * g->nwx + wx) * g->th + iy) * g->tw) * C;
            int x0 = wx * g->tw, n = g->W - x0 < g->tw ? g->W - x0 : g->tw; /* real columns */
            if (py < g->H) {
                memcpy(dst, x + ((int64_t)py * g->W + x0) * C, sizeof(float) * (size_t)n * C);
                memset(dst + (int64_t)n * C, 0, sizeof(float) * (size_t)(g->tw - n) * C);
            } else {
                memset(dst, 0, sizeof(float) * (size_t)g->tw * C);
            }
        }
    }
}

void attn_unpartition(const attn_geom *g, const float *ow, int C, float *out, int n_threads) {
    const int64_t work = (int64_t)g->Ho * g->Wo * C;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (work > ATTN_PAR_MIN)
    for (int oy = 0; oy < g->Ho; oy++) {
        int wy = oy / g->qh, qy = oy % g->qh;
        for (int wx = 0; wx < g->nwx; wx++) {
            int x0 = wx * g->qw;
            if (x0 >= g->Wo) break;
            int n = g->Wo - x0 < g->qw ? g->Wo - x0 : g->qw;
            const float *src = ow + ((((int64_t)wy * g->nwx + wx) * g->qh + qy) * g->qw) * C;
            memcpy(out + ((int64_t)oy * g->Wo + x0) * C, src, sizeof(float) * (size_t)n * C);
        }
    }
}

void attn_pool_queries(const attn_geom *g, const float *qkv, int D, float *qp, int n_threads) {
    const int nw = g->nwy * g->nwx, ld = 3 * D;
    const int64_t work = attn_queries(g) * D * g->sh * g->sw;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (work > ATTN_PAR_MIN)
    for (int r = 0; r < nw * g->qh; r++) {
        int w = r / g->qh, qy = r % g->qh;
        const float *win = qkv + (int64_t)w * g->th * g->tw * ld;
        for (int qx = 0; qx < g->qw; qx++) {
            float *o = qp + (((int64_t)w * g->qh + qy) * g->qw + qx) * D;
            const float *first = win + ((int64_t)qy * g->sh * g->tw + (int64_t)qx * g->sw) * ld;
            memcpy(o, first, sizeof(float) * (size_t)D);
            for (int dy = 0; dy < g->sh; dy++)
                for (int dx = 0; dx < g->sw; dx++) {
                    const float *p = win + ((int64_t)(qy * g->sh + dy) * g->tw + (int64_t)qx * g->sw + dx) * ld;
                    for (int c = 0; c < D; c++) o[c] = p[c] > o[c] ? p[c] : o[c];
                }
        }
    }
}

/* Replaces a row of scores by exp(s - max) and returns 1 / sum. */
static float softmax_row(float *s, int n) {
    float m[16];
    for (int j = 0; j < 16; j++) m[j] = -INFINITY;
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) m[j] = s[i + j] > m[j] ? s[i + j] : m[j];
    float mx = -INFINITY;
    for (; i < n; i++) mx = s[i] > mx ? s[i] : mx;
    for (int j = 0; j < 16; j++) mx = m[j] > mx ? m[j] : mx;
    float acc[16] = {0};
    i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) {
            float e = fm_expf(s[i + j] - mx);
            s[i + j] = e;
            acc[j] += e;
        }
    float sum = 0.0f;
    for (; i < n; i++) sum += (s[i] = fm_expf(s[i] - mx));
    for (int j = 0; j < 16; j++) sum += acc[j];
    return 1.0f / sum;
}

/* One (window, head, query block) item: m query rows against the window's
 * T keys. s is scratch of m * T floats, inv of m floats. */
static void attend_block(const float *q, int ldq, const float *k, const float *v, int ldkv, int m, int T, int hd,
                         float scale, float *o, int ldo, float *s, float *inv) {
    gemm(0, 1, m, T, hd, scale, q, ldq, k, ldkv, 0.0f, s, T);
    for (int i = 0; i < m; i++) inv[i] = softmax_row(s + (int64_t)i * T, T);
    gemm(0, 0, m, hd, T, 1.0f, s, T, v, ldkv, 0.0f, o, ldo);
    for (int i = 0; i < m; i++) {
        float *oi = o + (int64_t)i * ldo;
        for (int t = 0; t < hd; t++) oi[t] *= inv[i];
    }
}

/* Query rows per block: the scores of one block stay within the budget. */
static int query_block(const attn_geom *g) {
    const int T = g->th * g->tw, Tq = g->qh * g->qw;
    int qb = ATTN_SCORE_BUDGET / T;
    qb = qb < 16 ? 16 : qb;
    return qb > Tq ? Tq : qb;
}

/* Floats one thread needs: scores and their sums, and for bfloat16 the
 * packed keys and values and the packed rows. */
static size_t per_thread_floats(const attn_geom *g, int D, int heads) {
    const int T = g->th * g->tw, hd = D / heads;
    const size_t f32 = (size_t)query_block(g) * T + (size_t)query_block(g);
    const size_t na = bf16_rows_scratch(hd) > bf16_rows_scratch(T) ? bf16_rows_scratch(hd) : bf16_rows_scratch(T);
    const size_t bf = f32 + (bf16_packed_size(T, hd) + bf16_packed_size(hd, T) + 1) / 2 + na;
    return (bf + 15) / 16 * 16;
}

size_t attn_scratch_floats(const attn_geom *g, int D, int heads, int n_threads) {
    if (heads < 1 || D % heads) return 0;
    return per_thread_floats(g, D, heads) * (size_t)(n_threads < 1 ? 1 : n_threads);
}

sam2_status attn_run(const attn_geom *g, const float *qkv, const float *qp, int D, int heads, float *out,
                     int n_threads, float *scratch) {
    if (heads < 1 || D % heads) return SAM2_FAIL(SAM2_ERR_CONFIG, "attention: %d channels in %d heads", D, heads);
    const int T = g->th * g->tw, Tq = g->qh * g->qw, hd = D / heads, nw = g->nwy * g->nwx, ld = 3 * D;
    const int ldq = qp ? D : ld;
    const float scale = 1.0f / sqrtf((float)hd);
    const int qb = query_block(g);
    const int nqb = (Tq + qb - 1) / qb;
    const size_t per = per_thread_floats(g, D, heads);
    const int64_t items = (int64_t)nw * heads * nqb;
    /* GEMMs inside the parallel region must stay single-threaded: with a
     * pthreads OpenBLAS the items run in turn and each GEMM is threaded. */
    int threads = n_threads < 1 ? 1 : (items < n_threads ? (int)items : n_threads);
    if (!gemm_nested_ok()) threads = 1;
    int failed = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        /* (qb, T) scores, then (qb) */
        float *s = scratch ? scratch + per * (size_t)omp_get_thread_num() : malloc(sizeof(float) * ((size_t)qb * T + (size_t)qb));
        if (!s) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t it = 0; it < items; it++) {
            if (!s) continue;
            int b = (int)(it % nqb), h = (int)(it / nqb % heads), w = (int)(it / nqb / heads);
            int r0 = b * qb, m = Tq - r0 < qb ? Tq - r0 : qb;
            const float *win = qkv + (int64_t)w * T * ld;
            const float *q = qp ? qp + ((int64_t)w * Tq + r0) * D + h * hd : win + (int64_t)r0 * ld + h * hd;
            float *o = out + ((int64_t)w * Tq + r0) * D + h * hd;
            attend_block(q, ldq, win + D + h * hd, win + 2 * D + h * hd, ld, m, T, hd, scale, o, D, s,
                         s + (size_t)qb * T);
        }
        if (!scratch) free(s);
    }
    return failed ? SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for attention scores (%d x %d)", qb, T) : SAM2_OK;
}

sam2_status attn_run_bf16(const attn_geom *g, const float *qkv, const float *qp, int D, int heads, float *out,
                          int n_threads, float *scratch) {
    if (heads < 1 || D % heads) return SAM2_FAIL(SAM2_ERR_CONFIG, "attention: %d channels in %d heads", D, heads);
    if (!bf16_supported()) return SAM2_FAIL(SAM2_ERR_STATE, "bfloat16 precision needs a CPU with AVX-512 BF16");
    const int T = g->th * g->tw, Tq = g->qh * g->qw, hd = D / heads, nw = g->nwy * g->nwx, ld = 3 * D;
    const int ldq = qp ? D : ld;
    const float scale = 1.0f / sqrtf((float)hd);
    const int qb = query_block(g);
    const size_t per = per_thread_floats(g, D, heads);
    const int items = nw * heads;
    const int threads = n_threads < 1 ? 1 : (items < n_threads ? items : n_threads);
    const size_t nk = bf16_packed_size(T, hd), nv = bf16_packed_size(hd, T);
    const size_t na = bf16_rows_scratch(hd) > bf16_rows_scratch(T) ? bf16_rows_scratch(hd) : bf16_rows_scratch(T);
    int failed = 0;
    /* one (window, head) item per step: its keys and values are rounded and
     * packed once, then every query block meets them */
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float *mine = scratch ? scratch + per * (size_t)omp_get_thread_num() : NULL;
        float *s = mine ? mine : malloc(sizeof(float) * ((size_t)qb * T + (size_t)qb));
        uint16_t *kp = mine ? (uint16_t *)(mine + (size_t)qb * T + qb) : malloc(sizeof(uint16_t) * (nk + nv));
        uint32_t *a = mine ? (uint32_t *)(mine + (size_t)qb * T + qb + (nk + nv + 1) / 2) : malloc(sizeof(uint32_t) * na);
        if (!kp || !s || !a) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int it = 0; it < items; it++) {
            if (!kp || !s || !a) continue;
            const int h = it % heads, w = it / heads;
            const float *win = qkv + (int64_t)w * T * ld;
            bf16_pack_strided(win + D + h * hd, T, hd, (size_t)ld, 1, kp);
            bf16_pack_strided(win + 2 * D + h * hd, hd, T, 1, (size_t)ld, kp + nk);
            const bf16_weight kw = {T, hd, (hd + 1) & ~1, kp}, vw = {hd, T, (T + 1) & ~1, kp + nk};
            float *inv = s + (size_t)qb * T;
            for (int r0 = 0; r0 < Tq; r0 += qb) {
                const int m = Tq - r0 < qb ? Tq - r0 : qb;
                const float *q = qp ? qp + ((int64_t)w * Tq + r0) * D + h * hd : win + (int64_t)r0 * ld + h * hd;
                float *o = out + ((int64_t)w * Tq + r0) * D + h * hd;
                gemm_bf16_serial(m, q, ldq, &kw, NULL, 0, s, T, a);
                for (int i = 0; i < m; i++) {
                    float *row = s + (int64_t)i * T;
                    for (int t = 0; t < T; t++) row[t] *= scale;
                    inv[i] = softmax_row(row, T);
                }
                gemm_bf16_serial(m, s, T, &vw, NULL, 0, o, D, a);
                for (int i = 0; i < m; i++) {
                    float *oi = o + (int64_t)i * D;
                    for (int t = 0; t < hd; t++) oi[t] *= inv[i];
                }
            }
        }
        if (!mine) free(kp), free(s), free(a);
    }
    return failed ? SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for bfloat16 attention (%d x %d)", qb, T) : SAM2_OK;
}
