/* image_io.c - decoding with libpng, libjpeg(-turbo), libtiff and libwebp, encoding
 * PNGs with libpng. Every decoder error, including the fatal ones that
 * libpng and libjpeg report by long jump, becomes a status with a one-line
 * message naming the file; nothing is printed. */
#include "image_io.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
/* jpeglib.h needs stdio.h first */
#include <jerror.h>
#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>
#include <webp/decode.h>
#include <zlib.h>

#include "error.h"

/* Returns 1 on a little-endian host (16-bit samples are kept native). */
static int host_is_little_endian(void) {
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* Refuses empty and oversized images before any pixel buffer is allocated. */
static sam2_status check_dims(const char *path, const char *kind, uint64_t w, uint64_t h) {
    if (w == 0 || h == 0)
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: %s image has zero size (%llu x %llu)", path, kind,
                         (unsigned long long)w, (unsigned long long)h);
    if (w > SAM2_MAX_IMAGE_SIDE || h > SAM2_MAX_IMAGE_SIDE || w * h > (uint64_t)SAM2_MAX_IMAGE_PIXELS)
        return SAM2_FAIL(SAM2_ERR_NOMEM,
                         "%s: %s image of %llu x %llu pixels exceeds the limit (%d per side, %lld pixels)",
                         path, kind, (unsigned long long)w, (unsigned long long)h,
                         SAM2_MAX_IMAGE_SIDE, (long long)SAM2_MAX_IMAGE_PIXELS);
    return SAM2_OK;
}

/* Stores a decoded image in *out. */
static void set_out(image_file *out, int w, int h, int channels, int bit_depth, uint8_t *px) {
    out->width = w, out->height = h, out->channels = channels, out->bit_depth = bit_depth;
    out->pixels = px;
}

/* ================================================================== PNG */

typedef struct png_msg {
    char text[200];
} png_msg;

/* libpng's fatal-error callback: keeps the message and jumps back. */
static void png_on_error(png_structp png, png_const_charp msg) {
    png_msg *m = png_get_error_ptr(png);
    if (m) snprintf(m->text, sizeof m->text, "%s", msg);
    png_longjmp(png, 1);
}

/* libpng's warning callback: warnings (bad ancillary chunks...) are ignored. */
static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png, (void)msg;
}

/* Decodes an open PNG file; head holds its first n bytes, whose IHDR gives
 * the size to check before libpng allocates anything. */
static sam2_status read_png(const char *path, FILE *f, const uint8_t *head, size_t n,
                            image_file *out) {
    /* an IHDR with a valid CRC: its size is checked before libpng reads on */
    if (n >= 33 && !memcmp(head + 8, "\0\0\0\x0dIHDR", 8) &&
        crc32(crc32(0L, Z_NULL, 0), head + 12, 17) ==
            ((uLong)head[29] << 24 | (uLong)head[30] << 16 | (uLong)head[31] << 8 | head[32])) {
        const uint32_t hw = (uint32_t)head[16] << 24 | (uint32_t)head[17] << 16 | (uint32_t)head[18] << 8 | head[19];
        const uint32_t hh = (uint32_t)head[20] << 24 | (uint32_t)head[21] << 16 | (uint32_t)head[22] << 8 | head[23];
        SAM2_TRY(check_dims(path, "PNG", hw, hh));
    }
    png_msg msg = {{0}};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &msg, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, NULL);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot create a PNG reader", path);
    }
    /* written after setjmp, read after the long jump: volatile */
    png_bytep *volatile rows = NULL;
    uint8_t *volatile pixels = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt or truncated PNG (%s)", path, msg.text);
    }
    /* libpng's own size limit is lifted so that check_dims gives the message */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_init_io(png, f);
    png_read_info(png, info);
    const png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    sam2_status st = check_dims(path, "PNG", w, h);
    if (st != SAM2_OK) {
        png_destroy_read_struct(&png, &info, NULL);
        return st;
    }
    const int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    /* palette -> RGB, gray 1/2/4 -> 8 bits (scaled as PIL does), tRNS -> alpha */
    if (color == PNG_COLOR_TYPE_PALETTE || depth < 8 || png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_expand(png);
    if (depth == 16 && host_is_little_endian()) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    const int channels = png_get_channels(png, info), bd = png_get_bit_depth(png, info);
    const size_t rowbytes = png_get_rowbytes(png, info);
    if (channels < 1 || channels > 4 || (bd != 8 && bd != 16) ||
        rowbytes != (size_t)w * channels * (bd / 8)) {
        png_destroy_read_struct(&png, &info, NULL);
        return SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: unsupported PNG layout (%d channels, %d bits)",
                         path, channels, bd);
    }
    pixels = malloc(rowbytes * h); /* (h, w, channels) */
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
    set_out(out, (int)w, (int)h, channels, bd, pixels);
    return SAM2_OK;
}

/* ================================================================= JPEG */

typedef struct jpeg_msg {
    struct jpeg_error_mgr mgr; /* first: libjpeg sees a jpeg_error_mgr */
    jmp_buf jump;
    char text[JMSG_LENGTH_MAX];
} jpeg_msg;

/* libjpeg's fatal-error callback: keeps the message and jumps back. */
static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_msg *m = (jpeg_msg *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, m->text);
    longjmp(m->jump, 1);
}

/* libjpeg's message callback: nothing is printed. Warnings that mean the
 * entropy-coded data is truncated or damaged (libjpeg would paint the rest
 * gray) abort the decoding like errors; harmless ones (extraneous bytes,
 * unknown JFIF revision, odd progression) are ignored, as Pillow does. */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return; /* trace messages */
    cinfo->err->num_warnings++;
    switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
        jpeg_on_error(cinfo);
        break;
    default:
        break;
    }
}

/* Pillow's CMYK -> RGB (Adobe files store inverted CMYK): r = (255 - k) -
 * (c * (255 - k)) / 255 with its rounding, for a row of n pixels. */
static void cmyk_row_to_rgb(const uint8_t *cmyk, uint8_t *rgb, int n, int adobe) {
    for (int x = 0; x < n; x++) {
        int k = adobe ? 255 - cmyk[4 * x + 3] : cmyk[4 * x + 3];
        int nk = 255 - k;
        for (int c = 0; c < 3; c++) {
            int v = adobe ? 255 - cmyk[4 * x + c] : cmyk[4 * x + c];
            int t = v * nk + 128;
            int r = nk - (((t >> 8) + t) >> 8);
            rgb[3 * x + c] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
        }
    }
}

/* Decodes an open JPEG file. */
static sam2_status read_jpeg(const char *path, FILE *f, image_file *out) {
    struct jpeg_decompress_struct cinfo;
    jpeg_msg msg;
    memset(&msg, 0, sizeof msg);
    /* written after setjmp, read after the long jump: volatile */
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile cmyk = NULL;
    cinfo.err = jpeg_std_error(&msg.mgr);
    msg.mgr.error_exit = jpeg_on_error;
    msg.mgr.emit_message = jpeg_on_message;
    if (setjmp(msg.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(cmyk);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt or truncated JPEG (%s)", path, msg.text);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    sam2_status st = check_dims(path, "JPEG", cinfo.image_width, cinfo.image_height);
    if (st != SAM2_OK) {
        jpeg_destroy_decompress(&cinfo);
        return st;
    }
    const int is_cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    if (cinfo.jpeg_color_space == JCS_GRAYSCALE) cinfo.out_color_space = JCS_GRAYSCALE;
    else cinfo.out_color_space = is_cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    const int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    const int ch = is_cmyk ? 3 : cinfo.output_components;
    pixels = malloc((size_t)w * h * ch); /* (h, w, ch) */
    if (is_cmyk && cinfo.output_components == 4) cmyk = malloc((size_t)w * 4);
    if (is_cmyk && cinfo.output_components != 4) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: unsupported JPEG colour layout", path);
    }
    if (!pixels || (is_cmyk && !cmyk)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(cmyk);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot allocate %d x %d pixels", path, w, h);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        const size_t y = cinfo.output_scanline;
        JSAMPROW row = is_cmyk ? cmyk : pixels + y * w * ch;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break; /* cannot happen with stdio */
        if (is_cmyk) cmyk_row_to_rgb(cmyk, pixels + y * w * ch, w, cinfo.saw_Adobe_marker);
    }
    const int complete = cinfo.output_scanline == cinfo.output_height;
    if (complete) jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(cmyk);
    if (!complete) {
        free(pixels);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: truncated JPEG", path);
    }
    set_out(out, w, h, ch, 8, pixels);
    return SAM2_OK;
}

/* ================================================================= TIFF */

typedef struct tiff_msg {
    char text[200];
} tiff_msg;

/* libtiff's per-file error callback: keeps the first message, prints nothing. */
static int tiff_on_error(TIFF *t, void *user, const char *module, const char *fmt, va_list ap) {
    (void)t, (void)module;
    tiff_msg *m = user;
    if (m && !m->text[0]) vsnprintf(m->text, sizeof m->text, fmt, ap);
    return 1; /* handled: the global handler (stderr) is not called */
}

/* libtiff's per-file warning callback: silent. */
static int tiff_on_warning(TIFF *t, void *user, const char *module, const char *fmt, va_list ap) {
    (void)t, (void)user, (void)module, (void)fmt, (void)ap;
    return 1;
}

/* The layout of the first TIFF page as read directly (without libtiff's
 * RGBA conversion). */
typedef struct tiff_layout {
    uint32_t w, h;
    uint16_t bps, spp, planar, photo, format;
    int out_ch;  /* channels kept: 1, 2, 3 or 4 (later samples are dropped) */
    int invert;  /* MINISWHITE: gray is inverted */
} tiff_layout;

/* Copies a decoded block (a strip row, or a tile) into the packed output.
 * buf holds bh rows of bw pixels (all spp samples if contiguous, only
 * sample s if planar); rows of buf are buf_stride bytes apart. */
static void tiff_copy_block(const tiff_layout *L, uint8_t *px, const uint8_t *buf, size_t buf_stride,
                            uint32_t x0, uint32_t y0, uint32_t bw, uint32_t bh, int s) {
    const int bytes = L->bps / 8;
    const size_t out_row = (size_t)L->w * L->out_ch * bytes;
    const int in_spp = L->planar == PLANARCONFIG_CONTIG ? L->spp : 1;
    for (uint32_t y = 0; y < bh && y0 + y < L->h; y++) {
        const uint8_t *src = buf + y * buf_stride;
        uint8_t *dst = px + (size_t)(y0 + y) * out_row;
        for (uint32_t x = 0; x < bw && x0 + x < L->w; x++) {
            for (int c = 0; c < L->out_ch; c++) {
                int sc = L->planar == PLANARCONFIG_CONTIG ? c : 0;
                if (L->planar != PLANARCONFIG_CONTIG && c != s) continue;
                memcpy(dst + ((size_t)(x0 + x) * L->out_ch + c) * bytes,
                       src + ((size_t)x * in_spp + sc) * bytes, (size_t)bytes);
            }
        }
    }
}

/* Reads every strip row or tile of the page into px (h, w, out_ch). */
static sam2_status tiff_read_direct(const char *path, TIFF *t, const tiff_layout *L, tiff_msg *m,
                                    uint8_t *px) {
    const int planes = L->planar == PLANARCONFIG_CONTIG ? 1 : (L->out_ch < L->spp ? L->out_ch : L->spp);
    if (TIFFIsTiled(t)) {
        uint32_t tw = 0, th = 0;
        TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(t, TIFFTAG_TILELENGTH, &th);
        const tmsize_t tsize = TIFFTileSize(t), trow = TIFFTileRowSize(t);
        if (tw == 0 || th == 0 || tsize <= 0 || trow <= 0)
            return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: invalid TIFF tiles (%s)", path, m->text);
        uint8_t *buf = malloc((size_t)tsize);
        if (!buf) return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot allocate a TIFF tile", path);
        for (int s = 0; s < planes; s++)
            for (uint32_t y = 0; y < L->h; y += th)
                for (uint32_t x = 0; x < L->w; x += tw) {
                    if (TIFFReadTile(t, buf, x, y, 0, (uint16_t)s) < 0) {
                        free(buf);
                        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt or truncated TIFF tile at (%u, %u) (%s)",
                                         path, x, y, m->text);
                    }
                    tiff_copy_block(L, px, buf, (size_t)trow, x, y, tw, th, s);
                }
        free(buf);
        return SAM2_OK;
    }
    const tmsize_t lsize = TIFFScanlineSize(t);
    if (lsize <= 0) return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: invalid TIFF scanlines (%s)", path, m->text);
    uint8_t *line = malloc((size_t)lsize);
    if (!line) return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot allocate a TIFF scanline", path);
    for (int s = 0; s < planes; s++)
        for (uint32_t y = 0; y < L->h; y++) {
            if (TIFFReadScanline(t, line, y, (uint16_t)s) < 0) {
                free(line);
                return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt or truncated TIFF at row %u (%s)", path,
                                 y, m->text);
            }
            tiff_copy_block(L, px, line, (size_t)lsize, 0, y, L->w, 1, s);
        }
    free(line);
    return SAM2_OK;
}

/* Reads the page through libtiff's RGBA reader (8-bit output): palette,
 * bilevel, YCbCr, CMYK and other kinds the direct path does not take. */
static sam2_status tiff_read_rgba(const char *path, TIFF *t, const tiff_layout *L, tiff_msg *m,
                                  image_file *out) {
    char emsg[1024] = "";
    if (!TIFFRGBAImageOK(t, emsg))
        return SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: unsupported TIFF (%s)", path, emsg);
    uint16_t n_extra = 0, *extra = NULL;
    TIFFGetFieldDefaulted(t, TIFFTAG_EXTRASAMPLES, &n_extra, &extra);
    const int ch = n_extra > 0 ? 4 : 3;
    uint32_t *rgba = malloc(sizeof(uint32_t) * (size_t)L->w * L->h); /* (h, w) packed ABGR */
    if (!rgba) return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot allocate %u x %u pixels", path, L->w, L->h);
    if (!TIFFReadRGBAImageOriented(t, L->w, L->h, rgba, ORIENTATION_TOPLEFT, 0)) {
        free(rgba);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt or unsupported TIFF (%s)", path, m->text);
    }
    uint8_t *px = malloc((size_t)L->w * L->h * ch); /* (h, w, ch) */
    if (!px) {
        free(rgba);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot allocate %u x %u pixels", path, L->w, L->h);
    }
    for (size_t i = 0; i < (size_t)L->w * L->h; i++) {
        px[ch * i] = (uint8_t)TIFFGetR(rgba[i]);
        px[ch * i + 1] = (uint8_t)TIFFGetG(rgba[i]);
        px[ch * i + 2] = (uint8_t)TIFFGetB(rgba[i]);
        if (ch == 4) px[ch * i + 3] = (uint8_t)TIFFGetA(rgba[i]);
    }
    free(rgba);
    set_out(out, (int)L->w, (int)L->h, ch, 8, px);
    return SAM2_OK;
}

/* Decodes the first page of the TIFF file at path. */
static sam2_status read_tiff_page(const char *path, TIFF *t, tiff_msg *m, image_file *out) {
    tiff_layout L = {0};
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &L.w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &L.h);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &L.bps);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &L.spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &L.planar);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &L.format);
    if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &L.photo))
        L.photo = L.spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    SAM2_TRY(check_dims(path, "TIFF", L.w, L.h));
    if (L.format != SAMPLEFORMAT_UINT)
        return SAM2_FAIL(SAM2_ERR_UNSUPPORTED,
                         "%s: TIFF with %s %u-bit samples (only unsigned 8/16-bit integers are supported)",
                         path, L.format == SAMPLEFORMAT_IEEEFP ? "floating-point" : L.format == SAMPLEFORMAT_INT ? "signed" : "non-integer",
                         L.bps);
    const int gray = L.photo == PHOTOMETRIC_MINISBLACK || L.photo == PHOTOMETRIC_MINISWHITE;
    const int direct = (L.bps == 8 || L.bps == 16) &&
                       ((gray && L.spp >= 1) || (L.photo == PHOTOMETRIC_RGB && L.spp >= 3));
    if (!direct) {
        if (L.bps == 16)
            return SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: unsupported 16-bit TIFF (photometric %u, %u samples)",
                             path, L.photo, L.spp);
        return tiff_read_rgba(path, t, &L, m, out);
    }
    L.out_ch = gray ? (L.spp >= 2 ? 2 : 1) : (L.spp >= 4 ? 4 : 3);
    L.invert = L.photo == PHOTOMETRIC_MINISWHITE;
    const size_t bytes = (size_t)L.w * L.h * L.out_ch * (L.bps / 8);
    uint8_t *px = malloc(bytes); /* (h, w, out_ch) */
    if (!px) return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot allocate %u x %u pixels", path, L.w, L.h);
    sam2_status st = tiff_read_direct(path, t, &L, m, px);
    if (st != SAM2_OK) {
        free(px);
        return st;
    }
    if (L.invert) {
        const size_t n = (size_t)L.w * L.h;
        for (size_t i = 0; i < n; i++) {
            if (L.bps == 8) {
                px[i * L.out_ch] = (uint8_t)(255 - px[i * L.out_ch]);
            } else {
                uint16_t v;
                memcpy(&v, px + i * L.out_ch * 2, 2);
                v = (uint16_t)(65535 - v);
                memcpy(px + i * L.out_ch * 2, &v, 2);
            }
        }
    }
    set_out(out, (int)L.w, (int)L.h, L.out_ch, L.bps, px);
    return SAM2_OK;
}

/* Opens a TIFF file with silent per-file handlers and decodes its first page. */
static sam2_status read_tiff(const char *path, image_file *out) {
    tiff_msg m = {{0}};
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts) return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot create a TIFF reader", path);
    TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_on_error, &m);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_on_warning, NULL);
    TIFF *t = TIFFOpenExt(path, "r", opts);
    TIFFOpenOptionsFree(opts);
    if (!t) return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt or unsupported TIFF (%s)", path, m.text);
    sam2_status st = read_tiff_page(path, t, &m, out);
    TIFFClose(t);
    return st;
}

/* ================================================================= WebP */

/* libwebp's status as words. */
static const char *webp_status_text(VP8StatusCode s) {
    switch (s) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "corrupt data";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated data";
    default: return "cannot decode";
    }
}

/* A still WebP image (lossy or lossless) as 8-bit RGB, or RGBA when it has
 * alpha, decoded as Pillow decodes it (libwebp's defaults). The whole file
 * is read first: libwebp decodes from memory. */
static sam2_status read_webp(const char *path, FILE *f, image_file *out) {
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    /* a RIFF chunk's size field has 32 bits: no WebP is larger */
    if (sb.st_size > (off_t)UINT32_MAX + 8) return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: too large for a WebP file", path);
    const size_t size = (size_t)sb.st_size;
    uint8_t *data = malloc(size ? size : 1);
    if (!data) return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, size);
    if (fread(data, 1, size, f) != size) {
        free(data);
        return SAM2_FAIL(SAM2_ERR_IO, "%s: cannot read the file", path);
    }
    WebPBitstreamFeatures feat;
    const VP8StatusCode s = WebPGetFeatures(data, size, &feat);
    sam2_status st = SAM2_OK;
    if (s != VP8_STATUS_OK) st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: not a readable WebP image (%s)", path, webp_status_text(s));
    else if (feat.has_animation)
        st = SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: an animated WebP: give one frame as a still image", path);
    else st = check_dims(path, "WebP", (uint64_t)feat.width, (uint64_t)feat.height);
    if (st != SAM2_OK) {
        free(data);
        return st;
    }
    const int channels = feat.has_alpha ? 4 : 3, stride = feat.width * channels;
    const size_t bytes = (size_t)stride * (size_t)feat.height;
    uint8_t *px = malloc(bytes);
    if (!px) {
        free(data);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "%s: out of memory for a %d x %d image", path, feat.width, feat.height);
    }
    const uint8_t *done = channels == 4 ? WebPDecodeRGBAInto(data, size, px, bytes, stride)
                                        : WebPDecodeRGBInto(data, size, px, bytes, stride);
    free(data);
    if (!done) {
        free(px);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt or truncated WebP data", path);
    }
    set_out(out, feat.width, feat.height, channels, 8, px);
    return SAM2_OK;
}

/* ============================================================ dispatch */

/* Names a recognised but unsupported format from its first bytes. */
static const char *other_format(const unsigned char *b, size_t n) {
    if (n >= 4 && !memcmp(b, "GIF8", 4)) return "GIF";
    if (n >= 2 && !memcmp(b, "BM", 2)) return "BMP";
    if (n >= 12 && !memcmp(b + 4, "ftyp", 4)) return "HEIF/AVIF";
    if (n >= 6 && !memcmp(b, "\x93NUMPY", 6)) return "NumPy array";
    return NULL;
}

/* Decodes the image file at path, choosing the decoder from its first bytes
 * (contract in image_io.h). */
sam2_status image_file_read(const char *path, image_file *out) {
    if (!out) return SAM2_FAIL(SAM2_ERR_PARAM, "image_file_read: NULL output");
    memset(out, 0, sizeof *out);
    if (!path || !*path) return SAM2_FAIL(SAM2_ERR_PARAM, "image_file_read: no path");
    struct stat sb;
    if (stat(path, &sb) != 0) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return SAM2_FAIL(SAM2_ERR_IO, "%s: is a directory, not an image", path);
    FILE *f = fopen(path, "rb");
    if (!f) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    unsigned char magic[40] = {0};
    const size_t n = fread(magic, 1, sizeof magic, f);
    if (ferror(f)) {
        fclose(f);
        return SAM2_FAIL(SAM2_ERR_IO, "%s: cannot read the file", path);
    }
    rewind(f);
    sam2_status st;
    const char *other;
    if (n >= 8 && !memcmp(magic, "\x89PNG\r\n\x1a\n", 8)) {
        st = read_png(path, f, magic, n, out);
    } else if (n >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
        st = read_jpeg(path, f, out);
    } else if (n >= 4 && (!memcmp(magic, "II*\0", 4) || !memcmp(magic, "MM\0*", 4) ||
                          !memcmp(magic, "II+\0", 4) || !memcmp(magic, "MM\0+", 4))) {
        st = read_tiff(path, out);
    } else if (n >= 12 && !memcmp(magic, "RIFF", 4) && !memcmp(magic + 8, "WEBP", 4)) {
        st = read_webp(path, f, out);
    } else if (n == 0) {
        st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: empty file, not an image", path);
    } else if ((other = other_format(magic, n)) != NULL) {
        st = SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: a %s file, not a PNG, JPEG, TIFF or WebP image", path,
                       other);
    } else {
        st = SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: not a PNG, JPEG, TIFF or WebP image", path);
    }
    fclose(f);
    if (st != SAM2_OK) memset(out, 0, sizeof *out);
    return st;
}

/* Returns a sam2_image view of f's packed pixels. */
sam2_image image_file_view(const image_file *f) {
    sam2_image im = {f->width, f->height, f->width * f->channels * (f->bit_depth / 8), f->channels,
                     f->bit_depth, f->pixels};
    return im;
}

/* Frees f's pixels and clears the pointer (NULL-safe). */
void image_file_free(image_file *f) {
    if (!f) return;
    free(f->pixels);
    f->pixels = NULL;
}

/* =========================================================== PNG output */

/* Encodes packed rows as a PNG file (contract in image_io.h). */
sam2_status image_write_png(const char *path, const void *pixels, int width, int height,
                            int channels, int bit_depth) {
    if (!path || !pixels || width <= 0 || height <= 0 || width > SAM2_MAX_IMAGE_SIDE ||
        height > SAM2_MAX_IMAGE_SIDE || channels < 1 || channels > 4 ||
        (bit_depth != 8 && bit_depth != 16))
        return SAM2_FAIL(SAM2_ERR_PARAM, "%s: cannot write a PNG of %d x %d, %d channels, %d bits",
                         path ? path : "(null)", width, height, channels, bit_depth);
    FILE *f = fopen(path, "wb");
    if (!f) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    png_msg msg = {{0}};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &msg, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        remove(path);
        return SAM2_FAIL(SAM2_ERR_IO, "%s: cannot write PNG (%s)", path,
                         msg.text[0] ? msg.text : "out of memory");
    }
    static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                 PNG_COLOR_TYPE_RGBA};
    png_init_io(png, f);
    png_set_compression_level(png, 3);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, types[channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16 && host_is_little_endian()) png_set_swap(png);
    const size_t rowbytes = (size_t)width * channels * (bit_depth / 8);
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)pixels + (size_t)y * rowbytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0) {
        remove(path);
        return SAM2_FAIL(SAM2_ERR_IO, "%s: write failed (%s)", path, strerror(errno));
    }
    return SAM2_OK;
}
