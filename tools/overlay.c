/* overlay.c - mask overlays: alpha blending, outlines, click markers. */
#include "overlay.h"

#include <math.h>

void overlay_color(int k, uint8_t rgb[3]) {
    /* hue steps of the golden angle keep neighbours apart; two saturation
     * levels alternate so that many masks stay distinguishable */
    double h = fmod(k * 137.508, 360.0) / 60.0;
    double s = (k / 7) % 2 ? 0.55 : 0.85, v = 0.95;
    int i = (int)h;
    double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double r, g, b;
    switch (i % 6) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
    }
    rgb[0] = (uint8_t)lround(r * 255);
    rgb[1] = (uint8_t)lround(g * 255);
    rgb[2] = (uint8_t)lround(b * 255);
}

/* A region's pixel: half the colour inside, the colour darkened on its outline. */
static void shade(uint8_t *p, const uint8_t color[3], int edge) {
    for (int c = 0; c < 3; c++) p[c] = edge ? (uint8_t)(color[c] * 6 / 10) : (uint8_t)((p[c] + color[c] + 1) / 2);
}

void overlay_draw_mask(uint8_t *rgb, int w, int h, const uint8_t *mask, const uint8_t color[3]) {
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            long i = (long)y * w + x;
            if (!mask[i]) continue;
            uint8_t *p = rgb + 3 * i;
            shade(p, color, x == 0 || y == 0 || x == w - 1 || y == h - 1 || !mask[i - 1] || !mask[i + 1] ||
                                !mask[i - w] || !mask[i + w]);
        }
    }
}

void overlay_draw_labels(uint8_t *rgb, int w, int h, const int *label, const uint8_t (*colors)[3]) {
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const long i = (long)y * w + x;
            const int k = label[i];
            if (k <= 0) continue;
            uint8_t *p = rgb + 3 * i;
            shade(p, colors[k], x == 0 || y == 0 || x == w - 1 || y == h - 1 || label[i - 1] != k ||
                                    label[i + 1] != k || label[i - w] != k || label[i + w] != k);
        }
    }
}

static void put(uint8_t *rgb, int w, int h, int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    uint8_t *p = rgb + 3 * ((long)y * w + x);
    p[0] = r, p[1] = g, p[2] = b;
}

void overlay_draw_point(uint8_t *rgb, int w, int h, float x, float y, int positive) {
    int r = (w > h ? w : h) / 120 + 3;
    int cx = (int)lroundf(x), cy = (int)lroundf(y);
    for (int dy = -r - 1; dy <= r + 1; dy++) {
        for (int dx = -r - 1; dx <= r + 1; dx++) {
            int d2 = dx * dx + dy * dy;
            if (d2 <= r * r) put(rgb, w, h, cx + dx, cy + dy, positive ? 30 : 230, positive ? 200 : 30, 40);
            else if (d2 <= (r + 1) * (r + 1)) put(rgb, w, h, cx + dx, cy + dy, 255, 255, 255);
        }
    }
}

void overlay_draw_box(uint8_t *rgb, int w, int h, const float box[4], const uint8_t color[3]) {
    int x0 = (int)lroundf(box[0]), y0 = (int)lroundf(box[1]);
    int x1 = (int)lroundf(box[2]), y1 = (int)lroundf(box[3]);
    for (int t = 0; t < 2; t++) {
        for (int x = x0; x <= x1; x++) {
            put(rgb, w, h, x, y0 + t, color[0], color[1], color[2]);
            put(rgb, w, h, x, y1 - t, color[0], color[1], color[2]);
        }
        for (int y = y0; y <= y1; y++) {
            put(rgb, w, h, x0 + t, y, color[0], color[1], color[2]);
            put(rgb, w, h, x1 - t, y, color[0], color[1], color[2]);
        }
    }
}
