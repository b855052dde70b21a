/* test_amg_geometry.c - crop boxes (hand-computed official values and the
 * crops recorded in the golden AMG statistics), point grids (numpy linspace
 * bit for bit, downscaling per layer), the crop-edge filter and the recovery
 * of decimal parameters. */
#include <cjson/cJSON.h>
#include <math.h>

#include "amg_geometry.h"
#include "test.h"

/* Compares crops with expected xyxy boxes (and layers). */
static void expect_crops(const amg_crop *c, int n, const int (*want)[5], int nw, const char *label) {
    CHECK(n == nw, "%s: %d crops, want %d", label, n, nw);
    for (int i = 0; i < n && i < nw; i++)
        CHECK(c[i].x0 == want[i][0] && c[i].y0 == want[i][1] && c[i].x1 == want[i][2] && c[i].y1 == want[i][3] &&
                  c[i].layer == want[i][4],
              "%s: crop %d is [%d %d %d %d] layer %d, want [%d %d %d %d] layer %d", label, i, c[i].x0, c[i].y0, c[i].x1,
              c[i].y1, c[i].layer, want[i][0], want[i][1], want[i][2], want[i][3], want[i][4]);
}

static void test_crop_boxes(void) {
    amg_crop c[64];
    CHECK(amg_n_crops(0) == 1 && amg_n_crops(1) == 5 && amg_n_crops(2) == 21, "crop counts");
    int n = amg_crop_boxes(640, 480, 0, 512.0 / 1500.0, c);
    static const int w0[][5] = {{0, 0, 640, 480, 0}};
    expect_crops(c, n, w0, 1, "640x480 no layers");

    /* 100 x 60, ratio 0.25, two layers: overlap 15 then 7; crop 58 x 38 then
     * 31 x 21; x0-major enumeration; boxes clipped to the image */
    n = amg_crop_boxes(100, 60, 2, 0.25, c);
    static const int w1[][5] = {
        {0, 0, 100, 60, 0},  {0, 0, 58, 38, 1},   {0, 23, 58, 60, 1},  {43, 0, 100, 38, 1}, {43, 23, 100, 60, 1},
        {0, 0, 31, 21, 2},   {0, 14, 31, 35, 2},  {0, 28, 31, 49, 2},  {0, 42, 31, 60, 2},  {24, 0, 55, 21, 2},
        {24, 14, 55, 35, 2}, {24, 28, 55, 49, 2}, {24, 42, 55, 60, 2}, {48, 0, 79, 21, 2},  {48, 14, 79, 35, 2},
        {48, 28, 79, 49, 2}, {48, 42, 79, 60, 2}, {72, 0, 100, 21, 2}, {72, 14, 100, 35, 2}, {72, 28, 100, 49, 2},
        {72, 42, 100, 60, 2}};
    expect_crops(c, n, w1, 21, "100x60 ratio 0.25");

    /* the default ratio 512/1500 on a 1500-pixel short side: the reference's
     * double arithmetic gives exactly 512 (float32 would give 511) */
    sam2_amg_params d = sam2_amg_default_params();
    n = amg_crop_boxes(2000, 1500, 1, amg_float_as_decimal(d.crop_overlap_ratio), c);
    static const int w2[][5] = {
        {0, 0, 2000, 1500, 0}, {0, 0, 1256, 1006, 1}, {0, 494, 1256, 1500, 1}, {744, 0, 2000, 1006, 1},
        {744, 494, 2000, 1500, 1}};
    expect_crops(c, n, w2, 5, "2000x1500 default ratio");

    /* a typed decimal: 0.7 * 10 is 7.000000000000001 in double (overlap 7),
     * but 6.99999988 from the float 0.7f */
    n = amg_crop_boxes(10, 10, 1, amg_float_as_decimal(0.7f), c);
    CHECK(n == 5 && c[1].x1 == 9 && c[1].y1 == 9 && c[3].x0 == 2,
          "ratio 0.7 on 10 px: overlap 7 (crops 9 wide, the second at 2), got x1=%d x0=%d", c[1].x1, c[3].x0);
}

/* The crops the reference used, recorded in the golden AMG statistics. */
static void test_golden_crops(void) {
    const char *g = test_golden_dir();
    if (!g) {
        printf("no golden data: golden crop boxes skipped\n");
        return;
    }
    static const struct {
        const char *file;
        int w, h;
    } cases[] = {{"micro256/coins/amg_crop2.json", 384, 303},     {"micro256/groceries/amg_crop2.json", 800, 534},
                 {"micro256/synthetic/amg_crop2.json", 320, 200}, {"micro256/camera/amg_crop2.json", 512, 512},
                 {"micro256/truck/amg_crop1.json", 1800, 1200}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/cases/%s", g, cases[k].file);
        char *text = test_read_file(path, NULL);
        if (!text) continue;
        cJSON *j = cJSON_Parse(text);
        free(text);
        const cJSON *params = cJSON_GetObjectItem(j, "params");
        const int layers = cJSON_GetObjectItem(params, "crop_n_layers")->valueint;
        amg_crop c[64];
        int n = amg_crop_boxes(cases[k].w, cases[k].h, layers, amg_float_as_decimal(512.0f / 1500.0f), c);
        /* one crop_edge_filter entry per batch; consecutive batches of a crop
         * repeat its box, so collapse repeats and compare in order */
        const cJSON *ef = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "stats"), "crop_edge_filter");
        int seen = 0, ok = 1, prev[4] = {-1, -1, -1, -1};
        for (const cJSON *it = ef->child; it; it = it->next) {
            const cJSON *b = cJSON_GetObjectItem(it, "crop_box");
            int v[4];
            for (int q = 0; q < 4; q++) v[q] = cJSON_GetArrayItem(b, q)->valueint;
            if (!memcmp(v, prev, sizeof v)) continue;
            memcpy(prev, v, sizeof v);
            /* a crop whose batches all vanished is absent: find it in order */
            while (seen < n && !(c[seen].x0 == v[0] && c[seen].y0 == v[1] && c[seen].x1 == v[2] && c[seen].y1 == v[3]))
                seen++;
            ok &= seen < n;
            seen++;
        }
        CHECK(ok, "%s: golden crop boxes not produced in order", cases[k].file);
        CHECK(n == amg_n_crops(layers), "%s: crop count", cases[k].file);
        cJSON_Delete(j);
    }
}

/* A double's bits as written by float.hex(). */
static double hexd(const char *s) { return strtod(s, NULL); }

static void test_grids(void) {
    CHECK(amg_layer_points_per_side(32, 1, 0) == 32 && amg_layer_points_per_side(32, 2, 1) == 16 &&
              amg_layer_points_per_side(32, 2, 2) == 8 && amg_layer_points_per_side(10, 3, 1) == 3 &&
              amg_layer_points_per_side(5, 2, 3) == 0 && amg_layer_points_per_side(16, 4, 1) == 4,
          "points per side per layer");
    double xy[2 * 32 * 32];
    amg_point_grid(1, xy);
    CHECK(xy[0] == 0.5 && xy[1] == 0.5, "one point at the centre");
    /* numpy.linspace values, bit for bit (x varies fastest) */
    amg_point_grid(3, xy);
    CHECK(xy[0] == hexd("0x1.5555555555555p-3") && xy[2] == 0.5 && xy[4] == hexd("0x1.aaaaaaaaaaaabp-1"), "n=3 x");
    CHECK(xy[1] == xy[3] && xy[7] == 0.5 && xy[2 * 8 + 1] == hexd("0x1.aaaaaaaaaaaabp-1"), "n=3 y (row-major)");
    amg_point_grid(7, xy);
    CHECK(xy[0] == hexd("0x1.2492492492492p-4") && xy[2] == hexd("0x1.b6db6db6db6dcp-3") && xy[6] == 0.5 &&
              xy[10] == hexd("0x1.924924924924ap-1") && xy[12] == hexd("0x1.db6db6db6db6ep-1"),
          "n=7 linspace bits");
    amg_point_grid(32, xy);
    CHECK(xy[0] == 1.0 / 64 && xy[2] == 3.0 / 64 && xy[2 * 16] == hexd("0x1.0800000000000p-1") &&
              xy[2 * 31] == hexd("0x1.f800000000000p-1") && xy[2 * 32 + 1] == 3.0 / 64,
          "n=32 linspace bits");
    /* float64 product, then float32 */
    amg_point_grid(7, xy);
    float pts[2 * 49];
    amg_scale_points(xy, 49, 1023, 333, pts);
    CHECK(pts[2 * 3] == (float)(0.5 * 1023) && pts[2 * 3] == 511.5f, "scaled x");
    CHECK(pts[2 * 35 + 1] == 261.64285f, "scaled y = float32(linspace[5] * 333)");
}

static void test_edge_filter(void) {
    const amg_crop mid = {100, 0, 200, 100, 1}, right = {200, 0, 300, 100, 1}, whole = {0, 0, 300, 100, 0};
    int b[4];
    /* left edge of a middle crop: |d| <= 20 drops, 21 keeps */
    b[0] = 20, b[1] = 30, b[2] = 50, b[3] = 60;
    CHECK(amg_box_near_crop_edge(b, &mid, 300, 100) == 1, "|d| = 20 at a crop edge drops");
    b[0] = 21;
    CHECK(amg_box_near_crop_edge(b, &mid, 300, 100) == 0, "|d| = 21 keeps");
    /* right edge: inclusive x1 = 179 in the image vs crop x1 = 200 */
    b[2] = 79;
    CHECK(amg_box_near_crop_edge(b, &mid, 300, 100) == 0, "x1 21 px from the crop's right edge keeps");
    b[2] = 80;
    CHECK(amg_box_near_crop_edge(b, &mid, 300, 100) == 1, "x1 20 px from the crop's right edge drops");
    /* crop edges that are image edges never drop */
    b[0] = 30, b[1] = 0, b[2] = 99, b[3] = 99;
    CHECK(amg_box_near_crop_edge(b, &right, 300, 100) == 0, "touching image edges keeps");
    b[0] = 0, b[1] = 0, b[2] = 299, b[3] = 99;
    CHECK(amg_box_near_crop_edge(b, &whole, 300, 100) == 0, "whole image: nothing drops");
    /* an empty mask's box [0,0,0,0] in a crop at x0 = 100 sits on its left edge */
    b[0] = b[1] = b[2] = b[3] = 0;
    CHECK(amg_box_near_crop_edge(b, &mid, 300, 100) == 1, "empty box in an inner crop drops");
    CHECK(amg_box_near_crop_edge(b, &whole, 300, 100) == 0, "empty box in the whole image keeps");
}

static void test_decimal(void) {
    CHECK(amg_float_as_decimal(0.7f) == 0.7, "0.7f -> 0.7");
    CHECK(amg_float_as_decimal(0.1f) == 0.1, "0.1f -> 0.1");
    CHECK(amg_float_as_decimal(0.4325f) == 0.4325, "0.4325f -> 0.4325");
    CHECK(amg_float_as_decimal(0.0f) == 0.0 && amg_float_as_decimal(1.0f) == 1.0, "0 and 1");
    CHECK(amg_float_as_decimal((float)(512.0 / 1500.0)) == 512.0 / 1500.0, "the default ratio");
    CHECK(amg_float_as_decimal(-2.5f) == -2.5, "negative");
    CHECK(isnan(amg_float_as_decimal(NAN)), "NaN passes through");
    float odd = nextafterf(0.3f, 1.0f); /* a float no short decimal names */
    CHECK((float)amg_float_as_decimal(odd) == odd, "round trip of an arbitrary float");
}

int main(void) {
    test_crop_boxes();
    test_golden_crops();
    test_grids();
    test_edge_filter();
    test_decimal();
    return test_finish();
}
