/* amg_consensus.c - masks the model agrees on across clicks. Each grid click
 * is an independent question to the model; when several clicks get nearly
 * the same answer, that object is real even if each answer's predicted IoU
 * is low (a weak or unsure model), and the pixel-wise vote of those answers
 * is closer to the object than most single answers. The votes come from
 * the model's own outputs alone, with no proximity rule; one image cue
 * gates them: clicks on a smooth or noisy background agree too, on
 * arbitrary pieces of it, and those pieces' outlines cross no edge. The
 * same cue picks where a vote's boundary runs among the ones its answers
 * propose. */
#include <stdlib.h>
#include <string.h>

#include "amg_agree.h"
#include "amg_vote.h"
#include "edge_map.h"
#include "error.h"
#include "rle.h"
#include "rle_bits.h"
#include "rle_sketch.h"

sam2_consensus_params sam2_consensus_default_params(void) {
    sam2_consensus_params c;
    c.pool_pred_iou_thresh = 0.1f;
    c.agree_iou = 0.75f;
    c.min_support = 8;
    c.min_stability = 0.3f;
    c.min_edge = 1.5f;
    c.vote_frac = 0.4f;
    c.absorb_frac = 0.8f;
    c.inner_support = 24;
    c.cell_clicks = 0;
    c.zoom_layers = 1;
    c.mirror = 1;
    c.flip = 0;
    c.denoised = 1;
    c.denoised_min_support = 14;
    c.denoised_inner_support = 38;
    c.pick_level = SAM2_PICK_LEVEL_GRAY;
    c.level_gain = 0.25f;
    c.pick_masks = 1;
    return c;
}

sam2_status sam2_consensus_params_check(const sam2_consensus_params *c) {
    if (!c) return SAM2_FAIL(SAM2_ERR_PARAM, "consensus: NULL parameters");
    SAM2_TRY(sam2_check_range("consensus", "pool_pred_iou_thresh", c->pool_pred_iou_thresh, 0, 1));
    SAM2_TRY(sam2_check_range("consensus", "agree_iou", c->agree_iou, 0.01f, 1));
    SAM2_TRY(sam2_check_range("consensus", "vote_frac", c->vote_frac, 0.01f, 1));
    SAM2_TRY(sam2_check_range("consensus", "min_stability", c->min_stability, 0, 1));
    SAM2_TRY(sam2_check_range("consensus", "min_edge", c->min_edge, 0, 1e6));
    SAM2_TRY(sam2_check_range("consensus", "absorb_frac", c->absorb_frac, 0.01f, 1));
    SAM2_TRY(sam2_check_range("consensus", "min_support", c->min_support, 1, 1000000));
    SAM2_TRY(sam2_check_range("consensus", "inner_support", c->inner_support, 0, 1000000));
    SAM2_TRY(sam2_check_range("consensus", "cell_clicks", c->cell_clicks, 0, 1));
    SAM2_TRY(sam2_check_range("consensus", "zoom_layers", c->zoom_layers, 0, 3));
    SAM2_TRY(sam2_check_range("consensus", "mirror", c->mirror, 0, 1));
    SAM2_TRY(sam2_check_range("consensus", "flip", c->flip, 0, 1));
    SAM2_TRY(sam2_check_range("consensus", "denoised", c->denoised, 0, 1));
    SAM2_TRY(sam2_check_range("consensus", "denoised_min_support", c->denoised_min_support, 1, 1000000));
    SAM2_TRY(sam2_check_range("consensus", "denoised_inner_support", c->denoised_inner_support, 0, 1000000));
    SAM2_TRY(sam2_check_range("consensus", "pick_level", c->pick_level, SAM2_PICK_LEVEL_OFF, SAM2_PICK_LEVEL_ALL));
    SAM2_TRY(sam2_check_range("consensus", "level_gain", c->level_gain, 0, 100));
    SAM2_TRY(sam2_check_range("consensus", "pick_masks", c->pick_masks, 0, 1));
    return SAM2_OK;
}

/* 1 when candidate c agrees with mask m or lies mostly inside it (sc, sm:
 * their sketches, which rule most pairs out without the exact overlap). */
static int covered_by(const sam2_amg_mask *c, const sam2_amg_mask *m, const rle_sketch *sc, const rle_sketch *sm,
                      const rle_bits *bc, const rle_bits *bm, const sam2_consensus_params *cp) {
    if (c->area == 0 || !amg_box_overlap(c->bbox, m->bbox)) return 0;
    const int64_t bound = rle_sketch_bound(sc, sm);
    if ((double)bound < (double)cp->absorb_frac * (double)c->area &&
        (double)bound < (double)cp->agree_iou * (double)(c->area + m->area - bound))
        return 0;
    const int64_t inter = amg_overlap(c, m, bc, bm);
    if ((double)inter >= (double)cp->absorb_frac * (double)c->area) return 1;
    return (double)inter >= (double)cp->agree_iou * (double)(c->area + m->area - inter);
}

/* The agreement graph in compressed rows: the candidates j agreeing with i
 * are nbr[start[i] .. start[i + 1]). */
typedef struct agree_graph {
    int *start, *nbr;
} agree_graph;

/* The candidates j > i agreeing with one candidate i, in increasing order. */
typedef struct nbr_row {
    int *v, n, cap;
} nbr_row;

static int row_push(nbr_row *r, int j) {
    if (r->n == r->cap) {
        const int cap = r->cap ? 2 * r->cap : 16;
        int *v = realloc(r->v, sizeof(int) * (size_t)cap);
        if (!v) return 0;
        r->v = v, r->cap = cap;
    }
    r->v[r->n++] = j;
    return 1;
}

/* Rows are found in parallel (pairs are independent) and joined in the
 * order of a sequential sweep over (i, j), so the graph does not depend on
 * the thread count. */
static sam2_status graph_build(const sam2_amg_mask *c, const rle_sketch *sk, const rle_bits *bits, int n, double agree,
                               int H, int W, agree_graph *g) {
    g->start = calloc((size_t)n + 1, sizeof(int));
    nbr_row *rows = calloc((size_t)n + 1, sizeof *rows);
    if (!g->start || !rows) {
        free(rows);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the consensus of %d candidates", n);
    }
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 4) reduction(| : failed)
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n && !failed; j++)
            if (amg_agreeing(&c[i], &c[j], &sk[i], &sk[j], &bits[i], &bits[j], agree, H, W) && !row_push(&rows[i], j)) failed = 1;
    int64_t ne = 0;
    for (int i = 0; i < n; i++) {
        ne += rows[i].n;
        g->start[i + 1] += rows[i].n;
        for (int k = 0; k < rows[i].n; k++) g->start[rows[i].v[k] + 1]++;
    }
    sam2_status st = SAM2_OK;
    if (failed || ne > (INT32_MAX - 1) / 2) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the agreeing pairs of %d candidates", n);
    int *fill = NULL;
    if (st == SAM2_OK) {
        for (int i = 0; i < n; i++) g->start[i + 1] += g->start[i];
        g->nbr = malloc(sizeof(int) * (size_t)(2 * ne + 1));
        fill = malloc(sizeof(int) * ((size_t)n + 1));
        if (!g->nbr || !fill) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %lld agreeing pairs", (long long)ne);
    }
    if (st == SAM2_OK) {
        memcpy(fill, g->start, sizeof(int) * (size_t)n);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < rows[i].n; k++) {
                const int j = rows[i].v[k];
                g->nbr[fill[i]++] = j, g->nbr[fill[j]++] = i;
            }
    }
    free(fill);
    for (int i = 0; i < n; i++) free(rows[i].v);
    free(rows);
    return st;
}

/* Sets candidate k aside: it no longer supports its neighbours. */
static void set_aside(int k, const agree_graph *g, uint8_t *alive, int *support) {
    if (!alive[k]) return;
    alive[k] = 0;
    for (int e = g->start[k]; e < g->start[k + 1]; e++) support[g->nbr[e]]--;
}

/* 1 when one of click cl's answers (consecutive in the pool from index cl
 * on) agrees with mask m (sketch sm, bits bm). */
static int click_answers(const sam2_amg_mask *c, const int *click, const rle_sketch *sk, const rle_bits *bits, int n,
                         int cl, const sam2_amg_mask *m, const rle_sketch *sm, const rle_bits *bm, double agree, int H, int W) {
    for (int j = cl; j < n && click[j] == cl; j++)
        if (amg_agreeing(&c[j], m, &sk[j], sm, &bits[j], bm, agree, H, W)) return 1;
    return 0;
}

/* The masks of the result with their sketches and bits (grown as votes are
 * added): the hosts a vote may lie inside. */
typedef struct kept_masks {
    const sam2_amg_result *res;
    rle_sketch *sk;
    rle_bits *bits;
    int cap;
} kept_masks;

static sam2_status kept_reserve(kept_masks *km, int need) {
    if (need <= km->cap) return SAM2_OK;
    const int cap = need > 2 * km->cap ? need : 2 * km->cap;
    rle_sketch *sk = realloc(km->sk, sizeof *sk * (size_t)cap);
    if (sk) km->sk = sk;
    rle_bits *bits = sk ? realloc(km->bits, sizeof *bits * (size_t)cap) : NULL;
    if (!bits) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the sketches of %d masks", cap);
    memset(bits + km->cap, 0, sizeof *bits * (size_t)(cap - km->cap));
    km->bits = bits, km->cap = cap;
    return SAM2_OK;
}

/* With inner_support: 0 when vote m (of the candidates members[0..k); sketch
 * sm, bits bm) lies mostly inside a mask of the result and is not shown
 * separate from it: voters from fewer than inner_support distinct clicks,
 * or at least half of those clicks also answering with that mask. 1
 * otherwise. stamp and *visit mark clicks seen, as in the support count. */
static int separate_inside(const sam2_amg_mask *c, const int *click, const rle_sketch *sk, const rle_bits *bits, int n,
                           const int *members, int k, const sam2_amg_mask *m, const rle_sketch *sm, const rle_bits *bm,
                           const kept_masks *km, const sam2_consensus_params *cp, int H, int W, int *stamp, int *visit) {
    if (m->area == 0) return 1;
    const double need = (double)cp->absorb_frac * (double)m->area;
    const sam2_amg_mask *kept = km->res->masks;
    int host = -1;
    for (int r = 0; r < km->res->n_masks && host < 0; r++)
        if (amg_box_overlap(m->bbox, kept[r].bbox) && (double)rle_sketch_bound(sm, &km->sk[r]) >= need &&
            (double)amg_overlap(m, &kept[r], bm, &km->bits[r]) >= need)
            host = r;
    if (host < 0) return 1;
    int clicks = 0, linked = 0;
    const int v = ++*visit;
    for (int t = 0; t < k; t++) {
        const int cl = click[members[t]];
        if (stamp[cl] == v) continue;
        stamp[cl] = v, clicks++;
        linked += click_answers(c, click, sk, bits, n, cl, &kept[host], &km->sk[host], &km->bits[host],
                                (double)cp->agree_iou, H, W);
    }
    return clicks >= cp->inner_support && 2 * linked < clicks;
}

/* Whether candidate i goes out of the pool now that mask m (sketch sm, bits
 * bm) is in the result: when it agrees with m or lies mostly inside it;
 * with inner_support, a candidate merely inside m stays unless its click
 * also answered with m (another question may show it separate). The
 * click's answers include i itself, so agreeing with m is covered. */
static int taken_by(const sam2_amg_mask *c, const int *click, const rle_sketch *sk, const rle_bits *bits, int n, int i,
                    const sam2_amg_mask *m, const rle_sketch *sm, const rle_bits *bm, const sam2_consensus_params *cp,
                    int H, int W) {
    if (!covered_by(&c[i], m, &sk[i], sm, &bits[i], bm, cp)) return 0;
    return cp->inner_support <= 0 || click_answers(c, click, sk, bits, n, click[i], m, sm, bm, (double)cp->agree_iou, H, W);
}

static sam2_status append(sam2_amg_result *res, sam2_amg_mask *m) {
    sam2_amg_mask *v = realloc(res->masks, sizeof *v * ((size_t)res->n_masks + 1));
    if (!v) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory adding a consensus mask");
    res->masks = v;
    res->masks[res->n_masks++] = *m;
    return SAM2_OK;
}

sam2_status sam2_amg_consensus(const sam2_amg_result *pool, const sam2_image *img, const sam2_consensus_params *cp,
                               sam2_amg_result *res) {
    if (!pool || !cp || !res) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_consensus: NULL argument");
    SAM2_TRY(sam2_consensus_params_check(cp));
    if (pool->width != res->width || pool->height != res->height)
        return SAM2_FAIL(SAM2_ERR_PARAM, "consensus: the pool is %dx%d, the masks are %dx%d (another image?)",
                         pool->width, pool->height, res->width, res->height);
    outline_test outline;
    SAM2_TRY(outline_test_open(img, cp->min_edge, cp->pick_level != SAM2_PICK_LEVEL_OFF, pool->width, pool->height,
                               &outline));
    /* the image picks the votes' levels: on gray images by default, where
     * luminance is all the model sees too (on colour scenes it cost objects) */
    const edge_map *levels = cp->pick_level == SAM2_PICK_LEVEL_ALL ||
                                     (cp->pick_level == SAM2_PICK_LEVEL_GRAY && outline.edges.gray)
                                 ? &outline.edges
                                 : NULL;
    const int n = pool->n_masks, W = res->width, H = res->height, n_before = res->n_masks;
    const sam2_amg_mask *c = pool->masks;
    agree_graph g = {0};
    uint8_t *alive = malloc((size_t)n + 1);
    int *support = malloc(sizeof(int) * ((size_t)n + 1)), *members = malloc(sizeof(int) * ((size_t)n + 1));
    sam2_status st = alive && support && members ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the consensus of %d candidates", n);
    int *click = malloc(sizeof(int) * ((size_t)n + 1)), *stamp = calloc((size_t)n + 1, sizeof(int));
    if (st == SAM2_OK && (!click || !stamp)) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the consensus of %d candidates", n);
    if (st == SAM2_OK) amg_click_ids(c, n, click);
    /* sketches and bits of the pool and of the result's masks */
    rle_sketch *sk = malloc(sizeof *sk * ((size_t)n + 1));
    rle_bits *bits = calloc((size_t)n + 1, sizeof *bits);
    kept_masks km = {res, NULL, NULL, 0};
    if (st == SAM2_OK && (!sk || !bits)) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the consensus of %d candidates", n);
    if (st == SAM2_OK) st = kept_reserve(&km, n_before + 16);
    if (st == SAM2_OK) {
        int failed = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(| : failed)
        for (int i = 0; i < n + n_before; i++) {
            const sam2_amg_mask *m = i < n ? &c[i] : &res->masks[i - n];
            rle_sketch *ms = i < n ? &sk[i] : &km.sk[i - n];
            rle_bits *mb = i < n ? &bits[i] : &km.bits[i - n];
            rle_sketch_make(m->counts, m->n_counts, H, W, ms);
            if (rle_bits_make_if_dense(m->counts, m->n_counts, H, mb) != SAM2_OK) failed = 1;
        }
        if (failed) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the bits of %d candidates", n);
    }
    if (st == SAM2_OK) st = graph_build(c, sk, bits, n, (double)cp->agree_iou, H, W, &g);
    if (st == SAM2_OK) {
        for (int i = 0; i < n; i++) {
            alive[i] = c[i].area > 0;
            support[i] = 1 + g.start[i + 1] - g.start[i];
        }
        for (int i = 0; i < n; i++)
            for (int r = 0; r < n_before && alive[i]; r++)
                if (taken_by(c, click, sk, bits, n, i, &res->masks[r], &km.sk[r], &km.bits[r], cp, H, W))
                    set_aside(i, &g, alive, support);
    }
    int visit = 0; /* stamp value of the current count */
    rle_sketch vsk; /* the vote being added */
    rle_bits vbits = {0};
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
        float edge = -1; /* the vote's outline median, when picking its level measured it */
        st = amg_vote(c, members, k, cp->vote_frac, levels, cp->level_gain, -1, W, H, &m, &edge);
        if (st != SAM2_OK) break;
        double iou = 0, stab = 0;
        for (int t = 0; t < k; t++) {
            iou += c[members[t]].predicted_iou, stab += c[members[t]].stability_score;
            set_aside(members[t], &g, alive, support);
        }
        if (m.area == 0 || stab / k < (double)cp->min_stability) {
            free(m.counts);
            continue;
        }
        int ends = 1; /* the clicks agree on a region, but does the image end there? */
        if (edge >= 0) ends = outline_test_accepts(&outline, edge);
        else st = outline_test_passes_rle(&outline, m.counts, m.n_counts, &ends);
        if (st != SAM2_OK || !ends) {
            free(m.counts);
            continue;
        }
        m.predicted_iou = (float)(iou / k), m.stability_score = (float)(stab / k);
        memcpy(m.point, c[best].point, sizeof m.point);
        memcpy(m.crop_box, c[best].crop_box, sizeof m.crop_box);
        m.source = SAM2_MASK_CONSENSUS;
        rle_sketch_make(m.counts, m.n_counts, H, W, &vsk);
        rle_bits_free(&vbits);
        st = rle_bits_make_if_dense(m.counts, m.n_counts, H, &vbits);
        if (st == SAM2_OK) st = kept_reserve(&km, res->n_masks + 1);
        if (st != SAM2_OK) {
            free(m.counts);
            break;
        }
        /* absorbed: not added, but its voters and what lies inside it go, as
         * if the mask it lies in had taken them */
        const int absorbed = cp->inner_support > 0 &&
                             !separate_inside(c, click, sk, bits, n, members, k, &m, &vsk, &vbits, &km, cp, H, W, stamp, &visit);
        const sam2_amg_mask *taker = &m;
        const rle_sketch *tsk = &vsk;
        const rle_bits *tbits = &vbits;
        if (!absorbed) {
            st = append(res, &m);
            if (st != SAM2_OK) {
                free(m.counts);
                break;
            }
            const int r = res->n_masks - 1;
            km.sk[r] = vsk, km.bits[r] = vbits;
            memset(&vbits, 0, sizeof vbits);
            taker = &res->masks[r], tsk = &km.sk[r], tbits = &km.bits[r];
        }
        for (int i = 0; i < n; i++)
            if (alive[i] && (absorbed ? covered_by(&c[i], taker, &sk[i], tsk, &bits[i], tbits, cp)
                                      : taken_by(c, click, sk, bits, n, i, taker, tsk, tbits, cp, H, W)))
                set_aside(i, &g, alive, support);
        if (absorbed) free(m.counts);
    }
    rle_bits_free(&vbits);
    outline_test_close(&outline);
    for (int r = 0; r < km.cap; r++) rle_bits_free(&km.bits[r]);
    free(km.sk), free(km.bits);
    if (st != SAM2_OK) { /* leave res as it was */
        for (int r = n_before; r < res->n_masks; r++) free(res->masks[r].counts);
        res->n_masks = n_before;
    }
    free(g.start), free(g.nbr), free(alive), free(support), free(members), free(click), free(stamp), free(sk);
    for (int i = 0; bits && i < n; i++) rle_bits_free(&bits[i]);
    free(bits);
    return st;
}
