/* amg_args.c - parsing and printing the AMG parameters with their official
 * names, so that a JSON file from the Python world can be used as it is. */
#include "amg_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_io.h"

typedef enum { P_INT, P_FLOAT, P_BOOL, P_MODE, P_GRIDS } ptype;

typedef struct param_def {
    const char *name;   /* official snake_case name */
    ptype type;
    size_t offset;      /* into sam2_amg_params */
    const char *help;
} param_def;

#define OFF(f) offsetof(sam2_amg_params, f)

static const param_def defs[] = {
    {"points_per_side", P_INT, OFF(points_per_side),
     "grid of N x N clicks per crop; more finds smaller objects and parts, costs time (N^2)"},
    {"points_per_batch", P_INT, OFF(points_per_batch),
     "clicks decoded together; only speed/memory, never the result"},
    {"pred_iou_thresh", P_FLOAT, OFF(pred_iou_thresh),
     "keep masks whose predicted IoU is above this; lower it to keep more (and worse) masks"},
    {"stability_score_thresh", P_FLOAT, OFF(stability_score_thresh),
     "keep masks stable under a +-offset logit cut-off; lower it for more, fuzzier masks"},
    {"stability_score_offset", P_FLOAT, OFF(stability_score_offset),
     "the logit shift used by the stability score; larger is stricter"},
    {"mask_threshold", P_FLOAT, OFF(mask_threshold),
     "logit cut-off of a mask; raise it for tighter masks, lower for fuller ones"},
    {"box_nms_thresh", P_FLOAT, OFF(box_nms_thresh),
     "box IoU above which the weaker of two masks is dropped; lower it for fewer duplicates"},
    {"crop_n_layers", P_INT, OFF(crop_n_layers),
     "extra passes on 2^i x 2^i zoomed crops; 1-2 find small objects, cost 5x-21x time"},
    {"crop_nms_thresh", P_FLOAT, OFF(crop_nms_thresh),
     "box IoU for removing duplicates across crops (smaller crops win)"},
    {"crop_overlap_ratio", P_FLOAT, OFF(crop_overlap_ratio),
     "overlap of neighbouring crops, as a fraction of the image side"},
    {"crop_n_points_downscale_factor", P_INT, OFF(crop_n_points_downscale_factor),
     "crop layer i uses points_per_side / factor^i clicks per side; raise it to save time"},
    {"point_grids", P_GRIDS, 0,
     "JSON file of explicit click grids (normalised x, y), one per crop layer; replaces points_per_side"},
    {"min_mask_region_area", P_INT, OFF(min_mask_region_area),
     "fill holes and remove islands up to this size (low-res pixels); raise it for cleaner masks"},
    {"output_mode", P_MODE, OFF(output_mode),
     "binary_mask (PNG per mask), uncompressed_rle or coco_rle"},
    {"use_m2m", P_BOOL, OFF(use_m2m),
     "refine every mask once more with itself as mask input; slower, smoother"},
    {"multimask_output", P_BOOL, OFF(multimask_output),
     "3 candidate masks per click (whole, part, subpart); false gives 1 per click"},
};
#define N_DEFS (int)(sizeof defs / sizeof defs[0])

void amg_args_init(amg_args *a) {
    memset(a, 0, sizeof *a);
    a->p = sam2_amg_default_params();
}

void amg_args_free(amg_args *a) {
    for (int i = 0; i < 16; i++) free(a->grid_data[i]);
    memset(a->grid_data, 0, sizeof a->grid_data);
}

/* Matches kebab- or snake-case names. */
static const param_def *find_def(const char *name) {
    char norm[64];
    size_t n = strlen(name);
    if (n >= sizeof norm) return NULL;
    for (size_t i = 0; i <= n; i++) norm[i] = name[i] == '-' ? '_' : name[i];
    for (int i = 0; i < N_DEFS; i++)
        if (!strcmp(defs[i].name, norm)) return &defs[i];
    return NULL;
}

const char *amg_output_mode_name(sam2_output_mode m) {
    switch (m) {
    case SAM2_OUTPUT_BINARY_MASK: return "binary_mask";
    case SAM2_OUTPUT_UNCOMPRESSED_RLE: return "uncompressed_rle";
    case SAM2_OUTPUT_COCO_RLE: return "coco_rle";
    }
    return "?";
}

static int set_value(amg_args *a, const char *cmd, const param_def *d, const char *v) {
    void *field = (char *)&a->p + d->offset;
    switch (d->type) {
    case P_INT:
        if (!cli_parse_int(v, (int *)field)) {
            cli_usage_error(cmd, "%s takes a whole number, got '%s'", d->name, v);
            return -1;
        }
        if (d->offset == OFF(points_per_side)) a->points_per_side_set = 1;
        return 0;
    case P_FLOAT:
        if (!cli_parse_float(v, (float *)field)) {
            cli_usage_error(cmd, "%s takes a number, got '%s'", d->name, v);
            return -1;
        }
        return 0;
    case P_BOOL:
        if (!cli_parse_bool(v, (int *)field)) {
            cli_usage_error(cmd, "%s takes true or false, got '%s'", d->name, v);
            return -1;
        }
        return 0;
    case P_MODE:
        for (int m = 0; m < 3; m++)
            if (!strcmp(v, amg_output_mode_name((sam2_output_mode)m))) {
                a->p.output_mode = (sam2_output_mode)m;
                return 0;
            }
        cli_usage_error(cmd, "output_mode takes binary_mask, uncompressed_rle or coco_rle, got '%s'", v);
        return -1;
    case P_GRIDS:
        return amg_args_load_grids(a, cmd, v);
    }
    return -1;
}

int amg_args_set(amg_args *a, const char *cmd, const char *name, const char *value) {
    const param_def *d = find_def(name);
    if (!d) {
        cli_usage_error(cmd, "unknown AMG parameter '%s'", name);
        return -1;
    }
    return set_value(a, cmd, d, value);
}

int amg_args_option(amg_args *a, const char *cmd, int argc, char **argv, int *i) {
    const char *o = argv[*i];
    if (strncmp(o, "--", 2) != 0) return 0;
    const param_def *d = find_def(o + 2);
    if (!d) return 0;
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "%s needs a value", o);
        return -1;
    }
    return set_value(a, cmd, d, argv[++*i]) == 0 ? 1 : -1;
}

/* Reads one grid [[x, y], ...] into a->grid slot k. */
static int read_grid(amg_args *a, const char *cmd, const char *path, const cJSON *g, int k) {
    int n = cJSON_GetArraySize(g);
    if (k >= 16) return cli_usage_error(cmd, "%s: at most 16 point grids", path), -1;
    a->grid_data[k] = malloc(sizeof(float) * 2 * (n ? n : 1));
    for (int i = 0; i < n; i++) {
        const cJSON *pt = cJSON_GetArrayItem(g, i);
        const cJSON *x = cJSON_GetArrayItem(pt, 0), *y = cJSON_GetArrayItem(pt, 1);
        if (!cJSON_IsArray(pt) || cJSON_GetArraySize(pt) != 2 || !cJSON_IsNumber(x) || !cJSON_IsNumber(y)) {
            cli_usage_error(cmd, "%s: grid %d point %d is not [x, y]", path, k, i);
            return -1;
        }
        a->grid_data[k][2 * i] = (float)x->valuedouble;
        a->grid_data[k][2 * i + 1] = (float)y->valuedouble;
    }
    a->grid_ptrs[k] = a->grid_data[k];
    a->grid_sizes[k] = n;
    return 0;
}

/* Installs point grids from a parsed JSON value (one grid or a list of grids). */
static int grids_from_json(amg_args *a, const char *cmd, const char *path, const cJSON *v) {
    amg_args_free(a);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
        cli_usage_error(cmd, "%s: point grids must be a non-empty JSON array", path);
        return -1;
    }
    const cJSON *first = cJSON_GetArrayItem(v, 0);
    int single = cJSON_IsArray(first) && cJSON_IsNumber(cJSON_GetArrayItem(first, 0));
    int n = single ? 1 : cJSON_GetArraySize(v);
    for (int k = 0; k < n; k++)
        if (read_grid(a, cmd, path, single ? v : cJSON_GetArrayItem(v, k), k) != 0) return -1;
    a->p.point_grids = a->grid_ptrs;
    a->p.point_grid_sizes = a->grid_sizes;
    a->p.n_point_grids = n;
    if (!a->points_per_side_set) a->p.points_per_side = 0;
    return 0;
}

int amg_args_load_grids(amg_args *a, const char *cmd, const char *path) {
    cJSON *j = cli_read_json(cmd, path);
    if (!j) return -1;
    int rc = grids_from_json(a, cmd, path, j);
    cJSON_Delete(j);
    return rc;
}

int amg_args_load_json(amg_args *a, const char *cmd, const char *path) {
    cJSON *j = cli_read_json(cmd, path);
    if (!j) return -1;
    int rc = amg_args_from_json(a, cmd, path, j);
    cJSON_Delete(j);
    return rc;
}

int amg_args_from_json(amg_args *a, const char *cmd, const char *path, const cJSON *j) {
    int rc = 0;
    if (!cJSON_IsObject(j)) {
        cli_usage_error(cmd, "%s: expected a JSON object of parameters", path);
        rc = -1;
    }
    for (const cJSON *it = j->child; rc == 0 && it; it = it->next) {
        const param_def *d = find_def(it->string);
        if (!d || strchr(it->string, '-')) {
            cli_usage_error(cmd, "%s: unknown parameter '%s' (official snake_case names)", path, it->string);
            rc = -1;
        } else if (d->type == P_GRIDS) {
            if (!cJSON_IsNull(it)) rc = grids_from_json(a, cmd, path, it);
        } else if (d->offset == OFF(points_per_side) && cJSON_IsNull(it)) {
            a->p.points_per_side = 0;
        } else if (d->type == P_MODE) {
            rc = cJSON_IsString(it) ? set_value(a, cmd, d, it->valuestring)
                                    : (cli_usage_error(cmd, "%s: output_mode must be a string", path), -1);
        } else if (d->type == P_BOOL) {
            if (!cJSON_IsBool(it)) rc = (cli_usage_error(cmd, "%s: %s must be true or false", path, d->name), -1);
            else *(int *)((char *)&a->p + d->offset) = cJSON_IsTrue(it);
        } else if (!cJSON_IsNumber(it)) {
            cli_usage_error(cmd, "%s: %s must be a number", path, d->name);
            rc = -1;
        } else if (d->type == P_INT) {
            double v = it->valuedouble;
            if (v != (double)(int)v) rc = (cli_usage_error(cmd, "%s: %s must be a whole number", path, d->name), -1);
            else {
                *(int *)((char *)&a->p + d->offset) = (int)v;
                if (d->offset == OFF(points_per_side)) a->points_per_side_set = 1;
            }
        } else {
            *(float *)((char *)&a->p + d->offset) = (float)it->valuedouble;
        }
    }
    return rc;
}

cJSON *amg_args_to_json(const sam2_amg_params *p) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < N_DEFS; i++) {
        const param_def *d = &defs[i];
        const void *field = (const char *)p + d->offset;
        switch (d->type) {
        case P_INT:
            if (d->offset == OFF(points_per_side) && p->point_grids) cJSON_AddNullToObject(o, d->name);
            else cJSON_AddNumberToObject(o, d->name, *(const int *)field);
            break;
        case P_FLOAT: cJSON_AddNumberToObject(o, d->name, *(const float *)field); break;
        case P_BOOL: cJSON_AddBoolToObject(o, d->name, *(const int *)field); break;
        case P_MODE: cJSON_AddStringToObject(o, d->name, amg_output_mode_name(p->output_mode)); break;
        case P_GRIDS:
            if (!p->point_grids) {
                cJSON_AddNullToObject(o, d->name);
            } else {
                cJSON *grids = cJSON_AddArrayToObject(o, d->name);
                for (int k = 0; k < p->n_point_grids; k++) {
                    cJSON *g = cJSON_CreateArray();
                    for (int j = 0; j < p->point_grid_sizes[k]; j++)
                        cJSON_AddItemToArray(g, cJSON_CreateFloatArray(p->point_grids[k] + 2 * j, 2));
                    cJSON_AddItemToArray(grids, g);
                }
            }
            break;
        }
    }
    return o;
}

void amg_args_print_help(void) {
    sam2_amg_params p = sam2_amg_default_params();
    printf("AMG parameters (official names; --kebab-case here, snake_case in --params JSON):\n");
    for (int i = 0; i < N_DEFS; i++) {
        const param_def *d = &defs[i];
        char flag[64], def[32];
        snprintf(flag, sizeof flag, "--");
        for (const char *s = d->name; *s; s++) {
            size_t n = strlen(flag);
            flag[n] = *s == '_' ? '-' : *s;
            flag[n + 1] = 0;
        }
        const void *field = (const char *)&p + d->offset;
        switch (d->type) {
        case P_INT: snprintf(def, sizeof def, "%d", *(const int *)field); break;
        case P_FLOAT: snprintf(def, sizeof def, "%g", *(const float *)field); break;
        case P_BOOL: snprintf(def, sizeof def, "%s", *(const int *)field ? "true" : "false"); break;
        case P_MODE: snprintf(def, sizeof def, "%s", amg_output_mode_name(p.output_mode)); break;
        case P_GRIDS: snprintf(def, sizeof def, "none"); break;
        }
        printf("  %-34s [%s]\n      %s\n", flag, def, d->help);
    }
}

void amg_args_warn_work(const char *cmd, const sam2_amg_params *p) {
    enum { BASE_CLICKS = 1024, MAX_CLICKS = 16 * BASE_CLICKS, MAX_CROPS = 1 + 4 + 16 }; /* up to two crop layers */
    int64_t clicks = 0;
    int crops = 0;
    if (sam2_amg_work(p, &clicks, &crops) != SAM2_OK) return;
    if (clicks > MAX_CLICKS)
        fprintf(stderr,
                "sam2 %s: warning: %lld clicks to decode per image, %.0f times the default 32 x 32 grid's %lld; "
                "expect minutes per image (lower %s)\n",
                cmd, (long long)clicks, (double)clicks / BASE_CLICKS, (long long)BASE_CLICKS,
                p->point_grids         ? "the number of points in --point-grids"
                : p->crop_n_layers > 0 ? "--points-per-side, or raise --crop-n-points-downscale-factor"
                                       : "--points-per-side");
    if (crops > MAX_CROPS)
        fprintf(stderr, "sam2 %s: warning: crop_n_layers %d means %d crops per image, each encoded on its own; "
                        "expect minutes per image (1 or 2 layers suit most images)\n",
                cmd, p->crop_n_layers, crops);
}
