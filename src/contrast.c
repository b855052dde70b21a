/* contrast.c - see contrast.h and sam2_image_enhance in sam2.h. */
#include "contrast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "image.h"
#include "sam2.h"

int contrast_spread(const uint8_t *v, size_t n) {
    if (!n) return 0;
    size_t hist[256] = {0};
    for (size_t i = 0; i < n; i++) hist[v[i]]++;
    const size_t lo_rank = n / 100, hi_rank = n - 1 - n / 100;
    size_t c = 0;
    int lo = -1, hi = 255;
    for (int b = 0; b < 256; b++) {
        c += hist[b];
        if (lo < 0 && c > lo_rank) lo = b;
        if (c > hi_rank) {
            hi = b;
            break;
        }
    }
    return hi - (lo < 0 ? 0 : lo);
}

/* Mapping of one region: clipped histogram, excess spread, scaled CDF. */
static void region_lut(const uint8_t *in, int w, int x0, int x1, int y0, int y1, float clip_limit, uint8_t *lut) {
    uint32_t hist[256] = {0};
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) hist[in[(size_t)y * w + x]]++;
    /* the excess over the limit is spread over all bins in equal (fractional)
     * shares, so the mapping does not depend on the region's size */
    const double area = (double)(x1 - x0) * (double)(y1 - y0), limit = clip_limit * area / 256.0;
    double excess = 0, c = 0;
    for (int b = 0; b < 256; b++)
        if (hist[b] > limit) excess += hist[b] - limit;
    const double each = excess / 256.0;
    for (int b = 0; b < 256; b++) {
        c += (hist[b] > limit ? limit : (double)hist[b]) + each;
        const double v = floor(c * 255.0 / area + 0.5);
        lut[b] = (uint8_t)(v > 255 ? 255 : v);
    }
}

/* Pixel p of n along an axis of `regions` regions: the two regions whose
 * centres ((k + 0.5) * n / regions) surround it and the weight of the second
 * (clamped at the borders). */
static void region_tap(int p, int n, int regions, int *k0, int *k1, float *w1) {
    const float f = ((float)p + 0.5f) * (float)regions / (float)n - 0.5f;
    int k = (int)floorf(f);
    float wt = f - (float)k;
    if (k < 0) k = 0, wt = 0;
    if (k >= regions - 1) k = regions - 1, wt = 0;
    *k0 = k, *k1 = k + 1 < regions ? k + 1 : k, *w1 = wt;
}

int clahe_u8(const uint8_t *in, int w, int h, int tiles, float clip_limit, uint8_t *out) {
    if (w < 1 || h < 1) return 0;
    const int tx = tiles < w ? tiles : w, ty = tiles < h ? tiles : h;
    uint8_t *lut = malloc((size_t)tx * ty * 256);
    if (!lut) return -1;
    for (int j = 0; j < ty; j++)
        for (int i = 0; i < tx; i++)
            region_lut(in, w, (int)((int64_t)i * w / tx), (int)((int64_t)(i + 1) * w / tx), (int)((int64_t)j * h / ty),
                       (int)((int64_t)(j + 1) * h / ty), clip_limit, lut + ((size_t)j * tx + i) * 256);
    /* the x taps are the same for every row: once, then per row the y tap */
    int *xi = malloc(sizeof(int) * 2 * (size_t)w);
    float *xw = malloc(sizeof(float) * (size_t)w);
    if (!xi || !xw) {
        free(lut), free(xi), free(xw);
        return -1;
    }
    for (int x = 0; x < w; x++) region_tap(x, w, tx, &xi[2 * x], &xi[2 * x + 1], &xw[x]);
#pragma omp parallel for schedule(static) if ((int64_t)w * h > 262144)
    for (int y = 0; y < h; y++) {
        int j0, j1;
        float wy;
        region_tap(y, h, ty, &j0, &j1, &wy);
        for (int x = 0; x < w; x++) {
            const int i0 = xi[2 * x], i1 = xi[2 * x + 1];
            const float wx = xw[x];
            const uint8_t v = in[(size_t)y * w + x];
            const float a = lut[((size_t)j0 * tx + i0) * 256 + v], b = lut[((size_t)j0 * tx + i1) * 256 + v];
            const float c = lut[((size_t)j1 * tx + i0) * 256 + v], d = lut[((size_t)j1 * tx + i1) * 256 + v];
            const float r = (1 - wy) * ((1 - wx) * a + wx * b) + wy * ((1 - wx) * c + wx * d);
            out[(size_t)y * w + x] = (uint8_t)(r + 0.5f);
        }
    }
    free(xi), free(xw);
    free(lut);
    return 0;
}

int stretch_u8(const uint8_t *in, size_t n, uint8_t *out) {
    uint64_t hist[256] = {0};
    for (size_t i = 0; i < n; i++) hist[in[i]]++;
    uint8_t lut[256];
    if (!image_window_lut(hist, 256, lut)) return 0;
    for (size_t i = 0; i < n; i++) out[i] = lut[in[i]];
    return 1;
}

/* Sorts a pair into increasing order. */
static inline void sort2(uint8_t *a, uint8_t *b) {
    const uint8_t lo = *a < *b ? *a : *b, hi = *a < *b ? *b : *a;
    *a = lo, *b = hi;
}

/* The median of nine values: the 19 exchanges of the usual network. */
static uint8_t median9(uint8_t *p) {
    static const uint8_t net[19][2] = {{1, 2}, {4, 5}, {7, 8}, {0, 1}, {3, 4}, {6, 7}, {1, 2}, {4, 5}, {7, 8}, {0, 3},
                                       {5, 8}, {4, 7}, {3, 6}, {1, 4}, {2, 5}, {4, 7}, {4, 2}, {6, 4}, {4, 2}};
    for (int k = 0; k < 19; k++) sort2(&p[net[k][0]], &p[net[k][1]]);
    return p[4];
}

void median3_u8(const uint8_t *in, int w, int h, uint8_t *out) {
#pragma omp parallel for schedule(static) if ((int64_t)w * h > 262144)
    for (int y = 0; y < h; y++) {
        const int ys[3] = {y > 0 ? y - 1 : 0, y, y + 1 < h ? y + 1 : h - 1};
        for (int x = 0; x < w; x++) {
            const int xs[3] = {x > 0 ? x - 1 : 0, x, x + 1 < w ? x + 1 : w - 1};
            uint8_t v[9];
            for (int j = 0; j < 3; j++)
                for (int i = 0; i < 3; i++) v[3 * j + i] = in[(size_t)ys[j] * w + xs[i]];
            out[(size_t)y * w + x] = median9(v);
        }
    }
}

sam2_status sam2_image_enhance(const sam2_image *img, sam2_depth_mode depth, sam2_contrast_mode mode, uint8_t **rgb,
                               int *applied) {
    if (!img || !rgb || !applied) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_image_enhance: NULL argument");
    *rgb = NULL, *applied = 0;
    if (mode != SAM2_CONTRAST_OFF && mode != SAM2_CONTRAST_AUTO && mode != SAM2_CONTRAST_CLAHE &&
        mode != SAM2_CONTRAST_STRETCH && mode != SAM2_CONTRAST_MEDIAN_STRETCH)
        return SAM2_FAIL(SAM2_ERR_PARAM, "unknown contrast mode %d", (int)mode);
    SAM2_TRY(sam2_image_check(img));
    if (mode == SAM2_CONTRAST_OFF) return SAM2_OK;
    uint8_t *px = NULL;
    SAM2_TRY(image_to_rgb8(img, depth, &px));
    const size_t n = (size_t)img->width * img->height;
    uint8_t *lum = malloc(n), *eq = malloc(n);
    if (!lum || !eq) {
        free(px), free(lum), free(eq);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the contrast step");
    }
    int gray = 1;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = px + 3 * i;
        gray &= p[0] == p[1] && p[1] == p[2];
        lum[i] = (uint8_t)((299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000);
    }
    if (mode == SAM2_CONTRAST_AUTO)
        mode = gray && contrast_spread(lum, n) < CONTRAST_LOW_SPREAD ? SAM2_CONTRAST_STRETCH : SAM2_CONTRAST_OFF;
    int done = 0;
    if (mode == SAM2_CONTRAST_CLAHE) {
        if (clahe_u8(lum, img->width, img->height, 8, 2.0f, eq) != 0) {
            free(px), free(lum), free(eq);
            return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the contrast step");
        }
        done = 1;
    } else if (mode == SAM2_CONTRAST_STRETCH) {
        done = stretch_u8(lum, n, eq);
    } else if (mode == SAM2_CONTRAST_MEDIAN_STRETCH) {
        median3_u8(lum, img->width, img->height, eq);
        done = stretch_u8(eq, n, eq) || memcmp(eq, lum, n) != 0;
    }
    if (done) {
        /* colour keeps its hue: every channel scaled by the luminance gain */
        for (size_t i = 0; i < n; i++) {
            uint8_t *p = px + 3 * i;
            if (gray || !lum[i]) {
                p[0] = p[1] = p[2] = eq[i];
                continue;
            }
            const float g = (float)eq[i] / (float)lum[i];
            for (int c = 0; c < 3; c++) {
                const float v = (float)p[c] * g + 0.5f;
                p[c] = (uint8_t)(v >= 255.0f ? 255 : v);
            }
        }
        *rgb = px, *applied = (int)mode;
    } else {
        free(px);
    }
    free(lum), free(eq);
    return SAM2_OK;
}
