/* prompt_encoder.h - points, boxes and mask inputs to sparse and dense
 * prompt embeddings (the official PromptEncoder). */
#ifndef SAM2_PROMPT_ENCODER_H
#define SAM2_PROMPT_ENCODER_H

#include "config.h"
#include "weights.h"

typedef struct prompt_encoder_weights {
    const float *gaussian;          /* (2, d/2) random Fourier matrix */
    const float *point_embed[4];    /* (d) each: negative, positive, box corner 1, 2 */
    const float *not_a_point;       /* (d) */
    const float *no_mask;           /* (d) */
    const float *md0_w, *md0_b;     /* (c/4, 1, 2, 2) mask downscaling conv 1 */
    const float *ln0_w, *ln0_b;     /* (c/4) */
    const float *md1_w, *md1_b;     /* (c, c/4, 2, 2) */
    const float *ln1_w, *ln1_b;     /* (c) */
    const float *md2_w, *md2_b;     /* (d, c, 1, 1) */
} prompt_encoder_weights;

sam2_status prompt_encoder_bind(const sam2_config *cfg, wt_binder *b, prompt_encoder_weights *w);

/* Random-Fourier encoding of n points given in model-input pixels (already
 * shifted by +0.5): out (n, d). */
void prompt_pe_points(const sam2_config *cfg, const prompt_encoder_weights *w, const float *xy, int n, float *out);

/* Dense positional encoding of the (S/16, S/16) grid: out (S/16 * S/16, d). */
void prompt_dense_pe(const sam2_config *cfg, const prompt_encoder_weights *w, float *out);

/* Sparse embeddings of one prompt: coordinates in model-input pixels
 * (x * S / w, before the +0.5 shift), labels (-1 padding, 0, 1, 2, 3):
 * out (n, d). */
void prompt_embed_sparse(const sam2_config *cfg, const prompt_encoder_weights *w, const float *xy,
                         const int *labels, int n, float *out);

/* Dense embedding of a low-res mask input (S/4, S/4) -> (d, S/16, S/16). */
sam2_status prompt_embed_mask(const sam2_config *cfg, const prompt_encoder_weights *w, const float *mask,
                              float *out);

#endif
