/* gemm.h - the single matrix-multiply entry point (CBLAS sgemm). */
#ifndef SAM2_GEMM_H
#define SAM2_GEMM_H

/* C(M,N) = alpha * op(A) @ op(B) + beta * C, all row-major.
 * op(A) is (M,K): A is (M,K) with lda, or (K,M) transposed when transA.
 * op(B) is (K,N): B is (K,N) with ldb, or (N,K) transposed when transB. */
void gemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc);

/* y(M,N) = x(M,K) @ W(N,K)^T + b(N): a PyTorch nn.Linear on M rows.
 * b may be NULL. */
void linear(const float *x, int M, int K, const float *W, const float *b, int N, float *y);

/* 1 when gemm() may be called from inside an OpenMP parallel region without
 * oversubscribing the cores: the BLAS is sequential or built on OpenMP (it
 * then runs single-threaded inside the region). 0 for a pthreads OpenBLAS,
 * whose calls from several threads serialise on a lock. (Added by the
 * encoder; additive.) */
int gemm_nested_ok(void);

/* What runs the GEMMs, for benchmark reports: library, threading, kernel. */
void gemm_backend(char *buf, int size);

#endif
