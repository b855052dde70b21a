/* contrast.h - contrast for low-contrast images (a robust window stretch or
 * CLAHE on the luminance) and the test that chooses it. */
#ifndef SAM2_CONTRAST_H
#define SAM2_CONTRAST_H

#include <stddef.h>
#include <stdint.h>

/* Images whose luminance spans fewer levels than this between its 1st and
 * 99th percentiles count as low-contrast (shapes-dev: every low-contrast
 * scene spans at most 41, every other grayscale scene at least 94). */
#define CONTRAST_LOW_SPREAD 64

/* The 1st-to-99th percentile spread of n 8-bit values. */
int contrast_spread(const uint8_t *v, size_t n);

/* Contrast-limited adaptive histogram equalisation of a (h, w) 8-bit plane
 * (row-major, packed) into out: up to tiles x tiles regions, each
 * histogram clipped at clip_limit times its mean bin count with the excess
 * spread evenly, each pixel mapped through the bilinear blend of its four
 * nearest regions' mappings. 0, or -1 when out of memory. */
int clahe_u8(const uint8_t *in, int w, int h, int tiles, float clip_limit, uint8_t *out);

/* The robust window stretch of n 8-bit values into out (image_window_lut:
 * the 0.5 and 99.5 percentiles to 0 and 255). Returns 1, or 0 with out
 * untouched when every value is the same. */
int stretch_u8(const uint8_t *in, size_t n, uint8_t *out);

/* The median of every pixel's 3 x 3 neighbourhood of a (h, w) image, edges
 * replicated, into out (another buffer). It removes pixel noise and keeps
 * edges, which the stretch would otherwise magnify with the objects. */
void median3_u8(const uint8_t *in, int w, int h, uint8_t *out);

#endif
