/* rle.c - COCO run-length encodings: building them from row-major masks
 * streamed row by row (memory O(width + boundary)), decoding them, and the
 * compressed string form, byte-identical to pycocotools rleToString /
 * rleFrString. */
#include "rle.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

/* ------------------------------------------------------------- the builder */

sam2_status rle_rows_init(rle_rows *r, int h, int w) {
    memset(r, 0, sizeof *r);
    if (h < 1 || w < 1) return SAM2_FAIL(SAM2_ERR_PARAM, "RLE of an empty %d x %d mask", h, w);
    r->h = h, r->w = w;
    r->prev = calloc((size_t)w, 1);
    r->col_n = calloc((size_t)w + 1, sizeof *r->col_n);
    if (!r->prev || !r->col_n) {
        rle_rows_free(r);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for a %d x %d RLE builder", h, w);
    }
    return SAM2_OK;
}

void rle_rows_reset(rle_rows *r) {
    r->y = 0;
    r->n = 0;
    memset(r->prev, 0, (size_t)r->w);
    memset(r->col_n, 0, sizeof *r->col_n * ((size_t)r->w + 1));
}

void rle_rows_free(rle_rows *r) {
    if (!r) return;
    free(r->prev), free(r->tx), free(r->ty), free(r->col_n), free(r->sx), free(r->sy);
    memset(r, 0, sizeof *r);
}

/* Records that pixel (x, y) differs from the pixel above it. */
static int add_transition(rle_rows *r, int x, int y) {
    if (r->n == r->cap) {
        int64_t cap = r->cap ? 2 * r->cap : 256;
        int32_t *tx = realloc(r->tx, sizeof *tx * (size_t)cap);
        if (!tx) return -1;
        r->tx = tx;
        int32_t *ty = realloc(r->ty, sizeof *ty * (size_t)cap);
        if (!ty) return -1;
        r->ty = ty;
        r->cap = cap;
    }
    r->tx[r->n] = x, r->ty[r->n] = y;
    r->n++;
    r->col_n[x]++;
    return 0;
}

sam2_status rle_rows_compare(rle_rows *r, const uint8_t *row, int x0, int n) {
    if (r->y >= r->h) return SAM2_FAIL(SAM2_ERR_PARAM, "RLE builder: more than %d rows pushed", r->h);
    if (x0 < 0 || n < 0 || x0 > r->w - n)
        return SAM2_FAIL(SAM2_ERR_PARAM, "RLE builder: columns %d + %d outside a %d-column row", x0, n, r->w);
    const int w = x0 + n, y = r->y;
    uint8_t *prev = r->prev;
    int x = x0;
    while (x < w) {
        /* skip 32, then 8 equal bytes at a time (prev holds 0/1, so equality
         * means the row holds the same 0/1 values) */
        if (x + 32 <= w) {
            uint64_t a[4], b[4];
            memcpy(a, row + x, 32);
            memcpy(b, prev + x, 32);
            if (((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0) {
                x += 32;
                continue;
            }
        }
        if (x + 8 <= w) {
            uint64_t a, b;
            memcpy(&a, row + x, 8);
            memcpy(&b, prev + x, 8);
            if (a == b) {
                x += 8;
                continue;
            }
        }
        int end = x + 8 < w ? x + 8 : w;
        for (; x < end; x++) {
            uint8_t v = row[x] != 0;
            if (v != prev[x]) {
                if (add_transition(r, x, y) != 0) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory building an RLE");
                prev[x] = v;
            }
        }
    }
    return SAM2_OK;
}

sam2_status rle_rows_push(rle_rows *r, const uint8_t *row) {
    SAM2_TRY(rle_rows_compare(r, row, 0, r->w));
    r->y++;
    return SAM2_OK;
}

sam2_status rle_rows_push_repeat(rle_rows *r) {
    if (r->y >= r->h) return SAM2_FAIL(SAM2_ERR_PARAM, "RLE builder: more than %d rows pushed", r->h);
    r->y++;
    return SAM2_OK;
}

sam2_status rle_rows_finish(rle_rows *r, int x0, int y0, int H, int W, int64_t **counts, int *n_counts) {
    *counts = NULL;
    *n_counts = 0;
    if (r->y != r->h) return SAM2_FAIL(SAM2_ERR_STATE, "RLE builder: %d of %d rows pushed", r->y, r->h);
    if (x0 < 0 || y0 < 0 || x0 + r->w > W || y0 + r->h > H)
        return SAM2_FAIL(SAM2_ERR_PARAM, "RLE placement of a %d x %d mask at (%d, %d) exceeds %d x %d", r->h, r->w,
                         x0, y0, H, W);
    const int w = r->w, h = r->h;
    /* column starts (counting sort by column; rows stay increasing) */
    int64_t *start = malloc(sizeof *start * ((size_t)w + 1));
    int32_t *sy = r->n ? malloc(sizeof *sy * (size_t)r->n) : NULL;
    int64_t ends = 0;
    for (int x = 0; x < w; x++) ends += r->prev[x];
    const int64_t max_toggles = r->n + ends;
    if (max_toggles + 1 > INT32_MAX) {
        free(start), free(sy);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "RLE with %lld runs is too long", (long long)max_toggles + 1);
    }
    int64_t *t = malloc(sizeof *t * ((size_t)max_toggles + 1)); /* toggle positions, then counts */
    if (!start || (r->n && !sy) || !t) {
        free(start), free(sy), free(t);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory finishing an RLE");
    }
    start[0] = 0;
    for (int x = 0; x < w; x++) start[x + 1] = start[x] + r->col_n[x];
    {
        int64_t *fill = malloc(sizeof *fill * (size_t)w);
        if (!fill) {
            free(start), free(sy), free(t);
            return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory finishing an RLE");
        }
        memcpy(fill, start, sizeof *fill * (size_t)w);
        for (int64_t i = 0; i < r->n; i++) sy[fill[r->tx[i]]++] = r->ty[i];
        free(fill);
    }
    /* toggle positions in column-major order of the (H, W) image; a toggle at
     * the position of the previous one cancels it (a run continuing into the
     * next column when the mask spans the full height) */
    int64_t nt = 0;
    for (int x = 0; x < w; x++) {
        const int64_t base = (int64_t)(x0 + x) * H + y0;
        const int64_t k1 = start[x + 1] + (r->prev[x] ? 1 : 0);
        for (int64_t k = start[x]; k < k1; k++) {
            int64_t pos = base + (k < start[x + 1] ? sy[k] : h);
            if (nt > 0 && t[nt - 1] == pos)
                nt--;
            else
                t[nt++] = pos;
        }
    }
    /* positions -> run lengths, in place from the end */
    t[nt] = (int64_t)H * W - (nt ? t[nt - 1] : 0);
    for (int64_t k = nt - 1; k >= 1; k--) t[k] -= t[k - 1];
    free(start), free(sy);
    *counts = t;
    /* a mask that ends on the last pixel ends with its run of ones */
    *n_counts = (int)(nt > 0 && t[nt] == 0 ? nt : nt + 1);
    return SAM2_OK;
}

sam2_status rle_encode(const uint8_t *mask, int h, int w, int64_t **counts, int *n_counts) {
    rle_rows r;
    SAM2_TRY(rle_rows_init(&r, h, w));
    sam2_status st = SAM2_OK;
    for (int y = 0; y < h && st == SAM2_OK; y++) st = rle_rows_push(&r, mask + (size_t)y * w);
    if (st == SAM2_OK) st = rle_rows_finish(&r, 0, 0, h, w, counts, n_counts);
    rle_rows_free(&r);
    return st;
}

sam2_status rle_encode_logits(const float *logits, int h, int w, float thr, int64_t **counts, int *n_counts) {
    rle_rows r;
    SAM2_TRY(rle_rows_init(&r, h, w));
    uint8_t *row = malloc((size_t)w);
    sam2_status st = row ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory encoding an RLE");
    for (int y = 0; y < h && st == SAM2_OK; y++) {
        const float *l = logits + (size_t)y * w;
        for (int x = 0; x < w; x++) row[x] = l[x] > thr;
        st = rle_rows_push(&r, row);
    }
    if (st == SAM2_OK) st = rle_rows_finish(&r, 0, 0, h, w, counts, n_counts);
    free(row);
    rle_rows_free(&r);
    return st;
}

sam2_status rle_pack(const int64_t *counts, int n_counts, uint8_t **out, size_t *n_bytes) {
    *out = NULL, *n_bytes = 0;
    size_t nb = 0;
    for (int i = 0; i < n_counts; i++) {
        if (counts[i] < 0) return SAM2_FAIL(SAM2_ERR_PARAM, "RLE count %d is negative (%lld)", i, (long long)counts[i]);
        uint64_t v = (uint64_t)counts[i];
        do nb++, v >>= 7;
        while (v);
    }
    uint8_t *b = malloc(nb ? nb : 1);
    if (!b) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory packing an RLE of %d runs", n_counts);
    size_t k = 0;
    for (int i = 0; i < n_counts; i++) {
        uint64_t v = (uint64_t)counts[i];
        while (v >= 0x80) b[k++] = (uint8_t)(v | 0x80), v >>= 7;
        b[k++] = (uint8_t)v;
    }
    *out = b, *n_bytes = nb;
    return SAM2_OK;
}

sam2_status rle_unpack(const uint8_t *bytes, size_t n_bytes, int n_counts, int64_t **counts) {
    *counts = NULL;
    if (n_counts < 0) return SAM2_FAIL(SAM2_ERR_PARAM, "packed RLE: %d runs", n_counts);
    int64_t *c = malloc(sizeof *c * (size_t)(n_counts ? n_counts : 1));
    if (!c) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory unpacking an RLE of %d runs", n_counts);
    size_t k = 0;
    for (int i = 0; i < n_counts; i++) {
        uint64_t v = 0;
        int shift = 0;
        for (;;) {
            if (k == n_bytes || shift > 56) {
                free(c);
                return SAM2_FAIL(SAM2_ERR_FORMAT, "packed RLE: run %d of %d is cut short or too long", i, n_counts);
            }
            const uint8_t byte = bytes[k++];
            v |= (uint64_t)(byte & 0x7f) << shift;
            shift += 7;
            if (!(byte & 0x80)) break;
        }
        c[i] = (int64_t)v;
    }
    if (k != n_bytes) {
        free(c);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "packed RLE: %zu bytes left after %d runs", n_bytes - k, n_counts);
    }
    *counts = c;
    return SAM2_OK;
}

int64_t rle_area(const int64_t *counts, int n_counts) {
    int64_t a = 0;
    for (int i = 1; i < n_counts; i += 2) a += counts[i];
    return a;
}

int64_t rle_intersection_area(const int64_t *a, int na, const int64_t *b, int nb) {
    /* walk the foreground runs [s, e) of both in step */
    int64_t inter = 0, pa = 0, pb = 0;
    int ia = 0, ib = 0;
    int64_t sa = 0, ea = 0, sb = 0, eb = 0;
    int have_a = 0, have_b = 0;
    for (;;) {
        while (!have_a && ia + 1 < na) { /* next (zeros, ones) pair of a */
            sa = pa + a[ia], ea = sa + a[ia + 1];
            pa = ea, ia += 2;
            have_a = ea > sa;
        }
        while (!have_b && ib + 1 < nb) {
            sb = pb + b[ib], eb = sb + b[ib + 1];
            pb = eb, ib += 2;
            have_b = eb > sb;
        }
        if (!have_a || !have_b) return inter;
        const int64_t s = sa > sb ? sa : sb, e = ea < eb ? ea : eb;
        if (e > s) inter += e - s;
        if (ea <= eb) have_a = 0;
        else have_b = 0;
    }
}

/* ------------------------------------------------------ public functions */

sam2_status sam2_rle_decode(const int64_t *counts, int n_counts, int height, int width, uint8_t *mask) {
    if ((!counts && n_counts) || !mask || n_counts < 0 || height < 0 || width < 0)
        return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_rle_decode: bad arguments");
    const int64_t total = (int64_t)height * width;
    int64_t sum = 0;
    for (int i = 0; i < n_counts; i++) {
        if (counts[i] < 0 || counts[i] > total - sum)
            return SAM2_FAIL(SAM2_ERR_FORMAT, "RLE run %d (%lld) is negative or exceeds the %d x %d mask", i,
                             (long long)counts[i], height, width);
        sum += counts[i];
    }
    if (sum != total)
        return SAM2_FAIL(SAM2_ERR_FORMAT, "RLE covers %lld pixels, the %d x %d mask has %lld", (long long)sum, height,
                         width, (long long)total);
    memset(mask, 0, (size_t)total);
    int64_t p = 0;
    for (int i = 0; i < n_counts; i++) {
        int64_t len = counts[i];
        if (i % 2) {
            while (len > 0) { /* fill the run column segment by column segment */
                int64_t x = p / height, y = p % height;
                int64_t take = height - y < len ? height - y : len;
                uint8_t *m = mask + (size_t)y * width + x;
                for (int64_t k = 0; k < take; k++) m[(size_t)k * width] = 1;
                p += take, len -= take;
            }
        } else {
            p += len;
        }
    }
    return SAM2_OK;
}

sam2_status sam2_rle_to_coco_string(const int64_t *counts, int n_counts, char **out) {
    if (!out || (!counts && n_counts) || n_counts < 0)
        return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_rle_to_coco_string: bad arguments");
    *out = NULL;
    for (int i = 0; i < n_counts; i++)
        if (counts[i] < 0 || counts[i] > (int64_t)UINT32_MAX)
            return SAM2_FAIL(SAM2_ERR_PARAM, "RLE run %d (%lld) is outside 0..2^32-1", i, (long long)counts[i]);
    char *s = malloc((size_t)n_counts * 8 + 1); /* a 34-bit signed delta takes at most 7 characters */
    if (!s) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory encoding an RLE");
    size_t p = 0;
    for (int i = 0; i < n_counts; i++) {
        int64_t x = counts[i];
        if (i > 2) x -= counts[i - 2]; /* deltas to the run of the same value */
        int more = 1;
        while (more) {
            int c = (int)(x & 0x1f);
            x >>= 5; /* arithmetic shift (gcc/clang on signed values), as the reference's long */
            more = (c & 0x10) ? x != -1 : x != 0;
            if (more) c |= 0x20;
            s[p++] = (char)(c + 48);
        }
    }
    s[p] = 0;
    *out = s;
    return SAM2_OK;
}

sam2_status sam2_rle_from_coco_string(const char *s, int64_t **counts, int *n_counts) {
    if (!s || !counts || !n_counts) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_rle_from_coco_string: bad arguments");
    *counts = NULL;
    *n_counts = 0;
    size_t len = strlen(s);
    if (len > (size_t)INT32_MAX) return SAM2_FAIL(SAM2_ERR_FORMAT, "COCO RLE string is too long");
    int64_t *c = malloc(sizeof *c * (len ? len : 1));
    if (!c) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory decoding an RLE");
    int m = 0;
    size_t p = 0;
    while (p < len) {
        int64_t x = 0;
        int k = 0, more = 1;
        while (more) {
            if (p >= len || k >= 8) {
                free(c);
                return SAM2_FAIL(SAM2_ERR_FORMAT, "COCO RLE string is truncated or has an over-long run at byte %zu",
                                 p);
            }
            int v = (unsigned char)s[p] - 48;
            if (v < 0 || v > 63) {
                free(c);
                return SAM2_FAIL(SAM2_ERR_FORMAT, "invalid character '%c' in COCO RLE string at byte %zu", s[p], p);
            }
            x |= (int64_t)(v & 0x1f) << (5 * k);
            more = v & 0x20;
            p++, k++;
            if (!more && (v & 0x10)) x -= (int64_t)1 << (5 * k); /* sign-extend the last group */
        }
        if (m > 2) x += c[m - 2];
        if (x < 0 || x > (int64_t)UINT32_MAX) {
            free(c);
            return SAM2_FAIL(SAM2_ERR_FORMAT, "COCO RLE string decodes to run %d = %lld (outside 0..2^32-1)", m,
                             (long long)x);
        }
        c[m++] = x;
    }
    *counts = c;
    *n_counts = m;
    return SAM2_OK;
}
