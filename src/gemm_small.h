/* gemm_small.h - two matrix products of the implicit decoder whose shapes
 * a general GEMM serves badly: a few dozen rows against thousands of
 * pixels. A BLAS packs the long operand into its own layout before using
 * it, which for these shapes costs about a third of the product; here the
 * pixel-contiguous rows are read where they lie. Row-major throughout. */
#ifndef SAM2_GEMM_SMALL_H
#define SAM2_GEMM_SMALL_H

/* C (M, N) = A (M, K) B (K, N) + beta C, beta 0 or 1 (0: C is not read).
 * For small M and K and long rows N. */
void mm_wide(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* C (M, N) = A (M, M) B (M, N) for an upper-triangular A whose entries
 * below the diagonal are zero (those within a block of four rows are read):
 * about half the work of mm_wide. */
void mm_wide_upper(int M, int N, const float *A, int lda, const float *B, int ldb, float *C, int ldc);

/* C (M, N) = A (M, K) B (N, K)^T + beta C, beta 0 or 1: dot products of
 * rows along a long K. */
void mm_dots(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

#endif
