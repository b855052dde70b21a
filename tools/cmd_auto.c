/* cmd_auto.c - `sam2 auto`: the automatic mask generator on one image, with
 * records in the official format (JSON, RLE, COCO RLE or PNG masks). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "amg_args.h"
#include "cli_progress.h"
#include "amg_filters.h"
#include "amg_outputs.h"
#include "cli.h"
#include "cli_options.h"
#include "cli_io.h"
#include "robust_args.h"

typedef struct auto_args {
    cli_common common;
    amg_args amg;
    robust_args robust;
    robust_report report;     /* what --robust did to the last image */
    const char *input, *outdir, *json_path;
    const char **inputs;      /* every positional argument (files or folders) */
    int n_inputs;
    const char *overlay, *label_map, *coco; /* optional extra outputs */
    int overwrite;
    sam2_depth_mode depth;
    cli_progress_mode progress;
} auto_args;

static void usage(void) {
    printf("usage: sam2 auto [-m MODEL] [-c CONFIG] [-t N] [--precision f32|bf16] IMAGE|EMBEDDING|FOLDER... [--<parameter> VALUE]...\n"
           "                 [--params FILE.json] [--output-mode MODE] [--json FILE] [-o OUTDIR]\n"
           "                 [--depth window|scale|official] [--overwrite]\n"
           "Runs the automatic mask generator: a grid of clicks, the decoder on each, filters\n"
           "by predicted IoU and stability, NMS, optional crop layers. --params reads a JSON\n"
           "object of official snake_case names; flags given on the command line override it.\n"
           "--json FILE writes {\"image\", \"params\", \"filters\", \"masks\": [records]}\n"
           "(default OUTDIR/masks.json); binary_mask mode writes one PNG per mask into OUTDIR\n"
           "(default out/auto) and names it in the record's segmentation. An embedding file\n"
           "from 'sam2 embed' replaces the image when crop_n_layers is 0. --overlay,\n"
           "--label-map and --coco FILE add a picture with every mask drawn, a 16-bit label\n"
           "image and a COCO instances file. After the run a line counts the candidates each\n"
           "filter let through (\"filters\" in the JSON), with the highest predicted IoU and\n"
           "stability reached; when no mask passes, a hint names the setting to lower.\n\n"
           "Several images or folders: each image gets OUTDIR/<name>/ with masks.json,\n"
           "overlay.png, labels.png and coco.json; a progress line on stderr; images whose\n"
           "masks.json exists are skipped (resume) unless --overwrite; an image that fails\n"
           "is reported and the rest go on (exit status 1 at the end). Two images of one\n"
           "name (a/x.png and b/x.png, x.png and x.jpg) are refused before any work.\n\n"
           "--progress auto|on|off: the clicks decoded so far on stderr (auto, the default:\n"
           "on a terminal, for runs of 4096 clicks or more or with crop layers).\n\n");
    amg_args_print_help();
    printf("\n");
    robust_args_print_help();
}

static int parse_args(auto_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->progress = CLI_PROGRESS_AUTO;
    cli_common_init(&a->common);
    amg_args_init(&a->amg);
    robust_args_init(&a->robust);
    a->inputs = calloc((size_t)argc, sizeof *a->inputs);
    if (!a->inputs) return cli_usage_error("auto", "out of memory");
    const cli_shared sh = {&a->common, &a->amg, &a->robust, &a->depth, &a->overwrite};
    if (cli_shared_load_params("auto", &sh, argc, argv) != 0) return 2;
    for (int i = 1; i < argc; i++) {
        const int r = cli_shared_option("auto", &sh, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage();
            return -1;
        } else if (!strcmp(o, "--json") && v) {
            a->json_path = v, i++;
        } else if (!strcmp(o, "-o") && v) {
            a->outdir = v, i++;
        } else if (!strcmp(o, "--overlay") && v) {
            a->overlay = v, i++;
        } else if (!strcmp(o, "--label-map") && v) {
            a->label_map = v, i++;
        } else if (!strcmp(o, "--coco") && v) {
            a->coco = v, i++;
        } else if (!strcmp(o, "--progress") && v) {
            if (cli_progress_parse(v, &a->progress) != 0)
                return cli_usage_error("auto", "--progress takes auto, on or off, got '%s'", v);
            i++;
        } else if (o[0] == '-') {
            return cli_usage_error("auto", "unknown or incomplete option '%s' (see sam2 auto --help)", o);
        } else {
            if (!a->input) a->input = o;
            a->inputs[a->n_inputs++] = o;
        }
    }
    if (!a->input) return cli_usage_error("auto", "no image given (see sam2 auto --help)");
    if (a->amg.points_per_side_set && a->amg.p.point_grids)
        return cli_usage_error("auto", "give either points_per_side or point_grids, not both");
    sam2_status st = sam2_amg_params_check(&a->amg.p);
    if (st != SAM2_OK) return cli_usage_error("auto", "%s", sam2_last_error());
    amg_args_warn_work("auto", &a->amg.p);
    if (!a->outdir) a->outdir = "out/auto";
    return 0;
}

/* The counts as JSON text, "[c0,c1,...]": one raw value instead of a cJSON
 * number per count (a large noisy mask has millions of runs; as nodes they
 * took gigabytes and most of the writing time). Same text as cJSON prints
 * for integers; run lengths are never negative. */
static char *counts_text(const int64_t *c, int n) {
    char *s = malloc((size_t)n * 21 + 3), *p = s;
    if (!s) return NULL;
    *p++ = '[';
    for (int i = 0; i < n; i++) {
        if (i) *p++ = ',';
        char digits[24];
        int k = 0;
        uint64_t v = (uint64_t)c[i];
        do digits[k++] = (char)('0' + v % 10), v /= 10;
        while (v);
        while (k) *p++ = digits[--k];
    }
    *p++ = ']', *p = '\0';
    return s;
}

/* The record's segmentation in the chosen output mode. */
static cJSON *segmentation_json(const sam2_amg_result *r, const sam2_amg_mask *m, int index,
                                const auto_args *a, int *err) {
    cJSON *size = cJSON_CreateArray();
    cJSON_AddItemToArray(size, cJSON_CreateNumber(r->height));
    cJSON_AddItemToArray(size, cJSON_CreateNumber(r->width));
    if (a->amg.p.output_mode == SAM2_OUTPUT_UNCOMPRESSED_RLE) {
        char *text = counts_text(m->counts, m->n_counts);
        cJSON *counts = text ? cJSON_CreateRaw(text) : NULL;
        free(text);
        if (!counts) {
            cJSON_Delete(size);
            fprintf(stderr, "sam2 auto: out of memory writing %d RLE counts\n", m->n_counts);
            *err = 1;
            return NULL;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "size", size);
        cJSON_AddItemToObject(o, "counts", counts);
        return o;
    }
    if (a->amg.p.output_mode == SAM2_OUTPUT_COCO_RLE) {
        char *s = NULL;
        if (sam2_rle_to_coco_string(m->counts, m->n_counts, &s) != SAM2_OK) {
            cJSON_Delete(size);
            *err = cli_fail("auto", SAM2_ERR_PARAM);
            return NULL;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "size", size);
        cJSON_AddStringToObject(o, "counts", s);
        free(s);
        return o;
    }
    cJSON_Delete(size);
    char name[64], path[4096];
    snprintf(name, sizeof name, "mask_%04d.png", index);
    snprintf(path, sizeof path, "%s/%s", a->outdir, name);
    uint8_t *mask = malloc((size_t)r->width * r->height);
    if (!mask || sam2_rle_decode(m->counts, m->n_counts, r->height, r->width, mask) != SAM2_OK) {
        free(mask);
        *err = cli_fail("auto", SAM2_ERR_FORMAT);
        return NULL;
    }
    for (long i = 0; i < (long)r->width * r->height; i++) mask[i] = mask[i] ? 255 : 0;
    if (cli_check_output(path, a->overwrite) != 0 || cli_write_png_gray8(path, mask, r->width, r->height) != 0)
        *err = 1;
    free(mask);
    return *err ? NULL : cJSON_CreateString(name);
}

static cJSON *records_json(const sam2_amg_result *r, const auto_args *a, int *err) {
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < r->n_masks && !*err; i++) {
        const sam2_amg_mask *m = &r->masks[i];
        cJSON *o = cJSON_CreateObject();
        cJSON *seg = segmentation_json(r, m, i, a, err);
        if (!seg) {
            cJSON_Delete(o);
            break;
        }
        cJSON_AddItemToObject(o, "segmentation", seg);
        cJSON_AddNumberToObject(o, "area", (double)m->area);
        cJSON_AddItemToObject(o, "bbox", cJSON_CreateFloatArray(m->bbox, 4));
        cJSON_AddNumberToObject(o, "predicted_iou", m->predicted_iou);
        cJSON *pc = cJSON_AddArrayToObject(o, "point_coords");
        cJSON_AddItemToArray(pc, cJSON_CreateFloatArray(m->point, 2));
        cJSON_AddNumberToObject(o, "stability_score", m->stability_score);
        cJSON_AddItemToObject(o, "crop_box", cJSON_CreateFloatArray(m->crop_box, 4));
        if (m->source == SAM2_MASK_GAP_FILL) cJSON_AddStringToObject(o, "source", "gap_fill");
        if (m->source == SAM2_MASK_MERGED) cJSON_AddStringToObject(o, "source", "merged");
        if (m->source == SAM2_MASK_CONSENSUS) cJSON_AddStringToObject(o, "source", "consensus");
        if (m->picked_level > 0) cJSON_AddNumberToObject(o, "picked_level", round(m->picked_level * 100.0) / 100.0);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}


/* Everything one image produces: records JSON, optional overlay, label map
 * and COCO file. json_path is written last so that its presence means the
 * image is complete (what --resume relies on). */
static int write_image_outputs(const auto_args *a, const cli_image *img, const sam2_amg_result *res,
                               const char *json_path, const char *overlay, const char *labels,
                               const char *coco) {
    if (cli_mkdirs(a->outdir) != 0) return cli_usage_error("auto", "cannot create directory '%s'", a->outdir);
    if (overlay) {
        uint8_t *rgb = cli_image_rgb8(img, a->depth);
        int rc = !rgb || amg_draw_overlay(res, rgb) != 0 || cli_check_output(overlay, a->overwrite) != 0 ||
                 cli_write_png_rgb8(overlay, rgb, res->width, res->height) != 0;
        free(rgb);
        if (rc) return -1;
    }
    if (labels) {
        uint16_t *lm = amg_label_map(res);
        int rc = !lm || cli_check_output(labels, a->overwrite) != 0 ||
                 cli_write_png_gray16(labels, lm, res->width, res->height) != 0;
        free(lm);
        if (rc) return -1;
    }
    if (coco) {
        const char *base = strrchr(a->input, '/');
        cJSON *cj = amg_coco_json(res, base ? base + 1 : a->input);
        int rc = !cj || cli_write_json("auto", coco, cj, 0, a->overwrite) != 0;
        cJSON_Delete(cj);
        if (rc) return -1;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *im = cJSON_AddObjectToObject(root, "image");
    cJSON_AddStringToObject(im, "file", a->input);
    cJSON_AddNumberToObject(im, "width", res->width);
    cJSON_AddNumberToObject(im, "height", res->height);
    cJSON_AddItemToObject(root, "params", amg_args_to_json(&a->amg.p));
    cJSON_AddItemToObject(root, "filters", amg_filters_json(&res->filters));
    if (robust_args_any(&a->robust)) {
        cJSON_AddItemToObject(root, "robust", robust_args_to_json(&a->robust));
        cJSON *pre = cJSON_AddObjectToObject(root, "preprocessing");
        cJSON_AddStringToObject(pre, "contrast",
                                a->report.contrast ? robust_contrast_name((sam2_contrast_mode)a->report.contrast) : "none");
        cJSON_AddBoolToObject(pre, "denoised_answers", a->report.denoised);
    }
    int err = 0;
    cJSON_AddItemToObject(root, "masks", records_json(res, a, &err));
    int rc = err ? -1 : cli_write_json("auto", json_path, root, 0, a->overwrite);
    cJSON_Delete(root);
    return rc;
}

/* Runs the generator on one input and writes its outputs. 0 on success. */
static int run_one(auto_args *a, sam2_ctx *ctx, const char *json_path, const char *overlay,
                   const char *labels, const char *coco, int report, int *n_masks, double *secs) {
    cli_image img = {0};
    sam2_amg_result *res = NULL;
    int rc = -1;
    /* an embedding file stands for the whole image (no crop layers) */
    int is_emb = cli_is_embedding_file(a->input);
    if (is_emb) {
        sam2_status es = sam2_embedding_load(ctx, a->input);
        if (es != SAM2_OK) return fprintf(stderr, "sam2 auto: %s\n", sam2_last_error()), -1;
        if (overlay) {
            fprintf(stderr, "sam2 auto: %s: an embedding holds no pixels to draw an overlay on; give the image\n", a->input);
            return -1;
        }
    } else if (cli_load_image("auto", a->input, &img) != 0) {
        return -1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sam2_status st = robust_generate(ctx, is_emb ? NULL : &img.img, a->depth, &a->amg.p, &a->robust, &res,
                                     &a->report);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (st != SAM2_OK) {
        fprintf(stderr, "sam2 auto: %s: %s\n", a->input, sam2_last_error());
    } else if (write_image_outputs(a, &img, res, json_path, overlay, labels, coco) == 0) {
        *n_masks = res->n_masks;
        rc = 0;
    }
    if (rc == 0 && report) { /* what to change when too few (or too many) masks come out */
        char line[512], hint[512];
        amg_filters_line(&res->filters, &a->amg.p, line, sizeof line);
        amg_filters_hint(&res->filters, &a->amg.p, AMG_HINT_FLAGS, hint, sizeof hint);
        const int steps = a->robust.consensus || a->robust.gap_fill || a->robust.merge || a->robust.dedup;
        fprintf(stderr, "%d masks in %.2f s; wrote %s\nfilters%s: %s\n", res->n_masks, *secs, json_path,
                steps ? " (the generator's pass, before the --robust steps)" : "", line);
        if (hint[0]) fprintf(stderr, "hint: %s\n", hint);
    }
    sam2_amg_result_free(res);
    cli_image_free(&img);
    return rc;
}

/* ---------------------------------------------------------- many images */

static int has_image_extension(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    const char *ext[] = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".PNG", ".JPG", ".JPEG", ".TIF", ".TIFF", ".WEBP"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (!strcmp(dot, ext[i])) return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Appends s (taken over; NULL: out of memory) to the list; -1 on failure. */
static int push_path(char ***v, int *n, int *cap, char *s) {
    if (s && *n == *cap) {
        char **g = realloc(*v, sizeof *g * (size_t)(*cap * 2));
        if (g) *v = g, *cap *= 2;
    }
    if (!s || *n == *cap) {
        free(s);
        return -1;
    }
    (*v)[(*n)++] = s;
    return 0;
}

/* Expands the positional arguments: files as given, folders to their image
 * files in name order. *out is malloc'd (strings too); -1 when out of memory. */
static int expand_inputs(const auto_args *a, char ***out, int *n_out) {
    int n = 0, cap = 16, rc = 0;
    char **v = malloc(sizeof *v * (size_t)cap);
    if (!v) return -1;
    for (int i = 0; rc == 0 && i < a->n_inputs; i++) {
        struct stat st;
        DIR *d = stat(a->inputs[i], &st) == 0 && S_ISDIR(st.st_mode) ? opendir(a->inputs[i]) : NULL;
        const int first = n;
        for (struct dirent *e = d ? readdir(d) : NULL; e && rc == 0; e = readdir(d)) {
            if (e->d_name[0] == '.' || !has_image_extension(e->d_name)) continue;
            const size_t len = strlen(a->inputs[i]) + strlen(e->d_name) + 2;
            char *path = malloc(len);
            if (path) snprintf(path, len, "%s/%s", a->inputs[i], e->d_name);
            rc = push_path(&v, &n, &cap, path);
        }
        if (d) {
            closedir(d);
            if (n - first > 1) qsort(v + first, (size_t)(n - first), sizeof *v, cmp_str);
            continue;
        }
        rc = push_path(&v, &n, &cap, strdup(a->inputs[i]));
    }
    if (rc != 0) {
        for (int k = 0; k < n; k++) free(v[k]);
        free(v);
        return -1;
    }
    *out = v, *n_out = n;
    return 0;
}

/* The per-image output folder: OUTDIR/<file name without extension>. */
static void image_outdir(const char *outdir, const char *path, char *buf, size_t n) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char stem[1024];
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = 0;
    snprintf(buf, n, "%s/%s", outdir, stem);
}

typedef struct named_input {
    char stem[1024]; /* the output folder's name */
    int index;       /* in the input list */
} named_input;

static int cmp_named(const void *a, const void *b) {
    const named_input *x = a, *y = b;
    int c = strcmp(x->stem, y->stem);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Two inputs of one name stem (a/x.png and b/x.png, or x.png and x.jpg)
 * would share OUTDIR/x: the second would be skipped as already complete,
 * or would overwrite the first. Such a list is refused before any work;
 * 0 when every image has a folder of its own, else -1 (message printed). */
static int check_distinct_outdirs(char **files, int n, const char *outdir) {
    named_input *v = malloc(sizeof *v * (size_t)n);
    if (!v) return cli_usage_error("auto", "out of memory"), -1;
    for (int i = 0; i < n; i++) {
        char dir[4096];
        image_outdir("", files[i], dir, sizeof dir);
        snprintf(v[i].stem, sizeof v[i].stem, "%s", dir + 1); /* without the leading '/' */
        v[i].index = i;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_named);
    int rc = 0;
    for (int i = 1; i < n && rc == 0; i++)
        if (!strcmp(v[i - 1].stem, v[i].stem)) {
            cli_usage_error("auto", "%s and %s would both write %s/%s/: give the images distinct names",
                            files[v[i - 1].index], files[v[i].index], outdir, v[i].stem);
            rc = -1;
        }
    free(v);
    return rc;
}

static void progress(int done, int total, int failed, long masks, double elapsed, const char *name, int tty) {
    double rate = elapsed > 0 ? done / elapsed : 0, eta = rate > 0 ? (total - done) / rate : 0;
    if (tty) {
        int width = 30, fill = total ? done * width / total : width;
        fprintf(stderr, "\r[%.*s%*s] %d/%d images, %ld masks, %d failed, %.2f img/s, ETA %.0f s ", fill,
                "##############################", width - fill, "", done, total, masks, failed, rate, eta);
        if (done == total) fputc('\n', stderr);
    } else {
        const char *base = strrchr(name, '/');
        name = base ? base + 1 : name;
        fprintf(stderr, "%d/%d %s: %ld masks so far, %d failed, %.2f img/s, ETA %.0f s\n", done, total, name, masks,
                failed, rate, eta);
    }
}

/* Batch mode: every image into its own folder, with resume and a summary. */
static int run_many(auto_args *a, sam2_ctx *ctx) {
    char **files = NULL;
    int n = 0;
    if (expand_inputs(a, &files, &n) != 0) return cli_usage_error("auto", "out of memory");
    if (n == 0) {
        free(files);
        return cli_usage_error("auto", "no images found in the given folders");
    }
    const char *outdir = a->outdir;
    if (check_distinct_outdirs(files, n, outdir) != 0) {
        for (int i = 0; i < n; i++) free(files[i]);
        free(files);
        return 2;
    }
    int failed = 0, skipped = 0, tty = isatty(2);
    long masks = 0;
    char **failures = calloc((size_t)n, sizeof *failures);
    char **empty = calloc((size_t)n, sizeof *empty); /* done with no mask */
    int n_empty = 0;
    if (!failures || !empty) {
        fprintf(stderr, "sam2 auto: out of memory for the list of %d images\n", n);
        for (int i = 0; i < n; i++) free(files[i]);
        free(files), free(failures), free(empty);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        char dir[4096], json[4200], ov[4200], lab[4200], coco[4200];
        image_outdir(outdir, files[i], dir, sizeof dir);
        snprintf(json, sizeof json, "%s/masks.json", dir);
        snprintf(ov, sizeof ov, "%s/overlay.png", dir);
        snprintf(lab, sizeof lab, "%s/labels.png", dir);
        snprintf(coco, sizeof coco, "%s/coco.json", dir);
        struct stat st;
        int n_masks = 0;
        double secs = 0;
        if (!a->overwrite && stat(json, &st) == 0) {
            skipped++;
        } else {
            a->input = files[i];
            a->outdir = dir;
            int saved = a->overwrite;
            a->overwrite = 1; /* within an image's own folder, an unfinished earlier run is replaced */
            if (run_one(a, ctx, json, ov, lab, coco, 0, &n_masks, &secs) != 0) {
                failures[failed++] = files[i];
            } else {
                masks += n_masks;
                if (n_masks == 0) empty[n_empty++] = files[i];
            }
            a->overwrite = saved;
            a->outdir = outdir;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        progress(i + 1, n, failed, masks, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9, files[i], tty);
    }
    fprintf(stderr, "%d images: %d done, %d skipped (already complete), %d failed; %ld masks; outputs in %s/\n", n,
            n - skipped - failed, skipped, failed, masks, outdir);
    for (int i = 0; i < failed; i++) fprintf(stderr, "  failed: %s\n", failures[i]);
    for (int i = 0; i < n_empty && i < 10; i++)
        fprintf(stderr, "  no mask: %s (\"filters\" in its masks.json: which filter stopped every candidate)\n",
                empty[i]);
    if (n_empty > 10) fprintf(stderr, "  no mask: %d more images\n", n_empty - 10);
    for (int i = 0; i < n; i++) free(files[i]);
    free(files);
    free(failures);
    free(empty);
    return failed ? 1 : 0;
}

int cmd_auto(int argc, char **argv) {
    auto_args a;
    int r = parse_args(&a, argc, argv);
    if (r) {
        amg_args_free(&a.amg);
        free(a.inputs);
        return r < 0 ? 0 : r;
    }
    char json_default[4096];
    if (!a.json_path) {
        snprintf(json_default, sizeof json_default, "%s/masks.json", a.outdir);
        a.json_path = json_default;
    }
    sam2_model *m = NULL;
    sam2_ctx *ctx = NULL;
    int rc = 1, n_masks = 0;
    double secs = 0;
    struct stat st0;
    int many = a.n_inputs > 1 || (stat(a.input, &st0) == 0 && S_ISDIR(st0.st_mode));
    if (!many && cli_check_output(a.json_path, a.overwrite) != 0) goto done;
    if (!(m = cli_load_model(&a.common))) goto done;
    cli_apply_threads(&a.common);
    if (cli_ctx_new("auto", &a.common, m, &ctx) != 0) goto done;
    sam2_ctx_set_depth_mode(ctx, a.depth);
    cli_progress progress;
    cli_progress_attach(&progress, "auto", a.progress, &a.amg.p, ctx);
    if (many) {
        rc = run_many(&a, ctx);
        goto done;
    }
    if (run_one(&a, ctx, a.json_path, a.overlay, a.label_map, a.coco, 1, &n_masks, &secs) != 0) goto done;
    rc = 0;
done:
    sam2_ctx_free(ctx);
    sam2_model_free(m);
    amg_args_free(&a.amg);
    free(a.inputs);
    return rc;
}
