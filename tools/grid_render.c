/* grid_render.c - the comparison page of `sam2 compare` and `sam2 tune`:
 * tiles of equal width (box-averaged down, nearest-neighbour up so mask
 * edges stay crisp), wrapped captions in the built-in font. */
#include "grid_render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "amg_outputs.h"
#include "caption_font.h"

#define GRID_MARGIN 10
#define GRID_MAX_LINES 24

int grid_default_tile_width(int w) { return w < 320 ? 320 : w > 512 ? 512 : w; }

static int caption_scale(int tile_w) { return tile_w >= 300 ? 2 : 1; }

/* Splits a caption into lines of at most max_chars characters: at '\n',
 * then greedily at spaces (a longer word is cut). Returns the line count. */
static int wrap_caption(const char *cap, int max_chars, int *start, int *len) {
    int n = 0;
    if (!cap || max_chars < 1) return 0;
    const int total = (int)strlen(cap);
    int p = 0;
    while (p < total && n < GRID_MAX_LINES) {
        int end = p;
        while (end < total && cap[end] != '\n') end++;
        /* the paragraph [p, end) */
        while (n < GRID_MAX_LINES) {
            int rest = end - p;
            if (rest <= max_chars) {
                start[n] = p, len[n++] = rest;
                break;
            }
            int cut = p + max_chars;
            while (cut > p && cap[cut] != ' ') cut--;
            if (cut == p) cut = p + max_chars; /* one long word */
            start[n] = p, len[n++] = cut - p;
            p = cut;
            while (p < end && cap[p] == ' ') p++;
        }
        p = end + 1;
    }
    return n;
}

/* Scales src (sw, sh) into dst (dw, dh) at position (x, y) of a page of width pw. */
static void blit_scaled(const uint8_t *src, int sw, int sh, uint8_t *page, int pw, int x, int y, int dw, int dh) {
    for (int oy = 0; oy < dh; oy++) {
        int y0 = (int)((int64_t)oy * sh / dh), y1 = (int)((int64_t)(oy + 1) * sh / dh);
        if (y1 <= y0) y1 = y0 + 1;
        for (int ox = 0; ox < dw; ox++) {
            int x0 = (int)((int64_t)ox * sw / dw), x1 = (int)((int64_t)(ox + 1) * sw / dw);
            if (x1 <= x0) x1 = x0 + 1;
            uint32_t acc[3] = {0, 0, 0}, cnt = 0;
            for (int sy = y0; sy < y1; sy++)
                for (int sx = x0; sx < x1; sx++) {
                    const uint8_t *p = src + 3 * ((size_t)sy * sw + sx);
                    acc[0] += p[0], acc[1] += p[1], acc[2] += p[2], cnt++;
                }
            uint8_t *d = page + 3 * ((size_t)(y + oy) * pw + x + ox);
            for (int k = 0; k < 3; k++) d[k] = (uint8_t)((acc[k] + cnt / 2) / cnt);
        }
    }
}

int grid_render(const grid_tile *tiles, int n, int cols, int tile_w, uint8_t **out, int *out_w, int *out_h) {
    *out = NULL;
    if (n < 1 || tile_w < 16 || tile_w > 8192) return -1;
    for (int i = 0; i < n; i++)
        if (!tiles[i].rgb || tiles[i].w < 1 || tiles[i].h < 1) return -1;
    if (cols < 1) cols = (int)ceil(sqrt((double)n));
    if (cols > n) cols = n;
    const int rows = (n + cols - 1) / cols, scale = caption_scale(tile_w);
    const int max_chars = (tile_w + scale) / (FONT_ADVANCE * scale), line_h = FONT_LINE * scale;
    /* each row is as tall as its tallest picture + caption */
    int *row_h = calloc((size_t)rows, sizeof *row_h);
    if (!row_h) return -1;
    int start[GRID_MAX_LINES], len[GRID_MAX_LINES];
    for (int i = 0; i < n; i++) {
        const int ph = (int)(((int64_t)tiles[i].h * tile_w + tiles[i].w / 2) / tiles[i].w);
        const int nl = wrap_caption(tiles[i].caption, max_chars, start, len);
        const int cell = (ph < 1 ? 1 : ph) + (nl ? 6 + nl * line_h : 0);
        if (cell > row_h[i / cols]) row_h[i / cols] = cell;
    }
    int64_t W = GRID_MARGIN + (int64_t)cols * (tile_w + GRID_MARGIN), H = GRID_MARGIN;
    for (int r = 0; r < rows; r++) H += row_h[r] + GRID_MARGIN;
    if (W > SAM2_MAX_IMAGE_SIDE || H > SAM2_MAX_IMAGE_SIDE) {
        free(row_h);
        return -1;
    }
    uint8_t *page = malloc((size_t)W * (size_t)H * 3);
    if (!page) {
        free(row_h);
        return -1;
    }
    memset(page, 255, (size_t)W * (size_t)H * 3);
    static const uint8_t ink[3] = {20, 20, 20};
    int y = GRID_MARGIN;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols && r * cols + c < n; c++) {
            const grid_tile *t = &tiles[r * cols + c];
            const int x = GRID_MARGIN + c * (tile_w + GRID_MARGIN);
            int ph = (int)(((int64_t)t->h * tile_w + t->w / 2) / t->w);
            if (ph < 1) ph = 1;
            blit_scaled(t->rgb, t->w, t->h, page, (int)W, x, y, tile_w, ph);
            const int nl = wrap_caption(t->caption, max_chars, start, len);
            for (int l = 0; l < nl; l++)
                font_draw_text(page, (int)W, (int)H, x, y + ph + 6 + l * line_h, t->caption + start[l], len[l], scale,
                               ink);
        }
        y += row_h[r] + GRID_MARGIN;
    }
    free(row_h);
    *out = page, *out_w = (int)W, *out_h = (int)H;
    return 0;
}

uint8_t *grid_overlay(const uint8_t *rgb, const sam2_amg_result *r) {
    const size_t n = (size_t)r->width * r->height * 3;
    uint8_t *o = malloc(n ? n : 1);
    if (!o) return NULL;
    memcpy(o, rgb, n);
    if (amg_draw_overlay(r, o) != 0) {
        free(o);
        return NULL;
    }
    return o;
}
