/* test_postprocess.c - 8-connected components, the official hole / sprinkle
 * rule and the bilinear resize (align_corners=False, edge clamp) on small
 * hand-made inputs with hand-computed answers. */
#include <math.h>
#include <stdint.h>

#include "postprocess.h"
#include "test.h"

/* Labels a grid written as a string of '0'/'1' rows; returns n. */
static int label_grid(const char *rows, int h, int w, int *labels, int *areas) {
    uint8_t m[64];
    for (int i = 0; i < h * w; i++) m[i] = rows[i] == '1';
    return cc_label8(m, h, w, labels, areas);
}

static void test_components(void) {
    int lab[64], area[65];
    /* a diagonal chain is one component under 8-connectivity */
    const char *diag = "1000"
                       "0100"
                       "0010"
                       "0001";
    CHECK(label_grid(diag, 4, 4, lab, area) == 1 && area[1] == 4, "diagonal chain: %d components", label_grid(diag, 4, 4, lab, area));
    /* three blobs: an L (4 px), a single pixel, a bar touching the border */
    const char *three = "11001"
                        "10001"
                        "10000"
                        "00100";
    int n = label_grid(three, 4, 5, lab, area);
    CHECK(n == 3, "three blobs: %d", n);
    CHECK(lab[0] == 1 && lab[1] == 1 && lab[5] == 1 && lab[10] == 1 && area[1] == 4, "L blob: label %d area %d", lab[0], area[1]);
    CHECK(lab[4] == 2 && lab[9] == 2 && area[2] == 2, "bar: label %d area %d", lab[4], area[2]);
    CHECK(lab[17] == 3 && area[3] == 1, "single pixel: label %d area %d", lab[17], area[3]);
    CHECK(lab[2] == 0 && lab[6] == 0 && lab[19] == 0, "background pixels must keep label 0");
    /* a ring and what it encloses are separate; the corner touch joins */
    const char *ring = "01110"
                       "01010"
                       "01110"
                       "10000";
    n = label_grid(ring, 4, 5, lab, area);
    CHECK(n == 1 && area[1] == 9, "ring + diagonal corner: %d components, area %d", n, area[1]);
    /* empty and full grids, a single row, a single column */
    CHECK(label_grid("000000", 2, 3, lab, area) == 0, "empty grid");
    n = label_grid("111111", 2, 3, lab, area);
    CHECK(n == 1 && area[1] == 6, "full grid: %d, area %d", n, area[1]);
    n = label_grid("1101011", 1, 7, lab, area);
    CHECK(n == 3 && area[1] == 2 && area[2] == 1 && area[3] == 2, "row: %d", n);
    n = label_grid("10111", 5, 1, lab, area);
    CHECK(n == 2 && area[1] == 1 && area[2] == 3, "column: %d", n);
}

/* Fills a logit grid from '0'/'1' rows: '1' -> +v, '0' -> -v around thr. */
static void logit_grid(const char *rows, int n, float thr, float *out) {
    for (int i = 0; i < n; i++) out[i] = rows[i] == '1' ? thr + 2.5f : thr - 1.5f;
}

static void test_holes_and_sprinkles(void) {
    const float thr = 0.5f;
    float g[64], ref[64];
    /* a one-pixel hole in a big object, a one-pixel sprinkle far away */
    const char *a = "111100"
                    "101100"
                    "111100"
                    "000001";
    logit_grid(a, 24, thr, g);
    memcpy(ref, g, sizeof g);
    CHECK_OK(fill_holes_and_sprinkles(g, 4, 6, thr, 0, 0));
    CHECK(!memcmp(g, ref, sizeof g), "both areas 0 must leave the logits alone");
    CHECK_OK(fill_holes_and_sprinkles(g, 4, 6, thr, 1, 0));
    CHECK(g[7] == thr + 10.0f, "hole must become thr + 10, got %g", g[7]);
    CHECK(g[23] == ref[23], "sprinkle step disabled, got %g", g[23]);
    for (int i = 0; i < 24; i++)
        if (i != 7) CHECK(g[i] == ref[i], "pixel %d changed by hole filling", i);
    memcpy(g, ref, sizeof g);
    CHECK_OK(fill_holes_and_sprinkles(g, 4, 6, thr, 0, 1));
    CHECK(g[23] == thr - 10.0f && g[7] == ref[7], "sprinkle must become thr - 10, got %g", g[23]);
    /* the object (11 px) stays with max_sprinkle 10; the background around
     * it (11 px) is not a hole with max_hole 10, but is with 11 */
    memcpy(g, ref, sizeof g);
    CHECK_OK(fill_holes_and_sprinkles(g, 4, 6, thr, 10, 10));
    CHECK(g[0] == ref[0] && g[4] == ref[4] && g[7] == thr + 10.0f && g[23] == thr - 10.0f, "large components must stay");
    memcpy(g, ref, sizeof g);
    CHECK_OK(fill_holes_and_sprinkles(g, 4, 6, thr, 11, 0));
    CHECK(g[4] == thr + 10.0f && g[18] == thr + 10.0f && g[0] == ref[0], "11-px background with max_hole 11: %g", g[4]);

    /* both maps come from the input logits: a 3x3 ring (8 px) around a
     * one-pixel hole with max 8 for both loses the ring and fills the hole
     * (done one after the other, the filled ring would be 9 px and stay) */
    const char *ring = "00000"
                       "01110"
                       "01010"
                       "01110"
                       "00000";
    logit_grid(ring, 25, thr, g);
    CHECK_OK(fill_holes_and_sprinkles(g, 5, 5, thr, 8, 8));
    CHECK(g[12] == thr + 10.0f, "ring hole: %g", g[12]);
    CHECK(g[6] == thr - 10.0f && g[18] == thr - 10.0f, "ring removed: %g %g", g[6], g[18]);
    CHECK(g[0] == thr - 1.5f, "outer background (16 px) untouched: %g", g[0]);

    /* background components are 8-connected too: (0,3) and (1,2) touch at
     * a corner, so the "hole" has 2 px and max_hole 1 keeps it */
    const char *corner = "1110"
                         "1101"
                         "1111";
    logit_grid(corner, 12, thr, g);
    CHECK_OK(fill_holes_and_sprinkles(g, 3, 4, thr, 1, 0));
    CHECK(g[3] == thr - 1.5f && g[6] == thr - 1.5f, "diagonal background pair must not be filled: %g %g", g[3], g[6]);
    CHECK_OK(fill_holes_and_sprinkles(g, 3, 4, thr, 2, 0));
    CHECK(g[3] == thr + 10.0f && g[6] == thr + 10.0f, "2-px background with max 2 filled: %g %g", g[3], g[6]);

    /* a logit equal to the threshold is background */
    float eq[9] = {3, 3, 3, 3, thr, 3, 3, 3, 3};
    CHECK_OK(fill_holes_and_sprinkles(eq, 3, 3, thr, 1, 0));
    CHECK(eq[4] == thr + 10.0f, "logit == thr is background: %g", eq[4]);
}

/* Largest |got - want| over n values. */
static double maxerr(const float *got, const double *want, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs(got[i] - want[i]));
    return m;
}

static void test_upsample(void) {
    /* 2x2 -> 4x4: source positions -0.25 (clamped to 0), 0.25, 0.75, 1.25
     * (right tap clamped): rows and columns weigh [0, .25, .75, 1] of the
     * way from the first to the second sample. in = 2*y + x is linear, so
     * out = 2*r[y] + r[x]. */
    const float in[4] = {0, 1, 2, 3};
    const double r[4] = {0, 0.25, 0.75, 1};
    double want[16];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) want[y * 4 + x] = 2 * r[y] + r[x];
    float out[32];
    CHECK_OK(upsample_bilinear(in, 2, 2, out, 4, 4));
    CHECK(maxerr(out, want, 16) == 0, "2x2 -> 4x4 separable: error %g", maxerr(out, want, 16));
    CHECK_OK(upsample_bilinear_4w(in, 2, 2, out, 4, 4));
    CHECK(maxerr(out, want, 16) == 0, "2x2 -> 4x4 four-weight: error %g", maxerr(out, want, 16));

    /* 1x3 -> 1x2 (downscale 1.5): sources 0.25 and 1.75 */
    const float row[3] = {0, 10, 20};
    const double want_row[2] = {2.5, 17.5};
    CHECK_OK(upsample_bilinear(row, 1, 3, out, 1, 2));
    CHECK(maxerr(out, want_row, 2) < 1e-6, "1x3 -> 1x2: %g %g", out[0], out[1]);

    /* 1x2 -> 1x5 (scale 0.4): sources -0.3 -> 0, 0.1, 0.5, 0.9, 1.3 -> 1 */
    const float two[2] = {1, 6};
    const double want5[5] = {1, 1.5, 3.5, 5.5, 6};
    CHECK_OK(upsample_bilinear(two, 1, 2, out, 1, 5));
    CHECK(maxerr(out, want5, 5) < 1e-6, "1x2 -> 1x5: error %g", maxerr(out, want5, 5));

    /* the same size is a copy; a 1x1 input is constant */
    const float six[6] = {1, -2, 3.5f, 4, 5, -6};
    double six_d[6] = {1, -2, 3.5, 4, 5, -6};
    CHECK_OK(upsample_bilinear(six, 2, 3, out, 2, 3));
    CHECK(maxerr(out, six_d, 6) == 0, "identity resize");
    const float one = 7.25f;
    double sevens[12];
    for (int i = 0; i < 12; i++) sevens[i] = 7.25;
    CHECK_OK(upsample_bilinear(&one, 1, 1, out, 3, 4));
    CHECK(maxerr(out, sevens, 12) == 0, "1x1 input must give a constant");

    /* non-square 2x3 -> 3x5 against the formula written out in double */
    const float src[6] = {0, 4, -2, 8, 1, 3};
    double ref[15];
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 5; x++) {
            double sy = fmax(2.0 / 3.0 * (y + 0.5) - 0.5, 0), sx = fmax(3.0 / 5.0 * (x + 0.5) - 0.5, 0);
            int y0 = (int)sy, x0 = (int)sx, y1 = y0 < 1 ? y0 + 1 : y0, x1 = x0 < 2 ? x0 + 1 : x0;
            double ly = sy - y0, lx = sx - x0;
            ref[y * 5 + x] = (1 - ly) * ((1 - lx) * src[y0 * 3 + x0] + lx * src[y0 * 3 + x1]) +
                             ly * ((1 - lx) * src[y1 * 3 + x0] + lx * src[y1 * 3 + x1]);
        }
    CHECK_OK(upsample_bilinear(src, 2, 3, out, 3, 5));
    CHECK(maxerr(out, ref, 15) < 1e-5, "2x3 -> 3x5: error %g", maxerr(out, ref, 15));
    CHECK_OK(upsample_bilinear_4w(src, 2, 3, out, 3, 5));
    CHECK(maxerr(out, ref, 15) < 1e-5, "2x3 -> 3x5 four-weight: error %g", maxerr(out, ref, 15));

    CHECK(upsample_bilinear(src, 2, 3, out, 0, 5) == SAM2_ERR_PARAM, "an empty output size must be refused");
}

static void test_stability(void) {
    const float l[6] = {-2, -0.5f, 0.04f, 0.06f, 1, 3};
    float s = stability_score(l, 6, 0.05f, -0.05f, 1.0f); /* 3 of 4 */
    CHECK(s == 0.75f, "stability 3/4: %g", s);
    const float neg[3] = {-1, -2, -3};
    CHECK(stability_score(neg, 3, 0.05f, -0.05f, 1.0f) == 1.0f, "empty union gives the 'empty' value");
    CHECK(isnan(stability_score(neg, 3, 1.0f, -1.0f, NAN)), "empty union gives NaN when asked");
}

int main(void) {
    test_components();
    test_holes_and_sprinkles();
    test_upsample();
    test_stability();
    return test_finish();
}
