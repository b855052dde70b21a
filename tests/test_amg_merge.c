/* test_amg_merge.c - merging asks the model: with permissive thresholds
 * touching parts are replaced by its answer and marked, with impossible
 * ones nothing changes, and a consensus vote inside an earlier mask stays;
 * bad parameters and a wrong context are refused. */
#include <stdlib.h>
#include <string.h>

#include "rle.h"
#include "test.h"

static sam2_amg_result *run(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *p) {
    sam2_amg_result *r = NULL;
    CHECK_OK(sam2_amg_generate(ctx, img, p, &r));
    return r;
}

/* Two masks: base's largest, then its left half (its pixels left of the
 * box's middle) with the given source, clicked inside. NULL on failure. */
static sam2_amg_result *nested_pair(const sam2_amg_result *base, sam2_mask_source inner_source) {
    if (!base || base->n_masks == 0) return NULL;
    const int w = base->width, h = base->height;
    int big = 0;
    for (int k = 1; k < base->n_masks; k++)
        if (base->masks[k].area > base->masks[big].area) big = k;
    const sam2_amg_mask *outer = &base->masks[big];
    sam2_amg_result *r = calloc(1, sizeof *r);
    uint8_t *bits = malloc((size_t)w * h);
    if (r) r->masks = calloc(2, sizeof *r->masks);
    if (!r || !r->masks || !bits || sam2_rle_decode(outer->counts, outer->n_counts, h, w, bits) != SAM2_OK) {
        free(bits), sam2_amg_result_free(r);
        return NULL;
    }
    r->width = w, r->height = h, r->n_masks = 2;
    r->masks[0] = *outer;
    r->masks[0].counts = malloc(sizeof(int64_t) * (size_t)outer->n_counts);
    if (r->masks[0].counts) memcpy(r->masks[0].counts, outer->counts, sizeof(int64_t) * (size_t)outer->n_counts);
    const int mid = (int)(outer->bbox[0] + outer->bbox[2] / 2);
    sam2_amg_mask *in = &r->masks[1];
    *in = *outer, in->counts = NULL, in->area = 0, in->source = inner_source;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *px = &bits[(size_t)y * w + x];
            if (x > mid) *px = 0;
            if (*px) in->area++, in->point[0] = (float)x + 0.5f, in->point[1] = (float)y + 0.5f;
        }
    in->bbox[2] = (float)mid - in->bbox[0];
    if (!r->masks[0].counts || rle_encode(bits, h, w, &in->counts, &in->n_counts) != SAM2_OK) {
        free(bits), sam2_amg_result_free(r);
        return NULL;
    }
    free(bits);
    return r;
}

/* The number of masks merging with permissive thresholds and the given
 * inner_vote_frac leaves of a nested pair; -1 when it could not run. */
static int merge_nested(sam2_ctx *ctx, const sam2_amg_params *p, const sam2_amg_result *base, sam2_mask_source src,
                        float inner_vote_frac, int64_t *inner_area) {
    sam2_amg_result *r = nested_pair(base, src);
    CHECK(r != NULL, "could not build a nested pair");
    if (!r) return -1;
    const int64_t area = r->masks[1].area;
    sam2_merge_params mp = sam2_merge_default_params();
    mp.pred_iou_thresh = 0.0f, mp.stability_score_thresh = 0.0f, mp.min_union_iou = 0.0f;
    mp.inner_vote_frac = inner_vote_frac;
    CHECK_OK(sam2_amg_merge(ctx, p, &mp, r));
    const int n = r->n_masks;
    *inner_area = n == 2 && r->masks[1].source == src && r->masks[1].area == area ? area : -1;
    sam2_amg_result_free(r);
    return n;
}

int main(void) {
    test_demo d;
    if (!test_demo_open("dev_001.png", &d)) return test_finish();
    sam2_ctx *ctx = d.ctx;
    sam2_image img = d.img;
    /* the loose setting gives many touching, overlapping parts */
    sam2_amg_params p = sam2_amg_default_params();
    p.points_per_side = 8, p.pred_iou_thresh = 0.1f, p.stability_score_thresh = 0.0f;
    sam2_amg_result *base = run(ctx, &img, &p), *r = run(ctx, &img, &p);
    sam2_merge_params never = sam2_merge_default_params();
    never.pred_iou_thresh = 1.0f; /* no answer is above 1 */
    CHECK_OK(sam2_amg_merge(ctx, &p, &never, r));
    int same = base && r && base->n_masks == r->n_masks;
    for (int k = 0; same && k < r->n_masks; k++)
        same = r->masks[k].source == SAM2_MASK_GRID && r->masks[k].n_counts == base->masks[k].n_counts &&
               !memcmp(r->masks[k].counts, base->masks[k].counts, sizeof(int64_t) * r->masks[k].n_counts);
    CHECK(same, "impossible thresholds changed the masks");

    sam2_merge_params any = sam2_merge_default_params();
    any.pred_iou_thresh = 0.0f, any.stability_score_thresh = 0.0f, any.min_union_iou = 0.0f, any.max_pairs = 8;
    CHECK_OK(sam2_amg_merge(ctx, &p, &any, r));
    int merged = 0, areas_ok = 1;
    for (int k = 0; r && k < r->n_masks; k++) {
        const sam2_amg_mask *mk = &r->masks[k];
        if (mk->source != SAM2_MASK_MERGED) continue;
        merged++;
        uint8_t *bits = malloc((size_t)r->width * r->height);
        CHECK_OK(sam2_rle_decode(mk->counts, mk->n_counts, r->height, r->width, bits));
        int64_t a = 0;
        for (int i = 0; i < r->width * r->height; i++) a += bits[i];
        areas_ok &= a == mk->area && mk->crop_box[2] == (float)r->width;
        free(bits);
    }
    printf("  merging on dev_001: %d masks -> %d, %d merged records\n", base ? base->n_masks : 0, r ? r->n_masks : 0,
           merged);
    CHECK(r && base && merged > 0 && r->n_masks < base->n_masks, "permissive thresholds merged nothing");
    CHECK(areas_ok, "a merged record's area or crop box is wrong");

    /* a vote the consensus step added inside a mask stays apart from it;
     * grid masks so nested, or the vote with inner_vote_frac 0, merge */
    int64_t kept = 0;
    const int n_vote = merge_nested(ctx, &p, base, SAM2_MASK_CONSENSUS, 0.8f, &kept);
    CHECK(n_vote == 2 && kept > 0, "a consensus vote inside a mask was merged away (%d masks left)", n_vote);
    int64_t dropped = 0;
    const int n_grid = merge_nested(ctx, &p, base, SAM2_MASK_GRID, 0.8f, &dropped);
    CHECK(n_grid == 1, "two nested grid masks were not merged (%d masks left)", n_grid);
    const int n_off = merge_nested(ctx, &p, base, SAM2_MASK_CONSENSUS, 0.0f, &dropped);
    CHECK(n_off == 1, "inner_vote_frac 0 still kept the vote apart (%d masks left)", n_off);
    printf("  nested pair: consensus vote %lld px kept, grid pair -> %d, inner_vote_frac 0 -> %d\n", (long long)kept,
           n_grid, n_off);

    sam2_merge_params bad = any;
    bad.min_union_iou = 2.0f;
    CHECK(sam2_amg_merge(ctx, &p, &bad, r) == SAM2_ERR_PARAM, "bad min_union_iou accepted");
    bad = any, bad.inner_vote_frac = 1.5f;
    CHECK(sam2_amg_merge(ctx, &p, &bad, r) == SAM2_ERR_PARAM, "bad inner_vote_frac accepted");
    if (r) {
        r->height++;
        CHECK(sam2_amg_merge(ctx, &p, &any, r) == SAM2_ERR_STATE, "a result of another size accepted");
        r->height--;
    }
    sam2_amg_result_free(base);
    sam2_amg_result_free(r);
    test_demo_close(&d);
    return test_finish();
}
