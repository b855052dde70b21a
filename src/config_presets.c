/* config_presets.c - the eight official SAM 2 / SAM 2.1 image models, and
 * recognising which one a checkpoint holds from its tensor shapes. */
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "config.h"
#include "error.h"

typedef struct preset {
    const char *name;
    int embed_dim, num_heads;
    int stages[4];
    int global_att[3];
    int window_spec[4];
    int bkg;                  /* window_pos_embed_bkg_spatial_size */
    int v21;                  /* SAM 2.1 (checkpoint has no_obj_embed_spatial) */
} preset;

/* Values of the official configs (sam2 and sam2.1 folders); the image path
 * of 2.0 and 2.1 differs only in the weights. */
static const preset presets[] = {
    {"sam2.1_hiera_t", 96, 1, {1, 2, 7, 2}, {5, 7, 9}, {8, 4, 14, 7}, 7, 1},
    {"sam2.1_hiera_s", 96, 1, {1, 2, 11, 2}, {7, 10, 13}, {8, 4, 14, 7}, 7, 1},
    {"sam2.1_hiera_b+", 112, 2, {2, 3, 16, 3}, {12, 16, 20}, {8, 4, 14, 7}, 14, 1},
    {"sam2.1_hiera_l", 144, 2, {2, 6, 36, 4}, {23, 33, 43}, {8, 4, 16, 8}, 7, 1},
    {"sam2_hiera_t", 96, 1, {1, 2, 7, 2}, {5, 7, 9}, {8, 4, 14, 7}, 7, 0},
    {"sam2_hiera_s", 96, 1, {1, 2, 11, 2}, {7, 10, 13}, {8, 4, 14, 7}, 7, 0},
    {"sam2_hiera_b+", 112, 2, {2, 3, 16, 3}, {12, 16, 20}, {8, 4, 14, 7}, 14, 0},
    {"sam2_hiera_l", 144, 2, {2, 6, 36, 4}, {23, 33, 43}, {8, 4, 16, 8}, 7, 0},
};
#define N_PRESETS (int)(sizeof presets / sizeof presets[0])

static const char *const preset_names[] = {
    "sam2.1_hiera_t", "sam2.1_hiera_s", "sam2.1_hiera_b+", "sam2.1_hiera_l",
    "sam2_hiera_t", "sam2_hiera_s", "sam2_hiera_b+", "sam2_hiera_l", NULL};

const char *const *sam2_preset_names(void) { return preset_names; }

static void apply(const preset *p, sam2_config *c) {
    sam2_config_defaults(c);
    snprintf(c->preset, sizeof c->preset, "%s", p->name);
    snprintf(c->source, sizeof c->source, "preset");
    c->image_size = 1024;
    c->use_high_res_features_in_sam = 1;
    c->pred_obj_scores = 1;
    c->pred_obj_scores_mlp = 1;
    c->iou_prediction_use_sigmoid = 1;
    c->directly_add_no_mem_embed = 1;
    c->use_multimask_token_for_obj_ptr = 1;
    c->embed_dim = p->embed_dim;
    c->num_heads = p->num_heads;
    c->n_stages = 4;
    memcpy(c->stages, p->stages, sizeof p->stages);
    c->n_global_att_blocks = 3;
    memcpy(c->global_att_blocks, p->global_att, sizeof p->global_att);
    memcpy(c->window_spec, p->window_spec, sizeof p->window_spec);
    c->window_pos_embed_bkg_spatial_size[0] = c->window_pos_embed_bkg_spatial_size[1] = p->bkg;
    c->d_model = 256;
    c->n_backbone_channels = 4;
    for (int i = 0; i < 4; i++) c->backbone_channel_list[i] = p->embed_dim << (3 - i);
    c->n_fpn_top_down_levels = 2;
    c->fpn_top_down_levels[0] = 2;
    c->fpn_top_down_levels[1] = 3;
    c->fpn_interp_nearest = 1;
    c->scalp = 1;
    c->pos_num_pos_feats = 256;
}

sam2_status sam2_config_preset(const char *name, sam2_config *c) {
    for (int i = 0; i < N_PRESETS; i++) {
        if (!strcmp(presets[i].name, name)) {
            apply(&presets[i], c);
            return SAM2_OK;
        }
    }
    return SAM2_FAIL(SAM2_ERR_PARAM, "unknown preset '%s' (sam2.1_hiera_t/s/b+/l, sam2_hiera_t/s/b+/l)", name);
}

sam2_status sam2_config_detect(const struct ckpt_file *ck, sam2_config *c) {
    const ckpt_tensor *pe = ckpt_find(ck, "image_encoder.trunk.patch_embed.proj.weight");
    if (!pe || pe->ndim != 4)
        return SAM2_FAIL(SAM2_ERR_CONFIG, "checkpoint has no Hiera patch embedding: not a SAM 2 checkpoint");
    int embed_dim = (int)pe->shape[0], n_blocks = 0;
    char name[128];
    for (;;) {
        snprintf(name, sizeof name, "image_encoder.trunk.blocks.%d.norm1.weight", n_blocks);
        if (!ckpt_find(ck, name)) break;
        n_blocks++;
    }
    int v21 = ckpt_find(ck, "no_obj_embed_spatial") != NULL;
    for (int i = 0; i < N_PRESETS; i++) {
        const preset *p = &presets[i];
        int nb = p->stages[0] + p->stages[1] + p->stages[2] + p->stages[3];
        if (p->embed_dim == embed_dim && nb == n_blocks && p->v21 == v21) {
            apply(p, c);
            return SAM2_OK;
        }
    }
    return SAM2_FAIL(SAM2_ERR_CONFIG,
                     "checkpoint does not match any built-in preset (embed_dim %d, %d blocks); pass its YAML config with -c",
                     embed_dim, n_blocks);
}
