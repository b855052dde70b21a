/* image_encoder.c - the FPN neck on top of the Hiera trunk, the sine position
 * encodings, and the features the image predictor keeps. */
#include "image_encoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gemm.h"

sam2_status image_encoder_bind(const sam2_config *c, wt_binder *b, image_encoder_weights *w) {
    memset(w, 0, sizeof *w);
    SAM2_TRY(hiera_bind(c, b, w));
    const int d = c->d_model;
    for (int k = 0; k < c->n_backbone_channels; k++) {
        SAM2_TRY(wt_bind4(b, &w->lateral_w[k], d, c->backbone_channel_list[k], 1, 1, "image_encoder.neck.convs.%d.conv.weight", k));
        SAM2_TRY(wt_bind1(b, &w->lateral_b[k], d, "image_encoder.neck.convs.%d.conv.bias", k));
    }
    if (c->use_high_res_features_in_sam) {
        SAM2_TRY(wt_bind4(b, &w->conv_s0_w, d / 8, d, 1, 1, "sam_mask_decoder.conv_s0.weight"));
        SAM2_TRY(wt_bind1(b, &w->conv_s0_b, d / 8, "sam_mask_decoder.conv_s0.bias"));
        SAM2_TRY(wt_bind4(b, &w->conv_s1_w, d / 4, d, 1, 1, "sam_mask_decoder.conv_s1.weight"));
        SAM2_TRY(wt_bind1(b, &w->conv_s1_b, d / 4, "sam_mask_decoder.conv_s1.bias"));
    }
    SAM2_TRY(wt_bind3(b, &w->no_mem_embed, 1, 1, d, "no_mem_embed"));
    return SAM2_OK;
}

/* 1x1 convolution of a (Cin, HW) map: out (Cout, HW) = W (Cout, Cin) @ in + b. */
static void conv1x1(const float *in, int Cin, int HW, const float *wt, const float *bias, int Cout, float *out) {
    for (int o = 0; o < Cout; o++)
        for (int p = 0; p < HW; p++) out[(size_t)o * HW + p] = bias[o];
    gemm(0, 0, Cout, HW, Cin, 1.0f, wt, Cin, in, HW, 1.0f, out, HW);
}

/* Adds the 2x upsampling of prev (C, h, w) to lat (C, 2h, 2w): nearest, or
 * bilinear with half-pixel centres (align_corners=False). */
static void add_upsampled(float *lat, const float *prev, int C, int h, int w, int nearest) {
    const int H = 2 * h, W = 2 * w;
    for (int c = 0; c < C; c++) {
        const float *p = prev + (size_t)c * h * w;
        float *o = lat + (size_t)c * H * W;
        for (int y = 0; y < H; y++) {
            if (nearest) {
                for (int x = 0; x < W; x++) o[y * W + x] += p[(y / 2) * w + x / 2];
                continue;
            }
            float sy = (y + 0.5f) * 0.5f - 0.5f;
            if (sy < 0) sy = 0;
            int y0 = (int)sy, y1 = y0 < h - 1 ? y0 + 1 : y0;
            float ly = sy - y0;
            for (int x = 0; x < W; x++) {
                float sx = (x + 0.5f) * 0.5f - 0.5f;
                if (sx < 0) sx = 0;
                int x0 = (int)sx, x1 = x0 < w - 1 ? x0 + 1 : x0;
                float lx = sx - x0;
                o[y * W + x] += (1 - ly) * ((1 - lx) * p[y0 * w + x0] + lx * p[y0 * w + x1]) +
                                ly * ((1 - lx) * p[y1 * w + x0] + lx * p[y1 * w + x1]);
            }
        }
    }
}

/* PositionEmbeddingSine of a (d, H, W) map: first d/2 channels encode y,
 * the rest x; even channels sin, odd cos (float32 like the reference). */
static void sine_position(const sam2_config *c, int H, int W, float *out) {
    const int npf = c->pos_num_pos_feats / 2;
    float *dim_t = malloc(sizeof(float) * npf);
    if (!dim_t) return;
    for (int k = 0; k < npf; k++) dim_t[k] = powf(c->pos_temperature, (float)(2 * (k / 2)) / (float)npf);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float ye = (float)(y + 1), xe = (float)(x + 1);
            if (c->pos_normalize) {
                ye = ye / ((float)H + 1e-6f) * c->pos_scale;
                xe = xe / ((float)W + 1e-6f) * c->pos_scale;
            }
            for (int k = 0; k < npf; k++) {
                float vy = ye / dim_t[k], vx = xe / dim_t[k];
                out[((size_t)k * H + y) * W + x] = (k % 2) ? cosf(vy) : sinf(vy);
                out[((size_t)(npf + k) * H + y) * W + x] = (k % 2) ? cosf(vx) : sinf(vx);
            }
        }
    free(dim_t);
}

static int is_top_down(const sam2_config *c, int level) {
    for (int i = 0; i < c->n_fpn_top_down_levels; i++)
        if (c->fpn_top_down_levels[i] == level) return 1;
    return 0;
}

sam2_status image_encoder_run(const sam2_config *c, const image_encoder_weights *w, const float *input,
                              int n_threads, encoder_output *out) {
    memset(out, 0, sizeof *out);
    sam2_status st = hiera_run(c, w, input, n_threads, out);
    const int d = c->d_model, n = c->n_stages;
    float *level[SAM2_MAX_LEVELS] = {0};
    const float *prev = NULL;
    for (int i = n - 1; i >= 0 && st == SAM2_OK; i--) {
        int H = out->trunk_h[i], W = out->trunk_w[i];
        level[i] = malloc(sizeof(float) * (size_t)d * H * W);
        if (!level[i]) {
            st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in the FPN neck");
            break;
        }
        conv1x1(out->trunk[i], out->trunk_c[i], H * W, w->lateral_w[n - 1 - i], w->lateral_b[n - 1 - i], d, level[i]);
        if (prev && is_top_down(c, i)) {
            add_upsampled(level[i], prev, d, out->trunk_h[i + 1], out->trunk_w[i + 1], c->fpn_interp_nearest);
            if (c->fpn_fuse_avg)
                for (size_t k = 0; k < (size_t)d * H * W; k++) level[i][k] *= 0.5f;
        }
        prev = level[i];
    }
    int kept = n - c->scalp;
    for (int i = 0; i < n; i++) {
        if (i < kept && st == SAM2_OK) {
            out->fpn[i] = level[i];
            out->fpn_h[i] = out->trunk_h[i], out->fpn_w[i] = out->trunk_w[i];
            out->pos[i] = malloc(sizeof(float) * (size_t)d * out->fpn_h[i] * out->fpn_w[i]);
            if (!out->pos[i]) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in the FPN neck");
            else sine_position(c, out->fpn_h[i], out->fpn_w[i], out->pos[i]);
        } else {
            free(level[i]);
        }
    }
    out->n_levels = kept;
    if (st == SAM2_OK) {
        int e = out->fpn_h[kept - 1] * out->fpn_w[kept - 1];
        out->image_embed = malloc(sizeof(float) * (size_t)d * e);
        if (!out->image_embed) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in the encoder");
        for (int ch = 0; st == SAM2_OK && ch < d; ch++)
            for (int p = 0; p < e; p++)
                out->image_embed[(size_t)ch * e + p] =
                    out->fpn[kept - 1][(size_t)ch * e + p] + (c->directly_add_no_mem_embed ? w->no_mem_embed[ch] : 0.0f);
    }
    if (st == SAM2_OK && c->use_high_res_features_in_sam) {
        int n0 = out->fpn_h[0] * out->fpn_w[0], n1 = out->fpn_h[1] * out->fpn_w[1];
        out->high_res[0] = malloc(sizeof(float) * (size_t)(d / 8) * n0);
        out->high_res[1] = malloc(sizeof(float) * (size_t)(d / 4) * n1);
        if (!out->high_res[0] || !out->high_res[1]) {
            st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in the encoder");
        } else {
            conv1x1(out->fpn[0], d, n0, w->conv_s0_w, w->conv_s0_b, d / 8, out->high_res[0]);
            conv1x1(out->fpn[1], d, n1, w->conv_s1_w, w->conv_s1_b, d / 4, out->high_res[1]);
        }
    }
    if (st != SAM2_OK) encoder_output_free(out);
    return st;
}

void encoder_output_free(encoder_output *out) {
    if (!out) return;
    for (int i = 0; i < SAM2_MAX_STAGES; i++) free(out->trunk[i]);
    for (int i = 0; i < SAM2_MAX_LEVELS; i++) {
        free(out->fpn[i]);
        free(out->pos[i]);
    }
    free(out->image_embed);
    free(out->high_res[0]);
    free(out->high_res[1]);
    memset(out, 0, sizeof *out);
}
