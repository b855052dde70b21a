/* image_encoder.h - Hiera trunk + FPN neck + what the image predictor keeps
 * (image_embed with no_mem_embed, high-res features through conv_s0/s1). */
#ifndef SAM2_IMAGE_ENCODER_H
#define SAM2_IMAGE_ENCODER_H

#include "config.h"
#include "fpn.h"
#include "hiera.h"
#include "weights.h"

typedef struct image_encoder_weights {
    hiera_weights trunk;                /* image_encoder.trunk.* */
    fpn_weights neck;                   /* image_encoder.neck.* */
    int scalp;                          /* lowest-resolution levels dropped */
    int pos_feats;                      /* channels of the sine encoding */
    float pos_temperature, pos_scale;
    int pos_normalize;
    int use_high_res;                   /* use_high_res_features_in_sam */
    int add_no_mem;                     /* directly_add_no_mem_embed */
    const float *conv_s0_w, *conv_s0_b; /* (d/8, d), (d/8); NULL without high-res features */
    const float *conv_s1_w, *conv_s1_b; /* (d/4, d), (d/4) */
    const float *no_mem_embed;          /* (d) */
} image_encoder_weights;

/* Every feature map is channels-first (C, H, W), batch 1, malloc'd. */
typedef struct encoder_output {
    int n_trunk;                         /* Hiera stages */
    float *trunk[SAM2_MAX_STAGES];       /* stage outputs, (C_i, H_i, W_i) */
    int trunk_c[SAM2_MAX_STAGES], trunk_h[SAM2_MAX_STAGES], trunk_w[SAM2_MAX_STAGES];
    int n_levels;                        /* FPN levels kept after scalp (3) */
    float *fpn[SAM2_MAX_LEVELS];         /* backbone_fpn_i, (d_model, H_i, W_i), stride 4 first */
    float *pos[SAM2_MAX_LEVELS];         /* vision_pos_enc_i, (pos_c, H_i, W_i); pos_c = d_model */
    int fpn_h[SAM2_MAX_LEVELS], fpn_w[SAM2_MAX_LEVELS];
    int pos_c;                           /* channels of pos[i] (num_pos_feats) */
    float *image_embed;                  /* (d_model, H, W) of the last kept level (S/16) */
    float *high_res[2];                  /* (d/8, S/4, S/4), (d/4, S/8, S/8); NULL without high-res */
} encoder_output;

/* Binds the encoder's tensors (trunk, neck, sam_mask_decoder.conv_s0/s1,
 * no_mem_embed) and checks that the geometry at cfg->image_size can run:
 * SAM2_ERR_SHAPE for a missing or mis-shaped tensor, SAM2_ERR_CONFIG for a
 * configuration the official implementation could not run either. */
sam2_status image_encoder_bind(const sam2_config *cfg, wt_binder *b, image_encoder_weights *w);

/* Encodes input (3, S, S), a preprocessed image, on n_threads threads.
 * Allocates every array of *out (free with encoder_output_free); on failure
 * *out is left empty. cfg must be the config w was bound with. Without
 * intermediates only the predictor's features (image_embed, high_res) are
 * kept: trunk stages and FPN levels are freed, positional encodings skipped.
 * keep (may be NULL): the trunk's workspace, reused between runs. bf16
 * (may be NULL): the trunk's linear layers in bfloat16. */
sam2_status image_encoder_run(const sam2_config *cfg, const image_encoder_weights *w,
                              const float *input, int n_threads, int intermediates, hiera_scratch *keep,
                              const hiera_bf16 *bf16, encoder_output *out);

/* Frees the arrays of *out and zeroes it; NULL and empty outputs are fine. */
void encoder_output_free(encoder_output *out);

#endif
