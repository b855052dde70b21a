/* cli_options.h - the options several commands share beyond -m/-c/-t/
 * --precision: the generator's parameters (with --params read first, so that
 * flags override it), the robust steps, --depth and --overwrite. One scanner,
 * so every command spells and checks them alike. */
#ifndef SAM2_CLI_OPTIONS_H
#define SAM2_CLI_OPTIONS_H

#include "amg_args.h"
#include "cli.h"
#include "robust_args.h"

/* Where the shared options go; a NULL field means the command has no such
 * option. */
typedef struct cli_shared {
    cli_common *common;
    amg_args *amg;              /* --<parameter> VALUE, --params FILE */
    robust_args *robust;        /* --robust, --contrast, --consensus*, --gap-fill*, --merge* */
    sam2_depth_mode *depth;     /* --depth window|scale|official */
    int *overwrite;             /* --overwrite */
} cli_shared;

/* Reads the last --params FILE of argv into s->amg (before the other flags).
 * 0 on success or without --params; 2 after printing an error. */
int cli_shared_load_params(const char *cmd, const cli_shared *s, int argc, char **argv);

/* If argv[*i] is one of the shared options, consumes it (and its value) and
 * returns 1; -1 after printing an error; 0 if it is not one of them. */
int cli_shared_option(const char *cmd, const cli_shared *s, int argc, char **argv, int *i);

#endif
