/* image_encoder.h - Hiera trunk + FPN neck + what the image predictor keeps
 * (image_embed with no_mem_embed, high-res features through conv_s0/s1). */
#ifndef SAM2_IMAGE_ENCODER_H
#define SAM2_IMAGE_ENCODER_H

#include "config.h"
#include "weights.h"

typedef struct image_encoder_weights {
    int placeholder; /* filled by the encoder implementation */
} image_encoder_weights;

/* Every feature map is channels-first (C, H, W), batch 1, malloc'd. */
typedef struct encoder_output {
    int n_trunk;                         /* Hiera stages */
    float *trunk[SAM2_MAX_STAGES];       /* stage outputs, (C_i, H_i, W_i) */
    int trunk_c[SAM2_MAX_STAGES], trunk_h[SAM2_MAX_STAGES], trunk_w[SAM2_MAX_STAGES];
    int n_levels;                        /* FPN levels kept after scalp (3) */
    float *fpn[SAM2_MAX_LEVELS];         /* backbone_fpn_i, (d_model, H_i, W_i), stride 4 first */
    float *pos[SAM2_MAX_LEVELS];         /* vision_pos_enc_i, same shape */
    int fpn_h[SAM2_MAX_LEVELS], fpn_w[SAM2_MAX_LEVELS];
    float *image_embed;                  /* (d_model, S/16, S/16) */
    float *high_res[2];                  /* (d/8, S/4, S/4), (d/4, S/8, S/8); NULL without high-res */
} encoder_output;

sam2_status image_encoder_bind(const sam2_config *cfg, wt_binder *b, image_encoder_weights *w);

/* input: (3, S, S) preprocessed image. Allocates every array of *out. */
sam2_status image_encoder_run(const sam2_config *cfg, const image_encoder_weights *w,
                              const float *input, int n_threads, encoder_output *out);

void encoder_output_free(encoder_output *out);

#endif
