/* test_encoder.c - image encoder parity with the official implementation:
 * every golden image, every stage (trunk, FPN, position encodings, image
 * embedding, high-resolution features), with 1 and 2 threads. */
#include "model.h"
#include "test.h"

static int compare_npy(const char *label, const char *path, const float *got, int C, int H, int W, float atol,
                       float rtol) {
    npy_array a;
    if (npy_read(path, &a) != SAM2_OK) {
        CHECK(0, "cannot read %s: %s", path, sam2_last_error());
        return 0;
    }
    int ok = a.numel == (int64_t)C * H * W;
    CHECK(ok, "%s: golden has %lld values, ours %d", label, (long long)a.numel, C * H * W);
    if (ok) ok = test_compare(label, got, a.data, a.numel, atol, rtol);
    CHECK(ok, "%s outside tolerance", label);
    npy_free(&a);
    return ok;
}

/* Runs the encoder on the golden input.npy of one case and compares. */
static void check_case(const sam2_model *m, const char *dir, const char *model_dir, int threads) {
    char path[4096];
    snprintf(path, sizeof path, "%s/input.npy", dir);
    if (!test_file_exists(path)) {
        printf("  skip %s (no input.npy)\n", dir);
        return;
    }
    npy_array in;
    CHECK_OK(npy_read(path, &in));
    if (!in.data) return;
    encoder_output e;
    sam2_status st = image_encoder_run(&m->cfg, &m->enc, in.data, threads, &e);
    CHECK(st == SAM2_OK, "encoder: %s", sam2_last_error());
    if (st == SAM2_OK) {
        printf(" %s (%d threads)\n", dir, threads);
        const float A = 1e-3f, R = 1e-3f;
        char name[64];
        for (int i = 0; i < e.n_trunk; i++) {
            snprintf(path, sizeof path, "%s/trunk_%d.npy", dir, i);
            snprintf(name, sizeof name, "trunk_%d", i);
            if (test_file_exists(path)) compare_npy(name, path, e.trunk[i], e.trunk_c[i], e.trunk_h[i], e.trunk_w[i], A, R);
        }
        for (int i = 0; i < e.n_levels; i++) {
            snprintf(path, sizeof path, "%s/backbone_fpn_%d.npy", dir, i);
            snprintf(name, sizeof name, "backbone_fpn_%d", i);
            if (test_file_exists(path)) compare_npy(name, path, e.fpn[i], m->cfg.d_model, e.fpn_h[i], e.fpn_w[i], A, R);
            snprintf(path, sizeof path, "%s/vision_pos_enc_%d.npy", model_dir, i);
            snprintf(name, sizeof name, "vision_pos_enc_%d", i);
            if (test_file_exists(path)) compare_npy(name, path, e.pos[i], m->cfg.d_model, e.fpn_h[i], e.fpn_w[i], 1e-5f, 0);
        }
        int s16 = m->cfg.image_size / 16, s4 = m->cfg.image_size / 4, d = m->cfg.d_model;
        snprintf(path, sizeof path, "%s/image_embed.npy", dir);
        compare_npy("image_embed", path, e.image_embed, d, s16, s16, A, R);
        snprintf(path, sizeof path, "%s/high_res_feats_0.npy", dir);
        compare_npy("high_res_feats_0", path, e.high_res[0], d / 8, s4, s4, A, R);
        snprintf(path, sizeof path, "%s/high_res_feats_1.npy", dir);
        compare_npy("high_res_feats_1", path, e.high_res[1], d / 4, s4 / 2, s4 / 2, A, R);
        encoder_output_free(&e);
    }
    npy_free(&in);
}

int main(void) {
    const char *g = test_golden_dir();
    char root[4096];
    snprintf(root, sizeof root, "%s", g ? g : test_fixtures_dir());
    const char *models[] = {"micro256", "micro1024"};
    const char *images[] = {"truck", "groceries", "camera", "coins", "synthetic"};
    int cases = 0;
    for (int mi = 0; mi < 2; mi++) {
        char ckpt[4096], yaml[4096], model_dir[4096];
        snprintf(ckpt, sizeof ckpt, "%s/models/%s.pt", root, models[mi]);
        snprintf(yaml, sizeof yaml, "%s/models/%s.yaml", root, models[mi]);
        snprintf(model_dir, sizeof model_dir, "%s/cases/%s", root, models[mi]);
        if (!test_file_exists(ckpt)) continue;
        sam2_model *m = NULL;
        CHECK_OK(sam2_model_load(ckpt, yaml, &m));
        if (!m) continue;
        for (int ii = 0; ii < 5; ii++) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s/%s", model_dir, images[ii]);
            if (!test_file_exists(dir)) continue;
            check_case(m, dir, model_dir, 2);
            cases++;
            if (mi == 0 && ii == 4) check_case(m, dir, model_dir, 1);
        }
        sam2_model_free(m);
    }
    CHECK(cases > 0, "no golden cases found under %s", root);
    return test_finish();
}
