/* image_io.h - image files in (PNG, JPEG, TIFF, WebP) and PNGs out, for the CLI
 * and the tests. Decoders never print: every failure is a sam2_status with a
 * one-line message naming the file (sam2_last_error()). */
#ifndef SAM2_IMAGE_IO_H
#define SAM2_IMAGE_IO_H

#include <stdint.h>

#include "sam2.h"

/* A decoded image owning its pixels: channels 1 gray, 2 gray+alpha, 3 RGB,
 * 4 RGBA; bit_depth 8 (uint8) or 16 (uint16, native byte order). */
typedef struct image_file {
    int width, height, channels, bit_depth;
    uint8_t *pixels; /* (height, width, channels) samples, rows packed */
} image_file;

/* Decodes a PNG, JPEG, TIFF or WebP file, recognised by its first bytes (not its
 * extension), into *out (zeroed on failure). PNG: 1/2/4/8/16-bit gray, gray +
 * alpha, palette (tRNS becomes alpha), RGB, RGBA; 16-bit stays 16-bit. JPEG:
 * gray or RGB (libjpeg defaults: islow IDCT, fancy upsampling, as Pillow);
 * CMYK/YCCK converted to RGB as Pillow does; truncated or corrupt data is
 * refused. TIFF: first page, 8/16-bit unsigned gray (+alpha), RGB(A), strips
 * or tiles, contiguous or planar; other 8-bit kinds (palette, 1-bit, YCbCr)
 * through libtiff's RGBA reader. WebP: still images, lossy or lossless, as
 * 8-bit RGB, or RGBA with alpha (libwebp's default decoding, as Pillow);
 * animated ones are refused. Sizes beyond SAM2_MAX_IMAGE_SIDE /
 * SAM2_MAX_IMAGE_PIXELS are refused before any pixel buffer exists. Free
 * with image_file_free. */
sam2_status image_file_read(const char *path, image_file *out);

/* A sam2_image view of the decoded pixels (valid while f lives). */
sam2_image image_file_view(const image_file *f);

/* Releases the pixels (accepts NULL and an already freed image). */
void image_file_free(image_file *f);

/* Writes a PNG from packed rows: channels 1 (gray), 2 (gray+alpha), 3 (RGB)
 * or 4 (RGBA); bit_depth 8 or 16 (16-bit samples native-endian in memory,
 * e.g. label maps). A partly written file is removed on failure. */
sam2_status image_write_png(const char *path, const void *pixels, int width, int height,
                            int channels, int bit_depth);

#endif
