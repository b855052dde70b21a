/* cli_common.c - option handling and model loading shared by subcommands. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_io.h"
#include "demo_model.h"

void cli_common_init(cli_common *c) {
    c->model_path = NULL;
    c->config_path = NULL;
    c->threads = 0;
    c->precision = SAM2_PRECISION_F32;
}

int cli_ctx_new(const char *cmd, const cli_common *c, sam2_model *m, sam2_ctx **ctx) {
    sam2_status st = sam2_ctx_new(m, c->threads, ctx);
    if (st == SAM2_OK && c->precision != SAM2_PRECISION_F32) st = sam2_ctx_set_precision(*ctx, c->precision);
    if (st == SAM2_OK) return 0;
    sam2_ctx_free(*ctx);
    *ctx = NULL;
    return cli_fail(cmd, st);
}

int cli_common_option(cli_common *c, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    int which = 0;
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) which = 1;
    else if (!strcmp(a, "-c") || !strcmp(a, "--config")) which = 2;
    else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) which = 3;
    else if (!strcmp(a, "--precision")) which = 4;
    if (!which) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "sam2: option %s needs a value\n", a);
        return -1;
    }
    const char *v = argv[++*i];
    if (which == 1) c->model_path = v;
    else if (which == 2) c->config_path = v;
    else if (which == 4) {
        if (!strcmp(v, "f32") || !strcmp(v, "float32")) c->precision = SAM2_PRECISION_F32;
        else if (!strcmp(v, "bf16") || !strcmp(v, "bfloat16")) c->precision = SAM2_PRECISION_BF16;
        else {
            fprintf(stderr, "sam2: --precision takes f32 (exact, the default) or bf16, got '%s'\n", v);
            return -1;
        }
    } else if (!cli_parse_int(v, &c->threads) || c->threads < 0 || c->threads > 1024) {
        fprintf(stderr, "sam2: -t takes a thread count from 0 (all cores) to 1024, got '%s'\n", v);
        return -1;
    }
    return 1;
}

sam2_model *cli_load_model(const cli_common *c) {
    const char *model = c->model_path;
    if (!model) {
        const char *env = getenv("SAM2_MODEL");
        if (env && *env) model = env;
    }
    sam2_model *m = NULL;
    sam2_status st;
    if (model) {
        st = sam2_model_load(model, c->config_path, &m);
    } else { /* the built-in demo model, with its own YAML or the one given */
        char *yaml = NULL;
        if (c->config_path && !(yaml = cli_read_text("", c->config_path))) return NULL;
        st = demo_model_load(yaml, c->config_path, &m);
        free(yaml);
    }
    if (st != SAM2_OK) {
        fprintf(stderr, "sam2: cannot load model: %s\n", sam2_last_error());
        return NULL;
    }
    return m;
}

int cli_fail(const char *cmd, sam2_status st) {
    (void)st;
    fprintf(stderr, "sam2 %s: %s\n", cmd, sam2_last_error());
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sam2%s%s: ", cmd && *cmd ? " " : "", cmd ? cmd : ""); /* "": not one command's */
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 2;
}

int cli_parse_int(const char *s, int *out) {
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < INT_MIN || v > INT_MAX) return 0;
    *out = (int)v;
    return 1;
}

int cli_parse_float(const char *s, float *out) {
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v)) return 0;
    *out = (float)v;
    return 1;
}

int cli_parse_bool(const char *s, int *out) {
    if (!s) return 0;
    if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "True")) {
        *out = 1;
        return 1;
    }
    if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no") || !strcmp(s, "False")) {
        *out = 0;
        return 1;
    }
    return 0;
}

int cli_mkdirs(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
    struct stat st;
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

int cli_is_embedding_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char m[8] = {0};
    size_t n = fread(m, 1, 8, f);
    fclose(f);
    return n == 8 && memcmp(m, "SAM2EMB", 8) == 0;
}

int cli_default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
