/* image.c - image checks, conversion to 8-bit RGB (with the 16-bit depth
 * modes) and the exact preprocessing of the official SAM2Transforms:
 * x/255, antialiased bilinear resize to S x S, ImageNet normalisation. */
#include "image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* ================================================================ checks */

/* Checks every field of an image view: positive sizes within the limits,
 * 1-4 channels, 8 or 16 bits, a stride that holds a row, and pixel data. */
sam2_status sam2_image_check(const sam2_image *img) {
    if (!img) return SAM2_FAIL(SAM2_ERR_PARAM, "no image");
    if (img->width <= 0 || img->height <= 0)
        return SAM2_FAIL(SAM2_ERR_PARAM, "image has zero size (%d x %d)", img->width, img->height);
    if (img->width > SAM2_MAX_IMAGE_SIDE || img->height > SAM2_MAX_IMAGE_SIDE ||
        (int64_t)img->width * img->height > SAM2_MAX_IMAGE_PIXELS)
        return SAM2_FAIL(SAM2_ERR_PARAM,
                         "image of %d x %d pixels exceeds the limit (%d per side, %lld pixels)",
                         img->width, img->height, SAM2_MAX_IMAGE_SIDE,
                         (long long)SAM2_MAX_IMAGE_PIXELS);
    if (img->channels < 1 || img->channels > 4)
        return SAM2_FAIL(SAM2_ERR_PARAM, "image has %d channels (1, 2, 3 or 4 supported)",
                         img->channels);
    if (img->bit_depth != 8 && img->bit_depth != 16)
        return SAM2_FAIL(SAM2_ERR_PARAM, "image bit depth %d (8 or 16 supported)", img->bit_depth);
    const int row_bytes = img->width * img->channels * (img->bit_depth / 8); /* <= 2^18 */
    if (img->stride < row_bytes)
        return SAM2_FAIL(SAM2_ERR_PARAM, "image stride %d is shorter than a row of %d bytes",
                         img->stride, row_bytes);
    if (!img->data) return SAM2_FAIL(SAM2_ERR_PARAM, "image has no pixel data");
    return SAM2_OK;
}

/* ======================================================= 8-bit RGB mapping */

/* How an image's samples become 8-bit RGB: the source channel of R, G and B
 * (gray is replicated, alpha is never read) and, for 16-bit images, a table
 * from sample value to 8 bits. */
typedef struct rgb_map {
    int src[3];   /* source channel of R, G, B */
    uint8_t *lut; /* (65536) 16-bit value -> 8-bit; NULL for 8-bit images */
} rgb_map;

/* Reads sample c of pixel x of a row (any alignment; 16-bit native order). */
static inline unsigned read_sample(const uint8_t *row, int x, int c, int channels, int bit_depth) {
    if (bit_depth == 8) return row[(size_t)x * channels + c];
    uint16_t v;
    memcpy(&v, row + ((size_t)x * channels + c) * 2, sizeof v);
    return v;
}

/* The value of order statistic k (0-based) of the samples counted in hist
 * (bins entries). */
static unsigned hist_order(const uint64_t *hist, unsigned bins, uint64_t k) {
    uint64_t cum = 0;
    for (unsigned v = 0; v < bins; v++) {
        cum += hist[v];
        if (cum > k) return v;
    }
    return bins - 1;
}

/* The p-th percentile (0..100) with linear interpolation between order
 * statistics, as numpy.percentile does by default. */
static double hist_percentile(const uint64_t *hist, unsigned bins, uint64_t n, double p) {
    double rank = p / 100.0 * (double)(n - 1);
    uint64_t k = (uint64_t)rank;
    double frac = rank - (double)k;
    double a = hist_order(hist, bins, k);
    double b = k + 1 < n ? hist_order(hist, bins, k + 1) : a;
    return a + frac * (b - a);
}

int image_window_lut(const uint64_t *hist, unsigned bins, uint8_t *lut) {
    uint64_t n = 0;
    for (unsigned v = 0; v < bins; v++) n += hist[v];
    if (!n) return 0;
    double lo = hist_percentile(hist, bins, n, 0.5), hi = hist_percentile(hist, bins, n, 99.5);
    if (!(hi > lo)) {
        lo = hist_order(hist, bins, 0);
        hi = hist_order(hist, bins, n - 1);
    }
    if (!(hi > lo)) return 0;
    for (unsigned v = 0; v < bins; v++) {
        double t = ((double)v - lo) / (hi - lo) * 255.0;
        lut[v] = (uint8_t)(t <= 0.0 ? 0 : t >= 255.0 ? 255 : (int)floor(t + 0.5));
    }
    return 1;
}

/* Fills lut (65536 entries) for a 16-bit image: x/257 rounded to nearest
 * (SAM2_DEPTH_SCALE), PIL's conversion (SAM2_DEPTH_OFFICIAL), or the robust
 * window (SAM2_DEPTH_WINDOW): the 0.5 and
 * 99.5 percentiles of all colour samples (alpha excluded, all colour
 * channels together) stretched linearly to 0..255 with clipping; a flat
 * window falls back to min..max, a flat image to plain scaling. */
static sam2_status depth_lut(const sam2_image *img, sam2_depth_mode mode, const int src[3],
                             uint8_t *lut) {
    int use_window = 0;
    if (mode == SAM2_DEPTH_WINDOW) {
        uint64_t *hist = calloc(65536, sizeof *hist); /* (65536) sample counts */
        if (!hist) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate the 16-bit histogram");
        const int ncol = src[0] == src[1] ? 1 : 3; /* gray: one colour channel */
        for (int y = 0; y < img->height; y++) {
            const uint8_t *row = (const uint8_t *)img->data + (size_t)y * img->stride;
            for (int x = 0; x < img->width; x++)
                for (int c = 0; c < ncol; c++) hist[read_sample(row, x, src[c], img->channels, 16)]++;
        }
        use_window = image_window_lut(hist, 65536, lut);
        free(hist);
    } else if (mode != SAM2_DEPTH_SCALE && mode != SAM2_DEPTH_OFFICIAL) {
        return SAM2_FAIL(SAM2_ERR_PARAM, "unknown depth mode %d", (int)mode);
    }
    if (use_window) return SAM2_OK;
    /* PIL opens one-channel 16-bit files as "I;16" and its convert("RGB")
     * saturates them; with more channels it reads only the high byte */
    const int official_clip = img->channels == 1;
    for (unsigned v = 0; v < 65536; v++) {
        if (mode == SAM2_DEPTH_OFFICIAL) lut[v] = (uint8_t)(official_clip ? (v > 255 ? 255 : v) : v >> 8);
        else lut[v] = (uint8_t)((v + 128) / 257); /* = round(v / 257), never a tie */
    }
    return SAM2_OK;
}

/* Releases the table of a mapping (safe to call twice). */
static void rgb_map_free(rgb_map *m) {
    free(m->lut);
    m->lut = NULL;
}

/* Prepares the mapping of a checked image to 8-bit RGB. */
static sam2_status rgb_map_init(const sam2_image *img, sam2_depth_mode mode, rgb_map *m) {
    const int colour = img->channels >= 3; /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    for (int c = 0; c < 3; c++) m->src[c] = colour ? c : 0;
    m->lut = NULL;
    if (mode != SAM2_DEPTH_SCALE && mode != SAM2_DEPTH_WINDOW && mode != SAM2_DEPTH_OFFICIAL)
        return SAM2_FAIL(SAM2_ERR_PARAM, "unknown depth mode %d", (int)mode);
    if (img->bit_depth != 16) return SAM2_OK;
    m->lut = malloc(65536);
    if (!m->lut) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate the 16-bit table");
    sam2_status st = depth_lut(img, mode, m->src, m->lut);
    if (st != SAM2_OK) rgb_map_free(m);
    return st;
}

/* The 8-bit value of output channel c of pixel x in a row. */
static inline uint8_t mapped(const rgb_map *m, const sam2_image *img, const uint8_t *row, int x,
                             int c) {
    unsigned v = read_sample(row, x, m->src[c], img->channels, img->bit_depth);
    return m->lut ? m->lut[v] : (uint8_t)v;
}

/* Converts any image to (h, w, 3) 8-bit RGB like PIL's convert("RGB"):
 * gray is replicated, alpha dropped, 16-bit samples mapped by mode. */
sam2_status image_to_rgb8(const sam2_image *img, sam2_depth_mode mode, uint8_t **rgb) {
    if (!rgb) return SAM2_FAIL(SAM2_ERR_PARAM, "image_to_rgb8: NULL output");
    *rgb = NULL;
    SAM2_TRY(sam2_image_check(img));
    const int w = img->width, h = img->height;
    rgb_map m;
    SAM2_TRY(rgb_map_init(img, mode, &m));
    uint8_t *out = malloc((size_t)w * h * 3); /* (h, w, 3) */
    if (!out) {
        rgb_map_free(&m);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate a %d x %d RGB image", w, h);
    }
#pragma omp parallel for schedule(static)
    for (int y = 0; y < h; y++) {
        const uint8_t *row = (const uint8_t *)img->data + (size_t)y * img->stride;
        uint8_t *o = out + (size_t)y * w * 3;
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) o[3 * x + c] = mapped(&m, img, row, x, c);
    }
    rgb_map_free(&m);
    *rgb = out;
    return SAM2_OK;
}

/* ================================================================ resize */

/* Triangle-filter weights of one axis (the torchvision / PIL antialias rule,
 * with the same float32 / float64 roundings as the reference kernel). */
typedef struct axis_weights {
    int *start, *len; /* (out) first input sample and tap count per output */
    float *w;         /* (out, max_len) normalised weights */
    int max_len;
} axis_weights;

/* Releases one axis's weights (safe on a zeroed struct). */
static void axis_free(axis_weights *a) {
    free(a->start);
    free(a->len);
    free(a->w);
    memset(a, 0, sizeof *a);
}

/* Computes the weights resampling `in` samples to `out` samples. An axis
 * whose size does not change is an exact copy (one tap of weight 1), as the
 * reference skips that pass. */
static sam2_status axis_init(axis_weights *a, int in, int out) {
    memset(a, 0, sizeof *a);
    const float scale = (float)in / (float)out;
    const float support = scale >= 1.0f ? scale : 1.0f;
    const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
    a->max_len = (int)ceilf(support) * 2 + 1;
    a->start = malloc(sizeof(int) * (size_t)out);
    a->len = malloc(sizeof(int) * (size_t)out);
    a->w = calloc((size_t)out * a->max_len, sizeof(float));
    if (!a->start || !a->len || !a->w) {
        axis_free(a);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate resize weights (%d -> %d)", in, out);
    }
    for (int i = 0; i < out; i++) {
        float *w = a->w + (size_t)i * a->max_len;
        if (in == out) {
            a->start[i] = i, a->len[i] = 1, w[0] = 1.0f;
            continue;
        }
        const float center = scale * ((float)i + 0.5f); /* exact product, one rounding */
        int xmin = (int)((double)(center - support) + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)((double)(center + support) + 0.5);
        if (xmax > in) xmax = in;
        int n = xmax - xmin;
        if (n > a->max_len) n = a->max_len;
        if (n < 0) n = 0;
        float sum = 0.0f;
        for (int j = 0; j < n; j++) {
            float t = (float)(((double)((float)(j + xmin) - center) + 0.5) * (double)invscale);
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

/* The vertical pass: out (out_h, out_w) from tmp (in_h, out_w), each output
 * row accumulated over its taps in order (float32). */
static void resize_vertical(const axis_weights *ay, const float *tmp, float *out, int out_h,
                            int out_w) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < out_h; i++) {
        const float *wt = ay->w + (size_t)i * ay->max_len;
        float *o = out + (size_t)i * out_w;
        for (int x = 0; x < out_w; x++) o[x] = 0.0f;
        for (int j = 0; j < ay->len[i]; j++) {
            const float *r = tmp + (size_t)(ay->start[i] + j) * out_w;
            const float wj = wt[j];
            for (int x = 0; x < out_w; x++) o[x] += wj * r[x];
        }
    }
}

/* Resizes a (channels, in_h, in_w) float image to (channels, out_h, out_w):
 * separable antialiased bilinear, along x first, then along y, float32. */
sam2_status resize_antialias_bilinear(const float *in, int in_h, int in_w, float *out, int out_h,
                                      int out_w, int channels) {
    if (!in || !out || in_h <= 0 || in_w <= 0 || out_h <= 0 || out_w <= 0 || channels <= 0)
        return SAM2_FAIL(SAM2_ERR_PARAM, "resize: bad arguments (%d x %d -> %d x %d, %d channels)",
                         in_w, in_h, out_w, out_h, channels);
    axis_weights ax, ay;
    SAM2_TRY(axis_init(&ax, in_w, out_w));
    sam2_status st = axis_init(&ay, in_h, out_h);
    float *tmp = NULL; /* (in_h, out_w) */
    if (st == SAM2_OK && !(tmp = malloc(sizeof(float) * (size_t)in_h * out_w)))
        st = SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate the resize buffer (%d x %d)", out_w, in_h);
    for (int c = 0; st == SAM2_OK && c < channels; c++) {
        const float *src = in + (size_t)c * in_h * in_w;
#pragma omp parallel for schedule(static)
        for (int y = 0; y < in_h; y++) {
            const float *row = src + (size_t)y * in_w;
            float *t = tmp + (size_t)y * out_w;
            for (int i = 0; i < out_w; i++) {
                const float *wt = ax.w + (size_t)i * ax.max_len;
                const float *r = row + ax.start[i];
                float acc = 0.0f;
                for (int j = 0; j < ax.len[i]; j++) acc += wt[j] * r[j];
                t[i] = acc;
            }
        }
        resize_vertical(&ay, tmp, out + (size_t)c * out_h * out_w, out_h, out_w);
    }
    free(tmp);
    axis_free(&ax);
    axis_free(&ay);
    return st;
}

/* ========================================================= preprocessing */

/* Converts img to the model input (3, S, S) without a full-size float copy:
 * the horizontal pass reads the samples through the RGB mapping (x/255 in
 * float32 from a table), the vertical one writes the output, and each
 * channel is then normalised as (x - mean) / std in float32. */
sam2_status image_preprocess(const sam2_image *img, sam2_depth_mode mode, int S, float *out) {
    if (!out) return SAM2_FAIL(SAM2_ERR_PARAM, "image_preprocess: NULL output");
    if (S <= 0 || S > SAM2_MAX_IMAGE_SIDE)
        return SAM2_FAIL(SAM2_ERR_PARAM, "model input size %d out of range", S);
    SAM2_TRY(sam2_image_check(img));
    const int w = img->width, h = img->height;
    rgb_map m;
    SAM2_TRY(rgb_map_init(img, mode, &m));
    float unit[256]; /* v -> float32(v) / 255 */
    for (int v = 0; v < 256; v++) unit[v] = (float)v / 255.0f;
    axis_weights ax, ay;
    sam2_status st = axis_init(&ax, w, S);
    if (st == SAM2_OK) {
        st = axis_init(&ay, h, S);
        if (st != SAM2_OK) axis_free(&ax);
    }
    if (st != SAM2_OK) {
        rgb_map_free(&m);
        return st;
    }
    float *tmp = malloc(sizeof(float) * (size_t)h * S); /* (h, S) one channel, resized along x */
    if (!tmp) st = SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate the resize buffer for a %d x %d image", w, h);
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; st == SAM2_OK && c < 3; c++) {
#pragma omp parallel for schedule(static)
        for (int y = 0; y < h; y++) {
            const uint8_t *row = (const uint8_t *)img->data + (size_t)y * img->stride;
            float *t = tmp + (size_t)y * S;
            for (int i = 0; i < S; i++) {
                const float *wt = ax.w + (size_t)i * ax.max_len;
                float acc = 0.0f;
                for (int j = 0; j < ax.len[i]; j++)
                    acc += wt[j] * unit[mapped(&m, img, row, ax.start[i] + j, c)];
                t[i] = acc;
            }
        }
        float *p = out + (size_t)c * S * S; /* (S, S) */
        resize_vertical(&ay, tmp, p, S, S);
        const float mc = mean[c], sc = std[c];
#pragma omp parallel for schedule(static)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) p[(size_t)y * S + x] = (p[(size_t)y * S + x] - mc) / sc;
    }
    free(tmp);
    rgb_map_free(&m);
    axis_free(&ax);
    axis_free(&ay);
    return st;
}
