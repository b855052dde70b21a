/* mask_decoder.h - two-way transformer, upscaling, hypernetworks, IoU and
 * object-score heads (the official MaskDecoder). */
#ifndef SAM2_MASK_DECODER_H
#define SAM2_MASK_DECODER_H

#include <stddef.h>

#include "config.h"
#include "mask_head.h"
#include "weights.h"

typedef struct attn_weights {
    int internal;                              /* d / downsample */
    const float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b;  /* (internal, d), (internal) */
    const float *o_w, *o_b;                    /* (d, internal), (d) */
} attn_weights;

typedef struct mlp_weights {
    int n_layers;
    int dims[5];                               /* in, hidden..., out */
    const float *w[4], *b[4];
} mlp_weights;

typedef struct twoway_layer_weights {
    attn_weights self_attn, t2i, i2t;
    const float *n1_w, *n1_b, *n2_w, *n2_b, *n3_w, *n3_b, *n4_w, *n4_b;
    mlp_weights mlp;
} twoway_layer_weights;

#define DEC_MAX_DEPTH 4

typedef struct mask_decoder_weights {
    twoway_layer_weights layers[DEC_MAX_DEPTH];
    attn_weights final_attn;
    const float *nf_w, *nf_b;
    const float *iou_token, *mask_tokens, *obj_token; /* (d), (4, d), (d) or NULL */
    const float *up1_w, *up1_b;                /* ConvTranspose (d, d/4, 2, 2), (d/4) */
    const float *up_ln_w, *up_ln_b;            /* (d/4) */
    const float *up2_w, *up2_b;                /* (d/4, d/8, 2, 2), (d/8) */
    mlp_weights hyper[4];
    mlp_weights iou_head;
    mlp_weights obj_head;                      /* n_layers 0 when absent */
} mask_decoder_weights;

sam2_status mask_decoder_bind(const sam2_config *cfg, wt_binder *b, mask_decoder_weights *w);

/* The image-side projections of layer 0 when every prompt shares the image
 * tokens (no mask input): they depend on the image alone, so a caller
 * decoding batch after batch on one image computes them once. The owner
 * allocates the arrays and clears valid when the image changes. */
typedef struct two_way_cache {
    float *t2i_kt, *t2i_vt; /* (I, HW) token-to-image keys and values, transposed */
    float *i2t_q;           /* (HW, I) image-to-token queries */
    int valid;
    /* Projections of the dense positional encoding alone, for layers 1 ..
     * depth - 1 and (index depth) the final attention: they depend on the
     * model only, so they survive image changes. */
    float *pe_t2i_kt[DEC_MAX_DEPTH + 1]; /* (I, HW) Wk pe^T of the token-to-image attention */
    float *pe_i2t_q[DEC_MAX_DEPTH];      /* (HW, I) pe Wq^T of the image-to-token attention */
    int pe_valid;
    /* Per-image constants of the implicit image tokens (two_way_implicit.h),
     * NULL when the decoder cannot take that form; valid with valid. */
    float *ix;
    int ix_valid;
    /* (d, h*w) the shared tokens through the first upscaling's weight
     * (twi_src_times), made at the first prompt of an image whose masks
     * are wanted; valid with ix_valid and up_valid. */
    float *up_src;
    int up_valid;
} two_way_cache;

/* Scratch memory of mask_decoder_run, sized for up to max_B prompts of Ns
 * sparse tokens; reused across calls so the decoder touches fresh pages
 * once. It also keeps the image_pe argument (the prompt encoder's dense
 * positional encoding, a constant of the model) for its owner to fill once. */
typedef struct mask_decoder_ws {
    float *buf;
    size_t n_floats;
    int max_B, Ns, n_threads;
    float *image_pe;               /* (h*w, d) */
    mask_head_weights head;        /* the upscaling's weights, rearranged */
    /* The high-resolution features as the mask head reads them
     * (mask_head_skips), made at the first mask of an image; valid while
     * skips_valid and the feature pointers are skips_of. Whoever changes
     * the features' contents clears skips_valid. */
    float *skips;
    const float *skips_of[2];
    int skips_valid;
    unsigned char *keep;           /* (max_B) prompts past the IoU floor */
    two_way_cache cache;           /* layer-0 image projections of the current image (cleared with it) */
    int image_pe_ready;            /* set by whoever filled image_pe */
} mask_decoder_ws;

sam2_status mask_decoder_ws_init(const sam2_config *cfg, const mask_decoder_weights *w, int max_B, int Ns,
                                 int n_threads, mask_decoder_ws *ws);
void mask_decoder_ws_free(mask_decoder_ws *ws);

/* How many prompts of Ns sparse tokens one mask_decoder_run should take
 * (1..64) so that the scratch it touches stays around 64 MB: per prompt the
 * image tokens, (S/16)^2 x d, and their attention products, or, when the
 * tokens stay implicit (implicit: no mask input and an IoU floor, see
 * mask_decoder_run), the state in their place and the prompt's masks. More
 * prompts per run share the token-side GEMMs and the image's keys. */
int mask_decoder_group_size(const sam2_config *cfg, int Ns, int implicit);

/* Decodes B <= ws->max_B prompts (Ns == ws->Ns) against one image.
 * image_embed (d, h*w) channels-first; image_pe (h*w, d); hr0 (d/8, 4h, 4w)
 * and hr1 (d/4, 2h, 2w), both or neither NULL; sparse (B, Ns, d); dense NULL (then the
 * no-mask embedding no_mask (d) is added for every prompt, and the image-side
 * work of the first layer is shared) or (B, d, h*w). Outputs for all mask
 * tokens (num_multimask_outputs + 1): masks (B, nt, 4h*4w) logits, iou
 * (B, nt) (after the sigmoid when configured), obj (B) (10 when the model
 * has no object-score head; NULL: not computed). */
/* skip_floor: unless NAN, prompts none of whose multimask outputs (tokens
 * 1..) has a predicted IoU above it get the transformer and the IoU head
 * only: their masks are not written (ws->keep[b] is 0). -INFINITY keeps
 * every prompt (whatever its IoU, NaN included) but, like any floor, lets
 * prompts without mask input keep their image tokens implicit; NAN forms
 * every prompt's tokens. */
sam2_status mask_decoder_run(const sam2_config *cfg, const mask_decoder_weights *w, const float *image_embed,
                             const float *image_pe, const float *hr0, const float *hr1, int B, int Ns,
                             const float *sparse, const float *dense, const float *no_mask, float *masks,
                             float *iou, float *obj, mask_decoder_ws *ws, float skip_floor);

#endif
