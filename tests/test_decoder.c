/* test_decoder.c - prompt encoder + mask decoder + predictor parity with the
 * official SAM2ImagePredictor.predict on every golden prompt case, fed with
 * the golden image features (the encoder is not run); batched decoding
 * equals one-at-a-time; hole / sprinkle removal leaves the returned low-res
 * logits alone; bad prompts are refused with a message naming the problem. */
#include <cjson/cJSON.h>
#include <math.h>

#include "image_io.h"
#include "model.h"
#include "ops.h"
#include "postprocess.h"
#include "prompt_encoder.h"
#include "predictor.h"
#include "test.h"
#include "two_way_implicit.h"
#include "two_way_transformer.h"

/* Loads a golden .npy file into a malloc'd array (NULL if absent). */
static float *load(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!test_file_exists(path)) return NULL;
    npy_array a;
    if (npy_read(path, &a) != SAM2_OK) return NULL;
    return a.data;
}

/* Puts the golden features of one image into the context, as set_image
 * would. */
static int set_golden_features(sam2_ctx *ctx, const char *dir, int w, int h) {
    encoder_output_free(&ctx->enc);
    ctx_features_changed(ctx);
    ctx->enc.image_embed = load(dir, "image_embed.npy");
    ctx->enc.high_res[0] = load(dir, "high_res_feats_0.npy");
    ctx->enc.high_res[1] = load(dir, "high_res_feats_1.npy");
    ctx->orig_w = w, ctx->orig_h = h;
    ctx->has_image = ctx->enc.image_embed && ctx->enc.high_res[0] && ctx->enc.high_res[1];
    return ctx->has_image;
}

static cJSON *read_json(const char *path) {
    char *s = test_read_file(path, NULL);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    free(s);
    return j;
}

/* Compares our binary masks with the golden PNGs. A flipped pixel is
 * acceptable only where the golden logit (logits.npy), or ours when the case
 * has none, is within 1e-3 of the threshold. Returns the flips. */
static long compare_masks(const char *cdir, const char *name, const sam2_prediction *out, const float *want_logits) {
    const long wh = (long)out->width * out->height;
    long flipped = 0;
    for (int k = 0; k < out->n_masks; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/mask_%d.png", cdir, k);
        image_file f;
        if (image_file_read(path, &f) != SAM2_OK) {
            CHECK(0, "cannot read %s: %s", path, sam2_last_error());
            continue;
        }
        CHECK(f.width == out->width && f.height == out->height && f.channels == 1, "%s: %d x %d x %d", path, f.width,
              f.height, f.channels);
        long unexplained = 0, n = 0;
        for (long i = 0; i < wh && f.channels == 1 && f.width == out->width && f.height == out->height; i++) {
            int want = f.pixels[i] > 127, got = out->masks[(size_t)k * wh + i];
            if (want == got) continue;
            n++;
            float lg = want_logits ? want_logits[(size_t)k * wh + i] : out->logits[(size_t)k * wh + i];
            if (fabsf(lg) > 1e-3f) unexplained++;
        }
        if (n) printf("  %-48s %ld pixels flipped (of %ld)\n", name, n, wh);
        flipped += n;
        CHECK(unexplained == 0, "%s mask %d: %ld flipped pixels away from the threshold", name, k, unexplained);
        image_file_free(&f);
    }
    return flipped;
}

/* Runs one prompt case of prompts.json and compares every output. */
static void run_case(sam2_ctx *ctx, const char *dir, const cJSON *cs, int *n_cases, long *flipped_total) {
    const char *name = cJSON_GetObjectItem(cs, "name")->valuestring;
    char cdir[4096];
    snprintf(cdir, sizeof cdir, "%s/prompts/%s", dir, name);
    const cJSON *pc = cJSON_GetObjectItem(cs, "point_coords"), *pl = cJSON_GetObjectItem(cs, "point_labels");
    const cJSON *box = cJSON_GetObjectItem(cs, "box");
    float pts[64];
    int labels[32];
    sam2_prompt pr = sam2_prompt_default();
    int n = pc ? cJSON_GetArraySize(pc) : 0;
    CHECK(n <= 32, "%s: %d points", name, n);
    for (int i = 0; i < n && i < 32; i++) {
        pts[2 * i] = (float)cJSON_GetArrayItem(cJSON_GetArrayItem(pc, i), 0)->valuedouble;
        pts[2 * i + 1] = (float)cJSON_GetArrayItem(cJSON_GetArrayItem(pc, i), 1)->valuedouble;
        labels[i] = cJSON_GetArrayItem(pl, i)->valueint;
    }
    pr.points = pts, pr.labels = labels, pr.n_points = n < 32 ? n : 32;
    if (box) {
        pr.has_box = 1;
        for (int k = 0; k < 4; k++) pr.box[k] = (float)cJSON_GetArrayItem(box, k)->valuedouble;
    }
    pr.multimask = cJSON_IsTrue(cJSON_GetObjectItem(cs, "multimask_output"));
    float *mask_in = cJSON_GetObjectItem(cs, "mask_input_from") ? load(cdir, "mask_input.npy") : NULL;
    CHECK(!cJSON_GetObjectItem(cs, "mask_input_from") || mask_in, "%s: mask_input.npy missing", cdir);
    pr.mask_input = mask_in;
    sam2_predict_params pp = sam2_predict_default_params();
    pp.want_logits = 1;
    sam2_prediction out;
    sam2_status st = sam2_predict(ctx, &pr, &pp, &out);
    CHECK(st == SAM2_OK, "%s: %s", cdir, sam2_last_error());
    if (st != SAM2_OK) {
        free(mask_in);
        return;
    }
    (*n_cases)++;
    char label[256];
    float *want_lr = load(cdir, "low_res_masks.npy"), *want_iou = load(cdir, "iou_predictions.npy");
    float *want_logits = load(cdir, "logits.npy");
    const int L = out.low_res_size, w = out.width, h = out.height;
    const int want_n = cJSON_GetObjectItem(cJSON_GetObjectItem(cs, "outputs"), "num_masks")->valueint;
    CHECK(out.n_masks == want_n, "%s: %d masks, expected %d", name, out.n_masks, want_n);
    snprintf(label, sizeof label, "%s low_res_masks", name);
    CHECK(want_lr && test_compare(label, out.low_res, want_lr, (int64_t)out.n_masks * L * L, 5e-3f, 0), "%s", label);
    snprintf(label, sizeof label, "%s iou_predictions", name);
    CHECK(want_iou && test_compare(label, out.iou, want_iou, out.n_masks, 1e-4f, 0), "%s", label);
    if (want_logits) {
        snprintf(label, sizeof label, "%s logits", name);
        CHECK(test_compare(label, out.logits, want_logits, (int64_t)out.n_masks * w * h, 5e-3f, 0), "%s", label);
    }
    *flipped_total += compare_masks(cdir, name, &out, want_logits);
    free(want_lr), free(want_iou), free(want_logits), free(mask_in);
    sam2_prediction_free(&out);
}

/* Largest |a - b| over n values. */
static double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* predictor_decode of B prompts at once (more than one decoder group)
 * equals decoding them one by one: with a box and two clicks each, with
 * mask inputs, and box-only. */
static void check_batching(sam2_ctx *ctx) {
    const int B = 70, N = 2, L = ctx->model->cfg.image_size / 4, M = 3;
    const size_t LL = (size_t)L * L;
    float *pts = malloc(sizeof(float) * B * N * 2), *boxes = malloc(sizeof(float) * B * 4);
    int *labels = malloc(sizeof(int) * B * N);
    float *lo = malloc(sizeof(float) * B * M * LL), *iou = malloc(sizeof(float) * B * M), *obj = malloc(sizeof(float) * B);
    float *lo1 = malloc(sizeof(float) * M * LL), iou1[3], obj1;
    float *mask_in = malloc(sizeof(float) * 3 * LL);
    const float W = (float)ctx->orig_w, H = (float)ctx->orig_h;
    for (int b = 0; b < B; b++) {
        float x = W * (float)((b * 37) % 97) / 97.0f, y = H * (float)((b * 53) % 89) / 89.0f;
        pts[4 * b] = x, pts[4 * b + 1] = y, labels[2 * b] = 1;
        pts[4 * b + 2] = W - 1 - x, pts[4 * b + 3] = y * 0.5f, labels[2 * b + 1] = b % 2;
        boxes[4 * b] = x * 0.5f, boxes[4 * b + 1] = y * 0.5f, boxes[4 * b + 2] = x * 0.5f + W / 3, boxes[4 * b + 3] = y * 0.5f + H / 4;
    }
    for (size_t i = 0; i < 3 * LL; i++) mask_in[i] = 8.0f * sinf((float)i * 0.001f + (float)(i / LL));
    CHECK_OK(predictor_decode(ctx, B, N, pts, labels, boxes, NULL, 1, lo, iou, obj));
    double dl = 0, di = 0;
    for (int b = 0; b < B; b += 23) { /* 0, 23, 46, 69: across decoder groups */
        CHECK_OK(predictor_decode(ctx, 1, N, pts + 4 * b, labels + 2 * b, boxes + 4 * b, NULL, 1, lo1, iou1, &obj1));
        dl = fmax(dl, max_diff(lo1, lo + b * M * LL, M * LL));
        di = fmax(di, max_diff(iou1, iou + b * M, M));
        di = fmax(di, fabs(obj1 - obj[b]));
    }
    printf("  batched (%d prompts, box + 2 clicks) vs single: low-res %.3e, iou/obj %.3e\n", B, dl, di);
    CHECK(dl < 1e-4 && di < 1e-5, "batched decoding differs: %g %g", dl, di);
    /* mask inputs (per-prompt dense embeddings), single-mask output */
    CHECK_OK(predictor_decode(ctx, 3, N, pts, labels, NULL, mask_in, 0, lo, iou, obj));
    dl = di = 0;
    for (int b = 0; b < 3; b++) {
        CHECK_OK(predictor_decode(ctx, 1, N, pts + 4 * b, labels + 2 * b, NULL, mask_in + b * LL, 0, lo1, iou1, &obj1));
        dl = fmax(dl, max_diff(lo1, lo + b * LL, LL));
        di = fmax(di, fabs(iou1[0] - iou[b]));
    }
    printf("  batched with mask inputs vs single: low-res %.3e, iou %.3e\n", dl, di);
    CHECK(dl < 1e-4 && di < 1e-5, "batched decoding with mask inputs differs: %g %g", dl, di);
    /* box only (no clicks), through the public batch call */
    sam2_prompt prs[5];
    sam2_prediction batch[5], one;
    for (int b = 0; b < 5; b++) {
        prs[b] = sam2_prompt_default();
        prs[b].has_box = 1;
        memcpy(prs[b].box, boxes + 4 * b, sizeof prs[b].box);
    }
    CHECK_OK(sam2_predict_batch(ctx, prs, 5, batch));
    sam2_predict_params pp = sam2_predict_default_params();
    pp.want_masks = 0;
    dl = 0;
    for (int b = 0; b < 5; b += 2) {
        CHECK_OK(sam2_predict(ctx, &prs[b], &pp, &one));
        if (one.low_res && batch[b].low_res) dl = fmax(dl, max_diff(one.low_res, batch[b].low_res, M * LL));
        dl = fmax(dl, max_diff(one.iou, batch[b].iou, M));
        sam2_prediction_free(&one);
    }
    printf("  sam2_predict_batch (box only) vs sam2_predict: %.3e\n", dl);
    CHECK(dl < 1e-4, "sam2_predict_batch differs by %g", dl);
    for (int b = 0; b < 5; b++) sam2_prediction_free(&batch[b]);
    free(pts), free(boxes), free(labels), free(lo), free(iou), free(obj), free(lo1), free(mask_in);
}

/* Hole / sprinkle removal changes the masks but, as in the official
 * predictor, not the returned low-res logits; the masks are the threshold of
 * the upsampled filled logits. The area (1/16 of the low-res map) is large
 * enough to change something on the test image. */
static void check_holes(sam2_ctx *ctx, int must_change) {
    const int area = ctx->model->cfg.image_size / 4 * (ctx->model->cfg.image_size / 4) / 16;
    long changed = 0, diff = 0;
    double dlow = 0;
    for (int t = 0; t < 6; t++) {
        float p[2] = {(float)ctx->orig_w * (0.1f + 0.15f * t), (float)ctx->orig_h * (0.8f - 0.1f * t)};
        int l1 = 1;
        sam2_prompt pr = sam2_prompt_default();
        pr.points = p, pr.labels = &l1, pr.n_points = 1, pr.multimask = t % 2;
        sam2_predict_params plain = sam2_predict_default_params(), filled = plain;
        filled.max_hole_area = filled.max_sprinkle_area = area;
        sam2_prediction a, b;
        CHECK_OK(sam2_predict(ctx, &pr, &plain, &a));
        CHECK_OK(sam2_predict(ctx, &pr, &filled, &b));
        if (!a.low_res || !b.low_res) return;
        const int L = a.low_res_size, w = a.width, h = a.height, M = a.n_masks;
        dlow = fmax(dlow, max_diff(a.low_res, b.low_res, (size_t)M * L * L));
        /* our own composition of the steps, on the unclamped logits */
        float *raw = malloc(sizeof(float) * M * L * L), *up = malloc(sizeof(float) * w * h), iou[3];
        CHECK_OK(predictor_decode(ctx, 1, 1, p, &l1, NULL, NULL, pr.multimask, raw, iou, NULL));
        for (int k = 0; k < M; k++) {
            float *r = raw + (size_t)k * L * L;
            CHECK_OK(fill_holes_and_sprinkles(r, L, L, 0.0f, area, area));
            CHECK_OK(M == 1 ? upsample_bilinear_4w(r, L, L, up, h, w) : upsample_bilinear(r, L, L, up, h, w));
            for (long i = 0; i < (long)w * h; i++) {
                diff += (up[i] > 0.0f) != b.masks[(size_t)k * w * h + i];
                changed += a.masks[(size_t)k * w * h + i] != b.masks[(size_t)k * w * h + i];
            }
        }
        free(raw), free(up);
        sam2_prediction_free(&a), sam2_prediction_free(&b);
    }
    printf("  hole / sprinkle removal (area %d): %ld pixels changed, %ld differ from the reference composition\n",
           area, changed, diff);
    CHECK(dlow == 0, "hole filling changed the returned low-res logits by %g", dlow);
    CHECK(diff == 0, "hole-filled masks differ from fill + upsample + threshold in %ld pixels", diff);
    CHECK(changed > 0 || !must_change, "hole / sprinkle removal of area %d changed nothing: the check is void", area);
}

/* Bad prompts are refused with a message naming the problem; points outside
 * the image are accepted as the official predictor accepts them. */
static void check_bad_prompts(sam2_ctx *ctx) {
    sam2_prediction out;
    float p[2] = {10, 10}, nanp[2] = {NAN, 3}, far[2] = {-50, 1e4f};
    int l1 = 1, l5 = 5;
    sam2_prompt pr = sam2_prompt_default();
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "empty"), "empty prompt: %s",
          sam2_last_error());
    pr.points = nanp, pr.labels = &l1, pr.n_points = 1;
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "finite"), "NaN point: %s",
          sam2_last_error());
    nanp[0] = INFINITY;
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "finite"), "Inf point: %s",
          sam2_last_error());
    pr.points = p, pr.labels = &l5;
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "label 5"), "bad label: %s",
          sam2_last_error());
    pr.points = NULL, pr.labels = &l1;
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM, "NULL points: %s", sam2_last_error());
    pr.points = far, pr.labels = &l1;
    CHECK_OK(sam2_predict(ctx, &pr, NULL, &out)); /* outside the image: accepted */
    sam2_prediction_free(&out);
    pr = sam2_prompt_default();
    pr.has_box = 1, pr.box[0] = 50, pr.box[1] = 10, pr.box[2] = 20, pr.box[3] = 40;
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "x1 < x0"), "reversed box: %s",
          sam2_last_error());
    pr.box[2] = NAN;
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "box"), "NaN box: %s",
          sam2_last_error());
    const int L = ctx->model->cfg.image_size / 4;
    float *mask = calloc((size_t)L * L, sizeof(float));
    mask[L + 2] = NAN;
    pr = sam2_prompt_default();
    pr.mask_input = mask;
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "mask input"), "NaN mask: %s",
          sam2_last_error());
    mask[L + 2] = 0;
    CHECK_OK(sam2_predict(ctx, &pr, NULL, &out)); /* a mask input alone is a prompt */
    sam2_prediction_free(&out);
    free(mask);
    sam2_predict_params pp = sam2_predict_default_params();
    pp.max_hole_area = -1;
    pr = sam2_prompt_default();
    pr.points = p, pr.labels = &l1, pr.n_points = 1;
    CHECK(sam2_predict(ctx, &pr, &pp, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "max_hole_area"),
          "negative hole area: %s", sam2_last_error());
    sam2_prompt two[2] = {pr, pr};
    two[1].labels = &l5;
    sam2_prediction outs[2];
    CHECK(sam2_predict_batch(ctx, two, 2, outs) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "prompt 1"),
          "bad batch prompt: %s", sam2_last_error());
    two[1] = pr, two[1].multimask = 0;
    CHECK(sam2_predict_batch(ctx, two, 2, outs) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "prompt 1"),
          "mixed batch: %s", sam2_last_error());
    sam2_ctx *empty = NULL;
    CHECK_OK(sam2_ctx_new(ctx->model, 1, &empty));
    CHECK(sam2_predict(empty, &pr, NULL, &out) == SAM2_ERR_STATE, "no image: %s", sam2_last_error());
    CHECK(sam2_predict_batch(empty, two, 1, outs) == SAM2_ERR_STATE, "no image (batch): %s", sam2_last_error());
    sam2_ctx_free(empty);
}

/* predictor_decode_filtered: prompts with an output above the floor get
 * exactly the unfiltered logits; the others none above it and zero logits. */
static void check_filtered(sam2_ctx *ctx) {
    const int S = ctx->model->cfg.image_size, L = S / 4, B = 12, M = ctx->model->cfg.num_multimask_outputs;
    const size_t LL = (size_t)L * L;
    float pts[2 * 12], *lo = malloc(sizeof(float) * B * M * LL), *lo2 = malloc(sizeof(float) * B * M * LL);
    float iou[12 * 3], iou2[12 * 3], best[12];
    int labels[12];
    for (int b = 0; b < B; b++)
        pts[2 * b] = (float)(ctx->orig_w * (b % 4 + 0.5) / 4), pts[2 * b + 1] = (float)(ctx->orig_h * (b / 4 + 0.5) / 3),
        labels[b] = 1;
    CHECK_OK(predictor_decode(ctx, B, 1, pts, labels, NULL, NULL, 1, lo, iou, NULL));
    for (int b = 0; b < B; b++) {
        best[b] = iou[b * M];
        for (int j = 1; j < M; j++) best[b] = fmaxf(best[b], iou[b * M + j]);
    }
    float sorted[12];
    memcpy(sorted, best, sizeof sorted);
    for (int i = 0; i < B; i++)
        for (int j = i + 1; j < B; j++)
            if (sorted[j] < sorted[i]) { float t = sorted[i]; sorted[i] = sorted[j]; sorted[j] = t; }
    const float floor_ = 0.5f * (sorted[B / 2 - 1] + sorted[B / 2]);
    CHECK_OK(predictor_decode_filtered(ctx, B, 1, pts, labels, NULL, NULL, 1, floor_, lo2, iou2, NULL));
    int kept = 0, bad = 0;
    for (int b = 0; b < B; b++) {
        const int keep = best[b] > floor_;
        kept += keep;
        for (int j = 0; j < M; j++) bad += iou2[b * M + j] != iou[b * M + j];
        for (size_t i = 0; i < M * LL; i++) bad += keep ? lo2[b * M * LL + i] != lo[b * M * LL + i] : lo2[b * M * LL + i] != 0.0f;
    }
    printf("  filtered decoding: %d of %d prompts above the IoU floor %.3f decoded, %d differences\n", kept, B, floor_, bad);
    CHECK(bad == 0 && kept > 0 && kept < B, "filtered decoding: %d differences, %d kept", bad, kept);
    free(lo), free(lo2);
}

/* The low-rank cross attentions (used when heads x tokens is below the
 * attention width, i.e. on the official d_model 256 decoders, which neither
 * golden model reaches) against the term-by-term form, on random weights
 * of the official tiny geometry: prompts sharing their image tokens (no
 * mask input) and prompts with their own. */
static void check_lowrank(void) {
    sam2_model *m = NULL;
    CHECK_OK(sam2_model_random("sam2.1_hiera_t", NULL, 3, &m));
    if (!m) return;
    const sam2_config *c = &m->cfg;
    const int d = c->d_model, g = c->image_size / c->backbone_stride, HW = g * g, B = 2, T = 8;
    CHECK(c->dec_heads * T < d / c->dec_attn_downsample, "the tiny geometry takes the low-rank path");
    size_t nq = (size_t)B * T * d, nk = (size_t)B * HW * d, nw = two_way_work_floats(c, B, T, HW, 2);
    float *qpe = malloc(sizeof(float) * nq), *kpe = malloc(sizeof(float) * HW * d), *k0 = malloc(sizeof(float) * nk);
    float *q[3], *k[3], *work = malloc(sizeof(float) * nw);
    uint64_t r = 0x9E3779B97F4A7C15ull;
    float *fill[3] = {qpe, kpe, k0};
    size_t nf[3] = {nq, (size_t)HW * d, nk};
    for (int f = 0; f < 3; f++)
        for (size_t i = 0; i < nf[f]; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            fill[f][i] = (float)(r >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
        }
    /* the decoder's own way: caches of the image-side and positional
     * projections, the final attention of the mask tokens prompt by prompt */
    two_way_cache cache;
    memset(&cache, 0, sizeof cache);
    const size_t nc = (size_t)HW * (d / c->dec_attn_downsample);
    cache.t2i_kt = malloc(sizeof(float) * nc), cache.t2i_vt = malloc(sizeof(float) * nc);
    cache.i2t_q = malloc(sizeof(float) * nc);
    for (int l = 1; l <= c->dec_depth; l++) {
        cache.pe_t2i_kt[l] = malloc(sizeof(float) * nc);
        if (l < c->dec_depth) cache.pe_i2t_q[l] = malloc(sizeof(float) * nc);
    }
    CHECK(twi_applies(c, T, HW), "the tiny geometry keeps shared image tokens implicit");
    cache.ix = malloc(sizeof(float) * twi_image_floats(c, HW));
    const char *mode_name[3] = {"reference", "low-rank", "low-rank, cached, split final"};
    for (int shared = 1; shared >= 0; shared--) {
        for (int mode = 0; mode < 3; mode++) {
            q[mode] = malloc(sizeof(float) * nq), k[mode] = malloc(sizeof(float) * nk);
            memcpy(q[mode], qpe, sizeof(float) * nq);
            memcpy(k[mode], k0, sizeof(float) * nk);
            cache.valid = 0, cache.ix_valid = 0;
            if (mode < 2) {
                two_way_run_mode(c, &m->md, B, T, HW, q[mode], qpe, k[mode], shared, kpe, 2, work, mode, NULL, T);
            } else {
                int implicit = two_way_run_mode(c, &m->md, B, T, HW, q[mode], qpe, k[mode], shared, kpe, 2, work, 2,
                                                &cache, 2);
                CHECK(implicit == shared, "implicit image tokens exactly when shared (%d, %d)", implicit, shared);
                for (int b = B - 1; b >= 0; b--)
                    two_way_final(c, &m->md, 1, T, HW, q[mode] + (size_t)b * T * d, qpe + (size_t)b * T * d,
                                  k[mode] + (size_t)b * HW * d, kpe, 2, T - 2, 2, work, &cache, implicit);
                float *kb = malloc(sizeof(float) * HW * d);
                for (int b = 0; b < B && implicit; b++) { /* the states become the tokens */
                    two_way_keys(c, HW, k[mode] + (size_t)b * HW * d, &cache, kb);
                    memcpy(k[mode] + (size_t)b * HW * d, kb, sizeof(float) * HW * d);
                }
                free(kb);
            }
        }
        for (int mode = 1; mode < 3; mode++) {
            double dq = 0, dk = 0, mq = 0, mk = 0;
            for (size_t i = 0; i < nq; i++) dq = fmax(dq, fabs(q[0][i] - q[mode][i])), mq = fmax(mq, fabs(q[0][i]));
            for (size_t i = 0; i < nk; i++) dk = fmax(dk, fabs(k[0][i] - k[mode][i])), mk = fmax(mk, fabs(k[0][i]));
            printf("  %s (%s image tokens): tokens max diff %.2e (of %.2f), image tokens %.2e (of %.2f)\n",
                   mode_name[mode], shared ? "shared" : "per-prompt", dq, mq, dk, mk);
            CHECK(dq < 1e-4 * mq && dk < 1e-4 * mk, "%s vs reference attention: %g, %g", mode_name[mode], dq, dk);
        }
        for (int mode = 0; mode < 3; mode++) free(q[mode]), free(k[mode]);
    }
    free(cache.t2i_kt), free(cache.t2i_vt), free(cache.i2t_q), free(cache.ix);
    for (int l = 0; l <= DEC_MAX_DEPTH; l++) free(cache.pe_t2i_kt[l]);
    for (int l = 0; l < DEC_MAX_DEPTH; l++) free(cache.pe_i2t_q[l]);
    free(qpe), free(kpe), free(k0), free(work);
    sam2_model_free(m);
}

/* The whole decoder on random weights of the tiny geometry and random
 * features, with the image tokens kept implicit (the default for prompts
 * without mask input) and formed prompt by prompt as the reference does:
 * mask logits, IoU and object scores agree to float rounding, and with an
 * IoU floor the kept prompts' masks are those of the unfiltered run. The
 * features may be offset from zero mean, by channel, and the token grid
 * need not be a multiple of the kernels' 16-pixel blocks. */
static void check_implicit_decoder(float offset, int image_size) {
    sam2_model *m = NULL;
    CHECK_OK(sam2_model_random("sam2.1_hiera_t", NULL, 5, &m));
    if (!m) return;
    m->cfg.image_size = image_size; /* the decoder's weights do not depend on it */
    const sam2_config *c = &m->cfg;
    const int d = c->d_model, g = c->image_size / c->backbone_stride, HW = g * g, B = 6, Ns = 2;
    const int nt = c->num_multimask_outputs + 1, LL = 16 * HW;
    float *embed = malloc(sizeof(float) * d * HW), *hr0 = malloc(sizeof(float) * (d / 8) * 16 * HW);
    float *hr1 = malloc(sizeof(float) * (d / 4) * 4 * HW), *sparse = malloc(sizeof(float) * B * Ns * d);
    uint64_t r = 0x2545F4914F6CDD1Dull;
    float *fill[3] = {embed, hr0, hr1};
    size_t nf[3] = {(size_t)d * HW, (size_t)(d / 8) * 16 * HW, (size_t)(d / 4) * 4 * HW};
    for (int f = 0; f < 3; f++)
        for (size_t i = 0; i < nf[f]; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            fill[f][i] = (float)(r >> 40) / (float)(1 << 24) * 2.0f - 1.0f +
                         (f == 0 ? offset * (float)(4 + (i / HW) % 3) / 5.0f : 0.0f); /* by channel */
        }
    for (int b = 0; b < B; b++) {
        float xy[4] = {(float)(97 + 151 * b), (float)(800 - 113 * b), 0, 0};
        int lab[2] = {1, -1};
        prompt_embed_sparse(c, &m->pe, xy, lab, Ns, sparse + (size_t)b * Ns * d);
    }
    float *masks[3], iou[3][64], obj[3][8];
    mask_decoder_ws ws[3];
    for (int k = 0; k < 3; k++) {
        masks[k] = malloc(sizeof(float) * B * nt * LL);
        CHECK_OK(mask_decoder_ws_init(c, &m->md, B, Ns, 2, &ws[k]));
        prompt_dense_pe(c, &m->pe, ws[k].image_pe);
    }
    CHECK(ws[0].cache.ix != NULL, "the tiny geometry keeps image tokens implicit");
    free(ws[1].cache.ix), ws[1].cache.ix = NULL;
    float floor = -INFINITY, best[8]; /* a floor below everything: implicit tokens, every prompt kept */
    for (int k = 0; k < 3; k++) {
        if (k == 1) floor = NAN; /* the reference: no floor, tokens formed for every prompt */
        if (k == 2) { /* a floor between the prompts' best IoUs: some kept, some not */
            for (int b = 0; b < B; b++) {
                best[b] = iou[0][b * nt + 1];
                for (int j = 2; j < nt; j++) best[b] = fmaxf(best[b], iou[0][b * nt + j]);
            }
            float lo = best[0], hi = best[0];
            for (int b = 1; b < B; b++) lo = fminf(lo, best[b]), hi = fmaxf(hi, best[b]);
            floor = 0.5f * (lo + hi);
        }
        CHECK_OK(mask_decoder_run(c, &m->md, embed, ws[k].image_pe, hr0, hr1, B, Ns, sparse, NULL, m->pe.no_mask,
                                  masks[k], iou[k], obj[k], &ws[k], floor));
    }
    double dm = 0, mm = 0, di = 0, dobj = 0;
    for (size_t i = 0; i < (size_t)B * nt * LL; i++) dm = fmax(dm, fabs(masks[0][i] - masks[1][i])), mm = fmax(mm, fabs(masks[1][i]));
    for (int i = 0; i < B * nt; i++) di = fmax(di, fabs(iou[0][i] - iou[1][i]));
    for (int b = 0; b < B; b++) dobj = fmax(dobj, fabs(obj[0][b] - obj[1][b]));
    printf("  implicit image tokens vs formed (%d x %d tokens, features offset by %g): mask logits max diff %.2e (of %.2f), "
           "IoU %.2e, object score %.2e\n", g, g, offset, dm, mm, di, dobj);
    CHECK(dm < 1e-4 * mm && di < 1e-5 && dobj < 1e-4, "implicit decoder differs: %g %g %g", dm, di, dobj);
    int kept = 0, bad = 0;
    for (int b = 0; b < B; b++) {
        int keep = 0;
        for (int j = 1; j < nt; j++) keep |= iou[2][b * nt + j] > floor;
        kept += keep;
        if (keep)
            bad += memcmp(masks[2] + (size_t)b * nt * LL, masks[0] + (size_t)b * nt * LL, sizeof(float) * nt * LL) != 0;
        bad += memcmp(iou[2] + b * nt, iou[0] + b * nt, sizeof(float) * nt) != 0;
    }
    printf("  implicit, IoU floor %.3f: %d of %d prompts decoded, %d differences\n", floor, kept, B, bad);
    CHECK(bad == 0 && kept > 0 && kept < B, "filtered implicit decoding: %d differences, %d kept", bad, kept);
    /* a second image on the same scratch, its caches dropped as a context
     * drops them on a new image: nothing of the first image's may stay */
    for (size_t i = 0; i < nf[0]; i++) embed[i] = 0.5f * embed[i] + 0.25f;
    for (int k = 0; k < 2; k++) {
        ws[k].cache.valid = 0, ws[k].cache.ix_valid = 0;
        CHECK_OK(mask_decoder_run(c, &m->md, embed, ws[k].image_pe, hr0, hr1, B, Ns, sparse, NULL, m->pe.no_mask,
                                  masks[k], iou[k], obj[k], &ws[k], k == 0 ? -INFINITY : NAN));
    }
    double dm2 = 0, mm2 = 0;
    for (size_t i = 0; i < (size_t)B * nt * LL; i++)
        dm2 = fmax(dm2, fabs(masks[0][i] - masks[1][i])), mm2 = fmax(mm2, fabs(masks[1][i]));
    printf("  second image on the same scratch: mask logits max diff %.2e (of %.2f)\n", dm2, mm2);
    CHECK(dm2 < 1e-4 * mm2, "the second image's implicit masks differ from its formed ones: %g", dm2);
    for (int k = 0; k < 3; k++) mask_decoder_ws_free(&ws[k]), free(masks[k]);
    free(embed), free(hr0), free(hr1), free(sparse);
    sam2_model_free(m);
}

/* The decoder's vectorised kernels against libm. */
static void check_kernels(void) {
    float e[2001], g[2001];
    double de = 0, dg = 0;
    for (int i = 0; i <= 2000; i++) e[i] = -0.05f * (float)i, g[i] = -8.0f + 0.008f * (float)i;
    float e2[2001], g2[2001];
    memcpy(e2, e, sizeof e), memcpy(g2, g, sizeof g);
    op_exp_nonpos(e2, 2001);
    op_gelu(g2, 2001);
    op_gelu_vec(g, 2001);
    for (int i = 0; i <= 2000; i++) {
        double want = exp((double)e[i] < -87 ? -87 : (double)e[i]);
        de = fmax(de, fabs(e2[i] - want) / want);
        dg = fmax(dg, fabs(g2[i] - g[i]));
    }
    printf("  exp for softmax: max relative error %.2e; GELU (PyTorch's erf) vs erff: max difference %.2e\n", de, dg);
    CHECK(de < 2e-7, "op_exp_nonpos relative error %g", de);
    CHECK(dg < 1e-6, "op_gelu_vec differs from op_gelu by %g", dg);
}

/* Without golden data: a model of the micro256 config with seeded random
 * weights and random image features, for the checks that need no
 * reference. */
/* A random micro256 model of the fixtures' config and a context for it; 0
 * (both NULL, the failure counted) when either cannot be made. */
static int micro256_random(uint64_t seed, sam2_model **m, sam2_ctx **ctx) {
    char yaml[4200];
    snprintf(yaml, sizeof yaml, "%s/decoder/micro256.yaml", test_fixtures_dir());
    *m = NULL, *ctx = NULL;
    CHECK_OK(sam2_model_random(NULL, yaml, seed, m));
    if (*m && sam2_ctx_new(*m, 2, ctx) == SAM2_OK) return 1;
    sam2_model_free(*m);
    *m = NULL, *ctx = NULL;
    return 0;
}

static void run_without_golden(void) {
    sam2_model *m;
    sam2_ctx *ctx;
    if (!micro256_random(7, &m, &ctx)) return;
    const int d = m->cfg.d_model, S = m->cfg.image_size;
    const size_t n[3] = {(size_t)d * (S / 16) * (S / 16), (size_t)d / 8 * (S / 4) * (S / 4), (size_t)d / 4 * (S / 8) * (S / 8)};
    float **dst[3] = {&ctx->enc.image_embed, &ctx->enc.high_res[0], &ctx->enc.high_res[1]};
    uint64_t r = 88172645463325252ull;
    for (int k = 0; k < 3; k++) {
        *dst[k] = malloc(sizeof(float) * n[k]);
        for (size_t i = 0; i < n[k]; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            (*dst[k])[i] = (float)(r >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
        }
    }
    ctx->orig_w = 320, ctx->orig_h = 200, ctx->has_image = 1;
    ctx_features_changed(ctx);
    check_batching(ctx);
    check_filtered(ctx);
    check_holes(ctx, 0);
    check_bad_prompts(ctx);
    sam2_ctx_free(ctx);
    sam2_model_free(m);
}

/* Weights that make the encoder's features NaN: set_image refuses the image
 * (no masks from NaN features) and the context holds none. */
static void check_non_finite_features(void) {
    sam2_model *m;
    sam2_ctx *ctx;
    if (!micro256_random(11, &m, &ctx)) return;
    uint8_t px[48 * 64 * 3];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7);
    const sam2_image im = {64, 48, 64 * 3, 3, 8, px};
    CHECK_OK(sam2_set_image(ctx, &im));
    float *bias = (float *)(uintptr_t)m->enc.trunk.patch_b; /* random weights: memory the model owns */
    const float kept = bias[0];
    bias[0] = NAN;
    CHECK(sam2_set_image(ctx, &im) == SAM2_ERR_FORMAT && strstr(sam2_last_error(), "non-finite"),
          "NaN features accepted: %s", sam2_last_error());
    int w = -1, h = -1;
    sam2_ctx_image_size(ctx, &w, &h);
    CHECK(w == 0 && h == 0, "the context kept an image after the refusal (%d x %d)", w, h);
    bias[0] = kept;
    CHECK_OK(sam2_set_image(ctx, &im));
    sam2_ctx_free(ctx);
    sam2_model_free(m);
}

int main(void) {
    check_non_finite_features();
    check_kernels();
    check_lowrank();
    check_implicit_decoder(0.0f, 1024);
    check_implicit_decoder(4.0f, 1024); /* a mean far from zero: the LayerNorm statistics come from expanded sums */
    check_implicit_decoder(0.0f, 1008); /* 63 x 63 tokens: pixel blocks of 16 with a remainder */
    const char *g = test_golden_dir();
    if (!g) {
        printf("no golden data ($SAM2_GOLDEN): structural checks on a random micro256 model only\n");
        run_without_golden();
        return test_finish();
    }
    char root[4096];
    snprintf(root, sizeof root, "%s", g);
    const char *models[] = {"micro256", "micro1024"};
    const char *images[] = {"truck", "groceries", "camera", "coins", "synthetic"};
    int n_cases = 0;
    long flipped = 0;
    for (int mi = 0; mi < 2; mi++) {
        char ckpt[4200], yaml[4200];
        snprintf(ckpt, sizeof ckpt, "%s/models/%s.pt", root, models[mi]);
        snprintf(yaml, sizeof yaml, "%s/models/%s.yaml", root, models[mi]);
        if (!test_file_exists(ckpt)) continue;
        sam2_model *m = NULL;
        sam2_ctx *ctx = NULL;
        CHECK_OK(sam2_model_load(ckpt, yaml, &m));
        if (!m || sam2_ctx_new(m, 2, &ctx) != SAM2_OK) {
            sam2_model_free(m);
            continue;
        }
        for (int ii = 0; ii < 5; ii++) {
            char dir[4200], path[4300];
            snprintf(dir, sizeof dir, "%s/cases/%s/%s", root, models[mi], images[ii]);
            snprintf(path, sizeof path, "%s/meta.json", dir);
            cJSON *meta = read_json(path);
            if (!meta) continue;
            const cJSON *hw = cJSON_GetObjectItem(meta, "orig_hw");
            int h = cJSON_GetArrayItem(hw, 0)->valueint, w = cJSON_GetArrayItem(hw, 1)->valueint;
            cJSON_Delete(meta);
            if (!set_golden_features(ctx, dir, w, h)) {
                CHECK(0, "cannot load golden features of %s", dir);
                continue;
            }
            printf(" %s\n", dir);
            snprintf(path, sizeof path, "%s/prompts.json", dir);
            cJSON *pj = read_json(path);
            CHECK(pj != NULL, "cannot parse %s", path);
            const cJSON *cases = cJSON_GetObjectItem(pj, "cases");
            for (int k = 0; k < cJSON_GetArraySize(cases); k++) run_case(ctx, dir, cJSON_GetArrayItem(cases, k), &n_cases, &flipped);
            cJSON_Delete(pj);
            if (mi == 0 && ii == 4) {
                check_batching(ctx);
                check_filtered(ctx);
                check_holes(ctx, 1);
                check_bad_prompts(ctx);
            }
        }
        sam2_ctx_free(ctx);
        sam2_model_free(m);
    }
    printf("%d prompt cases, %ld mask pixels flipped at the threshold\n", n_cases, flipped);
    CHECK(n_cases > 0, "no golden prompt cases found");
    return test_finish();
}
