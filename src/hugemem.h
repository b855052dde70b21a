/* hugemem.h - large activation buffers backed by transparent huge pages.
 * First-touch page faults on 4 KiB pages cost more than some of the
 * encoder's layers (about 5 us each in virtual machines); 2 MiB pages make
 * them negligible. */
#ifndef SAM2_HUGEMEM_H
#define SAM2_HUGEMEM_H

#include <stddef.h>

/* Allocates `bytes` (64-byte aligned) that the caller releases with free().
 * Allocations of several MiB are 2 MiB aligned and advised for transparent
 * huge pages where the system offers them. NULL when out of memory. */
void *huge_alloc(size_t bytes);

#endif
