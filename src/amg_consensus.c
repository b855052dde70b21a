/* amg_consensus.c - masks the model agrees on across clicks. Each grid click
 * is an independent question to the model; when several clicks get nearly
 * the same answer, that object is real even if each answer's predicted IoU
 * is low (a weak or unsure model), and the pixel-wise vote of those answers
 * is closer to the object than most single answers. Only the model's own
 * outputs are used: no image cue, no proximity rule. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rle.h"

sam2_consensus_params sam2_consensus_default_params(void) {
    sam2_consensus_params c;
    c.pool_pred_iou_thresh = 0.1f;
    c.agree_iou = 0.75f;
    c.min_support = 4;
    c.vote_frac = 0.5f;
    c.absorb_frac = 0.8f;
    return c;
}

sam2_status sam2_consensus_params_check(const sam2_consensus_params *c) {
    if (!c) return SAM2_FAIL(SAM2_ERR_PARAM, "consensus: NULL parameters");
    SAM2_TRY(sam2_check_range("consensus", "pool_pred_iou_thresh", c->pool_pred_iou_thresh, 0, 1));
    SAM2_TRY(sam2_check_range("consensus", "agree_iou", c->agree_iou, 0.01f, 1));
    SAM2_TRY(sam2_check_range("consensus", "vote_frac", c->vote_frac, 0.01f, 1));
    SAM2_TRY(sam2_check_range("consensus", "absorb_frac", c->absorb_frac, 0.01f, 1));
    SAM2_TRY(sam2_check_range("consensus", "min_support", c->min_support, 1, 1000000));
    return SAM2_OK;
}

/* Inclusive pixel boxes overlap area (0 when apart); boxes are x, y, w, h
 * with w = x1 - x0 as in the records. */
static int64_t box_overlap(const float *a, const float *b) {
    const int ax0 = (int)a[0], ay0 = (int)a[1], ax1 = (int)(a[0] + a[2]), ay1 = (int)(a[1] + a[3]);
    const int bx0 = (int)b[0], by0 = (int)b[1], bx1 = (int)(b[0] + b[2]), by1 = (int)(b[1] + b[3]);
    const int ix = (ax1 < bx1 ? ax1 : bx1) - (ax0 > bx0 ? ax0 : bx0) + 1;
    const int iy = (ay1 < by1 ? ay1 : by1) - (ay0 > by0 ? ay0 : by0) + 1;
    return ix > 0 && iy > 0 ? (int64_t)ix * iy : 0;
}

/* IoU of two records of the same image when it can reach agree, else -1
 * (cheap bounds from the areas and the boxes first). */
static double agreeing_iou(const sam2_amg_mask *a, const sam2_amg_mask *b, double agree) {
    const int64_t lo = a->area < b->area ? a->area : b->area, hi = a->area < b->area ? b->area : a->area;
    if (hi == 0 || (double)lo < agree * (double)hi) return -1.0;
    int64_t bound = box_overlap(a->bbox, b->bbox);
    if (bound > lo) bound = lo;
    if ((double)bound < agree * (double)(a->area + b->area - bound)) return -1.0;
    const int64_t inter = rle_intersection_area(a->counts, a->n_counts, b->counts, b->n_counts);
    const double iou = (double)inter / (double)(a->area + b->area - inter);
    return iou >= agree ? iou : -1.0;
}

/* 1 when candidate c agrees with mask m or lies mostly inside it. */
static int covered_by(const sam2_amg_mask *c, const sam2_amg_mask *m, const sam2_consensus_params *cp) {
    if (c->area == 0 || !box_overlap(c->bbox, m->bbox)) return 0;
    const int64_t inter = rle_intersection_area(c->counts, c->n_counts, m->counts, m->n_counts);
    if ((double)inter >= (double)cp->absorb_frac * (double)c->area) return 1;
    return (double)inter >= (double)cp->agree_iou * (double)(c->area + m->area - inter);
}

/* The agreement graph in compressed rows: the candidates j agreeing with i
 * are nbr[start[i] .. start[i + 1]). */
typedef struct agree_graph {
    int *start, *nbr;
} agree_graph;

static sam2_status graph_build(const sam2_amg_mask *c, int n, double agree, agree_graph *g) {
    int *ei = NULL, *ej = NULL;
    int64_t ne = 0, cap = 0;
    sam2_status st = SAM2_OK;
    g->start = calloc((size_t)n + 1, sizeof(int));
    if (!g->start) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the consensus of %d candidates", n);
    for (int i = 0; i < n && st == SAM2_OK; i++)
        for (int j = i + 1; j < n; j++) {
            if (agreeing_iou(&c[i], &c[j], agree) < 0) continue;
            if (ne == cap) {
                cap = cap ? 2 * cap : 1024;
                int *ni = realloc(ei, sizeof(int) * (size_t)cap);
                if (ni) ei = ni;
                int *nj = ni ? realloc(ej, sizeof(int) * (size_t)cap) : NULL;
                if (!nj) {
                    st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %lld agreeing pairs", (long long)cap);
                    break;
                }
                ej = nj;
            }
            ei[ne] = i, ej[ne] = j, ne++;
            g->start[i + 1]++, g->start[j + 1]++;
        }
    if (st == SAM2_OK) {
        for (int i = 0; i < n; i++) g->start[i + 1] += g->start[i];
        g->nbr = malloc(sizeof(int) * (size_t)(2 * ne + 1));
        int *fill = malloc(sizeof(int) * ((size_t)n + 1));
        if (!g->nbr || !fill) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %lld agreeing pairs", (long long)ne);
        if (st == SAM2_OK) {
            memcpy(fill, g->start, sizeof(int) * (size_t)n);
            for (int64_t e = 0; e < ne; e++) g->nbr[fill[ei[e]]++] = ej[e], g->nbr[fill[ej[e]]++] = ei[e];
        }
        free(fill);
    }
    free(ei), free(ej);
    return st;
}

/* Adds +1 to counts (bh, bw, row-major, box origin x0, y0) for every pixel of
 * a column-major RLE over an image of height H. */
static void add_votes(const sam2_amg_mask *m, int H, int x0, int y0, int bw, int bh, int32_t *counts) {
    int64_t p = 0;
    for (int i = 0; i < m->n_counts; i++) {
        const int64_t e = p + m->counts[i];
        if (i & 1)
            for (int64_t s = p; s < e;) {
                const int x = (int)(s / H), y = (int)(s % H);
                const int64_t col_end = (int64_t)(x + 1) * H, run = (e < col_end ? e : col_end) - s;
                if (x >= x0 && x < x0 + bw)
                    for (int64_t k = 0; k < run; k++) {
                        const int yy = y + (int)k - y0;
                        if (yy >= 0 && yy < bh) counts[(size_t)yy * bw + (x - x0)]++;
                    }
                s += run;
            }
        p = e;
    }
}

/* The vote of the candidates idx[0..k) as a new record m (RLE over the whole
 * image, area and box; the caller fills the scores). */
static sam2_status vote(const sam2_amg_mask *c, const int *idx, int k, float frac, int W, int H, sam2_amg_mask *m) {
    int x0 = W, y0 = H, x1 = -1, y1 = -1;
    for (int t = 0; t < k; t++) {
        const float *b = c[idx[t]].bbox;
        const int bx0 = (int)b[0], by0 = (int)b[1], bx1 = (int)(b[0] + b[2]), by1 = (int)(b[1] + b[3]);
        x0 = bx0 < x0 ? bx0 : x0, y0 = by0 < y0 ? by0 : y0;
        x1 = bx1 > x1 ? bx1 : x1, y1 = by1 > y1 ? by1 : y1;
    }
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    x1 = x1 >= W ? W - 1 : x1, y1 = y1 >= H ? H - 1 : y1;
    memset(m, 0, sizeof *m);
    if (x1 < x0 || y1 < y0) return SAM2_OK;
    const int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    int32_t *counts = calloc((size_t)bw * bh, sizeof(int32_t));
    uint8_t *row = malloc((size_t)bw);
    rle_rows rr;
    memset(&rr, 0, sizeof rr);
    sam2_status st = counts && row ? rle_rows_init(&rr, bh, bw) : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for a %dx%d vote", bw, bh);
    if (st == SAM2_OK) {
        for (int t = 0; t < k; t++) add_votes(&c[idx[t]], H, x0, y0, bw, bh, counts);
        const double need = (double)frac * (double)k;
        int mx0 = bw, my0 = bh, mx1 = -1, my1 = -1;
        for (int y = 0; y < bh && st == SAM2_OK; y++) {
            for (int x = 0; x < bw; x++) {
                row[x] = (double)counts[(size_t)y * bw + x] >= need;
                if (row[x]) {
                    mx0 = x < mx0 ? x : mx0, mx1 = x > mx1 ? x : mx1;
                    my0 = y < my0 ? y : my0, my1 = y;
                }
            }
            st = rle_rows_push(&rr, row);
        }
        if (st == SAM2_OK) st = rle_rows_finish(&rr, x0, y0, H, W, &m->counts, &m->n_counts);
        if (st == SAM2_OK) {
            m->area = rle_area(m->counts, m->n_counts);
            if (mx1 >= 0)
                m->bbox[0] = (float)(x0 + mx0), m->bbox[1] = (float)(y0 + my0), m->bbox[2] = (float)(mx1 - mx0),
                m->bbox[3] = (float)(my1 - my0);
        }
    }
    rle_rows_free(&rr);
    free(counts), free(row);
    return st;
}

/* Sets candidate k aside: it no longer supports its neighbours. */
static void set_aside(int k, const agree_graph *g, uint8_t *alive, int *support) {
    if (!alive[k]) return;
    alive[k] = 0;
    for (int e = g->start[k]; e < g->start[k + 1]; e++) support[g->nbr[e]]--;
}

static sam2_status append(sam2_amg_result *res, sam2_amg_mask *m) {
    sam2_amg_mask *v = realloc(res->masks, sizeof *v * ((size_t)res->n_masks + 1));
    if (!v) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory adding a consensus mask");
    res->masks = v;
    res->masks[res->n_masks++] = *m;
    return SAM2_OK;
}

sam2_status sam2_amg_consensus(const sam2_amg_result *pool, const sam2_consensus_params *cp, sam2_amg_result *res) {
    if (!pool || !cp || !res) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_consensus: NULL argument");
    SAM2_TRY(sam2_consensus_params_check(cp));
    if (pool->width != res->width || pool->height != res->height)
        return SAM2_FAIL(SAM2_ERR_PARAM, "consensus: the pool is %dx%d, the masks are %dx%d (another image?)",
                         pool->width, pool->height, res->width, res->height);
    const int n = pool->n_masks, W = res->width, H = res->height, n_before = res->n_masks;
    const sam2_amg_mask *c = pool->masks;
    agree_graph g = {0};
    uint8_t *alive = malloc((size_t)n + 1);
    int *support = malloc(sizeof(int) * ((size_t)n + 1)), *members = malloc(sizeof(int) * ((size_t)n + 1));
    sam2_status st = alive && support && members ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the consensus of %d candidates", n);
    int *click = malloc(sizeof(int) * ((size_t)n + 1)), *stamp = calloc((size_t)n + 1, sizeof(int));
    if (st == SAM2_OK && (!click || !stamp)) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the consensus of %d candidates", n);
    for (int i = 0; i < n && st == SAM2_OK; i++) /* one click's answers are consecutive in the pool */
        click[i] = i > 0 && !memcmp(c[i].point, c[i - 1].point, sizeof c[i].point) &&
                           !memcmp(c[i].crop_box, c[i - 1].crop_box, sizeof c[i].crop_box)
                       ? click[i - 1]
                       : i;
    if (st == SAM2_OK) st = graph_build(c, n, (double)cp->agree_iou, &g);
    if (st == SAM2_OK) {
        for (int i = 0; i < n; i++) {
            alive[i] = c[i].area > 0;
            support[i] = 1 + g.start[i + 1] - g.start[i];
        }
        for (int i = 0; i < n; i++)
            for (int r = 0; r < n_before && alive[i]; r++)
                if (covered_by(&c[i], &res->masks[r], cp)) set_aside(i, &g, alive, support);
    }
    int visit = 0; /* stamp value of the current count */
    while (st == SAM2_OK) {
        /* support: the distinct clicks among a candidate and the remaining
         * candidates agreeing with it (one click's three answers are often
         * alike, which is no agreement between questions) */
        int best = -1, best_support = 0;
        for (int i = 0; i < n; i++) {
            if (!alive[i] || support[i] < cp->min_support || support[i] <= best_support) continue;
            int clicks = 1;
            stamp[click[i]] = ++visit;
            for (int e = g.start[i]; e < g.start[i + 1]; e++) {
                const int j = g.nbr[e];
                if (alive[j] && stamp[click[j]] != visit) stamp[click[j]] = visit, clicks++;
            }
            if (clicks > best_support) best = i, best_support = clicks;
        }
        if (best < 0 || best_support < cp->min_support) break;
        int k = 0;
        members[k++] = best;
        for (int e = g.start[best]; e < g.start[best + 1]; e++)
            if (alive[g.nbr[e]]) members[k++] = g.nbr[e];
        sam2_amg_mask m;
        st = vote(c, members, k, cp->vote_frac, W, H, &m);
        if (st != SAM2_OK) break;
        double iou = 0, stab = 0;
        for (int t = 0; t < k; t++) {
            iou += c[members[t]].predicted_iou, stab += c[members[t]].stability_score;
            set_aside(members[t], &g, alive, support);
        }
        if (m.area == 0) {
            free(m.counts);
            continue;
        }
        m.predicted_iou = (float)(iou / k), m.stability_score = (float)(stab / k);
        memcpy(m.point, c[best].point, sizeof m.point);
        memcpy(m.crop_box, c[best].crop_box, sizeof m.crop_box);
        m.source = SAM2_MASK_CONSENSUS;
        st = append(res, &m);
        if (st != SAM2_OK) {
            free(m.counts);
            break;
        }
        const sam2_amg_mask *added = &res->masks[res->n_masks - 1];
        for (int i = 0; i < n; i++)
            if (alive[i] && covered_by(&c[i], added, cp)) set_aside(i, &g, alive, support);
    }
    if (st != SAM2_OK) { /* leave res as it was */
        for (int r = n_before; r < res->n_masks; r++) free(res->masks[r].counts);
        res->n_masks = n_before;
    }
    free(g.start), free(g.nbr), free(alive), free(support), free(members), free(click), free(stamp);
    return st;
}
