/* test_decoder.c - prompt encoder + mask decoder + predictor parity with the
 * official SAM2ImagePredictor.predict on every golden prompt case, fed with
 * the golden image features; batched decoding equals one-at-a-time; bad
 * prompts are refused. */
#include <cjson/cJSON.h>
#include <math.h>

#include "image_io.h"
#include "model.h"
#include "predictor.h"
#include "test.h"

/* Loads a golden feature file into a malloc'd array. */
static float *load(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    npy_array a;
    if (npy_read(path, &a) != SAM2_OK) return NULL;
    return a.data;
}

/* Puts the golden features of one image into the context. */
static int set_golden_features(sam2_ctx *ctx, const char *dir, int w, int h) {
    encoder_output_free(&ctx->enc);
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

static void run_case(sam2_ctx *ctx, const char *dir, const cJSON *cs, int *n_cases, long *flipped_total) {
    const char *name = cJSON_GetObjectItem(cs, "name")->valuestring;
    char cdir[4096], path[4096];
    snprintf(cdir, sizeof cdir, "%s/prompts/%s", dir, name);
    const cJSON *pc = cJSON_GetObjectItem(cs, "point_coords"), *pl = cJSON_GetObjectItem(cs, "point_labels");
    const cJSON *box = cJSON_GetObjectItem(cs, "box");
    float pts[64];
    int labels[32];
    sam2_prompt pr = sam2_prompt_default();
    int n = pc ? cJSON_GetArraySize(pc) : 0;
    for (int i = 0; i < n && i < 32; i++) {
        pts[2 * i] = (float)cJSON_GetArrayItem(cJSON_GetArrayItem(pc, i), 0)->valuedouble;
        pts[2 * i + 1] = (float)cJSON_GetArrayItem(cJSON_GetArrayItem(pc, i), 1)->valuedouble;
        labels[i] = cJSON_GetArrayItem(pl, i)->valueint;
    }
    pr.points = pts, pr.labels = labels, pr.n_points = n;
    if (box) {
        pr.has_box = 1;
        for (int k = 0; k < 4; k++) pr.box[k] = (float)cJSON_GetArrayItem(box, k)->valuedouble;
    }
    pr.multimask = cJSON_IsTrue(cJSON_GetObjectItem(cs, "multimask_output"));
    float *mask_in = cJSON_GetObjectItem(cs, "mask_input_from") ? load(cdir, "mask_input.npy") : NULL;
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
    snprintf(label, sizeof label, "%s low_res_masks", name);
    CHECK(want_lr && test_compare(label, out.low_res, want_lr, (int64_t)out.n_masks * L * L, 5e-3f, 0), "%s", label);
    snprintf(label, sizeof label, "%s iou_predictions", name);
    CHECK(want_iou && test_compare(label, out.iou, want_iou, out.n_masks, 1e-4f, 0), "%s", label);
    if (want_logits) {
        snprintf(label, sizeof label, "%s logits", name);
        CHECK(test_compare(label, out.logits, want_logits, (int64_t)out.n_masks * w * h, 5e-3f, 0), "%s", label);
    }
    for (int k = 0; k < out.n_masks; k++) {
        snprintf(path, sizeof path, "%s/mask_%d.png", cdir, k);
        image_file f;
        if (image_file_read(path, &f) != SAM2_OK) {
            CHECK(0, "cannot read %s", path);
            continue;
        }
        long flipped = 0, unexplained = 0;
        for (long i = 0; i < (long)w * h; i++) {
            int want = f.pixels[i] > 127, got = out.masks[(size_t)k * w * h + i];
            if (want == got) continue;
            flipped++;
            /* a flip is acceptable only where our logit sits at the threshold */
            float lg = out.logits[(size_t)k * w * h + i];
            if (fabsf(lg) > 1e-3f) unexplained++;
        }
        *flipped_total += flipped;
        CHECK(unexplained == 0, "%s mask %d: %ld flipped pixels away from the threshold", name, k, unexplained);
        image_file_free(&f);
    }
    free(want_lr), free(want_iou), free(want_logits), free(mask_in);
    sam2_prediction_free(&out);
}

/* Batched decoding of several clicks equals decoding them one by one. */
static void check_batching(sam2_ctx *ctx) {
    float pts[2 * 20];
    int labels[20];
    sam2_prompt prs[20];
    for (int i = 0; i < 20; i++) {
        pts[2 * i] = (float)(ctx->orig_w * (i % 5 + 0.5) / 5), pts[2 * i + 1] = (float)(ctx->orig_h * (i / 5 + 0.5) / 4);
        labels[i] = 1;
        prs[i] = sam2_prompt_default();
        prs[i].points = pts + 2 * i, prs[i].labels = labels + i, prs[i].n_points = 1;
    }
    sam2_prediction batch[20];
    CHECK_OK(sam2_predict_batch(ctx, prs, 20, batch));
    double maxd = 0;
    for (int i = 0; i < 20; i += 7) {
        sam2_prediction one;
        sam2_predict_params pp = sam2_predict_default_params();
        pp.want_masks = 0;
        CHECK_OK(sam2_predict(ctx, &prs[i], &pp, &one));
        for (int k = 0; k < one.n_masks * one.low_res_size * one.low_res_size; k++)
            maxd = fmax(maxd, fabs(one.low_res[k] - batch[i].low_res[k]));
        for (int k = 0; k < one.n_masks; k++) maxd = fmax(maxd, fabs(one.iou[k] - batch[i].iou[k]));
        sam2_prediction_free(&one);
    }
    printf("  batched vs single: max difference %.3e\n", maxd);
    CHECK(maxd < 1e-4, "batched decoding differs by %g", maxd);
    for (int i = 0; i < 20; i++) sam2_prediction_free(&batch[i]);
}

static void check_bad_prompts(sam2_ctx *ctx) {
    sam2_prediction out;
    float p[2] = {10, 10}, nanp[2] = {NAN, 3};
    int l1 = 1, l5 = 5;
    sam2_prompt pr = sam2_prompt_default();
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "empty"), "empty prompt: %s", sam2_last_error());
    pr.points = nanp, pr.labels = &l1, pr.n_points = 1;
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "finite"), "NaN point: %s", sam2_last_error());
    pr.points = p, pr.labels = &l5;
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "label"), "bad label: %s", sam2_last_error());
    pr = sam2_prompt_default();
    pr.has_box = 1, pr.box[0] = 50, pr.box[1] = 10, pr.box[2] = 20, pr.box[3] = 40;
    CHECK(sam2_predict(ctx, &pr, NULL, &out) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "x1 < x0"), "reversed box: %s", sam2_last_error());
    sam2_ctx *empty = NULL;
    CHECK_OK(sam2_ctx_new(ctx->model, 1, &empty));
    pr = sam2_prompt_default();
    pr.points = p, pr.labels = &l1, pr.n_points = 1;
    CHECK(sam2_predict(empty, &pr, NULL, &out) == SAM2_ERR_STATE, "no image: %s", sam2_last_error());
    sam2_ctx_free(empty);
}

int main(void) {
    const char *g = test_golden_dir();
    char root[4096];
    snprintf(root, sizeof root, "%s", g ? g : test_fixtures_dir());
    const char *models[] = {"micro256", "micro1024"};
    const char *images[] = {"truck", "groceries", "camera", "coins", "synthetic"};
    int n_cases = 0;
    long flipped = 0;
    for (int mi = 0; mi < 2; mi++) {
        char ckpt[4096], yaml[4096];
        snprintf(ckpt, sizeof ckpt, "%s/models/%s.pt", root, models[mi]);
        snprintf(yaml, sizeof yaml, "%s/models/%s.yaml", root, models[mi]);
        if (!test_file_exists(ckpt)) continue;
        sam2_model *m = NULL;
        sam2_ctx *ctx = NULL;
        CHECK_OK(sam2_model_load(ckpt, yaml, &m));
        if (!m || sam2_ctx_new(m, 2, &ctx) != SAM2_OK) continue;
        for (int ii = 0; ii < 5; ii++) {
            char dir[4096], path[4096];
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
            const cJSON *cases = cJSON_GetObjectItem(pj, "cases");
            for (int k = 0; k < cJSON_GetArraySize(cases); k++) run_case(ctx, dir, cJSON_GetArrayItem(cases, k), &n_cases, &flipped);
            cJSON_Delete(pj);
            if (mi == 0 && ii == 4) {
                check_batching(ctx);
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
