/* predictor.c - the image predictor: prompts in original-image pixels to
 * masks, as SAM2ImagePredictor.predict does it, one prompt or a batch. */
#include "predictor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "postprocess.h"

/* Prompts decoded together per mask_decoder_run call: bounds the memory of
 * the per-prompt image tokens (64 x 64 x 256 floats each at S = 1024). */
#define DECODE_CHUNK 16

sam2_prompt sam2_prompt_default(void) {
    sam2_prompt p;
    memset(&p, 0, sizeof p);
    p.multimask = 1;
    return p;
}

sam2_predict_params sam2_predict_default_params(void) {
    sam2_predict_params p;
    memset(&p, 0, sizeof p);
    p.mask_threshold = 0.0f;
    p.want_masks = 1;
    return p;
}

/* Stability of logits at +-delta, 1 when nothing is above -delta. */
static float stability(const float *l, int n, float delta) {
    int inter = 0, uni = 0;
    for (int i = 0; i < n; i++) {
        inter += l[i] > delta;
        uni += l[i] > -delta;
    }
    return uni > 0 ? (float)inter / (float)uni : 1.0f;
}

sam2_status predictor_decode(sam2_ctx *ctx, int B, int N, const float *points, const int *labels,
                             const float *boxes, const float *mask_inputs, int multimask, float *low_res,
                             float *iou, float *obj_score) {
    if (!ctx || !ctx->has_image) return SAM2_FAIL(SAM2_ERR_STATE, "no image set");
    if (B <= 0) return SAM2_OK;
    const sam2_model *m = ctx->model;
    const sam2_config *c = &m->cfg;
    const int d = c->d_model, S = c->image_size, g = S / c->backbone_stride, L = 4 * g, LL = L * L;
    const int nt = c->num_multimask_outputs + 1, M = multimask ? nt - 1 : 1;
    const int has_any = N > 0 || boxes != NULL;
    const int Ns = (boxes ? 2 : 0) + N + (has_any ? 1 : 0);
    const float sx = (float)S, wf = (float)ctx->orig_w, hf = (float)ctx->orig_h;
    float *pe = malloc(sizeof(float) * (size_t)g * g * d);                  /* (g*g, d) */
    float *sparse = malloc(sizeof(float) * (size_t)DECODE_CHUNK * (Ns ? Ns : 1) * d); /* (chunk, Ns, d) */
    float *dense = mask_inputs ? malloc(sizeof(float) * (size_t)DECODE_CHUNK * d * g * g) : NULL;
    float *masks = malloc(sizeof(float) * (size_t)DECODE_CHUNK * nt * LL);  /* (chunk, nt, L*L) */
    float *ious = malloc(sizeof(float) * (size_t)DECODE_CHUNK * nt);
    float *objs = malloc(sizeof(float) * DECODE_CHUNK);
    float *xy = malloc(sizeof(float) * 2 * (size_t)(Ns ? Ns : 1));
    int *lab = malloc(sizeof(int) * (size_t)(Ns ? Ns : 1));
    sam2_status st = SAM2_OK;
    if (!pe || !sparse || (mask_inputs && !dense) || !masks || !ious || !objs || !xy || !lab) {
        st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory decoding %d prompts", B);
        goto done;
    }
    prompt_dense_pe(c, &m->pe, pe);
    for (int b0 = 0; b0 < B && st == SAM2_OK; b0 += DECODE_CHUNK) {
        int nb = B - b0 < DECODE_CHUNK ? B - b0 : DECODE_CHUNK;
        for (int k = 0; k < nb && st == SAM2_OK; k++) {
            int b = b0 + k, t = 0;
            /* box corners first (labels 2, 3), then clicks, then the padding point */
            if (boxes) {
                const float *bx = boxes + 4 * (size_t)b;
                xy[0] = bx[0] / wf * sx, xy[1] = bx[1] / hf * sx, lab[0] = 2;
                xy[2] = bx[2] / wf * sx, xy[3] = bx[3] / hf * sx, lab[1] = 3;
                t = 2;
            }
            for (int i = 0; i < N; i++, t++) {
                const float *p = points + ((size_t)b * N + i) * 2;
                xy[2 * t] = p[0] / wf * sx, xy[2 * t + 1] = p[1] / hf * sx;
                lab[t] = labels[(size_t)b * N + i];
            }
            if (has_any) xy[2 * t] = 0, xy[2 * t + 1] = 0, lab[t] = -1;
            prompt_embed_sparse(c, &m->pe, xy, lab, Ns, sparse + (size_t)k * Ns * d);
            if (mask_inputs) st = prompt_embed_mask(c, &m->pe, mask_inputs + (size_t)b * LL, dense + (size_t)k * d * g * g);
        }
        if (st == SAM2_OK)
            st = mask_decoder_run(c, &m->md, ctx->enc.image_embed, pe, ctx->enc.high_res[0], ctx->enc.high_res[1], nb,
                                  Ns, sparse, dense, m->pe.no_mask, masks, ious, objs);
        for (int k = 0; k < nb && st == SAM2_OK; k++) {
            int b = b0 + k;
            const float *mk = masks + (size_t)k * nt * LL, *ik = ious + (size_t)k * nt;
            float *lo = low_res + (size_t)b * M * LL, *io = iou + (size_t)b * M;
            if (obj_score) obj_score[b] = objs[k];
            if (multimask) {
                memcpy(lo, mk + LL, sizeof(float) * (size_t)(nt - 1) * LL);
                memcpy(io, ik + 1, sizeof(float) * (nt - 1));
                continue;
            }
            int pick = 0;
            if (c->dynamic_multimask_via_stability &&
                stability(mk, LL, c->dynamic_multimask_stability_delta) < c->dynamic_multimask_stability_thresh) {
                pick = 1; /* best multimask token by predicted IoU (first of ties) */
                for (int j = 2; j < nt; j++)
                    if (ik[j] > ik[pick]) pick = j;
            }
            memcpy(lo, mk + (size_t)pick * LL, sizeof(float) * LL);
            io[0] = ik[pick];
        }
    }
done:
    free(pe), free(sparse), free(dense), free(masks), free(ious), free(objs), free(xy), free(lab);
    return st;
}

/* Checks one prompt against the image: finite coordinates, labels 0/1, a
 * box with x0 <= x1 and y0 <= y1, something to segment. */
static sam2_status check_prompt(const sam2_prompt *p) {
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
    return SAM2_OK;
}

sam2_status sam2_predict(sam2_ctx *ctx, const sam2_prompt *prompt, const sam2_predict_params *params,
                         sam2_prediction *out) {
    if (!ctx || !prompt || !out) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_predict: NULL argument");
    memset(out, 0, sizeof *out);
    if (!ctx->has_image) return SAM2_FAIL(SAM2_ERR_STATE, "no image set: call sam2_set_image or sam2_embedding_load first");
    SAM2_TRY(check_prompt(prompt));
    sam2_predict_params defaults = sam2_predict_default_params();
    if (!params) params = &defaults;
    if (!isfinite(params->mask_threshold)) return SAM2_FAIL(SAM2_ERR_PARAM, "mask_threshold is not finite");
    if (params->max_hole_area < 0 || params->max_sprinkle_area < 0)
        return SAM2_FAIL(SAM2_ERR_PARAM, "max_hole_area and max_sprinkle_area must not be negative");
    if (prompt->mask_input) {
        const int LL = ctx->model->cfg.image_size / 4 * (ctx->model->cfg.image_size / 4);
        for (int i = 0; i < LL; i++)
            if (!isfinite(prompt->mask_input[i])) return SAM2_FAIL(SAM2_ERR_PARAM, "mask input has non-finite values");
    }
    const int L = ctx->model->cfg.image_size / 4, M = prompt->multimask ? ctx->model->cfg.num_multimask_outputs : 1;
    const int w = ctx->orig_w, h = ctx->orig_h;
    out->n_masks = M;
    out->low_res_size = L;
    out->width = w, out->height = h;
    out->low_res = malloc(sizeof(float) * (size_t)M * L * L);
    float *up = malloc(sizeof(float) * (size_t)w * h);
    if (!out->low_res || !up) {
        free(up);
        sam2_prediction_free(out);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d masks of %d x %d", M, w, h);
    }
    sam2_status st = predictor_decode(ctx, 1, prompt->n_points, prompt->points, prompt->labels,
                                      prompt->has_box ? prompt->box : NULL, prompt->mask_input, prompt->multimask,
                                      out->low_res, out->iou, &out->object_score);
    if (st == SAM2_OK && params->want_masks) {
        out->masks = malloc((size_t)M * w * h);
        if (!out->masks) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for masks");
    }
    if (st == SAM2_OK && params->want_logits) {
        out->logits = malloc(sizeof(float) * (size_t)M * w * h);
        if (!out->logits) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for logits");
    }
    for (int k = 0; k < M && st == SAM2_OK; k++) {
        float *lr = out->low_res + (size_t)k * L * L;
        st = fill_holes_and_sprinkles(lr, L, L, params->mask_threshold, params->max_hole_area, params->max_sprinkle_area);
        if (st == SAM2_OK) st = upsample_bilinear(lr, L, L, up, h, w);
        if (st != SAM2_OK) break;
        if (out->masks)
            for (size_t i = 0; i < (size_t)w * h; i++) out->masks[(size_t)k * w * h + i] = up[i] > params->mask_threshold;
        if (out->logits) memcpy(out->logits + (size_t)k * w * h, up, sizeof(float) * (size_t)w * h);
        for (int i = 0; i < L * L; i++) lr[i] = lr[i] > 32.0f ? 32.0f : lr[i] < -32.0f ? -32.0f : lr[i];
    }
    free(up);
    if (st != SAM2_OK) sam2_prediction_free(out);
    return st;
}

sam2_status sam2_predict_batch(sam2_ctx *ctx, const sam2_prompt *prompts, int n, sam2_prediction *out) {
    if (!ctx || (!prompts && n) || (!out && n) || n < 0) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_predict_batch: bad arguments");
    if (!ctx->has_image) return SAM2_FAIL(SAM2_ERR_STATE, "no image set");
    if (n == 0) return SAM2_OK;
    memset(out, 0, sizeof *out * (size_t)n);
    const int N = prompts[0].n_points, box = prompts[0].has_box, mm = prompts[0].multimask, mi = prompts[0].mask_input != NULL;
    for (int i = 0; i < n; i++) {
        SAM2_TRY(check_prompt(&prompts[i]));
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
        memcpy(pts + 2 * (size_t)i * N, prompts[i].points, sizeof(float) * 2 * N);
        memcpy(lab + (size_t)i * N, prompts[i].labels, sizeof(int) * N);
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

void sam2_prediction_free(sam2_prediction *p) {
    if (!p) return;
    free(p->low_res);
    free(p->masks);
    free(p->logits);
    p->low_res = NULL, p->masks = NULL, p->logits = NULL;
}
