/* image.h - from a sam2_image to the model's input tensor, exactly as the
 * official SAM2Transforms does it (PIL RGB conversion, antialiased bilinear
 * resize, ImageNet normalisation). Images may be views with any stride (the
 * AMG passes crops of a larger image); 16-bit samples need no alignment. */
#ifndef SAM2_IMAGE_H
#define SAM2_IMAGE_H

#include <stdint.h>

#include "sam2.h"

/* Converts img to an 8-bit RGB (h, w, 3) copy as PIL's convert("RGB") gives
 * it for 8-bit input: gray replicated, alpha dropped (gray+alpha and RGBA
 * alike). 16-bit samples are mapped by mode: SAM2_DEPTH_SCALE x/257 rounded;
 * SAM2_DEPTH_WINDOW the 0.5..99.5 percentile window of all colour samples
 * (numpy-style linear percentiles) stretched to 0..255 with clipping, falling
 * back to min..max, then to x/257 for a flat image. *rgb is malloc'd (the
 * caller frees it); it is NULL on failure. */
sam2_status image_to_rgb8(const sam2_image *img, sam2_depth_mode mode, uint8_t **rgb);

/* The robust window of a histogram of bins sample values (hist[v] counts
 * value v): the 0.5 and 99.5 percentiles (numpy-style linear
 * interpolation), or min..max when those coincide, stretched linearly to
 * 0..255 with clipping and rounding into lut (bins entries). Returns 1, or
 * 0 with lut untouched when every sample has the same value. */
int image_window_lut(const uint64_t *hist, unsigned bins, uint8_t *lut);

/* Writes the model input out (3, S, S): the RGB conversion above, x/255 in
 * float32, antialiased bilinear resize to S x S (along x, then y), then
 * (x - mean) / std per channel with mean (0.485, 0.456, 0.406) and std
 * (0.229, 0.224, 0.225). No full-size float copy of the image is made. */
sam2_status image_preprocess(const sam2_image *img, sam2_depth_mode mode, int S, float *out);

/* Resizes a (channels, in_h, in_w) float image to (channels, out_h, out_w)
 * with the separable antialiased bilinear filter of torchvision
 * (antialias=True, align_corners=False): along x first, then along y, float32
 * intermediate. Upscaling equals plain bilinear with half-pixel centres and
 * edge clamping; an axis whose size does not change is copied exactly. */
sam2_status resize_antialias_bilinear(const float *in, int in_h, int in_w, float *out, int out_h,
                                      int out_w, int channels);

#endif
