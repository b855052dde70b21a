/* demo_model.h - the demo model built into the CLI, so that every command
 * runs without a checkpoint file and the binary works wherever it is
 * copied. */
#ifndef SAM2_TOOLS_DEMO_MODEL_H
#define SAM2_TOOLS_DEMO_MODEL_H

#include "sam2.h"

/* The name the built-in model goes by in messages and `sam2 info`. */
#define DEMO_MODEL_NAME "built-in demo model (models/sam2-demo-shapes.pt)"

/* Loads the built-in checkpoint with its own YAML (config_path NULL: the
 * bytes live in the binary, nothing is read from disk) or with the YAML
 * file given, which then names the model in messages. SAM2_ERR_IO after a
 * printed message when that file cannot be read. */
sam2_status demo_model_load(const char *config_path, sam2_model **out);

#endif
