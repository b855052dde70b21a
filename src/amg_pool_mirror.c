/* amg_pool_mirror.c - more questions for consensus: the same clicks asked of
 * the mirrored image. The network is not mirror-symmetric, so the answers on
 * the mirrored image are new, partly independent answers about the same
 * objects; mirrored back, they join the pool beside the original ones. */
#include <stdlib.h>
#include <string.h>

#include "amg_pool.h"
#include "error.h"
#include "sam2.h"

/* A left-right mirrored copy of img's pixels (same layout, tight rows). */
static sam2_status mirror_image(const sam2_image *img, uint8_t **px, sam2_image *out) {
    const int bpp = img->channels * (img->bit_depth / 8), W = img->width, H = img->height;
    const size_t row = (size_t)W * (size_t)bpp;
    *px = malloc(row * (size_t)H);
    if (!*px) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for a mirrored %d x %d image", W, H);
    for (int y = 0; y < H; y++) {
        const uint8_t *s = (const uint8_t *)img->data + (size_t)y * (size_t)img->stride;
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

/* The column-major RLE of an (H, W) mask mirrored left to right, from its
 * runs: column x becomes column W - 1 - x, so the foreground runs, cut at the
 * column ends, are laid out again from the last column to the first; no
 * pixel is touched. *out is malloc'd to its size; seg and res are scratch
 * lists kept across masks. */
static sam2_status mirror_rle(const int64_t *c, int n, int H, int W, count_list *seg_list, count_list *res_list,
                              int64_t **out, int *n_out) {
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
    int64_t at = 0; /* pixels laid out so far; the last count is a run of ones when odd */
    for (int j = seg.n / 3; j > 0 && ok;) {
        int k = j; /* the segments of one column: [k, j) */
        while (k > 0 && seg.v[3 * (k - 1)] == seg.v[3 * (j - 1)]) k--;
        for (int t = k; t < j && ok; t++) {
            const int64_t pos = ((int64_t)W - 1 - seg.v[3 * t]) * H + seg.v[3 * t + 1], len = seg.v[3 * t + 2];
            if (pos == at && (res.n & 1)) res.v[res.n - 1] += len; /* continues the run before */
            else ok = count_push(&res, pos - at) && count_push(&res, len);
            at = pos + len;
        }
        j = k;
    }
    if (ok && (at < (int64_t)H * W || res.n == 0)) ok = count_push(&res, (int64_t)H * W - at);
    *seg_list = seg, *res_list = res;
    int64_t *copy = ok ? malloc(sizeof *copy * (size_t)res.n) : NULL;
    if (!copy) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory mirroring a %d x %d mask", W, H);
    memcpy(copy, res.v, sizeof *copy * (size_t)res.n);
    *out = copy, *n_out = res.n;
    return SAM2_OK;
}

/* Mirrors one record of an (H, W) image back in place (seg, res: scratch). */
static sam2_status mirror_record(sam2_amg_mask *m, int H, int W, count_list *seg, count_list *res) {
    int64_t *counts = NULL;
    int n_counts = 0;
    SAM2_TRY(mirror_rle(m->counts, m->n_counts, H, W, seg, res, &counts, &n_counts));
    free(m->counts);
    m->counts = counts, m->n_counts = n_counts;
    if (m->area > 0) m->bbox[0] = (float)(W - 1) - (m->bbox[0] + m->bbox[2]);
    m->point[0] = (float)W - m->point[0];
    m->crop_box[0] = (float)W - (m->crop_box[0] + m->crop_box[2]);
    return SAM2_OK;
}

sam2_status sam2_amg_pool_add_mirrored(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                       int zoom_layers, float pool_pred_iou_thresh, sam2_amg_result *pool) {
    if (!ctx || !img || !params || !pool)
        return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_pool_add_mirrored: NULL argument");
    if (img->width != pool->width || img->height != pool->height)
        return SAM2_FAIL(SAM2_ERR_PARAM, "mirrored clicks: the image is %d x %d, the pool of %d x %d", img->width,
                         img->height, pool->width, pool->height);
    uint8_t *px = NULL;
    sam2_image mirrored;
    SAM2_TRY(mirror_image(img, &px, &mirrored));
    sam2_amg_result *kept = NULL, *extra = NULL;
    sam2_status st = sam2_amg_generate_pool_zoomed(ctx, &mirrored, params, zoom_layers, pool_pred_iou_thresh, &kept, &extra);
    free(px);
    sam2_amg_result_free(kept);
    count_list seg = {0}, res = {0};
    for (int i = 0; st == SAM2_OK && i < extra->n_masks; i++)
        st = mirror_record(&extra->masks[i], pool->height, pool->width, &seg, &res);
    free(seg.v), free(res.v);
    if (st == SAM2_OK) st = amg_pool_take(pool, extra);
    sam2_amg_result_free(extra);
    return st;
}
