/* amg_vote.h - the pixel-wise vote of masks that agree on an object: a
 * pixel is in when a share of the voters covers it. Where that share lies
 * decides the boundary; with an edge map the image picks it among the
 * shares the answers propose. Used by consensus votes and by level picking
 * of other masks (sam2_amg_pick_levels). */
#ifndef SAM2_AMG_VOTE_H
#define SAM2_AMG_VOTE_H

#include "edge_map.h"
#include "sam2.h"

/* The vote of the masks c[idx[0..k)] of a W x H image as a new record m (RLE
 * over the whole image, area, box, picked_level; the caller fills the
 * scores, click and source): a pixel is in when frac of the k voters cover
 * it. With em (an edge map of the image), of the masks that 20, 30, ...,
 * 70 % of the voters cover, the one whose outline follows the image's edges
 * best (median edge ratio along it) replaces frac's when its median is at
 * least 1 + gain times frac's; m->picked_level is then its share. With base
 * >= 0 (the median of a mask the voters agree with), the best of those
 * masks is the vote only when its median is at least 1 + gain times base,
 * frac's mask taking part; else m stays empty (area 0, no counts).
 * *outline: the chosen mask's median when a level was measured, else -1. */
sam2_status amg_vote(const sam2_amg_mask *c, const int *idx, int k, float frac, const edge_map *em, float gain,
                     float base, int W, int H, sam2_amg_mask *m, float *outline);

#endif
