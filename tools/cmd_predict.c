/* cmd_predict.c - `sam2 predict`: masks for clicks, a box and/or a previous
 * mask, written as PNGs + JSON + an overlay. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_io.h"
#include "npy.h"
#include "overlay.h"

#define MAX_POINTS 256

typedef struct predict_args {
    cli_common common;
    const char *input, *outdir, *dump, *mask_input;
    float points[2 * MAX_POINTS];
    int labels[MAX_POINTS];
    int n_points;
    int has_box;
    float box[4];
    int multimask;
    float mask_threshold;
    int overwrite;
    sam2_depth_mode depth;
} predict_args;

static void usage(void) {
    printf("usage: sam2 predict [-m MODEL] [-c CONFIG] [-t N] [--precision f32|bf16] IMAGE|EMBEDDING\n"
           "                    [--point X,Y[,LABEL]]... [--box X0,Y0,X1,Y1]\n"
           "                    [--mask-input FILE.npy[:K]] [--multimask true|false]\n"
           "                    [--mask-threshold T] [-o OUTDIR] [--dump-npy DIR] [--overwrite]\n"
           "                    [--depth window|scale|official]\n"
           "Coordinates are pixels of the original image. LABEL is 1 (foreground, default)\n"
           "or 0 (background). --mask-input takes low-resolution logits (S/4 x S/4, e.g. one\n"
           "mask of an earlier low_res_masks.npy: FILE.npy:K picks mask K). --multimask\n"
           "(default true) returns 3 masks, else 1. Writes OUTDIR/mask_<k>.png (0/255),\n"
           "OUTDIR/predict.json (predicted IoU, object score, area, bbox per mask) and\n"
           "OUTDIR/overlay.png (default OUTDIR: out/predict). --dump-npy DIR writes\n"
           "low_res_masks.npy [1, C, S/4, S/4] and iou_predictions.npy [1, C].\n"
           "--depth: how 16-bit images become 8-bit for the model and the overlay (window,\n"
           "the default: the 0.5-99.5 percentile window; scale: x/257; official: as\n"
           "PIL.Image.convert(\"RGB\")).\n");
}

/* Parses "a,b[,c...]" into up to n floats; returns how many were read, -1 on junk. */
static int parse_floats(const char *s, float *v, int n) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    int k = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (k == n || !cli_parse_float(tok, &v[k])) return -1;
        k++;
    }
    return k;
}

static int parse_args(predict_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    cli_common_init(&a->common);
    a->multimask = 1;
    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(&a->common, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage();
            return -1;
        } else if (!strcmp(o, "--point") && v) {
            float p[3] = {0, 0, 1};
            int n = parse_floats(v, p, 3);
            if (n < 2 || (n == 3 && p[2] != 0 && p[2] != 1))
                return cli_usage_error("predict", "--point takes X,Y or X,Y,LABEL with LABEL 0 or 1, got '%s'", v);
            if (a->n_points == MAX_POINTS)
                return cli_usage_error("predict", "at most %d points", MAX_POINTS);
            a->points[2 * a->n_points] = p[0];
            a->points[2 * a->n_points + 1] = p[1];
            a->labels[a->n_points++] = (int)p[2];
            i++;
        } else if (!strcmp(o, "--box") && v) {
            if (parse_floats(v, a->box, 4) != 4)
                return cli_usage_error("predict", "--box takes X0,Y0,X1,Y1, got '%s'", v);
            a->has_box = 1;
            i++;
        } else if (!strcmp(o, "--mask-input") && v) {
            a->mask_input = v, i++;
        } else if (!strcmp(o, "--multimask") && v) {
            if (!cli_parse_bool(v, &a->multimask))
                return cli_usage_error("predict", "--multimask takes true or false, got '%s'", v);
            i++;
        } else if (!strcmp(o, "--mask-threshold") && v) {
            if (!cli_parse_float(v, &a->mask_threshold))
                return cli_usage_error("predict", "--mask-threshold takes a number, got '%s'", v);
            i++;
        } else if (!strcmp(o, "-o") && v) {
            a->outdir = v, i++;
        } else if (!strcmp(o, "--dump-npy") && v) {
            a->dump = v, i++;
        } else if (!strcmp(o, "--overwrite")) {
            a->overwrite = 1;
        } else if (!strcmp(o, "--depth") && v) {
            if (cli_parse_depth(v, &a->depth) != 0)
                return cli_usage_error("predict", "--depth takes 'window', 'scale' or 'official', got '%s'", v);
            i++;
        } else if (o[0] == '-') {
            return cli_usage_error("predict", "unknown or incomplete option '%s' (see sam2 predict --help)", o);
        } else if (!a->input) {
            a->input = o;
        } else {
            return cli_usage_error("predict", "more than one input given ('%s', '%s')", a->input, o);
        }
    }
    if (!a->input) return cli_usage_error("predict", "no image or embedding given (see sam2 predict --help)");
    if (!a->n_points && !a->has_box && !a->mask_input)
        return cli_usage_error("predict", "no prompt: give --point, --box and/or --mask-input");
    if (!a->outdir) a->outdir = "out/predict";
    return 0;
}

/* Loads --mask-input FILE.npy[:K] as (S/4, S/4) logits; malloc'd into *out. */
static int load_mask_input(const char *spec, int lowres, float **out) {
    char path[4096];
    snprintf(path, sizeof path, "%s", spec);
    int k = -1;
    char *colon = strrchr(path, ':');
    if (colon && cli_parse_int(colon + 1, &k)) {
        *colon = 0;
        if (k < 0) return cli_usage_error("predict", "--mask-input %s: mask index %d is negative", path, k);
    } else {
        k = -1; /* no index: a file of one mask */
    }
    npy_array a;
    sam2_status st = npy_read(path, &a);
    if (st != SAM2_OK) return cli_fail("predict", st);
    int64_t plane = (int64_t)lowres * lowres;
    int64_t count = a.ndim >= 2 && a.shape[a.ndim - 1] == lowres && a.shape[a.ndim - 2] == lowres
                        ? a.numel / plane : 0;
    int lead_ok = a.ndim == 2 || (a.ndim == 3 && a.shape[0] >= 1) ||
                  (a.ndim == 4 && a.shape[0] == 1);
    if (!count || !lead_ok) {
        npy_free(&a);
        return cli_usage_error("predict", "--mask-input %s: expected shape [1, %d, %d] or [1, C, %d, %d]",
                               path, lowres, lowres, lowres, lowres);
    }
    if (k < 0 && count > 1) {
        npy_free(&a);
        return cli_usage_error("predict", "--mask-input %s holds %lld masks: pick one with %s:K", path,
                               (long long)count, path);
    }
    if (k < 0) k = 0;
    if (k >= count) {
        npy_free(&a);
        return cli_usage_error("predict", "--mask-input %s: mask %d out of range (0..%lld)", path, k,
                               (long long)count - 1);
    }
    *out = malloc(sizeof(float) * plane);
    memcpy(*out, a.data + k * plane, sizeof(float) * plane);
    npy_free(&a);
    return 0;
}

/* Mask statistics for the JSON record: area and inclusive-extent bbox. */
static void mask_stats(const uint8_t *m, int w, int h, long *area, float bbox[4]) {
    int x0 = w, y0 = h, x1 = -1, y1 = -1;
    long n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (m[(long)y * w + x]) {
                n++;
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
    *area = n;
    if (!n) bbox[0] = bbox[1] = bbox[2] = bbox[3] = 0;
    else bbox[0] = (float)x0, bbox[1] = (float)y0, bbox[2] = (float)(x1 - x0), bbox[3] = (float)(y1 - y0);
}

static int write_outputs(const predict_args *a, const sam2_prediction *p, const cli_image *img,
                         int is_embedding) {
    if (cli_mkdirs(a->outdir) != 0) return cli_usage_error("predict", "cannot create directory '%s'", a->outdir);
    int w = p->width, h = p->height;
    char path[4096];
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, is_embedding ? "embedding" : "image", a->input);
    cJSON_AddNumberToObject(root, "width", w);
    cJSON_AddNumberToObject(root, "height", h);
    cJSON_AddNumberToObject(root, "object_score", p->object_score);
    cJSON *arr = cJSON_AddArrayToObject(root, "masks");
    uint8_t *png = malloc((size_t)w * h);
    uint8_t *rgb = is_embedding ? NULL : cli_image_rgb8(img, a->depth);
    int rc = 0;
    for (int k = 0; k < p->n_masks && rc == 0; k++) {
        const uint8_t *m = p->masks + (size_t)k * w * h;
        for (long i = 0; i < (long)w * h; i++) png[i] = m[i] ? 255 : 0;
        snprintf(path, sizeof path, "%s/mask_%d.png", a->outdir, k);
        if (cli_check_output(path, a->overwrite) != 0 || cli_write_png_gray8(path, png, w, h) != 0) {
            rc = 1;
            break;
        }
        long area;
        float bbox[4];
        mask_stats(m, w, h, &area, bbox);
        cJSON *r = cJSON_CreateObject();
        snprintf(path, sizeof path, "mask_%d.png", k);
        cJSON_AddStringToObject(r, "file", path);
        cJSON_AddNumberToObject(r, "predicted_iou", p->iou[k]);
        cJSON_AddNumberToObject(r, "area", (double)area);
        cJSON_AddItemToObject(r, "bbox", cJSON_CreateFloatArray(bbox, 4));
        cJSON_AddItemToArray(arr, r);
    }
    if (rc == 0 && rgb) {
        /* best mask (highest predicted IoU) drawn over the image with the prompts */
        int best = 0;
        for (int k = 1; k < p->n_masks; k++) if (p->iou[k] > p->iou[best]) best = k;
        uint8_t col[3];
        overlay_color(best, col);
        overlay_draw_mask(rgb, w, h, p->masks + (size_t)best * w * h, col);
        uint8_t boxcol[3] = {40, 120, 255};
        if (a->has_box) overlay_draw_box(rgb, w, h, a->box, boxcol);
        for (int i = 0; i < a->n_points; i++)
            overlay_draw_point(rgb, w, h, a->points[2 * i], a->points[2 * i + 1], a->labels[i]);
        snprintf(path, sizeof path, "%s/overlay.png", a->outdir);
        if (cli_check_output(path, a->overwrite) != 0 || cli_write_png_rgb8(path, rgb, w, h) != 0) rc = 1;
        cJSON_AddStringToObject(root, "overlay", "overlay.png");
        cJSON_AddNumberToObject(root, "overlay_mask", best);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/predict.json", a->outdir);
        if (cli_write_json("predict", path, root, 1, a->overwrite) != 0) rc = 1;
    }
    free(png);
    free(rgb);
    cJSON_Delete(root);
    if (rc == 0) fprintf(stderr, "wrote %d mask(s), predict.json and overlay to %s/\n", p->n_masks, a->outdir);
    return rc;
}

static int dump_npy(const predict_args *a, const sam2_prediction *p) {
    if (cli_mkdirs(a->dump) != 0) return cli_usage_error("predict", "cannot create directory '%s'", a->dump);
    char path[4096];
    snprintf(path, sizeof path, "%s/low_res_masks.npy", a->dump);
    if (cli_check_output(path, a->overwrite) != 0) return 1;
    int64_t s4[4] = {1, p->n_masks, p->low_res_size, p->low_res_size};
    sam2_status st = npy_write(path, p->low_res, 4, s4);
    if (st != SAM2_OK) return cli_fail("predict", st);
    snprintf(path, sizeof path, "%s/iou_predictions.npy", a->dump);
    if (cli_check_output(path, a->overwrite) != 0) return 1;
    int64_t s2[2] = {1, p->n_masks};
    st = npy_write(path, p->iou, 2, s2);
    if (st != SAM2_OK) return cli_fail("predict", st);
    return 0;
}

/* The model takes clicks and boxes anywhere, as the official predictor does,
 * but one outside the image is most often a mistake (x and y swapped, the
 * coordinates of a resized copy): say so, and go on. */
static void warn_outside(const predict_args *a, const sam2_ctx *ctx) {
    int w = 0, h = 0;
    sam2_ctx_image_size(ctx, &w, &h);
    for (int i = 0; i < a->n_points; i++) {
        const float x = a->points[2 * i], y = a->points[2 * i + 1];
        if (x < 0 || y < 0 || x > w || y > h)
            fprintf(stderr, "sam2 predict: warning: point (%g, %g) lies outside the %d x %d image\n", x, y, w, h);
    }
    if (a->has_box && (a->box[0] < 0 || a->box[1] < 0 || a->box[2] > w || a->box[3] > h))
        fprintf(stderr, "sam2 predict: warning: box (%g, %g, %g, %g) reaches outside the %d x %d image\n", a->box[0],
                a->box[1], a->box[2], a->box[3], w, h);
}

int cmd_predict(int argc, char **argv) {
    predict_args a;
    int r = parse_args(&a, argc, argv);
    if (r) return r < 0 ? 0 : r;
    int is_emb = cli_is_embedding_file(a.input);
    cli_image img = {0};
    if (!is_emb && cli_load_image("predict", a.input, &img) != 0) return 1;
    sam2_model *m = cli_load_model(&a.common);
    sam2_ctx *ctx = NULL;
    float *mask_in = NULL;
    sam2_prediction p = {0};
    int rc = 1;
    sam2_status st;
    if (!m) goto done;
    cli_apply_threads(&a.common);
    if (cli_ctx_new("predict", &a.common, m, &ctx) != 0) goto done;
    sam2_ctx_set_depth_mode(ctx, a.depth);
    st = is_emb ? sam2_embedding_load(ctx, a.input) : sam2_set_image(ctx, &img.img);
    if (st != SAM2_OK) { rc = cli_fail("predict", st); goto done; }
    warn_outside(&a, ctx);
    sam2_model_info info;
    sam2_model_get_info(m, &info);
    if (a.mask_input && (rc = load_mask_input(a.mask_input, info.image_size / 4, &mask_in)) != 0) goto done;
    rc = 1;
    sam2_prompt pr = sam2_prompt_default();
    pr.points = a.points;
    pr.labels = a.labels;
    pr.n_points = a.n_points;
    pr.has_box = a.has_box;
    memcpy(pr.box, a.box, sizeof pr.box);
    pr.mask_input = mask_in;
    pr.multimask = a.multimask;
    sam2_predict_params pp = sam2_predict_default_params();
    pp.mask_threshold = a.mask_threshold;
    if ((st = sam2_predict(ctx, &pr, &pp, &p)) != SAM2_OK) { rc = cli_fail("predict", st); goto done; }
    if (write_outputs(&a, &p, &img, is_emb) != 0) goto done;
    if (a.dump && dump_npy(&a, &p) != 0) goto done;
    rc = 0;
done:
    sam2_prediction_free(&p);
    free(mask_in);
    sam2_ctx_free(ctx);
    sam2_model_free(m);
    cli_image_free(&img);
    return rc;
}
