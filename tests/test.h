/* test.h - a minimal test harness: CHECK records failures and keeps going;
 * TEST_MAIN_END prints "N passed, N failed" and sets the exit code. */
#ifndef SAM2_TEST_H
#define SAM2_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_io.h"
#include "npy.h"
#include "sam2.h"

typedef struct test_state {
    int passed, failed;
} test_state;

extern test_state g_test; /* one per test executable (test code only) */

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            g_test.passed++;                                               \
        } else {                                                           \
            g_test.failed++;                                               \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

/* CHECK_OK(call): the call returns SAM2_OK (prints sam2_last_error otherwise). */
#define CHECK_OK(call)                                                                 \
    do {                                                                               \
        sam2_status st_ = (call);                                                      \
        CHECK(st_ == SAM2_OK, "%s -> %s: %s", #call, sam2_status_str(st_), sam2_last_error()); \
    } while (0)

int test_finish(void);

/* Paths: $SAM2_SOURCE_DIR, $SAM2_FIXTURES, $SAM2_GOLDEN (may not exist). */
const char *test_source_dir(void);
const char *test_fixtures_dir(void);
/* Returns the golden directory if it exists, else NULL (tests then use fixtures). */
const char *test_golden_dir(void);
int test_file_exists(const char *path);

/* Compares two float arrays: max |a-b| <= atol + rtol*|b|. Prints a line with
 * the max absolute and relative error under `label`; returns 1 if within. */
int test_compare(const char *label, const float *got, const float *want, int64_t n, float atol,
                 float rtol);

/* Reads a whole file into a malloc'd buffer (NUL-terminated); NULL on failure. */
char *test_read_file(const char *path, size_t *size);

/* The demo model on a shapes-dev image: $SAM2_SOURCE_DIR/models/sam2-demo-
 * shapes.{pt,yaml} and $SAM2_BENCH/shapes-dev/images/<name> in a context of
 * 2 threads, the image also as a view. test_demo_open returns 1 when all is
 * ready (test_demo_close it); 0 after saying why not (a missing file skips,
 * a failed load also counts as a failure). */
typedef struct test_demo {
    sam2_model *model;
    sam2_ctx *ctx;
    image_file file;
    sam2_image img;
} test_demo;
int test_demo_open(const char *name, test_demo *d);
void test_demo_close(test_demo *d);

/* The official AMG parameters of the strict shapes-dev baseline: 16 x 16
 * points, pred_iou_thresh 0.5, stability_score_thresh 0.8. */
sam2_amg_params test_strict_params(void);

/* A generator record of the (H, W) mask m (row-major, 0/1): RLE, area and box
 * from the pixels, the given predicted IoU and stability, click (px, 1), the
 * whole image as crop box. */
sam2_amg_mask test_mask_record(const uint8_t *m, int H, int W, float iou, float stability, float px);

#endif
