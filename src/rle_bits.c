/* rle_bits.c - see rle_bits.h. */
#include "rle_bits.h"

#include <stdlib.h>
#include <string.h>

sam2_status rle_bits_make_if_dense(const int64_t *counts, int n_counts, int H, rle_bits *b) {
    memset(b, 0, sizeof *b);
    if (H <= 0) return SAM2_OK;
    /* the box: first and last column, top and bottom row of the foreground */
    int64_t p = 0, first = -1, last = -1;
    int y0 = H, y1 = -1;
    for (int i = 0; i < n_counts; i++) {
        const int64_t e = p + counts[i];
        if ((i & 1) && e > p) {
            if (first < 0) first = p;
            last = e - 1;
            /* a run that crosses a column covers the whole height in between */
            if (p / H != (e - 1) / H) y0 = 0, y1 = H - 1;
            else {
                const int ys = (int)(p % H), ye = (int)((e - 1) % H);
                y0 = ys < y0 ? ys : y0, y1 = ye > y1 ? ye : y1;
            }
        }
        p = e;
    }
    if (first < 0) return SAM2_OK;
    const int x0 = (int)(first / H), x1 = (int)(last / H), w0 = y0 / 64, nw = y1 / 64 - w0 + 1;
    const int64_t words = (int64_t)(x1 - x0 + 1) * nw;
    if (words > n_counts) return SAM2_OK;
    b->w = calloc((size_t)words, sizeof *b->w);
    if (!b->w) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the bits of a mask (%lld words)", (long long)words);
    b->x0 = x0, b->ncols = x1 - x0 + 1, b->w0 = w0, b->nw = nw;
    p = 0;
    for (int i = 0; i < n_counts; i++) {
        const int64_t e = p + counts[i];
        for (int64_t q = p; (i & 1) && q < e;) { /* the run, column by column */
            const int64_t x = q / H, col_end = (x + 1) * H, stop = e < col_end ? e : col_end;
            uint64_t *col = b->w + (size_t)(x - x0) * nw;
            for (int64_t y = q % H, ye = y + (stop - q); y < ye;) { /* word by word */
                const int64_t word_end = (y / 64 + 1) * 64, to = ye < word_end ? ye : word_end;
                const int n = (int)(to - y), s = (int)(y % 64);
                col[y / 64 - w0] |= (n == 64 ? ~0ull : ((1ull << n) - 1)) << s;
                y = to;
            }
            q = stop;
        }
        p = e;
    }
    return SAM2_OK;
}

int64_t rle_bits_intersection(const rle_bits *a, const rle_bits *b) {
    const int ax1 = a->x0 + a->ncols, bx1 = b->x0 + b->ncols, aw1 = a->w0 + a->nw, bw1 = b->w0 + b->nw;
    const int xs = a->x0 > b->x0 ? a->x0 : b->x0, xe = ax1 < bx1 ? ax1 : bx1;
    const int ws = a->w0 > b->w0 ? a->w0 : b->w0, we = aw1 < bw1 ? aw1 : bw1;
    if (xs >= xe || ws >= we) return 0;
    int64_t sum = 0;
    if (a->w0 == b->w0 && a->nw == b->nw) { /* the same rows: the shared columns are one run of words in both */
        const uint64_t *pa = a->w + (size_t)(xs - a->x0) * a->nw, *pb = b->w + (size_t)(xs - b->x0) * b->nw;
        const size_t nwords = (size_t)(xe - xs) * a->nw;
        for (size_t k = 0; k < nwords; k++) sum += __builtin_popcountll(pa[k] & pb[k]);
        return sum;
    }
    for (int x = xs; x < xe; x++) {
        const uint64_t *pa = a->w + (size_t)(x - a->x0) * a->nw + (ws - a->w0);
        const uint64_t *pb = b->w + (size_t)(x - b->x0) * b->nw + (ws - b->w0);
        for (int k = 0; k < we - ws; k++) sum += __builtin_popcountll(pa[k] & pb[k]);
    }
    return sum;
}

void rle_bits_free(rle_bits *b) {
    if (!b) return;
    free(b->w);
    b->w = NULL;
}
