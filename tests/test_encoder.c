/* test_encoder.c - the image encoder: kernel unit tests (window partition,
 * geometry checks, bicubic resize, max pooling, exp/erf, attention against a
 * naive implementation), the whole encoder against a naive double-precision
 * re-implementation of the official Python on configurations the golden
 * models do not cover, and parity with the official outputs on every golden
 * image with 1 and 2 threads. */
#include <cjson/cJSON.h>
#include <math.h>

#include "attention.h"
#include "fastmath.h"
#include "image.h"
#include "image_io.h"
#include "model.h"
#include "position_encoding.h"
#include "gemm_bf16.h"
#include "test.h"
#include "token_ops.h"

/* ------------------------------------------------------------ helpers */

static uint64_t g_rng = 0x1234567887654321ULL;

static float frand(void) { /* uniform in [-1, 1) */
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return (float)((g_rng >> 40) / 8388608.0 - 1.0);
}

static float *rand_array(size_t n) {
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) p[i] = frand();
    return p;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m || d != d) m = d;
    }
    return m;
}

/* ------------------------------------------------------ kernel tests */

/* Partition then unpartition (no pooling) gives the map back; padding is 0. */
static void test_partition_roundtrip(void) {
    const int cases[][3] = {{10, 7, 4}, {8, 8, 8}, {9, 13, 5}, {5, 5, 7}, {6, 4, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int H = cases[k][0], W = cases[k][1], win = cases[k][2], C = 3;
        attn_geom g;
        CHECK_OK(attn_geom_init(&g, H, W, win, 1, 1, "test"));
        float *x = rand_array((size_t)H * W * C);
        float *xw = malloc(sizeof(float) * (size_t)attn_tokens(&g) * C), *back = malloc(sizeof(float) * (size_t)H * W * C);
        attn_partition(&g, x, C, xw, 2);
        attn_unpartition(&g, xw, C, back, 2);
        CHECK(max_abs_diff(x, back, (size_t)H * W * C) == 0, "round trip %dx%d window %d", H, W, win);
        /* token (y, x) of window (wy, wx) holds map pixel (wy*win+y, wx*win+x), or 0 in the padding */
        int bad = 0;
        for (int wy = 0; wy < g.nwy; wy++)
            for (int wx = 0; wx < g.nwx; wx++)
                for (int ty = 0; ty < g.th; ty++)
                    for (int tx = 0; tx < g.tw; tx++) {
                        int y = wy * g.th + ty, xx = wx * g.tw + tx;
                        const float *t = xw + ((((size_t)wy * g.nwx + wx) * g.th + ty) * g.tw + tx) * C;
                        float want = (y < H && xx < W) ? x[((size_t)y * W + xx) * C + 1] : 0.0f;
                        bad += t[1] != want;
                    }
        CHECK(bad == 0, "partition layout %dx%d window %d: %d wrong", H, W, win, bad);
        free(x), free(xw), free(back);
    }
}

/* Geometries the official code cannot run are refused; the golden ones pass. */
static void test_geometry(void) {
    attn_geom g;
    CHECK_OK(attn_geom_init(&g, 64, 64, 8, 2, 2, "t"));
    CHECK(g.Ho == 32 && g.qh == 4 && g.nwy == 8, "pooled 64/8: Ho %d qh %d nwy %d", g.Ho, g.qh, g.nwy);
    CHECK_OK(attn_geom_init(&g, 20, 20, 6, 2, 2, "t")); /* 4 windows, pooled 10 in windows of 3: 4 */
    CHECK_OK(attn_geom_init(&g, 10, 10, 0, 2, 2, "t"));
    CHECK(g.identity && g.Ho == 5, "global pooled");
    CHECK(attn_geom_init(&g, 64, 64, 7, 2, 2, "t") == SAM2_ERR_CONFIG, "64/7 pooled must be refused");
    CHECK(attn_geom_init(&g, 64, 64, 1, 2, 2, "t") == SAM2_ERR_CONFIG, "window 1 pooled must be refused");
    CHECK(attn_geom_init(&g, 17, 17, 8, 2, 2, "t") == SAM2_ERR_CONFIG, "17/8 pooled must be refused");
    CHECK(strstr(sam2_last_error(), "t:") != NULL, "message names the block: %s", sam2_last_error());
}

/* Bicubic: constants and (away from the clamped borders) ramps are exact;
 * a hand-computed tap set; an identity-size resize copies. */
static void test_bicubic(void) {
    float in[7 * 5], out[16 * 12];
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 5; x++) in[y * 5 + x] = 3.0f;
    pe_bicubic(in, 7, 5, out, 16, 12);
    double err = 0;
    for (int i = 0; i < 16 * 12; i++) err = fmax(err, fabs(out[i] - 3.0));
    CHECK(err < 1e-5, "constant plane: %g", err);
    /* a separable plane resizes as its 1-D factors do (A = -0.75 does not
     * reproduce ramps exactly, so the reference is the 1-D resize) */
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 5; x++) in[y * 5 + x] = 2.0f * y - 0.5f * x;
    pe_bicubic(in, 7, 5, out, 16, 12);
    float col[7], col16[16], row5[5], row12[12];
    for (int y = 0; y < 7; y++) col[y] = (float)y;
    for (int x = 0; x < 5; x++) row5[x] = (float)x;
    pe_bicubic(col, 7, 1, col16, 16, 1);
    pe_bicubic(row5, 1, 5, row12, 1, 12);
    err = 0;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 12; x++) err = fmax(err, fabs(out[y * 12 + x] - (2.0 * col16[y] - 0.5 * row12[x])));
    CHECK(err < 1e-5, "separable plane: %g", err);
    /* 1-D: 4 samples -> 8; output 3 has source 1.25, taps 0..3 with t = 0.25 */
    float row[4] = {1, 2, 4, 8}, r8[8];
    pe_bicubic(row, 1, 4, r8, 1, 8);
    double A = -0.75, t = 0.25;
    double w0 = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
    double w1 = ((A + 2) * t - (A + 3)) * t * t + 1, w2 = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
    double w3 = ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A;
    double want = w0 * 1 + w1 * 2 + w2 * 4 + w3 * 8;
    CHECK(fabs(r8[3] - want) < 1e-5, "taps: %g vs %g", r8[3], want);
    pe_bicubic(in, 7, 5, out, 7, 5);
    CHECK(max_abs_diff(in, out, 35) < 1e-5, "same size copies");
}

static void test_maxpool_and_rows(void) {
    /* (4, 5, 2) map pooled 2x2 -> (2, 2, 2); the last column is dropped (floor) */
    float x[4 * 5 * 2], y[2 * 2 * 2];
    for (int i = 0; i < 40; i++) x[i] = (float)((i * 7) % 11);
    const float b[2] = {0.5f, -1.0f};
    tok_maxpool(x, 4, 5, 2, 2, 2, b, y, 1);
    int bad = 0;
    for (int oy = 0; oy < 2; oy++)
        for (int ox = 0; ox < 2; ox++)
            for (int c = 0; c < 2; c++) {
                float m = -1e9f;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) m = fmaxf(m, x[((2 * oy + dy) * 5 + 2 * ox + dx) * 2 + c]);
                bad += y[(oy * 2 + ox) * 2 + c] != m + b[c];
            }
    CHECK(bad == 0, "maxpool: %d wrong", bad);
    /* transpose (5, 37) -> (37, 5) */
    float *t = rand_array(5 * 37), tt[5 * 37];
    tok_transpose(t, 5, 37, tt, 2);
    bad = 0;
    for (int r = 0; r < 5; r++)
        for (int c = 0; c < 37; c++) bad += tt[c * 5 + r] != t[r * 37 + c];
    CHECK(bad == 0, "transpose");
    free(t);
    /* layernorm with a fused bias add */
    float *v = rand_array(3 * 40), ln[3 * 40], orig[3 * 40], w[40], bb[40], ab[40];
    memcpy(orig, v, sizeof orig);
    for (int c = 0; c < 40; c++) w[c] = 1 + 0.1f * c, bb[c] = 0.01f * c, ab[c] = 0.5f;
    tok_layernorm(v, ln, 3, 40, w, bb, 1e-6f, ab, 1);
    double err = 0, err2 = 0;
    for (int r = 0; r < 3; r++) {
        double m = 0, s = 0;
        for (int c = 0; c < 40; c++) m += orig[r * 40 + c];
        m /= 40;
        for (int c = 0; c < 40; c++) s += (orig[r * 40 + c] - m) * (orig[r * 40 + c] - m);
        s = 1 / sqrt(s / 40 + 1e-6);
        for (int c = 0; c < 40; c++) {
            err = fmax(err, fabs(ln[r * 40 + c] - ((orig[r * 40 + c] - m) * s * w[c] + bb[c])));
            err2 = fmax(err2, fabs(v[r * 40 + c] - (orig[r * 40 + c] + 0.5)));
        }
    }
    CHECK(err < 1e-5 && err2 < 1e-6, "layernorm %g, fused bias %g", err, err2);
    free(v);
}

static void test_fastmath(void) {
    double e_rel = 0, erf_abs = 0, gelu_abs = 0;
    for (int i = 0; i <= 200000; i++) {
        float x = -87.0f + 175.0f * i / 200000;
        e_rel = fmax(e_rel, fabs(fm_expf(x) - exp(x)) / exp(x));
        float z = -6.0f + 12.0f * i / 200000;
        erf_abs = fmax(erf_abs, fabs(fm_erff(z) - erf(z)));
        gelu_abs = fmax(gelu_abs, fabs(fm_gelu(z) - 0.5 * z * (1 + erf(z / sqrt(2.0)))));
    }
    printf("  fastmath: exp max rel %.2e, erf max abs %.2e, gelu max abs %.2e\n", e_rel, erf_abs, gelu_abs);
    CHECK(e_rel < 5e-7, "exp relative error %g", e_rel);
    CHECK(erf_abs < 1e-6, "erf absolute error %g", erf_abs);
    CHECK(gelu_abs < 1e-6, "gelu absolute error %g", gelu_abs);
    CHECK(fm_expf(-1000.0f) >= 0.0f && fm_expf(-1000.0f) < 1e-37f, "exp underflow");
}

/* Naive windowed attention (double), straight from the Python: pad, split
 * in windows, pool q per window, per-head softmax, unpartition with crop. */
static void naive_attention(int H, int W, int win, int s, const float *qkv, int D, int heads, float *out) {
    int th = win ? win : H, tw = win ? win : W, nwy = (H + th - 1) / th, nwx = (W + tw - 1) / tw;
    int qh = th / s, qw = tw / s, Ho = H / s, Wo = W / s, hd = D / heads;
    double *q = malloc(sizeof(double) * (size_t)qh * qw * D), *sc = malloc(sizeof(double) * (size_t)th * tw);
    for (int wy = 0; wy < nwy; wy++)
        for (int wx = 0; wx < nwx; wx++) {
#define TOK(ty, tx) ((wy * th + (ty)) < H && (wx * tw + (tx)) < W ? qkv + ((size_t)(wy * th + (ty)) * W + wx * tw + (tx)) * 3 * D : NULL)
            for (int a = 0; a < qh; a++)
                for (int b = 0; b < qw; b++)
                    for (int c = 0; c < D; c++) {
                        double m = -1e300;
                        for (int dy = 0; dy < s; dy++)
                            for (int dx = 0; dx < s; dx++) {
                                const float *t = TOK(a * s + dy, b * s + dx);
                                m = fmax(m, t ? t[c] : 0.0); /* padded tokens: qkv of a zero token = 0 here */
                            }
                        q[((size_t)a * qw + b) * D + c] = m;
                    }
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < qh * qw; i++) {
                    double mx = -1e300, sum = 0;
                    for (int j = 0; j < th * tw; j++) {
                        const float *t = TOK(j / tw, j % tw);
                        double d = 0;
                        for (int k = 0; k < hd; k++) d += q[(size_t)i * D + h * hd + k] * (t ? t[D + h * hd + k] : 0.0);
                        sc[j] = d / sqrt((double)hd);
                        mx = fmax(mx, sc[j]);
                    }
                    for (int j = 0; j < th * tw; j++) sum += (sc[j] = exp(sc[j] - mx));
                    int oy = wy * qh + i / qw, ox = wx * qw + i % qw;
                    if (oy >= Ho || ox >= Wo) continue;
                    for (int k = 0; k < hd; k++) {
                        double o = 0;
                        for (int j = 0; j < th * tw; j++) {
                            const float *t = TOK(j / tw, j % tw);
                            o += sc[j] / sum * (t ? t[2 * D + h * hd + k] : 0.0);
                        }
                        out[((size_t)oy * Wo + ox) * D + h * hd + k] = (float)o;
                    }
                }
#undef TOK
        }
    free(q), free(sc);
}

/* The attention pipeline of a block (partition, pool, attn_run,
 * unpartition) against the naive version, on geometries with padding,
 * pooling, global windows and several heads; large enough for query blocks. */
static void test_attention(void) {
    const int cases[][6] = {/* H, W, win, stride, D, heads */
                            {10, 10, 4, 1, 8, 2},  {20, 20, 6, 2, 12, 3}, {9, 7, 0, 1, 6, 1},
                            {12, 10, 0, 2, 8, 4},  {8, 8, 8, 2, 4, 1},    {40, 40, 0, 1, 8, 2},
                            {64, 64, 8, 2, 16, 2}, {5, 5, 7, 1, 8, 2}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int H = cases[k][0], W = cases[k][1], win = cases[k][2], s = cases[k][3], D = cases[k][4], heads = cases[k][5];
        attn_geom g;
        CHECK_OK(attn_geom_init(&g, H, W, win, s, s, "test"));
        float *qkv = rand_array((size_t)H * W * 3 * D); /* spatial */
        float *want = calloc((size_t)g.Ho * g.Wo * D, sizeof(float));
        naive_attention(H, W, win, s, qkv, D, heads, want);
        for (int threads = 1; threads <= 2; threads++) {
            float *qw = malloc(sizeof(float) * (size_t)attn_tokens(&g) * 3 * D);
            float *qp = malloc(sizeof(float) * (size_t)attn_queries(&g) * D);
            float *ow = malloc(sizeof(float) * (size_t)attn_queries(&g) * D);
            float *got = malloc(sizeof(float) * (size_t)g.Ho * g.Wo * D);
            attn_partition(&g, qkv, 3 * D, qw, threads);
            if (s > 1) attn_pool_queries(&g, qw, D, qp, threads);
            CHECK_OK(attn_run(&g, qw, s > 1 ? qp : NULL, D, heads, ow, threads, NULL));
            attn_unpartition(&g, ow, D, got, threads);
            double err = max_abs_diff(got, want, (size_t)g.Ho * g.Wo * D);
            CHECK(err < 2e-5, "attention %dx%d win %d stride %d D %d heads %d threads %d: %g", H, W, win, s, D, heads,
                  threads, err);
            if (bf16_supported()) { /* bfloat16 products: within their rounding of the exact answer */
                CHECK_OK(attn_run_bf16(&g, qw, s > 1 ? qp : NULL, D, heads, ow, threads, NULL));
                attn_unpartition(&g, ow, D, got, threads);
                const double eb = max_abs_diff(got, want, (size_t)g.Ho * g.Wo * D);
                double mx = 0;
                for (size_t i = 0; i < (size_t)g.Ho * g.Wo * D; i++) mx = fabs(want[i]) > mx ? fabs(want[i]) : mx;
                if (getenv("SAM2_TEST_VERBOSE")) fprintf(stderr, "bf16 attention case %zu: %g of %g\n", k, eb, mx);
                CHECK(eb < 0.02 * mx && eb > 0, "bf16 attention case %zu threads %d: %g (max %g)", k, threads, eb, mx);
            }
            free(qw), free(qp), free(ow), free(got);
        }
        free(qkv), free(want);
    }
}

/* ------------------------------------- naive re-implementation (double) */

typedef struct ref_map { /* channels-last (H, W, C) */
    int H, W, C;
    double *v;
} ref_map;

static ref_map ref_new(int H, int W, int C) {
    ref_map m = {H, W, C, calloc((size_t)H * W * C, sizeof(double))};
    return m;
}

static void ref_linear(const double *x, int n, int K, const float *w, const float *b, int N, double *y) {
    for (int i = 0; i < n; i++)
        for (int o = 0; o < N; o++) {
            double a = b ? b[o] : 0;
            for (int k = 0; k < K; k++) a += x[(size_t)i * K + k] * w[(size_t)o * K + k];
            y[(size_t)i * N + o] = a;
        }
}

static void ref_layernorm(const double *x, int n, int C, const float *w, const float *b, double *y) {
    for (int i = 0; i < n; i++) {
        double m = 0, v = 0;
        for (int c = 0; c < C; c++) m += x[(size_t)i * C + c];
        m /= C;
        for (int c = 0; c < C; c++) v += (x[(size_t)i * C + c] - m) * (x[(size_t)i * C + c] - m);
        v = 1 / sqrt(v / C + 1e-6);
        for (int c = 0; c < C; c++) y[(size_t)i * C + c] = (x[(size_t)i * C + c] - m) * v * w[c] + b[c];
    }
}

/* One MultiScaleBlock as hieradet.py writes it. */
static ref_map ref_block(const hiera_block_weights *bw, ref_map x, int dim_out, int heads, int win, int pool) {
    const int H = x.H, W = x.W, dim = x.C, D = dim_out, hd = D / heads;
    double *xn = malloc(sizeof(double) * (size_t)H * W * dim);
    ref_layernorm(x.v, H * W, dim, bw->norm1_w, bw->norm1_b, xn);
    int Hs = pool ? H / 2 : H, Ws = pool ? W / 2 : W;
    ref_map y = ref_new(Hs, Ws, D);
    if (dim != D) {
        double *p = malloc(sizeof(double) * (size_t)H * W * D);
        ref_linear(xn, H * W, dim, bw->short_w, bw->short_b, D, p);
        for (int a = 0; a < Hs; a++)
            for (int b = 0; b < Ws; b++)
                for (int c = 0; c < D; c++) {
                    double m = -1e300;
                    for (int dy = 0; dy < (pool ? 2 : 1); dy++)
                        for (int dx = 0; dx < (pool ? 2 : 1); dx++)
                            m = fmax(m, p[(((size_t)(pool ? 2 * a + dy : a)) * W + (pool ? 2 * b + dx : b)) * D + c]);
                    y.v[((size_t)a * Ws + b) * D + c] = m;
                }
        free(p);
    } else {
        memcpy(y.v, x.v, sizeof(double) * (size_t)H * W * D);
    }
    /* windows of the zero-padded normalised map */
    int th = win ? win : H, tw = win ? win : W, nwy = (H + th - 1) / th, nwx = (W + tw - 1) / tw;
    int qh = pool ? th / 2 : th, qw = pool ? tw / 2 : tw;
    double *tok = malloc(sizeof(double) * (size_t)th * tw * dim), *qkv = malloc(sizeof(double) * (size_t)th * tw * 3 * D);
    double *q = malloc(sizeof(double) * (size_t)qh * qw * D), *sc = malloc(sizeof(double) * (size_t)th * tw);
    double *att = calloc((size_t)Hs * Ws * D, sizeof(double));
    for (int wy = 0; wy < nwy; wy++)
        for (int wx = 0; wx < nwx; wx++) {
            for (int t = 0; t < th * tw; t++) {
                int yy = wy * th + t / tw, xx = wx * tw + t % tw;
                for (int c = 0; c < dim; c++)
                    tok[(size_t)t * dim + c] = (yy < H && xx < W) ? xn[((size_t)yy * W + xx) * dim + c] : 0.0;
            }
            ref_linear(tok, th * tw, dim, bw->qkv_w, bw->qkv_b, 3 * D, qkv);
            for (int a = 0; a < qh; a++)
                for (int b = 0; b < qw; b++)
                    for (int c = 0; c < D; c++) {
                        double m = -1e300;
                        for (int dy = 0; dy < (pool ? 2 : 1); dy++)
                            for (int dx = 0; dx < (pool ? 2 : 1); dx++) {
                                int t = (pool ? 2 * a + dy : a) * tw + (pool ? 2 * b + dx : b);
                                m = fmax(m, qkv[(size_t)t * 3 * D + c]);
                            }
                        q[((size_t)a * qw + b) * D + c] = m;
                    }
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < qh * qw; i++) {
                    double mx = -1e300, sum = 0;
                    for (int j = 0; j < th * tw; j++) {
                        double d = 0;
                        for (int k = 0; k < hd; k++) d += q[(size_t)i * D + h * hd + k] * qkv[(size_t)j * 3 * D + D + h * hd + k];
                        sc[j] = d / sqrt((double)hd);
                        mx = fmax(mx, sc[j]);
                    }
                    for (int j = 0; j < th * tw; j++) sum += (sc[j] = exp(sc[j] - mx));
                    int oy = wy * qh + i / qw, ox = wx * qw + i % qw; /* window_unpartition + crop */
                    if (oy >= Hs || ox >= Ws) continue;
                    for (int k = 0; k < hd; k++) {
                        double o = 0;
                        for (int j = 0; j < th * tw; j++) o += sc[j] / sum * qkv[(size_t)j * 3 * D + 2 * D + h * hd + k];
                        att[((size_t)oy * Ws + ox) * D + h * hd + k] = o;
                    }
                }
        }
    double *pr = malloc(sizeof(double) * (size_t)Hs * Ws * D);
    ref_linear(att, Hs * Ws, D, bw->proj_w, bw->proj_b, D, pr);
    for (size_t i = 0; i < (size_t)Hs * Ws * D; i++) y.v[i] += pr[i];
    double *n2 = malloc(sizeof(double) * (size_t)Hs * Ws * D), *hid = malloc(sizeof(double) * (size_t)Hs * Ws * 4 * D);
    ref_layernorm(y.v, Hs * Ws, D, bw->norm2_w, bw->norm2_b, n2);
    ref_linear(n2, Hs * Ws, D, bw->fc1_w, bw->fc1_b, 4 * D, hid);
    for (size_t i = 0; i < (size_t)Hs * Ws * 4 * D; i++) hid[i] = 0.5 * hid[i] * (1 + erf(hid[i] / sqrt(2.0)));
    ref_linear(hid, Hs * Ws, 4 * D, bw->fc2_w, bw->fc2_b, D, pr);
    for (size_t i = 0; i < (size_t)Hs * Ws * D; i++) y.v[i] += pr[i];
    free(xn), free(tok), free(qkv), free(q), free(sc), free(att), free(pr), free(n2), free(hid);
    free(x.v);
    return y;
}

/* Hiera forward: patch embed, position embedding, blocks; the window,
 * width, head and pooling schedule re-derived from the config as the
 * Python constructor does. out[i] (C, H, W) in float. */
static void ref_trunk(const sam2_config *c, const hiera_weights *w, const float *in, float **out, int *oc, int *oh,
                      int *ow) {
    const int S = c->image_size, H0 = (S + 6 - 7) / 4 + 1, C0 = c->embed_dim;
    ref_map x = ref_new(H0, H0, C0);
    float *plane = malloc(sizeof(float) * (size_t)H0 * H0);
    const int ws0 = c->window_spec[0], bh = c->window_pos_embed_bkg_spatial_size[0];
    const int bwid = c->window_pos_embed_bkg_spatial_size[1];
    for (int ch = 0; ch < C0; ch++) {
        pe_bicubic(w->pos_embed + (size_t)ch * bh * bwid, bh, bwid, plane, H0, H0);
        for (int y = 0; y < H0; y++)
            for (int xx = 0; xx < H0; xx++) {
                double a = w->patch_b[ch] + plane[y * H0 + xx] + w->pos_embed_window[((size_t)ch * ws0 + y % ws0) * ws0 + xx % ws0];
                for (int k = 0; k < 3; k++)
                    for (int ky = 0; ky < 7; ky++)
                        for (int kx = 0; kx < 7; kx++) {
                            int iy = 4 * y - 3 + ky, ix = 4 * xx - 3 + kx;
                            if (iy < 0 || iy >= S || ix < 0 || ix >= S) continue;
                            a += (double)w->patch_w[((ch * 3 + k) * 7 + ky) * 7 + kx] * in[((size_t)k * S + iy) * S + ix];
                        }
                x.v[((size_t)y * H0 + xx) * C0 + ch] = a;
            }
    }
    free(plane);
    int ends[SAM2_MAX_STAGES], n = 0;
    for (int s = 0; s < c->n_stages; s++) ends[s] = (n += c->stages[s]) - 1;
    int cur_stage = 1, dim = C0, heads = c->num_heads, stage = 0;
    for (int i = 0; i < n; i++) {
        int win = c->window_spec[cur_stage - 1];
        for (int g = 0; g < c->n_global_att_blocks; g++)
            if (c->global_att_blocks[g] == i) win = 0;
        int dim_out = dim, pool = 0;
        for (int s = 0; s + 1 < c->n_stages; s++)
            if (i - 1 == ends[s]) {
                dim_out = (int)(dim * c->dim_mul), heads = (int)(heads * c->head_mul), cur_stage++;
                pool = s < c->q_pool;
            }
        x = ref_block(&w->blocks[i], x, dim_out, heads, win, pool);
        dim = dim_out;
        if (i == ends[stage]) {
            oc[stage] = x.C, oh[stage] = x.H, ow[stage] = x.W;
            out[stage] = malloc(sizeof(float) * (size_t)x.C * x.H * x.W);
            for (int p = 0; p < x.H * x.W; p++)
                for (int ch = 0; ch < x.C; ch++) out[stage][(size_t)ch * x.H * x.W + p] = (float)x.v[(size_t)p * x.C + ch];
            stage++;
        }
    }
    free(x.v);
}

/* FpnNeck forward (channels-first, double accumulation). */
static void ref_neck(const sam2_config *c, const fpn_weights *w, float **x, const int *xc, const int *h, const int *wd,
                     float **out) {
    const int n = c->n_stages, d = c->d_model;
    for (int i = n - 1; i >= 0; i--) {
        int hw = h[i] * wd[i];
        out[i] = malloc(sizeof(float) * (size_t)d * hw);
        int td = 0;
        for (int k = 0; k < c->n_fpn_top_down_levels; k++) td |= c->fpn_top_down_levels[k] == i;
        for (int o = 0; o < d; o++)
            for (int p = 0; p < hw; p++) {
                double a = w->lateral_b[i][o];
                for (int k = 0; k < xc[i]; k++) a += (double)w->lateral_w[i][(size_t)o * xc[i] + k] * x[i][(size_t)k * hw + p];
                if (td && i < n - 1) {
                    int y = p / wd[i], xx = p % wd[i], ph = h[i + 1], pw = wd[i + 1];
                    const float *pv = out[i + 1] + (size_t)o * ph * pw;
                    double u;
                    if (c->fpn_interp_nearest) {
                        u = pv[(y / 2) * pw + xx / 2];
                    } else {
                        double sy = fmax(0.5 * (y + 0.5) - 0.5, 0), sx = fmax(0.5 * (xx + 0.5) - 0.5, 0);
                        int y0 = (int)sy, x0 = (int)sx, y1 = y0 + (y0 < ph - 1), x1 = x0 + (x0 < pw - 1);
                        double ly = sy - y0, lx = sx - x0;
                        u = (1 - ly) * ((1 - lx) * pv[y0 * pw + x0] + lx * pv[y0 * pw + x1]) +
                            ly * ((1 - lx) * pv[y1 * pw + x0] + lx * pv[y1 * pw + x1]);
                    }
                    a += u;
                    if (c->fpn_fuse_avg) a /= 2;
                }
                out[i][(size_t)o * hw + p] = (float)a;
            }
    }
}

/* Binds random weights for cfg, runs the encoder with 1 and 2 threads and
 * compares every output with the naive re-implementation. */
static void check_against_reference(const char *name, sam2_config *c) {
    wt_binder b;
    CHECK_OK(wt_binder_init(&b, NULL, 7));
    image_encoder_weights *w = calloc(1, sizeof *w);
    sam2_status st = image_encoder_bind(c, &b, w);
    CHECK(st == SAM2_OK, "%s: bind: %s", name, sam2_last_error());
    if (st != SAM2_OK) {
        wt_binder_done(&b), free(w);
        return;
    }
    const int S = c->image_size, n = c->n_stages, d = c->d_model;
    float *in = rand_array((size_t)3 * S * S);
    float *rt[SAM2_MAX_STAGES] = {0}, *rf[SAM2_MAX_LEVELS] = {0};
    int rc[SAM2_MAX_STAGES], rh[SAM2_MAX_STAGES], rw[SAM2_MAX_STAGES];
    ref_trunk(c, &w->trunk, in, rt, rc, rh, rw);
    ref_neck(c, &w->neck, rt, rc, rh, rw, rf);
    for (int threads = 1; threads <= 2; threads++) {
        encoder_output e;
        st = image_encoder_run(c, w, in, threads, 1, NULL, NULL, &e);
        CHECK(st == SAM2_OK, "%s: run: %s", name, sam2_last_error());
        if (st != SAM2_OK) continue;
        printf(" %s, %d thread(s), vs naive reference\n", name, threads);
        char label[64];
        CHECK(e.n_trunk == n, "stages %d", e.n_trunk);
        for (int i = 0; i < n; i++) {
            CHECK(e.trunk_c[i] == rc[i] && e.trunk_h[i] == rh[i] && e.trunk_w[i] == rw[i], "trunk_%d shape", i);
            snprintf(label, sizeof label, "trunk_%d (%dx%dx%d)", i, rc[i], rh[i], rw[i]);
            CHECK(test_compare(label, e.trunk[i], rt[i], (int64_t)rc[i] * rh[i] * rw[i], 1e-4f, 1e-4f), "%s", label);
        }
        CHECK(e.n_levels == n - c->scalp, "levels %d", e.n_levels);
        for (int i = 0; i < e.n_levels; i++) {
            snprintf(label, sizeof label, "backbone_fpn_%d", i);
            CHECK(test_compare(label, e.fpn[i], rf[i], (int64_t)d * rh[i] * rw[i], 1e-4f, 1e-4f), "%s", label);
        }
        const int last = e.n_levels - 1, ne = rh[last] * rw[last];
        float *emb = malloc(sizeof(float) * (size_t)d * ne);
        for (int ch = 0; ch < d; ch++)
            for (int p = 0; p < ne; p++)
                emb[(size_t)ch * ne + p] = rf[last][(size_t)ch * ne + p] + (c->directly_add_no_mem_embed ? w->no_mem_embed[ch] : 0);
        CHECK(test_compare("image_embed", e.image_embed, emb, (int64_t)d * ne, 1e-4f, 1e-4f), "image_embed");
        free(emb);
        if (c->use_high_res_features_in_sam) {
            for (int k = 0; k < 2; k++) {
                int co = k ? d / 4 : d / 8, hw = rh[k] * rw[k];
                const float *cw = k ? w->conv_s1_w : w->conv_s0_w, *cb = k ? w->conv_s1_b : w->conv_s0_b;
                float *hr = malloc(sizeof(float) * (size_t)co * hw);
                for (int o = 0; o < co; o++)
                    for (int p = 0; p < hw; p++) {
                        double a = cb[o];
                        for (int ch = 0; ch < d; ch++) a += (double)cw[(size_t)o * d + ch] * rf[k][(size_t)ch * hw + p];
                        hr[(size_t)o * hw + p] = (float)a;
                    }
                snprintf(label, sizeof label, "high_res_feats_%d", k);
                CHECK(test_compare(label, e.high_res[k], hr, (int64_t)co * hw, 1e-4f, 1e-4f), "%s", label);
                free(hr);
            }
        } else {
            CHECK(!e.high_res[0] && !e.high_res[1], "no high-res features expected");
        }
        /* the predictor's run (no intermediates) takes levels without
         * top-down fusion through conv_s0/s1 block by block: the same sums */
        encoder_output p;
        st = image_encoder_run(c, w, in, threads, 0, NULL, NULL, &p);
        CHECK(st == SAM2_OK, "%s: run without intermediates: %s", name, sam2_last_error());
        if (st == SAM2_OK) {
            CHECK(!memcmp(p.image_embed, e.image_embed, sizeof(float) * (size_t)d * ne), "%s: image_embed", name);
            for (int k = 0; k < 2 && c->use_high_res_features_in_sam; k++) {
                const size_t nf = (size_t)(k ? d / 4 : d / 8) * rh[k] * rw[k];
                CHECK(!memcmp(p.high_res[k], e.high_res[k], sizeof(float) * nf), "%s: high_res_feats_%d", name, k);
            }
            CHECK(!p.fpn[0] && !p.trunk[0], "%s: intermediates kept", name);
            encoder_output_free(&p);
        }
        encoder_output_free(&e);
    }
    for (int i = 0; i < n; i++) free(rt[i]), free(rf[i]);
    free(in);
    wt_binder_done(&b);
    free(w);
}

static void base_config(sam2_config *c, int S, int embed, int heads, int n, const int *stages, const int *windows) {
    sam2_config_defaults(c);
    c->image_size = S, c->embed_dim = embed, c->num_heads = heads, c->n_stages = n;
    for (int i = 0; i < n; i++) c->stages[i] = stages[i], c->window_spec[i] = windows[i];
    c->n_global_att_blocks = 0;
    c->q_pool = n - 1;
    c->window_pos_embed_bkg_spatial_size[0] = 5, c->window_pos_embed_bkg_spatial_size[1] = 4;
    c->d_model = 16, c->pos_num_pos_feats = 16;
    c->n_backbone_channels = n;
    int dim = embed;
    for (int i = 0; i < n; i++, dim *= 2) c->backbone_channel_list[n - 1 - i] = dim;
    c->n_fpn_top_down_levels = 0;
    c->use_high_res_features_in_sam = 1;
    c->directly_add_no_mem_embed = 1;
}

/* Configurations beyond the golden models: windows that do not divide the
 * map, several heads, a global block that starts a stage, fewer q-pool stages than
 * transitions, head_mul 1.5, bilinear + avg fusion, scalp, no high-res. */
static void test_reference_configs(void) {
    sam2_config c;
    /* A: 160 -> 40x40; windows 8 / 6 (pads 20 -> 24) / 5; global block 4; 2..8 heads; bilinear avg */
    base_config(&c, 160, 8, 2, 3, (int[]){1, 2, 2}, (int[]){8, 6, 5});
    c.n_global_att_blocks = 1, c.global_att_blocks[0] = 4;
    c.n_fpn_top_down_levels = 3, c.fpn_top_down_levels[0] = 0, c.fpn_top_down_levels[1] = 1, c.fpn_top_down_levels[2] = 2;
    c.fpn_interp_nearest = 0, c.fpn_fuse_avg = 1;
    check_against_reference("config A (windows 8/6/5, global, bilinear avg)", &c);
    /* B: 128 -> 32x32; q_pool 1 of 2 transitions (stage 2 keeps 16x16, widens without pooling);
     * stage 3 starts (widening, not pooling) with a global block; heads 2 -> 3 -> 4 (head_mul 1.5);
     * window 5 pads 16 -> 20 */
    base_config(&c, 128, 6, 2, 3, (int[]){2, 1, 1}, (int[]){4, 5, 3});
    c.q_pool = 1, c.head_mul = 1.5f;
    c.n_global_att_blocks = 1, c.global_att_blocks[0] = 3;
    c.n_fpn_top_down_levels = 1, c.fpn_top_down_levels[0] = 0;
    c.fpn_interp_nearest = 1, c.scalp = 1;
    c.use_high_res_features_in_sam = 0, c.directly_add_no_mem_embed = 0;
    check_against_reference("config B (q_pool 1 of 2, global stage start, head_mul 1.5, scalp)", &c);
    /* C: no top-down fusion (levels 0 and 1 go from the trunk through conv_s0/s1 block by block in the
     * predictor's run); D: fusion into level 1 only (level 0 so, level 1 whole); 96 / 4 = 24 x 24 maps
     * are not a multiple of the 256-column blocks */
    base_config(&c, 96, 6, 1, 3, (int[]){1, 1, 1}, (int[]){4, 4, 3});
    check_against_reference("config C (no top-down fusion)", &c);
    c.n_fpn_top_down_levels = 2, c.fpn_top_down_levels[0] = 1, c.fpn_top_down_levels[1] = 2;
    check_against_reference("config D (top-down into levels 1 and 2)", &c);

    /* geometry the official code cannot run is refused at bind time */
    wt_binder b;
    image_encoder_weights *w = calloc(1, sizeof *w);
    /* 16x16 in 6 windows of 3 per side, pooled to 8x8 in windows of 1: 8 per side */
    base_config(&c, 128, 6, 1, 3, (int[]){1, 1, 1}, (int[]){8, 3, 4});
    CHECK_OK(wt_binder_init(&b, NULL, 1));
    CHECK(image_encoder_bind(&c, &b, w) == SAM2_ERR_CONFIG, "window 3 pooled on 16x16 must be refused");
    printf("  refused: %s\n", sam2_last_error());
    wt_binder_done(&b);
    /* global attention on a pooling block: the official block divides by its window */
    base_config(&c, 128, 6, 2, 3, (int[]){2, 1, 1}, (int[]){4, 5, 3});
    c.n_global_att_blocks = 1, c.global_att_blocks[0] = 2;
    CHECK_OK(wt_binder_init(&b, NULL, 1));
    CHECK(image_encoder_bind(&c, &b, w) == SAM2_ERR_CONFIG && strstr(sam2_last_error(), "block 2 pools"),
          "a global pooling block must be refused: %s", sam2_last_error());
    wt_binder_done(&b);
    base_config(&c, 128, 6, 1, 3, (int[]){1, 1, 1}, (int[]){8, 4, 4});
    c.q_pool = 1, c.n_fpn_top_down_levels = 1, c.fpn_top_down_levels[0] = 1; /* level 1 = level 2 size */
    CHECK_OK(wt_binder_init(&b, NULL, 1));
    CHECK(image_encoder_bind(&c, &b, w) == SAM2_ERR_CONFIG, "top-down level of equal size must be refused");
    printf("  refused: %s\n", sam2_last_error());
    wt_binder_done(&b);
    base_config(&c, 128, 6, 1, 3, (int[]){1, 1, 1}, (int[]){6, 4, 4}); /* 32 not a multiple of window_spec[0] */
    CHECK_OK(wt_binder_init(&b, NULL, 1));
    CHECK(image_encoder_bind(&c, &b, w) == SAM2_ERR_CONFIG, "32x32 map in position windows of 6 must be refused");
    wt_binder_done(&b);
    free(w);
}

/* ------------------------------------------------------- golden parity */

static int compare_npy(const char *label, const char *path, const float *got, int64_t n, float atol, float rtol) {
    npy_array a;
    if (npy_read(path, &a) != SAM2_OK) {
        CHECK(0, "cannot read %s: %s", path, sam2_last_error());
        return 0;
    }
    int ok = a.numel == n;
    CHECK(ok, "%s: golden has %lld values, ours %lld", label, (long long)a.numel, (long long)n);
    if (ok) ok = test_compare(label, got, a.data, a.numel, atol, rtol);
    CHECK(ok, "%s outside tolerance", label);
    npy_free(&a);
    return ok;
}

/* Compares what the golden case directory holds of the encoder's outputs. */
static void compare_outputs(const sam2_model *m, const encoder_output *e, const char *dir, const char *model_dir) {
    const float A = 1e-3f, R = 1e-3f;
    const int d = m->cfg.d_model;
    char path[4096], name[64];
    for (int i = 0; i < e->n_trunk; i++) {
        snprintf(path, sizeof path, "%s/trunk_%d.npy", dir, i);
        snprintf(name, sizeof name, "trunk_%d", i);
        if (test_file_exists(path))
            compare_npy(name, path, e->trunk[i], (int64_t)e->trunk_c[i] * e->trunk_h[i] * e->trunk_w[i], A, R);
    }
    for (int i = 0; i < e->n_levels; i++) {
        int64_t n = (int64_t)d * e->fpn_h[i] * e->fpn_w[i];
        snprintf(path, sizeof path, "%s/backbone_fpn_%d.npy", dir, i);
        snprintf(name, sizeof name, "backbone_fpn_%d", i);
        if (test_file_exists(path)) compare_npy(name, path, e->fpn[i], n, A, R);
        snprintf(path, sizeof path, "%s/vision_pos_enc_%d.npy", model_dir, i);
        snprintf(name, sizeof name, "vision_pos_enc_%d", i);
        if (test_file_exists(path)) compare_npy(name, path, e->pos[i], n, 1e-5f, 0);
    }
    int last = e->n_levels - 1;
    snprintf(path, sizeof path, "%s/image_embed.npy", dir);
    compare_npy("image_embed", path, e->image_embed, (int64_t)d * e->fpn_h[last] * e->fpn_w[last], A, R);
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/high_res_feats_%d.npy", dir, k);
        snprintf(name, sizeof name, "high_res_feats_%d", k);
        compare_npy(name, path, e->high_res[k], (int64_t)(k ? d / 4 : d / 8) * e->fpn_h[k] * e->fpn_w[k], A, R);
    }
}

/* Checks our preprocessing of the case's image against input_samples.json
 * (full rows and 256 samples); returns 1 when it matches within 1e-5. */
static int input_matches_samples(const char *json_path, const float *in, int S) {
    char *text = test_read_file(json_path, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!j) return 0;
    double err = 0;
    int n = 0;
    const cJSON *pts = cJSON_GetObjectItem(j, "points_cyx_value"), *p;
    cJSON_ArrayForEach(p, pts) {
        int c = cJSON_GetArrayItem(p, 0)->valueint, y = cJSON_GetArrayItem(p, 1)->valueint;
        int x = cJSON_GetArrayItem(p, 2)->valueint;
        err = fmax(err, fabs(in[((size_t)c * S + y) * S + x] - cJSON_GetArrayItem(p, 3)->valuedouble));
        n++;
    }
    const cJSON *rows = cJSON_GetObjectItem(j, "rows"), *r;
    cJSON_ArrayForEach(r, rows) { /* rows[y][c][x] */
        int y = atoi(r->string);
        for (int c = 0; c < 3; c++) {
            const cJSON *line = cJSON_GetArrayItem(r, c);
            for (int x = 0; x < S && line; x++, n++)
                err = fmax(err, fabs(in[((size_t)c * S + y) * S + x] - cJSON_GetArrayItem(line, x)->valuedouble));
        }
    }
    cJSON_Delete(j);
    printf("  input vs input_samples.json: %d values, max abs %.3e\n", n, err);
    return n > 0 && err <= 1e-5;
}

/* Runs the encoder on one golden case with 1 and 2 threads. The input is
 * input.npy, or (large models) our preprocessing of the case's image when
 * it matches input_samples.json. */
static int check_case(const sam2_model *m, const char *root, const char *model_dir, const char *image) {
    char dir[4096], path[4096];
    snprintf(dir, sizeof dir, "%s/%s", model_dir, image);
    if (!test_file_exists(dir)) return 0;
    const int S = m->cfg.image_size;
    float *in = NULL;
    npy_array a = {0};
    snprintf(path, sizeof path, "%s/input.npy", dir);
    if (test_file_exists(path)) {
        CHECK_OK(npy_read(path, &a));
        in = a.data;
        CHECK(a.numel == 3LL * S * S, "input.npy has %lld values", (long long)a.numel);
    } else {
        char img_path[4096], samples[4096];
        snprintf(img_path, sizeof img_path, "%s/images/%s.jpg", root, image);
        snprintf(samples, sizeof samples, "%s/input_samples.json", dir);
        image_file f;
        if (!test_file_exists(samples) || image_file_read(img_path, &f) != SAM2_OK) {
            printf("  skip %s: no input.npy and no readable image + input_samples.json\n", dir);
            return 0;
        }
        sam2_image view = image_file_view(&f);
        in = malloc(sizeof(float) * 3 * (size_t)S * S);
        sam2_status st = image_preprocess(&view, SAM2_DEPTH_SCALE, S, in);
        image_file_free(&f);
        if (st != SAM2_OK || !input_matches_samples(samples, in, S)) {
            printf("  skip %s: no input.npy and our preprocessing does not reproduce input_samples.json\n", dir);
            free(in);
            return 0;
        }
    }
    for (int threads = 2; threads >= 1; threads--) {
        encoder_output e;
        sam2_status st = image_encoder_run(&m->cfg, &m->enc, in, threads, 1, NULL, NULL, &e);
        CHECK(st == SAM2_OK, "encoder: %s", sam2_last_error());
        if (st != SAM2_OK) break;
        printf(" %s (%d thread%s)\n", dir, threads, threads > 1 ? "s" : "");
        compare_outputs(m, &e, dir, model_dir);
        encoder_output_free(&e);
    }
    if (a.data) npy_free(&a);
    else free(in);
    return 1;
}

int main(void) {
    test_partition_roundtrip();
    test_geometry();
    test_bicubic();
    test_maxpool_and_rows();
    test_fastmath();
    test_attention();
    test_reference_configs();

    const char *g = test_golden_dir();
    char root[4096];
    snprintf(root, sizeof root, "%s", g ? g : test_fixtures_dir());
    const char *models[] = {"micro256", "micro1024"};
    const char *images[] = {"truck", "groceries", "camera", "coins", "synthetic"};
    int cases = 0;
    for (int mi = 0; mi < 2; mi++) {
        char ckpt[4096], yaml[4096], model_dir[4096];
        snprintf(ckpt, sizeof ckpt, "%s/models/%s.pt", root, models[mi]);
        snprintf(yaml, sizeof yaml, "%s/models/%s.yaml", root, models[mi]);
        snprintf(model_dir, sizeof model_dir, "%s/cases/%s", root, models[mi]);
        if (!test_file_exists(ckpt)) {
            printf("skip %s: no checkpoint under %s\n", models[mi], root);
            continue;
        }
        sam2_model *m = NULL;
        CHECK_OK(sam2_model_load(ckpt, yaml, &m));
        if (!m) continue;
        for (int ii = 0; ii < 5; ii++) cases += check_case(m, root, model_dir, images[ii]);
        sam2_model_free(m);
    }
    CHECK(cases > 0, "no golden cases found under %s", root);
    return test_finish();
}
