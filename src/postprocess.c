/* postprocess.c - connected components, the official hole / sprinkle rule,
 * and PyTorch-exact bilinear upsampling of mask logits. */
#include "postprocess.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Flood fill with an explicit stack (each pixel is pushed at most once, when
 * it is labelled): components are numbered in raster order of their first
 * pixel. */
int cc_label8(const uint8_t *mask, int h, int w, int *labels, int *areas) {
    int n = 0;
    int *stack = malloc(sizeof(int) * (size_t)h * w + sizeof(int));
    if (!stack) return -1;
    memset(labels, 0, sizeof(int) * (size_t)h * w);
    for (int p0 = 0; p0 < h * w; p0++) {
        if (!mask[p0] || labels[p0]) continue;
        int id = ++n, top = 0, area = 0;
        labels[p0] = id;
        stack[top++] = p0;
        while (top) {
            int p = stack[--top], y = p / w, x = p % w;
            area++;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = y + dy, xx = x + dx;
                    if ((!dy && !dx) || yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                    int q = yy * w + xx;
                    if (mask[q] && !labels[q]) {
                        labels[q] = id;
                        stack[top++] = q;
                    }
                }
        }
        areas[id] = area;
    }
    free(stack);
    return n;
}

/* Both component maps come from the input logits (as the official code
 * computes them before changing anything); the changes are applied at the
 * end, holes first. */
sam2_status fill_holes_and_sprinkles(float *logits, int h, int w, float thr, int max_hole, int max_sprinkle) {
    if (max_hole <= 0 && max_sprinkle <= 0) return SAM2_OK;
    size_t n = (size_t)h * w;
    uint8_t *m = malloc(n);
    int *lab = malloc(sizeof(int) * n), *area = calloc(n + 1, sizeof(int));
    uint8_t *fill = calloc(n, 1); /* 1: +10, 2: -10 */
    if (!m || !lab || !area || !fill) {
        free(m), free(lab), free(area), free(fill);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in mask post-processing");
    }
    for (int pass = 0; pass < 2; pass++) {
        int max = pass == 0 ? max_hole : max_sprinkle;
        if (max <= 0) continue;
        for (size_t i = 0; i < n; i++) m[i] = pass == 0 ? logits[i] <= thr : logits[i] > thr;
        if (cc_label8(m, h, w, lab, area) < 0) {
            free(m), free(lab), free(area), free(fill);
            return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in mask post-processing");
        }
        for (size_t i = 0; i < n; i++)
            if (lab[i] && area[lab[i]] <= max) fill[i] = (uint8_t)(pass + 1);
    }
    for (size_t i = 0; i < n; i++)
        if (fill[i]) logits[i] = fill[i] == 1 ? thr + 10.0f : thr - 10.0f;
    free(m), free(lab), free(area), free(fill);
    return SAM2_OK;
}

/* PyTorch's area_pixel_compute_source_index for align_corners=False:
 * src = scale * (o + 0.5) - 0.5 clamped at 0, scale = in / out in float32;
 * the right tap is clamped to the last sample. */
sam2_status lerp_taps_init(lerp_taps *t, int n_in, int n_out) {
    t->n = n_out;
    t->i0 = malloc(sizeof(int) * n_out);
    t->i1 = malloc(sizeof(int) * n_out);
    t->l0 = malloc(sizeof(float) * n_out);
    t->l1 = malloc(sizeof(float) * n_out);
    if (!t->i0 || !t->i1 || !t->l0 || !t->l1) {
        lerp_taps_free(t);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in upsampling");
    }
    const float scale = (float)n_in / (float)n_out;
    for (int o = 0; o < n_out; o++) {
        float src = scale * ((float)o + 0.5f) - 0.5f;
        if (src < 0) src = 0;
        int i0 = (int)src;
        int off = i0 < n_in - 1 ? 1 : 0;
        float l1 = src - (float)i0;
        t->i0[o] = i0, t->i1[o] = i0 + off;
        t->l1[o] = l1, t->l0[o] = 1.0f - l1;
    }
    return SAM2_OK;
}

/* Releases the taps; safe on a zeroed or already freed struct. */
void lerp_taps_free(lerp_taps *t) {
    free(t->i0), free(t->i1), free(t->l0), free(t->l1);
    memset(t, 0, sizeof *t);
}

/* Both resize formulas: four_weight selects the channels-last evaluation. */
static sam2_status upsample(const float *in, int ih, int iw, float *out, int oh, int ow, int four_weight) {
    if (ih <= 0 || iw <= 0 || oh <= 0 || ow <= 0)
        return SAM2_FAIL(SAM2_ERR_PARAM, "bilinear resize of %d x %d to %d x %d", ih, iw, oh, ow);
    lerp_taps ty = {0}, tx = {0};
    SAM2_TRY(lerp_taps_init(&ty, ih, oh));
    sam2_status st = lerp_taps_init(&tx, iw, ow);
    if (st != SAM2_OK) {
        lerp_taps_free(&ty);
        return st;
    }
#pragma omp parallel for schedule(static) if ((int64_t)oh * ow > (1 << 18))
    for (int y = 0; y < oh; y++) {
        const float *r0 = in + (size_t)ty.i0[y] * iw, *r1 = in + (size_t)ty.i1[y] * iw;
        const float h0 = ty.l0[y], h1 = ty.l1[y];
        float *o = out + (size_t)y * ow;
        if (four_weight) {
            for (int x = 0; x < ow; x++) {
                int a = tx.i0[x], b = tx.i1[x];
                float w0 = tx.l0[x], w1 = tx.l1[x];
                o[x] = h0 * w0 * r0[a] + h0 * w1 * r0[b] + h1 * w0 * r1[a] + h1 * w1 * r1[b];
            }
        } else {
            for (int x = 0; x < ow; x++) {
                int a = tx.i0[x], b = tx.i1[x];
                o[x] = h0 * (tx.l0[x] * r0[a] + tx.l1[x] * r0[b]) + h1 * (tx.l0[x] * r1[a] + tx.l1[x] * r1[b]);
            }
        }
    }
    lerp_taps_free(&ty);
    lerp_taps_free(&tx);
    return SAM2_OK;
}

sam2_status upsample_bilinear(const float *in, int ih, int iw, float *out, int oh, int ow) {
    return upsample(in, ih, iw, out, oh, ow, 0);
}

sam2_status upsample_bilinear_4w(const float *in, int ih, int iw, float *out, int oh, int ow) {
    return upsample(in, ih, iw, out, oh, ow, 1);
}

float stability_score(const float *logits, int64_t n, float hi, float lo, float empty) {
    int64_t inter = 0, uni = 0;
    for (int64_t i = 0; i < n; i++) {
        inter += logits[i] > hi;
        uni += logits[i] > lo;
    }
    return uni > 0 ? (float)inter / (float)uni : empty;
}
