/* amg.c - the automatic mask generator, exactly as the official
 * SAM2AutomaticMaskGenerator: crops, point grids, batched decoding, the IoU /
 * stability / crop-edge filters, box NMS per crop and across crops, RLE
 * records. Full-resolution masks are never materialised: each candidate's
 * logits are upsampled one row at a time, the rows feed the stability counts,
 * the box and a row-streaming RLE builder, so memory is bounded by one batch
 * of low-resolution logits plus a few rows per thread plus the survivors'
 * RLEs, whatever the image size.
 *
 * Known differences from a CPU run of the reference:
 * - min_mask_region_area > 0 applies the official hole filling and sprinkle
 *   removal on the low-res logits (areas in low-res pixels), i.e. what the
 *   reference does when its optional CUDA connected-components extension is
 *   present. Without it (any CPU run) the reference warns and skips the step,
 *   so there min_mask_region_area has no effect at all.
 * - NMS always uses a stable sort. torchvision's CPU path for more than 1000
 *   boxes re-sorts the kept boxes with an unstable sort; only masks with
 *   exactly equal scores could then come out in another order.
 * - With crop layers and no surviving mask the reference raises an
 *   IndexError; here the result is simply empty. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "amg_geometry.h"
#include "amg_row.h"
#include "error.h"
#include "model.h"
#include "nms.h"
#include "postprocess.h"
#include "predictor.h"
#include "rle.h"

#define AMG_MAX_POINTS_PER_SIDE 1024
#define AMG_MAX_POINTS_PER_BATCH 4096
#define AMG_MAX_CROP_LAYERS 6
#define AMG_MAX_GRID_POINTS (1 << 20)

/* ------------------------------------------------------------ parameters */

sam2_amg_params sam2_amg_default_params(void) {
    sam2_amg_params p;
    memset(&p, 0, sizeof p);
    p.points_per_side = 32;
    p.points_per_batch = 64;
    p.pred_iou_thresh = 0.8f;
    p.stability_score_thresh = 0.95f;
    p.stability_score_offset = 1.0f;
    p.mask_threshold = 0.0f;
    p.box_nms_thresh = 0.7f;
    p.crop_n_layers = 0;
    p.crop_nms_thresh = 0.7f;
    p.crop_overlap_ratio = (float)(512.0 / 1500.0);
    p.crop_n_points_downscale_factor = 1;
    p.point_grids = NULL;
    p.point_grid_sizes = NULL;
    p.n_point_grids = 0;
    p.min_mask_region_area = 0;
    p.output_mode = SAM2_OUTPUT_BINARY_MASK;
    p.use_m2m = 0;
    p.multimask_output = 1;
    return p;
}

/* Fails unless lo <= v <= hi (NaN fails). */
static sam2_status check_range(const char *name, float v, float lo, float hi) {
    return sam2_check_range(NULL, name, v, lo, hi);
}

sam2_status sam2_amg_params_check(const sam2_amg_params *p) {
    if (!p) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_params_check: params is NULL");
    if (p->crop_n_layers < 0 || p->crop_n_layers > AMG_MAX_CROP_LAYERS)
        return SAM2_FAIL(SAM2_ERR_PARAM, "crop_n_layers = %d is outside [0, %d]", p->crop_n_layers, AMG_MAX_CROP_LAYERS);
    if (p->crop_n_points_downscale_factor < 1)
        return SAM2_FAIL(SAM2_ERR_PARAM, "crop_n_points_downscale_factor = %d must be >= 1",
                         p->crop_n_points_downscale_factor);
    if (p->point_grids) {
        if (p->points_per_side != 0)
            return SAM2_FAIL(SAM2_ERR_PARAM, "points_per_side (%d) and point_grids are exclusive: set points_per_side "
                             "to 0 when point_grids is given", p->points_per_side);
        if (p->n_point_grids != p->crop_n_layers + 1)
            return SAM2_FAIL(SAM2_ERR_PARAM, "point_grids has %d grids; crop_n_layers = %d needs %d", p->n_point_grids,
                             p->crop_n_layers, p->crop_n_layers + 1);
        if (!p->point_grid_sizes) return SAM2_FAIL(SAM2_ERR_PARAM, "point_grids is given without point_grid_sizes");
        for (int g = 0; g < p->n_point_grids; g++) {
            const int n = p->point_grid_sizes[g];
            if (n < 1 || n > AMG_MAX_GRID_POINTS)
                return SAM2_FAIL(SAM2_ERR_PARAM, "point_grids[%d] has %d points (1..%d accepted)", g, n, AMG_MAX_GRID_POINTS);
            if (!p->point_grids[g]) return SAM2_FAIL(SAM2_ERR_PARAM, "point_grids[%d] is NULL", g);
            for (int i = 0; i < 2 * n; i++) {
                float v = p->point_grids[g][i];
                if (!(v >= 0.0f && v <= 1.0f))
                    return SAM2_FAIL(SAM2_ERR_PARAM, "point_grids[%d] point %d has %c = %g outside [0, 1]", g, i / 2,
                                     i % 2 ? 'y' : 'x', (double)v);
            }
        }
    } else {
        if (p->n_point_grids != 0 || p->point_grid_sizes)
            return SAM2_FAIL(SAM2_ERR_PARAM, "point_grid_sizes / n_point_grids given without point_grids");
        if (p->points_per_side < 1 || p->points_per_side > AMG_MAX_POINTS_PER_SIDE)
            return SAM2_FAIL(SAM2_ERR_PARAM, "points_per_side = %d is outside [1, %d] (or give point_grids)",
                             p->points_per_side, AMG_MAX_POINTS_PER_SIDE);
        for (int layer = 1; layer <= p->crop_n_layers; layer++)
            if (amg_layer_points_per_side(p->points_per_side, p->crop_n_points_downscale_factor, layer) < 1)
                return SAM2_FAIL(SAM2_ERR_PARAM,
                                 "crop_n_points_downscale_factor = %d leaves no points in crop layer %d "
                                 "(points_per_side = %d, crop_n_layers = %d)",
                                 p->crop_n_points_downscale_factor, layer, p->points_per_side, p->crop_n_layers);
    }
    if (p->points_per_batch < 1 || p->points_per_batch > AMG_MAX_POINTS_PER_BATCH)
        return SAM2_FAIL(SAM2_ERR_PARAM, "points_per_batch = %d is outside [1, %d]", p->points_per_batch,
                         AMG_MAX_POINTS_PER_BATCH);
    SAM2_TRY(check_range("pred_iou_thresh", p->pred_iou_thresh, 0.0f, 1.0f));
    SAM2_TRY(check_range("stability_score_thresh", p->stability_score_thresh, 0.0f, 1.0f));
    SAM2_TRY(check_range("stability_score_offset", p->stability_score_offset, 0.0f, 1e6f));
    SAM2_TRY(check_range("mask_threshold", p->mask_threshold, -1e6f, 1e6f));
    SAM2_TRY(check_range("box_nms_thresh", p->box_nms_thresh, 0.0f, 1.0f));
    SAM2_TRY(check_range("crop_nms_thresh", p->crop_nms_thresh, 0.0f, 1.0f));
    if (!(p->crop_overlap_ratio >= 0.0f && p->crop_overlap_ratio < 1.0f))
        return SAM2_FAIL(SAM2_ERR_PARAM, "crop_overlap_ratio = %g is outside [0, 1)", (double)p->crop_overlap_ratio);
    if (p->min_mask_region_area < 0)
        return SAM2_FAIL(SAM2_ERR_PARAM, "min_mask_region_area = %d must be >= 0", p->min_mask_region_area);
    if (p->output_mode != SAM2_OUTPUT_BINARY_MASK && p->output_mode != SAM2_OUTPUT_UNCOMPRESSED_RLE &&
        p->output_mode != SAM2_OUTPUT_COCO_RLE)
        return SAM2_FAIL(SAM2_ERR_PARAM, "output_mode = %d is not binary_mask (0), uncompressed_rle (1) or coco_rle (2)",
                         (int)p->output_mode);
    if (p->use_m2m != 0 && p->use_m2m != 1) return SAM2_FAIL(SAM2_ERR_PARAM, "use_m2m = %d must be 0 or 1", p->use_m2m);
    if (p->multimask_output != 0 && p->multimask_output != 1)
        return SAM2_FAIL(SAM2_ERR_PARAM, "multimask_output = %d must be 0 or 1", p->multimask_output);
    return SAM2_OK;
}

/* Grid points of one crop of a layer. */
static int64_t layer_points(const sam2_amg_params *p, int layer) {
    if (p->point_grids) return p->point_grid_sizes[layer];
    const int side = amg_layer_points_per_side(p->points_per_side, p->crop_n_points_downscale_factor, layer);
    return (int64_t)side * side;
}

sam2_status sam2_amg_work(const sam2_amg_params *p, int64_t *clicks, int *crops) {
    SAM2_TRY(sam2_amg_params_check(p));
    int64_t n = 0;
    int nc = 0;
    for (int layer = 0; layer <= p->crop_n_layers; layer++) {
        const int in_layer = 1 << (2 * layer);
        n += layer_points(p, layer) * in_layer, nc += in_layer;
    }
    if (clicks) *clicks = n;
    if (crops) *crops = nc;
    return SAM2_OK;
}

/* ------------------------------------------------------------- records */

/* A mask that survived the filters of its batch. */
typedef struct amg_rec {
    uint8_t *packed;  /* RLE over the whole image, packed (rle_pack): the records
                         before NMS are many, the survivors few */
    size_t n_packed;
    int n_counts;
    int box[4];       /* x0, y0, x1, y1 inclusive, crop pixels */
    float iou, stab;
    float point[2];   /* crop pixels */
} amg_rec;

/* A growable list of records. */
typedef struct rec_list {
    amg_rec *v;
    int n, cap;
} rec_list;

static sam2_status rec_push(rec_list *l, const amg_rec *r) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        amg_rec *v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d mask records", cap);
        l->v = v, l->cap = cap;
    }
    l->v[l->n++] = *r;
    return SAM2_OK;
}

static void rec_list_free(rec_list *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i].packed);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ------------------------------------------------- candidate evaluation */

/* The scalar settings every candidate of a run shares. */
typedef struct amg_run {
    int L;                /* low-res side S/4 */
    int W, H;             /* image size */
    float pred_thr;       /* keep iou > pred_thr (0: no filter) */
    float stab_thr;       /* keep stability >= stab_thr (0: no filter) */
    float thr, hi, lo;    /* mask threshold, threshold +- offset (float32) */
    int min_area;         /* hole / sprinkle area in low-res pixels (0 off) */
} amg_run;

/* Per-thread scratch for streaming one candidate. */
typedef struct amg_scratch {
    float *logits;        /* (L, L) working copy */
    float *hrow[2];       /* (cw) horizontally interpolated low-res rows */
    int hrow_src[2];      /* which low-res row each holds (-1 none) */
    uint8_t *bin;         /* (cw) binary output row */
    float *rmin, *rmax;   /* (L) each: extremes of each low-res row (NaN rows: -inf, +inf) */
    amg_col_runs runs;    /* the crop's columns by the source columns they read */
    amg_span *spans;      /* (runs.n) the runs of source rows span_a, span_b, merged by kind */
    int n_spans, span_a, span_b;
    rle_rows rle;         /* (ch, cw) */
} amg_scratch;

static void scratch_free(amg_scratch *s) {
    free(s->logits), free(s->hrow[0]), free(s->hrow[1]), free(s->bin), free(s->rmin), free(s->rmax);
    amg_col_runs_free(&s->runs);
    free(s->spans);
    rle_rows_free(&s->rle);
    memset(s, 0, sizeof *s);
}

static sam2_status scratch_init(amg_scratch *s, int L, int ch, const lerp_taps *tx) {
    const int cw = tx->n;
    memset(s, 0, sizeof *s);
    s->logits = malloc(sizeof(float) * (size_t)L * L);
    s->hrow[0] = malloc(sizeof(float) * (size_t)cw);
    s->hrow[1] = malloc(sizeof(float) * (size_t)cw);
    s->bin = malloc((size_t)cw);
    s->rmin = malloc(sizeof(float) * (size_t)L);
    s->rmax = malloc(sizeof(float) * (size_t)L);
    if (!s->logits || !s->hrow[0] || !s->hrow[1] || !s->bin || !s->rmin || !s->rmax) {
        scratch_free(s);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for AMG row buffers (crop %d x %d)", cw, ch);
    }
    sam2_status st = rle_rows_init(&s->rle, ch, cw);
    if (st == SAM2_OK) st = amg_col_runs_init(&s->runs, tx->i0, tx->i1, cw);
    if (st == SAM2_OK && !(s->spans = malloc(sizeof *s->spans * (size_t)s->runs.n)))
        st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for AMG row spans");
    if (st != SAM2_OK) scratch_free(s);
    return st;
}

/* Returns the horizontal interpolation of low-res row r to cw columns,
 * computed as PyTorch's separable kernel does (x[i0] * l0 + x[i1] * l1),
 * cached in one of two slots (consecutive output rows share source rows). */
static const float *hrow_get(amg_scratch *s, const float *lr, int L, int r, const lerp_taps *tx, int other) {
    for (int k = 0; k < 2; k++)
        if (s->hrow_src[k] == r) return s->hrow[k];
    int k = s->hrow_src[0] == other ? 1 : 0; /* keep the slot the caller still needs */
    const float *x = lr + (size_t)r * L;
    float *o = s->hrow[k];
    for (int j = 0; j < tx->n; j++) o[j] = x[tx->i0[j]] * tx->l0[j] + x[tx->i1[j]] * tx->l1[j];
    s->hrow_src[k] = r;
    return o;
}

/* What evaluating one candidate produced. */
typedef struct cand_result {
    int kept;
    int has_stab;     /* passed the run's IoU filter: stab holds its stability score */
    float stab;
    sam2_status st;
    amg_rec rec;
} cand_result;

/* Evaluates one candidate: optional hole / sprinkle removal on its low-res
 * logits, the IoU filter, then the bilinear upsampling to the crop size row
 * by row (separable: the formula of PyTorch's generic kernel, used for
 * three-mask outputs; !separable: the four-weight formula of its
 * channels-last kernel, which PyTorch picks for one-mask outputs) feeding the
 * stability counts, the box and the RLE; then the stability and crop-edge
 * filters. On success with kept = 1, rec owns an RLE over the whole image. */
static void eval_candidate(const amg_run *run, const amg_crop *crop, const lerp_taps *ty, const lerp_taps *tx,
                           int separable, const float *low, float iou, const float *point, amg_scratch *s,
                           cand_result *out) {
    memset(out, 0, sizeof *out);
    out->st = SAM2_OK;
    if (run->pred_thr > 0.0f && !(iou > run->pred_thr)) return;
    const int L = run->L, ch = ty->n, cw = tx->n;
    const float *lr = low;
    if (run->min_area > 0) {
        memcpy(s->logits, low, sizeof(float) * (size_t)L * L);
        /* the predictor's own mask_threshold (0.0), not the generator's */
        out->st = fill_holes_and_sprinkles(s->logits, L, L, 0.0f, run->min_area, run->min_area);
        if (out->st != SAM2_OK) return;
        lr = s->logits;
    }
    s->hrow_src[0] = s->hrow_src[1] = -1;
    s->span_a = s->span_b = -1;
    rle_rows_reset(&s->rle);
    int64_t n_hi = 0, n_lo = 0;
    int bx0 = cw, by0 = ch, bx1 = -1, by1 = -1;
    const float thr = run->thr, hi = run->hi, lo = run->lo;
    /* An upsampled value is a convex combination of the four low-res values
     * around it, so an output row whose two source rows lie wholly below
     * (above) every threshold, by a margin well beyond float rounding, is
     * all zeros (ones) without computing it. Other rows: the same test run
     * by run of columns, and the exact formula where it fails. */
    const float tmin = fminf(thr, fminf(lo, hi)), tmax = fmaxf(thr, fmaxf(lo, hi));
    for (int r = 0; r < L; r++) {
        const float *row = lr + (size_t)r * L;
        float mn = row[0], mx = row[0];
        int nan = 0;
        for (int j = 0; j < L; j++) {
            mn = row[j] < mn ? row[j] : mn, mx = row[j] > mx ? row[j] : mx;
            nan |= row[j] != row[j];
        }
        s->rmin[r] = nan ? -INFINITY : mn, s->rmax[r] = nan ? INFINITY : mx;
    }
    int prev_kind = 0; /* the row before the first counts as all zeros; 3: computed on spans */
    for (int y = 0; y < ch; y++) {
        const float h0 = ty->l0[y], h1 = ty->l1[y];
        int first = -1, last = -1;
        const int a = ty->i0[y], b = ty->i1[y];
        const float mx = fmaxf(s->rmax[a], s->rmax[b]), mn = fminf(s->rmin[a], s->rmin[b]);
        const int kind = amg_below(mx, tmin) ? 0 : amg_above(mn, tmax) ? 1 : 2;
        if (kind < 2) {
            if (kind == 1) {
                n_hi += cw, n_lo += cw;
                if (bx0 > 0) bx0 = 0;
                if (bx1 < cw - 1) bx1 = cw - 1;
                if (by0 == ch) by0 = y;
                by1 = y;
            }
            if (kind == prev_kind) {
                out->st = rle_rows_push_repeat(&s->rle);
            } else {
                memset(s->bin, kind, (size_t)cw);
                out->st = rle_rows_push(&s->rle, s->bin);
            }
            prev_kind = kind;
            if (out->st != SAM2_OK) return;
            continue;
        }
        /* the same test run by run of columns, once per pair of source
         * rows: only runs near a threshold are computed */
        const float *ra = lr + (size_t)a * L, *rb = lr + (size_t)b * L, *r0 = NULL, *r1 = NULL;
        const int same_spans = prev_kind == 3 && s->span_a == a && s->span_b == b;
        if (s->span_a != a || s->span_b != b) {
            amg_span_list(&s->runs, ra, rb, tmin, tmax, s->spans, &s->n_spans);
            s->span_a = a, s->span_b = b;
        }
        prev_kind = 3;
        for (int k = 0; k < s->n_spans; k++) {
            const int x0 = s->spans[k].x0, n = s->spans[k].n, rk = s->spans[k].kind;
            if (rk < 2) {
                memset(s->bin + x0, rk, (size_t)n);
                if (rk) n_hi += n, n_lo += n;
            } else if (separable) {
                if (!r0) {
                    r0 = hrow_get(s, lr, L, a, tx, -1);
                    r1 = hrow_get(s, lr, L, b, tx, a);
                }
                amg_row_separable(r0 + x0, r1 + x0, h0, h1, n, thr, hi, lo, s->bin + x0, &n_hi, &n_lo);
            } else {
                for (int x = x0; x < x0 + n; x++) {
                    const int i = tx->i0[x], j = tx->i1[x];
                    const float w0 = tx->l0[x], w1 = tx->l1[x];
                    const float v = h0 * w0 * ra[i] + h0 * w1 * ra[j] + h1 * w0 * rb[i] + h1 * w1 * rb[j];
                    n_hi += v > hi;
                    n_lo += v > lo;
                    s->bin[x] = v > thr;
                }
            }
        }
        if (amg_spans_extent(s->spans, s->n_spans, s->bin, &first, &last)) {
            if (first < bx0) bx0 = first;
            if (last > bx1) bx1 = last;
            if (by0 == ch) by0 = y;
            by1 = y;
        }
        /* after a row of the same spans only the computed spans can differ */
        if (same_spans) {
            for (int k = 0; k < s->n_spans && out->st == SAM2_OK; k++)
                if (s->spans[k].kind == 2) out->st = rle_rows_compare(&s->rle, s->bin, s->spans[k].x0, s->spans[k].n);
            if (out->st == SAM2_OK) out->st = rle_rows_push_repeat(&s->rle);
        } else {
            out->st = rle_rows_push(&s->rle, s->bin);
        }
        if (out->st != SAM2_OK) return;
    }
    /* int32 counts divided as float32 (an empty mask gives 0/0 = NaN) */
    const float stab = (float)n_hi / (float)n_lo;
    out->has_stab = 1, out->stab = stab;
    if (run->stab_thr > 0.0f && !(stab >= run->stab_thr)) return;
    int box[4] = {0, 0, 0, 0}; /* an empty mask has the box [0, 0, 0, 0] */
    if (bx1 >= 0) box[0] = bx0, box[1] = by0, box[2] = bx1, box[3] = by1;
    if (amg_box_near_crop_edge(box, crop, run->W, run->H)) return;
    int64_t *counts = NULL;
    out->st = rle_rows_finish(&s->rle, crop->x0, crop->y0, run->H, run->W, &counts, &out->rec.n_counts);
    if (out->st == SAM2_OK) out->st = rle_pack(counts, out->rec.n_counts, &out->rec.packed, &out->rec.n_packed);
    free(counts);
    if (out->st != SAM2_OK) return;
    memcpy(out->rec.box, box, sizeof box);
    out->rec.iou = iou;
    out->rec.stab = stab;
    out->rec.point[0] = point[0], out->rec.point[1] = point[1];
    out->kept = 1;
}

/* ----------------------------------------------------------- one crop */

/* Everything a crop pass needs. */
typedef struct amg_state {
    sam2_ctx *ctx;
    const sam2_amg_params *p;
    amg_run run;
    int M;                  /* masks per click in the first pass */
    int n_threads;
    amg_scratch *scratch;   /* (n_threads) */
    float *low;             /* (ppb * M, L, L) first-pass logits */
    float *iou;             /* (ppb * M) */
    float *m2m_low;         /* (ppb, L, L) refined logits (m2m) */
    float *m2m_in;          /* (ppb, L, L) clamped mask inputs (m2m) */
    float *m2m_iou;         /* (ppb) */
    float *m2m_pts;         /* (ppb, 2) */
    int *ones;              /* (ppb * M) labels */
    cand_result *res;       /* (ppb * M) */
    sam2_amg_filter_counts *fc; /* the current crop's filter counts */
    sam2_amg_result *pool;  /* NULL, or where every candidate above pool_pred goes */
    int pool_cap;
    float pool_pred;        /* the pool's IoU filter (0: none) */
    int64_t clicks_done, clicks_total; /* for the context's progress callback */
} amg_state;

/* NaN-ignoring maximum. */
static float max_or_nan(float m, float v) { return isnan(v) ? m : isnan(m) || v > m ? v : m; }

/* Counts a candidate into fc by params' own filters, in the order
 * eval_candidate applies them; the run's filters may be looser (the pool's),
 * never stricter, so a candidate params keep always has its stability. */
static void count_candidate(const sam2_amg_params *p, float iou, const cand_result *r, sam2_amg_filter_counts *fc) {
    fc->candidates++;
    fc->max_pred_iou = max_or_nan(fc->max_pred_iou, iou);
    if ((p->pred_iou_thresh > 0.0f && !(iou > p->pred_iou_thresh)) || !r->has_stab) return;
    fc->above_pred_iou++;
    fc->max_stability = max_or_nan(fc->max_stability, r->stab);
    if (p->stability_score_thresh > 0.0f && !(r->stab >= p->stability_score_thresh)) return;
    fc->above_stability++;
    if (r->kept) fc->off_crop_edge++;
}

/* The crop's grid points in crop pixels (float32), malloc'd into *pts. */
static sam2_status crop_points(const sam2_amg_params *p, const amg_crop *c, float **pts, int *n_pts) {
    int n;
    double *xy;
    if (p->point_grids) {
        n = p->point_grid_sizes[c->layer];
        xy = malloc(sizeof(double) * 2 * (size_t)n);
        if (xy)
            for (int i = 0; i < 2 * n; i++) xy[i] = amg_float_as_decimal(p->point_grids[c->layer][i]);
    } else {
        int side = amg_layer_points_per_side(p->points_per_side, p->crop_n_points_downscale_factor, c->layer);
        n = side * side;
        xy = malloc(sizeof(double) * 2 * (size_t)n);
        if (xy) amg_point_grid(side, xy);
    }
    float *out = malloc(sizeof(float) * 2 * (size_t)n);
    if (!xy || !out) {
        free(xy), free(out);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d grid points", n);
    }
    amg_scale_points(xy, n, c->x1 - c->x0, c->y1 - c->y0, out);
    free(xy);
    *pts = out;
    *n_pts = n;
    return SAM2_OK;
}

/* 1 when a record evaluated under the pool's looser filters passes the
 * generator's own IoU and stability filters (the comparisons of
 * eval_candidate). */
static int passes_official(const sam2_amg_params *p, const amg_rec *rec) {
    return (!(p->pred_iou_thresh > 0.0f) || rec->iou > p->pred_iou_thresh) &&
           (!(p->stability_score_thresh > 0.0f) || rec->stab >= p->stability_score_thresh);
}

/* The public record of a (its RLE unpacked; a keeps its packed one). shift:
 * a is still in the crop's coordinates, so its box and click move by the
 * crop's origin. */
static sam2_status rec_to_mask(const amg_rec *a, const amg_crop *c, int shift, sam2_amg_mask *m) {
    const int dx = shift ? c->x0 : 0, dy = shift ? c->y0 : 0;
    memset(m, 0, sizeof *m);
    SAM2_TRY(rle_unpack(a->packed, a->n_packed, a->n_counts, &m->counts));
    m->n_counts = a->n_counts;
    m->area = rle_area(m->counts, m->n_counts);
    m->bbox[0] = (float)(a->box[0] + dx), m->bbox[1] = (float)(a->box[1] + dy);
    m->bbox[2] = (float)a->box[2] - (float)a->box[0], m->bbox[3] = (float)a->box[3] - (float)a->box[1];
    m->predicted_iou = a->iou;
    m->point[0] = shift ? a->point[0] + (float)c->x0 : a->point[0];
    m->point[1] = shift ? a->point[1] + (float)c->y0 : a->point[1];
    m->stability_score = a->stab;
    m->crop_box[0] = (float)c->x0, m->crop_box[1] = (float)c->y0;
    m->crop_box[2] = (float)c->x1 - (float)c->x0, m->crop_box[3] = (float)c->y1 - (float)c->y0;
    m->source = SAM2_MASK_GRID;
    return SAM2_OK;
}

/* Puts a record the pool keeps into the pool. With move the generator does
 * not keep rec, whose packed RLE is freed (also when the pool does not take
 * it); without, rec stays as it is. */
static sam2_status pool_take(amg_state *S, const amg_crop *crop, amg_rec *rec, int move) {
    if (S->pool_pred > 0.0f && !(rec->iou > S->pool_pred)) {
        if (move) free(rec->packed), rec->packed = NULL;
        return SAM2_OK;
    }
    sam2_amg_result *P = S->pool;
    if (P->n_masks == S->pool_cap) {
        const int cap = S->pool_cap ? 2 * S->pool_cap : 256;
        sam2_amg_mask *v = realloc(P->masks, sizeof *v * (size_t)cap);
        if (!v) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d pooled AMG candidates", cap);
        P->masks = v, S->pool_cap = cap;
    }
    sam2_status st = rec_to_mask(rec, crop, 1, &P->masks[P->n_masks]);
    if (st == SAM2_OK) P->n_masks++;
    if (move) free(rec->packed), rec->packed = NULL;
    return st;
}

/* Evaluates nc candidates (logits (nc, L, L), ious (nc), points (nc, 2)) in
 * parallel and appends the survivors, in candidate order, to list. */
static sam2_status eval_batch(amg_state *S, const amg_crop *crop, const lerp_taps *ty, const lerp_taps *tx,
                              int separable, int nc, const float *low, const float *iou, const float *pts,
                              int pts_per_cand, rec_list *list) {
    const size_t LL = (size_t)S->run.L * S->run.L;
#pragma omp parallel for schedule(dynamic, 1) num_threads(S->n_threads)
    for (int k = 0; k < nc; k++) {
        amg_scratch *s = &S->scratch[omp_get_thread_num()];
        eval_candidate(&S->run, crop, ty, tx, separable, low + (size_t)k * LL, iou[k], pts + 2 * (size_t)(k / pts_per_cand),
                       s, &S->res[k]);
    }
    sam2_status st = SAM2_OK;
    for (int k = 0; k < nc; k++) {
        cand_result *r = &S->res[k];
        if (st == SAM2_OK && r->st != SAM2_OK) st = r->st;
        if (S->fc) count_candidate(S->p, iou[k], r, S->fc);
        if (r->kept && st == SAM2_OK && S->pool) {
            const int official = passes_official(S->p, &r->rec);
            st = pool_take(S, crop, &r->rec, !official);
            if (st == SAM2_OK && !official) continue;
        }
        if (r->kept && st == SAM2_OK) {
            st = rec_push(list, &r->rec);
            if (st == SAM2_OK) continue;
        }
        if (r->kept) free(r->rec.packed);
    }
    return st;
}

/* ------------------------------------------------------ candidate store */

/* The decoder outputs of one crop kept for re-filtering: every candidate that
 * passed the loosest IoU filter, in decoding order (the order the filters and
 * the stable NMS see them in). */
typedef struct cand_crop {
    int n, cap;
    int n_clicks, n_decoded; /* points decoded, candidates before the IoU filter */
    float max_iou;           /* the highest predicted IoU decoded (NaN: none) */
    float *low; /* (n, L, L) logits */
    float *iou; /* (n) */
    float *pts; /* (n, 2) crop pixels */
} cand_crop;

struct sam2_amg_candidates {
    int W, H, L, n_threads;
    sam2_amg_params shape;  /* the decoder-shaping parameters it was built with */
    float *grid_copy;       /* the point grids' values (shape.point_grids is not kept) */
    int *grid_sizes_copy;
    float loose_pred;       /* candidates with iou <= this were dropped (0: none) */
    int separable;          /* which upsampling formula the candidates take */
    int n_crops;
    amg_crop *crops;
    cand_crop *cc;          /* (n_crops) */
    size_t bytes, max_bytes;
    int n_total;
};

/* Appends the candidates of one decoded batch that pass the loosest IoU
 * filter. A candidate's click is pts[k / pts_per_cand]. */
static sam2_status store_batch(sam2_amg_candidates *c, cand_crop *cc, int nc, const float *low, const float *iou,
                               const float *pts, int pts_per_cand) {
    const size_t LL = (size_t)c->L * c->L;
    cc->n_decoded += nc;
    for (int k = 0; k < nc; k++) {
        cc->max_iou = max_or_nan(cc->max_iou, iou[k]);
        if (c->loose_pred > 0.0f && !(iou[k] > c->loose_pred)) continue;
        const size_t need = sizeof(float) * (LL + 3);
        if (c->max_bytes && c->bytes + need > c->max_bytes)
            return SAM2_FAIL(SAM2_ERR_NOMEM,
                             "keeping the decoder outputs of more than %d candidates would exceed %zu bytes: raise "
                             "the loosest pred_iou_thresh (%g)", c->n_total, c->max_bytes, (double)c->loose_pred);
        if (cc->n == cc->cap) {
            const int cap = cc->cap ? cc->cap + cc->cap / 2 + 16 : 64;
            float *nl = realloc(cc->low, sizeof(float) * LL * (size_t)cap);
            if (nl) cc->low = nl;
            float *ni = nl ? realloc(cc->iou, sizeof(float) * (size_t)cap) : NULL;
            if (ni) cc->iou = ni;
            float *np = ni ? realloc(cc->pts, sizeof(float) * 2 * (size_t)cap) : NULL;
            if (!np) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d kept AMG candidates", cap);
            cc->pts = np, cc->cap = cap;
        }
        memcpy(cc->low + (size_t)cc->n * LL, low + (size_t)k * LL, sizeof(float) * LL);
        cc->iou[cc->n] = iou[k];
        const float *pt = pts + 2 * (size_t)(k / pts_per_cand);
        cc->pts[2 * cc->n] = pt[0], cc->pts[2 * cc->n + 1] = pt[1];
        cc->n++;
        c->n_total++;
        c->bytes += need;
    }
    return SAM2_OK;
}

/* ----------------------------------------------------------- one crop */

/* NMS within a crop, scored by predicted IoU; moves the kept records (now in
 * image coordinates, sorted by descending predicted IoU) to out and frees list. */
static sam2_status crop_nms(const sam2_amg_params *p, const amg_crop *crop, rec_list *list, rec_list *out) {
    float *boxes = NULL, *scores = NULL;
    int *keep = NULL, n_keep = 0;
    sam2_status st = SAM2_OK;
    if (list->n > 0) {
        boxes = malloc(sizeof(float) * 4 * (size_t)list->n);
        scores = malloc(sizeof(float) * (size_t)list->n);
        keep = malloc(sizeof(int) * (size_t)list->n);
        if (!boxes || !scores || !keep) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for NMS of %d masks", list->n);
        for (int i = 0; i < list->n && st == SAM2_OK; i++) {
            for (int k = 0; k < 4; k++) boxes[4 * i + k] = (float)list->v[i].box[k];
            scores[i] = list->v[i].iou;
        }
        if (st == SAM2_OK) st = nms_boxes(boxes, scores, list->n, amg_float_as_decimal(p->box_nms_thresh), keep, &n_keep);
    }
    for (int k = 0; k < n_keep && st == SAM2_OK; k++) {
        amg_rec r = list->v[keep[k]];
        /* back to the image frame: int boxes, float32 points + int offset */
        r.box[0] += crop->x0, r.box[2] += crop->x0;
        r.box[1] += crop->y0, r.box[3] += crop->y0;
        r.point[0] = r.point[0] + (float)crop->x0;
        r.point[1] = r.point[1] + (float)crop->y0;
        st = rec_push(out, &r);
        if (st == SAM2_OK) list->v[keep[k]].packed = NULL; /* moved */
    }
    free(boxes), free(scores), free(keep);
    rec_list_free(list);
    return st;
}

/* Counts n more clicks decoded and tells the context's progress callback;
 * SAM2_ERR_CANCELLED when it asks to stop. */
static sam2_status progress(amg_state *S, int n) {
    S->clicks_done += n;
    if (S->ctx->progress && S->ctx->progress(S->ctx->progress_user, S->clicks_done, S->clicks_total))
        return SAM2_FAIL(SAM2_ERR_CANCELLED, "cancelled by the progress callback after %lld of %lld clicks",
                         (long long)S->clicks_done, (long long)S->clicks_total);
    return SAM2_OK;
}

/* Embeds one crop and decodes its grid in batches. Without a store: filters,
 * runs the per-crop NMS and appends the kept records to out. With a store:
 * keeps the candidates passing its loosest IoU filter in cc instead. */
static sam2_status process_crop(amg_state *S, const sam2_image *img, const amg_crop *crop, rec_list *out,
                                sam2_amg_candidates *store, cand_crop *cc) {
    const sam2_amg_params *p = S->p;
    const int L = S->run.L, M = S->M, cw = crop->x1 - crop->x0, ch = crop->y1 - crop->y0;
    const size_t LL = (size_t)L * L;
    /* a deep layer's last crops can start past a side shorter than their
     * number (an image 3 pixels tall, 4 crops per side): no pixels, no
     * masks (the reference fails on such an image) */
    if (cw <= 0 || ch <= 0) return progress(S, (int)layer_points(p, crop->layer));
    if (img) { /* without an image, the context's embedding is the whole-image crop */
        const int bpp = img->channels * (img->bit_depth / 8);
        sam2_image view = *img;
        view.width = cw, view.height = ch;
        view.data = (const uint8_t *)img->data + (size_t)crop->y0 * img->stride + (size_t)crop->x0 * bpp;
        SAM2_TRY(sam2_set_image(S->ctx, &view));
    }

    float *pts = NULL; /* (n_pts, 2) crop pixels */
    int n_pts = 0;
    SAM2_TRY(crop_points(p, crop, &pts, &n_pts));
    lerp_taps ty = {0}, tx = {0};
    rec_list list = {0};
    sam2_status st = SAM2_OK;
    if (!store) {
        st = lerp_taps_init(&ty, L, ch);
        if (st == SAM2_OK) st = lerp_taps_init(&tx, L, cw);
        for (int t = 0; t < S->n_threads && st == SAM2_OK; t++) st = scratch_init(&S->scratch[t], L, ch, &tx);
    }

    if (store) cc->n_clicks += n_pts;
    else S->fc->clicks += n_pts;
    for (int b0 = 0; b0 < n_pts && st == SAM2_OK; b0 += p->points_per_batch) {
        const int nb = n_pts - b0 < p->points_per_batch ? n_pts - b0 : p->points_per_batch;
        /* candidates the IoU filter drops need no mask logits (unless m2m
         * refines every candidate first); a floor, even one below every
         * IoU, also keeps the image tokens implicit, so that every setting
         * decodes a candidate the same way */
        const float pred_floor = store ? store->loose_pred : S->run.pred_thr;
        const float skip_floor = p->use_m2m ? NAN : pred_floor > 0.0f ? pred_floor : -INFINITY;
        st = predictor_decode_filtered(S->ctx, nb, 1, pts + 2 * (size_t)b0, S->ones, NULL, NULL, p->multimask_output,
                                       skip_floor, S->low, S->iou, NULL);
        if (st != SAM2_OK) break;
        const int nc = nb * M;
        if (!p->use_m2m) {
            if (store) st = store_batch(store, cc, nc, S->low, S->iou, pts + 2 * (size_t)b0, M);
            else st = eval_batch(S, crop, &ty, &tx, M > 1, nc, S->low, S->iou, pts + 2 * (size_t)b0, M, &list);
            if (st == SAM2_OK) st = progress(S, nb);
            continue;
        }
        /* m2m: every candidate again with its click and its own clamped logits
         * as the mask input, one mask each, in chunks of points_per_batch */
        for (int c0 = 0; c0 < nc && st == SAM2_OK; c0 += p->points_per_batch) {
            const int nk = nc - c0 < p->points_per_batch ? nc - c0 : p->points_per_batch;
            for (int k = 0; k < nk; k++) {
                const float *src = S->low + (size_t)(c0 + k) * LL;
                float *dst = S->m2m_in + (size_t)k * LL;
                for (size_t i = 0; i < LL; i++) dst[i] = src[i] > 32.0f ? 32.0f : src[i] < -32.0f ? -32.0f : src[i];
                const float *pt = pts + 2 * (size_t)(b0 + (c0 + k) / M);
                S->m2m_pts[2 * k] = pt[0], S->m2m_pts[2 * k + 1] = pt[1];
            }
            st = predictor_decode(S->ctx, nk, 1, S->m2m_pts, S->ones, NULL, S->m2m_in, 0, S->m2m_low, S->m2m_iou, NULL);
            if (st != SAM2_OK) break;
            if (store) st = store_batch(store, cc, nk, S->m2m_low, S->m2m_iou, S->m2m_pts, 1);
            else st = eval_batch(S, crop, &ty, &tx, 0, nk, S->m2m_low, S->m2m_iou, S->m2m_pts, 1, &list);
        }
        if (st == SAM2_OK) st = progress(S, nb);
    }
    for (int t = 0; t < S->n_threads; t++) scratch_free(&S->scratch[t]);
    lerp_taps_free(&ty);
    lerp_taps_free(&tx);
    free(pts);
    if (store || st != SAM2_OK) {
        rec_list_free(&list);
        return st;
    }
    const int n_before = out->n;
    st = crop_nms(p, crop, &list, out);
    S->fc->after_box_nms += out->n - n_before;
    return st;
}

/* ------------------------------------------------------------ the run */

static void state_free(amg_state *S) {
    if (S->scratch)
        for (int t = 0; t < S->n_threads; t++) scratch_free(&S->scratch[t]);
    free(S->scratch), free(S->low), free(S->iou), free(S->m2m_low), free(S->m2m_in), free(S->m2m_iou);
    free(S->m2m_pts), free(S->ones), free(S->res);
}

void sam2_amg_result_free(sam2_amg_result *r) {
    if (!r) return;
    for (int i = 0; i < r->n_masks; i++) free(r->masks[i].counts);
    free(r->masks);
    free(r);
}

/* The post-decoder settings of a run. */
static void run_init(amg_run *run, const sam2_amg_params *params, int L, int W, int H) {
    run->L = L, run->W = W, run->H = H;
    run->pred_thr = params->pred_iou_thresh;
    run->stab_thr = params->stability_score_thresh;
    /* Python adds the float thresholds in double, torch compares in float32 */
    const double t = amg_float_as_decimal(params->mask_threshold);
    const double off = amg_float_as_decimal(params->stability_score_offset);
    run->thr = (float)t, run->hi = (float)(t + off), run->lo = (float)(t - off);
    run->min_area = params->min_mask_region_area;
}

/* Checks the arguments shared by sam2_amg_generate and
 * sam2_amg_candidates_new; gives the image size. */
static sam2_status check_inputs(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params, int *W, int *H) {
    if (!ctx || !params) return SAM2_FAIL(SAM2_ERR_PARAM, "automatic mask generator: NULL argument");
    SAM2_TRY(sam2_amg_params_check(params));
    if (img) {
        SAM2_TRY(sam2_image_check(img));
    } else if (!ctx->has_image) {
        return SAM2_FAIL(SAM2_ERR_STATE, "no image given and no embedding set in the context");
    } else if (params->crop_n_layers > 0) {
        return SAM2_FAIL(SAM2_ERR_PARAM, "crop_n_layers %d needs the image itself: crops are embedded one by one (an embedding covers only the whole image)", params->crop_n_layers);
    }
    *W = img ? img->width : ctx->orig_w, *H = img ? img->height : ctx->orig_h;
    return SAM2_OK;
}

/* Decodes every crop of img (or of the context's embedding): into records
 * (store NULL) or into the store. crops / crop_start come back malloc'd. */
static sam2_status decode_crops(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params, int W, int H,
                                sam2_amg_candidates *store, amg_crop **crops_out, int **crop_start_out,
                                sam2_amg_filter_counts **counts_out, rec_list *all, sam2_amg_result *pool,
                                float pool_pred) {
    const sam2_config *cfg = &ctx->model->cfg;
    const int L = 4 * (cfg->image_size / cfg->backbone_stride);
    const size_t LL = (size_t)L * L;
    *crops_out = NULL, *crop_start_out = NULL;
    if (counts_out) *counts_out = NULL;

    amg_state S;
    memset(&S, 0, sizeof S);
    S.ctx = ctx;
    S.p = params;
    S.M = params->multimask_output ? cfg->num_multimask_outputs : 1;
    run_init(&S.run, params, L, W, H);
    if (pool) { /* evaluate under the looser of both filters, split afterwards */
        S.pool = pool, S.pool_pred = pool_pred;
        S.run.pred_thr = params->pred_iou_thresh > 0.0f && pool_pred > 0.0f ? fminf(params->pred_iou_thresh, pool_pred) : 0.0f;
        S.run.stab_thr = 0.0f;
    }
    S.n_threads = ctx->n_threads > 0 ? ctx->n_threads : 1;
    const int ppb = params->points_per_batch, nc = ppb * S.M;
    S.scratch = calloc((size_t)S.n_threads, sizeof *S.scratch);
    S.low = malloc(sizeof(float) * (size_t)nc * LL);
    S.iou = malloc(sizeof(float) * (size_t)nc);
    S.ones = malloc(sizeof(int) * (size_t)nc);
    S.res = malloc(sizeof(cand_result) * (size_t)nc);
    if (params->use_m2m) {
        S.m2m_low = malloc(sizeof(float) * (size_t)ppb * LL);
        S.m2m_in = malloc(sizeof(float) * (size_t)ppb * LL);
        S.m2m_iou = malloc(sizeof(float) * (size_t)ppb);
        S.m2m_pts = malloc(sizeof(float) * 2 * (size_t)ppb);
    }
    if (!S.scratch || !S.low || !S.iou || !S.ones || !S.res ||
        (params->use_m2m && (!S.m2m_low || !S.m2m_in || !S.m2m_iou || !S.m2m_pts))) {
        state_free(&S);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for a batch of %d AMG candidates", nc);
    }
    for (int i = 0; i < nc; i++) S.ones[i] = 1;

    const int n_crops = amg_n_crops(params->crop_n_layers);
    amg_crop *crops = malloc(sizeof *crops * (size_t)n_crops);
    int *crop_start = malloc(sizeof(int) * ((size_t)n_crops + 1)); /* first record of each crop */
    sam2_amg_filter_counts *counts = calloc((size_t)n_crops, sizeof *counts);
    sam2_status st = crops && crop_start && counts ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d crops", n_crops);
    if (st == SAM2_OK && store) {
        store->cc = calloc((size_t)n_crops, sizeof *store->cc);
        if (!store->cc) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d crops", n_crops);
        else store->n_crops = n_crops;
        for (int c = 0; c < n_crops && st == SAM2_OK; c++) store->cc[c].max_iou = NAN;
    }
    if (st == SAM2_OK) {
        amg_crop_boxes(W, H, params->crop_n_layers, amg_float_as_decimal(params->crop_overlap_ratio), crops);
        for (int c = 0; c < n_crops; c++) S.clicks_total += layer_points(params, crops[c].layer);
    }
    for (int c = 0; c < n_crops && st == SAM2_OK; c++) {
        crop_start[c] = all->n;
        counts[c].max_pred_iou = counts[c].max_stability = NAN;
        S.fc = &counts[c];
        st = process_crop(&S, img, &crops[c], all, store, store ? &store->cc[c] : NULL);
    }
    if (st == SAM2_OK) crop_start[n_crops] = all->n;
    state_free(&S);
    *crops_out = crops, *crop_start_out = crop_start;
    if (counts_out) *counts_out = counts;
    else free(counts);
    return st;
}

/* The NMS across crops (scored by 1 / crop area: smaller crops win) and the
 * result records, from every crop's kept records. */
static sam2_status assemble(const sam2_amg_params *params, const amg_crop *crops, int n_crops, const int *crop_start,
                            const sam2_amg_filter_counts *counts, rec_list *all, int W, int H, sam2_amg_result **out) {
    int *order = NULL, n_order = all->n;
    int *rec_crop = NULL;
    sam2_status st = SAM2_OK;
    order = malloc(sizeof(int) * ((size_t)all->n + 1));
    rec_crop = malloc(sizeof(int) * ((size_t)all->n + 1));
    if (!order || !rec_crop) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d masks", all->n);
    if (st == SAM2_OK) {
        for (int c = 0; c < n_crops; c++)
            for (int i = crop_start[c]; i < crop_start[c + 1]; i++) rec_crop[i] = c;
        for (int i = 0; i < all->n; i++) order[i] = i;
    }
    if (st == SAM2_OK && n_crops > 1 && all->n > 0) {
        float *boxes = malloc(sizeof(float) * 4 * (size_t)all->n), *scores = malloc(sizeof(float) * (size_t)all->n);
        if (!boxes || !scores) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for NMS of %d masks", all->n);
        for (int i = 0; i < all->n && st == SAM2_OK; i++) {
            const amg_crop *c = &crops[rec_crop[i]];
            for (int k = 0; k < 4; k++) boxes[4 * i + k] = (float)all->v[i].box[k];
            const int64_t area = (int64_t)(c->x1 - c->x0) * (c->y1 - c->y0);
            scores[i] = 1.0f / (float)area;
        }
        if (st == SAM2_OK)
            st = nms_boxes(boxes, scores, all->n, amg_float_as_decimal(params->crop_nms_thresh), order, &n_order);
        free(boxes), free(scores);
    }

    sam2_amg_result *r = NULL;
    if (st == SAM2_OK) {
        r = calloc(1, sizeof *r);
        if (r && n_order > 0) r->masks = calloc((size_t)n_order, sizeof *r->masks);
        if (!r || (n_order > 0 && !r->masks)) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d mask records", n_order);
    }
    if (st == SAM2_OK) {
        r->width = W, r->height = H, r->n_masks = n_order;
        r->filters.max_pred_iou = r->filters.max_stability = NAN;
        for (int c = 0; c < n_crops; c++) { /* each crop's counts, summed */
            const sam2_amg_filter_counts *f = &counts[c];
            sam2_amg_filter_counts *t = &r->filters;
            t->clicks += f->clicks, t->candidates += f->candidates, t->above_pred_iou += f->above_pred_iou;
            t->above_stability += f->above_stability, t->off_crop_edge += f->off_crop_edge;
            t->after_box_nms += f->after_box_nms;
            t->max_pred_iou = max_or_nan(t->max_pred_iou, f->max_pred_iou);
            t->max_stability = max_or_nan(t->max_stability, f->max_stability);
        }
        r->filters.after_crop_nms = n_order;
        for (int k = 0; k < n_order && st == SAM2_OK; k++) {
            st = rec_to_mask(&all->v[order[k]], &crops[rec_crop[order[k]]], 0, &r->masks[k]);
            free(all->v[order[k]].packed), all->v[order[k]].packed = NULL;
        }
    }
    if (st == SAM2_OK) {
        *out = r;
        r = NULL;
    }
    sam2_amg_result_free(r);
    free(order), free(rec_crop);
    return st;
}

/* The generator, and with pool also its candidate pool (see
 * sam2_amg_generate_pool); with zoom_layers above params' crop layers the
 * crops of the deeper layers are decoded for the pool only (see
 * sam2_amg_generate_pool_zoomed). */
static sam2_status generate(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params, int zoom_layers,
                            float pool_pred, sam2_amg_result **out, sam2_amg_result **pool) {
    int W = 0, H = 0;
    SAM2_TRY(check_inputs(ctx, img, params, &W, &H));
    /* the decoded layers: params' own, or more for the pool; with explicit
     * grids, layers without one of their own ask the last one given */
    sam2_amg_params dec = *params;
    const float *grids[4];
    int sizes[4];
    if (zoom_layers > params->crop_n_layers && img) {
        SAM2_TRY(check_range("zoom_layers", (float)zoom_layers, 0.0f, 3.0f));
        dec.crop_n_layers = zoom_layers;
        if (params->point_grids && params->n_point_grids < zoom_layers + 1) {
            for (int l = 0; l <= zoom_layers; l++) {
                const int g = l < params->n_point_grids ? l : params->n_point_grids - 1;
                grids[l] = params->point_grids[g], sizes[l] = params->point_grid_sizes[g];
            }
            dec.point_grids = grids, dec.point_grid_sizes = sizes, dec.n_point_grids = zoom_layers + 1;
        }
    }
    sam2_amg_result *P = NULL;
    if (pool) {
        SAM2_TRY(check_range("pool_pred_iou_thresh", pool_pred, 0.0f, 1.0f));
        P = calloc(1, sizeof *P);
        if (!P) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the AMG candidate pool");
        P->width = W, P->height = H;
    }
    amg_crop *crops = NULL;
    int *crop_start = NULL;
    rec_list all = {0};
    sam2_amg_filter_counts *counts = NULL;
    sam2_status st = decode_crops(ctx, img, &dec, W, H, NULL, &crops, &crop_start, &counts, &all, P, pool_pred);
    /* the crops come layer by layer: params' own are the first ones, and
     * so are their records (the list shares its records with all) */
    const int n_own = amg_n_crops(params->crop_n_layers);
    rec_list own = all;
    if (st == SAM2_OK) own.n = crop_start[n_own];
    if (st == SAM2_OK) st = assemble(params, crops, n_own, crop_start, counts, &own, W, H, out);
    free(crops), free(crop_start), free(counts);
    rec_list_free(&all);
    if (st != SAM2_OK) sam2_amg_result_free(P);
    else if (pool) *pool = P;
    return st;
}

sam2_status sam2_amg_generate(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                              sam2_amg_result **out) {
    if (!out) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_generate: out is NULL");
    *out = NULL;
    return generate(ctx, img, params, 0, 0.0f, out, NULL);
}

sam2_status sam2_amg_generate_pool(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                   float pool_pred_iou_thresh, sam2_amg_result **out, sam2_amg_result **pool) {
    if (!out || !pool) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_generate_pool: out or pool is NULL");
    *out = NULL, *pool = NULL;
    return generate(ctx, img, params, 0, pool_pred_iou_thresh, out, pool);
}

sam2_status sam2_amg_generate_pool_zoomed(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                          int zoom_layers, float pool_pred_iou_thresh, sam2_amg_result **out,
                                          sam2_amg_result **pool) {
    if (!out || !pool) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_generate_pool_zoomed: out or pool is NULL");
    *out = NULL, *pool = NULL;
    return generate(ctx, img, params, zoom_layers, pool_pred_iou_thresh, out, pool);
}

/* ------------------------------------------------- decoder-output reuse */

void sam2_amg_candidates_free(sam2_amg_candidates *c) {
    if (!c) return;
    for (int i = 0; c->cc && i < c->n_crops; i++) free(c->cc[i].low), free(c->cc[i].iou), free(c->cc[i].pts);
    free(c->cc), free(c->crops), free(c->grid_copy), free(c->grid_sizes_copy);
    free(c);
}

sam2_status sam2_amg_candidates_new(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                    size_t max_bytes, sam2_amg_candidates **out) {
    if (!out) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_candidates_new: out is NULL");
    *out = NULL;
    int W = 0, H = 0;
    SAM2_TRY(check_inputs(ctx, img, params, &W, &H));
    sam2_amg_candidates *c = calloc(1, sizeof *c);
    if (!c) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for AMG candidates");
    const sam2_config *cfg = &ctx->model->cfg;
    c->W = W, c->H = H, c->L = 4 * (cfg->image_size / cfg->backbone_stride);
    c->n_threads = ctx->n_threads > 0 ? ctx->n_threads : 1;
    c->shape = *params;
    c->loose_pred = params->pred_iou_thresh;
    c->separable = !params->use_m2m && params->multimask_output && cfg->num_multimask_outputs > 1;
    c->max_bytes = max_bytes;
    sam2_status st = SAM2_OK;
    if (params->point_grids) { /* a private copy, to recognise the same grids later */
        size_t total = 0;
        for (int g = 0; g < params->n_point_grids; g++) total += 2 * (size_t)params->point_grid_sizes[g];
        c->grid_copy = malloc(sizeof(float) * total);
        c->grid_sizes_copy = malloc(sizeof(int) * (size_t)params->n_point_grids);
        if (!c->grid_copy || !c->grid_sizes_copy) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for point grids");
        for (int g = 0, o = 0; g < params->n_point_grids && st == SAM2_OK; g++) {
            c->grid_sizes_copy[g] = params->point_grid_sizes[g];
            memcpy(c->grid_copy + o, params->point_grids[g], sizeof(float) * 2 * (size_t)params->point_grid_sizes[g]);
            o += 2 * params->point_grid_sizes[g];
        }
    }
    int *crop_start = NULL;
    rec_list none = {0};
    if (st == SAM2_OK) st = decode_crops(ctx, img, params, W, H, c, &c->crops, &crop_start, NULL, &none, NULL, 0.0f);
    free(crop_start);
    rec_list_free(&none);
    c->shape.point_grids = NULL, c->shape.point_grid_sizes = NULL;
    if (st != SAM2_OK) {
        sam2_amg_candidates_free(c);
        return st;
    }
    *out = c;
    return SAM2_OK;
}

void sam2_amg_candidates_info(const sam2_amg_candidates *c, int *n_candidates, size_t *bytes) {
    if (n_candidates) *n_candidates = c ? c->n_total : 0;
    if (bytes) *bytes = c ? c->bytes : 0;
}

/* Fails unless params decode exactly like the candidates' own parameters. */
static sam2_status check_compatible(const sam2_amg_candidates *c, const sam2_amg_params *p) {
    const sam2_amg_params *s = &c->shape;
#define SAME(f, name)                                                                                          \
    if (memcmp(&p->f, &s->f, sizeof p->f) != 0)                                                                \
        return SAM2_FAIL(SAM2_ERR_PARAM, "%s differs from the one the AMG candidates were decoded with: decode " \
                         "them again", name)
    SAME(points_per_side, "points_per_side");
    SAME(crop_n_layers, "crop_n_layers");
    SAME(crop_overlap_ratio, "crop_overlap_ratio");
    SAME(crop_n_points_downscale_factor, "crop_n_points_downscale_factor");
    SAME(use_m2m, "use_m2m");
    SAME(multimask_output, "multimask_output");
    SAME(n_point_grids, "point_grids");
#undef SAME
    if (!p->point_grids != !c->grid_copy) return SAM2_FAIL(SAM2_ERR_PARAM, "point_grids differ from the candidates'");
    for (int g = 0, o = 0; p->point_grids && g < p->n_point_grids; g++) {
        if (p->point_grid_sizes[g] != c->grid_sizes_copy[g] ||
            memcmp(p->point_grids[g], c->grid_copy + o, sizeof(float) * 2 * (size_t)p->point_grid_sizes[g]) != 0)
            return SAM2_FAIL(SAM2_ERR_PARAM, "point_grids[%d] differs from the candidates'", g);
        o += 2 * p->point_grid_sizes[g];
    }
    if (c->loose_pred > 0.0f && !(p->pred_iou_thresh >= c->loose_pred))
        return SAM2_FAIL(SAM2_ERR_PARAM, "pred_iou_thresh = %g is below %g, the loosest the candidates were kept for",
                         (double)p->pred_iou_thresh, (double)c->loose_pred);
    return SAM2_OK;
}

#define AMG_REFILTER_CHUNK 256

sam2_status sam2_amg_from_candidates(const sam2_amg_candidates *c, const sam2_amg_params *params,
                                     sam2_amg_result **out) {
    if (!out) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_from_candidates: out is NULL");
    *out = NULL;
    if (!c || !params) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_from_candidates: NULL argument");
    SAM2_TRY(sam2_amg_params_check(params));
    SAM2_TRY(check_compatible(c, params));
    const size_t LL = (size_t)c->L * c->L;
    amg_state S;
    memset(&S, 0, sizeof S);
    S.p = params;
    run_init(&S.run, params, c->L, c->W, c->H);
    S.n_threads = c->n_threads;
    S.scratch = calloc((size_t)S.n_threads, sizeof *S.scratch);
    S.res = malloc(sizeof(cand_result) * AMG_REFILTER_CHUNK);
    int *crop_start = malloc(sizeof(int) * ((size_t)c->n_crops + 1));
    sam2_amg_filter_counts *counts = calloc((size_t)c->n_crops, sizeof *counts);
    rec_list all = {0};
    sam2_status st = S.scratch && S.res && crop_start && counts ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for AMG re-filtering");
    for (int ci = 0; ci < c->n_crops && st == SAM2_OK; ci++) {
        const amg_crop *crop = &c->crops[ci];
        const cand_crop *cc = &c->cc[ci];
        const int cw = crop->x1 - crop->x0, ch = crop->y1 - crop->y0;
        crop_start[ci] = all.n;
        /* the stored candidates are counted as they are filtered again, the
         * ones the loosest IoU filter dropped here */
        sam2_amg_filter_counts *fc = &counts[ci];
        fc->clicks = cc->n_clicks, fc->candidates = cc->n_decoded - cc->n;
        fc->max_pred_iou = cc->max_iou, fc->max_stability = NAN;
        S.fc = fc;
        if (cw <= 0 || ch <= 0) continue; /* no pixels: no candidates (process_crop) */
        lerp_taps ty = {0}, tx = {0};
        rec_list list = {0};
        st = lerp_taps_init(&ty, c->L, ch);
        if (st == SAM2_OK) st = lerp_taps_init(&tx, c->L, cw);
        for (int t = 0; t < S.n_threads && st == SAM2_OK; t++) st = scratch_init(&S.scratch[t], c->L, ch, &tx);
        for (int k0 = 0; k0 < cc->n && st == SAM2_OK; k0 += AMG_REFILTER_CHUNK) {
            const int nk = cc->n - k0 < AMG_REFILTER_CHUNK ? cc->n - k0 : AMG_REFILTER_CHUNK;
            st = eval_batch(&S, crop, &ty, &tx, c->separable, nk, cc->low + (size_t)k0 * LL, cc->iou + k0,
                            cc->pts + 2 * (size_t)k0, 1, &list);
        }
        for (int t = 0; t < S.n_threads; t++) scratch_free(&S.scratch[t]);
        lerp_taps_free(&ty);
        lerp_taps_free(&tx);
        const int n_before = all.n;
        if (st == SAM2_OK) st = crop_nms(params, crop, &list, &all);
        else rec_list_free(&list);
        fc->after_box_nms = all.n - n_before;
    }
    if (st == SAM2_OK) crop_start[c->n_crops] = all.n;
    state_free(&S);
    if (st == SAM2_OK) st = assemble(params, c->crops, c->n_crops, crop_start, counts, &all, c->W, c->H, out);
    free(crop_start), free(counts);
    rec_list_free(&all);
    return st;
}
