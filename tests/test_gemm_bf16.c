/* test_gemm_bf16.c - the bfloat16 GEMM against a double-precision product of
 * the same bf16-rounded inputs (so only float32 accumulation may differ),
 * over shapes with row, column and k remainders, with bias and accumulation;
 * the rounding itself (ties to even, NaN kept); and a context in bfloat16
 * precision against float32 on the golden micro256 model: close, not equal. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_bf16.h"
#include "image_io.h"
#include "model.h"
#include "test.h"

static float bf16_value(float f) {
    uint32_t u = (uint32_t)bf16_round(f) << 16;
    float r;
    memcpy(&r, &u, sizeof r);
    return r;
}

static float rnd(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void check_shape(int M, int N, int K, int with_bias, int beta, int n_threads) {
    uint64_t s = (uint64_t)(M * 7919 + N * 104729 + K);
    const int lda = K + 3, ldc = N + 5;
    float *x = malloc(sizeof(float) * (size_t)M * lda), *W = malloc(sizeof(float) * (size_t)N * K);
    float *b = malloc(sizeof(float) * (size_t)N), *C = malloc(sizeof(float) * (size_t)M * ldc);
    double *want = malloc(sizeof(double) * (size_t)M * ldc);
    for (int i = 0; i < M * lda; i++) x[i] = rnd(&s) * 3.0f;
    for (int i = 0; i < N * K; i++) W[i] = rnd(&s);
    for (int i = 0; i < N; i++) b[i] = rnd(&s);
    for (int i = 0; i < M * ldc; i++) C[i] = rnd(&s), want[i] = C[i];
    double scale = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0, mag = 0;
            for (int k = 0; k < K; k++) {
                const double p = (double)bf16_value(x[(size_t)i * lda + k]) * bf16_value(W[(size_t)j * K + k]);
                acc += p, mag += fabs(p);
            }
            double *w = &want[(size_t)i * ldc + j];
            *w = acc + (with_bias ? b[j] : 0.0) + (beta ? *w : 0.0);
            scale = mag > scale ? mag : scale;
        }
    bf16_weight pw;
    bf16_scratch sc = {0};
    CHECK_OK(bf16_weight_pack(W, N, K, &pw));
    CHECK_OK(gemm_bf16(M, x, lda, &pw, with_bias ? b : NULL, beta, C, ldc, &sc, n_threads));
    double err = 0;
    int untouched = 1;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            const double e = fabs(C[(size_t)i * ldc + j] - want[(size_t)i * ldc + j]);
            err = e > err ? e : err;
        }
        for (int j = N; j < ldc; j++) untouched &= C[(size_t)i * ldc + j] == (float)want[(size_t)i * ldc + j];
    }
    CHECK(err <= 1e-5 * scale + 1e-6, "M %d N %d K %d bias %d beta %d: max error %g (scale %g)", M, N, K, with_bias,
          beta, err, scale);
    CHECK(untouched, "M %d N %d K %d: columns beyond N written", M, N, K);
    bf16_weight_free(&pw);
    bf16_scratch_free(&sc);
    free(x), free(W), free(b), free(C), free(want);
}

/* Encodes the golden synthetic image in both precisions. */
static void check_context(void) {
    const char *golden = test_golden_dir();
    if (!golden) {
        printf("no golden data: bfloat16 context skipped\n");
        return;
    }
    char pt[4096], yaml[4096], path[4096];
    snprintf(pt, sizeof pt, "%s/models/micro256.pt", golden);
    snprintf(yaml, sizeof yaml, "%s/models/micro256.yaml", golden);
    snprintf(path, sizeof path, "%s/images/synthetic.png", golden);
    sam2_model *m = NULL;
    sam2_ctx *a = NULL, *b = NULL;
    image_file f = {0};
    CHECK_OK(sam2_model_load(pt, yaml, &m));
    CHECK_OK(image_file_read(path, &f));
    if (!m || !f.pixels) goto done;
    CHECK_OK(sam2_ctx_new(m, 2, &a));
    CHECK_OK(sam2_ctx_new(m, 2, &b));
    CHECK(sam2_ctx_set_precision(b, (sam2_precision)7) == SAM2_ERR_PARAM, "precision 7 accepted");
    CHECK_OK(sam2_ctx_set_precision(b, SAM2_PRECISION_BF16));
    const sam2_image img = image_file_view(&f);
    CHECK_OK(sam2_set_image(a, &img));
    CHECK_OK(sam2_set_image(b, &img));
    if (a->has_image && b->has_image) {
        const sam2_config *c = &m->cfg;
        const size_t n = (size_t)c->d_model * (c->image_size / c->backbone_stride) * (c->image_size / c->backbone_stride);
        double dev = 0, mx = 0;
        for (size_t i = 0; i < n; i++) {
            const double d = fabs((double)a->enc.image_embed[i] - b->enc.image_embed[i]);
            dev = d > dev ? d : dev;
            mx = fabs(a->enc.image_embed[i]) > mx ? fabs(a->enc.image_embed[i]) : mx;
        }
        CHECK(dev > 0 && dev < 0.03 * mx, "bfloat16 embedding deviates by %g (max %g)", dev, mx);
        /* back to float32: exact again */
        CHECK_OK(sam2_ctx_set_precision(b, SAM2_PRECISION_F32));
        CHECK_OK(sam2_set_image(b, &img));
        CHECK(!memcmp(a->enc.image_embed, b->enc.image_embed, n * sizeof(float)), "float32 after bfloat16 differs");
    }
done:
    sam2_ctx_free(a), sam2_ctx_free(b);
    image_file_free(&f);
    sam2_model_free(m);
}

int main(void) {
    CHECK(bf16_round(1.0f) == 0x3f80, "1.0 -> %04x", bf16_round(1.0f));
    CHECK(bf16_round(1.00390625f) == 0x3f80, "a tie rounds to even (down)");
    CHECK(bf16_round(1.01171875f) == 0x3f82, "a tie rounds to even (up)");
    CHECK(bf16_round(-2.0f) == 0xc000, "-2.0");
    CHECK(isnan(bf16_value(NAN)), "NaN lost");
    CHECK(isinf(bf16_value(INFINITY)), "inf lost");
    if (!bf16_supported()) {
        bf16_weight pw;
        float w[4] = {1, 2, 3, 4}, x[2] = {1, 1}, c[2];
        bf16_scratch sc = {0};
        CHECK_OK(bf16_weight_pack(w, 2, 2, &pw));
        CHECK(gemm_bf16(1, x, 2, &pw, NULL, 0, c, 2, &sc, 1) == SAM2_ERR_STATE, "no AVX-512 BF16, yet it ran");
        bf16_weight_free(&pw);
        printf("no AVX-512 BF16 on this CPU: kernel checks skipped\n");
        return test_finish();
    }
    check_shape(1, 1, 1, 0, 0, 1);
    check_shape(12, 32, 64, 0, 0, 1);
    check_shape(37, 45, 51, 1, 0, 2);
    check_shape(37, 45, 50, 0, 1, 2);
    check_shape(130, 97, 33, 1, 1, 2);
    check_shape(400, 64, 3, 1, 0, 2);   /* several row chunks, tiny k */
    check_shape(25, 600, 700, 0, 1, 2); /* several column blocks */
    check_context();
    return test_finish();
}
