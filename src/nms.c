/* nms.c - torchvision-compatible greedy non-maximum suppression over boxes,
 * with the stable descending score order the reference relies on. */
#include "nms.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* True when score a must come before score b in a descending sort that
 * treats NaN as the largest value (torch.sort's order). */
static int before(float a, float b) {
    if (isnan(a)) return !isnan(b);
    if (isnan(b)) return 0;
    return a > b;
}

/* Bottom-up merge sort of idx by descending score; equal keys keep their
 * order, so the result is the stable sort torchvision requests. */
sam2_status nms_sort_desc(const float *scores, int n, int *idx) {
    for (int i = 0; i < n; i++) idx[i] = i;
    if (n < 2) return SAM2_OK;
    int *tmp = malloc(sizeof *tmp * (size_t)n);
    if (!tmp) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory sorting %d boxes", n);
    int *src = idx, *dst = tmp;
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            int mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int a = lo, b = mid, k = lo;
            while (a < mid && b < hi) dst[k++] = before(scores[src[b]], scores[src[a]]) ? src[b++] : src[a++];
            while (a < mid) dst[k++] = src[a++];
            while (b < hi) dst[k++] = src[b++];
        }
        int *t = src;
        src = dst, dst = t;
    }
    if (src != idx) memcpy(idx, src, sizeof *idx * (size_t)n);
    free(tmp);
    return SAM2_OK;
}

sam2_status nms_boxes(const float *boxes, const float *scores, int n, double iou_thresh, int *keep, int *n_keep) {
    *n_keep = 0;
    if (n <= 0) return SAM2_OK;
    int *order = malloc(sizeof *order * (size_t)n);
    uint8_t *suppressed = calloc((size_t)n, 1);
    float *area = malloc(sizeof *area * (size_t)n); /* (n) */
    if (!order || !suppressed || !area) {
        free(order), free(suppressed), free(area);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in NMS over %d boxes", n);
    }
    sam2_status st = nms_sort_desc(scores, n, order);
    if (st != SAM2_OK) {
        free(order), free(suppressed), free(area);
        return st;
    }
    for (int i = 0; i < n; i++) {
        const float *b = boxes + 4 * (size_t)i;
        area[i] = (b[2] - b[0]) * (b[3] - b[1]);
    }
    int nk = 0;
    for (int oi = 0; oi < n; oi++) {
        const int i = order[oi];
        if (suppressed[i]) continue;
        keep[nk++] = i;
        const float *bi = boxes + 4 * (size_t)i;
        for (int oj = oi + 1; oj < n; oj++) {
            const int j = order[oj];
            if (suppressed[j]) continue;
            const float *bj = boxes + 4 * (size_t)j;
            float xx1 = bi[0] > bj[0] ? bi[0] : bj[0], yy1 = bi[1] > bj[1] ? bi[1] : bj[1];
            float xx2 = bi[2] < bj[2] ? bi[2] : bj[2], yy2 = bi[3] < bj[3] ? bi[3] : bj[3];
            float w = xx2 - xx1 > 0.0f ? xx2 - xx1 : 0.0f, h = yy2 - yy1 > 0.0f ? yy2 - yy1 : 0.0f;
            float inter = w * h;
            float ovr = inter / (area[i] + area[j] - inter);
            if ((double)ovr > iou_thresh) suppressed[j] = 1;
        }
    }
    *n_keep = nk;
    free(order), free(suppressed), free(area);
    return SAM2_OK;
}
