/* test_gemm_small.c - the implicit decoder's small products against a
 * double-precision reference: every block shape and edge (rows not a
 * multiple of 4, columns not a multiple of 64 or 16, reductions not a
 * multiple of 16), leading dimensions wider than the matrices, beta 0
 * (C not read: it starts as NaN) and 1. */
#include <math.h>
#include <stdint.h>

#include "gemm_small.h"
#include "test.h"

static float rnd(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (float)(*s >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
}

/* max |got - want| / (sum |a b| terms) over C: a relative error per entry
 * that float rounding keeps near 1e-7 whatever the order of the sums; 1
 * when C's columns past N changed. mm_wide (B is (K, N)) or, with dots,
 * mm_dots (B is (N, K)). */
static double check(int dots, int M, int N, int K, float beta, uint64_t *s) {
    const int lda = K + 3, ldb = dots ? K + 1 : N + 5, ldc = N + 7;
    const size_t na = (size_t)M * lda, nb = (size_t)(dots ? N : K) * ldb, nc = (size_t)M * ldc;
    float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb);
    float *C = malloc(sizeof(float) * nc), *C0 = malloc(sizeof(float) * nc);
    for (size_t i = 0; i < na; i++) A[i] = rnd(s);
    for (size_t i = 0; i < nb; i++) B[i] = rnd(s);
    for (size_t i = 0; i < nc; i++) C0[i] = C[i] = beta != 0.0f ? rnd(s) : NAN;
    if (dots) mm_dots(M, N, K, A, lda, B, ldb, beta, C, ldc);
    else mm_wide(M, N, K, A, lda, B, ldb, beta, C, ldc);
    double worst = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++) {
            const size_t at = (size_t)i * ldc + j;
            if (j >= N) { /* outside C: untouched */
                worst = fmax(worst, isnan(C0[at]) ? (isnan(C[at]) ? 0 : 1) : (C[at] == C0[at] ? 0 : 1));
                continue;
            }
            double want = beta != 0.0f ? C0[at] : 0.0, mag = fabs(want) + 1e-30;
            for (int k = 0; k < K; k++) {
                const float bk = dots ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                const double t = (double)A[(size_t)i * lda + k] * bk;
                want += t, mag += fabs(t);
            }
            worst = fmax(worst, isnan(C[at]) ? 1.0 : fabs(C[at] - want) / mag);
        }
    free(A), free(B), free(C), free(C0);
    return worst;
}

/* mm_wide_upper with an upper-triangular A against a double reference */
static double check_upper(int M, int N, uint64_t *s) {
    const int lda = M + 2, ldb = N + 3, ldc = N + 1;
    const size_t na = (size_t)M * lda, nb = (size_t)M * ldb, nc = (size_t)M * ldc;
    float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb), *C = malloc(sizeof(float) * nc);
    for (size_t i = 0; i < na; i++) A[i] = (int)(i % lda) < (int)(i / lda) ? 0.0f : rnd(s);
    for (size_t i = 0; i < nb; i++) B[i] = rnd(s);
    for (size_t i = 0; i < nc; i++) C[i] = NAN;
    mm_wide_upper(M, N, A, lda, B, ldb, C, ldc);
    double worst = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double want = 0, mag = 1e-30;
            for (int k = 0; k < M; k++) {
                const double t = (double)A[(size_t)i * lda + k] * B[(size_t)k * ldb + j];
                want += t, mag += fabs(t);
            }
            const float got = C[(size_t)i * ldc + j];
            worst = fmax(worst, isnan(got) ? 1.0 : fabs(got - want) / mag);
        }
    free(A), free(B), free(C);
    return worst;
}

int main(void) {
    uint64_t s = 0x9E3779B97F4A7C15ull;
    /* rows 1 .. 9 (blocks of 4 and the rest), columns across the 64-wide
     * panels, the 16-wide vectors and single columns, reductions short and
     * long */
    const int Ms[] = {1, 3, 4, 9}, Ns[] = {1, 15, 16, 63, 64, 100, 130}, Ks[] = {1, 7, 16, 66, 300};
    double ww = 0, wd = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 7; b++)
            for (int k = 0; k < 5; k++)
                for (int beta = 0; beta < 2; beta++) {
                    ww = fmax(ww, check(0, Ms[a], Ns[b], Ks[k], (float)beta, &s));
                    wd = fmax(wd, check(1, Ms[a], Ns[b], Ks[k], (float)beta, &s));
                }
    double wu = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 7; b++) wu = fmax(wu, check_upper(Ms[a] + 4 * b, Ns[b], &s));
    wu = fmax(wu, check_upper(64, 128, &s));
    printf("  mm_wide worst relative error %.2e, mm_dots %.2e, mm_wide_upper %.2e\n", ww, wd, wu);
    CHECK(wu < 1e-6, "mm_wide_upper differs from the reference: %g", wu);
    CHECK(ww < 1e-6, "mm_wide differs from the reference: %g", ww);
    CHECK(wd < 1e-6, "mm_dots differs from the reference: %g", wd);
    /* the decoder's shapes: 128 rows of 66 against 4096 pixels and the
     * probabilities of 64 rows against 132 state rows over a tile */
    CHECK(check(0, 128, 4096, 66, 0.0f, &s) < 1e-6, "mm_wide at the decoder's shape");
    CHECK(check(1, 64, 132, 256, 1.0f, &s) < 1e-6, "mm_dots at the decoder's shape");
    CHECK(check(1, 8, 132, 4096 + 9, 0.0f, &s) < 1e-6, "mm_dots along a long reduction with a tail");
    return test_finish();
}
