/* checkpoint.h - reads official SAM 2 checkpoints (torch.save zip archives)
 * into named float32 tensors without Python. */
#ifndef SAM2_CHECKPOINT_H
#define SAM2_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "sam2.h"

#define CKPT_MAX_DIMS 8

typedef enum ckpt_dtype { CKPT_F32 = 0, CKPT_F16 = 1, CKPT_BF16 = 2 } ckpt_dtype;

typedef struct ckpt_tensor {
    char *name;                   /* state-dict key */
    int ndim;
    int64_t shape[CKPT_MAX_DIMS];
    int64_t numel;
    ckpt_dtype file_dtype;        /* dtype in the file */
    const float *data;            /* contiguous float32 (numel): mmap'd or owned */
    int owned;                    /* 1 if data was converted/copied (freed with the file) */
} ckpt_tensor;

typedef struct ckpt_file {
    void *map;                    /* the whole file, read-only mapping */
    size_t map_size;
    ckpt_tensor *tensors;         /* in state-dict order */
    int n_tensors;
    size_t owned_bytes;           /* bytes of converted or copied tensors */
    unsigned dtype_mask;          /* bit (1 << ckpt_dtype) for each dtype seen */
    int mapped;                   /* 1 if map came from mmap (unmapped on free) */
} ckpt_file;

/* Opens and parses a checkpoint. The state dict may be at the top level of
 * the pickle or under the key "model". On failure *out is NULL and the
 * message names the problem (opcode, key, offset). */
sam2_status ckpt_open(const char *path, ckpt_file **out);

/* Same, from a buffer in memory (not copied; must outlive the file object). */
sam2_status ckpt_open_memory(const void *data, size_t size, ckpt_file **out);

void ckpt_free(ckpt_file *ck);

/* Finds a tensor by exact name (NULL if absent). */
const ckpt_tensor *ckpt_find(const ckpt_file *ck, const char *name);

#endif
