/* test_config.c - official YAML configs and built-in presets: values read,
 * class defaults for absent keys, presets picked from checkpoint shapes,
 * malformed or unfitting configs refused with a message naming the cause. */
#include <math.h>
#include <unistd.h>

#include "checkpoint.h"
#include "config.h"
#include "test.h"

/* The configs written so far, removed when the test ends. */
enum { MAX_TMP = 64 };
static char tmp_paths[MAX_TMP][256];
static int n_tmp;

static char *write_tmp(const char *name, const char *text) {
    char path[256];
    snprintf(path, sizeof path, "/tmp/sam2c_test_%d_%s", (int)getpid(), name);
    int i = 0;
    while (i < n_tmp && strcmp(tmp_paths[i], path) != 0) i++;
    if (i == n_tmp && n_tmp < MAX_TMP) n_tmp++;
    if (i == MAX_TMP) i = MAX_TMP - 1; /* more names than room: the last slot is reused, its file left behind */
    snprintf(tmp_paths[i], sizeof tmp_paths[i], "%s", path);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return tmp_paths[i];
}

static void remove_tmps(void) {
    for (int i = 0; i < n_tmp; i++) remove(tmp_paths[i]);
}

int main(void) {
    /* every preset is valid and has the official geometry */
    int n = 0;
    for (const char *const *p = sam2_preset_names(); *p; p++, n++) {
        sam2_config c;
        CHECK_OK(sam2_config_preset(*p, &c));
        CHECK_OK(sam2_config_validate(&c));
        CHECK(c.image_size == 1024 && c.d_model == 256 && c.scalp == 1, "%s sizes", *p);
    }
    CHECK(n == 8, "%d presets", n);
    sam2_config c;
    CHECK_OK(sam2_config_preset("sam2.1_hiera_l", &c));
    CHECK(c.embed_dim == 144 && c.num_heads == 2 && c.stages[2] == 36 && c.window_spec[2] == 16 &&
              c.global_att_blocks[1] == 33 && c.backbone_channel_list[0] == 1152, "large preset values");
    CHECK_OK(sam2_config_preset("sam2_hiera_b+", &c));
    CHECK(c.embed_dim == 112 && c.window_pos_embed_bkg_spatial_size[0] == 14 && c.stages[2] == 16, "b+ uses class defaults");
    CHECK(sam2_config_preset("sam2_hiera_huge", &c) == SAM2_ERR_PARAM && strstr(sam2_last_error(), "unknown preset"), "unknown preset");

    /* the demo model's YAML */
    char path[4096];
    snprintf(path, sizeof path, "%s/models/sam2-demo-shapes.yaml", test_source_dir());
    CHECK_OK(sam2_config_load_yaml(path, &c));
    CHECK(c.image_size == 256 && c.embed_dim == 24 && c.n_stages == 4 && c.stages[2] == 4 && c.window_spec[3] == 4 &&
              c.n_global_att_blocks == 2 && c.global_att_blocks[1] == 6 && c.d_model == 64 && c.fpn_interp_nearest &&
              c.pred_obj_scores_mlp && c.iou_prediction_use_sigmoid && c.window_pos_embed_bkg_spatial_size[0] == 7,
          "demo YAML values");
    CHECK(c.preset[0] == 0, "a YAML config is not a preset");
    CHECK_OK(sam2_config_validate(&c));

    /* absent keys take the Python constructor defaults */
    const char *minimal =
        "# @package _global_\nmodel:\n  _target_: sam2.modeling.sam2_base.SAM2Base\n  image_encoder:\n"
        "    scalp: 1\n    trunk:\n      _target_: sam2.modeling.backbones.hieradet.Hiera\n      embed_dim: 32\n"
        "    neck:\n      d_model: 64\n      backbone_channel_list: [256, 128, 64, 32]\n"
        "      fpn_top_down_levels: [2, 3]\n  image_size: 512\n  use_high_res_features_in_sam: True\n";
    CHECK_OK(sam2_config_load_yaml(write_tmp("min.yaml", minimal), &c));
    CHECK(c.stages[0] == 2 && c.stages[2] == 16 && c.window_spec[2] == 14 && c.global_att_blocks[0] == 12 &&
              c.window_pos_embed_bkg_spatial_size[0] == 14 && c.q_pool == 3 && c.num_heads == 1 &&
              fabsf(c.dim_mul - 2.0f) < 1e-6f && !c.fpn_interp_nearest && !c.pred_obj_scores,
          "class defaults");
    CHECK(c.dynamic_multimask_via_stability && fabsf(c.dynamic_multimask_stability_delta - 0.05f) < 1e-7f, "builder defaults");
    CHECK_OK(sam2_config_validate(&c));

    /* malformed YAML: the line is named */
    const char *broken = "model:\n  image_size: 256\n  image_encoder: [unclosed\n";
    sam2_status st = sam2_config_load_yaml(write_tmp("broken.yaml", broken), &c);
    CHECK(st == SAM2_ERR_CONFIG && strstr(sam2_last_error(), "YAML error"), "broken YAML: %s", sam2_last_error());
    st = sam2_config_load_yaml(write_tmp("nomodel.yaml", "foo: 1\n"), &c);
    CHECK(st == SAM2_ERR_CONFIG && strstr(sam2_last_error(), "model"), "no model section: %s", sam2_last_error());
    const char *badval = "model:\n  image_encoder:\n    trunk:\n      embed_dim: lots\n    neck:\n      d_model: 64\n";
    st = sam2_config_load_yaml(write_tmp("badval.yaml", badval), &c);
    CHECK(st == SAM2_ERR_CONFIG && strstr(sam2_last_error(), "embed_dim") && strstr(sam2_last_error(), ":4:"), "bad value: %s", sam2_last_error());
    /* a list or mapping where a name or a section belongs is refused, not
     * read as an absent key (which would select the defaults) */
    const struct {
        const char *name, *from, *to, *want;
    } wrong_kind[] = {
        {"interp_list.yaml", "fpn_interp_model: nearest", "fpn_interp_model: [nearest]", "fpn_interp_model"},
        {"fuse_map.yaml", "fpn_interp_model: nearest", "fuse_type: {a: 1}", "fuse_type"},
        {"target_list.yaml", "_target_: sam2.modeling.backbones.hieradet.Hiera", "_target_: [Hiera]", "_target_"},
        {"pe_list.yaml", "position_encoding:", "position_encoding: []\n      unused:", "position_encoding"},
        {"trunk_scalar.yaml", "trunk:", "trunk: 5\n    unused:", "trunk"},
        {"extra_list.yaml", "image_size: 256", "image_size: 256\n  sam_mask_decoder_extra_args: [1]", "sam_mask_decoder_extra_args"},
    };
    FILE *demo = fopen(path, "rb");
    char demo_text[8192] = "";
    size_t demo_n = demo ? fread(demo_text, 1, sizeof demo_text - 1, demo) : 0;
    if (demo) fclose(demo);
    demo_text[demo_n] = 0;
    for (size_t i = 0; i < sizeof wrong_kind / sizeof *wrong_kind; i++) {
        char text[8400];
        const char *at = strstr(demo_text, wrong_kind[i].from);
        CHECK(at != NULL, "%s: '%s' in the demo YAML", wrong_kind[i].name, wrong_kind[i].from);
        if (!at) continue;
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - demo_text), demo_text, wrong_kind[i].to,
                 at + strlen(wrong_kind[i].from));
        st = sam2_config_load_yaml(write_tmp(wrong_kind[i].name, text), &c);
        CHECK(st == SAM2_ERR_CONFIG && strstr(sam2_last_error(), wrong_kind[i].want), "%s: %s", wrong_kind[i].name,
              st == SAM2_OK ? "accepted" : sam2_last_error());
    }
    st = sam2_config_load_yaml("/nonexistent.yaml", &c);
    CHECK(st == SAM2_ERR_IO, "missing YAML");
    /* consistent lists are required */
    CHECK_OK(sam2_config_preset("sam2.1_hiera_t", &c));
    c.backbone_channel_list[1] = 100;
    st = sam2_config_validate(&c);
    CHECK(st == SAM2_ERR_CONFIG && strstr(sam2_last_error(), "backbone_channel_list"), "channel list: %s", sam2_last_error());
    /* stage widths int(d * dim_mul) out of the int range are refused
     * before they are computed */
    CHECK_OK(sam2_config_preset("sam2.1_hiera_t", &c));
    c.dim_mul = 1e30f;
    st = sam2_config_validate(&c);
    CHECK(st == SAM2_ERR_CONFIG && strstr(sam2_last_error(), "dim_mul"), "huge dim_mul: %s", sam2_last_error());
    CHECK_OK(sam2_config_preset("sam2.1_hiera_t", &c));
    c.head_mul = -2.0f;
    st = sam2_config_validate(&c);
    CHECK(st == SAM2_ERR_CONFIG && strstr(sam2_last_error(), "head_mul"), "negative head_mul: %s", sam2_last_error());
    CHECK_OK(sam2_config_preset("sam2.1_hiera_t", &c));
    c.image_size = 1000;
    CHECK(sam2_config_validate(&c) == SAM2_ERR_CONFIG, "image size not a multiple of 32");

    /* presets are recognised from checkpoint shapes; the demo model is not one */
    ckpt_file *ck = NULL;
    snprintf(path, sizeof path, "%s/models/sam2-demo-shapes.pt", test_source_dir());
    CHECK_OK(ckpt_open(path, &ck));
    if (ck) {
        st = sam2_config_detect(ck, &c);
        CHECK(st == SAM2_ERR_CONFIG && strstr(sam2_last_error(), "embed_dim 24, 8 blocks"), "detect: %s", sam2_last_error());
        ckpt_free(ck);
    }
    /* a random-weight model of every preset binds, so detection would find it */
    sam2_model *m = NULL;
    CHECK_OK(sam2_model_random("sam2.1_hiera_t", NULL, 7, &m));
    sam2_model_info info;
    sam2_model_get_info(m, &info);
    CHECK(info.preset && !strcmp(info.preset, "sam2.1_hiera_t"), "random preset info");
    printf("  sam2.1_hiera_t image-path parameters: %lld in %d tensors\n", (long long)info.parameters, info.tensors_loaded);
    CHECK(info.parameters > 25000000 && info.parameters < 40000000, "tiny has about 27-39 M image-path parameters");
    sam2_model_free(m);
    /* global attention where a stage starts pooling: the official Hiera
     * divides by the window size there, so the config is refused */
    const char *pooled_global =
        "model:\n  image_encoder:\n    scalp: 1\n    trunk:\n      embed_dim: 32\n      num_heads: 1\n"
        "      stages: [1, 2, 3, 2]\n      global_att_blocks: [2, 6]\n      window_spec: [8, 4, 14, 7]\n"
        "    neck:\n      d_model: 64\n      backbone_channel_list: [256, 128, 64, 32]\n"
        "      fpn_top_down_levels: [2, 3]\n  image_size: 256\n  use_high_res_features_in_sam: True\n";
    st = sam2_model_random(NULL, write_tmp("pooled_global.yaml", pooled_global), 7, &m);
    CHECK(st == SAM2_ERR_CONFIG && strstr(sam2_last_error(), "block 6") && strstr(sam2_last_error(), "stage 4"),
          "global attention on a pooling block: %s", sam2_last_error());
    const char *pooled_ok = "global_att_blocks: [2, 7]";
    char fixed[1024];
    snprintf(fixed, sizeof fixed, "%s", pooled_global);
    memcpy(strstr(fixed, "global_att_blocks: [2, 6]"), pooled_ok, strlen(pooled_ok));
    CHECK_OK(sam2_model_random(NULL, write_tmp("pooled_ok.yaml", fixed), 7, &m));
    sam2_model_free(m);
    /* a config that does not fit a checkpoint is refused naming a tensor */
    const char *gd = test_golden_dir();
    if (gd) {
        char yaml[4096];
        snprintf(yaml, sizeof yaml, "%s/models/micro256.yaml", gd);
        st = sam2_model_load(path, yaml, &m);
        CHECK(st == SAM2_ERR_SHAPE && strstr(sam2_last_error(), "tensor '"), "mismatch: %s", sam2_last_error());
    }
    remove_tmps();
    return test_finish();
}
