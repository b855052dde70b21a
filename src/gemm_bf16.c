/* gemm_bf16.c - see gemm_bf16.h. The kernel computes a 12 x 32 block of C:
 * per pair of k it loads 32 columns of W (two registers of 16 bf16 pairs),
 * broadcasts each row's bf16 pair of x and issues one dot-product
 * instruction per row and register, so 24 float32 accumulators stay in
 * registers for the whole k loop. Rows of x are rounded and packed per
 * thread in chunks that stay in cache; W is packed once, at load. */
#include "gemm_bf16.h"

#include <immintrin.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define MR 12 /* rows per kernel call */
#define NR 32 /* columns per panel */

int bf16_supported(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

uint16_t bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

void bf16_weight_free(bf16_weight *w) {
    if (!w) return;
    free(w->data);
    memset(w, 0, sizeof *w);
}

size_t bf16_packed_size(int N, int K) {
    return (size_t)((N + NR - 1) / NR) * (size_t)((K + 1) & ~1) * NR;
}

void bf16_pack_strided(const float *src, int N, int K, size_t rs, size_t cs, uint16_t *dst) {
    const int Kp = (K + 1) & ~1, panels = (N + NR - 1) / NR;
    for (int p = 0; p < panels; p++)
        for (int j = 0; j < NR; j++) {
            uint16_t *col = dst + (size_t)p * Kp * NR + 2 * j;
            const int n = p * NR + j;
            for (int k = 0; k < Kp; k++)
                col[(size_t)(k / 2) * 2 * NR + (k & 1)] = n < N && k < K ? bf16_round(src[(size_t)n * rs + (size_t)k * cs]) : 0;
        }
}

sam2_status bf16_weight_pack(const float *W, int N, int K, bf16_weight *out) {
    memset(out, 0, sizeof *out);
    if (N <= 0 || K <= 0) return SAM2_FAIL(SAM2_ERR_PARAM, "bf16 weight of %d x %d", N, K);
    uint16_t *d = malloc(bf16_packed_size(N, K) * sizeof *d);
    if (!d) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory packing a %d x %d weight to bfloat16", N, K);
    bf16_pack_strided(W, N, K, (size_t)K, 1, d);
    out->N = N, out->K = K, out->Kp = (K + 1) & ~1, out->data = d;
    return SAM2_OK;
}

void bf16_scratch_free(bf16_scratch *s) {
    if (!s) return;
    free(s->a);
    memset(s, 0, sizeof *s);
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/* Rounds rows [0, rows) of x (K wide) to bf16 pairs in the kernel's layout
 * (Kp / 2, MR) per block of MR rows; missing rows and the odd k are zero. */
BF16_TARGET static void pack_rows(const float *x, int lda, int rows, int K, int Kp, uint32_t *dst) {
    const int kpn = Kp / 2;
    for (int r0 = 0; r0 < rows; r0 += MR) {
        uint32_t *blk = dst + (size_t)(r0 / MR) * kpn * MR;
        for (int r = 0; r < MR; r++) {
            if (r0 + r >= rows) {
                for (int kp = 0; kp < kpn; kp++) blk[(size_t)kp * MR + r] = 0;
                continue;
            }
            const float *row = x + (size_t)(r0 + r) * lda;
            int k = 0;
            uint32_t tmp[16];
            for (; k + 32 <= K; k += 32) {
                const __m512 lo = _mm512_loadu_ps(row + k), hi = _mm512_loadu_ps(row + k + 16);
                /* cvtne2ps puts its second operand in the low half */
                const __m512bh v = _mm512_cvtne2ps_pbh(hi, lo);
                _mm512_storeu_si512((void *)tmp, (__m512i)v);
                for (int j = 0; j < 16; j++) blk[(size_t)(k / 2 + j) * MR + r] = tmp[j];
            }
            for (; k < K; k += 2) {
                const uint32_t a = bf16_round(row[k]), b = k + 1 < K ? bf16_round(row[k + 1]) : 0;
                blk[(size_t)(k / 2) * MR + r] = a | (b << 16);
            }
        }
    }
}

/* C[0..rows, 0..cols) (+)= the MR x NR block of the packed rows a and panel b. */
BF16_TARGET static void kernel(int kpn, const uint32_t *a, const uint16_t *b, float *C, int ldc, int rows, int cols,
                               const float *bias, int beta) {
    __m512 acc[MR][2];
    for (int r = 0; r < MR; r++) acc[r][0] = _mm512_setzero_ps(), acc[r][1] = _mm512_setzero_ps();
    for (int kp = 0; kp < kpn; kp++) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)b);
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(b + 32));
        b += 2 * NR;
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) {
            const __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[r]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
        }
        a += MR;
    }
    const __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1u);
    const __mmask16 m1 = cols >= 32 ? 0xffff : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1u);
    __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
    if (bias) bias0 = _mm512_maskz_loadu_ps(m0, bias), bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
    for (int r = 0; r < rows; r++) {
        float *c = C + (size_t)r * ldc;
        __m512 v0 = _mm512_add_ps(acc[r][0], bias0), v1 = _mm512_add_ps(acc[r][1], bias1);
        if (beta) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, c));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, c + 16));
        }
        _mm512_mask_storeu_ps(c, m0, v0);
        _mm512_mask_storeu_ps(c + 16, m1, v1);
    }
}

/* Rows per thread chunk and columns per block, so that the packed chunk and
 * the weight block it meets stay in the core's caches. */
static int chunk_rows(int Kp) {
    int mc = (int)(((size_t)128 << 10) / ((size_t)Kp * 2) / MR) * MR;
    return mc < MR ? MR : mc > 16 * MR ? 16 * MR : mc;
}

static int block_cols(int Kp) {
    int nb = (int)(((size_t)256 << 10) / ((size_t)Kp * 2) / NR) * NR;
    return nb < NR ? NR : nb;
}

size_t bf16_rows_scratch(int K) {
    const int Kp = (K + 1) & ~1;
    return (size_t)chunk_rows(Kp) * (size_t)(Kp / 2);
}

/* Rows [0, rows) of x against every column of W; rows <= chunk_rows. */
static void chunk(int rows, const float *x, int lda, const bf16_weight *W, const float *bias, int beta, float *C,
                  int ldc, uint32_t *ap) {
    const int Kp = W->Kp, kpn = Kp / 2, N = W->N, nb = block_cols(Kp);
    pack_rows(x, lda, rows, W->K, Kp, ap);
    for (int n0 = 0; n0 < N; n0 += nb)
        for (int rb = 0; rb < rows; rb += MR)
            for (int p = n0; p < N && p < n0 + nb; p += NR) {
                const int rr = rows - rb < MR ? rows - rb : MR, cc = N - p < NR ? N - p : NR;
                kernel(kpn, ap + (size_t)(rb / MR) * kpn * MR, W->data + (size_t)(p / NR) * Kp * NR,
                       C + (size_t)rb * ldc + p, ldc, rr, cc, bias ? bias + p : NULL, beta);
            }
}

void gemm_bf16_serial(int M, const float *x, int lda, const bf16_weight *W, const float *bias, int beta, float *C,
                      int ldc, uint32_t *scratch) {
    const int mc = chunk_rows(W->Kp);
    for (int r0 = 0; r0 < M; r0 += mc)
        chunk(M - r0 < mc ? M - r0 : mc, x + (size_t)r0 * lda, lda, W, bias, beta, C + (size_t)r0 * ldc, ldc, scratch);
}

sam2_status gemm_bf16(int M, const float *x, int lda, const bf16_weight *W, const float *bias, int beta, float *C,
                      int ldc, bf16_scratch *s, int n_threads) {
    if (M <= 0) return SAM2_OK;
    if (!bf16_supported()) return SAM2_FAIL(SAM2_ERR_STATE, "bfloat16 precision needs a CPU with AVX-512 BF16");
    const int Kp = W->Kp, kpn = Kp / 2, mc = chunk_rows(Kp);
    const int n_chunks = (M + mc - 1) / mc;
    int nt = n_threads < 1 ? 1 : n_threads;
    if (nt > n_chunks) nt = n_chunks;
    const size_t per_thread = (size_t)mc * kpn;
    if (s->cap < per_thread * nt) {
        free(s->a);
        s->a = malloc(sizeof(uint32_t) * per_thread * nt);
        s->cap = s->a ? per_thread * nt : 0;
        if (!s->a) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for bfloat16 GEMM scratch");
    }
#pragma omp parallel num_threads(nt)
    {
        uint32_t *ap = s->a + per_thread * (size_t)omp_get_thread_num();
#pragma omp for schedule(static)
        for (int ch = 0; ch < n_chunks; ch++) {
            const int r0 = ch * mc, rows = M - r0 < mc ? M - r0 : mc;
            chunk(rows, x + (size_t)r0 * lda, lda, W, bias, beta, C + (size_t)r0 * ldc, ldc, ap);
        }
    }
    return SAM2_OK;
}

#else

size_t bf16_rows_scratch(int K) {
    return (size_t)((K + 1) / 2);
}

void gemm_bf16_serial(int M, const float *x, int lda, const bf16_weight *W, const float *bias, int beta, float *C,
                      int ldc, uint32_t *scratch) {
    (void)M, (void)x, (void)lda, (void)W, (void)bias, (void)beta, (void)C, (void)ldc, (void)scratch;
}

sam2_status gemm_bf16(int M, const float *x, int lda, const bf16_weight *W, const float *bias, int beta, float *C,
                      int ldc, bf16_scratch *s, int n_threads) {
    (void)M, (void)x, (void)lda, (void)W, (void)bias, (void)beta, (void)C, (void)ldc, (void)s, (void)n_threads;
    return SAM2_FAIL(SAM2_ERR_STATE, "bfloat16 precision needs an x86-64 CPU with AVX-512 BF16");
}

#endif
