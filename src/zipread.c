/* zipread.c - just enough of the zip format for torch.save archives: they
 * are written uncompressed (STORED), so entries are used where they lie. */
#include "zipread.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "error.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* Locates the end-of-central-directory record (last 64 KiB + 22 bytes). */
static long find_eocd(const uint8_t *buf, size_t size) {
    if (size < 22) return -1;
    size_t lo = size > 65557 ? size - 65557 : 0;
    for (size_t i = size - 22 + 1; i-- > lo;)
        if (rd32(buf + i) == 0x06054b50u) return (long)i;
    return -1;
}

/* Applies a zip64 extended-information extra field to the fields that were
 * saturated (0xFFFFFFFF) in the central-directory header. */
static void apply_zip64_extra(const uint8_t *ex, size_t len, uint64_t *usize, uint64_t *csize,
                              uint64_t *offset) {
    size_t i = 0;
    while (i + 4 <= len) {
        uint16_t id = rd16(ex + i), n = rd16(ex + i + 2);
        if (i + 4 + n > len) return;
        if (id == 0x0001) {
            const uint8_t *p = ex + i + 4;
            size_t k = 0;
            if (*usize == 0xFFFFFFFFu && k + 8 <= n) *usize = rd64(p + k), k += 8;
            if (*csize == 0xFFFFFFFFu && k + 8 <= n) *csize = rd64(p + k), k += 8;
            if (*offset == 0xFFFFFFFFu && k + 8 <= n) *offset = rd64(p + k), k += 8;
            return;
        }
        i += 4 + (size_t)n;
    }
}

sam2_status zip_open(const uint8_t *buf, size_t size, zip_archive *out) {
    memset(out, 0, sizeof *out);
    long eo = find_eocd(buf, size);
    if (eo < 0) return SAM2_FAIL(SAM2_ERR_FORMAT, "not a zip archive (no end-of-central-directory record; truncated or not a PyTorch checkpoint)");
    const uint8_t *e = buf + eo;
    uint64_t n = rd16(e + 10), cd_size = rd32(e + 12), cd_off = rd32(e + 16);
    if ((n == 0xFFFF || cd_off == 0xFFFFFFFFu || cd_size == 0xFFFFFFFFu) && eo >= 20 &&
        rd32(buf + eo - 20) == 0x07064b50u) {
        uint64_t z64 = rd64(buf + eo - 20 + 8);
        /* size - 56 would wrap in a file shorter than the zip64 record */
        if (size < 56 || z64 > size - 56 || rd32(buf + z64) != 0x06064b50u)
            return SAM2_FAIL(SAM2_ERR_FORMAT, "corrupt zip64 end-of-central-directory record");
        n = rd64(buf + z64 + 32);
        cd_size = rd64(buf + z64 + 40);
        cd_off = rd64(buf + z64 + 48);
    }
    if (cd_off > size || cd_size > size - cd_off || n > cd_size / 46)
        return SAM2_FAIL(SAM2_ERR_FORMAT, "corrupt zip central directory (offset %llu, size %llu, %llu entries, file %zu bytes)",
                         (unsigned long long)cd_off, (unsigned long long)cd_size, (unsigned long long)n, size);
    out->entries = calloc(n ? n : 1, sizeof(zip_entry));
    if (!out->entries) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate %llu zip entries", (unsigned long long)n);
    const uint8_t *p = buf + cd_off, *end = buf + cd_off + cd_size;
    for (uint64_t i = 0; i < n; i++) {
        if (end - p < 46 || rd32(p) != 0x02014b50u) {
            zip_close(out);
            return SAM2_FAIL(SAM2_ERR_FORMAT, "corrupt zip central directory at entry %llu", (unsigned long long)i);
        }
        uint16_t method = rd16(p + 10), nlen = rd16(p + 28), xlen = rd16(p + 30), clen = rd16(p + 32);
        uint64_t csize = rd32(p + 20), usize = rd32(p + 24), loff = rd32(p + 42);
        const uint32_t crc = rd32(p + 16);
        if ((size_t)(end - p) < 46u + nlen + xlen + clen) {
            zip_close(out);
            return SAM2_FAIL(SAM2_ERR_FORMAT, "corrupt zip central directory at entry %llu", (unsigned long long)i);
        }
        apply_zip64_extra(p + 46 + nlen, xlen, &usize, &csize, &loff);
        zip_entry *ze = &out->entries[out->n_entries++];
        ze->name = malloc((size_t)nlen + 1);
        if (!ze->name) {
            zip_close(out);
            return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory reading zip entries");
        }
        memcpy(ze->name, p + 46, nlen);
        ze->name[nlen] = 0;
        if (method != 0) {
            sam2_status st = SAM2_FAIL(SAM2_ERR_UNSUPPORTED,
                                       "zip entry '%s' is compressed (method %u); PyTorch checkpoints store entries uncompressed",
                                       ze->name, method);
            zip_close(out);
            return st;
        }
        if (loff > size || size - loff < 30 || rd32(buf + loff) != 0x04034b50u) {
            sam2_status st = SAM2_FAIL(SAM2_ERR_FORMAT, "zip entry '%s' has a corrupt local header (truncated file?)", ze->name);
            zip_close(out);
            return st;
        }
        uint64_t data_off = loff + 30 + rd16(buf + loff + 26) + rd16(buf + loff + 28);
        if (csize != usize || data_off > size || usize > size - data_off) {
            sam2_status st = SAM2_FAIL(SAM2_ERR_FORMAT, "zip entry '%s' runs past the end of the file (truncated file?)", ze->name);
            zip_close(out);
            return st;
        }
        ze->data = buf + data_off;
        ze->size = usize;
        ze->crc32 = crc;
        p += 46 + nlen + xlen + clen;
    }
    return SAM2_OK;
}

void zip_close(zip_archive *z) {
    if (!z) return;
    for (int i = 0; i < z->n_entries; i++) free(z->entries[i].name);
    free(z->entries);
    memset(z, 0, sizeof *z);
}

const zip_entry *zip_find(const zip_archive *z, const char *name) {
    for (int i = 0; i < z->n_entries; i++)
        if (strcmp(z->entries[i].name, name) == 0) return &z->entries[i];
    return NULL;
}

sam2_status zip_verify(const zip_archive *z) {
    int bad = -1;
    uint32_t got = 0;
    /* entries side by side: a checkpoint is hundreds of them, and zlib's
     * CRC runs at a few GB/s per core */
#pragma omp parallel for schedule(dynamic)
    for (int i = 0; i < z->n_entries; i++) {
        const zip_entry *e = &z->entries[i];
        if (e->crc32 == 0) continue;
        const uint32_t c = (uint32_t)crc32_z(0L, e->data, (z_size_t)e->size) /* 0: zlib's initial CRC */;
        if (c != e->crc32) {
#pragma omp critical(zip_verify_bad)
            if (bad < 0 || i < bad) bad = i, got = c;
        }
    }
    if (bad >= 0)
        return SAM2_FAIL(SAM2_ERR_FORMAT, "zip entry '%s' is corrupt: its CRC-32 is %08x, the archive records %08x",
                         z->entries[bad].name, got, z->entries[bad].crc32);
    return SAM2_OK;
}
