/* edge_map.c - see edge_map.h. */
#include "edge_map.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* The k-th smallest of v[0..n) (k < n), reordering v so that every value
 * before index k is at most v[k] (Hoare's selection). */
static float select_kth(float *v, size_t n, size_t k) {
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1;
    const ptrdiff_t kk = (ptrdiff_t)k;
    while (lo < hi) {
        const float pivot = v[lo + (hi - lo) / 2];
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                const float t = v[i];
                v[i++] = v[j], v[j--] = t;
            }
        }
        if (kk <= j) hi = j;
        else if (kk >= i) lo = i;
        else break; /* between j and i every value equals the pivot */
    }
    return v[k];
}

float values_median(float *v, size_t n) {
    const float hi = select_kth(v, n, n / 2);
    if (n % 2) return hi;
    float lo = v[0]; /* the largest of the lower half, which selection left below n / 2 */
    for (size_t i = 1; i < n / 2; i++) lo = v[i] > lo ? v[i] : lo;
    return 0.5f * (lo + hi);
}

int image_luminance(const sam2_image *img, float *lum) {
    const int w = img->width, h = img->height, c = img->channels, wide = img->bit_depth == 16;
    int gray = 1;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = (const uint8_t *)img->data + (size_t)y * img->stride;
        for (int x = 0; x < w; x++) {
            float s[3];
            for (int k = 0; k < (c >= 3 ? 3 : 1); k++) {
                const size_t at = (size_t)x * c + k;
                s[k] = wide ? (float)((const uint16_t *)(const void *)row)[at] / 257.0f : (float)row[at];
            }
            lum[(size_t)y * w + x] = c >= 3 ? 0.299f * s[0] + 0.587f * s[1] + 0.114f * s[2] : s[0];
            gray &= c < 3 || (s[0] == s[1] && s[1] == s[2]);
        }
    }
    return gray;
}

enum { GAUSS_R = 5 }; /* 3 sigma and more for sigma 1.5 */

/* One pass of a separable filter of radius GAUSS_R over n lines of len
 * samples, step apart within a line and stride apart between lines,
 * borders replicated. */
static void filter_lines(const float *in, float *out, const float *k, int n, int len, size_t stride, size_t step) {
    for (int l = 0; l < n; l++)
        for (int t = 0; t < len; t++) {
            float v = 0;
            for (int i = -GAUSS_R; i <= GAUSS_R; i++) {
                const int u = t + i < 0 ? 0 : t + i >= len ? len - 1 : t + i;
                v += k[i + GAUSS_R] * in[l * stride + (size_t)u * step];
            }
            out[l * stride + (size_t)t * step] = v;
        }
}

/* Separable Gaussian of a (h, w) plane in place, borders replicated. */
static void gaussian(float *p, float *tmp, int w, int h, float sigma) {
    float k[2 * GAUSS_R + 1], sum = 0;
    for (int i = -GAUSS_R; i <= GAUSS_R; i++) sum += k[i + GAUSS_R] = expf(-0.5f * (float)(i * i) / (sigma * sigma));
    for (int i = 0; i <= 2 * GAUSS_R; i++) k[i] /= sum;
    filter_lines(p, tmp, k, h, w, (size_t)w, 1); /* along the rows */
    filter_lines(tmp, p, k, w, h, 1, (size_t)w); /* along the columns */
}

sam2_status edge_map_make(const sam2_image *img, edge_map *out) {
    if (!img || !out) return SAM2_FAIL(SAM2_ERR_PARAM, "edge_map_make: NULL argument");
    memset(out, 0, sizeof *out);
    SAM2_TRY(sam2_image_check(img));
    const int w = img->width, h = img->height;
    const size_t n = (size_t)w * h;
    float *lum = malloc(sizeof(float) * n), *tmp = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n);
    if (!lum || !tmp || !g) {
        free(lum), free(tmp), free(g);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the edge map of a %d x %d image", w, h);
    }
    const int gray = image_luminance(img, lum);
    gaussian(lum, tmp, w, h, EDGE_SMOOTH_SIGMA);
    for (int y = 0; y < h; y++) {
        const int u = y > 0 ? y - 1 : 0, d = y < h - 1 ? y + 1 : h - 1;
        for (int x = 0; x < w; x++) {
            const int l = x > 0 ? x - 1 : 0, r = x < w - 1 ? x + 1 : w - 1;
#define P(yy, xx) lum[(size_t)(yy) * w + (xx)]
            const float gx = P(u, r) + 2 * P(y, r) + P(d, r) - P(u, l) - 2 * P(y, l) - P(d, l);
            const float gy = P(d, l) + 2 * P(d, x) + P(d, r) - P(u, l) - 2 * P(u, x) - P(u, r);
#undef P
            g[(size_t)y * w + x] = sqrtf(gx * gx + gy * gy);
        }
    }
    memcpy(tmp, g, sizeof(float) * n);
    float med = values_median(tmp, n);
    med = med > EDGE_MIN_MEDIAN ? med : EDGE_MIN_MEDIAN;
    for (size_t i = 0; i < n; i++) g[i] /= med;
    free(lum), free(tmp);
    out->width = w, out->height = h, out->g = g, out->gray = gray;
    return SAM2_OK;
}

sam2_status image_noise_sigma(const sam2_image *img, float *sigma) {
    if (!img || !sigma) return SAM2_FAIL(SAM2_ERR_PARAM, "image_noise_sigma: NULL argument");
    *sigma = 0;
    SAM2_TRY(sam2_image_check(img));
    const int w = img->width, h = img->height;
    if (w < 3 || h < 3) return SAM2_OK;
    const size_t n = (size_t)w * h, m = (size_t)(w - 2) * (size_t)(h - 2);
    float *lum = malloc(sizeof(float) * n), *lap = malloc(sizeof(float) * m);
    if (!lum || !lap) {
        free(lum), free(lap);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the noise estimate of a %d x %d image", w, h);
    }
    image_luminance(img, lum);
    size_t k = 0;
    for (int y = 1; y < h - 1; y++)
        for (int x = 1; x < w - 1; x++) {
            const float *p = lum + (size_t)y * w + x;
            lap[k++] = p[-1] + p[1] + p[-w] + p[w] - 4 * p[0];
        }
    const float med = values_median(lap, m);
    for (size_t i = 0; i < m; i++) lap[i] = fabsf(lap[i] - med);
    const float mad = values_median(lap, m);
    /* 8-bit gray levels make the Laplacian integer and its median jump by
     * whole levels (a sixth of the MAD at sigma 2): the median is read
     * within the unit bin around it, as if the values spread evenly there */
    const float lo = mad > 0.5f ? mad - 0.5f : 0, hi = mad + 0.5f;
    size_t below = 0, in = 0;
    for (size_t i = 0; i < m; i++) below += lap[i] < lo, in += lap[i] >= lo && lap[i] <= hi;
    const double fine = mad > 0 && in ? lo + ((double)m / 2 - (double)below) / (double)in * (hi - lo) : mad;
    *sigma = (float)(1.4826 * fine / sqrt(20.0)); /* MAD 0: most of the image is exactly smooth */
    free(lum), free(lap);
    return SAM2_OK;
}

void edge_map_free(edge_map *e) {
    if (!e) return;
    free(e->g);
    e->g = NULL;
}

float edge_outline_median_box(const edge_map *e, const uint8_t *mask, int x0, int y0, int bw, int bh, float *scratch) {
    const int w = e->width, h = e->height;
    size_t n = 0;
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            const int gx = x0 + x, gy = y0 + y;
            const uint8_t *m = mask + (size_t)y * bw + x;
            if (!*m || gx <= 0 || gy <= 0 || gx >= w - 1 || gy >= h - 1) continue;
            /* a neighbour outside the box is outside the mask */
            if (x == 0 || y == 0 || x == bw - 1 || y == bh - 1 || !m[-1] || !m[1] || !m[-bw] || !m[bw])
                scratch[n++] = e->g[(size_t)gy * w + gx];
        }
    return n ? values_median(scratch, n) : 0.0f;
}

float edge_outline_median(const edge_map *e, const uint8_t *mask, float *scratch) {
    return edge_outline_median_box(e, mask, 0, 0, e->width, e->height, scratch);
}

sam2_status outline_test_open(const sam2_image *img, float min_edge, int keep_map, int width, int height,
                              outline_test *t) {
    memset(t, 0, sizeof *t);
    t->min_edge = min_edge;
    if (!img || (!(min_edge > 0) && !keep_map)) return SAM2_OK;
    if (img->width != width || img->height != height)
        return SAM2_FAIL(SAM2_ERR_PARAM, "the outline test's image is %dx%d, the masks %dx%d", img->width, img->height,
                         width, height);
    SAM2_TRY(edge_map_make(img, &t->edges));
    t->bits = malloc((size_t)width * height);
    t->scratch = malloc(sizeof(float) * width * height);
    if (!t->bits || !t->scratch) {
        outline_test_close(t);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the outline test of %dx%d masks", width, height);
    }
    return SAM2_OK;
}

/* 1 when t tests nothing (no image, or min_edge 0 with the map kept). */
static int outline_test_off(const outline_test *t) {
    return !t->edges.g || !(t->min_edge > 0);
}

int outline_test_accepts(const outline_test *t, float median) {
    return outline_test_off(t) || median >= t->min_edge;
}

int outline_test_passes(outline_test *t, const uint8_t *mask) {
    return outline_test_off(t) || edge_outline_median(&t->edges, mask, t->scratch) >= t->min_edge;
}

sam2_status outline_test_passes_rle(outline_test *t, const int64_t *counts, int n_counts, int *pass) {
    *pass = 1;
    if (outline_test_off(t)) return SAM2_OK;
    SAM2_TRY(sam2_rle_decode(counts, n_counts, t->edges.height, t->edges.width, t->bits));
    *pass = outline_test_passes(t, t->bits);
    return SAM2_OK;
}

void outline_test_close(outline_test *t) {
    if (!t) return;
    edge_map_free(&t->edges);
    free(t->bits), free(t->scratch);
    t->bits = NULL, t->scratch = NULL;
}
