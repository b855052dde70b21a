/* postprocess.h - what happens to mask logits after the decoder: hole and
 * sprinkle removal, bilinear upsampling, stability scores. */
#ifndef SAM2_POSTPROCESS_H
#define SAM2_POSTPROCESS_H

#include <stdint.h>

#include "sam2.h"

/* Labels the 8-connected components of mask (h, w; nonzero = set): labels
 * gets 0 for unset pixels and 1..n for components; areas[k] (k = 1..n) their
 * pixel counts. labels is (h*w); areas must hold h*w + 1 entries. Returns n,
 * or -1 when out of memory. */
int cc_label8(const uint8_t *mask, int h, int w, int *labels, int *areas);

/* The official hole filling and sprinkle removal on one (h, w) logit map:
 * background components (logit <= thr) of area <= max_hole become thr + 10,
 * foreground components (logit > thr) of area <= max_sprinkle become
 * thr - 10; both found on the input logits. 0 disables a step. */
sam2_status fill_holes_and_sprinkles(float *logits, int h, int w, float thr, int max_hole, int max_sprinkle);

/* Horizontal or vertical taps of PyTorch's bilinear resize (align_corners
 * False) from n_in to n_out samples: index i0, i1 and weights l0, l1. */
typedef struct lerp_taps {
    int *i0, *i1;
    float *l0, *l1;
    int n;
} lerp_taps;

sam2_status lerp_taps_init(lerp_taps *t, int n_in, int n_out);
void lerp_taps_free(lerp_taps *t);

/* F.interpolate(mode="bilinear", align_corners=False) of (ih, iw) to (oh, ow),
 * evaluated as PyTorch's generic (separable) CPU kernel does:
 * h0 * (w0 * a + w1 * b) + h1 * (w0 * c + w1 * d). */
sam2_status upsample_bilinear(const float *in, int ih, int iw, float *out, int oh, int ow);

/* The same resize evaluated as PyTorch's channels-last CPU kernel does, which
 * it picks for a single-channel map (one mask): (h0 w0) a + (h0 w1) b +
 * (h1 w0) c + (h1 w1) d. Same maths, other float32 rounding. */
sam2_status upsample_bilinear_4w(const float *in, int ih, int iw, float *out, int oh, int ow);

/* Stability of a logit map: count(l > hi) / count(l > lo) as a float32
 * division of the counts; `empty` when nothing is above lo. The decoder's
 * dynamic fallback uses hi = +delta, lo = -delta, empty = 1; the AMG score
 * uses thr +- offset and NaN. */
float stability_score(const float *logits, int64_t n, float hi, float lo, float empty);

#endif
