/* predictor.c - the image predictor: prompts in original-image pixels to
 * masks, as SAM2ImagePredictor.predict does it, one prompt or a batch. */
#include "predictor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "postprocess.h"

/* An empty prompt with multimask output on (the official default). */
sam2_prompt sam2_prompt_default(void) {
    sam2_prompt p;
    memset(&p, 0, sizeof p);
    p.multimask = 1;
    return p;
}

/* The official predictor's defaults: threshold 0, no hole / sprinkle
 * removal, binary masks only. */
sam2_predict_params sam2_predict_default_params(void) {
    sam2_predict_params p;
    memset(&p, 0, sizeof p);
    p.mask_threshold = 0.0f;
    p.want_masks = 1;
    return p;
}

/* Builds the prompt encoder's point list of prompt b: box corners (labels
 * 2, 3) first, then the clicks, then the padding point (0, 0) with label -1
 * that the official predictor always gets (it calls the prompt encoder with
 * boxes=None). Coordinates go to model-input pixels: x / w * S, y / h * S. */
static int prompt_points(const sam2_ctx *ctx, int b, int N, const float *points, const int *labels,
                         const float *boxes, float *xy, int *lab) {
    const float S = (float)ctx->model->cfg.image_size, wf = (float)ctx->orig_w, hf = (float)ctx->orig_h;
    int t = 0;
    if (boxes) {
        const float *bx = boxes + 4 * (size_t)b;
        xy[0] = bx[0] / wf * S, xy[1] = bx[1] / hf * S, lab[0] = 2;
        xy[2] = bx[2] / wf * S, xy[3] = bx[3] / hf * S, lab[1] = 3;
        t = 2;
    }
    for (int i = 0; i < N; i++, t++) {
        const float *p = points + ((size_t)b * N + i) * 2;
        xy[2 * t] = p[0] / wf * S, xy[2 * t + 1] = p[1] / hf * S;
        lab[t] = labels[(size_t)b * N + i];
    }
    if (t > 0) xy[2 * t] = 0.0f, xy[2 * t + 1] = 0.0f, lab[t] = -1, t++;
    return t;
}

/* Picks the outputs of one prompt from all mask tokens mk (nt, LL) and
 * ious ik (nt): tokens 1.. for multimask; otherwise token 0, or the best
 * multimask token by predicted IoU (first of ties) when token 0's stability
 * at +-delta is below the threshold and the config enables the fallback. */
static void select_outputs(const sam2_config *c, int multimask, const float *mk, const float *ik, size_t LL, float *lo,
                           float *io) {
    const int nt = c->num_multimask_outputs + 1;
    if (multimask) {
        memcpy(lo, mk + LL, sizeof(float) * (size_t)(nt - 1) * LL);
        memcpy(io, ik + 1, sizeof(float) * (size_t)(nt - 1));
        return;
    }
    int pick = 0;
    const float delta = c->dynamic_multimask_stability_delta;
    if (c->dynamic_multimask_via_stability && nt > 1 &&
        !(stability_score(mk, (int64_t)LL, delta, -delta, 1.0f) >= c->dynamic_multimask_stability_thresh)) {
        pick = 1;
        for (int j = 2; j < nt; j++)
            if (ik[j] > ik[pick]) pick = j;
    }
    memcpy(lo, mk + (size_t)pick * LL, sizeof(float) * LL);
    io[0] = ik[pick];
}

/* Encodes and decodes the prompts in groups sized by the decoder's memory
 * budget; the decoder scratch and the dense positional encoding are kept in
 * the context (the scratch grows when a call needs more). */
sam2_status predictor_decode(sam2_ctx *ctx, int B, int N, const float *points, const int *labels,
                             const float *boxes, const float *mask_inputs, int multimask, float *low_res,
                             float *iou, float *obj_score) {
    return predictor_decode_filtered(ctx, B, N, points, labels, boxes, mask_inputs, multimask, -INFINITY, low_res, iou,
                                     obj_score);
}

sam2_status predictor_decode_filtered(sam2_ctx *ctx, int B, int N, const float *points, const int *labels,
                                      const float *boxes, const float *mask_inputs, int multimask, float iou_floor,
                                      float *low_res, float *iou, float *obj_score) {
    if (!ctx || !ctx->has_image) return SAM2_FAIL(SAM2_ERR_STATE, "no image set");
    if (B < 0 || N < 0) return SAM2_FAIL(SAM2_ERR_PARAM, "predictor_decode: %d prompts of %d points", B, N);
    if (B == 0) return SAM2_OK;
    if ((N > 0 && (!points || !labels)) || !low_res || !iou)
        return SAM2_FAIL(SAM2_ERR_PARAM, "predictor_decode: missing points, labels or outputs");
    const sam2_model *m = ctx->model;
    const sam2_config *c = &m->cfg;
    const int d = c->d_model, g = c->image_size / c->backbone_stride, HW = g * g, L = 4 * g;
    const size_t LL = (size_t)L * L;
    const int nt = c->num_multimask_outputs + 1, M = multimask ? nt - 1 : 1;
    const int Ns = (boxes ? 2 : 0) + N + (N > 0 || boxes ? 1 : 0), n1 = Ns ? Ns : 1;
    const int nthr = ctx->n_threads > 0 ? ctx->n_threads : 1;
    const float skip_floor = multimask || isnan(iou_floor) ? iou_floor : -INFINITY; /* one output: keep all */
    int G = mask_decoder_group_size(c, Ns, !mask_inputs && nt > 1 && !isnan(skip_floor));
    if (G > B) G = B;
    mask_decoder_ws *ws = &ctx->dec_ws; /* kept in the context: fresh pages cost more than the decoder */
    float *sparse = malloc(sizeof(float) * (size_t)G * n1 * d);         /* (G, Ns, d) */
    float *dense = mask_inputs ? malloc(sizeof(float) * (size_t)G * d * HW) : NULL; /* (G, d, HW) */
    float *ious = malloc(sizeof(float) * (size_t)G * nt);               /* (G, nt) */
    float *objs = malloc(sizeof(float) * (size_t)G);                    /* (G) */
    float *masks = malloc(sizeof(float) * (size_t)G * nt * LL);         /* (G, nt, LL), written for kept prompts */
    float *xy = malloc(sizeof(float) * 2 * (size_t)n1);                 /* (Ns, 2) */
    int *lab = malloc(sizeof(int) * (size_t)n1);                        /* (Ns) */
    sam2_status st = SAM2_OK;
    if (!sparse || (mask_inputs && !dense) || !masks || !ious || !objs || !xy || !lab)
        st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory decoding %d prompts", B);
    if (st == SAM2_OK && (!ws->buf || ws->max_B < G || ws->Ns < Ns || ws->n_threads < nthr)) {
        int keep_B = ws->max_B > G ? ws->max_B : G, keep_Ns = ws->Ns > Ns ? ws->Ns : Ns;
        mask_decoder_ws_free(ws);
        st = mask_decoder_ws_init(c, &m->md, keep_B, keep_Ns, nthr, ws);
    }
    if (st == SAM2_OK && !ws->image_pe_ready) {
        prompt_dense_pe(c, &m->pe, ws->image_pe);
        ws->image_pe_ready = 1;
    }
    for (int b0 = 0; b0 < B && st == SAM2_OK; b0 += G) {
        const int nb = B - b0 < G ? B - b0 : G;
        for (int k = 0; k < nb && st == SAM2_OK; k++) {
            prompt_points(ctx, b0 + k, N, points, labels, boxes, xy, lab);
            prompt_embed_sparse(c, &m->pe, xy, lab, Ns, sparse + (size_t)k * Ns * d);
            if (mask_inputs)
                st = prompt_embed_mask(c, &m->pe, mask_inputs + (size_t)(b0 + k) * LL, dense + (size_t)k * d * HW);
        }
        if (st == SAM2_OK)
            st = mask_decoder_run(c, &m->md, ctx->enc.image_embed, ws->image_pe, ctx->enc.high_res[0], ctx->enc.high_res[1], nb,
                                  Ns, sparse, dense, m->pe.no_mask, masks, ious, obj_score ? objs : NULL, ws,
                                  skip_floor);
        for (int k = 0; k < nb && st == SAM2_OK; k++) {
            const int b = b0 + k;
            if (ws->keep[k]) {
                select_outputs(c, multimask, masks + (size_t)k * nt * LL, ious + (size_t)k * nt, LL,
                               low_res + (size_t)b * M * LL, iou + (size_t)b * M);
            } else { /* below the floor: IoUs only, zero logits */
                memset(low_res + (size_t)b * M * LL, 0, sizeof(float) * (size_t)M * LL);
                memcpy(iou + (size_t)b * M, ious + (size_t)k * nt + 1, sizeof(float) * (size_t)M);
            }
            if (obj_score) obj_score[b] = objs[k];
        }
    }
    free(sparse), free(dense), free(masks), free(ious), free(objs), free(xy), free(lab);
    return st;
}

/* Checks one prompt: finite coordinates, labels 0/1, a box with x0 <= x1
 * and y0 <= y1, a finite mask input, something to segment. Points outside
 * the image are accepted, as the official predictor accepts them. */
static sam2_status check_prompt(const sam2_ctx *ctx, const sam2_prompt *p) {
    if (p->n_points < 0) return SAM2_FAIL(SAM2_ERR_PARAM, "negative number of points");
    if (p->n_points > 0 && (!p->points || !p->labels)) return SAM2_FAIL(SAM2_ERR_PARAM, "points given without coordinates or labels");
    if (!p->n_points && !p->has_box && !p->mask_input)
        return SAM2_FAIL(SAM2_ERR_PARAM, "empty prompt: give points, a box or a mask input");
    for (int i = 0; i < p->n_points; i++) {
        if (!isfinite(p->points[2 * i]) || !isfinite(p->points[2 * i + 1]))
            return SAM2_FAIL(SAM2_ERR_PARAM, "point %d has a non-finite coordinate", i);
        if (p->labels[i] != 0 && p->labels[i] != 1)
            return SAM2_FAIL(SAM2_ERR_PARAM, "point %d has label %d (1 foreground, 0 background)", i, p->labels[i]);
    }
    if (p->has_box) {
        for (int k = 0; k < 4; k++)
            if (!isfinite(p->box[k])) return SAM2_FAIL(SAM2_ERR_PARAM, "box has a non-finite coordinate");
        if (p->box[2] < p->box[0] || p->box[3] < p->box[1])
            return SAM2_FAIL(SAM2_ERR_PARAM, "box (%g, %g, %g, %g) has x1 < x0 or y1 < y0", p->box[0], p->box[1], p->box[2], p->box[3]);
    }
    if (p->mask_input) {
        const int L = ctx->model->cfg.image_size / 4;
        for (size_t i = 0; i < (size_t)L * L; i++)
            if (!isfinite(p->mask_input[i]))
                return SAM2_FAIL(SAM2_ERR_PARAM, "mask input has a non-finite value at (%zu, %zu)", i / L, i % L);
    }
    return SAM2_OK;
}

/* SAM2ImagePredictor.predict for one prompt (see sam2.h). */
sam2_status sam2_predict(sam2_ctx *ctx, const sam2_prompt *prompt, const sam2_predict_params *params,
                         sam2_prediction *out) {
    if (!ctx || !prompt || !out) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_predict: NULL argument");
    memset(out, 0, sizeof *out);
    if (!ctx->has_image) return SAM2_FAIL(SAM2_ERR_STATE, "no image set: call sam2_set_image or sam2_embedding_load first");
    SAM2_TRY(check_prompt(ctx, prompt));
    sam2_predict_params defaults = sam2_predict_default_params();
    if (!params) params = &defaults;
    if (!isfinite(params->mask_threshold)) return SAM2_FAIL(SAM2_ERR_PARAM, "mask_threshold is not finite");
    if (params->max_hole_area < 0 || params->max_sprinkle_area < 0)
        return SAM2_FAIL(SAM2_ERR_PARAM, "max_hole_area and max_sprinkle_area must not be negative");
    const int L = ctx->model->cfg.image_size / 4, M = prompt->multimask ? ctx->model->cfg.num_multimask_outputs : 1;
    const int w = ctx->orig_w, h = ctx->orig_h;
    const size_t LL = (size_t)L * L, WH = (size_t)w * h;
    out->n_masks = M;
    out->low_res_size = L;
    out->width = w, out->height = h;
    out->low_res = malloc(sizeof(float) * M * LL);
    float *lr = malloc(sizeof(float) * LL);  /* (L, L) one mask's logits after hole / sprinkle removal */
    float *up = malloc(sizeof(float) * WH);  /* (h, w) upsampled logits */
    if (!out->low_res || !lr || !up) {
        free(lr), free(up);
        sam2_prediction_free(out);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d masks of %d x %d", M, w, h);
    }
    sam2_status st = predictor_decode(ctx, 1, prompt->n_points, prompt->points, prompt->labels,
                                      prompt->has_box ? prompt->box : NULL, prompt->mask_input, prompt->multimask,
                                      out->low_res, out->iou, &out->object_score);
    if (st == SAM2_OK && params->want_masks) {
        out->masks = malloc((size_t)M * WH);
        if (!out->masks) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d masks of %d x %d", M, w, h);
    }
    if (st == SAM2_OK && params->want_logits) {
        out->logits = malloc(sizeof(float) * M * WH);
        if (!out->logits) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d logit maps of %d x %d", M, w, h);
    }
    /* official order: postprocess the unclamped logits (holes, sprinkles,
     * resize), threshold; the returned low-res logits are the decoder's own,
     * clamped, without the hole / sprinkle changes */
    for (int k = 0; k < M && st == SAM2_OK && (out->masks || out->logits); k++) {
        memcpy(lr, out->low_res + k * LL, sizeof(float) * LL);
        st = fill_holes_and_sprinkles(lr, L, L, params->mask_threshold, params->max_hole_area, params->max_sprinkle_area);
        /* PyTorch resizes a one-mask (1, 1, L, L) tensor with its channels-last kernel */
        if (st == SAM2_OK) st = M == 1 ? upsample_bilinear_4w(lr, L, L, up, h, w) : upsample_bilinear(lr, L, L, up, h, w);
        if (st != SAM2_OK) break;
        if (out->masks) {
            uint8_t *mk = out->masks + k * WH;
            for (size_t i = 0; i < WH; i++) mk[i] = up[i] > params->mask_threshold;
        }
        if (out->logits) memcpy(out->logits + k * WH, up, sizeof(float) * WH);
    }
    for (size_t i = 0; i < M * LL; i++) { /* torch.clamp: NaN stays NaN */
        float v = out->low_res[i];
        out->low_res[i] = v > 32.0f ? 32.0f : v < -32.0f ? -32.0f : v;
    }
    free(lr), free(up);
    if (st != SAM2_OK) sam2_prediction_free(out);
    return st;
}

/* Checks and packs n like-shaped prompts into one predictor_decode call;
 * outputs are the clamped low-res logits only. */
sam2_status sam2_predict_batch(sam2_ctx *ctx, const sam2_prompt *prompts, int n, sam2_prediction *out) {
    if (!ctx || (!prompts && n) || (!out && n) || n < 0) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_predict_batch: bad arguments");
    if (!ctx->has_image) return SAM2_FAIL(SAM2_ERR_STATE, "no image set");
    if (n == 0) return SAM2_OK;
    memset(out, 0, sizeof *out * (size_t)n);
    const int N = prompts[0].n_points, box = prompts[0].has_box, mm = prompts[0].multimask, mi = prompts[0].mask_input != NULL;
    for (int i = 0; i < n; i++) {
        sam2_status cs = check_prompt(ctx, &prompts[i]);
        if (cs != SAM2_OK) {
            sam2_error_prefix("prompt %d", i);
            return cs;
        }
        if (prompts[i].n_points != N || prompts[i].has_box != box || prompts[i].multimask != mm || (prompts[i].mask_input != NULL) != mi)
            return SAM2_FAIL(SAM2_ERR_PARAM, "batched prompts must have the same number of points, box, mask-input and multimask settings (prompt %d differs)", i);
    }
    const int L = ctx->model->cfg.image_size / 4, M = mm ? ctx->model->cfg.num_multimask_outputs : 1;
    const size_t LL = (size_t)L * L;
    float *pts = malloc(sizeof(float) * 2 * (size_t)n * (N ? N : 1)), *bx = malloc(sizeof(float) * 4 * (size_t)n);
    int *lab = malloc(sizeof(int) * (size_t)n * (N ? N : 1));
    float *mask_in = mi ? malloc(sizeof(float) * LL * n) : NULL;
    float *lo = malloc(sizeof(float) * LL * M * n), *iou = malloc(sizeof(float) * (size_t)M * n), *obj = malloc(sizeof(float) * n);
    sam2_status st = (pts && bx && lab && (!mi || mask_in) && lo && iou && obj) ? SAM2_OK
                                                                               : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n && st == SAM2_OK; i++) {
        if (N) memcpy(pts + 2 * (size_t)i * N, prompts[i].points, sizeof(float) * 2 * N);
        if (N) memcpy(lab + (size_t)i * N, prompts[i].labels, sizeof(int) * N);
        memcpy(bx + 4 * (size_t)i, prompts[i].box, sizeof(float) * 4);
        if (mi) memcpy(mask_in + LL * i, prompts[i].mask_input, sizeof(float) * LL);
    }
    if (st == SAM2_OK) st = predictor_decode(ctx, n, N, pts, lab, box ? bx : NULL, mask_in, mm, lo, iou, obj);
    for (int i = 0; i < n && st == SAM2_OK; i++) {
        sam2_prediction *p = &out[i];
        p->n_masks = M, p->low_res_size = L, p->width = ctx->orig_w, p->height = ctx->orig_h;
        p->object_score = obj[i];
        memcpy(p->iou, iou + (size_t)i * M, sizeof(float) * M);
        p->low_res = malloc(sizeof(float) * LL * M);
        if (!p->low_res) {
            st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t k = 0; k < LL * M; k++) {
            float v = lo[LL * M * i + k];
            p->low_res[k] = v > 32.0f ? 32.0f : v < -32.0f ? -32.0f : v;
        }
    }
    if (st != SAM2_OK)
        for (int i = 0; i < n; i++) sam2_prediction_free(&out[i]);
    free(pts), free(bx), free(lab), free(mask_in), free(lo), free(iou), free(obj);
    return st;
}

/* Frees the arrays of a prediction and NULLs them (NULL accepted). */
void sam2_prediction_free(sam2_prediction *p) {
    if (!p) return;
    free(p->low_res);
    free(p->masks);
    free(p->logits);
    p->low_res = NULL, p->masks = NULL, p->logits = NULL;
}
