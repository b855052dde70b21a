/* test_amg_fill_under.c - gap filling under large masks: on a gray image
 * with a square S as a step and a flat patch F, a mask over the whole image
 * hides both; the pool holds five answers of S and five of F, each from its
 * own click. The default support (8 clicks) adds nothing; with five clicks
 * enough, S is added (its outline is the step) and F is not (its outline
 * follows no edge); every setting that should leave the masks alone does;
 * bad arguments are refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

enum { LW = 64 };

typedef struct scene {
    uint8_t px[LW * LW], rgb[LW * LW * 3], s[LW * LW], f[LW * LW], all[LW * LW], half_s[LW * LW];
    sam2_amg_result pool;
} scene;

static void fill(uint8_t *m, int x0, int y0, int x1, int y1) {
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) m[y * LW + x] = 1;
}

/* S: [20, 40)^2, 160 on 100; F: [4, 12)^2, flat. The pool: five answers
 * of F (predicted IoU 0.4: tried first) and five of S (0.30 ... 0.34). */
static void scene_make(scene *sc) {
    memset(sc, 0, sizeof *sc);
    memset(sc->px, 100, sizeof sc->px);
    fill(sc->s, 20, 20, 40, 40);
    fill(sc->f, 4, 4, 12, 12);
    fill(sc->all, 0, 0, LW, LW);
    fill(sc->half_s, 20, 20, 40, 30); /* the upper half of S, away from its clicks (y 35) */
    for (int i = 0; i < LW * LW; i++) {
        if (sc->s[i]) sc->px[i] = 160;
        sc->rgb[3 * i] = sc->px[i], sc->rgb[3 * i + 1] = (uint8_t)(sc->px[i] - 20), sc->rgb[3 * i + 2] = 90;
    }
    sc->pool.width = sc->pool.height = LW;
    sc->pool.masks = calloc(10, sizeof *sc->pool.masks);
    for (int k = 0; k < 10; k++) {
        sam2_amg_mask m = test_mask_record(k < 5 ? sc->f : sc->s, LW, LW, k < 5 ? 0.4f : 0.3f + 0.01f * (float)(k - 5),
                                           0.5f, 0.0f);
        m.point[0] = k < 5 ? 5.0f + (float)k : 22.0f + 3.0f * (float)(k - 5), m.point[1] = k < 5 ? 8.0f : 35.0f;
        sc->pool.masks[sc->pool.n_masks++] = m;
    }
}

static void result_free(sam2_amg_result *r) {
    for (int k = 0; k < r->n_masks; k++) free(r->masks[k].counts);
    free(r->masks);
    memset(r, 0, sizeof *r);
}

/* The result: one grid mask, big (the whole image) unless told, and
 * optionally a second one, small. */
static sam2_amg_result result_make(const uint8_t *big, const uint8_t *small) {
    sam2_amg_result r = {0};
    r.width = r.height = LW;
    r.masks = calloc(2, sizeof *r.masks);
    r.masks[r.n_masks++] = test_mask_record(big, LW, LW, 0.7f, 0.9f, 30.0f);
    if (small) r.masks[r.n_masks++] = test_mask_record(small, LW, LW, 0.8f, 0.9f, 30.0f);
    return r;
}

/* Masks added with g on image (0 none, 1 gray, 2 colour); *has_s: one of
 * them is S, as the pool's best answer of S gave it. */
static int added(const scene *sc, const sam2_gap_fill_params *g, int image, const uint8_t *big, const uint8_t *small,
                 int *has_s) {
    sam2_amg_result r = result_make(big, small);
    const int before = r.n_masks;
    const sam2_image gray = {LW, LW, LW, 1, 8, (uint8_t *)sc->px}, colour = {LW, LW, 3 * LW, 3, 8, (uint8_t *)sc->rgb};
    CHECK_OK(sam2_amg_fill_under(&sc->pool, image == 1 ? &gray : image == 2 ? &colour : NULL, g, &r));
    *has_s = 0;
    for (int k = before; k < r.n_masks; k++) {
        const sam2_amg_mask *m = &r.masks[k];
        CHECK(m->source == SAM2_MASK_GAP_FILL, "an added mask has source %d", (int)m->source);
        if (m->area != 400) continue;
        uint8_t got[LW * LW];
        CHECK_OK(sam2_rle_decode(m->counts, m->n_counts, LW, LW, got));
        CHECK(!memcmp(got, sc->s, sizeof got), "the added mask of 400 pixels is not S");
        CHECK(m->predicted_iou > 0.339f && m->predicted_iou < 0.341f && m->point[0] == 34.0f && m->point[1] == 35.0f,
              "S was not added from its best answer (IoU %g, click %g, %g)", (double)m->predicted_iou,
              (double)m->point[0], (double)m->point[1]);
        CHECK(m->bbox[0] == 20 && m->bbox[1] == 20 && m->bbox[2] == 19 && m->bbox[3] == 19, "S's box %g %g %g %g",
              (double)m->bbox[0], (double)m->bbox[1], (double)m->bbox[2], (double)m->bbox[3]);
        *has_s = 1;
    }
    int64_t big_area = 0;
    for (int i = 0; i < LW * LW; i++) big_area += big[i];
    CHECK(r.masks[0].area == big_area && r.masks[0].source == SAM2_MASK_GRID, "the large mask changed");
    const int n = r.n_masks - before;
    result_free(&r);
    return n;
}

int main(void) {
    scene *sc = malloc(sizeof *sc);
    scene_make(sc);
    const sam2_gap_fill_params d = sam2_gap_fill_default_params();
    CHECK(d.under_frac == 0.25f && d.under_support == 8 && d.under_min_edge == 3.0f, "defaults %g %d %g",
          (double)d.under_frac, d.under_support, (double)d.under_min_edge);
    sam2_gap_fill_params g = d;
    int s = 0, n;
    CHECK((n = added(sc, &g, 1, sc->all, NULL, &s)) == 0, "five clicks, eight needed (the default): %d added", n);
    /* from here on five clicks suffice */
    sam2_gap_fill_params base = d;
    base.under_support = 5;
    g = base;
    CHECK((n = added(sc, &g, 1, sc->all, NULL, &s)) == 1 && s, "gray: %d added (S %d), want S alone", n, s);
    /* without the edge test F comes first (higher IoU), then S */
    g.under_min_edge = 0;
    CHECK((n = added(sc, &g, 1, sc->all, NULL, &s)) == 2 && s, "no edge test: %d added (S %d), want F and S", n, s);
    g.max_points = 1;
    CHECK((n = added(sc, &g, 1, sc->all, NULL, &s)) == 1 && !s, "max_points 1: %d added (S %d), want F", n, s);
    /* the settings, images and masks that add nothing */
    g = base, g.under_frac = 0;
    CHECK((n = added(sc, &g, 1, sc->all, NULL, &s)) == 0, "under_frac 0: %d added", n);
    g = base;
    CHECK((n = added(sc, &g, 2, sc->all, NULL, &s)) == 0, "a colour image: %d added", n);
    CHECK((n = added(sc, &g, 0, sc->all, NULL, &s)) == 0, "no image: %d added", n);
    g.under_support = 6;
    CHECK((n = added(sc, &g, 1, sc->all, NULL, &s)) == 0, "five clicks, six needed: %d added", n);
    g = base, g.pred_iou_thresh = 0.35f;
    CHECK((n = added(sc, &g, 1, sc->all, NULL, &s)) == 0, "S's IoU below the threshold: %d added", n);
    g = base, g.stability_score_thresh = 0.6f;
    CHECK((n = added(sc, &g, 1, sc->all, NULL, &s)) == 0, "S's stability below the threshold: %d added", n);
    g = base;
    CHECK((n = added(sc, &g, 1, sc->all, sc->s, &s)) == 0, "S already has a mask: %d added", n);
    CHECK((n = added(sc, &g, 1, sc->all, sc->half_s, &s)) == 0, "half of S covered (min_new_frac 0.6): %d added", n);
    g.min_new_frac = 0.4f;
    CHECK((n = added(sc, &g, 1, sc->all, sc->half_s, &s)) == 1 && s, "half of S covered, min_new_frac 0.4: %d added",
          n);
    {
        uint8_t most[LW * LW];
        memcpy(most, sc->all, sizeof most);
        for (int y = 0; y < LW; y++) most[y * LW] = 0; /* 4032 pixels */
        g = base, g.under_frac = 1.0f;
        CHECK((n = added(sc, &g, 1, most, NULL, &s)) == 0, "no mask as large as under_frac: %d added", n);
        g.under_frac = 0.98f;
        CHECK((n = added(sc, &g, 1, most, NULL, &s)) == 1 && s, "under_frac 0.98: %d added", n);
    }
    /* bad arguments */
    sam2_amg_result r = result_make(sc->all, NULL);
    const sam2_image gray = {LW, LW, LW, 1, 8, sc->px};
    g = base, g.under_support = 0;
    CHECK(sam2_amg_fill_under(&sc->pool, &gray, &g, &r) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "under_support"),
          "under_support 0 accepted");
    g = base, g.under_frac = 1.5f;
    CHECK(sam2_amg_fill_under(&sc->pool, &gray, &g, &r) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "under_frac"),
          "under_frac 1.5 accepted");
    g = base, g.under_min_edge = -1;
    CHECK(sam2_amg_fill_under(&sc->pool, &gray, &g, &r) == SAM2_ERR_PARAM, "under_min_edge -1 accepted");
    g = base;
    CHECK(sam2_amg_fill_under(NULL, &gray, &g, &r) == SAM2_ERR_PARAM, "NULL pool accepted");
    r.width = 32;
    CHECK(sam2_amg_fill_under(&sc->pool, &gray, &g, &r) == SAM2_ERR_PARAM, "a pool of another size accepted");
    r.width = LW;
    const sam2_image small = {32, 32, 32, 1, 8, sc->px};
    CHECK(sam2_amg_fill_under(&sc->pool, &small, &g, &r) == SAM2_ERR_PARAM, "an image of another size accepted");
    CHECK(r.n_masks == 1, "a refused call added masks");
    result_free(&r);
    result_free(&sc->pool);
    free(sc);
    return test_finish();
}
