/* amg_pool_mirror.c - more questions for consensus: the same clicks asked of
 * the mirrored image. The network is not mirror-symmetric, so the answers on
 * the mirrored image are new, partly independent answers about the same
 * objects; mirrored back, they join the pool beside the original ones. */
#include <stdlib.h>
#include <string.h>

#include "amg_pool.h"
#include "error.h"
#include "rle.h"
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

/* Mirrors one record of a W-wide image back in place; mask: (H, W) scratch. */
static sam2_status mirror_record(sam2_amg_mask *m, int H, int W, uint8_t *mask) {
    SAM2_TRY(sam2_rle_decode(m->counts, m->n_counts, H, W, mask));
    for (int y = 0; y < H; y++) {
        uint8_t *r = mask + (size_t)y * W;
        for (int a = 0, b = W - 1; a < b; a++, b--) {
            const uint8_t t = r[a];
            r[a] = r[b], r[b] = t;
        }
    }
    int64_t *counts = NULL;
    int n_counts = 0;
    SAM2_TRY(rle_encode(mask, H, W, &counts, &n_counts));
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
    const int W = pool->width, H = pool->height;
    uint8_t *mask = st == SAM2_OK ? malloc((size_t)W * (size_t)H) : NULL;
    if (st == SAM2_OK && !mask) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for a %d x %d mask", W, H);
    for (int i = 0; st == SAM2_OK && i < extra->n_masks; i++) st = mirror_record(&extra->masks[i], H, W, mask);
    free(mask);
    if (st == SAM2_OK) st = amg_pool_take(pool, extra);
    sam2_amg_result_free(extra);
    return st;
}
