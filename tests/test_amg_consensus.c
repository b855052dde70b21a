/* test_amg_consensus.c - the consensus step on small synthetic pools: the
 * pixel vote of agreeing candidates, the support threshold, parts inside a
 * chosen mask set aside, masks already in the result respected, votes
 * inside them added only when the model's clicks keep them apart, the
 * vote's level picked by the image's edges, bad parameters refused; the RLE intersection it is built on; and, on the demo
 * model, the cell clicks and the answers of the mirrored and flipped image
 * and of another image of the same size that add to the pool. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rle.h"
#include "test.h"

enum { W = 40, H = 30 };

/* A record of the (H, W) mask m with the given predicted IoU and click. */
static sam2_amg_mask record(const uint8_t *m, float iou, float px) {
    return test_mask_record(m, H, W, iou, 0.5f, px);
}

static void rect(uint8_t *m, int x0, int y0, int x1, int y1) { /* inclusive */
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) m[y * W + x] = 1;
}

static void unrect(uint8_t *m, int x0, int y0, int x1, int y1) {
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) m[y * W + x] = 0;
}

static sam2_amg_result *empty_result(void) {
    sam2_amg_result *r = calloc(1, sizeof *r);
    r->width = W, r->height = H;
    return r;
}

static int64_t decoded_equal(const sam2_amg_mask *m, const uint8_t *want) {
    uint8_t got[W * H];
    if (sam2_rle_decode(m->counts, m->n_counts, H, W, got) != SAM2_OK) return 0;
    return !memcmp(got, want, sizeof got);
}

static void test_intersection(void) {
    uint64_t s = 12345;
    int bad = 0;
    for (int t = 0; t < 50; t++) {
        uint8_t a[W * H], b[W * H];
        for (int i = 0; i < W * H; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            a[i] = (s >> 33) % 3 == 0, b[i] = (s >> 40) % (2 + t % 3) == 0;
        }
        if (t == 0) memset(a, 0, sizeof a);
        if (t == 1) memset(b, 1, sizeof b);
        int64_t want = 0;
        for (int i = 0; i < W * H; i++) want += a[i] && b[i];
        int64_t *ca = NULL, *cb = NULL;
        int na = 0, nb = 0;
        CHECK_OK(rle_encode(a, H, W, &ca, &na));
        CHECK_OK(rle_encode(b, H, W, &cb, &nb));
        bad += rle_intersection_area(ca, na, cb, nb) != want || rle_intersection_area(cb, nb, ca, na) != want;
        free(ca), free(cb);
    }
    CHECK(bad == 0, "%d of 50 RLE intersections wrong", bad);
}

/* The pool: four noisy answers for square A, two for square B, four for a
 * small part inside A, one empty mask. */
static sam2_amg_result *make_pool(uint8_t *square_a) {
    sam2_amg_result *pool = empty_result();
    pool->masks = calloc(11, sizeof *pool->masks);
    uint8_t m[W * H];
    memset(square_a, 0, W * H);
    rect(square_a, 5, 5, 14, 14);
    for (int k = 0; k < 4; k++) {
        memcpy(m, square_a, sizeof m);
        if (k == 1) unrect(m, 14, 5, 14, 14); /* a column missing: 3 of 4 keep it */
        if (k == 2) rect(m, 5, 15, 14, 15);   /* a row too many: 1 of 4 has it */
        if (k == 3) unrect(m, 5, 5, 14, 5);   /* a row missing */
        pool->masks[pool->n_masks++] = record(m, 0.2f + 0.1f * (float)k, 10.0f + (float)k);
    }
    for (int k = 0; k < 2; k++) {
        memset(m, 0, sizeof m);
        rect(m, 25, 20, 34, 27 - k);
        pool->masks[pool->n_masks++] = record(m, 0.3f, 30.0f + (float)k);
    }
    for (int k = 0; k < 4; k++) {
        memset(m, 0, sizeof m);
        rect(m, 6, 6, 8, 8 + (k == 0));
        pool->masks[pool->n_masks++] = record(m, 0.9f, 7.0f + (float)k);
    }
    memset(m, 0, sizeof m);
    pool->masks[pool->n_masks++] = record(m, 0.9f, 1.0f);
    return pool;
}

/* Cell clicks on a shapes-dev scene: the pool grows by candidates whose
 * clicks sit at the centres between the grid's, the grid's candidates stay
 * as they were; explicit grids add nothing; another image is refused. */
static void check_cell_clicks(void) {
    test_demo d;
    if (!test_demo_open("dev_013.png", &d)) return;
    sam2_amg_params p = test_strict_params();
    sam2_amg_result *out = NULL, *pool = NULL;
    CHECK_OK(sam2_amg_generate_pool(d.ctx, &d.img, &p, 0.1f, &out, &pool));
    if (!pool || !out) {
        test_demo_close(&d);
        return;
    }
    const int n0 = pool->n_masks, w = pool->width, h = pool->height;
    int64_t *areas = malloc(sizeof(int64_t) * (size_t)n0);
    for (int k = 0; k < n0; k++) areas[k] = pool->masks[k].area;
    CHECK_OK(sam2_amg_pool_add_cell_clicks(d.ctx, &p, 0.1f, pool));
    CHECK(pool->n_masks > n0, "cell clicks added nothing to %d candidates", n0);
    int same = 1, at_centres = 1, filtered = 1;
    for (int k = 0; k < n0; k++) same &= pool->masks[k].area == areas[k];
    for (int k = n0; k < pool->n_masks; k++) {
        const sam2_amg_mask *m = &pool->masks[k];
        const double cx = m->point[0] / w * 16.0, cy = m->point[1] / h * 16.0; /* 1 .. 15 at the centres */
        at_centres &= fabs(cx - floor(cx + 0.5)) < 1e-3 && fabs(cy - floor(cy + 0.5)) < 1e-3 && cx > 0.5 &&
                      cx < 15.5 && cy > 0.5 && cy < 15.5;
        filtered &= m->predicted_iou > 0.1f && m->area == rle_area(m->counts, m->n_counts);
    }
    printf("  cell clicks on dev_013: %d grid candidates + %d\n", n0, pool->n_masks - n0);
    CHECK(same, "the grid's candidates changed");
    CHECK(at_centres, "an added candidate's click is not at a cell centre");
    CHECK(filtered, "an added candidate is below the pool's IoU filter or has a wrong area");
    sam2_consensus_params cp = sam2_consensus_default_params();
    cp.cell_clicks = 1, cp.min_support = 7;
    const int kept = out->n_masks;
    CHECK_OK(sam2_amg_consensus(pool, NULL, &cp, out));
    CHECK(out->n_masks > kept, "no consensus mask from %d candidates", pool->n_masks);

    /* explicit grids: no cells; another image's pool: refused, untouched */
    const int n1 = pool->n_masks;
    const float pt[2] = {0.5f, 0.5f}, *grids[1] = {pt};
    const int sizes[1] = {1};
    sam2_amg_params g = p;
    g.points_per_side = 0, g.point_grids = grids, g.point_grid_sizes = sizes, g.n_point_grids = 1;
    CHECK_OK(sam2_amg_pool_add_cell_clicks(d.ctx, &g, 0.1f, pool));
    CHECK(pool->n_masks == n1, "explicit grids added %d candidates", pool->n_masks - n1);
    pool->width++;
    CHECK(sam2_amg_pool_add_cell_clicks(d.ctx, &p, 0.1f, pool) == SAM2_ERR_STATE && pool->n_masks == n1,
          "a pool of another size accepted");
    pool->width--;
    CHECK(sam2_amg_pool_add_cell_clicks(d.ctx, NULL, 0.1f, pool) == SAM2_ERR_PARAM, "NULL params accepted");
    free(areas);
    sam2_amg_result_free(out), sam2_amg_result_free(pool);
    test_demo_close(&d);
}

/* How a view of the image is made from it: another image of the same size,
 * or the image reflected. */
enum { VIEW_OTHER, VIEW_MIRROR, VIEW_FLIP };

/* 1 when record b is record a of a (h, w) image seen in view (reflected left
 * to right or top to bottom, or as it is): the pixels, the box, the click
 * and the crop box; the scores the same. */
static int view_pair(const sam2_amg_mask *a, const sam2_amg_mask *b, int w, int h, int view, uint8_t *ma, uint8_t *mb) {
    if (sam2_rle_decode(a->counts, a->n_counts, h, w, ma) != SAM2_OK ||
        sam2_rle_decode(b->counts, b->n_counts, h, w, mb) != SAM2_OK)
        return 0;
    const int tb = view == VIEW_FLIP, lr = view == VIEW_MIRROR;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (ma[(size_t)y * w + x] != mb[(size_t)(tb ? h - 1 - y : y) * w + (size_t)(lr ? w - 1 - x : x)]) return 0;
    if (view == VIEW_OTHER)
        return b->area == a->area && !memcmp(b->bbox, a->bbox, sizeof a->bbox) && b->predicted_iou == a->predicted_iou &&
               b->stability_score == a->stability_score && !memcmp(b->point, a->point, sizeof a->point) &&
               !memcmp(b->crop_box, a->crop_box, sizeof a->crop_box);
    const int d = tb ? 1 : 0, o = 1 - d; /* the coordinate that changes, the one that stays */
    const float size = (float)(tb ? h : w);
    const int box = a->area == 0 || (b->bbox[d] == size - 1 - (a->bbox[d] + a->bbox[d + 2]) && b->bbox[o] == a->bbox[o] &&
                                      b->bbox[2] == a->bbox[2] && b->bbox[3] == a->bbox[3]);
    return box && b->area == a->area && b->predicted_iou == a->predicted_iou &&
           b->stability_score == a->stability_score && fabsf(b->point[d] - (size - a->point[d])) < 1e-3f &&
           b->point[o] == a->point[o] && b->crop_box[d] == size - (a->crop_box[d] + a->crop_box[d + 2]) &&
           b->crop_box[o] == a->crop_box[o] && b->crop_box[2] == a->crop_box[2] && b->crop_box[3] == a->crop_box[3];
}

/* Another view's answers on a shapes-dev scene (one zoom layer): mirrored
 * left to right, flipped top to bottom, or another image of the same size
 * (here the scene's negative) asked as it is. The pool gains exactly the
 * candidates the generator finds on that view made here, each reflected
 * back; the original candidates stay; a pool of another size is refused
 * untouched. */
static void check_view(int view) {
    test_demo d;
    if (!test_demo_open("dev_013.png", &d)) return;
    const sam2_amg_params p = test_strict_params();
    const int w = d.img.width, h = d.img.height, bpp = d.img.channels * d.img.bit_depth / 8;
    const int tb = view == VIEW_FLIP, lr = view == VIEW_MIRROR;
    const char *what = tb ? "flipped" : lr ? "mirrored" : "negative";
    sam2_status (*add)(sam2_ctx *, const sam2_image *, const sam2_amg_params *, int, float, sam2_amg_result *) =
        tb ? sam2_amg_pool_add_flipped : lr ? sam2_amg_pool_add_mirrored : sam2_amg_pool_add_image;
    sam2_amg_result *out = NULL, *pool = NULL, *mout = NULL, *mpool = NULL;
    CHECK_OK(sam2_amg_generate_pool_zoomed(d.ctx, &d.img, &p, 1, 0.1f, &out, &pool));
    uint8_t *px = malloc((size_t)w * h * bpp), *ma = malloc((size_t)w * h), *mb = malloc((size_t)w * h);
    for (int y = 0; px && y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *t = px + ((size_t)(tb ? h - 1 - y : y) * w + (size_t)(lr ? w - 1 - x : x)) * bpp;
            memcpy(t, (const uint8_t *)d.img.data + (size_t)y * d.img.stride + (size_t)x * bpp, (size_t)bpp);
            for (int c = 0; view == VIEW_OTHER && c < bpp; c++) t[c] = (uint8_t)(255 - t[c]);
        }
    const sam2_image seen = {w, h, w * bpp, d.img.channels, d.img.bit_depth, px};
    if (px) CHECK_OK(sam2_amg_generate_pool_zoomed(d.ctx, &seen, &p, 1, 0.1f, &mout, &mpool));
    if (!pool || !mpool || !px || !ma || !mb) goto done;
    const int n0 = pool->n_masks;
    int64_t area0 = 0;
    for (int k = 0; k < n0; k++) area0 += pool->masks[k].area;
    CHECK_OK(add(d.ctx, view == VIEW_OTHER ? &seen : &d.img, &p, 1, 0.1f, pool));
    CHECK(pool->n_masks == n0 + mpool->n_masks, "%d candidates added, the %s image has %d", pool->n_masks - n0, what,
          mpool->n_masks);
    int64_t area1 = 0;
    for (int k = 0; k < n0; k++) area1 += pool->masks[k].area;
    CHECK(area1 == area0, "the original candidates changed");
    int bad = 0;
    for (int k = 0; k < mpool->n_masks && n0 + k < pool->n_masks; k++)
        bad += !view_pair(&mpool->masks[k], &pool->masks[n0 + k], w, h, view, ma, mb);
    printf("  %s answers on dev_013 (%d x %d): %d candidates + %d\n", what, w, h, n0, mpool->n_masks);
    CHECK(mpool->n_masks > 0 && bad == 0, "%d of %d added candidates are not the %s image's, reflected back", bad,
          mpool->n_masks, what);
    const int n1 = pool->n_masks;
    pool->width++;
    CHECK(add(d.ctx, &d.img, &p, 1, 0.1f, pool) == SAM2_ERR_PARAM && pool->n_masks == n1,
          "a pool of another size accepted");
    pool->width--;
    CHECK(add(d.ctx, NULL, &p, 1, 0.1f, pool) == SAM2_ERR_PARAM, "NULL image accepted");
done:
    free(px), free(ma), free(mb);
    sam2_amg_result_free(out), sam2_amg_result_free(pool), sam2_amg_result_free(mout), sam2_amg_result_free(mpool);
    test_demo_close(&d);
}

/* Votes inside a kept mask U (two squares A and B joined): absorbed by
 * default; with inner_support, added when enough clicks agree on A and
 * fewer than half of them also answer U (a click that answers U too goes
 * out of the pool with U). linked: how many of A's four clicks answer U
 * too. A square C outside U, three clicks, is voted
 * whatever inner_support. Returns the masks added inside U, or -1 (C
 * missing, another mask than A). */
static int inner_votes(int linked, int inner_support) {
    uint8_t u[W * H], a[W * H];
    memset(u, 0, sizeof u), memset(a, 0, sizeof a);
    rect(u, 2, 5, 11, 14), rect(u, 20, 5, 29, 14), rect(a, 2, 5, 11, 14);
    sam2_amg_result *res = empty_result(), *pool = empty_result();
    res->masks = calloc(1, sizeof *res->masks);
    res->masks[res->n_masks++] = record(u, 0.9f, 2.0f);
    pool->masks = calloc(11, sizeof *pool->masks);
    for (int k = 0; k < 4; k++) { /* one click's answers are consecutive */
        pool->masks[pool->n_masks++] = record(a, 0.4f, 10.0f + (float)k);
        if (k < linked) pool->masks[pool->n_masks++] = record(u, 0.3f, 10.0f + (float)k);
    }
    uint8_t c[W * H]; /* three clicks on a square outside U: always voted */
    memset(c, 0, sizeof c);
    rect(c, 32, 20, 37, 25);
    for (int k = 0; k < 3; k++) pool->masks[pool->n_masks++] = record(c, 0.4f, 20.0f + (float)k);
    sam2_consensus_params cp = sam2_consensus_default_params();
    cp.min_support = 3, cp.inner_support = inner_support;
    int added = sam2_amg_consensus(pool, NULL, &cp, res) == SAM2_OK ? res->n_masks - 2 : -1, has_c = 0, others_a = 1;
    for (int r = 1; r < res->n_masks; r++) {
        const int is_c = decoded_equal(&res->masks[r], c);
        has_c |= is_c;
        if (!is_c) others_a &= decoded_equal(&res->masks[r], a);
    }
    if (!has_c || !others_a) added = -1;
    sam2_amg_result_free(res), sam2_amg_result_free(pool);
    return added;
}

/* A vote inside an earlier vote: six clicks answer U (squares A and B
 * joined), four others answer A alone. U is voted first; A lies inside it.
 * By default A's answers go with U; with inner_support they stay, as A's
 * clicks never answered U, and A is voted when it has inner_support clicks.
 * Returns the masks added, or -1 (U missing or another mask than A). */
static int votes_inside_vote(int inner_support) {
    uint8_t u[W * H], a[W * H];
    memset(u, 0, sizeof u), memset(a, 0, sizeof a);
    rect(u, 2, 5, 11, 14), rect(u, 12, 5, 29, 14), rect(a, 2, 5, 11, 14);
    sam2_amg_result *res = empty_result(), *pool = empty_result();
    pool->masks = calloc(10, sizeof *pool->masks);
    for (int k = 0; k < 6; k++) pool->masks[pool->n_masks++] = record(u, 0.4f, 20.0f + (float)k);
    for (int k = 0; k < 4; k++) pool->masks[pool->n_masks++] = record(a, 0.4f, 5.0f + (float)k);
    sam2_consensus_params cp = sam2_consensus_default_params();
    cp.min_support = 3, cp.inner_support = inner_support;
    int added = sam2_amg_consensus(pool, NULL, &cp, res) == SAM2_OK ? res->n_masks : -1;
    if (added < 1 || !decoded_equal(&res->masks[0], u) || (added == 2 && !decoded_equal(&res->masks[1], a)) || added > 2)
        added = -1;
    sam2_amg_result_free(res), sam2_amg_result_free(pool);
    return added;
}

static void test_inner_votes(void) {
    CHECK(sam2_consensus_default_params().inner_support == 24, "inner_support %d by default, want 24",
          sam2_consensus_default_params().inner_support);
    int n;
    CHECK((n = votes_inside_vote(0)) == 1, "inner_support 0: %d masks, want U alone", n);
    CHECK((n = votes_inside_vote(4)) == 2, "A's four clicks inside the vote U, inner_support 4: %d masks, want U and A", n);
    CHECK((n = votes_inside_vote(5)) == 1, "A's four clicks, inner_support 5: %d masks, want U alone", n);
    CHECK((n = inner_votes(0, 0)) == 0, "inner_support 0: %d masks inside the kept one", n);
    CHECK((n = inner_votes(0, 4)) == 1, "four clicks on A alone, inner_support 4: %d masks, want A", n);
    CHECK((n = inner_votes(0, 5)) == 0, "four clicks, inner_support 5: %d masks", n);
    CHECK((n = inner_votes(1, 3)) == 1, "one of four clicks answering U too, inner_support 3: %d masks, want A", n);
    CHECK((n = inner_votes(1, 4)) == 0, "one of four clicks answering U too, three left, inner_support 4: %d masks", n);
    CHECK((n = inner_votes(2, 3)) == 0, "two of four clicks answering U too, two left, inner_support 3: %d masks", n);
    CHECK((n = inner_votes(4, 4)) == 0, "every click answering U too: %d masks", n);
    sam2_consensus_params cp = sam2_consensus_default_params();
    cp.inner_support = -1;
    CHECK(sam2_consensus_params_check(&cp) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "inner_support"),
          "inner_support -1 accepted");
}

/* The outline gate: square A's vote is added when the image has an edge
 * along A's outline, not on a flat image nor when the edge is elsewhere;
 * without an image, or with min_edge 0, there is no test. */
static void check_outline_gate(const sam2_amg_result *pool) {
    uint8_t px[W * H];
    const sam2_image img = {W, H, W, 1, 8, px};
    sam2_consensus_params cp = sam2_consensus_default_params();
    cp.min_support = 4, cp.min_edge = 2.0f;
    const int shift[3] = {0, -1, 20}; /* A itself, flat, a square 20 px to the right */
    const int want[3] = {1, 0, 0};
    for (int t = 0; t < 3; t++) {
        memset(px, 100, sizeof px);
        if (shift[t] >= 0)
            for (int y = 5; y <= 14; y++)
                for (int x = 5 + shift[t]; x <= 14 + shift[t]; x++) px[y * W + x] = 140;
        sam2_amg_result *r = empty_result();
        CHECK_OK(sam2_amg_consensus(pool, &img, &cp, r));
        CHECK(r->n_masks == want[t], "outline gate, image %d: %d masks, want %d", t, r->n_masks, want[t]);
        sam2_amg_result_free(r);
    }
    sam2_amg_result *r = empty_result();
    CHECK_OK(sam2_amg_consensus(pool, NULL, &cp, r));
    CHECK(r->n_masks == 1, "no image: %d masks, want A", r->n_masks);
    sam2_amg_result_free(r);
    r = empty_result();
    cp.min_edge = 0.0f;
    memset(px, 100, sizeof px);
    CHECK_OK(sam2_amg_consensus(pool, &img, &cp, r));
    CHECK(r->n_masks == 1, "min_edge 0 on a flat image: %d masks, want A", r->n_masks);
    const sam2_image wide = {W + 1, H, W + 1, 1, 8, px};
    cp.min_edge = 2.0f;
    CHECK(sam2_amg_consensus(pool, &wide, &cp, r) == SAM2_ERR_PARAM && r->n_masks == 1, "an image of another size accepted");
    sam2_amg_result_free(r);
    cp.min_edge = -1.0f;
    CHECK(sam2_consensus_params_check(&cp) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "min_edge"),
          "min_edge -1 accepted");
    cp.min_edge = NAN;
    CHECK(sam2_consensus_params_check(&cp) == SAM2_ERR_PARAM, "min_edge NaN accepted");
}

/* The vote's level follows the image (on a 64 x 64 image with a square S
 * 32 px wide, 40 levels brighter than the background): five clicks answer
 * S, five S grown by 2 px (IoU 0.79, so all ten agree). S's rim of the
 * larger answers has half of the votes: in at vote_frac 0.4, out at 0.6.
 * Picking the level, the vote is S, whose outline lies on the step; with
 * SAM2_PICK_LEVEL_OFF, a gain the step does not reach, or no image, it is
 * the larger square; on a colour copy of the image only
 * SAM2_PICK_LEVEL_ALL picks. Returns the vote's area (-1: not one vote). */
enum { LW = 64 };
static int64_t level_vote(int pick_level, float gain, int image, float min_edge) { /* image: 0 none, 1 gray, 2 colour */
    uint8_t px[LW * LW], rgb[LW * LW * 3], s[LW * LW], b[LW * LW];
    memset(px, 100, sizeof px), memset(s, 0, sizeof s), memset(b, 0, sizeof b);
    for (int y = 16; y < 48; y++)
        for (int x = 16; x < 48; x++) px[y * LW + x] = 140, s[y * LW + x] = 1;
    for (int y = 14; y < 50; y++)
        for (int x = 14; x < 50; x++) b[y * LW + x] = 1;
    for (int i = 0; i < LW * LW; i++) rgb[3 * i] = px[i], rgb[3 * i + 1] = (uint8_t)(px[i] - 20), rgb[3 * i + 2] = 90;
    sam2_amg_result pool = {0};
    pool.width = pool.height = LW;
    pool.masks = calloc(10, sizeof *pool.masks);
    for (int k = 0; k < 10; k++) pool.masks[pool.n_masks++] = test_mask_record(k < 5 ? s : b, LW, LW, 0.5f, 0.5f, 2.0f + (float)k);
    sam2_amg_result res = {0};
    res.width = res.height = LW;
    sam2_consensus_params cp = sam2_consensus_default_params();
    cp.min_support = 4, cp.pick_level = pick_level, cp.level_gain = gain, cp.min_edge = min_edge;
    const sam2_image gray = {LW, LW, LW, 1, 8, px}, colour = {LW, LW, 3 * LW, 3, 8, rgb};
    CHECK_OK(sam2_amg_consensus(&pool, image == 1 ? &gray : image == 2 ? &colour : NULL, &cp, &res));
    const int64_t area = res.n_masks == 1 ? res.masks[0].area : -1;
    for (int k = 0; k < pool.n_masks; k++) free(pool.masks[k].counts);
    for (int k = 0; k < res.n_masks; k++) free(res.masks[k].counts);
    free(pool.masks), free(res.masks);
    return area;
}

static void test_vote_level(void) {
    const sam2_consensus_params d = sam2_consensus_default_params();
    CHECK(d.pick_level == SAM2_PICK_LEVEL_GRAY && d.level_gain == 0.25f, "level defaults %d %g", d.pick_level,
          (double)d.level_gain);
    const int gray = SAM2_PICK_LEVEL_GRAY, all = SAM2_PICK_LEVEL_ALL, off = SAM2_PICK_LEVEL_OFF;
    const int64_t S = 32 * 32, B = 36 * 36;
    int64_t a;
    CHECK((a = level_vote(gray, 0.25f, 1, 1.5f)) == S, "picking the level: area %lld, want S (1024)", (long long)a);
    CHECK((a = level_vote(gray, 0.25f, 1, 0.0f)) == S, "picking without the outline test: area %lld, want S",
          (long long)a);
    CHECK((a = level_vote(all, 0.25f, 1, 1.5f)) == S, "all images, a gray one: area %lld, want S", (long long)a);
    CHECK((a = level_vote(off, 0.25f, 1, 1.5f)) == B, "off: area %lld, want the larger square (1296)", (long long)a);
    CHECK((a = level_vote(gray, 50.0f, 1, 1.5f)) == B, "gain 50: area %lld, want the larger square", (long long)a);
    CHECK((a = level_vote(gray, 0.25f, 0, 1.5f)) == B, "no image: area %lld, want the larger square", (long long)a);
    CHECK((a = level_vote(gray, 0.25f, 2, 1.5f)) == B, "gray images only, a colour one: area %lld, want the larger square",
          (long long)a);
    CHECK((a = level_vote(all, 0.25f, 2, 1.5f)) == S, "all images, a colour one: area %lld, want S", (long long)a);
    sam2_consensus_params cp = d;
    cp.pick_level = 3;
    CHECK(sam2_consensus_params_check(&cp) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "pick_level"),
          "pick_level 3 accepted");
    cp = d, cp.level_gain = -0.1f;
    CHECK(sam2_consensus_params_check(&cp) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "level_gain"),
          "level_gain -0.1 accepted");
    cp.level_gain = NAN;
    CHECK(sam2_consensus_params_check(&cp) == SAM2_ERR_PARAM, "level_gain NaN accepted");
}

/* The defaults with one field set to a bad value are refused, the message
 * naming the field (name NULL: any message). */
static void check_refused(const sam2_consensus_params *cp, const char *name, const char *what) {
    CHECK(sam2_consensus_params_check(cp) == SAM2_ERR_PARAM && (!name || strstr(sam2_last_error(), name)),
          "%s accepted", what);
}
#define REFUSED(field, value, name)                                       \
    do {                                                                  \
        sam2_consensus_params bad_ = sam2_consensus_default_params();     \
        bad_.field = value;                                               \
        check_refused(&bad_, name, #field " " #value);                    \
    } while (0)

int main(void) {
    test_intersection();
    test_inner_votes();
    test_vote_level();
    check_cell_clicks();
    check_view(VIEW_MIRROR);
    check_view(VIEW_FLIP);
    check_view(VIEW_OTHER);
    uint8_t a[W * H];
    sam2_amg_result *pool = make_pool(a);
    sam2_consensus_params cp = sam2_consensus_default_params();
    CHECK(cp.min_support == 8 && cp.min_stability == 0.3f && cp.agree_iou == 0.75f && cp.vote_frac == 0.4f &&
              cp.min_edge == 1.5f && cp.cell_clicks == 0 && cp.zoom_layers == 1 && cp.mirror == 1 &&
              cp.flip == 0 && cp.denoised == 1 && cp.denoised_min_support == 14 && cp.denoised_inner_support == 38,
          "defaults changed");
    check_outline_gate(pool);
    /* A has four agreeing clicks: not enough when five are asked for */
    cp.min_support = 5;
    sam2_amg_result *none = empty_result();
    CHECK_OK(sam2_amg_consensus(pool, NULL, &cp, none));
    CHECK(none->n_masks == 0, "%d masks from four clicks with min_support 5", none->n_masks);
    sam2_amg_result_free(none);
    cp.min_support = 4;

    /* A is voted exactly; B lacks support; the part inside A is set aside */
    sam2_amg_result *res = empty_result();
    CHECK_OK(sam2_amg_consensus(pool, NULL, &cp, res));
    CHECK(res->n_masks == 1, "%d masks, want 1", res->n_masks);
    if (res->n_masks >= 1) {
        const sam2_amg_mask *m = &res->masks[0];
        CHECK(decoded_equal(m, a), "the vote is not square A (area %lld)", (long long)m->area);
        CHECK(m->area == 100 && m->bbox[0] == 5 && m->bbox[1] == 5 && m->bbox[2] == 9 && m->bbox[3] == 9,
              "area %lld box %g %g %g %g", (long long)m->area, (double)m->bbox[0], (double)m->bbox[1],
              (double)m->bbox[2], (double)m->bbox[3]);
        CHECK(m->source == SAM2_MASK_CONSENSUS, "source %d", (int)m->source);
        CHECK(m->point[0] == 10.0f && m->crop_box[2] == W, "click %g: not the first of the best supported",
              (double)m->point[0]);
        CHECK(m->predicted_iou > 0.349f && m->predicted_iou < 0.351f, "mean IoU %g, want 0.35", (double)m->predicted_iou);
    }

    /* voters unsure of A's boundary (mean stability below the gate) vote in vain */
    sam2_amg_result *unsure = empty_result();
    for (int i = 0; i < pool->n_masks; i++) pool->masks[i].stability_score = 0.25f;
    CHECK_OK(sam2_amg_consensus(pool, NULL, &cp, unsure));
    CHECK(unsure->n_masks == 0, "%d masks from voters of stability 0.25 (gate %g)", unsure->n_masks,
          (double)cp.min_stability);
    cp.min_stability = 0.2f;
    CHECK_OK(sam2_amg_consensus(pool, NULL, &cp, unsure));
    CHECK(unsure->n_masks == 1 && unsure->masks[0].stability_score == 0.25f, "gate 0.2: %d masks", unsure->n_masks);
    sam2_amg_result_free(unsure);
    for (int i = 0; i < pool->n_masks; i++) pool->masks[i].stability_score = 0.5f;
    cp.min_stability = sam2_consensus_default_params().min_stability;

    /* with a lower support B comes too; the empty mask never does */
    sam2_amg_result *res2 = empty_result();
    cp.min_support = 2;
    CHECK_OK(sam2_amg_consensus(pool, NULL, &cp, res2));
    CHECK(res2->n_masks == 2 && res2->masks[1].area == 80, "%d masks, want A and B (the union, area 80)", res2->n_masks);

    /* a unanimous vote is the intersection */
    sam2_amg_result *res3 = empty_result();
    cp = sam2_consensus_default_params();
    cp.min_support = 4, cp.vote_frac = 1.0f;
    CHECK_OK(sam2_amg_consensus(pool, NULL, &cp, res3));
    CHECK(res3->n_masks == 1 && res3->masks[0].area == 81, "unanimous vote: %d masks", res3->n_masks);

    /* masks already in the result (here: A's vote) take their candidates */
    cp = sam2_consensus_default_params();
    cp.min_support = 4;
    CHECK_OK(sam2_amg_consensus(pool, NULL, &cp, res));
    CHECK(res->n_masks == 1, "A voted twice: %d masks", res->n_masks);

    /* agreement counts clicks: four alike answers of one click are not enough */
    sam2_amg_result *one = empty_result();
    one->masks = calloc(4, sizeof *one->masks);
    for (int k = 0; k < 4; k++) one->masks[one->n_masks++] = record(a, 0.5f, 3.0f);
    sam2_amg_result *res4 = empty_result();
    CHECK_OK(sam2_amg_consensus(one, NULL, &cp, res4));
    CHECK(res4->n_masks == 0, "one click's answers counted as %d masks' support", res4->n_masks);
    one->masks[3].point[0] = 4.0f, one->masks[2].point[0] = 5.0f, one->masks[1].point[0] = 6.0f;
    CHECK_OK(sam2_amg_consensus(one, NULL, &cp, res4));
    CHECK(res4->n_masks == 1, "four clicks: %d masks", res4->n_masks);
    sam2_amg_result_free(one), sam2_amg_result_free(res4);

    /* bad input: refused, result untouched */
    cp.agree_iou = 0.0f;
    CHECK(sam2_amg_consensus(pool, NULL, &cp, res) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "agree_iou"),
          "agree_iou 0 accepted: %s", sam2_last_error());
    REFUSED(min_support, 0, "min_support");
    REFUSED(min_stability, -0.1f, "min_stability");
    REFUSED(min_stability, NAN, NULL);
    REFUSED(vote_frac, 1.5f, NULL);
    REFUSED(cell_clicks, 2, "cell_clicks");
    REFUSED(mirror, 2, "mirror");
    REFUSED(flip, -1, "flip");
    REFUSED(denoised, 2, "denoised");
    REFUSED(denoised_min_support, 0, "denoised_min_support");
    REFUSED(denoised_inner_support, -1, "denoised_inner_support");
    REFUSED(zoom_layers, 4, "zoom_layers");
    REFUSED(zoom_layers, -1, NULL);
    REFUSED(pick_masks, 2, "pick_masks");
    REFUSED(pick_masks, -1, "pick_masks");
    cp = sam2_consensus_default_params();
    res->width = W + 1;
    CHECK(sam2_amg_consensus(pool, NULL, &cp, res) == SAM2_ERR_PARAM && res->n_masks == 1, "size mismatch accepted");
    res->width = W;
    CHECK(sam2_amg_consensus(NULL, NULL, &cp, res) == SAM2_ERR_PARAM, "NULL pool accepted");

    sam2_amg_result_free(res), sam2_amg_result_free(res2), sam2_amg_result_free(res3);
    sam2_amg_result_free(pool);
    return test_finish();
}
