/* amg_agree.c - overlap and agreement of two masks of one image. */
#include "amg_agree.h"

#include <string.h>

#include "rle.h"

/* Inclusive pixel boxes overlap area (0 when apart); boxes are x, y, w, h
 * with w = x1 - x0 as in the records. */
int64_t amg_box_overlap(const float *a, const float *b) {
    const int ax0 = (int)a[0], ay0 = (int)a[1], ax1 = (int)(a[0] + a[2]), ay1 = (int)(a[1] + a[3]);
    const int bx0 = (int)b[0], by0 = (int)b[1], bx1 = (int)(b[0] + b[2]), by1 = (int)(b[1] + b[3]);
    const int ix = (ax1 < bx1 ? ax1 : bx1) - (ax0 > bx0 ? ax0 : bx0) + 1;
    const int iy = (ay1 < by1 ? ay1 : by1) - (ay0 > by0 ? ay0 : by0) + 1;
    return ix > 0 && iy > 0 ? (int64_t)ix * iy : 0;
}

/* The pixels two masks share: from their bits when both have them, else
 * by walking their RLEs. */
int64_t amg_overlap(const sam2_amg_mask *a, const sam2_amg_mask *b, const rle_bits *ba, const rle_bits *bb) {
    if (ba->w && bb->w) return rle_bits_intersection(ba, bb);
    return rle_intersection_area(a->counts, a->n_counts, b->counts, b->n_counts);
}

/* IoU >= agree exactly when the intersection reaches this */
static double agree_need(const sam2_amg_mask *a, const sam2_amg_mask *b, double agree) {
    return agree / (1.0 + agree) * (double)(a->area + b->area);
}

int amg_may_agree(const sam2_amg_mask *a, const sam2_amg_mask *b, double agree) {
    const int64_t lo = a->area < b->area ? a->area : b->area, hi = a->area < b->area ? b->area : a->area;
    if (hi == 0 || (double)lo < agree * (double)hi) return 0;
    int64_t bound = amg_box_overlap(a->bbox, b->bbox);
    if (bound > lo) bound = lo;
    /* the bounds decide only away from the threshold (by far more than
     * rounding); the exact test is the IoU itself */
    return (double)bound >= agree_need(a, b, agree) * (1.0 - 1e-9);
}

/* the exact test, from the pixels two masks share */
static int iou_reaches(const sam2_amg_mask *a, const sam2_amg_mask *b, int64_t inter, double agree) {
    return (double)inter / (double)(a->area + b->area - inter) >= agree;
}

int amg_agree_exact(const sam2_amg_mask *a, const sam2_amg_mask *b, double agree) {
    if (!amg_may_agree(a, b, agree)) return 0;
    return iou_reaches(a, b, rle_intersection_area(a->counts, a->n_counts, b->counts, b->n_counts), agree);
}

/* 1 when two records of the same (H, W) image have mask IoU at least agree:
 * bounds from the areas, the boxes and the sketches decide most pairs, the
 * RLEs the rest. */
int amg_agreeing(const sam2_amg_mask *a, const sam2_amg_mask *b, const rle_sketch *sa, const rle_sketch *sb,
                 const rle_bits *ba, const rle_bits *bb, double agree, int H, int W) {
    if (!amg_may_agree(a, b, agree)) return 0;
    const double need = agree_need(a, b, agree);
    if ((double)rle_sketch_bound(sa, sb) < need * (1.0 - 1e-9)) return 0;
    if ((double)rle_sketch_lower(sa, sb, H, W) >= need * (1.0 + 1e-9)) return 1;
    return iou_reaches(a, b, amg_overlap(a, b, ba, bb), agree);
}

void amg_click_ids(const sam2_amg_mask *c, int n, int *click) {
    for (int i = 0; i < n; i++)
        click[i] = i > 0 && !memcmp(c[i].point, c[i - 1].point, sizeof c[i].point) &&
                           !memcmp(c[i].crop_box, c[i - 1].crop_box, sizeof c[i].crop_box)
                       ? click[i - 1]
                       : i;
}
