/* cmd_compare.c - `sam2 compare`: the automatic mask generator with several
 * parameter sets on one image, drawn side by side with captions (settings,
 * mask count, coverage, time). A set may also switch on the steps of
 * --robust. The image is embedded once for every set without crop layers
 * or those steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amg_args.h"
#include "amg_filters.h"
#include "amg_outputs.h"
#include "cli.h"
#include "cli_options.h"
#include "cli_io.h"
#include "grid_render.h"
#include "param_sets.h"
#include "robust_args.h"

#define COMPARE_MAX_SETS 64

typedef struct compare_args {
    cli_common common;
    const char *input, *output;
    param_set sets[COMPARE_MAX_SETS];
    int n_sets;
    param_set base;              /* --<parameter> flags: applied before each set */
    char base_text[4096];
    robust_args base_robust;     /* --robust and its steps' flags: likewise */
    int overwrite, tile_w, cols;
    sam2_depth_mode depth;
} compare_args;

static void usage(void) {
    printf("usage: sam2 compare IMAGE --set \"NAME=VALUE,...\" [--set ...]... [-o GRID.png]\n"
           "                    [--<parameter> VALUE]... [--tile-width N] [--cols N] [--overwrite]\n"
           "                    [-m MODEL] [-c CONFIG] [-t N] [--precision f32|bf16] [--depth window|scale|official]\n"
           "Runs the automatic mask generator once per parameter set and writes one picture:\n"
           "the image, then an overlay per set captioned with its settings, the number of\n"
           "masks, the coverage (fraction of pixels in at least one mask) and the time.\n"
           "Names are those of 'sam2 auto --help' (kebab- or snake-case), the steps\n"
           "beyond the official generator included (robust=true is --robust, robust=false\n"
           "the official generator), e.g.\n"
           "  --set points-per-side=16 --set points-per-side=64,crop-n-layers=1\n"
           "  --set robust=false --set robust=true --set robust=true,consensus=false\n"
           "--<parameter> flags (and --robust) apply to every set (a set's own values\n"
           "win). Sets without crop layers or --robust steps share one embedding of the\n"
           "image (its time is shown under the image); the others embed what they need\n"
           "themselves, as 'sam2 auto' does (a caption names a contrast step that ran).\n"
           "-o defaults to out/compare.png; an existing file is kept unless --overwrite.\n");
}

static int parse_args(compare_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    cli_common_init(&a->common);
    robust_args_init(&a->base_robust);
    const cli_shared sh = {&a->common, NULL, &a->base_robust, &a->depth, &a->overwrite};
    for (int i = 1; i < argc; i++) {
        const int r = cli_shared_option("compare", &sh, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage();
            return -1;
        } else if (!strcmp(o, "--set") && v) {
            if (a->n_sets == COMPARE_MAX_SETS) return cli_usage_error("compare", "at most %d --set", COMPARE_MAX_SETS);
            if (param_set_parse(&a->sets[a->n_sets++], "compare", v, 1) != 0) return 2;
            i++;
        } else if (!strcmp(o, "-o") && v) {
            a->output = v, i++;
        } else if (!strcmp(o, "--tile-width") && v) {
            if (!cli_parse_int(v, &a->tile_w) || a->tile_w < 64 || a->tile_w > 4096)
                return cli_usage_error("compare", "--tile-width takes 64..4096 pixels, got '%s'", v);
            i++;
        } else if (!strcmp(o, "--cols") && v) {
            if (!cli_parse_int(v, &a->cols) || a->cols < 1 || a->cols > 64)
                return cli_usage_error("compare", "--cols takes 1..64, got '%s'", v);
            i++;
        } else if (!strncmp(o, "--", 2) && v && strcmp(o, "--set") && strcmp(o, "-o")) {
            /* an AMG parameter for every set (checked when parsed as a set) */
            if (param_text_append(a->base_text, sizeof a->base_text, o + 2, v) != 0)
                return cli_usage_error("compare", "too many parameter flags");
            i++;
        } else if (o[0] == '-') {
            return cli_usage_error("compare", "unknown or incomplete option '%s' (see sam2 compare --help)", o);
        } else if (a->input) {
            return cli_usage_error("compare", "one image at a time ('%s' and '%s' given)", a->input, o);
        } else {
            a->input = o;
        }
    }
    if (!a->input) return cli_usage_error("compare", "no image given (see sam2 compare --help)");
    if (a->n_sets == 0) return cli_usage_error("compare", "no --set given (see sam2 compare --help)");
    if (a->base_text[0] && param_set_parse(&a->base, "compare", a->base_text, 0) != 0) return 2;
    if (!a->output) a->output = "out/compare.png";
    return 0;
}

/* The parameters of set k: defaults, the common flags, the set. Checked. */
static int set_params(const compare_args *a, int k, amg_args *out, robust_args *rob) {
    amg_args_init(out);
    *rob = a->base_robust;
    if (a->base.n && param_set_apply(&a->base, out, NULL, "compare") != 0) return -1;
    if (param_set_apply(&a->sets[k], out, rob, "compare") != 0) return -1;
    if (sam2_amg_params_check(&out->p) != SAM2_OK) {
        char label[1024];
        param_set_label(&a->sets[k], label, sizeof label);
        cli_usage_error("compare", "set %d (%s): %s", k + 1, label, sam2_last_error());
        return -1;
    }
    return 0;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

/* Draws the page: the image and one captioned overlay per set. */
static int write_grid(const compare_args *a, const cli_image *img, sam2_amg_result **res, const double *secs,
                      const robust_report *report, double embed_secs, int n_shared) {
    const int n = a->n_sets + 1, W = img->img.width, H = img->img.height;
    grid_tile *tiles = calloc((size_t)n, sizeof *tiles);
    char **caps = calloc((size_t)n, sizeof *caps);
    uint8_t **pics = calloc((size_t)n, sizeof *pics);
    int rc = -1;
    if (!tiles || !caps || !pics) goto done;
    pics[0] = cli_image_rgb8(img, a->depth);
    caps[0] = malloc(256);
    if (!pics[0] || !caps[0]) goto done;
    if (n_shared) snprintf(caps[0], 256, "source %dx%d\nembedding %.2fs, shared by %d set%s", W, H, embed_secs,
                           n_shared, n_shared > 1 ? "s" : "");
    else snprintf(caps[0], 256, "source %dx%d", W, H);
    for (int k = 0; k < a->n_sets; k++) {
        char label[1024];
        param_set_label(&a->sets[k], label, sizeof label);
        double cov = 0, cov2 = 0;
        amg_coverage(res[k], &cov, &cov2);
        caps[k + 1] = malloc(1200);
        pics[k + 1] = grid_overlay(pics[0], res[k]);
        if (!caps[k + 1] || !pics[k + 1]) goto done;
        snprintf(caps[k + 1], 1200, "#%d %s\n%d masks, covered %.1f%%, %.2fs%s%s%s", k + 1, label, res[k]->n_masks,
                 100.0 * cov, secs[k], report[k].contrast ? ", contrast " : "",
                 report[k].contrast ? robust_contrast_name((sam2_contrast_mode)report[k].contrast) : "",
                 report[k].denoised ? ", denoised answers" : "");
    }
    for (int k = 0; k < n; k++) tiles[k] = (grid_tile){pics[k], W, H, caps[k]};
    uint8_t *page = NULL;
    int pw = 0, ph = 0;
    const int tw = a->tile_w ? a->tile_w : grid_default_tile_width(W);
    if (grid_render(tiles, n, a->cols, tw, &page, &pw, &ph) != 0) {
        fprintf(stderr, "sam2 compare: cannot lay out %d tiles of width %d (page too large or out of memory)\n", n, tw);
        goto done;
    }
    rc = cli_check_output(a->output, a->overwrite) != 0 || cli_write_png_rgb8(a->output, page, pw, ph) != 0 ? -1 : 0;
    if (rc == 0) fprintf(stderr, "wrote %s (%d x %d)\n", a->output, pw, ph);
    free(page);
done:
    for (int k = 0; k < n && caps; k++) free(caps[k]);
    for (int k = 0; k < n && pics; k++) free(pics[k]);
    free(tiles), free(caps), free(pics);
    return rc;
}

int cmd_compare(int argc, char **argv) {
    compare_args a;
    int r = parse_args(&a, argc, argv);
    int rc = r < 0 ? 0 : r;
    amg_args *params = NULL;
    robust_args *robust = NULL;
    sam2_amg_result **res = NULL;
    double *secs = NULL;
    robust_report *report = NULL;
    cli_image img = {0};
    sam2_model *m = NULL;
    sam2_ctx *ctx = NULL;
    if (r) goto done;
    rc = 2;
    params = calloc((size_t)a.n_sets, sizeof *params);
    robust = calloc((size_t)a.n_sets, sizeof *robust);
    res = calloc((size_t)a.n_sets, sizeof *res);
    secs = calloc((size_t)a.n_sets, sizeof *secs);
    report = calloc((size_t)a.n_sets, sizeof *report);
    if (!params || !robust || !res || !secs || !report) goto done;
    for (int k = 0; k < a.n_sets; k++) {
        int bad = set_params(&a, k, &params[k], &robust[k]);
        if (bad) {
            for (int j = 0; j <= k; j++) amg_args_free(&params[j]);
            free(params), params = NULL;
            goto done;
        }
    }
    rc = 1;
    if (cli_check_output(a.output, a.overwrite) != 0) goto done;
    if (cli_load_image("compare", a.input, &img) != 0) goto done;
    if (!(m = cli_load_model(&a.common))) goto done;
    cli_apply_threads(&a.common);
    if (cli_ctx_new("compare", &a.common, m, &ctx) != 0) goto done;
    sam2_status st = SAM2_OK;
    sam2_ctx_set_depth_mode(ctx, a.depth);

    /* sets without crops or --robust steps first, on one shared embedding;
     * then the others, which replace the embedding with their crops' or
     * their contrast-stretched or shrunk image's */
    double embed_secs = 0;
    int n_shared = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < a.n_sets; k++) {
            const int own = params[k].p.crop_n_layers > 0 || robust_args_any(&robust[k]);
            if (own != pass) continue;
            struct timespec t0;
            if (!own && n_shared++ == 0) {
                clock_gettime(CLOCK_MONOTONIC, &t0);
                st = sam2_set_image(ctx, &img.img);
                embed_secs = seconds_since(&t0);
                if (st != SAM2_OK) {
                    fprintf(stderr, "sam2 compare: %s: %s\n", a.input, sam2_last_error());
                    goto done;
                }
            }
            clock_gettime(CLOCK_MONOTONIC, &t0);
            st = robust_args_any(&robust[k])
                     ? robust_generate(ctx, &img.img, a.depth, &params[k].p, &robust[k], &res[k], &report[k])
                     : sam2_amg_generate(ctx, own ? &img.img : NULL, &params[k].p, &res[k]);
            secs[k] = seconds_since(&t0);
            if (st != SAM2_OK) {
                fprintf(stderr, "sam2 compare: set %d: %s\n", k + 1, sam2_last_error());
                goto done;
            }
            char label[1024];
            param_set_label(&a.sets[k], label, sizeof label);
            fprintf(stderr, "set %d (%s): %d masks in %.2f s%s%s%s\n", k + 1, label, res[k]->n_masks, secs[k],
                    report[k].contrast ? " (contrast " : "",
                    report[k].contrast ? robust_contrast_name((sam2_contrast_mode)report[k].contrast) : "",
                    report[k].denoised ? ", denoised answers)" : report[k].contrast ? ")" : "");
            char hint[512];
            amg_filters_hint(&res[k]->filters, &params[k].p, AMG_HINT_FLAGS, hint, sizeof hint);
            if (hint[0]) fprintf(stderr, "  hint: %s\n", hint);
        }
    if (write_grid(&a, &img, res, secs, report, embed_secs, n_shared) != 0) goto done;
    rc = 0;
done:
    for (int k = 0; k < a.n_sets; k++) {
        if (params) amg_args_free(&params[k]);
        if (res) sam2_amg_result_free(res[k]);
        param_set_free(&a.sets[k]);
    }
    param_set_free(&a.base);
    free(params), free(robust), free(res), free(secs), free(report);
    cli_image_free(&img);
    sam2_ctx_free(ctx);
    sam2_model_free(m);
    return rc;
}
