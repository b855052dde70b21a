/* ckpt_writer.h - writes checkpoints in the official torch.save layout
 * ({"model": state_dict} pickled, raw storages in a zip), for tests and
 * benchmarks of official geometries without downloading anything. */
#ifndef SAM2_CKPT_WRITER_H
#define SAM2_CKPT_WRITER_H

#include "sam2.h"

/* Writes a random-weight checkpoint of a built-in preset: every image-path
 * tensor, plus a few video-only ones (and no_obj_embed_spatial for SAM 2.1
 * presets), as float32 or (fp16 = 1) float16 storages. */
sam2_status ckpt_write_preset(const char *path, const char *preset, int fp16, uint64_t seed);

#endif
