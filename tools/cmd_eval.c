/* cmd_eval.c - `sam2 eval BENCH_DIR [AMG flags]`: the automatic mask
 * generator over a benchmark of images with instance label maps (an
 * index.json as in shapes-dev), scored per variant: object recall at IoU 0.5
 * and 0.75, masks per image, object pixels under no mask, split objects,
 * time per image. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amg_args.h"
#include "cli.h"
#include "cli_options.h"
#include "cli_io.h"
#include "edge_map.h"
#include "eval_overlay.h"
#include "robust_args.h"
#include "truth_metrics.h"

#define EVAL_MAX_VARIANTS 16
#define EVAL_MAX_FILTERS 8

typedef struct eval_args {
    cli_common common;
    amg_args amg;
    robust_args robust;
    const char *dir, *json_path, *overlays;
    const char *only[EVAL_MAX_FILTERS];
    int n_only, limit, overwrite;
    sam2_depth_mode depth;
} eval_args;

/* Sums over the images of one variant. */
typedef struct variant_sum {
    const char *name; /* the index's own string (no copy to truncate), or "all" */
    int images;
    truth_counts c;
    double secs;
} variant_sum;

static void usage(void) {
    printf("usage: sam2 eval BENCH_DIR [-m MODEL] [-c CONFIG] [-t N] [--precision f32|bf16] [--<parameter> VALUE]...\n"
           "                 [--params F.json] [--variant NAME]... [--limit N] [--json FILE] [--overlays DIR]\n"
           "                 [--depth window|scale|official] [--overwrite]\n"
           "Runs the automatic mask generator on every image of BENCH_DIR/index.json\n"
           "({\"images\": [{\"id\", \"image\", \"labels\", \"variant\"}, ...]}, paths relative to\n"
           "BENCH_DIR, labels one-channel 8/16-bit instance maps, 0 = background) and prints\n"
           "per variant: object recall at IoU 0.5 and 0.75 (an object is found when its\n"
           "best-IoU mask reaches it), masks per image, the share of object pixels under no\n"
           "mask, the share of objects split (two or more masks each at least 80%% inside the\n"
           "object, covering at least 10%% of it, IoU below 0.75) and seconds per image;\n"
           "images without a variant are 'untagged', and 'all' is the total's row.\n"
           "--variant keeps only the named variants (repeatable); --limit N the first N\n"
           "images; --json FILE writes the parameters, the table and per-image counts,\n"
           "with each image's estimated pixel-noise sigma (noise_sigma: the median absolute\n"
           "deviation of the luminance's Laplacian, in grey levels) and per object its\n"
           "contrast (object_contrast: its median luminance against that of the pixels\n"
           "within 4 px around it, in grey levels) and its best mask's IoU (object_best_iou).\n"
           "--overlays DIR writes DIR/ID.png per image: its masks beside its objects, each\n"
           "green when a mask found it at IoU 0.75, yellow at 0.5 only, red when missed.\n"
           "AMG parameters as in 'sam2 auto --help'.\n\n");
    robust_args_print_help();
}

static int parse_args(eval_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    cli_common_init(&a->common);
    amg_args_init(&a->amg);
    robust_args_init(&a->robust);
    a->depth = SAM2_DEPTH_WINDOW;
    const cli_shared sh = {&a->common, &a->amg, &a->robust, &a->depth, &a->overwrite};
    if (cli_shared_load_params("eval", &sh, argc, argv) != 0) return 2;
    for (int i = 1; i < argc; i++) {
        const int r = cli_shared_option("eval", &sh, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage();
            return -1;
        } else if (!strcmp(o, "--json") && v) {
            a->json_path = v, i++;
        } else if (!strcmp(o, "--overlays") && v) {
            a->overlays = v, i++;
        } else if (!strcmp(o, "--variant") && v) {
            if (a->n_only == EVAL_MAX_FILTERS) return cli_usage_error("eval", "at most %d --variant", EVAL_MAX_FILTERS);
            a->only[a->n_only++] = v, i++;
        } else if (!strcmp(o, "--limit") && v) {
            if (!cli_parse_int(v, &a->limit) || a->limit < 1)
                return cli_usage_error("eval", "--limit takes a positive whole number, got '%s'", v);
            i++;
        } else if (o[0] == '-' || a->dir) {
            return cli_usage_error("eval", "unknown or incomplete option '%s' (see sam2 eval --help)", o);
        } else {
            a->dir = o;
        }
    }
    if (!a->dir) return cli_usage_error("eval", "no benchmark folder given (see sam2 eval --help)");
    if (sam2_amg_params_check(&a->amg.p) != SAM2_OK)
        return cli_usage_error("eval", "%s", sam2_last_error());
    amg_args_warn_work("eval", &a->amg.p);
    return 0;
}

static int wanted(const eval_args *a, const char *variant) {
    if (!a->n_only) return 1;
    for (int k = 0; k < a->n_only; k++)
        if (!strcmp(a->only[k], variant)) return 1;
    return 0;
}

static double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

/* DIR/NAME.png, with the slashes of NAME (an image path when the entry has
 * no id) made underscores: one flat folder. 0, or -1 when too long. */
static int overlay_path(const eval_args *a, const char *name, char *buf, size_t n) {
    const int k = snprintf(buf, n, "%s/", a->overlays);
    if (k < 0 || (size_t)k + strlen(name) + 5 > n) return -1;
    size_t at = (size_t)k;
    for (const char *p = name; *p; p++) buf[at++] = *p == '/' ? '_' : *p;
    memcpy(buf + at, ".png", 5);
    return 0;
}

/* Before any image runs: the overlays' folder exists and no overlay of an
 * image to be evaluated would replace a file unasked. */
static int overlays_ready(const eval_args *a, const cJSON *images) {
    if (cli_mkdirs(a->overlays) != 0) {
        fprintf(stderr, "sam2 eval: cannot create the folder '%s' for --overlays\n", a->overlays);
        return -1;
    }
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, images) {
        if (a->limit && n == a->limit) break;
        const cJSON *id = cJSON_GetObjectItem(e, "id"), *im = cJSON_GetObjectItem(e, "image");
        const cJSON *va = cJSON_GetObjectItem(e, "variant");
        if (!cJSON_IsString(im)) continue; /* the run itself says what is wrong */
        if (!wanted(a, cJSON_IsString(va) ? va->valuestring : "untagged")) continue;
        n++;
        char path[4096];
        if (overlay_path(a, cJSON_IsString(id) ? id->valuestring : im->valuestring, path, sizeof path) != 0) {
            fprintf(stderr, "sam2 eval: the overlay path of %s is too long\n", im->valuestring);
            return -1;
        }
        if (cli_check_output(path, a->overwrite) != 0) return -1;
    }
    return 0;
}

/* Writes the overlay page of one image. */
static int write_overlay(const eval_args *a, const cli_image *img, const truth_map *t, const sam2_amg_result *res,
                         const float *best, const char *name) {
    char path[4096];
    if (overlay_path(a, name, path, sizeof path) != 0 || cli_check_output(path, a->overwrite) != 0) return -1;
    uint8_t *rgb = cli_image_rgb8(img, a->depth), *page = NULL;
    int pw = 0, ph = 0, rc = -1;
    if (!rgb || eval_overlay_page(rgb, t, res, best, name, &page, &pw, &ph) != 0)
        fprintf(stderr, "sam2 eval: %s: out of memory drawing the overlay\n", name);
    else rc = cli_write_png_rgb8(path, page, pw, ph) != 0 ? -1 : 0;
    free(rgb), free(page);
    return rc;
}

static void print_row(const variant_sum *v) {
    const truth_counts *c = &v->c;
    printf("%-10s %6d %7d %9.3f %10.3f %9.2f %9.2f %9.3f %7.3f %8.3f\n", v->name, v->images, c->objects,
           ratio(c->found50, c->objects), ratio(c->found75, c->objects), ratio(c->masks, v->images),
           ratio(c->masks, c->objects), ratio((double)c->uncovered_px, (double)c->object_px),
           ratio(c->split, c->objects), ratio(v->secs, v->images));
}

static cJSON *row_json(const variant_sum *v) {
    const truth_counts *c = &v->c;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "images", v->images);
    cJSON_AddNumberToObject(o, "objects", c->objects);
    cJSON_AddNumberToObject(o, "recall50", ratio(c->found50, c->objects));
    cJSON_AddNumberToObject(o, "recall75", ratio(c->found75, c->objects));
    cJSON_AddNumberToObject(o, "masks_per_image", ratio(c->masks, v->images));
    cJSON_AddNumberToObject(o, "masks_per_object", ratio(c->masks, c->objects));
    cJSON_AddNumberToObject(o, "uncovered_object_pixels", ratio((double)c->uncovered_px, (double)c->object_px));
    cJSON_AddNumberToObject(o, "split_rate", ratio(c->split, c->objects));
    cJSON_AddNumberToObject(o, "seconds_per_image", ratio(v->secs, v->images));
    return o;
}

static void add_counts(truth_counts *s, const truth_counts *c) {
    s->objects += c->objects, s->found50 += c->found50, s->found75 += c->found75, s->split += c->split;
    s->object_px += c->object_px, s->uncovered_px += c->uncovered_px, s->masks += c->masks;
}

/* Runs and scores one index entry; adds it to its variant and to the
 * per-image JSON list. */
static int eval_image(const eval_args *a, sam2_ctx *ctx, const cJSON *e, variant_sum *vs, int *n_vs, cJSON *list) {
    const cJSON *id = cJSON_GetObjectItem(e, "id"), *im = cJSON_GetObjectItem(e, "image");
    const cJSON *lb = cJSON_GetObjectItem(e, "labels"), *va = cJSON_GetObjectItem(e, "variant");
    if (!cJSON_IsString(im) || !cJSON_IsString(lb)) {
        fprintf(stderr, "sam2 eval: %s/index.json: an entry lacks \"image\" or \"labels\"\n", a->dir);
        return -1;
    }
    /* a number or a list here would silently count the image as untagged */
    if ((va && !cJSON_IsString(va)) || (id && !cJSON_IsString(id))) {
        fprintf(stderr, "sam2 eval: %s/index.json: %s: \"id\" and \"variant\" must be strings\n", a->dir,
                im->valuestring);
        return -1;
    }
    /* "all" is the total's row and key: a variant of that name would be a
     * second row of the same name, and a second key of the JSON object */
    if (va && !strcmp(va->valuestring, "all")) {
        fprintf(stderr, "sam2 eval: %s/index.json: %s: the variant name \"all\" is taken by the total; rename it\n",
                a->dir, im->valuestring);
        return -1;
    }
    const char *variant = cJSON_IsString(va) ? va->valuestring : "untagged";
    const char *name = cJSON_IsString(id) ? id->valuestring : im->valuestring;
    if (!wanted(a, variant)) return 0;
    int k = 0;
    while (k < *n_vs && strcmp(vs[k].name, variant)) k++;
    if (k == *n_vs) {
        if (k == EVAL_MAX_VARIANTS) {
            fprintf(stderr, "sam2 eval: more than %d variants\n", EVAL_MAX_VARIANTS);
            return -1;
        }
        memset(&vs[k], 0, sizeof vs[k]);
        vs[k].name = variant;
        (*n_vs)++;
    }
    char ipath[4096], lpath[4096];
    snprintf(ipath, sizeof ipath, "%s/%s", a->dir, im->valuestring);
    snprintf(lpath, sizeof lpath, "%s/%s", a->dir, lb->valuestring);
    cli_image img;
    if (cli_load_image("eval", ipath, &img) != 0) return -1;
    truth_map t;
    sam2_amg_result *res = NULL;
    truth_counts c;
    int rc = -1;
    struct timespec t0, t1;
    float noise = 0; /* of the image as read: recall falls with it on low-contrast scenes */
    if (image_noise_sigma(&img.img, &noise) != SAM2_OK) {
        fprintf(stderr, "sam2 eval: %s: %s\n", ipath, sam2_last_error());
        cli_image_free(&img);
        return -1;
    }
    /* per object: how far it stands out, and its best mask's IoU */
    float *contrast = NULL, *best = NULL;
    int n_obj = 0;
    if (truth_map_load("eval", lpath, img.img.width, img.img.height, &t) == 0) {
        n_obj = t.n_obj;
        contrast = malloc(sizeof *contrast * ((size_t)n_obj + 1));
        best = malloc(sizeof *best * ((size_t)n_obj + 1));
        if (!contrast || !best || truth_map_contrast(&t, &img.img, contrast) != 0) {
            fprintf(stderr, "sam2 eval: %s: out of memory measuring the objects' contrast\n", ipath);
        } else {
            clock_gettime(CLOCK_MONOTONIC, &t0);
            sam2_status st = robust_generate(ctx, &img.img, a->depth, &a->amg.p, &a->robust, &res, NULL);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (st != SAM2_OK) fprintf(stderr, "sam2 eval: %s: %s\n", ipath, sam2_last_error());
            else if (truth_map_score(&t, res, &c, best) != 0)
                fprintf(stderr, "sam2 eval: %s: cannot score the masks\n", ipath);
            else if (!a->overlays || write_overlay(a, &img, &t, res, best, name) == 0) rc = 0;
        }
        truth_map_free(&t);
    }
    if (rc == 0) {
        const double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        vs[k].images++, vs[k].secs += secs;
        add_counts(&vs[k].c, &c);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", name);
        cJSON_AddStringToObject(o, "variant", variant);
        cJSON_AddNumberToObject(o, "objects", c.objects);
        cJSON_AddNumberToObject(o, "masks", c.masks);
        cJSON_AddNumberToObject(o, "found50", c.found50);
        cJSON_AddNumberToObject(o, "found75", c.found75);
        cJSON_AddNumberToObject(o, "split", c.split);
        cJSON_AddNumberToObject(o, "object_pixels", (double)c.object_px);
        cJSON_AddNumberToObject(o, "uncovered_object_pixels", (double)c.uncovered_px);
        cJSON_AddNumberToObject(o, "noise_sigma", noise);
        cJSON *oc = cJSON_AddArrayToObject(o, "object_contrast"), *ob = cJSON_AddArrayToObject(o, "object_best_iou");
        for (int j = 1; j <= n_obj; j++) {
            cJSON_AddItemToArray(oc, cJSON_CreateNumber(round(contrast[j] * 100.0) / 100.0));
            cJSON_AddItemToArray(ob, cJSON_CreateNumber(best[j]));
        }
        cJSON_AddNumberToObject(o, "seconds", secs);
        cJSON_AddItemToArray(list, o);
        fprintf(stderr, "%s (%s): %d objects, %d masks, found %d / %d at 0.5 / 0.75, %.2f s\n", name, variant,
                c.objects, c.masks, c.found50, c.found75, secs);
    }
    sam2_amg_result_free(res);
    cli_image_free(&img);
    free(contrast), free(best);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    eval_args a;
    int r = parse_args(&a, argc, argv);
    if (r) {
        amg_args_free(&a.amg);
        return r < 0 ? 0 : r;
    }
    int rc = 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/index.json", a.dir);
    cJSON *index = NULL, *out = NULL, *list = cJSON_CreateArray();
    sam2_model *m = NULL;
    sam2_ctx *ctx = NULL;
    variant_sum vs[EVAL_MAX_VARIANTS + 1];
    int n_vs = 0;
    if (a.json_path && cli_check_output(a.json_path, a.overwrite) != 0) goto done;
    if (!(index = cli_read_json("eval", path))) goto done;
    const cJSON *images = cJSON_GetObjectItem(index, "images");
    if (!cJSON_IsArray(images) || !cJSON_GetArraySize(images)) {
        fprintf(stderr, "sam2 eval: %s has no \"images\" list\n", path);
        goto done;
    }
    if (a.overlays && overlays_ready(&a, images) != 0) goto done;
    if (!(m = cli_load_model(&a.common))) goto done;
    cli_apply_threads(&a.common);
    if (cli_ctx_new("eval", &a.common, m, &ctx) != 0) goto done;
    sam2_ctx_set_depth_mode(ctx, a.depth);
    int done_n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, images) {
        if (a.limit && done_n == a.limit) break;
        const int before = list ? cJSON_GetArraySize(list) : 0;
        if (!list || eval_image(&a, ctx, e, vs, &n_vs, list) != 0) goto done;
        done_n += cJSON_GetArraySize(list) > before;
    }
    if (!n_vs) {
        fprintf(stderr, "sam2 eval: no image of %s matches the --variant filter\n", path);
        goto done;
    }
    variant_sum *all = &vs[n_vs];
    memset(all, 0, sizeof *all);
    all->name = "all";
    for (int k = 0; k < n_vs; k++) all->images += vs[k].images, all->secs += vs[k].secs, add_counts(&all->c, &vs[k].c);
    printf("%-10s %6s %7s %9s %10s %9s %9s %9s %7s %8s\n", "variant", "images", "objects", "recall50", "recall75",
           "masks/img", "masks/obj", "uncovered", "split", "s/image");
    for (int k = 0; k < n_vs; k++) print_row(&vs[k]);
    if (n_vs > 1) print_row(all);
    rc = 0;
    if (a.json_path) {
        out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "bench", a.dir);
        cJSON_AddItemToObject(out, "params", amg_args_to_json(&a.amg.p));
        cJSON_AddItemToObject(out, "robust", robust_args_to_json(&a.robust));
        cJSON *t = cJSON_AddObjectToObject(out, "variants");
        for (int k = 0; k <= n_vs; k++)
            if (k < n_vs || n_vs > 1) cJSON_AddItemToObject(t, vs[k].name, row_json(&vs[k]));
        cJSON_AddItemToObject(out, "images", list);
        list = NULL;
        if (cli_write_json("eval", a.json_path, out, 1, a.overwrite) != 0) rc = 1;
    }
done:
    cJSON_Delete(index);
    cJSON_Delete(out);
    cJSON_Delete(list);
    sam2_ctx_free(ctx);
    sam2_model_free(m);
    amg_args_free(&a.amg);
    return rc;
}
