/* test_truth_metrics.c - recall, uncovered pixels and split objects of
 * masks against hand-made instance label maps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rle.h"
#include "test.h"
#include "truth_metrics.h"

#define W 10
#define H 6

/* Labels: object 7 the left 4 columns, object 300 (16-bit) columns 5..9 of
 * rows 0..3, background elsewhere. */
static void make_labels(uint16_t *lab) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) lab[y * W + x] = x < 4 ? 7 : (x >= 5 && y < 4) ? 300 : 0;
}

/* A result whose masks are the given 0/1 images. */
static sam2_amg_result *result_of(const uint8_t *const *masks, int n) {
    sam2_amg_result *r = calloc(1, sizeof *r);
    r->width = W, r->height = H, r->n_masks = n;
    r->masks = calloc((size_t)n, sizeof *r->masks);
    for (int k = 0; k < n; k++) {
        CHECK_OK(rle_encode(masks[k], H, W, &r->masks[k].counts, &r->masks[k].n_counts));
        int64_t a = 0;
        for (int i = 0; i < W * H; i++) a += masks[k][i];
        r->masks[k].area = a;
    }
    return r;
}

static void rect(uint8_t *m, int x0, int y0, int x1, int y1) { /* inclusive */
    memset(m, 0, W * H);
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) m[y * W + x] = 1;
}

enum { CW = 21 };

/* |median inside - median of the ring within TRUTH_RING_PX| on gray, 16-bit
 * and colour images; the ring's radius; bad sizes. */
static void contrast_checks(void) {
    /* label 1: the pixel (10, 10) at 160; around it 100 at city-block
     * distance 1-2, 130 at 3-4, 200 beyond: the ring's median is 130 (12
     * pixels at 100, 28 at 130); a ring of 2 would give 100, of 3 115, of 6 or
     * more 200. Label 2: [0, 3) x [0, 3) at 190, in the corner. Objects are
     * numbered by first appearance: the corner is object 1, the pixel 2. */
    uint8_t lab[CW * CW], px[CW * CW], rgb[CW * CW * 3];
    uint16_t px16[CW * CW];
    for (int y = 0; y < CW; y++)
        for (int x = 0; x < CW; x++) {
            const int d = abs(x - 10) + abs(y - 10), i = y * CW + x;
            lab[i] = d == 0 ? 1 : (x < 3 && y < 3) ? 2 : 0;
            px[i] = (uint8_t)(d == 0 ? 160 : lab[i] == 2 ? 190 : d <= 2 ? 100 : d <= 4 ? 130 : 200);
            px16[i] = (uint16_t)(px[i] * 257);
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = px[i];
        }
    truth_map t;
    CHECK(truth_map_from_labels(lab, 8, CW, CW, &t) == 0 && t.n_obj == 2, "contrast labels");
    float c[3] = {-1, -1, -1};
    sam2_image img = {CW, CW, CW, 1, 8, px};
    CHECK(truth_map_contrast(&t, &img, c) == 0, "contrast");
    CHECK(c[2] == 30.0f, "the pixel against its ring: %g, want |160 - 130|", c[2]);
    CHECK(c[1] == 10.0f, "the corner square against its ring (the 200s beyond the 130s): %g", c[1]);
    sam2_image wide = {CW, CW, CW * 2, 1, 16, px16};
    CHECK(truth_map_contrast(&t, &wide, c) == 0 && c[2] == 30.0f, "16-bit samples in 8-bit levels: %g", c[2]);
    sam2_image colour = {CW, CW, CW * 3, 3, 8, rgb};
    CHECK(truth_map_contrast(&t, &colour, c) == 0 && fabsf(c[2] - 30.0f) < 1e-3f, "equal channels: %g", c[2]);
    /* a colour object of the background's luminance stands out by nothing */
    for (int i = 0; i < CW * CW; i++)
        if (lab[i] == 1) rgb[3 * i] = 200, rgb[3 * i + 1] = 49, rgb[3 * i + 2] = 100;
        else rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = 100;
    CHECK(truth_map_contrast(&t, &colour, c) == 0 && c[2] < 0.1f, "red on gray of equal luminance: %g", c[2]);
    sam2_image small = {CW - 1, CW, CW, 1, 8, px};
    CHECK(truth_map_contrast(&t, &small, c) != 0, "an image of another size is refused");
    truth_map_free(&t);
    /* an object over the whole image has no ring */
    memset(lab, 5, sizeof lab);
    CHECK(truth_map_from_labels(lab, 8, CW, CW, &t) == 0 && t.n_obj == 1, "one object");
    CHECK(truth_map_contrast(&t, &img, c) == 0 && c[1] == 0.0f, "nothing around: %g", c[1]);
    truth_map_free(&t);
}

int main(void) {
    uint16_t lab[W * H];
    make_labels(lab);
    truth_map t;
    CHECK(truth_map_from_labels(lab, 16, W, H, &t) == 0, "labels");
    CHECK(t.n_obj == 2 && t.area[1] == 24 && t.area[2] == 20 && t.area[0] == 16, "objects %d, areas %lld %lld %lld",
          t.n_obj, (long long)t.area[0], (long long)t.area[1], (long long)t.area[2]);

    /* mask A = object 7 exactly; B and C = the two halves of object 300 */
    uint8_t a[W * H], b[W * H], c[W * H], d[W * H];
    rect(a, 0, 0, 3, 5);
    rect(b, 5, 0, 9, 1);
    rect(c, 5, 2, 9, 3);
    const uint8_t *ms[3] = {a, b, c};
    sam2_amg_result *r = result_of(ms, 3);
    truth_counts k;
    float best[3] = {-1, -1, -1};
    CHECK(truth_map_score(&t, r, &k, best) == 0, "score");
    CHECK(best[1] == 1.0f && best[2] == 0.5f, "best IoU per object %g %g (A exact; a half of object 300)", best[1],
          best[2]);
    CHECK(k.objects == 2 && k.masks == 3, "objects %d masks %d", k.objects, k.masks);
    CHECK(k.found50 == 2 && k.found75 == 1, "found %d / %d (object 300's halves have IoU 0.5)", k.found50, k.found75);
    CHECK(k.split == 1, "split %d: object 300 is in two parts", k.split);
    CHECK(k.object_px == 44 && k.uncovered_px == 0, "object px %lld, uncovered %lld", (long long)k.object_px,
          (long long)k.uncovered_px);
    sam2_amg_result_free(r);

    /* one mask over both objects and the background: recall 0, nothing split,
     * everything covered; a small part of object 7 alone leaves the rest
     * uncovered and is not a split (one part only, and under 10 %) */
    rect(d, 0, 0, 9, 5);
    rect(a, 0, 0, 1, 0); /* 2 pixels of object 7 */
    const uint8_t *ms2[1] = {a};
    r = result_of(ms2, 1);
    CHECK(truth_map_score(&t, r, &k, NULL) == 0, "score small");
    CHECK(k.found50 == 0 && k.split == 0 && k.uncovered_px == 42, "small part: found %d split %d uncovered %lld",
          k.found50, k.split, (long long)k.uncovered_px);
    sam2_amg_result_free(r);
    const uint8_t *ms3[1] = {d};
    r = result_of(ms3, 1);
    CHECK(truth_map_score(&t, r, &k, NULL) == 0, "score all");
    CHECK(k.found50 == 0 && k.split == 0 && k.uncovered_px == 0, "everything: found %d split %d uncovered %lld",
          k.found50, k.split, (long long)k.uncovered_px);
    /* no masks at all: every object pixel uncovered */
    r->n_masks = 0;
    CHECK(truth_map_score(&t, r, &k, NULL) == 0 && k.uncovered_px == 44 && k.found50 == 0, "no masks");
    r->n_masks = 1;
    /* a result of another size is refused */
    r->width = W + 1;
    CHECK(truth_map_score(&t, r, &k, NULL) != 0, "size mismatch must fail");
    r->width = W;
    sam2_amg_result_free(r);
    truth_map_free(&t);

    /* 8-bit labels number their objects the same way */
    uint8_t lab8[W * H];
    for (int i = 0; i < W * H; i++) lab8[i] = (uint8_t)(lab[i] ? (lab[i] == 7 ? 7 : 200) : 0);
    CHECK(truth_map_from_labels(lab8, 8, W, H, &t) == 0 && t.n_obj == 2 && t.area[2] == 20, "8-bit labels");
    truth_map_free(&t);
    contrast_checks();
    return test_finish();
}
