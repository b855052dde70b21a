/* amg_pick_levels.c - the image picks where a mask's boundary runs among
 * the boundaries the model's answers propose, for the masks that are not
 * consensus votes (those pick theirs as they are voted). A grid mask is one
 * answer to one click; the pool holds the answers of many clicks that agree
 * with it, and where they differ, mostly at a faint boundary, the share of
 * them whose outline follows the image's edges clearly better than the
 * mask's own outline replaces it. The model proposes every boundary; the
 * image only chooses among them. */
#include <stdlib.h>
#include <string.h>

#include "amg_agree.h"
#include "amg_vote.h"
#include "edge_map.h"
#include "error.h"

/* The pool's candidates as the agreement test reads them; a candidate's
 * sketch and bits are made when a mask's area and box first leave room for
 * agreement (most candidates never are: they lie elsewhere). */
typedef struct pool_view {
    const sam2_amg_mask *c;
    int n, H, W;
    int *click, *stamp, *members;
    uint8_t *made;
    rle_sketch *sk;
    rle_bits *bits;
} pool_view;

static void view_free(pool_view *v) {
    for (int i = 0; v->bits && i < v->n; i++) rle_bits_free(&v->bits[i]);
    free(v->click), free(v->stamp), free(v->members), free(v->made), free(v->sk), free(v->bits);
}

static sam2_status view_make(const sam2_amg_result *pool, pool_view *v) {
    const int n = pool->n_masks;
    memset(v, 0, sizeof *v);
    v->c = pool->masks, v->n = n, v->H = pool->height, v->W = pool->width;
    v->click = malloc(sizeof(int) * ((size_t)n + 1));
    v->stamp = calloc((size_t)n + 1, sizeof(int));
    v->members = malloc(sizeof(int) * ((size_t)n + 1));
    v->made = calloc((size_t)n + 1, 1);
    v->sk = malloc(sizeof *v->sk * ((size_t)n + 1));
    v->bits = calloc((size_t)n + 1, sizeof *v->bits);
    if (!v->click || !v->stamp || !v->members || !v->made || !v->sk || !v->bits) {
        view_free(v);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the level picking of %d candidates", n);
    }
    amg_click_ids(v->c, n, v->click);
    return SAM2_OK;
}

/* Candidate i's sketch and bits, made once. */
static sam2_status view_sketch(pool_view *v, int i) {
    if (v->made[i]) return SAM2_OK;
    rle_sketch_make(v->c[i].counts, v->c[i].n_counts, v->H, v->W, &v->sk[i]);
    SAM2_TRY(rle_bits_make_if_dense(v->c[i].counts, v->c[i].n_counts, v->H, &v->bits[i]));
    v->made[i] = 1;
    return SAM2_OK;
}

/* Mask m's level, picked among the pool's answers agreeing with it (see
 * sam2_amg_pick_levels); *visit: the stamp of the last click count. */
static sam2_status pick_one(pool_view *v, const sam2_consensus_params *cp, outline_test *ot, int W, int H, int *visit,
                            sam2_amg_mask *m) {
    rle_sketch msk;
    rle_bits mbits = {0};
    rle_sketch_make(m->counts, m->n_counts, H, W, &msk);
    SAM2_TRY(rle_bits_make_if_dense(m->counts, m->n_counts, H, &mbits));
    int k = 0, clicks = 0;
    const int stamp = ++*visit;
    sam2_status st = SAM2_OK;
    for (int i = 0; i < v->n && st == SAM2_OK; i++) {
        if (!amg_may_agree(&v->c[i], m, (double)cp->agree_iou) || (st = view_sketch(v, i)) != SAM2_OK) continue;
        if (amg_agreeing(&v->c[i], m, &v->sk[i], &msk, &v->bits[i], &mbits, (double)cp->agree_iou, H, W)) {
            v->members[k++] = i;
            if (v->stamp[v->click[i]] != stamp) v->stamp[v->click[i]] = stamp, clicks++;
        }
    }
    rle_bits_free(&mbits);
    if (st != SAM2_OK || clicks < cp->min_support) return st;
    SAM2_TRY(sam2_rle_decode(m->counts, m->n_counts, H, W, ot->bits));
    const float base = edge_outline_median(&ot->edges, ot->bits, ot->scratch);
    sam2_amg_mask picked;
    float outline;
    SAM2_TRY(amg_vote(v->c, v->members, k, cp->vote_frac, &ot->edges, cp->level_gain, base, W, H, &picked, &outline));
    if (picked.area == 0) {
        free(picked.counts);
        return SAM2_OK;
    }
    free(m->counts);
    m->counts = picked.counts, m->n_counts = picked.n_counts, m->area = picked.area;
    memcpy(m->bbox, picked.bbox, sizeof m->bbox);
    m->picked_level = picked.picked_level;
    return SAM2_OK;
}

sam2_status sam2_amg_pick_levels(const sam2_amg_result *pool, const sam2_image *img, const sam2_consensus_params *cp,
                                 sam2_amg_result *res) {
    if (!pool || !cp || !res) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_pick_levels: NULL argument");
    SAM2_TRY(sam2_consensus_params_check(cp));
    const int W = res->width, H = res->height;
    if (pool->width != W || pool->height != H)
        return SAM2_FAIL(SAM2_ERR_PARAM, "level picking: the pool is %dx%d, the masks are %dx%d (another image?)",
                         pool->width, pool->height, W, H);
    if (!img || !cp->pick_masks || cp->pick_level == SAM2_PICK_LEVEL_OFF) return SAM2_OK;
    outline_test ot;
    SAM2_TRY(outline_test_open(img, 0, 1, W, H, &ot));
    if (cp->pick_level == SAM2_PICK_LEVEL_GRAY && !ot.edges.gray) {
        outline_test_close(&ot);
        return SAM2_OK;
    }
    pool_view v;
    sam2_status st = view_make(pool, &v);
    if (st == SAM2_OK) {
        int visit = 0;
        for (int r = 0; r < res->n_masks && st == SAM2_OK; r++)
            if (res->masks[r].source != SAM2_MASK_CONSENSUS && res->masks[r].area > 0)
                st = pick_one(&v, cp, &ot, W, H, &visit, &res->masks[r]);
        view_free(&v);
    }
    outline_test_close(&ot);
    return st;
}
