/* amg_pool_mirror.c - more questions for consensus: the same clicks asked of
 * the image mirrored left to right or flipped top to bottom, or of another
 * version of it (a denoised copy). The network is symmetric under neither
 * reflection, so the answers on the reflected image are new, partly
 * independent answers about the same objects; reflected back, they join the
 * pool beside the original ones. */
#include <stdlib.h>
#include <string.h>

#include "amg_pool.h"
#include "error.h"
#include "sam2.h"

/* The axis an image is reflected across (none: asked as it is). */
typedef enum reflection { REFLECT_NONE, REFLECT_LEFT_RIGHT, REFLECT_TOP_BOTTOM } reflection;

/* A reflected copy of img's pixels (same layout, tight rows). */
static sam2_status reflect_image(const sam2_image *img, reflection axis, uint8_t **px, sam2_image *out) {
    const int bpp = img->channels * (img->bit_depth / 8), W = img->width, H = img->height;
    const size_t row = (size_t)W * (size_t)bpp;
    *px = malloc(row * (size_t)H);
    if (!*px) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for a reflected %d x %d image", W, H);
    for (int y = 0; y < H; y++) {
        const uint8_t *s = (const uint8_t *)img->data + (size_t)y * (size_t)img->stride;
        if (axis == REFLECT_TOP_BOTTOM) {
            memcpy(*px + (size_t)(H - 1 - y) * row, s, row);
            continue;
        }
        uint8_t *d = *px + (size_t)y * row;
        for (int x = 0; x < W; x++) memcpy(d + (size_t)(W - 1 - x) * bpp, s + (size_t)x * bpp, (size_t)bpp);
    }
    *out = (sam2_image){W, H, (int)row, img->channels, img->bit_depth, *px};
    return SAM2_OK;
}

/* A growing list of RLE counts. */
typedef struct count_list {
    int64_t *v;
    int n, cap;
} count_list;

static int count_push(count_list *l, int64_t c) {
    if (l->n == l->cap) {
        const int cap = l->cap ? 2 * l->cap : 64;
        int64_t *v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) return 0;
        l->v = v, l->cap = cap;
    }
    l->v[l->n++] = c;
    return 1;
}

/* The column-major RLE of an (H, W) mask reflected, from its runs: left to
 * right, column x becomes column W - 1 - x, so the columns are laid out
 * again from the last to the first; top to bottom, row y of a column becomes
 * row H - 1 - y, so each column's runs are laid out from its last to its
 * first. The foreground runs are cut at the column ends first; no pixel is
 * touched. *out is malloc'd to its size; seg and res are scratch lists kept
 * across masks. */
static sam2_status reflect_rle(const int64_t *c, int n, int H, int W, reflection axis, count_list *seg_list,
                               count_list *res_list, int64_t **out, int *n_out) {
    count_list seg = *seg_list, res = *res_list; /* seg: (column, first row, length) triples */
    seg.n = 0, res.n = 0;
    int ok = 1;
    int64_t p = 0;
    for (int i = 0; i < n && ok; i++) {
        const int64_t e = p + c[i];
        for (int64_t s = p; (i & 1) && s < e && ok;) {
            const int64_t x = s / H, col_end = (x + 1) * H, stop = e < col_end ? e : col_end;
            ok = count_push(&seg, x) && count_push(&seg, s - x * H) && count_push(&seg, stop - s);
            s = stop;
        }
        p = e;
    }
    const int lr = axis == REFLECT_LEFT_RIGHT, n_seg = seg.n / 3;
    int64_t at = 0; /* pixels laid out so far; the last count is a run of ones when odd */
    for (int done = 0; done < n_seg && ok;) {
        /* the next column's segments [k, j): from the last column when mirroring */
        int k, j;
        if (lr) {
            j = n_seg - done, k = j - 1;
            while (k > 0 && seg.v[3 * (k - 1)] == seg.v[3 * k]) k--;
        } else {
            k = done, j = k + 1;
            while (j < n_seg && seg.v[3 * j] == seg.v[3 * k]) j++;
        }
        done += j - k;
        for (int u = 0; u < j - k && ok; u++) {
            const int t = lr ? k + u : j - 1 - u;
            const int64_t x = seg.v[3 * t], y = seg.v[3 * t + 1], len = seg.v[3 * t + 2];
            const int64_t pos = lr ? ((int64_t)W - 1 - x) * H + y : x * H + ((int64_t)H - y - len);
            if (pos == at && (res.n & 1)) res.v[res.n - 1] += len; /* continues the run before */
            else ok = count_push(&res, pos - at) && count_push(&res, len);
            at = pos + len;
        }
    }
    if (ok && (at < (int64_t)H * W || res.n == 0)) ok = count_push(&res, (int64_t)H * W - at);
    *seg_list = seg, *res_list = res;
    int64_t *copy = ok ? malloc(sizeof *copy * (size_t)res.n) : NULL;
    if (!copy) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory reflecting a %d x %d mask", W, H);
    memcpy(copy, res.v, sizeof *copy * (size_t)res.n);
    *out = copy, *n_out = res.n;
    return SAM2_OK;
}

/* Reflects one record of an (H, W) image back in place (seg, res: scratch). */
static sam2_status reflect_record(sam2_amg_mask *m, int H, int W, reflection axis, count_list *seg, count_list *res) {
    int64_t *counts = NULL;
    int n_counts = 0;
    SAM2_TRY(reflect_rle(m->counts, m->n_counts, H, W, axis, seg, res, &counts, &n_counts));
    free(m->counts);
    m->counts = counts, m->n_counts = n_counts;
    const int d = axis == REFLECT_LEFT_RIGHT ? 0 : 1; /* the coordinate that changes */
    const float size = (float)(d == 0 ? W : H);
    if (m->area > 0) m->bbox[d] = size - 1 - (m->bbox[d] + m->bbox[d + 2]);
    m->point[d] = size - m->point[d];
    m->crop_box[d] = size - (m->crop_box[d] + m->crop_box[d + 2]);
    return SAM2_OK;
}

static sam2_status add_view(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params, int zoom_layers,
                            float pool_pred_iou_thresh, reflection axis, sam2_amg_result *pool) {
    const char *what = axis == REFLECT_LEFT_RIGHT ? "mirrored" : axis == REFLECT_TOP_BOTTOM ? "flipped" : "image";
    if (!ctx || !img || !params || !pool) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_pool_add_%s: NULL argument", what);
    if (img->width != pool->width || img->height != pool->height)
        return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_pool_add_%s: the image is %d x %d, the pool of %d x %d", what, img->width,
                         img->height, pool->width, pool->height);
    uint8_t *px = NULL;
    sam2_image view = *img;
    if (axis != REFLECT_NONE) SAM2_TRY(reflect_image(img, axis, &px, &view));
    sam2_amg_result *kept = NULL, *extra = NULL;
    sam2_status st = sam2_amg_generate_pool_zoomed(ctx, &view, params, zoom_layers, pool_pred_iou_thresh, &kept, &extra);
    free(px);
    sam2_amg_result_free(kept);
    count_list seg = {0}, res = {0};
    for (int i = 0; st == SAM2_OK && axis != REFLECT_NONE && i < extra->n_masks; i++)
        st = reflect_record(&extra->masks[i], pool->height, pool->width, axis, &seg, &res);
    free(seg.v), free(res.v);
    if (st == SAM2_OK) st = amg_pool_take(pool, extra);
    sam2_amg_result_free(extra);
    return st;
}

sam2_status sam2_amg_pool_add_mirrored(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                       int zoom_layers, float pool_pred_iou_thresh, sam2_amg_result *pool) {
    return add_view(ctx, img, params, zoom_layers, pool_pred_iou_thresh, REFLECT_LEFT_RIGHT, pool);
}

sam2_status sam2_amg_pool_add_flipped(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                      int zoom_layers, float pool_pred_iou_thresh, sam2_amg_result *pool) {
    return add_view(ctx, img, params, zoom_layers, pool_pred_iou_thresh, REFLECT_TOP_BOTTOM, pool);
}

sam2_status sam2_amg_pool_add_image(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                    int zoom_layers, float pool_pred_iou_thresh, sam2_amg_result *pool) {
    return add_view(ctx, img, params, zoom_layers, pool_pred_iou_thresh, REFLECT_NONE, pool);
}
