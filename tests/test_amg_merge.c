/* test_amg_merge.c - merging asks the model: with permissive thresholds
 * touching parts are replaced by its answer and marked, with impossible
 * ones nothing changes; bad parameters and a wrong context are refused. */
#include <stdlib.h>
#include <string.h>

#include "test.h"

static sam2_amg_result *run(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *p) {
    sam2_amg_result *r = NULL;
    CHECK_OK(sam2_amg_generate(ctx, img, p, &r));
    return r;
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

    sam2_merge_params bad = any;
    bad.min_union_iou = 2.0f;
    CHECK(sam2_amg_merge(ctx, &p, &bad, r) == SAM2_ERR_PARAM, "bad min_union_iou accepted");
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
