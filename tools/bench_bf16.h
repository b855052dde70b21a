/* bench_bf16.h - what `--precision bf16` gains and costs, for sam2 bench:
 * the encoder's speed-up and the embedding's deviation from float32 on the
 * bench image, and how many AMG masks of the golden cases stay the same. */
#ifndef SAM2_BENCH_BF16_H
#define SAM2_BENCH_BF16_H

#include "sam2.h"

/* AMG runs in both precisions: masks matched one to one at mask IoU >= 0.98. */
typedef struct bf16_amg_match {
    int cases;                /* runs (0: no data) */
    int masks_f32, masks_bf16, matched;
    int identical;            /* of the matched: the same pixels */
} bf16_amg_match;

typedef struct bf16_figures {
    int available;            /* the CPU has AVX-512 BF16 */
    double encoder_s;         /* best of the runs */
    double embed_max_abs;     /* image_embed and high-res features against float32 */
    double embed_max_ref;     /* largest float32 magnitude there */
    bf16_amg_match golden;    /* golden micro256 cases (random weights) */
    bf16_amg_match learned;   /* a learned model on shapes-dev scenes */
} bf16_figures;

/* Encodes img runs times with a bfloat16 context of m and compares its
 * features with f32_ctx's (which holds img's float32 embedding). */
sam2_status bench_bf16_encoder(const sam2_model *m, int threads, const sam2_image *img, int runs,
                               const sam2_ctx *f32_ctx, bf16_figures *f);

/* Runs every micro256 AMG case of golden_dir (its models, images and
 * parameters) in float32 and in bfloat16 and matches the masks. */
sam2_status bench_bf16_golden(const char *golden_dir, int threads, bf16_figures *f);

/* The learned model m (the demo model) on the first n_images scenes of
 * bench_dir/shapes-dev with the strict setting (16 x 16 points, thresholds
 * 0.5 / 0.8), in both precisions. */
sam2_status bench_bf16_learned(const sam2_model *m, const char *bench_dir, int n_images, int threads, bf16_figures *f);

#endif
