/* rle_sketch.c - see rle_sketch.h. */
#include "rle_sketch.h"

#include <string.h>

/* First row (or column) of cell band k of an axis of n pixels. */
static int64_t band_start(int k, int n) {
    return ((int64_t)k * n + RLE_SKETCH_SIDE - 1) / RLE_SKETCH_SIDE;
}

void rle_sketch_make(const int64_t *counts, int n_counts, int H, int W, rle_sketch *s) {
    memset(s, 0, sizeof *s);
    int64_t p = 0;
    for (int i = 0; i < n_counts; i++) {
        const int64_t e = p + counts[i];
        if (i & 1)
            for (int64_t q = p; q < e;) { /* the run, column by column */
                const int64_t x = q / H, y = q % H, col_end = (x + 1) * H;
                const int64_t stop = e < col_end ? e : col_end; /* exclusive, in this column */
                const int cx = (int)(x * RLE_SKETCH_SIDE / W);
                for (int64_t yy = y; yy < y + (stop - q);) { /* band by band */
                    const int cy = (int)(yy * RLE_SKETCH_SIDE / H);
                    int64_t band_end = band_start(cy + 1, H);
                    if (band_end > y + (stop - q)) band_end = y + (stop - q);
                    s->cell[cy * RLE_SKETCH_SIDE + cx] += band_end - yy;
                    yy = band_end;
                }
                q = stop;
            }
        p = e;
    }
}

int64_t rle_sketch_bound(const rle_sketch *a, const rle_sketch *b) {
    int64_t sum = 0;
    for (int k = 0; k < RLE_SKETCH_SIDE * RLE_SKETCH_SIDE; k++) sum += a->cell[k] < b->cell[k] ? a->cell[k] : b->cell[k];
    return sum;
}

int64_t rle_sketch_lower(const rle_sketch *a, const rle_sketch *b, int H, int W) {
    int64_t ch[RLE_SKETCH_SIDE], cw[RLE_SKETCH_SIDE]; /* band sizes, once per call, not per cell */
    for (int k = 0; k < RLE_SKETCH_SIDE; k++)
        ch[k] = band_start(k + 1, H) - band_start(k, H), cw[k] = band_start(k + 1, W) - band_start(k, W);
    int64_t sum = 0;
    for (int cy = 0; cy < RLE_SKETCH_SIDE; cy++)
        for (int cx = 0; cx < RLE_SKETCH_SIDE; cx++) {
            const int k = cy * RLE_SKETCH_SIDE + cx;
            const int64_t both = a->cell[k] + b->cell[k] - ch[cy] * cw[cx];
            sum += both > 0 ? both : 0;
        }
    return sum;
}
