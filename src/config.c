/* config.c - the official YAML schema (a `model:` tree of constructor
 * arguments) read with libyaml; absent keys keep the class defaults. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "error.h"

void sam2_config_defaults(sam2_config *c) {
    memset(c, 0, sizeof *c);
    /* SAM2Base */
    c->image_size = 512;
    c->backbone_stride = 16;
    c->use_high_res_features_in_sam = 0;
    c->pred_obj_scores = 0;
    c->pred_obj_scores_mlp = 0;
    c->iou_prediction_use_sigmoid = 0;
    c->directly_add_no_mem_embed = 0;
    c->use_multimask_token_for_obj_ptr = 0;
    /* build_sam always switches these on */
    c->dynamic_multimask_via_stability = 1;
    c->dynamic_multimask_stability_delta = 0.05f;
    c->dynamic_multimask_stability_thresh = 0.98f;
    /* Hiera */
    c->embed_dim = 96;
    c->num_heads = 1;
    c->n_stages = 4;
    int stages[4] = {2, 3, 16, 3}, windows[4] = {8, 4, 14, 7}, glob[3] = {12, 16, 20};
    memcpy(c->stages, stages, sizeof stages);
    memcpy(c->window_spec, windows, sizeof windows);
    c->n_global_att_blocks = 3;
    memcpy(c->global_att_blocks, glob, sizeof glob);
    c->window_pos_embed_bkg_spatial_size[0] = c->window_pos_embed_bkg_spatial_size[1] = 14;
    c->q_pool = 3;
    c->q_stride[0] = c->q_stride[1] = 2;
    c->dim_mul = 2.0f;
    c->head_mul = 2.0f;
    /* FpnNeck: no defaults for d_model / channels in the class; fuse sum */
    c->d_model = 256;
    c->n_backbone_channels = 4;
    int ch[4] = {768, 384, 192, 96};
    memcpy(c->backbone_channel_list, ch, sizeof ch);
    c->n_fpn_top_down_levels = 4;
    for (int i = 0; i < 4; i++) c->fpn_top_down_levels[i] = i;
    c->fpn_interp_nearest = 0; /* class default "bilinear" */
    c->fpn_fuse_avg = 0;
    c->scalp = 0;
    c->pos_num_pos_feats = 256;
    c->pos_normalize = 1;
    c->pos_scale = (float)(2 * M_PI);
    c->pos_temperature = 10000.0f;
    /* hard-coded in the official code */
    c->num_multimask_outputs = 3;
    c->mask_in_chans = 16;
    c->dec_depth = 2;
    c->dec_heads = 8;
    c->dec_mlp_dim = 2048;
    c->dec_attn_downsample = 2;
    c->iou_head_hidden = 256;
    c->iou_head_depth = 3;
    snprintf(c->source, sizeof c->source, "defaults");
}

int sam2_config_n_blocks(const sam2_config *c) {
    int n = 0;
    for (int i = 0; i < c->n_stages; i++) n += c->stages[i];
    return n;
}

/* int(embed_dim * dim_mul) applied once per stage transition, as the official
 * constructor does (truncating at each step). */
int sam2_config_stage_dim(const sam2_config *c, int stage) {
    int d = c->embed_dim;
    for (int i = 0; i < stage; i++) d = (int)(d * c->dim_mul);
    return d;
}

int sam2_config_stage_heads(const sam2_config *c, int stage) {
    int h = c->num_heads;
    for (int i = 0; i < stage; i++) h = (int)(h * c->head_mul);
    return h;
}

/* ------------------------------------------------------------ YAML access */

typedef struct ydoc {
    yaml_document_t doc;
    const char *path;
} ydoc;

static yaml_node_t *ymap_get(ydoc *y, yaml_node_t *map, const char *key) {
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
            return yaml_document_get_node(&y->doc, p->value);
    }
    return NULL;
}

static const char *yscalar(yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static sam2_status bad_value(ydoc *y, yaml_node_t *n, const char *key, const char *what) {
    return SAM2_FAIL(SAM2_ERR_CONFIG, "%s:%lu: '%s' must be %s", y->path,
                     n ? (unsigned long)n->start_mark.line + 1 : 0UL, key, what);
}

static int is_null(const char *s) { return !strcmp(s, "null") || !strcmp(s, "~") || !strcmp(s, "None") || !*s; }

/* Reads an optional integer key; absent keeps *out. */
static sam2_status yint(ydoc *y, yaml_node_t *map, const char *key, int *out) {
    yaml_node_t *n = ymap_get(y, map, key);
    if (!n) return SAM2_OK;
    const char *s = yscalar(n);
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *end || errno || v < -1000000000L || v > 1000000000L) return bad_value(y, n, key, "a whole number");
    *out = (int)v;
    return SAM2_OK;
}

static sam2_status yfloat(ydoc *y, yaml_node_t *map, const char *key, float *out, int allow_null, int *was_null) {
    yaml_node_t *n = ymap_get(y, map, key);
    if (!n) return SAM2_OK;
    const char *s = yscalar(n);
    if (s && allow_null && is_null(s)) {
        if (was_null) *was_null = 1;
        return SAM2_OK;
    }
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || *end || errno || !isfinite(v)) return bad_value(y, n, key, "a number");
    *out = (float)v;
    return SAM2_OK;
}

static sam2_status ybool(ydoc *y, yaml_node_t *map, const char *key, int *out) {
    yaml_node_t *n = ymap_get(y, map, key);
    if (!n) return SAM2_OK;
    const char *s = yscalar(n);
    if (s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))) *out = 1;
    else if (s && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))) *out = 0;
    else return bad_value(y, n, key, "true or false");
    return SAM2_OK;
}

/* Reads an optional list of integers into out[max], setting *count. */
static sam2_status ylist(ydoc *y, yaml_node_t *map, const char *key, int *out, int max, int *count) {
    yaml_node_t *n = ymap_get(y, map, key);
    if (!n) return SAM2_OK;
    if (n->type != YAML_SEQUENCE_NODE) return bad_value(y, n, key, "a list of whole numbers");
    int k = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        const char *s = yscalar(yaml_document_get_node(&y->doc, *it));
        char *end;
        errno = 0;
        long v = s ? strtol(s, &end, 10) : 0;
        if (!s || *end || errno || v < -1000000L || v > 1000000L) return bad_value(y, n, key, "a list of whole numbers");
        if (k == max) return SAM2_FAIL(SAM2_ERR_CONFIG, "%s:%lu: '%s' has more than %d entries", y->path,
                                       (unsigned long)n->start_mark.line + 1, key, max);
        out[k++] = (int)v;
    }
    if (count) *count = k;
    return SAM2_OK;
}

/* Reads an optional name; absent leaves *out NULL. A list or a mapping
 * where a name belongs is an error: taken as absent, it would silently
 * select the default (bilinear instead of a malformed nearest, say). */
static sam2_status yname(ydoc *y, yaml_node_t *map, const char *key, const char **out) {
    yaml_node_t *n = ymap_get(y, map, key);
    *out = NULL;
    if (n && !(*out = yscalar(n))) return bad_value(y, n, key, "a name");
    return SAM2_OK;
}

/* Reads an optional section; absent (or null) leaves *out NULL. Any other
 * scalar, or a list, is an error rather than a section of defaults. */
static sam2_status ysection(ydoc *y, yaml_node_t *map, const char *key, yaml_node_t **out) {
    yaml_node_t *n = ymap_get(y, map, key);
    *out = NULL;
    if (!n || (yscalar(n) && is_null(yscalar(n)))) return SAM2_OK;
    if (n->type != YAML_MAPPING_NODE) return bad_value(y, n, key, "a section of keys");
    *out = n;
    return SAM2_OK;
}

static sam2_status read_model(ydoc *y, yaml_node_t *model, sam2_config *c) {
    if (model->type != YAML_MAPPING_NODE) return bad_value(y, model, "model", "a section of keys");
    SAM2_TRY(yint(y, model, "image_size", &c->image_size));
    SAM2_TRY(yint(y, model, "backbone_stride", &c->backbone_stride));
    SAM2_TRY(ybool(y, model, "use_high_res_features_in_sam", &c->use_high_res_features_in_sam));
    SAM2_TRY(ybool(y, model, "pred_obj_scores", &c->pred_obj_scores));
    SAM2_TRY(ybool(y, model, "pred_obj_scores_mlp", &c->pred_obj_scores_mlp));
    SAM2_TRY(ybool(y, model, "iou_prediction_use_sigmoid", &c->iou_prediction_use_sigmoid));
    SAM2_TRY(ybool(y, model, "directly_add_no_mem_embed", &c->directly_add_no_mem_embed));
    SAM2_TRY(ybool(y, model, "use_multimask_token_for_obj_ptr", &c->use_multimask_token_for_obj_ptr));
    yaml_node_t *extra;
    SAM2_TRY(ysection(y, model, "sam_mask_decoder_extra_args", &extra));
    if (extra) {
        SAM2_TRY(ybool(y, extra, "dynamic_multimask_via_stability", &c->dynamic_multimask_via_stability));
        SAM2_TRY(yfloat(y, extra, "dynamic_multimask_stability_delta", &c->dynamic_multimask_stability_delta, 0, NULL));
        SAM2_TRY(yfloat(y, extra, "dynamic_multimask_stability_thresh", &c->dynamic_multimask_stability_thresh, 0, NULL));
    }
    yaml_node_t *enc, *trunk, *neck;
    SAM2_TRY(ysection(y, model, "image_encoder", &enc));
    if (!enc) return SAM2_FAIL(SAM2_ERR_CONFIG, "%s: model has no image_encoder", y->path);
    SAM2_TRY(yint(y, enc, "scalp", &c->scalp));
    SAM2_TRY(ysection(y, enc, "trunk", &trunk));
    SAM2_TRY(ysection(y, enc, "neck", &neck));
    if (!trunk || !neck) return SAM2_FAIL(SAM2_ERR_CONFIG, "%s: image_encoder needs a trunk and a neck", y->path);
    const char *tt;
    SAM2_TRY(yname(y, trunk, "_target_", &tt));
    if (tt && !strstr(tt, "Hiera"))
        return SAM2_FAIL(SAM2_ERR_CONFIG, "%s: trunk '%s' is not supported (Hiera only)", y->path, tt);
    SAM2_TRY(yint(y, trunk, "embed_dim", &c->embed_dim));
    SAM2_TRY(yint(y, trunk, "num_heads", &c->num_heads));
    SAM2_TRY(ylist(y, trunk, "stages", c->stages, SAM2_MAX_STAGES, &c->n_stages));
    SAM2_TRY(ylist(y, trunk, "global_att_blocks", c->global_att_blocks, SAM2_MAX_GLOBAL, &c->n_global_att_blocks));
    int nw = -1;
    SAM2_TRY(ylist(y, trunk, "window_spec", c->window_spec, SAM2_MAX_STAGES, &nw));
    if (nw >= 0 && nw != c->n_stages)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "%s: window_spec has %d entries but stages has %d", y->path, nw, c->n_stages);
    int nb = 2;
    SAM2_TRY(ylist(y, trunk, "window_pos_embed_bkg_spatial_size", c->window_pos_embed_bkg_spatial_size, 2, &nb));
    if (nb != 2) return SAM2_FAIL(SAM2_ERR_CONFIG, "%s: window_pos_embed_bkg_spatial_size needs 2 entries", y->path);
    SAM2_TRY(yint(y, trunk, "q_pool", &c->q_pool));
    int nq = 2;
    SAM2_TRY(ylist(y, trunk, "q_stride", c->q_stride, 2, &nq));
    if (nq != 2) return SAM2_FAIL(SAM2_ERR_CONFIG, "%s: q_stride needs 2 entries", y->path);
    SAM2_TRY(yfloat(y, trunk, "dim_mul", &c->dim_mul, 0, NULL));
    SAM2_TRY(yfloat(y, trunk, "head_mul", &c->head_mul, 0, NULL));

    SAM2_TRY(yint(y, neck, "d_model", &c->d_model));
    SAM2_TRY(ylist(y, neck, "backbone_channel_list", c->backbone_channel_list, SAM2_MAX_LEVELS, &c->n_backbone_channels));
    SAM2_TRY(ylist(y, neck, "fpn_top_down_levels", c->fpn_top_down_levels, SAM2_MAX_LEVELS, &c->n_fpn_top_down_levels));
    const char *interp, *fuse;
    SAM2_TRY(yname(y, neck, "fpn_interp_model", &interp));
    if (interp) {
        if (!strcmp(interp, "nearest")) c->fpn_interp_nearest = 1;
        else if (!strcmp(interp, "bilinear")) c->fpn_interp_nearest = 0;
        else return SAM2_FAIL(SAM2_ERR_CONFIG, "%s: fpn_interp_model '%s' is not supported (nearest, bilinear)", y->path, interp);
    }
    SAM2_TRY(yname(y, neck, "fuse_type", &fuse));
    if (fuse) {
        if (!strcmp(fuse, "sum")) c->fpn_fuse_avg = 0;
        else if (!strcmp(fuse, "avg")) c->fpn_fuse_avg = 1;
        else return SAM2_FAIL(SAM2_ERR_CONFIG, "%s: fuse_type '%s' is not supported (sum, avg)", y->path, fuse);
    }
    yaml_node_t *pe;
    SAM2_TRY(ysection(y, neck, "position_encoding", &pe));
    c->pos_num_pos_feats = c->d_model;
    if (pe) {
        SAM2_TRY(yint(y, pe, "num_pos_feats", &c->pos_num_pos_feats));
        SAM2_TRY(ybool(y, pe, "normalize", &c->pos_normalize));
        int was_null = 0;
        float scale = c->pos_scale;
        SAM2_TRY(yfloat(y, pe, "scale", &scale, 1, &was_null));
        c->pos_scale = was_null ? (float)(2 * M_PI) : scale;
        SAM2_TRY(yfloat(y, pe, "temperature", &c->pos_temperature, 0, NULL));
    }
    return SAM2_OK;
}

/* Parses the document the parser is set up for; name labels messages and
 * becomes c->source. */
static sam2_status load_yaml(yaml_parser_t *parser, const char *name, sam2_config *c) {
    ydoc y = {.path = name};
    if (!yaml_parser_load(parser, &y.doc))
        return SAM2_FAIL(SAM2_ERR_CONFIG, "%s:%lu: YAML error: %s", name, (unsigned long)parser->problem_mark.line + 1,
                         parser->problem ? parser->problem : "unknown");
    yaml_node_t *root = yaml_document_get_root_node(&y.doc);
    yaml_node_t *model = ymap_get(&y, root, "model");
    sam2_status st = model ? read_model(&y, model, c)
                           : SAM2_FAIL(SAM2_ERR_CONFIG, "%s: no 'model:' section (not an official SAM 2 config)", name);
    yaml_document_delete(&y.doc);
    if (st == SAM2_OK) {
        c->preset[0] = 0;
        snprintf(c->source, sizeof c->source, "%s", name);
    }
    return st;
}

sam2_status sam2_config_load_yaml(const char *path, sam2_config *c) {
    sam2_config_defaults(c);
    FILE *f = fopen(path, "rb");
    if (!f) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    sam2_status st = load_yaml(&parser, path, c);
    yaml_parser_delete(&parser);
    fclose(f);
    return st;
}

sam2_status sam2_config_load_yaml_text(const char *text, size_t len, const char *name, sam2_config *c) {
    sam2_config_defaults(c);
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    sam2_status st = load_yaml(&parser, name, c);
    yaml_parser_delete(&parser);
    return st;
}

sam2_status sam2_config_validate(const sam2_config *c) {
    if (c->image_size < 32 || c->image_size > 8192)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "image_size %d out of range (32..8192)", c->image_size);
    if (c->backbone_stride != 16)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "backbone_stride %d: only 16 is supported", c->backbone_stride);
    if (c->image_size % 32)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "image_size %d must be a multiple of 32", c->image_size);
    if (c->embed_dim < 1 || c->num_heads < 1)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "embed_dim and num_heads must be positive");
    if (c->n_stages < 1 || c->n_stages > SAM2_MAX_STAGES)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "stages must list 1..%d stages", SAM2_MAX_STAGES);
    /* the stage widths int(d * dim_mul) must stay ints: a huge multiplier
     * would convert out of range (undefined) before any check sees it */
    double dim = c->embed_dim, heads = c->num_heads;
    for (int i = 1; i < c->n_stages; i++) {
        dim *= c->dim_mul, heads *= c->head_mul;
        if (!(dim >= 1 && dim <= 1e6 && heads >= 1 && heads <= 1e6))
            return SAM2_FAIL(SAM2_ERR_CONFIG, "dim_mul %g / head_mul %g give stage %d %g channels, %g heads",
                             c->dim_mul, c->head_mul, i, dim, heads);
    }
    for (int i = 0; i < c->n_stages; i++) {
        if (c->stages[i] < 1) return SAM2_FAIL(SAM2_ERR_CONFIG, "stages[%d] = %d must be positive", i, c->stages[i]);
        if (c->window_spec[i] < 0) return SAM2_FAIL(SAM2_ERR_CONFIG, "window_spec[%d] must not be negative", i);
        int dim = sam2_config_stage_dim(c, i), heads = sam2_config_stage_heads(c, i);
        if (heads < 1 || dim % heads)
            return SAM2_FAIL(SAM2_ERR_CONFIG, "stage %d: %d channels do not split into %d heads", i, dim, heads);
    }
    if (c->q_pool < 0 || c->q_pool > c->n_stages - 1)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "q_pool %d must be within 0..%d (stage transitions)", c->q_pool, c->n_stages - 1);
    if (c->q_stride[0] != 2 || c->q_stride[1] != 2)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "q_stride (%d, %d): only (2, 2) is supported", c->q_stride[0], c->q_stride[1]);
    if (c->q_pool != c->n_stages - 1)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "q_pool %d with %d stages: the FPN needs every stage at half the previous resolution", c->q_pool, c->n_stages);
    if (c->n_backbone_channels != c->n_stages)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "backbone_channel_list has %d entries, the trunk has %d stages", c->n_backbone_channels, c->n_stages);
    for (int i = 0; i < c->n_stages; i++) {
        int want = sam2_config_stage_dim(c, c->n_stages - 1 - i);
        if (c->backbone_channel_list[i] != want)
            return SAM2_FAIL(SAM2_ERR_CONFIG, "backbone_channel_list[%d] = %d but the trunk gives %d channels there",
                             i, c->backbone_channel_list[i], want);
    }
    for (int i = 0; i < c->n_fpn_top_down_levels; i++)
        if (c->fpn_top_down_levels[i] < 0 || c->fpn_top_down_levels[i] >= c->n_stages)
            return SAM2_FAIL(SAM2_ERR_CONFIG, "fpn_top_down_levels entry %d out of range", c->fpn_top_down_levels[i]);
    int kept = c->n_stages - c->scalp;
    if (c->scalp < 0 || kept < (c->use_high_res_features_in_sam ? 3 : 1))
        return SAM2_FAIL(SAM2_ERR_CONFIG, "scalp %d leaves %d feature levels; the image predictor needs %d",
                         c->scalp, kept, c->use_high_res_features_in_sam ? 3 : 1);
    if (4 << (kept - 1) != c->backbone_stride)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "the lowest-resolution kept level has stride %d, backbone_stride is %d",
                         4 << (kept - 1), c->backbone_stride);
    if (c->d_model < 8 || c->d_model % 8)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "d_model %d must be a positive multiple of 8", c->d_model);
    if (c->pos_num_pos_feats != c->d_model || c->pos_num_pos_feats % 4)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "position_encoding num_pos_feats %d must equal d_model %d", c->pos_num_pos_feats, c->d_model);
    if (c->d_model % c->dec_heads || (c->d_model / c->dec_attn_downsample) % c->dec_heads)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "d_model %d does not split into %d decoder heads", c->d_model, c->dec_heads);
    int feat = c->image_size / 4;
    for (int i = 0; i < c->n_stages; i++, feat /= 2)
        if (feat < 1) return SAM2_FAIL(SAM2_ERR_CONFIG, "image_size %d too small for %d stages", c->image_size, c->n_stages);
    return SAM2_OK;
}
