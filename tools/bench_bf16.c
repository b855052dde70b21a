/* bench_bf16.c - see bench_bf16.h. */
#include "bench_bf16.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amg_args.h"
#include "cli_io.h"
#include "error.h"
#include "gemm_bf16.h"
#include "image_io.h"
#include "model.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Largest |a - b| and |a| over n values, folded into *dev and *ref. */
static void deviation(const float *a, const float *b, size_t n, double *dev, double *ref) {
    for (size_t i = 0; a && b && i < n; i++) {
        const double d = fabs((double)a[i] - b[i]), r = fabs((double)a[i]);
        *dev = d > *dev || d != d ? d : *dev;
        *ref = r > *ref ? r : *ref;
    }
}

sam2_status bench_bf16_encoder(const sam2_model *m, int threads, const sam2_image *img, int runs,
                               const sam2_ctx *f32_ctx, bf16_figures *f) {
    memset(f, 0, sizeof *f);
    f->available = bf16_supported();
    if (!f->available) return SAM2_OK;
    sam2_ctx *ctx = NULL;
    sam2_status st = sam2_ctx_new(m, threads, &ctx);
    if (st == SAM2_OK) st = sam2_ctx_set_precision(ctx, SAM2_PRECISION_BF16);
    f->encoder_s = 1e9;
    for (int r = 0; r < runs && st == SAM2_OK; r++) {
        const double t0 = now_s();
        st = sam2_set_image(ctx, img);
        const double t = now_s() - t0;
        if (t < f->encoder_s) f->encoder_s = t;
    }
    if (st == SAM2_OK) {
        const encoder_output *a = &f32_ctx->enc, *b = &ctx->enc;
        const sam2_config *cfg = &m->cfg;
        const size_t side = (size_t)(cfg->image_size / cfg->backbone_stride);
        deviation(a->image_embed, b->image_embed, (size_t)cfg->d_model * side * side, &f->embed_max_abs,
                  &f->embed_max_ref);
        for (int k = 0; k < 2; k++) /* (d/8, S/4, S/4) and (d/4, S/8, S/8) */
            deviation(a->high_res[k], b->high_res[k],
                      (size_t)(cfg->d_model / (8 >> k)) * (side * (4 >> k)) * (side * (4 >> k)), &f->embed_max_abs,
                      &f->embed_max_ref);
    }
    sam2_ctx_free(ctx);
    return st;
}

/* Greedy one-to-one matching of a's masks to b's at mask IoU >= 0.98. */
static sam2_status match_masks(const sam2_amg_result *a, const sam2_amg_result *b, int *matched, int *identical) {
    const size_t np = (size_t)a->width * a->height;
    uint8_t *ma = malloc(np), *mb = malloc(np), *used = calloc((size_t)b->n_masks + 1, 1);
    sam2_status st = ma && mb && used ? SAM2_OK : SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory matching masks");
    for (int i = 0; i < a->n_masks && st == SAM2_OK; i++) {
        st = sam2_rle_decode(a->masks[i].counts, a->masks[i].n_counts, a->height, a->width, ma);
        int best = -1;
        double best_iou = 0.98;
        int64_t best_diff = 0;
        for (int j = 0; j < b->n_masks && st == SAM2_OK; j++) {
            if (used[j]) continue;
            st = sam2_rle_decode(b->masks[j].counts, b->masks[j].n_counts, b->height, b->width, mb);
            int64_t inter = 0, uni = 0;
            for (size_t p = 0; p < np; p++) inter += ma[p] & mb[p], uni += ma[p] | mb[p];
            const double iou = uni ? (double)inter / (double)uni : 1.0;
            if (iou >= best_iou) best = j, best_iou = iou, best_diff = uni - inter;
        }
        if (best >= 0) used[best] = 1, (*matched)++, *identical += best_diff == 0;
    }
    free(ma), free(mb), free(used);
    return st;
}

/* The generator with p in both precisions on img; counts into the figures. */
static sam2_status compare_amg(sam2_ctx *f32, sam2_ctx *bf, const sam2_image *img, const sam2_amg_params *p,
                               bf16_amg_match *f) {
    sam2_amg_result *ra = NULL, *rb = NULL;
    sam2_status st = sam2_amg_generate(f32, img, p, &ra);
    if (st == SAM2_OK) st = sam2_amg_generate(bf, img, p, &rb);
    if (st == SAM2_OK) {
        f->cases++;
        f->masks_f32 += ra->n_masks, f->masks_bf16 += rb->n_masks;
        st = match_masks(ra, rb, &f->matched, &f->identical);
    }
    sam2_amg_result_free(ra), sam2_amg_result_free(rb);
    return st;
}

/* One case: its parameters, the image, both precisions. */
static sam2_status run_case(sam2_ctx *f32, sam2_ctx *bf, const char *case_path, const sam2_image *img,
                            bf16_figures *f) {
    cJSON *j = cli_read_json("bench", case_path);
    if (!j) return SAM2_FAIL(SAM2_ERR_IO, "cannot read %s", case_path);
    amg_args a;
    amg_args_init(&a);
    cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "params");
    for (cJSON *it = params ? params->child : NULL, *next; it; it = next) { /* "_note" and the like are comments */
        next = it->next;
        if (it->string && it->string[0] == '_') cJSON_Delete(cJSON_DetachItemViaPointer(params, it));
    }
    sam2_status st = params && amg_args_from_json(&a, "bench", case_path, params) == 0
                         ? SAM2_OK
                         : SAM2_FAIL(SAM2_ERR_FORMAT, "%s: no usable \"params\"", case_path);
    cJSON_Delete(j);
    a.p.output_mode = SAM2_OUTPUT_UNCOMPRESSED_RLE;
    if (st == SAM2_OK) st = compare_amg(f32, bf, img, &a.p, &f->golden);
    amg_args_free(&a);
    return st;
}

sam2_status bench_bf16_golden(const char *golden, int threads, bf16_figures *f) {
    if (!f->available) return SAM2_OK;
    char path[4096], yaml[4096];
    snprintf(path, sizeof path, "%s/models/micro256.pt", golden);
    snprintf(yaml, sizeof yaml, "%s/models/micro256.yaml", golden);
    FILE *probe = fopen(path, "rb");
    if (!probe) return SAM2_OK; /* no golden data here: nothing to report */
    fclose(probe);
    sam2_model *m = NULL;
    sam2_ctx *f32 = NULL, *bf = NULL;
    sam2_status st = sam2_model_load(path, yaml, &m);
    if (st == SAM2_OK) st = sam2_ctx_new(m, threads, &f32);
    if (st == SAM2_OK) st = sam2_ctx_new(m, threads, &bf);
    if (st == SAM2_OK) st = sam2_ctx_set_precision(bf, SAM2_PRECISION_BF16);
    snprintf(path, sizeof path, "%s/cases/micro256", golden);
    DIR *d = st == SAM2_OK ? opendir(path) : NULL;
    struct dirent *e;
    while (d && st == SAM2_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.' || strchr(e->d_name, '.')) continue; /* image folders only */
        char img_path[4096];
        snprintf(img_path, sizeof img_path, "%s/images/%s.decoded.png", golden, e->d_name);
        FILE *t = fopen(img_path, "rb");
        if (t) fclose(t);
        else snprintf(img_path, sizeof img_path, "%s/images/%s.png", golden, e->d_name);
        image_file im;
        if (image_file_read(img_path, &im) != SAM2_OK) continue;
        const sam2_image img = image_file_view(&im);
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", path, e->d_name);
        DIR *cd = opendir(dir);
        struct dirent *ce;
        while (cd && st == SAM2_OK && (ce = readdir(cd))) {
            const size_t n = strlen(ce->d_name);
            if (strncmp(ce->d_name, "amg_", 4) || n < 5 || strcmp(ce->d_name + n - 5, ".json")) continue;
            char case_path[8192];
            snprintf(case_path, sizeof case_path, "%s/%s", dir, ce->d_name);
            st = run_case(f32, bf, case_path, &img, f);
        }
        if (cd) closedir(cd);
        image_file_free(&im);
    }
    if (d) closedir(d);
    sam2_ctx_free(f32), sam2_ctx_free(bf);
    sam2_model_free(m);
    return st;
}

sam2_status bench_bf16_learned(const sam2_model *m, const char *bench_dir, int n_images, int threads, bf16_figures *f) {
    if (!f->available) return SAM2_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/shapes-dev/index.json", bench_dir);
    FILE *probe = fopen(path, "rb");
    if (!probe) return SAM2_OK; /* no bench scenes here */
    fclose(probe);
    cJSON *idx = cli_read_json("bench", path);
    if (!idx) return SAM2_FAIL(SAM2_ERR_FORMAT, "cannot read %s", path);
    sam2_ctx *f32 = NULL, *bf = NULL;
    sam2_status st = sam2_ctx_new(m, threads, &f32);
    if (st == SAM2_OK) st = sam2_ctx_new(m, threads, &bf);
    if (st == SAM2_OK) st = sam2_ctx_set_precision(bf, SAM2_PRECISION_BF16);
    sam2_amg_params p = sam2_amg_default_params();
    p.points_per_side = 16, p.pred_iou_thresh = 0.5f, p.stability_score_thresh = 0.8f; /* the strict setting */
    p.output_mode = SAM2_OUTPUT_UNCOMPRESSED_RLE;
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(idx, "images"), *it;
    int k = 0;
    cJSON_ArrayForEach(it, images) {
        if (st != SAM2_OK || k >= n_images) break;
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(it, "image");
        if (!cJSON_IsString(file)) continue;
        snprintf(path, sizeof path, "%s/shapes-dev/%s", bench_dir, file->valuestring);
        image_file im;
        if (image_file_read(path, &im) != SAM2_OK) continue;
        const sam2_image img = image_file_view(&im);
        st = compare_amg(f32, bf, &img, &p, &f->learned);
        image_file_free(&im);
        k++;
    }
    cJSON_Delete(idx);
    sam2_ctx_free(f32), sam2_ctx_free(bf);
    return st;
}
