/* mask_head.h - the decoder's mask logits from a prompt's image tokens: the
 * output upscaling (two 2x2 stride-2 transposed convolutions, the
 * high-resolution features added after each, LayerNorm2d and GELU after
 * the first, GELU after the second) and the product with the hypernetwork
 * outputs. It runs one row of the token grid at a time: a row's
 * intermediates (a few hundred KiB) stay in cache on their way to its four
 * rows of logits, where whole-image passes would stream tens of MiB per
 * prompt through memory. */
#ifndef SAM2_MASK_HEAD_H
#define SAM2_MASK_HEAD_H
#include <stddef.h>

#include "error.h"

/* The upscaling's weights, rearranged once: every product is (outputs,
 * inputs) times channel-major pixels. Row (2*ky + kx) * Cout + o of a
 * product is output channel o at tap (ky, kx). */
typedef struct mask_head_weights {
    int d, C1, C2;                 /* token width, d/4 and d/8 channels */
    float *w1t;                    /* (4*C1, d) */
    float *w2t;                    /* (4*C2, C1) */
    const float *b1, *ln_w, *ln_b; /* (C1) */
    const float *b2;               /* (C2) */
} mask_head_weights;

/* up1_w (d, C1, 2, 2) and up2_w (C1, C2, 2, 2) as PyTorch's ConvTranspose2d
 * stores them; biases and the LayerNorm2d's weights are referenced. */
sam2_status mask_head_init(int d, const float *up1_w, const float *up1_b, const float *ln_w, const float *ln_b,
                           const float *up2_w, const float *up2_b, mask_head_weights *hw);
void mask_head_free(mask_head_weights *hw);

/* A prompt's first product, W1 t for every token t, as (4*C1, HW)
 * channel-major: given whole (full, row stride HW), or in the implicit
 * tokens' form alpha[p] shared[:, p] + Z L[:, p] with shared (4*C1, HW), Z
 * (4*C1, K) and L (K, HW), each of row stride HW except Z's (K). */
typedef struct mask_head_first {
    const float *full;
    const float *alpha, *shared, *Z, *L;
    int K;
} mask_head_first;

/* Scratch floats of mask_head_run on a g x g token grid for nt masks. */
size_t mask_head_scratch_floats(const mask_head_weights *hw, int g, int nt, int n_threads);

/* The high-resolution features as mask_head_run reads them, once per
 * image: hr0 (C2, 4g, 4g) and hr1 (C1, 2g, 2g) channel-major, each row's
 * columns split by their remainder (mod 4 and mod 2), into skips
 * (mask_head_skip_floats). */
size_t mask_head_skip_floats(const mask_head_weights *hw, int g);
void mask_head_skips(const mask_head_weights *hw, int g, const float *hr0, const float *hr1, float *skips);

/* masks (nt, 4g * 4g) = hyp (nt, C2) times the upscaled tokens of the first
 * product, with the high-resolution features from mask_head_skips (NULL: a
 * model without them). */
void mask_head_run(const mask_head_weights *hw, int g, const mask_head_first *first, const float *skips,
                   const float *hyp, int nt, float *masks, float *scratch, int n_threads);

#endif
