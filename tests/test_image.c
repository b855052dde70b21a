/* test_image.c - image decoding / encoding (tools/image_io) and the exact
 * preprocessing (src/image): golden input parity, JPEG decoder agreement
 * with the reference decoder, conversion and resize unit tests, TIFF and PNG
 * round trips, WebP against Pillow's decoding, and bad inputs that must fail
 * cleanly and silently. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
/* jpeglib.h needs stdio.h first */
#include <jpeglib.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>
#include <webp/encode.h>

#include "image.h"
#include "image_io.h"
#include "test.h"

static char g_tmp[256]; /* scratch directory of this run */

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_tmp, name);
    return buf[k];
}

static int write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* ------------------------------------------------- stderr must stay silent */

static int g_saved_stderr = -1;

/* Sends stderr to a file while a decoder runs on bad input. */
static void quiet_begin(void) {
    fflush(stderr);
    g_saved_stderr = dup(2);
    int fd = open(tmp_path("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
}

/* Restores stderr and returns the number of bytes printed meanwhile. */
static long quiet_end(void) {
    fflush(stderr);
    if (g_saved_stderr >= 0) {
        dup2(g_saved_stderr, 2);
        close(g_saved_stderr);
        g_saved_stderr = -1;
    }
    struct stat sb;
    return stat(tmp_path("stderr.txt"), &sb) == 0 ? (long)sb.st_size : -1;
}

/* Reads a file that must fail with status `want` (or any failure if want is
 * SAM2_OK), without printing, and with a message naming the file. */
static void expect_bad(const char *label, const char *path, sam2_status want, const char *needle) {
    image_file f;
    quiet_begin();
    sam2_status st = image_file_read(path, &f);
    long printed = quiet_end();
    const char *msg = sam2_last_error();
    CHECK(st != SAM2_OK, "%s: accepted", label);
    CHECK(want == SAM2_OK || st == want, "%s: status %s, expected %s (%s)", label, sam2_status_str(st),
          sam2_status_str(want), msg);
    CHECK(f.pixels == NULL && f.width == 0, "%s: output not cleared", label);
    CHECK(strstr(msg, path) != NULL, "%s: message does not name the file: %s", label, msg);
    CHECK(!strchr(msg, '\n'), "%s: message is not one line", label);
    CHECK(!needle || strstr(msg, needle), "%s: message lacks '%s': %s", label, needle, msg);
    CHECK(printed == 0, "%s: %ld bytes printed to stderr", label, printed);
    printf("  bad input %-22s -> %s: %s\n", label, sam2_status_str(st), msg);
    image_file_free(&f);
}

/* ---------------------------------------------------------- file makers */

static uint32_t crc32_png(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Writes a PNG made of a signature, an IHDR claiming w x h and IEND only. */
static void make_header_only_png(const char *path, uint32_t w, uint32_t h) {
    uint8_t b[8 + 25 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *c = b + 8;
    put_be32(c, 13);
    memcpy(c + 4, "IHDR", 4);
    put_be32(c + 8, w), put_be32(c + 12, h);
    c[16] = 8, c[17] = 0; /* 8-bit gray */
    put_be32(c + 21, crc32_png(c + 4, 17));
    uint8_t *e = c + 25;
    put_be32(e, 0);
    memcpy(e + 4, "IEND", 4);
    put_be32(e + 8, crc32_png(e + 4, 4));
    write_bytes(path, b, sizeof b);
}

/* Writes an 8-bit baseline JPEG (gray, RGB, or CMYK with an Adobe marker)
 * with libjpeg. */
static int make_jpeg(const char *path, const uint8_t *px, int w, int h, int ch) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w, c.image_height = (JDIMENSION)h, c.input_components = ch;
    c.in_color_space = ch == 1 ? JCS_GRAYSCALE : ch == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 90, TRUE);
    jpeg_start_compress(&c, TRUE);
    for (int y = 0; y < h; y++) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)y * w * ch);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return fclose(f) == 0;
}

/* A smooth test pattern (h, w, ch) of 8-bit samples. */
static uint8_t *pattern8(int w, int h, int ch) {
    uint8_t *p = malloc((size_t)w * h * ch);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++)
                p[((size_t)y * w + x) * ch + c] = (uint8_t)((x * 7 + y * 3 + c * 60 + (x * y) / 5) & 255);
    return p;
}

/* A pattern of 16-bit samples covering the full range. */
static uint16_t *pattern16(int w, int h, int ch) {
    uint16_t *p = malloc(sizeof(uint16_t) * (size_t)w * h * ch);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++)
                p[((size_t)y * w + x) * ch + c] = (uint16_t)((x * 4099 + y * 257 + c * 9000 + x * y) & 0xFFFF);
    return p;
}

/* ================================================= golden input parity */

static float *read_npy(const char *path, int64_t *n) {
    npy_array a;
    if (npy_read(path, &a) != SAM2_OK) return NULL;
    *n = a.numel;
    return a.data;
}

/* Compares our JPEG decoding with the reference decoder's pixels. */
static void jpeg_vs_reference(const char *jpg, const char *png) {
    image_file a, b;
    sam2_status sa = image_file_read(jpg, &a), sb = image_file_read(png, &b);
    CHECK(sa == SAM2_OK && sb == SAM2_OK, "%s / %s: %s", jpg, png, sam2_last_error());
    if (sa == SAM2_OK && sb == SAM2_OK) {
        CHECK(a.width == b.width && a.height == b.height && a.channels == 3 && b.channels == 3,
              "%s: %dx%dx%d vs %dx%dx%d", jpg, a.width, a.height, a.channels, b.width, b.height, b.channels);
        if (a.width == b.width && a.height == b.height && a.channels == b.channels) {
            const long n = (long)a.width * a.height * a.channels;
            long differ = 0;
            int maxd = 0;
            for (long i = 0; i < n; i++) {
                int d = abs((int)a.pixels[i] - (int)b.pixels[i]);
                differ += d != 0;
                maxd = d > maxd ? d : maxd;
            }
            printf("  JPEG decode %-28s %ld of %ld samples differ from the reference, max %d\n",
                   strrchr(jpg, '/') + 1, differ, n, maxd);
            CHECK(maxd <= 2, "%s: JPEG decoding differs by up to %d levels", jpg, maxd);
        }
    }
    image_file_free(&a);
    image_file_free(&b);
}

/* micro256: input.npy of every image, from the exact RGB pixels (the
 * reference decoder's for JPEGs); the JPEGs are also run through our own
 * decoder and the input difference that causes is reported. */
static void golden_micro256(const char *g) {
    const char *names[] = {"truck", "groceries", "camera", "coins", "synthetic"};
    const char *pixels[] = {"truck.decoded.png", "groceries.decoded.png", "camera.png", "coins.png", "synthetic.png"};
    const int S = 256;
    float *got = malloc(sizeof(float) * 3 * S * S); /* (3, S, S) */
    char path[4096], label[128];
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/cases/micro256/%s/input.npy", g, names[i]);
        int64_t n = 0;
        float *want = read_npy(path, &n);
        CHECK(want && n == 3 * S * S, "%s: missing or wrong size", path);
        if (!want) continue;
        snprintf(path, sizeof path, "%s/images/%s", g, pixels[i]);
        image_file f;
        CHECK_OK(image_file_read(path, &f));
        sam2_image im = image_file_view(&f);
        CHECK_OK(image_preprocess(&im, SAM2_DEPTH_SCALE, S, got));
        snprintf(label, sizeof label, "micro256/%s input", names[i]);
        CHECK(test_compare(label, got, want, n, 1e-5f, 0), "%s input outside 1e-5", names[i]);
        image_file_free(&f);
        if (i < 2) { /* our JPEG decoder all the way */
            snprintf(path, sizeof path, "%s/images/%s.jpg", g, names[i]);
            if (image_file_read(path, &f) == SAM2_OK) {
                im = image_file_view(&f);
                CHECK_OK(image_preprocess(&im, SAM2_DEPTH_SCALE, S, got));
                snprintf(label, sizeof label, "micro256/%s input via our JPEG decoder", names[i]);
                test_compare(label, got, want, n, 1e-1f, 0); /* informational */
                image_file_free(&f);
            }
        }
        free(want);
    }
    free(got);
}

/* micro1024 groceries: input_samples.json (statistics, rows, columns and
 * seeded samples) against our (3, 1024, 1024) input. */
static void golden_micro1024(const char *g) {
    char path[4096];
    snprintf(path, sizeof path, "%s/cases/micro1024/groceries/input_samples.json", g);
    char *text = test_read_file(path, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK(j != NULL, "%s: missing or not JSON", path);
    if (!j) return;
    const int S = 1024;
    float *in = malloc(sizeof(float) * 3 * S * S); /* (3, S, S) */
    snprintf(path, sizeof path, "%s/images/groceries.decoded.png", g);
    image_file f;
    CHECK_OK(image_file_read(path, &f));
    sam2_image im = image_file_view(&f);
    CHECK_OK(image_preprocess(&im, SAM2_DEPTH_SCALE, S, in));
    image_file_free(&f);
    double maxd = 0;
    long count = 0;
    const char *lines[2] = {"rows", "cols"};
    for (int k = 0; k < 2; k++) {
        const cJSON *set = cJSON_GetObjectItem(j, lines[k]);
        for (const cJSON *r = set ? set->child : NULL; r; r = r->next) {
            const int at = atoi(r->string);
            for (int c = 0; c < 3; c++) {
                const cJSON *vals = cJSON_GetArrayItem(r, c);
                CHECK(cJSON_GetArraySize(vals) == S, "%s %d: %d values", lines[k], at, cJSON_GetArraySize(vals));
                int t = 0;
                for (const cJSON *v = vals ? vals->child : NULL; v && t < S; v = v->next, t++, count++) {
                    size_t idx = k == 0 ? ((size_t)c * S + at) * S + t : ((size_t)c * S + t) * S + at;
                    maxd = fmax(maxd, fabs(in[idx] - v->valuedouble));
                }
            }
        }
    }
    const cJSON *pts = cJSON_GetObjectItem(j, "points_cyx_value");
    for (const cJSON *p = pts ? pts->child : NULL; p; p = p->next, count++) {
        int c = cJSON_GetArrayItem(p, 0)->valueint, y = cJSON_GetArrayItem(p, 1)->valueint;
        int x = cJSON_GetArrayItem(p, 2)->valueint;
        maxd = fmax(maxd, fabs(in[((size_t)c * S + y) * S + x] - cJSON_GetArrayItem(p, 3)->valuedouble));
    }
    double maxstat = 0;
    const cJSON *mean = cJSON_GetObjectItem(j, "channel_mean"), *mn = cJSON_GetObjectItem(j, "channel_min"),
                *mx = cJSON_GetObjectItem(j, "channel_max");
    for (int c = 0; c < 3; c++) {
        double sum = 0;
        float lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < (size_t)S * S; i++) {
            float v = in[(size_t)c * S * S + i];
            sum += v, lo = fminf(lo, v), hi = fmaxf(hi, v);
        }
        maxstat = fmax(maxstat, fabs(sum / ((double)S * S) - cJSON_GetArrayItem(mean, c)->valuedouble));
        maxstat = fmax(maxstat, fabs(lo - cJSON_GetArrayItem(mn, c)->valuedouble));
        maxstat = fmax(maxstat, fabs(hi - cJSON_GetArrayItem(mx, c)->valuedouble));
    }
    printf("  %-48s max_abs %.3e over %ld samples; mean/min/max max_abs %.3e\n",
           "micro1024/groceries input (samples)", maxd, count, maxstat);
    CHECK(count >= 5 * 2 * 3 * S && maxd <= 1e-5, "micro1024 input samples differ by %g (%ld)", maxd, count);
    CHECK(maxstat <= 1e-5, "micro1024 input statistics differ by %g", maxstat);
    free(in);
    cJSON_Delete(j);
}

static void golden_tests(void) {
    const char *g = test_golden_dir();
    if (!g) {
        printf("golden data absent: input parity skipped\n");
        return;
    }
    golden_micro256(g);
    golden_micro1024(g);
    char jpg[4096], png[4096];
    const char *names[] = {"truck", "groceries"};
    for (int i = 0; i < 2; i++) {
        snprintf(jpg, sizeof jpg, "%s/images/%s.jpg", g, names[i]);
        snprintf(png, sizeof png, "%s/images/%s.decoded.png", g, names[i]);
        jpeg_vs_reference(jpg, png);
    }
    snprintf(jpg, sizeof jpg, "%s/../images/cars.jpg", g);
    snprintf(png, sizeof png, "%s/../images/cars.decoded.png", g);
    if (test_file_exists(jpg) && test_file_exists(png)) jpeg_vs_reference(jpg, png);
}

/* ============================================================ conversion */

static sam2_image view(const void *data, int w, int h, int ch, int bd) {
    sam2_image im = {w, h, w * ch * (bd / 8), ch, bd, data};
    return im;
}

static void conversion_tests(void) {
    /* gray replicated; gray+alpha and RGBA drop alpha */
    const uint8_t gray[3] = {0, 77, 255}, ga[6] = {10, 0, 20, 128, 30, 255};
    const uint8_t rgba[8] = {1, 2, 3, 0, 4, 5, 6, 200};
    uint8_t *rgb = NULL;
    sam2_image im = view(gray, 3, 1, 1, 8);
    CHECK_OK(image_to_rgb8(&im, SAM2_DEPTH_SCALE, &rgb));
    CHECK(rgb && rgb[3] == 77 && rgb[4] == 77 && rgb[5] == 77 && rgb[8] == 255, "gray not replicated");
    free(rgb);
    im = view(ga, 3, 1, 2, 8);
    CHECK_OK(image_to_rgb8(&im, SAM2_DEPTH_SCALE, &rgb));
    CHECK(rgb && rgb[0] == 10 && rgb[3] == 20 && rgb[5] == 20 && rgb[6] == 30, "gray+alpha wrong");
    free(rgb);
    im = view(rgba, 2, 1, 4, 8);
    CHECK_OK(image_to_rgb8(&im, SAM2_DEPTH_SCALE, &rgb));
    CHECK(rgb && !memcmp(rgb, "\1\2\3\4\5\6", 6), "RGBA alpha not dropped");
    free(rgb);

    /* 16-bit, scale: round(x / 257) */
    const uint16_t v16[8] = {0, 128, 129, 385, 386, 32896, 65407, 65535};
    im = view(v16, 8, 1, 1, 16);
    CHECK_OK(image_to_rgb8(&im, SAM2_DEPTH_SCALE, &rgb));
    int bad = 0;
    for (int i = 0; rgb && i < 8; i++) bad += rgb[3 * i] != (uint8_t)floor(v16[i] / 257.0 + 0.5);
    CHECK(rgb && bad == 0 && rgb[3] == 0 && rgb[6] == 1, "16-bit scale wrong");
    free(rgb);

    /* 16-bit, official (PIL convert("RGB")): one channel saturates, colour
     * keeps the high byte */
    const uint16_t o1[5] = {0, 100, 255, 256, 65535}, o3[6] = {0x1234, 0xFF00, 0x00FF, 0x0100, 0xFFFF, 0x7F80};
    im = view(o1, 5, 1, 1, 16);
    CHECK_OK(image_to_rgb8(&im, SAM2_DEPTH_OFFICIAL, &rgb));
    CHECK(rgb && rgb[0] == 0 && rgb[3] == 100 && rgb[6] == 255 && rgb[9] == 255 && rgb[12] == 255 && rgb[13] == 255,
          "16-bit gray, official: must saturate at 255");
    free(rgb);
    im = view(o3, 2, 1, 3, 16);
    CHECK_OK(image_to_rgb8(&im, SAM2_DEPTH_OFFICIAL, &rgb));
    CHECK(rgb && !memcmp(rgb, "\x12\xff\x00\x01\xff\x7f", 6), "16-bit RGB, official: must keep the high byte");
    free(rgb);
    CHECK(image_to_rgb8(&im, (sam2_depth_mode)7, &rgb) == SAM2_ERR_PARAM, "unknown depth mode accepted");

    /* 16-bit, window: values 0..999 -> numpy percentiles 4.995 and 994.005 */
    uint16_t *ramp = malloc(sizeof(uint16_t) * 1000);
    for (int i = 0; i < 1000; i++) ramp[(i * 7) % 1000] = (uint16_t)i; /* shuffled */
    im = view(ramp, 1000, 1, 1, 16);
    CHECK_OK(image_to_rgb8(&im, SAM2_DEPTH_WINDOW, &rgb));
    const double lo = 4.995, hi = 994.005;
    bad = 0;
    for (int i = 0; rgb && i < 1000; i++) {
        double t = (ramp[i] - lo) / (hi - lo) * 255.0;
        int want = t <= 0 ? 0 : t >= 255 ? 255 : (int)floor(t + 0.5);
        bad += rgb[3 * i] != want || rgb[3 * i + 2] != want;
    }
    CHECK(rgb && bad == 0, "window mapping wrong at %d samples", bad);
    free(rgb);
    /* the window spans all colour channels (not alpha) together */
    uint16_t *rgba16 = malloc(sizeof(uint16_t) * 4 * 1000);
    for (int i = 0; i < 1000; i++) {
        rgba16[4 * i] = (uint16_t)(1000 + i), rgba16[4 * i + 1] = (uint16_t)(1000 + (i * 3) % 1000);
        rgba16[4 * i + 2] = (uint16_t)(1999 - i), rgba16[4 * i + 3] = (uint16_t)(i * 60);
    }
    im = view(rgba16, 1000, 1, 4, 16);
    CHECK_OK(image_to_rgb8(&im, SAM2_DEPTH_WINDOW, &rgb));
    /* 3000 colour samples, each value 1000..1999 three times: p0.5 = 1004.995 */
    bad = 0;
    for (int i = 0; rgb && i < 1000; i++)
        for (int c = 0; c < 3; c++) {
            double t = (rgba16[4 * i + c] - 1004.995) / (1994.005 - 1004.995) * 255.0;
            int want = t <= 0 ? 0 : t >= 255 ? 255 : (int)floor(t + 0.5);
            bad += rgb[3 * i + c] != want;
        }
    CHECK(rgb && bad == 0, "RGBA window mapping wrong at %d samples", bad);
    free(rgb);
    free(rgba16);
    /* a flat percentile window falls back to min..max */
    for (int i = 0; i < 1000; i++) ramp[i] = 5000;
    ramp[0] = 1000, ramp[1] = 9000;
    im = view(ramp, 1000, 1, 1, 16);
    CHECK_OK(image_to_rgb8(&im, SAM2_DEPTH_WINDOW, &rgb));
    CHECK(rgb && rgb[0] == 0 && rgb[3] == 255 && rgb[6] == 128, "min/max fallback: %d %d %d",
          rgb ? rgb[0] : -1, rgb ? rgb[3] : -1, rgb ? rgb[6] : -1);
    free(rgb);
    /* a flat image falls back to plain scaling */
    for (int i = 0; i < 1000; i++) ramp[i] = 40000;
    CHECK_OK(image_to_rgb8(&im, SAM2_DEPTH_WINDOW, &rgb));
    CHECK(rgb && rgb[0] == 156 && rgb[2999] == 156, "flat image fallback: %d", rgb ? rgb[0] : -1);
    free(rgb);
    free(ramp);

    /* a view with a stride and an odd (unaligned) data address */
    const int W = 9, H = 5;
    uint8_t *buf = calloc(1, 1 + (size_t)H * (W * 6 + 4));
    uint8_t *base = buf + 1;
    const int stride = W * 6 + 4;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W * 3; x++) {
            uint16_t v = (uint16_t)(y * 5000 + x * 700);
            memcpy(base + (size_t)y * stride + 2 * x, &v, 2);
        }
    sam2_image v = {W, H, stride, 3, 16, base};
    CHECK_OK(image_to_rgb8(&v, SAM2_DEPTH_SCALE, &rgb));
    bad = 0;
    for (int y = 0; rgb && y < H; y++)
        for (int x = 0; x < W * 3; x++) bad += rgb[y * W * 3 + x] != (uint8_t)floor((y * 5000 + x * 700) / 257.0 + 0.5);
    CHECK(rgb && bad == 0, "strided unaligned 16-bit view wrong at %d samples", bad);
    free(rgb);
    free(buf);

    /* bad views */
    sam2_image z = view(gray, 0, 1, 1, 8);
    CHECK(sam2_image_check(&z) == SAM2_ERR_PARAM, "zero width accepted");
    z = view(gray, 3, 1, 5, 8);
    CHECK(sam2_image_check(&z) == SAM2_ERR_PARAM, "5 channels accepted");
    z = view(gray, 3, 1, 1, 12);
    CHECK(sam2_image_check(&z) == SAM2_ERR_PARAM, "12 bits accepted");
    z = view(gray, 3, 1, 1, 8);
    z.stride = 2;
    CHECK(sam2_image_check(&z) == SAM2_ERR_PARAM, "short stride accepted");
    z = view(NULL, 3, 1, 1, 8);
    CHECK(sam2_image_check(&z) == SAM2_ERR_PARAM, "NULL data accepted");
    z = view(gray, SAM2_MAX_IMAGE_SIDE + 1, 1, 1, 8);
    CHECK(sam2_image_check(&z) == SAM2_ERR_PARAM, "huge width accepted");
    z = view(gray, 30000, 30000, 1, 8);
    CHECK(sam2_image_check(&z) == SAM2_ERR_PARAM, "too many pixels accepted");
    z = view(gray, 3, 1, 1, 8);
    rgb = (uint8_t *)1;
    CHECK(image_to_rgb8(&z, (sam2_depth_mode)7, &rgb) == SAM2_ERR_PARAM && rgb == NULL, "bad depth mode accepted");
    float one[3 * 4];
    CHECK(image_preprocess(&z, SAM2_DEPTH_SCALE, 0, one) == SAM2_ERR_PARAM, "S = 0 accepted");
}

/* ================================================================ resize */

/* Plain bilinear (half-pixel centres, edge clamping) of one plane, double. */
static double bilinear_at(const float *in, int h, int w, double sy, double sx) {
    sy = sy < 0 ? 0 : sy, sx = sx < 0 ? 0 : sx;
    int y0 = (int)sy, x0 = (int)sx;
    int y1 = y0 + 1 < h ? y0 + 1 : h - 1, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
    if (y0 > h - 1) y0 = h - 1;
    if (x0 > w - 1) x0 = w - 1;
    double fy = sy - y0, fx = sx - x0;
    return (1 - fy) * ((1 - fx) * in[y0 * w + x0] + fx * in[y0 * w + x1]) +
           fy * ((1 - fx) * in[y1 * w + x0] + fx * in[y1 * w + x1]);
}

/* The README's antialias weights along one axis in double precision. */
static void aa_weights(int in, int out, int i, int *xmin, int *n, double *w) {
    double scale = (double)in / out, support = scale >= 1 ? scale : 1, inv = scale >= 1 ? 1 / scale : 1;
    double center = scale * (i + 0.5);
    *xmin = (int)(center - support + 0.5);
    if (*xmin < 0) *xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > in) xmax = in;
    *n = xmax - *xmin;
    double sum = 0;
    for (int j = 0; j < *n; j++) {
        double t = fabs((j + *xmin - center + 0.5) * inv);
        w[j] = t < 1 ? 1 - t : 0;
        sum += w[j];
    }
    for (int j = 0; j < *n; j++) w[j] /= sum;
}

static void resize_tests(void) {
    /* identity: exact copy */
    const int h = 7, w = 11;
    float *in = malloc(sizeof(float) * 2 * h * w), *out = malloc(sizeof(float) * 2 * 40 * 40);
    for (int i = 0; i < 2 * h * w; i++) in[i] = (float)sin(i * 0.37) * 3.0f;
    CHECK_OK(resize_antialias_bilinear(in, h, w, out, h, w, 2));
    CHECK(!memcmp(in, out, sizeof(float) * 2 * h * w), "identity resize is not an exact copy");

    /* upscaling = plain bilinear */
    const int oh = 19, ow = 30;
    CHECK_OK(resize_antialias_bilinear(in, h, w, out, oh, ow, 2));
    double maxd = 0;
    for (int c = 0; c < 2; c++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                double want = bilinear_at(in + c * h * w, h, w, (y + 0.5) * h / oh - 0.5, (x + 0.5) * w / ow - 0.5);
                maxd = fmax(maxd, fabs(out[(c * oh + y) * ow + x] - want));
            }
    printf("  upscale 11x7 -> 30x19 vs plain bilinear: max_abs %.3e\n", maxd);
    CHECK(maxd < 1e-5, "upscaling differs from bilinear by %g", maxd);

    /* downscaling (and mixed) = the README's separable triangle filter */
    const int dh = 3, dw = 4;
    CHECK_OK(resize_antialias_bilinear(in, h, w, out, dh, dw, 2));
    double wy[16], wx[16], tmp[7 * 4];
    maxd = 0;
    for (int c = 0; c < 2; c++) {
        for (int y = 0; y < h; y++)
            for (int i = 0; i < dw; i++) {
                int x0, n;
                aa_weights(w, dw, i, &x0, &n, wx);
                double s = 0;
                for (int j = 0; j < n; j++) s += wx[j] * in[(c * h + y) * w + x0 + j];
                tmp[y * dw + i] = s;
            }
        for (int i = 0; i < dh; i++) {
            int y0, n;
            aa_weights(h, dh, i, &y0, &n, wy);
            for (int x = 0; x < dw; x++) {
                double s = 0;
                for (int j = 0; j < n; j++) s += wy[j] * tmp[(y0 + j) * dw + x];
                maxd = fmax(maxd, fabs(out[(c * dh + i) * dw + x] - s));
            }
        }
    }
    printf("  downscale 11x7 -> 4x3 vs float64 triangle filter: max_abs %.3e\n", maxd);
    CHECK(maxd < 1e-5, "downscaling differs by %g", maxd);

    /* a constant stays constant */
    for (int i = 0; i < h * w; i++) in[i] = 0.75f;
    CHECK_OK(resize_antialias_bilinear(in, h, w, out, 5, 40, 1));
    int bad = 0;
    for (int i = 0; i < 5 * 40; i++) bad += fabsf(out[i] - 0.75f) > 1e-6f;
    CHECK(bad == 0, "constant not preserved at %d samples", bad);
    CHECK(resize_antialias_bilinear(in, 0, w, out, 5, 5, 1) == SAM2_ERR_PARAM, "empty resize accepted");
    free(in);
    free(out);

    /* normalisation of a constant gray image */
    const int S = 16;
    uint8_t g[5 * 3];
    memset(g, 128, sizeof g);
    sam2_image im = view(g, 5, 3, 1, 8);
    float *p = malloc(sizeof(float) * 3 * S * S);
    CHECK_OK(image_preprocess(&im, SAM2_DEPTH_SCALE, S, p));
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    bad = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < S * S; i++) bad += fabsf(p[c * S * S + i] - (128.0f / 255.0f - mean[c]) / std[c]) > 1e-6f;
    CHECK(bad == 0, "normalisation wrong at %d samples", bad);

    /* a crop given as a strided view equals the same pixels copied */
    const int BW = 40, BH = 30, cx = 7, cy = 4, cw = 21, ch = 17;
    uint8_t *big = pattern8(BW, BH, 3), *crop = malloc((size_t)cw * ch * 3);
    for (int y = 0; y < ch; y++) memcpy(crop + (size_t)y * cw * 3, big + ((size_t)(cy + y) * BW + cx) * 3, (size_t)cw * 3);
    sam2_image vcrop = {cw, ch, BW * 3, 3, 8, big + ((size_t)cy * BW + cx) * 3};
    sam2_image ccrop = view(crop, cw, ch, 3, 8);
    float *q = malloc(sizeof(float) * 3 * S * S);
    CHECK_OK(image_preprocess(&vcrop, SAM2_DEPTH_SCALE, S, p));
    CHECK_OK(image_preprocess(&ccrop, SAM2_DEPTH_SCALE, S, q));
    CHECK(!memcmp(p, q, sizeof(float) * 3 * S * S), "strided crop view differs from a copied crop");
    /* preprocess = rgb8 -> x/255 planes -> generic resize -> normalise */
    float *planes = malloc(sizeof(float) * 3 * cw * ch);
    for (int i = 0; i < cw * ch; i++)
        for (int c = 0; c < 3; c++) planes[c * cw * ch + i] = (float)crop[3 * i + c] / 255.0f;
    CHECK_OK(resize_antialias_bilinear(planes, ch, cw, q, S, S, 3));
    bad = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < S * S; i++) bad += p[c * S * S + i] != (q[c * S * S + i] - mean[c]) / std[c];
    CHECK(bad == 0, "image_preprocess differs from the generic path at %d samples", bad);
    free(planes);
    free(big);
    free(crop);
    free(p);
    free(q);
}

/* ============================================================ PNG / TIFF */

/* Writes a PNG with libpng directly (palette + tRNS, low bit depths). */
static int write_png_raw(const char *path, int w, int h, int depth, int type, const uint8_t *packed_rows,
                         size_t rowbytes, const png_color *pal, int npal, const uint8_t *trns, int ntrns) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return 0;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, packed_rows + (size_t)y * rowbytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f) == 0;
}

static void png_tests(void) {
    /* encoder round trips: gray8, RGB8, RGBA8, gray16 */
    const int w = 13, h = 6;
    const int chans[4] = {1, 3, 4, 1}, depths[4] = {8, 8, 8, 16};
    for (int k = 0; k < 4; k++) {
        void *px = depths[k] == 8 ? (void *)pattern8(w, h, chans[k]) : (void *)pattern16(w, h, chans[k]);
        if (depths[k] == 16) { /* extremes and byte-order probes */
            uint16_t *p16 = px;
            p16[0] = 0, p16[1] = 1, p16[2] = 256, p16[3] = 65535, p16[4] = 0x1234;
        }
        const char *path = tmp_path("roundtrip.png");
        CHECK_OK(image_write_png(path, px, w, h, chans[k], depths[k]));
        image_file f;
        CHECK_OK(image_file_read(path, &f));
        const size_t bytes = (size_t)w * h * chans[k] * depths[k] / 8;
        CHECK(f.width == w && f.height == h && f.channels == chans[k] && f.bit_depth == depths[k] && f.pixels &&
                  !memcmp(f.pixels, px, bytes),
              "PNG round trip %d channels %d bits", chans[k], depths[k]);
        image_file_free(&f);
        if (depths[k] == 16) { /* the file itself is big-endian, as PNG requires */
            FILE *fp = fopen(path, "rb");
            png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
            png_infop info = png_create_info_struct(png);
            uint8_t row[2 * 13];
            if (!setjmp(png_jmpbuf(png))) {
                png_init_io(png, fp);
                png_read_info(png, info);
                png_read_row(png, row, NULL);
                CHECK(row[4] == 0x01 && row[5] == 0x00 && row[8] == 0x12 && row[9] == 0x34, "16-bit PNG not big-endian");
            }
            png_destroy_read_struct(&png, &info, NULL);
            fclose(fp);
        }
        free(px);
    }
    CHECK(image_write_png(tmp_path("no/such/dir.png"), "x", 1, 1, 1, 8) == SAM2_ERR_IO, "unwritable path accepted");
    CHECK(image_write_png(tmp_path("bad.png"), "x", 1, 1, 5, 8) == SAM2_ERR_PARAM, "5 channels written");

    /* palette with tRNS -> RGBA with the palette colours, alpha dropped by the RGB conversion */
    const png_color pal[3] = {{255, 0, 0}, {0, 255, 0}, {10, 20, 30}};
    const uint8_t trns[2] = {0, 128};
    const uint8_t idx[4] = {0, 1, 2, 1};
    CHECK(write_png_raw(tmp_path("pal.png"), 4, 1, 8, PNG_COLOR_TYPE_PALETTE, idx, 4, pal, 3, trns, 2), "write palette PNG");
    image_file f;
    CHECK_OK(image_file_read(tmp_path("pal.png"), &f));
    CHECK(f.channels == 4 && f.bit_depth == 8 && f.pixels && f.pixels[3] == 0 && f.pixels[7] == 128 &&
              f.pixels[11] == 255 && f.pixels[8] == 10 && f.pixels[10] == 30,
          "palette + tRNS decoded wrong");
    sam2_image im = image_file_view(&f);
    uint8_t *rgb = NULL;
    CHECK_OK(image_to_rgb8(&im, SAM2_DEPTH_SCALE, &rgb));
    CHECK(rgb && !memcmp(rgb, "\xff\0\0\0\xff\0\x0a\x14\x1e\0\xff\0", 12), "palette RGB conversion wrong");
    free(rgb);
    image_file_free(&f);
    /* 2-bit gray -> 0, 85, 170, 255 (as PIL scales it) */
    const uint8_t two[1] = {0x1B}; /* 00 01 10 11 */
    CHECK(write_png_raw(tmp_path("g2.png"), 4, 1, 2, PNG_COLOR_TYPE_GRAY, two, 1, NULL, 0, NULL, 0), "write 2-bit PNG");
    CHECK_OK(image_file_read(tmp_path("g2.png"), &f));
    CHECK(f.channels == 1 && f.pixels && !memcmp(f.pixels, "\0\x55\xaa\xff", 4), "2-bit gray decoded wrong");
    image_file_free(&f);
    /* 16-bit gray + alpha keeps 16 bits */
    const uint8_t ga16[8] = {0x12, 0x34, 0xff, 0xff, 0xab, 0xcd, 0x00, 0x00}; /* big-endian file order */
    CHECK(write_png_raw(tmp_path("ga16.png"), 2, 1, 16, PNG_COLOR_TYPE_GRAY_ALPHA, ga16, 8, NULL, 0, NULL, 0), "write GA16");
    CHECK_OK(image_file_read(tmp_path("ga16.png"), &f));
    uint16_t s16[4] = {0};
    if (f.pixels) memcpy(s16, f.pixels, 8);
    CHECK(f.channels == 2 && f.bit_depth == 16 && s16[0] == 0x1234 && s16[2] == 0xabcd && s16[1] == 0xffff,
          "16-bit gray+alpha decoded wrong");
    image_file_free(&f);
}

/* Writes a TIFF with libtiff: optional tiles and planar layout. */
static int write_tiff(const char *path, const void *px, int w, int h, int spp, int bps, int photo, int tiled,
                      int planar) {
    TIFF *t = TIFFOpen(path, "w");
    if (!t) return 0;
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, spp);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bps);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, photo);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, planar ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    if (spp == 2 || spp == 4) {
        uint16_t ex = EXTRASAMPLE_UNASSALPHA;
        TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &ex);
    }
    const int bytes = bps / 8;
    int ok = 1;
    if (tiled) {
        TIFFSetField(t, TIFFTAG_TILEWIDTH, 16);
        TIFFSetField(t, TIFFTAG_TILELENGTH, 16);
        const int planes = planar ? spp : 1, per = planar ? 1 : spp;
        uint8_t *tile = malloc((size_t)16 * 16 * per * bytes);
        for (int s = 0; s < planes; s++)
            for (int ty = 0; ty < h; ty += 16)
                for (int tx = 0; tx < w; tx += 16) {
                    memset(tile, 0, (size_t)16 * 16 * per * bytes);
                    for (int y = 0; y < 16 && ty + y < h; y++)
                        for (int x = 0; x < 16 && tx + x < w; x++)
                            for (int c = 0; c < per; c++)
                                memcpy(tile + (((size_t)y * 16 + x) * per + c) * bytes,
                                       (const uint8_t *)px + (((size_t)(ty + y) * w + tx + x) * spp + (planar ? s : c)) * bytes,
                                       (size_t)bytes);
                    ok &= TIFFWriteTile(t, tile, (uint32_t)tx, (uint32_t)ty, 0, (uint16_t)s) >= 0;
                }
        free(tile);
    } else {
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 4);
        const int planes = planar ? spp : 1, per = planar ? 1 : spp;
        uint8_t *line = malloc((size_t)w * per * bytes);
        for (int s = 0; s < planes; s++)
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++)
                    for (int c = 0; c < per; c++)
                        memcpy(line + ((size_t)x * per + c) * bytes,
                               (const uint8_t *)px + (((size_t)y * w + x) * spp + (planar ? s : c)) * bytes, (size_t)bytes);
                ok &= TIFFWriteScanline(t, line, (uint32_t)y, (uint16_t)s) >= 0;
            }
        free(line);
    }
    TIFFClose(t);
    return ok;
}

static void tiff_tests(void) {
    const int w = 37, h = 21;
    struct {
        int spp, bps, photo, tiled, planar;
    } cases[] = {
        {1, 8, PHOTOMETRIC_MINISBLACK, 0, 0},  {1, 16, PHOTOMETRIC_MINISBLACK, 0, 0},
        {3, 8, PHOTOMETRIC_RGB, 0, 0},         {3, 16, PHOTOMETRIC_RGB, 0, 0},
        {4, 8, PHOTOMETRIC_RGB, 0, 0},         {4, 16, PHOTOMETRIC_RGB, 1, 0},
        {1, 16, PHOTOMETRIC_MINISBLACK, 1, 0}, {3, 8, PHOTOMETRIC_RGB, 1, 1},
        {3, 16, PHOTOMETRIC_RGB, 0, 1},        {2, 16, PHOTOMETRIC_MINISBLACK, 0, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        void *px = cases[k].bps == 8 ? (void *)pattern8(w, h, cases[k].spp) : (void *)pattern16(w, h, cases[k].spp);
        const char *path = tmp_path("t.tif");
        CHECK(write_tiff(path, px, w, h, cases[k].spp, cases[k].bps, cases[k].photo, cases[k].tiled, cases[k].planar),
              "write TIFF case %zu", k);
        image_file f;
        CHECK_OK(image_file_read(path, &f));
        const size_t bytes = (size_t)w * h * cases[k].spp * cases[k].bps / 8;
        CHECK(f.width == w && f.height == h && f.channels == cases[k].spp && f.bit_depth == cases[k].bps &&
                  f.pixels && !memcmp(f.pixels, px, bytes),
              "TIFF case %zu (%d samples, %d bits, tiled %d, planar %d) decoded wrong", k, cases[k].spp,
              cases[k].bps, cases[k].tiled, cases[k].planar);
        image_file_free(&f);
        free(px);
    }
    /* MINISWHITE is inverted */
    uint8_t *g = pattern8(w, h, 1);
    CHECK(write_tiff(tmp_path("w.tif"), g, w, h, 1, 8, PHOTOMETRIC_MINISWHITE, 0, 0), "write MINISWHITE");
    image_file f;
    CHECK_OK(image_file_read(tmp_path("w.tif"), &f));
    int bad = 0;
    for (int i = 0; f.pixels && i < w * h; i++) bad += f.pixels[i] != 255 - g[i];
    CHECK(f.pixels && bad == 0, "MINISWHITE not inverted at %d pixels", bad);
    image_file_free(&f);
    free(g);
    /* palette and 1-bit TIFFs go through libtiff's RGBA reader */
    TIFF *t = TIFFOpen(tmp_path("p.tif"), "w");
    if (t) {
        uint16_t cmap[3][256] = {{0}};
        cmap[0][1] = 65535, cmap[1][2] = 32896, cmap[2][2] = 65535;
        const uint8_t idx[4] = {0, 1, 2, 1};
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 4);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, 1);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_PALETTE);
        TIFFSetField(t, TIFFTAG_COLORMAP, cmap[0], cmap[1], cmap[2]);
        TIFFWriteScanline(t, (void *)idx, 0, 0);
        TIFFClose(t);
    }
    CHECK_OK(image_file_read(tmp_path("p.tif"), &f));
    CHECK(f.channels == 3 && f.bit_depth == 8 && f.pixels && !memcmp(f.pixels, "\0\0\0\xff\0\0\0\x80\xff\xff\0\0", 12),
          "palette TIFF decoded wrong");
    image_file_free(&f);
    t = TIFFOpen(tmp_path("b.tif"), "w");
    if (t) {
        const uint8_t bits[1] = {0xA0}; /* 1 0 1 0 */
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 4);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, 1);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
        TIFFWriteScanline(t, (void *)bits, 0, 0);
        TIFFClose(t);
    }
    CHECK_OK(image_file_read(tmp_path("b.tif"), &f));
    CHECK(f.channels == 3 && f.pixels && f.pixels[0] == 255 && f.pixels[3] == 0 && f.pixels[6] == 255 && f.pixels[11] == 0,
          "1-bit TIFF decoded wrong");
    image_file_free(&f);
    /* float samples are refused with a clear message */
    float fl[4] = {0, 1, 2, 3};
    t = TIFFOpen(tmp_path("f.tif"), "w");
    if (t) {
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 2);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, 2);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 32);
        TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
        TIFFWriteScanline(t, fl, 0, 0);
        TIFFWriteScanline(t, fl + 2, 1, 0);
        TIFFClose(t);
    }
    expect_bad("float TIFF", tmp_path("f.tif"), SAM2_ERR_UNSUPPORTED, "floating-point");
    /* truncated TIFF */
    uint8_t *px = pattern8(w, h, 3);
    write_tiff(tmp_path("t.tif"), px, w, h, 3, 8, PHOTOMETRIC_RGB, 0, 0);
    free(px);
    size_t size = 0;
    uint8_t *d = (uint8_t *)test_read_file(tmp_path("t.tif"), &size);
    if (d) {
        write_bytes(tmp_path("cut.tif"), d, size / 2);
        expect_bad("truncated TIFF", tmp_path("cut.tif"), SAM2_OK, "TIFF");
        for (size_t i = 16; i < size / 3; i++) d[i] ^= 0xA5; /* the deflate strips come first */
        write_bytes(tmp_path("flip.tif"), d, size);
        expect_bad("corrupt TIFF strips", tmp_path("flip.tif"), SAM2_ERR_FORMAT, "TIFF");
        write_bytes(tmp_path("cut2.tif"), d, 12);
        expect_bad("TIFF header only", tmp_path("cut2.tif"), SAM2_OK, "TIFF");
        free(d);
    }
}

/* ============================================================ bad inputs */

static void jpeg_tests(void) {
    /* our own JPEG: decodes to the right size, close to the source */
    const int w = 160, h = 120;
    uint8_t *px = pattern8(w, h, 3);
    for (int i = 0; i < w * h * 3; i++) px[i] = (uint8_t)(px[i] / 4 + 100); /* smooth */
    CHECK(make_jpeg(tmp_path("a.jpg"), px, w, h, 3), "write JPEG");
    image_file f;
    CHECK_OK(image_file_read(tmp_path("a.jpg"), &f));
    CHECK(f.width == w && f.height == h && f.channels == 3 && f.bit_depth == 8, "JPEG size/channels");
    image_file_free(&f);
    CHECK(make_jpeg(tmp_path("g.jpg"), px, w, h, 1), "write gray JPEG");
    CHECK_OK(image_file_read(tmp_path("g.jpg"), &f));
    CHECK(f.channels == 1, "gray JPEG has %d channels", f.channels);
    image_file_free(&f);
    free(px);
    /* Adobe CMYK (stored inverted) -> RGB as Pillow converts it: flat raw
     * (200, 100, 50, 230) is C, M, Y, K = 55, 155, 205, 25 -> (180, 90, 45) */
    uint8_t *cmyk = malloc(16 * 16 * 4);
    for (int i = 0; i < 16 * 16; i++) memcpy(cmyk + 4 * i, "\xc8\x64\x32\xe6", 4);
    CHECK(make_jpeg(tmp_path("cmyk.jpg"), cmyk, 16, 16, 4), "write CMYK JPEG");
    CHECK_OK(image_file_read(tmp_path("cmyk.jpg"), &f));
    CHECK(f.channels == 3 && f.pixels && abs(f.pixels[0] - 180) <= 2 && abs(f.pixels[1] - 90) <= 2 &&
              abs(f.pixels[2] - 45) <= 2,
          "CMYK JPEG -> RGB (%d %d %d)", f.pixels ? f.pixels[0] : -1, f.pixels ? f.pixels[1] : -1,
          f.pixels ? f.pixels[2] : -1);
    image_file_free(&f);
    free(cmyk);

    size_t size = 0;
    uint8_t *d = (uint8_t *)test_read_file(tmp_path("a.jpg"), &size);
    if (!d) return;
    write_bytes(tmp_path("cut.jpg"), d, size * 2 / 3);
    expect_bad("truncated JPEG", tmp_path("cut.jpg"), SAM2_ERR_FORMAT, "JPEG");
    write_bytes(tmp_path("cut2.jpg"), d, 40);
    expect_bad("JPEG header cut", tmp_path("cut2.jpg"), SAM2_ERR_FORMAT, "JPEG");
    /* damaged entropy-coded data (flip bytes after the headers) */
    uint8_t *e = malloc(size);
    memcpy(e, d, size);
    size_t sos = 2;
    while (sos + 1 < size && !(e[sos] == 0xFF && e[sos + 1] == 0xDA)) sos++;
    uint32_t lcg = 12345;
    for (size_t i = sos + 20; i + 2 < size; i++) { /* entropy-coded data, EOI kept */
        lcg = lcg * 1664525u + 1013904223u;
        e[i] = (uint8_t)(lcg >> 24);
    }
    write_bytes(tmp_path("flip.jpg"), e, size);
    expect_bad("corrupt JPEG data", tmp_path("flip.jpg"), SAM2_ERR_FORMAT, "JPEG");
    /* absurd dimensions in the frame header (SOF0 at FFC0) */
    memcpy(e, d, size);
    for (size_t i = 2; i + 9 < size; i++)
        if (e[i] == 0xFF && e[i + 1] == 0xC0) {
            e[i + 5] = 0x9C, e[i + 6] = 0x40, e[i + 7] = 0x9C, e[i + 8] = 0x40; /* 40000 x 40000 */
            break;
        }
    write_bytes(tmp_path("huge.jpg"), e, size);
    expect_bad("huge JPEG", tmp_path("huge.jpg"), SAM2_ERR_NOMEM, "limit");
    free(e);
    free(d);
}

/* Writes a WebP of px (w x h, 3 or 4 channels), lossless or lossy. */
static int make_webp(const char *path, const uint8_t *px, int w, int h, int ch, int lossless) {
    uint8_t *out = NULL;
    size_t n = lossless ? (ch == 4 ? WebPEncodeLosslessRGBA(px, w, h, w * ch, &out) : WebPEncodeLosslessRGB(px, w, h, w * ch, &out))
                        : (ch == 4 ? WebPEncodeRGBA(px, w, h, w * ch, 80, &out) : WebPEncodeRGB(px, w, h, w * ch, 80, &out));
    const int ok = n > 0 && write_bytes(path, out, n);
    WebPFree(out);
    return ok;
}

static void webp_tests(void) {
    /* lossless: every sample back; alpha kept as a fourth channel */
    const int w = 37, h = 21;
    uint8_t *px = pattern8(w, h, 4);
    for (int i = 3; i < w * h * 4; i += 4) px[i] |= 1; /* no fully transparent pixel: its colour may be dropped */
    for (int ch = 3; ch <= 4; ch++) {
        uint8_t *src = malloc((size_t)w * h * ch);
        for (int i = 0; i < w * h; i++) memcpy(src + (size_t)i * ch, px + (size_t)i * 4, (size_t)ch);
        CHECK(make_webp(tmp_path("l.webp"), src, w, h, ch, 1), "write lossless WebP");
        image_file f;
        CHECK_OK(image_file_read(tmp_path("l.webp"), &f));
        CHECK(f.width == w && f.height == h && f.channels == ch && f.bit_depth == 8, "lossless WebP %d x %d x %d",
              f.width, f.height, f.channels);
        CHECK(f.pixels && !memcmp(f.pixels, src, (size_t)w * h * ch), "lossless WebP (%d channels): samples differ", ch);
        image_file_free(&f);
        free(src);
    }
    /* lossy: the same bytes as Pillow decodes (fixture made with it) */
    char path[4096], ref[4096];
    snprintf(path, sizeof path, "%s/images/lossy.webp", test_fixtures_dir());
    snprintf(ref, sizeof ref, "%s/images/lossy_pillow.png", test_fixtures_dir());
    image_file f, r;
    CHECK_OK(image_file_read(path, &f));
    CHECK_OK(image_file_read(ref, &r));
    CHECK(f.width == 48 && f.height == 32 && f.channels == 3 && r.width == 48 && r.height == 32 && r.channels == 3,
          "lossy WebP %d x %d x %d, Pillow's %d x %d x %d", f.width, f.height, f.channels, r.width, r.height, r.channels);
    int diff = -1;
    if (f.pixels && r.pixels && f.channels == r.channels && f.width == r.width && f.height == r.height) {
        diff = 0;
        for (int i = 0; i < f.width * f.height * f.channels; i++) diff += f.pixels[i] != r.pixels[i];
    }
    CHECK(diff == 0, "lossy WebP: %d samples differ from Pillow's decoding", diff);
    image_file_free(&f);
    image_file_free(&r);

    /* cut short, damaged, animated, not WebP inside */
    CHECK(make_webp(tmp_path("y.webp"), px, w, h, 3, 0), "write lossy WebP");
    size_t size = 0;
    uint8_t *d = (uint8_t *)test_read_file(tmp_path("y.webp"), &size);
    if (d) {
        write_bytes(tmp_path("cut.webp"), d, size * 2 / 3);
        expect_bad("truncated WebP", tmp_path("cut.webp"), SAM2_ERR_FORMAT, "WebP");
        write_bytes(tmp_path("head.webp"), d, 16);
        expect_bad("WebP header cut", tmp_path("head.webp"), SAM2_ERR_FORMAT, "WebP");
        for (size_t i = 40; i + 4 < size; i++) d[i] ^= 0x5A; /* the coded data scrambled */
        write_bytes(tmp_path("flip.webp"), d, size);
        expect_bad("corrupt WebP data", tmp_path("flip.webp"), SAM2_ERR_FORMAT, "WebP");
        free(d);
    }
    /* an extended header with the animation flag and a 2 x 2 canvas */
    const uint8_t anim[30] = {'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X', 10, 0, 0, 0,
                              0x02, 0, 0, 0, 1, 0, 0, 1, 0, 0};
    write_bytes(tmp_path("anim.webp"), anim, sizeof anim);
    expect_bad("animated WebP", tmp_path("anim.webp"), SAM2_ERR_UNSUPPORTED, "animated");
    write_bytes(tmp_path("riff.webp"), "RIFF\x04\0\0\0WEBPJUNK", 16);
    expect_bad("RIFF WEBP without a bitstream", tmp_path("riff.webp"), SAM2_ERR_FORMAT, "WebP");
    free(px);
}

static void bad_input_tests(void) {
    expect_bad("missing file", tmp_path("nope.png"), SAM2_ERR_IO, "No such file");
    expect_bad("directory", g_tmp, SAM2_ERR_IO, "directory");
    write_bytes(tmp_path("text.png"), "this is not an image\n", 21);
    expect_bad("non-image", tmp_path("text.png"), SAM2_ERR_UNSUPPORTED, "not a PNG, JPEG, TIFF or WebP");
    write_bytes(tmp_path("gif.jpg"), "GIF89a\1\0\1\0", 10);
    expect_bad("GIF", tmp_path("gif.jpg"), SAM2_ERR_UNSUPPORTED, "GIF");
    write_bytes(tmp_path("empty.png"), "", 0);
    expect_bad("empty file", tmp_path("empty.png"), SAM2_ERR_FORMAT, "empty");
    make_header_only_png(tmp_path("huge.png"), 100000, 100000);
    expect_bad("huge PNG", tmp_path("huge.png"), SAM2_ERR_NOMEM, "limit");
    make_header_only_png(tmp_path("wide.png"), SAM2_MAX_IMAGE_SIDE + 1, 1);
    expect_bad("too wide PNG", tmp_path("wide.png"), SAM2_ERR_NOMEM, "limit");
    make_header_only_png(tmp_path("many.png"), 30000, 30000);
    expect_bad("too many pixels PNG", tmp_path("many.png"), SAM2_ERR_NOMEM, "limit");
    make_header_only_png(tmp_path("zero.png"), 0, 10);
    expect_bad("zero-width PNG", tmp_path("zero.png"), SAM2_ERR_FORMAT, "PNG");
    make_header_only_png(tmp_path("noidat.png"), 10, 10);
    expect_bad("PNG without data", tmp_path("noidat.png"), SAM2_ERR_FORMAT, "PNG");

    /* truncated and corrupt PNGs, from a real encoded file */
    const int w = 64, h = 48;
    uint8_t *px = pattern8(w, h, 3);
    CHECK_OK(image_write_png(tmp_path("ok.png"), px, w, h, 3, 8));
    free(px);
    size_t size = 0;
    uint8_t *d = (uint8_t *)test_read_file(tmp_path("ok.png"), &size);
    if (!d) return;
    write_bytes(tmp_path("cut.png"), d, size / 2);
    expect_bad("truncated PNG", tmp_path("cut.png"), SAM2_ERR_FORMAT, "PNG");
    write_bytes(tmp_path("cut2.png"), d, 20);
    expect_bad("PNG cut in IHDR", tmp_path("cut2.png"), SAM2_ERR_FORMAT, "PNG");
    d[size / 2] ^= 0x55;
    write_bytes(tmp_path("flip.png"), d, size);
    expect_bad("corrupt PNG (IDAT)", tmp_path("flip.png"), SAM2_ERR_FORMAT, "PNG");
    d[size / 2] ^= 0x55;
    d[17] ^= 0x01; /* IHDR width, CRC now wrong */
    write_bytes(tmp_path("flip2.png"), d, size);
    expect_bad("corrupt PNG (IHDR)", tmp_path("flip2.png"), SAM2_ERR_FORMAT, "PNG");
    free(d);

    /* the same from the golden images when present */
    const char *g = test_golden_dir();
    if (g) {
        char path[4096];
        snprintf(path, sizeof path, "%s/images/groceries.jpg", g);
        d = (uint8_t *)test_read_file(path, &size);
        if (d) {
            write_bytes(tmp_path("gcut.jpg"), d, 20000);
            expect_bad("truncated groceries.jpg", tmp_path("gcut.jpg"), SAM2_ERR_FORMAT, "JPEG");
            free(d);
        }
        snprintf(path, sizeof path, "%s/images/coins.png", g);
        d = (uint8_t *)test_read_file(path, &size);
        if (d) {
            write_bytes(tmp_path("gcut.png"), d, size - 100);
            expect_bad("truncated coins.png", tmp_path("gcut.png"), SAM2_ERR_FORMAT, "PNG");
            free(d);
        }
    }
    /* the fixtures kept in the tree */
    const char *fx = test_fixtures_dir();
    const struct {
        const char *file, *needle;
        sam2_status st;
    } fixtures[] = {
        {"huge_dims.png", "limit", SAM2_ERR_NOMEM},   {"zero_width.png", "PNG", SAM2_ERR_FORMAT},
        {"truncated.png", "PNG", SAM2_ERR_FORMAT},    {"corrupt.png", "PNG", SAM2_ERR_FORMAT},
        {"truncated.jpg", "JPEG", SAM2_ERR_FORMAT},   {"not_an_image.png", "not a PNG", SAM2_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/images/%s", fx, fixtures[i].file);
        if (test_file_exists(path)) expect_bad(fixtures[i].file, path, fixtures[i].st, fixtures[i].needle);
        else CHECK(0, "fixture %s missing", path);
    }
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/sam2_test_image_XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    golden_tests();
    conversion_tests();
    resize_tests();
    png_tests();
    tiff_tests();
    jpeg_tests();
    webp_tests();
    bad_input_tests();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return test_finish();
}
