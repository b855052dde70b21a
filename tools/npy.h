/* npy.h - reads and writes NumPy .npy arrays (format 1.0/2.0, little-endian
 * float32, C order), the golden data's and --dump-npy's format. */
#ifndef SAM2_NPY_H
#define SAM2_NPY_H

#include <stdint.h>

#include "sam2.h"

#define NPY_MAX_DIMS 8

typedef struct npy_array {
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    int64_t numel;
    float *data; /* malloc'd */
} npy_array;

/* Reads a '<f4' C-order array. Other dtypes or layouts are refused. */
sam2_status npy_read(const char *path, npy_array *out);

/* Writes data as a format-1.0 '<f4' array of the given shape. */
sam2_status npy_write(const char *path, const float *data, int ndim, const int64_t *shape);

void npy_free(npy_array *a);

#endif
