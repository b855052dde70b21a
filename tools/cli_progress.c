/* cli_progress.c - see cli_progress.h. */
#include "cli_progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_progress_parse(const char *s, cli_progress_mode *out) {
    if (!strcmp(s, "auto")) *out = CLI_PROGRESS_AUTO;
    else if (!strcmp(s, "on")) *out = CLI_PROGRESS_ON;
    else if (!strcmp(s, "off")) *out = CLI_PROGRESS_OFF;
    else return -1;
    return 0;
}

/* Percent on a terminal, tenths elsewhere; a new pass (done falling back)
 * starts over. Never stops the run. */
static int print_progress(void *user, int64_t done, int64_t total) {
    cli_progress *p = user;
    if (done < p->last_done) p->last_step = -1;
    p->last_done = done;
    const int pct = total > 0 ? (int)(done * 100 / total) : 100, step = p->tty ? pct : pct / 10;
    if (step == p->last_step && done != total) return 0;
    p->last_step = step;
    fprintf(stderr, "%ssam2 %s: %lld of %lld clicks decoded (%d%%)%s", p->tty ? "\r" : "", p->cmd, (long long)done,
            (long long)total, pct, p->tty && done != total ? "" : "\n");
    fflush(stderr);
    return 0;
}

void cli_progress_attach(cli_progress *p, const char *cmd, cli_progress_mode mode, const sam2_amg_params *params,
                         sam2_ctx *ctx) {
    memset(p, 0, sizeof *p);
    p->cmd = cmd, p->tty = isatty(STDERR_FILENO), p->last_step = -1;
    int64_t clicks = 0;
    int crops = 1;
    if (sam2_amg_work(params, &clicks, &crops) != SAM2_OK) return;
    const int on = mode == CLI_PROGRESS_ON || (mode == CLI_PROGRESS_AUTO && p->tty && (clicks >= 4096 || crops > 1));
    sam2_ctx_set_progress(ctx, on ? print_progress : NULL, on ? p : NULL);
}
