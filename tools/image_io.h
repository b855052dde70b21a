/* image_io.h - image files in (PNG, JPEG, TIFF) and PNGs out. */
#ifndef SAM2_IMAGE_IO_H
#define SAM2_IMAGE_IO_H

#include <stdint.h>

#include "sam2.h"

/* A decoded image owning its pixels (8-bit, or 16-bit native-endian). */
typedef struct image_file {
    int width, height, channels, bit_depth;
    uint8_t *pixels;  /* rows of width * channels * bit_depth/8 bytes */
} image_file;

/* Decodes a PNG (8/16-bit; gray, gray+alpha, palette, RGB, RGBA), JPEG or
 * TIFF file, recognised by its first bytes. Sizes beyond the library's
 * limits are refused before any pixel buffer is allocated. */
sam2_status image_file_read(const char *path, image_file *out);

/* A view of the decoded pixels. */
sam2_image image_file_view(const image_file *f);

void image_file_free(image_file *f);

/* Writes a PNG: channels 1 (gray), 3 (RGB) or 4 (RGBA); bit_depth 8 or 16
 * (16-bit samples native-endian in memory). */
sam2_status image_write_png(const char *path, const void *pixels, int width, int height,
                            int channels, int bit_depth);

#endif
