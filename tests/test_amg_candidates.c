/* test_amg_candidates.c - decoder-output reuse: sam2_amg_from_candidates must
 * give exactly what sam2_amg_generate gives (records, order, bits) for every
 * post-decoder parameter set, with and without crops and m2m; and refuse
 * parameters the candidates cannot serve. sam2_amg_generate_pool must give
 * the same result too, and a pool holding every candidate its filter keeps.
 * Golden micro256 model and image. */
#include "image_io.h"

void openblas_set_num_threads(int n);
#include "test.h"

/* 1 if both results hold the same records bit for bit, in the same order. */
static int same_result(const sam2_amg_result *a, const sam2_amg_result *b, const char *label) {
    if (a->n_masks != b->n_masks || a->width != b->width || a->height != b->height) {
        fprintf(stderr, "%s: %d masks vs %d\n", label, a->n_masks, b->n_masks);
        return 0;
    }
    for (int i = 0; i < a->n_masks; i++) {
        const sam2_amg_mask *x = &a->masks[i], *y = &b->masks[i];
        int same = x->n_counts == y->n_counts && x->area == y->area &&
                   !memcmp(x->counts, y->counts, sizeof(int64_t) * (size_t)x->n_counts) &&
                   !memcmp(x->bbox, y->bbox, sizeof x->bbox) && !memcmp(x->point, y->point, sizeof x->point) &&
                   !memcmp(x->crop_box, y->crop_box, sizeof x->crop_box) &&
                   !memcmp(&x->predicted_iou, &y->predicted_iou, sizeof(float)) &&
                   !memcmp(&x->stability_score, &y->stability_score, sizeof(float));
        if (!same) {
            fprintf(stderr, "%s: mask %d differs\n", label, i);
            return 0;
        }
    }
    return 1;
}

/* sam2_amg_generate_pool against sam2_amg_generate: the same result bit for
 * bit; every generator record is in the pool (same RLE, score and click);
 * pool records pass its IoU filter and are never fewer. */
static void check_pool(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *base, float pool_thr,
                       const char *name) {
    sam2_amg_params p = *base;
    p.stability_score_thresh = 0.3f;
    sam2_amg_result *want = NULL, *got = NULL, *pool = NULL;
    CHECK_OK(sam2_amg_generate(ctx, base->crop_n_layers ? img : NULL, &p, &want));
    if (base->crop_n_layers) CHECK_OK(sam2_set_image(ctx, img));
    CHECK_OK(sam2_amg_generate_pool(ctx, base->crop_n_layers ? img : NULL, &p, pool_thr, &got, &pool));
    if (base->crop_n_layers) CHECK_OK(sam2_set_image(ctx, img));
    if (want && got && pool) {
        char label[128];
        snprintf(label, sizeof label, "%s pool %g", name, (double)pool_thr);
        CHECK(same_result(want, got, label), "%s: generate_pool differs from generate", label);
        CHECK(pool->n_masks > want->n_masks, "%s: pool %d not larger than the result %d", label, pool->n_masks,
              want->n_masks);
        int bad = 0, missing = 0;
        for (int i = 0; i < pool->n_masks; i++) {
            const sam2_amg_mask *q = &pool->masks[i];
            int64_t area = 0;
            for (int k = 1; k < q->n_counts; k += 2) area += q->counts[k];
            bad += !(pool_thr <= 0.0f || q->predicted_iou > pool_thr) || q->source != SAM2_MASK_GRID || q->area != area;
        }
        for (int k = 0; k < want->n_masks && p.pred_iou_thresh >= pool_thr; k++) {
            const sam2_amg_mask *w = &want->masks[k];
            int found = 0;
            for (int i = 0; i < pool->n_masks && !found; i++) {
                const sam2_amg_mask *q = &pool->masks[i];
                found = q->n_counts == w->n_counts && !memcmp(q->counts, w->counts, sizeof(int64_t) * (size_t)q->n_counts) &&
                        q->predicted_iou == w->predicted_iou && q->stability_score == w->stability_score &&
                        q->point[0] == w->point[0] && q->point[1] == w->point[1] &&
                        !memcmp(q->bbox, w->bbox, sizeof q->bbox) && !memcmp(q->crop_box, w->crop_box, sizeof q->crop_box);
            }
            missing += !found;
        }
        CHECK(bad == 0, "%s: %d pool records fail its filter", label, bad);
        CHECK(missing == 0, "%s: %d generator records not in the pool", label, missing);
    }
    sam2_amg_result_free(want), sam2_amg_result_free(got), sam2_amg_result_free(pool);
    sam2_amg_result *r = (sam2_amg_result *)1, *q = (sam2_amg_result *)1;
    CHECK(sam2_amg_generate_pool(ctx, NULL, &p, 1.5f, &r, &q) == SAM2_ERR_PARAM && !r && !q, "pool threshold 1.5 accepted");
}

/* Builds candidates for base (its pred_iou_thresh is the loosest) and checks
 * every variant against a fresh sam2_amg_generate. */
static void check_sweep(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *base, const char *name) {
    sam2_amg_candidates *c = NULL;
    CHECK_OK(sam2_amg_candidates_new(ctx, img, base, 0, &c));
    if (!c) return;
    int n_cand = 0;
    size_t bytes = 0;
    sam2_amg_candidates_info(c, &n_cand, &bytes);
    CHECK(n_cand > 0 && bytes > 0, "%s: no candidates kept", name);
    int total_masks = 0, distinct = 0, prev = -1;
    for (int v = 0; v < 8; v++) {
        sam2_amg_params p = *base;
        switch (v) {
        case 1: p.pred_iou_thresh = base->pred_iou_thresh + 0.1f; break;
        case 2: p.stability_score_thresh = 0.3f; break;
        case 3: p.stability_score_offset = 0.5f, p.stability_score_thresh = 0.5f; break;
        case 4: p.mask_threshold = 1.0f; break;
        case 5: p.box_nms_thresh = 0.4f, p.crop_nms_thresh = 0.5f; break;
        case 6: p.min_mask_region_area = 20; break;
        case 7: p.output_mode = SAM2_OUTPUT_COCO_RLE, p.stability_score_thresh = 0.1f; break;
        default: break;
        }
        sam2_amg_result *want = NULL, *got = NULL;
        CHECK_OK(sam2_amg_generate(ctx, base->crop_n_layers ? img : NULL, &p, &want));
        CHECK_OK(sam2_amg_from_candidates(c, &p, &got));
        char label[128];
        snprintf(label, sizeof label, "%s variant %d", name, v);
        if (want && got) {
            CHECK(same_result(want, got, label), "%s: candidates differ from sam2_amg_generate", label);
            total_masks += want->n_masks;
            if (getenv("SAM2_TEST_VERBOSE")) fprintf(stderr, "%s: %d masks\n", label, want->n_masks);
            distinct += want->n_masks != prev;
            prev = want->n_masks;
        }
        sam2_amg_result_free(want);
        sam2_amg_result_free(got);
        /* generate replaced the embedding with crops: set the whole image back */
        if (base->crop_n_layers) CHECK_OK(sam2_set_image(ctx, img));
    }
    /* the variants must actually change the result, or the test proves little */
    CHECK(total_masks > 0 && distinct >= 3, "%s: variants too alike (%d masks, %d distinct counts)", name, total_masks,
          distinct);

    sam2_amg_result *r = (sam2_amg_result *)1;
    sam2_amg_params p = *base;
    p.pred_iou_thresh = base->pred_iou_thresh - 0.1f;
    CHECK(sam2_amg_from_candidates(c, &p, &r) == SAM2_ERR_PARAM && !r, "%s: looser pred_iou_thresh accepted", name);
    CHECK(strstr(sam2_last_error(), "pred_iou_thresh") != NULL, "message: %s", sam2_last_error());
    p = *base, p.points_per_side++;
    CHECK(sam2_amg_from_candidates(c, &p, &r) == SAM2_ERR_PARAM, "%s: other points_per_side accepted", name);
    p = *base, p.crop_n_layers = !p.crop_n_layers;
    CHECK(sam2_amg_from_candidates(c, &p, &r) == SAM2_ERR_PARAM, "%s: other crop_n_layers accepted", name);
    p = *base, p.use_m2m = !p.use_m2m;
    CHECK(sam2_amg_from_candidates(c, &p, &r) == SAM2_ERR_PARAM, "%s: other use_m2m accepted", name);
    sam2_amg_candidates_free(c);
}

int main(void) {
    /* one thread: equality does not depend on it, and idle pool threads spin
     * against the other tests CI runs at the same time */
    openblas_set_num_threads(1);
    const char *golden = test_golden_dir();
    if (!golden) {
        printf("no golden data: candidate reuse skipped\n");
        return test_finish();
    }
    char pt[4096], yaml[4096], path[4096];
    snprintf(pt, sizeof pt, "%s/models/micro256.pt", golden);
    snprintf(yaml, sizeof yaml, "%s/models/micro256.yaml", golden);
    snprintf(path, sizeof path, "%s/images/synthetic.png", golden);
    sam2_model *model = NULL;
    sam2_ctx *ctx = NULL;
    image_file f = {0};
    CHECK_OK(sam2_model_load(pt, yaml, &model));
    if (model) CHECK_OK(sam2_ctx_new(model, 1, &ctx));
    CHECK_OK(image_file_read(path, &f));
    if (ctx && f.pixels) {
        /* a 200 x 150 window keeps the full-size upsampling cheap */
        sam2_image img = image_file_view(&f);
        img.width = img.width < 200 ? img.width : 200, img.height = img.height < 150 ? img.height : 150;
        CHECK_OK(sam2_set_image(ctx, &img));
        sam2_amg_params p = sam2_amg_default_params();
        p.points_per_side = 8, p.pred_iou_thresh = 0.5f, p.stability_score_thresh = 0.0f;
        check_sweep(ctx, &img, &p, "whole image");
        check_pool(ctx, &img, &p, 0.1f, "whole image");
        check_pool(ctx, &img, &p, 0.6f, "whole image");
        p.pred_iou_thresh = 0.0f, p.points_per_side = 6;
        check_sweep(ctx, &img, &p, "keep all");
        p.pred_iou_thresh = 0.5f, p.points_per_side = 4, p.crop_n_layers = 1;
        check_sweep(ctx, &img, &p, "crop1");
        check_pool(ctx, &img, &p, 0.0f, "crop1");
        CHECK_OK(sam2_set_image(ctx, &img));
        p.crop_n_layers = 0, p.use_m2m = 1, p.points_per_side = 6;
        check_sweep(ctx, &img, &p, "m2m");
        check_pool(ctx, &img, &p, 0.2f, "m2m");

        /* the memory cap is enforced, with a message naming the threshold */
        sam2_amg_candidates *c = (sam2_amg_candidates *)1;
        p.use_m2m = 0, p.pred_iou_thresh = 0.0f;
        CHECK(sam2_amg_candidates_new(ctx, NULL, &p, 100000, &c) == SAM2_ERR_NOMEM && !c, "cap not enforced");
        CHECK(strstr(sam2_last_error(), "pred_iou_thresh") != NULL, "message: %s", sam2_last_error());
    }
    image_file_free(&f);
    sam2_ctx_free(ctx);
    sam2_model_free(model);
    return test_finish();
}
