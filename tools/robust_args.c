/* robust_args.c - see robust_args.h. */
#include "robust_args.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Pixel IoU above which two masks are one answer: far above the official
 * NMS's box threshold (0.7), so only near-copies go. */
#define DEDUP_IOU 0.9f

void robust_args_init(robust_args *r) {
    memset(r, 0, sizeof *r);
    r->gap = sam2_gap_fill_default_params();
    r->mp = sam2_merge_default_params();
    r->cp = sam2_consensus_default_params();
    r->dedup_iou = DEDUP_IOU;
    r->max_side = 1024;
}

static const char *const pick_level_names[] = {"off", "gray", "all"}; /* by SAM2_PICK_LEVEL_* */

static int parse_pick_level(const char *v, int *out) {
    for (int k = 0; k < 3; k++)
        if (!strcmp(v, pick_level_names[k])) return *out = k, 1;
    return 0;
}

/* --consensus and --consensus-*: 1 consumed, -1 error, 0 not one of them. */
static int consensus_option(robust_args *r, const char *cmd, const char *o, const char *v, int *i) {
    if (strncmp(o, "--consensus", 11)) return 0;
    if (!v) return cli_usage_error(cmd, "%s needs a value", o), -1;
    float f = 0;
    int ok = 1;
    if (!strcmp(o, "--consensus")) ok = cli_parse_bool(v, &r->consensus);
    else if (!strcmp(o, "--consensus-min-support")) ok = cli_parse_int(v, &r->cp.min_support);
    else if (!strcmp(o, "--consensus-min-stability")) ok = cli_parse_float(v, &f), r->cp.min_stability = f;
    else if (!strcmp(o, "--consensus-min-edge")) ok = cli_parse_float(v, &f), r->cp.min_edge = f;
    else if (!strcmp(o, "--consensus-agree-iou")) ok = cli_parse_float(v, &f), r->cp.agree_iou = f;
    else if (!strcmp(o, "--consensus-vote-frac")) ok = cli_parse_float(v, &f), r->cp.vote_frac = f;
    else if (!strcmp(o, "--consensus-pick-level")) ok = parse_pick_level(v, &r->cp.pick_level);
    else if (!strcmp(o, "--consensus-level-gain")) ok = cli_parse_float(v, &f), r->cp.level_gain = f;
    else if (!strcmp(o, "--consensus-pick-masks")) ok = cli_parse_bool(v, &r->cp.pick_masks);
    else if (!strcmp(o, "--consensus-absorb-frac")) ok = cli_parse_float(v, &f), r->cp.absorb_frac = f;
    else if (!strcmp(o, "--consensus-inner-support")) ok = cli_parse_int(v, &r->cp.inner_support);
    else if (!strcmp(o, "--consensus-iou-thresh")) ok = cli_parse_float(v, &f), r->cp.pool_pred_iou_thresh = f;
    else if (!strcmp(o, "--consensus-cell-clicks")) ok = cli_parse_bool(v, &r->cp.cell_clicks);
    else if (!strcmp(o, "--consensus-zoom")) ok = cli_parse_int(v, &r->cp.zoom_layers);
    else if (!strcmp(o, "--consensus-mirror")) ok = cli_parse_bool(v, &r->cp.mirror);
    else if (!strcmp(o, "--consensus-flip")) ok = cli_parse_bool(v, &r->cp.flip);
    else if (!strcmp(o, "--consensus-denoised")) ok = cli_parse_bool(v, &r->cp.denoised);
    else if (!strcmp(o, "--consensus-denoised-support")) ok = cli_parse_int(v, &r->cp.denoised_min_support);
    else if (!strcmp(o, "--consensus-denoised-inner-support")) ok = cli_parse_int(v, &r->cp.denoised_inner_support);
    else return cli_usage_error(cmd, "unknown option '%s'", o), -1;
    if (!ok) return cli_usage_error(cmd, "%s: bad value '%s' (see --help)", o, v), -1;
    if (sam2_consensus_params_check(&r->cp) != SAM2_OK)
        return cli_usage_error(cmd, "%s: %s", o, sam2_last_error()), -1;
    (*i)++;
    return 1;
}

int robust_args_option(robust_args *r, const char *cmd, int argc, char **argv, int *i) {
    const char *o = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!strcmp(o, "--robust")) {
        r->gap_fill = 1;
        r->merge = 1;
        r->consensus = 1;
        r->dedup = 1;
        r->contrast = SAM2_CONTRAST_AUTO;
        return 1;
    }
    const int c = consensus_option(r, cmd, o, v, i);
    if (c) return c;
    if (!strcmp(o, "--contrast")) {
        if (!v) return cli_usage_error(cmd, "--contrast needs a value"), -1;
        if (!strcmp(v, "off")) r->contrast = SAM2_CONTRAST_OFF;
        else if (!strcmp(v, "auto")) r->contrast = SAM2_CONTRAST_AUTO;
        else if (!strcmp(v, "stretch")) r->contrast = SAM2_CONTRAST_STRETCH;
        else if (!strcmp(v, "clahe")) r->contrast = SAM2_CONTRAST_CLAHE;
        else if (!strcmp(v, "median-stretch")) r->contrast = SAM2_CONTRAST_MEDIAN_STRETCH;
        else return cli_usage_error(cmd, "--contrast takes off, auto, stretch, median-stretch or clahe, got '%s'", v), -1;
        (*i)++;
        return 1;
    }
    if (!strcmp(o, "--dedup") || !strcmp(o, "--dedup-iou")) {
        if (!v) return cli_usage_error(cmd, "%s needs a value", o), -1;
        const int is_iou = !strcmp(o, "--dedup-iou");
        float f = 0;
        const int ok = is_iou ? cli_parse_float(v, &f) && f >= 0.01f && f <= 1 : cli_parse_bool(v, &r->dedup);
        if (!ok) return cli_usage_error(cmd, "%s: bad value '%s'%s", o, v, is_iou ? " (0.01 to 1)" : ""), -1;
        if (is_iou) r->dedup_iou = f;
        (*i)++;
        return 1;
    }
    if (!strcmp(o, "--robust-max-side")) {
        if (!v) return cli_usage_error(cmd, "--robust-max-side needs a value"), -1;
        if (!cli_parse_int(v, &r->max_side) || r->max_side < 0 || r->max_side > 65536)
            return cli_usage_error(cmd, "--robust-max-side: bad value '%s' (0 or a size up to 65536)", v), -1;
        (*i)++;
        return 1;
    }
    if (!strncmp(o, "--merge", 7)) {
        if (!v) return cli_usage_error(cmd, "%s needs a value", o), -1;
        float f = 0;
        int ok = 1;
        if (!strcmp(o, "--merge")) ok = cli_parse_bool(v, &r->merge);
        else if (!strcmp(o, "--merge-max-pairs")) ok = cli_parse_int(v, &r->mp.max_pairs) && r->mp.max_pairs >= 0;
        else if (!strcmp(o, "--merge-iou-thresh")) ok = cli_parse_float(v, &f) && f >= 0 && f <= 1, r->mp.pred_iou_thresh = f;
        else if (!strcmp(o, "--merge-min-union-iou")) ok = cli_parse_float(v, &f) && f >= 0 && f <= 1, r->mp.min_union_iou = f;
        else return cli_usage_error(cmd, "unknown option '%s'", o), -1;
        if (!ok) return cli_usage_error(cmd, "%s: bad value '%s' (see --help)", o, v), -1;
        (*i)++;
        return 1;
    }
    if (strncmp(o, "--gap-fill", 10)) return 0;
    if (!v) return cli_usage_error(cmd, "%s needs a value", o), -1;
    int ok = 1;
    float f = 0;
    if (!strcmp(o, "--gap-fill")) ok = cli_parse_bool(v, &r->gap_fill);
    else if (!strcmp(o, "--gap-fill-rounds")) ok = cli_parse_int(v, &r->gap.rounds) && r->gap.rounds >= 0 && r->gap.rounds <= 16;
    else if (!strcmp(o, "--gap-fill-max-points"))
        ok = cli_parse_int(v, &r->gap.max_points) && r->gap.max_points >= 1 && r->gap.max_points <= 4096;
    else if (!strcmp(o, "--gap-fill-min-region")) ok = cli_parse_float(v, &f) && f >= 0 && f <= 1, r->gap.min_region_frac = f;
    else if (!strcmp(o, "--gap-fill-iou-thresh")) ok = cli_parse_float(v, &f) && f >= 0 && f <= 1, r->gap.pred_iou_thresh = f;
    else if (!strcmp(o, "--gap-fill-stability-thresh"))
        ok = cli_parse_float(v, &f) && f >= 0 && f <= 1, r->gap.stability_score_thresh = f;
    else if (!strcmp(o, "--gap-fill-min-new")) ok = cli_parse_float(v, &f) && f >= 0 && f <= 1, r->gap.min_new_frac = f;
    else if (!strcmp(o, "--gap-fill-min-edge")) ok = cli_parse_float(v, &f) && f >= 0, r->gap.min_edge = f;
    else if (!strcmp(o, "--gap-fill-under")) ok = cli_parse_float(v, &f) && f >= 0 && f <= 1, r->gap.under_frac = f;
    else if (!strcmp(o, "--gap-fill-under-support"))
        ok = cli_parse_int(v, &r->gap.under_support) && r->gap.under_support >= 1 && r->gap.under_support <= 1 << 20;
    else if (!strcmp(o, "--gap-fill-under-min-edge")) ok = cli_parse_float(v, &f) && f >= 0, r->gap.under_min_edge = f;
    else return cli_usage_error(cmd, "unknown option '%s'", o), -1;
    if (!ok) return cli_usage_error(cmd, "%s: bad value '%s' (see --help)", o, v), -1;
    (*i)++;
    return 1;
}

int robust_args_set(robust_args *r, const char *cmd, const char *name, const char *value) {
    char flag[128];
    const int n = snprintf(flag, sizeof flag, "--%s", name);
    if (n < 0 || (size_t)n >= sizeof flag) return 1;
    for (char *c = flag + 2; *c; c++)
        if (*c == '_') *c = '-';
    if (!strcmp(flag, "--robust")) {
        int on = 0;
        if (!cli_parse_bool(value, &on)) return cli_usage_error(cmd, "robust takes true or false, got '%s'", value), -1;
        if (!on) {
            robust_args_init(r);
            return 0;
        }
    }
    char *argv[2] = {flag, (char *)value};
    int i = 0;
    const int rc = robust_args_option(r, cmd, 2, argv, &i);
    return rc > 0 ? 0 : rc < 0 ? -1 : 1;
}

int robust_args_any(const robust_args *r) {
    return r->contrast != SAM2_CONTRAST_OFF || r->gap_fill || r->consensus || r->merge || r->dedup;
}

void robust_args_print_help(void) {
    const sam2_gap_fill_params g = sam2_gap_fill_default_params();
    const sam2_consensus_params c = sam2_consensus_default_params();
    printf("Beyond the official generator (off by default; the default output is the official one):\n"
           "  --robust                          --contrast auto, --consensus true, --gap-fill true,\n"
           "                                    --merge true, --dedup true\n"
"  --robust-max-side N               with consensus, gap filling or merging, images whose longer\n"
           "                                    side exceeds N (times 2^crop_n_layers) are worked on\n"
           "                                    shrunk to it, the masks brought back to full size; 0: never\n"
           "                                    (1024, the model's input size)\n"
           "  --contrast off|auto|stretch|median-stretch|clahe\n"
           "                                    stretch the luminance's p0.5-p99.5 window to 0-255,\n"
           "                                    or CLAHE it, first; median-stretch: its 3 x 3 median\n"
           "                                    first (noisy images); auto: stretch when the image is\n"
           "                                    gray and spans < 64 levels (p1-p99) (off)\n"
           "  --consensus true|false            add the vote of candidates that several clicks agree on,\n"
           "                                    whatever their predicted IoU (false)\n"
           "  --consensus-min-support N         clicks whose answers must agree (%d; 5 with\n"
           "                                    --consensus-mirror false)\n"
           "  --consensus-min-stability F       the voters' mean stability score a vote needs (%g)\n"
           "  --consensus-min-edge F            a vote's outline must follow edges of the image: the\n"
           "                                    median along it of the smoothed image's gradient, over\n"
           "                                    the image's median gradient, at least F (%g; 0: no test;\n"
           "                                    none from an embedding)\n"
           "  --consensus-agree-iou F           mask IoU at which two candidates agree (%g)\n"
           "  --consensus-vote-frac F           share of the voters that must cover a pixel (%g)\n"
           "  --consensus-pick-level off|gray|all\n"
           "                                    on these images the vote's boundary follows the image:\n"
           "                                    of the masks that 20, 30, ..., 70 %% of the voters cover,\n"
           "                                    the one whose outline follows its edges best (as\n"
           "                                    --consensus-min-edge measures) replaces the\n"
           "                                    --consensus-vote-frac one when it does so\n"
           "                                    1 + --consensus-level-gain times better (%s; none from\n"
           "                                    an embedding)\n"
           "  --consensus-level-gain F          (%g)\n"
           "  --consensus-pick-masks true|false\n"
           "                                    the same for the other masks (the grid's, gap filling's,\n"
           "                                    merging's), after those steps: the answers of the pool\n"
           "                                    that agree with a mask (from --consensus-min-support\n"
           "                                    clicks) vote, and the share whose outline follows the\n"
           "                                    image 1 + --consensus-level-gain times better than the\n"
           "                                    mask's own replaces it (%s)\n"
           "  --consensus-absorb-frac F         candidates this much inside a mask are set aside (%g)\n"
           "  --consensus-inner-support N       also add a vote inside a kept mask or an earlier vote when\n"
           "                                    this many clicks agree on it and fewer than half of them\n"
           "                                    also answered with that mask (%d; 0: such votes are absorbed)\n"
           "  --consensus-iou-thresh F          candidates considered: predicted IoU above it (%g)\n"
           "  --consensus-cell-clicks true|false\n"
           "                                    also ask at the centre of every cell of the grid: twice\n"
           "                                    the answers to agree on, for about twice the time (%s;\n"
           "                                    with true and --consensus-zoom 0, --consensus-min-support 7\n"
           "                                    suits)\n"
           "  --consensus-zoom N                also ask the grid's clicks on the 2^i x 2^i zoomed crops\n"
           "                                    of crop layers 1..N (as --crop-n-layers N would), for\n"
           "                                    consensus only: the generator's own masks stay those of\n"
           "                                    --crop-n-layers; about 5x the decoding time and 4 more\n"
           "                                    encoder runs for N = 1 (%d; 0: the grid alone, with\n"
           "                                    --consensus-min-support 4 without the mirrored answers);\n"
           "                                    with --point-grids the crops\n"
           "                                    of layers without a grid of their own ask the last one;\n"
           "                                    an embedding has no crops: the grid alone\n"
           "  --consensus-mirror true|false     also ask the same clicks (and zoomed crops) on the image\n"
           "                                    mirrored left-right, answers mirrored back: twice the\n"
           "                                    answers, for about twice the time (%s; an embedding has\n"
           "                                    no image to mirror)\n"
           "  --consensus-flip true|false       also ask them on the image flipped top to bottom,\n"
           "                                    answers flipped back: about 1.5x the time with the\n"
           "                                    mirrored answers (%s; --consensus-min-support 11\n"
           "                                    --consensus-inner-support 33 suit; none from an embedding)\n"
           "  --consensus-denoised true|false   when the contrast step stretched a low-contrast image,\n"
           "                                    also ask all of the above of it after a 3 x 3 median and\n"
           "                                    the stretch (--contrast median-stretch): twice the\n"
           "                                    answers, for about twice the time on those images (%s)\n"
           "  --consensus-denoised-support N    --consensus-min-support then (%d)\n"
           "  --consensus-denoised-inner-support N\n"
           "                                    --consensus-inner-support then (%d)\n"
           "  --gap-fill true|false             click into sizeable regions no mask covers (false)\n"
           "  --gap-fill-min-region F           smallest region, share of the image (%g)\n"
           "  --gap-fill-iou-thresh F           the model's predicted IoU must exceed it (%g)\n"
           "  --gap-fill-stability-thresh F     and its stability reach it (%g)\n"
           "  --gap-fill-min-new F              share of the new mask that must be uncovered (%g)\n"
           "  --gap-fill-min-edge F             its outline must follow edges of the image, as with\n"
           "                                    --consensus-min-edge (%g; 0: no test)\n"
           "  --gap-fill-rounds N               rounds while masks get added (%d)\n"
           "  --gap-fill-max-points N           clicks per round, largest regions first (%d)\n"
           "  --gap-fill-under F                on images the contrast step stretched (--contrast auto:\n"
           "                                    low-contrast gray ones), with --consensus, look under\n"
           "                                    the masks of at least this share of the image too: an\n"
           "                                    answer of consensus's pool whose click only they cover,\n"
           "                                    mostly off the other masks and passing the thresholds\n"
           "                                    above is added (%g; 0: off)\n"
           "  --gap-fill-under-support N        when the answers of N distinct clicks agree with it (%d)\n"
           "  --gap-fill-under-min-edge F       and its outline's edge ratio is at least F (%g)\n",
           c.min_support, (double)c.min_stability, (double)c.min_edge, (double)c.agree_iou, (double)c.vote_frac,
           pick_level_names[c.pick_level], (double)c.level_gain, c.pick_masks ? "true" : "false", (double)c.absorb_frac,
           c.inner_support, (double)c.pool_pred_iou_thresh, c.cell_clicks ? "true" : "false", c.zoom_layers, c.mirror ? "true" : "false", c.flip ? "true" : "false",
           c.denoised ? "true" : "false", c.denoised_min_support, c.denoised_inner_support,
           (double)g.min_region_frac,
           (double)g.pred_iou_thresh, (double)g.stability_score_thresh, (double)g.min_new_frac, (double)g.min_edge, g.rounds, g.max_points,
           (double)g.under_frac, g.under_support, (double)g.under_min_edge);
    const sam2_merge_params m = sam2_merge_default_params();
    printf("  --merge true|false                ask the model about touching masks, one click in each on\n"
           "                                    its own: when both parts' answers include a confident mask\n"
           "                                    close to their union, it replaces them; a consensus vote\n"
           "                                    inside an earlier mask stays apart from it (false)\n"
           "  --merge-iou-thresh F              its predicted IoU must exceed it (%g)\n"
           "  --merge-min-union-iou F           its IoU with the union must reach it (%g)\n"
           "  --merge-max-pairs N               pairs asked at most (%d)\n"
           "  --dedup true|false                of masks whose pixel IoU exceeds --dedup-iou keep the one\n"
           "                                    with the best predicted IoU: the official NMS compares\n"
           "                                    boxes, which stray pixels stretch (false)\n"
           "  --dedup-iou F                     (%g)\n",
           (double)m.pred_iou_thresh, (double)m.min_union_iou, m.max_pairs, (double)DEDUP_IOU);
}

const char *robust_contrast_name(sam2_contrast_mode m) {
    return m == SAM2_CONTRAST_AUTO      ? "auto"
           : m == SAM2_CONTRAST_CLAHE   ? "clahe"
           : m == SAM2_CONTRAST_STRETCH ? "stretch"
           : m == SAM2_CONTRAST_MEDIAN_STRETCH ? "median-stretch"
                                        : "off";
}

/* The mirrored and flipped answers about img that r asks for, added to pool. */
static sam2_status add_reflections(sam2_ctx *ctx, const sam2_image *img, const sam2_amg_params *p, const robust_args *r,
                                   int decoded, sam2_amg_result *pool) {
    sam2_status st = SAM2_OK;
    if (r->cp.mirror) st = sam2_amg_pool_add_mirrored(ctx, img, p, decoded, r->cp.pool_pred_iou_thresh, pool);
    if (st == SAM2_OK && r->cp.flip) st = sam2_amg_pool_add_flipped(ctx, img, p, decoded, r->cp.pool_pred_iou_thresh, pool);
    return st;
}

/* With the stretch of a low-contrast image, the same questions about the
 * image after a 3 x 3 median and the stretch: the stretch magnifies the
 * noise with the objects, and the model answers the smoothed image
 * differently. *added: 1 when they joined pool. */
static sam2_status add_denoised(sam2_ctx *ctx, const sam2_image *orig, sam2_depth_mode depth, const sam2_amg_params *p,
                                const robust_args *r, int decoded, sam2_amg_result *pool, int *added) {
    uint8_t *px = NULL;
    int applied = 0;
    *added = 0;
    sam2_status st = sam2_image_enhance(orig, depth, SAM2_CONTRAST_MEDIAN_STRETCH, &px, &applied);
    if (st != SAM2_OK || !applied) return st;
    const sam2_image smooth = {orig->width, orig->height, orig->width * 3, 3, 8, px};
    st = sam2_amg_pool_add_image(ctx, &smooth, p, decoded, r->cp.pool_pred_iou_thresh, pool);
    if (st == SAM2_OK) st = add_reflections(ctx, &smooth, p, r, decoded, pool);
    free(px);
    *added = st == SAM2_OK;
    return st;
}

static sam2_status robust_run(sam2_ctx *ctx, const sam2_image *img, sam2_depth_mode depth, const sam2_amg_params *p,
                              const robust_args *r, sam2_amg_result **out, robust_report *report) {
    uint8_t *px = NULL;
    int applied = 0;
    const sam2_image *orig = img;
    sam2_image enhanced;
    if (img && r->contrast != SAM2_CONTRAST_OFF) {
        sam2_status es = sam2_image_enhance(img, depth, r->contrast, &px, &applied);
        if (es != SAM2_OK) return es;
        if (applied) {
            enhanced = (sam2_image){img->width, img->height, img->width * 3, 3, 8, px};
            img = &enhanced;
        }
    }
    if (report) report->contrast = applied;
    sam2_amg_result *pool = NULL;
    sam2_status st = r->consensus ? sam2_amg_generate_pool_zoomed(ctx, img, p, r->cp.zoom_layers,
                                                                  r->cp.pool_pred_iou_thresh, out, &pool)
                                  : sam2_amg_generate(ctx, img, p, out);
    /* crop layers decoded: 0 when the context holds the whole image, not the last crop */
    const int decoded = r->consensus && img && r->cp.zoom_layers > p->crop_n_layers ? r->cp.zoom_layers : p->crop_n_layers;
    int whole = decoded <= 0;
    sam2_consensus_params cp = r->cp;
    if (st == SAM2_OK && r->consensus && img && (r->cp.mirror || r->cp.flip)) {
        st = add_reflections(ctx, img, p, r, decoded, pool);
        whole = 0;
    }
    if (st == SAM2_OK && r->consensus && r->cp.denoised && applied == SAM2_CONTRAST_STRETCH) {
        int added = 0;
        st = add_denoised(ctx, orig, depth, p, r, decoded, pool, &added);
        if (added) { /* the context now holds the denoised copy */
            whole = 0;
            if (report) report->denoised = 1;
            cp.min_support = cp.denoised_min_support, cp.inner_support = cp.denoised_inner_support;
        }
    }
    if (st == SAM2_OK && r->consensus && r->cp.cell_clicks) {
        if (!whole) st = sam2_set_image(ctx, img), whole = 1;
        if (st == SAM2_OK) st = sam2_amg_pool_add_cell_clicks(ctx, p, r->cp.pool_pred_iou_thresh, pool);
    }
    if (st == SAM2_OK && r->consensus) st = sam2_amg_consensus(pool, img, &cp, *out);
    /* level picking and gap filling under large masks read the pool; the
     * latter runs on low-contrast images, as the denoised answers do */
    const int fill_under = r->gap_fill && r->gap.under_frac > 0 && applied == SAM2_CONTRAST_STRETCH;
    if (!r->consensus || (!cp.pick_masks && !fill_under)) sam2_amg_result_free(pool), pool = NULL;
    if (st == SAM2_OK && (r->gap_fill || r->merge) && !whole) st = sam2_set_image(ctx, img);
    if (st == SAM2_OK && r->gap_fill) st = sam2_amg_gap_fill(ctx, img, p, &r->gap, *out);
    if (st == SAM2_OK && fill_under && pool) st = sam2_amg_fill_under(pool, img, &r->gap, *out);
    sam2_merge_params mp = r->mp; /* a vote inside a mask is "inside" as the consensus counts it */
    mp.inner_vote_frac = r->cp.absorb_frac;
    if (st == SAM2_OK && r->merge) st = sam2_amg_merge(ctx, p, &mp, *out);
    /* after gap filling and merging, which ask the model about the masks as it gave them */
    if (st == SAM2_OK && pool) st = sam2_amg_pick_levels(pool, img, &cp, *out);
    sam2_amg_result_free(pool);
    if (st == SAM2_OK && r->dedup) st = sam2_amg_dedup(*out, r->dedup_iou, NULL);
    if (st != SAM2_OK) {
        sam2_amg_result_free(*out);
        *out = NULL;
    }
    free(px);
    return st;
}

sam2_status robust_generate(sam2_ctx *ctx, const sam2_image *img, sam2_depth_mode depth, const sam2_amg_params *p,
                            const robust_args *r, sam2_amg_result **out, robust_report *report) {
    *out = NULL;
    if (report) *report = (robust_report){0, 0};
    const int side = img ? (img->width > img->height ? img->width : img->height) : 0;
    const int layers = p->crop_n_layers > 0 ? p->crop_n_layers : 0;
    const long long cap = layers < 16 ? (long long)r->max_side << layers : 0; /* 0: too large to matter */
    if (!img || r->max_side <= 0 || cap <= 0 || cap > INT_MAX || (!r->consensus && !r->gap_fill && !r->merge) ||
        side <= cap)
        return robust_run(ctx, img, depth, p, r, out, report);
    /* the steps compare whole-image masks many times over: on a copy at
     * about the model's own input size they cost a fixed amount */
    uint8_t *px = NULL;
    int w = 0, h = 0;
    sam2_status st = sam2_image_shrink(img, depth, (int)cap, &px, &w, &h);
    if (st != SAM2_OK) return st;
    const sam2_image small = {w, h, w * 3, 3, 8, px};
    sam2_amg_result *res = NULL;
    st = robust_run(ctx, &small, depth, p, r, &res, report);
    if (st == SAM2_OK) st = sam2_amg_result_upscale(res, img->width, img->height, out);
    sam2_amg_result_free(res);
    free(px);
    return st;
}

cJSON *robust_args_to_json(const robust_args *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "contrast", robust_contrast_name(r->contrast));
    cJSON_AddNumberToObject(o, "max_side", r->max_side);
    if (r->merge) {
        cJSON *m = cJSON_AddObjectToObject(o, "merge");
        cJSON_AddNumberToObject(m, "max_pairs", r->mp.max_pairs);
        cJSON_AddNumberToObject(m, "pred_iou_thresh", r->mp.pred_iou_thresh);
        cJSON_AddNumberToObject(m, "stability_score_thresh", r->mp.stability_score_thresh);
        cJSON_AddNumberToObject(m, "min_union_iou", r->mp.min_union_iou);
        cJSON_AddNumberToObject(m, "inner_vote_frac", r->cp.absorb_frac);
    } else {
        cJSON_AddFalseToObject(o, "merge");
    }
    if (r->dedup) cJSON_AddNumberToObject(o, "dedup_iou", r->dedup_iou);
    else cJSON_AddFalseToObject(o, "dedup");
    if (r->consensus) {
        cJSON *c = cJSON_AddObjectToObject(o, "consensus");
        cJSON_AddNumberToObject(c, "pool_pred_iou_thresh", r->cp.pool_pred_iou_thresh);
        cJSON_AddNumberToObject(c, "agree_iou", r->cp.agree_iou);
        cJSON_AddNumberToObject(c, "min_support", r->cp.min_support);
        cJSON_AddNumberToObject(c, "min_stability", r->cp.min_stability);
        cJSON_AddNumberToObject(c, "min_edge", r->cp.min_edge);
        cJSON_AddNumberToObject(c, "vote_frac", r->cp.vote_frac);
        cJSON_AddStringToObject(c, "pick_level", pick_level_names[r->cp.pick_level]);
        cJSON_AddNumberToObject(c, "level_gain", r->cp.level_gain);
        cJSON_AddBoolToObject(c, "pick_masks", r->cp.pick_masks);
        cJSON_AddNumberToObject(c, "absorb_frac", r->cp.absorb_frac);
        cJSON_AddNumberToObject(c, "inner_support", r->cp.inner_support);
        cJSON_AddBoolToObject(c, "cell_clicks", r->cp.cell_clicks);
        cJSON_AddNumberToObject(c, "zoom_layers", r->cp.zoom_layers);
        cJSON_AddBoolToObject(c, "mirror", r->cp.mirror);
        cJSON_AddBoolToObject(c, "flip", r->cp.flip);
        if (r->cp.denoised) {
            cJSON *d = cJSON_AddObjectToObject(c, "denoised");
            cJSON_AddNumberToObject(d, "min_support", r->cp.denoised_min_support);
            cJSON_AddNumberToObject(d, "inner_support", r->cp.denoised_inner_support);
        } else {
            cJSON_AddFalseToObject(c, "denoised");
        }
    } else {
        cJSON_AddFalseToObject(o, "consensus");
    }
    if (!r->gap_fill) {
        cJSON_AddFalseToObject(o, "gap_fill");
        return o;
    }
    cJSON *g = cJSON_AddObjectToObject(o, "gap_fill");
    cJSON_AddNumberToObject(g, "rounds", r->gap.rounds);
    cJSON_AddNumberToObject(g, "min_region_frac", r->gap.min_region_frac);
    cJSON_AddNumberToObject(g, "max_points", r->gap.max_points);
    cJSON_AddNumberToObject(g, "pred_iou_thresh", r->gap.pred_iou_thresh);
    cJSON_AddNumberToObject(g, "stability_score_thresh", r->gap.stability_score_thresh);
    cJSON_AddNumberToObject(g, "min_new_frac", r->gap.min_new_frac);
    cJSON_AddNumberToObject(g, "min_edge", r->gap.min_edge);
    if (r->gap.under_frac > 0) {
        cJSON *u = cJSON_AddObjectToObject(g, "under");
        cJSON_AddNumberToObject(u, "frac", r->gap.under_frac);
        cJSON_AddNumberToObject(u, "support", r->gap.under_support);
        cJSON_AddNumberToObject(u, "min_edge", r->gap.under_min_edge);
    } else {
        cJSON_AddFalseToObject(g, "under");
    }
    return o;
}
