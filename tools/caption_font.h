/* caption_font.h - a small 5x7 bitmap font of printable ASCII, drawn at an
 * integer scale, for captions on rendered images. */
#ifndef SAM2_CAPTION_FONT_H
#define SAM2_CAPTION_FONT_H

#include <stdint.h>

#define FONT_GLYPH_W 5
#define FONT_GLYPH_H 7
#define FONT_ADVANCE 6     /* glyph + 1 column of spacing */
#define FONT_LINE 10       /* glyph + 3 rows of spacing */

/* Width in pixels of the first n characters of s at the given scale. */
int font_text_width(const char *s, int n, int scale);

/* Draws the first n characters of s with the top-left corner of the first
 * glyph at (x, y) into rgb (w, h, 3), clipped to the image. Characters
 * outside printable ASCII are drawn as '?'. */
void font_draw_text(uint8_t *rgb, int w, int h, int x, int y, const char *s, int n, int scale,
                    const uint8_t color[3]);

#endif
