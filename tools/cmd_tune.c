/* cmd_tune.c - `sam2 tune`: sweeps a grid of AMG parameters on one image,
 * scores every setting (coverage, overlaps, predicted IoU; object recall and
 * splits against a ground-truth label image) and names the best. Settings
 * that share their decoder-shaping parameters share one decoding: the
 * encoder and decoder run once per group (sam2_amg_candidates_new), every
 * setting of the group only re-filters (sam2_amg_from_candidates). */
#include <cjson/cJSON.h>
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
#include "image_io.h"
#include "param_sets.h"
#include "score_grid.h"
#include "truth_metrics.h"

#define TUNE_DEFAULT_GRID "pred-iou-thresh=0.6,0.7,0.8,0.88;stability-score-thresh=0.85,0.9,0.95"

typedef enum { OBJ_RECALL75, OBJ_RECALL50, OBJ_COVERAGE, OBJ_MEAN_IOU } objective;
static const char *const objective_names[] = {"recall75", "recall50", "coverage", "mean-iou"};

typedef struct tune_args {
    cli_common common;
    const char *input, *truth, *grid_text, *output, *json_path, *best_path;
    param_grid grid;
    param_set base;
    char base_text[4096];
    int objective, overwrite, top, tile_w, max_cache_mb;
    int score_grid;       /* default grid: add settings drawn from the candidates' scores */
    char score_text[256]; /* those settings as a --grid text ("" when none) */
    sam2_depth_mode depth;
} tune_args;

/* Settings the drawn grid adds at most (3 x 3). */
#define SCORE_GRID_MAX 9

/* What one setting produced. */
typedef struct setting {
    amg_args amg;
    char label[1024];
    int group;
    sam2_amg_result *res;
    double secs, covered, twice, mean_iou, score;
    double recall50, recall75;
    int split;
} setting;


static void usage(void) {
    printf("usage: sam2 tune IMAGE [--grid \"NAME=V1,V2;NAME=V1,V2\"] [--truth LABELS.png]\n"
           "                 [--objective recall75|recall50|coverage|mean-iou] [--top N] [-o GRID.png]\n"
           "                 [--json FILE] [--best-params FILE] [--<parameter> VALUE]... [--max-cache-mb N]\n"
           "                 [--overwrite]\n"
           "                 [-m MODEL] [-c CONFIG] [-t N] [--precision f32|bf16] [--depth window|scale|official]\n"
           "Runs the automatic mask generator for every setting of the grid (the cartesian\n"
           "product of its axes; default \"" TUNE_DEFAULT_GRID "\")\n"
           "and prints one line per setting: masks, fraction of pixels covered, fraction\n"
           "covered twice or more, mean predicted IoU, time. With --truth (an 8- or 16-bit\n"
           "instance label PNG of the image's size, 0 = background) also object recall at\n"
           "IoU 0.5 and 0.75 (each object matched to its best-IoU mask) and split objects\n"
           "(objects with >= 2 masks each >= 80%% inside the object, covering >= 10%% of it,\n"
           "with IoU < 0.75).\n"
           "Objectives (higher is better, ties go to the earlier setting): recall75 (default\n"
           "with --truth), recall50, coverage (covered minus covered twice; default without\n"
           "truth), mean-iou. -o writes the image and the top N (default 4) settings side by\n"
           "side; --json writes every figure. --best-params writes the best setting's\n"
           "parameters (official snake_case names) for 'sam2 auto --params FILE'.\n"
           "Settings that differ only in post-decoder parameters (pred_iou_thresh,\n"
           "stability_score_thresh, stability_score_offset, mask_threshold, box_nms_thresh,\n"
           "crop_nms_thresh, min_mask_region_area, output_mode) share one run of the encoder\n"
           "and decoder: its time is printed once per group, each setting's time is its own\n"
           "filtering and NMS. The decoder outputs kept for a group are capped at\n"
           "--max-cache-mb (default 2048); beyond it the group's settings run one by one.\n"
           "Without --grid, up to 9 settings drawn from the image's own candidates follow\n"
           "the default grid, for models and images whose scores lie outside its range:\n"
           "pred-iou-thresh at the 50th, 75th and 90th percentiles of every candidate's\n"
           "predicted IoU, stability-score-thresh at the 25th, 50th and 75th percentiles\n"
           "of the stability scores of those above the lowest (rounded down to 0.01;\n"
           "\"score_grid\" in the JSON); not when keeping every candidate would exceed\n"
           "--max-cache-mb.\n");
}

static int parse_args(tune_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    cli_common_init(&a->common);
    const cli_shared sh = {&a->common, NULL, NULL, &a->depth, &a->overwrite};
    a->objective = -1, a->top = 4, a->max_cache_mb = 2048;
    for (int i = 1; i < argc; i++) {
        const int r = cli_shared_option("tune", &sh, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage();
            return -1;
        } else if (!strcmp(o, "--grid") && v) {
            a->grid_text = v, i++;
        } else if (!strcmp(o, "--truth") && v) {
            a->truth = v, i++;
        } else if (!strcmp(o, "--objective") && v) {
            for (int k = 0; k < 4; k++)
                if (!strcmp(v, objective_names[k])) a->objective = k;
            if (a->objective < 0)
                return cli_usage_error("tune", "--objective takes recall75, recall50, coverage or mean-iou, got '%s'", v);
            i++;
        } else if (!strcmp(o, "-o") && v) {
            a->output = v, i++;
        } else if (!strcmp(o, "--json") && v) {
            a->json_path = v, i++;
        } else if (!strcmp(o, "--best-params") && v) {
            a->best_path = v, i++;
        } else if (!strcmp(o, "--top") && v) {
            if (!cli_parse_int(v, &a->top) || a->top < 1 || a->top > 64)
                return cli_usage_error("tune", "--top takes 1..64, got '%s'", v);
            i++;
        } else if (!strcmp(o, "--tile-width") && v) {
            if (!cli_parse_int(v, &a->tile_w) || a->tile_w < 64 || a->tile_w > 4096)
                return cli_usage_error("tune", "--tile-width takes 64..4096 pixels, got '%s'", v);
            i++;
        } else if (!strcmp(o, "--max-cache-mb") && v) {
            if (!cli_parse_int(v, &a->max_cache_mb) || a->max_cache_mb < 0)
                return cli_usage_error("tune", "--max-cache-mb takes a size in MB (0: no cap), got '%s'", v);
            i++;
        } else if (!strncmp(o, "--", 2) && v) {
            if (param_text_append(a->base_text, sizeof a->base_text, o + 2, v) != 0)
                return cli_usage_error("tune", "too many parameter flags");
            i++;
        } else if (o[0] == '-') {
            return cli_usage_error("tune", "unknown or incomplete option '%s' (see sam2 tune --help)", o);
        } else if (a->input) {
            return cli_usage_error("tune", "one image at a time ('%s' and '%s' given)", a->input, o);
        } else {
            a->input = o;
        }
    }
    if (!a->input) return cli_usage_error("tune", "no image given (see sam2 tune --help)");
    if (a->objective < 0) a->objective = a->truth ? OBJ_RECALL75 : OBJ_COVERAGE;
    if (!a->truth && (a->objective == OBJ_RECALL75 || a->objective == OBJ_RECALL50))
        return cli_usage_error("tune", "--objective %s needs --truth", objective_names[a->objective]);
    a->score_grid = !a->grid_text;
    if (param_grid_parse(&a->grid, "tune", a->grid_text ? a->grid_text : TUNE_DEFAULT_GRID) != 0) return 2;
    if (a->base_text[0] && param_set_parse(&a->base, "tune", a->base_text, 0) != 0) return 2;
    return 0;
}

/* ------------------------------------------------------------- truth */

/* Recall at IoU 0.5 / 0.75 and split objects of one result. */
static int truth_score(const truth_map *t, const sam2_amg_result *r, setting *s) {
    truth_counts c;
    if (truth_map_score(t, r, &c, NULL) != 0) return -1;
    s->recall50 = c.objects ? (double)c.found50 / c.objects : 0;
    s->recall75 = c.objects ? (double)c.found75 / c.objects : 0;
    s->split = c.split;
    return 0;
}

/* ------------------------------------------------------------ sweep */

/* 1 if two settings decode identically (so can share candidates). */
static int same_decoding(const sam2_amg_params *a, const sam2_amg_params *b) {
    if (a->points_per_side != b->points_per_side || a->points_per_batch != b->points_per_batch ||
        a->crop_n_layers != b->crop_n_layers || a->crop_overlap_ratio != b->crop_overlap_ratio ||
        a->crop_n_points_downscale_factor != b->crop_n_points_downscale_factor || a->use_m2m != b->use_m2m ||
        a->multimask_output != b->multimask_output || a->n_point_grids != b->n_point_grids)
        return 0;
    for (int g = 0; g < a->n_point_grids; g++)
        if (a->point_grid_sizes[g] != b->point_grid_sizes[g] ||
            memcmp(a->point_grids[g], b->point_grids[g], sizeof(float) * 2 * (size_t)a->point_grid_sizes[g]))
            return 0;
    return 1;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

static double objective_value(int objective, const setting *s) {
    switch (objective) {
    case OBJ_RECALL75: return s->recall75;
    case OBJ_RECALL50: return s->recall50;
    case OBJ_COVERAGE: return s->covered - s->twice;
    default: return s->mean_iou;
    }
}

/* Fills the figures of a finished setting. */
static int score_setting(const tune_args *a, const truth_map *t, setting *s) {
    amg_coverage(s->res, &s->covered, &s->twice);
    double sum = 0;
    for (int k = 0; k < s->res->n_masks; k++) sum += s->res->masks[k].predicted_iou;
    s->mean_iou = s->res->n_masks ? sum / s->res->n_masks : 0;
    if (t->obj && truth_score(t, s->res, s) != 0) return -1;
    s->score = objective_value(a->objective, s);
    return 0;
}

/* Fills S[from..from+count) from grid over the base flags; each takes the
 * group of the first earlier setting that decodes the same way, or a new
 * one. Returns 0, or 2 after a message. */
static int make_settings(const tune_args *a, const param_grid *grid, setting *S, long from, long count,
                         int *n_groups) {
    for (long k = 0; k < count; k++) {
        setting *s = &S[from + k];
        amg_args_init(&s->amg);
        if ((a->base.n && param_set_apply(&a->base, &s->amg, NULL, "tune") != 0) ||
            param_grid_apply(grid, k, &s->amg, "tune") != 0)
            return 2;
        param_grid_label(grid, k, s->label, sizeof s->label);
        if (sam2_amg_params_check(&s->amg.p) != SAM2_OK)
            return cli_usage_error("tune", "setting %ld (%s): %s", from + k + 1, s->label, sam2_last_error());
        s->group = -1;
        for (long j = 0; j < from + k && s->group < 0; j++)
            if (same_decoding(&s->amg.p, &S[j].amg.p)) s->group = S[j].group;
        if (s->group < 0) s->group = (*n_groups)++;
    }
    return 0;
}

/* Draws the score grid from every candidate of p's decoding (thresholds
 * off, no NMS: from the kept candidates c, or a run of its own) and appends
 * its settings to S[*n..], in the group of p's settings. Nothing is added
 * when no candidate has scores. Returns 0 or -1 after a message. */
static int add_score_settings(tune_args *a, sam2_ctx *ctx, const cli_image *img, const sam2_amg_candidates *c,
                              const sam2_amg_params *p, int *embedded, setting *S, long *n, int *n_groups) {
    const int crops = p->crop_n_layers > 0;
    sam2_amg_params all = *p;
    all.pred_iou_thresh = 0.0f, all.stability_score_thresh = 0.0f;
    all.box_nms_thresh = 1.0f, all.crop_nms_thresh = 1.0f, all.min_mask_region_area = 0;
    sam2_amg_result *r = NULL;
    sam2_status st = SAM2_OK;
    if (c) {
        st = sam2_amg_from_candidates(c, &all, &r);
    } else {
        if (!crops && !*embedded && (st = sam2_set_image(ctx, &img->img)) == SAM2_OK) *embedded = 1;
        if (st == SAM2_OK) st = sam2_amg_generate(ctx, crops ? &img->img : NULL, &all, &r);
        if (crops) *embedded = 0;
    }
    if (st != SAM2_OK) return fprintf(stderr, "sam2 tune: scoring every candidate: %s\n", sam2_last_error()), -1;
    const int drawn = score_grid_text(r, a->score_text, sizeof a->score_text) == 0;
    sam2_amg_result_free(r);
    if (!drawn) return a->score_text[0] = '\0', 0;
    param_grid grid;
    if (param_grid_parse(&grid, "tune", a->score_text) != 0) return -1;
    const long k = param_grid_count(&grid);
    int rc = k <= SCORE_GRID_MAX ? make_settings(a, &grid, S, *n, k, n_groups)
                                 : fprintf(stderr, "sam2 tune: %ld drawn settings (at most %d)\n", k, SCORE_GRID_MAX);
    param_grid_free(&grid);
    if (rc != 0) return -1;
    *n += k;
    return 0;
}

/* Runs every setting of group g (members share decoding). */
static int run_group(tune_args *a, sam2_ctx *ctx, const cli_image *img, setting *S, long *n_settings, int g,
                     int *n_groups, int *embedded, const truth_map *t, cJSON *groups) {
    long first = -1, n = *n_settings;
    float loosest = 1.0f;
    for (long i = 0; i < n; i++)
        if (S[i].group == g) {
            if (first < 0) first = i;
            if (S[i].amg.p.pred_iou_thresh < loosest) loosest = S[i].amg.p.pred_iou_thresh;
        }
    /* the drawn grid (first group of the default grid) needs every candidate */
    int draw = a->score_grid && g == 0;
    const sam2_amg_params *p0 = &S[first].amg.p;
    const int crops = p0->crop_n_layers > 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double embed_secs = 0;
    if (!crops && !*embedded) { /* one embedding for every group without crops */
        sam2_status st = sam2_set_image(ctx, &img->img);
        if (st != SAM2_OK) return fprintf(stderr, "sam2 tune: %s: %s\n", a->input, sam2_last_error()), -1;
        *embedded = 1;
        embed_secs = seconds_since(&t0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
    }
    sam2_amg_params loose = *p0;
    loose.pred_iou_thresh = draw ? 0.0f : loosest;
    sam2_amg_candidates *c = NULL;
    sam2_status st = sam2_amg_candidates_new(ctx, crops ? &img->img : NULL, &loose,
                                             (size_t)a->max_cache_mb << 20, &c);
    if (st == SAM2_ERR_NOMEM && draw) { /* keep what the fixed settings need, as without drawing */
        fprintf(stderr, "sam2 tune: keeping every candidate would exceed --max-cache-mb %d: no settings drawn from "
                "their scores\n", a->max_cache_mb);
        draw = 0;
        loose.pred_iou_thresh = loosest;
        st = sam2_amg_candidates_new(ctx, crops ? &img->img : NULL, &loose, (size_t)a->max_cache_mb << 20, &c);
    }
    if (crops) *embedded = 0; /* the crops replaced the whole-image embedding */
    const double decode_secs = seconds_since(&t0);
    int n_cand = 0;
    size_t bytes = 0;
    if (st == SAM2_ERR_NOMEM) {
        fprintf(stderr, "sam2 tune: group %d: %s; running its settings one by one\n", g + 1, sam2_last_error());
    } else if (st != SAM2_OK) {
        return fprintf(stderr, "sam2 tune: %s\n", sam2_last_error()), -1;
    }
    sam2_amg_candidates_info(c, &n_cand, &bytes);
    const long n_fixed = n;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (draw && add_score_settings(a, ctx, img, c, p0, embedded, S, n_settings, n_groups) != 0) {
        sam2_amg_candidates_free(c);
        return -1;
    }
    const double draw_secs = seconds_since(&t0);
    n = *n_settings;
    int members = 0;
    for (long i = 0; i < n; i++) members += S[i].group == g;
    if (!crops && embed_secs > 0) printf("image embedding: %.2f s (shared by every group without crops)\n", embed_secs);
    printf("group %d (%d setting%s): %.2f s decoding%s, %d candidates kept (%.1f MB)\n", g + 1, members,
           members > 1 ? "s" : "", decode_secs, crops ? " with crop embeddings" : "", n_cand,
           (double)bytes / 1048576.0);
    if (n > n_fixed)
        printf("settings %ld-%ld drawn from this image's candidates (predicted IoU at its 50/75/90th percentiles, "
               "stability at the 25/50/75th of those above the lowest; %.2f s): %s\n", n_fixed + 1, n, draw_secs,
               a->score_text);
    cJSON *gj = cJSON_CreateObject();
    cJSON_AddNumberToObject(gj, "group", g + 1);
    cJSON_AddNumberToObject(gj, "settings", members);
    cJSON_AddNumberToObject(gj, "embed_s", embed_secs);
    cJSON_AddNumberToObject(gj, "decode_s", decode_secs);
    if (draw) cJSON_AddNumberToObject(gj, "score_grid_s", draw_secs);
    cJSON_AddNumberToObject(gj, "candidates", n_cand);
    cJSON_AddNumberToObject(gj, "cache_bytes", (double)bytes);
    cJSON_AddBoolToObject(gj, "reused", c != NULL);
    cJSON_AddItemToArray(groups, gj);

    int rc = 0;
    for (long i = first; i < n && rc == 0; i++) {
        if (S[i].group != g) continue;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (c) {
            st = sam2_amg_from_candidates(c, &S[i].amg.p, &S[i].res);
        } else {
            st = SAM2_OK;
            if (!crops && !*embedded && (st = sam2_set_image(ctx, &img->img)) == SAM2_OK) *embedded = 1;
            if (st == SAM2_OK) st = sam2_amg_generate(ctx, crops ? &img->img : NULL, &S[i].amg.p, &S[i].res);
            if (crops) *embedded = 0;
        }
        S[i].secs = seconds_since(&t0);
        if (st != SAM2_OK) {
            fprintf(stderr, "sam2 tune: setting %ld (%s): %s\n", i + 1, S[i].label, sam2_last_error());
            rc = -1;
        } else if (score_setting(a, t, &S[i]) != 0) {
            fprintf(stderr, "sam2 tune: out of memory scoring setting %ld\n", i + 1);
            rc = -1;
        }
    }
    sam2_amg_candidates_free(c);
    return rc;
}

/* ----------------------------------------------------------- outputs */

/* 1 when setting a lets more candidates through the IoU filter than b, or
 * as many with a lower IoU threshold, or the same with a lower stability one. */
static int looser(const setting *a, const setting *b) {
    const int fa = a->res->filters.above_pred_iou, fb = b->res->filters.above_pred_iou;
    if (fa != fb) return fa > fb;
    if (a->amg.p.pred_iou_thresh != b->amg.p.pred_iou_thresh) return a->amg.p.pred_iou_thresh < b->amg.p.pred_iou_thresh;
    return a->amg.p.stability_score_thresh < b->amg.p.stability_score_thresh;
}

static void print_table(const tune_args *a, const setting *S, long n, const long *rank) {
    const int tr = a->truth != NULL;
    /* >iou, >stab: candidates through the IoU filter, and the stability filter after it */
    printf("\n%5s %5s %6s %6s %6s %8s %6s %8s", "rank", "#", ">iou", ">stab", "masks", "covered", "twice", "mean_iou");
    if (tr) printf(" %6s %6s %5s", "R@0.5", "R@0.75", "split");
    printf(" %7s  setting\n", "time_s");
    for (long i = 0; i < n; i++) {
        const setting *s = &S[i];
        long r = 0;
        while (rank[r] != i) r++;
        printf("%5ld %5ld %6d %6d %6d %8.3f %6.3f %8.3f", r + 1, i + 1, s->res->filters.above_pred_iou,
               s->res->filters.above_stability, s->res->n_masks, s->covered, s->twice, s->mean_iou);
        if (tr) printf(" %6.3f %6.3f %5d", s->recall50, s->recall75, s->split);
        printf(" %7.3f  %s\n", s->secs, s->label);
    }
    const setting *b = &S[rank[0]];
    printf("\nbest by %s: #%ld %s (%s = %.4f)\n", objective_names[a->objective], rank[0] + 1, b->label,
           objective_names[a->objective], b->score);
    /* nothing kept anywhere: what stopped the loosest setting's candidates */
    long loosest = 0;
    for (long i = 0; i < n; i++) {
        if (S[i].res->n_masks > 0) return;
        if (looser(&S[i], &S[loosest])) loosest = i;
    }
    char hint[512];
    amg_filters_hint(&S[loosest].res->filters, &S[loosest].amg.p, AMG_HINT_GRID, hint, sizeof hint);
    if (hint[0]) printf("hint: no setting keeps a mask; in the loosest (#%ld) %s\n", loosest + 1, hint);
}

static int write_json(const tune_args *a, const setting *S, long n, const long *rank, cJSON *groups) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "image", a->input);
    if (a->truth) cJSON_AddStringToObject(root, "truth", a->truth);
    cJSON_AddStringToObject(root, "grid", a->grid_text ? a->grid_text : TUNE_DEFAULT_GRID);
    if (a->score_text[0]) cJSON_AddStringToObject(root, "score_grid", a->score_text);
    else cJSON_AddNullToObject(root, "score_grid");
    cJSON_AddStringToObject(root, "objective", objective_names[a->objective]);
    cJSON_AddItemToObject(root, "groups", groups);
    cJSON *arr = cJSON_AddArrayToObject(root, "settings");
    for (long i = 0; i < n; i++) {
        const setting *s = &S[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", (double)(i + 1));
        cJSON_AddStringToObject(o, "setting", s->label);
        cJSON_AddNumberToObject(o, "group", s->group + 1);
        cJSON_AddItemToObject(o, "params", amg_args_to_json(&s->amg.p));
        cJSON_AddNumberToObject(o, "masks", s->res->n_masks);
        cJSON_AddItemToObject(o, "filters", amg_filters_json(&s->res->filters));
        cJSON_AddNumberToObject(o, "covered", s->covered);
        cJSON_AddNumberToObject(o, "covered_twice", s->twice);
        cJSON_AddNumberToObject(o, "mean_predicted_iou", s->mean_iou);
        if (a->truth) {
            cJSON_AddNumberToObject(o, "recall_50", s->recall50);
            cJSON_AddNumberToObject(o, "recall_75", s->recall75);
            cJSON_AddNumberToObject(o, "split_objects", s->split);
        }
        cJSON_AddNumberToObject(o, "time_s", s->secs);
        cJSON_AddNumberToObject(o, "score", s->score);
        cJSON_AddItemToArray(arr, o);
    }
    cJSON *best = cJSON_AddObjectToObject(root, "best");
    cJSON_AddNumberToObject(best, "index", (double)(rank[0] + 1));
    cJSON_AddStringToObject(best, "setting", S[rank[0]].label);
    cJSON_AddNumberToObject(best, "score", S[rank[0]].score);
    const int rc = cli_write_json("tune", a->json_path, root, 1, a->overwrite);
    cJSON_Delete(root);
    return rc;
}

/* The image and the top settings side by side. */
static int write_grid(const tune_args *a, const cli_image *img, const setting *S, long n, const long *rank) {
    const int k = (int)(n < a->top ? n : a->top), W = img->img.width, H = img->img.height;
    grid_tile tiles[65];
    char caps[65][1400];
    uint8_t *pics[65] = {0};
    int rc = -1;
    pics[0] = cli_image_rgb8(img, a->depth);
    if (!pics[0]) return -1;
    snprintf(caps[0], sizeof caps[0], "source %dx%d\ntop %d of %ld by %s", W, H, k, n, objective_names[a->objective]);
    for (int r = 0; r < k; r++) {
        const setting *s = &S[rank[r]];
        pics[r + 1] = grid_overlay(pics[0], s->res);
        if (!pics[r + 1]) goto done;
        int o = snprintf(caps[r + 1], sizeof caps[0], "rank %d: #%ld %s\n%d masks, covered %.1f%%, twice %.1f%%", r + 1,
                         rank[r] + 1, s->label, s->res->n_masks, 100 * s->covered, 100 * s->twice);
        if (a->truth && o > 0 && o < (int)sizeof caps[0])
            o += snprintf(caps[r + 1] + o, sizeof caps[0] - (size_t)o, "\nR@0.5 %.2f, R@0.75 %.2f, %d split",
                          s->recall50, s->recall75, s->split);
        if (o > 0 && o < (int)sizeof caps[0])
            snprintf(caps[r + 1] + o, sizeof caps[0] - (size_t)o, ", %.2fs", s->secs);
    }
    for (int i = 0; i <= k; i++) tiles[i] = (grid_tile){pics[i], W, H, caps[i]};
    uint8_t *page = NULL;
    int pw = 0, ph = 0;
    const int tw = a->tile_w ? a->tile_w : grid_default_tile_width(W);
    if (grid_render(tiles, k + 1, 0, tw, &page, &pw, &ph) != 0) {
        fprintf(stderr, "sam2 tune: cannot lay out %d tiles of width %d\n", k + 1, tw);
        goto done;
    }
    rc = cli_check_output(a->output, a->overwrite) != 0 || cli_write_png_rgb8(a->output, page, pw, ph) != 0 ? -1 : 0;
    if (rc == 0) fprintf(stderr, "wrote %s (%d x %d)\n", a->output, pw, ph);
    free(page);
done:
    for (int i = 0; i <= k; i++) free(pics[i]);
    return rc;
}

int cmd_tune(int argc, char **argv) {
    tune_args a;
    int r = parse_args(&a, argc, argv);
    if (r) {
        param_grid_free(&a.grid);
        param_set_free(&a.base);
        return r < 0 ? 0 : r;
    }
    long n = param_grid_count(&a.grid);
    const long cap = n + (a.score_grid ? SCORE_GRID_MAX : 0);
    setting *S = calloc((size_t)cap, sizeof *S);
    long *rank = calloc((size_t)cap, sizeof *rank);
    cli_image img = {0};
    truth_map t = {0};
    sam2_model *m = NULL;
    sam2_ctx *ctx = NULL;
    cJSON *groups = cJSON_CreateArray();
    int rc = 2, n_groups = 0, embedded = 0;
    if (!S || !rank || !groups || make_settings(&a, &a.grid, S, 0, n, &n_groups) != 0) goto done;
    rc = 1;
    if ((a.output && cli_check_output(a.output, a.overwrite) != 0) ||
        (a.json_path && cli_check_output(a.json_path, a.overwrite) != 0) ||
        (a.best_path && cli_check_output(a.best_path, a.overwrite) != 0))
        goto done;
    if (cli_load_image("tune", a.input, &img) != 0) goto done;
    if (a.truth && truth_map_load("tune", a.truth, img.img.width, img.img.height, &t) != 0) goto done;
    if (!(m = cli_load_model(&a.common))) goto done;
    cli_apply_threads(&a.common);
    if (cli_ctx_new("tune", &a.common, m, &ctx) != 0) goto done;
    sam2_ctx_set_depth_mode(ctx, a.depth);
    printf("%ld settings%s in %d decoding group%s on %s (%d x %d)%s\n", n,
           a.score_grid ? " of the default grid (and up to 9 drawn from the candidates' scores)" : "", n_groups,
           n_groups > 1 ? "s" : "", a.input, img.img.width, img.img.height, t.obj ? "" : ", no ground truth");
    if (t.obj) printf("ground truth: %d objects in %s\n", t.n_obj, a.truth);
    for (int g = 0; g < n_groups; g++)
        if (run_group(&a, ctx, &img, S, &n, g, &n_groups, &embedded, &t, groups) != 0) goto done;

    /* rank: higher score first, ties to the earlier setting (stable) */
    for (long i = 0; i < n; i++) {
        long j = i;
        while (j > 0 && S[rank[j - 1]].score < S[i].score) rank[j] = rank[j - 1], j--;
        rank[j] = i;
    }
    print_table(&a, S, n, rank);
    if (a.output && write_grid(&a, &img, S, n, rank) != 0) goto done;
    if (a.best_path) { /* what `sam2 auto --params` reads back as the same setting */
        cJSON *bp = amg_args_to_json(&S[rank[0]].amg.p);
        const int w = bp ? cli_write_json("tune", a.best_path, bp, 1, a.overwrite) : -1;
        cJSON_Delete(bp);
        if (w != 0) goto done;
        fprintf(stderr, "wrote %s (setting #%ld; sam2 auto IMAGE --params %s runs it)\n", a.best_path, rank[0] + 1,
                a.best_path);
    }
    if (a.json_path) {
        cJSON *g = groups;
        groups = NULL; /* owned by the document now */
        if (write_json(&a, S, n, rank, g) != 0) goto done;
        fprintf(stderr, "wrote %s\n", a.json_path);
    }
    rc = 0;
done:
    for (long i = 0; S && i < cap; i++) { /* zeroed settings free nothing */
        amg_args_free(&S[i].amg);
        sam2_amg_result_free(S[i].res);
    }
    free(S), free(rank);
    cJSON_Delete(groups);
    truth_map_free(&t);
    cli_image_free(&img);
    sam2_ctx_free(ctx);
    sam2_model_free(m);
    param_grid_free(&a.grid);
    param_set_free(&a.base);
    return rc;
}
