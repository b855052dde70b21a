/* cli_progress.h - the generator's progress on stderr (sam2_ctx_set_progress):
 * one line rewritten in place on a terminal, a line per tenth elsewhere. */
#ifndef SAM2_TOOLS_CLI_PROGRESS_H
#define SAM2_TOOLS_CLI_PROGRESS_H

#include "sam2.h"

typedef enum { CLI_PROGRESS_AUTO = -1, CLI_PROGRESS_OFF = 0, CLI_PROGRESS_ON = 1 } cli_progress_mode;

typedef struct cli_progress {
    const char *cmd;
    int tty, last_step;
    int64_t last_done;
} cli_progress;

/* Parses "auto" / "on" / "off"; 0 on success. */
int cli_progress_parse(const char *s, cli_progress_mode *out);

/* Installs the printer on ctx when mode asks for it: on, or auto with
 * stderr a terminal and a run of at least 4096 clicks or crop layers
 * (seconds at least); p must outlive the runs. */
void cli_progress_attach(cli_progress *p, const char *cmd, cli_progress_mode mode, const sam2_amg_params *params,
                         sam2_ctx *ctx);

#endif
