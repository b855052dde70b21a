/* mask_decoder.h - two-way transformer, upscaling, hypernetworks, IoU and
 * object-score heads. */
#ifndef SAM2_MASK_DECODER_H
#define SAM2_MASK_DECODER_H

#include "config.h"
#include "weights.h"

typedef struct mask_decoder_weights {
    int placeholder; /* filled by the mask decoder implementation */
} mask_decoder_weights;

sam2_status mask_decoder_bind(const sam2_config *cfg, wt_binder *b, mask_decoder_weights *w);

#endif
