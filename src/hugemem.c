/* hugemem.c - malloc-compatible allocation advised for huge pages. */
#include "hugemem.h"

#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

void *huge_alloc(size_t bytes) {
    if (bytes == 0) bytes = 64;
    if (bytes < 2 * HUGE_PAGE) {
        bytes = (bytes + 63) / 64 * 64;
        return aligned_alloc(64, bytes);
    }
    void *p = NULL;
    bytes = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    if (posix_memalign(&p, HUGE_PAGE, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure changes nothing */
#endif
    return p;
}
