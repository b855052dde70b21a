/* flops.c - counts the matrix-multiply work of the image encoder from the
 * config alone, following the block structure of the official Hiera. */
#include "flops.h"

#include "two_way_implicit.h"

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

/* Attention cost for a (H, W) map in windows of `ws` (0 = global), with q
 * optionally pooled by `stride`; dim is the attention width. */
static double attention_flops(int H, int W, int ws, int stride, int dim) {
    double nq, nk, windows;
    if (ws > 0) {
        windows = (double)ceil_div(H, ws) * ceil_div(W, ws);
        nk = (double)ws * ws;
        nq = stride > 1 ? (double)(ws / stride) * (ws / stride) : nk;
    } else {
        windows = 1;
        nk = (double)H * W;
        nq = stride > 1 ? (double)(H / stride) * (W / stride) : nk;
    }
    return windows * 2.0 * (2.0 * nq * nk * dim); /* q k^T and (attn) v */
}

double encoder_flops(const sam2_config *c) {
    int H = c->image_size / 4, W = H; /* after patch embed */
    int dim = c->embed_dim;
    double f = 2.0 * H * W * dim * 3 * 49; /* 7x7 conv, 3 -> embed_dim */
    int n_blocks = sam2_config_n_blocks(c), stage = 0, ends = c->stages[0] - 1;
    int q_pool_done = 0;
    for (int i = 0; i < n_blocks; i++) {
        int enters = i > 0 && i - 1 == ends; /* first block of a new stage */
        int ws = c->window_spec[stage];      /* lags a stage, as in the official code */
        for (int g = 0; g < c->n_global_att_blocks; g++)
            if (c->global_att_blocks[g] == i) ws = 0;
        int dim_out = dim;
        if (enters) {
            stage++;
            ends += c->stages[stage];
            dim_out = sam2_config_stage_dim(c, stage);
        }
        int pool = enters && q_pool_done < c->q_pool;
        if (pool) q_pool_done++;
        int stride = pool ? c->q_stride[0] : 1;
        double n_in = (double)H * W;
        f += 2.0 * n_in * dim * 3 * dim_out; /* qkv */
        f += attention_flops(H, W, ws, stride, dim_out);
        if (dim != dim_out) f += 2.0 * n_in * dim * dim_out; /* shortcut proj */
        if (pool) H /= c->q_stride[0], W /= c->q_stride[1];
        double n_out = (double)H * W;
        f += 2.0 * n_out * dim_out * dim_out;          /* proj */
        f += 2.0 * 2.0 * n_out * dim_out * 4 * dim_out; /* MLP */
        dim = dim_out;
    }
    /* FPN laterals: level i at stride 4 * 2^i with the stage's channels */
    for (int s = 0; s < c->n_stages; s++) {
        int side = c->image_size / 4 >> s;
        f += 2.0 * side * side * sam2_config_stage_dim(c, s) * c->d_model;
    }
    if (c->use_high_res_features_in_sam) {
        int s0 = c->image_size / 4, s1 = c->image_size / 8;
        f += 2.0 * s0 * s0 * c->d_model * (c->d_model / 8);
        f += 2.0 * s1 * s1 * c->d_model * (c->d_model / 4);
    }
    return f;
}

double decoder_click_flops(const sam2_config *c, int n_sparse) {
    const int g = c->image_size / c->backbone_stride, HW = g * g, D = c->dec_depth;
    const int T = (c->pred_obj_scores ? 1 : 0) + 1 + (c->num_multimask_outputs + 1) + n_sparse;
    if (n_sparse < 1 || !twi_applies(c, T, HW)) return -1;
    const double d = c->d_model, I = d / c->dec_attn_downsample, H = c->dec_heads, hd = I / H, R = H * T;
    const double K0 = H * (T - 1) + 3; /* rows one image-to-token update adds to a click's state */
    const double upper = R * (R + 1) / 2; /* a quadratic form from its upper triangle */
    /* tokens, per layer: self attention (projections, scores, values),
     * cross-attention projections of the tokens (queries and outputs of
     * token-to-image, keys and values of image-to-token), MLP */
    double tok = D * (4 * T * d * d + 2 * T * T * d + 4 * T * d * I + 2 * T * d * c->dec_mlp_dim);
    tok += R * I * d + (D == 2 ? 2 : 1) * R * R * d; /* the first update's rows and Gram matrices */
    tok += 2 * d * I;                                 /* final attention of the IoU token */
    /* per pixel: layer 0's token-to-image attention on the shared tokens
     * (scores, values); its image-to-token update (scores, products with the
     * shared tokens, quadratic forms, column sums) */
    double px = 2 * R * hd;
    px += (D == 2 ? 3 : 2) * R * hd + (D == 2 ? 2 : 1) * upper + (D == 2 ? 8 : 3) * R;
    if (D == 2) {
        px += 2 * R * hd + 2 * R * K0 + R * hd;                   /* layer 1 token to image */
        px += 2 * R * hd + 2 * R * K0 + R * hd + upper + 4 * R;   /* layer 1 image to token */
    }
    px += 2 * H * hd + 2 * H * D * K0 + H * hd; /* the IoU token's final attention */
    return 2.0 * (tok + px * HW);
}
