/* main.c - the sam2 command-line tool: dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "openmp_env.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: sam2 COMMAND [options]\n"
            "\n"
            "commands:\n"
            "  info     describe a model checkpoint (-m MODEL [-c CONFIG] [--json])\n"
            "  embed    run the image encoder and save the embedding (IMAGE -o FILE)\n"
            "  predict  masks for points / a box / a mask input (IMAGE|EMBEDDING --point X,Y ...)\n"
            "  auto     automatic mask generator (IMAGE|EMBEDDING [--<parameter> VALUE]...)\n"
            "  bench    timings and memory (--random-weights --preset sam2.1_hiera_t)\n"
            "  compare  parameter sets side by side (IMAGE --set NAME=VALUE,... -o GRID.png)\n"
            "  tune     sweep AMG parameters, score them, pick the best (IMAGE --grid ...)\n"
            "  eval     score the AMG on a benchmark of images with instance labels (DIR)\n"
            "\n"
            "Every command takes -m MODEL (an official .pt checkpoint; default: the embedded\n"
            "demo model), -c CONFIG (official YAML; default: detected from the checkpoint) and\n"
            "-t THREADS (default: all cores) and --precision f32|bf16 (bf16: a faster\n"
            "encoder in bfloat16 on CPUs with AVX-512 BF16; f32, exact, is the default).\n"
            "'sam2 COMMAND --help' tells more.\n");
}

int main(int argc, char **argv) {
    openmp_env_setup(argv);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "embed")) return cmd_embed(argc - 1, argv + 1);
    if (!strcmp(cmd, "predict")) return cmd_predict(argc - 1, argv + 1);
    if (!strcmp(cmd, "auto")) return cmd_auto(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "compare")) return cmd_compare(argc - 1, argv + 1);
    if (!strcmp(cmd, "tune")) return cmd_tune(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 1, argv + 1);
    fprintf(stderr, "sam2: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
