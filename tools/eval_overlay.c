/* eval_overlay.c - see eval_overlay.h. */
#include "eval_overlay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid_render.h"
#include "overlay.h"

const uint8_t EVAL_FOUND75_RGB[3] = {30, 200, 60};
const uint8_t EVAL_FOUND50_RGB[3] = {240, 200, 20};
const uint8_t EVAL_MISSED_RGB[3] = {230, 30, 30};

uint8_t *eval_truth_picture(const uint8_t *rgb, const truth_map *t, const float *best_iou) {
    const size_t np = (size_t)t->w * t->h;
    uint8_t *out = malloc(np ? 3 * np : 1), (*colors)[3] = malloc(sizeof *colors * ((size_t)t->n_obj + 1));
    if (!out || !colors) {
        free(out), free(colors);
        return NULL;
    }
    memcpy(out, rgb, 3 * np);
    for (int o = 1; o <= t->n_obj; o++)
        memcpy(colors[o], best_iou[o] >= 0.75f ? EVAL_FOUND75_RGB : best_iou[o] >= 0.5f ? EVAL_FOUND50_RGB : EVAL_MISSED_RGB,
               3);
    overlay_draw_labels(out, t->w, t->h, t->obj, (const uint8_t(*)[3])colors);
    free(colors);
    return out;
}

int eval_overlay_page(const uint8_t *rgb, const truth_map *t, const sam2_amg_result *r, const float *best_iou,
                      const char *name, uint8_t **page, int *pw, int *ph) {
    *page = NULL;
    if (r->width != t->w || r->height != t->h) return -1;
    int found75 = 0, found50 = 0;
    for (int o = 1; o <= t->n_obj; o++) found75 += best_iou[o] >= 0.75f, found50 += best_iou[o] >= 0.5f;
    char cap_masks[512], cap_truth[256];
    snprintf(cap_masks, sizeof cap_masks, "%s\n%d mask%s", name, r->n_masks, r->n_masks == 1 ? "" : "s");
    snprintf(cap_truth, sizeof cap_truth, "%d objects: %d found at IoU 0.75 (green), %d at 0.5 only (yellow), %d missed (red)",
             t->n_obj, found75, found50 - found75, t->n_obj - found50);
    uint8_t *masks = grid_overlay(rgb, r), *truth = eval_truth_picture(rgb, t, best_iou);
    int rc = -1;
    if (masks && truth) {
        const grid_tile tiles[2] = {{masks, t->w, t->h, cap_masks}, {truth, t->w, t->h, cap_truth}};
        rc = grid_render(tiles, 2, 2, grid_default_tile_width(t->w), page, pw, ph);
    }
    free(masks), free(truth);
    return rc;
}
