/*
 * sam2.h - Segment Anything 2 (SAM 2) for images, in C.
 *
 * Usage:
 *
 *     sam2_model *model = NULL;
 *     if (sam2_model_load("sam2.1_hiera_tiny.pt", NULL, &model) != SAM2_OK) {
 *         fprintf(stderr, "%s\n", sam2_last_error());
 *         return 1;
 *     }
 *     sam2_ctx *ctx = NULL;
 *     sam2_ctx_new(model, 0, &ctx);               // 0 threads = all cores
 *     sam2_image img = { w, h, w * 3, 3, 8, pixels };
 *     sam2_set_image(ctx, &img);                  // runs the image encoder once
 *
 *     float pt[2] = { 500, 375 }; int lab[1] = { 1 };
 *     sam2_prompt pr = sam2_prompt_default();
 *     pr.points = pt; pr.labels = lab; pr.n_points = 1;
 *     sam2_prediction out = {0};
 *     sam2_predict(ctx, &pr, &out);               // 3 masks + predicted IoUs
 *     sam2_prediction_free(&out);
 *
 *     sam2_amg_params ap = sam2_amg_default_params();
 *     sam2_amg_result *masks = NULL;
 *     sam2_amg_generate(ctx, &img, &ap, &masks);  // automatic mask generator
 *     sam2_amg_result_free(masks);
 *
 *     sam2_ctx_free(ctx);
 *     sam2_model_free(model);
 *
 * The library never prints and never exits. Every function that can fail
 * returns a sam2_status; sam2_last_error() then holds a one-line message
 * (thread-local) naming what was wrong. Free functions accept NULL.
 * Parameters marked OUT are written by the callee.
 */
#ifndef SAM2_H
#define SAM2_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- status */

typedef enum sam2_status {
    SAM2_OK = 0,
    SAM2_ERR_IO,          /* a file could not be opened, read or written */
    SAM2_ERR_FORMAT,      /* a file is corrupt, truncated or not what it claims */
    SAM2_ERR_UNSUPPORTED, /* a valid construct this library does not handle */
    SAM2_ERR_SHAPE,       /* a tensor is missing or has the wrong shape */
    SAM2_ERR_CONFIG,      /* a model config is invalid or does not fit */
    SAM2_ERR_PARAM,       /* an argument is out of range or inconsistent */
    SAM2_ERR_NOMEM,       /* an allocation failed or a size limit was hit */
    SAM2_ERR_STATE,       /* a call made in the wrong order (e.g. no image set) */
    SAM2_ERR_CANCELLED    /* a progress callback asked to stop (sam2_ctx_set_progress) */
} sam2_status;

/* Returns a short constant description of a status code. */
const char *sam2_status_str(sam2_status s);

/* Returns the message of the last failure on this thread ("" if none). The
 * pointer stays valid until the next failing call on the same thread. */
const char *sam2_last_error(void);

/* ----------------------------------------------------------------- model */

typedef struct sam2_model sam2_model; /* weights + config; read-only, shareable */
typedef struct sam2_ctx sam2_ctx;     /* one image's embedding + scratch */

/* Loads an official SAM 2 / SAM 2.1 checkpoint (.pt, torch.save zip).
 * config_yaml may be NULL: a built-in preset is then chosen from the tensor
 * shapes. Float32 weights are used in place (memory-mapped). On success
 * *out owns everything; free it with sam2_model_free. */
sam2_status sam2_model_load(const char *checkpoint_path, const char *config_yaml,
                            sam2_model **out);

/* The same from memory: size bytes of a .pt file, used in place (float32
 * weights are not copied), so they must stay valid and unchanged until
 * sam2_model_free; config_yaml_text is the YAML itself (NUL-terminated) or
 * NULL to choose a preset from the tensor shapes. name labels the model in
 * messages and, with a YAML, in sam2_model_info.config_source. */
sam2_status sam2_model_load_memory(const void *checkpoint, size_t size, const char *config_yaml_text,
                                   const char *name, sam2_model **out);

/* Builds a model of a built-in preset ("sam2.1_hiera_t", ...) or of a YAML
 * config with deterministic pseudo-random weights, for benchmarks.
 * Exactly one of preset and config_yaml is non-NULL. */
sam2_status sam2_model_random(const char *preset, const char *config_yaml, uint64_t seed,
                              sam2_model **out);

void sam2_model_free(sam2_model *model);

/* Calls fn for every image-path tensor of a built-in preset (name, shape and
 * deterministic pseudo-random values): what a checkpoint of that model must
 * hold. Used to write test checkpoints of official geometries. */
typedef void (*sam2_tensor_fn)(void *user, const char *name, int ndim, const int64_t *shape, const float *data);
sam2_status sam2_preset_tensors(const char *preset, uint64_t seed, sam2_tensor_fn fn, void *user);

/* Names of the built-in presets, NULL-terminated. */
const char *const *sam2_preset_names(void);

typedef struct sam2_model_info {
    const char *preset;        /* built-in preset name, or NULL for a custom config */
    const char *config_source; /* "preset", or the YAML path */
    int image_size;            /* S: the encoder's square input size */
    int embed_dim;             /* Hiera stage-0 channels */
    int num_heads;             /* Hiera stage-0 heads */
    int n_stages;
    int stages[8];             /* blocks per stage */
    int window_spec[8];        /* window size per stage */
    int n_global_att_blocks;
    int global_att_blocks[16];
    int d_model;               /* FPN / decoder channels */
    int64_t parameters;        /* elements of the image-path tensors */
    int tensors_loaded;        /* image-path tensors bound */
    int tensors_skipped;       /* video-only tensors read past */
    const char *file_dtypes;   /* e.g. "float32" or "float16,float32" */
    size_t mapped_bytes;       /* bytes of the checkpoint mapped in memory */
    size_t owned_weight_bytes; /* bytes of weights converted or copied */
    char model_hash[17];       /* identifies the weights (embedding files use it) */
} sam2_model_info;

/* Fills *out with a description of the model. Strings belong to the model. */
void sam2_model_get_info(const sam2_model *model, sam2_model_info *out);

/* ----------------------------------------------------------------- image */

/* An image in memory: rows of `stride` bytes, `channels` interleaved samples
 * per pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), 8-bit (uint8) or 16-bit (uint16,
 * native byte order) samples. The library never keeps the pointer. */
typedef struct sam2_image {
    int width, height;
    int stride;     /* bytes per row */
    int channels;   /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (alpha is ignored) */
    int bit_depth;  /* 8 or 16 */
    const void *data;
} sam2_image;

/* How 16-bit samples become the 8-bit RGB the model was trained on (8-bit
 * images are never changed). */
typedef enum sam2_depth_mode {
    SAM2_DEPTH_WINDOW = 0,   /* default: the 0.5-99.5 percentiles stretched to 0..255 */
    SAM2_DEPTH_SCALE = 1,    /* x / 257, rounded: the plain conversion */
    SAM2_DEPTH_OFFICIAL = 2  /* what the official pipeline's PIL convert("RGB") does: one-channel
                                16-bit saturates at 255, two to four channels keep the high byte */
} sam2_depth_mode;

/* Contrast for low-contrast images, beyond the official pipeline (which has
 * none). */
typedef enum sam2_contrast_mode {
    SAM2_CONTRAST_OFF = 0,    /* the image as it is (official) */
    SAM2_CONTRAST_AUTO = 1,   /* the window stretch when the image is grayscale and low-contrast:
                                 its luminance spans fewer than 64 levels between the 1st and
                                 99th percentiles */
    SAM2_CONTRAST_CLAHE = 2,  /* always CLAHE (8 x 8 regions, clip limit 2) */
    SAM2_CONTRAST_STRETCH = 3, /* always the window stretch: the luminance's 0.5 and 99.5
                                  percentiles to 0 and 255, linearly, clipped beyond */
    SAM2_CONTRAST_MEDIAN_STRETCH = 4 /* always the median of each pixel's 3 x 3 neighbourhood of
                                        the luminance, then the window stretch */
} sam2_contrast_mode;

/* Largest accepted width or height; larger images are refused before any
 * allocation. */
#define SAM2_MAX_IMAGE_SIDE 32768
#define SAM2_MAX_IMAGE_PIXELS ((int64_t)400 * 1000 * 1000)

/* Checks an image's fields (sizes, channels, depth, stride, data). */
sam2_status sam2_image_check(const sam2_image *img);

/* The contrast step: when mode asks for it, *rgb becomes a malloc'd 8-bit RGB
 * copy (width * height * 3; 16-bit input mapped by depth first) with the
 * window stretch (after a 3 x 3 median for SAM2_CONTRAST_MEDIAN_STRETCH) or
 * CLAHE applied to the luminance - grayscale stays gray,
 * colour channels follow the luminance gain - and *applied the mode that ran
 * (SAM2_CONTRAST_STRETCH, SAM2_CONTRAST_MEDIAN_STRETCH or SAM2_CONTRAST_CLAHE); otherwise *rgb is NULL and
 * *applied 0 (also when a stretch would change nothing: a flat image). Run
 * the model on the copy: the masks keep the image's geometry. */
sam2_status sam2_image_enhance(const sam2_image *img, sam2_depth_mode depth, sam2_contrast_mode mode,
                               uint8_t **rgb, int *applied);

/* ------------------------------------------------------------- context */

/* Creates a context for one image at a time. n_threads <= 0 uses all cores. */
sam2_status sam2_ctx_new(const sam2_model *model, int n_threads, sam2_ctx **out);
void sam2_ctx_free(sam2_ctx *ctx);

/* Chooses how 16-bit images are mapped to 8 bits (default SAM2_DEPTH_WINDOW). */
void sam2_ctx_set_depth_mode(sam2_ctx *ctx, sam2_depth_mode mode);

/* Progress of the automatic mask generator: after every batch of clicks it
 * decodes, fn(user, done, total) with the clicks decoded so far and those
 * of the pass (every crop's grid: sam2_amg_work's count for a plain run;
 * a pass with zoomed crops counts theirs too). A nonzero return stops the
 * run, which then fails with SAM2_ERR_CANCELLED; the context stays usable.
 * fn NULL (the default) turns it off. Called on the thread that runs the
 * generator. */
typedef int (*sam2_progress_fn)(void *user, int64_t done, int64_t total);
void sam2_ctx_set_progress(sam2_ctx *ctx, sam2_progress_fn fn, void *user);

/* keep = 1: sam2_set_image also keeps the preprocessed input, the trunk
 * stages, the FPN levels and their positional encodings for sam2_ctx_tensor
 * (inspection, parity checks). Default 0: the predictor needs none of them,
 * so they are not kept (the positional encodings not even computed). */
void sam2_ctx_keep_intermediates(sam2_ctx *ctx, int keep);

/* The arithmetic of the image encoder. Float32 (the default) matches the
 * official model. Bfloat16 rounds the inputs of the trunk's linear layers
 * (about 3/4 of its work) to bfloat16 and accumulates in float32 on the
 * AVX-512 BF16 instructions: faster, not exact (`sam2 bench` reports the
 * deviation). */
typedef enum sam2_precision {
    SAM2_PRECISION_F32 = 0,
    SAM2_PRECISION_BF16 = 1
} sam2_precision;

/* Takes effect from the next sam2_set_image. Fails with SAM2_ERR_STATE when
 * the CPU lacks AVX-512 BF16. Bfloat16 keeps a copy of the trunk's weights
 * in the context (half their float32 size). */
sam2_status sam2_ctx_set_precision(sam2_ctx *ctx, sam2_precision precision);

/* Runs preprocessing and the image encoder; keeps the embedding in ctx. */
sam2_status sam2_set_image(sam2_ctx *ctx, const sam2_image *img);

/* Writes / reads the current embedding (model hash, original size, tensors,
 * a CRC-32 of the file). Loading refuses a file made by another model and a
 * damaged one. */
sam2_status sam2_embedding_save(const sam2_ctx *ctx, const char *path);
sam2_status sam2_embedding_load(sam2_ctx *ctx, const char *path);

/* Original image size of the current embedding (0, 0 if none). */
void sam2_ctx_image_size(const sam2_ctx *ctx, int *width, int *height);

/* Read access to a named tensor of the current image, for inspection and
 * parity checks: "input", "trunk_0".."trunk_3", "backbone_fpn_0".."2",
 * "vision_pos_enc_0".."2", "image_embed", "high_res_feats_0", "1".
 * *data points into ctx (valid until the next set_image); shape is NCHW
 * with batch 1. Returns SAM2_ERR_STATE if not computed. */
sam2_status sam2_ctx_tensor(const sam2_ctx *ctx, const char *name, const float **data,
                            int *ndim, int shape[4]);

/* ------------------------------------------------------------ predictor */

typedef struct sam2_prompt {
    const float *points;     /* n_points (x, y) pairs in original-image pixels */
    const int *labels;       /* n_points labels: 1 foreground, 0 background */
    int n_points;
    int has_box;
    float box[4];            /* x0, y0, x1, y1 in original-image pixels */
    const float *mask_input; /* NULL, or (S/4, S/4) low-resolution logits */
    int multimask;           /* 1: three masks; 0: one mask (dynamic fallback) */
} sam2_prompt;

/* A prompt with no points, no box, no mask input and multimask on. */
sam2_prompt sam2_prompt_default(void);

typedef struct sam2_predict_params {
    float mask_threshold;  /* logits above this are foreground (default 0) */
    int max_hole_area;     /* fill background components up to this many low-res px (0 off) */
    int max_sprinkle_area; /* remove foreground components up to this size (0 off) */
    int want_masks;        /* 1: binary masks at original size (default 1) */
    int want_logits;       /* 1: logits at original size (default 0) */
} sam2_predict_params;

sam2_predict_params sam2_predict_default_params(void);

typedef struct sam2_prediction {
    int n_masks;           /* 3 (multimask) or 1 */
    int low_res_size;      /* S/4 */
    float *low_res;        /* (n_masks, S/4, S/4) logits, clamped to [-32, 32] */
    float iou[3];          /* predicted IoU per mask */
    float object_score;    /* object-score logit (0 when the model has none) */
    int width, height;     /* original image size */
    uint8_t *masks;        /* (n_masks, height, width) 0/1, or NULL */
    float *logits;         /* (n_masks, height, width), or NULL */
} sam2_prediction;

/* Predicts masks for one prompt on the current image. *out's arrays are
 * allocated by the library; release them with sam2_prediction_free. */
sam2_status sam2_predict(sam2_ctx *ctx, const sam2_prompt *prompt,
                         const sam2_predict_params *params, sam2_prediction *out);

/* Predicts n independent prompts in one batched decoder pass (same number of
 * points in each; masks at original size are not produced: low_res only). */
sam2_status sam2_predict_batch(sam2_ctx *ctx, const sam2_prompt *prompts, int n,
                               sam2_prediction *out);

void sam2_prediction_free(sam2_prediction *p);

/* -------------------------------------------------- automatic mask generator */

typedef enum sam2_output_mode {
    SAM2_OUTPUT_BINARY_MASK = 0,
    SAM2_OUTPUT_UNCOMPRESSED_RLE = 1,
    SAM2_OUTPUT_COCO_RLE = 2
} sam2_output_mode;

/* The parameters of the official SAM2AutomaticMaskGenerator, same names,
 * same defaults, same meaning. */
typedef struct sam2_amg_params {
    int points_per_side;               /* 32; 0 when point_grids is given */
    int points_per_batch;              /* 64 */
    float pred_iou_thresh;             /* 0.8 */
    float stability_score_thresh;      /* 0.95 */
    float stability_score_offset;      /* 1.0 */
    float mask_threshold;              /* 0.0 */
    float box_nms_thresh;              /* 0.7 */
    int crop_n_layers;                 /* 0 */
    float crop_nms_thresh;             /* 0.7 */
    float crop_overlap_ratio;          /* 512 / 1500 */
    int crop_n_points_downscale_factor; /* 1 */
    /* point_grids: NULL, or crop_n_layers + 1 grids of normalised (x, y). */
    const float *const *point_grids;
    const int *point_grid_sizes;       /* points per grid */
    int n_point_grids;
    int min_mask_region_area;          /* 0 */
    sam2_output_mode output_mode;      /* binary_mask */
    int use_m2m;                       /* 0 */
    int multimask_output;              /* 1 */
} sam2_amg_params;

sam2_amg_params sam2_amg_default_params(void);

/* Checks every parameter; on failure the message names the parameter. */
sam2_status sam2_amg_params_check(const sam2_amg_params *p);

/* The work params ask of the generator, whatever the image: *crops image
 * crops (the whole image, then 4^i crops in layer i), each one encoder run,
 * and *clicks grid clicks decoded over all of them. SAM2_ERR_PARAM when
 * params fail sam2_amg_params_check. */
sam2_status sam2_amg_work(const sam2_amg_params *p, int64_t *clicks, int *crops);

/* Where a mask of the generator's result comes from. */
typedef enum sam2_mask_source {
    SAM2_MASK_GRID = 0,      /* the official point grid */
    SAM2_MASK_GAP_FILL = 1,  /* sam2_amg_gap_fill, sam2_amg_fill_under */
    SAM2_MASK_MERGED = 2,    /* sam2_amg_merge: the model's mask for two parts */
    SAM2_MASK_CONSENSUS = 3  /* sam2_amg_consensus: the vote of agreeing candidates */
} sam2_mask_source;

typedef struct sam2_amg_mask {
    int64_t *counts;         /* uncompressed RLE, column-major, starts with zeros */
    int n_counts;
    int64_t area;
    float bbox[4];           /* x, y, w, h (inclusive extent) */
    float predicted_iou;
    float point[2];          /* the click, original-image pixels */
    float stability_score;
    float crop_box[4];       /* x, y, w, h */
    sam2_mask_source source;
    float picked_level;      /* 0, or the share of agreeing answers whose cover the image picked as
                                this mask's boundary (consensus votes, sam2_amg_pick_levels) */
} sam2_amg_mask;

/* How the generator's filters thinned the grid's candidates, over the crops
 * of params' own layers, each count a subset of the one before: which
 * setting to relax when too few masks come out (or to tighten when too many
 * do). */
typedef struct sam2_amg_filter_counts {
    int clicks;              /* points decoded */
    int candidates;          /* masks the decoder returned for them */
    int above_pred_iou;      /* predicted IoU above pred_iou_thresh (all when it is 0) */
    int above_stability;     /* ... and stability score >= stability_score_thresh */
    int off_crop_edge;       /* ... and box not at an inner edge of its crop */
    int after_box_nms;       /* ... and kept by the box NMS within its crop */
    int after_crop_nms;      /* ... and kept by the NMS across crops: the generator's masks */
    float max_pred_iou;      /* the highest predicted IoU of any candidate (NaN: none) */
    float max_stability;     /* the highest stability score above pred_iou_thresh (NaN: none) */
} sam2_amg_filter_counts;

typedef struct sam2_amg_result {
    int width, height;       /* the image size (RLE size is [height, width]) */
    int n_masks;
    sam2_amg_mask *masks;    /* in the official output order */
    sam2_amg_filter_counts filters; /* the generator's pass (all zero for results made otherwise) */
} sam2_amg_result;

/* Runs the automatic mask generator on img. The context's encoder is run on
 * each crop (so the context's current embedding is replaced). img may be
 * NULL when crop_n_layers is 0: the context's current embedding (e.g. loaded
 * with sam2_embedding_load) is used as the whole-image crop. */
sam2_status sam2_amg_generate(sam2_ctx *ctx, const sam2_image *img,
                              const sam2_amg_params *params, sam2_amg_result **out);

void sam2_amg_result_free(sam2_amg_result *r);

/* sam2_amg_generate (same result, bit for bit), and from the same decoding
 * the pool: every candidate whose predicted IoU is above
 * pool_pred_iou_thresh (0: all) and whose box is off the crop edges, before
 * the stability filter and NMS, in decoding order, with its stability score
 * and in image coordinates. It feeds sam2_amg_consensus. */
sam2_status sam2_amg_generate_pool(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                   float pool_pred_iou_thresh, sam2_amg_result **out, sam2_amg_result **pool);

/* sam2_amg_generate_pool, whose pool also holds the candidates of the crops
 * of the crop layers after params' own up to zoom_layers (at most 3; the
 * same clicks on 2^i x 2^i zoomed crops), decoded in the same pass; out is
 * still the generator's result for params, bit for bit. With explicit point
 * grids, layers without one of their own ask the last one. Without img (the
 * context's embedding) there are no crops to zoom into: no deeper layers. */
sam2_status sam2_amg_generate_pool_zoomed(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                          int zoom_layers, float pool_pred_iou_thresh, sam2_amg_result **out,
                                          sam2_amg_result **pool);

/* Where the image picks a consensus vote's level (sam2_consensus_params). */
enum { SAM2_PICK_LEVEL_OFF = 0, SAM2_PICK_LEVEL_GRAY = 1, SAM2_PICK_LEVEL_ALL = 2 };

/* Consensus, beyond the official generator: the grid's clicks are many
 * independent questions to the model, and where several of them get
 * (nearly) the same answer the model is sure of that object even when its
 * predicted IoU of each answer is low. Two candidates of the pool agree when
 * the IoU of their masks is at least agree_iou. Candidates that agree with a
 * mask already in the result, or lie mostly inside one (absorb_frac of their
 * area), are set aside. Then, repeatedly: the candidate whose agreeing
 * remaining candidates (itself included) come from the most distinct clicks
 * is taken when they come from at least min_support clicks; its agreeing candidates vote pixel by pixel (a pixel is in
 * when at least vote_frac of them cover it, or on the images pick_level
 * names the share whose mask's outline follows the image's edges best);
 * the vote is added (source
 * SAM2_MASK_CONSENSUS, the click and crop box of that candidate, the mean
 * predicted IoU and stability of the voters), and the voters and every
 * candidate mostly inside the vote are set aside. A vote whose voters'
 * mean stability score is below min_stability is not added (its voters are
 * still set aside): the clicks agree on where the object is, but each
 * answer's boundary moves with the logit cut-off, so their vote is a guess.
 * With inner_support > 0 (24 by default), a candidate merely inside a mask
 * of the result (a mask kept before or a vote added since) stays in the
 * pool unless one of its click's answers agrees with that mask; a vote
 * mostly inside such a mask (absorb_frac of its area) is added only when
 * its voters come from at least inner_support distinct clicks and fewer
 * than half of those clicks also answered with that mask (an answer
 * agreeing with it): many questions saw something separate inside it, e.g.
 * one of two objects a strict mask joins, or an object in a background
 * mask. Otherwise such a vote is not added (its voters and what lies
 * inside it are set aside), as if the mask had absorbed them. With 0,
 * every candidate inside a mask of the result is set aside. */
typedef struct sam2_consensus_params {
    float pool_pred_iou_thresh;  /* 0.1: the pool's IoU filter */
    float agree_iou;             /* 0.75 */
    int min_support;             /* 8 (suits a pool with one zoom layer and the mirrored answers; 5
                                    one zoom layer without them, 4 the grid's alone, 7 the grid's
                                    with cell clicks) */
    float min_stability;         /* 0.3: the voters' mean stability score a vote needs */
    float min_edge;              /* 1.5: the image's edges a vote's outline must follow: the median,
                                    along the outline, of the smoothed image's gradient over the
                                    image's median gradient (see sam2_amg_consensus); 0: no test */
    float vote_frac;             /* 0.4: the share of the voters that must cover a pixel of the vote */
    float absorb_frac;           /* 0.8 */
    int cell_clicks;             /* 0; 1: the pool also holds the answers to a click at the centre
                                    of every cell of the grid (sam2_amg_pool_add_cell_clicks): read
                                    by whoever builds the pool, not by sam2_amg_consensus */
    int inner_support;           /* 24: see above; 0: candidates inside a mask of the result are
                                    set aside */
    int zoom_layers;             /* 1: the pool also holds the answers of the grid's clicks on the
                                    zoomed crops of this many crop layers (sam2_amg_generate_pool
                                    with crop_n_layers raised to it), while the result keeps the
                                    generator's own masks; 0: none; at most 3. Read by whoever
                                    builds the pool, as cell_clicks; with explicit point grids,
                                    layers without one of their own ask the last one */
    int mirror;                  /* 1: the pool also holds the answers of the same clicks (and
                                    zoomed crops) on the left-right mirrored image, mirrored back
                                    (sam2_amg_pool_add_mirrored); 0: not. Read by whoever builds
                                    the pool, as cell_clicks */
    int flip;                    /* 0; 1: the pool also holds those answers on the image flipped top
                                    to bottom, flipped back (sam2_amg_pool_add_flipped): about 1.5x
                                    the time with the mirrored answers, and more agreeing clicks
                                    per object (min_support 11 and inner_support 33 suit). Read by
                                    whoever builds the pool, as cell_clicks */
    int denoised;                /* 1: when the contrast step stretched a low-contrast image, the
                                    pool also holds the answers of the same clicks (zoomed crops,
                                    mirrored and flipped as above) on the image after a 3 x 3
                                    median and the stretch (SAM2_CONTRAST_MEDIAN_STRETCH; added
                                    with sam2_amg_pool_add_image), and the vote needs
                                    denoised_min_support and denoised_inner_support clicks instead
                                    of min_support and inner_support; 0: not. Read by whoever
                                    builds the pool, as cell_clicks */
    int denoised_min_support;    /* 14: min_support when the denoised answers joined (twice the
                                    answers) */
    int denoised_inner_support;  /* 38: inner_support then */
    int pick_level;              /* SAM2_PICK_LEVEL_GRAY: on a gray image the vote's boundary
                                    follows it: of the masks that 20, 30, ..., 70 % of the voters
                                    cover, the one whose outline follows the image's edges best
                                    (the median that min_edge tests) replaces the vote_frac one
                                    when its median is at least 1 + level_gain times that one's;
                                    SAM2_PICK_LEVEL_ALL: on every image; SAM2_PICK_LEVEL_OFF:
                                    vote_frac. Without an image, vote_frac */
    float level_gain;            /* 0.25 */
    int pick_masks;              /* 1: sam2_amg_pick_levels picks the levels of the other masks
                                    too (on the images pick_level names); 0: it changes nothing */
} sam2_consensus_params;

sam2_consensus_params sam2_consensus_default_params(void);

/* Checks every field; on failure the message names it. */
sam2_status sam2_consensus_params_check(const sam2_consensus_params *c);

/* More questions for consensus: asks the model once more at the centre of
 * every cell between four clicks of the points_per_side grid ((n - 1)^2
 * clicks; none with explicit point_grids) on the whole image, whose
 * embedding the context must hold (after sam2_amg_generate_pool without crop
 * layers, or sam2_set_image), and appends their candidates, filtered as the
 * pool's are, to pool. */
sam2_status sam2_amg_pool_add_cell_clicks(sam2_ctx *ctx, const sam2_amg_params *params, float pool_pred_iou_thresh,
                                          sam2_amg_result *pool);

/* More questions for consensus: runs the generator's pass of
 * sam2_amg_generate_pool_zoomed (zoom_layers crop layers) on the left-right
 * mirrored img and appends its pool's candidates, mirrored back to img's
 * frame, to pool (of img). The context's embedding is replaced. */
sam2_status sam2_amg_pool_add_mirrored(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                       int zoom_layers, float pool_pred_iou_thresh, sam2_amg_result *pool);

/* The same with img flipped top to bottom and the candidates flipped back. */
sam2_status sam2_amg_pool_add_flipped(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                      int zoom_layers, float pool_pred_iou_thresh, sam2_amg_result *pool);

/* The same with another image of pool's size as it is, e.g. a denoised copy
 * of the image the pool is about: new answers about the same objects. */
sam2_status sam2_amg_pool_add_image(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                                    int zoom_layers, float pool_pred_iou_thresh, sam2_amg_result *pool);

/* Adds the consensus masks of pool (from sam2_amg_generate_pool on the same
 * image) to res. With img (the image the pool's answers are about, the size
 * of the pool) and min_edge above 0, a vote is added only when its outline
 * follows edges of the image: clicks on a smooth or noisy background also
 * agree, on arbitrary pieces of it, whose outlines cross no edge. img NULL:
 * no such test. */
sam2_status sam2_amg_consensus(const sam2_amg_result *pool, const sam2_image *img, const sam2_consensus_params *cp,
                               sam2_amg_result *res);

/* Level picking, beyond the official generator: a consensus vote's
 * boundary is picked by the image among its voters' (pick_level); this
 * does the same for the other masks of res (the grid's, gap filling's,
 * merging's; not consensus votes) on the images cp->pick_level names. The
 * answers of pool (as for sam2_amg_consensus) that agree with a mask
 * (IoU at least cp->agree_iou) vote as a consensus vote's voters do; when
 * they come from at least cp->min_support distinct clicks and the outline
 * of the mask that 20, 30, ..., 70 % of them cover follows img's edges at
 * least 1 + cp->level_gain times better than the mask's own (the median
 * edge ratio along it, as cp->min_edge measures), that mask replaces it:
 * area and box change, picked_level says which share; scores, click,
 * crop box and source stay. Run it after the steps that add or merge
 * masks, so that they see the masks as the model gave them. Nothing
 * changes without img, with pick_masks 0, with pick_level
 * SAM2_PICK_LEVEL_OFF or on a colour image under SAM2_PICK_LEVEL_GRAY. */
sam2_status sam2_amg_pick_levels(const sam2_amg_result *pool, const sam2_image *img, const sam2_consensus_params *cp,
                                 sam2_amg_result *res);

/* Gap filling, beyond the official generator: regions no mask covers that
 * are at least min_region_frac of the image get one click each at their
 * point farthest from any mask and from the border; of the model's three
 * answers the one with the best predicted IoU above pred_iou_thresh, with
 * stability (on the low-resolution logits, the generator's mask_threshold and
 * offset) at least stability_score_thresh and at least min_new_frac of its
 * pixels uncovered is added (source SAM2_MASK_GAP_FILL, crop box the whole
 * image). Up to max_points regions per round, largest first; rounds repeat
 * while masks are added. */
typedef struct sam2_gap_fill_params {
    int rounds;                    /* 4 */
    float min_region_frac;         /* 0.002 */
    int max_points;                /* 16 */
    float pred_iou_thresh;         /* 0.1 */
    float stability_score_thresh;  /* 0.3 */
    float min_new_frac;            /* 0.6 */
    float min_edge;                /* 1.5: with an image, the new mask's outline must follow its
                                      edges as a consensus vote's does (see
                                      sam2_consensus_params.min_edge); 0: no test */
    float under_frac;              /* 0.25: sam2_amg_fill_under looks under the masks of at least this
                                      share of the image; 0: off */
    int under_support;             /* 8: distinct clicks whose answers agree with the one added there */
    float under_min_edge;          /* 3: the outline test of a mask added there (twice min_edge's:
                                      it overrules the model's large answer) */
} sam2_gap_fill_params;

sam2_gap_fill_params sam2_gap_fill_default_params(void);

/* Gap filling under large masks, on gray images: a mask of at least
 * under_frac of the image (the background, or several faint objects
 * washed together) hides the objects it runs over, as their pixels count
 * as covered. An answer of the pool (sam2_amg_generate_pool: the grid's
 * clicks, answers the grid's thresholds dropped included) is added
 * (source SAM2_MASK_GAP_FILL, its own click, scores and crop box) when its
 * click lies where only such masks cover; at least min_new_frac of it is
 * off the other masks; it has at least min_region_frac of the image (16
 * pixels at least) and less than under_frac; its predicted IoU and
 * stability pass pred_iou_thresh and stability_score_thresh; the answers
 * of at least under_support distinct clicks agree with it (mask IoU 0.75);
 * and its outline's median edge ratio (as min_edge measures) is at least
 * under_min_edge. Best predicted IoU first, at most max_points. Nothing
 * changes without img, on a colour image or with under_frac 0. */
sam2_status sam2_amg_fill_under(const sam2_amg_result *pool, const sam2_image *img, const sam2_gap_fill_params *g,
                                sam2_amg_result *res);

/* Adds gap-filling masks to res, the generator's result for the image whose
 * embedding the context holds (after sam2_amg_generate without crop layers,
 * or sam2_set_image on the whole image). img: that image, for the outline
 * test of min_edge (NULL: no test). */
sam2_status sam2_amg_gap_fill(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *params,
                              const sam2_gap_fill_params *gap, sam2_amg_result *res);

/* Merging, beyond the official generator: for masks that overlap or touch
 * (up to max_pairs pairs, in the result's order) the model is prompted with
 * one click inside each; when its single answer has predicted IoU above
 * pred_iou_thresh, stability at least stability_score_thresh and IoU at
 * least min_union_iou with the union of the two, the first mask becomes that
 * answer (source SAM2_MASK_MERGED) and the second is dropped. Nothing merges
 * on proximity alone. A pair is left alone when the second mask is a
 * consensus vote at least inner_vote_frac inside the first (not itself a
 * merged mask): sam2_amg_consensus added it apart from that mask (its
 * inner_support), and merging would only drop it; 0 asks those pairs too.
 * The context must hold the whole image's embedding. */
typedef struct sam2_merge_params {
    int max_pairs;                 /* 64 */
    float pred_iou_thresh;         /* 0.5 */
    float stability_score_thresh;  /* 0.8 */
    float min_union_iou;           /* 0.8 */
    float inner_vote_frac;         /* 0.8; --robust: the consensus absorb_frac */
} sam2_merge_params;

sam2_merge_params sam2_merge_default_params(void);

sam2_status sam2_amg_merge(sam2_ctx *ctx, const sam2_amg_params *params,
                           const sam2_merge_params *merge, sam2_amg_result *res);

/* Duplicates, beyond the official generator: the official NMS compares
 * boxes, so two nearly identical masks escape it when stray pixels stretch
 * one box. Of masks whose pixel IoU exceeds max_iou (0.9 under --robust),
 * the one with the higher predicted IoU stays (the earlier on ties), the
 * others are removed; the order of the rest is kept. *n_removed (may be
 * NULL) gets their number. */
sam2_status sam2_amg_dedup(sam2_amg_result *res, float max_iou, int *n_removed);

/* Large images for the steps beyond the official generator. Consensus, gap
 * filling and merging compare many whole-image masks, at a cost that grows
 * with the pixel count, while the model sees every image at its own input
 * size (1024) and answers in (256, 256) logits: finer pixels add cost and
 * nothing the model knows. sam2_image_shrink makes an 8-bit RGB copy whose
 * longer side is max_side (16-bit input mapped by depth first; area
 * averaging, so nothing aliases); images already within max_side come back
 * as their RGB conversion at the same size. */
sam2_status sam2_image_shrink(const sam2_image *img, sam2_depth_mode depth, int max_side, uint8_t **rgb,
                              int *width, int *height);

/* The masks of r (made on a shrunk copy) at the original size W x H: each
 * mask is interpolated bilinearly from its pixels and cut at one half (so
 * edges stay smooth, not stair-stepped), areas and boxes are counted again,
 * clicks and crop boxes are scaled; scores and sources are kept. */
sam2_status sam2_amg_result_upscale(const sam2_amg_result *r, int W, int H, sam2_amg_result **out);

/* Decoder-output reuse: for sweeping the parameters applied after the
 * decoder (pred_iou_thresh, stability_score_thresh, stability_score_offset,
 * mask_threshold, box_nms_thresh, crop_nms_thresh, min_mask_region_area,
 * output_mode) without running the encoder or the decoder again.
 *
 * sam2_amg_candidates_new embeds and decodes like sam2_amg_generate (same
 * img / NULL rules) and keeps, per crop, the low-resolution logits, predicted
 * IoU and click of every candidate whose IoU passes params->pred_iou_thresh
 * (give the loosest threshold of the sweep; 0 keeps all). Memory: (S/4)^2 * 4
 * + 12 bytes per kept candidate, i.e. at most n_clicks * masks_per_click of
 * them; max_bytes > 0 caps it (SAM2_ERR_NOMEM beyond, naming the threshold to
 * raise), 0 leaves it uncapped. The other post-decoder fields of params are
 * ignored here.
 *
 * sam2_amg_from_candidates gives exactly what sam2_amg_generate gives with
 * params (same records, same order, bit for bit) provided params has the
 * decoder-shaping fields the candidates were built with (points_per_side,
 * point_grids, crop_n_layers, crop_overlap_ratio,
 * crop_n_points_downscale_factor, use_m2m, multimask_output; checked) and
 * pred_iou_thresh >= the loosest one. points_per_batch is the builder's. */
typedef struct sam2_amg_candidates sam2_amg_candidates;

sam2_status sam2_amg_candidates_new(sam2_ctx *ctx, const sam2_image *img,
                                    const sam2_amg_params *params, size_t max_bytes,
                                    sam2_amg_candidates **out);

sam2_status sam2_amg_from_candidates(const sam2_amg_candidates *cands,
                                     const sam2_amg_params *params, sam2_amg_result **out);

/* Kept candidates and the bytes they hold (0, 0 for NULL). */
void sam2_amg_candidates_info(const sam2_amg_candidates *cands, int *n_candidates, size_t *bytes);

void sam2_amg_candidates_free(sam2_amg_candidates *cands);

/* Decodes a mask's RLE into a (height, width) 0/1 row-major buffer. */
sam2_status sam2_rle_decode(const int64_t *counts, int n_counts, int height, int width,
                            uint8_t *mask);

/* Encodes a mask's RLE counts as the COCO compressed string (pycocotools
 * rleToString). *out is malloc'd; the caller frees it. */
sam2_status sam2_rle_to_coco_string(const int64_t *counts, int n_counts, char **out);

/* Parses a COCO compressed string into counts (malloc'd into *counts). */
sam2_status sam2_rle_from_coco_string(const char *s, int64_t **counts, int *n_counts);

#ifdef __cplusplus
}
#endif
#endif /* SAM2_H */
