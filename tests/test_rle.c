/* test_rle.c - run-length encodings: the golden pycocotools vectors (encode,
 * decode, compressed strings both ways, byte-identical), random masks round
 * trip against a naive column-major encoder, crop placement, empty / full
 * masks, and refusal of corrupt input. */
#include <cjson/cJSON.h>
#include <stdint.h>

#include "rle.h"
#include "rle_bits.h"
#include "rle_sketch.h"
#include "test.h"

/* Deterministic pseudo-random numbers (test-local state). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* The obvious encoder: walk the (H, W) mask column by column. Returns the
 * number of counts written to counts (room for H * W + 1). */
static int naive_rle(const uint8_t *m, int H, int W, int64_t *counts) {
    int n = 0, cur = 0;
    int64_t run = 0;
    for (int x = 0; x < W; x++)
        for (int y = 0; y < H; y++) {
            int v = m[(size_t)y * W + x] != 0;
            if (v != cur) {
                counts[n++] = run;
                run = 0;
                cur = v;
            }
            run++;
        }
    counts[n++] = run;
    return n;
}

static int same_counts(const int64_t *a, int na, const int64_t *b, int nb) {
    return na == nb && (na == 0 || !memcmp(a, b, sizeof *a * (size_t)na));
}

static int64_t mask_area(const uint8_t *m, size_t n) {
    int64_t a = 0;
    for (size_t i = 0; i < n; i++) a += m[i] != 0;
    return a;
}

/* One golden vector: mask rows (if any), counts, coco string. */
static void check_vector(const cJSON *c, int idx) {
    const cJSON *jc = cJSON_GetObjectItem(c, "counts"), *rows = cJSON_GetObjectItem(c, "mask_rows");
    const char *coco = cJSON_GetObjectItem(c, "coco")->valuestring;
    int n = cJSON_GetArraySize(jc);
    int64_t *want = malloc(sizeof(int64_t) * ((size_t)n + 1));
    for (int i = 0; i < n; i++) want[i] = (int64_t)cJSON_GetArrayItem(jc, i)->valuedouble;
    char *s = NULL;
    CHECK_OK(sam2_rle_to_coco_string(want, n, &s));
    CHECK(s && !strcmp(s, coco), "case %d: string '%s', want '%s'", idx, s ? s : "", coco);
    free(s);
    int64_t *back = NULL;
    int nb = 0;
    CHECK_OK(sam2_rle_from_coco_string(coco, &back, &nb));
    CHECK(same_counts(back, nb, want, n), "case %d: string '%s' decodes to other counts", idx, coco);
    free(back);
    if (rows && cJSON_IsArray(rows)) {
        const cJSON *size = cJSON_GetObjectItem(c, "size");
        int h = cJSON_GetArrayItem(size, 0)->valueint, w = cJSON_GetArrayItem(size, 1)->valueint;
        uint8_t *m = malloc((size_t)h * w), *d = malloc((size_t)h * w);
        for (int y = 0; y < h; y++) {
            const char *r = cJSON_GetArrayItem(rows, y)->valuestring;
            for (int x = 0; x < w; x++) m[y * w + x] = r[x] == '1';
        }
        int64_t *got = NULL;
        int ng = 0;
        CHECK_OK(rle_encode(m, h, w, &got, &ng));
        CHECK(same_counts(got, ng, want, n), "case %d (%dx%d %s): encoded counts differ", idx, h, w,
              cJSON_GetObjectItem(c, "kind")->valuestring);
        CHECK_OK(sam2_rle_decode(want, n, h, w, d));
        CHECK(!memcmp(d, m, (size_t)h * w), "case %d: decoded mask differs", idx);
        CHECK(rle_area(want, n) == mask_area(m, (size_t)h * w), "case %d: area", idx);
        free(got), free(m), free(d);
    }
    free(want);
}

static void test_golden_vectors(void) {
    const char *g = test_golden_dir();
    char path[4096];
    if (g)
        snprintf(path, sizeof path, "%s/rle_cases.json", g);
    else
        snprintf(path, sizeof path, "%s/amg/rle_cases.json", test_fixtures_dir());
    char *text = test_read_file(path, NULL);
    if (!text) {
        printf("no %s: golden RLE vectors skipped\n", path);
        return;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *cases = cJSON_GetObjectItem(j, "cases");
    int n = cJSON_GetArraySize(cases);
    CHECK(n >= 20, "only %d golden RLE vectors", n);
    for (int i = 0; i < n; i++) check_vector(cJSON_GetArrayItem(cases, i), i);
    printf("golden RLE vectors: %d checked\n", n);
    cJSON_Delete(j);
}

/* A random mask: speckle of density p/8, or blobs. */
static void random_mask(uint8_t *m, int h, int w, int kind) {
    if (kind < 8) {
        for (int i = 0; i < h * w; i++) m[i] = (int)(rnd() % 8) < kind;
        return;
    }
    memset(m, 0, (size_t)h * w);
    for (int b = 0; b < 4; b++) {
        int cx = (int)(rnd() % (unsigned)w), cy = (int)(rnd() % (unsigned)h), r = 1 + (int)(rnd() % 12);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) m[y * w + x] = 1;
    }
}

static void test_random_round_trip(void) {
    int fails = 0;
    for (int t = 0; t < 300; t++) {
        const int h = 1 + (int)(rnd() % 40), w = 1 + (int)(rnd() % 40), kind = (int)(rnd() % 9);
        uint8_t *m = malloc((size_t)h * w), *d = malloc((size_t)h * w);
        int64_t *ref = malloc(sizeof(int64_t) * ((size_t)h * w + 1));
        random_mask(m, h, w, kind);
        if (t % 3 == 0) /* nonzero values other than 1 count as foreground */
            for (int i = 0; i < h * w; i++) m[i] = m[i] ? (uint8_t)(1 + rnd() % 255) : 0;
        int nref = naive_rle(m, h, w, ref);
        int64_t *got = NULL;
        int ng = 0;
        CHECK_OK(rle_encode(m, h, w, &got, &ng));
        fails += !same_counts(got, ng, ref, nref);
        CHECK_OK(sam2_rle_decode(got, ng, h, w, d));
        for (int i = 0; i < h * w; i++) fails += d[i] != (m[i] != 0);
        char *s = NULL;
        int64_t *back = NULL;
        int nb = 0;
        CHECK_OK(sam2_rle_to_coco_string(got, ng, &s));
        CHECK_OK(sam2_rle_from_coco_string(s, &back, &nb));
        fails += !same_counts(back, nb, got, ng);
        fails += rle_area(got, ng) != mask_area(m, (size_t)h * w);
        free(s), free(back), free(got), free(m), free(d), free(ref);
    }
    CHECK(fails == 0, "%d random round-trip mismatches", fails);
}

/* A crop mask placed in a larger image (the AMG's padding), including crops
 * that span the full height (runs continue across columns) and masks that
 * touch the last pixel. */
static void test_placement(void) {
    int fails = 0;
    for (int t = 0; t < 200; t++) {
        const int H = 1 + (int)(rnd() % 30), W = 1 + (int)(rnd() % 30);
        const int h = t % 4 == 0 ? H : 1 + (int)(rnd() % (unsigned)H), w = 1 + (int)(rnd() % (unsigned)W);
        const int y0 = (int)(rnd() % (unsigned)(H - h + 1)), x0 = (int)(rnd() % (unsigned)(W - w + 1));
        uint8_t *m = malloc((size_t)h * w), *full = calloc((size_t)H * W, 1);
        int64_t *ref = malloc(sizeof(int64_t) * ((size_t)H * W + 1));
        random_mask(m, h, w, (int)(rnd() % 9));
        if (t % 5 == 0) memset(m, 1, (size_t)h * w);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) full[(size_t)(y + y0) * W + x + x0] = m[y * w + x];
        int nref = naive_rle(full, H, W, ref);
        rle_rows r;
        CHECK_OK(rle_rows_init(&r, h, w));
        for (int y = 0; y < h; y++) CHECK_OK(rle_rows_push(&r, m + (size_t)y * w));
        int64_t *got = NULL;
        int ng = 0;
        CHECK_OK(rle_rows_finish(&r, x0, y0, H, W, &got, &ng));
        fails += !same_counts(got, ng, ref, nref);
        free(got);
        /* the builder is reusable after a reset */
        rle_rows_reset(&r);
        for (int y = 0; y < h; y++) CHECK_OK(rle_rows_push(&r, m + (size_t)y * w));
        CHECK_OK(rle_rows_finish(&r, x0, y0, H, W, &got, &ng));
        fails += !same_counts(got, ng, ref, nref);
        free(got);
        rle_rows_free(&r);
        free(m), free(full), free(ref);
    }
    CHECK(fails == 0, "%d placement mismatches", fails);
}

static void test_edge_cases(void) {
    /* empty, full, column-major order */
    uint8_t m[12] = {0};
    int64_t *c = NULL;
    int n = 0;
    CHECK_OK(rle_encode(m, 3, 4, &c, &n));
    CHECK(n == 1 && c[0] == 12, "empty mask: [12], got n=%d", n);
    free(c);
    memset(m, 1, sizeof m);
    CHECK_OK(rle_encode(m, 3, 4, &c, &n));
    CHECK(n == 2 && c[0] == 0 && c[1] == 12, "full mask: [0, 12]");
    free(c);
    /* (h=2, w=3): only pixel (y=1, x=0) set -> column-major index 1 */
    uint8_t m2[6] = {0, 0, 0, 1, 0, 0};
    CHECK_OK(rle_encode(m2, 2, 3, &c, &n));
    CHECK(n == 3 && c[0] == 1 && c[1] == 1 && c[2] == 4, "column-major order");
    free(c);
    /* only pixel (y=0, x=1) set -> index 2 */
    uint8_t m3[6] = {0, 1, 0, 0, 0, 0};
    CHECK_OK(rle_encode(m3, 2, 3, &c, &n));
    CHECK(n == 3 && c[0] == 2 && c[1] == 1 && c[2] == 3, "column-major order (2)");
    free(c);
    /* the last pixel set: no trailing zero run */
    uint8_t m4[6] = {0, 0, 0, 0, 0, 1};
    CHECK_OK(rle_encode(m4, 2, 3, &c, &n));
    CHECK(n == 2 && c[0] == 5 && c[1] == 1, "mask ending on the last pixel: [5, 1], got n=%d", n);
    free(c);
    /* logits */
    float lg[6] = {-1.0f, 0.0f, 0.5f, 2.0f, -3.0f, 1e-7f};
    uint8_t mb[6];
    for (int i = 0; i < 6; i++) mb[i] = lg[i] > 0.0f;
    int64_t *c2 = NULL;
    int n2 = 0;
    CHECK_OK(rle_encode_logits(lg, 2, 3, 0.0f, &c, &n));
    CHECK_OK(rle_encode(mb, 2, 3, &c2, &n2));
    CHECK(same_counts(c, n, c2, n2), "RLE from logits equals RLE of the thresholded mask");
    free(c), free(c2);
    /* an empty COCO string is zero runs */
    CHECK_OK(sam2_rle_from_coco_string("", &c, &n));
    CHECK(n == 0, "empty string: no runs");
    free(c);
    char *s = NULL;
    int64_t none = 0;
    CHECK_OK(sam2_rle_to_coco_string(&none, 0, &s));
    CHECK(s && !strcmp(s, ""), "no runs: empty string");
    free(s);
}

/* Rows pushed in parts (only the columns that changed since the row above
 * compared) give the RLE of rows pushed whole. */
static void test_parts(void) {
    int fails = 0;
    for (int t = 0; t < 200; t++) {
        const int h = 1 + (int)(rnd() % 30), w = 1 + (int)(rnd() % 90);
        uint8_t *m = malloc((size_t)h * w);
        random_mask(m, 1, w, (int)(rnd() % 9));
        /* each row changes the one before it in at most one range of columns */
        int *x0 = malloc(sizeof(int) * h), *n = malloc(sizeof(int) * h);
        for (int y = 0; y < h; y++) {
            if (y) memcpy(m + (size_t)y * w, m + (size_t)(y - 1) * w, (size_t)w);
            x0[y] = (int)(rnd() % (unsigned)w), n[y] = (int)(rnd() % (unsigned)(w - x0[y] + 1));
            for (int x = x0[y]; x < x0[y] + n[y]; x++) m[(size_t)y * w + x] = (uint8_t)(rnd() % 2);
        }
        rle_rows whole, parts;
        CHECK_OK(rle_rows_init(&whole, h, w));
        CHECK_OK(rle_rows_init(&parts, h, w));
        for (int y = 0; y < h; y++) {
            CHECK_OK(rle_rows_push(&whole, m + (size_t)y * w));
            if (y == 0) {
                CHECK_OK(rle_rows_push(&parts, m));
            } else {
                CHECK_OK(rle_rows_compare(&parts, m + (size_t)y * w, x0[y], n[y]));
                CHECK_OK(rle_rows_push_repeat(&parts));
            }
        }
        int64_t *a = NULL, *b = NULL;
        int na = 0, nb = 0;
        CHECK_OK(rle_rows_finish(&whole, 0, 0, h, w, &a, &na));
        CHECK_OK(rle_rows_finish(&parts, 0, 0, h, w, &b, &nb));
        fails += !same_counts(a, na, b, nb);
        free(a), free(b), free(m), free(x0), free(n);
        rle_rows_free(&whole), rle_rows_free(&parts);
    }
    CHECK(fails == 0, "%d masks differ when pushed in parts", fails);
    rle_rows r;
    uint8_t row[4] = {1, 1, 0, 0};
    CHECK_OK(rle_rows_init(&r, 1, 4));
    CHECK(rle_rows_compare(&r, row, 3, 2) == SAM2_ERR_PARAM, "columns past the row refused");
    CHECK(rle_rows_compare(&r, row, -1, 1) == SAM2_ERR_PARAM, "negative column refused");
    rle_rows_free(&r);
}

static void test_bad_input(void) {
    uint8_t m[12];
    int64_t bad_sum[] = {5, 5};
    CHECK(sam2_rle_decode(bad_sum, 2, 3, 4, m) == SAM2_ERR_FORMAT, "runs not covering the mask refused");
    int64_t too_long[] = {10, 10};
    CHECK(sam2_rle_decode(too_long, 2, 3, 4, m) == SAM2_ERR_FORMAT, "runs beyond the mask refused");
    int64_t neg[] = {14, -2};
    CHECK(sam2_rle_decode(neg, 2, 3, 4, m) == SAM2_ERR_FORMAT, "negative run refused");
    CHECK(sam2_rle_decode(NULL, 2, 3, 4, m) == SAM2_ERR_PARAM, "NULL counts refused");
    int64_t *c = NULL;
    int n = 0;
    CHECK(sam2_rle_from_coco_string("0\x7f", &c, &n) == SAM2_ERR_FORMAT, "invalid character refused");
    CHECK(strstr(sam2_last_error(), "character") != NULL, "message names the character: %s", sam2_last_error());
    CHECK(sam2_rle_from_coco_string("0`", &c, &n) == SAM2_ERR_FORMAT, "truncated run refused");
    CHECK(sam2_rle_from_coco_string("000O", &c, &n) == SAM2_ERR_FORMAT, "run decoding negative refused");
    CHECK(sam2_rle_from_coco_string("````````0", &c, &n) == SAM2_ERR_FORMAT, "over-long run refused");
    CHECK(c == NULL, "no counts on failure");
    char *s = NULL;
    int64_t negc[] = {3, -1};
    CHECK(sam2_rle_to_coco_string(negc, 2, &s) == SAM2_ERR_PARAM && s == NULL, "negative count refused");
    rle_rows r;
    CHECK(rle_rows_init(&r, 0, 5) == SAM2_ERR_PARAM, "empty builder refused");
    CHECK_OK(rle_rows_init(&r, 2, 2));
    uint8_t row[2] = {1, 0};
    CHECK(rle_rows_finish(&r, 0, 0, 2, 2, &c, &n) == SAM2_ERR_STATE, "finish before all rows refused");
    CHECK_OK(rle_rows_push(&r, row));
    CHECK_OK(rle_rows_push(&r, row));
    CHECK(rle_rows_push(&r, row) == SAM2_ERR_PARAM, "too many rows refused");
    CHECK(rle_rows_finish(&r, 1, 0, 2, 2, &c, &n) == SAM2_ERR_PARAM, "placement outside the image refused");
    rle_rows_free(&r);
}

/* Packed RLEs round-trip at every varint length (one to ten bytes) and
 * reject bytes cut short, left over, negative counts and overlong varints. */
static void test_pack(void) {
    const int64_t want[] = {0, 1, 127, 128, 300, 16383, 16384, 2097151, 2097152, (int64_t)1 << 35,
                            INT64_MAX, 5, 0};
    const int n = (int)(sizeof want / sizeof want[0]);
    uint8_t *b = NULL;
    size_t nb = 0;
    CHECK_OK(rle_pack(want, n, &b, &nb));
    /* 1+1+1+2+2+2+3+3+4+6+9+1+1 bytes */
    CHECK(nb == 36, "packed size %zu, want 36", nb);
    int64_t *got = NULL;
    CHECK_OK(rle_unpack(b, nb, n, &got));
    for (int i = 0; got && i < n; i++) CHECK(got[i] == want[i], "count %d: %lld, want %lld", i, (long long)got[i], (long long)want[i]);
    free(got);
    CHECK(rle_unpack(b, nb - 1, n, &got) == SAM2_ERR_FORMAT && !got, "cut short: format error");
    CHECK(rle_unpack(b, nb, n - 1, &got) == SAM2_ERR_FORMAT && !got, "bytes left over: format error");
    free(b);
    const int64_t neg[] = {3, -1};
    CHECK(rle_pack(neg, 2, &b, &nb) == SAM2_ERR_PARAM && !b, "negative count refused");
    uint8_t overlong[11];
    memset(overlong, 0xff, sizeof overlong);
    CHECK(rle_unpack(overlong, sizeof overlong, 1, &got) == SAM2_ERR_FORMAT && !got, "overlong varint refused");
    /* an empty RLE packs to nothing and back */
    CHECK_OK(rle_pack(want, 0, &b, &nb));
    CHECK(nb == 0, "empty: %zu bytes", nb);
    CHECK_OK(rle_unpack(b, nb, 0, &got));
    free(b), free(got);
    /* random masks: pack(encode(m)) unpacks to the same counts */
    int fails = 0;
    for (int t = 0; t < 50; t++) {
        const int h = 1 + (int)(rnd() % 40), w = 1 + (int)(rnd() % 40);
        uint8_t *m = malloc((size_t)h * w);
        random_mask(m, h, w, (int)(rnd() % 9));
        int64_t *c = NULL;
        int nc = 0;
        CHECK_OK(rle_encode(m, h, w, &c, &nc));
        CHECK_OK(rle_pack(c, nc, &b, &nb));
        CHECK_OK(rle_unpack(b, nb, nc, &got));
        fails += !same_counts(got, nc, c, nc);
        free(m), free(c), free(b), free(got);
    }
    CHECK(fails == 0, "%d packed round-trip mismatches", fails);
}

/* Sketches: cell counts add up to the area, and on random pairs of masks
 * (sizes below and above the grid's, blobs and noise) the lower bound never
 * exceeds the exact intersection and the upper bound never falls below it;
 * for identical masks the upper bound is exact, and the lower bound is exact
 * often enough to be worth its cost (masks with full or empty cells). */
static void test_sketch(void) {
    int fails = 0, tight = 0;
    for (int t = 0; t < 300; t++) {
        const int h = 1 + (int)(rnd() % 70), w = 1 + (int)(rnd() % 70);
        uint8_t *a = malloc((size_t)h * w), *b = malloc((size_t)h * w);
        random_mask(a, h, w, (int)(rnd() % 9));
        if (t % 3 == 0) memcpy(b, a, (size_t)h * w);
        else random_mask(b, h, w, (int)(rnd() % 9));
        int64_t *ca = NULL, *cb = NULL, inter = 0;
        int na = 0, nb = 0;
        CHECK_OK(rle_encode(a, h, w, &ca, &na));
        CHECK_OK(rle_encode(b, h, w, &cb, &nb));
        for (size_t i = 0; i < (size_t)h * w; i++) inter += a[i] && b[i];
        rle_sketch sa, sb;
        rle_sketch_make(ca, na, h, w, &sa);
        rle_sketch_make(cb, nb, h, w, &sb);
        int64_t sum = 0;
        for (int k = 0; k < RLE_SKETCH_SIDE * RLE_SKETCH_SIDE; k++) sum += sa.cell[k];
        fails += sum != rle_area(ca, na);
        const int64_t lo = rle_sketch_lower(&sa, &sb, h, w), hi = rle_sketch_bound(&sa, &sb);
        fails += lo > inter || hi < inter || lo < 0;
        if (t % 3 == 0) fails += hi != inter;
        tight += lo == inter;
        free(a), free(b), free(ca), free(cb);
    }
    CHECK(fails == 0, "%d sketch bounds wrong", fails);
    CHECK(tight >= 30, "lower bound exact only %d times", tight);
}

/* Bits: on random pairs of noisy masks inside random sub-boxes (tall
 * enough for several words per column, boxes that start mid-word), the
 * bits' intersection is the exact one and every mask's bits count its area;
 * masks whose bits would outgrow their runs (smooth blobs) and empty masks
 * get none. */
static void test_bits(void) {
    int fails = 0, made = 0, skipped = 0;
    for (int t = 0; t < 200; t++) {
        const int h = 1 + (int)(rnd() % 200), w = 1 + (int)(rnd() % 60);
        uint8_t *m[2];
        int64_t *c[2];
        int nc[2];
        rle_bits b[2];
        for (int k = 0; k < 2; k++) {
            m[k] = calloc((size_t)h * w, 1);
            const int kind = t % 10 == 0 ? (int)(rnd() % 9) : 1 + (int)(rnd() % 7); /* mostly noise */
            const int y0 = (int)(rnd() % (unsigned)h), x0 = (int)(rnd() % (unsigned)w);
            const int y1 = y0 + (int)(rnd() % (unsigned)(h - y0)), x1 = x0 + (int)(rnd() % (unsigned)(w - x0));
            uint8_t *sub = malloc((size_t)h * w);
            random_mask(sub, h, w, kind);
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++) m[k][y * w + x] = sub[y * w + x];
            free(sub);
            CHECK_OK(rle_encode(m[k], h, w, &c[k], &nc[k]));
            CHECK_OK(rle_bits_make_if_dense(c[k], nc[k], h, &b[k]));
            if (!b[k].w) {
                skipped++;
                continue;
            }
            made++;
            fails += b[k].x0 < 0 || b[k].x0 + b[k].ncols > w || b[k].w0 < 0 || (b[k].w0 + b[k].nw - 1) * 64 >= h ||
                     (int64_t)b[k].ncols * b[k].nw > nc[k];
            fails += rle_bits_intersection(&b[k], &b[k]) != rle_area(c[k], nc[k]);
        }
        if (b[0].w && b[1].w) {
            int64_t inter = 0;
            for (size_t i = 0; i < (size_t)h * w; i++) inter += m[0][i] && m[1][i];
            fails += rle_bits_intersection(&b[0], &b[1]) != inter || rle_bits_intersection(&b[1], &b[0]) != inter;
        }
        for (int k = 0; k < 2; k++) free(m[k]), free(c[k]), rle_bits_free(&b[k]);
    }
    CHECK(fails == 0, "%d bit intersections or boxes wrong", fails);
    CHECK(made >= 200 && skipped >= 5, "bits made %d times, skipped %d: the test misses a case", made, skipped);
    /* empty and smooth masks: no bits */
    rle_bits e;
    /* a run from the bottom of one column into the top of the next spans
     * every row of the box (the other columns' noise makes the bits worth it) */
    {
        const int h = 200, w = 4;
        uint8_t *m = calloc((size_t)h * w, 1);
        for (int y = 0; y < 10; y++) m[(190 + y) * w] = 1, m[y * w + 1] = 1;
        for (int y = 0; y < 60; y += 2) m[(70 + y) * w + 2] = m[(71 + y) * w + 3] = 1;
        int64_t *c = NULL;
        int nc = 0;
        CHECK_OK(rle_encode(m, h, w, &c, &nc));
        CHECK_OK(rle_bits_make_if_dense(c, nc, h, &e));
        CHECK(e.w && e.w0 == 0 && e.nw == 4 && rle_bits_intersection(&e, &e) == 80,
              "run across columns: bits %s, words %d + %d, area %lld of 80", e.w ? "made" : "not made", e.w0, e.nw,
              e.w ? (long long)rle_bits_intersection(&e, &e) : 0LL);
        rle_bits_free(&e);
        free(m), free(c);
    }
    /* ten columns of 200 rows, rows 10 .. 159 set: 21 runs, 30 words */
    int64_t empty[] = {120}, band[21] = {10};
    for (int k = 1; k < 21; k++) band[k] = k % 2 ? 150 : 50;
    band[20] = 40;
    CHECK_OK(rle_bits_make_if_dense(empty, 1, 12, &e));
    CHECK(e.w == NULL, "empty mask got bits");
    CHECK_OK(rle_bits_make_if_dense(band, 21, 200, &e));
    CHECK(e.w == NULL, "a smooth band of 21 runs got 30 words of bits");
}

int main(void) {
    test_golden_vectors();
    test_sketch();
    test_bits();
    test_pack();
    test_random_round_trip();
    test_placement();
    test_parts();
    test_edge_cases();
    test_bad_input();
    return test_finish();
}
