/* amg_dedup.c - one answer, one mask. The official NMS compares boxes, so
 * two masks that are the same answer survive it when a few stray pixels
 * stretch one of the boxes (common on noisy, low-contrast images: the same
 * object, two boxes that barely overlap). Here the masks' own pixels are
 * compared; of a nearly identical pair the one the model rates higher stays,
 * as in the official NMS. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "nms.h"
#include "rle.h"
#include "rle_sketch.h"

/* Mask IoU above max_iou, deciding by the areas and sketches where they
 * settle it and by the exact overlap otherwise. */
static int same_answer(const sam2_amg_mask *a, const sam2_amg_mask *b, const rle_sketch *sa, const rle_sketch *sb,
                       double max_iou) {
    const int64_t lo = a->area < b->area ? a->area : b->area, hi = a->area < b->area ? b->area : a->area;
    if (lo == 0 || (double)lo <= max_iou * (double)hi) return 0; /* IoU <= lo / hi */
    const int64_t bound = rle_sketch_bound(sa, sb);
    if ((double)bound <= max_iou * (double)(a->area + b->area - bound)) return 0;
    const int64_t inter = rle_intersection_area(a->counts, a->n_counts, b->counts, b->n_counts);
    /* as a float, like the threshold: an IoU of exactly 0.9 is not above 0.9f */
    return (float)((double)inter / (double)(a->area + b->area - inter)) > (float)max_iou;
}

sam2_status sam2_amg_dedup(sam2_amg_result *res, float max_iou, int *n_removed) {
    if (n_removed) *n_removed = 0;
    if (!res) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_dedup: NULL result");
    SAM2_TRY(sam2_check_range("dedup", "max_iou", max_iou, 0.01f, 1));
    const int n = res->n_masks, W = res->width, H = res->height;
    if (n < 2) return SAM2_OK;
    int *order = malloc(sizeof(int) * (size_t)n);
    uint8_t *gone = calloc((size_t)n, 1);
    rle_sketch *sk = malloc(sizeof *sk * (size_t)n);
    float *score = malloc(sizeof(float) * (size_t)n);
    sam2_status st = order && gone && sk && score ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory comparing %d masks", n);
    if (st == SAM2_OK) {
        for (int i = 0; i < n; i++) {
            score[i] = res->masks[i].predicted_iou;
            rle_sketch_make(res->masks[i].counts, res->masks[i].n_counts, H, W, &sk[i]);
        }
        st = nms_sort_desc(score, n, order); /* best rated first, earlier first on ties, as the official NMS */
    }
    if (st != SAM2_OK) {
        free(order), free(gone), free(sk), free(score);
        return st;
    }
    for (int a = 0; a < n; a++) {
        const int i = order[a];
        if (gone[i]) continue;
        for (int b = a + 1; b < n; b++) {
            const int j = order[b];
            if (!gone[j] && same_answer(&res->masks[i], &res->masks[j], &sk[i], &sk[j], (double)max_iou)) gone[j] = 1;
        }
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (gone[i]) {
            free(res->masks[i].counts);
            continue;
        }
        res->masks[k++] = res->masks[i];
    }
    if (n_removed) *n_removed = n - k;
    res->n_masks = k;
    free(order), free(gone), free(sk), free(score);
    return SAM2_OK;
}
