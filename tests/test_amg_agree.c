/* test_amg_agree.c - overlap and agreement of two masks: the box overlap,
 * the area-and-box bound, the exact test with and without sketches and
 * bits (against IoU counted pixel by pixel, on thresholds hit exactly), and
 * the click ids of a pool. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amg_agree.h"
#include "test.h"

enum { AW = 40, N_MASKS = 8 };

static void fill(uint8_t *m, int x0, int y0, int x1, int y1, int step) {
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x += step) m[y * AW + x] = 1;
}

static double pixel_iou(const uint8_t *a, const uint8_t *b) {
    int inter = 0, uni = 0;
    for (int i = 0; i < AW * AW; i++) inter += a[i] && b[i], uni += a[i] || b[i];
    return uni ? (double)inter / uni : 0.0;
}

int main(void) {
    static uint8_t px[N_MASKS][AW * AW];
    fill(px[0], 10, 10, 30, 30, 1); /* A: 400 px */
    fill(px[1], 10, 10, 30, 28, 1); /* 360: IoU 0.9 with A */
    fill(px[2], 10, 15, 30, 30, 1); /* 300: IoU 0.75 with A exactly */
    fill(px[3], 10, 16, 30, 30, 1); /* 280: IoU 0.7 with A */
    fill(px[4], 0, 0, 5, 5, 1);     /* apart */
    fill(px[5], 10, 10, 30, 30, 2); /* even columns of A: 200 px, A's box */
    fill(px[6], 11, 10, 30, 30, 2); /* odd columns: shares the box, no pixel with 5 */
    fill(px[7], 0, 0, AW, AW, 1);   /* the whole image: IoU 0.25 with A */
    sam2_amg_mask m[N_MASKS];
    rle_sketch sk[N_MASKS];
    rle_bits bits[N_MASKS];
    const rle_bits none = {0, 0, 0, 0, NULL};
    for (int k = 0; k < N_MASKS; k++) {
        m[k] = test_mask_record(px[k], AW, AW, 0.5f, 0.9f, (float)k);
        rle_sketch_make(m[k].counts, m[k].n_counts, AW, AW, &sk[k]);
        memset(&bits[k], 0, sizeof bits[k]);
        CHECK_OK(rle_bits_make_if_dense(m[k].counts, m[k].n_counts, AW, &bits[k]));
    }

    /* boxes: inclusive pixels */
    CHECK(amg_box_overlap(m[0].bbox, m[0].bbox) == 400, "A's box with itself: %lld", (long long)amg_box_overlap(m[0].bbox, m[0].bbox));
    CHECK(amg_box_overlap(m[0].bbox, m[2].bbox) == 300, "A and its lower part");
    CHECK(amg_box_overlap(m[0].bbox, m[4].bbox) == 0, "apart");
    const float touching[4] = {30, 10, 5, 5}; /* starts one pixel right of A's last column */
    const float sharing[4] = {29, 29, 5, 5};  /* shares A's corner pixel */
    CHECK(amg_box_overlap(m[0].bbox, touching) == 0, "beside A");
    CHECK(amg_box_overlap(m[0].bbox, sharing) == 1, "one corner pixel");

    /* the bound rules out what cannot agree and keeps what may */
    CHECK(!amg_may_agree(&m[0], &m[4], 0.5), "apart boxes cannot agree");
    CHECK(!amg_may_agree(&m[0], &m[7], 0.5), "areas 4x apart cannot reach 0.5");
    CHECK(amg_may_agree(&m[0], &m[7], 0.25), "... but may reach 0.25");
    CHECK(amg_may_agree(&m[5], &m[6], 0.75), "same box, same area: the bound cannot tell");
    CHECK(!amg_may_agree(&m[0], &(sam2_amg_mask){0}, 0.5), "an empty record agrees with nothing");

    /* the exact test: IoU counted pixel by pixel decides, thresholds included */
    CHECK(amg_agree_exact(&m[0], &m[2], 0.75), "IoU 0.75 reaches 0.75");
    CHECK(!amg_agree_exact(&m[0], &m[2], 0.7501), "... not 0.7501");
    CHECK(!amg_agree_exact(&m[0], &m[3], 0.75), "IoU 0.7");
    CHECK(!amg_agree_exact(&m[5], &m[6], 0.01), "interleaved columns share no pixel");
    CHECK(amg_agree_exact(&m[0], &m[7], 0.25), "IoU 0.25 with the whole image");
    const double agree[] = {0.01, 0.25, 0.5, 0.7, 0.75, 0.7501, 0.9, 1.0};
    int wrong_exact = 0, wrong_sketch = 0, wrong_bits = 0, tried = 0;
    for (int a = 0; a < N_MASKS; a++)
        for (int b = 0; b < N_MASKS; b++)
            for (size_t t = 0; t < sizeof agree / sizeof *agree; t++) {
                const int want = pixel_iou(px[a], px[b]) >= agree[t] && pixel_iou(px[a], px[b]) > 0;
                tried++;
                wrong_exact += amg_agree_exact(&m[a], &m[b], agree[t]) != want;
                wrong_sketch += amg_agreeing(&m[a], &m[b], &sk[a], &sk[b], &none, &none, agree[t], AW, AW) != want;
                wrong_bits += amg_agreeing(&m[a], &m[b], &sk[a], &sk[b], &bits[a], &bits[b], agree[t], AW, AW) != want;
            }
    CHECK(wrong_exact == 0, "amg_agree_exact: %d of %d pairs and thresholds wrong", wrong_exact, tried);
    CHECK(wrong_sketch == 0, "amg_agreeing (RLEs): %d of %d wrong", wrong_sketch, tried);
    CHECK(wrong_bits == 0, "amg_agreeing (bits where dense): %d of %d wrong", wrong_bits, tried);
    int64_t inter = amg_overlap(&m[0], &m[5], &bits[0], &bits[5]);
    CHECK(inter == 200, "A and its even columns share 200 px: %lld", (long long)inter);
    inter = amg_overlap(&m[5], &m[6], &none, &none);
    CHECK(inter == 0, "interleaved columns: %lld", (long long)inter);

    /* click ids: one click's answers are consecutive (same point, same crop) */
    sam2_amg_mask c[5];
    memset(c, 0, sizeof c);
    const float pts[5][2] = {{1, 1}, {1, 1}, {2, 1}, {1, 1}, {1, 1}};
    for (int k = 0; k < 5; k++) c[k].point[0] = pts[k][0], c[k].point[1] = pts[k][1];
    c[4].crop_box[2] = 10; /* same point, another crop: another click */
    int click[5];
    amg_click_ids(c, 5, click);
    const int want_click[5] = {0, 0, 2, 3, 4};
    CHECK(!memcmp(click, want_click, sizeof click), "click ids %d %d %d %d %d", click[0], click[1], click[2], click[3],
          click[4]);

    for (int k = 0; k < N_MASKS; k++) free(m[k].counts), rle_bits_free(&bits[k]);
    return test_finish();
}
