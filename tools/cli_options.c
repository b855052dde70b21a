/* cli_options.c - see cli_options.h. */
#include "cli_options.h"

#include <string.h>

#include "cli_io.h"

int cli_shared_load_params(const char *cmd, const cli_shared *s, int argc, char **argv) {
    if (!s->amg) return 0;
    const char *file = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--params")) file = argv[i + 1];
    return file && amg_args_load_json(s->amg, cmd, file) != 0 ? 2 : 0;
}

int cli_shared_option(const char *cmd, const cli_shared *s, int argc, char **argv, int *i) {
    int r = s->common ? cli_common_option(s->common, argc, argv, i) : 0;
    if (r == 0 && s->amg) r = amg_args_option(s->amg, cmd, argc, argv, i);
    if (r == 0 && s->robust) r = robust_args_option(s->robust, cmd, argc, argv, i);
    if (r != 0) return r;
    const char *o = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (s->amg && !strcmp(o, "--params") && v) { /* read by cli_shared_load_params */
        (*i)++;
        return 1;
    }
    if (s->depth && !strcmp(o, "--depth") && v) {
        if (cli_parse_depth(v, s->depth) != 0)
            return cli_usage_error(cmd, "--depth takes 'window', 'scale' or 'official', got '%s'", v), -1;
        (*i)++;
        return 1;
    }
    if (s->overwrite && !strcmp(o, "--overwrite")) {
        *s->overwrite = 1;
        return 1;
    }
    return 0;
}
