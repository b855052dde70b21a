/* test_mask_head.c - the decoder's mask head against a direct double-
 * precision reference of the official output upscaling (ConvTranspose2d
 * weights in PyTorch's layout, LayerNorm2d, exact GELU, hypernetwork
 * product): the first product given whole (from tokens) or in the implicit
 * form, with and without high-resolution features, on grids whose rows are
 * not a multiple of the kernels' 16 pixels; one thread and two give the
 * same bits; bad widths are refused. */
#include <math.h>
#include <stdint.h>

#include "mask_head.h"
#include "test.h"

static float rnd(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (float)(*s >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
}

static float *rand_array(size_t n, float scale, uint64_t *s) {
    float *a = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) a[i] = scale * rnd(s);
    return a;
}

typedef struct head_case {
    int d, C1, C2, g, nt;
    float *up1_w, *up1_b, *ln_w, *ln_b, *up2_w, *up2_b, *hyp, *hr0, *hr1;
} head_case;

static head_case make_case(int d, int g, int nt, uint64_t *s) {
    head_case h = {d, d / 4, d / 8, g, nt, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    h.up1_w = rand_array((size_t)d * h.C1 * 4, 1.0f / sqrtf((float)d), s);
    h.up1_b = rand_array((size_t)h.C1, 0.1f, s);
    h.ln_w = rand_array((size_t)h.C1, 0.2f, s);
    for (int c = 0; c < h.C1; c++) h.ln_w[c] += 1.0f;
    h.ln_b = rand_array((size_t)h.C1, 0.2f, s);
    h.up2_w = rand_array((size_t)h.C1 * h.C2 * 4, 1.0f / sqrtf((float)h.C1), s);
    h.up2_b = rand_array((size_t)h.C2, 0.1f, s);
    h.hyp = rand_array((size_t)nt * h.C2, 1.0f, s);
    h.hr0 = rand_array((size_t)h.C2 * 16 * g * g, 0.5f, s);
    h.hr1 = rand_array((size_t)h.C1 * 4 * g * g, 0.5f, s);
    return h;
}

static void free_case(head_case *h) {
    free(h->up1_w), free(h->up1_b), free(h->ln_w), free(h->ln_b), free(h->up2_w), free(h->up2_b);
    free(h->hyp), free(h->hr0), free(h->hr1);
}

static double gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

/* The official upscaling from the first product F (4*C1, HW) (row (2 ky +
 * kx) * C1 + o: the first convolution before its bias): masks (nt, 16 HW). */
static void reference(const head_case *h, const double *F, int skips, double *masks) {
    const int g = h->g, W1 = 2 * g, W2 = 4 * g, C1 = h->C1, C2 = h->C2;
    double *u1 = malloc(sizeof(double) * (size_t)C1 * W1 * W1), *u2 = malloc(sizeof(double) * (size_t)C2 * W2 * W2);
    for (int o = 0; o < C1; o++)
        for (int Y = 0; Y < W1; Y++)
            for (int X = 0; X < W1; X++) {
                const int k = 2 * (Y % 2) + X % 2, p = (Y / 2) * g + X / 2;
                u1[((size_t)o * W1 + Y) * W1 + X] = F[((size_t)k * C1 + o) * g * g + p] + h->up1_b[o] +
                                                     (skips ? h->hr1[((size_t)o * W1 + Y) * W1 + X] : 0.0);
            }
    for (int P = 0; P < W1 * W1; P++) { /* LayerNorm2d over channels, eps 1e-6, then GELU */
        double m = 0, v = 0;
        for (int o = 0; o < C1; o++) m += u1[(size_t)o * W1 * W1 + P];
        m /= C1;
        for (int o = 0; o < C1; o++) v += (u1[(size_t)o * W1 * W1 + P] - m) * (u1[(size_t)o * W1 * W1 + P] - m);
        v /= C1;
        for (int o = 0; o < C1; o++) {
            double *x = &u1[(size_t)o * W1 * W1 + P];
            *x = gelu((*x - m) / sqrt(v + 1e-6) * h->ln_w[o] + h->ln_b[o]);
        }
    }
    for (int c = 0; c < C2; c++)
        for (int Y = 0; Y < W2; Y++)
            for (int X = 0; X < W2; X++) {
                const int ky = Y % 2, kx = X % 2, y = Y / 2, x = X / 2;
                double a = h->up2_b[c] + (skips ? h->hr0[((size_t)c * W2 + Y) * W2 + X] : 0.0);
                for (int i = 0; i < C1; i++)
                    a += u1[((size_t)i * W1 + y) * W1 + x] * h->up2_w[(((size_t)i * C2 + c) * 2 + ky) * 2 + kx];
                u2[((size_t)c * W2 + Y) * W2 + X] = gelu(a);
            }
    for (int m = 0; m < h->nt; m++)
        for (int P = 0; P < W2 * W2; P++) {
            double a = 0;
            for (int c = 0; c < C2; c++) a += h->hyp[(size_t)m * C2 + c] * u2[(size_t)c * W2 * W2 + P];
            masks[(size_t)m * W2 * W2 + P] = a;
        }
    free(u1), free(u2);
}

/* max |got - want| / (1 + |want|) */
static double worst_diff(const float *got, const double *want, size_t n) {
    double w = 0;
    for (size_t i = 0; i < n; i++) w = fmax(w, isnan(got[i]) ? 1e9 : fabs(got[i] - want[i]) / (1.0 + fabs(want[i])));
    return w;
}

/* Runs one case both ways (whole first product from random tokens, and
 * the implicit form) with and without skips; returns the worst difference
 * from the reference and checks that two threads give one thread's bits. */
static double run_case(int d, int g, int nt, uint64_t *s) {
    head_case h = make_case(d, g, nt, s);
    mask_head_weights hw;
    CHECK_OK(mask_head_init(d, h.up1_w, h.up1_b, h.ln_w, h.ln_b, h.up2_w, h.up2_b, &hw));
    const int HW = g * g, N1 = 4 * h.C1, K = 7;
    const size_t nm = (size_t)nt * 16 * HW;
    float *skips = malloc(sizeof(float) * mask_head_skip_floats(&hw, g));
    float *scratch = malloc(sizeof(float) * mask_head_scratch_floats(&hw, g, nt, 2));
    float *masks = malloc(sizeof(float) * nm), *masks2 = malloc(sizeof(float) * nm);
    float *full = malloc(sizeof(float) * (size_t)N1 * HW);
    double *F = malloc(sizeof(double) * (size_t)N1 * HW), *want = malloc(sizeof(double) * nm);
    mask_head_skips(&hw, g, h.hr0, h.hr1, skips);
    /* whole: tokens (HW, d) through the first weight in PyTorch's layout */
    float *tok = rand_array((size_t)HW * d, 1.0f, s);
    for (int k = 0; k < 4; k++)
        for (int o = 0; o < h.C1; o++)
            for (int p = 0; p < HW; p++) {
                double a = 0;
                for (int i = 0; i < d; i++) a += (double)tok[(size_t)p * d + i] * h.up1_w[((size_t)i * h.C1 + o) * 4 + k];
                F[((size_t)k * h.C1 + o) * HW + p] = a, full[((size_t)k * h.C1 + o) * HW + p] = (float)a;
            }
    /* implicit: alpha[p] shared[:, p] + Z L[:, p] */
    float *alpha = rand_array((size_t)HW, 1.0f, s), *shared = rand_array((size_t)N1 * HW, 1.0f, s);
    float *Z = rand_array((size_t)N1 * K, 0.5f, s), *L = rand_array((size_t)K * HW, 1.0f, s);
    double *F2 = malloc(sizeof(double) * (size_t)N1 * HW);
    for (int r = 0; r < N1; r++)
        for (int p = 0; p < HW; p++) {
            double a = (double)alpha[p] * shared[(size_t)r * HW + p];
            for (int k = 0; k < K; k++) a += (double)Z[(size_t)r * K + k] * L[(size_t)k * HW + p];
            F2[(size_t)r * HW + p] = a;
        }
    const mask_head_first whole = {full, NULL, NULL, NULL, NULL, 0};
    const mask_head_first lowrank = {NULL, alpha, shared, Z, L, K};
    double worst = 0;
    for (int form = 0; form < 2; form++)
        for (int sk = 0; sk < 2; sk++) {
            for (size_t i = 0; i < nm; i++) masks[i] = masks2[i] = NAN;
            reference(&h, form ? F2 : F, sk, want);
            mask_head_run(&hw, g, form ? &lowrank : &whole, sk ? skips : NULL, h.hyp, nt, masks, scratch, 1);
            mask_head_run(&hw, g, form ? &lowrank : &whole, sk ? skips : NULL, h.hyp, nt, masks2, scratch, 2);
            worst = fmax(worst, worst_diff(masks, want, nm));
            CHECK(memcmp(masks, masks2, sizeof(float) * nm) == 0, "two threads differ from one (form %d, skips %d)",
                  form, sk);
        }
    mask_head_free(&hw);
    free(skips), free(scratch), free(masks), free(masks2), free(full), free(F), free(F2), free(want);
    free(tok), free(alpha), free(shared), free(Z), free(L);
    free_case(&h);
    return worst;
}

int main(void) {
    uint64_t s = 0x2545F4914F6CDD1Dull;
    /* grids of 3, 5 and 16 tokens a side: rows of 3 to 64 upscaled pixels,
     * short of, across and at the kernels' 16-pixel vectors */
    const double w1 = run_case(32, 5, 3, &s), w2 = run_case(16, 3, 4, &s), w3 = run_case(64, 16, 4, &s);
    printf("  worst difference from the reference: %.2e, %.2e, %.2e\n", w1, w2, w3);
    CHECK(w1 < 2e-5 && w2 < 2e-5 && w3 < 2e-5, "mask head differs from the reference: %g %g %g", w1, w2, w3);
    mask_head_weights hw;
    float w[4] = {0};
    CHECK(mask_head_init(12, w, w, w, w, w, w, &hw) == SAM2_ERR_PARAM, "a width not a multiple of 8 is refused");
    return test_finish();
}
