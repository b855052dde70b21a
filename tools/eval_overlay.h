/* eval_overlay.h - what `sam2 eval --overlays` draws for one image: the
 * masks over the image beside the ground-truth objects, each coloured by
 * whether a mask found it, so that the objects a setting misses are seen,
 * not only counted. */
#ifndef SAM2_EVAL_OVERLAY_H
#define SAM2_EVAL_OVERLAY_H

#include <stdint.h>

#include "sam2.h"
#include "truth_metrics.h"

/* The colours of the truth picture: found at IoU 0.75, at 0.5 only, missed. */
extern const uint8_t EVAL_FOUND75_RGB[3], EVAL_FOUND50_RGB[3], EVAL_MISSED_RGB[3];

/* A copy of rgb (t->h, t->w, 3) with every object of t drawn over it in the
 * colour its best mask IoU (best_iou[1..n_obj]) earns; malloc'd, or NULL
 * when out of memory. */
uint8_t *eval_truth_picture(const uint8_t *rgb, const truth_map *t, const float *best_iou);

/* The page for one image: the masks of r over rgb, then the truth picture,
 * side by side with captions (name, masks, objects found and missed).
 * *page: malloc'd (*ph, *pw, 3). 0, or -1 when out of memory or r is not
 * t's size. */
int eval_overlay_page(const uint8_t *rgb, const truth_map *t, const sam2_amg_result *r, const float *best_iou,
                      const char *name, uint8_t **page, int *pw, int *ph);

#endif
