/* weights.h - binds named checkpoint tensors to module weight pointers,
 * checking every shape against the config; or makes random weights. */
#ifndef SAM2_WEIGHTS_H
#define SAM2_WEIGHTS_H

#include <stdint.h>

#include "checkpoint.h"

typedef struct wt_binder {
    const ckpt_file *ck;      /* NULL in random mode */
    unsigned char *used;      /* per checkpoint tensor: bound at least once */
    uint64_t rng;             /* random mode: xorshift state */
    float **owned;            /* random mode: allocations, freed by wt_binder_free_owned */
    int n_owned, cap_owned;
    int64_t bound_elements;   /* elements of distinct tensors bound */
    int bound_tensors;
    /* random mode: told every tensor made, with its name and shape */
    void (*on_tensor)(void *user, const char *name, int ndim, const int64_t *dims, const float *data);
    void *on_tensor_user;
} wt_binder;

/* Starts binding from a checkpoint (ck != NULL) or in random mode (ck ==
 * NULL, seeded). */
sam2_status wt_binder_init(wt_binder *b, const ckpt_file *ck, uint64_t seed);

/* Releases the bookkeeping (not the random weights: see wt_binder_take_owned). */
void wt_binder_done(wt_binder *b);

/* Binds tensor `name` (printf-style) of shape dims[0..ndim-1] to *out.
 * Missing tensor: SAM2_ERR_SHAPE "missing tensor 'name'". Wrong shape:
 * SAM2_ERR_SHAPE "tensor 'name' has shape [..], expected [..]". In random
 * mode a tensor is allocated and filled: names ending in "norm*.weight" (and
 * LayerNorm2d weights given via wt_bind_ones) get 1 + noise, biases small
 * noise, others N(0, 1/fan_in) approximations. */
sam2_status wt_bind(wt_binder *b, const float **out, int ndim, const int64_t *dims,
                    const char *name_fmt, ...) __attribute__((format(printf, 5, 6)));

/* Convenience forms for 1-, 2- and 4-dimensional tensors. */
sam2_status wt_bind1(wt_binder *b, const float **out, int64_t d0, const char *name_fmt, ...)
    __attribute__((format(printf, 4, 5)));
sam2_status wt_bind2(wt_binder *b, const float **out, int64_t d0, int64_t d1,
                     const char *name_fmt, ...) __attribute__((format(printf, 5, 6)));
sam2_status wt_bind3(wt_binder *b, const float **out, int64_t d0, int64_t d1, int64_t d2,
                     const char *name_fmt, ...) __attribute__((format(printf, 6, 7)));
sam2_status wt_bind4(wt_binder *b, const float **out, int64_t d0, int64_t d1, int64_t d2,
                     int64_t d3, const char *name_fmt, ...) __attribute__((format(printf, 7, 8)));

#endif
