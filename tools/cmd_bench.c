/* cmd_bench.c - `sam2 bench`: encoder, decoder and AMG timings with random
 * weights of an official geometry (no checkpoint needed), the machine's
 * sgemm throughput on matching shapes, and peak memory. */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_bf16.h"
#include "cli.h"
#include "demo_model.h"
#include "ckpt_writer.h"
#include "cli_io.h"
#include "config.h"
#include "flops.h"
#include "gemm.h"
#include "model.h"
#include "openmp_env.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Peak RSS since the last reset_peak_rss() (Linux VmHWM); the process-wide
 * maximum when the kernel does not offer the reset. */
static void reset_peak_rss(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) fputs("5", f), fclose(f);
}

static double phase_peak_rss_mib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atof(line + 6);
    if (f) fclose(f);
    return kb >= 0 ? kb / 1024.0 : peak_rss_mib();
}

static uint8_t *synthetic_rgb(int w, int h);

typedef struct amg_run_fig {
    double secs, rss;
    int masks;
} amg_run_fig;

/* One generator run on a synthetic w x h image; peak RSS of the run alone. */
static sam2_status bench_amg(sam2_ctx *ctx, int w, int h, const sam2_amg_params *p, amg_run_fig *f) {
    uint8_t *px = synthetic_rgb(w, h);
    if (!px) return SAM2_ERR_NOMEM;
    sam2_image img = {w, h, w * 3, 3, 8, px};
    sam2_amg_result *res = NULL;
    reset_peak_rss();
    double t0 = now_s();
    sam2_status st = sam2_amg_generate(ctx, &img, p, &res);
    f->secs = now_s() - t0;
    f->rss = phase_peak_rss_mib();
    f->masks = st == SAM2_OK ? res->n_masks : -1;
    sam2_amg_result_free(res);
    free(px);
    return st;
}

/* sgemm GFLOP/s on the encoder's typical shapes (tokens x channels times
 * channels x 3-4 channels), weighted as the encoder weights them. */
static double measure_sgemm(int S, int embed_dim) {
    int tokens = (S / 4) * (S / 4);
    double flops = 0, secs = 0;
    for (int s = 0; s < 4; s++) {
        int M = tokens >> (2 * s), K = embed_dim << s, N = 4 * K;
        if (M < 64) M = 64;
        float *A = malloc(sizeof(float) * (size_t)M * K);
        float *B = malloc(sizeof(float) * (size_t)K * N);
        float *C = malloc(sizeof(float) * (size_t)M * N);
        for (size_t i = 0; i < (size_t)M * K; i++) A[i] = (float)(i % 7) * 0.1f;
        for (size_t i = 0; i < (size_t)K * N; i++) B[i] = (float)(i % 5) * 0.1f;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, A, K, B, K, 0, C, N);
        double best = 1e9;
        for (int r = 0; r < 3; r++) {
            double t0 = now_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, A, K, B, K, 0, C, N);
            double t = now_s() - t0;
            if (t < best) best = t;
        }
        flops += 2.0 * M * N * K;
        secs += best;
        free(A), free(B), free(C);
    }
    return flops / secs * 1e-9;
}

static void print_match(const char *what, const bf16_amg_match *m) {
    printf("bf16 AMG on %d %s: %d of %d float32 masks matched (%.1f%%, %d pixel-identical); %d bf16 masks\n", m->cases,
           what, m->matched, m->masks_f32, 100.0 * m->matched / (m->masks_f32 ? m->masks_f32 : 1), m->identical,
           m->masks_bf16);
}

static void add_match(cJSON *o, const char *prefix, const bf16_amg_match *m) {
    if (!m->cases) return;
    char key[128];
    snprintf(key, sizeof key, "%s_cases", prefix), cJSON_AddNumberToObject(o, key, m->cases);
    snprintf(key, sizeof key, "%s_masks_f32", prefix), cJSON_AddNumberToObject(o, key, m->masks_f32);
    snprintf(key, sizeof key, "%s_masks_bf16", prefix), cJSON_AddNumberToObject(o, key, m->masks_bf16);
    snprintf(key, sizeof key, "%s_matched", prefix), cJSON_AddNumberToObject(o, key, m->matched);
    snprintf(key, sizeof key, "%s_match_rate", prefix);
    cJSON_AddNumberToObject(o, key, (double)m->matched / (m->masks_f32 ? m->masks_f32 : 1));
}

/* A reproducible synthetic test image: smooth shapes on a gradient. */
static uint8_t *synthetic_rgb(int w, int h) {
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + 3 * ((size_t)y * w + x);
            int in1 = (x - w / 3) * (x - w / 3) + (y - h / 2) * (y - h / 2) < (h / 5) * (h / 5);
            int in2 = x > w / 2 && x < 5 * w / 6 && y > h / 4 && y < 3 * h / 4;
            p[0] = (uint8_t)(in1 ? 220 : in2 ? 40 : x * 100 / w);
            p[1] = (uint8_t)(in1 ? 60 : in2 ? 180 : y * 100 / h);
            p[2] = (uint8_t)(in2 ? 200 : 90);
        }
    return px;
}

int cmd_bench(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    const char *preset = "sam2.1_hiera_t", *json_path = NULL;
    const char *write_ckpt = NULL, *golden = getenv("SAM2_GOLDEN");
    int random_weights = 0, runs = 3, amg = 1, amg_pps = 32, keep_pps = 16, big_w = 4000, big_h = 3000, fp16 = 0;
    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            printf("usage: sam2 bench [--random-weights [--preset NAME]] [-m MODEL -c CONFIG] [-t N]\n"
                   "                  [--runs N] [--no-amg] [--amg-points-per-side N] [--json FILE]\n"
                   "                  [--golden DIR]\n"
                   "Times the encoder, the decoder (1 prompt and a batch of 64) and the automatic\n"
                   "mask generator on a synthetic image (official thresholds at 1024x1024; every\n"
                   "candidate of 16x16 points kept at 1024x1024 and 4000x3000); prints GFLOP/s\n"
                   "against the machine's sgemm and peak RSS of each run. Where the CPU has AVX-512\n"
                   "BF16: the bfloat16 encoder's speed-up and deviation from float32, and the AMG\n"
                   "masks of the golden micro256 cases (--golden DIR, default $SAM2_GOLDEN) that\n"
                   "bfloat16 keeps (matched at mask IoU 0.98). --write-checkpoint FILE [--fp16] writes a random-weight checkpoint\n"
                   "of --preset in the official layout instead (for loader tests). Presets:");
            for (const char *const *p = sam2_preset_names(); *p; p++) printf(" %s", *p);
            printf("\n");
            return 0;
        } else if (!strcmp(o, "--write-checkpoint") && v) {
            write_ckpt = v, i++;
        } else if (!strcmp(o, "--fp16")) {
            fp16 = 1;
        } else if (!strcmp(o, "--random-weights")) {
            random_weights = 1;
        } else if (!strcmp(o, "--preset") && v) {
            preset = v, i++;
        } else if (!strcmp(o, "--runs") && v && cli_parse_int(v, &runs) && runs > 0) {
            i++;
        } else if (!strcmp(o, "--no-amg")) {
            amg = 0;
        } else if (!strcmp(o, "--amg-points-per-side") && v && cli_parse_int(v, &amg_pps) && amg_pps > 0) {
            i++;
        } else if (!strcmp(o, "--json") && v) {
            json_path = v, i++;
        } else if (!strcmp(o, "--golden") && v) {
            golden = v, i++;
        } else {
            return cli_usage_error("bench", "unknown or incomplete option '%s'", o);
        }
    }
    if (write_ckpt) {
        if (cli_check_output(write_ckpt, 0) != 0) return 1;
        sam2_status ws = ckpt_write_preset(write_ckpt, preset, fp16, 1);
        if (ws != SAM2_OK) return cli_fail("bench", ws);
        fprintf(stderr, "wrote %s (%s, %s)\n", write_ckpt, preset, fp16 ? "float16" : "float32");
        return 0;
    }
    cli_apply_threads(&c);
    sam2_model *m = NULL;
    sam2_status st = random_weights ? sam2_model_random(preset, NULL, 1, &m) : SAM2_OK;
    if (st != SAM2_OK) return cli_fail("bench", st);
    if (!random_weights && !(m = cli_load_model(&c))) return 1;
    const sam2_config *cfg = &m->cfg;
    int threads = c.threads > 0 ? c.threads : cli_default_threads();
    sam2_ctx *ctx = NULL;
    if ((st = sam2_ctx_new(m, threads, &ctx)) != SAM2_OK) return cli_fail("bench", st);

    printf("model: %s, image size %d, %d threads\n", random_weights ? preset : "checkpoint",
           cfg->image_size, threads);
    char blas[256];
    gemm_backend(blas, sizeof blas);
    printf("BLAS: %s\n", blas);
    char wait_desc[160];
    printf("OpenMP threads wait: %s\n", openmp_env_describe(wait_desc, sizeof wait_desc));
    double gflop = encoder_flops(cfg) * 1e-9;
    double sgemm = measure_sgemm(cfg->image_size, cfg->embed_dim);
    int W = 1024, H = 1024;
    uint8_t *px = synthetic_rgb(W, H);
    sam2_image img = {W, H, W * 3, 3, 8, px};
    double enc = 1e9;
    for (int r = 0; r < runs && st == SAM2_OK; r++) {
        double t0 = now_s();
        st = sam2_set_image(ctx, &img);
        double t = now_s() - t0;
        if (t < enc) enc = t;
    }
    if (st != SAM2_OK) {
        free(px);
        sam2_ctx_free(ctx);
        sam2_model_free(m);
        return cli_fail("bench", st);
    }
    double rss_enc = peak_rss_mib();
    printf("encoder: %.1f GFLOP in %.3f s = %.1f GFLOP/s; sgemm %.1f GFLOP/s; %.0f%% of sgemm\n",
           gflop, enc, gflop / enc, sgemm, 100.0 * gflop / enc / sgemm);
    printf("peak RSS after encoder: %.0f MiB\n", rss_enc);

    /* decoder: one prompt, then a batch of 64 single-click prompts */
    double dec1 = 0, dec64 = 0;
    {
        float pts[128];
        int labels[64];
        sam2_prompt prs[64];
        for (int i = 0; i < 64; i++) {
            pts[2 * i] = (float)(W * ((i % 8) + 0.5) / 8), pts[2 * i + 1] = (float)(H * ((i / 8) + 0.5) / 8);
            labels[i] = 1;
            prs[i] = sam2_prompt_default();
            prs[i].points = pts + 2 * i, prs[i].labels = labels + i, prs[i].n_points = 1;
        }
        sam2_prediction out[64];
        memset(out, 0, sizeof out);
        /* one call first: a context's first call sets up its scratch */
        st = sam2_predict_batch(ctx, prs, 1, out);
        sam2_prediction_free(&out[0]);
        double t0 = now_s();
        int reps = 10;
        for (int r = 0; r < reps && st == SAM2_OK; r++) {
            st = sam2_predict_batch(ctx, prs, 1, out);
            sam2_prediction_free(&out[0]);
        }
        dec1 = (now_s() - t0) / reps * 1e3;
        t0 = now_s();
        if (st == SAM2_OK) st = sam2_predict_batch(ctx, prs, 64, out);
        dec64 = (now_s() - t0) / 64 * 1e3;
        for (int i = 0; i < 64; i++) sam2_prediction_free(&out[i]);
        if (st == SAM2_OK) printf("decoder: %.2f ms per prompt alone, %.2f ms per prompt in a batch of 64\n", dec1, dec64);
        else printf("decoder: not available (%s)\n", sam2_last_error());
    }

    /* The generator twice over: as users run it (official thresholds,
     * 32x32 points), and keeping every candidate (thresholds 0, 16x16
     * points: 768 masks upsampled, encoded and through NMS) at 1024x1024
     * and 4000x3000, for time and peak memory as the image grows. */
    amg_run_fig fo = {-1, -1, -1}, fs = {-1, -1, -1}, fb = {-1, -1, -1};
    if (amg && st == SAM2_OK) {
        sam2_amg_params p = sam2_amg_default_params();
        p.points_per_side = amg_pps;
        st = bench_amg(ctx, W, H, &p, &fo);
        if (st == SAM2_OK)
            printf("AMG %dx%d points, official thresholds, %dx%d: %.3f s (%d masks); peak RSS %.0f MiB\n", amg_pps, amg_pps,
                   W, H, fo.secs, fo.masks, fo.rss);
        p.points_per_side = keep_pps;
        p.pred_iou_thresh = 0.0f; /* random weights give low scores: keep every candidate */
        p.stability_score_thresh = 0.0f;
        if (st == SAM2_OK) st = bench_amg(ctx, W, H, &p, &fs);
        if (st == SAM2_OK)
            printf("AMG %dx%d points, all kept, %dx%d: %.3f s (%d masks); peak RSS %.0f MiB\n", keep_pps, keep_pps, W, H,
                   fs.secs, fs.masks, fs.rss);
        if (st == SAM2_OK) st = bench_amg(ctx, big_w, big_h, &p, &fb);
        if (st == SAM2_OK)
            printf("AMG %dx%d points, all kept, %dx%d: %.3f s (%d masks); peak RSS %.0f MiB\n", keep_pps, keep_pps,
                   big_w, big_h, fb.secs, fb.masks, fb.rss);
        if (st != SAM2_OK) printf("AMG: failed (%s)\n", sam2_last_error());
    }
    /* What the decoder of the 32x32 run computes (a lower bound, see
     * decoder_click_flops) against the time it took beyond the encoder, and
     * the least time those products would take at the machine's sgemm rate. */
    const double click_flop = decoder_click_flops(cfg, 2);
    const double dec_gflop = click_flop > 0 ? click_flop * amg_pps * amg_pps * 1e-9 : -1;
    const double beyond = fo.secs - enc, dec_floor = dec_gflop > 0 ? dec_gflop / sgemm : -1;
    if (fo.secs >= 0 && dec_gflop > 0 && beyond > 0)
        printf("AMG decoder: %d clicks x %.3f GFLOP = %.0f GFLOP (its products, counted), at least %.2f s at sgemm's "
               "rate; %.2f s beyond the encoder: %.0f GFLOP/s, %.0f%% of sgemm\n",
               amg_pps * amg_pps, click_flop * 1e-9, dec_gflop, dec_floor, beyond, dec_gflop / beyond,
               100.0 * dec_gflop / beyond / sgemm);
    /* sam2c's speed and memory targets, each against its own figure */
    const double frac = gflop / enc / sgemm;
    const int has_amg = fo.secs >= 0 && amg_pps == 32, has_big = fb.rss >= 0 && big_w == 4000 && big_h == 3000;
    const int enc_met = frac >= 0.85, amg_met = beyond <= 1.5, rss_met = fb.rss <= 1024.0;
    printf("targets: encoder >= 85%% of sgemm: %s (%.0f%%)", enc_met ? "met" : "not met", 100.0 * frac);
    if (has_amg)
        printf("; AMG 32x32 within the encoder + 1.5 s: %s (%.2f s beyond it", amg_met ? "met" : "not met", beyond);
    if (has_amg && dec_floor > 0) printf("; its decoder's products need %.2f s at sgemm's rate", dec_floor);
    if (has_amg) printf(")");
    if (has_big) printf("; peak RSS at 4000x3000 <= 1 GiB: %s (%.0f MiB)", rss_met ? "met" : "not met", fb.rss);
    printf("\n");
    /* bfloat16 last, so that its second context does not weigh on the
     * float32 runs' peak memory; the float32 features of img are made again */
    bf16_figures bf;
    memset(&bf, 0, sizeof bf);
    if (st == SAM2_OK) {
        sam2_status bs = sam2_set_image(ctx, &img);
        if (bs == SAM2_OK) bs = bench_bf16_encoder(m, threads, &img, runs, ctx, &bf);
        if (bs != SAM2_OK) printf("bf16 encoder: failed (%s)\n", sam2_last_error());
        else if (!bf.available) printf("bf16 encoder: this CPU has no AVX-512 BF16\n");
        else
            printf("bf16 encoder: %.3f s, %.2fx float32; features max abs deviation %.3g (%.2g of their max %.3g)\n",
                   bf.encoder_s, enc / bf.encoder_s, bf.embed_max_abs, bf.embed_max_abs / bf.embed_max_ref,
                   bf.embed_max_ref);
    }
    if (st == SAM2_OK && bf.available && golden && *golden) {
        sam2_status gs = bench_bf16_golden(golden, threads, &bf);
        if (gs != SAM2_OK) printf("bf16 AMG on golden cases: failed (%s)\n", sam2_last_error());
        else if (bf.golden.cases)
            print_match("golden micro256 cases (random weights)", &bf.golden);
    }
    const char *bench_dir = getenv("SAM2_BENCH");
    if (st == SAM2_OK && bf.available && bench_dir && *bench_dir) {
        sam2_model *demo = NULL;
        sam2_status ds = demo_model_load(NULL, NULL, &demo);
        if (ds == SAM2_OK) ds = bench_bf16_learned(demo, bench_dir, 12, threads, &bf);
        if (ds != SAM2_OK) printf("bf16 AMG on shapes-dev: failed (%s)\n", sam2_last_error());
        else if (bf.learned.cases) print_match("shapes-dev scenes (demo model, strict setting)", &bf.learned);
        sam2_model_free(demo);
    }
    int json_failed = 0;
    if (json_path) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", random_weights ? preset : "checkpoint");
        cJSON_AddNumberToObject(o, "threads", threads);
        cJSON_AddNumberToObject(o, "image_size", cfg->image_size);
        cJSON_AddNumberToObject(o, "encoder_gflop", gflop);
        cJSON_AddNumberToObject(o, "encoder_s", enc);
        cJSON_AddNumberToObject(o, "encoder_gflops", gflop / enc);
        cJSON_AddNumberToObject(o, "sgemm_gflops", sgemm);
        cJSON_AddNumberToObject(o, "encoder_fraction_of_sgemm", gflop / enc / sgemm);
        cJSON *tg = cJSON_AddObjectToObject(o, "targets");
        cJSON_AddBoolToObject(tg, "encoder_85pct_of_sgemm", enc_met);
        if (has_amg) cJSON_AddBoolToObject(tg, "amg_32x32_within_encoder_plus_1_5s", amg_met);
        if (has_big) cJSON_AddBoolToObject(tg, "peak_rss_4000x3000_within_1gib", rss_met);
        cJSON_AddNumberToObject(o, "decoder_ms_single", dec1);
        cJSON_AddNumberToObject(o, "decoder_ms_batched64", dec64);
        cJSON_AddStringToObject(o, "blas", blas);
        cJSON_AddStringToObject(o, "openmp_wait", wait_desc);
        cJSON_AddNumberToObject(o, "amg_points_per_side", amg_pps);
        cJSON_AddNumberToObject(o, "amg_official_s_1024", fo.secs);
        cJSON_AddNumberToObject(o, "amg_official_masks_1024", fo.masks);
        if (fo.secs >= 0 && dec_gflop > 0 && beyond > 0) {
            cJSON_AddNumberToObject(o, "amg_decoder_gflop", dec_gflop);
            cJSON_AddNumberToObject(o, "amg_decoder_floor_s", dec_floor);
            cJSON_AddNumberToObject(o, "amg_decoder_fraction_of_sgemm", dec_gflop / beyond / sgemm);
        }
        cJSON_AddNumberToObject(o, "peak_rss_mib_amg_official_1024", fo.rss);
        cJSON_AddNumberToObject(o, "amg_keep_all_points_per_side", keep_pps);
        cJSON_AddNumberToObject(o, "amg_keep_all_s_1024", fs.secs);
        cJSON_AddNumberToObject(o, "amg_keep_all_masks_1024", fs.masks);
        cJSON_AddNumberToObject(o, "peak_rss_mib_amg_keep_all_1024", fs.rss);
        cJSON_AddNumberToObject(o, "amg_keep_all_s_4000x3000", fb.secs);
        cJSON_AddNumberToObject(o, "amg_keep_all_masks_4000x3000", fb.masks);
        cJSON_AddNumberToObject(o, "peak_rss_mib_amg_keep_all_4000x3000", fb.rss);
        cJSON_AddNumberToObject(o, "peak_rss_mib_encoder", rss_enc);
        if (bf.available) {
            cJSON_AddNumberToObject(o, "bf16_encoder_s", bf.encoder_s);
            cJSON_AddNumberToObject(o, "bf16_speedup", enc / bf.encoder_s);
            cJSON_AddNumberToObject(o, "bf16_features_max_abs_dev", bf.embed_max_abs);
            cJSON_AddNumberToObject(o, "bf16_features_max_abs", bf.embed_max_ref);
            add_match(o, "bf16_golden", &bf.golden);
            add_match(o, "bf16_shapes_dev", &bf.learned);
        }
        /* a figures file is replaced run after run (make bench) */
        if (cli_write_json("bench", json_path, o, 1, 1) != 0) json_failed = 1;
        cJSON_Delete(o);
    }
    free(px);
    sam2_ctx_free(ctx);
    sam2_model_free(m);
    return st == SAM2_OK && !json_failed ? 0 : 1;
}
