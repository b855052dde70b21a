/* mask_decoder.c - the official MaskDecoder for a batch of prompts: every
 * projection over all prompts' tokens is one GEMM. */
#include "mask_decoder.h"

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gemm.h"
#include "hugemem.h"
#include "ops.h"
#include "two_way_implicit.h"
#include "two_way_transformer.h"

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
    if (nt > 4) return SAM2_FAIL(SAM2_ERR_CONFIG, "%d multimask outputs (at most 3 supported)", nt - 1);
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

/* Floats of the per-prompt mask head's first product, whole (d, HW), or
 * the implicit form's Z (d, K < d) and before it twi_src_times's scratch
 * (d, d): small grids have HW below d. */
static size_t first_floats(int d, int g) { return (size_t)d * (g * g > d ? g * g : d); }

/* The mask head's first product and mask_head_run's scratch. */
static size_t heads_floats(const mask_decoder_ws *ws, int d, int g, int nt, int n_threads) {
    return first_floats(d, g) + mask_head_scratch_floats(&ws->head, g, nt, n_threads);
}

/* Floats of the token-side heads for B prompts: gathered rows (B, d), the
 * hypernetwork outputs (B, nt, d/8), IoU logits (B, nt) and the widest MLP's
 * scratch. */
static size_t token_heads_floats(const mask_decoder_weights *w, int nt, int d, int B) {
    size_t m = dec_mlp_work_floats(&w->iou_head, B);
    for (int i = 0; i < nt; i++) {
        size_t h = dec_mlp_work_floats(&w->hyper[i], B);
        m = h > m ? h : m;
    }
    if (w->obj_head.n_layers) {
        size_t o = dec_mlp_work_floats(&w->obj_head, B);
        m = o > m ? o : m;
    }
    return (size_t)B * d + (size_t)B * nt * (d / 8) + (size_t)B * nt + m;
}

/* Everything mask_decoder_run needs for max_B prompts of Ns sparse tokens. */
static size_t ws_floats(const sam2_config *c, const mask_decoder_weights *w, const mask_decoder_ws *ws, int max_B,
                        int Ns, int n_threads) {
    const int d = c->d_model, g = c->image_size / c->backbone_stride, HW = g * g;
    const int nt = c->num_multimask_outputs + 1, T = (c->pred_obj_scores ? 1 : 0) + 1 + nt + Ns;
    size_t tw = two_way_work_floats(c, max_B, T, HW, n_threads), hd = heads_floats(ws, d, g, nt, n_threads);
    return 2 * (size_t)max_B * T * d + (size_t)max_B * HW * d + token_heads_floats(w, nt, d, max_B) +
           (tw > hd ? tw : hd);
}

sam2_status mask_decoder_ws_init(const sam2_config *c, const mask_decoder_weights *w, int max_B, int Ns, int n_threads,
                                 mask_decoder_ws *ws) {
    memset(ws, 0, sizeof *ws);
    if (max_B <= 0 || Ns < 0 || n_threads <= 0)
        return SAM2_FAIL(SAM2_ERR_PARAM, "decoder scratch for %d prompts, %d tokens, %d threads", max_B, Ns, n_threads);
    const int g = c->image_size / c->backbone_stride, d = c->d_model;
    SAM2_TRY(mask_head_init(d, w->up1_w, w->up1_b, w->up_ln_w, w->up_ln_b, w->up2_w, w->up2_b, &ws->head));
    size_t n = ws_floats(c, w, ws, max_B, Ns, n_threads);
    /* hundreds of MiB touched once per context: 2 MiB pages spare the
     * first-touch faults (see hugemem.h) */
    ws->buf = huge_alloc(sizeof(float) * n);
    ws->image_pe = malloc(sizeof(float) * (size_t)g * g * d);
    const size_t nc = (size_t)g * g * (d / c->dec_attn_downsample);
    ws->cache.t2i_kt = malloc(sizeof(float) * nc);
    ws->cache.t2i_vt = malloc(sizeof(float) * nc);
    ws->cache.i2t_q = malloc(sizeof(float) * nc);
    ws->keep = malloc((size_t)max_B);
    ws->skips = malloc(sizeof(float) * mask_head_skip_floats(&ws->head, g));
    int pe_ok = ws->keep && ws->skips;
    const int HW = g * g, T1 = (c->pred_obj_scores ? 1 : 0) + 2 + c->num_multimask_outputs + 1;
    if (twi_applies(c, T1, HW)) { /* prompts without mask input keep their image tokens implicit */
        ws->cache.ix = huge_alloc(sizeof(float) * twi_image_floats(c, HW));
        ws->cache.up_src = malloc(sizeof(float) * (size_t)HW * c->d_model);
        pe_ok = pe_ok && ws->cache.ix && ws->cache.up_src;
    }
    for (int l = 1; l <= c->dec_depth; l++) {
        pe_ok = pe_ok && (ws->cache.pe_t2i_kt[l] = malloc(sizeof(float) * nc));
        if (l < c->dec_depth) pe_ok = pe_ok && (ws->cache.pe_i2t_q[l] = malloc(sizeof(float) * nc));
    }
    if (!ws->buf || !ws->image_pe || !ws->cache.t2i_kt || !ws->cache.t2i_vt ||
        !ws->cache.i2t_q || !pe_ok) {
        mask_decoder_ws_free(ws);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the decoder scratch (%zu MB)", n * 4 >> 20);
    }
    ws->n_floats = n, ws->max_B = max_B, ws->Ns = Ns, ws->n_threads = n_threads;
    return SAM2_OK;
}

void mask_decoder_ws_free(mask_decoder_ws *ws) {
    if (!ws) return;
    free(ws->buf);
    free(ws->image_pe);
    free(ws->keep);
    free(ws->cache.up_src);
    free(ws->cache.ix);
    free(ws->skips);
    mask_head_free(&ws->head);
    free(ws->cache.t2i_kt), free(ws->cache.t2i_vt), free(ws->cache.i2t_q);
    for (int l = 0; l <= DEC_MAX_DEPTH; l++) free(ws->cache.pe_t2i_kt[l]);
    for (int l = 0; l < DEC_MAX_DEPTH; l++) free(ws->cache.pe_i2t_q[l]);
    memset(ws, 0, sizeof *ws);
}

int mask_decoder_group_size(const sam2_config *c, int Ns, int implicit) {
    const int d = c->d_model, g = c->image_size / c->backbone_stride, HW = g * g;
    const int T = (c->pred_obj_scores ? 1 : 0) + 1 + c->num_multimask_outputs + 1 + Ns;
    size_t per;
    if (implicit && twi_applies(c, T, HW)) /* a prompt touches its state and its masks only */
        per = (size_t)HW * d + (size_t)(c->num_multimask_outputs + 1) * 16 * HW + 2 * (size_t)T * d;
    else
        per = two_way_work_floats(c, 2, T, HW, 1) - two_way_work_floats(c, 1, T, HW, 1) + (size_t)HW * d +
              2 * (size_t)T * d;
    size_t n = ((size_t)16 << 20) / (per ? per : 1);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

sam2_status mask_decoder_run(const sam2_config *c, const mask_decoder_weights *w, const float *image_embed,
                             const float *image_pe, const float *hr0, const float *hr1, int B, int Ns,
                             const float *sparse, const float *dense, const float *no_mask, float *masks,
                             float *iou, float *obj, mask_decoder_ws *ws, float skip_floor) {
    if (!ws || !ws->buf || B > ws->max_B || Ns > ws->Ns)
        return SAM2_FAIL(SAM2_ERR_PARAM, "decoder scratch too small for %d prompts of %d tokens", B, Ns);
    if ((hr0 == NULL) != (hr1 == NULL))
        return SAM2_FAIL(SAM2_ERR_PARAM, "the decoder takes both high-resolution feature maps or neither");
    if (B <= 0) return SAM2_OK;
    const int d = c->d_model, g = c->image_size / c->backbone_stride, HW = g * g, L = 4 * g;
    const int nt = c->num_multimask_outputs + 1, s = c->pred_obj_scores ? 1 : 0, T = s + 1 + nt + Ns;
    const int Tmax = s + 1 + nt + ws->Ns, Bm = ws->max_B, dh = d / 8;
    float *queries = ws->buf;                          /* (B, T, d) */
    float *qpe = queries + (size_t)Bm * Tmax * d;      /* (B, T, d) the initial tokens */
    float *keys = qpe + (size_t)Bm * Tmax * d;         /* (B, HW, d) image tokens */
    float *rows = keys + (size_t)Bm * HW * d;          /* (B, d) gathered token rows */
    float *hyp = rows + (size_t)Bm * d;                /* (B, nt, d/8) */
    float *iou_raw = hyp + (size_t)Bm * nt * dh;       /* (B, nt) */
    unsigned char *keep = ws->keep;                    /* (B) prompts whose masks are computed */
    float *mlp_ws = iou_raw + (size_t)Bm * nt;         /* MLP scratch */
    size_t tw = two_way_work_floats(c, Bm, Tmax, HW, ws->n_threads), hf = heads_floats(ws, d, g, nt, ws->n_threads);
    float *big = ws->buf + ws->n_floats - (tw > hf ? tw : hf); /* transformer, then heads scratch */
    for (int b = 0; b < B; b++) {
        float *t = qpe + (size_t)b * T * d;
        if (s) memcpy(t, w->obj_token, sizeof(float) * d);
        memcpy(t + (size_t)s * d, w->iou_token, sizeof(float) * d);
        memcpy(t + (size_t)(s + 1) * d, w->mask_tokens, sizeof(float) * nt * d);
        memcpy(t + (size_t)(s + 1 + nt) * d, sparse + (size_t)b * Ns * d, sizeof(float) * Ns * d);
    }
    memcpy(queries, qpe, sizeof(float) * (size_t)B * T * d);
    /* src = image_embed + dense prompt embedding, as tokens (HW, d); not
     * needed when implicit tokens of this image are ready */
    const int ready = !dense && !isnan(skip_floor) && nt > 1 && ws->cache.valid && ws->cache.ix && ws->cache.ix_valid &&
                      twi_applies(c, T, HW);
    const int nb = dense ? B : ready ? 0 : 1;
#pragma omp parallel for collapse(2) schedule(static) num_threads(ws->n_threads)
    for (int b = 0; b < nb; b++)
        for (int p = 0; p < HW; p++) {
            float *k = keys + ((size_t)b * HW + p) * d;
            if (dense)
                for (int ch = 0; ch < d; ch++)
                    k[ch] = image_embed[(size_t)ch * HW + p] + dense[((size_t)b * d + ch) * HW + p];
            else
                for (int ch = 0; ch < d; ch++) k[ch] = image_embed[(size_t)ch * HW + p] + no_mask[ch];
        }
    /* The final attention of the mask tokens (each token attends on its
     * own) waits until the IoU token has passed the floor, and runs prompt
     * by prompt, so that a prompt's masks do not depend on which others
     * passed. */
    const int early = nt > 1 && !isnan(skip_floor);
    /* with a floor most prompts of a grid stop at their IoU: their image
     * tokens stay implicit (formed only for the kept ones) */
    const int implicit = two_way_run_mode(c, w, B, T, HW, queries, qpe, keys, dense == NULL, image_pe, ws->n_threads,
                                          big, early ? 2 : 1, &ws->cache, 0);
    /* the IoU token on its own (so that its result does not depend on
     * whether the object score is asked for), then the object-score token */
    two_way_final(c, w, B, T, HW, queries, qpe, keys, image_pe, s, 1, ws->n_threads, big, &ws->cache, implicit);
    if (s && obj) two_way_final(c, w, B, T, HW, queries, qpe, keys, image_pe, 0, 1, ws->n_threads, big, &ws->cache, implicit);
    for (int b = 0; b < B; b++) memcpy(rows + (size_t)b * d, queries + ((size_t)b * T + s) * d, sizeof(float) * d);
    dec_mlp_run(&w->iou_head, rows, B, iou_raw, mlp_ws);
    if (c->iou_prediction_use_sigmoid) op_sigmoid(iou_raw, (int64_t)B * nt);
    memcpy(iou, iou_raw, sizeof(float) * (size_t)B * nt);
    if (!obj) {
        /* not asked for */
    } else if (w->obj_head.n_layers) {
        for (int b = 0; b < B; b++) memcpy(rows + (size_t)b * d, queries + (size_t)b * T * d, sizeof(float) * d);
        dec_mlp_run(&w->obj_head, rows, B, obj, mlp_ws);
    } else {
        for (int b = 0; b < B; b++) obj[b] = 10.0f;
    }
    for (int b = 0; b < B; b++) {
        int skip = early && skip_floor > -INFINITY;
        for (int j = 1; j < nt && skip; j++) skip = !(iou[(size_t)b * nt + j] > skip_floor);
        keep[b] = !skip;
        if (!skip)
            two_way_final(c, w, 1, T, HW, queries + (size_t)b * T * d, qpe + (size_t)b * T * d, keys + (size_t)b * HW * d,
                          image_pe, s + 1, nt, ws->n_threads, big, &ws->cache, implicit);
    }
    /* hypernetworks, batched over prompts (rows of skipped prompts unused) */
    for (int i = 0; i < nt; i++) {
        for (int b = 0; b < B; b++) memcpy(rows + (size_t)b * d, queries + ((size_t)b * T + s + 1 + i) * d, sizeof(float) * d);
        dec_mlp_run(&w->hyper[i], rows, B, big, mlp_ws);
        for (int b = 0; b < B; b++) memcpy(hyp + ((size_t)b * nt + i) * dh, big + (size_t)b * dh, sizeof(float) * dh);
    }
    /* masks of the kept prompts: the first upscaling's product whole, or
     * from the implicit state (the shared part once per image) */
    float *first_buf = big, *head_ws = big + first_floats(d, g);
    int any = 0;
    for (int b = 0; b < B; b++) any |= keep[b];
    if (any && hr0 && (!ws->skips_valid || ws->skips_of[0] != hr0 || ws->skips_of[1] != hr1)) {
        mask_head_skips(&ws->head, g, hr0, hr1, ws->skips);
        ws->skips_of[0] = hr0, ws->skips_of[1] = hr1, ws->skips_valid = 1;
    }
    for (int b = 0; b < B; b++) {
        if (!keep[b]) continue;
        const float *kb = keys + (size_t)b * HW * d;
        mask_head_first first = {0};
        if (implicit) {
            if (!ws->cache.up_valid) {
                twi_src_times(c, HW, &ws->cache, ws->head.w1t, d, ws->cache.up_src, first_buf);
                ws->cache.up_valid = 1;
            }
            twi_tokens_times(c, HW, kb, ws->head.w1t, d, first_buf, &first.alpha, &first.L, &first.K);
            first.shared = ws->cache.up_src, first.Z = first_buf;
        } else {
            gemm(0, 1, d, HW, d, 1.0f, ws->head.w1t, d, kb, d, 0.0f, first_buf, HW);
            first.full = first_buf;
        }
        mask_head_run(&ws->head, g, &first, hr0 ? ws->skips : NULL, hyp + (size_t)b * nt * dh, nt, masks + (size_t)b * nt * L * L,
                      head_ws, ws->n_threads);
    }
    return SAM2_OK;
}
