/* prompt_encoder.c - the official PromptEncoder: random Fourier features of
 * point coordinates plus learned label embeddings, and the mask branch. */
#include "prompt_encoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gemm.h"
#include "ops.h"

/* Binds the sam_prompt_encoder.* tensors, checking every shape. */
sam2_status prompt_encoder_bind(const sam2_config *c, wt_binder *b, prompt_encoder_weights *w) {
    memset(w, 0, sizeof *w);
    const int d = c->d_model, mc = c->mask_in_chans;
    const char *P = "sam_prompt_encoder";
    SAM2_TRY(wt_bind2(b, &w->gaussian, 2, d / 2, "%s.pe_layer.positional_encoding_gaussian_matrix", P));
    for (int i = 0; i < 4; i++) SAM2_TRY(wt_bind2(b, &w->point_embed[i], 1, d, "%s.point_embeddings.%d.weight", P, i));
    SAM2_TRY(wt_bind2(b, &w->not_a_point, 1, d, "%s.not_a_point_embed.weight", P));
    SAM2_TRY(wt_bind2(b, &w->no_mask, 1, d, "%s.no_mask_embed.weight", P));
    SAM2_TRY(wt_bind4(b, &w->md0_w, mc / 4, 1, 2, 2, "%s.mask_downscaling.0.weight", P));
    SAM2_TRY(wt_bind1(b, &w->md0_b, mc / 4, "%s.mask_downscaling.0.bias", P));
    SAM2_TRY(wt_bind1(b, &w->ln0_w, mc / 4, "%s.mask_downscaling.1.weight", P));
    SAM2_TRY(wt_bind1(b, &w->ln0_b, mc / 4, "%s.mask_downscaling.1.bias", P));
    SAM2_TRY(wt_bind4(b, &w->md1_w, mc, mc / 4, 2, 2, "%s.mask_downscaling.3.weight", P));
    SAM2_TRY(wt_bind1(b, &w->md1_b, mc, "%s.mask_downscaling.3.bias", P));
    SAM2_TRY(wt_bind1(b, &w->ln1_w, mc, "%s.mask_downscaling.4.weight", P));
    SAM2_TRY(wt_bind1(b, &w->ln1_b, mc, "%s.mask_downscaling.4.bias", P));
    SAM2_TRY(wt_bind4(b, &w->md2_w, d, mc, 1, 1, "%s.mask_downscaling.6.weight", P));
    SAM2_TRY(wt_bind1(b, &w->md2_b, d, "%s.mask_downscaling.6.bias", P));
    return SAM2_OK;
}

/* sin/cos of 2*pi * ((2u - 1, 2v - 1) @ G) for normalised (u, v). */
static void fourier(const float *G, int npf, float u, float v, float *out) {
    u = 2.0f * u - 1.0f;
    v = 2.0f * v - 1.0f;
    for (int k = 0; k < npf; k++) {
        float t = u * G[k] + v * G[npf + k];
        t = 6.283185307179586f * t;
        out[k] = sinf(t);
        out[npf + k] = cosf(t);
    }
}

/* Coordinates are divided by S (the official forward_with_coords). */
void prompt_pe_points(const sam2_config *c, const prompt_encoder_weights *w, const float *xy, int n, float *out) {
    const int npf = c->d_model / 2;
    const float S = (float)c->image_size;
    for (int i = 0; i < n; i++) fourier(w->gaussian, npf, xy[2 * i] / S, xy[2 * i + 1] / S, out + (size_t)i * c->d_model);
}

/* Grid cell centres (x + 0.5) / g, (y + 0.5) / g, as the official cumsum - 0.5. */
void prompt_dense_pe(const sam2_config *c, const prompt_encoder_weights *w, float *out) {
    const int g = c->image_size / c->backbone_stride, npf = c->d_model / 2;
#pragma omp parallel for schedule(static) if ((int64_t)g * g * npf > 65536)
    for (int y = 0; y < g; y++)
        for (int x = 0; x < g; x++)
            fourier(w->gaussian, npf, ((float)x + 0.5f) / (float)g, ((float)y + 0.5f) / (float)g,
                    out + ((size_t)y * g + x) * c->d_model);
}

/* Padding points (label -1) take not_a_point_embed instead of an encoding;
 * labels 0..3 add their learned embedding. */
void prompt_embed_sparse(const sam2_config *c, const prompt_encoder_weights *w, const float *xy, const int *labels,
                         int n, float *out) {
    const int d = c->d_model;
    for (int i = 0; i < n; i++) {
        float *o = out + (size_t)i * d;
        if (labels[i] == -1) {
            memcpy(o, w->not_a_point, sizeof(float) * d);
            continue;
        }
        float p[2] = {xy[2 * i] + 0.5f, xy[2 * i + 1] + 0.5f};
        prompt_pe_points(c, w, p, 1, o);
        if (labels[i] >= 0 && labels[i] <= 3) op_add(o, w->point_embed[labels[i]], d);
    }
}

/* 2x2 stride-2 convolution of (Cin, H, W) into (Cout, H/2, W/2). */
static void conv2x2s2(const float *in, int Cin, int H, int W, const float *wt, const float *b, int Cout, float *out) {
    const int Ho = H / 2, Wo = W / 2;
    for (int o = 0; o < Cout; o++)
        for (int y = 0; y < Ho; y++)
            for (int x = 0; x < Wo; x++) {
                float acc = b[o];
                for (int i = 0; i < Cin; i++) {
                    const float *k = wt + ((size_t)o * Cin + i) * 4;
                    const float *p = in + ((size_t)i * H + 2 * y) * W + 2 * x;
                    acc += k[0] * p[0] + k[1] * p[1] + k[2] * p[W] + k[3] * p[W + 1];
                }
                out[((size_t)o * Ho + y) * Wo + x] = acc;
            }
}

/* The official mask_downscaling: conv 2x2/2, LayerNorm2d, GELU, conv 2x2/2,
 * LayerNorm2d, GELU, conv 1x1. */
sam2_status prompt_embed_mask(const sam2_config *c, const prompt_encoder_weights *w, const float *mask, float *out) {
    const int L = c->image_size / 4, mc = c->mask_in_chans, d = c->d_model, h1 = L / 2, h2 = L / 4;
    float *a = malloc(sizeof(float) * (size_t)(mc / 4) * h1 * h1); /* (c/4, L/2, L/2) */
    float *b = malloc(sizeof(float) * (size_t)mc * h2 * h2);       /* (c, L/4, L/4) */
    if (!a || !b) {
        free(a), free(b);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in the mask encoder");
    }
    conv2x2s2(mask, 1, L, L, w->md0_w, w->md0_b, mc / 4, a);
    op_layernorm2d(a, mc / 4, (int64_t)h1 * h1, w->ln0_w, w->ln0_b, 1e-6f);
    op_gelu_vec(a, (int64_t)(mc / 4) * h1 * h1);
    conv2x2s2(a, mc / 4, h1, h1, w->md1_w, w->md1_b, mc, b);
    op_layernorm2d(b, mc, (int64_t)h2 * h2, w->ln1_w, w->ln1_b, 1e-6f);
    op_gelu_vec(b, (int64_t)mc * h2 * h2);
    /* 1x1 convolution: out (d, HW) = W (d, mc) @ b (mc, HW) + bias */
    for (int o = 0; o < d; o++)
        for (int p = 0; p < h2 * h2; p++) out[(size_t)o * h2 * h2 + p] = w->md2_b[o];
    gemm(0, 0, d, h2 * h2, mc, 1.0f, w->md2_w, mc, b, h2 * h2, 1.0f, out, h2 * h2);
    free(a), free(b);
    return SAM2_OK;
}
