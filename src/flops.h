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

/* Floating-point operations (multiply-add = 2) the mask decoder spends on
 * one click of a generator's grid (n_sparse prompt tokens: 2 for a click
 * and its padding point) in its implicit form (two_way_implicit.h), with the
 * final attention for the IoU token alone, as for a click none of whose
 * masks passes the IoU filter. Counted: every image-sized product (per
 * pixel), the tokens' projections and MLPs, and the per-click constants of
 * the first update; not counted: the later updates' constants, element-wise
 * work. A lower bound of that path's work, then. -1 when the implicit form
 * does not apply to the config. */
double decoder_click_flops(const sam2_config *cfg, int n_sparse);

#endif
