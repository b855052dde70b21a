/* hiera.c - the Hiera trunk: binding and geometry of the blocks, patch
 * embedding, and the block forward pass. Tokens stay channels-last (H*W, C)
 * so every linear layer is one GEMM over all tokens; the workspace is
 * allocated once per run and shared by all blocks. */
#include "hiera.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gemm.h"
#include "hugemem.h"
#include "position_encoding.h"
#include "token_ops.h"

#define LN_EPS 1e-6f
#define PATCH_K (3 * 7 * 7) /* im2col row of the 7x7 patch-embedding conv */

/* --------------------------------------------------------------- binding */

static int is_global(const sam2_config *c, int block) {
    for (int g = 0; g < c->n_global_att_blocks; g++)
        if (c->global_att_blocks[g] == block) return 1;
    return 0;
}

/* Binds the tensors of block i (already given its dims). */
static sam2_status bind_block(wt_binder *b, int i, hiera_block_weights *bw) {
    const char *B = "image_encoder.trunk.blocks";
    const int dim = bw->dim, D = bw->dim_out;
    SAM2_TRY(wt_bind1(b, &bw->norm1_w, dim, "%s.%d.norm1.weight", B, i));
    SAM2_TRY(wt_bind1(b, &bw->norm1_b, dim, "%s.%d.norm1.bias", B, i));
    SAM2_TRY(wt_bind2(b, &bw->qkv_w, 3 * D, dim, "%s.%d.attn.qkv.weight", B, i));
    SAM2_TRY(wt_bind1(b, &bw->qkv_b, 3 * D, "%s.%d.attn.qkv.bias", B, i));
    SAM2_TRY(wt_bind2(b, &bw->proj_w, D, D, "%s.%d.attn.proj.weight", B, i));
    SAM2_TRY(wt_bind1(b, &bw->proj_b, D, "%s.%d.attn.proj.bias", B, i));
    SAM2_TRY(wt_bind1(b, &bw->norm2_w, D, "%s.%d.norm2.weight", B, i));
    SAM2_TRY(wt_bind1(b, &bw->norm2_b, D, "%s.%d.norm2.bias", B, i));
    SAM2_TRY(wt_bind2(b, &bw->fc1_w, bw->mlp, D, "%s.%d.mlp.layers.0.weight", B, i));
    SAM2_TRY(wt_bind1(b, &bw->fc1_b, bw->mlp, "%s.%d.mlp.layers.0.bias", B, i));
    SAM2_TRY(wt_bind2(b, &bw->fc2_w, D, bw->mlp, "%s.%d.mlp.layers.1.weight", B, i));
    SAM2_TRY(wt_bind1(b, &bw->fc2_b, D, "%s.%d.mlp.layers.1.bias", B, i));
    bw->short_w = bw->short_b = NULL;
    if (dim != D) {
        SAM2_TRY(wt_bind2(b, &bw->short_w, D, dim, "%s.%d.proj.weight", B, i));
        SAM2_TRY(wt_bind1(b, &bw->short_b, D, "%s.%d.proj.bias", B, i));
    }
    return SAM2_OK;
}

sam2_status hiera_bind(const sam2_config *c, wt_binder *b, hiera_weights *w) {
    memset(w, 0, sizeof *w);
    const char *T = "image_encoder.trunk";
    const int C0 = c->embed_dim;
    if (C0 < 1 || c->num_heads < 1 || c->n_stages < 1 || c->n_stages > SAM2_MAX_STAGES || c->image_size < 1)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "Hiera: bad embed_dim %d / num_heads %d / %d stages / image_size %d", C0,
                         c->num_heads, c->n_stages, c->image_size);
    w->image_size = c->image_size, w->embed_dim = C0;
    w->H0 = w->W0 = (c->image_size + 2 * 3 - 7) / 4 + 1;
    w->bh = c->window_pos_embed_bkg_spatial_size[0], w->bw = c->window_pos_embed_bkg_spatial_size[1];
    w->ws0 = c->window_spec[0];
    SAM2_TRY(wt_bind4(b, &w->patch_w, C0, 3, 7, 7, "%s.patch_embed.proj.weight", T));
    SAM2_TRY(wt_bind1(b, &w->patch_b, C0, "%s.patch_embed.proj.bias", T));
    SAM2_TRY(wt_bind4(b, &w->pos_embed, 1, C0, w->bh, w->bw, "%s.pos_embed", T));
    SAM2_TRY(wt_bind4(b, &w->pos_embed_window, 1, C0, w->ws0, w->ws0, "%s.pos_embed_window", T));
    if (w->ws0 < 1 || w->H0 % w->ws0)
        return SAM2_FAIL(SAM2_ERR_CONFIG,
                         "Hiera: the %dx%d patch-embedding map is not a whole number of window_spec[0] = %d windows",
                         w->H0, w->W0, w->ws0);

    int n = 0;
    w->n_stages = c->n_stages;
    for (int s = 0; s < c->n_stages; s++) {
        if (c->stages[s] < 1) return SAM2_FAIL(SAM2_ERR_CONFIG, "Hiera: stage %d has %d blocks", s, c->stages[s]);
        n += c->stages[s];
        w->stage_end[s] = n - 1;
    }
    if (n > HIERA_MAX_BLOCKS) return SAM2_FAIL(SAM2_ERR_CONFIG, "Hiera: %d blocks (at most %d)", n, HIERA_MAX_BLOCKS);
    if (c->q_pool < 0 || c->q_pool > c->n_stages - 1)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "Hiera: q_pool %d outside 0..%d", c->q_pool, c->n_stages - 1);
    w->n_blocks = n;

    int stage = 0, dim = C0, heads = c->num_heads, H = w->H0, W = w->W0;
    for (int i = 0; i < n; i++) {
        hiera_block_weights *bw = &w->blocks[i];
        int window = is_global(c, i) ? 0 : c->window_spec[stage]; /* lags: read before the stage advances */
        int dim_out = dim, enters = i > 0 && i - 1 == w->stage_end[stage];
        if (enters) {
            dim_out = (int)(dim * (double)c->dim_mul);
            heads = (int)(heads * (double)c->head_mul);
            stage++;
        }
        bw->dim = dim, bw->dim_out = dim_out, bw->heads = heads, bw->window = window;
        bw->pool = enters && stage <= c->q_pool;
        bw->mlp = 4 * dim_out;
        if (dim_out < 1 || heads < 1 || dim_out % heads)
            return SAM2_FAIL(SAM2_ERR_CONFIG, "Hiera block %d: %d channels do not split into %d heads", i, dim_out, heads);
        if (bw->pool && dim == dim_out)
            return SAM2_FAIL(SAM2_ERR_CONFIG,
                             "Hiera block %d pools its queries but keeps %d channels, so its shortcut is not pooled "
                             "(dim_mul must change the width)",
                             i, dim);
        if (bw->pool && window == 0) /* the official block divides by its window there */
            return SAM2_FAIL(SAM2_ERR_CONFIG,
                             "Hiera block %d pools its queries (first block of stage %d) but has global attention "
                             "(global_att_blocks, or window_spec[%d] = 0); the official Hiera cannot run it either",
                             i, stage + 1, stage - 1);
        char what[64];
        snprintf(what, sizeof what, "Hiera block %d", i);
        SAM2_TRY(attn_geom_init(&bw->geom, H, W, window, bw->pool ? c->q_stride[0] : 1, bw->pool ? c->q_stride[1] : 1,
                                what));
        SAM2_TRY(bind_block(b, i, bw));
        H = bw->geom.Ho, W = bw->geom.Wo, dim = dim_out;
        if (i == w->stage_end[stage]) w->stage_c[stage] = dim, w->stage_h[stage] = H, w->stage_w[stage] = W;
    }
    return SAM2_OK;
}

/* ------------------------------------------------------------ workspace */

/* Buffers shared by all blocks, each sized for the largest use. */
typedef struct hiera_ws {
    float *x[2];  /* (N, dim) tokens, ping-pong between blocks */
    float *xn;    /* (N, dim) norm1(x); later (rows, D) norm2 of an MLP chunk */
    float *part;  /* (tokens, dim) partitioned norm1(x); later (No, D) attention output */
    float *big;   /* (tokens, 3D) qkv; (rows, mlp) MLP hidden chunk; (N, D) shortcut; (N0, 147) im2col */
    float *qp;    /* (queries, D) pooled queries */
    float *ao;    /* (queries, D) attention output in window order */
    float *bias;  /* (D) shortcut bias + attention projection bias */
    float *mem;
    bf16_scratch *bf; /* with bfloat16 weights: their GEMM's scratch */
    float *att;   /* attention scores (and bfloat16 operands), per thread */
} hiera_ws;

static size_t zmax(size_t a, size_t b) { return a > b ? a : b; }

/* Rows per MLP chunk: about 2 MB of hidden activations, a multiple of 64. */
static int mlp_rows(int mlp) {
    int r = (1 << 19) / mlp / 64 * 64;
    return r < 64 ? 64 : r;
}

static sam2_status ws_alloc(const hiera_weights *w, hiera_ws *s, hiera_scratch *keep, int n_threads) {
    size_t nx = (size_t)w->H0 * w->W0 * w->embed_dim, nxn = nx, npart = 0, nbig = (size_t)w->H0 * w->W0 * PATCH_K;
    size_t nqp = 0, nao = 0, nbias = 0, natt = 0;
    for (int i = 0; i < w->n_blocks; i++) {
        const hiera_block_weights *bw = &w->blocks[i];
        const attn_geom *g = &bw->geom;
        size_t N = (size_t)g->H * g->W, No = (size_t)g->Ho * g->Wo, D = (size_t)bw->dim_out;
        size_t T = (size_t)attn_tokens(g), Q = (size_t)attn_queries(g);
        nx = zmax(nx, zmax(N * bw->dim, No * D));
        nxn = zmax(nxn, zmax(N * bw->dim, No * D));
        npart = zmax(npart, No * D);
        if (!g->identity) npart = zmax(npart, T * bw->dim), nao = zmax(nao, Q * D);
        size_t rows = zmax(No < (size_t)mlp_rows(bw->mlp) ? No : (size_t)mlp_rows(bw->mlp), 1);
        nbig = zmax(nbig, zmax(T * 3 * D, zmax(rows * bw->mlp, N * D)));
        if (bw->pool) nqp = zmax(nqp, Q * D);
        nbias = zmax(nbias, D);
        natt = zmax(natt, attn_scratch_floats(g, bw->dim_out, bw->heads, n_threads));
    }
    /* 16-float alignment of every buffer */
    size_t sizes[9] = {nx, nx, nxn, npart, nbig, nqp, nao, nbias, natt}, total = 0;
    for (int k = 0; k < 9; k++) total += (sizes[k] + 15) / 16 * 16;
    if (keep && keep->mem && keep->floats >= total) {
        s->mem = keep->mem;
    } else {
        if (keep) hiera_scratch_free(keep);
        s->mem = huge_alloc(sizeof(float) * total);
        if (!s->mem) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the Hiera workspace (%zu MB)", total * 4 >> 20);
        if (keep) keep->mem = s->mem, keep->floats = total;
    }
    float *p = s->mem,
          **slots[9] = {&s->x[0], &s->x[1], &s->xn, &s->part, &s->big, &s->qp, &s->ao, &s->bias, &s->att};
    for (int k = 0; k < 9; k++) {
        *slots[k] = p;
        p += (sizes[k] + 15) / 16 * 16;
    }
    return SAM2_OK;
}

/* ------------------------------------------------------ patch embedding */

/* x (H0*W0, C0) = conv7x7/4(input) + bias + position embedding: the bias and
 * embedding are written first, the convolution (im2col + GEMM) adds to them. */
static sam2_status patch_embed(const hiera_weights *w, const float *in, hiera_ws *s, float *x, int n_threads) {
    const int S = w->image_size, H = w->H0, W = w->W0, C = w->embed_dim;
    SAM2_TRY(pe_hiera(w->pos_embed, w->bh, w->bw, w->pos_embed_window, w->ws0, C, H, W, w->patch_b, x, n_threads));
    float *cols = s->big; /* (H*W, 147) */
#pragma omp parallel for schedule(static) num_threads(n_threads) if ((long)H * W > 1024)
    for (int y = 0; y < H; y++)
        for (int xo = 0; xo < W; xo++) {
            float *col = cols + ((size_t)y * W + xo) * PATCH_K;
            for (int c = 0; c < 3; c++)
                for (int ky = 0; ky < 7; ky++) {
                    int iy = 4 * y - 3 + ky;
                    const float *row = in + ((size_t)c * S + (iy < 0 ? 0 : iy >= S ? S - 1 : iy)) * S;
                    for (int kx = 0; kx < 7; kx++) {
                        int ix = 4 * xo - 3 + kx;
                        col[c * 49 + ky * 7 + kx] = (iy >= 0 && iy < S && ix >= 0 && ix < S) ? row[ix] : 0.0f;
                    }
                }
        }
    gemm(0, 1, H * W, C, PATCH_K, 1.0f, cols, PATCH_K, w->patch_w, PATCH_K, 1.0f, x, C);
    return SAM2_OK;
}

/* ---------------------------------------------------------------- blocks */


/* y (M, N) = x (M, K) W^T (+ bias) (+ y when beta): in float32 through
 * gemm(), or in bfloat16 when the weight is packed (pw->data). bias and beta
 * are not both given. */
static sam2_status lin(const hiera_ws *s, const bf16_weight *pw, int M, const float *x, int K, const float *W,
                       const float *bias, int N, int beta, float *y, int n_threads) {
    if (pw && pw->data) return gemm_bf16(M, x, K, pw, bias, beta, y, N, s->bf, n_threads);
    if (bias) linear(x, M, K, W, bias, N, y);
    else gemm(0, 1, M, N, K, 1.0f, x, K, W, K, beta ? 1.0f : 0.0f, y, N);
    return SAM2_OK;
}

/* One MultiScaleBlock: x (N, dim) -> returns y (No, D), which is x itself
 * when the width does not change, else `other`:
 *   y = shortcut + proj(attn(norm1(x)));  y = y + fc2(gelu(fc1(norm2(y)))),
 * shortcut = x, or maxpool?(linear(norm1(x))) when the width changes. */
static sam2_status block_forward(const hiera_block_weights *bw, const hiera_bf16_block *pk, float *x, float *other,
                                 hiera_ws *s, int n_threads, float **y_out) {
    const attn_geom *g = &bw->geom;
    const int dim = bw->dim, D = bw->dim_out;
    const int64_t N = (int64_t)g->H * g->W, No = (int64_t)g->Ho * g->Wo;
    float *y;
    if (bw->short_w) {
        /* the two output biases are folded into the shortcut */
        for (int c = 0; c < D; c++) s->bias[c] = bw->short_b[c] + bw->proj_b[c];
        tok_layernorm(x, s->xn, N, dim, bw->norm1_w, bw->norm1_b, LN_EPS, NULL, n_threads);
        y = other;
        if (bw->pool) {
            SAM2_TRY(lin(s, pk ? &pk->short_w : NULL, (int)N, s->xn, dim, bw->short_w, NULL, D, 0, s->big, n_threads));
            tok_maxpool(s->big, g->H, g->W, D, g->sh, g->sw, s->bias, y, n_threads);
        } else {
            SAM2_TRY(lin(s, pk ? &pk->short_w : NULL, (int)N, s->xn, dim, bw->short_w, s->bias, D, 0, y, n_threads));
        }
    } else {
        /* y is x: the projection bias joins it once norm1 has read it */
        tok_layernorm(x, s->xn, N, dim, bw->norm1_w, bw->norm1_b, LN_EPS, bw->proj_b, n_threads);
        y = x;
    }

    /* attention: qkv over the (partitioned) normalised tokens */
    const float *src = s->xn;
    if (!g->identity) {
        attn_partition(g, s->xn, dim, s->part, n_threads);
        src = s->part;
    }
    const int64_t T = attn_tokens(g);
    float *qkv = s->big; /* (T, 3D) */
    SAM2_TRY(lin(s, pk ? &pk->qkv : NULL, (int)T, src, dim, bw->qkv_w, bw->qkv_b, 3 * D, 0, qkv, n_threads));
    const float *qp = NULL;
    if (bw->pool) {
        attn_pool_queries(g, qkv, D, s->qp, n_threads);
        qp = s->qp;
    }
    float *att = s->part; /* (No, D) spatial attention output */
    float *ao = g->identity ? att : s->ao;
    SAM2_TRY(pk ? attn_run_bf16(g, qkv, qp, D, bw->heads, ao, n_threads, s->att)
                : attn_run(g, qkv, qp, D, bw->heads, ao, n_threads, s->att));
    if (!g->identity) attn_unpartition(g, s->ao, D, att, n_threads);
    SAM2_TRY(lin(s, pk ? &pk->proj : NULL, (int)No, att, D, bw->proj_w, NULL, D, 1, y, n_threads));

    /* MLP over row chunks whose hidden activations stay in cache; fc2's
     * bias joins y while norm2 reads it */
    const int R = mlp_rows(bw->mlp);
    for (int64_t r0 = 0; r0 < No; r0 += R) {
        int m = No - r0 < R ? (int)(No - r0) : R;
        float *yr = y + r0 * D, *hid = s->big; /* (m, mlp) */
        tok_layernorm(yr, s->xn, m, D, bw->norm2_w, bw->norm2_b, LN_EPS, bw->fc2_b, n_threads);
        SAM2_TRY(lin(s, pk ? &pk->fc1 : NULL, m, s->xn, D, bw->fc1_w, NULL, bw->mlp, 0, hid, n_threads));
        tok_bias_gelu(hid, m, bw->mlp, bw->fc1_b, n_threads);
        SAM2_TRY(lin(s, pk ? &pk->fc2 : NULL, m, hid, bw->mlp, bw->fc2_w, NULL, D, 1, yr, n_threads));
    }
    *y_out = y;
    return SAM2_OK;
}

void hiera_scratch_free(hiera_scratch *s) {
    if (!s) return;
    free(s->mem);
    s->mem = NULL, s->floats = 0;
    bf16_scratch_free(&s->bf);
}

void hiera_bf16_free(hiera_bf16 *p) {
    if (!p) return;
    for (int i = 0; p->blocks && i < p->n_blocks; i++) {
        hiera_bf16_block *b = &p->blocks[i];
        bf16_weight_free(&b->qkv), bf16_weight_free(&b->proj), bf16_weight_free(&b->fc1);
        bf16_weight_free(&b->fc2), bf16_weight_free(&b->short_w);
    }
    free(p->blocks);
    memset(p, 0, sizeof *p);
}

sam2_status hiera_bf16_pack(const hiera_weights *w, hiera_bf16 *out) {
    memset(out, 0, sizeof *out);
    out->blocks = calloc((size_t)w->n_blocks, sizeof *out->blocks);
    if (!out->blocks) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for bfloat16 weights");
    out->n_blocks = w->n_blocks;
    sam2_status st = SAM2_OK;
    for (int i = 0; i < w->n_blocks && st == SAM2_OK; i++) {
        const hiera_block_weights *bw = &w->blocks[i];
        hiera_bf16_block *b = &out->blocks[i];
        const int D = bw->dim_out;
        st = bf16_weight_pack(bw->qkv_w, 3 * D, bw->dim, &b->qkv);
        if (st == SAM2_OK) st = bf16_weight_pack(bw->proj_w, D, D, &b->proj);
        if (st == SAM2_OK) st = bf16_weight_pack(bw->fc1_w, bw->mlp, D, &b->fc1);
        if (st == SAM2_OK) st = bf16_weight_pack(bw->fc2_w, D, bw->mlp, &b->fc2);
        if (st == SAM2_OK && bw->short_w) st = bf16_weight_pack(bw->short_w, D, bw->dim, &b->short_w);
    }
    if (st != SAM2_OK) hiera_bf16_free(out);
    return st;
}

sam2_status hiera_run(const hiera_weights *w, const float *input, int n_threads, float *out[SAM2_MAX_STAGES],
                      hiera_scratch *keep, const hiera_bf16 *bf16) {
    for (int i = 0; i < SAM2_MAX_STAGES; i++) out[i] = NULL;
    if (n_threads < 1) n_threads = 1;
    if (bf16 && bf16->n_blocks != w->n_blocks)
        return SAM2_FAIL(SAM2_ERR_STATE, "bfloat16 weights of %d blocks for a trunk of %d", bf16->n_blocks, w->n_blocks);
    hiera_ws s;
    SAM2_TRY(ws_alloc(w, &s, keep, n_threads));
    bf16_scratch own_bf = {0};
    s.bf = keep ? &keep->bf : &own_bf;
    float *x = s.x[0];
    sam2_status st = patch_embed(w, input, &s, x, n_threads);
    for (int i = 0, stage = 0; i < w->n_blocks && st == SAM2_OK; i++) {
        const hiera_block_weights *bw = &w->blocks[i];
        float *y = NULL;
        st = block_forward(bw, bf16 ? &bf16->blocks[i] : NULL, x, x == s.x[0] ? s.x[1] : s.x[0], &s, n_threads, &y);
        if (st != SAM2_OK) break;
        x = y;
        if (i == w->stage_end[stage]) {
            int64_t n = (int64_t)w->stage_h[stage] * w->stage_w[stage];
            out[stage] = huge_alloc(sizeof(float) * (size_t)(n * w->stage_c[stage]));
            if (!out[stage]) {
                st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for Hiera stage %d output", stage);
                break;
            }
            tok_transpose(x, n, w->stage_c[stage], out[stage], n_threads);
            stage++;
        }
    }
    if (!keep) free(s.mem);
    bf16_scratch_free(&own_bf);
    if (st != SAM2_OK)
        for (int i = 0; i < SAM2_MAX_STAGES; i++) free(out[i]), out[i] = NULL;
    return st;
}
