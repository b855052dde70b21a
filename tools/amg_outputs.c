/* amg_outputs.c - overlays, label maps, COCO files and coverage figures from
 * an AMG result (masks decoded from their RLE one at a time). */
#include "amg_outputs.h"

#include <stdlib.h>
#include <string.h>

#include "overlay.h"



int *amg_area_order(const sam2_amg_result *r) {

    int n = r->n_masks;
    int *idx = malloc(sizeof(int) * (n ? n : 1));
    if (!idx) return NULL;
    for (int i = 0; i < n; i++) idx[i] = i;
    /* insertion sort keeps ties in output order; n is at most a few thousand */
    for (int i = 1; i < n; i++) {
        int v = idx[i], j = i - 1;
        while (j >= 0 && r->masks[idx[j]].area < r->masks[v].area) {
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = v;
    }
    return idx;
}

int amg_draw_overlay(const sam2_amg_result *r, uint8_t *rgb) {
    size_t np = (size_t)r->width * r->height;
    uint8_t *mask = malloc(np ? np : 1);
    int *order = amg_area_order(r);
    if (!mask || !order) {
        free(mask), free(order);
        return -1;
    }
    for (int k = 0; k < r->n_masks; k++) {
        const sam2_amg_mask *m = &r->masks[order[k]];
        if (sam2_rle_decode(m->counts, m->n_counts, r->height, r->width, mask) != SAM2_OK) continue;
        uint8_t col[3];
        overlay_color(k, col);
        overlay_draw_mask(rgb, r->width, r->height, mask, col);
    }
    free(mask);
    free(order);
    return 0;
}

uint16_t *amg_label_map(const sam2_amg_result *r) {
    size_t np = (size_t)r->width * r->height;
    uint16_t *labels = calloc(np ? np : 1, sizeof(uint16_t));
    uint8_t *mask = malloc(np ? np : 1);
    int *order = amg_area_order(r);
    if (!labels || !mask || !order) {
        free(labels), free(mask), free(order);
        return NULL;
    }
    for (int k = 0; k < r->n_masks && k < 65535; k++) {
        const sam2_amg_mask *m = &r->masks[order[k]];
        if (sam2_rle_decode(m->counts, m->n_counts, r->height, r->width, mask) != SAM2_OK) continue;
        for (size_t i = 0; i < np; i++)
            if (mask[i]) labels[i] = (uint16_t)(k + 1);
    }
    free(mask);
    free(order);
    return labels;
}

cJSON *amg_coco_json(const sam2_amg_result *r, const char *file_name) {
    cJSON *root = cJSON_CreateObject();
    cJSON *images = cJSON_AddArrayToObject(root, "images");
    cJSON *im = cJSON_CreateObject();
    cJSON_AddNumberToObject(im, "id", 1);
    cJSON_AddStringToObject(im, "file_name", file_name);
    cJSON_AddNumberToObject(im, "width", r->width);
    cJSON_AddNumberToObject(im, "height", r->height);
    cJSON_AddItemToArray(images, im);
    cJSON *anns = cJSON_AddArrayToObject(root, "annotations");
    for (int i = 0; i < r->n_masks; i++) {
        const sam2_amg_mask *m = &r->masks[i];
        char *counts = NULL;
        if (sam2_rle_to_coco_string(m->counts, m->n_counts, &counts) != SAM2_OK) {
            cJSON_Delete(root);
            return NULL;
        }
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", i + 1);
        cJSON_AddNumberToObject(a, "image_id", 1);
        cJSON_AddNumberToObject(a, "category_id", 1);
        cJSON *seg = cJSON_AddObjectToObject(a, "segmentation");
        cJSON *size = cJSON_AddArrayToObject(seg, "size");
        cJSON_AddItemToArray(size, cJSON_CreateNumber(r->height));
        cJSON_AddItemToArray(size, cJSON_CreateNumber(r->width));
        cJSON_AddStringToObject(seg, "counts", counts);
        free(counts);
        cJSON_AddNumberToObject(a, "area", (double)m->area);
        cJSON_AddItemToObject(a, "bbox", cJSON_CreateFloatArray(m->bbox, 4));
        cJSON_AddNumberToObject(a, "score", m->predicted_iou);
        cJSON_AddNumberToObject(a, "stability_score", m->stability_score);
        cJSON_AddNumberToObject(a, "iscrowd", 0);
        cJSON_AddItemToArray(anns, a);
    }
    cJSON *cats = cJSON_AddArrayToObject(root, "categories");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "id", 1);
    cJSON_AddStringToObject(c, "name", "object");
    cJSON_AddItemToArray(cats, c);
    return root;
}

void amg_coverage(const sam2_amg_result *r, double *covered, double *covered_twice) {
    size_t np = (size_t)r->width * r->height;
    uint8_t *count = calloc(np ? np : 1, 1);
    uint8_t *mask = malloc(np ? np : 1);
    *covered = *covered_twice = 0;
    if (!count || !mask || !np) {
        free(count), free(mask);
        return;
    }
    for (int k = 0; k < r->n_masks; k++) {
        const sam2_amg_mask *m = &r->masks[k];
        if (sam2_rle_decode(m->counts, m->n_counts, r->height, r->width, mask) != SAM2_OK) continue;
        for (size_t i = 0; i < np; i++)
            if (mask[i] && count[i] < 255) count[i]++;
    }
    size_t c1 = 0, c2 = 0;
    for (size_t i = 0; i < np; i++) c1 += count[i] >= 1, c2 += count[i] >= 2;
    *covered = (double)c1 / np;
    *covered_twice = (double)c2 / np;
    free(count);
    free(mask);
}
