/* demo_model.h - the demo model built into the CLI, so that every command
 * runs without a checkpoint file and the binary works wherever it is
 * copied. */
#ifndef SAM2_TOOLS_DEMO_MODEL_H
#define SAM2_TOOLS_DEMO_MODEL_H

#include "sam2.h"

/* The name the built-in model goes by in messages and `sam2 info`. */
#define DEMO_MODEL_NAME "built-in demo model (models/sam2-demo-shapes.pt)"

/* Loads the built-in checkpoint with its own YAML (yaml_text NULL: the
 * bytes live in the binary, nothing is read from disk) or with the YAML
 * text given, which name then labels in messages and in the model info. */
sam2_status demo_model_load(const char *yaml_text, const char *name, sam2_model **out);

#endif
