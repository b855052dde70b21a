/* amg_row.c - see amg_row.h. Sixteen pixels at a time as GCC vectors; the
 * file keeps the C11 default of separate multiplies and adds, so that each
 * value rounds as the reference's does. */
#include "amg_row.h"

#include <stdlib.h>

#include "error.h"
#include "vec16.h"

typedef int32_t i16v __attribute__((vector_size(64)));
typedef uint8_t u8v __attribute__((vector_size(16)));

void amg_row_separable(const float *r0, const float *r1, float h0, float h1, int n, float thr, float hi, float lo,
                       uint8_t *bin, int64_t *n_hi, int64_t *n_lo) {
    /* per-lane counts (compare results are -1 or 0), summed at the end; a
     * lane gains at most 1 per 16 pixels, far from int32 limits */
    i16v c_hi = {0}, c_lo = {0};
    int x = 0;
    for (; x + 16 <= n; x += 16) {
        const v16 v = load16(r0 + x) * h0 + load16(r1 + x) * h1;
        c_hi += (i16v)(v > hi);
        c_lo += (i16v)(v > lo);
        const u8v b = __builtin_convertvector((i16v)(v > thr), u8v) & 1;
        memcpy(bin + x, &b, sizeof b);
    }
    int64_t s_hi = 0, s_lo = 0;
    for (int l = 0; l < 16; l++) s_hi -= c_hi[l], s_lo -= c_lo[l];
    for (; x < n; x++) {
        const float v = r0[x] * h0 + r1[x] * h1;
        s_hi += v > hi;
        s_lo += v > lo;
        bin[x] = v > thr;
    }
    *n_hi += s_hi, *n_lo += s_lo;
}

int amg_row_span(const uint8_t *bin, int n, int *first, int *last) {
    int a = 0, b = n;
    for (uint64_t w; a + 8 <= n && (memcpy(&w, bin + a, 8), w == 0);) a += 8;
    while (a < n && !bin[a]) a++;
    if (a == n) return 0;
    for (uint64_t w; b - 8 >= a && (memcpy(&w, bin + b - 8, 8), w == 0);) b -= 8;
    while (!bin[b - 1]) b--;
    *first = a, *last = b - 1;
    return 1;
}

sam2_status amg_col_runs_init(amg_col_runs *r, const int *i0, const int *i1, int n_cols) {
    memset(r, 0, sizeof *r);
    r->start = malloc(sizeof(int) * ((size_t)n_cols + 1));
    r->c0 = malloc(sizeof(int) * ((size_t)n_cols + 1));
    r->c1 = malloc(sizeof(int) * ((size_t)n_cols + 1));
    if (!r->start || !r->c0 || !r->c1) {
        amg_col_runs_free(r);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for the column runs of a %d-pixel row", n_cols);
    }
    for (int x = 0; x < n_cols; x++)
        if (x == 0 || i0[x] != i0[x - 1] || i1[x] != i1[x - 1]) {
            r->start[r->n] = x, r->c0[r->n] = i0[x], r->c1[r->n] = i1[x];
            r->n++;
        }
    r->start[r->n] = n_cols;
    return SAM2_OK;
}

void amg_col_runs_free(amg_col_runs *r) {
    if (!r) return;
    free(r->start), free(r->c0), free(r->c1);
    memset(r, 0, sizeof *r);
}

static int run_kind(const float *ra, const float *rb, int c0, int c1, float tmin, float tmax) {
    const float a = ra[c0], b = ra[c1], c = rb[c0], d = rb[c1];
    if (amg_below(a, tmin) && amg_below(b, tmin) && amg_below(c, tmin) && amg_below(d, tmin)) return 0;
    if (amg_above(a, tmax) && amg_above(b, tmax) && amg_above(c, tmax) && amg_above(d, tmax)) return 1;
    return 2;
}

void amg_span_list(const amg_col_runs *runs, const float *ra, const float *rb, float tmin, float tmax,
                   amg_span *spans, int *n_spans) {
    int n = 0;
    for (int k = 0; k < runs->n; k++) {
        const int kind = run_kind(ra, rb, runs->c0[k], runs->c1[k], tmin, tmax);
        const int len = runs->start[k + 1] - runs->start[k];
        if (n && spans[n - 1].kind == kind) {
            spans[n - 1].n += len;
        } else {
            spans[n].x0 = runs->start[k], spans[n].n = len, spans[n].kind = kind;
            n++;
        }
    }
    *n_spans = n;
}

int amg_spans_extent(const amg_span *spans, int n_spans, const uint8_t *bin, int *first, int *last) {
    int f = -1, l = -1, a, b;
    for (int k = 0; k < n_spans && f < 0; k++) {
        const amg_span *sp = &spans[k];
        if (sp->kind == 1) f = sp->x0;
        else if (sp->kind == 2 && amg_row_span(bin + sp->x0, sp->n, &a, &b)) f = sp->x0 + a;
    }
    if (f < 0) return 0;
    for (int k = n_spans - 1; k >= 0 && l < 0; k--) {
        const amg_span *sp = &spans[k];
        if (sp->kind == 1) l = sp->x0 + sp->n - 1;
        else if (sp->kind == 2 && amg_row_span(bin + sp->x0, sp->n, &a, &b)) l = sp->x0 + b;
    }
    *first = f, *last = l;
    return 1;
}
