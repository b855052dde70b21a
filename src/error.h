/* error.h - status codes with a thread-local message naming the problem. */
#ifndef SAM2_ERROR_H
#define SAM2_ERROR_H

#include "sam2.h"

/* Records a formatted message (prefixed with nothing; file and line are kept
 * for debugging in sam2_error_where) and returns `status`. */
sam2_status sam2_error_set(sam2_status status, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prepends "prefix: " to the current message (for context such as a path). */
void sam2_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "file.c:123" of the last failure on this thread. */
const char *sam2_error_where(void);

/* SAM2_ERR_PARAM with "WHAT: NAME = V is outside [LO, HI]" (no "WHAT: "
 * when what is NULL) unless lo <= v <= hi; NaN is outside. */
sam2_status sam2_check_range(const char *what, const char *name, double v, double lo, double hi);

/* return SAM2_FAIL(SAM2_ERR_FORMAT, "bad %s", x); */
#define SAM2_FAIL(status, ...) sam2_error_set((status), __FILE__, __LINE__, __VA_ARGS__)

/* Evaluates a call returning sam2_status and returns its failure. */
#define SAM2_TRY(call)                         \
    do {                                       \
        sam2_status try_st_ = (call);          \
        if (try_st_ != SAM2_OK) return try_st_; \
    } while (0)

#endif
