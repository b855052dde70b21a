/* config.h - the model hyper-parameters the image path needs, read from the
 * official YAML schema or taken from a built-in preset. */
#ifndef SAM2_CONFIG_H
#define SAM2_CONFIG_H

#include "sam2.h"

#define SAM2_MAX_STAGES 8
#define SAM2_MAX_GLOBAL 32
#define SAM2_MAX_LEVELS 8

typedef struct sam2_config {
    char preset[32];           /* built-in preset name, "" for a YAML config */
    char source[512];          /* "preset" or the YAML path */

    /* SAM2Base */
    int image_size;            /* S (class default 512) */
    int backbone_stride;       /* 16 */
    int use_high_res_features_in_sam;
    int pred_obj_scores;
    int pred_obj_scores_mlp;
    int iou_prediction_use_sigmoid;
    int directly_add_no_mem_embed;
    int use_multimask_token_for_obj_ptr;
    /* mask decoder extras switched on by the official builder */
    int dynamic_multimask_via_stability;
    float dynamic_multimask_stability_delta;
    float dynamic_multimask_stability_thresh;

    /* Hiera trunk */
    int embed_dim;             /* 96 */
    int num_heads;             /* 1 */
    int n_stages;              /* entries of stages[] */
    int stages[SAM2_MAX_STAGES];       /* (2, 3, 16, 3) */
    int n_global_att_blocks;
    int global_att_blocks[SAM2_MAX_GLOBAL]; /* (12, 16, 20) */
    int window_spec[SAM2_MAX_STAGES];  /* (8, 4, 14, 7) */
    int window_pos_embed_bkg_spatial_size[2]; /* (14, 14) */
    int q_pool;                /* 3: number of q-pool stage transitions */
    int q_stride[2];           /* (2, 2) */
    float dim_mul;             /* 2.0 */
    float head_mul;            /* 2.0 */

    /* FPN neck */
    int d_model;               /* 256 */
    int n_backbone_channels;
    int backbone_channel_list[SAM2_MAX_LEVELS]; /* deepest first: (768, 384, 192, 96) */
    int n_fpn_top_down_levels;
    int fpn_top_down_levels[SAM2_MAX_LEVELS];   /* (2, 3) */
    int fpn_interp_nearest;    /* fpn_interp_model: 1 "nearest", 0 "bilinear" */
    int fpn_fuse_avg;          /* fuse_type: 0 "sum", 1 "avg" */
    int scalp;                 /* 1: drop the lowest-resolution level */

    /* PositionEmbeddingSine of the neck */
    int pos_num_pos_feats;     /* d_model */
    int pos_normalize;         /* true */
    float pos_scale;           /* 2*pi when null */
    float pos_temperature;     /* 10000 */

    /* Values hard-coded in the official code */
    int num_multimask_outputs; /* 3 */
    int mask_in_chans;         /* 16 */
    int dec_depth;             /* 2 */
    int dec_heads;             /* 8 */
    int dec_mlp_dim;           /* 2048 */
    int dec_attn_downsample;   /* 2 */
    int iou_head_hidden;       /* 256 */
    int iou_head_depth;        /* 3 */
} sam2_config;

/* Sets the official class defaults (what an absent YAML key means). */
void sam2_config_defaults(sam2_config *cfg);

/* Reads an official config file (configs/sam2*.yaml schema). */
sam2_status sam2_config_load_yaml(const char *path, sam2_config *cfg);

/* The same from the YAML text itself (len bytes); name labels messages and
 * becomes cfg->source. */
sam2_status sam2_config_load_yaml_text(const char *text, size_t len, const char *name, sam2_config *cfg);

/* Fills cfg with a built-in preset; SAM2_ERR_PARAM for an unknown name. */
sam2_status sam2_config_preset(const char *name, sam2_config *cfg);

/* Picks the built-in preset whose tensor shapes fit the checkpoint (SAM 2
 * vs 2.1 by the presence of no_obj_embed_spatial; size by trunk shapes).
 * SAM2_ERR_CONFIG naming what was seen when none fits. */
struct ckpt_file;
sam2_status sam2_config_detect(const struct ckpt_file *ck, sam2_config *cfg);

/* Checks that the values describe a buildable model (positive sizes,
 * consistent lists). */
sam2_status sam2_config_validate(const sam2_config *cfg);

/* Derived sizes. */
int sam2_config_n_blocks(const sam2_config *cfg);
int sam2_config_stage_dim(const sam2_config *cfg, int stage);   /* channels of stage i */
int sam2_config_stage_heads(const sam2_config *cfg, int stage);

#endif
