/* error.c - status strings and the thread-local last-error message. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Thread-local, so concurrent contexts never overwrite each other's message. */
static _Thread_local char tl_message[1024];
static _Thread_local char tl_where[128];

const char *sam2_status_str(sam2_status s) {
    switch (s) {
    case SAM2_OK: return "ok";
    case SAM2_ERR_IO: return "I/O error";
    case SAM2_ERR_FORMAT: return "corrupt or invalid file";
    case SAM2_ERR_UNSUPPORTED: return "unsupported";
    case SAM2_ERR_SHAPE: return "tensor shape mismatch";
    case SAM2_ERR_CONFIG: return "invalid model config";
    case SAM2_ERR_PARAM: return "invalid parameter";
    case SAM2_ERR_NOMEM: return "out of memory";
    case SAM2_ERR_STATE: return "invalid state";
    case SAM2_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

const char *sam2_last_error(void) { return tl_message; }

/* Messages are one line and often quote names read from files (tensor keys,
 * pickle globals, storage keys): control bytes there, a damaged file's
 * terminal escapes or newlines, become '?'. Bytes >= 0x80 are kept, so that
 * non-ASCII paths read as written. */
static void strip_controls(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

const char *sam2_error_where(void) { return tl_where; }

sam2_status sam2_error_set(sam2_status status, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_message, sizeof tl_message, fmt, ap);
    va_end(ap);
    strip_controls(tl_message);
    const char *base = strrchr(file, '/');
    snprintf(tl_where, sizeof tl_where, "%s:%d", base ? base + 1 : file, line);
    return status;
}

void sam2_error_prefix(const char *fmt, ...) {
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof tl_message];
    memcpy(old, tl_message, sizeof old);
    snprintf(tl_message, sizeof tl_message, "%.500s: %.500s", prefix, old);
    strip_controls(tl_message);
}

sam2_status sam2_check_range(const char *what, const char *name, double v, double lo, double hi) {
    if (v >= lo && v <= hi) return SAM2_OK;
    return sam2_error_set(SAM2_ERR_PARAM, __FILE__, __LINE__, "%s%s%s = %g is outside [%g, %g]", what ? what : "",
                          what ? ": " : "", name, v, lo, hi);
}
