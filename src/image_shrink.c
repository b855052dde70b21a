/* image_shrink.c - an 8-bit RGB copy of an image with its longer side
 * brought down to a given size by area averaging (each output pixel is the
 * mean of the input area it covers, edge pixels weighted by the part they
 * cover), so thin lines and noise average out instead of aliasing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "image.h"

/* The input samples each output sample covers along one axis: first sample,
 * count, and the covered length of each (max_len per output). */
typedef struct area_taps {
    int *start, *len, max_len;
    double *w;
} area_taps;

static void taps_free(area_taps *t) {
    free(t->start), free(t->len), free(t->w);
    memset(t, 0, sizeof *t);
}

static sam2_status taps_init(area_taps *t, int in, int out) {
    memset(t, 0, sizeof *t);
    const double scale = (double)in / out;
    t->max_len = (int)ceil(scale) + 1;
    t->start = malloc(sizeof(int) * (size_t)out);
    t->len = malloc(sizeof(int) * (size_t)out);
    t->w = calloc((size_t)out * t->max_len, sizeof(double));
    if (!t->start || !t->len || !t->w) {
        taps_free(t);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the weights of a %d -> %d resize", in, out);
    }
    for (int o = 0; o < out; o++) {
        const double a = o * scale, b = o + 1 == out ? in : (o + 1) * scale;
        int i0 = (int)floor(a), n = 0;
        for (int i = i0; i < in && i < b; i++) {
            const double cover = fmin(b, i + 1.0) - fmax(a, (double)i);
            if (cover > 0 && n < t->max_len) t->w[(size_t)o * t->max_len + n++] = cover / (b - a);
            else if (n == 0) i0 = i + 1;
        }
        t->start[o] = i0, t->len[o] = n;
    }
    return SAM2_OK;
}

/* Output size with the longer side max_side, the aspect ratio kept. */
static void shrunk_size(int w, int h, int max_side, int *ow, int *oh) {
    const int side = w > h ? w : h;
    if (max_side <= 0 || side <= max_side) {
        *ow = w, *oh = h;
        return;
    }
    const double s = (double)max_side / side;
    *ow = w >= h ? max_side : (int)fmax(1.0, floor(w * s + 0.5));
    *oh = h >= w ? max_side : (int)fmax(1.0, floor(h * s + 0.5));
}

sam2_status sam2_image_shrink(const sam2_image *img, sam2_depth_mode depth, int max_side, uint8_t **rgb,
                              int *width, int *height) {
    if (!rgb || !width || !height) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_image_shrink: NULL output");
    *rgb = NULL, *width = 0, *height = 0;
    if (max_side < 0) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_image_shrink: max_side %d is negative", max_side);
    uint8_t *full = NULL;
    SAM2_TRY(image_to_rgb8(img, depth, &full));
    const int W = img->width, H = img->height;
    int w, h;
    shrunk_size(W, H, max_side, &w, &h);
    if (w == W && h == H) {
        *rgb = full, *width = W, *height = H;
        return SAM2_OK;
    }
    area_taps tx, ty;
    sam2_status st = taps_init(&tx, W, w);
    if (st != SAM2_OK) {
        free(full);
        return st;
    }
    st = taps_init(&ty, H, h);
    uint8_t *out = st == SAM2_OK ? malloc((size_t)w * h * 3) : NULL;
    if (st == SAM2_OK && !out) st = SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate a %d x %d RGB image", w, h);
    int failed = 0;
    if (st == SAM2_OK) {
#pragma omp parallel reduction(| : failed)
        {
            double *acc = malloc(sizeof(double) * 3 * (size_t)w), *row = malloc(sizeof(double) * 3 * (size_t)w);
            failed = !acc || !row;
#pragma omp for schedule(static)
            for (int oy = 0; oy < h; oy++) {
                if (!acc || !row) continue;
                memset(acc, 0, sizeof(double) * 3 * (size_t)w);
                for (int k = 0; k < ty.len[oy]; k++) {
                    const uint8_t *src = full + (size_t)(ty.start[oy] + k) * W * 3;
                    const double wy = ty.w[(size_t)oy * ty.max_len + k];
                    for (int ox = 0; ox < w; ox++) {
                        double c[3] = {0, 0, 0};
                        const double *wx = tx.w + (size_t)ox * tx.max_len;
                        const uint8_t *s = src + (size_t)tx.start[ox] * 3;
                        for (int j = 0; j < tx.len[ox]; j++)
                            for (int ch = 0; ch < 3; ch++) c[ch] += wx[j] * s[3 * j + ch];
                        for (int ch = 0; ch < 3; ch++) row[3 * ox + ch] = c[ch];
                    }
                    for (int i = 0; i < 3 * w; i++) acc[i] += wy * row[i];
                }
                uint8_t *o = out + (size_t)oy * w * 3;
                for (int i = 0; i < 3 * w; i++) {
                    const double v = floor(acc[i] + 0.5);
                    o[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
            }
            free(acc), free(row);
        }
        if (failed) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory shrinking a %d x %d image", W, H);
    }
    taps_free(&tx), taps_free(&ty);
    free(full);
    if (st != SAM2_OK) {
        free(out);
        return st;
    }
    *rgb = out, *width = w, *height = h;
    return SAM2_OK;
}
