/* cli_io.h - file-level helpers of the CLI: images in, PNGs out, outputs that
 * never overwrite a user's file unasked. */
#ifndef SAM2_CLI_IO_H
#define SAM2_CLI_IO_H

#include <stdint.h>

#include "cli.h"

typedef struct cli_image {
    sam2_image img;   /* view of the decoded pixels */
    void *owned;      /* decoder-owned storage */
} cli_image;

/* Decodes an image file; prints "sam2 CMD: ..." and returns -1 on failure. */
int cli_load_image(const char *cmd, const char *path, cli_image *out);
void cli_image_free(cli_image *img);

/* 8-bit RGB copy of an image (PIL convert("RGB") semantics); malloc'd. */
uint8_t *cli_image_rgb8(const cli_image *img, sam2_depth_mode depth);

/* Returns 0 if `path` may be written: it does not exist, or overwrite is set.
 * Prints an error naming the file otherwise. */
int cli_check_output(const char *path, int overwrite);

/* PNG writers; 0 on success, prints an error otherwise. */
int cli_write_png_gray8(const char *path, const uint8_t *px, int w, int h);
int cli_write_png_rgb8(const char *path, const uint8_t *px, int w, int h);
int cli_write_png_gray16(const char *path, const uint16_t *px, int w, int h);

/* Parses "scale" / "window"; 0 on success. */
int cli_parse_depth(const char *s, sam2_depth_mode *out);

/* Applies -t to the BLAS library's thread pool (process-wide). */
void cli_apply_threads(const cli_common *c);

/* A whole file (under 256 MiB) as a NUL-terminated string the caller
 * frees; NULL after a message naming it. */
char *cli_read_text(const char *cmd, const char *path);

/* Parses a JSON file; prints "sam2 CMD: ..." and returns NULL on failure. */
struct cJSON *cli_read_json(const char *cmd, const char *path);

/* Writes j as JSON text and a newline to a temporary name renamed to path,
 * so that a file that exists is complete; refuses to replace a file unless
 * overwrite. 0, or -1 after printing "sam2 CMD: cannot write PATH". */
int cli_write_json(const char *cmd, const char *path, const struct cJSON *j, int pretty, int overwrite);

#endif
