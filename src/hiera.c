/* hiera.c - the Hiera trunk of the SAM 2 image encoder: patch embedding,
 * position embeddings, multi-scale blocks with windowed or global attention
 * and q-pooling at stage transitions. Tokens are channels-last (H*W, C). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gemm.h"
#include "image_encoder.h"
#include "ops.h"

/* --------------------------------------------------------------- binding */

sam2_status hiera_bind(const sam2_config *c, wt_binder *b, image_encoder_weights *w) {
    const char *T = "image_encoder.trunk";
    const int C0 = c->embed_dim;
    SAM2_TRY(wt_bind4(b, &w->patch_w, C0, 3, 7, 7, "%s.patch_embed.proj.weight", T));
    SAM2_TRY(wt_bind1(b, &w->patch_b, C0, "%s.patch_embed.proj.bias", T));
    SAM2_TRY(wt_bind4(b, &w->pos_embed, 1, C0, c->window_pos_embed_bkg_spatial_size[0],
                      c->window_pos_embed_bkg_spatial_size[1], "%s.pos_embed", T));
    SAM2_TRY(wt_bind4(b, &w->pos_embed_window, 1, C0, c->window_spec[0], c->window_spec[0], "%s.pos_embed_window", T));
    int n = sam2_config_n_blocks(c);
    if (n > HIERA_MAX_BLOCKS) return SAM2_FAIL(SAM2_ERR_CONFIG, "%d Hiera blocks (at most %d)", n, HIERA_MAX_BLOCKS);
    w->n_blocks = n;
    int end = -1;
    for (int s = 0; s < c->n_stages; s++) w->stage_end[s] = (end += c->stages[s]);
    int stage = 0, dim = C0, heads = c->num_heads;
    for (int i = 0; i < n; i++) {
        hiera_block_weights *bw = &w->blocks[i];
        int window = c->window_spec[stage]; /* a new stage's first block keeps the previous window */
        for (int g = 0; g < c->n_global_att_blocks; g++)
            if (c->global_att_blocks[g] == i) window = 0;
        int dim_out = dim;
        int enters = i > 0 && i - 1 == w->stage_end[stage];
        if (enters) {
            dim_out = (int)(dim * c->dim_mul);
            heads = (int)(heads * c->head_mul);
            stage++;
        }
        bw->dim = dim, bw->dim_out = dim_out, bw->heads = heads, bw->window = window;
        bw->pool = enters && stage <= c->q_pool;
        if (bw->pool && dim == dim_out)
            return SAM2_FAIL(SAM2_ERR_CONFIG, "block %d pools q but keeps %d channels (dim_mul must grow the width)", i, dim);
        if (heads < 1 || dim_out % heads) return SAM2_FAIL(SAM2_ERR_CONFIG, "block %d: %d channels, %d heads", i, dim_out, heads);
        const char *B = "image_encoder.trunk.blocks";
        SAM2_TRY(wt_bind1(b, &bw->norm1_w, dim, "%s.%d.norm1.weight", B, i));
        SAM2_TRY(wt_bind1(b, &bw->norm1_b, dim, "%s.%d.norm1.bias", B, i));
        SAM2_TRY(wt_bind2(b, &bw->qkv_w, 3 * dim_out, dim, "%s.%d.attn.qkv.weight", B, i));
        SAM2_TRY(wt_bind1(b, &bw->qkv_b, 3 * dim_out, "%s.%d.attn.qkv.bias", B, i));
        SAM2_TRY(wt_bind2(b, &bw->proj_w, dim_out, dim_out, "%s.%d.attn.proj.weight", B, i));
        SAM2_TRY(wt_bind1(b, &bw->proj_b, dim_out, "%s.%d.attn.proj.bias", B, i));
        SAM2_TRY(wt_bind1(b, &bw->norm2_w, dim_out, "%s.%d.norm2.weight", B, i));
        SAM2_TRY(wt_bind1(b, &bw->norm2_b, dim_out, "%s.%d.norm2.bias", B, i));
        SAM2_TRY(wt_bind2(b, &bw->fc1_w, 4 * dim_out, dim_out, "%s.%d.mlp.layers.0.weight", B, i));
        SAM2_TRY(wt_bind1(b, &bw->fc1_b, 4 * dim_out, "%s.%d.mlp.layers.0.bias", B, i));
        SAM2_TRY(wt_bind2(b, &bw->fc2_w, dim_out, 4 * dim_out, "%s.%d.mlp.layers.1.weight", B, i));
        SAM2_TRY(wt_bind1(b, &bw->fc2_b, dim_out, "%s.%d.mlp.layers.1.bias", B, i));
        bw->short_w = bw->short_b = NULL;
        if (dim != dim_out) {
            SAM2_TRY(wt_bind2(b, &bw->short_w, dim_out, dim, "%s.%d.proj.weight", B, i));
            SAM2_TRY(wt_bind1(b, &bw->short_b, dim_out, "%s.%d.proj.bias", B, i));
        }
        dim = dim_out;
    }
    return SAM2_OK;
}

/* ------------------------------------------------------- patch embedding */

/* 7x7 stride-4 pad-3 convolution as im2col + GEMM: (3, S, S) -> (H*W, C). */
static sam2_status patch_embed(const float *in, int S, const float *wt, const float *bias, int C,
                               float *out, int H, int W) {
    const int K = 3 * 49;
    float *cols = malloc(sizeof(float) * (size_t)H * W * K); /* (H*W, 3*7*7) */
    if (!cols) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in patch embedding");
#pragma omp parallel for schedule(static)
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            float *col = cols + ((size_t)y * W + x) * K;
            for (int c = 0; c < 3; c++)
                for (int ky = 0; ky < 7; ky++) {
                    int iy = 4 * y - 3 + ky;
                    for (int kx = 0; kx < 7; kx++) {
                        int ix = 4 * x - 3 + kx;
                        col[c * 49 + ky * 7 + kx] =
                            (iy >= 0 && iy < S && ix >= 0 && ix < S) ? in[((size_t)c * S + iy) * S + ix] : 0.0f;
                    }
                }
        }
    }
    linear(cols, H * W, K, wt, bias, C, out);
    free(cols);
    return SAM2_OK;
}

/* ------------------------------------------------------ position embedding */

static float cubic1(float x, float A) { return ((A + 2) * x - (A + 3)) * x * x + 1; }
static float cubic2(float x, float A) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; }

/* PyTorch's bicubic interpolation (align_corners=False, A = -0.75, borders
 * clamped) of one (ih, iw) plane to (oh, ow). */
static void bicubic(const float *in, int ih, int iw, float *out, int oh, int ow) {
    const float A = -0.75f, sy = (float)ih / oh, sx = (float)iw / ow;
    for (int y = 0; y < oh; y++) {
        float ry = sy * (y + 0.5f) - 0.5f;
        int y0 = (int)floorf(ry);
        float ty = ry - y0;
        float wy[4] = {cubic2(ty + 1, A), cubic1(ty, A), cubic1(1 - ty, A), cubic2(2 - ty, A)};
        for (int x = 0; x < ow; x++) {
            float rx = sx * (x + 0.5f) - 0.5f;
            int x0 = (int)floorf(rx);
            float tx = rx - x0;
            float wx[4] = {cubic2(tx + 1, A), cubic1(tx, A), cubic1(1 - tx, A), cubic2(2 - tx, A)};
            float acc = 0.0f;
            for (int i = 0; i < 4; i++) {
                int yy = y0 - 1 + i;
                yy = yy < 0 ? 0 : yy >= ih ? ih - 1 : yy;
                float r = 0.0f;
                for (int j = 0; j < 4; j++) {
                    int xx = x0 - 1 + j;
                    xx = xx < 0 ? 0 : xx >= iw ? iw - 1 : xx;
                    r += wx[j] * in[yy * iw + xx];
                }
                acc += wy[i] * r;
            }
            out[y * ow + x] = acc;
        }
    }
}

/* Adds the background embedding (bicubic to H x W) plus the tiled window
 * embedding to the tokens (H*W, C). */
static sam2_status add_pos_embed(const sam2_config *c, const image_encoder_weights *w, float *tok, int H, int W) {
    const int C = c->embed_dim, bh = c->window_pos_embed_bkg_spatial_size[0],
              bw = c->window_pos_embed_bkg_spatial_size[1], ws = c->window_spec[0];
    float *plane = malloc(sizeof(float) * (size_t)H * W);
    if (!plane) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in position embedding");
    for (int ch = 0; ch < C; ch++) {
        bicubic(w->pos_embed + (size_t)ch * bh * bw, bh, bw, plane, H, W);
        const float *win = w->pos_embed_window + (size_t)ch * ws * ws;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                tok[((size_t)y * W + x) * C + ch] += plane[y * W + x] + win[(y % ws) * ws + (x % ws)];
    }
    free(plane);
    return SAM2_OK;
}

/* -------------------------------------------------------------- attention */

/* softmax(q k^T * scale) v for one head of one window, small sizes:
 * q (nq, hd), k and v (nk, hd), o (nq, hd); s is scratch of nk floats. */
static void attend_small(const float *q, const float *k, const float *v, int nq, int nk, int hd, float scale,
                         float *o, float *s) {
    for (int i = 0; i < nq; i++) {
        const float *qi = q + (size_t)i * hd;
        float mx = -INFINITY;
        for (int j = 0; j < nk; j++) {
            const float *kj = k + (size_t)j * hd;
            float d = 0.0f;
            for (int t = 0; t < hd; t++) d += qi[t] * kj[t];
            s[j] = d * scale;
            mx = s[j] > mx ? s[j] : mx;
        }
        float sum = 0.0f;
        for (int j = 0; j < nk; j++) sum += (s[j] = expf(s[j] - mx));
        float inv = 1.0f / sum;
        float *oi = o + (size_t)i * hd;
        for (int t = 0; t < hd; t++) oi[t] = 0.0f;
        for (int j = 0; j < nk; j++) {
            const float *vj = v + (size_t)j * hd;
            float p = s[j] * inv;
            for (int t = 0; t < hd; t++) oi[t] += p * vj[t];
        }
    }
}

/* The same for large (global) windows: query blocks through GEMM so the
 * score matrix stays small. */
static sam2_status attend_large(const float *q, const float *k, const float *v, int nq, int nk, int hd, float scale,
                                float *o) {
    const int QB = 256;
    float *s = malloc(sizeof(float) * (size_t)QB * nk); /* (QB, nk) */
    if (!s) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in attention");
    for (int i0 = 0; i0 < nq; i0 += QB) {
        int m = nq - i0 < QB ? nq - i0 : QB;
        gemm(0, 1, m, nk, hd, scale, q + (size_t)i0 * hd, hd, k, hd, 0.0f, s, nk);
        op_softmax_rows(s, m, nk);
        gemm(0, 0, m, hd, nk, 1.0f, s, nk, v, hd, 0.0f, o + (size_t)i0 * hd, hd);
    }
    free(s);
    return SAM2_OK;
}

typedef struct attn_geom {
    int H, W, D, heads, hd;
    int wh, ww;          /* window size (the whole map when global) */
    int nwy, nwx;        /* windows per column / row */
    int qh, qw;          /* query window after pooling */
    int Ho, Wo;          /* output map */
    int pool;
} attn_geom;

/* Gathers one head of one window: K and V (nk, hd) and the (pooled) Q
 * (nq, hd). Padded positions take the qkv bias, as zero-padded normalised
 * tokens do in the official code. */
static void gather_window(const attn_geom *g, const float *qkv, const float *qkv_b, int wy, int wx, int h,
                          float *q, float *k, float *v) {
    const int D = g->D, hd = g->hd;
    for (int iy = 0; iy < g->wh; iy++)
        for (int ix = 0; ix < g->ww; ix++) {
            int y = wy * g->wh + iy, x = wx * g->ww + ix;
            const float *src = (y < g->H && x < g->W) ? qkv + ((size_t)y * g->W + x) * 3 * D : qkv_b;
            int t = iy * g->ww + ix;
            memcpy(k + (size_t)t * hd, src + D + h * hd, sizeof(float) * hd);
            memcpy(v + (size_t)t * hd, src + 2 * D + h * hd, sizeof(float) * hd);
            if (!g->pool) memcpy(q + (size_t)t * hd, src + h * hd, sizeof(float) * hd);
        }
    if (!g->pool) return;
    for (int qy = 0; qy < g->qh; qy++)
        for (int qx = 0; qx < g->qw; qx++) {
            float *dst = q + ((size_t)qy * g->qw + qx) * hd;
            for (int t = 0; t < hd; t++) dst[t] = -INFINITY;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    int y = wy * g->wh + 2 * qy + dy, x = wx * g->ww + 2 * qx + dx;
                    const float *src = (y < g->H && x < g->W) ? qkv + ((size_t)y * g->W + x) * 3 * D : qkv_b;
                    for (int t = 0; t < hd; t++) dst[t] = src[h * hd + t] > dst[t] ? src[h * hd + t] : dst[t];
                }
        }
}

/* Writes one head's window output (nq, hd) into the output map, dropping
 * what falls into the padding. */
static void scatter_window(const attn_geom *g, const float *o, int wy, int wx, int h, float *out) {
    for (int qy = 0; qy < g->qh; qy++) {
        int y = wy * g->qh + qy;
        if (y >= g->Ho) break;
        for (int qx = 0; qx < g->qw; qx++) {
            int x = wx * g->qw + qx;
            if (x >= g->Wo) break;
            memcpy(out + ((size_t)y * g->Wo + x) * g->D + h * g->hd, o + ((size_t)qy * g->qw + qx) * g->hd,
                   sizeof(float) * g->hd);
        }
    }
}

/* Multi-head attention over windows; out is (Ho*Wo, D). */
static sam2_status attention(const hiera_block_weights *bw, const float *qkv, int H, int W, int Ho, int Wo,
                             int n_threads, float *out) {
    attn_geom g;
    g.H = H, g.W = W, g.D = bw->dim_out, g.heads = bw->heads, g.hd = bw->dim_out / bw->heads;
    g.pool = bw->pool;
    g.wh = bw->window ? bw->window : H;
    g.ww = bw->window ? bw->window : W;
    g.nwy = (H + g.wh - 1) / g.wh, g.nwx = (W + g.ww - 1) / g.ww;
    g.qh = g.pool ? g.wh / 2 : g.wh, g.qw = g.pool ? g.ww / 2 : g.ww;
    g.Ho = Ho, g.Wo = Wo;
    const int nk = g.wh * g.ww, nq = g.qh * g.qw, hd = g.hd;
    const float scale = 1.0f / sqrtf((float)hd);
    const int items = g.nwy * g.nwx * g.heads;
    if (nk > 1024) { /* few large windows: GEMM-based, BLAS threads inside */
        float *q = malloc(sizeof(float) * (size_t)nq * hd), *k = malloc(sizeof(float) * (size_t)nk * hd);
        float *v = malloc(sizeof(float) * (size_t)nk * hd), *o = malloc(sizeof(float) * (size_t)nq * hd);
        sam2_status st = (q && k && v && o) ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in attention");
        for (int it = 0; it < items && st == SAM2_OK; it++) {
            int h = it % g.heads, wi = it / g.heads;
            gather_window(&g, qkv, bw->qkv_b, wi / g.nwx, wi % g.nwx, h, q, k, v);
            st = attend_large(q, k, v, nq, nk, hd, scale, o);
            scatter_window(&g, o, wi / g.nwx, wi % g.nwx, h, out);
        }
        free(q), free(k), free(v), free(o);
        return st;
    }
    int fail = 0;
#pragma omp parallel num_threads(n_threads)
    {
        float *buf = malloc(sizeof(float) * ((size_t)(2 * nq + 2 * nk) * hd + nk));
        if (!buf) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic, 4)
        for (int it = 0; it < items; it++) {
            if (!buf) continue;
            float *q = buf, *k = q + (size_t)nq * hd, *v = k + (size_t)nk * hd, *o = v + (size_t)nk * hd;
            float *s = o + (size_t)nq * hd;
            int h = it % g.heads, wi = it / g.heads;
            gather_window(&g, qkv, bw->qkv_b, wi / g.nwx, wi % g.nwx, h, q, k, v);
            attend_small(q, k, v, nq, nk, hd, scale, o, s);
            scatter_window(&g, o, wi / g.nwx, wi % g.nwx, h, out);
        }
        free(buf);
    }
    return fail ? SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in attention") : SAM2_OK;
}

/* ---------------------------------------------------------------- blocks */

/* 2x2 stride-2 max pool (floor) of a (H, W, C) map into (H/2, W/2, C). */
static void maxpool2(const float *in, int H, int W, int C, float *out) {
    int Ho = H / 2, Wo = W / 2;
    for (int y = 0; y < Ho; y++)
        for (int x = 0; x < Wo; x++) {
            float *o = out + ((size_t)y * Wo + x) * C;
            const float *a = in + ((size_t)(2 * y) * W + 2 * x) * C, *b = a + C;
            const float *c = a + (size_t)W * C, *d = c + C;
            for (int k = 0; k < C; k++) {
                float m = a[k] > b[k] ? a[k] : b[k];
                float n = c[k] > d[k] ? c[k] : d[k];
                o[k] = m > n ? m : n;
            }
        }
}

/* One MultiScaleBlock: x (H*W, dim) -> *out (Ho*Wo, dim_out), malloc'd. */
static sam2_status block_forward(const hiera_block_weights *bw, const float *x, int H, int W, int n_threads,
                                 float **out, int *Ho_out, int *Wo_out) {
    const int dim = bw->dim, D = bw->dim_out, N = H * W;
    const int Ho = bw->pool ? H / 2 : H, Wo = bw->pool ? W / 2 : W, No = Ho * Wo;
    float *xn = malloc(sizeof(float) * (size_t)N * dim);        /* (N, dim) norm1(x) */
    float *qkv = malloc(sizeof(float) * (size_t)N * 3 * D);     /* (N, 3D) */
    float *att = malloc(sizeof(float) * (size_t)No * D);        /* (No, D) */
    float *y = malloc(sizeof(float) * (size_t)No * D);          /* (No, D) block output */
    float *hid = malloc(sizeof(float) * (size_t)No * 4 * D);    /* (No, 4D) */
    float *tmp = NULL;
    sam2_status st = SAM2_OK;
    if (!xn || !qkv || !att || !y || !hid) {
        st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in a Hiera block (%d tokens)", N);
        goto done;
    }
    op_layernorm(x, xn, N, dim, bw->norm1_w, bw->norm1_b, 1e-6f);
    /* shortcut: x itself, or proj(norm1(x)) pooled when the width changes */
    if (bw->short_w) {
        tmp = malloc(sizeof(float) * (size_t)N * D);
        if (!tmp) {
            st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in a Hiera block");
            goto done;
        }
        linear(xn, N, dim, bw->short_w, bw->short_b, D, tmp);
        if (bw->pool) maxpool2(tmp, H, W, D, y);
        else memcpy(y, tmp, sizeof(float) * (size_t)N * D);
    } else {
        memcpy(y, x, sizeof(float) * (size_t)N * D);
    }
    linear(xn, N, dim, bw->qkv_w, bw->qkv_b, 3 * D, qkv);
    if ((st = attention(bw, qkv, H, W, Ho, Wo, n_threads, att)) != SAM2_OK) goto done;
    /* y += proj(att) */
    gemm(0, 1, No, D, D, 1.0f, att, D, bw->proj_w, D, 1.0f, y, D);
    for (int i = 0; i < No; i++) op_add(y + (size_t)i * D, bw->proj_b, D);
    /* y += fc2(gelu(fc1(norm2(y)))) */
    op_layernorm(y, att, No, D, bw->norm2_w, bw->norm2_b, 1e-6f);
    linear(att, No, D, bw->fc1_w, bw->fc1_b, 4 * D, hid);
    op_gelu(hid, (int64_t)No * 4 * D);
    gemm(0, 1, No, D, 4 * D, 1.0f, hid, 4 * D, bw->fc2_w, 4 * D, 1.0f, y, D);
    for (int i = 0; i < No; i++) op_add(y + (size_t)i * D, bw->fc2_b, D);
done:
    free(xn), free(qkv), free(att), free(hid), free(tmp);
    if (st != SAM2_OK) {
        free(y);
        return st;
    }
    *out = y, *Ho_out = Ho, *Wo_out = Wo;
    return SAM2_OK;
}

sam2_status hiera_run(const sam2_config *c, const image_encoder_weights *w, const float *input, int n_threads,
                      encoder_output *out) {
    const int S = c->image_size;
    int H = (S + 2 * 3 - 7) / 4 + 1, W = H;
    float *x = malloc(sizeof(float) * (size_t)H * W * c->embed_dim); /* (H*W, C0) */
    if (!x) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in the encoder");
    sam2_status st = patch_embed(input, S, w->patch_w, w->patch_b, c->embed_dim, x, H, W);
    if (st == SAM2_OK) st = add_pos_embed(c, w, x, H, W);
    int stage = 0;
    out->n_trunk = c->n_stages;
    for (int i = 0; i < w->n_blocks && st == SAM2_OK; i++) {
        float *y = NULL;
        int Ho, Wo;
        st = block_forward(&w->blocks[i], x, H, W, n_threads, &y, &Ho, &Wo);
        free(x);
        x = y, H = Ho, W = Wo;
        if (st == SAM2_OK && i == w->stage_end[stage]) {
            int C = w->blocks[i].dim_out;
            out->trunk[stage] = malloc(sizeof(float) * (size_t)C * H * W);
            if (!out->trunk[stage]) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in the encoder");
            else op_transpose(x, out->trunk[stage], H * W, C);
            out->trunk_c[stage] = C, out->trunk_h[stage] = H, out->trunk_w[stage] = W;
            stage++;
        }
    }
    free(x);
    return st;
}
