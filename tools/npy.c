/* npy.c - the .npy subset sam2c exchanges with NumPy: little-endian float32,
 * C order. The header is a Python dict literal; we parse only its three keys. */
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

static sam2_status parse_shape(const char *hdr, const char *path, npy_array *out) {
    const char *s = strstr(hdr, "'shape':");
    if (!s) return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: .npy header has no shape", path);
    s = strchr(s, '(');
    if (!s) return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: .npy shape is not a tuple", path);
    s++;
    out->ndim = 0;
    out->numel = 1;
    for (;;) {
        while (*s == ' ' || *s == ',') s++;
        if (*s == ')') break;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || errno || v < 0 || v > ((int64_t)1 << 40))
            return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: bad .npy shape", path);
        if (out->ndim >= NPY_MAX_DIMS)
            return SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: .npy has more than %d dims", path,
                             NPY_MAX_DIMS);
        out->shape[out->ndim++] = v;
        if (v && out->numel > ((int64_t)1 << 40) / v)
            return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: .npy shape too large", path);
        out->numel *= v;
        s = end;
    }
    return SAM2_OK;
}

sam2_status npy_read(const char *path, npy_array *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    unsigned char pre[12];
    sam2_status st = SAM2_OK;
    char *hdr = NULL;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: not a .npy file", path);
        goto done;
    }
    size_t hlen;
    if (pre[6] == 1) {
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: truncated .npy header", path);
            goto done;
        }
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        if (hlen > (1u << 20)) {
            st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: .npy header too long", path);
            goto done;
        }
    } else {
        st = SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: .npy format version %d", path, pre[6]);
        goto done;
    }
    hdr = malloc(hlen + 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen) {
        st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: truncated .npy header", path);
        goto done;
    }
    hdr[hlen] = 0;
    if (!strstr(hdr, "'descr': '<f4'")) {
        st = SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: .npy dtype must be little-endian float32 ('<f4')",
                       path);
        goto done;
    }
    if (!strstr(hdr, "'fortran_order': False")) {
        st = SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: .npy must be C order", path);
        goto done;
    }
    if ((st = parse_shape(hdr, path, out)) != SAM2_OK) goto done;
    /* the header's shape is checked against the bytes that follow it before
     * anything is allocated: a claim of 2^40 values is a damaged header, not
     * a request for 4 TiB */
    struct stat sb;
    const long at = ftell(f);
    const long long left = fstat(fileno(f), &sb) == 0 && at >= 0 && sb.st_size >= at ? (long long)(sb.st_size - at) : 0;
    if (out->numel > left / 4) {
        st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: truncated .npy data (its shape holds %lld values, %lld bytes follow the header)",
                       path, (long long)out->numel, left);
        goto done;
    }
    out->data = malloc(out->numel ? (size_t)out->numel * 4 : 4);
    if (!out->data) {
        st = SAM2_FAIL(SAM2_ERR_NOMEM, "%s: cannot allocate %lld floats", path,
                       (long long)out->numel);
        goto done;
    }
    if (fread(out->data, 4, (size_t)out->numel, f) != (size_t)out->numel) {
        st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: truncated .npy data", path);
        goto done;
    }
done:
    free(hdr);
    fclose(f);
    if (st != SAM2_OK) npy_free(out);
    return st;
}

sam2_status npy_write(const char *path, const float *data, int ndim, const int64_t *shape) {
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        n += snprintf(dict + n, sizeof dict - n, "%lld,%s", (long long)shape[i],
                      (ndim > 1 && i < ndim - 1) ? " " : "");
        numel *= shape[i];
    }
    if (ndim > 1) n--; /* "(1, 2," -> "(1, 2" style: drop trailing comma for ndim>1 */
    n += snprintf(dict + n, sizeof dict - n, "), }");
    /* pad so that 10 + header length is a multiple of 64, header ends in \n */
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    int hlen = n + pad + 1;
    FILE *f = fopen(path, "wb");
    if (!f) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 255),
                             (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
    for (int i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && fwrite(data, 4, (size_t)numel, f) == (size_t)numel;
    ok = (fclose(f) == 0) && ok;
    if (!ok) return SAM2_FAIL(SAM2_ERR_IO, "%s: write failed", path);
    return SAM2_OK;
}

void npy_free(npy_array *a) {
    if (!a) return;
    free(a->data);
    a->data = NULL;
}
