/* amg_geometry.h - the geometry of the automatic mask generator: crop boxes
 * per layer, point grids per layer, the crop-edge filter, and recovery of the
 * decimal value behind a float parameter (the reference computes with Python
 * floats, i.e. doubles). */
#ifndef SAM2_AMG_GEOMETRY_H
#define SAM2_AMG_GEOMETRY_H

#include "sam2.h"

/* One crop of the image: [x0, x1) x [y0, y1) and its layer (0 = whole image). */
typedef struct amg_crop {
    int x0, y0, x1, y1;
    int layer;
} amg_crop;

/* Number of crops for n_layers extra layers: 1 + 4 + 16 + ... */
int amg_n_crops(int n_layers);

/* Fills crops (room for amg_n_crops(n_layers)) as the reference's
 * generate_crop_boxes: the whole image, then for layer i = 1..n_layers a grid
 * of 2^i x 2^i crops overlapping by int(overlap_ratio * min(h, w) * 2 / 2^i)
 * pixels, enumerated x0-major. Returns the number written. */
int amg_crop_boxes(int width, int height, int n_layers, double overlap_ratio, amg_crop *crops);

/* Points per side in layer `layer`: int(points_per_side / factor^layer). */
int amg_layer_points_per_side(int points_per_side, int factor, int layer);

/* Writes the n x n grid of normalised (x, y) cell centres in [0, 1]
 * (numpy linspace(1/(2n), 1 - 1/(2n), n) in float64, x varying fastest)
 * to xy (2 * n * n doubles). */
void amg_point_grid(int n, double *xy);

/* Scales normalised points (n, 2) to a crop of w x h pixels in float64 and
 * rounds them to float32 (the reference's float64 product then torch
 * float32 conversion). */
void amg_scale_points(const double *xy, int n, int w, int h, float *out);

/* The crop-edge filter: box (x0, y0, x1, y1) inclusive, in crop pixels, is
 * near a crop edge (|d| <= 20 px in image coordinates) that is not also near
 * the same edge of the whole image (width x height). Returns 1 if the
 * reference would drop the mask. */
int amg_box_near_crop_edge(const int box[4], const amg_crop *crop, int width, int height);

/* The double the user most likely meant by float v: the shortest decimal
 * that rounds to v (e.g. 0.7f -> 0.7), and exactly 512/1500 for the default
 * crop_overlap_ratio. Non-finite values pass through. */
double amg_float_as_decimal(float v);

#endif
