/* edge_map.h - how strongly the image changes at each pixel, measured
 * against the image's own typical change, so that a mask whose outline runs
 * along edges of the image can be told from a piece cut out of a smooth or
 * noisy region. */
#ifndef SAM2_EDGE_MAP_H
#define SAM2_EDGE_MAP_H

#include <stdint.h>

#include "sam2.h"

/* Sigma of the Gaussian smoothing before the gradient: pixel noise of
 * low-contrast images would otherwise look like edges everywhere. */
#define EDGE_SMOOTH_SIGMA 1.5f

typedef struct edge_map {
    int width, height;
    float *g; /* (height, width) row-major: gradient magnitude / the image's median */
    int gray; /* 1: the image is gray (one colour channel, or three equal ones) */
} edge_map;

/* The least median gradient divided by: perfectly flat images would divide
 * by zero. */
#define EDGE_MIN_MEDIAN 0.5f

/* The Sobel gradient magnitude of img's luminance (0.299 R + 0.587 G +
 * 0.114 B, or the gray channel; 16-bit samples scaled to 0-255) after a
 * Gaussian of EDGE_SMOOTH_SIGMA, borders replicated, divided by the median
 * magnitude over the image (at least EDGE_MIN_MEDIAN): 1 is a typical
 * pixel. */
sam2_status edge_map_make(const sam2_image *img, edge_map *out);

void edge_map_free(edge_map *e);

/* The standard deviation of img's pixel noise, estimated from its luminance
 * (as for the edge map): 1.4826 times the median absolute deviation of the
 * 4-neighbour Laplacian over the image's interior, divided by sqrt(20), the
 * Laplacian's gain on independent noise; on integer gray levels the median
 * is read within its level's bin. Edges cover too few pixels to move the
 * median. 0 for images narrower or lower than 3 pixels. */
sam2_status image_noise_sigma(const sam2_image *img, float *sigma);

/* Fills lum (height * width, row-major) with img's luminance as above
 * (0.299 R + 0.587 G + 0.114 B, or the gray channel; 16-bit samples / 257);
 * returns 1 when the image is gray (one colour channel, or three equal ones). */
int image_luminance(const sam2_image *img, float *lum);

/* The median of v[0..n) (n > 0; the mean of the two middle values when n is
 * even), reordering v. */
float values_median(float *v, size_t n);

/* The median of the map over the outline of mask ((height, width)
 * row-major, nonzero inside): mask pixels with a 4-neighbour outside the
 * mask, pixels on the image's border left out (the image ends there, not
 * the object). 0 when the mask has no such pixel. scratch holds
 * width * height floats. */
float edge_outline_median(const edge_map *e, const uint8_t *mask, float *scratch);

/* The same for a mask inside a box of the image: mask is (bh, bw)
 * row-major with its origin at (x0, y0), and every pixel outside the box is
 * outside the mask. scratch holds bw * bh floats. */
float edge_outline_median_box(const edge_map *e, const uint8_t *mask, int x0, int y0, int bw, int bh, float *scratch);

/* The outline test of the masks --robust adds: an image's edge map and
 * the scratch to measure masks with. */
typedef struct outline_test {
    float min_edge;  /* the outline median a mask needs */
    edge_map edges;  /* .g NULL: no test, every mask passes */
    uint8_t *bits;   /* (height, width) a decoded mask */
    float *scratch;  /* (height, width) outline values */
} outline_test;

/* Prepares the test of min_edge on img (the size of the masks to come:
 * width x height, else an error). img NULL or min_edge 0: no test, and
 * no edge map unless keep_map asks for it (to measure outlines with). */
sam2_status outline_test_open(const sam2_image *img, float min_edge, int keep_map, int width, int height,
                              outline_test *t);

/* 1 when a mask whose outline median is median passes (always without a
 * test): for a median already measured. */
int outline_test_accepts(const outline_test *t, float median);

/* 1 when the (height, width) row-major mask passes (always without a test). */
int outline_test_passes(outline_test *t, const uint8_t *mask);

/* The same for a column-major RLE of the test's size, in *pass. */
sam2_status outline_test_passes_rle(outline_test *t, const int64_t *counts, int n_counts, int *pass);

void outline_test_close(outline_test *t);

#endif
