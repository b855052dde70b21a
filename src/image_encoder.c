/* image_encoder.c - the whole image encoder as the image predictor uses it:
 * Hiera trunk, FPN neck, scalp, sine position encodings, image_embed (+
 * no_mem_embed) and the high-resolution features through conv_s0/conv_s1. */
#include "image_encoder.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gemm.h"
#include "hugemem.h"
#include "position_encoding.h"

sam2_status image_encoder_bind(const sam2_config *c, wt_binder *b, image_encoder_weights *w) {
    memset(w, 0, sizeof *w);
    SAM2_TRY(hiera_bind(c, b, &w->trunk));
    const int n = c->n_stages, d = c->d_model;
    if (c->n_backbone_channels != n)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "backbone_channel_list has %d entries but the trunk has %d stages",
                         c->n_backbone_channels, n);
    for (int k = 0; k < n; k++)
        if (c->backbone_channel_list[k] != w->trunk.stage_c[n - 1 - k])
            return SAM2_FAIL(SAM2_ERR_CONFIG, "backbone_channel_list[%d] = %d but the trunk gives %d channels there", k,
                             c->backbone_channel_list[k], w->trunk.stage_c[n - 1 - k]);
    SAM2_TRY(fpn_bind(c, b, &w->neck));
    const hiera_weights *t = &w->trunk;
    for (int i = 0; i + 1 < n; i++)
        if (w->neck.top_down[i] && (t->stage_h[i] != 2 * t->stage_h[i + 1] || t->stage_w[i] != 2 * t->stage_w[i + 1]))
            return SAM2_FAIL(SAM2_ERR_CONFIG,
                             "fpn_top_down_levels includes level %d (%dx%d) but level %d is %dx%d, not half its size",
                             i, t->stage_h[i], t->stage_w[i], i + 1, t->stage_h[i + 1], t->stage_w[i + 1]);
    w->scalp = c->scalp;
    const int kept = n - c->scalp;
    if (c->scalp < 0 || kept < 1)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "scalp %d leaves %d of %d feature levels", c->scalp, kept, n);
    w->pos_feats = c->pos_num_pos_feats;
    w->pos_temperature = c->pos_temperature, w->pos_scale = c->pos_scale, w->pos_normalize = c->pos_normalize;
    if (w->pos_feats < 2 || w->pos_feats % 2)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "position_encoding num_pos_feats %d must be even", w->pos_feats);
    w->use_high_res = c->use_high_res_features_in_sam;
    w->add_no_mem = c->directly_add_no_mem_embed;
    if (w->use_high_res) {
        /* the predictor takes the last 3 levels and convolves levels 0 and 1 */
        if (kept != 3)
            return SAM2_FAIL(SAM2_ERR_CONFIG,
                             "use_high_res_features_in_sam needs exactly 3 feature levels after scalp (got %d)", kept);
        if (d % 8) return SAM2_FAIL(SAM2_ERR_CONFIG, "d_model %d must be a multiple of 8 for conv_s0/conv_s1", d);
        SAM2_TRY(wt_bind4(b, &w->conv_s0_w, d / 8, d, 1, 1, "sam_mask_decoder.conv_s0.weight"));
        SAM2_TRY(wt_bind1(b, &w->conv_s0_b, d / 8, "sam_mask_decoder.conv_s0.bias"));
        SAM2_TRY(wt_bind4(b, &w->conv_s1_w, d / 4, d, 1, 1, "sam_mask_decoder.conv_s1.weight"));
        SAM2_TRY(wt_bind1(b, &w->conv_s1_b, d / 4, "sam_mask_decoder.conv_s1.bias"));
    }
    SAM2_TRY(wt_bind3(b, &w->no_mem_embed, 1, 1, d, "no_mem_embed"));
    return SAM2_OK;
}

/* out (Cout, HW) = W (Cout, Cin) @ in (Cin, HW) + b: a 1x1 convolution of a
 * channels-first map. */
static void conv1x1(const float *in, int Cin, int HW, const float *wt, const float *bias, int Cout, float *out) {
    for (int o = 0; o < Cout; o++)
        for (int p = 0; p < HW; p++) out[(size_t)o * HW + p] = bias[o];
    gemm(0, 0, Cout, HW, Cin, 1.0f, wt, Cin, in, HW, 1.0f, out, HW);
}

/* The predictor's features: image_embed and the two convolved high-res
 * levels (from the trunk straight away for a level fpn_run skipped). */
static sam2_status predictor_features(const image_encoder_weights *w, int n_threads, encoder_output *out) {
    const int d = w->neck.d_model, last = out->n_levels - 1;
    const int64_t e = (int64_t)out->fpn_h[last] * out->fpn_w[last];
    out->image_embed = huge_alloc(sizeof(float) * (size_t)(d * e)); /* (d, e) */
    if (!out->image_embed) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for image_embed");
    for (int c = 0; c < d; c++) {
        float add = w->add_no_mem ? w->no_mem_embed[c] : 0.0f;
        const float *src = out->fpn[last] + c * e;
        float *dst = out->image_embed + c * e;
        for (int64_t p = 0; p < e; p++) dst[p] = src[p] + add;
    }
    if (!w->use_high_res) return SAM2_OK;
    for (int k = 0; k < 2; k++) {
        int cout = k ? d / 4 : d / 8, hw = out->fpn_h[k] * out->fpn_w[k];
        out->high_res[k] = huge_alloc(sizeof(float) * (size_t)cout * hw); /* (cout, hw) */
        if (!out->high_res[k]) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for high_res_feats_%d", k);
        const float *cw = k ? w->conv_s1_w : w->conv_s0_w, *cb = k ? w->conv_s1_b : w->conv_s0_b;
        if (out->fpn[k]) conv1x1(out->fpn[k], d, hw, cw, cb, cout, out->high_res[k]);
        else SAM2_TRY(fpn_level_conv(&w->neck, k, out->trunk[k], hw, cw, cb, cout, n_threads, out->high_res[k]));
    }
    return SAM2_OK;
}

sam2_status image_encoder_run(const sam2_config *cfg, const image_encoder_weights *w, const float *input,
                              int n_threads, int intermediates, hiera_scratch *keep, const hiera_bf16 *bf16,
                              encoder_output *out) {
    (void)cfg;
    memset(out, 0, sizeof *out);
    if (n_threads < 1) n_threads = 1;
    const hiera_weights *t = &w->trunk;
    SAM2_TRY(hiera_run(t, input, n_threads, out->trunk, keep, bf16));
    out->n_trunk = t->n_stages;
    for (int i = 0; i < t->n_stages; i++)
        out->trunk_c[i] = t->stage_c[i], out->trunk_h[i] = t->stage_h[i], out->trunk_w[i] = t->stage_w[i];

    /* the predictor alone needs levels 0 and 1 only through conv_s0/s1: a
     * level that neither receives nor gives a top-down fusion goes from the
     * trunk through both convolutions block by block, never whole (it would
     * be the largest array of the run) */
    int skip[SAM2_MAX_LEVELS] = {0};
    for (int k = 0; k < 2 && w->use_high_res && !intermediates; k++)
        skip[k] = !w->neck.top_down[k] && (k == 0 || !w->neck.top_down[k - 1]);
    float *levels[SAM2_MAX_LEVELS];
    sam2_status st = fpn_run(&w->neck, out->trunk, out->trunk_h, out->trunk_w, skip, n_threads, levels);
    if (st != SAM2_OK) {
        encoder_output_free(out);
        return st;
    }
    const int kept = w->neck.n_levels - w->scalp;
    out->n_levels = kept;
    out->pos_c = w->pos_feats;
    for (int i = 0; i < w->neck.n_levels; i++) {
        if (i >= kept) {
            free(levels[i]);
            continue;
        }
        out->fpn[i] = levels[i];
        out->fpn_h[i] = out->trunk_h[i], out->fpn_w[i] = out->trunk_w[i];
    }
    for (int i = 0; i < kept && st == SAM2_OK && intermediates; i++) {
        out->pos[i] = huge_alloc(sizeof(float) * (size_t)w->pos_feats * out->fpn_h[i] * out->fpn_w[i]);
        st = out->pos[i] ? pe_sine(w->pos_feats, w->pos_temperature, w->pos_normalize, w->pos_scale, out->fpn_h[i],
                                   out->fpn_w[i], out->pos[i], n_threads)
                         : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for vision_pos_enc_%d", i);
    }
    if (st == SAM2_OK) st = predictor_features(w, n_threads, out);
    if (st != SAM2_OK) encoder_output_free(out);
    if (st == SAM2_OK && !intermediates) /* the predictor needs none of these */
        for (int i = 0; i < SAM2_MAX_STAGES; i++) {
            free(out->trunk[i]), out->trunk[i] = NULL;
            if (i < SAM2_MAX_LEVELS) free(out->fpn[i]), out->fpn[i] = NULL;
        }
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
