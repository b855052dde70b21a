/* amg_merge.c - masks that touch or overlap may be parts of one object. The
 * model itself is asked, about each part on its own: a click inside the
 * part, and its three answers. Only when both parts' answers include a
 * confident mask close to the union of the two are the parts replaced by
 * the more confident of those masks. (Two clicks in one prompt would tell
 * the model that both are foreground, which biases it towards the union.)
 * Nothing is merged on proximity alone. A consensus vote lying inside an
 * earlier mask is no part of it: the consensus step added it apart from
 * that mask because many clicks answered it and not the mask, and merging
 * the pair (whose union is the outer mask) would only drop it. */
#include <stdlib.h>
#include <string.h>

#include "amg_gap_fill.h"
#include "error.h"
#include "model.h"
#include "postprocess.h"
#include "rle.h"

sam2_merge_params sam2_merge_default_params(void) {
    sam2_merge_params m;
    m.max_pairs = 64;
    m.pred_iou_thresh = 0.5f;
    m.stability_score_thresh = 0.8f;
    m.min_union_iou = 0.8f;
    m.inner_vote_frac = 0.8f;
    return m;
}

/* A click inside a mask: its own click when that pixel is in it, else the
 * point farthest from its outside (the mask's interior). */
static sam2_status inner_point(const uint8_t *mask, int w, int h, const float *click, float *pt) {
    const int cx = (int)click[0], cy = (int)click[1];
    if (cx >= 0 && cy >= 0 && cx < w && cy < h && mask[(size_t)cy * w + cx]) {
        pt[0] = click[0], pt[1] = click[1];
        return SAM2_OK;
    }
    const size_t np = (size_t)w * h;
    uint8_t *outside = malloc(np);
    if (!outside) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory merging masks");
    for (size_t i = 0; i < np; i++) outside[i] = !mask[i];
    gap_region r[1];
    int n = 0;
    sam2_status st = gap_find_regions(outside, w, h, 1, 1, r, &n);
    free(outside);
    if (st == SAM2_OK && n) pt[0] = (float)r[0].x + 0.5f, pt[1] = (float)r[0].y + 0.5f;
    else if (st == SAM2_OK) pt[0] = click[0], pt[1] = click[1];
    return st;
}

/* 1 when two masks overlap or touch (4-neighbours), given their decoded
 * bitmaps and boxes (x, y, w, h). */
static int touching(const uint8_t *a, const uint8_t *b, int w, int h, const float *ba, const float *bb) {
    if (ba[0] > bb[0] + bb[2] + 1 || bb[0] > ba[0] + ba[2] + 1 || ba[1] > bb[1] + bb[3] + 1 ||
        bb[1] > ba[1] + ba[3] + 1)
        return 0;
    const int x0 = (int)(ba[0] > bb[0] ? ba[0] : bb[0]) - 1, y0 = (int)(ba[1] > bb[1] ? ba[1] : bb[1]) - 1;
    const int x1 = (int)((ba[0] + ba[2] < bb[0] + bb[2] ? ba[0] + ba[2] : bb[0] + bb[2])) + 1;
    const int y1 = (int)((ba[1] + ba[3] < bb[1] + bb[3] ? ba[1] + ba[3] : bb[1] + bb[3])) + 1;
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < h; y++)
        for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < w; x++) {
            const size_t i = (size_t)y * w + x;
            if (!a[i]) continue;
            if (b[i] || (x > 0 && b[i - 1]) || (x < w - 1 && b[i + 1]) || (y > 0 && b[i - w]) || (y < h - 1 && b[i + w]))
                return 1;
        }
    return 0;
}

/* 1 when mask b, later in the result than a, is a consensus vote at least
 * frac inside a, and a is no mask this step grew (the consensus step judged
 * b against a as it was). ma, mb: their w x h bitmaps; b's pixels lie in
 * its box (a box beyond the image is cut to it). */
static int vote_inside(const sam2_amg_mask *a, const sam2_amg_mask *b, const uint8_t *ma, const uint8_t *mb, int w,
                       int h, float frac) {
    if (frac <= 0 || b->source != SAM2_MASK_CONSENSUS || a->source == SAM2_MASK_MERGED || b->area == 0) return 0;
    int x0 = (int)b->bbox[0], y0 = (int)b->bbox[1], x1 = (int)(b->bbox[0] + b->bbox[2]), y1 = (int)(b->bbox[1] + b->bbox[3]);
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 >= w ? w - 1 : x1, y1 = y1 >= h ? h - 1 : y1;
    int64_t inter = 0;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) inter += ma[(size_t)y * w + x] & mb[(size_t)y * w + x];
    return (double)inter >= (double)frac * (double)b->area;
}

static void box_of(const uint8_t *m, int w, int h, float *box) {
    int x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (m[(size_t)y * w + x]) x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1, y0 = y < y0 ? y : y0, y1 = y;
    box[0] = box[1] = box[2] = box[3] = 0;
    if (x1 >= 0) box[0] = (float)x0, box[1] = (float)y0, box[2] = (float)(x1 - x0), box[3] = (float)(y1 - y0);
}

sam2_status sam2_amg_merge(sam2_ctx *ctx, const sam2_amg_params *p, const sam2_merge_params *mp,
                           sam2_amg_result *res) {
    if (!ctx || !p || !mp || !res) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_merge: NULL argument");
    if (!ctx->has_image || ctx->orig_w != res->width || ctx->orig_h != res->height)
        return SAM2_FAIL(SAM2_ERR_STATE, "merging needs the whole image's embedding in the context");
    SAM2_TRY(sam2_check_range("merging", "max_pairs", mp->max_pairs, 0, 1e9));
    SAM2_TRY(sam2_check_range("merging", "pred_iou_thresh", mp->pred_iou_thresh, 0, 1));
    SAM2_TRY(sam2_check_range("merging", "stability_score_thresh", mp->stability_score_thresh, 0, 1));
    SAM2_TRY(sam2_check_range("merging", "min_union_iou", mp->min_union_iou, 0, 1));
    SAM2_TRY(sam2_check_range("merging", "inner_vote_frac", mp->inner_vote_frac, 0, 1));
    const int w = res->width, h = res->height;
    const size_t np = (size_t)w * h;
    /* every candidate's bitmap is held: on large images only the first
     * masks (the most confident in the generator's order) take part */
    const size_t fit = ((size_t)256 << 20) / (np ? np : 1);
    const int n = (size_t)res->n_masks < fit ? res->n_masks : (int)fit;
    if (n < 2 || mp->max_pairs == 0) return SAM2_OK;
    uint8_t *bits = malloc(np * (size_t)n), *gone = calloc((size_t)n, 1);
    if (!bits || !gone) {
        free(bits), free(gone);
        return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory merging %d masks of %dx%d", n, w, h);
    }
    sam2_status st = SAM2_OK;
    for (int k = 0; k < n && st == SAM2_OK; k++)
        st = sam2_rle_decode(res->masks[k].counts, res->masks[k].n_counts, h, w, bits + (size_t)k * np);
    sam2_predict_params pp = sam2_predict_default_params();
    pp.mask_threshold = p->mask_threshold;
    const float hi = p->mask_threshold + p->stability_score_offset, lo = p->mask_threshold - p->stability_score_offset;
    int asked = 0;
    for (int a = 0; a < n && st == SAM2_OK && asked < mp->max_pairs; a++)
        for (int b = a + 1; b < n && st == SAM2_OK && asked < mp->max_pairs && !gone[a]; b++) {
            if (gone[b]) continue;
            uint8_t *ma = bits + (size_t)a * np, *mb = bits + (size_t)b * np;
            if (!touching(ma, mb, w, h, res->masks[a].bbox, res->masks[b].bbox)) continue;
            if (vote_inside(&res->masks[a], &res->masks[b], ma, mb, w, h, mp->inner_vote_frac)) continue;
            /* each part asked on its own (one click, the model's three
             * answers): both must offer a confident mask close to the union */
            float pts[4];
            const int label = 1;
            st = inner_point(ma, w, h, res->masks[a].point, pts);
            if (st == SAM2_OK) st = inner_point(mb, w, h, res->masks[b].point, pts + 2);
            if (st != SAM2_OK) break;
            sam2_prediction out[2];
            memset(out, 0, sizeof out);
            int pick[2] = {-1, -1};
            float pick_stab[2] = {0, 0};
            asked++;
            for (int side = 0; side < 2 && st == SAM2_OK; side++) {
                sam2_prompt pr = sam2_prompt_default();
                pr.points = pts + 2 * side, pr.labels = &label, pr.n_points = 1, pr.multimask = 1;
                st = sam2_predict(ctx, &pr, &pp, &out[side]);
                if (st != SAM2_OK) break;
                const size_t LL = (size_t)out[side].low_res_size * out[side].low_res_size;
                for (int k = 0; k < out[side].n_masks; k++) {
                    const uint8_t *mk = out[side].masks + (size_t)k * np;
                    const float stab = stability_score(out[side].low_res + (size_t)k * LL, (int64_t)LL, hi, lo, 0.0f);
                    if (!(out[side].iou[k] > mp->pred_iou_thresh) || stab < mp->stability_score_thresh) continue;
                    if (pick[side] >= 0 && out[side].iou[k] <= out[side].iou[pick[side]]) continue;
                    int64_t inter = 0, uni = 0;
                    for (size_t i = 0; i < np; i++) {
                        const int u = ma[i] | mb[i];
                        inter += u && mk[i], uni += u || mk[i];
                    }
                    if (uni && (double)inter / (double)uni >= mp->min_union_iou) pick[side] = k, pick_stab[side] = stab;
                }
            }
            if (st == SAM2_OK && pick[0] >= 0 && pick[1] >= 0) {
                const int side = out[1].iou[pick[1]] > out[0].iou[pick[0]];
                const uint8_t *mk = out[side].masks + (size_t)pick[side] * np;
                int64_t *counts = NULL;
                int nc = 0;
                st = rle_encode(mk, h, w, &counts, &nc);
                if (st == SAM2_OK) {
                    sam2_amg_mask *m = &res->masks[a];
                    free(m->counts);
                    m->counts = counts, m->n_counts = nc;
                    m->area = rle_area(counts, nc);
                    memcpy(ma, mk, np);
                    box_of(ma, w, h, m->bbox);
                    m->predicted_iou = out[side].iou[pick[side]], m->stability_score = pick_stab[side];
                    m->crop_box[0] = m->crop_box[1] = 0, m->crop_box[2] = (float)w, m->crop_box[3] = (float)h;
                    m->source = SAM2_MASK_MERGED, m->picked_level = 0;
                    gone[b] = 1;
                    b = a; /* the grown mask may touch earlier ones: look again */
                }
            }
            sam2_prediction_free(&out[0]), sam2_prediction_free(&out[1]);
        }
    if (st == SAM2_OK) { /* drop the absorbed masks, keeping the order */
        int k = 0;
        for (int i = 0; i < res->n_masks; i++) {
            if (i < n && gone[i]) {
                free(res->masks[i].counts);
                continue;
            }
            res->masks[k++] = res->masks[i];
        }
        res->n_masks = k;
    }
    free(bits), free(gone);
    return st;
}
