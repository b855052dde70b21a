/* amg_args.h - the automatic mask generator's sixteen parameters on the
 * command line (--kebab-case) and in JSON (snake_case), both ways. */
#ifndef SAM2_AMG_ARGS_H
#define SAM2_AMG_ARGS_H

#include <cjson/cJSON.h>

#include "sam2.h"

/* Parameters plus the storage behind point_grids. */
typedef struct amg_args {
    sam2_amg_params p;
    float *grid_data[16];      /* owned point grids */
    const float *grid_ptrs[16];
    int grid_sizes[16];
    int points_per_side_set;   /* given explicitly (so it clashes with point grids) */
} amg_args;

void amg_args_init(amg_args *a);
void amg_args_free(amg_args *a);

/* If argv[*i] is an AMG parameter flag (--points-per-side 64, ...),
 * consumes it and its value and returns 1; -1 after printing an error on a bad
 * value; 0 if it is not an AMG flag. */
int amg_args_option(amg_args *a, const char *cmd, int argc, char **argv, int *i);

/* Applies one "name=value" setting (kebab- or snake-case name); 0 on success,
 * prints an error otherwise. */
int amg_args_set(amg_args *a, const char *cmd, const char *name, const char *value);

/* Reads a JSON object of official snake_case names. */
int amg_args_load_json(amg_args *a, const char *cmd, const char *path);

/* The same from a parsed object (path only names it in messages). */
int amg_args_from_json(amg_args *a, const char *cmd, const char *path, const cJSON *obj);

/* Reads point grids from a JSON file: one grid [[x, y], ...] or a list of
 * grids, normalised coordinates in [0, 1]. */
int amg_args_load_grids(amg_args *a, const char *cmd, const char *path);

/* The parameters as a JSON object with official names. */
cJSON *amg_args_to_json(const sam2_amg_params *p);

/* "binary_mask" / "uncompressed_rle" / "coco_rle". */
const char *amg_output_mode_name(sam2_output_mode m);

/* One line per parameter: flag, default, what it does, which way to move it. */
void amg_args_print_help(void);

/* Warns on stderr when p asks for much more work per image than the
 * defaults (more than 16 times the 1024 clicks of the 32 x 32 grid, or more
 * than 21 crops, i.e. three crop layers): such runs take minutes per image
 * and look hung. p must pass the check. */
void amg_args_warn_work(const char *cmd, const sam2_amg_params *p);

#endif
