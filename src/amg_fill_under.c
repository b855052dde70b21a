/* amg_fill_under.c - gap filling under large masks. A mask that covers a
 * large share of the image (the background, or several faint objects
 * washed together) hides the objects it runs over from gap filling: their
 * pixels count as covered. The grid's own clicks inside such an object
 * often got a fitting answer that the grid's thresholds dropped; the pool
 * still holds it. Such an answer is added when several clicks gave it, it
 * is mostly off the other masks and its outline follows clear edges of
 * the image: the image then overrules the model's large answer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "amg_agree.h"
#include "amg_gap_fill.h"
#include "edge_map.h"
#include "error.h"

/* mask IoU at which two answers agree: consensus's default agree_iou */
#define UNDER_AGREE_IOU 0.75

typedef struct under_cand {
    int i;
    float iou;
} under_cand;

static int cmp_cand(const void *a, const void *b) {
    const under_cand *x = a, *y = b;
    return x->iou < y->iou ? 1 : x->iou > y->iou ? -1 : x->i - y->i;
}

/* Distinct clicks of the pool whose answers agree with candidate i (itself
 * included). click: amg_click_ids of the pool; seen: scratch, n + 1 ints, zero. */
static int support(const sam2_amg_result *pool, int i, const int *click, int *seen, double agree) {
    const sam2_amg_mask *c = &pool->masks[i];
    int n = 0;
    for (int j = 0; j < pool->n_masks; j++) {
        if (seen[click[j]] || !amg_agree_exact(c, &pool->masks[j], agree)) continue;
        seen[click[j]] = 1, n++;
    }
    for (int j = 0; j < pool->n_masks; j++) seen[click[j]] = 0;
    return n;
}

static sam2_status push_copy(sam2_amg_result *r, const sam2_amg_mask *c) {
    int64_t *counts = malloc(sizeof *counts * (size_t)(c->n_counts ? c->n_counts : 1));
    sam2_amg_mask *m = realloc(r->masks, sizeof *m * ((size_t)r->n_masks + 1));
    if (m) r->masks = m;
    if (!counts || !m) {
        free(counts);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory adding a mask found under a large one");
    }
    memcpy(counts, c->counts, sizeof *counts * (size_t)c->n_counts);
    m = &r->masks[r->n_masks++];
    *m = *c;
    m->counts = counts;
    m->source = SAM2_MASK_GAP_FILL;
    m->picked_level = 0;
    return SAM2_OK;
}

sam2_status sam2_amg_fill_under(const sam2_amg_result *pool, const sam2_image *img, const sam2_gap_fill_params *g,
                                sam2_amg_result *res) {
    if (!pool || !g || !res) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_fill_under: NULL argument");
    SAM2_TRY(gap_fill_params_check(g));
    const int w = res->width, h = res->height;
    if (pool->width != w || pool->height != h)
        return SAM2_FAIL(SAM2_ERR_PARAM, "filling under large masks: the pool is %dx%d, the masks %dx%d", pool->width,
                         pool->height, w, h);
    if (!img || g->under_frac <= 0) return SAM2_OK;
    const size_t np = (size_t)w * h;
    const double big = (double)g->under_frac * (double)np;
    int n_big = 0;
    for (int k = 0; k < res->n_masks; k++) n_big += (double)res->masks[k].area >= big;
    if (!n_big) return SAM2_OK;
    uint8_t *small = calloc(np, 1), *under = calloc(np, 1);
    under_cand *cand = malloc(sizeof *cand * ((size_t)pool->n_masks + 1));
    int *click = malloc(sizeof(int) * ((size_t)pool->n_masks + 1)), *seen = calloc((size_t)pool->n_masks + 1, sizeof(int));
    if (!small || !under || !cand || !click || !seen) {
        free(small), free(under), free(cand), free(click), free(seen);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory filling under large masks");
    }
    const int n_res = res->n_masks;
    for (int k = 0; k < n_res; k++)
        gap_coverage_add(res->masks[k].counts, res->masks[k].n_counts, w, h,
                         (double)res->masks[k].area >= big ? under : small);
    int64_t min_area = (int64_t)ceil((double)g->min_region_frac * (double)np); /* as gap filling's */
    if (min_area < 16) min_area = 16;
    int n = 0;
    for (int i = 0; i < pool->n_masks; i++) {
        const sam2_amg_mask *c = &pool->masks[i];
        const int x = (int)c->point[0], y = (int)c->point[1];
        if (x < 0 || y < 0 || x >= w || y >= h || !under[(size_t)y * w + x] || small[(size_t)y * w + x]) continue;
        if (c->area < min_area || (double)c->area >= big) continue;
        if (!(c->predicted_iou > g->pred_iou_thresh) || !(c->stability_score >= g->stability_score_thresh)) continue;
        cand[n++] = (under_cand){i, c->predicted_iou};
    }
    amg_click_ids(pool->masks, pool->n_masks, click);
    qsort(cand, (size_t)n, sizeof *cand, cmp_cand);
    outline_test outline;
    sam2_status st = outline_test_open(img, g->under_min_edge, 1, w, h, &outline);
    const int gray = st == SAM2_OK && outline.edges.gray;
    int added = 0;
    for (int k = 0; k < n && st == SAM2_OK && gray && added < g->max_points; k++) {
        const sam2_amg_mask *c = &pool->masks[cand[k].i];
        const int x = (int)c->point[0], y = (int)c->point[1];
        if (small[(size_t)y * w + x]) continue; /* taken by a mask added here */
        if ((double)gap_uncovered(c->counts, c->n_counts, w, h, small) < g->min_new_frac * (double)c->area) continue;
        if (support(pool, cand[k].i, click, seen, UNDER_AGREE_IOU) < g->under_support) continue;
        int pass = 0;
        st = outline_test_passes_rle(&outline, c->counts, c->n_counts, &pass);
        if (st != SAM2_OK || !pass) continue;
        st = push_copy(res, c);
        if (st != SAM2_OK) break;
        gap_coverage_add(c->counts, c->n_counts, w, h, small);
        added++;
    }
    outline_test_close(&outline);
    free(small), free(under), free(cand), free(click), free(seen);
    return st;
}
