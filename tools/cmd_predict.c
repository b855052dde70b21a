/* cmd_predict.c - `sam2 predict`: masks for clicks, a box and/or a previous
 * mask, or for several boxes (one prompt each, one encoder run), written as
 * PNGs + JSON + an overlay. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_io.h"
#include "npy.h"
#include "overlay.h"

#define MAX_POINTS 256
#define MAX_BOXES 256

typedef struct predict_args {
    cli_common common;
    const char *input, *outdir, *dump, *mask_input;
    float points[2 * MAX_POINTS];
    int labels[MAX_POINTS];
    int n_points;
    float boxes[4 * MAX_BOXES];
    int n_boxes;
    int multimask;
    float mask_threshold;
    int overwrite;
    sam2_depth_mode depth;
} predict_args;

static void usage(void) {
    printf("usage: sam2 predict [-m MODEL] [-c CONFIG] [-t N] [--precision f32|bf16] IMAGE|EMBEDDING\n"
           "                    [--point X,Y[,LABEL]]... [--box X0,Y0,X1,Y1]...\n"
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
           "PIL.Image.convert(\"RGB\")).\n"
           "Several --box (without --point or --mask-input): each box is its own prompt on\n"
           "the one image embedding, as the official predictor's batched boxes; writes\n"
           "OUTDIR/mask_<box>_<k>.png, predict.json with a \"boxes\" list (box, object score,\n"
           "masks) and one overlay with every box's best mask; --dump-npy then writes\n"
           "[B, C, S/4, S/4] and [B, C].\n");
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
            if (a->n_boxes == MAX_BOXES) return cli_usage_error("predict", "at most %d boxes", MAX_BOXES);
            if (parse_floats(v, a->boxes + 4 * a->n_boxes, 4) != 4)
                return cli_usage_error("predict", "--box takes X0,Y0,X1,Y1, got '%s'", v);
            a->n_boxes++;
            i++;
        } else if (!strcmp(o, "--mask-input") && v) {
            if (a->mask_input)
                return cli_usage_error("predict", "one --mask-input per run ('%s' and '%s' given)", a->mask_input, v);
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
    if (!a->n_points && !a->n_boxes && !a->mask_input)
        return cli_usage_error("predict", "no prompt: give --point, --box and/or --mask-input");
    if (a->n_boxes > 1 && (a->n_points || a->mask_input))
        return cli_usage_error("predict", "%d boxes: each is a prompt of its own, so --point and --mask-input go "
                                          "with one --box only",
                               a->n_boxes);
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

/* One prediction's mask PNGs and JSON records into arr; b < 0: a single
 * prompt (mask_<k>.png), else box b's (mask_<b>_<k>.png). */
static int write_masks(const predict_args *a, const sam2_prediction *p, int b, uint8_t *png, cJSON *arr) {
    const int w = p->width, h = p->height;
    char name[64], path[4096];
    for (int k = 0; k < p->n_masks; k++) {
        const uint8_t *m = p->masks + (size_t)k * w * h;
        for (long i = 0; i < (long)w * h; i++) png[i] = m[i] ? 255 : 0;
        if (b < 0) snprintf(name, sizeof name, "mask_%d.png", k);
        else snprintf(name, sizeof name, "mask_%d_%d.png", b, k);
        snprintf(path, sizeof path, "%s/%s", a->outdir, name);
        if (cli_check_output(path, a->overwrite) != 0 || cli_write_png_gray8(path, png, w, h) != 0) return 1;
        long area;
        float bbox[4];
        mask_stats(m, w, h, &area, bbox);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "file", name);
        cJSON_AddNumberToObject(r, "predicted_iou", p->iou[k]);
        cJSON_AddNumberToObject(r, "area", (double)area);
        cJSON_AddItemToObject(r, "bbox", cJSON_CreateFloatArray(bbox, 4));
        cJSON_AddItemToArray(arr, r);
    }
    return 0;
}

/* The mask with the highest predicted IoU. */
static int best_mask(const sam2_prediction *p) {
    int best = 0;
    for (int k = 1; k < p->n_masks; k++)
        if (p->iou[k] > p->iou[best]) best = k;
    return best;
}

/* n predictions: one per box when there are several boxes, else one. */
static int write_outputs(const predict_args *a, const sam2_prediction *p, int n, const cli_image *img,
                         int is_embedding) {
    if (cli_mkdirs(a->outdir) != 0) return cli_usage_error("predict", "cannot create directory '%s'", a->outdir);
    const int w = p[0].width, h = p[0].height, several = a->n_boxes > 1;
    char path[4096];
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, is_embedding ? "embedding" : "image", a->input);
    cJSON_AddNumberToObject(root, "width", w);
    cJSON_AddNumberToObject(root, "height", h);
    cJSON *per_box = several ? cJSON_AddArrayToObject(root, "boxes") : NULL;
    uint8_t *png = malloc((size_t)w * h);
    uint8_t *rgb = is_embedding ? NULL : cli_image_rgb8(img, a->depth);
    int rc = png ? 0 : 1;
    for (int b = 0; b < n && rc == 0; b++) {
        cJSON *o = root;
        if (several) {
            o = cJSON_CreateObject();
            cJSON_AddItemToArray(per_box, o);
            cJSON_AddItemToObject(o, "box", cJSON_CreateFloatArray(a->boxes + 4 * b, 4));
        }
        cJSON_AddNumberToObject(o, "object_score", p[b].object_score);
        rc = write_masks(a, &p[b], several ? b : -1, png, cJSON_AddArrayToObject(o, "masks"));
        if (several) cJSON_AddNumberToObject(o, "overlay_mask", best_mask(&p[b]));
    }
    if (rc == 0 && rgb) {
        /* each prompt's best mask (highest predicted IoU) over the image, with the prompts */
        for (int b = 0; b < n; b++) {
            uint8_t col[3];
            overlay_color(several ? b : best_mask(&p[b]), col);
            overlay_draw_mask(rgb, w, h, p[b].masks + (size_t)best_mask(&p[b]) * w * h, col);
        }
        uint8_t boxcol[3] = {40, 120, 255};
        for (int b = 0; b < a->n_boxes; b++) overlay_draw_box(rgb, w, h, a->boxes + 4 * b, boxcol);
        for (int i = 0; i < a->n_points; i++)
            overlay_draw_point(rgb, w, h, a->points[2 * i], a->points[2 * i + 1], a->labels[i]);
        snprintf(path, sizeof path, "%s/overlay.png", a->outdir);
        if (cli_check_output(path, a->overwrite) != 0 || cli_write_png_rgb8(path, rgb, w, h) != 0) rc = 1;
        cJSON_AddStringToObject(root, "overlay", "overlay.png");
        if (!several) cJSON_AddNumberToObject(root, "overlay_mask", best_mask(&p[0]));
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/predict.json", a->outdir);
        if (cli_write_json("predict", path, root, 1, a->overwrite) != 0) rc = 1;
    }
    const int drew = rgb != NULL; /* an embedding has no pixels to draw on */
    free(png);
    free(rgb);
    cJSON_Delete(root);
    if (rc == 0)
        fprintf(stderr, "wrote %d mask(s)%s, predict.json%s to %s/\n", n * p[0].n_masks,
                several ? " (one set per box)" : "", drew ? " and overlay" : "", a->outdir);
    return rc;
}

/* Low-resolution logits [n, C, S/4, S/4] and predicted IoUs [n, C] of the
 * n predictions (n = 1: the official single-prompt shapes). */
static int dump_npy(const predict_args *a, const sam2_prediction *p, int n) {
    if (cli_mkdirs(a->dump) != 0) return cli_usage_error("predict", "cannot create directory '%s'", a->dump);
    const int C = p[0].n_masks, L = p[0].low_res_size;
    const size_t plane = (size_t)C * L * L;
    float *logits = malloc(sizeof(float) * plane * n), *iou = malloc(sizeof(float) * (size_t)C * n);
    int rc = logits && iou ? 0 : cli_usage_error("predict", "out of memory for %d low-resolution mask sets", n);
    for (int b = 0; rc == 0 && b < n; b++) {
        memcpy(logits + plane * b, p[b].low_res, sizeof(float) * plane);
        memcpy(iou + (size_t)C * b, p[b].iou, sizeof(float) * C);
    }
    char path[4096];
    const int64_t s4[4] = {n, C, L, L}, s2[2] = {n, C};
    const char *names[2] = {"low_res_masks.npy", "iou_predictions.npy"};
    for (int f = 0; f < 2 && rc == 0; f++) {
        snprintf(path, sizeof path, "%s/%s", a->dump, names[f]);
        if (cli_check_output(path, a->overwrite) != 0) rc = 1;
        sam2_status st = rc ? SAM2_OK : f == 0 ? npy_write(path, logits, 4, s4) : npy_write(path, iou, 2, s2);
        if (st != SAM2_OK) rc = cli_fail("predict", st);
    }
    free(logits);
    free(iou);
    return rc;
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
    for (int b = 0; b < a->n_boxes; b++) {
        const float *box = a->boxes + 4 * b;
        if (box[0] < 0 || box[1] < 0 || box[2] > w || box[3] > h)
            fprintf(stderr, "sam2 predict: warning: box (%g, %g, %g, %g) reaches outside the %d x %d image\n", box[0],
                    box[1], box[2], box[3], w, h);
    }
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
    const int n = a.n_boxes > 1 ? a.n_boxes : 1;
    sam2_prediction *p = calloc((size_t)n, sizeof *p);
    int rc = 1;
    sam2_status st;
    if (!m || !p) goto done;
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
    sam2_predict_params pp = sam2_predict_default_params();
    pp.mask_threshold = a.mask_threshold;
    for (int b = 0; b < n; b++) { /* one prompt, or one per box */
        sam2_prompt pr = sam2_prompt_default();
        pr.points = a.points;
        pr.labels = a.labels;
        pr.n_points = a.n_points;
        pr.has_box = a.n_boxes > 0;
        if (pr.has_box) memcpy(pr.box, a.boxes + 4 * b, sizeof pr.box);
        pr.mask_input = mask_in;
        pr.multimask = a.multimask;
        if ((st = sam2_predict(ctx, &pr, &pp, &p[b])) != SAM2_OK) {
            rc = cli_fail("predict", st);
            if (a.n_boxes > 1) fprintf(stderr, "sam2 predict: (box %d of %d)\n", b + 1, a.n_boxes);
            goto done;
        }
    }
    if (write_outputs(&a, p, n, &img, is_emb) != 0) goto done;
    if (a.dump && dump_npy(&a, p, n) != 0) goto done;
    rc = 0;
done:
    for (int b = 0; p && b < n; b++) sam2_prediction_free(&p[b]);
    free(p);
    free(mask_in);
    sam2_ctx_free(ctx);
    sam2_model_free(m);
    cli_image_free(&img);
    return rc;
}
