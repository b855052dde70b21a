/* cmd_embed.c - `sam2 embed`: run the image encoder once and save the
 * embedding, optionally dumping every stage as .npy for parity checks. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_io.h"
#include "npy.h"

static const char *dump_names[] = {"input",          "backbone_fpn_0",   "backbone_fpn_1",
                                   "backbone_fpn_2", "vision_pos_enc_0", "vision_pos_enc_1",
                                   "vision_pos_enc_2", "image_embed",    "high_res_feats_0",
                                   "high_res_feats_1", "trunk_0",        "trunk_1",
                                   "trunk_2",        "trunk_3",          NULL};

/* Writes every available named tensor of the context as DIR/<name>.npy. */
static int dump_npy(sam2_ctx *ctx, const char *dir, int overwrite) {
    if (cli_mkdirs(dir) != 0) return cli_usage_error("embed", "cannot create directory '%s'", dir);
    for (int i = 0; dump_names[i]; i++) {
        const float *data;
        int ndim, shape[4];
        if (sam2_ctx_tensor(ctx, dump_names[i], &data, &ndim, shape) != SAM2_OK) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.npy", dir, dump_names[i]);
        if (cli_check_output(path, overwrite) != 0) return 1;
        int64_t s64[4] = {shape[0], shape[1], shape[2], shape[3]};
        sam2_status st = npy_write(path, data, ndim, s64);
        if (st != SAM2_OK) return cli_fail("embed", st);
    }
    return 0;
}

int cmd_embed(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    const char *image = NULL, *out = NULL, *dump = NULL;
    int overwrite = 0;
    sam2_depth_mode depth = SAM2_DEPTH_WINDOW;
    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: sam2 embed [-m MODEL] [-c CONFIG] [-t N] [--precision f32|bf16] IMAGE -o FILE [--dump-npy DIR]\n"
                   "                  [--depth window|scale|official] [--overwrite]\n"
                   "Runs the image encoder and writes an embedding file that 'predict' and 'auto'\n"
                   "accept instead of the image (tied to the model that made it).\n"
                   "--dump-npy DIR writes input.npy, backbone_fpn_{0,1,2}.npy,\n"
                   "vision_pos_enc_{0,1,2}.npy, image_embed.npy, high_res_feats_{0,1}.npy (and\n"
                   "trunk_{0..3}.npy) as float32 .npy files.\n"
                   "--depth: how 16-bit images become 8-bit (window, the default: the 0.5-99.5\n"
                   "percentiles stretched to 0..255; scale: x/257; official: as PIL's\n"
                   "convert(\"RGB\") in the official pipeline, one channel saturating at 255).\n");
            return 0;
        } else if (!strcmp(a, "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(a, "--dump-npy") && i + 1 < argc) {
            dump = argv[++i];
        } else if (!strcmp(a, "--overwrite")) {
            overwrite = 1;
        } else if (!strcmp(a, "--depth") && i + 1 < argc) {
            if (cli_parse_depth(argv[++i], &depth) != 0)
                return cli_usage_error("embed", "--depth takes 'window', 'scale' or 'official', got '%s'", argv[i]);
        } else if (a[0] == '-') {
            return cli_usage_error("embed", "unknown or incomplete option '%s' (see sam2 embed --help)", a);
        } else if (!image) {
            image = a;
        } else {
            return cli_usage_error("embed", "more than one image given ('%s', '%s')", image, a);
        }
    }
    if (!image) return cli_usage_error("embed", "no image given (see sam2 embed --help)");
    if (!out && !dump) return cli_usage_error("embed", "nothing to write: give -o FILE and/or --dump-npy DIR");
    if (out && cli_check_output(out, overwrite) != 0) return 1;

    cli_image img;
    if (cli_load_image("embed", image, &img) != 0) return 1;
    sam2_model *m = cli_load_model(&c);
    sam2_ctx *ctx = NULL;
    int rc = 1;
    sam2_status st;
    if (!m) goto done;
    cli_apply_threads(&c);
    if (cli_ctx_new("embed", &c, m, &ctx) != 0) goto done;
    sam2_ctx_set_depth_mode(ctx, depth);
    sam2_ctx_keep_intermediates(ctx, dump != NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((st = sam2_set_image(ctx, &img.img)) != SAM2_OK) { rc = cli_fail("embed", st); goto done; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (out && (st = sam2_embedding_save(ctx, out)) != SAM2_OK) { rc = cli_fail("embed", st); goto done; }
    if (dump && dump_npy(ctx, dump, overwrite) != 0) goto done;
    if (out) fprintf(stderr, "wrote %s (image encoder %.2f s)\n", out, secs);
    if (dump) fprintf(stderr, "wrote .npy tensors to %s/\n", dump);
    rc = 0;
done:
    sam2_ctx_free(ctx);
    sam2_model_free(m);
    cli_image_free(&img);
    return rc;
}
