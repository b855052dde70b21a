/* mask_decoder.c - the official MaskDecoder for a batch of prompts: every
 * projection over all prompts' tokens is one GEMM. */
#include "mask_decoder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gemm.h"
#include "ops.h"

/* ---------------------------------------------------------------- binding */

static sam2_status bind_attn(wt_binder *b, attn_weights *a, int d, int internal, const char *name) {
    a->internal = internal;
    SAM2_TRY(wt_bind2(b, &a->q_w, internal, d, "%s.q_proj.weight", name));
    SAM2_TRY(wt_bind1(b, &a->q_b, internal, "%s.q_proj.bias", name));
    SAM2_TRY(wt_bind2(b, &a->k_w, internal, d, "%s.k_proj.weight", name));
    SAM2_TRY(wt_bind1(b, &a->k_b, internal, "%s.k_proj.bias", name));
    SAM2_TRY(wt_bind2(b, &a->v_w, internal, d, "%s.v_proj.weight", name));
    SAM2_TRY(wt_bind1(b, &a->v_b, internal, "%s.v_proj.bias", name));
    SAM2_TRY(wt_bind2(b, &a->o_w, d, internal, "%s.out_proj.weight", name));
    SAM2_TRY(wt_bind1(b, &a->o_b, d, "%s.out_proj.bias", name));
    return SAM2_OK;
}

static sam2_status bind_mlp(wt_binder *b, mlp_weights *m, int in, int hidden, int out, int layers, const char *name) {
    m->n_layers = layers;
    for (int i = 0; i <= layers; i++) m->dims[i] = i == 0 ? in : i == layers ? out : hidden;
    for (int i = 0; i < layers; i++) {
        SAM2_TRY(wt_bind2(b, &m->w[i], m->dims[i + 1], m->dims[i], "%s.layers.%d.weight", name, i));
        SAM2_TRY(wt_bind1(b, &m->b[i], m->dims[i + 1], "%s.layers.%d.bias", name, i));
    }
    return SAM2_OK;
}

static sam2_status bind_norm(wt_binder *b, const float **w, const float **bias, int d, const char *name) {
    SAM2_TRY(wt_bind1(b, w, d, "%s.weight", name));
    return wt_bind1(b, bias, d, "%s.bias", name);
}

sam2_status mask_decoder_bind(const sam2_config *c, wt_binder *b, mask_decoder_weights *w) {
    memset(w, 0, sizeof *w);
    const int d = c->d_model, di = d / c->dec_attn_downsample;
    if (c->dec_depth > DEC_MAX_DEPTH) return SAM2_FAIL(SAM2_ERR_CONFIG, "decoder depth %d", c->dec_depth);
    char n[256];
    for (int l = 0; l < c->dec_depth; l++) {
        twoway_layer_weights *L = &w->layers[l];
        const char *T = "sam_mask_decoder.transformer.layers";
        snprintf(n, sizeof n, "%s.%d.self_attn", T, l);
        SAM2_TRY(bind_attn(b, &L->self_attn, d, d, n));
        snprintf(n, sizeof n, "%s.%d.cross_attn_token_to_image", T, l);
        SAM2_TRY(bind_attn(b, &L->t2i, d, di, n));
        snprintf(n, sizeof n, "%s.%d.cross_attn_image_to_token", T, l);
        SAM2_TRY(bind_attn(b, &L->i2t, d, di, n));
        snprintf(n, sizeof n, "%s.%d.mlp", T, l);
        SAM2_TRY(bind_mlp(b, &L->mlp, d, c->dec_mlp_dim, d, 2, n));
        const float **nw[4] = {&L->n1_w, &L->n2_w, &L->n3_w, &L->n4_w}, **nb[4] = {&L->n1_b, &L->n2_b, &L->n3_b, &L->n4_b};
        for (int k = 0; k < 4; k++) {
            snprintf(n, sizeof n, "%s.%d.norm%d", T, l, k + 1);
            SAM2_TRY(bind_norm(b, nw[k], nb[k], d, n));
        }
    }
    SAM2_TRY(bind_attn(b, &w->final_attn, d, di, "sam_mask_decoder.transformer.final_attn_token_to_image"));
    SAM2_TRY(bind_norm(b, &w->nf_w, &w->nf_b, d, "sam_mask_decoder.transformer.norm_final_attn"));
    const int nt = c->num_multimask_outputs + 1;
    SAM2_TRY(wt_bind2(b, &w->iou_token, 1, d, "sam_mask_decoder.iou_token.weight"));
    SAM2_TRY(wt_bind2(b, &w->mask_tokens, nt, d, "sam_mask_decoder.mask_tokens.weight"));
    if (c->pred_obj_scores) SAM2_TRY(wt_bind2(b, &w->obj_token, 1, d, "sam_mask_decoder.obj_score_token.weight"));
    SAM2_TRY(wt_bind4(b, &w->up1_w, d, d / 4, 2, 2, "sam_mask_decoder.output_upscaling.0.weight"));
    SAM2_TRY(wt_bind1(b, &w->up1_b, d / 4, "sam_mask_decoder.output_upscaling.0.bias"));
    SAM2_TRY(bind_norm(b, &w->up_ln_w, &w->up_ln_b, d / 4, "sam_mask_decoder.output_upscaling.1"));
    SAM2_TRY(wt_bind4(b, &w->up2_w, d / 4, d / 8, 2, 2, "sam_mask_decoder.output_upscaling.3.weight"));
    SAM2_TRY(wt_bind1(b, &w->up2_b, d / 8, "sam_mask_decoder.output_upscaling.3.bias"));
    for (int i = 0; i < nt; i++) {
        snprintf(n, sizeof n, "sam_mask_decoder.output_hypernetworks_mlps.%d", i);
        SAM2_TRY(bind_mlp(b, &w->hyper[i], d, d, d / 8, 3, n));
    }
    SAM2_TRY(bind_mlp(b, &w->iou_head, d, c->iou_head_hidden, nt, c->iou_head_depth, "sam_mask_decoder.iou_prediction_head"));
    if (c->pred_obj_scores) {
        if (c->pred_obj_scores_mlp) {
            SAM2_TRY(bind_mlp(b, &w->obj_head, d, d, 1, 3, "sam_mask_decoder.pred_obj_score_head"));
        } else {
            w->obj_head.n_layers = 1;
            w->obj_head.dims[0] = d, w->obj_head.dims[1] = 1;
            SAM2_TRY(wt_bind2(b, &w->obj_head.w[0], 1, d, "sam_mask_decoder.pred_obj_score_head.weight"));
            SAM2_TRY(wt_bind1(b, &w->obj_head.b[0], 1, "sam_mask_decoder.pred_obj_score_head.bias"));
        }
    }
    return SAM2_OK;
}

/* ------------------------------------------------------------ computation */

/* An MLP with ReLU between layers on M rows: x (M, in) -> out (M, out). */
static sam2_status mlp_run(const mlp_weights *m, const float *x, int M, float *out) {
    int maxd = 0;
    for (int i = 0; i <= m->n_layers; i++) maxd = m->dims[i] > maxd ? m->dims[i] : maxd;
    float *a = malloc(sizeof(float) * (size_t)M * maxd), *b = malloc(sizeof(float) * (size_t)M * maxd);
    if (!a || !b) {
        free(a), free(b);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in an MLP");
    }
    const float *in = x;
    for (int i = 0; i < m->n_layers; i++) {
        float *o = i == m->n_layers - 1 ? out : (i % 2 ? b : a);
        linear(in, M, m->dims[i], m->w[i], m->b[i], m->dims[i + 1], o);
        if (i < m->n_layers - 1) op_relu(o, (int64_t)M * m->dims[i + 1]);
        in = o;
    }
    free(a), free(b);
    return SAM2_OK;
}

/* Multi-head attention for B independent sequences: q_in (B, Nq, d),
 * k_in and v_in (B, Nk, d) -> out (B, Nq, d) (overwritten). */
static sam2_status mha(const attn_weights *a, int heads, int d, int B, int Nq, int Nk, const float *q_in,
                       const float *k_in, const float *v_in, float *out) {
    const int I = a->internal, hd = I / heads;
    float *q = malloc(sizeof(float) * (size_t)B * Nq * I), *k = malloc(sizeof(float) * (size_t)B * Nk * I);
    float *v = malloc(sizeof(float) * (size_t)B * Nk * I), *o = malloc(sizeof(float) * (size_t)B * Nq * I);
    sam2_status st = SAM2_OK;
    if (!q || !k || !v || !o) {
        st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in decoder attention");
        goto done;
    }
    linear(q_in, B * Nq, d, a->q_w, a->q_b, I, q);
    linear(k_in, B * Nk, d, a->k_w, a->k_b, I, k);
    linear(v_in, B * Nk, d, a->v_w, a->v_b, I, v);
    const float scale = 1.0f / sqrtf((float)hd);
    /* one side of every decoder attention is a handful of tokens, so the
     * score rows are short: plain loops, parallel over (prompt, head, query block) */
    const int QBLK = 256, nqb = (Nq + QBLK - 1) / QBLK;
#pragma omp parallel
    {
        float *srow = malloc(sizeof(float) * (size_t)Nk);
#pragma omp for schedule(dynamic)
        for (int item = 0; item < B * heads * nqb; item++) {
            if (!srow) continue;
            int bi = item / (heads * nqb), h = (item / nqb) % heads, qb = item % nqb;
            const float *kb = k + (size_t)bi * Nk * I + h * hd, *vb = v + (size_t)bi * Nk * I + h * hd;
            int i1 = (qb + 1) * QBLK < Nq ? (qb + 1) * QBLK : Nq;
            for (int i = qb * QBLK; i < i1; i++) {
                const float *qi = q + ((size_t)bi * Nq + i) * I + h * hd;
                float *oi = o + ((size_t)bi * Nq + i) * I + h * hd;
                float mx = -INFINITY;
                for (int j = 0; j < Nk; j++) {
                    const float *kj = kb + (size_t)j * I;
                    float dot = 0.0f;
                    for (int t = 0; t < hd; t++) dot += qi[t] * kj[t];
                    srow[j] = dot * scale;
                    mx = srow[j] > mx ? srow[j] : mx;
                }
                float sum = 0.0f;
                for (int j = 0; j < Nk; j++) sum += (srow[j] = expf(srow[j] - mx));
                float inv = 1.0f / sum;
                for (int t = 0; t < hd; t++) oi[t] = 0.0f;
                for (int j = 0; j < Nk; j++) {
                    const float *vj = vb + (size_t)j * I;
                    float pj = srow[j] * inv;
                    for (int t = 0; t < hd; t++) oi[t] += pj * vj[t];
                }
            }
        }
        free(srow);
    }
    linear(o, B * Nq, I, a->o_w, a->o_b, d, out);
done:
    free(q), free(k), free(v), free(o);
    return st;
}

/* x (B, N, d) + pe, where pe is (B, N, d) or shared (N, d) when shared. */
static void add_pe(float *dst, const float *x, const float *pe, int B, int N, int d, int shared) {
    size_t per = (size_t)N * d;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (size_t i = 0; i < per; i++) dst[b * per + i] = x[b * per + i] + pe[(shared ? 0 : b * per) + i];
}

/* The two-way transformer: queries (B, T, d) and keys (B, HW, d) updated in place. */
static sam2_status two_way(const sam2_config *c, const mask_decoder_weights *w, int B, int T, int HW,
                           float *queries, const float *qpe, float *keys, const float *kpe) {
    const int d = c->d_model, H = c->dec_heads;
    size_t nq = (size_t)B * T * d, nk = (size_t)B * HW * d;
    float *qa = malloc(sizeof(float) * nq), *qo = malloc(sizeof(float) * nq);
    float *ka = malloc(sizeof(float) * nk), *ko = malloc(sizeof(float) * nk);
    float *hid = malloc(sizeof(float) * (size_t)B * T * c->dec_mlp_dim);
    sam2_status st = (qa && qo && ka && ko && hid) ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in the decoder");
    for (int l = 0; l < c->dec_depth && st == SAM2_OK; l++) {
        const twoway_layer_weights *L = &w->layers[l];
        if (l == 0) { /* skip_first_layer_pe: the attention output replaces the queries */
            st = mha(&L->self_attn, H, d, B, T, T, queries, queries, queries, qo);
            memcpy(queries, qo, sizeof(float) * nq);
        } else {
            add_pe(qa, queries, qpe, B, T, d, 0);
            st = mha(&L->self_attn, H, d, B, T, T, qa, qa, queries, qo);
            op_add(queries, qo, (int64_t)nq);
        }
        op_layernorm(queries, queries, (int64_t)B * T, d, L->n1_w, L->n1_b, 1e-5f);
        add_pe(qa, queries, qpe, B, T, d, 0);
        add_pe(ka, keys, kpe, B, HW, d, 1);
        if (st == SAM2_OK) st = mha(&L->t2i, H, d, B, T, HW, qa, ka, keys, qo);
        op_add(queries, qo, (int64_t)nq);
        op_layernorm(queries, queries, (int64_t)B * T, d, L->n2_w, L->n2_b, 1e-5f);
        if (st == SAM2_OK) st = mlp_run(&L->mlp, queries, B * T, qo);
        op_add(queries, qo, (int64_t)nq);
        op_layernorm(queries, queries, (int64_t)B * T, d, L->n3_w, L->n3_b, 1e-5f);
        add_pe(qa, queries, qpe, B, T, d, 0);
        if (st == SAM2_OK) st = mha(&L->i2t, H, d, B, HW, T, ka, qa, queries, ko);
        op_add(keys, ko, (int64_t)nk);
        op_layernorm(keys, keys, (int64_t)B * HW, d, L->n4_w, L->n4_b, 1e-5f);
    }
    if (st == SAM2_OK) {
        add_pe(qa, queries, qpe, B, T, d, 0);
        add_pe(ka, keys, kpe, B, HW, d, 1);
        st = mha(&w->final_attn, H, d, B, T, HW, qa, ka, keys, qo);
        op_add(queries, qo, (int64_t)nq);
        op_layernorm(queries, queries, (int64_t)B * T, d, w->nf_w, w->nf_b, 1e-5f);
    }
    free(qa), free(qo), free(ka), free(ko), free(hid);
    return st;
}

/* 2x2 stride-2 transposed convolution of channels-last x (h*w, Cin) with
 * weight (Cin, Cout, 2, 2) plus bias and a channels-first skip (Cout, 2h,
 * 2w): out channels-last (2h*2w, Cout). */
static sam2_status upconv(const float *x, int h, int w, int Cin, const float *wt, const float *bias, int Cout,
                          const float *skip, float *out) {
    float *y = malloc(sizeof(float) * (size_t)h * w * Cout * 4); /* (h*w, Cout*4) */
    if (!y) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in mask upscaling");
    gemm(0, 0, h * w, Cout * 4, Cin, 1.0f, x, Cin, wt, Cout * 4, 0.0f, y, Cout * 4);
    const int W2 = 2 * w, HW2 = 4 * h * w;
    for (int yy = 0; yy < h; yy++)
        for (int xx = 0; xx < w; xx++) {
            const float *src = y + ((size_t)yy * w + xx) * Cout * 4;
            for (int k = 0; k < 4; k++) {
                int py = 2 * yy + k / 2, px = 2 * xx + k % 2, p = py * W2 + px;
                float *o = out + (size_t)p * Cout;
                for (int c = 0; c < Cout; c++) o[c] = src[c * 4 + k] + bias[c] + (skip ? skip[(size_t)c * HW2 + p] : 0.0f);
            }
        }
    free(y);
    return SAM2_OK;
}

/* Output heads of one prompt: upscaled embedding, hypernetwork masks for all
 * four tokens, IoU and object score. */
static sam2_status heads(const sam2_config *c, const mask_decoder_weights *w, const float *tok, const float *keys,
                         const float *hr0, const float *hr1, float *masks, float *iou, float *obj) {
    const int d = c->d_model, g = c->image_size / c->backbone_stride, L = 4 * g, nt = c->num_multimask_outputs + 1;
    const int s = c->pred_obj_scores ? 1 : 0;
    float *u1 = malloc(sizeof(float) * (size_t)4 * g * g * (d / 4)); /* (2g*2g, d/4) */
    float *u2 = malloc(sizeof(float) * (size_t)L * L * (d / 8));     /* (L*L, d/8) */
    float *hyp = malloc(sizeof(float) * (size_t)nt * (d / 8));       /* (nt, d/8) */
    sam2_status st = (u1 && u2 && hyp) ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in the mask heads");
    if (st == SAM2_OK) st = upconv(keys, g, g, d, w->up1_w, w->up1_b, d / 4, hr1, u1);
    if (st == SAM2_OK) {
        op_layernorm(u1, u1, (int64_t)4 * g * g, d / 4, w->up_ln_w, w->up_ln_b, 1e-6f);
        op_gelu(u1, (int64_t)4 * g * g * (d / 4));
        st = upconv(u1, 2 * g, 2 * g, d / 4, w->up2_w, w->up2_b, d / 8, hr0, u2);
    }
    if (st == SAM2_OK) {
        op_gelu(u2, (int64_t)L * L * (d / 8));
        for (int i = 0; i < nt && st == SAM2_OK; i++) st = mlp_run(&w->hyper[i], tok + (size_t)(s + 1 + i) * d, 1, hyp + (size_t)i * (d / 8));
    }
    if (st == SAM2_OK) {
        /* masks (nt, L*L) = hyp (nt, d/8) @ u2^T */
        gemm(0, 1, nt, L * L, d / 8, 1.0f, hyp, d / 8, u2, d / 8, 0.0f, masks, L * L);
        st = mlp_run(&w->iou_head, tok + (size_t)s * d, 1, iou);
        if (c->iou_prediction_use_sigmoid) op_sigmoid(iou, nt);
    }
    if (st == SAM2_OK) {
        if (w->obj_head.n_layers) st = mlp_run(&w->obj_head, tok, 1, obj);
        else *obj = 10.0f;
    }
    free(u1), free(u2), free(hyp);
    return st;
}

sam2_status mask_decoder_run(const sam2_config *c, const mask_decoder_weights *w, const float *image_embed,
                             const float *image_pe, const float *hr0, const float *hr1, int B, int Ns,
                             const float *sparse, const float *dense, const float *no_mask, float *masks,
                             float *iou, float *obj) {
    const int d = c->d_model, g = c->image_size / c->backbone_stride, HW = g * g, nt = c->num_multimask_outputs + 1;
    const int s = c->pred_obj_scores ? 1 : 0, T = s + 1 + nt + Ns, L = 4 * g;
    float *queries = malloc(sizeof(float) * (size_t)B * T * d); /* (B, T, d) */
    float *qpe = malloc(sizeof(float) * (size_t)B * T * d);     /* (B, T, d) the initial tokens */
    float *keys = malloc(sizeof(float) * (size_t)B * HW * d);   /* (B, HW, d) */
    if (!queries || !qpe || !keys) {
        free(queries), free(qpe), free(keys);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in the decoder (batch of %d)", B);
    }
    for (int b = 0; b < B; b++) {
        float *t = qpe + (size_t)b * T * d;
        if (s) memcpy(t, w->obj_token, sizeof(float) * d);
        memcpy(t + (size_t)s * d, w->iou_token, sizeof(float) * d);
        memcpy(t + (size_t)(s + 1) * d, w->mask_tokens, sizeof(float) * nt * d);
        memcpy(t + (size_t)(s + 1 + nt) * d, sparse + (size_t)b * Ns * d, sizeof(float) * Ns * d);
        float *k = keys + (size_t)b * HW * d;
        for (int p = 0; p < HW; p++)
            for (int ch = 0; ch < d; ch++)
                k[(size_t)p * d + ch] = image_embed[(size_t)ch * HW + p] +
                                        (dense ? dense[((size_t)b * d + ch) * HW + p] : no_mask[ch]);
    }
    memcpy(queries, qpe, sizeof(float) * (size_t)B * T * d);
    sam2_status st = two_way(c, w, B, T, HW, queries, qpe, keys, image_pe);
    for (int b = 0; b < B && st == SAM2_OK; b++)
        st = heads(c, w, queries + (size_t)b * T * d, keys + (size_t)b * HW * d, hr0, hr1,
                   masks + (size_t)b * nt * L * L, iou + (size_t)b * nt, obj + b);
    free(queries), free(qpe), free(keys);
    return st;
}
