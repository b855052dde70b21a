/* prompt_encoder.h - points, boxes and mask inputs to sparse and dense
 * prompt embeddings. */
#ifndef SAM2_PROMPT_ENCODER_H
#define SAM2_PROMPT_ENCODER_H

#include "config.h"
#include "weights.h"

typedef struct prompt_encoder_weights {
    int placeholder; /* filled by the prompt encoder implementation */
} prompt_encoder_weights;

sam2_status prompt_encoder_bind(const sam2_config *cfg, wt_binder *b, prompt_encoder_weights *w);

#endif
