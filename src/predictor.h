/* predictor.h - the batched decoder entry point used by sam2_predict and the
 * automatic mask generator. */
#ifndef SAM2_PREDICTOR_H
#define SAM2_PREDICTOR_H

#include "model.h"

/* Runs prompt encoder + mask decoder for B prompts on the context's current
 * embedding. Each prompt has N points (original-image pixels, (B, N, 2)) with
 * labels (B, N); boxes (B, 4) xyxy or NULL; mask_inputs (B, S/4, S/4) or
 * NULL. multimask: M = 3 outputs (tokens 1-3); otherwise M = 1 with the
 * official dynamic fallback via stability when the config enables it.
 * Outputs: low_res (B, M, S/4, S/4) UNCLAMPED logits, iou (B, M),
 * obj_score (B) (may be NULL). */
sam2_status predictor_decode(sam2_ctx *ctx, int B, int N, const float *points,
                             const int *labels, const float *boxes, const float *mask_inputs,
                             int multimask, float *low_res, float *iou, float *obj_score);

/* predictor_decode for callers that drop every output whose predicted IoU
 * is not above iou_floor (the generator's pred_iou_thresh): prompts none of
 * whose outputs pass skip the mask upscaling, the bulk of the decoder, and
 * get zero logits. Only with multimask: a single output keeps every prompt
 * (its choice may need every mask's logits), as iou_floor -INFINITY (what
 * predictor_decode passes) does; both keep the image tokens of prompts
 * without mask input implicit (half the decoder's time for the tiny
 * model's geometry). iou_floor NAN forms every prompt's tokens. */
sam2_status predictor_decode_filtered(sam2_ctx *ctx, int B, int N, const float *points, const int *labels,
                                      const float *boxes, const float *mask_inputs, int multimask, float iou_floor,
                                      float *low_res, float *iou, float *obj_score);

#endif
