/* grid_render.h - side-by-side pictures: tiles scaled to a common width,
 * laid out in rows, each with a caption below, on a white page. */
#ifndef SAM2_GRID_RENDER_H
#define SAM2_GRID_RENDER_H

#include <stdint.h>

#include "sam2.h"

typedef struct grid_tile {
    const uint8_t *rgb;   /* (h, w, 3) picture */
    int w, h;
    const char *caption;  /* lines split at '\n'; long lines wrap at spaces */
} grid_tile;

/* Default tile width for pictures of width w: legible captions (>= 320 px)
 * without huge pages (<= 512 px). */
int grid_default_tile_width(int w);

/* Renders n tiles in rows of cols (0: as square a page as possible), each
 * picture scaled to tile_w pixels wide. *out (malloc'd, (*out_h, *out_w, 3)).
 * 0 on success, -1 when out of memory or arguments are bad. */
int grid_render(const grid_tile *tiles, int n, int cols, int tile_w, uint8_t **out, int *out_w, int *out_h);

/* A copy of rgb (h, w, 3) with every mask of r drawn over it; malloc'd or NULL. */
uint8_t *grid_overlay(const uint8_t *rgb, const sam2_amg_result *r);

#endif
