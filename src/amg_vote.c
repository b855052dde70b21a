/* amg_vote.c - the pixel-wise vote of masks that agree on an object, with
 * its level (the share of the voters a pixel needs) picked by the image
 * where asked. */
#include "amg_vote.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rle.h"

/* Adds one vote to every pixel of a column-major RLE over an image of height
 * H inside the box (origin x0, y0, size bw x bh), as differences: +1 where a
 * run enters a column of d (bw, bh + 1), -1 where it leaves, so a mask costs
 * its runs, not its pixels (prefix sums down each column give the counts). */
static void add_votes(const sam2_amg_mask *m, int H, int x0, int y0, int bw, int bh, int32_t *d) {
    int64_t p = 0;
    for (int i = 0; i < m->n_counts; i++) {
        const int64_t e = p + m->counts[i];
        if (i & 1)
            for (int64_t s = p; s < e;) {
                const int x = (int)(s / H), y = (int)(s % H);
                const int64_t col_end = (int64_t)(x + 1) * H, run = (e < col_end ? e : col_end) - s;
                if (x >= x0 && x < x0 + bw) {
                    int a = y - y0, b = y + (int)run - y0;
                    a = a < 0 ? 0 : a, b = b > bh ? bh : b;
                    if (a < b) {
                        int32_t *col = d + (size_t)(x - x0) * (bh + 1);
                        col[a]++, col[b]--;
                    }
                }
                s += run;
            }
        p = e;
    }
}

/* The shares of the voters whose masks pick_level compares with vote_frac's. */
static const float vote_levels[] = {0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f};

/* The share of the k voters a pixel of the vote needs: frac, or with an
 * edge map the level of vote_levels whose mask's outline follows the
 * image's edges best, when it does so by the factor 1 + gain over frac's
 * (over base, when base >= 0; then -1 when no level does). The answers
 * that agree on an object differ mostly at its boundary, and the image
 * shows where that boundary is. counts: the box's cover counts as in
 * amg_vote; mask and scratch hold bw * bh. *outline: the chosen mask's
 * outline median (-1 without an edge map, or when none is chosen). */
static float pick_share(const edge_map *em, float gain, float base, const int32_t *counts, int k, float frac, int x0,
                        int y0, int bw, int bh, uint8_t *mask, float *scratch, float *outline) {
    *outline = -1;
    if (!em || !em->g) return base >= 0 ? -1 : frac;
    float best = base >= 0 ? base * (1.0f + gain) : -1, share = base >= 0 ? -1 : frac;
    for (int q = base >= 0 ? 0 : -1; q < (int)(sizeof vote_levels / sizeof *vote_levels); q++) {
        const float level = q < 0 ? frac : vote_levels[q];
        if (q >= 0 && level == frac && base < 0) continue;
        const double need = (double)level * (double)k;
        for (int y = 0; y < bh; y++)
            for (int x = 0; x < bw; x++) mask[(size_t)y * bw + x] = (double)counts[(size_t)x * (bh + 1) + y] >= need;
        const float v = edge_outline_median_box(em, mask, x0, y0, bw, bh, scratch);
        if (q < 0) best = v * (1.0f + gain), *outline = v;
        else if (v > best) best = v, share = level, *outline = v;
    }
    return share;
}

sam2_status amg_vote(const sam2_amg_mask *c, const int *idx, int k, float frac, const edge_map *em, float gain,
                     float base, int W, int H, sam2_amg_mask *m, float *outline) {
    *outline = -1;
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
    int32_t *counts = calloc((size_t)bw * (bh + 1), sizeof(int32_t)); /* column-major, see add_votes */
    uint8_t *row = malloc((size_t)bw);
    uint8_t *mask = em && em->g ? malloc((size_t)bw * bh) : NULL;
    float *scratch = mask ? malloc(sizeof(float) * (size_t)bw * bh) : NULL;
    rle_rows rr;
    memset(&rr, 0, sizeof rr);
    sam2_status st = counts && row && (!em || !em->g || (mask && scratch))
                         ? rle_rows_init(&rr, bh, bw)
                         : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for a %dx%d vote", bw, bh);
    float share = -1; /* -1: no mask beats base */
    if (st == SAM2_OK) {
        for (int t = 0; t < k; t++) add_votes(&c[idx[t]], H, x0, y0, bw, bh, counts);
        for (int x = 0; x < bw; x++) {
            int32_t *col = counts + (size_t)x * (bh + 1);
            for (int y = 1; y < bh; y++) col[y] += col[y - 1];
        }
        share = pick_share(em, gain, base, counts, k, frac, x0, y0, bw, bh, mask, scratch, outline);
        if (base >= 0 ? share >= 0 : share != frac) m->picked_level = share;
    }
    if (st == SAM2_OK && share >= 0) {
        const double need = (double)share * (double)k;
        int mx0 = bw, my0 = bh, mx1 = -1, my1 = -1;
        for (int y = 0; y < bh && st == SAM2_OK; y++) {
            for (int x = 0; x < bw; x++) {
                row[x] = (double)counts[(size_t)x * (bh + 1) + y] >= need;
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
    free(counts), free(row), free(mask), free(scratch);
    return st;
}
