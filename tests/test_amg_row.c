/* test_amg_row.c - the generator's row kernel against the plain formula
 * (bit for bit, counts included, NaNs too), the span of a 0/1 row, and the
 * skipping of column runs far from every threshold: rows rebuilt from the
 * spans equal rows computed whole, on smooth logit maps that are mostly far
 * from the thresholds, as a mask's logits are. */
#include <math.h>

#include "amg_row.h"
#include "postprocess.h"
#include "test.h"

/* xorshift: a repeatable stream of floats in [0, 1) */
static float rnd(uint32_t *s) {
    *s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
    return (float)(*s >> 8) / 16777216.0f;
}

/* The reference's formula, one pixel at a time. */
static void row_plain(const float *r0, const float *r1, float h0, float h1, int n, float thr, float hi, float lo,
                      uint8_t *bin, int64_t *n_hi, int64_t *n_lo) {
    for (int x = 0; x < n; x++) {
        const float v = r0[x] * h0 + r1[x] * h1;
        *n_hi += v > hi;
        *n_lo += v > lo;
        bin[x] = v > thr;
    }
}

static void test_separable(void) {
    uint32_t s = 12345;
    enum { N = 133 };
    float r0[N], r1[N];
    uint8_t a[N], b[N];
    int bad = 0;
    for (int trial = 0; trial < 200; trial++) {
        const int n = 1 + trial % N;
        for (int x = 0; x < n; x++) r0[x] = 4.0f * rnd(&s) - 2.0f, r1[x] = 4.0f * rnd(&s) - 2.0f;
        if (trial % 7 == 0) r0[trial % n] = NAN;
        if (trial % 11 == 0) r1[0] = 1.0f, r0[0] = 1.0f; /* exactly at a cut-off */
        const float h1 = rnd(&s), h0 = 1.0f - h1;
        int64_t ph = 3, pl = 5, gh = 3, gl = 5;
        row_plain(r0, r1, h0, h1, n, 0.0f, 1.0f, -1.0f, a, &ph, &pl);
        amg_row_separable(r0, r1, h0, h1, n, 0.0f, 1.0f, -1.0f, b, &gh, &gl);
        bad += ph != gh || pl != gl || memcmp(a, b, (size_t)n) != 0;
    }
    CHECK(bad == 0, "%d of 200 rows differ from the plain formula", bad);
}

static void test_span(void) {
    uint8_t row[70];
    int first = -7, last = -7;
    memset(row, 0, sizeof row);
    CHECK(amg_row_span(row, 70, &first, &last) == 0 && first == -7 && last == -7, "an empty row has no span");
    int bad = 0;
    for (int i = 0; i < 70; i++)
        for (int j = i; j < 70; j += 9) {
            memset(row, 0, sizeof row);
            row[i] = 1, row[j] = 1;
            bad += !amg_row_span(row, 70, &first, &last) || first != i || last != j;
        }
    CHECK(bad == 0, "%d wrong spans of rows with ones at i and j", bad);
    memset(row, 1, 3);
    CHECK(amg_row_span(row, 3, &first, &last) && first == 0 && last == 2, "a short full row");
}

/* A smooth map of L x L logits: a few bumps between -scale and +scale,
 * mostly far from 0 and +-1, with NaNs when asked. */
static void smooth_map(float *m, int L, float scale, int nan, uint32_t *s) {
    const float cx = L * rnd(s), cy = L * rnd(s), r = 1.0f + L * 0.4f * rnd(s);
    for (int y = 0; y < L; y++)
        for (int x = 0; x < L; x++) {
            const float d = sqrtf((x - cx) * (x - cx) + (y - cy) * (y - cy));
            m[y * L + x] = scale * (1.0f - 2.0f * d / r);
        }
    if (nan) m[(int)(rnd(s) * L) * L + (int)(rnd(s) * L)] = NAN;
}

/* Every output row of an L x L map upsampled to h x w, whole and through
 * the spans: same bits, same counts, and some runs skipped. */
static void check_spans(int L, int h, int w, float scale, int nan, float thr, float off, uint32_t *s, int *bad,
                        int64_t *skipped) {
    lerp_taps ty = {0}, tx = {0};
    amg_col_runs runs = {0};
    CHECK_OK(lerp_taps_init(&ty, L, h));
    CHECK_OK(lerp_taps_init(&tx, L, w));
    CHECK_OK(amg_col_runs_init(&runs, tx.i0, tx.i1, w));
    float *m = malloc(sizeof(float) * L * L), *r0 = malloc(sizeof(float) * w), *r1 = malloc(sizeof(float) * w);
    uint8_t *a = malloc(w), *b = malloc(w);
    amg_span *sp = malloc(sizeof *sp * runs.n);
    smooth_map(m, L, scale, nan, s);
    const float hi = thr + off, lo = thr - off;
    const float tmin = fminf(thr, fminf(lo, hi)), tmax = fmaxf(thr, fmaxf(lo, hi));
    for (int y = 0; y < h; y++) {
        const float *ra = m + ty.i0[y] * L, *rb = m + ty.i1[y] * L;
        for (int x = 0; x < w; x++) {
            r0[x] = ra[tx.i0[x]] * tx.l0[x] + ra[tx.i1[x]] * tx.l1[x];
            r1[x] = rb[tx.i0[x]] * tx.l0[x] + rb[tx.i1[x]] * tx.l1[x];
        }
        int64_t ph = 0, pl = 0, gh = 0, gl = 0;
        row_plain(r0, r1, ty.l0[y], ty.l1[y], w, thr, hi, lo, a, &ph, &pl);
        int n_sp = 0, covered = 0;
        amg_span_list(&runs, ra, rb, tmin, tmax, sp, &n_sp);
        for (int k = 0; k < n_sp; k++) {
            *bad += sp[k].x0 != covered || (k && sp[k].kind == sp[k - 1].kind);
            covered += sp[k].n;
            if (sp[k].kind == 2) {
                amg_row_separable(r0 + sp[k].x0, r1 + sp[k].x0, ty.l0[y], ty.l1[y], sp[k].n, thr, hi, lo, b + sp[k].x0,
                                  &gh, &gl);
            } else {
                memset(b + sp[k].x0, sp[k].kind, (size_t)sp[k].n);
                if (sp[k].kind) gh += sp[k].n, gl += sp[k].n;
                *skipped += sp[k].n;
            }
        }
        *bad += covered != w || ph != gh || pl != gl || memcmp(a, b, (size_t)w) != 0;
        int f0 = -1, l0 = -1, f1 = -1, l1 = -1;
        const int any0 = amg_row_span(a, w, &f0, &l0), any1 = amg_spans_extent(sp, n_sp, b, &f1, &l1);
        *bad += any0 != any1 || f0 != f1 || l0 != l1;
    }
    free(m), free(r0), free(r1), free(a), free(b), free(sp);
    amg_col_runs_free(&runs);
    lerp_taps_free(&ty), lerp_taps_free(&tx);
}

static void test_runs(void) {
    amg_col_runs runs = {0};
    const int i0[] = {0, 0, 0, 1, 1, 2, 2, 2}, i1[] = {1, 1, 1, 2, 2, 2, 2, 2};
    CHECK_OK(amg_col_runs_init(&runs, i0, i1, 8));
    CHECK(runs.n == 3 && runs.start[0] == 0 && runs.start[1] == 3 && runs.start[2] == 5 && runs.start[3] == 8 &&
              runs.c0[1] == 1 && runs.c1[1] == 2 && runs.c0[2] == 2 && runs.c1[2] == 2,
          "runs of 8 columns: %d runs", runs.n);
    amg_col_runs_free(&runs);

    uint32_t s = 777;
    int bad = 0;
    int64_t skipped = 0, total = 0;
    /* upscaling (as from 64 x 64 logits to an image), downscaling (a crop
     * smaller than the logits), large logits, NaNs, other thresholds */
    check_spans(16, 97, 131, 20.0f, 0, 0.0f, 1.0f, &s, &bad, &skipped), total += 97 * 131;
    check_spans(16, 40, 250, 8.0f, 1, 0.0f, 1.0f, &s, &bad, &skipped), total += 40 * 250;
    check_spans(32, 20, 13, 20.0f, 0, 0.0f, 1.0f, &s, &bad, &skipped), total += 20 * 13;
    check_spans(16, 64, 64, 3.0e6f, 0, 0.0f, 1.0f, &s, &bad, &skipped), total += 64 * 64;
    check_spans(16, 77, 90, 20.0f, 0, 2.5f, 3.0f, &s, &bad, &skipped), total += 77 * 90;
    check_spans(8, 50, 50, 1.0f, 0, 0.0f, 1.0f, &s, &bad, &skipped), total += 50 * 50;
    CHECK(bad == 0, "%d rows rebuilt from spans differ from whole rows", bad);
    CHECK(skipped > total / 4, "only %lld of %lld pixels skipped", (long long)skipped, (long long)total);
}

int main(void) {
    test_separable();
    test_span();
    test_runs();
    return test_finish();
}
