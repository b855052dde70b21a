/* robust_args.h - the steps sam2c adds to the official generator for hard
 * (grayscale, low-contrast) images, on the command line; all off by default,
 * so the default output stays the official one. */
#ifndef SAM2_ROBUST_ARGS_H
#define SAM2_ROBUST_ARGS_H

#include <cjson/cJSON.h>

#include "sam2.h"

typedef struct robust_args {
    sam2_contrast_mode contrast; /* --contrast off|auto|stretch|clahe */
    int gap_fill;               /* --gap-fill true|false (--robust) */
    sam2_gap_fill_params gap;   /* --gap-fill-* */
    int consensus;              /* --consensus true|false (--robust) */
    sam2_consensus_params cp;   /* --consensus-* */
    int merge;                  /* --merge true|false */
    sam2_merge_params mp;       /* --merge-* */
    int dedup;                  /* --dedup true|false (--robust) */
    float dedup_iou;            /* --dedup-iou: masks above this pixel IoU are one */
    int max_side;               /* --robust-max-side: with consensus, gap filling or
                                   merging, larger images are worked on shrunk to it */
} robust_args;

void robust_args_init(robust_args *r);

/* If argv[*i] is --robust or a --gap-fill* flag, consumes it (and its value)
 * and returns 1; -1 after printing an error; 0 if not one of them. */
int robust_args_option(robust_args *r, const char *cmd, int argc, char **argv, int *i);

/* Applies one "name=value" setting of these flags (kebab- or snake-case,
 * without the dashes: "consensus-min-support=7", "robust=true"). robust=true
 * is --robust; robust=false turns every step off (the official generator).
 * 0 on success; -1 after printing an error; 1 if name is not one of them. */
int robust_args_set(robust_args *r, const char *cmd, const char *name, const char *value);

/* 1 when any step beyond the official generator is on. */
int robust_args_any(const robust_args *r);

/* One line per flag. */
void robust_args_print_help(void);

/* What robust_generate did to the image: the contrast mode that ran
 * (SAM2_CONTRAST_STRETCH or SAM2_CONTRAST_CLAHE), 0 when none did; denoised
 * 1 when consensus also asked the denoised copy (--consensus-denoised). */
typedef struct robust_report {
    int contrast;
    int denoised;
} robust_report;

/* The contrast step (on the whole image, once), the generator (with its
 * candidate pool when consensus is on), consensus, gap filling, merging. img
 * NULL: the context's embedding (crop_n_layers 0; no contrast step). With
 * crop layers the whole image is embedded again for gap filling. When
 * consensus, gap filling or merging is on and the image's longer side
 * exceeds max_side * 2^crop_n_layers, all of it runs on a copy shrunk to
 * that size and the masks are brought back to the image's size
 * (sam2_amg_result_upscale). *report (may be NULL) gets what ran. */
sam2_status robust_generate(sam2_ctx *ctx, const sam2_image *img, sam2_depth_mode depth, const sam2_amg_params *p,
                            const robust_args *r, sam2_amg_result **out, robust_report *report);

/* "off" / "auto" / "stretch" / "clahe". */
const char *robust_contrast_name(sam2_contrast_mode m);

/* {"contrast": "...", "gap_fill": {...} or false} for JSON outputs. */
cJSON *robust_args_to_json(const robust_args *r);

#endif
