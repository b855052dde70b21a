/* overlay.h - draws masks over an image for people to look at. */
#ifndef SAM2_OVERLAY_H
#define SAM2_OVERLAY_H

#include <stdint.h>

/* A distinct colour for mask number k (golden-angle hue walk). */
void overlay_color(int k, uint8_t rgb[3]);

/* Blends mask (h, w; nonzero = inside) into rgb (h, w, 3) with the given
 * colour at alpha 0.5, and draws its 1-px outline in a darker shade. */
void overlay_draw_mask(uint8_t *rgb, int w, int h, const uint8_t *mask, const uint8_t color[3]);

/* Blends every labelled region (label[i] > 0, (h, w)) into rgb like
 * overlay_draw_mask, region k in colors[k], with a 1-px outline where a
 * 4-neighbour has another label (neighbouring regions stay apart): one pass
 * for all regions. */
void overlay_draw_labels(uint8_t *rgb, int w, int h, const int *label, const uint8_t (*colors)[3]);

/* Draws a filled disc marker (a click) at (x, y): green for positive, red
 * for negative, with a white ring. */
void overlay_draw_point(uint8_t *rgb, int w, int h, float x, float y, int positive);

/* Draws a rectangle outline (x0, y0, x1, y1) in the given colour. */
void overlay_draw_box(uint8_t *rgb, int w, int h, const float box[4], const uint8_t color[3]);

#endif
