/* attention.h - the attention of a Hiera block: window partition with zero
 * padding at the bottom/right, optional max pooling of the queries inside
 * each window, multi-head softmax(q k^T / sqrt(d)) v per window, and the
 * reverse partition that crops the padding. Token maps are channels-last. */
#ifndef SAM2_ATTENTION_H
#define SAM2_ATTENTION_H

#include <stdint.h>

#include "sam2.h"

/* Geometry of one block's attention over an (H, W) map. */
typedef struct attn_geom {
    int H, W;       /* input map */
    int win;        /* window side; 0 = global (one window, the whole map) */
    int sh, sw;     /* query pooling kernel = stride; 1, 1 = no pooling */
    int nwy, nwx;   /* windows down and across */
    int th, tw;     /* tokens of a window: win x win, or H x W when global */
    int qh, qw;     /* query window after pooling: th / sh, tw / sw */
    int Ho, Wo;     /* output map: H / sh, W / sw */
    int identity;   /* the partition is the map itself (no copies needed) */
} attn_geom;

/* Fills g for an (H, W) map, window `win` (0 = global) and query pooling
 * (sh, sw). Fails with SAM2_ERR_CONFIG (naming `what`) when the official
 * implementation could not run this geometry: a pooled window that
 * vanishes, non-square pooled windows, or a pooled map whose windows do not
 * line up with the input windows. */
sam2_status attn_geom_init(attn_geom *g, int H, int W, int win, int sh, int sw, const char *what);

/* Tokens of the partitioned map, nwy * nwx * th * tw. */
int64_t attn_tokens(const attn_geom *g);

/* Queries of the partitioned map after pooling, nwy * nwx * qh * qw. */
int64_t attn_queries(const attn_geom *g);

/* Window partition: x (H*W, C) -> xw (nwy*nwx*th*tw, C), windows row-major,
 * tokens row-major inside a window, padding rows set to 0. */
void attn_partition(const attn_geom *g, const float *x, int C, float *xw, int n_threads);

/* Reverse partition of the pooled windows: ow (nwy*nwx*qh*qw, C) -> out
 * (Ho*Wo, C), dropping what falls outside the output map. */
void attn_unpartition(const attn_geom *g, const float *ow, int C, float *out, int n_threads);

/* Max pools the queries of every window: qkv (tokens, 3*D) holds q in its
 * first D columns; qp (queries, D). */
void attn_pool_queries(const attn_geom *g, const float *qkv, int D, float *qp, int n_threads);

/* Multi-head attention inside every window. qkv (tokens, 3*D) is [q | k | v]
 * per token with heads of D/heads channels each; q is read from qp (queries,
 * D) when it is not NULL (pooled queries), else from qkv. Writes out
 * (queries, D). Work is split over (window, head, query block) items on
 * n_threads threads; scores are materialised one query block at a time.
 * scratch: attn_scratch_floats(...) floats, or NULL. */
sam2_status attn_run(const attn_geom *g, const float *qkv, const float *qp, int D, int heads, float *out,
                     int n_threads, float *scratch);

/* The same with both products in bfloat16 (inputs rounded, float32 sums and
 * softmax), work split over (window, head) items. */
sam2_status attn_run_bf16(const attn_geom *g, const float *qkv, const float *qp, int D, int heads, float *out,
                          int n_threads, float *scratch);

/* Floats of scratch either attention needs on n_threads threads; scratch
 * NULL makes them allocate their own (per call). */
size_t attn_scratch_floats(const attn_geom *g, int D, int heads, int n_threads);

#endif
