/* fpn.h - the FpnNeck of the SAM 2 image encoder: 1x1 lateral convolutions
 * of the trunk's stage outputs, top-down fusion from the deepest level, and
 * the sine position encoding of every level. */
#ifndef SAM2_FPN_H
#define SAM2_FPN_H

#include "config.h"
#include "weights.h"

typedef struct fpn_weights {
    int n_levels;                       /* trunk stages = lateral convs */
    int d_model;
    int in_c[SAM2_MAX_LEVELS];          /* input channels of level i (highest resolution first) */
    const float *lateral_w[SAM2_MAX_LEVELS]; /* level i: (d_model, in_c[i]) = neck.convs[n-1-i] */
    const float *lateral_b[SAM2_MAX_LEVELS]; /* (d_model) */
    int top_down[SAM2_MAX_LEVELS];      /* level i receives the upsampled deeper level */
    int nearest;                        /* fpn_interp_model "nearest" (else bilinear) */
    int avg;                            /* fuse_type "avg" (else "sum") */
} fpn_weights;

/* Binds image_encoder.neck.convs.K.conv.{weight,bias} for the K =
 * cfg->n_backbone_channels convolutions (deepest level first, as in the
 * official ModuleList). */
sam2_status fpn_bind(const sam2_config *cfg, wt_binder *b, fpn_weights *w);

/* Runs the neck on the trunk outputs x[i] (in_c[i], h[i], wd[i]),
 * channels-first, level 0 the highest resolution. Allocates out[i]
 * (d_model, h[i], wd[i]) for every level but those with skip[i] set (skip
 * may be NULL; out[i] stays NULL; a skipped level must not feed a
 * shallower one's top-down fusion); SAM2_ERR_CONFIG when a top-down level
 * is not twice the size of the level below it (the official code fails
 * there too). On failure nothing is left allocated. */
sam2_status fpn_run(const fpn_weights *w, float *const *x, const int *h, const int *wd, const int *skip,
                    int n_threads, float *out[SAM2_MAX_LEVELS]);

/* A level without top-down fusion passed straight through a 1x1
 * convolution, never holding the level whole: out (cout, hw) = cw (cout,
 * d) . (lateral_w[i] x + lateral_b[i]) + cb, block of columns by block, each
 * element summed as fpn_run and a separate convolution would. */
sam2_status fpn_level_conv(const fpn_weights *w, int i, const float *x, int hw, const float *cw, const float *cb,
                           int cout, int n_threads, float *out);

/* Adds the 2x upsampling of prev (C, h, w) to dst (C, 2h, 2w): nearest, or
 * bilinear with half-pixel centres (align_corners=False), as
 * F.interpolate(scale_factor=2.0). */
void fpn_add_upsampled(float *dst, const float *prev, int C, int h, int w, int nearest, int n_threads);

#endif
