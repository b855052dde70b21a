/* amg_upscale.c - generator masks made on a shrunk copy of an image, brought
 * back to the image's own size. A mask is a 0/1 map; interpolated
 * bilinearly (pixel centres aligned, as the model's own upsampling) and cut
 * at one half, its edges follow the diagonal of each step instead of a
 * staircase of the scale factor. Only the box around the mask is computed,
 * and rows stream into the RLE builder, so no full-size map is ever made. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rle.h"

/* Source taps of output samples lo..hi of an axis scaled from n to N. */
typedef struct up_taps {
    int *i0, *i1;
    float *l1;
} up_taps;

static void up_taps_free(up_taps *t) {
    free(t->i0), free(t->i1), free(t->l1);
    memset(t, 0, sizeof *t);
}

static sam2_status up_taps_init(up_taps *t, int n, int N, int lo, int hi) {
    const int m = hi - lo + 1;
    t->i0 = malloc(sizeof(int) * (size_t)m);
    t->i1 = malloc(sizeof(int) * (size_t)m);
    t->l1 = malloc(sizeof(float) * (size_t)m);
    if (!t->i0 || !t->i1 || !t->l1) {
        up_taps_free(t);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory upscaling a mask to %d samples", N);
    }
    for (int k = 0; k < m; k++) {
        double u = (lo + k + 0.5) * n / (double)N - 0.5;
        if (u < 0) u = 0;
        int a = (int)floor(u);
        if (a > n - 1) a = n - 1;
        t->i0[k] = a, t->i1[k] = a + 1 < n ? a + 1 : n - 1;
        t->l1[k] = (float)(u - a);
    }
    return SAM2_OK;
}

/* The output range whose taps reach source samples a..b of an axis scaled
 * from n to N (one sample of margin for the rounding). */
static void reach(int a, int b, int n, int N, int *lo, int *hi) {
    const double f = (double)N / n;
    *lo = (int)floor((a - 0.5) * f - 0.5) - 1;
    *hi = (int)ceil((b + 1.5) * f - 0.5) + 1;
    if (*lo < 0) *lo = 0;
    if (*hi > N - 1) *hi = N - 1;
}

/* One mask: src (h, w) row-major 0/1 with foreground box x0..x1, y0..y1. */
static sam2_status upscale_one(const uint8_t *src, int w, int h, const int box[4], int W, int H, sam2_amg_mask *m) {
    int X0, X1, Y0, Y1;
    reach(box[0], box[2], w, W, &X0, &X1);
    reach(box[1], box[3], h, H, &Y0, &Y1);
    const int cw = X1 - X0 + 1, ch = Y1 - Y0 + 1;
    up_taps tx = {0}, ty = {0};
    rle_rows rb;
    memset(&rb, 0, sizeof rb);
    uint8_t *row = malloc((size_t)cw);
    sam2_status st = row ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory upscaling a mask");
    if (st == SAM2_OK) st = up_taps_init(&tx, w, W, X0, X1);
    if (st == SAM2_OK) st = up_taps_init(&ty, h, H, Y0, Y1);
    if (st == SAM2_OK) st = rle_rows_init(&rb, ch, cw);
    int bx0 = W, by0 = H, bx1 = -1, by1 = -1;
    for (int y = 0; y < ch && st == SAM2_OK; y++) {
        const uint8_t *r0 = src + (size_t)ty.i0[y] * w, *r1 = src + (size_t)ty.i1[y] * w;
        const float ly = ty.l1[y];
        int first = -1, last = -1;
        for (int x = 0; x < cw; x++) {
            const int a = tx.i0[x], b = tx.i1[x];
            const float lx = tx.l1[x];
            const float top = r0[a] + lx * (float)(r0[b] - r0[a]), bot = r1[a] + lx * (float)(r1[b] - r1[a]);
            row[x] = top + ly * (bot - top) >= 0.5f;
            if (row[x]) {
                if (first < 0) first = x;
                last = x;
            }
        }
        if (first >= 0) {
            if (X0 + first < bx0) bx0 = X0 + first;
            if (X0 + last > bx1) bx1 = X0 + last;
            if (by0 == H) by0 = Y0 + y;
            by1 = Y0 + y;
        }
        st = rle_rows_push(&rb, row);
    }
    if (st == SAM2_OK) st = rle_rows_finish(&rb, X0, Y0, H, W, &m->counts, &m->n_counts);
    if (st == SAM2_OK) {
        m->area = rle_area(m->counts, m->n_counts);
        if (bx1 < 0) bx0 = by0 = bx1 = by1 = 0; /* an empty mask has the box [0, 0, 0, 0] */
        m->bbox[0] = (float)bx0, m->bbox[1] = (float)by0;
        m->bbox[2] = (float)(bx1 - bx0), m->bbox[3] = (float)(by1 - by0);
    }
    rle_rows_free(&rb);
    up_taps_free(&tx), up_taps_free(&ty);
    free(row);
    return st;
}

sam2_status sam2_amg_result_upscale(const sam2_amg_result *r, int W, int H, sam2_amg_result **out) {
    if (!r || !out) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_result_upscale: NULL argument");
    *out = NULL;
    const int w = r->width, h = r->height;
    if (w <= 0 || h <= 0 || W <= 0 || H <= 0)
        return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_result_upscale: sizes %d x %d -> %d x %d", w, h, W, H);
    sam2_amg_result *o = calloc(1, sizeof *o);
    if (o && r->n_masks > 0) o->masks = calloc((size_t)r->n_masks, sizeof *o->masks);
    if (!o || (r->n_masks > 0 && !o->masks)) {
        free(o);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d upscaled masks", r->n_masks);
    }
    o->width = W, o->height = H, o->n_masks = r->n_masks, o->filters = r->filters;
    const float fx = (float)W / w, fy = (float)H / h;
    sam2_status st = SAM2_OK;
    char msg[512] = ""; /* the first failure's message (threads keep their own) */
#pragma omp parallel
    {
        uint8_t *map = malloc((size_t)w * h);
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < r->n_masks; i++) {
            const sam2_amg_mask *a = &r->masks[i];
            sam2_amg_mask *m = &o->masks[i];
            *m = *a;
            m->counts = NULL, m->n_counts = 0;
            m->point[0] = a->point[0] * fx, m->point[1] = a->point[1] * fy;
            m->crop_box[0] = a->crop_box[0] * fx, m->crop_box[1] = a->crop_box[1] * fy;
            m->crop_box[2] = a->crop_box[2] * fx, m->crop_box[3] = a->crop_box[3] * fy;
            sam2_status s = map ? sam2_rle_decode(a->counts, a->n_counts, h, w, map)
                                : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory upscaling a mask");
            int box[4] = {w, h, 0, 0}; /* from the pixels themselves */
            for (int y = 0; s == SAM2_OK && y < h; y++)
                for (int x = 0; x < w; x++)
                    if (map[(size_t)y * w + x]) {
                        box[0] = x < box[0] ? x : box[0], box[2] = x > box[2] ? x : box[2];
                        box[1] = y < box[1] ? y : box[1], box[3] = y;
                    }
            if (box[0] > box[2]) box[0] = box[1] = box[2] = box[3] = 0;
            if (s == SAM2_OK) s = upscale_one(map, w, h, box, W, H, m);
            if (s != SAM2_OK) {
#pragma omp critical(sam2_upscale_status)
                if (st == SAM2_OK) st = s, snprintf(msg, sizeof msg, "%s", sam2_last_error());
            }
        }
        free(map);
    }
    if (st != SAM2_OK) {
        sam2_amg_result_free(o);
        return SAM2_FAIL(st, "%s", msg);
    }
    *out = o;
    return SAM2_OK;
}
