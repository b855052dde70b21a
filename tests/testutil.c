/* testutil.c - shared helpers for the test executables. */
#include <math.h>
#include <sys/stat.h>

#include "rle.h"
#include "test.h"

test_state g_test;

int test_finish(void) {
    printf("%d passed, %d failed\n", g_test.passed, g_test.failed);
    return g_test.failed ? 1 : 0;
}

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *test_source_dir(void) { return env_or("SAM2_SOURCE_DIR", "."); }
const char *test_fixtures_dir(void) { return env_or("SAM2_FIXTURES", "tests/fixtures"); }

int test_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

const char *test_golden_dir(void) {
    const char *g = getenv("SAM2_GOLDEN");
    if (g && *g && test_file_exists(g)) return g;
    return NULL;
}

int test_compare(const char *label, const float *got, const float *want, int64_t n, float atol,
                 float rtol) {
    double max_abs = 0, max_rel = 0;
    int ok = 1;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= atol + rtol * fabs(want[i]))) ok = 0; /* NaN fails too */
        if (d > max_abs || d != d) max_abs = d;
        double r = d / (fabs(want[i]) + 1e-12);
        if (fabs(want[i]) > 1e-6 && r > max_rel) max_rel = r;
    }
    printf("  %-48s max_abs %.3e  max_rel %.3e  %s\n", label, max_abs, max_rel, ok ? "ok" : "FAIL");
    return ok;
}

char *test_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (size) *size = (size_t)n;
    }
    return buf;
}

int test_demo_open(const char *name, test_demo *d) {
    const char *bench = getenv("SAM2_BENCH"), *src = getenv("SAM2_SOURCE_DIR");
    char path[4096], pt[4096], yaml[4096];
    snprintf(path, sizeof path, "%s/shapes-dev/images/%s", bench ? bench : "", name);
    snprintf(pt, sizeof pt, "%s/models/sam2-demo-shapes.pt", src ? src : ".");
    snprintf(yaml, sizeof yaml, "%s/models/sam2-demo-shapes.yaml", src ? src : ".");
    memset(d, 0, sizeof *d);
    if (!bench || !test_file_exists(path) || !test_file_exists(pt)) {
        printf("no $SAM2_BENCH/shapes-dev or demo model: the demo-model check is skipped\n");
        return 0;
    }
    CHECK_OK(sam2_model_load(pt, yaml, &d->model));
    if (!d->model) return 0;
    sam2_status st = image_file_read(path, &d->file);
    CHECK(st == SAM2_OK, "%s: %s", path, sam2_last_error());
    if (st == SAM2_OK && sam2_ctx_new(d->model, 2, &d->ctx) == SAM2_OK) {
        d->img = image_file_view(&d->file);
        return 1;
    }
    if (st == SAM2_OK) image_file_free(&d->file);
    sam2_model_free(d->model), d->model = NULL;
    CHECK(0, "no context for the demo model: %s", sam2_last_error());
    return 0;
}

sam2_amg_params test_strict_params(void) {
    sam2_amg_params p = sam2_amg_default_params();
    p.points_per_side = 16, p.pred_iou_thresh = 0.5f, p.stability_score_thresh = 0.8f;
    return p;
}

void test_demo_close(test_demo *d) {
    image_file_free(&d->file);
    sam2_ctx_free(d->ctx);
    sam2_model_free(d->model);
    memset(d, 0, sizeof *d);
}

sam2_amg_mask test_mask_record(const uint8_t *m, int H, int W, float iou, float stability, float px) {
    sam2_amg_mask r;
    memset(&r, 0, sizeof r);
    CHECK_OK(rle_encode(m, H, W, &r.counts, &r.n_counts));
    r.area = rle_area(r.counts, r.n_counts);
    int x0 = W, y0 = H, x1 = -1, y1 = -1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (m[y * W + x]) x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1, y0 = y < y0 ? y : y0, y1 = y;
    if (x1 >= 0) r.bbox[0] = (float)x0, r.bbox[1] = (float)y0, r.bbox[2] = (float)(x1 - x0), r.bbox[3] = (float)(y1 - y0);
    r.predicted_iou = iou, r.stability_score = stability;
    r.point[0] = px, r.point[1] = 1.0f;
    r.crop_box[2] = (float)W, r.crop_box[3] = (float)H;
    return r;
}
