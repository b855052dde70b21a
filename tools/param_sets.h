/* param_sets.h - AMG parameter sets and sweep grids written on one line:
 * a set is "points-per-side=16,crop-n-layers=1"; a grid is
 * "points-per-side=16,32;pred-iou-thresh=0.7,0.8" (axes split at ';', values
 * at ','), whose settings are the cartesian product of its axes. Names are
 * the official ones in kebab- or snake-case (tools/amg_args.c). */
#ifndef SAM2_PARAM_SETS_H
#define SAM2_PARAM_SETS_H

#include <stddef.h>

#include "amg_args.h"
#include "robust_args.h"

#define PARAM_GRID_MAX_AXES 16
#define PARAM_GRID_MAX_SETTINGS 10000

typedef struct param_assign {
    const char *name, *value;
} param_assign;

typedef struct param_set {
    char *buf;          /* owned copy of the text, cut into names and values */
    param_assign *v;
    int n;
} param_set;

/* Parses a set; every name and value is checked by applying it to default
 * parameters. robust_names: the steps of robust_args (robust=true,
 * consensus-min-support=7, ...) are names too. 0, or -1 after printing
 * "sam2 CMD: ..." naming the problem. */
int param_set_parse(param_set *s, const char *cmd, const char *text, int robust_names);

/* Appends name=value to text (size bytes), comma-separated, the form
 * param_set_parse reads: how a command gathers its --<parameter> flags. 0,
 * or -1 when it does not fit. */
int param_text_append(char *text, size_t size, const char *name, const char *value);

/* Applies the set's assignments to a (and the steps of robust_args to r,
 * which must be given when the set was parsed with robust_names), in
 * order. 0 or -1 (printed). */
int param_set_apply(const param_set *s, amg_args *a, robust_args *r, const char *cmd);

/* "name=value name=value" (the set as written), into buf. */
void param_set_label(const param_set *s, char *buf, size_t n);

void param_set_free(param_set *s);

typedef struct param_grid {
    char *buf;
    int n_axes;
    const char *name[PARAM_GRID_MAX_AXES];
    const char **values[PARAM_GRID_MAX_AXES];
    int n_values[PARAM_GRID_MAX_AXES];
} param_grid;

/* Parses a grid; names, values and duplicates are checked, and the product
 * must stay within PARAM_GRID_MAX_SETTINGS. 0 or -1 (printed). */
int param_grid_parse(param_grid *g, const char *cmd, const char *text);

/* Number of settings (the product of the axes' sizes). */
long param_grid_count(const param_grid *g);

/* Applies setting `index` (the last axis varies fastest) to a. 0 or -1. */
int param_grid_apply(const param_grid *g, long index, amg_args *a, const char *cmd);

/* "name=value name=value" of setting `index`, into buf. */
void param_grid_label(const param_grid *g, long index, char *buf, size_t n);

void param_grid_free(param_grid *g);

#endif
