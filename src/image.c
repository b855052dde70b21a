/* image.c - image checks, RGB conversion, 16-bit windowing and the exact
 * preprocessing of the official pipeline. */
#include "image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

sam2_status sam2_image_check(const sam2_image *img) {
    if (!img) return SAM2_FAIL(SAM2_ERR_PARAM, "no image");
    if (img->width <= 0 || img->height <= 0)
        return SAM2_FAIL(SAM2_ERR_PARAM, "image has zero size (%d x %d)", img->width, img->height);
    if (img->width > SAM2_MAX_IMAGE_SIDE || img->height > SAM2_MAX_IMAGE_SIDE ||
        (int64_t)img->width * img->height > SAM2_MAX_IMAGE_PIXELS)
        return SAM2_FAIL(SAM2_ERR_PARAM, "image of %d x %d pixels exceeds the limit (%d per side, %lld pixels)",
                         img->width, img->height, SAM2_MAX_IMAGE_SIDE, (long long)SAM2_MAX_IMAGE_PIXELS);
    if (img->channels != 1 && img->channels != 2 && img->channels != 3 && img->channels != 4)
        return SAM2_FAIL(SAM2_ERR_PARAM, "image has %d channels (1, 2, 3 or 4 supported)", img->channels);
    if (img->bit_depth != 8 && img->bit_depth != 16)
        return SAM2_FAIL(SAM2_ERR_PARAM, "image bit depth %d (8 or 16 supported)", img->bit_depth);
    if (img->stride < img->width * img->channels * (img->bit_depth / 8))
        return SAM2_FAIL(SAM2_ERR_PARAM, "image stride %d is shorter than a row", img->stride);
    if (!img->data) return SAM2_FAIL(SAM2_ERR_PARAM, "image has no pixel data");
    return SAM2_OK;
}

static int cmp_u16(const void *a, const void *b) {
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* The robust window of 16-bit samples: 0.5 and 99.5 percentiles (of the
 * colour samples, alpha excluded); falls back to min/max, then to plain
 * scaling when the image is flat. */
static void window_16(const sam2_image *img, int colour_ch, double *lo, double *hi) {
    size_t n = (size_t)img->width * img->height * colour_ch;
    uint16_t *v = malloc(n * sizeof *v);
    *lo = 0, *hi = 65535;
    if (!v) return;
    size_t k = 0;
    for (int y = 0; y < img->height; y++) {
        const uint16_t *row = (const uint16_t *)(const void *)((const uint8_t *)img->data + (size_t)y * img->stride);
        for (int x = 0; x < img->width; x++)
            for (int c = 0; c < colour_ch; c++) v[k++] = row[x * img->channels + c];
    }
    qsort(v, n, sizeof *v, cmp_u16);
    double a = v[(size_t)(0.005 * (n - 1))], b = v[(size_t)(0.995 * (n - 1))];
    if (b <= a) a = v[0], b = v[n - 1];
    if (b > a) *lo = a, *hi = b;
    free(v);
}

sam2_status image_to_rgb8(const sam2_image *img, sam2_depth_mode mode, uint8_t **rgb) {
    SAM2_TRY(sam2_image_check(img));
    const int w = img->width, h = img->height, ch = img->channels;
    const int colour_ch = ch >= 3 ? 3 : 1; /* 2 = gray + alpha, 4 = RGBA */
    uint8_t *out = malloc((size_t)w * h * 3);
    if (!out) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate a %d x %d RGB image", w, h);
    double lo = 0, hi = 65535;
    if (img->bit_depth == 16 && mode == SAM2_DEPTH_WINDOW) window_16(img, colour_ch, &lo, &hi);
    for (int y = 0; y < h; y++) {
        const uint8_t *row8 = (const uint8_t *)img->data + (size_t)y * img->stride;
        const uint16_t *row16 = (const uint16_t *)(const void *)row8;
        uint8_t *o = out + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            for (int c = 0; c < 3; c++) {
                int src = x * ch + (colour_ch == 3 ? c : 0);
                uint8_t v;
                if (img->bit_depth == 8) {
                    v = row8[src];
                } else if (mode == SAM2_DEPTH_WINDOW) {
                    double t = (row16[src] - lo) / (hi - lo) * 255.0;
                    v = (uint8_t)(t <= 0 ? 0 : t >= 255 ? 255 : lround(t));
                } else {
                    v = (uint8_t)((row16[src] + 128) / 257);
                }
                o[3 * x + c] = v;
            }
        }
    }
    *rgb = out;
    return SAM2_OK;
}

/* Triangle-filter weights of one axis (torchvision/PIL antialias rule). */
typedef struct axis_weights {
    int *start, *len;  /* per output sample */
    float *w;          /* (out, max_len) */
    int max_len;
} axis_weights;

static void axis_free(axis_weights *a) {
    free(a->start), free(a->len), free(a->w);
}

static sam2_status axis_init(axis_weights *a, int in, int out) {
    const float scale = (float)in / (float)out;
    const float support = scale >= 1.0f ? scale : 1.0f;
    const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
    a->max_len = (int)ceilf(support) * 2 + 1;
    a->start = malloc(sizeof(int) * out);
    a->len = malloc(sizeof(int) * out);
    a->w = calloc((size_t)out * a->max_len, sizeof(float));
    if (!a->start || !a->len || !a->w) {
        axis_free(a);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in resize");
    }
    for (int i = 0; i < out; i++) {
        float center = scale * ((float)i + 0.5f);
        int xmin = (int)(center - support + 0.5f);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5f);
        if (xmax > in) xmax = in;
        int n = xmax - xmin;
        if (n > a->max_len) n = a->max_len;
        float *w = a->w + (size_t)i * a->max_len, sum = 0.0f;
        for (int j = 0; j < n; j++) {
            float t = ((float)(j + xmin) - center + 0.5f) * invscale;
            float v = 1.0f - fabsf(t);
            w[j] = v > 0.0f ? v : 0.0f;
            sum += w[j];
        }
        if (sum != 0.0f)
            for (int j = 0; j < n; j++) w[j] /= sum;
        a->start[i] = xmin;
        a->len[i] = n;
    }
    return SAM2_OK;
}

sam2_status resize_antialias_bilinear(const float *in, int in_h, int in_w, float *out, int out_h,
                                      int out_w, int channels) {
    axis_weights ax = {0}, ay = {0};
    SAM2_TRY(axis_init(&ax, in_w, out_w));
    sam2_status st = axis_init(&ay, in_h, out_h);
    float *tmp = st == SAM2_OK ? malloc(sizeof(float) * (size_t)in_h * out_w) : NULL; /* (in_h, out_w) */
    if (st == SAM2_OK && !tmp) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory in resize");
    for (int c = 0; st == SAM2_OK && c < channels; c++) {
        const float *src = in + (size_t)c * in_h * in_w;
        float *dst = out + (size_t)c * out_h * out_w;
        /* along x, then along y, float32 intermediate */
#pragma omp parallel for schedule(static)
        for (int y = 0; y < in_h; y++) {
            const float *row = src + (size_t)y * in_w;
            for (int i = 0; i < out_w; i++) {
                const float *w = ax.w + (size_t)i * ax.max_len;
                float acc = 0.0f;
                for (int j = 0; j < ax.len[i]; j++) acc += w[j] * row[ax.start[i] + j];
                tmp[(size_t)y * out_w + i] = acc;
            }
        }
#pragma omp parallel for schedule(static)
        for (int i = 0; i < out_h; i++) {
            const float *w = ay.w + (size_t)i * ay.max_len;
            float *o = dst + (size_t)i * out_w;
            for (int x = 0; x < out_w; x++) o[x] = 0.0f;
            for (int j = 0; j < ay.len[i]; j++) {
                const float *r = tmp + (size_t)(ay.start[i] + j) * out_w;
                for (int x = 0; x < out_w; x++) o[x] += w[j] * r[x];
            }
        }
    }
    free(tmp);
    axis_free(&ax);
    axis_free(&ay);
    return st;
}

/* Resizes channel c of an 8-bit RGB image straight from its bytes (x/255
 * in float32 on the fly), so no full-size float copy of a large image exists:
 * the horizontal pass fills tmp (h, S), the vertical one writes out (S, S). */
static void resize_u8_channel(const uint8_t *rgb, int h, int w, int c, const axis_weights *ax,
                              const axis_weights *ay, float *tmp, float *out, int S) {
#pragma omp parallel for schedule(static)
    for (int y = 0; y < h; y++) {
        const uint8_t *row = rgb + (size_t)y * w * 3 + c;
        for (int i = 0; i < S; i++) {
            const float *wt = ax->w + (size_t)i * ax->max_len;
            float acc = 0.0f;
            for (int j = 0; j < ax->len[i]; j++) acc += wt[j] * ((float)row[3 * (ax->start[i] + j)] / 255.0f);
            tmp[(size_t)y * S + i] = acc;
        }
    }
#pragma omp parallel for schedule(static)
    for (int i = 0; i < S; i++) {
        const float *wt = ay->w + (size_t)i * ay->max_len;
        float *o = out + (size_t)i * S;
        for (int x = 0; x < S; x++) o[x] = 0.0f;
        for (int j = 0; j < ay->len[i]; j++) {
            const float *r = tmp + (size_t)(ay->start[i] + j) * S;
            for (int x = 0; x < S; x++) o[x] += wt[j] * r[x];
        }
    }
}

sam2_status image_preprocess(const sam2_image *img, sam2_depth_mode mode, int S, float *out) {
    uint8_t *rgb = NULL;
    SAM2_TRY(image_to_rgb8(img, mode, &rgb));
    const int w = img->width, h = img->height;
    axis_weights ax = {0}, ay = {0};
    sam2_status st = axis_init(&ax, w, S);
    if (st == SAM2_OK) st = axis_init(&ay, h, S);
    float *tmp = st == SAM2_OK ? malloc(sizeof(float) * (size_t)h * S) : NULL; /* (h, S) */
    if (st == SAM2_OK && !tmp) st = SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate the resize buffer for a %d x %d image", w, h);
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; st == SAM2_OK && c < 3; c++) {
        float *p = out + (size_t)c * S * S;
        resize_u8_channel(rgb, h, w, c, &ax, &ay, tmp, p, S);
        for (size_t i = 0; i < (size_t)S * S; i++) p[i] = (p[i] - mean[c]) / std[c];
    }
    free(tmp);
    free(rgb);
    axis_free(&ax);
    axis_free(&ay);
    return st;
}
