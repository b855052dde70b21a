/* cli.h - shared pieces of the sam2 command-line tool: option scanning,
 * opening the model, loading images or embeddings, reporting errors. */
#ifndef SAM2_CLI_H
#define SAM2_CLI_H

#include "sam2.h"

/* Options every model-using command accepts. */
typedef struct cli_common {
    const char *model_path;   /* -m; default: the embedded demo model */
    const char *config_path;  /* -c; default: detected (or the demo model's YAML) */
    int threads;              /* -t; 0 = all cores */
    sam2_precision precision; /* --precision f32|bf16 */
} cli_common;

void cli_common_init(cli_common *c);

/* If argv[*i] is one of -m/-c/-t/--precision (or --model/--config/--threads), consumes it
 * with its value and returns 1; returns -1 after printing an error if the
 * value is missing or bad; 0 if not a common option. */
int cli_common_option(cli_common *c, int argc, char **argv, int *i);

/* Loads the model named by the options; prints the error and returns NULL
 * on failure. */
sam2_model *cli_load_model(const cli_common *c);

/* A context for m with the options' threads and precision; prints the error
 * (as "sam2 CMD: ...") and returns the exit code 1 on failure, else 0. */
int cli_ctx_new(const char *cmd, const cli_common *c, sam2_model *m, sam2_ctx **ctx);

/* Prints "sam2 CMD: <message>" for the last library error. Returns 1 (exit code). */
int cli_fail(const char *cmd, sam2_status st);

/* Prints "sam2 CMD: <formatted>" to stderr. Returns 2 (usage error exit code). */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a whole decimal int / float, or returns 0. */
int cli_parse_int(const char *s, int *out);
int cli_parse_float(const char *s, float *out);
/* Parses "true"/"false"/"1"/"0"/"yes"/"no". */
int cli_parse_bool(const char *s, int *out);

/* Creates a directory (and parents) if needed; 0 on success. */
int cli_mkdirs(const char *path);

/* 1 if the file starts with the embedding-file magic. */
int cli_is_embedding_file(const char *path);

/* Number of cores (for the default -t). */
int cli_default_threads(void);

/* Subcommands: each returns the process exit code. */
int cmd_info(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_auto(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_eval(int argc, char **argv);

#endif
