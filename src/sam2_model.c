/* sam2_model.c - loading a model: checkpoint + config, binding every
 * image-path tensor with shape checks, model info. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model.h"

/* The image path of the official checkpoints: everything else is video-only. */
static int is_image_path_key(const char *name) {
    return strncmp(name, "image_encoder.", 14) == 0 || strncmp(name, "sam_prompt_encoder.", 19) == 0 ||
           strncmp(name, "sam_mask_decoder.", 17) == 0 || strcmp(name, "no_mem_embed") == 0;
}

/* FNV-1a over bytes, folded into a running 64-bit state. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* A hash identifying the weights: config, every tensor's name and shape, and
 * a strided sample of its values (hashing all of a 900 MB file would cost
 * more than loading it). */
static void model_hash(sam2_model *m) {
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, &m->cfg.image_size, sizeof m->cfg.image_size);
    h = fnv(h, &m->cfg.embed_dim, sizeof m->cfg.embed_dim);
    h = fnv(h, m->cfg.stages, sizeof m->cfg.stages);
    h = fnv(h, &m->cfg.d_model, sizeof m->cfg.d_model);
    if (m->ck) {
        for (int i = 0; i < m->ck->n_tensors; i++) {
            const ckpt_tensor *t = &m->ck->tensors[i];
            if (!is_image_path_key(t->name)) continue;
            h = fnv(h, t->name, strlen(t->name));
            h = fnv(h, t->shape, sizeof(int64_t) * (size_t)t->ndim);
            int64_t step = t->numel > 256 ? t->numel / 256 : 1;
            for (int64_t k = 0; k < t->numel; k += step) h = fnv(h, &t->data[k], sizeof(float));
        }
    } else {
        for (int i = 0; i < m->n_random_weights; i++) h = fnv(h, m->random_weights[i], sizeof(float));
    }
    snprintf(m->hash, sizeof m->hash, "%016llx", (unsigned long long)h);
}

/* Binds every module; then checks that the checkpoint holds no image-path
 * tensor the config does not use (a config that does not fit). */
static sam2_status bind_all(sam2_model *m, wt_binder *b) {
    SAM2_TRY(image_encoder_bind(&m->cfg, b, &m->enc));
    SAM2_TRY(prompt_encoder_bind(&m->cfg, b, &m->pe));
    SAM2_TRY(mask_decoder_bind(&m->cfg, b, &m->md));
    m->parameters = b->bound_elements;
    m->tensors_loaded = b->bound_tensors;
    if (!m->ck) return SAM2_OK;
    m->tensors_skipped = 0;
    for (int i = 0; i < m->ck->n_tensors; i++) {
        const ckpt_tensor *t = &m->ck->tensors[i];
        if (!is_image_path_key(t->name)) {
            m->tensors_skipped++;
        } else if (!b->used[i]) {
            return SAM2_FAIL(SAM2_ERR_CONFIG,
                             "tensor '%s' is in the checkpoint but not used by the config "
                             "(the config does not fit this checkpoint)",
                             t->name);
        }
    }
    return SAM2_OK;
}

static void describe_dtypes(sam2_model *m) {
    m->dtypes[0] = 0;
    if (!m->ck) {
        snprintf(m->dtypes, sizeof m->dtypes, "random");
        return;
    }
    static const char *names[] = {"float32", "float16", "bfloat16"};
    for (int d = 0; d < 3; d++) {
        if (!(m->ck->dtype_mask & (1u << d))) continue;
        size_t n = strlen(m->dtypes);
        snprintf(m->dtypes + n, sizeof m->dtypes - n, "%s%s", n ? "," : "", names[d]);
    }
}

/* Shared tail of both constructors: bind, count, hash. Frees m on failure. */
static sam2_status finish_model(sam2_model *m, uint64_t seed, sam2_model **out) {
    wt_binder b;
    sam2_status st = wt_binder_init(&b, m->ck, seed);
    if (st == SAM2_OK) st = bind_all(m, &b);
    /* random mode: the model owns the generated weights from here on */
    m->random_weights = b.owned;
    m->n_random_weights = b.n_owned;
    b.owned = NULL;
    b.n_owned = 0;
    wt_binder_done(&b);
    if (st != SAM2_OK) {
        sam2_model_free(m);
        return st;
    }
    describe_dtypes(m);
    model_hash(m);
    *out = m;
    return SAM2_OK;
}

/* The rest of a load once m->ck is open: the config (a YAML path, the YAML
 * text, or detected from the tensors), then the weights. Frees m on
 * failure; name prefixes a failure's message. */
static sam2_status load_opened(sam2_model *m, const char *config_path, const char *config_text, const char *name,
                               sam2_model **out) {
    sam2_status st;
    if (config_path) st = sam2_config_load_yaml(config_path, &m->cfg);
    else if (config_text) st = sam2_config_load_yaml_text(config_text, strlen(config_text), name, &m->cfg);
    else st = sam2_config_detect(m->ck, &m->cfg);
    if (st == SAM2_OK) st = sam2_config_validate(&m->cfg);
    if (st != SAM2_OK) {
        sam2_model_free(m);
        return st;
    }
    st = finish_model(m, 0, out);
    if (st != SAM2_OK) sam2_error_prefix("%s", name);
    return st;
}

sam2_status sam2_model_load(const char *checkpoint_path, const char *config_yaml,
                            sam2_model **out) {
    if (!out) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_model_load: out is NULL");
    *out = NULL;
    if (!checkpoint_path) return SAM2_FAIL(SAM2_ERR_PARAM, "no checkpoint path given");
    sam2_model *m = calloc(1, sizeof *m);
    if (!m) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate the model");
    sam2_status st = ckpt_open(checkpoint_path, &m->ck);
    if (st != SAM2_OK) {
        free(m);
        return st;
    }
    return load_opened(m, config_yaml, NULL, checkpoint_path, out);
}

sam2_status sam2_model_load_memory(const void *checkpoint, size_t size, const char *config_yaml_text,
                                   const char *name, sam2_model **out) {
    if (!out) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_model_load_memory: out is NULL");
    *out = NULL;
    if (!checkpoint || !name) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_model_load_memory: no checkpoint bytes or no name");
    sam2_model *m = calloc(1, sizeof *m);
    if (!m) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate the model");
    sam2_status st = ckpt_open_memory(checkpoint, size, &m->ck);
    if (st != SAM2_OK) {
        free(m);
        sam2_error_prefix("%s", name);
        return st;
    }
    return load_opened(m, NULL, config_yaml_text, name, out);
}

sam2_status sam2_model_random(const char *preset, const char *config_yaml, uint64_t seed,
                              sam2_model **out) {
    if (!out) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_model_random: out is NULL");
    *out = NULL;
    if ((preset == NULL) == (config_yaml == NULL))
        return SAM2_FAIL(SAM2_ERR_PARAM, "give exactly one of a preset name and a config file");
    sam2_model *m = calloc(1, sizeof *m);
    if (!m) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate the model");
    sam2_status st = preset ? sam2_config_preset(preset, &m->cfg)
                            : sam2_config_load_yaml(config_yaml, &m->cfg);
    if (st == SAM2_OK) st = sam2_config_validate(&m->cfg);
    if (st != SAM2_OK) {
        sam2_model_free(m);
        return st;
    }
    return finish_model(m, seed ? seed : 0x5eed, out);
}

sam2_status sam2_preset_tensors(const char *preset, uint64_t seed, sam2_tensor_fn fn, void *user) {
    if (!preset || !fn) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_preset_tensors: NULL argument");
    sam2_model *m = calloc(1, sizeof *m);
    if (!m) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate the model");
    sam2_status st = sam2_config_preset(preset, &m->cfg);
    wt_binder b;
    if (st == SAM2_OK) st = wt_binder_init(&b, NULL, seed ? seed : 0x5eed);
    if (st == SAM2_OK) {
        b.on_tensor = fn, b.on_tensor_user = user;
        st = bind_all(m, &b);
        wt_binder_done(&b);
    }
    sam2_model_free(m);
    return st;
}

void sam2_model_free(sam2_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_random_weights; i++) free(m->random_weights[i]);
    free(m->random_weights);
    ckpt_free(m->ck);
    free(m);
}

void sam2_model_get_info(const sam2_model *m, sam2_model_info *out) {
    memset(out, 0, sizeof *out);
    if (!m) return;
    const sam2_config *c = &m->cfg;
    out->preset = c->preset[0] ? c->preset : NULL;
    out->config_source = c->source;
    out->image_size = c->image_size;
    out->embed_dim = c->embed_dim;
    out->num_heads = c->num_heads;
    out->n_stages = c->n_stages;
    for (int i = 0; i < c->n_stages && i < 8; i++) {
        out->stages[i] = c->stages[i];
        out->window_spec[i] = c->window_spec[i];
    }
    out->n_global_att_blocks = c->n_global_att_blocks;
    for (int i = 0; i < c->n_global_att_blocks && i < 16; i++)
        out->global_att_blocks[i] = c->global_att_blocks[i];
    out->d_model = c->d_model;
    out->parameters = m->parameters;
    out->tensors_loaded = m->tensors_loaded;
    out->tensors_skipped = m->tensors_skipped;
    out->file_dtypes = m->dtypes;
    out->mapped_bytes = m->ck ? m->ck->map_size : 0;
    out->owned_weight_bytes = m->ck ? m->ck->owned_bytes : 0;
    memcpy(out->model_hash, m->hash, sizeof out->model_hash);
}
