/* Large images for the robust steps: the shrunk copy (area averages, sizes,
 * 16-bit input, images already small) and masks brought back to full size
 * (exact blocks at integer factors, boxes and areas counted again, clicks
 * and crop boxes scaled, empty masks, smooth diagonals, bad sizes). */
#include <stdint.h>

#include "rle.h"
#include "test.h"

static void test_shrink(void) {
    /* 8 x 4 RGB made of 2 x 2 blocks: halving gives each block's colour */
    uint8_t px[4 * 8 * 3];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 8; x++)
            for (int c = 0; c < 3; c++) px[(y * 8 + x) * 3 + c] = (uint8_t)(10 * (x / 2) + 50 * (y / 2) + c);
    sam2_image img = {8, 4, 8 * 3, 3, 8, px};
    uint8_t *o = NULL;
    int w = 0, h = 0;
    CHECK_OK(sam2_image_shrink(&img, SAM2_DEPTH_WINDOW, 4, &o, &w, &h));
    CHECK(w == 4 && h == 2, "size %d x %d, want 4 x 2", w, h);
    int bad = 0;
    for (int y = 0; o && y < 2; y++)
        for (int x = 0; x < 4; x++)
            for (int c = 0; c < 3; c++) bad += o[(y * 4 + x) * 3 + c] != 10 * x + 50 * y + c;
    CHECK(bad == 0, "%d block averages wrong", bad);
    free(o);
    /* a 3:2 pair of pixels averages with its covered shares: 0, 90, 180 -> 30, 150 */
    uint8_t g3[3] = {0, 90, 180};
    sam2_image row = {3, 1, 3, 1, 8, g3};
    CHECK_OK(sam2_image_shrink(&row, SAM2_DEPTH_WINDOW, 2, &o, &w, &h));
    CHECK(w == 2 && h == 1 && o && o[0] == 30 && o[3] == 150 && o[1] == 30, "shares: %d %d", o ? o[0] : -1, o ? o[3] : -1);
    free(o);
    /* a flat gray image stays flat at any ratio; the aspect ratio is kept */
    uint8_t *flat = malloc(301 * 157);
    memset(flat, 77, 301 * 157);
    sam2_image f = {301, 157, 301, 1, 8, flat};
    CHECK_OK(sam2_image_shrink(&f, SAM2_DEPTH_WINDOW, 100, &o, &w, &h));
    CHECK(w == 100 && h == 52, "size %d x %d, want 100 x 52", w, h);
    bad = 0;
    for (int i = 0; o && i < w * h * 3; i++) bad += o[i] != 77;
    CHECK(bad == 0, "%d samples of a flat image changed", bad);
    free(o);
    /* within max_side (or 0): the RGB conversion at the same size */
    CHECK_OK(sam2_image_shrink(&f, SAM2_DEPTH_WINDOW, 0, &o, &w, &h));
    CHECK(w == 301 && h == 157 && o && o[3 * 500 + 2] == 77, "max_side 0 keeps the size");
    free(o);
    free(flat);
    /* 16-bit input goes through the depth mapping first (scale: x / 257) */
    uint16_t deep[4] = {257 * 200, 257 * 200, 257 * 100, 257 * 100};
    sam2_image d = {4, 1, 8, 1, 16, deep};
    CHECK_OK(sam2_image_shrink(&d, SAM2_DEPTH_SCALE, 2, &o, &w, &h));
    CHECK(w == 2 && h == 1 && o && o[0] == 200 && o[3] == 100, "16-bit: %d %d", o ? o[0] : -1, o ? o[3] : -1);
    free(o);
    CHECK(sam2_image_shrink(&d, SAM2_DEPTH_SCALE, -1, &o, &w, &h) == SAM2_ERR_PARAM && !o, "negative max_side");
}

/* A result of one mask made from a row-major map. */
static sam2_amg_result *one_mask(const uint8_t *map, int w, int h) {
    sam2_amg_result *r = calloc(1, sizeof *r);
    r->width = w, r->height = h, r->n_masks = 1;
    r->masks = calloc(1, sizeof *r->masks);
    sam2_amg_mask *m = &r->masks[0];
    if (rle_encode(map, h, w, &m->counts, &m->n_counts) != SAM2_OK) return r;
    m->area = rle_area(m->counts, m->n_counts);
    m->predicted_iou = 0.75f, m->stability_score = 0.9f, m->source = SAM2_MASK_CONSENSUS;
    m->point[0] = 3.5f, m->point[1] = 2.0f;
    m->crop_box[2] = (float)w, m->crop_box[3] = (float)h;
    return r;
}

static void test_upscale(void) {
    /* a rectangle x 2..4, y 1..3 of an 8 x 6 map, four times larger: the
     * blocks x 8..19, y 4..15 (an edge half-way between two pixels' centres)
     * with each corner pixel rounded off, as bilinear interpolation does */
    uint8_t map[6 * 8] = {0};
    for (int y = 1; y <= 3; y++)
        for (int x = 2; x <= 4; x++) map[y * 8 + x] = 1;
    sam2_amg_result *r = one_mask(map, 8, 6), *u = NULL;
    CHECK_OK(sam2_amg_result_upscale(r, 32, 24, &u));
    if (u) {
        const sam2_amg_mask *m = &u->masks[0];
        CHECK(u->width == 32 && u->height == 24 && u->n_masks == 1, "result size");
        uint8_t *got = malloc(32 * 24), want[24 * 32] = {0};
        for (int y = 4; y <= 15; y++)
            for (int x = 8; x <= 19; x++) want[y * 32 + x] = 1;
        want[4 * 32 + 8] = want[4 * 32 + 19] = want[15 * 32 + 8] = want[15 * 32 + 19] = 0;
        CHECK_OK(sam2_rle_decode(m->counts, m->n_counts, 24, 32, got));
        CHECK(!memcmp(got, want, sizeof want), "upscaled rectangle");
        CHECK(m->area == 140, "area %lld, want 140", (long long)m->area);
        CHECK(m->bbox[0] == 8 && m->bbox[1] == 4 && m->bbox[2] == 11 && m->bbox[3] == 11, "bbox %g %g %g %g",
              m->bbox[0], m->bbox[1], m->bbox[2], m->bbox[3]);
        CHECK(m->point[0] == 14.0f && m->point[1] == 8.0f, "click scaled");
        CHECK(m->crop_box[2] == 32 && m->crop_box[3] == 24, "crop box scaled");
        CHECK(m->predicted_iou == 0.75f && m->stability_score == 0.9f && m->source == SAM2_MASK_CONSENSUS,
              "scores and source kept");
        free(got);
    }
    sam2_amg_result_free(u), sam2_amg_result_free(r);
    /* an empty mask stays empty, with the box [0, 0, 0, 0] */
    memset(map, 0, sizeof map);
    r = one_mask(map, 8, 6);
    CHECK_OK(sam2_amg_result_upscale(r, 20, 15, &u));
    CHECK(u && u->masks[0].area == 0 && u->masks[0].n_counts == 1 && u->masks[0].counts[0] == 300 &&
              u->masks[0].bbox[2] == 0, "empty mask");
    sam2_amg_result_free(u), sam2_amg_result_free(r);
    /* a diagonal half-plane: the edge follows the diagonal, not a staircase of
     * 4 x 4 steps (nearest-neighbour scaling jumps by 4 every fourth row;
     * here no row's edge moves by more than 2) */
    uint8_t tri[16 * 16];
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) tri[y * 16 + x] = x <= y;
    r = one_mask(tri, 16, 16);
    CHECK_OK(sam2_amg_result_upscale(r, 64, 64, &u));
    if (u) {
        uint8_t *got = malloc(64 * 64);
        CHECK_OK(sam2_rle_decode(u->masks[0].counts, u->masks[0].n_counts, 64, 64, got));
        int stairs = 0, prev = -1;
        for (int y = 8; y < 56; y++) {
            int edge = 0;
            while (edge < 64 && got[y * 64 + edge]) edge++;
            if (prev >= 0 && (edge - prev > 2 || edge < prev)) stairs++;
            prev = edge;
        }
        CHECK(stairs == 0, "%d rows off the diagonal", stairs);
        free(got);
    }
    sam2_amg_result_free(u), sam2_amg_result_free(r);
    /* a full mask covers the whole image, edges included */
    memset(map, 1, sizeof map);
    r = one_mask(map, 8, 6);
    CHECK_OK(sam2_amg_result_upscale(r, 27, 19, &u));
    CHECK(u && u->masks[0].area == 27 * 19 && u->masks[0].bbox[2] == 26 && u->masks[0].bbox[3] == 18, "full mask");
    sam2_amg_result_free(u);
    CHECK(sam2_amg_result_upscale(r, 0, 19, &u) == SAM2_ERR_PARAM && !u, "zero width refused");
    sam2_amg_result_free(r);
}

int main(void) {
    test_shrink();
    test_upscale();
    return test_finish();
}
