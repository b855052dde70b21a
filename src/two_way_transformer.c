/* two_way_transformer.c - the official TwoWayTransformer for B prompts at
 * once: every projection over all prompts' tokens is one GEMM, the image-side
 * work of layer 0 is shared when every prompt sees the same image tokens,
 * and the attention itself (one side is always a handful of tokens) runs as
 * vectorisable loops in parallel over (prompt, head, query block). */
#include "two_way_transformer.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "gemm.h"
#include "gemm_small.h"
#include "ops.h"
#include "two_way_implicit.h"

/* ------------------------------------------------------------------ MLP */

/* The widest layer of an MLP (input included). */
static int mlp_max_dim(const mlp_weights *m) {
    int maxd = 0;
    for (int i = 0; i <= m->n_layers; i++) maxd = m->dims[i] > maxd ? m->dims[i] : maxd;
    return maxd;
}

size_t dec_mlp_work_floats(const mlp_weights *m, int M) { return 2 * (size_t)M * mlp_max_dim(m); }

void dec_mlp_run(const mlp_weights *m, const float *x, int M, float *out, float *work) {
    float *a = work, *b = work + (size_t)M * mlp_max_dim(m); /* (M, maxd) each */
    const float *in = x;
    for (int i = 0; i < m->n_layers; i++) {
        float *o = i == m->n_layers - 1 ? out : (i % 2 ? b : a);
        linear(in, M, m->dims[i], m->w[i], m->b[i], m->dims[i + 1], o);
        if (i < m->n_layers - 1) op_relu(o, (int64_t)M * m->dims[i + 1]);
        in = o;
    }
}

/* ------------------------------------------------------------ attention */

/* Queries handled together by one work item of the attention loops. */
#define ATT_QBLK 64

/* Per-thread scratch of the attention loops: a row of scores (row form) or
 * the (hd, QB) query and output blocks, (Nk, QB) scores and two (QB) rows
 * (column form). */
static size_t attn_thread_floats(int Nq, int Nk, int hd) {
    size_t rows = (size_t)(Nq > Nk ? Nq : Nk), cols = (size_t)(2 * hd + (Nq < Nk ? Nq : Nk) + 2) * ATT_QBLK;
    return rows + cols;
}

/* Softmax attention of every head: q (Bq, Nq, I) with Bq = 1 when shared
 * across prompts, else B; keys and values transposed, kt and vt (Bk, I, Nk)
 * likewise; o (B, Nq, I). Scores are (q . k) / sqrt(hd) accumulated over the
 * head dimension in order, softmax subtracts the maximum, the weighted sum
 * of values is normalised at the end. Parallel over (prompt, head, block of
 * ATT_QBLK queries). Few keys and many queries (image to tokens): the loops
 * run across the queries of a block (column form); otherwise across the
 * keys (row form). Either way the innermost loops vectorise. tscratch holds
 * n_threads * attn_thread_floats(Nq, Nk, hd). */
static void attend(const float *q, int q_shared, const float *kt, const float *vt, int kv_shared, float *o, int B,
                   int heads, int Nq, int Nk, int I, int n_threads, float *tscratch) {
    const int hd = I / heads, QB = ATT_QBLK, nqb = (Nq + QB - 1) / QB, cols = Nk <= 64 && Nq >= QB;
    const float scale = 1.0f / sqrtf((float)hd);
    const size_t per_thread = attn_thread_floats(Nq, Nk, hd);
#pragma omp parallel num_threads(n_threads)
    {
        float *s = tscratch + (size_t)omp_get_thread_num() * per_thread; /* row form: (Nk) */
        float *qT = s, *S = qT + (size_t)hd * QB, *oT = S + (size_t)Nk * QB; /* column form */
        float *mx = oT + (size_t)hd * QB, *sum = mx + QB;                   /* (QB) each */
#pragma omp for schedule(static)
        for (int item = 0; item < B * heads * nqb; item++) {
            const int bh = item / nqb, b = bh / heads, h = bh % heads, qb = item % nqb;
            const size_t kv_off = (kv_shared ? 0 : (size_t)b * I * Nk) + (size_t)h * hd * Nk;
            const float *kh = kt + kv_off, *vh = vt + kv_off; /* (hd, Nk) */
            const float *qh = q + (q_shared ? 0 : (size_t)b * Nq * I) + (size_t)h * hd;
            float *oh = o + (size_t)b * Nq * I + (size_t)h * hd;
            const int i0 = qb * QB, n = Nq - i0 < QB ? Nq - i0 : QB;
            if (cols) {
                for (int t = 0; t < hd; t++)
                    for (int i = 0; i < n; i++) qT[t * QB + i] = qh[(size_t)(i0 + i) * I + t];
                for (int j = 0; j < Nk; j++) {
                    float *Sj = S + (size_t)j * QB;
                    for (int i = 0; i < n; i++) Sj[i] = 0.0f;
                    for (int t = 0; t < hd; t++) {
                        const float kv = kh[(size_t)t * Nk + j], *qt = qT + t * QB;
                        for (int i = 0; i < n; i++) Sj[i] += kv * qt[i];
                    }
                    for (int i = 0; i < n; i++) Sj[i] *= scale;
                }
                for (int i = 0; i < n; i++) mx[i] = -INFINITY, sum[i] = 0.0f;
                for (int j = 0; j < Nk; j++)
                    for (int i = 0; i < n; i++) mx[i] = S[j * QB + i] > mx[i] ? S[j * QB + i] : mx[i];
                for (int j = 0; j < Nk; j++)
                    for (int i = 0; i < n; i++) S[j * QB + i] -= mx[i];
                if (n == QB) op_exp_nonpos(S, (int64_t)Nk * QB);
                else
                    for (int j = 0; j < Nk; j++) op_exp_nonpos(S + (size_t)j * QB, n);
                for (int j = 0; j < Nk; j++)
                    for (int i = 0; i < n; i++) sum[i] += S[j * QB + i];
                for (int t = 0; t < hd; t++) {
                    float *ot = oT + t * QB;
                    for (int i = 0; i < n; i++) ot[i] = 0.0f;
                    for (int j = 0; j < Nk; j++) {
                        const float vv = vh[(size_t)t * Nk + j], *Sj = S + (size_t)j * QB;
                        for (int i = 0; i < n; i++) ot[i] += vv * Sj[i];
                    }
                }
                for (int i = 0; i < n; i++) {
                    const float inv = 1.0f / sum[i];
                    for (int t = 0; t < hd; t++) oh[(size_t)(i0 + i) * I + t] = oT[t * QB + i] * inv;
                }
                continue;
            }
            for (int i = i0; i < i0 + n; i++) {
                const float *qi = qh + (size_t)i * I;
                float *oi = oh + (size_t)i * I;
                for (int j = 0; j < Nk; j++) s[j] = 0.0f;
                for (int t = 0; t < hd; t++) {
                    const float qt = qi[t], *row = kh + (size_t)t * Nk;
                    for (int j = 0; j < Nk; j++) s[j] += qt * row[j];
                }
                float m = -INFINITY;
                for (int j = 0; j < Nk; j++) {
                    s[j] *= scale;
                    m = s[j] > m ? s[j] : m;
                }
                for (int j = 0; j < Nk; j++) s[j] -= m;
                op_exp_nonpos(s, Nk);
                float total = 0.0f;
#pragma omp simd reduction(+ : total)
                for (int j = 0; j < Nk; j++) total += s[j];
                const float inv = 1.0f / total;
                for (int t = 0; t < hd; t++) {
                    const float *row = vh + (size_t)t * Nk;
                    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
                    for (int j = 0; j < Nk; j++) acc += s[j] * row[j];
                    oi[t] = acc * inv;
                }
            }
        }
    }
}

/* attend() for keys and values shared by every prompt and many query rows
 * in all (a grid's tokens against one image): each head's scores of a
 * block of MC rows as one GEMM, softmax along the row, then one GEMM with
 * the values, so the image's keys and values are read once per block
 * instead of once per query. Parallel over (head, block); scratch holds
 * n_threads * MC * Nk floats. */
static void attend_shared_kv(const float *q, const float *kt, const float *vt, float *o, int B, int heads, int Nq,
                             int Nk, int I, int n_threads, float *scratch, int MC) {
    const int hd = I / heads, M = B * Nq, nmc = (M + MC - 1) / MC;
    const float scale = 1.0f / sqrtf((float)hd);
#pragma omp parallel for schedule(dynamic) num_threads(n_threads)
    for (int item = 0; item < heads * nmc; item++) {
        const int h = item / nmc, r0 = (item % nmc) * MC, n = M - r0 < MC ? M - r0 : MC;
        float *S = scratch + (size_t)omp_get_thread_num() * MC * Nk;
        mm_wide(n, Nk, hd, q + (size_t)r0 * I + h * hd, I, kt + (size_t)h * hd * Nk, Nk, 0.0f, S, Nk);
        for (size_t i = 0; i < (size_t)n * Nk; i++) S[i] *= scale;
        op_softmax_rows(S, n, Nk, 1);
        mm_dots(n, hd, Nk, S, Nk, vt + (size_t)h * hd * Nk, Nk, 0.0f, o + (size_t)r0 * I + h * hd, I);
    }
}

/* A projection produced transposed, for nb sequences: yt (nb, N_out, n)
 * with yt[b] = W (N_out, d) @ x[b]^T + bias, x (nb, n, d). With room tmp
 * (nb * n, N_out), many short sequences (the prompts' tokens) take one GEMM
 * of all their rows, transposed after, instead of a small GEMM each whose
 * call costs more than its arithmetic. */
static void linear_t(const float *x, int nb, int n, int d, const float *W, const float *bias, int N_out, float *yt,
                     float *tmp) {
    if (tmp && nb > 1) {
        linear(x, nb * n, d, W, bias, N_out, tmp);
        for (int b = 0; b < nb; b++) op_transpose(tmp + (size_t)b * n * N_out, yt + (size_t)b * N_out * n, n, N_out);
        return;
    }
    for (int b = 0; b < nb; b++) {
        float *y = yt + (size_t)b * N_out * n;
        for (int r = 0; r < N_out; r++)
            for (int j = 0; j < n; j++) y[(size_t)r * n + j] = bias[r];
        gemm(0, 1, N_out, n, d, 1.0f, W, d, x + (size_t)b * n * d, d, 1.0f, y, n);
    }
}

/* The official Attention module for B sequences: projections (keys and
 * values straight into the transposed layout the attention loops read),
 * attention, output projection. q_in (Bq, Nq, d), k_in and v_in (Bk, Nk,
 * d), with Bq or Bk = 1 when shared by every prompt; out (B, Nq, d) is
 * overwritten. work holds mha_work_floats(B, Nq, Nk, I, n_threads). */
static void mha_pre(const attn_weights *a, int heads, int d, int B, int Nq, int Nk, const float *q_in, int q_shared,
                    const float *k_in, const float *v_in, int kv_shared, float *out, int n_threads, float *work,
                    const float *q_pre, const float *kt_pre, const float *vt_pre) {
    const int I = a->internal, Bq = q_shared ? 1 : B, Bk = kv_shared ? 1 : B;
    float *q = work;                     /* (Bq, Nq, I) */
    float *kt = q + (size_t)Bq * Nq * I; /* (Bk, I, Nk) */
    float *vt = kt + (size_t)Bk * I * Nk; /* (Bk, I, Nk) */
    float *o = vt + (size_t)Bk * I * Nk; /* (B, Nq, I) */
    float *ts = o + (size_t)B * Nq * I;  /* per-thread scratch */
    if (!q_pre) linear(q_in, Bq * Nq, d, a->q_w, a->q_b, I, q);
    /* o is free until the attention writes it */
    float *tmp = (size_t)Bk * Nk <= (size_t)B * Nq ? o : NULL;
    if (!kt_pre) linear_t(k_in, Bk, Nk, d, a->k_w, a->k_b, I, kt, tmp);
    if (!vt_pre) linear_t(v_in, Bk, Nk, d, a->v_w, a->v_b, I, vt, tmp);
    /* shared keys and values, per-prompt queries: the room of the
     * per-prompt keys and values mha_work_floats counts is free for the
     * score blocks */
    const size_t spare = kv_shared && !q_shared ? (size_t)(B - 1) * 2 * I * Nk : 0;
    const size_t fit = n_threads > 0 && Nk > 0 ? spare / ((size_t)n_threads * Nk) : 0;
    const int MC = fit < 32 ? (int)fit : B * Nq < 32 ? B * Nq : 32;
    if (MC >= 8 && Nk >= 512)
        attend_shared_kv(q_pre ? q_pre : q, kt_pre ? kt_pre : kt, vt_pre ? vt_pre : vt, o, B, heads, Nq, Nk, I,
                         n_threads, ts + (size_t)n_threads * attn_thread_floats(Nq, Nk, I / heads), MC);
    else
        attend(q_pre ? q_pre : q, q_shared, kt_pre ? kt_pre : kt, vt_pre ? vt_pre : vt, kv_shared, o, B, heads, Nq, Nk,
               I, n_threads, ts);
    linear(o, B * Nq, I, a->o_w, a->o_b, d, out);
}

static void mha(const attn_weights *a, int heads, int d, int B, int Nq, int Nk, const float *q_in, int q_shared,
                const float *k_in, const float *v_in, int kv_shared, float *out, int n_threads, float *work) {
    mha_pre(a, heads, d, B, Nq, Nk, q_in, q_shared, k_in, v_in, kv_shared, out, n_threads, work, NULL, NULL, NULL);
}

/* Floats of mha scratch for B sequences of Nq queries and Nk keys (or the
 * other way round, the same sum): q, kt, vt, o plus the per-thread scratch. */
static size_t mha_work_floats(int B, int Nq, int Nk, int I, int heads, int n_threads) {
    return (size_t)B * I * (2 * (size_t)Nq + 2 * (size_t)Nk) + (size_t)n_threads * attn_thread_floats(Nq, Nk, I / heads);
}

/* ------------------------------------------------- low-rank attention */

/* When one side of a cross attention is a handful of tokens, each head's
 * scores against the image are a rank-T product and the values a mix of T
 * vectors, so the image-sized projections can be folded into the tokens'
 * side: with R = heads * T < internal width these are the same sums in
 * another order (float rounding aside) at a fraction of the work. */

/* Floats of scratch for either low-rank attention. */
static size_t lowrank_work_floats(int B, int T, int HW, int d, int I, int heads) {
    const size_t R = (size_t)heads * T;
    return (size_t)HW * I + 2 * (size_t)B * T * I + (size_t)HW * R + 2 * R * d + R;
}

/* Token to image, keys per prompt: q_in (B, T, d) queries (+pe), x (B, HW,
 * d) keys + pe, y (B, HW, d) keys; out (B, T, d). Per head h the scores
 * are (q_h Wk_h) x^T (the key bias shifts a whole softmax row, so it drops
 * out) and the output (P y) Wv_h^T + bv_h, since each row of P sums to 1.
 * pe_kt (I, HW) = Wk pe^T, when given: x holds the keys alone and the
 * positional part of the scores comes per head from this image-independent
 * projection (no per-prompt keys + pe). */
static void t2i_lowrank(const attn_weights *a, int heads, int d, int B, int T, int HW, const float *q_in,
                        const float *x, const float *y, float *out, int n_threads, float *work,
                        const float *pe_kt) {
    const int I = a->internal, hd = I / heads, R = heads * T;
    const float scale = 1.0f / sqrtf((float)hd);
    float *q = work;                    /* (B, T, I) */
    float *o = q + (size_t)B * T * I;   /* (B, T, I) */
    float *S = o + (size_t)B * T * I;   /* (R, HW) scores, then probabilities */
    float *Qt = S + (size_t)R * HW;     /* (R, d) queries folded with Wk */
    float *Z = Qt + (size_t)R * d;      /* (R, d) probability-weighted keys */
    linear(q_in, B * T, d, a->q_w, a->q_b, I, q);
    for (int b = 0; b < B; b++) {
        const float *xb = x + (size_t)b * HW * d, *yb = y + (size_t)b * HW * d;
        float *ob = o + (size_t)b * T * I;
        for (int h = 0; h < heads; h++)
            gemm(0, 0, T, d, hd, scale, q + (size_t)b * T * I + h * hd, I, a->k_w + (size_t)h * hd * d, d, 0.0f,
                 Qt + (size_t)h * T * d, d);
        gemm(0, 1, R, HW, d, 1.0f, Qt, d, xb, d, 0.0f, S, HW);
        if (pe_kt)
            for (int h = 0; h < heads; h++)
                gemm(0, 0, T, HW, hd, scale, q + (size_t)b * T * I + h * hd, I, pe_kt + (size_t)h * hd * HW, HW,
                     1.0f, S + (size_t)h * T * HW, HW);
        op_softmax_rows(S, R, HW, n_threads);
        gemm(0, 0, R, d, HW, 1.0f, S, HW, yb, d, 0.0f, Z, d);
        for (int h = 0; h < heads; h++) {
            float *oh = ob + h * hd;
            for (int j = 0; j < T; j++) memcpy(oh + (size_t)j * I, a->v_b + h * hd, sizeof(float) * hd);
            gemm(0, 1, T, hd, d, 1.0f, Z + (size_t)h * T * d, d, a->v_w + (size_t)h * hd * d, d, 1.0f, oh, I);
        }
    }
    linear(o, B * T, I, a->o_w, a->o_b, d, out);
}

/* Image to token: x (Bx, HW, d) image tokens + pe (Bx = 1 when shared by
 * every prompt), k_in (B, T, d) tokens + pe, v_in (B, T, d) tokens; the
 * attention output is added to out (B, HW, d), the residual. Shared image
 * tokens get their query projection once; otherwise
 * the scores are x (Wq_h^T k_h^T) plus the query bias against k_h. The
 * output is P (HW, R) times U (R, d) with U = v_h Wo_h^T + bo / heads: the
 * probabilities of each head sum to 1, so the heads' shares of bo add up
 * to bo. pe_q (HW, I) = pe Wq^T, when given for per-prompt x: x holds the
 * keys alone (the scores read x before the output is added, so x may be
 * out). */
static void i2t_lowrank(const attn_weights *a, int heads, int d, int B, int HW, int T, const float *x, int x_shared,
                        const float *k_in, const float *v_in, float *out, int n_threads, float *work,
                        const float *qimg_pre, const float *pe_q) {
    const int I = a->internal, hd = I / heads, R = heads * T;
    const float scale = 1.0f / sqrtf((float)hd);
    float *qimg = work;                       /* (HW, I) shared query projection */
    float *k = qimg + (size_t)HW * I;         /* (B, T, I) */
    float *v = k + (size_t)B * T * I;         /* (B, T, I) */
    float *S = v + (size_t)B * T * I;         /* (HW, R) */
    float *Mt = S + (size_t)HW * R;           /* (R, d) */
    float *U = Mt + (size_t)R * d;            /* (R, d) */
    float *c = U + (size_t)R * d;             /* (R) */
    linear(k_in, B * T, d, a->k_w, a->k_b, I, k);
    linear(v_in, B * T, d, a->v_w, a->v_b, I, v);
    const float *qsrc = qimg_pre ? qimg_pre : qimg;
    if (x_shared && !qimg_pre) linear(x, HW, d, a->q_w, a->q_b, I, qimg);
    for (int b = 0; b < B; b++) {
        const float *kb = k + (size_t)b * T * I, *vb = v + (size_t)b * T * I;
        if (x_shared) {
            for (int h = 0; h < heads; h++)
                gemm(0, 1, HW, T, hd, scale, qsrc + h * hd, I, kb + h * hd, I, 0.0f, S + h * T, R);
        } else {
            for (int h = 0; h < heads; h++) {
                gemm(0, 0, T, d, hd, scale, kb + h * hd, I, a->q_w + (size_t)h * hd * d, d, 0.0f,
                     Mt + (size_t)h * T * d, d);
                for (int j = 0; j < T; j++) {
                    float acc = 0.0f;
                    for (int t = 0; t < hd; t++) acc += a->q_b[h * hd + t] * kb[(size_t)j * I + h * hd + t];
                    c[h * T + j] = acc * scale;
                }
            }
            gemm(0, 1, HW, R, d, 1.0f, x + (size_t)b * HW * d, d, Mt, d, 0.0f, S, R);
            if (pe_q) /* x holds the keys alone: the positional part from pe Wq^T */
                for (int h = 0; h < heads; h++)
                    gemm(0, 1, HW, T, hd, scale, pe_q + h * hd, I, kb + h * hd, I, 1.0f, S + h * T, R);
        }
#pragma omp parallel for schedule(static) num_threads(n_threads) if (HW > 256)
        for (int i = 0; i < HW; i++) {
            float *row = S + (size_t)i * R;
            if (!x_shared)
                for (int r = 0; r < R; r++) row[r] += c[r];
            for (int h = 0; h < heads; h++) {
                float *g = row + h * T, m = -INFINITY;
                for (int j = 0; j < T; j++) m = g[j] > m ? g[j] : m;
                for (int j = 0; j < T; j++) g[j] -= m;
            }
            op_exp_nonpos(row, R);
            for (int h = 0; h < heads; h++) {
                float *g = row + h * T, total = 0.0f;
                for (int j = 0; j < T; j++) total += g[j];
                const float inv = 1.0f / total;
                for (int j = 0; j < T; j++) g[j] *= inv;
            }
        }
        for (int h = 0; h < heads; h++) {
            float *Uh = U + (size_t)h * T * d;
            for (int j = 0; j < T; j++)
                for (int e = 0; e < d; e++) Uh[(size_t)j * d + e] = a->o_b[e] / (float)heads;
            gemm(0, 1, T, d, hd, 1.0f, vb + h * hd, I, a->o_w + h * hd, I, 1.0f, Uh, d);
        }
        gemm(0, 0, HW, d, R, 1.0f, S, R, U, d, 1.0f, out + (size_t)b * HW * d, d);
    }
}

/* ----------------------------------------------------------- transformer */

/* dst (nb, N, d) = x (nb, N, d) + pe (N, d), the same pe for every prompt,
 * or pe (nb, N, d) when per_prompt. */
static void add_pe(float *dst, const float *x, const float *pe, int nb, size_t per, int per_prompt) {
#pragma omp parallel for schedule(static) if (nb * per > 65536)
    for (int b = 0; b < nb; b++) {
        const float *xb = x + (size_t)b * per, *pb = pe + (per_prompt ? (size_t)b * per : 0);
        float *db = dst + (size_t)b * per;
        for (size_t i = 0; i < per; i++) db[i] = xb[i] + pb[i];
    }
}

size_t two_way_work_floats(const sam2_config *c, int B, int T, int HW, int n_threads) {
    const int d = c->d_model, Ic = d / c->dec_attn_downsample;
    size_t n = 2 * (size_t)B * T * d + 2 * (size_t)B * HW * d; /* qa, qo, ka, ko */
    size_t mlp = 2 * (size_t)B * T * (c->dec_mlp_dim > d ? c->dec_mlp_dim : d);
    size_t self = mha_work_floats(B, T, T, d, c->dec_heads, n_threads);
    size_t cross = mha_work_floats(B, T, HW, Ic, c->dec_heads, n_threads); /* covers both directions */
    size_t lr = lowrank_work_floats(B, T, HW, d, Ic, c->dec_heads);
    size_t m = mlp > self ? mlp : self, im = twi_work_floats(c, B, T, n_threads);
    m = m > cross ? m : cross;
    m = m > im ? m : im;
    return n + (m > lr ? m : lr);
}

void two_way_run(const sam2_config *c, const mask_decoder_weights *w, int B, int T, int HW, float *queries,
                 const float *qpe, float *keys, int keys_shared, const float *kpe, int n_threads, float *work) {
    two_way_run_mode(c, w, B, T, HW, queries, qpe, keys, keys_shared, kpe, n_threads, work, 1, NULL, T);
}

/* The projections of the positional encoding the low-rank attentions of
 * layers 1.. and the final attention add per head instead of forming keys +
 * pe for every prompt: they depend on the model alone. */
static void fill_pe_cache(const sam2_config *c, const mask_decoder_weights *w, int HW, const float *kpe,
                          two_way_cache *cache) {
    const int d = c->d_model, Ic = d / c->dec_attn_downsample;
    for (int l = 1; l <= c->dec_depth; l++) {
        const attn_weights *t2i = l < c->dec_depth ? &w->layers[l].t2i : &w->final_attn;
        gemm(0, 1, Ic, HW, d, 1.0f, t2i->k_w, d, kpe, d, 0.0f, cache->pe_t2i_kt[l], HW);
        if (l < c->dec_depth)
            gemm(0, 1, HW, Ic, d, 1.0f, kpe, d, w->layers[l].i2t.q_w, d, 0.0f, cache->pe_i2t_q[l], Ic);
    }
    cache->pe_valid = 1;
}

/* The final token-to-image attention, its residual and norm for tokens t0
 * .. t0 + n - 1 of each prompt (each token attends on its own, so any
 * subset gives the same rows). keys per prompt unless shared. */
static void final_attn(const sam2_config *c, const mask_decoder_weights *w, int B, int T, int HW, float *queries,
                       const float *qpe, const float *keys, int shared, const float *kpe, int t0, int n,
                       int n_threads, float *work, int lowrank, const two_way_cache *cache, int implicit) {
    if (n <= 0) return;
    const int d = c->d_model, H = c->dec_heads;
    const size_t nq = (size_t)B * T * d, per_k = (size_t)HW * d;
    float *qa = work, *qo = qa + nq, *ka = qo + nq, *sc = ka + 2 * (size_t)B * per_k;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < n; j++) {
            const size_t src = ((size_t)b * T + t0 + j) * d, dst = ((size_t)b * n + j) * d;
            for (int e = 0; e < d; e++) qa[dst + e] = queries[src + e] + qpe[src + e];
        }
    const int use_pe_cache = lowrank && !shared && cache && cache->pe_valid;
    if (implicit) {
        twi_t2i(c, w, c->dec_depth, B, n, HW, qa, keys, per_k, qo, cache, n_threads, sc);
    } else if (use_pe_cache) {
        t2i_lowrank(&w->final_attn, H, d, B, n, HW, qa, keys, keys, qo, n_threads, sc,
                    cache->pe_t2i_kt[c->dec_depth]);
    } else {
        add_pe(ka, keys, kpe, shared ? 1 : B, per_k, 0);
        if (lowrank && !shared) t2i_lowrank(&w->final_attn, H, d, B, n, HW, qa, ka, keys, qo, n_threads, sc, NULL);
        else mha(&w->final_attn, H, d, B, n, HW, qa, 0, ka, keys, shared, qo, n_threads, sc);
    }
    for (int b = 0; b < B; b++) {
        float *qb = queries + ((size_t)b * T + t0) * d;
        op_add(qb, qo + (size_t)b * n * d, (int64_t)n * d);
        op_layernorm(qb, qb, n, d, w->nf_w, w->nf_b, 1e-5f);
    }
}

void two_way_final(const sam2_config *c, const mask_decoder_weights *w, int B, int T, int HW, float *queries,
                   const float *qpe, const float *keys, const float *kpe, int t0, int n, int n_threads, float *work,
                   const two_way_cache *cache, int implicit) {
    const int Ic = c->d_model / c->dec_attn_downsample, lowrank = c->dec_heads * T < Ic;
    final_attn(c, w, B, T, HW, queries, qpe, keys, 0, kpe, t0, n, n_threads, work, lowrank, cache, implicit);
}

int two_way_run_mode(const sam2_config *c, const mask_decoder_weights *w, int B, int T, int HW, float *queries,
                     const float *qpe, float *keys, int keys_shared, const float *kpe, int n_threads, float *work,
                     int lowrank_ok, two_way_cache *cache, int n_final) {
    const int d = c->d_model, H = c->dec_heads;
    const size_t nq = (size_t)B * T * d, per_k = (size_t)HW * d;
    float *qa = work;                          /* (B, T, d) queries + pe */
    float *qo = qa + nq;                       /* (B, T, d) attention / MLP output */
    float *ka = qo + nq;                       /* (B, HW, d) keys + pe */
    float *ko = ka + (size_t)B * per_k;        /* (B, HW, d) image-to-token output */
    float *sc = ko + (size_t)B * per_k;        /* mha / MLP scratch */
    int shared = keys_shared;
    const int Ic = d / c->dec_attn_downsample, lowrank = lowrank_ok && H * T < Ic;
    /* shared keys: the image side as a low-rank update of them */
    const int implicit = lowrank_ok == 2 && lowrank && shared && cache && cache->ix && twi_applies(c, T, HW);
    /* the formed-token path's positional projections (the implicit one
     * keeps its own, blocked, with the image's products) */
    if (lowrank && cache && !implicit && !cache->pe_valid) fill_pe_cache(c, w, HW, kpe, cache);

    for (int l = 0; l < c->dec_depth; l++) {
        const twoway_layer_weights *L = &w->layers[l];
        if (l == 0) { /* skip_first_layer_pe: the attention output replaces the queries */
            mha(&L->self_attn, H, d, B, T, T, queries, 0, queries, queries, 0, qo, n_threads, sc);
            memcpy(queries, qo, sizeof(float) * nq);
        } else {
            add_pe(qa, queries, qpe, B, (size_t)T * d, 1);
            mha(&L->self_attn, H, d, B, T, T, qa, 0, qa, queries, 0, qo, n_threads, sc);
            op_add(queries, qo, (int64_t)nq);
        }
        op_layernorm(queries, queries, (int64_t)B * T, d, L->n1_w, L->n1_b, 1e-5f);
        /* token to image */
        add_pe(qa, queries, qpe, B, (size_t)T * d, 1);
        /* per-prompt keys with the positional projections cached: no keys + pe */
        const int pe_cached = lowrank && !shared && cache && l > 0;
        /* the image-side projections of layer 0 on shared keys depend on the
         * image only: kept in the cache across calls */
        const int cached = cache && shared && l == 0;
        if (!pe_cached && !(cached && cache->valid)) add_pe(ka, keys, kpe, shared ? 1 : B, per_k, 0);
        if (cached && !cache->valid) {
            linear_t(ka, 1, HW, d, L->t2i.k_w, L->t2i.k_b, Ic, cache->t2i_kt, NULL);
            linear_t(keys, 1, HW, d, L->t2i.v_w, L->t2i.v_b, Ic, cache->t2i_vt, NULL);
            linear(ka, HW, d, L->i2t.q_w, L->i2t.q_b, Ic, cache->i2t_q);
            cache->valid = 1;
        }
        if (implicit && l == 0 && !cache->ix_valid) {
            twi_prepare(c, w, HW, keys, kpe, cache->i2t_q, cache);
            cache->ix_valid = 1, cache->up_valid = 0;
        }
        if (implicit && l > 0) twi_t2i(c, w, l, B, T, HW, qa, keys, per_k, qo, cache, n_threads, sc);
        else if (pe_cached) t2i_lowrank(&L->t2i, H, d, B, T, HW, qa, keys, keys, qo, n_threads, sc, cache->pe_t2i_kt[l]);
        else if (lowrank && !shared) t2i_lowrank(&L->t2i, H, d, B, T, HW, qa, ka, keys, qo, n_threads, sc, NULL);
        else if (cached)
            mha_pre(&L->t2i, H, d, B, T, HW, qa, 0, ka, keys, 1, qo, n_threads, sc, NULL, cache->t2i_kt,
                    cache->t2i_vt);
        else mha(&L->t2i, H, d, B, T, HW, qa, 0, ka, keys, shared, qo, n_threads, sc);
        op_add(queries, qo, (int64_t)nq);
        op_layernorm(queries, queries, (int64_t)B * T, d, L->n2_w, L->n2_b, 1e-5f);
        dec_mlp_run(&L->mlp, queries, B * T, qo, sc);
        op_add(queries, qo, (int64_t)nq);
        op_layernorm(queries, queries, (int64_t)B * T, d, L->n3_w, L->n3_b, 1e-5f);
        /* image to token: the keys (unchanged since ka was formed) become per prompt here */
        add_pe(qa, queries, qpe, B, (size_t)T * d, 1);
        if (implicit) { /* the update and the LayerNorm go into each prompt's state */
            if (l == 0) twi_i2t_first(c, w, B, T, HW, qa, queries, keys, cache, n_threads, sc);
            else twi_i2t_second(c, w, B, T, HW, qa, queries, keys, cache, n_threads, sc);
            shared = 0;
            continue;
        }
        if (lowrank) { /* the output accumulates straight into the (per-prompt) keys */
            const int x_shared = shared;
            if (shared)
                for (int b = 1; b < B; b++) memcpy(keys + b * per_k, keys, sizeof(float) * per_k);
            shared = 0;
            i2t_lowrank(&L->i2t, H, d, B, HW, T, pe_cached ? keys : ka, x_shared, qa, queries, keys, n_threads, sc,
                        cached ? cache->i2t_q : NULL, pe_cached ? cache->pe_i2t_q[l] : NULL);
        } else {
            if (cached)
                mha_pre(&L->i2t, H, d, B, HW, T, ka, 1, qa, queries, 0, ko, n_threads, sc, cache->i2t_q, NULL, NULL);
            else
                mha(&L->i2t, H, d, B, HW, T, ka, shared, qa, queries, 0, ko, n_threads, sc);
            if (shared) {
                for (int b = B - 1; b >= 0; b--) /* keys[0] is read by every b, overwritten last */
                    for (size_t i = 0; i < per_k; i++) keys[b * per_k + i] = keys[i] + ko[b * per_k + i];
                shared = 0;
            } else {
                op_add(keys, ko, (int64_t)B * per_k);
            }
        }
        op_layernorm(keys, keys, (int64_t)B * HW, d, L->n4_w, L->n4_b, 1e-5f);
    }
    if (shared) { /* depth 0: every prompt's keys are the input */
        for (int b = 1; b < B; b++) memcpy(keys + b * per_k, keys, sizeof(float) * per_k);
        shared = 0;
    }
    final_attn(c, w, B, T, HW, queries, qpe, keys, shared, kpe, 0, n_final < T ? n_final : T, n_threads, work,
               lowrank, cache, implicit);
    return implicit;
}
