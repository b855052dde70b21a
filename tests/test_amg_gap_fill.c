/* test_amg_gap_fill.c - coverage from RLEs, uncovered regions and their
 * farthest points on hand-made maps, and gap filling on the demo model:
 * masks added only where nothing was, marked as such, the grid's masks
 * untouched. */
#include <stdlib.h>
#include <string.h>

#include "amg_gap_fill.h"
#include "edge_map.h"
#include "rle.h"
#include "test.h"

static void check_regions(void) {
    enum { W = 12, H = 8 };
    uint8_t cov[W * H];
    memset(cov, 1, sizeof cov);
    /* region A: a 5x5 hole centred at (3, 3); region B: a 2x1 sliver */
    for (int y = 1; y <= 5; y++)
        for (int x = 1; x <= 5; x++) cov[y * W + x] = 0;
    cov[2 * W + 9] = cov[2 * W + 10] = 0;
    gap_region r[4];
    int n = 0;
    CHECK_OK(gap_find_regions(cov, W, H, 1, 4, r, &n));
    CHECK(n == 2 && r[0].area == 25 && r[1].area == 2, "regions: %d, areas %lld %lld", n, (long long)r[0].area,
          (long long)(n > 1 ? r[1].area : -1));
    CHECK(r[0].x == 3 && r[0].y == 3, "farthest point of the hole (%d, %d), want its centre (3, 3)", r[0].x, r[0].y);
    CHECK_OK(gap_find_regions(cov, W, H, 3, 4, r, &n));
    CHECK(n == 1 && r[0].area == 25, "min area drops the sliver: %d", n);
    CHECK_OK(gap_find_regions(cov, W, H, 1, 1, r, &n));
    CHECK(n == 1 && r[0].area == 25, "max regions keeps the largest");
    /* everything covered: no region, and no sorting of an empty list (UBSan) */
    memset(cov, 1, sizeof cov);
    n = -1;
    CHECK_OK(gap_find_regions(cov, W, H, 1, 4, r, &n));
    CHECK(n == 0, "full coverage: %d regions", n);
    /* nothing covered: one region, its centre the point farthest from the border */
    memset(cov, 0, sizeof cov);
    CHECK_OK(gap_find_regions(cov, W, H, 1, 4, r, &n));
    CHECK(n == 1 && r[0].area == W * H && r[0].y >= 3 && r[0].y <= 4 && r[0].x >= 3 && r[0].x <= 8,
          "empty coverage: %d regions, point (%d, %d)", n, r[0].x, r[0].y);

    /* coverage from a column-major RLE equals the mask it encodes */
    uint8_t m[W * H], back[W * H];
    for (int i = 0; i < W * H; i++) m[i] = (uint8_t)((i * 7 + i / 5) % 3 == 0);
    int64_t *counts = NULL;
    int nc = 0;
    CHECK_OK(rle_encode(m, H, W, &counts, &nc));
    memset(back, 0, sizeof back);
    gap_coverage_add(counts, nc, W, H, back);
    CHECK(memcmp(m, back, sizeof m) == 0, "coverage from RLE differs from the mask");
    free(counts);
}

/* On a shapes-dev low-contrast scene with the strict setting, gap filling
 * adds masks that are mostly new, never touches the grid's, and covers more. */
static void check_demo(void) {
    test_demo d;
    if (!test_demo_open("dev_013.png", &d)) return;
    sam2_amg_params p = test_strict_params();
    sam2_amg_result *grid = NULL, *res = NULL;
    CHECK_OK(sam2_amg_generate(d.ctx, &d.img, &p, &grid));
    CHECK_OK(sam2_amg_generate(d.ctx, &d.img, &p, &res));
    const sam2_gap_fill_params g = sam2_gap_fill_default_params();
    CHECK_OK(sam2_amg_gap_fill(d.ctx, NULL, &p, &g, res));
    if (grid && res) {
        const int n0 = grid->n_masks, w = res->width, h = res->height;
        CHECK(res->n_masks > n0, "gap filling added nothing (%d masks)", n0);
        int same = 1;
        for (int k = 0; k < n0 && k < res->n_masks; k++)
            same &= res->masks[k].n_counts == grid->masks[k].n_counts && res->masks[k].source == SAM2_MASK_GRID &&
                    memcmp(res->masks[k].counts, grid->masks[k].counts, sizeof(int64_t) * grid->masks[k].n_counts) == 0;
        CHECK(same, "the grid's masks changed");
        uint8_t *cov = calloc((size_t)w * h, 1), *mk = malloc((size_t)w * h);
        for (int k = 0; k < res->n_masks; k++) {
            const sam2_amg_mask *m = &res->masks[k];
            if (k >= n0) {
                CHECK_OK(sam2_rle_decode(m->counts, m->n_counts, h, w, mk));
                int64_t area = 0, fresh = 0;
                for (int i = 0; i < w * h; i++) area += mk[i], fresh += mk[i] && !cov[i];
                CHECK(m->source == SAM2_MASK_GAP_FILL && area == m->area && fresh >= 0.6 * (double)area &&
                          m->predicted_iou > g.pred_iou_thresh && m->stability_score >= g.stability_score_thresh,
                      "gap mask %d: source %d, %lld of %lld new, iou %g, stability %g", k, m->source, (long long)fresh,
                      (long long)area, m->predicted_iou, m->stability_score);
            }
            gap_coverage_add(m->counts, m->n_counts, w, h, cov);
        }
        printf("  gap filling on dev_013 (lowc): %d grid masks + %d added\n", n0, res->n_masks - n0);
        free(cov), free(mk);
    }
    /* with the image, every added mask's outline follows its edges: with
     * a threshold between the weakest outline of the masks added without
     * the test and the first one's (asked first, so found again), masks are
     * added, none weaker; with one nothing passes, none */
    if (grid && res && res->n_masks > grid->n_masks + 1) {
        const int n0 = grid->n_masks, w = res->width, h = res->height;
        edge_map e;
        CHECK_OK(edge_map_make(&d.img, &e));
        uint8_t *mk = malloc((size_t)w * h);
        float *scratch = malloc(sizeof(float) * w * h), lo = 1e9f, first = 0;
        for (int k = n0; e.g && k < res->n_masks; k++) {
            CHECK_OK(sam2_rle_decode(res->masks[k].counts, res->masks[k].n_counts, h, w, mk));
            const float v = edge_outline_median(&e, mk, scratch);
            lo = v < lo ? v : lo;
            if (k == n0) first = v;
        }
        CHECK(lo < first, "the first added mask has the weakest outline (%.2f)", (double)first);
        sam2_gap_fill_params mid = g, never = g;
        mid.min_edge = 0.5f * (lo + first), never.min_edge = 1e6f;
        sam2_amg_result *gated = NULL, *none = NULL;
        CHECK_OK(sam2_amg_generate(d.ctx, &d.img, &p, &gated));
        CHECK_OK(sam2_amg_generate(d.ctx, &d.img, &p, &none));
        CHECK_OK(sam2_amg_gap_fill(d.ctx, &d.img, &p, &mid, gated));
        CHECK_OK(sam2_amg_gap_fill(d.ctx, &d.img, &p, &never, none));
        float worst = 1e9f;
        for (int k = n0; e.g && gated && k < gated->n_masks; k++) {
            CHECK_OK(sam2_rle_decode(gated->masks[k].counts, gated->masks[k].n_counts, h, w, mk));
            const float v = edge_outline_median(&e, mk, scratch);
            worst = v < worst ? v : worst;
        }
        printf("  outlines of the added masks from %.2f, the first %.2f; at %.2f: %d added (without the test: %d)\n",
               (double)lo, (double)first, (double)mid.min_edge, gated ? gated->n_masks - n0 : -1, res->n_masks - n0);
        CHECK(gated && gated->n_masks > n0, "the outline test kept none of %d", res->n_masks - n0);
        CHECK(worst >= mid.min_edge, "an added mask's outline median %.2f is below %.2f", (double)worst,
              (double)mid.min_edge);
        CHECK(none && none->n_masks == n0, "min_edge 1e6: masks added");
        const sam2_image half = {d.img.width / 2, d.img.height, d.img.stride, d.img.channels, d.img.bit_depth, d.img.data};
        CHECK(sam2_amg_gap_fill(d.ctx, &half, &p, &g, none) == SAM2_ERR_PARAM, "an image of another size accepted");
        never.min_edge = -1.0f;
        CHECK(sam2_amg_gap_fill(d.ctx, &d.img, &p, &never, none) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "min_edge"),
              "min_edge -1 accepted");
        free(mk), free(scratch), edge_map_free(&e);
        sam2_amg_result_free(gated), sam2_amg_result_free(none);
    }
    /* refused: a result of another size than the context's image, bad params */
    sam2_gap_fill_params bad = g;
    bad.rounds = -1;
    CHECK(sam2_amg_gap_fill(d.ctx, NULL, &p, &bad, res) == SAM2_ERR_PARAM, "negative rounds accepted");
    if (res) {
        res->width++;
        CHECK(sam2_amg_gap_fill(d.ctx, NULL, &p, &g, res) == SAM2_ERR_STATE, "size mismatch accepted");
        res->width--;
    }
    sam2_amg_result_free(grid);
    sam2_amg_result_free(res);
    test_demo_close(&d);
}

int main(void) {
    check_regions();
    check_demo();
    return test_finish();
}
