/* test_amg_dedup.c - near-copies removed by their pixels: a mask whose box a
 * stray pixel stretches (which box NMS keeps) goes, the better rated of the
 * two stays, distinct masks and the order of the rest are kept, bad
 * thresholds are refused. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rle.h"
#include "test.h"

enum { W = 60, H = 40 };

static sam2_amg_mask record(const uint8_t *m, float iou, float px) {
    return test_mask_record(m, H, W, iou, 0.9f, px);
}

static void rect(uint8_t *m, int x0, int y0, int x1, int y1) { /* inclusive */
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) m[y * W + x] = 1;
}

static double box_iou(const float *a, const float *b) {
    const double ix = fmin(a[0] + a[2], b[0] + b[2]) - fmax(a[0], b[0]);
    const double iy = fmin(a[1] + a[3], b[1] + b[3]) - fmax(a[1], b[1]);
    const double i = ix > 0 && iy > 0 ? ix * iy : 0;
    return i / ((double)a[2] * a[3] + (double)b[2] * b[3] - i);
}

/* A: a 20 x 20 square; A': A with one stray pixel far off (IoU 400/401, box
 * IoU about 0.2); B: another square; C: A's left 18 columns (IoU 0.9 with A,
 * 360/401 with A'). */
static sam2_amg_result *make(float iou_a, float iou_stray) {
    sam2_amg_result *r = calloc(1, sizeof *r);
    r->width = W, r->height = H;
    r->masks = calloc(4, sizeof *r->masks);
    uint8_t m[W * H];
    memset(m, 0, sizeof m), rect(m, 5, 5, 24, 24);
    r->masks[r->n_masks++] = record(m, iou_a, 1.0f);
    memset(m, 0, sizeof m), rect(m, 35, 10, 50, 30);
    r->masks[r->n_masks++] = record(m, 0.95f, 2.0f);
    memset(m, 0, sizeof m), rect(m, 5, 5, 24, 24), m[38 * W + 58] = 1;
    r->masks[r->n_masks++] = record(m, iou_stray, 3.0f);
    memset(m, 0, sizeof m), rect(m, 5, 5, 22, 24);
    r->masks[r->n_masks++] = record(m, 0.5f, 4.0f);
    return r;
}

int main(void) {
    sam2_amg_result *r = make(0.7f, 0.8f);
    CHECK(box_iou(r->masks[0].bbox, r->masks[2].bbox) < 0.7, "the stray pixel does not defeat box NMS (box IoU %g)",
          box_iou(r->masks[0].bbox, r->masks[2].bbox));
    int removed = -1;
    CHECK_OK(sam2_amg_dedup(r, 0.9f, &removed));
    /* A goes (A' is rated higher); C (IoU 0.898 with A') stays */
    CHECK(removed == 1 && r->n_masks == 3, "removed %d, %d left", removed, r->n_masks);
    if (r->n_masks == 3)
        CHECK(r->masks[0].point[0] == 2.0f && r->masks[1].point[0] == 3.0f && r->masks[2].point[0] == 4.0f,
              "kept clicks %g %g %g, want B, A', C in order", (double)r->masks[0].point[0], (double)r->masks[1].point[0],
              (double)r->masks[2].point[0]);
    /* a lower threshold takes C too */
    CHECK_OK(sam2_amg_dedup(r, 0.85f, &removed));
    CHECK(removed == 1 && r->n_masks == 2, "threshold 0.85: removed %d, %d left", removed, r->n_masks);
    sam2_amg_result_free(r);

    /* the better rated stays whichever comes first (and C, at IoU exactly 0.9
     * with A, is not above 0.9); equal ratings keep the earlier */
    r = make(0.9f, 0.8f);
    CHECK_OK(sam2_amg_dedup(r, 0.9f, &removed));
    CHECK(r->n_masks == 3 && r->masks[0].point[0] == 1.0f, "A rated higher was not kept (%d left, first %g)", r->n_masks,
          (double)r->masks[0].point[0]);
    sam2_amg_result_free(r);
    r = make(0.8f, 0.8f);
    CHECK_OK(sam2_amg_dedup(r, 0.9f, &removed));
    CHECK(r->n_masks == 3 && r->masks[0].point[0] == 1.0f, "tie: the earlier was not kept");
    sam2_amg_result_free(r);

    /* threshold 1: nothing is a copy */
    r = make(0.7f, 0.8f);
    CHECK_OK(sam2_amg_dedup(r, 1.0f, &removed));
    CHECK(removed == 0 && r->n_masks == 4, "threshold 1 removed %d", removed);

    /* the smallest threshold the CLI takes is accepted: every overlapping pair is one */
    CHECK_OK(sam2_amg_dedup(r, 0.01f, &removed));
    CHECK(removed == 2 && r->n_masks == 2, "threshold 0.01: removed %d", removed);

    /* bad input: refused, nothing removed */
    CHECK(sam2_amg_dedup(r, 0.0f, &removed) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "max_iou"),
          "threshold 0 accepted");
    CHECK(sam2_amg_dedup(r, NAN, &removed) == SAM2_ERR_PARAM && r->n_masks == 2, "NaN threshold accepted");
    CHECK(sam2_amg_dedup(NULL, 0.9f, &removed) == SAM2_ERR_PARAM, "NULL result accepted");
    sam2_amg_result_free(r);

    /* empty and single results are fine */
    sam2_amg_result e = {.width = W, .height = H};
    CHECK_OK(sam2_amg_dedup(&e, 0.9f, &removed));
    CHECK(removed == 0, "empty result: removed %d", removed);
    return test_finish();
}
