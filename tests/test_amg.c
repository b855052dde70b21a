/* test_amg.c - the automatic mask generator against the official
 * SAM2AutomaticMaskGenerator on every golden AMG case (masks matched one to
 * one by mask IoU >= 0.98; predicted IoU, stability, area, bbox, crop box and
 * COCO strings compared), the parameter check, and the empty-result case.
 * By default a quick subset covering every feature runs; SAM2_AMG_ALL=1 runs
 * all golden cases (micro1024 ones take minutes), SAM2_AMG_CASE=substring
 * only the matching ones. */
#include <cjson/cJSON.h>
#include <math.h>
#include <time.h>

#include "image_io.h"
#include "test.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static cJSON *read_json(const char *path) {
    char *s = test_read_file(path, NULL);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    free(s);
    return j;
}

/* ------------------------------------------------------- params check */

/* Expects sam2_amg_params_check to refuse p with a message naming `name`. */
static void expect_refused(const sam2_amg_params *p, const char *name) {
    sam2_status st = sam2_amg_params_check(p);
    CHECK(st == SAM2_ERR_PARAM, "params with bad %s accepted", name);
    CHECK(strstr(sam2_last_error(), name) != NULL, "message '%s' does not name %s", sam2_last_error(), name);
}

static void test_params_check(void) {
    sam2_amg_params d = sam2_amg_default_params(), p;
    CHECK_OK(sam2_amg_params_check(&d));
    CHECK(d.points_per_side == 32 && d.points_per_batch == 64 && d.crop_n_layers == 0, "defaults");
    CHECK(d.pred_iou_thresh == 0.8f && d.stability_score_thresh == 0.95f && d.stability_score_offset == 1.0f,
          "default thresholds");
    CHECK(d.box_nms_thresh == 0.7f && d.crop_nms_thresh == 0.7f && d.crop_overlap_ratio == (float)(512.0 / 1500.0),
          "default nms / overlap");
    CHECK(d.crop_n_points_downscale_factor == 1 && !d.point_grids && d.min_mask_region_area == 0 &&
              d.output_mode == SAM2_OUTPUT_BINARY_MASK && !d.use_m2m && d.multimask_output == 1,
          "default flags");
    CHECK(sam2_amg_params_check(NULL) == SAM2_ERR_PARAM, "NULL params accepted");

    p = d, p.points_per_side = 0;
    expect_refused(&p, "points_per_side");
    p = d, p.points_per_side = -3;
    expect_refused(&p, "points_per_side");
    p = d, p.points_per_batch = 0;
    expect_refused(&p, "points_per_batch");
    p = d, p.pred_iou_thresh = NAN;
    expect_refused(&p, "pred_iou_thresh");
    p = d, p.pred_iou_thresh = 1.5f;
    expect_refused(&p, "pred_iou_thresh");
    p = d, p.stability_score_thresh = -0.1f;
    expect_refused(&p, "stability_score_thresh");
    p = d, p.stability_score_offset = NAN;
    expect_refused(&p, "stability_score_offset");
    p = d, p.mask_threshold = INFINITY;
    expect_refused(&p, "mask_threshold");
    p = d, p.box_nms_thresh = 2.0f;
    expect_refused(&p, "box_nms_thresh");
    p = d, p.crop_nms_thresh = NAN;
    expect_refused(&p, "crop_nms_thresh");
    p = d, p.crop_n_layers = -1;
    expect_refused(&p, "crop_n_layers");
    p = d, p.crop_n_layers = 100;
    expect_refused(&p, "crop_n_layers");
    p = d, p.crop_overlap_ratio = 1.0f;
    expect_refused(&p, "crop_overlap_ratio");
    p = d, p.crop_overlap_ratio = NAN;
    expect_refused(&p, "crop_overlap_ratio");
    p = d, p.crop_n_points_downscale_factor = 0;
    expect_refused(&p, "crop_n_points_downscale_factor");
    p = d, p.points_per_side = 4, p.crop_n_layers = 3, p.crop_n_points_downscale_factor = 2; /* 4/8 -> 0 points */
    expect_refused(&p, "crop_n_points_downscale_factor");
    p = d, p.min_mask_region_area = -1;
    expect_refused(&p, "min_mask_region_area");
    p = d, p.output_mode = (sam2_output_mode)7;
    expect_refused(&p, "output_mode");
    p = d, p.use_m2m = 2;
    expect_refused(&p, "use_m2m");
    p = d, p.multimask_output = -1;
    expect_refused(&p, "multimask_output");

    static const float g0[] = {0.5f, 0.5f, 0.25f, 0.75f}, g1[] = {0.5f, 0.5f}, gbad[] = {0.5f, 1.5f};
    const float *grids[] = {g0, g1};
    const int sizes[] = {2, 1};
    p = d, p.points_per_side = 0, p.point_grids = grids, p.point_grid_sizes = sizes, p.n_point_grids = 1;
    CHECK_OK(sam2_amg_params_check(&p));
    p.points_per_side = 32; /* both given */
    expect_refused(&p, "points_per_side");
    p.points_per_side = 0, p.crop_n_layers = 1; /* one grid for two layers */
    expect_refused(&p, "point_grids");
    p.n_point_grids = 2;
    CHECK_OK(sam2_amg_params_check(&p));
    const float *bad[] = {gbad};
    p = d, p.points_per_side = 0, p.point_grids = bad, p.point_grid_sizes = sizes + 1, p.n_point_grids = 1;
    expect_refused(&p, "point_grids");
    const int zero[] = {0};
    p.point_grids = grids, p.point_grid_sizes = zero;
    expect_refused(&p, "point_grids");
    p = d, p.point_grid_sizes = sizes, p.n_point_grids = 1; /* sizes without grids */
    expect_refused(&p, "point_grids");
}

/* Clicks and crops per image: the whole image, then 4^i crops in layer i. */
static void test_work(void) {
    sam2_amg_params p = sam2_amg_default_params();
    int64_t clicks = 0;
    int crops = 0;
    CHECK_OK(sam2_amg_work(&p, &clicks, &crops));
    CHECK(clicks == 1024 && crops == 1, "defaults: %lld clicks, %d crops", (long long)clicks, crops);
    p.points_per_side = 16, p.crop_n_layers = 2, p.crop_n_points_downscale_factor = 2;
    CHECK_OK(sam2_amg_work(&p, &clicks, &crops));
    CHECK(clicks == 256 + 4 * 64 + 16 * 16 && crops == 21, "16, 2 layers, factor 2: %lld clicks, %d crops",
          (long long)clicks, crops);
    p.points_per_side = 7, p.crop_n_layers = 1; /* int(7 / 2) = 3 per side in layer 1 */
    CHECK_OK(sam2_amg_work(&p, &clicks, &crops));
    CHECK(clicks == 49 + 4 * 9 && crops == 5, "7, 1 layer, factor 2: %lld clicks", (long long)clicks);
    static const float g0[] = {0.5f, 0.5f, 0.25f, 0.75f}, g1[] = {0.5f, 0.5f};
    const float *grids[] = {g0, g1};
    const int sizes[] = {2, 1};
    p = sam2_amg_default_params();
    p.points_per_side = 0, p.point_grids = grids, p.point_grid_sizes = sizes, p.n_point_grids = 2, p.crop_n_layers = 1;
    CHECK_OK(sam2_amg_work(&p, &clicks, &crops));
    CHECK(clicks == 2 + 4 * 1 && crops == 5, "point grids: %lld clicks, %d crops", (long long)clicks, crops);
    p.n_point_grids = 1; /* one grid for two layers */
    CHECK(sam2_amg_work(&p, &clicks, &crops) == SAM2_ERR_PARAM, "invalid params counted");
}

/* ----------------------------------------------------- golden parity */

/* Fills params from the golden "params" object; grids go into storage the
 * caller frees (*grid_store). Returns 0 on an unknown key. */
static int parse_params(const cJSON *j, sam2_amg_params *p, float ***grid_store, int **size_store) {
    *p = sam2_amg_default_params();
    *grid_store = NULL, *size_store = NULL;
    for (const cJSON *it = j->child; it; it = it->next) {
        const char *k = it->string;
        double v = it->valuedouble;
        if (k[0] == '_' || !strcmp(k, "output_mode")) continue;
        if (!strcmp(k, "points_per_side")) p->points_per_side = cJSON_IsNull(it) ? 0 : it->valueint;
        else if (!strcmp(k, "points_per_batch")) p->points_per_batch = it->valueint;
        else if (!strcmp(k, "pred_iou_thresh")) p->pred_iou_thresh = (float)v;
        else if (!strcmp(k, "stability_score_thresh")) p->stability_score_thresh = (float)v;
        else if (!strcmp(k, "stability_score_offset")) p->stability_score_offset = (float)v;
        else if (!strcmp(k, "mask_threshold")) p->mask_threshold = (float)v;
        else if (!strcmp(k, "box_nms_thresh")) p->box_nms_thresh = (float)v;
        else if (!strcmp(k, "crop_n_layers")) p->crop_n_layers = it->valueint;
        else if (!strcmp(k, "crop_nms_thresh")) p->crop_nms_thresh = (float)v;
        else if (!strcmp(k, "crop_overlap_ratio")) p->crop_overlap_ratio = (float)v;
        else if (!strcmp(k, "crop_n_points_downscale_factor")) p->crop_n_points_downscale_factor = it->valueint;
        else if (!strcmp(k, "min_mask_region_area")) p->min_mask_region_area = it->valueint;
        else if (!strcmp(k, "use_m2m")) p->use_m2m = cJSON_IsTrue(it);
        else if (!strcmp(k, "multimask_output")) p->multimask_output = cJSON_IsTrue(it);
        else if (!strcmp(k, "point_grids")) {
            int ng = cJSON_GetArraySize(it);
            float **g = calloc((size_t)ng, sizeof *g);
            int *sz = calloc((size_t)ng, sizeof *sz);
            for (int i = 0; i < ng; i++) {
                const cJSON *grid = cJSON_GetArrayItem(it, i);
                sz[i] = cJSON_GetArraySize(grid);
                g[i] = malloc(sizeof(float) * 2 * (size_t)sz[i]);
                for (int q = 0; q < sz[i]; q++) {
                    const cJSON *pt = cJSON_GetArrayItem(grid, q);
                    g[i][2 * q] = (float)cJSON_GetArrayItem(pt, 0)->valuedouble;
                    g[i][2 * q + 1] = (float)cJSON_GetArrayItem(pt, 1)->valuedouble;
                }
            }
            p->point_grids = (const float *const *)g, p->point_grid_sizes = sz, p->n_point_grids = ng;
            *grid_store = g, *size_store = sz;
        } else {
            fprintf(stderr, "unknown AMG parameter '%s'\n", k);
            return 0;
        }
    }
    return 1;
}

/* Counts of a golden RLE record as int64 (malloc'd). */
static int64_t *json_counts(const cJSON *seg, int *n) {
    const cJSON *c = cJSON_GetObjectItem(seg, "counts");
    *n = cJSON_GetArraySize(c);
    int64_t *v = malloc(sizeof(int64_t) * ((size_t)*n + 1));
    int i = 0;
    for (const cJSON *it = c->child; it; it = it->next) v[i++] = (int64_t)it->valuedouble;
    return v;
}

/* Intersection over union of two decoded masks of n pixels. */
static double mask_iou(const uint8_t *a, const uint8_t *b, size_t n) {
    size_t inter = 0, uni = 0;
    for (size_t i = 0; i < n; i++) inter += a[i] & b[i], uni += a[i] | b[i];
    return uni ? (double)inter / (double)uni : 1.0;
}

/* Sum of the README's near-threshold counts of a case. */
static int near_threshold(const cJSON *stats) {
    const cJSON *n = cJSON_GetObjectItem(stats, "near_threshold_1e-3");
    int t = 0;
    for (const cJSON *it = n ? n->child : NULL; it; it = it->next) t += it->valueint;
    return t;
}

/* The generator's filter counts against the reference's: exact, except
 * for as many decisions as the golden stats count near a threshold. */
static void check_filter_counts(const char *label, const cJSON *stats, const sam2_amg_result *r, int near) {
    const sam2_amg_filter_counts *f = &r->filters;
    const cJSON *edge = cJSON_GetObjectItem(stats, "crop_edge_filter"), *nms = cJSON_GetObjectItem(stats, "nms");
    int off_edge = 0, box_nms = 0, crop_nms = -1;
    for (const cJSON *e = edge ? edge->child : NULL; e; e = e->next)
        off_edge += cJSON_GetObjectItem(e, "n_in")->valueint - cJSON_GetObjectItem(e, "n_removed")->valueint;
    /* one NMS per crop, then one across the crops when there are several */
    const int n_nms = cJSON_GetArraySize(nms), n_crops = n_nms > 1 ? n_nms - 1 : n_nms;
    for (int i = 0; i < n_crops; i++) box_nms += cJSON_GetObjectItem(cJSON_GetArrayItem(nms, i), "n_kept")->valueint;
    crop_nms = n_nms > 1 ? cJSON_GetObjectItem(cJSON_GetArrayItem(nms, n_nms - 1), "n_kept")->valueint : box_nms;
    const int want[6] = {cJSON_GetObjectItem(stats, "candidates_scored")->valueint,
                         cJSON_GetObjectItem(stats, "passed_pred_iou")->valueint,
                         cJSON_GetObjectItem(stats, "passed_stability")->valueint, off_edge, box_nms, crop_nms};
    const int got[6] = {f->candidates, f->above_pred_iou, f->above_stability, f->off_crop_edge, f->after_box_nms,
                        f->after_crop_nms};
    static const char *names[6] = {"candidates", "above_pred_iou", "above_stability", "off_crop_edge", "after_box_nms",
                                   "after_crop_nms"};
    CHECK(got[0] == want[0], "%s: %d candidates counted, the reference scored %d", label, got[0], want[0]);
    for (int i = 1; i < 6; i++)
        CHECK(abs(got[i] - want[i]) <= near, "%s: filter count %s %d, the reference's %d (near-threshold %d)", label,
              names[i], got[i], want[i], near);
    CHECK(f->after_crop_nms == r->n_masks, "%s: %d masks, %d after crop NMS", label, r->n_masks, f->after_crop_nms);
}

/* 1 when every pixel where our mask m and the reference's g differ has an
 * upsampled logit within 1e-4 of the mask threshold in our own prediction
 * for m's click: a decision float rounding can flip, which the golden stats
 * do not count. Only for whole-image masks without hole filling or m2m,
 * whose logits the predictor reproduces on the context's image. */
static int differ_at_threshold(sam2_ctx *ctx, const sam2_amg_params *p, const sam2_amg_mask *m, const uint8_t *g,
                               const uint8_t *ours, int W, int H) {
    if (p->crop_n_layers != 0 || p->use_m2m || p->min_mask_region_area > 0) return 0;
    const int one = 1;
    sam2_prompt pr = sam2_prompt_default();
    pr.points = m->point, pr.labels = &one, pr.n_points = 1, pr.multimask = p->multimask_output;
    sam2_predict_params pp = sam2_predict_default_params();
    pp.want_masks = 0, pp.want_logits = 1;
    sam2_prediction out;
    memset(&out, 0, sizeof out);
    if (sam2_predict(ctx, &pr, &pp, &out) != SAM2_OK) return 0;
    int which = -1, ok = 1;
    for (int c = 0; c < out.n_masks; c++)
        if (fabsf(out.iou[c] - m->predicted_iou) < 1e-5f) which = c;
    const float *lg = which >= 0 ? out.logits + (size_t)which * W * H : NULL;
    for (size_t q = 0; lg && q < (size_t)W * H; q++)
        if (g[q] != ours[q]) ok &= fabsf(lg[q] - p->mask_threshold) < 1e-4f && (lg[q] > p->mask_threshold) == ours[q];
    sam2_prediction_free(&out);
    return lg && ok;
}

/* Runs one golden case and compares. */
static void run_case(sam2_ctx *ctx, const sam2_image *img, const char *label, const char *path, int force_no_cc) {
    cJSON *j = read_json(path);
    CHECK(j != NULL, "cannot read %s", path);
    if (!j) return;
    const cJSON *stats = cJSON_GetObjectItem(j, "stats"), *gm = cJSON_GetObjectItem(j, "masks");
    sam2_amg_params p;
    float **grids;
    int *sizes;
    int ok = parse_params(cJSON_GetObjectItem(j, "params"), &p, &grids, &sizes);
    CHECK(ok, "%s: parameters not understood", label);
    /* minarea100 was made on CPU where the reference skips hole filling:
     * it equals a run without it */
    if (force_no_cc) p.min_mask_region_area = 0;
    sam2_amg_result *res = NULL;
    double t0 = now_s();
    sam2_status st = sam2_amg_generate(ctx, img, &p, &res);
    double dt = now_s() - t0;
    CHECK(st == SAM2_OK, "%s: generate failed: %s", label, sam2_last_error());
    if (st != SAM2_OK) goto done;
    int64_t work_clicks = 0;
    CHECK_OK(sam2_amg_work(&p, &work_clicks, NULL));
    CHECK(work_clicks == res->filters.clicks, "%s: sam2_amg_work counts %lld clicks, the generator decoded %d", label,
          (long long)work_clicks, res->filters.clicks);
    const int ng = cJSON_GetArraySize(gm), nr = res->n_masks, W = img->width, H = img->height;
    const size_t npx = (size_t)W * H;
    uint8_t *mg = malloc(npx * (size_t)(ng ? ng : 1)), *mr = malloc(npx * (size_t)(nr ? nr : 1));
    for (int i = 0; i < ng; i++) {
        int n;
        int64_t *c = json_counts(cJSON_GetObjectItem(cJSON_GetArrayItem(gm, i), "segmentation"), &n);
        CHECK_OK(sam2_rle_decode(c, n, H, W, mg + npx * i));
        free(c);
    }
    for (int i = 0; i < nr; i++) CHECK_OK(sam2_rle_decode(res->masks[i].counts, res->masks[i].n_counts, H, W, mr + npx * i));
    /* greedy one-to-one matching by decreasing IoU >= 0.98 */
    int *match_g = malloc(sizeof(int) * (size_t)(ng + 1)), *match_r = malloc(sizeof(int) * (size_t)(nr + 1));
    double *iou = malloc(sizeof(double) * (size_t)(ng * nr + 1));
    for (int i = 0; i < ng; i++) match_g[i] = -1;
    for (int k = 0; k < nr; k++) match_r[k] = -1;
    for (int i = 0; i < ng; i++)
        for (int k = 0; k < nr; k++) iou[i * nr + k] = mask_iou(mg + npx * i, mr + npx * k, npx);
    int matched = 0, same_order = 0;
    for (;;) {
        int bi = -1, bk = -1;
        double best = 0.98;
        for (int i = 0; i < ng; i++)
            for (int k = 0; k < nr; k++)
                if (match_g[i] < 0 && match_r[k] < 0 && iou[i * nr + k] >= best) best = iou[i * nr + k], bi = i, bk = k;
        if (bi < 0) break;
        match_g[bi] = bk, match_r[bk] = bi, matched++;
        same_order += bi == bk;
    }
    double d_iou = 0, d_stab = 0, min_iou = 1;
    long max_px = 0; /* most pixels differing in a matched pair */
    const int near = near_threshold(stats);
    int at_threshold = 0; /* matched masks differing only where our logit is at the threshold */
    int same_area = 0, same_bbox = 0, same_crop = 0, same_coco = 0, same_point = 0, same_counts = 0, identical = 0;
    for (int i = 0; i < ng; i++) {
        int k = match_g[i];
        if (k < 0) continue;
        const cJSON *g = cJSON_GetArrayItem(gm, i);
        const sam2_amg_mask *m = &res->masks[k];
        min_iou = fmin(min_iou, iou[i * nr + k]);
        size_t diff = 0;
        for (size_t q = 0; q < npx; q++) diff += mg[npx * i + q] != mr[npx * k + q];
        if ((long)diff > max_px) max_px = (long)diff;
        identical += iou[i * nr + k] == 1.0;
        if (diff > 0 && near == 0 && differ_at_threshold(ctx, &p, m, mg + npx * i, mr + npx * k, W, H)) at_threshold++;
        d_iou = fmax(d_iou, fabs(cJSON_GetObjectItem(g, "predicted_iou")->valuedouble - m->predicted_iou));
        double gs = cJSON_GetObjectItem(g, "stability_score")->valuedouble;
        if (!(isnan(gs) && isnan(m->stability_score))) d_stab = fmax(d_stab, fabs(gs - m->stability_score));
        same_area += (int64_t)cJSON_GetObjectItem(g, "area")->valuedouble == m->area;
        int sb = 1, sc = 1;
        for (int q = 0; q < 4; q++) {
            sb &= (float)cJSON_GetArrayItem(cJSON_GetObjectItem(g, "bbox"), q)->valuedouble == m->bbox[q];
            sc &= (float)cJSON_GetArrayItem(cJSON_GetObjectItem(g, "crop_box"), q)->valuedouble == m->crop_box[q];
        }
        same_bbox += sb, same_crop += sc;
        const cJSON *gp = cJSON_GetArrayItem(cJSON_GetObjectItem(g, "point_coords"), 0);
        same_point += (float)cJSON_GetArrayItem(gp, 0)->valuedouble == m->point[0] &&
                      (float)cJSON_GetArrayItem(gp, 1)->valuedouble == m->point[1];
        int gn;
        int64_t *gc = json_counts(cJSON_GetObjectItem(g, "segmentation"), &gn);
        same_counts += gn == m->n_counts && !memcmp(gc, m->counts, sizeof(int64_t) * (size_t)gn);
        free(gc);
        char *s = NULL;
        CHECK_OK(sam2_rle_to_coco_string(m->counts, m->n_counts, &s));
        const char *gs_coco = cJSON_GetObjectItem(cJSON_GetObjectItem(g, "segmentation_coco"), "counts")->valuestring;
        same_coco += s && !strcmp(s, gs_coco);
        free(s);
    }
    check_filter_counts(label, stats, res, near);
    printf("%-34s golden %3d  ours %3d  matched %3d  same-order %3d  identical %3d (max %ld px differ)  min IoU %.6f  "
           "max|d iou| %.2e  max|d stab| %.2e  same area/bbox/crop/point/counts/coco %d/%d/%d/%d/%d/%d  near %d  at-threshold %d  %.2fs\n",
           label, ng, nr, matched, same_order, identical, max_px, matched ? min_iou : 0.0, d_iou, d_stab, same_area, same_bbox,
           same_crop, same_point, same_counts, same_coco, near, at_threshold, dt);
    /* >= 99% matched both ways; unmatched masks only where the README counts
     * near-threshold decisions */
    const int unmatched = (ng - matched) + (nr - matched);
    CHECK(near > 0 ? unmatched <= near : (matched >= 0.99 * ng && matched >= 0.99 * nr),
          "%s: %d golden / %d ours / %d matched (near-threshold %d)", label, ng, nr, matched, near);
    CHECK(d_iou <= 1e-4, "%s: predicted_iou differs by %g", label, d_iou);
    CHECK(d_stab <= 1e-2, "%s: stability_score differs by %g", label, d_stab);
    CHECK(same_crop == matched, "%s: crop_box differs (%d of %d same)", label, same_crop, matched);
    CHECK(same_point == matched, "%s: point_coords differ (%d of %d same)", label, same_point, matched);
    CHECK(same_area >= identical && same_bbox >= identical && same_coco >= identical && same_counts >= identical,
          "%s: identical masks with different area/bbox/coco/counts (%d/%d/%d/%d of %d)", label, same_area, same_bbox,
          same_coco, same_counts, identical);
    CHECK(identical + at_threshold >= matched - (near > 0 ? near : 0),
          "%s: only %d of %d matched masks are pixel-identical (%d more differ only at the threshold)", label,
          identical, matched, at_threshold);
    free(mg), free(mr), free(match_g), free(match_r), free(iou);
done:
    sam2_amg_result_free(res);
    if (grids)
        for (int i = 0; i < p.n_point_grids; i++) free(grids[i]);
    free(grids), free(sizes);
    cJSON_Delete(j);
}

/* The cases run by default (every feature, about a minute under the
 * sanitizers on an idle machine); SAM2_AMG_ALL=1 runs all 42. */
static int is_quick(const char *label) {
    static const char *quick[] = {"micro256/synthetic/crop1", "micro256/synthetic/m2m", "micro256/synthetic/single",
                                  "micro256/synthetic/minarea100", "micro256/synthetic/pps16_ppb37",
                                  "micro256/synthetic/grid", "micro256/camera/minarea100_cc", "micro256/camera/grid",
                                  "micro256/coins/crop1", "micro256/coins/minarea100_cc", "micro256/coins/grid"};
    for (size_t i = 0; i < sizeof quick / sizeof *quick; i++)
        if (!strncmp(label, quick[i], strlen(quick[i]))) return 1;
    return 0;
}

/* The cases of one model / image. */
static void run_image(const char *golden, const char *model_name, const char *image, sam2_ctx *ctx, int all) {
    char path[4096];
    snprintf(path, sizeof path, "%s/images/%s.decoded.png", golden, image);
    if (!test_file_exists(path)) snprintf(path, sizeof path, "%s/images/%s.png", golden, image);
    image_file f;
    sam2_status st = image_file_read(path, &f);
    CHECK(st == SAM2_OK, "cannot read %s: %s", path, sam2_last_error());
    if (st != SAM2_OK) return;
    sam2_image img = image_file_view(&f);
    static const char *cases[] = {"default", "crop1", "crop2", "m2m", "single", "minarea100",
                                  "minarea100_cc", "pps16_ppb37", "grid"};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        snprintf(path, sizeof path, "%s/cases/%s/%s/amg_%s.json", golden, model_name, image, cases[c]);
        if (!test_file_exists(path)) continue;
        char label[256];
        snprintf(label, sizeof label, "%s/%s/%s", model_name, image, cases[c]);
        const char *only = getenv("SAM2_AMG_CASE");
        if (only && *only ? !strstr(label, only) : !all && !is_quick(label)) continue;
        run_case(ctx, &img, label, path, !strcmp(cases[c], "minarea100"));
    }
    image_file_free(&f);
}

/* An 8-bit RGB image over px (W * H * 3 bytes) filled with a byte ramp of
 * the given step. */
static sam2_image ramp_image(uint8_t *px, int W, int H, int step) {
    for (int i = 0; i < W * H * 3; i++) px[i] = (uint8_t)(i * step);
    return (sam2_image){W, H, W * 3, 3, 8, px};
}

/* An image where nothing passes gives an empty result, with and without crops. */
static void test_empty(sam2_ctx *ctx) {
    enum { W = 40, H = 30 };
    static uint8_t px[W * H * 3];
    sam2_image img = ramp_image(px, W, H, 7);
    sam2_amg_params p = sam2_amg_default_params();
    p.points_per_side = 4, p.pred_iou_thresh = 1.0f;
    for (int layers = 0; layers <= 1; layers++) {
        p.crop_n_layers = layers;
        sam2_amg_result *r = NULL;
        CHECK_OK(sam2_amg_generate(ctx, &img, &p, &r));
        CHECK(r && r->n_masks == 0 && r->width == W && r->height == H, "empty result expected (%d layers)", layers);
        sam2_amg_result_free(r);
    }
    sam2_amg_result *r = (sam2_amg_result *)1;
    p.points_per_batch = 0;
    CHECK(sam2_amg_generate(ctx, &img, &p, &r) == SAM2_ERR_PARAM && r == NULL, "bad params must fail, *out NULL");
}

/* A side shorter than a layer's crops per side leaves that layer's last
 * crops without pixels: they give no masks, and the rest of the image its
 * own (generate, pool with zoomed crops, candidates re-filtered). */
static void test_thin(sam2_ctx *ctx) {
    enum { W = 40, H = 3 };
    static uint8_t px[W * H * 3];
    sam2_image img = ramp_image(px, W, H, 13);
    sam2_amg_params p = sam2_amg_default_params();
    p.points_per_side = 2, p.pred_iou_thresh = 0.0f, p.stability_score_thresh = 0.0f, p.crop_n_layers = 2;
    sam2_amg_result *r = NULL, *pool = NULL, *r2 = NULL;
    CHECK_OK(sam2_amg_generate(ctx, &img, &p, &r));
    int from_layers = 0;
    for (int i = 0; r && i < r->n_masks; i++) {
        const float *cb = r->masks[i].crop_box;
        CHECK(cb[2] > 0 && cb[3] > 0 && cb[0] + cb[2] <= W && cb[1] + cb[3] <= H, "mask %d from crop %g,%g %gx%g", i,
              cb[0], cb[1], cb[2], cb[3]);
        from_layers += cb[2] < W;
    }
    CHECK(r && r->n_masks > 0 && from_layers > 0, "thin image: masks from the crops expected");
    p.crop_n_layers = 0;
    CHECK_OK(sam2_amg_generate_pool_zoomed(ctx, &img, &p, 2, 0.0f, &r2, &pool));
    CHECK(pool && pool->n_masks > 0, "thin image: pool expected");
    sam2_amg_result_free(r2), sam2_amg_result_free(pool);
    p.crop_n_layers = 2;
    sam2_amg_candidates *cands = NULL;
    CHECK_OK(sam2_amg_candidates_new(ctx, &img, &p, 0, &cands));
    r2 = NULL;
    if (cands) CHECK_OK(sam2_amg_from_candidates(cands, &p, &r2));
    CHECK(r && r2 && r2->n_masks == r->n_masks, "thin image: re-filtered candidates give %d masks, not %d",
          r2 ? r2->n_masks : -1, r ? r->n_masks : -1);
    sam2_amg_candidates_free(cands);
    sam2_amg_result_free(r), sam2_amg_result_free(r2);
}

static int same_counts(const sam2_amg_filter_counts *a, const sam2_amg_filter_counts *b) {
    return a->clicks == b->clicks && a->candidates == b->candidates && a->above_pred_iou == b->above_pred_iou &&
           a->above_stability == b->above_stability && a->off_crop_edge == b->off_crop_edge &&
           a->after_box_nms == b->after_box_nms && a->after_crop_nms == b->after_crop_nms &&
           (a->max_pred_iou == b->max_pred_iou || (isnan(a->max_pred_iou) && isnan(b->max_pred_iou))) &&
           (a->max_stability == b->max_stability || (isnan(a->max_stability) && isnan(b->max_stability)));
}

/* The filter counts are the same whichever way the generator ran: alone,
 * with the pool's looser filters beside it (and zoomed crops it does not
 * count), or re-filtering stored candidates; and they add up. */
static void test_filter_counts(sam2_ctx *ctx) {
    enum { W = 64, H = 48 };
    static uint8_t px[W * H * 3];
    sam2_image img = ramp_image(px, W, H, 5);
    sam2_amg_params p = sam2_amg_default_params();
    p.points_per_side = 6, p.crop_n_layers = 1;
    const float preds[3] = {0.0f, 0.45f, 0.52f}, stabs[3] = {0.0f, 0.5f, 0.95f};
    sam2_amg_params loose = p;
    loose.pred_iou_thresh = 0.45f; /* candidates at or below it are not stored, but counted */
    sam2_amg_candidates *cands = NULL;
    CHECK_OK(sam2_amg_candidates_new(ctx, &img, &loose, 0, &cands));
    for (int k = 0; k < 3; k++) {
        p.pred_iou_thresh = preds[k], p.stability_score_thresh = stabs[k];
        sam2_amg_result *r = NULL, *r2 = NULL, *pool = NULL, *r3 = NULL;
        CHECK_OK(sam2_amg_generate(ctx, &img, &p, &r));
        if (!r) continue;
        const sam2_amg_filter_counts *f = &r->filters;
        printf("filter counts %d: %d %d %d %d %d %d %d, highest %g %g\n", k, f->clicks, f->candidates, f->above_pred_iou,
               f->above_stability, f->off_crop_edge, f->after_box_nms, f->after_crop_nms, f->max_pred_iou,
               f->max_stability);
        CHECK(f->clicks == 36 + 4 * 36 && f->candidates == 3 * f->clicks, "setting %d: %d clicks, %d candidates", k,
              f->clicks, f->candidates);
        CHECK(f->candidates >= f->above_pred_iou && f->above_pred_iou >= f->above_stability &&
                  f->above_stability >= f->off_crop_edge && f->off_crop_edge >= f->after_box_nms &&
                  f->after_box_nms >= f->after_crop_nms && f->after_crop_nms == r->n_masks,
              "setting %d: counts do not nest: %d %d %d %d %d %d, %d masks", k, f->candidates, f->above_pred_iou,
              f->above_stability, f->off_crop_edge, f->after_box_nms, f->after_crop_nms, r->n_masks);
        CHECK(k > 0 || (f->above_pred_iou == f->candidates && f->above_stability == f->candidates),
              "no thresholds: every candidate passes (%d, %d of %d)", f->above_pred_iou, f->above_stability,
              f->candidates);
        CHECK(f->max_pred_iou > 0.0f && (k != 2 || (f->above_pred_iou < f->candidates && f->above_stability < f->above_pred_iou)),
              "setting %d: highest IoU %g", k, f->max_pred_iou);
        CHECK_OK(sam2_amg_generate_pool_zoomed(ctx, &img, &p, 2, 0.2f, &r2, &pool));
        CHECK(r2 && same_counts(f, &r2->filters), "setting %d: the pool's run counts otherwise", k);
        if (cands && k > 0) CHECK_OK(sam2_amg_from_candidates(cands, &p, &r3));
        CHECK(k == 0 || (r3 && same_counts(f, &r3->filters)), "setting %d: re-filtered candidates count otherwise", k);
        sam2_amg_result_free(r), sam2_amg_result_free(r2), sam2_amg_result_free(pool), sam2_amg_result_free(r3);
    }
    sam2_amg_candidates_free(cands);
}

/* The progress callback: after every batch, counts that grow to the run's
 * clicks (sam2_amg_work's; with zoomed crops theirs too); a nonzero return
 * stops the run with SAM2_ERR_CANCELLED and the context still works. */
typedef struct progress_log {
    int calls, stop_at, monotonic;
    int64_t last, total;
} progress_log;

static int on_progress(void *user, int64_t done, int64_t total) {
    progress_log *l = user;
    l->monotonic &= done > l->last && done <= total && (l->calls == 0 || total == l->total);
    l->last = done, l->total = total, l->calls++;
    return l->stop_at && l->calls >= l->stop_at;
}

static void test_progress(sam2_ctx *ctx) {
    enum { W = 64, H = 48 };
    static uint8_t px[W * H * 3];
    sam2_image img = ramp_image(px, W, H, 9);
    sam2_amg_params p = sam2_amg_default_params();
    p.points_per_side = 6, p.crop_n_layers = 1, p.points_per_batch = 10;
    int64_t clicks = 0;
    CHECK_OK(sam2_amg_work(&p, &clicks, NULL));
    progress_log l = {0, 0, 1, 0, 0};
    sam2_ctx_set_progress(ctx, on_progress, &l);
    sam2_amg_result *r = NULL, *pool = NULL;
    CHECK_OK(sam2_amg_generate(ctx, &img, &p, &r));
    /* 36 clicks per crop in batches of 10: 4 batches in each of 5 crops */
    CHECK(l.monotonic && l.calls == 20 && l.last == clicks && l.total == clicks,
          "progress: %d calls, last %lld of %lld, %lld clicks", l.calls, (long long)l.last, (long long)l.total,
          (long long)clicks);
    sam2_amg_result_free(r), r = NULL;
    progress_log z = {0, 0, 1, 0, 0};
    sam2_ctx_set_progress(ctx, on_progress, &z);
    p.crop_n_layers = 0;
    CHECK_OK(sam2_amg_generate_pool_zoomed(ctx, &img, &p, 1, 0.2f, &r, &pool));
    CHECK(z.monotonic && z.last == 5 * 36 && z.total == 5 * 36, "zoomed pool: last %lld of %lld", (long long)z.last,
          (long long)z.total);
    sam2_amg_result_free(r), sam2_amg_result_free(pool), r = NULL;
    progress_log s = {0, 2, 1, 0, 0};
    sam2_ctx_set_progress(ctx, on_progress, &s);
    r = (sam2_amg_result *)1;
    CHECK(sam2_amg_generate(ctx, &img, &p, &r) == SAM2_ERR_CANCELLED && r == NULL && s.calls == 2 &&
              strstr(sam2_last_error(), "after 20 of 36 clicks"),
          "cancel after the second batch: %s (%d calls)", sam2_last_error(), s.calls);
    sam2_ctx_set_progress(ctx, NULL, NULL);
    r = NULL;
    CHECK_OK(sam2_amg_generate(ctx, &img, &p, &r)); /* the context goes on */
    CHECK(r && r->filters.clicks == 36, "after a cancel: %d clicks", r ? r->filters.clicks : -1);
    sam2_amg_result_free(r);
}

int main(void) {
    test_params_check();
    test_work();
    const char *golden = test_golden_dir();
    if (!golden) {
        printf("no golden data: AMG parity skipped\n");
        return test_finish();
    }
    const int all = getenv("SAM2_AMG_ALL") && atoi(getenv("SAM2_AMG_ALL"));
    static const char *models[] = {"micro256", "micro1024"};
    for (int mi = 0; mi < 2; mi++) {
        char pt[4096], yaml[4096];
        snprintf(pt, sizeof pt, "%s/models/%s.pt", golden, models[mi]);
        snprintf(yaml, sizeof yaml, "%s/models/%s.yaml", golden, models[mi]);
        sam2_model *model = NULL;
        sam2_ctx *ctx = NULL;
        CHECK_OK(sam2_model_load(pt, yaml, &model));
        if (model) CHECK_OK(sam2_ctx_new(model, 0, &ctx));
        if (ctx) {
            if (mi == 0) test_empty(ctx), test_thin(ctx), test_filter_counts(ctx), test_progress(ctx);
            static const char *images[] = {"truck", "groceries", "camera", "coins", "synthetic"};
            for (int i = 0; i < 5; i++) run_image(golden, models[mi], images[i], ctx, all);
        }
        sam2_ctx_free(ctx);
        sam2_model_free(model);
    }
    return test_finish();
}
