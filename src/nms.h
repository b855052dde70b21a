/* nms.h - greedy box non-maximum suppression with the semantics of
 * torchvision.ops.batched_nms called with a single category (what the
 * automatic mask generator does). */
#ifndef SAM2_NMS_H
#define SAM2_NMS_H

#include "sam2.h"

/* Runs NMS on n boxes (n, 4) xyxy (float32, as torchvision gets them from
 * boxes.float()) with scores (n). Boxes are visited in descending score order
 * (a stable sort: equal scores keep their index order; NaN sorts first, as in
 * torch.sort); a visited, unsuppressed box is kept and suppresses every later
 * box whose IoU with it is > iou_thresh (compared in double, as torchvision's
 * kernel compares its float IoU with the double threshold). IoU uses areas
 * (x1-x0)*(y1-y0) in float32 and inter / (area_i + area_j - inter), so a 0/0
 * never suppresses. Writes the kept indices in visiting order (descending
 * score) to keep (room for n) and their number to *n_keep. */
sam2_status nms_boxes(const float *boxes, const float *scores, int n, double iou_thresh, int *keep, int *n_keep);

/* Sorts idx[0..n) by descending score, stable (NaN first). */
sam2_status nms_sort_desc(const float *scores, int n, int *idx);

#endif
