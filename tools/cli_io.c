/* cli_io.c - images in, PNGs out, and the rule that outputs never replace a
 * user's file unless --overwrite says so. */
#include "cli_io.h"

#include <cjson/cJSON.h>

#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image.h"
#include "image_io.h"

int cli_check_output(const char *path, int overwrite) {
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    if (S_ISDIR(st.st_mode)) {
        fprintf(stderr, "sam2: output '%s' is a directory\n", path);
        return -1;
    }
    if (overwrite) return 0;
    fprintf(stderr, "sam2: '%s' exists; not overwriting it (pass --overwrite to replace it)\n", path);
    return -1;
}

int cli_parse_depth(const char *s, sam2_depth_mode *out) {
    if (!strcmp(s, "scale")) *out = SAM2_DEPTH_SCALE;
    else if (!strcmp(s, "window")) *out = SAM2_DEPTH_WINDOW;
    else if (!strcmp(s, "official")) *out = SAM2_DEPTH_OFFICIAL;
    else return -1;
    return 0;
}

void cli_apply_threads(const cli_common *c) {
    openblas_set_num_threads(c->threads > 0 ? c->threads : cli_default_threads());
}

int cli_load_image(const char *cmd, const char *path, cli_image *out) {
    memset(out, 0, sizeof *out);
    image_file *f = calloc(1, sizeof *f);
    if (!f) return -1;
    sam2_status st = image_file_read(path, f);
    if (st != SAM2_OK) {
        free(f);
        fprintf(stderr, "sam2 %s: %s\n", cmd, sam2_last_error());
        return -1;
    }
    out->img = image_file_view(f);
    out->owned = f;
    return 0;
}

void cli_image_free(cli_image *img) {
    if (!img) return;
    image_file_free(img->owned);
    free(img->owned);
    img->owned = NULL;
}

uint8_t *cli_image_rgb8(const cli_image *img, sam2_depth_mode depth) {
    uint8_t *rgb = NULL;
    if (image_to_rgb8(&img->img, depth, &rgb) != SAM2_OK) return NULL;
    return rgb;
}

static int write_png(const char *path, const void *px, int w, int h, int ch, int bd) {
    sam2_status st = image_write_png(path, px, w, h, ch, bd);
    if (st != SAM2_OK) fprintf(stderr, "sam2: %s\n", sam2_last_error());
    return st == SAM2_OK ? 0 : -1;
}

int cli_write_png_gray8(const char *path, const uint8_t *px, int w, int h) { return write_png(path, px, w, h, 1, 8); }
int cli_write_png_rgb8(const char *path, const uint8_t *px, int w, int h) { return write_png(path, px, w, h, 3, 8); }
int cli_write_png_gray16(const char *path, const uint16_t *px, int w, int h) { return write_png(path, px, w, h, 1, 16); }

char *cli_read_text(const char *cmd, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_usage_error(cmd, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 && n < (1L << 28) ? malloc((size_t)n + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        cli_usage_error(cmd, "cannot read %s", path);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    return buf;
}

cJSON *cli_read_json(const char *cmd, const char *path) {
    char *buf = cli_read_text(cmd, path);
    if (!buf) return NULL;
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    if (!j) cli_usage_error(cmd, "%s is not valid JSON", path);
    return j;
}

int cli_write_json(const char *cmd, const char *path, const cJSON *j, int pretty, int overwrite) {
    if (cli_check_output(path, overwrite) != 0) return -1;
    char *s = pretty ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
    char tmp[4200];
    const int fits = snprintf(tmp, sizeof tmp, "%s.part", path) < (int)sizeof tmp;
    FILE *f = s && fits ? fopen(tmp, "w") : NULL;
    int ok = f && fputs(s, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) ok = 0;
    if (!ok && f) remove(tmp);
    free(s);
    if (!ok) fprintf(stderr, "sam2 %s: cannot write %s\n", cmd, path);
    return ok ? 0 : -1;
}
