/* test_truth_metrics.c - recall, uncovered pixels and split objects of
 * masks against hand-made instance label maps. */
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
    CHECK(truth_map_score(&t, r, &k) == 0, "score");
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
    CHECK(truth_map_score(&t, r, &k) == 0, "score small");
    CHECK(k.found50 == 0 && k.split == 0 && k.uncovered_px == 42, "small part: found %d split %d uncovered %lld",
          k.found50, k.split, (long long)k.uncovered_px);
    sam2_amg_result_free(r);
    const uint8_t *ms3[1] = {d};
    r = result_of(ms3, 1);
    CHECK(truth_map_score(&t, r, &k) == 0, "score all");
    CHECK(k.found50 == 0 && k.split == 0 && k.uncovered_px == 0, "everything: found %d split %d uncovered %lld",
          k.found50, k.split, (long long)k.uncovered_px);
    /* no masks at all: every object pixel uncovered */
    r->n_masks = 0;
    CHECK(truth_map_score(&t, r, &k) == 0 && k.uncovered_px == 44 && k.found50 == 0, "no masks");
    r->n_masks = 1;
    /* a result of another size is refused */
    r->width = W + 1;
    CHECK(truth_map_score(&t, r, &k) != 0, "size mismatch must fail");
    r->width = W;
    sam2_amg_result_free(r);
    truth_map_free(&t);

    /* 8-bit labels number their objects the same way */
    uint8_t lab8[W * H];
    for (int i = 0; i < W * H; i++) lab8[i] = (uint8_t)(lab[i] ? (lab[i] == 7 ? 7 : 200) : 0);
    CHECK(truth_map_from_labels(lab8, 8, W, H, &t) == 0 && t.n_obj == 2 && t.area[2] == 20, "8-bit labels");
    truth_map_free(&t);
    return test_finish();
}
