/* fpn.c - the FPN neck: lateral 1x1 convolutions as GEMMs over
 * channels-first maps, fused with the top-down upsample-and-add. */
#include "fpn.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gemm.h"
#include "hugemem.h"

sam2_status fpn_bind(const sam2_config *c, wt_binder *b, fpn_weights *w) {
    memset(w, 0, sizeof *w);
    const int n = c->n_backbone_channels, d = c->d_model;
    if (n < 1 || n > SAM2_MAX_LEVELS || d < 1)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "FPN neck: %d backbone channels, d_model %d", n, d);
    w->n_levels = n, w->d_model = d;
    w->nearest = c->fpn_interp_nearest, w->avg = c->fpn_fuse_avg;
    for (int k = 0; k < n; k++) {
        int level = n - 1 - k; /* convs[k] serves backbone_channel_list[k], deepest first */
        w->in_c[level] = c->backbone_channel_list[k];
        SAM2_TRY(wt_bind4(b, &w->lateral_w[level], d, w->in_c[level], 1, 1, "image_encoder.neck.convs.%d.conv.weight", k));
        SAM2_TRY(wt_bind1(b, &w->lateral_b[level], d, "image_encoder.neck.convs.%d.conv.bias", k));
    }
    for (int i = 0; i < c->n_fpn_top_down_levels; i++) {
        int level = c->fpn_top_down_levels[i];
        if (level >= 0 && level < n) w->top_down[level] = 1;
    }
    return SAM2_OK;
}

void fpn_add_upsampled(float *dst, const float *prev, int C, int h, int w, int nearest, int n_threads) {
    const int H = 2 * h, W = 2 * w;
#pragma omp parallel for schedule(static) num_threads(n_threads) if ((long)C * H * W > 32768)
    for (int c = 0; c < C; c++) {
        const float *p = prev + (size_t)c * h * w;
        float *o = dst + (size_t)c * H * W;
        for (int y = 0; y < H; y++) {
            float *orow = o + (size_t)y * W;
            if (nearest) {
                const float *prow = p + (size_t)(y / 2) * w;
                for (int x = 0; x < W; x++) orow[x] += prow[x / 2];
                continue;
            }
            /* source coordinate 0.5 * (y + 0.5) - 0.5, clamped at 0 */
            float sy = ((float)y + 0.5f) * 0.5f - 0.5f;
            sy = sy < 0.0f ? 0.0f : sy;
            int y0 = (int)sy, y1 = y0 < h - 1 ? y0 + 1 : y0;
            float ly1 = sy - (float)y0, ly0 = 1.0f - ly1;
            const float *r0 = p + (size_t)y0 * w, *r1 = p + (size_t)y1 * w;
            for (int x = 0; x < W; x++) {
                float sx = ((float)x + 0.5f) * 0.5f - 0.5f;
                sx = sx < 0.0f ? 0.0f : sx;
                int x0 = (int)sx, x1 = x0 < w - 1 ? x0 + 1 : x0;
                float lx1 = sx - (float)x0, lx0 = 1.0f - lx1;
                orow[x] += ly0 * (lx0 * r0[x0] + lx1 * r0[x1]) + ly1 * (lx0 * r1[x0] + lx1 * r1[x1]);
            }
        }
    }
}

sam2_status fpn_run(const fpn_weights *w, float *const *x, const int *h, const int *wd, const int *skip,
                    int n_threads, float *out[SAM2_MAX_LEVELS]) {
    const int n = w->n_levels, d = w->d_model;
    for (int i = 0; i < SAM2_MAX_LEVELS; i++) out[i] = NULL;
    sam2_status st = SAM2_OK;
    for (int i = n - 1; i >= 0; i--) {
        if (skip && skip[i]) continue;
        const int64_t hw = (int64_t)h[i] * wd[i];
        const int fuse = w->top_down[i] && i < n - 1;
        if (fuse && (h[i] != 2 * h[i + 1] || wd[i] != 2 * wd[i + 1])) {
            st = SAM2_FAIL(SAM2_ERR_CONFIG, "FPN level %d is %dx%d but the upsampled level %d is %dx%d", i, h[i], wd[i],
                           i + 1, 2 * h[i + 1], 2 * wd[i + 1]);
            break;
        }
        float *o = out[i] = huge_alloc(sizeof(float) * (size_t)(d * hw)); /* (d, h*w) */
        if (!o) {
            st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for FPN level %d", i);
            break;
        }
        /* o = bias (+ upsampled deeper level), then o += W x; "avg" halves
         * both parts */
        const float half = w->avg && fuse ? 0.5f : 1.0f;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (d * hw > 32768)
        for (int c = 0; c < d; c++)
            for (int64_t p = 0; p < hw; p++) o[c * hw + p] = w->lateral_b[i][c];
        if (fuse) fpn_add_upsampled(o, out[i + 1], d, h[i + 1], wd[i + 1], w->nearest, n_threads);
        if (half != 1.0f)
            for (int64_t k = 0; k < d * hw; k++) o[k] *= half;
        gemm(0, 0, d, (int)hw, w->in_c[i], half, w->lateral_w[i], w->in_c[i], x[i], (int)hw, 1.0f, o, (int)hw);
    }
    if (st != SAM2_OK)
        for (int i = 0; i < SAM2_MAX_LEVELS; i++) free(out[i]), out[i] = NULL;
    return st;
}

/* Columns per block: a block of the level (d x FPN_BLOCK floats, 256 KiB
 * at d = 256) stays in cache between its two products. */
#define FPN_BLOCK 256

sam2_status fpn_level_conv(const fpn_weights *w, int i, const float *x, int hw, const float *cw, const float *cb,
                           int cout, int n_threads, float *out) {
    const int d = w->d_model, cin = w->in_c[i], nb = (hw + FPN_BLOCK - 1) / FPN_BLOCK;
    /* blocks side by side, each product on one thread, when the BLAS allows */
    const int team = gemm_nested_ok() && n_threads > 1 ? n_threads : 1;
    float *blk = malloc(sizeof(float) * (size_t)d * FPN_BLOCK * team);
    if (!blk) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for FPN level %d", i);
#pragma omp parallel for schedule(static) num_threads(team) if (team > 1)
    for (int b = 0; b < nb; b++) {
        const int p0 = b * FPN_BLOCK, np = hw - p0 < FPN_BLOCK ? hw - p0 : FPN_BLOCK;
        float *t = blk + (size_t)d * FPN_BLOCK * (team > 1 ? omp_get_thread_num() : 0);
        for (int c = 0; c < d; c++)
            for (int p = 0; p < np; p++) t[(size_t)c * np + p] = w->lateral_b[i][c];
        gemm(0, 0, d, np, cin, 1.0f, w->lateral_w[i], cin, x + p0, hw, 1.0f, t, np);
        for (int c = 0; c < cout; c++)
            for (int p = 0; p < np; p++) out[(size_t)c * hw + p0 + p] = cb[c];
        gemm(0, 0, cout, np, d, 1.0f, cw, d, t, np, 1.0f, out + p0, hw);
    }
    free(blk);
    return SAM2_OK;
}
