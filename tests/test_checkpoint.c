/* test_checkpoint.c - the checkpoint reader: real checkpoints (golden and the
 * demo model), a hand-built archive with float16 / bfloat16 storages, views
 * and memo references, and corrupt inputs of every kind. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "checkpoint.h"
#include "ckpt_writer.h"
#include "test.h"

/* ------------------------------------------------- building test archives */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void u8(buf *b, int v) { uint8_t x = (uint8_t)v; put(b, &x, 1); }
static void u16(buf *b, unsigned v) { u8(b, v & 255), u8(b, v >> 8); }
static void u32(buf *b, uint32_t v) { u16(b, v & 0xffff), u16(b, v >> 16); }
static void str(buf *b, const char *s) { u8(b, 'X'), u32(b, (uint32_t)strlen(s)), put(b, s, strlen(s)); }
static void glob(buf *b, const char *mod, const char *name) {
    u8(b, 'c'), put(b, mod, strlen(mod)), u8(b, '\n'), put(b, name, strlen(name)), u8(b, '\n');
}
static void int1(buf *b, int v) { u8(b, 'K'), u8(b, v); }

/* One tensor record: key, storage (type, key, numel) or a memo reference,
 * offset, sizes and strides. */
static void tensor(buf *b, const char *key, const char *stype, const char *skey, int numel, int memo_get,
                   int memo_put, int offset, int ndim, const int *size, const int *stride) {
    str(b, key);
    glob(b, "torch._utils", "_rebuild_tensor_v2");
    u8(b, '(');
    if (memo_get >= 0) {
        u8(b, 'h'), u8(b, memo_get);
    } else {
        u8(b, '('), str(b, "storage"), glob(b, "torch", stype), str(b, skey), str(b, "cpu"), int1(b, numel), u8(b, 't');
        u8(b, 'Q');
        if (memo_put >= 0) u8(b, 'q'), u8(b, memo_put);
    }
    int1(b, offset);
    u8(b, '(');
    for (int i = 0; i < ndim; i++) int1(b, size[i]);
    u8(b, 't');
    u8(b, '(');
    for (int i = 0; i < ndim; i++) int1(b, stride[i]);
    u8(b, 't');
    u8(b, 0x89);
    glob(b, "collections", "OrderedDict"), u8(b, ')'), u8(b, 'R');
    u8(b, 't');
    u8(b, 'R');
}

/* with_crc 0 leaves the CRC-32 fields 0 (not recorded), as torch.save can */
static void zip_entry_add(buf *z, buf *cd, int *count, const char *name, const void *data, size_t n, int with_crc) {
    uint32_t off = (uint32_t)z->n;
    const uint32_t crc = with_crc ? (uint32_t)crc32(0L, data, (uInt)n) : 0;
    /* pad the local header's extra field so data starts 64-byte aligned, as torch does */
    size_t hdr = 30 + strlen(name);
    size_t pad = (64 - (z->n + hdr + 4) % 64) % 64 + 4;
    u32(z, 0x04034b50), u16(z, 20), u16(z, 0), u16(z, 0), u16(z, 0), u16(z, 0), u32(z, crc);
    u32(z, (uint32_t)n), u32(z, (uint32_t)n), u16(z, (unsigned)strlen(name)), u16(z, (unsigned)pad);
    put(z, name, strlen(name));
    u16(z, 0xcafe), u16(z, (unsigned)pad - 4);
    for (size_t i = 4; i < pad; i++) u8(z, 0);
    put(z, data, n);
    u32(cd, 0x02014b50), u16(cd, 20), u16(cd, 20), u16(cd, 0), u16(cd, 0), u16(cd, 0), u16(cd, 0), u32(cd, crc);
    u32(cd, (uint32_t)n), u32(cd, (uint32_t)n), u16(cd, (unsigned)strlen(name)), u16(cd, 0), u16(cd, 0);
    u16(cd, 0), u16(cd, 0), u32(cd, 0), u32(cd, off);
    put(cd, name, strlen(name));
    (*count)++;
}

static buf zip_finish(buf *z, buf *cd, int count) {
    uint32_t cd_off = (uint32_t)z->n;
    put(z, cd->p, cd->n);
    u32(z, 0x06054b50), u16(z, 0), u16(z, 0), u16(z, (unsigned)count), u16(z, (unsigned)count);
    u32(z, (uint32_t)cd->n), u32(z, cd_off), u16(z, 0);
    free(cd->p);
    return *z;
}

/* The test archive: a float16 tensor, a transposed float32 view, a float32
 * slice at an offset sharing the storage through the memo, a bfloat16 one. */
static buf make_archive(int with_pkl, int bad_opcode, int with_crc) {
    buf pk = {0};
    u8(&pk, 0x80), u8(&pk, 2);
    u8(&pk, '}'), u8(&pk, 'q'), u8(&pk, 0);
    str(&pk, "model");
    glob(&pk, "collections", "OrderedDict"), u8(&pk, ')'), u8(&pk, 'R'), u8(&pk, 'q'), u8(&pk, 1);
    u8(&pk, '(');
    int s23[2] = {2, 3}, st31[2] = {3, 1}, s32[2] = {3, 2}, st13[2] = {1, 3}, s2[1] = {2}, st1[1] = {1};
    tensor(&pk, "a", "HalfStorage", "0", 6, -1, -1, 0, 2, s23, st31);
    tensor(&pk, "b", "FloatStorage", "1", 6, -1, 5, 0, 2, s32, st13);
    tensor(&pk, "c", "FloatStorage", "1", 6, 5, -1, 2, 1, s2, st1);
    tensor(&pk, "d", "BFloat16Storage", "2", 2, -1, -1, 0, 1, s2, st1);
    if (bad_opcode) u8(&pk, 0xfe);
    u8(&pk, 'u');
    u8(&pk, 's');
    u8(&pk, '.');
    uint16_t halves[6] = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x0000};
    float floats[6] = {0, 1, 2, 3, 4, 5};
    uint16_t bf[2] = {0x3FC0, 0xC040};
    buf z = {0}, cd = {0};
    int count = 0;
    if (with_pkl) zip_entry_add(&z, &cd, &count, "archive/data.pkl", pk.p, pk.n, with_crc);
    zip_entry_add(&z, &cd, &count, "archive/data/0", halves, sizeof halves, with_crc);
    zip_entry_add(&z, &cd, &count, "archive/data/1", floats, sizeof floats, with_crc);
    zip_entry_add(&z, &cd, &count, "archive/data/2", bf, sizeof bf, with_crc);
    zip_entry_add(&z, &cd, &count, "archive/version", "3\n", 2, with_crc);
    free(pk.p);
    return zip_finish(&z, &cd, count);
}

static void test_handmade(void) {
    buf z = make_archive(1, 0, 0);
    ckpt_file *ck = NULL;
    CHECK_OK(ckpt_open_memory(z.p, z.n, &ck));
    if (ck) {
        CHECK(ck->n_tensors == 4, "n_tensors %d", ck->n_tensors);
        const ckpt_tensor *a = ckpt_find(ck, "a"), *b = ckpt_find(ck, "b"), *c = ckpt_find(ck, "c"), *d = ckpt_find(ck, "d");
        CHECK(a && b && c && d, "tensors present");
        if (a && b && c && d) {
            float wa[6] = {1.0f, -2.0f, 0.5f, 65504.0f, 5.9604645e-08f, 0.0f};
            for (int i = 0; i < 6; i++) CHECK(a->data[i] == wa[i], "fp16 a[%d] = %g, want %g", i, a->data[i], wa[i]);
            CHECK(a->owned && a->file_dtype == CKPT_F16, "fp16 converted into owned memory");
            float wb[6] = {0, 3, 1, 4, 2, 5};
            for (int i = 0; i < 6; i++) CHECK(b->data[i] == wb[i], "view b[%d] = %g, want %g", i, b->data[i], wb[i]);
            CHECK(b->owned, "a non-contiguous view is gathered");
            CHECK(b->shape[0] == 3 && b->shape[1] == 2, "b shape");
            CHECK(c->data[0] == 2 && c->data[1] == 3 && !c->owned, "offset slice in place");
            CHECK((const uint8_t *)c->data >= z.p && (const uint8_t *)c->data < z.p + z.n, "c points into the archive");
            CHECK(d->data[0] == 1.5f && d->data[1] == -3.0f, "bf16 d = %g %g", d->data[0], d->data[1]);
            CHECK(ck->dtype_mask == 7u, "dtype mask %u", ck->dtype_mask);
        }
        ckpt_free(ck);
    }
    /* every truncation fails cleanly */
    int failures = 0;
    for (size_t cut = 0; cut < z.n; cut += (cut < 200 ? 1 : 7)) {
        ckpt_file *t = NULL;
        if (ckpt_open_memory(z.p, cut, &t) != SAM2_OK) failures++;
        else ckpt_free(t);
    }
    CHECK(failures > 0, "truncations rejected");
    /* corrupt bytes anywhere never crash (the result may or may not load) */
    uint8_t *copy = malloc(z.n);
    uint64_t rng = 12345;
    for (int trial = 0; trial < 400; trial++) {
        memcpy(copy, z.p, z.n);
        for (int k = 0; k < 3; k++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            copy[(rng >> 33) % z.n] ^= (uint8_t)(1 + (rng >> 20) % 255);
        }
        ckpt_file *t = NULL;
        if (ckpt_open_memory(copy, z.n, &t) == SAM2_OK) ckpt_free(t);
    }
    free(copy);
    free(z.p);

    z = make_archive(0, 0, 0);
    sam2_status st = ckpt_open_memory(z.p, z.n, &ck);
    CHECK(st == SAM2_ERR_FORMAT && strstr(sam2_last_error(), "data.pkl"), "zip without data.pkl: %s", sam2_last_error());
    free(z.p);

    z = make_archive(1, 1, 0);
    st = ckpt_open_memory(z.p, z.n, &ck);
    CHECK(st == SAM2_ERR_UNSUPPORTED && strstr(sam2_last_error(), "opcode 0xfe"), "unknown opcode: %s", sam2_last_error());
    free(z.p);

    uint8_t junk[300];
    for (int i = 0; i < 300; i++) junk[i] = (uint8_t)(i * 37 + 11);
    st = ckpt_open_memory(junk, sizeof junk, &ck);
    CHECK(st == SAM2_ERR_FORMAT && strstr(sam2_last_error(), "zip"), "random bytes: %s", sam2_last_error());
}

/* Any integer as BININT1 or as an 8-byte LONG1. */
static void int8b(buf *b, int64_t v) {
    if (v >= 0 && v < 256) {
        int1(b, (int)v);
        return;
    }
    u8(b, 0x8a), u8(b, 8);
    for (int i = 0; i < 8; i++) u8(b, (int)(((uint64_t)v >> (8 * i)) & 255));
}

/* An archive of one tensor "t" over a storage entry of six float32 values,
 * with the storage type, element count and view given. */
static buf one_tensor_archive(const char *stype, int64_t numel, int64_t offset, int ndim, const int64_t *size,
                              const int64_t *stride) {
    buf pk = {0};
    u8(&pk, 0x80), u8(&pk, 2), u8(&pk, '}'), u8(&pk, '(');
    str(&pk, "t");
    glob(&pk, "torch._utils", "_rebuild_tensor_v2");
    u8(&pk, '('), u8(&pk, '('), str(&pk, "storage"), glob(&pk, "torch", stype), str(&pk, "0"), str(&pk, "cpu");
    int8b(&pk, numel), u8(&pk, 't'), u8(&pk, 'Q');
    int8b(&pk, offset);
    u8(&pk, '(');
    for (int i = 0; i < ndim; i++) int8b(&pk, size[i]);
    u8(&pk, 't'), u8(&pk, '(');
    for (int i = 0; i < ndim; i++) int8b(&pk, stride[i]);
    u8(&pk, 't'), u8(&pk, 0x89);
    glob(&pk, "collections", "OrderedDict"), u8(&pk, ')'), u8(&pk, 'R');
    u8(&pk, 't'), u8(&pk, 'R'), u8(&pk, 'u'), u8(&pk, '.');
    const float floats[6] = {0, 1, 2, 3, 4, 5};
    buf z = {0}, cd = {0};
    int count = 0;
    zip_entry_add(&z, &cd, &count, "archive/data.pkl", pk.p, pk.n, 1);
    zip_entry_add(&z, &cd, &count, "archive/data/0", floats, sizeof floats, 1);
    free(pk.p);
    return zip_finish(&z, &cd, count);
}

/* Loads a one-tensor archive and expects SAM2_ERR_FORMAT with `want` in the
 * message: sizes, strides and offsets near INT64_MAX must be refused, not
 * overflow into a view that passes the bounds check. */
static void expect_view_refused(const char *what, const char *stype, int64_t numel, int64_t offset, int ndim,
                                const int64_t *size, const int64_t *stride, const char *want) {
    buf z = one_tensor_archive(stype, numel, offset, ndim, size, stride);
    ckpt_file *ck = NULL;
    sam2_status st = ckpt_open_memory(z.p, z.n, &ck);
    CHECK(st == SAM2_ERR_FORMAT && strstr(sam2_last_error(), want), "%s: %s", what, sam2_last_error());
    ckpt_free(ck);
    free(z.p);
}

static void test_bad_views(void) {
    const int64_t six[1] = {6}, one[1] = {1};
    buf z = one_tensor_archive("FloatStorage", 6, 0, 1, six, one);
    ckpt_file *ck = NULL;
    CHECK_OK(ckpt_open_memory(z.p, z.n, &ck)); /* the well-formed archive loads */
    ckpt_free(ck);
    free(z.p);
    const int64_t big = INT64_MAX / 2 + 1; /* 2^62 */
    const int64_t s3[1] = {3}, st_big[1] = {big};
    expect_view_refused("stride 2^62 x 2", "FloatStorage", 6, 0, 1, s3, st_big, "absurd strides");
    const int64_t s2[2] = {2, 2}, st2[2] = {INT64_MAX, INT64_MAX};
    expect_view_refused("strides INT64_MAX", "FloatStorage", 6, 0, 2, s2, st2, "absurd strides");
    const int64_t two[1] = {2};
    expect_view_refused("offset INT64_MAX", "FloatStorage", 6, INT64_MAX, 1, two, one, "exceeds its storage");
    expect_view_refused("offset 2^62", "FloatStorage", 6, big, 1, two, one, "exceeds its storage");
    /* six float32 values relabelled as float16 would read as twelve wrong halves */
    expect_view_refused("float32 bytes as float16", "HalfStorage", 6, 0, 1, six, one, "holds 24 bytes");
    expect_view_refused("storage shorter than claimed", "FloatStorage", 7, 0, 1, six, one, "holds 24 bytes");
    expect_view_refused("storage longer than claimed", "FloatStorage", 5, 0, 1, two, one, "holds 24 bytes");
}

/* Names quoted from a damaged pickle reach the message with '?' for control
 * bytes: no terminal escape or newline from the file is printed. */
static void test_message_controls(void) {
    buf pk = {0};
    u8(&pk, 0x80), u8(&pk, 2);
    glob(&pk, "os", "sys\x1b[2Jtem\r");
    u8(&pk, '.');
    buf z = {0}, cd = {0};
    int count = 0;
    zip_entry_add(&z, &cd, &count, "archive/data.pkl", pk.p, pk.n, 1);
    free(pk.p);
    z = zip_finish(&z, &cd, count);
    ckpt_file *ck = NULL;
    sam2_status st = ckpt_open_memory(z.p, z.n, &ck);
    CHECK(st == SAM2_ERR_UNSUPPORTED && strstr(sam2_last_error(), "'os.sys?[2Jtem?'"), "control bytes in a global: %s",
          sam2_last_error());
    ckpt_free(ck);
    free(z.p);
}

/* A zip64 locator in a file shorter than the zip64 record it points to is
 * refused, not followed to an offset computed from a wrapped size. The file
 * ends at a page boundary before an inaccessible page, so that a read past
 * it faults in every build. */
static void test_zip64_tiny(void) {
    buf z = {0};
    u32(&z, 0x07064b50), u32(&z, 0), u32(&z, 64), u32(&z, 0), u32(&z, 1); /* locator: record at 64 */
    u32(&z, 0x06054b50), u16(&z, 0), u16(&z, 0), u16(&z, 0xffff), u16(&z, 0xffff);
    u32(&z, 0xffffffffu), u32(&z, 0xffffffffu), u16(&z, 0);
    CHECK(z.n == 42, "tiny zip64 file of %zu bytes", z.n);
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED && mprotect(map + page, page, PROT_NONE) == 0, "guard page");
    if (map != MAP_FAILED) {
        uint8_t *file = map + page - z.n;
        memcpy(file, z.p, z.n);
        ckpt_file *ck = NULL;
        sam2_status st = ckpt_open_memory(file, z.n, &ck);
        CHECK(st == SAM2_ERR_FORMAT && strstr(sam2_last_error(), "zip64"), "tiny zip64 file: %s", sam2_last_error());
        ckpt_free(ck);
        munmap(map, 2 * page);
    }
    free(z.p);
}

/* Expected values computed from the files with numpy. */
typedef struct expect {
    const char *key;
    int rows, cols;
    double first, last, sum;
} expect;

static void check_real(const char *path, int n_tensors, const expect *ex, int n_ex) {
    if (!test_file_exists(path)) {
        printf("  skip %s (absent)\n", path);
        return;
    }
    ckpt_file *ck = NULL;
    CHECK_OK(ckpt_open(path, &ck));
    if (!ck) return;
    CHECK(ck->n_tensors == n_tensors, "%s: %d tensors, want %d", path, ck->n_tensors, n_tensors);
    CHECK(ck->owned_bytes == 0, "%s: float32 weights are used in place (%zu bytes copied)", path, ck->owned_bytes);
    for (int i = 0; i < n_ex; i++) {
        const ckpt_tensor *t = ckpt_find(ck, ex[i].key);
        CHECK(t != NULL, "%s: %s present", path, ex[i].key);
        if (!t) continue;
        double sum = 0;
        for (int64_t k = 0; k < t->numel; k++) sum += t->data[k];
        CHECK(t->numel == (int64_t)ex[i].rows * ex[i].cols, "%s numel", ex[i].key);
        CHECK(t->data[0] == (float)ex[i].first && t->data[t->numel - 1] == (float)ex[i].last, "%s values", ex[i].key);
        CHECK(fabs(sum - ex[i].sum) < 1e-4, "%s sum %.6f want %.6f", ex[i].key, sum, ex[i].sum);
        CHECK((const uint8_t *)t->data >= (const uint8_t *)ck->map &&
                  (const uint8_t *)t->data < (const uint8_t *)ck->map + ck->map_size, "%s in the mapping", ex[i].key);
    }
    ckpt_free(ck);
}

/* Recorded CRC-32s are checked: a changed byte in any entry, weights or
 * pickle, is refused naming the entry, where unchecked it would load as a
 * wrong weight. */
static uint8_t *find_bytes(uint8_t *hay, size_t n, const void *needle, size_t m) {
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m)) return hay + i;
    return NULL;
}

static void test_crc(void) {
    buf z = make_archive(1, 0, 1);
    ckpt_file *ck = NULL;
    CHECK_OK(ckpt_open_memory(z.p, z.n, &ck));
    ckpt_free(ck);
    const float floats[6] = {0, 1, 2, 3, 4, 5};
    uint8_t *at = find_bytes(z.p, z.n, floats, sizeof floats);
    CHECK(at != NULL, "float storage in the archive");
    for (size_t k = 0; at && k < sizeof floats; k++) {
        at[k] ^= 0x10;
        ck = NULL;
        sam2_status st = ckpt_open_memory(z.p, z.n, &ck);
        CHECK(st == SAM2_ERR_FORMAT && strstr(sam2_last_error(), "'archive/data/1' is corrupt"),
              "flipped weight byte %zu: %s", k, sam2_last_error());
        ckpt_free(ck);
        at[k] ^= 0x10;
    }
    uint8_t *key = find_bytes(z.p, z.n, "OrderedDict", 11); /* in data.pkl */
    CHECK(key != NULL, "pickle in the archive");
    if (key) {
        key[0] = 'X';
        sam2_status st = ckpt_open_memory(z.p, z.n, &ck);
        CHECK(st == SAM2_ERR_FORMAT && strstr(sam2_last_error(), "'archive/data.pkl' is corrupt"), "flipped pickle byte: %s",
              sam2_last_error());
    }
    free(z.p);
}

/* A written preset checkpoint holds its video-only tensors in the official
 * shapes, so that the official code loads it too (it checks every shape). */
static void test_written_video_shapes(void) {
    char dir[] = "/tmp/sam2-ckpt-XXXXXX", path[64];
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp failed");
        return;
    }
    snprintf(path, sizeof path, "%s/t.pt", dir);
    CHECK_OK(ckpt_write_preset(path, "sam2.1_hiera_t", 1, 1));
    ckpt_file *ck = NULL;
    CHECK_OK(ckpt_open(path, &ck)); /* its CRC-32s are right */
    const struct {
        const char *name;
        int ndim;
        int64_t shape[4];
    } want[] = {{"maskmem_tpos_enc", 4, {7, 1, 1, 64}},
                {"no_obj_embed_spatial", 2, {1, 64}},
                {"no_obj_ptr", 2, {1, 256}},
                {"no_mem_pos_enc", 3, {1, 1, 256}}};
    for (int i = 0; ck && i < 4; i++) {
        const ckpt_tensor *t = ckpt_find(ck, want[i].name);
        int same = t && t->ndim == want[i].ndim;
        for (int k = 0; same && k < t->ndim; k++) same = t->shape[k] == want[i].shape[k];
        CHECK(same, "%s: not in the official shape", want[i].name);
    }
    ckpt_free(ck);
    unlink(path);
    rmdir(dir);
}

/* A whole file into memory (NUL-terminated); NULL on failure. */
static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) free(b), b = NULL;
    fclose(f);
    if (b) b[len] = 0, *n = (size_t)len;
    return b;
}

/* sam2_model_load_memory: the same model as from the files, weights used in
 * place, the name in the info and in every message. */
static void test_model_memory(void) {
    char pt_path[4096], yaml_path[4096];
    snprintf(pt_path, sizeof pt_path, "%s/models/sam2-demo-shapes.pt", test_source_dir());
    snprintf(yaml_path, sizeof yaml_path, "%s/models/sam2-demo-shapes.yaml", test_source_dir());
    size_t n = 0, ny = 0;
    char *pt = slurp(pt_path, &n), *yaml = slurp(yaml_path, &ny);
    if (!pt || !yaml) {
        printf("  skip %s (absent)\n", pt_path);
        free(pt), free(yaml);
        return;
    }
    sam2_model *file = NULL, *mem = NULL;
    CHECK_OK(sam2_model_load(pt_path, yaml_path, &file));
    CHECK_OK(sam2_model_load_memory(pt, n, yaml, "demo in memory", &mem));
    if (file && mem) {
        sam2_model_info a, b;
        sam2_model_get_info(file, &a);
        sam2_model_get_info(mem, &b);
        CHECK(!strcmp(a.model_hash, b.model_hash), "weights differ: %s against %s", a.model_hash, b.model_hash);
        CHECK(!strcmp(b.config_source, "demo in memory"), "config source '%s'", b.config_source);
        CHECK(b.mapped_bytes == n && b.owned_weight_bytes == 0, "weights not used in place: %zu of %zu, %zu copied",
              b.mapped_bytes, n, b.owned_weight_bytes);
    }
    sam2_model_free(file), sam2_model_free(mem);
    mem = NULL;
    sam2_status st = sam2_model_load_memory(pt, n / 2, yaml, "half a demo", &mem);
    CHECK(st != SAM2_OK && mem == NULL && strstr(sam2_last_error(), "half a demo"), "truncated: %s", sam2_last_error());
    st = sam2_model_load_memory(pt, n, "model: [1", "bad yaml", &mem);
    CHECK(st == SAM2_ERR_CONFIG && strstr(sam2_last_error(), "bad yaml") && strstr(sam2_last_error(), "YAML error"),
          "broken YAML: %s", sam2_last_error());
    st = sam2_model_load_memory(pt, n, NULL, "no yaml", &mem);
    CHECK(st != SAM2_OK && strstr(sam2_last_error(), "preset"), "no YAML for a custom model: %s", sam2_last_error());
    CHECK(sam2_model_load_memory(NULL, n, yaml, "x", &mem) == SAM2_ERR_PARAM, "NULL checkpoint accepted");
    CHECK(sam2_model_load_memory(pt, n, yaml, NULL, &mem) == SAM2_ERR_PARAM, "NULL name accepted");
    CHECK(sam2_model_load_memory(pt, n, yaml, "x", NULL) == SAM2_ERR_PARAM, "NULL out accepted");
    free(pt), free(yaml);
}

int main(void) {
    test_handmade();
    test_crc();
    test_bad_views();
    test_zip64_tiny();
    test_message_controls();
    test_written_video_shapes();
    test_model_memory();
    char path[4096];
    const expect demo[] = {
        {"image_encoder.trunk.blocks.1.attn.qkv.weight", 144, 24, -0.07187007367610931, -0.13371610641479492, 10.69842952665931},
        {"sam_mask_decoder.iou_token.weight", 1, 64, 0.828615665435791, -0.7797030806541443, -9.392720265779644},
        {"no_mem_embed", 1, 64, 0.03256579115986824, 0.006402051076292992, -0.13262473547365516}};
    snprintf(path, sizeof path, "%s/models/sam2-demo-shapes.pt", test_source_dir());
    check_real(path, 369, demo, 3);
    const expect micro[] = {
        {"image_encoder.trunk.blocks.1.attn.qkv.weight", 96, 16, 0.19560328125953674, -0.2783730924129486, 10.059759059920907},
        {"sam_mask_decoder.iou_token.weight", 1, 32, 0.9610079526901245, -0.7235485911369324, 9.9285187125206},
        {"no_mem_embed", 1, 32, -0.26482829451560974, -0.2891431748867035, -2.058520085643977}};
    const char *g = test_golden_dir();
    snprintf(path, sizeof path, "%s/models/micro256.pt", g ? g : test_fixtures_dir());
    check_real(path, 324, micro, 3);

    ckpt_file *ck = NULL;
    sam2_status st = ckpt_open("/nonexistent/model.pt", &ck);
    CHECK(st == SAM2_ERR_IO && strstr(sam2_last_error(), "No such file"), "missing file: %s", sam2_last_error());
    st = ckpt_open(test_source_dir(), &ck);
    CHECK(st == SAM2_ERR_IO && strstr(sam2_last_error(), "directory"), "directory: %s", sam2_last_error());
    return test_finish();
}
