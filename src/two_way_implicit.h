/* two_way_implicit.h - the image side of the two-way transformer for
 * prompts that share their image tokens (no mask input), kept implicit.
 *
 * After the first image-to-token attention a prompt's image tokens are
 * LayerNorm(S + P U): the shared tokens S plus a rank-R update (R = heads x
 * tokens). Each LayerNorm only scales rows and adds constant vectors, so
 * after layer l the tokens of a prompt are still
 *     keys[p] = alpha[p] (S[p] * g) + L[p] . Nm
 * with g the product of the LayerNorm weights so far, L (HW, K) and Nm (K,
 * d) per prompt and K = R - H + 3 per layer (each head's probabilities sum
 * to one, so its last token's row folds into one shared row; the mean and
 * the bias take two more). Every later use of the keys is a
 * projection (scores, values, the next update's statistics), so it splits
 * into the shared tokens' projection, made once per image, and a K-wide
 * per-prompt part: the same sums in another order, without forming the
 * (HW, d) tokens of each prompt. Only prompts whose masks are wanted get
 * their tokens formed (two_way_keys). Applies to decoders of depth 1 or 2
 * (every official one has 2) with heads x tokens below the attention width.
 */
#ifndef SAM2_TWO_WAY_IMPLICIT_H
#define SAM2_TWO_WAY_IMPLICIT_H

#include <stddef.h>

#include "mask_decoder.h"

/* Whether prompts of T tokens on HW image tokens take the implicit form:
 * depth 1 or 2, heads x T below the attention width, heads of at most 16
 * channels, and the per-prompt state fits the (HW, d) floats of the
 * prompt's image tokens. */
int twi_applies(const sam2_config *cfg, int T, int HW);

/* Floats of per-image constants (two_way_cache.ix) and of scratch for B
 * prompts of T tokens (tiles of pixels: not growing with the image). */
size_t twi_image_floats(const sam2_config *cfg, int HW);
size_t twi_work_floats(const sam2_config *cfg, int B, int T, int n_threads);

/* Fills the per-image constants of cache from the shared tokens src (HW,
 * d): a copy of src, per-pixel sums and the projections of src (scaled by
 * the LayerNorm weights) through every weight the later layers apply to
 * the keys; also layer 0's image-to-token queries i2t_q (HW, I) and the
 * positional part kpe (HW, d) of layer 1's, transposed. */
void twi_prepare(const sam2_config *cfg, const mask_decoder_weights *w, int HW, const float *src, const float *kpe,
                 const float *i2t_q, two_way_cache *cache);

/* Layer 0's image-to-token attention on the shared tokens (queries from
 * cache->i2t_q), then its LayerNorm, as a per-prompt state written over
 * state (B, HW, d). qa (B, T, d) tokens + pe, queries (B, T, d). */
void twi_i2t_first(const sam2_config *cfg, const mask_decoder_weights *w, int B, int T, int HW, const float *qa,
                   const float *queries, float *state, const two_way_cache *cache, int n_threads, float *work);

/* Layer 1's image-to-token attention and LayerNorm (depth 2): updates the
 * states. */
void twi_i2t_second(const sam2_config *cfg, const mask_decoder_weights *w, int B, int T, int HW, const float *qa,
                    const float *queries, float *state, const two_way_cache *cache, int n_threads, float *work);

/* A token-to-image attention on the states: layer l's (l = 1 .. depth - 1)
 * or, with l = depth, the final one. q_in (B, n, d) queries + pe, out (B,
 * n, d) the attention output; the state of prompt b at state + b * sstride. */
void twi_t2i(const sam2_config *cfg, const mask_decoder_weights *w, int l, int B, int n, int HW, const float *q_in,
             const float *state, size_t sstride, float *out, const two_way_cache *cache, int n_threads, float *work);

/* The image tokens (HW, d) of one prompt's final state. */
void two_way_keys(const sam2_config *cfg, int HW, const float *state, const two_way_cache *cache, float *keys);

/* The shared part of every prompt's final tokens through a weight W (N,
 * d): SWt (N, HW) = W (S * g)^T, once per image. scratch holds N * d
 * floats. */
void twi_src_times(const sam2_config *cfg, int HW, const two_way_cache *cache, const float *W, int N, float *SWt,
                   float *scratch);

/* One prompt's final tokens through W (N, d) without forming them: W t[p] =
 * alpha[p] SWt[:, p] + Z L[:, p], with SWt from twi_src_times, Z (N, K)
 * computed here (room for N times the state's width) and alpha (HW), L (K,
 * HW) the state's own (row stride HW). The first mask upscaling is such a
 * product. */
void twi_tokens_times(const sam2_config *cfg, int HW, const float *state, const float *W, int N, float *Z,
                      const float **alpha, const float **L, int *K);

#endif
