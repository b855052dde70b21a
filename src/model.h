/* model.h - the internals of sam2_model and sam2_ctx, shared by the
 * library's modules (never by the CLI). */
#ifndef SAM2_MODEL_H
#define SAM2_MODEL_H

#include "checkpoint.h"
#include "config.h"
#include "image_encoder.h"
#include "mask_decoder.h"
#include "prompt_encoder.h"
#include "sam2.h"
#include "weights.h"

struct sam2_model {
    sam2_config cfg;
    ckpt_file *ck;                 /* NULL for random weights */
    float **random_weights;        /* random mode allocations */
    int n_random_weights;
    image_encoder_weights enc;     /* trunk, neck, conv_s0/s1, no_mem_embed */
    prompt_encoder_weights pe;
    mask_decoder_weights md;
    int64_t parameters;            /* image-path elements bound */
    int tensors_loaded, tensors_skipped;
    char dtypes[64];
    char hash[17];                 /* hex of a 64-bit hash of config + weights sample */
};

struct sam2_ctx {
    const sam2_model *model;
    int n_threads;
    int has_image;
    int orig_w, orig_h;            /* original image size of the embedding */
    float *input;                  /* (3, S, S) preprocessed, NULL after embedding load */
    encoder_output enc;            /* features of the current image */
    sam2_depth_mode depth_mode;
    int keep_intermediates;        /* see sam2_ctx_keep_intermediates */
    mask_decoder_ws dec_ws;        /* decoder scratch kept between predictions (predictor.c) */
    hiera_scratch enc_ws;          /* trunk workspace kept between images */
    sam2_precision precision;      /* sam2_ctx_set_precision */
    hiera_bf16 bf16;               /* the trunk's weights in bfloat16 (SAM2_PRECISION_BF16) */
    sam2_progress_fn progress;     /* sam2_ctx_set_progress */
    void *progress_user;
};

/* To be called whenever ctx->enc is replaced (ctx.c does it itself): drops
 * what was derived from the old features. */
void ctx_features_changed(sam2_ctx *c);

#endif
