/* gemm_small.c - see gemm_small.h. Register blocks of 16-float vectors
 * (GCC vector extensions: one AVX-512 register each where the CPU has it). */
#include "gemm_small.h"

#include <string.h>

#include "vec16.h"

/* mm_wide on RB rows and VB vectors of 16 columns from (i, j): every B
 * vector loaded once per k feeds RB multiply-adds, k in order. */
#define WIDE_BLOCK(RB, VB)                                                                                  \
    static void wide_##RB##x##VB(int K, const float *A, int lda, const float *B, int ldb, float beta, float *C, \
                                 int ldc) {                                                                 \
        v16 acc[RB][VB];                                                                                    \
        for (int r = 0; r < RB; r++)                                                                        \
            for (int v = 0; v < VB; v++) acc[r][v] = beta != 0.0f ? load16(C + (size_t)r * ldc + 16 * v) : (v16){0}; \
        for (int k = 0; k < K; k++) {                                                                       \
            v16 b[VB];                                                                                      \
            for (int v = 0; v < VB; v++) b[v] = in_register(load16(B + (size_t)k * ldb + 16 * v));          \
            for (int r = 0; r < RB; r++) {                                                                  \
                const float a = A[(size_t)r * lda + k];                                                     \
                for (int v = 0; v < VB; v++) acc[r][v] += a * b[v];                                         \
            }                                                                                               \
        }                                                                                                   \
        for (int r = 0; r < RB; r++)                                                                        \
            for (int v = 0; v < VB; v++) store16(C + (size_t)r * ldc + 16 * v, acc[r][v]);                  \
    }
WIDE_BLOCK(4, 4)
WIDE_BLOCK(1, 4)
WIDE_BLOCK(4, 1)
WIDE_BLOCK(1, 1)

/* mm_wide, or with upper = 1 for an upper-triangular A (M = K, zeros below
 * the diagonal): each block of rows starts its sums at its first row. */
static void wide(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc,
                 int upper) {
    const int N64 = N / 64 * 64, N16 = N / 16 * 16;
    /* a panel of 64 columns of B (K x 64) stays in the first-level cache
     * while every row of A passes over it */
    for (int j = 0; j < N16; j += 64) {
        const int full = j < N64;
        for (int i = 0; i < M;) { /* rows four at a time, then one by one */
            const int four = i + 4 <= M, k0 = upper ? i : 0;
            const float *a = A + (size_t)i * lda + k0, *b = B + (size_t)k0 * ldb;
            float *c = C + (size_t)i * ldc;
            if (full) (four ? wide_4x4 : wide_1x4)(K - k0, a, lda, b + j, ldb, beta, c + j, ldc);
            else
                for (int jj = j; jj < N16; jj += 16)
                    (four ? wide_4x1 : wide_1x1)(K - k0, a, lda, b + jj, ldb, beta, c + jj, ldc);
            i += four ? 4 : 1;
        }
    }
    for (int i = 0; i < M; i++) /* the last columns, one by one, k in order */
        for (int j = N16; j < N; j++) {
            float s = beta != 0.0f ? C[(size_t)i * ldc + j] : 0.0f;
            for (int k = upper ? i : 0; k < K; k++) s += A[(size_t)i * lda + k] * B[(size_t)k * ldb + j];
            C[(size_t)i * ldc + j] = s;
        }
}

void mm_wide(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    wide(M, N, K, A, lda, B, ldb, beta, C, ldc, 0);
}

void mm_wide_upper(int M, int N, const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
    wide(M, N, M, A, lda, B, ldb, 0.0f, C, ldc, 1);
}

typedef int i16 __attribute__((vector_size(64)));

/* The lane sums of 16 vectors as one vector, r[i] = sum of x[i]'s lanes:
 * four rounds of pairing halves, 15 additions in all instead of 240. */
static inline v16 lane_sums16(const v16 *x) {
    v16 y[8], z[4], w[2];
    for (int i = 0; i < 8; i++)
        y[i] = __builtin_shuffle(x[2 * i], x[2 * i + 1], (i16){0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23}) +
               __builtin_shuffle(x[2 * i], x[2 * i + 1], (i16){8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31});
    for (int i = 0; i < 4; i++)
        z[i] = __builtin_shuffle(y[2 * i], y[2 * i + 1], (i16){0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27}) +
               __builtin_shuffle(y[2 * i], y[2 * i + 1], (i16){4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31});
    for (int i = 0; i < 2; i++)
        w[i] = __builtin_shuffle(z[2 * i], z[2 * i + 1], (i16){0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29}) +
               __builtin_shuffle(z[2 * i], z[2 * i + 1], (i16){2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31});
    return __builtin_shuffle(w[0], w[1], (i16){0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30}) +
           __builtin_shuffle(w[0], w[1], (i16){1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31});
}

/* mm_dots on RB rows of A and NB rows of B: RB x NB vector accumulators
 * along K, summed across their lanes at the end and added to C. */
#define DOTS_BLOCK(RB, NB)                                                                                  \
    static void dots_##RB##x##NB(int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc) { \
        v16 acc[16]; /* RB * NB <= 16 used */                                                               \
        for (int q = 0; q < RB * NB; q++) acc[q] = (v16){0};                                                \
        const int K16 = K / 16 * 16;                                                                        \
        for (int k = 0; k < K16; k += 16) {                                                                 \
            v16 b[NB];                                                                                      \
            for (int n = 0; n < NB; n++) b[n] = in_register(load16(B + (size_t)n * ldb + k));               \
            for (int r = 0; r < RB; r++) {                                                                  \
                const v16 a = in_register(load16(A + (size_t)r * lda + k));                                 \
                for (int n = 0; n < NB; n++) acc[r * NB + n] += a * b[n];                                   \
            }                                                                                               \
        }                                                                                                   \
        float sums[16];                                                                                     \
        if (RB * NB == 16)                                                                                  \
            store16(sums, lane_sums16(acc));                                                                \
        else                                                                                                \
            for (int q = 0; q < RB * NB; q++) {                                                             \
                float t = 0.0f;                                                                             \
                for (int l = 0; l < 16; l++) t += acc[q][l];                                                \
                sums[q] = t;                                                                                \
            }                                                                                               \
        for (int r = 0; r < RB; r++)                                                                        \
            for (int n = 0; n < NB; n++) {                                                                  \
                float t = sums[r * NB + n];                                                                 \
                for (int k = K16; k < K; k++) t += A[(size_t)r * lda + k] * B[(size_t)n * ldb + k];          \
                C[(size_t)r * ldc + n] += t;                                                                \
            }                                                                                               \
    }
DOTS_BLOCK(4, 4)
DOTS_BLOCK(1, 4)
DOTS_BLOCK(4, 1)
DOTS_BLOCK(1, 1)

/* K in chunks: the chunk's rows of A and B stay in the second-level
 * cache while all blocks of rows pass over them */
#define DOTS_CHUNK 1024

void mm_dots(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (beta == 0.0f)
        for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, sizeof(float) * N);
    for (int k0 = 0; k0 < K; k0 += DOTS_CHUNK) {
        const int kc = K - k0 < DOTS_CHUNK ? K - k0 : DOTS_CHUNK;
        const float *Ak = A + k0, *Bk = B + k0;
        int i = 0;
        for (; i + 4 <= M; i += 4) {
            int j = 0;
            for (; j + 4 <= N; j += 4)
                dots_4x4(kc, Ak + (size_t)i * lda, lda, Bk + (size_t)j * ldb, ldb, C + (size_t)i * ldc + j, ldc);
            for (; j < N; j++)
                dots_4x1(kc, Ak + (size_t)i * lda, lda, Bk + (size_t)j * ldb, ldb, C + (size_t)i * ldc + j, ldc);
        }
        for (; i < M; i++) {
            int j = 0;
            for (; j + 4 <= N; j += 4)
                dots_1x4(kc, Ak + (size_t)i * lda, lda, Bk + (size_t)j * ldb, ldb, C + (size_t)i * ldc + j, ldc);
            for (; j < N; j++)
                dots_1x1(kc, Ak + (size_t)i * lda, lda, Bk + (size_t)j * ldb, ldb, C + (size_t)i * ldc + j, ldc);
        }
    }
}
