/* image.h - from a sam2_image to the model's input tensor, exactly as the
 * official SAM2Transforms does it (PIL RGB conversion, antialiased bilinear
 * resize, ImageNet normalisation). */
#ifndef SAM2_IMAGE_H
#define SAM2_IMAGE_H

#include <stdint.h>

#include "sam2.h"

/* 8-bit RGB (h, w, 3) copy of img as PIL's convert("RGB") gives it for 8-bit
 * input (gray replicated, alpha dropped); 16-bit samples are mapped by mode.
 * *rgb is malloc'd. */
sam2_status image_to_rgb8(const sam2_image *img, sam2_depth_mode mode, uint8_t **rgb);

/* The model input (3, S, S): x/255, antialiased bilinear resize to S x S,
 * (x - mean) / std per channel. */
sam2_status image_preprocess(const sam2_image *img, sam2_depth_mode mode, int S, float *out);

/* Separable antialiased bilinear resize (torchvision antialias=True
 * semantics; plain bilinear with half-pixel centres when upscaling) of a
 * (channels, in_h, in_w) float image to (channels, out_h, out_w). */
sam2_status resize_antialias_bilinear(const float *in, int in_h, int in_w, float *out, int out_h,
                                      int out_w, int channels);

#endif
