/* image_encoder.h - Hiera trunk + FPN neck + what the image predictor keeps
 * (image_embed with no_mem_embed, high-res features through conv_s0/s1). */
#ifndef SAM2_IMAGE_ENCODER_H
#define SAM2_IMAGE_ENCODER_H

#include "config.h"
#include "weights.h"

#define HIERA_MAX_BLOCKS 128

/* One Hiera block (MultiScaleBlock). */
typedef struct hiera_block_weights {
    int dim, dim_out, heads;
    int window;                        /* 0 = global attention */
    int pool;                          /* q pooled 2x2 at this block */
    const float *norm1_w, *norm1_b;    /* (dim) */
    const float *qkv_w, *qkv_b;        /* (3*dim_out, dim), (3*dim_out) */
    const float *proj_w, *proj_b;      /* (dim_out, dim_out) */
    const float *norm2_w, *norm2_b;    /* (dim_out) */
    const float *fc1_w, *fc1_b;        /* (4*dim_out, dim_out) */
    const float *fc2_w, *fc2_b;        /* (dim_out, 4*dim_out) */
    const float *short_w, *short_b;    /* (dim_out, dim) when dim != dim_out */
} hiera_block_weights;

typedef struct image_encoder_weights {
    const float *patch_w, *patch_b;    /* (C0, 3, 7, 7), (C0) */
    const float *pos_embed;            /* (C0, bh, bw) */
    const float *pos_embed_window;     /* (C0, ws0, ws0) */
    int n_blocks;
    hiera_block_weights blocks[HIERA_MAX_BLOCKS];
    int stage_end[SAM2_MAX_STAGES];    /* index of the last block of each stage */
    const float *lateral_w[SAM2_MAX_LEVELS], *lateral_b[SAM2_MAX_LEVELS]; /* neck convs, deepest first */
    const float *conv_s0_w, *conv_s0_b; /* (d/8, d), NULL without high-res features */
    const float *conv_s1_w, *conv_s1_b; /* (d/4, d) */
    const float *no_mem_embed;          /* (d) */
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

/* Runs the Hiera trunk: fills out->trunk* (stage outputs). */
sam2_status hiera_run(const sam2_config *cfg, const image_encoder_weights *w, const float *input,
                      int n_threads, encoder_output *out);

/* Binds the trunk's weights (patch embed, position embeddings, blocks). */
sam2_status hiera_bind(const sam2_config *cfg, wt_binder *b, image_encoder_weights *w);

#endif
