/* truth_metrics.c - see truth_metrics.h. */
#include "truth_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_map.h"
#include "image_io.h"

int truth_map_from_labels(const void *labels, int bit_depth, int w, int h, truth_map *t) {
    memset(t, 0, sizeof *t);
    const size_t np = (size_t)w * h;
    int *map = calloc(65536, sizeof *map); /* label -> object index */
    t->obj = malloc(sizeof(int) * (np ? np : 1));
    int rc = -1;
    if (map && t->obj) {
        for (size_t i = 0; i < np; i++) {
            const int v = bit_depth == 16 ? ((const uint16_t *)labels)[i] : ((const uint8_t *)labels)[i];
            if (v && !map[v]) map[v] = ++t->n_obj;
            t->obj[i] = v ? map[v] : 0;
        }
        t->area = calloc((size_t)t->n_obj + 1, sizeof *t->area);
        if (t->area) {
            for (size_t i = 0; i < np; i++) t->area[t->obj[i]]++;
            t->w = w, t->h = h;
            rc = 0;
        }
    }
    free(map);
    if (rc) truth_map_free(t);
    return rc;
}

int truth_map_load(const char *cmd, const char *path, int w, int h, truth_map *t) {
    memset(t, 0, sizeof *t);
    image_file f;
    if (image_file_read(path, &f) != SAM2_OK)
        return fprintf(stderr, "sam2 %s: labels: %s\n", cmd, sam2_last_error()), -1;
    int rc = -1;
    if (f.channels != 1)
        fprintf(stderr, "sam2 %s: labels %s have %d channels; expected a one-channel label image\n", cmd, path,
                f.channels);
    else if (f.width != w || f.height != h)
        fprintf(stderr, "sam2 %s: labels %s are %d x %d but the image is %d x %d\n", cmd, path, f.width, f.height, w,
                h);
    else if ((rc = truth_map_from_labels(f.pixels, f.bit_depth, w, h, t)) != 0)
        fprintf(stderr, "sam2 %s: out of memory for the labels of %s\n", cmd, path);
    image_file_free(&f);
    return rc;
}

void truth_map_free(truth_map *t) {
    free(t->obj), free(t->area);
    memset(t, 0, sizeof *t);
}

int truth_map_score(const truth_map *t, const sam2_amg_result *r, truth_counts *c, float *best_iou) {
    memset(c, 0, sizeof *c);
    if (r->width != t->w || r->height != t->h) return -1;
    const size_t np = (size_t)t->w * t->h;
    const int n = t->n_obj;
    uint8_t *mask = malloc(np ? np : 1), *covered = calloc(np ? np : 1, 1);
    int64_t *inter = calloc((size_t)n + 1, sizeof *inter);
    double *best = calloc((size_t)n + 1, sizeof *best);
    int *parts = calloc((size_t)n + 1, sizeof *parts);
    int rc = mask && covered && inter && best && parts ? 0 : -1;
    for (int k = 0; k < r->n_masks && rc == 0; k++) {
        const sam2_amg_mask *m = &r->masks[k];
        if (sam2_rle_decode(m->counts, m->n_counts, r->height, r->width, mask) != SAM2_OK) {
            rc = -1;
            break;
        }
        memset(inter, 0, sizeof *inter * ((size_t)n + 1));
        int64_t area = 0;
        for (size_t i = 0; i < np; i++) {
            inter[t->obj[i]] += mask[i];
            area += mask[i];
            covered[i] |= mask[i];
        }
        for (int o = 1; o <= n; o++) {
            if (!inter[o]) continue;
            const double iou = (double)inter[o] / (double)(t->area[o] + area - inter[o]);
            if (iou > best[o]) best[o] = iou;
            if (inter[o] >= 0.8 * (double)area && inter[o] >= 0.1 * (double)t->area[o] && iou < 0.75) parts[o]++;
        }
    }
    if (rc == 0) {
        c->objects = n, c->masks = r->n_masks;
        for (int o = 1; o <= n; o++) {
            c->found50 += best[o] >= 0.5, c->found75 += best[o] >= 0.75;
            c->split += parts[o] >= 2;
            c->object_px += t->area[o];
            if (best_iou) best_iou[o] = (float)best[o];
        }
        for (size_t i = 0; i < np; i++) c->uncovered_px += t->obj[i] && !covered[i];
    }
    free(mask), free(covered), free(inter), free(best), free(parts);
    return rc;
}

/* City-block distance to object o within a box (two passes), capped at
 * TRUTH_RING_PX + 1: the object's ring is where it is 1 .. TRUTH_RING_PX. */
static void ring_distance(const truth_map *t, int o, int x0, int y0, int bw, int bh, uint8_t *d) {
    const uint8_t far = TRUTH_RING_PX + 1;
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            uint8_t v = t->obj[(size_t)(y0 + y) * t->w + x0 + x] == o ? 0 : far;
            if (x && d[y * bw + x - 1] + 1 < v) v = (uint8_t)(d[y * bw + x - 1] + 1);
            if (y && d[(y - 1) * bw + x] + 1 < v) v = (uint8_t)(d[(y - 1) * bw + x] + 1);
            d[y * bw + x] = v;
        }
    for (int y = bh - 1; y >= 0; y--)
        for (int x = bw - 1; x >= 0; x--) {
            uint8_t v = d[y * bw + x];
            if (x + 1 < bw && d[y * bw + x + 1] + 1 < v) v = (uint8_t)(d[y * bw + x + 1] + 1);
            if (y + 1 < bh && d[(y + 1) * bw + x] + 1 < v) v = (uint8_t)(d[(y + 1) * bw + x] + 1);
            d[y * bw + x] = v;
        }
}

/* Object o's box widened by TRUTH_RING_PX within the image: x0, y0, w, h. */
static void ring_box(const truth_map *t, const int *box, int o, int *rb) {
    const int *b = &box[4 * o];
    rb[0] = b[0] > TRUTH_RING_PX ? b[0] - TRUTH_RING_PX : 0;
    rb[1] = b[1] > TRUTH_RING_PX ? b[1] - TRUTH_RING_PX : 0;
    rb[2] = (b[2] + TRUTH_RING_PX < t->w ? b[2] + TRUTH_RING_PX : t->w - 1) - rb[0] + 1;
    rb[3] = (b[3] + TRUTH_RING_PX < t->h ? b[3] + TRUTH_RING_PX : t->h - 1) - rb[1] + 1;
}

int truth_map_contrast(const truth_map *t, const sam2_image *img, float *contrast) {
    if (!img || img->width != t->w || img->height != t->h) return -1;
    const size_t np = (size_t)t->w * t->h;
    const int n = t->n_obj;
    int *box = malloc(sizeof *box * 4 * ((size_t)n + 1)); /* x0, y0, x1, y1 per object */
    if (!box) return -1;
    for (int o = 0; o <= n; o++) box[4 * o] = t->w, box[4 * o + 1] = t->h, box[4 * o + 2] = box[4 * o + 3] = -1;
    for (int y = 0; y < t->h; y++)
        for (int x = 0; x < t->w; x++) {
            int *b = &box[4 * t->obj[(size_t)y * t->w + x]];
            if (x < b[0]) b[0] = x;
            if (y < b[1]) b[1] = y;
            if (x > b[2]) b[2] = x;
            if (y > b[3]) b[3] = y;
        }
    /* scratch for the largest widened box only: the values inside an
     * object fill it from the front, its ring's from the back */
    size_t most = 1;
    for (int o = 1; o <= n; o++) {
        int rb[4];
        ring_box(t, box, o, rb);
        if ((size_t)rb[2] * rb[3] > most) most = (size_t)rb[2] * rb[3];
    }
    float *lum = malloc(sizeof *lum * (np ? np : 1)), *vals = malloc(sizeof *vals * most);
    uint8_t *d = malloc(most);
    const int rc = lum && vals && d ? 0 : -1;
    if (rc == 0) {
        image_luminance(img, lum);
        contrast[0] = 0;
        for (int o = 1; o <= n; o++) {
            int rb[4];
            ring_box(t, box, o, rb);
            const int bw = rb[2], bh = rb[3];
            ring_distance(t, o, rb[0], rb[1], bw, bh, d);
            size_t ni = 0, nr = 0;
            for (int y = 0; y < bh; y++)
                for (int x = 0; x < bw; x++) {
                    const float v = lum[(size_t)(rb[1] + y) * t->w + rb[0] + x];
                    if (!d[y * bw + x]) vals[ni++] = v;
                    else if (d[y * bw + x] <= TRUTH_RING_PX) vals[most - ++nr] = v;
                }
            contrast[o] = ni && nr ? fabsf(values_median(vals, ni) - values_median(vals + most - nr, nr)) : 0.0f;
        }
    }
    free(lum), free(vals), free(d), free(box);
    return rc;
}
