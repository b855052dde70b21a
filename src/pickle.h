/* pickle.h - the subset of Python's pickle format that torch.save writes
 * for state dicts, evaluated into a small value tree. */
#ifndef SAM2_PICKLE_H
#define SAM2_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "sam2.h"

#define PK_MAX_DIMS 8

typedef enum pk_kind {
    PK_NONE, PK_BOOL, PK_INT, PK_FLOAT, PK_STR, PK_TUPLE, PK_LIST, PK_DICT,
    PK_GLOBAL, PK_MARK, PK_STORAGE, PK_TENSOR
} pk_kind;

typedef enum pk_dtype { PK_F32 = 0, PK_F16 = 1, PK_BF16 = 2 } pk_dtype;

typedef struct pk_value {
    pk_kind kind;
    int64_t i;                   /* INT, BOOL */
    double f;                    /* FLOAT */
    char *s;                     /* STR; GLOBAL "module.name"; STORAGE key */
    struct pk_value **items;     /* TUPLE, LIST; DICT as key, value, key, value ... */
    int n, cap;
    /* STORAGE */
    pk_dtype dtype;
    int64_t numel;
    /* TENSOR */
    struct pk_value *storage;
    int64_t offset;
    int ndim;
    int64_t size[PK_MAX_DIMS], stride[PK_MAX_DIMS];
} pk_value;

typedef struct pk_result {
    pk_value *root;              /* the unpickled object */
    pk_value **all;              /* every value allocated, for freeing */
    int n_all, cap_all;
} pk_result;

/* Evaluates a pickle. Unsupported opcodes and globals are SAM2_ERR_UNSUPPORTED
 * naming the opcode (hex and name) or the global and the byte offset;
 * malformed input is SAM2_ERR_FORMAT. */
sam2_status pickle_load(const uint8_t *data, size_t size, pk_result *out);

void pickle_free(pk_result *r);

/* Dict lookup by string key (NULL if absent or not a dict). */
const pk_value *pk_dict_get(const pk_value *dict, const char *key);

#endif
