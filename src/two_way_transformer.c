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
#include "ops.h"

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

/* Per-thread scratch of the attention loops: one head's keys transposed
 * (hd, Nk) and one row of scores (Nk). */
static size_t attn_thread_floats(int hd, int Nk) { return (size_t)(hd + 1) * Nk; }

/* Softmax attention of every head: q (Bq, Nq, I) with Bq = 1 when shared
 * across prompts, else B; k and v likewise (Bk, Nk, I); o (B, Nq, I).
 * Scores are (q . k) / sqrt(hd), accumulated over the head dimension in
 * order; softmax subtracts the row maximum. */
static void attend(const float *q, int q_shared, const float *k, const float *v, int kv_shared, float *o, int B,
                   int heads, int Nq, int Nk, int I, int n_threads, float *tscratch) {
    const int hd = I / heads, QBLK = 64, nqb = (Nq + QBLK - 1) / QBLK;
    const float scale = 1.0f / sqrtf((float)hd);
    const size_t per_thread = attn_thread_floats(hd, Nk);
#pragma omp parallel num_threads(n_threads)
    {
        float *kt = tscratch + (size_t)omp_get_thread_num() * per_thread; /* (hd, Nk) */
        float *s = kt + (size_t)hd * Nk;                                   /* (Nk) */
        int cached = -1;
#pragma omp for schedule(static)
        for (int item = 0; item < B * heads * nqb; item++) {
            const int bh = item / nqb, b = bh / heads, h = bh % heads, qb = item % nqb;
            const float *kb = k + (kv_shared ? 0 : (size_t)b * Nk * I) + (size_t)h * hd;
            const float *vb = v + (kv_shared ? 0 : (size_t)b * Nk * I) + (size_t)h * hd;
            if (cached != bh) {
                for (int j = 0; j < Nk; j++)
                    for (int t = 0; t < hd; t++) kt[(size_t)t * Nk + j] = kb[(size_t)j * I + t];
                cached = bh;
            }
            const int i1 = (qb + 1) * QBLK < Nq ? (qb + 1) * QBLK : Nq;
            for (int i = qb * QBLK; i < i1; i++) {
                const float *qi = q + (q_shared ? 0 : (size_t)b * Nq * I) + (size_t)i * I + (size_t)h * hd;
                float *oi = o + ((size_t)b * Nq + i) * I + (size_t)h * hd;
                for (int j = 0; j < Nk; j++) s[j] = 0.0f;
                for (int t = 0; t < hd; t++) {
                    const float qt = qi[t], *row = kt + (size_t)t * Nk;
                    for (int j = 0; j < Nk; j++) s[j] += qt * row[j];
                }
                float mx = -INFINITY;
                for (int j = 0; j < Nk; j++) {
                    s[j] *= scale;
                    mx = s[j] > mx ? s[j] : mx;
                }
                float sum = 0.0f;
                for (int j = 0; j < Nk; j++) sum += (s[j] = expf(s[j] - mx));
                const float inv = 1.0f / sum;
                for (int t = 0; t < hd; t++) oi[t] = 0.0f;
                for (int j = 0; j < Nk; j++) {
                    const float pj = s[j] * inv, *vj = vb + (size_t)j * I;
                    for (int t = 0; t < hd; t++) oi[t] += pj * vj[t];
                }
            }
        }
    }
}

/* The official Attention module for B sequences: projections, attention,
 * output projection. q_in (Bq, Nq, d), k_in and v_in (Bk, Nk, d), with Bq
 * or Bk = 1 when shared by every prompt; out (B, Nq, d) is overwritten.
 * work holds mha_work_floats(...) floats plus the per-thread scratch. */
static void mha(const attn_weights *a, int heads, int d, int B, int Nq, int Nk, const float *q_in, int q_shared,
                const float *k_in, const float *v_in, int kv_shared, float *out, int n_threads, float *work) {
    const int I = a->internal, Bq = q_shared ? 1 : B, Bk = kv_shared ? 1 : B;
    float *q = work;                     /* (Bq, Nq, I) */
    float *k = q + (size_t)Bq * Nq * I;  /* (Bk, Nk, I) */
    float *v = k + (size_t)Bk * Nk * I;  /* (Bk, Nk, I) */
    float *o = v + (size_t)Bk * Nk * I;  /* (B, Nq, I) */
    float *ts = o + (size_t)B * Nq * I;  /* per-thread scratch */
    linear(q_in, Bq * Nq, d, a->q_w, a->q_b, I, q);
    linear(k_in, Bk * Nk, d, a->k_w, a->k_b, I, k);
    linear(v_in, Bk * Nk, d, a->v_w, a->v_b, I, v);
    attend(q, q_shared, k, v, kv_shared, o, B, heads, Nq, Nk, I, n_threads, ts);
    linear(o, B * Nq, I, a->o_w, a->o_b, d, out);
}

/* Floats of mha scratch for B sequences of Nq queries and Nk keys (or the
 * other way round, the same sum): q, k, v, o plus the per-thread scratch. */
static size_t mha_work_floats(int B, int Nq, int Nk, int I, int heads, int n_threads) {
    return (size_t)B * I * (2 * (size_t)Nq + 2 * (size_t)Nk) + (size_t)n_threads * attn_thread_floats(I / heads, Nk);
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
    const int d = c->d_model, H = c->dec_heads, Ic = d / c->dec_attn_downsample;
    size_t n = 2 * (size_t)B * T * d + 2 * (size_t)B * HW * d; /* qa, qo, ka, ko */
    size_t mlp = 2 * (size_t)B * T * (c->dec_mlp_dim > d ? c->dec_mlp_dim : d);
    size_t self = mha_work_floats(B, T, T, d, H, n_threads);
    size_t cross = mha_work_floats(B, T, HW, Ic, H, n_threads); /* covers both directions */
    size_t m = mlp > self ? mlp : self;
    return n + (m > cross ? m : cross);
}

void two_way_run(const sam2_config *c, const mask_decoder_weights *w, int B, int T, int HW, float *queries,
                 const float *qpe, float *keys, int keys_shared, const float *kpe, int n_threads, float *work) {
    const int d = c->d_model, H = c->dec_heads;
    const size_t nq = (size_t)B * T * d, per_k = (size_t)HW * d;
    float *qa = work;                          /* (B, T, d) queries + pe */
    float *qo = qa + nq;                       /* (B, T, d) attention / MLP output */
    float *ka = qo + nq;                       /* (B, HW, d) keys + pe */
    float *ko = ka + (size_t)B * per_k;        /* (B, HW, d) image-to-token output */
    float *sc = ko + (size_t)B * per_k;        /* mha / MLP scratch */
    int shared = keys_shared;
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
        add_pe(ka, keys, kpe, shared ? 1 : B, per_k, 0);
        mha(&L->t2i, H, d, B, T, HW, qa, 0, ka, keys, shared, qo, n_threads, sc);
        op_add(queries, qo, (int64_t)nq);
        op_layernorm(queries, queries, (int64_t)B * T, d, L->n2_w, L->n2_b, 1e-5f);
        dec_mlp_run(&L->mlp, queries, B * T, qo, sc);
        op_add(queries, qo, (int64_t)nq);
        op_layernorm(queries, queries, (int64_t)B * T, d, L->n3_w, L->n3_b, 1e-5f);
        /* image to token: the keys (unchanged since ka was formed) become per prompt here */
        add_pe(qa, queries, qpe, B, (size_t)T * d, 1);
        mha(&L->i2t, H, d, B, HW, T, ka, shared, qa, queries, 0, ko, n_threads, sc);
        if (shared) {
            for (int b = B - 1; b >= 0; b--) /* keys[0] is read by every b, overwritten last */
                for (size_t i = 0; i < per_k; i++) keys[b * per_k + i] = keys[i] + ko[b * per_k + i];
            shared = 0;
        } else {
            op_add(keys, ko, (int64_t)B * per_k);
        }
        op_layernorm(keys, keys, (int64_t)B * HW, d, L->n4_w, L->n4_b, 1e-5f);
    }
    add_pe(qa, queries, qpe, B, (size_t)T * d, 1);
    add_pe(ka, keys, kpe, shared ? 1 : B, per_k, 0);
    mha(&w->final_attn, H, d, B, T, HW, qa, 0, ka, keys, shared, qo, n_threads, sc);
    op_add(queries, qo, (int64_t)nq);
    op_layernorm(queries, queries, (int64_t)B * T, d, w->nf_w, w->nf_b, 1e-5f);
    if (shared) /* depth 0: every prompt's keys are the input */
        for (int b = 1; b < B; b++) memcpy(keys + b * per_k, keys, sizeof(float) * per_k);
}
