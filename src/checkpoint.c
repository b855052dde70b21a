/* checkpoint.c - official SAM 2 checkpoints: a torch.save zip whose data.pkl
 * describes tensors stored raw in data/<key> entries. The file is mapped
 * once; contiguous aligned float32 tensors are used where they lie. */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "pickle.h"
#include "zipread.h"

static float half_to_float(uint16_t h) {
    uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0) {
        if (m == 0) {
            bits = s;
        } else { /* subnormal: normalise */
            e = 127 - 15 + 1;
            while (!(m & 0x400)) m <<= 1, e--;
            bits = s | e << 23 | (m & 0x3ff) << 13;
        }
    } else if (e == 31) {
        bits = s | 0x7f800000u | m << 13;
    } else {
        bits = s | (e + 127 - 15) << 23 | m << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Reads element i of a storage of the given dtype as float32. */
static float load_elem(const uint8_t *base, pk_dtype dt, int64_t i) {
    if (dt == PK_F32) {
        float f;
        memcpy(&f, base + 4 * i, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, base + 2 * i, 2);
    return dt == PK_F16 ? half_to_float(h) : bf16_to_float(h);
}

/* Materialises one tensor record: bounds checks, then a pointer into the
 * map or an owned (gathered and/or converted) float32 copy. */
static sam2_status make_tensor(ckpt_file *ck, const zip_archive *z, const char *prefix,
                               const char *name, const pk_value *t, ckpt_tensor *out) {
    const pk_value *s = t->storage;
    size_t esize = s->dtype == PK_F32 ? 4 : 2;
    char key[1024];
    snprintf(key, sizeof key, "%sdata/%s", prefix, s->s);
    const zip_entry *e = zip_find(z, key);
    if (!e) return SAM2_FAIL(SAM2_ERR_FORMAT, "tensor '%s': storage entry '%s' is missing", name, key);
    /* torch.save writes each storage whole: an entry of another size (a
     * float32 storage relabelled float16, say) would be read as other weights */
    if (e->size % esize != 0 || (uint64_t)s->numel != e->size / esize)
        return SAM2_FAIL(SAM2_ERR_FORMAT, "tensor '%s': storage '%s' holds %llu bytes, %lld elements of %zu bytes claimed",
                         name, key, (unsigned long long)e->size, (long long)s->numel, esize);
    out->name = strdup(name);
    if (!out->name) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory");
    out->ndim = t->ndim;
    out->numel = 1;
    int64_t extent = 0; /* largest element offset touched */
    int contiguous = 1;
    int64_t expect = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        out->shape[d] = t->size[d];
        if (t->size[d] && out->numel > INT64_MAX / t->size[d])
            return SAM2_FAIL(SAM2_ERR_FORMAT, "tensor '%s': absurd shape", name);
        out->numel *= t->size[d];
        if (t->size[d] > 1 && t->stride[d] != expect) contiguous = 0;
        expect *= t->size[d];
        /* sizes and strides come from the file: the extent must not overflow */
        if (t->size[d] > 1 && t->stride[d] > (INT64_MAX - extent) / (t->size[d] - 1))
            return SAM2_FAIL(SAM2_ERR_FORMAT, "tensor '%s': absurd strides", name);
        if (t->size[d]) extent += (t->size[d] - 1) * t->stride[d];
    }
    out->file_dtype = (ckpt_dtype)s->dtype;
    ck->dtype_mask |= 1u << s->dtype;
    if (out->numel == 0) {
        out->data = NULL;
        return SAM2_OK;
    }
    if (t->offset < 0 || extent >= s->numel || t->offset > s->numel - 1 - extent) /* no overflow */
        return SAM2_FAIL(SAM2_ERR_FORMAT, "tensor '%s': view (offset %lld, extent %lld) exceeds its storage of %lld elements",
                         name, (long long)t->offset, (long long)extent, (long long)s->numel);
    const uint8_t *base = e->data;
    if (s->dtype == PK_F32 && contiguous && ((uintptr_t)(base + 4 * t->offset) % 4) == 0) {
        out->data = (const float *)(const void *)(base + 4 * t->offset);
        return SAM2_OK;
    }
    float *buf = malloc(sizeof(float) * (size_t)out->numel);
    if (!buf) return SAM2_FAIL(SAM2_ERR_NOMEM, "tensor '%s': cannot allocate %lld floats", name, (long long)out->numel);
    int64_t idx[PK_MAX_DIMS] = {0};
    for (int64_t i = 0; i < out->numel; i++) {
        int64_t off = t->offset;
        for (int d = 0; d < t->ndim; d++) off += idx[d] * t->stride[d];
        buf[i] = load_elem(base, s->dtype, off);
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (++idx[d] < t->size[d]) break;
            idx[d] = 0;
        }
    }
    out->data = buf;
    out->owned = 1;
    ck->owned_bytes += sizeof(float) * (size_t)out->numel;
    return SAM2_OK;
}

/* Parses the archive held in ck->map. */
static sam2_status parse(ckpt_file *ck) {
    zip_archive z;
    SAM2_TRY(zip_open(ck->map, ck->map_size, &z));
    sam2_status vs = zip_verify(&z);
    if (vs != SAM2_OK) {
        zip_close(&z);
        return vs;
    }
    const zip_entry *pkl = NULL;
    for (int i = 0; i < z.n_entries; i++) {
        size_t n = strlen(z.entries[i].name);
        if (n >= 8 && !strcmp(z.entries[i].name + n - 8, "data.pkl")) {
            pkl = &z.entries[i];
            break;
        }
    }
    if (!pkl) {
        zip_close(&z);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "zip archive has no data.pkl: not a PyTorch checkpoint");
    }
    char prefix[512];
    size_t plen = strlen(pkl->name) - 8;
    if (plen >= sizeof prefix) plen = sizeof prefix - 1;
    memcpy(prefix, pkl->name, plen);
    prefix[plen] = 0;
    pk_result pr;
    sam2_status st = pickle_load(pkl->data, (size_t)pkl->size, &pr);
    if (st != SAM2_OK) {
        zip_close(&z);
        return st;
    }
    const pk_value *sd = pr.root;
    const pk_value *inner = pk_dict_get(sd, "model");
    if (inner && inner->kind == PK_DICT) sd = inner;
    if (!sd || sd->kind != PK_DICT) {
        st = SAM2_FAIL(SAM2_ERR_FORMAT, "checkpoint holds no state dict");
    } else {
        ck->tensors = calloc((size_t)sd->n / 2 + 1, sizeof(ckpt_tensor));
        if (!ck->tensors) st = SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory");
        for (int i = 0; st == SAM2_OK && i + 1 < sd->n; i += 2) {
            const pk_value *k = sd->items[i], *t = sd->items[i + 1];
            if (k->kind != PK_STR) {
                st = SAM2_FAIL(SAM2_ERR_FORMAT, "state dict key %d is not a string", i / 2);
            } else if (t->kind != PK_TENSOR) {
                continue; /* non-tensor entries (rare) are not weights */
            } else {
                st = make_tensor(ck, &z, prefix, k->s, t, &ck->tensors[ck->n_tensors]);
                if (ck->tensors[ck->n_tensors].name) ck->n_tensors++;
            }
        }
        if (st == SAM2_OK && ck->n_tensors == 0) st = SAM2_FAIL(SAM2_ERR_FORMAT, "checkpoint holds no tensors");
    }
    pickle_free(&pr);
    zip_close(&z);
    return st;
}

sam2_status ckpt_open(const char *path, ckpt_file **out) {
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, S_ISDIR(st.st_mode) ? "is a directory, not a checkpoint file" : "not a regular file");
    }
    if (st.st_size < 22) {
        close(fd);
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: file of %lld bytes is too small to be a checkpoint (not a zip archive)", path, (long long)st.st_size);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return SAM2_FAIL(SAM2_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
    ckpt_file *ck = calloc(1, sizeof *ck);
    if (!ck) {
        munmap(map, (size_t)st.st_size);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory");
    }
    ck->map = map;
    ck->map_size = (size_t)st.st_size;
    ck->mapped = 1;
    sam2_status s = parse(ck);
    if (s != SAM2_OK) {
        sam2_error_prefix("%s", path);
        ckpt_free(ck);
        return s;
    }
    *out = ck;
    return SAM2_OK;
}

sam2_status ckpt_open_memory(const void *data, size_t size, ckpt_file **out) {
    *out = NULL;
    ckpt_file *ck = calloc(1, sizeof *ck);
    if (!ck) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory");
    ck->map = (void *)data;
    ck->map_size = size;
    sam2_status s = parse(ck);
    if (s != SAM2_OK) {
        ckpt_free(ck);
        return s;
    }
    *out = ck;
    return SAM2_OK;
}

void ckpt_free(ckpt_file *ck) {
    if (!ck) return;
    for (int i = 0; i < ck->n_tensors; i++) {
        if (ck->tensors[i].owned) free((void *)ck->tensors[i].data);
        free(ck->tensors[i].name);
    }
    free(ck->tensors);
    if (ck->mapped) munmap(ck->map, ck->map_size);
    free(ck);
}

const ckpt_tensor *ckpt_find(const ckpt_file *ck, const char *name) {
    for (int i = 0; i < ck->n_tensors; i++)
        if (!strcmp(ck->tensors[i].name, name)) return &ck->tensors[i];
    return NULL;
}
