/* point_prompt.c - segment the object under one click on a synthetic image.
 * usage: example_point_prompt MODEL.pt [CONFIG.yaml] */
#include <stdio.h>
#include <stdlib.h>

#include "sam2.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.pt [CONFIG.yaml]\n", argv[0]);
        return 2;
    }
    /* a 320x240 gray image with a bright square in the middle */
    enum { W = 320, H = 240 };
    static unsigned char pixels[H][W];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) pixels[y][x] = (x > 110 && x < 210 && y > 70 && y < 170) ? 220 : 40;

    sam2_model *model = NULL;
    sam2_ctx *ctx = NULL;
    sam2_prediction out = {0};
    int rc = 1;
    if (sam2_model_load(argv[1], argc > 2 ? argv[2] : NULL, &model) != SAM2_OK) goto fail;
    if (sam2_ctx_new(model, 0, &ctx) != SAM2_OK) goto fail;
    sam2_image img = {W, H, W, 1, 8, pixels};
    if (sam2_set_image(ctx, &img) != SAM2_OK) goto fail;

    float point[2] = {160, 120};
    int label = 1;
    sam2_prompt prompt = sam2_prompt_default();
    prompt.points = point;
    prompt.labels = &label;
    prompt.n_points = 1;
    sam2_predict_params params = sam2_predict_default_params();
    if (sam2_predict(ctx, &prompt, &params, &out) != SAM2_OK) goto fail;
    for (int k = 0; k < out.n_masks; k++) {
        long area = 0;
        for (long i = 0; i < (long)W * H; i++) area += out.masks[(long)k * W * H + i];
        printf("mask %d: predicted IoU %.3f, area %ld px\n", k, out.iou[k], area);
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "%s\n", sam2_last_error());
done:
    sam2_prediction_free(&out);
    sam2_ctx_free(ctx);
    sam2_model_free(model);
    return rc;
}
