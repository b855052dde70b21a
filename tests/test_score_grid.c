/* test_score_grid.c - the threshold axes drawn from candidate scores: the
 * percentiles chosen, rounding down, repeats, clamping and empty input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score_grid.h"
#include "test.h"

/* A result of n records with the given scores (no masks needed). */
static sam2_amg_result *scores(const float *iou, const float *stab, int n) {
    sam2_amg_result *r = calloc(1, sizeof *r);
    r->n_masks = n;
    r->masks = calloc((size_t)(n ? n : 1), sizeof *r->masks);
    for (int k = 0; k < n; k++) r->masks[k].predicted_iou = iou[k], r->masks[k].stability_score = stab[k];
    return r;
}

static void drop(sam2_amg_result *r) {
    free(r->masks);
    free(r);
}

int main(void) {
    char text[256];
    /* 101 candidates: IoU k / 100 (listed backwards), stability 1 - IoU */
    float iou[101], stab[101];
    for (int k = 0; k <= 100; k++) iou[k] = (float)(100 - k) / 100.0f, stab[k] = 1.0f - iou[k];
    sam2_amg_result *r = scores(iou, stab, 101);
    CHECK(score_grid_text(r, text, sizeof text) == 0, "ramp");
    /* IoU at 0.5, 0.75, 0.9 lie on exact hundredths: strictly below them, so
     * that the IoU filter (>) lets the percentile's own candidate through;
     * those above 0.49 have stability 0..0.5: its quartiles */
    CHECK(!strcmp(text, "pred-iou-thresh=0.49,0.74,0.89;stability-score-thresh=0.11,0.24,0.36"), "ramp: %s", text);
    drop(r);

    /* rounding down, and every value once */
    const float iou2[] = {0.834f, 0.8341f, 0.8349f, 0.8347f}, stab2[] = {0.977f, 0.978f, 0.979f, 0.98f};
    r = scores(iou2, stab2, 4);
    CHECK(score_grid_text(r, text, sizeof text) == 0 &&
              !strcmp(text, "pred-iou-thresh=0.83;stability-score-thresh=0.97"), "repeats: %s", text);
    drop(r);

    /* negative IoUs (random weights) clamp to 0, the filter off: every
     * candidate counts on the stability axis; NaN records are skipped */
    const float iou3[] = {-0.5f, -0.4f, -0.3f, NAN, 1.7f}, stab3[] = {0.2f, 0.4f, 0.6f, 0.9f, 0.8f};
    r = scores(iou3, stab3, 5);
    CHECK(score_grid_text(r, text, sizeof text) == 0 &&
              !strcmp(text, "pred-iou-thresh=0.00;stability-score-thresh=0.19,0.39,0.59"), "clamped: %s", text);
    drop(r);
    /* IoUs above 1 clamp to 1; the stability axis then holds those above it */
    const float iou4[] = {0.3f, 1.5f, 1.7f, 1.8f, 0.2f}, stab4[] = {0.1f, 0.55f, 0.65f, 0.75f, 0.2f};
    r = scores(iou4, stab4, 5);
    CHECK(score_grid_text(r, text, sizeof text) == 0 &&
              !strcmp(text, "pred-iou-thresh=1.00;stability-score-thresh=0.54,0.64"), "above 1: %s", text);
    drop(r);

    /* nothing to draw from, and too little room */
    r = scores(NULL, NULL, 0);
    CHECK(score_grid_text(r, text, sizeof text) == -1, "empty result");
    drop(r);
    r = scores(iou, stab, 50);
    CHECK(score_grid_text(r, text, 20) == -1, "short buffer");
    drop(r);
    CHECK(score_grid_text(NULL, text, sizeof text) == -1, "NULL");
    return test_finish();
}
