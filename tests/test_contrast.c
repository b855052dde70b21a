/* test_contrast.c - the window stretch, CLAHE and the low-contrast test:
 * the stretch puts the 0.5 and 99.5 percentiles at 0 and 255 and leaves a
 * flat image alone; constants stay constant under CLAHE, a faint ramp is
 * stretched, smooth input stays smooth, any size works; the public step
 * replicates gray, keeps a colour's hue, reports what ran and is off unless
 * asked; on shapes-dev the automatic choice picks exactly the low-contrast
 * scenes. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "contrast.h"
#include "image_io.h"
#include "test.h"

static void check_clahe(void) {
    enum { W = 257, H = 161 };
    uint8_t *in = malloc(W * H), *out = malloc(W * H);
    memset(in, 90, W * H);
    CHECK(clahe_u8(in, W, H, 8, 2.0f, out) == 0, "clahe");
    int lo = 255, hi = 0;
    for (int i = 0; i < W * H; i++) lo = out[i] < lo ? out[i] : lo, hi = out[i] > hi ? out[i] : hi;
    CHECK(lo == hi, "a constant image must stay constant (%d..%d)", lo, hi);

    /* a faint horizontal ramp 100..115 with a little texture */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) in[y * W + x] = (uint8_t)(100 + x * 16 / W + ((x * 7 + y * 3) % 3 == 0));
    CHECK(clahe_u8(in, W, H, 8, 2.0f, out) == 0, "clahe ramp");
    const int before = contrast_spread(in, W * H), after = contrast_spread(out, W * H);
    int jump = 0;
    for (int y = 0; y < H; y++)
        for (int x = 1; x < W; x++) {
            int d = abs(out[y * W + x] - out[y * W + x - 1]);
            jump = d > jump ? d : jump;
        }
    printf("  faint ramp: spread %d -> %d, largest step between neighbours %d\n", before, after, jump);
    CHECK(5 * after >= 6 * before, "CLAHE must stretch a faint ramp: %d -> %d", before, after);
    CHECK(jump <= 64, "neighbouring pixels jump by %d: the regions' mappings are not blended", jump);

    /* tiny and odd sizes */
    uint8_t one = 7, o1 = 0, small[21], so[21];
    CHECK(clahe_u8(&one, 1, 1, 8, 2.0f, &o1) == 0, "1x1");
    for (int i = 0; i < 21; i++) small[i] = (uint8_t)(i * 12);
    CHECK(clahe_u8(small, 7, 3, 8, 2.0f, so) == 0, "7x3");
    int mono = 1;
    for (int i = 1; i < 7; i++) mono &= so[i] >= so[i - 1];
    CHECK(mono, "7x3: the row order of values must be kept");
    free(in), free(out);

    /* spread: 1st to 99th percentile */
    uint8_t v[1000];
    for (int i = 0; i < 1000; i++) v[i] = (uint8_t)(i % 200 + (i == 0 ? 0 : 0));
    CHECK(contrast_spread(v, 1000) >= 190 && contrast_spread(v, 1000) <= 199, "spread %d", contrast_spread(v, 1000));
}

static void check_stretch(void) {
    /* 0..199 five times each: numpy.percentile gives 0.995 and 198.005 */
    uint8_t v[1000], o[1000];
    for (int i = 0; i < 1000; i++) v[i] = (uint8_t)(i / 5);
    CHECK(stretch_u8(v, 1000, o) == 1, "stretch 0..199");
    CHECK(o[0] == 0 && o[999] == 255, "ends %d %d", o[0], o[999]);
    const double want = (100 - 0.995) / (198.005 - 0.995) * 255.0; /* 128.15 */
    CHECK(o[500] == (int)(want + 0.5), "value 100 -> %d, want %d", o[500], (int)(want + 0.5));
    CHECK(o[5] == 0 && o[10] == 1, "values 1 and 2 -> %d %d, want 0 and 1", o[5], o[10]);
    int mono = 1;
    for (int i = 1; i < 1000; i++) mono &= o[i] >= o[i - 1];
    CHECK(mono, "the order of values must be kept");

    /* a faint ramp 100..115 spreads over (nearly) the whole range */
    for (int i = 0; i < 1000; i++) v[i] = (uint8_t)(100 + i * 16 / 1000);
    CHECK(stretch_u8(v, 1000, o) == 1, "stretch ramp");
    printf("  faint ramp: spread %d -> %d after the window stretch\n", contrast_spread(v, 1000), contrast_spread(o, 1000));
    CHECK(contrast_spread(o, 1000) >= 230, "spread after the stretch %d", contrast_spread(o, 1000));

    /* rare outliers do not set the window: 0.3 % at 0 and at 255 */
    for (int i = 0; i < 1000; i++) v[i] = (uint8_t)(i < 3 ? 0 : i >= 997 ? 255 : 120 + i % 10);
    CHECK(stretch_u8(v, 1000, o) == 1, "stretch with outliers");
    CHECK(o[10] <= 5 && o[19] >= 250, "120 -> %d and 129 -> %d: the outliers set the window", o[10], o[19]);

    /* a flat image: nothing to stretch */
    memset(v, 77, sizeof v);
    memset(o, 1, sizeof o);
    CHECK(stretch_u8(v, 1000, o) == 0 && o[0] == 1, "a flat image must be left alone");
}

static void check_public(void) {
    enum { W = 40, H = 30 };
    uint8_t gray[W * H], rgb[W * H * 3];
    for (int i = 0; i < W * H; i++) gray[i] = (uint8_t)(120 + (i % W) / 8);                /* spread 4: low */
    for (int i = 0; i < W * H; i++) rgb[3 * i] = (uint8_t)(i % 255), rgb[3 * i + 1] = 30, rgb[3 * i + 2] = 200;
    sam2_image g = {W, H, W, 1, 8, gray}, c = {W, H, W * 3, 3, 8, rgb};
    uint8_t *px = NULL;
    int applied = -1;
    CHECK_OK(sam2_image_enhance(&g, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_OFF, &px, &applied));
    CHECK(!px && applied == 0, "off must do nothing");
    CHECK_OK(sam2_image_enhance(&g, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_AUTO, &px, &applied));
    CHECK(px && applied == SAM2_CONTRAST_STRETCH, "auto must stretch a faint gray image (applied %d)", applied);
    CHECK(px && px[0] == 0 && px[3 * (W - 1)] == 255, "auto stretch: %d..%d", px ? px[0] : -1, px ? px[3 * (W - 1)] : -1);
    int rep = 1;
    for (int i = 0; px && i < W * H; i++) rep &= px[3 * i] == px[3 * i + 1] && px[3 * i + 1] == px[3 * i + 2];
    CHECK(rep, "gray must stay gray");
    free(px), px = NULL;
    CHECK_OK(sam2_image_enhance(&c, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_AUTO, &px, &applied));
    CHECK(!px && applied == 0, "auto must leave colour alone");
    CHECK_OK(sam2_image_enhance(&c, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_CLAHE, &px, &applied));
    CHECK(px && applied == SAM2_CONTRAST_CLAHE, "clahe must always apply (applied %d)", applied);
    free(px), px = NULL;
    /* colour through the stretch: every channel follows the luminance gain */
    for (int i = 0; i < W * H; i++) rgb[3 * i] = (uint8_t)(100 + i % 20), rgb[3 * i + 1] = 60, rgb[3 * i + 2] = 50;
    CHECK_OK(sam2_image_enhance(&c, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_STRETCH, &px, &applied));
    CHECK(px && applied == SAM2_CONTRAST_STRETCH, "stretch must always apply (applied %d)", applied);
    int hue = 1;
    for (int i = 0; px && i < W * H; i++) {
        const uint8_t *q = px + 3 * i;
        if (q[0] > 20 && q[0] < 255) hue &= q[0] > q[1] && q[1] >= q[2]; /* red > green > blue, as before */
    }
    CHECK(hue, "the stretch must keep a colour's hue");
    free(px), px = NULL;
    /* the median first: a noisy pixel is gone before the stretch */
    gray[5 * W + 5] = 200;
    CHECK_OK(sam2_image_enhance(&g, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_MEDIAN_STRETCH, &px, &applied));
    CHECK(px && applied == SAM2_CONTRAST_MEDIAN_STRETCH, "median-stretch must apply (applied %d)", applied);
    CHECK(px && px[3 * (5 * W + 5)] == px[3 * (5 * W + 4)] && px[0] == 0 && px[3 * (W - 1)] == 255,
          "median-stretch: the noisy pixel must be gone and the ramp stretched");
    free(px), px = NULL;
    memset(gray, 90, sizeof gray);
    CHECK_OK(sam2_image_enhance(&g, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_STRETCH, &px, &applied));
    CHECK(!px && applied == 0, "a flat image has nothing to stretch");
    CHECK(sam2_image_enhance(&c, SAM2_DEPTH_WINDOW, (sam2_contrast_mode)9, &px, &applied) == SAM2_ERR_PARAM,
          "bad mode accepted");
}

/* The 3 x 3 median equals a plain sort of each neighbourhood (edges
 * replicated) on random images of several shapes, thin ones included; it
 * removes isolated noise and keeps a straight edge. */
static int cmp_u8(const void *a, const void *b) { return (int)*(const uint8_t *)a - (int)*(const uint8_t *)b; }

static void check_median(void) {
    const int sizes[][2] = {{1, 1}, {1, 7}, {7, 1}, {2, 2}, {13, 9}, {64, 48}};
    uint64_t s = 99;
    int bad = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const int w = sizes[k][0], h = sizes[k][1];
        uint8_t *in = malloc((size_t)w * h), *out = malloc((size_t)w * h);
        for (int i = 0; i < w * h; i++) s = s * 6364136223846793005ULL + 1442695040888963407ULL, in[i] = (uint8_t)(s >> 56);
        median3_u8(in, w, h, out);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint8_t v[9];
                for (int j = 0; j < 9; j++) {
                    int yy = y + j / 3 - 1, xx = x + j % 3 - 1;
                    yy = yy < 0 ? 0 : yy >= h ? h - 1 : yy, xx = xx < 0 ? 0 : xx >= w ? w - 1 : xx;
                    v[j] = in[yy * w + xx];
                }
                qsort(v, 9, 1, cmp_u8);
                bad += out[y * w + x] != v[4];
            }
        free(in), free(out);
    }
    CHECK(bad == 0, "%d medians differ from sorting", bad);
    enum { W = 20, H = 10 };
    uint8_t img[W * H], out[W * H];
    for (int i = 0; i < W * H; i++) img[i] = (i % W) < 10 ? 100 : 110;
    img[3 * W + 4] = 250, img[6 * W + 15] = 0; /* two isolated noisy pixels */
    median3_u8(img, W, H, out);
    int kept = 1;
    for (int i = 0; i < W * H; i++) kept &= out[i] == ((i % W) < 10 ? 100 : 110);
    CHECK(kept, "the median must remove isolated pixels and keep the edge");
}

/* Every low-contrast shapes-dev scene is taken, no other. */
static void check_bench(void) {
    const char *b = getenv("SAM2_BENCH");
    char path[4096];
    snprintf(path, sizeof path, "%s/shapes-dev/index.json", b ? b : "");
    char *text = b ? test_read_file(path, NULL) : NULL;
    if (!text) {
        printf("no $SAM2_BENCH/shapes-dev: the benchmark check is skipped\n");
        return;
    }
    cJSON *j = cJSON_Parse(text);
    int wrong = 0, low = 0, n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "images")) {
        const char *im = cJSON_GetObjectItem(e, "image")->valuestring, *var = cJSON_GetObjectItem(e, "variant")->valuestring;
        snprintf(path, sizeof path, "%s/shapes-dev/%s", b, im);
        image_file f;
        if (image_file_read(path, &f) != SAM2_OK) continue;
        sam2_image v = image_file_view(&f);
        uint8_t *px = NULL;
        int applied = 0;
        CHECK_OK(sam2_image_enhance(&v, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_AUTO, &px, &applied));
        free(px);
        wrong += (applied == SAM2_CONTRAST_STRETCH) != !strcmp(var, "lowc") || (applied && applied != SAM2_CONTRAST_STRETCH);
        low += applied != 0, n++;
        image_file_free(&f);
    }
    printf("  shapes-dev: the stretch chosen for %d of %d scenes, %d wrong\n", low, n, wrong);
    CHECK(n == 60 && wrong == 0 && low == 20, "automatic choice: %d wrong of %d", wrong, n);
    cJSON_Delete(j);
    free(text);
}

int main(void) {
    check_stretch();
    check_median();
    check_clahe();
    check_public();
    check_bench();
    return test_finish();
}
