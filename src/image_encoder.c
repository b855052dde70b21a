/* image_encoder.c - placeholder until the Hiera encoder lands. */
#include "image_encoder.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

sam2_status image_encoder_bind(const sam2_config *cfg, wt_binder *b, image_encoder_weights *w) {
    (void)cfg; (void)b;
    memset(w, 0, sizeof *w);
    return SAM2_OK;
}

sam2_status image_encoder_run(const sam2_config *cfg, const image_encoder_weights *w,
                              const float *input, int n_threads, encoder_output *out) {
    (void)cfg; (void)w; (void)input; (void)n_threads;
    memset(out, 0, sizeof *out);
    return SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "image encoder not implemented yet");
}

void encoder_output_free(encoder_output *out) {
    if (!out) return;
    for (int i = 0; i < SAM2_MAX_STAGES; i++) free(out->trunk[i]);
    for (int i = 0; i < SAM2_MAX_LEVELS; i++) { free(out->fpn[i]); free(out->pos[i]); }
    free(out->image_embed);
    free(out->high_res[0]);
    free(out->high_res[1]);
    memset(out, 0, sizeof *out);
}
