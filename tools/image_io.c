/* image_io.c - decoding with libpng, libjpeg(-turbo) and libtiff; every
 * decoder error becomes a status with a message instead of an exit. */
#include "image_io.h"

#include <errno.h>
#include <stdio.h>
/* jpeglib.h needs FILE declared first */
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>

#include "error.h"

static sam2_status check_dims(const char *path, uint64_t w, uint64_t h) {
    if (w == 0 || h == 0) return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: image has zero size", path);
    if (w > SAM2_MAX_IMAGE_SIDE || h > SAM2_MAX_IMAGE_SIDE || w * h > (uint64_t)SAM2_MAX_IMAGE_PIXELS)
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: image of %llu x %llu pixels exceeds the limit (%d per side, %lld pixels)",
                         path, (unsigned long long)w, (unsigned long long)h, SAM2_MAX_IMAGE_SIDE,
                         (long long)SAM2_MAX_IMAGE_PIXELS);
    return SAM2_OK;
}

/* ------------------------------------------------------------------ PNG */

typedef struct png_err {
    char msg[256];
} png_err;

static void png_error_fn(png_structp png, png_const_charp msg) {
    png_err *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_warning_fn(png_structp png, png_const_charp msg) {
    (void)png, (void)msg; /* warnings are not errors; the library stays silent */
}

static sam2_status read_png(const char *path, FILE *f, image_file *out) {
    png_err err = {{0}};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, png_error_fn, png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, NULL);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot create PNG reader", path);
    }
    png_bytep *rows = NULL;
    uint8_t *pixels = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt or truncated PNG (%s)", path, err.msg);
    }
    png_set_user_limits(png, SAM2_MAX_IMAGE_SIDE, SAM2_MAX_IMAGE_SIDE);
    png_init_io(png, f);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    sam2_status st = check_dims(path, w, h);
    if (st != SAM2_OK) {
        png_destroy_read_struct(&png, &info, NULL);
        return st;
    }
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_swap(png); /* native little-endian uint16 */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    int bd = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    pixels = malloc(rowbytes * h);
    rows = malloc(sizeof(png_bytep) * h);
    if (!pixels || !rows) {
        free(rows);
        free(pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot allocate %u x %u pixels", path, w, h);
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->width = (int)w, out->height = (int)h, out->channels = channels, out->bit_depth = bd;
    out->pixels = pixels;
    return SAM2_OK;
}

/* ----------------------------------------------------------------- JPEG */

typedef struct jpeg_err {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_error_exit_fn(j_common_ptr cinfo) {
    jpeg_err *e = (jpeg_err *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

static void jpeg_silent(j_common_ptr cinfo, int level) {
    /* warnings (level -1: corrupt or truncated data) are counted, never printed */
    if (level < 0) cinfo->err->num_warnings++;
}

static sam2_status read_jpeg(const char *path, FILE *f, image_file *out) {
    struct jpeg_decompress_struct cinfo;
    jpeg_err err;
    uint8_t *volatile pixels = NULL;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_error_exit_fn;
    err.mgr.emit_message = jpeg_silent;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt JPEG (%s)", path, err.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    sam2_status st = check_dims(path, cinfo.image_width, cinfo.image_height);
    if (st != SAM2_OK) {
        jpeg_destroy_decompress(&cinfo);
        return st;
    }
    if (cinfo.jpeg_color_space != JCS_GRAYSCALE) cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height, ch = cinfo.output_components;
    pixels = malloc((size_t)w * h * ch);
    if (!pixels) {
        jpeg_destroy_decompress(&cinfo);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot allocate %d x %d pixels", path, w, h);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * w * ch;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    int truncated = err.mgr.num_warnings > 0;
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    if (truncated) {
        free(pixels);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt or truncated JPEG data", path);
    }
    out->width = w, out->height = h, out->channels = ch, out->bit_depth = 8;
    out->pixels = pixels;
    return SAM2_OK;
}

/* ----------------------------------------------------------------- TIFF */

static void tiff_silent(const char *module, const char *fmt, va_list ap) {
    (void)module, (void)fmt, (void)ap;
}

static sam2_status read_tiff(const char *path, image_file *out) {
    TIFFSetErrorHandler(tiff_silent);
    TIFFSetWarningHandler(tiff_silent);
    TIFF *t = TIFFOpen(path, "r");
    if (!t) return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt or unsupported TIFF", path);
    uint32_t w = 0, h = 0;
    uint16_t bps = 8, spp = 1, planar = PLANARCONFIG_CONTIG, photo = PHOTOMETRIC_MINISBLACK;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(t, TIFFTAG_PHOTOMETRIC, &photo);
    sam2_status st = check_dims(path, w, h);
    if (st != SAM2_OK) {
        TIFFClose(t);
        return st;
    }
    int direct = (bps == 8 || bps == 16) && spp >= 1 && spp <= 4 && planar == PLANARCONFIG_CONTIG &&
                 (photo == PHOTOMETRIC_MINISBLACK || photo == PHOTOMETRIC_RGB);
    if (direct) {
        size_t rowbytes = (size_t)w * spp * (bps / 8);
        uint8_t *px = malloc(rowbytes * h);
        if (!px) {
            TIFFClose(t);
            return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot allocate %u x %u pixels", path, w, h);
        }
        for (uint32_t y = 0; y < h; y++) {
            if (TIFFReadScanline(t, px + y * rowbytes, y, 0) < 0) {
                free(px);
                TIFFClose(t);
                return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt or truncated TIFF (row %u)", path, y);
            }
        }
        TIFFClose(t);
        out->width = (int)w, out->height = (int)h, out->channels = spp, out->bit_depth = bps;
        out->pixels = px;
        return SAM2_OK;
    }
    /* everything else (palette, YCbCr, tiles, 1-bit...) through libtiff's RGBA path */
    uint32_t *rgba = malloc(sizeof(uint32_t) * (size_t)w * h);
    if (!rgba || !TIFFReadRGBAImageOriented(t, w, h, rgba, ORIENTATION_TOPLEFT, 0)) {
        free(rgba);
        TIFFClose(t);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: unsupported or corrupt TIFF", path);
    }
    TIFFClose(t);
    uint8_t *px = malloc((size_t)w * h * 4);
    if (!px) {
        free(rgba);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot allocate %u x %u pixels", path, w, h);
    }
    for (size_t i = 0; i < (size_t)w * h; i++) {
        px[4 * i] = (uint8_t)TIFFGetR(rgba[i]);
        px[4 * i + 1] = (uint8_t)TIFFGetG(rgba[i]);
        px[4 * i + 2] = (uint8_t)TIFFGetB(rgba[i]);
        px[4 * i + 3] = (uint8_t)TIFFGetA(rgba[i]);
    }
    free(rgba);
    out->width = (int)w, out->height = (int)h, out->channels = 4, out->bit_depth = 8;
    out->pixels = px;
    return SAM2_OK;
}

sam2_status image_file_read(const char *path, image_file *out) {
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(path, &sb) != 0) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return SAM2_FAIL(SAM2_ERR_IO, "%s: is a directory, not an image", path);
    FILE *f = fopen(path, "rb");
    if (!f) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    unsigned char magic[8] = {0};
    size_t n = fread(magic, 1, 8, f);
    rewind(f);
    sam2_status st;
    if (n >= 8 && !memcmp(magic, "\x89PNG\r\n\x1a\n", 8)) {
        st = read_png(path, f, out);
    } else if (n >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
        st = read_jpeg(path, f, out);
    } else if (n >= 4 && (!memcmp(magic, "II*\0", 4) || !memcmp(magic, "MM\0*", 4))) {
        st = read_tiff(path, out);
    } else {
        st = SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: not a PNG, JPEG or TIFF image", path);
    }
    fclose(f);
    return st;
}

sam2_image image_file_view(const image_file *f) {
    sam2_image im = {f->width, f->height, f->width * f->channels * (f->bit_depth / 8), f->channels,
                     f->bit_depth, f->pixels};
    return im;
}

void image_file_free(image_file *f) {
    if (!f) return;
    free(f->pixels);
    f->pixels = NULL;
}

sam2_status image_write_png(const char *path, const void *pixels, int width, int height,
                            int channels, int bit_depth) {
    FILE *f = fopen(path, "wb");
    if (!f) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    png_err err = {{0}};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, png_error_fn, png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return SAM2_FAIL(SAM2_ERR_IO, "%s: cannot write PNG (%s)", path, err.msg);
    }
    int type = channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 2 ? PNG_COLOR_TYPE_GRAY_ALPHA
             : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;
    png_init_io(png, f);
    png_set_compression_level(png, 3);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16) png_set_swap(png);
    size_t rowbytes = (size_t)width * channels * (bit_depth / 8);
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)pixels + (size_t)y * rowbytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0) return SAM2_FAIL(SAM2_ERR_IO, "%s: write failed", path);
    return SAM2_OK;
}
