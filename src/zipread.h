/* zipread.h - a read-only view of a zip archive held in memory (an mmap'd
 * checkpoint): the central directory, with STORED entries used in place. */
#ifndef SAM2_ZIPREAD_H
#define SAM2_ZIPREAD_H

#include <stddef.h>
#include <stdint.h>

#include "sam2.h"

typedef struct zip_entry {
    char *name;             /* malloc'd, NUL-terminated */
    const uint8_t *data;    /* points into the archive bytes */
    uint64_t size;          /* bytes of data (STORED: compressed == uncompressed) */
    uint32_t crc32;         /* as recorded in the central directory; 0: not recorded */
} zip_entry;

typedef struct zip_archive {
    zip_entry *entries;
    int n_entries;
} zip_archive;

/* Parses the central directory of the archive in buf (size bytes). Every
 * offset and size is checked against the buffer; compressed entries are
 * refused naming the entry. Zip64 records are understood. */
sam2_status zip_open(const uint8_t *buf, size_t size, zip_archive *out);

void zip_close(zip_archive *z);

/* Checks every entry's data against its recorded CRC-32, so a corrupt
 * byte anywhere is an error naming the entry instead of a wrong weight.
 * A CRC of 0 counts as not recorded: PyTorch can save without CRCs
 * (torch.serialization.set_crc32_options) and loads such files. */
sam2_status zip_verify(const zip_archive *z);

/* Finds an entry by exact name, NULL if absent. */
const zip_entry *zip_find(const zip_archive *z, const char *name);

#endif
