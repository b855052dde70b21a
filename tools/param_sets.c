/* param_sets.c - one-line parameter sets and sweep grids, checked through
 * the same parser as the --<parameter> flags so both accept the same names
 * and values. */
#include "param_sets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Applies one name=value: a step of robust_args when r is given and the
 * name is one of them, else an AMG parameter. 0 or -1 (printed). */
static int assign(amg_args *a, robust_args *r, const char *cmd, const char *name, const char *value) {
    const int rc = r ? robust_args_set(r, cmd, name, value) : 1;
    return rc <= 0 ? rc : amg_args_set(a, cmd, name, value);
}

/* Checks one name=value on scratch default parameters. */
static int check_assign(const char *cmd, const char *name, const char *value, int robust_names) {
    amg_args a;
    robust_args r;
    amg_args_init(&a);
    robust_args_init(&r);
    int rc = assign(&a, robust_names ? &r : NULL, cmd, name, value);
    amg_args_free(&a);
    return rc;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
    return s;
}

/* The name with '_' written as '-' and compared: "crop_n_layers" == "crop-n-layers". */
static int same_name(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if ((*a == '_' ? '-' : *a) != (*b == '_' ? '-' : *b)) return 0;
    return *a == *b;
}

int param_set_parse(param_set *s, const char *cmd, const char *text, int robust_names) {
    memset(s, 0, sizeof *s);
    s->buf = strdup(text);
    s->v = calloc(strlen(text) / 2 + 1, sizeof *s->v);
    if (!s->buf || !s->v) return cli_usage_error(cmd, "out of memory"), -1;
    char *save = NULL;
    for (char *tok = strtok_r(s->buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) return cli_usage_error(cmd, "'%s' in \"%s\" is not name=value", trim(tok), text), -1;
        *eq = 0;
        char *name = trim(tok), *value = trim(eq + 1);
        if (!*name || !*value) return cli_usage_error(cmd, "empty name or value in \"%s\"", text), -1;
        if (check_assign(cmd, name, value, robust_names) != 0) return -1;
        for (int i = 0; i < s->n; i++)
            if (same_name(s->v[i].name, name))
                return cli_usage_error(cmd, "%s is given twice in \"%s\"", name, text), -1;
        s->v[s->n].name = name, s->v[s->n].value = value;
        s->n++;
    }
    if (s->n == 0) return cli_usage_error(cmd, "empty parameter set \"%s\"", text), -1;
    return 0;
}

int param_set_apply(const param_set *s, amg_args *a, robust_args *r, const char *cmd) {
    for (int i = 0; i < s->n; i++)
        if (assign(a, r, cmd, s->v[i].name, s->v[i].value) != 0) return -1;
    return 0;
}

void param_set_label(const param_set *s, char *buf, size_t n) {
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < s->n && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%s=%s", i ? " " : "", s->v[i].name, s->v[i].value);
}

void param_set_free(param_set *s) {
    free(s->buf), free(s->v);
    memset(s, 0, sizeof *s);
}

int param_grid_parse(param_grid *g, const char *cmd, const char *text) {
    memset(g, 0, sizeof *g);
    g->buf = strdup(text);
    if (!g->buf) return cli_usage_error(cmd, "out of memory"), -1;
    char *save = NULL;
    long total = 1;
    for (char *axis = strtok_r(g->buf, ";", &save); axis; axis = strtok_r(NULL, ";", &save)) {
        if (!*trim(axis)) continue; /* tolerate a trailing ';' */
        if (g->n_axes == PARAM_GRID_MAX_AXES)
            return cli_usage_error(cmd, "at most %d swept parameters", PARAM_GRID_MAX_AXES), -1;
        char *eq = strchr(axis, '=');
        if (!eq) return cli_usage_error(cmd, "'%s' in the grid is not name=value,value,...", trim(axis)), -1;
        *eq = 0;
        char *name = trim(axis);
        const int k = g->n_axes;
        for (int i = 0; i < k; i++)
            if (same_name(g->name[i], name)) return cli_usage_error(cmd, "%s is swept twice in the grid", name), -1;
        g->name[k] = name;
        g->values[k] = calloc(strlen(eq + 1) / 2 + 1, sizeof(char *));
        if (!g->values[k]) return cli_usage_error(cmd, "out of memory"), -1;
        g->n_axes++;
        char *save2 = NULL;
        for (char *v = strtok_r(eq + 1, ",", &save2); v; v = strtok_r(NULL, ",", &save2)) {
            v = trim(v);
            if (!*v) continue;
            if (check_assign(cmd, name, v, 0) != 0) return -1;
            g->values[k][g->n_values[k]++] = v;
        }
        if (g->n_values[k] == 0) return cli_usage_error(cmd, "%s has no values in the grid", name), -1;
        total *= g->n_values[k];
        if (total > PARAM_GRID_MAX_SETTINGS)
            return cli_usage_error(cmd, "the grid has more than %d settings", PARAM_GRID_MAX_SETTINGS), -1;
    }
    if (g->n_axes == 0) return cli_usage_error(cmd, "empty grid \"%s\"", text), -1;
    return 0;
}

long param_grid_count(const param_grid *g) {
    long n = 1;
    for (int k = 0; k < g->n_axes; k++) n *= g->n_values[k];
    return g->n_axes ? n : 0;
}

/* The value index of each axis for setting `index`. */
static void grid_digits(const param_grid *g, long index, int *digit) {
    for (int k = g->n_axes - 1; k >= 0; k--) {
        digit[k] = (int)(index % g->n_values[k]);
        index /= g->n_values[k];
    }
}

int param_grid_apply(const param_grid *g, long index, amg_args *a, const char *cmd) {
    int d[PARAM_GRID_MAX_AXES];
    grid_digits(g, index, d);
    for (int k = 0; k < g->n_axes; k++)
        if (amg_args_set(a, cmd, g->name[k], g->values[k][d[k]]) != 0) return -1;
    return 0;
}

void param_grid_label(const param_grid *g, long index, char *buf, size_t n) {
    int d[PARAM_GRID_MAX_AXES];
    grid_digits(g, index, d);
    size_t o = 0;
    buf[0] = 0;
    for (int k = 0; k < g->n_axes && o < n; k++)
        o += (size_t)snprintf(buf + o, n - o, "%s%s=%s", k ? " " : "", g->name[k], g->values[k][d[k]]);
}

void param_grid_free(param_grid *g) {
    for (int k = 0; k < g->n_axes; k++) free(g->values[k]);
    free(g->buf);
    memset(g, 0, sizeof *g);
}

int param_text_append(char *text, size_t size, const char *name, const char *value) {
    const size_t o = strlen(text);
    const int n = snprintf(text + o, size - o, "%s%s=%s", o ? "," : "", name, value);
    return n > 0 && (size_t)n < size - o ? 0 : -1;
}
