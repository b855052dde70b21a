/* ckpt_writer.c - a small torch.save writer: pickle protocol 2 with the
 * opcodes the official checkpoints use, storages 64-byte aligned in a
 * STORED zip, as PyTorch writes them. */
#include "ckpt_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "error.h"

typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
    int fail;
} bytes;

static void put(bytes *b, const void *d, size_t n) {
    if (b->fail) return;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 256;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->fail = 1;
            return;
        }
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void u8(bytes *b, unsigned v) { unsigned char c = (unsigned char)v; put(b, &c, 1); }
static void u16(bytes *b, unsigned v) { u8(b, v & 255), u8(b, (v >> 8) & 255); }
static void u32(bytes *b, uint32_t v) { u16(b, v & 0xffff), u16(b, v >> 16); }
static void pstr(bytes *b, const char *s) { u8(b, 'X'), u32(b, (uint32_t)strlen(s)), put(b, s, strlen(s)); }
static void pglobal(bytes *b, const char *m, const char *n) {
    u8(b, 'c'), put(b, m, strlen(m)), u8(b, '\n'), put(b, n, strlen(n)), u8(b, '\n');
}
static void pint(bytes *b, int64_t v) {
    if (v >= 0 && v < 256) u8(b, 'K'), u8(b, (unsigned)v);
    else u8(b, 'J'), u32(b, (uint32_t)v);
}

typedef struct tensor_rec {
    char *name;
    int ndim;
    int64_t shape[8];
    int64_t numel;
    void *data;        /* float32 or float16 bytes */
} tensor_rec;

typedef struct collect {
    tensor_rec *v;
    int n, cap, fp16, fail;
} collect;

static uint16_t to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, e = (x >> 23) & 0xff, m = x & 0x7fffff;
    int ee = (int)e - 127 + 15;
    if (e == 0xff) return (uint16_t)(sign | 0x7c00 | (m ? 0x200 : 0));
    if (ee >= 31) return (uint16_t)(sign | 0x7c00);
    if (ee <= 0) {
        if (ee < -10) return (uint16_t)sign;
        m |= 0x800000;
        uint32_t shift = (uint32_t)(14 - ee);
        uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = (uint32_t)ee << 10 | m >> 13, rem = m & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

static void add_tensor(collect *c, const char *name, int ndim, const int64_t *dims, const float *data) {
    if (c->fail) return;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 256;
        tensor_rec *v = realloc(c->v, sizeof *v * (size_t)cap);
        if (!v) {
            c->fail = 1;
            return;
        }
        c->v = v, c->cap = cap;
    }
    tensor_rec *t = &c->v[c->n];
    t->name = strdup(name);
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) t->shape[i] = dims[i], t->numel *= dims[i];
    size_t es = c->fp16 ? 2 : 4;
    t->data = malloc(es * (size_t)(t->numel ? t->numel : 1));
    if (!t->name || !t->data) {
        free(t->name), free(t->data);
        c->fail = 1;
        return;
    }
    if (c->fp16)
        for (int64_t i = 0; i < t->numel; i++) ((uint16_t *)t->data)[i] = to_half(data[i]);
    else
        memcpy(t->data, data, 4 * (size_t)t->numel);
    c->n++;
}

static void on_tensor(void *user, const char *name, int ndim, const int64_t *dims, const float *data) {
    add_tensor(user, name, ndim, dims, data);
}

/* The pickle of {"model": OrderedDict(name -> tensor)}. */
static void write_pickle(bytes *pk, const collect *c) {
    u8(pk, 0x80), u8(pk, 2);
    u8(pk, '}'), u8(pk, 'q'), u8(pk, 0);
    pstr(pk, "model");
    pglobal(pk, "collections", "OrderedDict"), u8(pk, ')'), u8(pk, 'R');
    u8(pk, '(');
    for (int i = 0; i < c->n; i++) {
        const tensor_rec *t = &c->v[i];
        char key[32];
        snprintf(key, sizeof key, "%d", i);
        pstr(pk, t->name);
        pglobal(pk, "torch._utils", "_rebuild_tensor_v2");
        u8(pk, '(');
        u8(pk, '('), pstr(pk, "storage"), pglobal(pk, "torch", c->fp16 ? "HalfStorage" : "FloatStorage");
        pstr(pk, key), pstr(pk, "cpu"), pint(pk, t->numel), u8(pk, 't'), u8(pk, 'Q');
        pint(pk, 0);
        u8(pk, '(');
        for (int d = 0; d < t->ndim; d++) pint(pk, t->shape[d]);
        u8(pk, 't');
        u8(pk, '(');
        int64_t stride = 1, strides[8];
        for (int d = t->ndim - 1; d >= 0; d--) strides[d] = stride, stride *= t->shape[d];
        for (int d = 0; d < t->ndim; d++) pint(pk, strides[d]);
        u8(pk, 't');
        u8(pk, 0x89);
        pglobal(pk, "collections", "OrderedDict"), u8(pk, ')'), u8(pk, 'R');
        u8(pk, 't'), u8(pk, 'R');
    }
    u8(pk, 'u'), u8(pk, 's'), u8(pk, '.');
}

/* Appends one STORED entry, data 64-byte aligned; records it in cd. */
static int zip_add(FILE *f, uint64_t *off, bytes *cd, const char *name, const void *data, size_t n) {
    size_t nl = strlen(name), hdr = 30 + nl;
    size_t pad = (64 - (*off + hdr + 4) % 64) % 64 + 4;
    const uint32_t crc = (uint32_t)crc32_z(0L, data, n);
    bytes h = {0};
    u32(&h, 0x04034b50), u16(&h, 20), u16(&h, 0), u16(&h, 0), u16(&h, 0), u16(&h, 0), u32(&h, crc);
    u32(&h, (uint32_t)n), u32(&h, (uint32_t)n), u16(&h, (unsigned)nl), u16(&h, (unsigned)pad);
    put(&h, name, nl);
    u16(&h, 0xcafe), u16(&h, (unsigned)(pad - 4));
    for (size_t i = 4; i < pad; i++) u8(&h, 0);
    int ok = !h.fail && fwrite(h.p, 1, h.n, f) == h.n && fwrite(data, 1, n, f) == n;
    u32(cd, 0x02014b50), u16(cd, 20), u16(cd, 20), u16(cd, 0), u16(cd, 0), u16(cd, 0), u16(cd, 0), u32(cd, crc);
    u32(cd, (uint32_t)n), u32(cd, (uint32_t)n), u16(cd, (unsigned)nl), u16(cd, 0), u16(cd, 0);
    u16(cd, 0), u16(cd, 0), u32(cd, 0), u32(cd, (uint32_t)*off);
    put(cd, name, nl);
    *off += h.n + n;
    free(h.p);
    return ok ? 0 : -1;
}

sam2_status ckpt_write_preset(const char *path, const char *preset, int fp16, uint64_t seed) {
    collect c = {0};
    c.fp16 = fp16;
    SAM2_TRY(sam2_preset_tensors(preset, seed, on_tensor, &c));
    /* a few video-only tensors, which a loader must read past, in the
     * official shapes (memory features of 64 channels) */
    float z[256] = {0};
    int64_t d1[2] = {1, 256}, d2[3] = {1, 1, 256}, d3[2] = {256, 256}, m1[2] = {1, 64};
    float *big = calloc(256 * 256, sizeof(float));
    if (strncmp(preset, "sam2.1", 6) == 0) add_tensor(&c, "no_obj_embed_spatial", 2, m1, z);
    add_tensor(&c, "no_obj_ptr", 2, d1, z);
    add_tensor(&c, "maskmem_tpos_enc", 4, (int64_t[4]){7, 1, 1, 64}, big);
    add_tensor(&c, "no_mem_pos_enc", 3, d2, z);
    if (big) add_tensor(&c, "memory_attention.layers.0.self_attn.q_proj.weight", 2, d3, big);
    free(big);
    sam2_status st = c.fail ? SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory building a checkpoint") : SAM2_OK;
    FILE *f = st == SAM2_OK ? fopen(path, "wb") : NULL;
    if (st == SAM2_OK && !f) st = SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    if (f) {
        bytes pk = {0}, cd = {0};
        write_pickle(&pk, &c);
        uint64_t off = 0;
        int count = 0, fail = pk.fail;
        fail |= zip_add(f, &off, &cd, "archive/data.pkl", pk.p, pk.n), count++;
        for (int i = 0; i < c.n && !fail; i++) {
            char name[64];
            snprintf(name, sizeof name, "archive/data/%d", i);
            fail |= zip_add(f, &off, &cd, name, c.v[i].data, (fp16 ? 2 : 4) * (size_t)c.v[i].numel), count++;
        }
        fail |= zip_add(f, &off, &cd, "archive/version", "3\n", 2), count++;
        bytes end = {0};
        u32(&end, 0x06054b50), u16(&end, 0), u16(&end, 0), u16(&end, (unsigned)count), u16(&end, (unsigned)count);
        u32(&end, (uint32_t)cd.n), u32(&end, (uint32_t)off), u16(&end, 0);
        fail |= cd.fail || end.fail || fwrite(cd.p, 1, cd.n, f) != cd.n || fwrite(end.p, 1, end.n, f) != end.n;
        fail |= fclose(f) != 0;
        if (fail) st = SAM2_FAIL(SAM2_ERR_IO, "%s: write failed", path);
        free(pk.p), free(cd.p), free(end.p);
    }
    for (int i = 0; i < c.n; i++) free(c.v[i].name), free(c.v[i].data);
    free(c.v);
    return st;
}
