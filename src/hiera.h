/* hiera.h - the Hiera trunk of the SAM 2 image encoder (hieradet.py):
 * patch embedding, absolute position embedding, and multi-scale blocks with
 * windowed or global attention and query pooling at stage transitions. */
#ifndef SAM2_HIERA_H
#define SAM2_HIERA_H

#include "attention.h"
#include "gemm_bf16.h"
#include "config.h"
#include "weights.h"

#define HIERA_MAX_BLOCKS 128

/* One MultiScaleBlock with its geometry at the model's image size. */
typedef struct hiera_block_weights {
    int dim, dim_out, heads;
    int window;                        /* 0 = global attention */
    int pool;                          /* queries (and the shortcut) pooled by q_stride */
    attn_geom geom;                    /* map, windows, pooled output */
    const float *norm1_w, *norm1_b;    /* (dim) */
    const float *qkv_w, *qkv_b;        /* (3*dim_out, dim), (3*dim_out) */
    const float *proj_w, *proj_b;      /* (dim_out, dim_out) attention output projection */
    const float *norm2_w, *norm2_b;    /* (dim_out) */
    const float *fc1_w, *fc1_b;        /* (mlp, dim_out), (mlp) with mlp = 4*dim_out */
    const float *fc2_w, *fc2_b;        /* (dim_out, mlp), (dim_out) */
    const float *short_w, *short_b;    /* (dim_out, dim), (dim_out) when dim != dim_out, else NULL */
    int mlp;                           /* hidden width of the MLP */
} hiera_block_weights;

typedef struct hiera_weights {
    int image_size;                    /* S */
    int embed_dim;                     /* C0 */
    int H0, W0;                        /* patch-embedding map, (S + 6 - 7) / 4 + 1 */
    const float *patch_w, *patch_b;    /* (C0, 3, 7, 7), (C0) */
    const float *pos_embed;            /* (C0, bh, bw) background embedding */
    const float *pos_embed_window;     /* (C0, ws0, ws0) */
    int bh, bw, ws0;
    int n_blocks;
    hiera_block_weights blocks[HIERA_MAX_BLOCKS];
    int n_stages;
    int stage_end[SAM2_MAX_STAGES];    /* index of the last block of each stage */
    int stage_c[SAM2_MAX_STAGES], stage_h[SAM2_MAX_STAGES], stage_w[SAM2_MAX_STAGES]; /* stage outputs */
} hiera_weights;

/* Binds the trunk's tensors (image_encoder.trunk.*) with shape checks and
 * lays out every block's geometry for cfg->image_size, following the
 * official constructor: the first block of a stage keeps the previous
 * stage's window size, widths and heads grow by dim_mul / head_mul at stage
 * transitions, the first q_pool transitions pool by q_stride. Geometries the
 * official code cannot run fail with SAM2_ERR_CONFIG. */
sam2_status hiera_bind(const sam2_config *cfg, wt_binder *b, hiera_weights *w);

/* Runs the trunk on input (3, S, S). Allocates out[i] (stage_c[i],
 * stage_h[i], stage_w[i]) channels-first for every stage; on failure
 * nothing is left allocated. */
/* Workspace kept between runs by its owner (a context encoding image after
 * image): fresh pages cost more than reusing them. Zero-initialise; free
 * with hiera_scratch_free. */
typedef struct hiera_scratch {
    float *mem;
    size_t floats;
    bf16_scratch bf;                   /* the bfloat16 GEMM's packed rows */
} hiera_scratch;

/* The blocks' linear layers rounded to bfloat16 (SAM2_PRECISION_BF16). */
typedef struct hiera_bf16_block {
    bf16_weight qkv, proj, fc1, fc2, short_w; /* short_w: only when dim changes */
} hiera_bf16_block;

typedef struct hiera_bf16 {
    int n_blocks;
    hiera_bf16_block *blocks;
} hiera_bf16;

sam2_status hiera_bf16_pack(const hiera_weights *w, hiera_bf16 *out);
void hiera_bf16_free(hiera_bf16 *p);

void hiera_scratch_free(hiera_scratch *s);

/* keep may be NULL (a workspace of its own for this run). bf16 NULL: float32
 * throughout; else the blocks' linear layers run in bfloat16. */
sam2_status hiera_run(const hiera_weights *w, const float *input, int n_threads, float *out[SAM2_MAX_STAGES],
                      hiera_scratch *keep, const hiera_bf16 *bf16);

#endif
