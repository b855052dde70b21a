/* ctx.c - a context holds one image's embedding: set_image runs the encoder,
 * embedding files save and restore it, tensors can be inspected. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "error.h"
#include "image.h"
#include "model.h"

#define EMB_MAGIC "SAM2EMB"
#define EMB_VERSION 2u /* 2 adds the CRC-32 trailer; 1 is still read */

sam2_status sam2_ctx_new(const sam2_model *model, int n_threads, sam2_ctx **out) {
    if (!out) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_ctx_new: out is NULL");
    *out = NULL;
    if (!model) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_ctx_new: no model");
    sam2_ctx *c = calloc(1, sizeof *c);
    if (!c) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate a context");
    c->model = model;
    c->n_threads = n_threads > 0 ? n_threads : omp_get_num_procs();
    c->depth_mode = SAM2_DEPTH_WINDOW;
    *out = c;
    return SAM2_OK;
}

/* Forgets the current image (features and input). */
static void ctx_clear(sam2_ctx *c) {
    encoder_output_free(&c->enc);
    free(c->input);
    c->input = NULL;
    c->has_image = 0;
    c->orig_w = c->orig_h = 0;
    ctx_features_changed(c);
}

void ctx_features_changed(sam2_ctx *c) {
    /* the decoder's per-image projections were of the old features */
    c->dec_ws.cache.valid = 0, c->dec_ws.cache.ix_valid = 0, c->dec_ws.cache.up_valid = 0;
    c->dec_ws.skips_valid = 0;
}

void sam2_ctx_free(sam2_ctx *c) {
    if (!c) return;
    ctx_clear(c);
    mask_decoder_ws_free(&c->dec_ws);
    hiera_scratch_free(&c->enc_ws);
    hiera_bf16_free(&c->bf16);
    free(c);
}

sam2_status sam2_ctx_set_precision(sam2_ctx *c, sam2_precision p) {
    if (!c) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_ctx_set_precision: NULL context");
    if (p != SAM2_PRECISION_F32 && p != SAM2_PRECISION_BF16)
        return SAM2_FAIL(SAM2_ERR_PARAM, "precision %d is not float32 (0) or bfloat16 (1)", (int)p);
    if (p == SAM2_PRECISION_BF16 && !bf16_supported())
        return SAM2_FAIL(SAM2_ERR_STATE, "bfloat16 precision needs a CPU with AVX-512 BF16; this one has none (use float32)");
    if (p == SAM2_PRECISION_BF16 && !c->bf16.blocks) SAM2_TRY(hiera_bf16_pack(&c->model->enc.trunk, &c->bf16));
    if (p == SAM2_PRECISION_F32) hiera_bf16_free(&c->bf16);
    c->precision = p;
    return SAM2_OK;
}

void sam2_ctx_set_depth_mode(sam2_ctx *c, sam2_depth_mode mode) {
    if (c) c->depth_mode = mode;
}

void sam2_ctx_set_progress(sam2_ctx *c, sam2_progress_fn fn, void *user) {
    if (c) c->progress = fn, c->progress_user = user;
}

void sam2_ctx_keep_intermediates(sam2_ctx *c, int keep) {
    if (c) c->keep_intermediates = keep != 0;
}

void sam2_ctx_image_size(const sam2_ctx *c, int *width, int *height) {
    if (width) *width = c && c->has_image ? c->orig_w : 0;
    if (height) *height = c && c->has_image ? c->orig_h : 0;
}

/* 1 when the decoder's image features (embedding, high-resolution
 * features) are all finite: a NaN or an infinity there would give masks
 * nobody can tell from real ones. */
static int features_finite(const sam2_ctx *c) {
    const sam2_config *cfg = &c->model->cfg;
    const size_t S = (size_t)cfg->image_size, d = (size_t)cfg->d_model, e = S / (size_t)cfg->backbone_stride;
    const float *t[3] = {c->enc.image_embed, c->enc.high_res[0], c->enc.high_res[1]};
    const size_t n[3] = {d * e * e, d / 8 * (S / 4) * (S / 4), d / 4 * (S / 8) * (S / 8)};
    int ok = 1;
    for (int k = 0; k < (cfg->use_high_res_features_in_sam ? 3 : 1); k++)
        for (size_t i = 0; i < n[k]; i++) ok &= isfinite(t[k][i]) != 0;
    return ok;
}

sam2_status sam2_set_image(sam2_ctx *c, const sam2_image *img) {
    if (!c || !img) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_set_image: NULL argument");
    SAM2_TRY(sam2_image_check(img));
    ctx_clear(c);
    const int S = c->model->cfg.image_size;
    c->input = malloc(sizeof(float) * 3 * (size_t)S * S); /* (3, S, S) */
    if (!c->input) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate the %dx%d input", S, S);
    sam2_status st = image_preprocess(img, c->depth_mode, S, c->input);
    if (st == SAM2_OK)
        st = image_encoder_run(&c->model->cfg, &c->model->enc, c->input, c->n_threads, c->keep_intermediates,
                               &c->enc_ws, c->precision == SAM2_PRECISION_BF16 ? &c->bf16 : NULL, &c->enc);
    if (st == SAM2_OK && !features_finite(c))
        st = SAM2_FAIL(SAM2_ERR_FORMAT, "the image encoder gave non-finite features (NaN or infinity): are the "
                       "checkpoint's weights corrupt or beyond float32's range?");
    if (st != SAM2_OK) {
        ctx_clear(c);
        return st;
    }
    if (!c->keep_intermediates) free(c->input), c->input = NULL;
    c->orig_w = img->width;
    c->orig_h = img->height;
    c->has_image = 1;
    return SAM2_OK;
}

/* ------------------------------------------------------------ tensor view */

/* Looks up a named feature of the current image with its NCHW shape. */
sam2_status sam2_ctx_tensor(const sam2_ctx *c, const char *name, const float **data, int *ndim,
                            int shape[4]) {
    if (!c || !name || !data) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_ctx_tensor: NULL argument");
    if (!c->has_image) return SAM2_FAIL(SAM2_ERR_STATE, "no image set");
    const sam2_config *cfg = &c->model->cfg;
    const encoder_output *e = &c->enc;
    const int S = cfg->image_size, d = cfg->d_model;
    const float *p = NULL;
    int C = 0, H = 0, W = 0, idx = -1;
    if (strcmp(name, "input") == 0) {
        p = c->input, C = 3, H = S, W = S;
    } else if (sscanf(name, "trunk_%d", &idx) == 1 && idx >= 0 && idx < e->n_trunk) {
        p = e->trunk[idx], C = e->trunk_c[idx], H = e->trunk_h[idx], W = e->trunk_w[idx];
    } else if (sscanf(name, "backbone_fpn_%d", &idx) == 1 && idx >= 0 && idx < e->n_levels) {
        p = e->fpn[idx], C = d, H = e->fpn_h[idx], W = e->fpn_w[idx];
    } else if (sscanf(name, "vision_pos_enc_%d", &idx) == 1 && idx >= 0 && idx < e->n_levels) {
        p = e->pos[idx], C = d, H = e->fpn_h[idx], W = e->fpn_w[idx];
    } else if (strcmp(name, "image_embed") == 0) {
        p = e->image_embed, C = d, H = S / cfg->backbone_stride, W = H;
    } else if (strcmp(name, "high_res_feats_0") == 0) {
        p = e->high_res[0], C = d / 8, H = S / 4, W = S / 4;
    } else if (strcmp(name, "high_res_feats_1") == 0) {
        p = e->high_res[1], C = d / 4, H = S / 8, W = S / 8;
    } else {
        return SAM2_FAIL(SAM2_ERR_PARAM, "unknown tensor name '%s'", name);
    }
    if (!p)
        return SAM2_FAIL(SAM2_ERR_STATE, "tensor '%s' is not available for this image%s", name,
                         c->keep_intermediates ? "" : " (intermediates are kept only after sam2_ctx_keep_intermediates)");
    *data = p;
    if (ndim) *ndim = 4;
    if (shape) shape[0] = 1, shape[1] = C, shape[2] = H, shape[3] = W;
    return SAM2_OK;
}

/* -------------------------------------------------------- embedding files */

/* Layout (little-endian): magic "SAM2EMB\0", u32 version, 16-char model hash,
 * u32 orig_w, orig_h, image_size, n_tensors; per tensor: u32 name length,
 * name, u32 C, H, W, then C*H*W float32; from version 2 a u32 CRC-32 of
 * every byte before it, so a damaged file is an error, not wrong masks. */

/* A file read or written with the CRC-32 of its bytes so far. */
typedef struct crc_file {
    FILE *f;
    uLong crc;
} crc_file;

static int put(crc_file *o, const void *p, size_t n) {
    o->crc = crc32_z(o->crc, p, n);
    return fwrite(p, 1, n, o->f) == n;
}

static int put_u32(crc_file *o, uint32_t v) { return put(o, &v, 4); }

static int put_tensor(crc_file *o, const char *name, const float *p, int C, int H, int W) {
    uint32_t n = (uint32_t)strlen(name);
    return put_u32(o, n) && put(o, name, n) && put_u32(o, (uint32_t)C) && put_u32(o, (uint32_t)H) &&
           put_u32(o, (uint32_t)W) && put(o, p, sizeof(float) * (size_t)C * H * W);
}

sam2_status sam2_embedding_save(const sam2_ctx *c, const char *path) {
    if (!c || !path) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_embedding_save: NULL argument");
    if (!c->has_image) return SAM2_FAIL(SAM2_ERR_STATE, "no image set: nothing to save");
    const sam2_config *cfg = &c->model->cfg;
    const int S = cfg->image_size, d = cfg->d_model, e = S / cfg->backbone_stride;
    crc_file o = {fopen(path, "wb"), 0L}; /* 0: zlib's initial CRC */
    if (!o.f) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    int hr = c->enc.high_res[0] != NULL;
    int ok = put(&o, EMB_MAGIC, 8) && put_u32(&o, EMB_VERSION) && put(&o, c->model->hash, 16) &&
             put_u32(&o, (uint32_t)c->orig_w) && put_u32(&o, (uint32_t)c->orig_h) && put_u32(&o, (uint32_t)S) &&
             put_u32(&o, hr ? 3u : 1u) && put_tensor(&o, "image_embed", c->enc.image_embed, d, e, e);
    if (ok && hr)
        ok = put_tensor(&o, "high_res_feats_0", c->enc.high_res[0], d / 8, S / 4, S / 4) &&
             put_tensor(&o, "high_res_feats_1", c->enc.high_res[1], d / 4, S / 8, S / 8);
    if (ok) ok = put_u32(&o, (uint32_t)o.crc);
    ok = (fclose(o.f) == 0) && ok;
    if (!ok) return SAM2_FAIL(SAM2_ERR_IO, "%s: write failed", path);
    return SAM2_OK;
}

static int get(crc_file *in, void *p, size_t n) {
    if (fread(p, 1, n, in->f) != n) return 0;
    in->crc = crc32_z(in->crc, p, n);
    return 1;
}

static int get_u32(crc_file *in, uint32_t *v) { return get(in, v, 4); }

/* Replaces the bytes of a string read from a file that are not printable
 * ASCII with '?': a damaged name or hash quoted in an error message must not
 * send control characters (terminal escapes) or broken UTF-8 to the user. */
static char *printable(char *s) {
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) *p = '?';
    return s;
}

/* Reads one tensor record whose name and shape must be exactly as expected. */
static sam2_status get_tensor(crc_file *f, const char *path, const char *want, int C, int H, int W,
                              float **out) {
    uint32_t n, c, h, w;
    char name[64];
    if (!get_u32(f, &n) || n >= sizeof name || !get(f, name, n))
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: truncated or corrupt embedding file", path);
    name[n] = 0;
    if (strcmp(name, want) != 0)
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: expected tensor '%s', found '%s'", path, want, printable(name));
    if (!get_u32(f, &c) || !get_u32(f, &h) || !get_u32(f, &w))
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: truncated embedding file", path);
    if ((int)c != C || (int)h != H || (int)w != W)
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: tensor '%s' has shape [%u, %u, %u], expected [%d, %d, %d]",
                         path, want, c, h, w, C, H, W);
    size_t numel = (size_t)C * H * W;
    *out = malloc(sizeof(float) * numel);
    if (!*out) return SAM2_FAIL(SAM2_ERR_NOMEM, "cannot allocate tensor '%s'", want);
    if (!get(f, *out, sizeof(float) * numel))
        return SAM2_FAIL(SAM2_ERR_FORMAT, "%s: truncated embedding file (in '%s')", path, want);
    return SAM2_OK;
}

sam2_status sam2_embedding_load(sam2_ctx *c, const char *path) {
    if (!c || !path) return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_embedding_load: NULL argument");
    const sam2_config *cfg = &c->model->cfg;
    const int S = cfg->image_size, d = cfg->d_model, e = S / cfg->backbone_stride;
    crc_file in = {fopen(path, "rb"), 0L}, *f = &in;
    if (!in.f) return SAM2_FAIL(SAM2_ERR_IO, "%s: %s", path, strerror(errno));
    ctx_clear(c);
    char magic[8], hash[17] = {0};
    uint32_t ver, w, h, size, nt;
    sam2_status st = SAM2_OK;
    if (!get(f, magic, 8) || memcmp(magic, EMB_MAGIC, 8) != 0) {
        st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: not a sam2 embedding file", path);
    } else if (!get_u32(f, &ver) || !get(f, hash, 16) || !get_u32(f, &w) || !get_u32(f, &h) ||
               !get_u32(f, &size) || !get_u32(f, &nt)) {
        st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: truncated embedding file header", path);
    } else if (ver != 1 && ver != EMB_VERSION) {
        st = SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "%s: embedding format version %u (this build reads versions 1 to %u)",
                       path, ver, EMB_VERSION);
    } else if (memcmp(hash, c->model->hash, 16) != 0) {
        st = SAM2_FAIL(SAM2_ERR_PARAM,
                       "%s: embedding was made by another model (hash %s, this model %s)", path,
                       printable(hash), c->model->hash);
    } else if ((int)size != S || w == 0 || h == 0 || w > SAM2_MAX_IMAGE_SIDE ||
               h > SAM2_MAX_IMAGE_SIDE) {
        st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt embedding header", path);
    } else {
        int hr = cfg->use_high_res_features_in_sam;
        if (nt != (hr ? 3u : 1u)) {
            st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: %u tensors, expected %d", path, nt, hr ? 3 : 1);
        } else {
            st = get_tensor(f, path, "image_embed", d, e, e, &c->enc.image_embed);
            if (st == SAM2_OK && hr)
                st = get_tensor(f, path, "high_res_feats_0", d / 8, S / 4, S / 4, &c->enc.high_res[0]);
            if (st == SAM2_OK && hr)
                st = get_tensor(f, path, "high_res_feats_1", d / 4, S / 8, S / 8, &c->enc.high_res[1]);
            const uint32_t want = (uint32_t)in.crc;
            uint32_t got, extra;
            if (st == SAM2_OK && ver >= 2 && !get_u32(f, &got))
                st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: truncated embedding file (no CRC-32 at its end)", path);
            else if (st == SAM2_OK && ver >= 2 && got != want)
                st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt embedding file (CRC-32 %08x, recorded %08x)", path,
                               want, got);
            else if (st == SAM2_OK && fread(&extra, 1, 1, in.f) != 0)
                st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: corrupt embedding file (bytes after its end)", path);
            else if (st == SAM2_OK && !features_finite(c))
                st = SAM2_FAIL(SAM2_ERR_FORMAT, "%s: the embedding holds non-finite values (NaN or infinity)", path);
        }
    }
    fclose(in.f);
    if (st != SAM2_OK) {
        ctx_clear(c);
        return st;
    }
    c->orig_w = (int)w;
    c->orig_h = (int)h;
    c->has_image = 1;
    return SAM2_OK;
}
