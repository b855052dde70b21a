/* amg_gap_fill.c - after the grid pass, sizeable regions no mask covers get
 * prompts of their own: one click at the point of each region farthest from
 * any mask and from the image border (where the model sees the region best),
 * judged by the model's own predicted IoU and stability, and kept only when
 * the mask mostly covers what was uncovered. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "amg_gap_fill.h"
#include "edge_map.h"
#include "error.h"
#include "model.h"
#include "postprocess.h"
#include "rle.h"

sam2_gap_fill_params sam2_gap_fill_default_params(void) {
    sam2_gap_fill_params g;
    /* tuned on shapes-dev (see README): the new mask must be mostly new, so
     * the model's own scores can be trusted lower than the grid's */
    g.rounds = 4;
    g.min_region_frac = 0.002f;
    g.max_points = 16;
    g.pred_iou_thresh = 0.1f;
    g.stability_score_thresh = 0.3f;
    g.min_new_frac = 0.6f;
    g.min_edge = 1.5f;
    /* under large masks: chosen on shapes-dev's low-contrast scenes */
    g.under_frac = 0.25f;
    g.under_support = 8;
    g.under_min_edge = 3.0f;
    return g;
}

sam2_status gap_fill_params_check(const sam2_gap_fill_params *g) {
    SAM2_TRY(sam2_check_range("gap filling", "rounds", g->rounds, 0, 16));
    SAM2_TRY(sam2_check_range("gap filling", "max_points", g->max_points, 1, 4096));
    SAM2_TRY(sam2_check_range("gap filling", "min_region_frac", g->min_region_frac, 0, 1));
    SAM2_TRY(sam2_check_range("gap filling", "min_new_frac", g->min_new_frac, 0, 1));
    SAM2_TRY(sam2_check_range("gap filling", "pred_iou_thresh", g->pred_iou_thresh, 0, 1));
    SAM2_TRY(sam2_check_range("gap filling", "stability_score_thresh", g->stability_score_thresh, 0, 1));
    SAM2_TRY(sam2_check_range("gap filling", "min_edge", g->min_edge, 0, 1e6));
    SAM2_TRY(sam2_check_range("gap filling", "under_frac", g->under_frac, 0, 1));
    SAM2_TRY(sam2_check_range("gap filling", "under_support", g->under_support, 1, 1 << 20));
    SAM2_TRY(sam2_check_range("gap filling", "under_min_edge", g->under_min_edge, 0, 1e6));
    return SAM2_OK;
}

/* The pixels of a column-major RLE not yet in covered (h, w row-major);
 * marks them in mark when it is not NULL. */
static int64_t coverage_walk(const int64_t *counts, int n_counts, int w, int h, const uint8_t *covered, uint8_t *mark) {
    int64_t p = 0, fresh = 0;
    for (int i = 0; i < n_counts; i++) {
        if (i % 2)
            for (int64_t q = p; q < p + counts[i] && q < (int64_t)w * h; q++) {
                const int64_t at = (q % h) * w + q / h;
                fresh += !covered[at];
                if (mark) mark[at] = 1;
            }
        p += counts[i];
    }
    return fresh;
}

void gap_coverage_add(const int64_t *counts, int n_counts, int w, int h, uint8_t *covered) {
    coverage_walk(counts, n_counts, w, h, covered, covered);
}

int64_t gap_uncovered(const int64_t *counts, int n_counts, int w, int h, const uint8_t *covered) {
    return coverage_walk(counts, n_counts, w, h, covered, NULL);
}

/* Two-pass 3-4 chamfer distance to the nearest covered pixel or the border. */
static void chamfer(const uint8_t *covered, int w, int h, int32_t *d) {
    const int32_t big = INT32_MAX / 4;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int32_t v = covered[y * w + x] ? 0 : (x == 0 || y == 0 || x == w - 1 || y == h - 1) ? 3 : big;
            if (v) {
                if (x > 0 && d[y * w + x - 1] + 3 < v) v = d[y * w + x - 1] + 3;
                if (y > 0) {
                    const int32_t *up = d + (y - 1) * w;
                    if (up[x] + 3 < v) v = up[x] + 3;
                    if (x > 0 && up[x - 1] + 4 < v) v = up[x - 1] + 4;
                    if (x < w - 1 && up[x + 1] + 4 < v) v = up[x + 1] + 4;
                }
            }
            d[y * w + x] = v;
        }
    for (int y = h - 1; y >= 0; y--)
        for (int x = w - 1; x >= 0; x--) {
            int32_t v = d[y * w + x];
            if (!v) continue;
            if (x < w - 1 && d[y * w + x + 1] + 3 < v) v = d[y * w + x + 1] + 3;
            if (y < h - 1) {
                const int32_t *dn = d + (y + 1) * w;
                if (dn[x] + 3 < v) v = dn[x] + 3;
                if (x < w - 1 && dn[x + 1] + 4 < v) v = dn[x + 1] + 4;
                if (x > 0 && dn[x - 1] + 4 < v) v = dn[x - 1] + 4;
            }
            d[y * w + x] = v;
        }
}

static int cmp_region_area(const void *a, const void *b) {
    const gap_region *x = a, *y = b;
    return x->area < y->area ? 1 : x->area > y->area ? -1 : (x->y * 1000003 + x->x) - (y->y * 1000003 + y->x);
}

sam2_status gap_find_regions(const uint8_t *covered, int w, int h, int64_t min_area, int max_regions,
                             gap_region *out, int *n_out) {
    *n_out = 0;
    const size_t np = (size_t)w * h;
    int32_t *d = malloc(sizeof *d * np), *label = calloc(np, sizeof *label), *stack = malloc(sizeof *stack * np);
    gap_region *all = NULL;
    int n_all = 0, cap = 0;
    sam2_status st = d && label && stack ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory finding uncovered regions");
    if (st == SAM2_OK) chamfer(covered, w, h, d);
    for (size_t s = 0; s < np && st == SAM2_OK; s++) {
        if (covered[s] || label[s]) continue;
        /* flood one 4-connected uncovered component, tracking its farthest point */
        gap_region r = {0, 0, 0, 0};
        int top = 0;
        stack[top++] = (int32_t)s;
        label[s] = 1;
        while (top) {
            const int32_t p = stack[--top];
            const int x = p % w, y = p / w;
            r.area++;
            if (d[p] > r.dist) r.dist = d[p], r.x = x, r.y = y;
            const int32_t nb[4] = {x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1};
            for (int k = 0; k < 4; k++)
                if (nb[k] >= 0 && !covered[nb[k]] && !label[nb[k]]) label[nb[k]] = 1, stack[top++] = nb[k];
        }
        if (r.area < min_area) continue;
        if (n_all == cap) {
            cap = cap ? 2 * cap : 64;
            gap_region *g = realloc(all, sizeof *g * (size_t)cap);
            if (!g) {
                st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory listing uncovered regions");
                break;
            }
            all = g;
        }
        all[n_all++] = r;
    }
    if (st == SAM2_OK) {
        if (n_all > 1) qsort(all, (size_t)n_all, sizeof *all, cmp_region_area); /* all is NULL when none */
        *n_out = n_all < max_regions ? n_all : max_regions;
        if (*n_out) memcpy(out, all, sizeof *out * (size_t)*n_out);
    }
    free(d), free(label), free(stack), free(all);
    return st;
}

/* Appends one record to r (takes counts). */
static sam2_status push_record(sam2_amg_result *r, int64_t *counts, int n_counts, const uint8_t *mask, float iou,
                               float stab, const float *point) {
    sam2_amg_mask *m = realloc(r->masks, sizeof *m * ((size_t)r->n_masks + 1));
    if (!m) {
        free(counts);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory adding a gap-fill mask");
    }
    r->masks = m;
    m = &r->masks[r->n_masks++];
    memset(m, 0, sizeof *m);
    m->counts = counts, m->n_counts = n_counts;
    m->area = rle_area(counts, n_counts);
    int x0 = r->width, y0 = r->height, x1 = -1, y1 = -1;
    for (int y = 0; y < r->height; y++)
        for (int x = 0; x < r->width; x++)
            if (mask[(size_t)y * r->width + x]) {
                x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0, y1 = y;
            }
    if (x1 >= 0) m->bbox[0] = (float)x0, m->bbox[1] = (float)y0, m->bbox[2] = (float)(x1 - x0), m->bbox[3] = (float)(y1 - y0);
    m->predicted_iou = iou, m->stability_score = stab;
    m->point[0] = point[0], m->point[1] = point[1];
    m->crop_box[2] = (float)r->width, m->crop_box[3] = (float)r->height;
    m->source = SAM2_MASK_GAP_FILL;
    return SAM2_OK;
}

sam2_status sam2_amg_gap_fill(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *p,
                              const sam2_gap_fill_params *g, sam2_amg_result *res) {
    if (!ctx || !p || !g || !res) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_gap_fill: NULL argument");
    if (!ctx->has_image) return SAM2_FAIL(SAM2_ERR_STATE, "gap filling needs the image's embedding in the context");
    if (ctx->orig_w != res->width || ctx->orig_h != res->height)
        return SAM2_FAIL(SAM2_ERR_STATE, "gap filling: the context holds a %dx%d image, the masks are %dx%d (a crop's "
                         "embedding? set the whole image first)", ctx->orig_w, ctx->orig_h, res->width, res->height);
    SAM2_TRY(gap_fill_params_check(g));
    const int w = res->width, h = res->height;
    const size_t np = (size_t)w * h;
    outline_test outline; /* as consensus's */
    SAM2_TRY(outline_test_open(img, g->min_edge, 0, w, h, &outline));
    uint8_t *covered = calloc(np, 1);
    gap_region *regions = malloc(sizeof *regions * (size_t)g->max_points);
    if (!covered || !regions) {
        free(covered), free(regions), outline_test_close(&outline);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for gap filling");
    }
    for (int k = 0; k < res->n_masks; k++) gap_coverage_add(res->masks[k].counts, res->masks[k].n_counts, w, h, covered);
    int64_t min_area = (int64_t)ceil((double)g->min_region_frac * (double)np);
    if (min_area < 16) min_area = 16;
    sam2_predict_params pp = sam2_predict_default_params();
    pp.mask_threshold = p->mask_threshold;
    const float hi = p->mask_threshold + p->stability_score_offset, lo = p->mask_threshold - p->stability_score_offset;
    sam2_status st = SAM2_OK;
    for (int round = 0; round < g->rounds && st == SAM2_OK; round++) {
        int n = 0, added = 0;
        st = gap_find_regions(covered, w, h, min_area, g->max_points, regions, &n);
        for (int k = 0; k < n && st == SAM2_OK; k++) {
            const float pt[2] = {(float)regions[k].x + 0.5f, (float)regions[k].y + 0.5f};
            const int lab = 1;
            if (covered[(size_t)regions[k].y * w + regions[k].x]) continue; /* taken by this round's earlier mask */
            sam2_prompt pr = sam2_prompt_default();
            pr.points = pt, pr.labels = &lab, pr.n_points = 1, pr.multimask = 1;
            sam2_prediction out;
            st = sam2_predict(ctx, &pr, &pp, &out);
            if (st != SAM2_OK) break;
            const size_t LL = (size_t)out.low_res_size * out.low_res_size;
            int best = -1;
            float best_iou = 0, best_stab = 0;
            for (int j = 0; j < out.n_masks; j++) {
                const float stab = stability_score(out.low_res + j * LL, (int64_t)LL, hi, lo, 0.0f);
                if (!(out.iou[j] > g->pred_iou_thresh) || !(stab >= g->stability_score_thresh)) continue;
                const uint8_t *mk = out.masks + j * np;
                int64_t area = 0, fresh = 0;
                for (size_t i = 0; i < np; i++) area += mk[i], fresh += mk[i] && !covered[i];
                if (area < min_area || (double)fresh < g->min_new_frac * (double)area) continue;
                if (!outline_test_passes(&outline, mk)) continue;
                if (best < 0 || out.iou[j] > best_iou) best = j, best_iou = out.iou[j], best_stab = stab;
            }
            if (best >= 0) {
                const uint8_t *mk = out.masks + best * np;
                int64_t *counts = NULL;
                int n_counts = 0;
                st = rle_encode(mk, h, w, &counts, &n_counts);
                if (st == SAM2_OK) st = push_record(res, counts, n_counts, mk, best_iou, best_stab, pt);
                for (size_t i = 0; i < np; i++) covered[i] |= mk[i];
                added++;
            }
            sam2_prediction_free(&out);
        }
        if (!added) break;
    }
    free(covered), free(regions), outline_test_close(&outline);
    return st;
}
