/* test_amg_pick_levels.c - level picking for the masks that are not
 * consensus votes: on a gray image with a square S as a step, a grid mask
 * of S grown by 2 px, which five answers of S and five of the grown square
 * agree with, becomes S; the vote, a mask no answer agrees with, and every
 * setting that turns picking off leave masks as they were; bad arguments
 * are refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

enum { LW = 64 };

typedef struct scene {
    uint8_t px[LW * LW], rgb[LW * LW * 3], s[LW * LW], b[LW * LW], far[LW * LW];
    sam2_amg_result pool;
} scene;

/* S: the square [16, 48)^2, 140 on 100; B: S grown by 2 px; far: a small
 * square apart from both. The pool: five answers of S and five of B, each
 * from its own click. */
static void scene_make(scene *sc) {
    memset(sc, 0, sizeof *sc);
    memset(sc->px, 100, sizeof sc->px);
    for (int y = 16; y < 48; y++)
        for (int x = 16; x < 48; x++) sc->px[y * LW + x] = 140, sc->s[y * LW + x] = 1;
    for (int y = 14; y < 50; y++)
        for (int x = 14; x < 50; x++) sc->b[y * LW + x] = 1;
    for (int y = 2; y < 8; y++)
        for (int x = 2; x < 8; x++) sc->far[y * LW + x] = 1;
    for (int i = 0; i < LW * LW; i++)
        sc->rgb[3 * i] = sc->px[i], sc->rgb[3 * i + 1] = (uint8_t)(sc->px[i] - 20), sc->rgb[3 * i + 2] = 90;
    sc->pool.width = sc->pool.height = LW;
    sc->pool.masks = calloc(10, sizeof *sc->pool.masks);
    for (int k = 0; k < 10; k++)
        sc->pool.masks[sc->pool.n_masks++] = test_mask_record(k < 5 ? sc->s : sc->b, LW, LW, 0.5f, 0.5f, 2.0f + (float)k);
}

static void result_free(sam2_amg_result *r) {
    for (int k = 0; k < r->n_masks; k++) free(r->masks[k].counts);
    free(r->masks);
    memset(r, 0, sizeof *r);
}

/* The result: a grid mask of B, a consensus vote of B and a grid mask of
 * far. */
static sam2_amg_result result_make(const scene *sc) {
    sam2_amg_result r = {0};
    r.width = r.height = LW;
    r.masks = calloc(3, sizeof *r.masks);
    r.masks[r.n_masks++] = test_mask_record(sc->b, LW, LW, 0.7f, 0.9f, 30.0f);
    r.masks[r.n_masks] = test_mask_record(sc->b, LW, LW, 0.6f, 0.8f, 31.0f);
    r.masks[r.n_masks++].source = SAM2_MASK_CONSENSUS;
    r.masks[r.n_masks++] = test_mask_record(sc->far, LW, LW, 0.9f, 0.95f, 5.0f);
    return r;
}

/* The grid mask of B after picking with cp on image (0 none, 1 gray, 2
 * colour): its area (1024: S, 1296: B), the other two masks checked to
 * stay as they were, *level its picked_level. */
static int64_t picked_area(const scene *sc, const sam2_consensus_params *cp, int image, float *level) {
    sam2_amg_result r = result_make(sc);
    const sam2_image gray = {LW, LW, LW, 1, 8, (uint8_t *)sc->px}, colour = {LW, LW, 3 * LW, 3, 8, (uint8_t *)sc->rgb};
    CHECK_OK(sam2_amg_pick_levels(&sc->pool, image == 1 ? &gray : image == 2 ? &colour : NULL, cp, &r));
    const sam2_amg_mask *m = &r.masks[0];
    CHECK(m->predicted_iou == 0.7f && m->stability_score == 0.9f && m->point[0] == 30.0f && m->source == SAM2_MASK_GRID,
          "the scores, click or source changed");
    CHECK(r.masks[1].area == 36 * 36 && r.masks[1].picked_level == 0, "the consensus vote changed (area %lld)",
          (long long)r.masks[1].area);
    CHECK(r.masks[2].area == 36 && r.masks[2].picked_level == 0, "a mask no answer agrees with changed (area %lld)",
          (long long)r.masks[2].area);
    const int64_t area = m->area;
    if (area == 32 * 32) {
        uint8_t got[LW * LW];
        CHECK_OK(sam2_rle_decode(m->counts, m->n_counts, LW, LW, got));
        CHECK(!memcmp(got, sc->s, sizeof got), "the picked mask is not S");
        CHECK(m->bbox[0] == 16 && m->bbox[1] == 16 && m->bbox[2] == 31 && m->bbox[3] == 31, "box %g %g %g %g",
              (double)m->bbox[0], (double)m->bbox[1], (double)m->bbox[2], (double)m->bbox[3]);
    }
    *level = m->picked_level;
    result_free(&r);
    return area;
}

int main(void) {
    scene *sc = malloc(sizeof *sc);
    scene_make(sc);
    const sam2_consensus_params d = sam2_consensus_default_params();
    CHECK(d.pick_masks == 1, "pick_masks defaults to %d", d.pick_masks);
    sam2_consensus_params cp = d;
    cp.min_support = 4;
    float level = -1;
    int64_t a;
    /* ring pixels of B have 5 of the 10 votes, S's all 10: shares 0.6 and 0.7 give S */
    CHECK((a = picked_area(sc, &cp, 1, &level)) == 32 * 32, "gray: area %lld, want S (1024)", (long long)a);
    CHECK(level > 0.59f && level < 0.61f, "picked_level %g, want 0.6", (double)level);
    cp.pick_level = SAM2_PICK_LEVEL_ALL;
    CHECK((a = picked_area(sc, &cp, 2, &level)) == 32 * 32, "all images, a colour one: area %lld, want S", (long long)a);
    /* the settings and images that leave the mask alone */
    cp.pick_level = SAM2_PICK_LEVEL_GRAY;
    CHECK((a = picked_area(sc, &cp, 2, &level)) == 36 * 36 && level == 0, "gray only, a colour image: area %lld",
          (long long)a);
    CHECK((a = picked_area(sc, &cp, 0, &level)) == 36 * 36 && level == 0, "no image: area %lld", (long long)a);
    cp.pick_level = SAM2_PICK_LEVEL_OFF;
    CHECK((a = picked_area(sc, &cp, 1, &level)) == 36 * 36 && level == 0, "off: area %lld", (long long)a);
    cp = d, cp.min_support = 4, cp.pick_masks = 0;
    CHECK((a = picked_area(sc, &cp, 1, &level)) == 36 * 36 && level == 0, "pick_masks 0: area %lld", (long long)a);
    cp = d, cp.min_support = 11;
    CHECK((a = picked_area(sc, &cp, 1, &level)) == 36 * 36 && level == 0, "ten clicks, eleven needed: area %lld",
          (long long)a);
    cp = d, cp.min_support = 4, cp.level_gain = 50;
    CHECK((a = picked_area(sc, &cp, 1, &level)) == 36 * 36 && level == 0, "gain 50: area %lld", (long long)a);
    /* a mask whose own outline is the step stays: no share beats it */
    cp = d, cp.min_support = 4;
    {
        sam2_amg_result r = result_make(sc);
        free(r.masks[0].counts);
        r.masks[0] = test_mask_record(sc->s, LW, LW, 0.7f, 0.9f, 30.0f);
        const sam2_image gray = {LW, LW, LW, 1, 8, sc->px};
        CHECK_OK(sam2_amg_pick_levels(&sc->pool, &gray, &cp, &r));
        CHECK(r.masks[0].area == 32 * 32 && r.masks[0].picked_level == 0, "S became area %lld",
              (long long)r.masks[0].area);
        /* bad arguments */
        sam2_consensus_params bad = cp;
        bad.pick_masks = 2;
        CHECK(sam2_amg_pick_levels(&sc->pool, &gray, &bad, &r) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "pick_masks"),
              "pick_masks 2 accepted");
        CHECK(sam2_amg_pick_levels(NULL, &gray, &cp, &r) == SAM2_ERR_PARAM, "NULL pool accepted");
        r.width = 32;
        CHECK(sam2_amg_pick_levels(&sc->pool, &gray, &cp, &r) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "another image"),
              "a pool of another size accepted");
        r.width = LW;
        const sam2_image small = {32, 32, 32, 1, 8, sc->px};
        CHECK(sam2_amg_pick_levels(&sc->pool, &small, &cp, &r) == SAM2_ERR_PARAM, "an image of another size accepted");
        result_free(&r);
    }
    result_free(&sc->pool);
    free(sc);
    return test_finish();
}
