/* position_encoding.h - the two position encodings of the image encoder:
 * Hiera's absolute embedding (a bicubic-resized background plus a tiled
 * window embedding) and the neck's sine encoding (PositionEmbeddingSine). */
#ifndef SAM2_POSITION_ENCODING_H
#define SAM2_POSITION_ENCODING_H

#include "sam2.h"

/* Bicubic resize of one (ih, iw) plane to (oh, ow) as PyTorch's
 * F.interpolate(mode="bicubic", align_corners=False): A = -0.75, source
 * coordinate scale * (dst + 0.5) - 0.5 with scale = in / out, taps clamped
 * at the borders. */
void pe_bicubic(const float *in, int ih, int iw, float *out, int oh, int ow);

/* Hiera's position embedding added to the patch-embedding output, in
 * channels-last layout: out (H*W, C) = bicubic(pos_embed (C, bh, bw) to H x W)
 * + pos_window (C, ws, ws) tiled + bias (C, may be NULL). H and W must be
 * multiples of ws (SAM2_ERR_CONFIG otherwise: the official tiling would not
 * cover the map). */
sam2_status pe_hiera(const float *pos_embed, int bh, int bw, const float *pos_window, int ws, int C, int H, int W,
                     const float *bias, float *out, int n_threads);

/* PositionEmbeddingSine of an (H, W) map with n_feats channels (even): out
 * (n_feats, H, W), the first n_feats/2 channels encode y and the rest x;
 * channel k of a half is sin (k even) or cos (k odd) of the position (1-based,
 * or normalised to (0, scale] when `normalize`) over
 * temperature^(2 floor(k/2) / (n_feats/2)). Computed in float32 like the
 * reference. */
sam2_status pe_sine(int n_feats, float temperature, int normalize, float scale, int H, int W, float *out,
                    int n_threads);

#endif
