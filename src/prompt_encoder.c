/* prompt_encoder.c - placeholder until the prompt encoder lands. */
#include "prompt_encoder.h"

#include <string.h>

sam2_status prompt_encoder_bind(const sam2_config *cfg, wt_binder *b, prompt_encoder_weights *w) {
    (void)cfg; (void)b;
    memset(w, 0, sizeof *w);
    return SAM2_OK;
}
