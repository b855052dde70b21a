/* flops.h - analytic operation counts, so benchmarks can report achieved
 * GFLOP/s against the machine's sgemm throughput. */
#ifndef SAM2_FLOPS_H
#define SAM2_FLOPS_H

#include "config.h"

/* Floating-point operations (multiply-add = 2) of one image-encoder pass:
 * patch embed, every Hiera block (qkv, windowed or global attention with
 * padding, projection, MLP, shortcut projection), FPN laterals, conv_s0/s1.
 * Elementwise work (norms, GELU, softmax) is not counted. */
double encoder_flops(const sam2_config *cfg);

#endif
