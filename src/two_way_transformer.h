/* two_way_transformer.h - the mask decoder's two-way transformer (the
 * official TwoWayTransformer) for a batch of prompts, and the small MLPs the
 * decoder heads share with it. */
#ifndef SAM2_TWO_WAY_TRANSFORMER_H
#define SAM2_TWO_WAY_TRANSFORMER_H

#include <stddef.h>

#include "mask_decoder.h"

/* Floats of scratch an MLP run on M rows needs. */
size_t dec_mlp_work_floats(const mlp_weights *m, int M);

/* An MLP with ReLU between its layers (the official MLP, no output
 * activation) on M rows: x (M, dims[0]) -> out (M, dims[n_layers]). work
 * holds dec_mlp_work_floats(m, M) floats. */
void dec_mlp_run(const mlp_weights *m, const float *x, int M, float *out, float *work);

/* Floats of scratch two_way_run needs for B prompts of T tokens on an image
 * of HW tokens with n_threads threads. */
size_t two_way_work_floats(const sam2_config *cfg, int B, int T, int HW, int n_threads);

/* Runs the transformer on B prompts at once. queries (B, T, d) start as the
 * tokens qpe (B, T, d) and are updated in place; keys (B, HW, d) are the image
 * tokens, updated in place. keys_shared: only keys[0 .. HW*d) holds the
 * input, identical for every prompt (no mask input), so the image-side
 * projections of layer 0 run once; the per-prompt keys are filled in when
 * the first image-to-token attention updates them. kpe (HW, d) is the dense
 * positional encoding. The attention loops use n_threads OpenMP threads; work
 * holds two_way_work_floats(cfg, B, T, HW, n_threads). */
void two_way_run(const sam2_config *cfg, const mask_decoder_weights *w, int B, int T, int HW, float *queries,
                 const float *qpe, float *keys, int keys_shared, const float *kpe, int n_threads, float *work);

/* two_way_run with the low-rank form of the cross attentions on (1) or off
 * (0: projections of the image tokens, term by term as the reference), or
 * (2) on and shared image tokens kept implicit where two_way_implicit.h
 * applies. The low-rank form applies when heads x tokens is below the
 * attention width.
 * cache may be NULL. Only the first n_final tokens of each prompt get the
 * final attention (T: all); two_way_final gives the others theirs later,
 * e.g. only to the prompts whose IoU tokens pass a filter. */
/* Returns 1 when keys were shared and the image side ran implicitly (mode
 * 2 with a cache whose ix is set): keys then hold each
 * prompt's state, two_way_keys forms its tokens. Otherwise 0 and keys hold
 * the image tokens. */
int two_way_run_mode(const sam2_config *cfg, const mask_decoder_weights *w, int B, int T, int HW, float *queries,
                     const float *qpe, float *keys, int keys_shared, const float *kpe, int n_threads, float *work,
                     int lowrank_ok, two_way_cache *cache, int n_final);

/* The final attention (with its residual and norm) for tokens t0 .. t0 + n
 * - 1 of B prompts after two_way_run_mode: queries, qpe (B, T, d), keys (B,
 * HW, d) per prompt as that call left them; the same work and cache;
 * implicit as it returned. */
void two_way_final(const sam2_config *cfg, const mask_decoder_weights *w, int B, int T, int HW, float *queries,
                   const float *qpe, const float *keys, const float *kpe, int t0, int n, int n_threads, float *work,
                   const two_way_cache *cache, int implicit);

#endif
