/* gemm.c - every matrix multiply goes through here, so one place decides
 * how (OpenBLAS sgemm) and can be measured. */
#include "gemm.h"

#include <cblas.h>
#include <stdio.h>

void gemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void linear(const float *x, int M, int K, const float *W, const float *b, int N, float *y) {
    if (M <= 0 || N <= 0) return;
    if (b) {
#pragma omp parallel for schedule(static) if ((long)M * N > 65536)
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) y[(long)i * N + j] = b[j];
    }
    gemm(0, 1, M, N, K, 1.0f, x, K, W, K, b ? 1.0f : 0.0f, y, N);
}

int gemm_nested_ok(void) {
#ifdef OPENBLAS_THREAD
    return openblas_get_parallel() != OPENBLAS_THREAD;
#else
    return 1;
#endif
}

void gemm_backend(char *buf, int size) {
    int par = openblas_get_parallel();
    snprintf(buf, (size_t)size, "%s; %s threads; kernel %s", openblas_get_config(),
             par == 0 ? "no" : par == 1 ? "pthreads" : "OpenMP", openblas_get_corename());
}
