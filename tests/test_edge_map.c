/* test_edge_map.c - the edge map and the outline median that gate consensus
 * votes: an outline along a step scores far above one across a flat or
 * noisy region, the image's border is no outline, gray, RGB and 16-bit
 * copies of one image give one map (and are gray, a colour image not),
 * the median of an even count is the mean of the middle two, a mask given
 * inside a box scores as the same mask over the whole image, and bad
 * images are refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge_map.h"
#include "test.h"

enum { W = 48, H = 40 };

static void rect(uint8_t *m, int x0, int y0, int x1, int y1) { /* inclusive */
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) m[y * W + x] = 1;
}

/* A noisy background (100 +- 6) with a square 12 levels brighter. */
static void scene(uint8_t *px) {
    uint64_t s = 99;
    for (int i = 0; i < W * H; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        px[i] = (uint8_t)(94 + (s >> 33) % 13);
    }
    for (int y = 10; y <= 25; y++)
        for (int x = 12; x <= 27; x++) px[y * W + x] += 12;
}

static float outline(const edge_map *e, const uint8_t *m) {
    float *scratch = malloc(sizeof(float) * W * H);
    const float v = edge_outline_median(e, m, scratch);
    free(scratch);
    return v;
}

int main(void) {
    uint8_t px[W * H], m[W * H];
    scene(px);
    edge_map e;
    const sam2_image gray = {W, H, W, 1, 8, px};
    CHECK_OK(edge_map_make(&gray, &e));
    if (!e.g) return test_finish();
    memset(m, 0, sizeof m);
    rect(m, 12, 10, 27, 25);
    const float object = outline(&e, m);
    memset(m, 0, sizeof m);
    rect(m, 30, 5, 44, 20); /* background only */
    const float piece = outline(&e, m);
    memset(m, 0, sizeof m);
    rect(m, 8, 6, 31, 29); /* the square with a margin of background */
    const float loose = outline(&e, m);
    printf("  outline medians: object %.2f, background piece %.2f, loose box %.2f\n", (double)object, (double)piece,
           (double)loose);
    CHECK(object > 3.0f, "the square's outline %.2f: not an edge", (double)object);
    CHECK(piece < 2.0f && loose < 2.0f, "outlines across noise score %.2f and %.2f", (double)piece, (double)loose);

    /* the image's border is not an outline: a band along the top, brighter
     * than the rest, is outlined by its lower edge alone (with the border
     * its outline would be mostly noise) */
    uint8_t band[W * H];
    scene(band);
    for (int i = 0; i < 6 * W; i++) band[i] = (uint8_t)(band[i] + 30);
    const sam2_image banded = {W, H, W, 1, 8, band};
    edge_map eb;
    CHECK_OK(edge_map_make(&banded, &eb));
    memset(m, 0, sizeof m);
    rect(m, 0, 0, W - 1, 5);
    const float top = eb.g ? outline(&eb, m) : 0;
    CHECK(top > 3.0f, "a band along the border: its outline %.2f is not an edge", (double)top);
    edge_map_free(&eb);
    memset(m, 0, sizeof m);
    rect(m, 0, 0, W - 1, H - 1);
    CHECK(outline(&e, m) == 0.0f, "the whole image has an outline");
    memset(m, 0, sizeof m);
    CHECK(outline(&e, m) == 0.0f, "an empty mask has an outline");

    /* one map for gray, RGB with equal channels and 16-bit gray */
    uint8_t rgb[W * H * 3];
    uint16_t deep[W * H];
    for (int i = 0; i < W * H; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = px[i], deep[i] = (uint16_t)(px[i] * 257);
    const sam2_image color = {W, H, 3 * W, 3, 8, rgb}, wide = {W, H, 2 * W, 1, 16, deep};
    edge_map ec, ew;
    CHECK_OK(edge_map_make(&color, &ec));
    CHECK_OK(edge_map_make(&wide, &ew));
    float worst = 0;
    for (int i = 0; ec.g && ew.g && i < W * H; i++) {
        const float a = ec.g[i] - e.g[i], b = ew.g[i] - e.g[i];
        worst = a > worst ? a : -a > worst ? -a : worst;
        worst = b > worst ? b : -b > worst ? -b : worst;
    }
    CHECK(ec.g && ew.g && worst < 1e-3f, "gray, RGB and 16-bit maps differ by %g", (double)worst);
    CHECK(e.gray && ec.gray && ew.gray, "a gray image not called gray: %d %d %d", e.gray, ec.gray, ew.gray);
    edge_map_free(&ec), edge_map_free(&ew);
    rgb[3 * (W * H / 2) + 2] ^= 1; /* one pixel's blue: a colour image */
    CHECK_OK(edge_map_make(&color, &ec));
    CHECK(ec.g && !ec.gray, "a colour image called gray");
    edge_map_free(&ec);

    /* a flat image: every outline 0, no division by zero */
    memset(px, 7, sizeof px);
    edge_map flat;
    CHECK_OK(edge_map_make(&gray, &flat));
    memset(m, 0, sizeof m);
    rect(m, 12, 10, 27, 25);
    CHECK(flat.g && outline(&flat, m) < 1e-3f, "a flat image has an edge");
    edge_map_free(&flat);

    /* the median of the eight outline pixels of a 3 x 3 block: (4 + 6) / 2 */
    memset(m, 0, sizeof m);
    rect(m, 20, 20, 22, 22);
    const float vals[8] = {9, 1, 8, 2, 7, 3, 6, 4};
    int k = 0;
    for (int y = 20; y <= 22; y++)
        for (int x = 20; x <= 22; x++) e.g[y * W + x] = (x == 21 && y == 21) ? 100.0f : vals[k++];
    const float med = outline(&e, m);
    CHECK(med > 4.99f && med < 5.01f, "median of 8 values %.3f, want 5", (double)med);
    edge_map_free(&e);

    /* a mask given inside a box scores as the whole-image mask: pixels
     * beyond the box are outside it, the image's border is no outline */
    scene(px);
    CHECK_OK(edge_map_make(&gray, &e));
    const int boxes[3][4] = {{12, 10, 16, 16}, {10, 8, 20, 20}, {0, 0, 30, 28}}; /* x0, y0, w, h */
    float *scratch = malloc(sizeof(float) * W * H);
    uint8_t sub[W * H];
    for (int b = 0; e.g && b < 3; b++) {
        const int x0 = boxes[b][0], y0 = boxes[b][1], bw = boxes[b][2], bh = boxes[b][3];
        memset(m, 0, sizeof m);
        rect(m, 12, 10, 27, 25);
        if (b == 2) rect(m, 0, 0, 5, 5); /* touches the border */
        for (int y = 0; y < bh; y++)
            for (int x = 0; x < bw; x++) sub[y * bw + x] = m[(y0 + y) * W + x0 + x];
        const float whole = outline(&e, m), boxed = edge_outline_median_box(&e, sub, x0, y0, bw, bh, scratch);
        CHECK(whole == boxed, "box %d: the boxed mask's outline %.3f, the whole mask's %.3f", b, (double)boxed,
              (double)whole);
    }
    /* a box that cuts the square: the cut is outline, across the square */
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 14; x++) sub[y * 14 + x] = m[(8 + y) * W + 8 + x];
    const float cut = e.g ? edge_outline_median_box(&e, sub, 8, 8, 14, 12, scratch) : 0;
    CHECK(cut < outline(&e, m), "a mask cut by its box scores %.2f, not below the whole square", (double)cut);
    free(scratch);
    edge_map_free(&e);

    /* bad images */
    const sam2_image none = {0, H, 0, 1, 8, px}, odd = {W, H, W, 1, 12, px};
    CHECK(edge_map_make(&none, &e) != SAM2_OK && e.g == NULL, "a 0-wide image accepted");
    CHECK(edge_map_make(&odd, &e) != SAM2_OK && e.g == NULL, "a 12-bit image accepted");
    CHECK(edge_map_make(NULL, &e) == SAM2_ERR_PARAM, "NULL image accepted");
    return test_finish();
}
