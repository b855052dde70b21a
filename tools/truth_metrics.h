/* truth_metrics.h - automatic masks against a ground-truth instance label
 * image: object recall, uncovered object pixels, split objects. Shared by
 * `sam2 tune --truth` and `sam2 eval`. */
#ifndef SAM2_TRUTH_METRICS_H
#define SAM2_TRUTH_METRICS_H

#include <stdint.h>

#include "sam2.h"

/* Object index per pixel (0 background), objects numbered 1..n_obj in
 * order of first appearance of their label. */
typedef struct truth_map {
    int w, h, n_obj;
    int *obj;        /* (h * w) */
    int64_t *area;   /* (n_obj + 1), area[0] the background */
} truth_map;

/* Builds the map from labels (w * h, 8- or 16-bit values in a uint16 view
 * when bit_depth is 16, else uint8). Returns 0, or -1 when out of memory. */
int truth_map_from_labels(const void *labels, int bit_depth, int w, int h, truth_map *t);

/* Reads a one-channel 8- or 16-bit label PNG/TIFF that must be w x h;
 * prints "sam2 CMD: ..." and returns -1 on any problem. */
int truth_map_load(const char *cmd, const char *path, int w, int h, truth_map *t);

void truth_map_free(truth_map *t);

/* Counts of one image (sums over images stay meaningful). An object is
 * found at IoU x when its best-IoU mask reaches x; it is split when two or
 * more masks each lie at least 80 % inside it, cover at least 10 % of it and
 * have IoU below 0.75 with it. */
typedef struct truth_counts {
    int objects, found50, found75, split;
    int64_t object_px, uncovered_px; /* object pixels, those under no mask */
    int masks;
} truth_counts;

/* Scores the masks of r (its size must be the map's); best_iou, when not
 * NULL (n_obj + 1 floats), gets each object's best mask IoU ([0] unused).
 * 0, or -1 (out of memory, bad RLE, size mismatch). */
int truth_map_score(const truth_map *t, const sam2_amg_result *r, truth_counts *c, float *best_iou);

/* How far each object stands out from what surrounds it: |median luminance
 * inside - median luminance of the pixels within TRUTH_RING_PX (city-block
 * distance) outside it, neighbouring objects included|, in 8-bit grey
 * levels (16-bit samples / 257), into contrast (n_obj + 1 floats, [0]
 * unused; 0 for an object with nothing around it). img must be the map's
 * size. 0, or -1 (out of memory, size mismatch). */
enum { TRUTH_RING_PX = 4 };
int truth_map_contrast(const truth_map *t, const sam2_image *img, float *contrast);

#endif
