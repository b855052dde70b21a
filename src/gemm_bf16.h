/* gemm_bf16.h - the opt-in bfloat16 matrix multiply: inputs rounded to
 * bfloat16 (round to nearest even), products accumulated in float32, on the
 * AVX-512 BF16 dot-product instruction. Used for the encoder's linear layers
 * when a context asks for SAM2_PRECISION_BF16; float32 stays the default. */
#ifndef SAM2_GEMM_BF16_H
#define SAM2_GEMM_BF16_H

#include <stddef.h>
#include <stdint.h>

#include "sam2.h"

/* 1 when this CPU has AVX-512 BF16 (checked at run time). */
int bf16_supported(void);

/* A weight W (N, K) of y = x W^T, rounded to bfloat16 and laid out in panels
 * of 32 output columns, k in pairs (what the kernel reads). */
typedef struct bf16_weight {
    int N, K, Kp;      /* Kp: K rounded up to even */
    uint16_t *data;    /* (ceil(N / 32), Kp / 2, 32, 2) */
} bf16_weight;

sam2_status bf16_weight_pack(const float *W, int N, int K, bf16_weight *out);
void bf16_weight_free(bf16_weight *w);

/* Grows with use; owned by whoever runs the GEMMs (a context's encoder
 * workspace), freed with bf16_scratch_free. */
typedef struct bf16_scratch {
    uint32_t *a;       /* the left operand, rounded and packed */
    size_t cap;        /* uint32 elements */
} bf16_scratch;

void bf16_scratch_free(bf16_scratch *s);

/* C(M, N) = x(M, K) W^T + (bias ? bias : 0) + (beta ? C : 0), x row-major
 * with leading dimension lda, C with ldc. beta is 0 or 1. Fails only when
 * out of memory or without AVX-512 BF16. */
sam2_status gemm_bf16(int M, const float *x, int lda, const bf16_weight *W, const float *bias, int beta, float *C,
                      int ldc, bf16_scratch *s, int n_threads);

/* Pieces for callers that pack their own operands inside their own
 * parallel loops (attention): the packed size of an (N, K) operand, packing
 * element (n, k) = src[n * rs + k * cs], the row scratch one thread needs for
 * a K-deep product, and the product on the calling thread alone (the CPU must
 * have AVX-512 BF16: check bf16_supported first). */
size_t bf16_packed_size(int N, int K);
void bf16_pack_strided(const float *src, int N, int K, size_t rs, size_t cs, uint16_t *dst);
size_t bf16_rows_scratch(int K);
void gemm_bf16_serial(int M, const float *x, int lda, const bf16_weight *W, const float *bias, int beta, float *C,
                      int ldc, uint32_t *scratch);

/* Rounds a float32 to the nearest bfloat16 (ties to even), as the kernel
 * sees its inputs; NaN stays NaN. */
uint16_t bf16_round(float f);

#endif
