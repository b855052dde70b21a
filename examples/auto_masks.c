/* auto_masks.c - the automatic mask generator on a synthetic image, and what
 * each of its filters let through.
 * usage: example_auto_masks MODEL.pt [CONFIG.yaml] [PRED_IOU_THRESH STABILITY_THRESH] */
#include <stdio.h>
#include <stdlib.h>

#include "sam2.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.pt [CONFIG.yaml] [PRED_IOU_THRESH STABILITY_THRESH]\n", argv[0]);
        return 2;
    }
    /* a 320x240 RGB image: three squares on a dark background */
    enum { W = 320, H = 240 };
    static unsigned char pixels[H][W][3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const int k = (y > 60 && y < 140) ? (x > 30 && x < 110) ? 1 : (x > 130 && x < 200) ? 2 : 0
                                              : (x > 220 && x < 300 && y > 150 && y < 220) ? 3 : 0;
            static const unsigned char colour[4][3] = {{30, 30, 40}, {220, 60, 50}, {60, 200, 80}, {70, 90, 230}};
            for (int c = 0; c < 3; c++) pixels[y][x][c] = colour[k][c];
        }

    sam2_model *model = NULL;
    sam2_ctx *ctx = NULL;
    sam2_amg_result *res = NULL;
    int rc = 1;
    if (sam2_model_load(argv[1], argc > 2 && argv[2][0] ? argv[2] : NULL, &model) != SAM2_OK) goto fail;
    if (sam2_ctx_new(model, 0, &ctx) != SAM2_OK) goto fail;
    sam2_image img = {W, H, W * 3, 3, 8, pixels};
    sam2_amg_params params = sam2_amg_default_params(); /* the official defaults */
    params.points_per_side = 16;
    if (argc > 4) params.pred_iou_thresh = strtof(argv[3], NULL), params.stability_score_thresh = strtof(argv[4], NULL);
    if (sam2_amg_params_check(&params) != SAM2_OK) goto fail;
    if (sam2_amg_generate(ctx, &img, &params, &res) != SAM2_OK) goto fail;
    for (int k = 0; k < res->n_masks; k++) {
        const sam2_amg_mask *m = &res->masks[k];
        printf("mask %d: area %lld, box %g,%g %gx%g, predicted IoU %.3f, stability %.3f\n", k, (long long)m->area,
               m->bbox[0], m->bbox[1], m->bbox[2], m->bbox[3], m->predicted_iou, m->stability_score);
    }
    /* when too few masks come out, these say which threshold to move */
    const sam2_amg_filter_counts *f = &res->filters;
    printf("filters: %d clicks, %d candidates, %d above pred_iou_thresh %g (highest %.3f), %d above "
           "stability_score_thresh %g (highest %.3f), %d off crop edges, %d after NMS\n",
           f->clicks, f->candidates, f->above_pred_iou, params.pred_iou_thresh, f->max_pred_iou, f->above_stability,
           params.stability_score_thresh, f->max_stability, f->off_crop_edge, f->after_crop_nms);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "%s\n", sam2_last_error());
done:
    sam2_amg_result_free(res);
    sam2_ctx_free(ctx);
    sam2_model_free(model);
    return rc;
}
