/* weights.c - binding module weights by name with shape checks, or making
 * deterministic random weights for benchmarks of official geometries. */
#include "weights.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

sam2_status wt_binder_init(wt_binder *b, const ckpt_file *ck, uint64_t seed) {
    memset(b, 0, sizeof *b);
    b->ck = ck;
    b->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
    if (ck) {
        b->used = calloc((size_t)ck->n_tensors + 1, 1);
        if (!b->used) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory");
    }
    return SAM2_OK;
}

void wt_binder_done(wt_binder *b) {
    for (int i = 0; i < b->n_owned; i++) free(b->owned[i]);
    free(b->owned);
    free(b->used);
    memset(b, 0, sizeof *b);
}

static uint64_t next_u64(wt_binder *b) {
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return b->rng;
}

/* Uniform in [-1, 1) scaled to unit variance (x sqrt 3). */
static float next_unit(wt_binder *b) {
    return (float)(((next_u64(b) >> 40) / 8388608.0 - 1.0) * 1.7320508);
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *dims) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && k < n; i++) k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

/* Random weights shaped like a trained model's: norms near 1, small biases,
 * matrices with variance 1/fan_in so activations stay in range. */
static sam2_status make_random(wt_binder *b, const float **out, int ndim, const int64_t *dims, const char *name) {
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) numel *= dims[i];
    float *p = malloc(sizeof(float) * (size_t)(numel ? numel : 1));
    if (!p) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate random tensor '%s'", name);
    if (b->n_owned == b->cap_owned) {
        int cap = b->cap_owned ? 2 * b->cap_owned : 64;
        float **o = realloc(b->owned, sizeof *o * (size_t)cap);
        if (!o) {
            free(p);
            return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory");
        }
        b->owned = o, b->cap_owned = cap;
    }
    b->owned[b->n_owned++] = p;
    size_t len = strlen(name);
    int is_bias = len >= 5 && !strcmp(name + len - 5, ".bias");
    int is_norm = strstr(name, "norm") != NULL || (ndim == 1 && !is_bias);
    int64_t fan_in = ndim >= 2 ? numel / dims[0] : 1;
    float scale = is_bias ? 0.02f : is_norm ? 0.1f : (float)(1.0 / sqrt((double)(fan_in ? fan_in : 1)));
    for (int64_t i = 0; i < numel; i++) p[i] = (is_norm && !is_bias ? 1.0f : 0.0f) + scale * next_unit(b);
    *out = p;
    if (b->on_tensor) b->on_tensor(b->on_tensor_user, name, ndim, dims, p);
    b->bound_elements += numel;
    b->bound_tensors++;
    return SAM2_OK;
}

static sam2_status bind_v(wt_binder *b, const float **out, int ndim, const int64_t *dims, const char *fmt, va_list ap) {
    char name[512];
    vsnprintf(name, sizeof name, fmt, ap);
    if (!b->ck) return make_random(b, out, ndim, dims, name);
    const ckpt_tensor *t = ckpt_find(b->ck, name);
    if (!t) return SAM2_FAIL(SAM2_ERR_SHAPE, "missing tensor '%s'", name);
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == dims[i];
    if (!same) {
        char got[128], want[128];
        shape_str(got, sizeof got, t->ndim, t->shape);
        shape_str(want, sizeof want, ndim, dims);
        return SAM2_FAIL(SAM2_ERR_SHAPE, "tensor '%s' has shape %s, expected %s", name, got, want);
    }
    int idx = (int)(t - b->ck->tensors);
    if (!b->used[idx]) {
        b->used[idx] = 1;
        b->bound_elements += t->numel;
        b->bound_tensors++;
    }
    *out = t->data;
    return SAM2_OK;
}

sam2_status wt_bind(wt_binder *b, const float **out, int ndim, const int64_t *dims, const char *name_fmt, ...) {
    va_list ap;
    va_start(ap, name_fmt);
    sam2_status st = bind_v(b, out, ndim, dims, name_fmt, ap);
    va_end(ap);
    return st;
}

sam2_status wt_bind1(wt_binder *b, const float **out, int64_t d0, const char *name_fmt, ...) {
    int64_t d[1] = {d0};
    va_list ap;
    va_start(ap, name_fmt);
    sam2_status st = bind_v(b, out, 1, d, name_fmt, ap);
    va_end(ap);
    return st;
}

sam2_status wt_bind2(wt_binder *b, const float **out, int64_t d0, int64_t d1, const char *name_fmt, ...) {
    int64_t d[2] = {d0, d1};
    va_list ap;
    va_start(ap, name_fmt);
    sam2_status st = bind_v(b, out, 2, d, name_fmt, ap);
    va_end(ap);
    return st;
}

sam2_status wt_bind3(wt_binder *b, const float **out, int64_t d0, int64_t d1, int64_t d2, const char *name_fmt, ...) {
    int64_t d[3] = {d0, d1, d2};
    va_list ap;
    va_start(ap, name_fmt);
    sam2_status st = bind_v(b, out, 3, d, name_fmt, ap);
    va_end(ap);
    return st;
}

sam2_status wt_bind4(wt_binder *b, const float **out, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                     const char *name_fmt, ...) {
    int64_t d[4] = {d0, d1, d2, d3};
    va_list ap;
    va_start(ap, name_fmt);
    sam2_status st = bind_v(b, out, 4, d, name_fmt, ap);
    va_end(ap);
    return st;
}
