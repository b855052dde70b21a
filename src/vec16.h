/* vec16.h - sixteen floats as one GCC vector (one AVX-512 register where
 * the CPU has it), for the decoder's hand-blocked kernels. */
#ifndef SAM2_VEC16_H
#define SAM2_VEC16_H

#include <string.h>

typedef float v16 __attribute__((vector_size(64), aligned(4)));

/* Without AVX-512 (the sanitizer build) GCC notes that passing a 64-byte
 * vector by value has another ABI; these helpers are static inline and
 * never cross a call boundary. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

static inline v16 load16(const float *p) {
    v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store16(float *p, v16 v) { memcpy(p, &v, sizeof v); }

/* Keeps a loaded vector in a register: otherwise the compiler folds the
 * load into every multiply-add that uses it, one load per use, and the
 * loads, not the multiply-adds, set the pace. */
static inline v16 in_register(v16 v) {
#if defined(__GNUC__) && defined(__AVX512F__) /* a register holds all 16 floats */
    __asm__("" : "+v"(v));
#endif
    return v;
}

#endif
