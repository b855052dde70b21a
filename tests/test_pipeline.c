/* test_pipeline.c - the whole image path from files: decoding (JPEG against
 * the reference decoder's pixels), preprocessing (input.npy or the sampled
 * input of large models), and the encoder outputs through sam2_set_image. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "image_io.h"
#include "model.h"
#include "test.h"

static float *load_npy(const char *path, int64_t *n) {
    npy_array a;
    if (npy_read(path, &a) != SAM2_OK) return NULL;
    *n = a.numel;
    return a.data;
}

/* Compares a context tensor with a golden .npy if it exists. */
static void compare_tensor(sam2_ctx *ctx, const char *dir, const char *name, float atol, float rtol) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    if (!test_file_exists(path)) return;
    int64_t n = 0;
    float *want = load_npy(path, &n);
    const float *got;
    int nd, shape[4];
    CHECK_OK(sam2_ctx_tensor(ctx, name, &got, &nd, shape));
    if (want && got) {
        CHECK((int64_t)shape[1] * shape[2] * shape[3] == n, "%s size", name);
        CHECK(test_compare(name, got, want, n, atol, rtol), "%s outside tolerance", name);
    }
    free(want);
}

/* The sampled input of large models: rows, columns and random points. */
static void compare_input_samples(sam2_ctx *ctx, const char *path) {
    char *s = test_read_file(path, NULL);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    free(s);
    if (!j) return;
    const float *in;
    int nd, shape[4];
    CHECK_OK(sam2_ctx_tensor(ctx, "input", &in, &nd, shape));
    const int S = shape[3];
    double maxd = 0;
    int count = 0;
    const cJSON *rows = cJSON_GetObjectItem(j, "rows");
    for (const cJSON *r = rows ? rows->child : NULL; r; r = r->next) {
        int y = atoi(r->string);
        for (int c = 0; c < 3; c++) {
            const cJSON *vals = cJSON_GetArrayItem(r, c);
            for (int x = 0; x < S; x++, count++)
                maxd = fmax(maxd, fabs(in[((size_t)c * S + y) * S + x] - cJSON_GetArrayItem(vals, x)->valuedouble));
        }
    }
    const cJSON *pts = cJSON_GetObjectItem(j, "points_cyx_value");
    for (int i = 0; i < cJSON_GetArraySize(pts); i++, count++) {
        const cJSON *p = cJSON_GetArrayItem(pts, i);
        int c = cJSON_GetArrayItem(p, 0)->valueint, y = cJSON_GetArrayItem(p, 1)->valueint, x = cJSON_GetArrayItem(p, 2)->valueint;
        maxd = fmax(maxd, fabs(in[((size_t)c * S + y) * S + x] - cJSON_GetArrayItem(p, 3)->valuedouble));
    }
    printf("  %-48s max_abs %.3e over %d samples\n", "input (samples)", maxd, count);
    CHECK(count > 0 && maxd <= 1e-5, "input samples differ by %g", maxd);
    cJSON_Delete(j);
}

/* Our JPEG decoder against the reference decoder's pixels. */
static void compare_jpeg(const char *jpg, const char *png) {
    image_file a, b;
    if (image_file_read(jpg, &a) != SAM2_OK) {
        CHECK(0, "%s: %s", jpg, sam2_last_error());
        return;
    }
    CHECK_OK(image_file_read(png, &b));
    CHECK(a.width == b.width && a.height == b.height && a.channels == 3, "%s size", jpg);
    long diff = 0;
    int maxd = 0;
    for (long i = 0; i < (long)a.width * a.height * 3; i++) {
        int d = abs((int)a.pixels[i] - (int)b.pixels[i]);
        diff += d != 0;
        maxd = d > maxd ? d : maxd;
    }
    printf("  JPEG %s: %ld of %ld samples differ from the reference decoder, max %d\n", jpg, diff,
           (long)a.width * a.height * 3, maxd);
    CHECK(maxd <= 2, "JPEG decoding differs by %d levels", maxd);
    image_file_free(&a);
    image_file_free(&b);
}

int main(void) {
    const char *g = test_golden_dir();
    if (!g) {
        printf("golden data absent: pipeline parity skipped\n");
        CHECK(test_file_exists(test_fixtures_dir()), "fixtures present");
        return test_finish();
    }
    const char *models[] = {"micro256", "micro1024"};
    const char *images[] = {"truck", "groceries", "camera", "coins", "synthetic"};
    const char *files[] = {"truck.decoded.png", "groceries.decoded.png", "camera.png", "coins.png", "synthetic.png"};
    char path[4096], yaml[4096];
    for (int mi = 0; mi < 2; mi++) {
        snprintf(path, sizeof path, "%s/models/%s.pt", g, models[mi]);
        snprintf(yaml, sizeof yaml, "%s/models/%s.yaml", g, models[mi]);
        sam2_model *m = NULL;
        sam2_ctx *ctx = NULL;
        CHECK_OK(sam2_model_load(path, yaml, &m));
        if (!m || sam2_ctx_new(m, 2, &ctx) != SAM2_OK) continue;
        sam2_ctx_keep_intermediates(ctx, 1);
        for (int ii = 0; ii < 5; ii++) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s/cases/%s/%s", g, models[mi], images[ii]);
            if (!test_file_exists(dir)) continue;
            snprintf(path, sizeof path, "%s/images/%s", g, files[ii]);
            image_file f;
            CHECK_OK(image_file_read(path, &f));
            sam2_image im = image_file_view(&f);
            CHECK_OK(sam2_set_image(ctx, &im));
            printf(" %s from %s\n", dir, files[ii]);
            compare_tensor(ctx, dir, "input", 1e-5f, 0);
            snprintf(path, sizeof path, "%s/input_samples.json", dir);
            if (test_file_exists(path)) compare_input_samples(ctx, path);
            compare_tensor(ctx, dir, "backbone_fpn_2", 1e-3f, 1e-3f);
            compare_tensor(ctx, dir, "image_embed", 1e-3f, 1e-3f);
            compare_tensor(ctx, dir, "high_res_feats_0", 1e-3f, 1e-3f);
            compare_tensor(ctx, dir, "high_res_feats_1", 1e-3f, 1e-3f);
            if (ii == 0) { /* a default context keeps only the predictor's features, the same ones */
                sam2_ctx *lean = NULL;
                const float *a, *b;
                CHECK_OK(sam2_ctx_new(m, 2, &lean));
                CHECK_OK(sam2_set_image(lean, &im));
                CHECK(sam2_ctx_tensor(lean, "backbone_fpn_0", &a, NULL, NULL) == SAM2_ERR_STATE,
                      "intermediates kept without asking");
                CHECK(sam2_ctx_tensor(lean, "input", &a, NULL, NULL) == SAM2_ERR_STATE, "input kept without asking");
                int same = 1, shape[4];
                const char *names[3] = {"image_embed", "high_res_feats_0", "high_res_feats_1"};
                for (int t = 0; t < 3; t++) {
                    CHECK_OK(sam2_ctx_tensor(lean, names[t], &a, NULL, shape));
                    CHECK_OK(sam2_ctx_tensor(ctx, names[t], &b, NULL, NULL));
                    same &= memcmp(a, b, sizeof(float) * (size_t)shape[1] * shape[2] * shape[3]) == 0;
                }
                CHECK(same, "features differ with and without intermediates");
                sam2_ctx_free(lean);
            }
            image_file_free(&f);
        }
        sam2_ctx_free(ctx);
        sam2_model_free(m);
    }
    for (int ii = 0; ii < 2; ii++) {
        char jpg[4096];
        snprintf(jpg, sizeof jpg, "%s/images/%s.jpg", g, images[ii]);
        snprintf(path, sizeof path, "%s/images/%s", g, files[ii]);
        compare_jpeg(jpg, path);
    }
    return test_finish();
}
