/* amg_outputs.h - what people look at after the automatic mask generator:
 * overlays, 16-bit label maps and COCO instance files. */
#ifndef SAM2_AMG_OUTPUTS_H
#define SAM2_AMG_OUTPUTS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "sam2.h"

/* Indices of the masks sorted by decreasing area (ties: output order);
 * malloc'd, n_masks entries. */
int *amg_area_order(const sam2_amg_result *r);

/* Draws every mask over rgb (h, w, 3) at alpha 0.5 in a distinct colour,
 * largest first so small masks stay visible, with thin outlines. 0 or -1. */
int amg_draw_overlay(const sam2_amg_result *r, uint8_t *rgb);

/* Label image (h, w): 0 = no mask, id k+1 for the k-th largest mask; where
 * masks overlap the smaller one wins. malloc'd. */
uint16_t *amg_label_map(const sam2_amg_result *r);

/* A COCO instances object (images, annotations with RLE segmentation, area,
 * bbox, score, categories) for one image. */
cJSON *amg_coco_json(const sam2_amg_result *r, const char *file_name);

/* Fraction of pixels covered by at least one mask, and by two or more. */
void amg_coverage(const sam2_amg_result *r, double *covered, double *covered_twice);

#endif
