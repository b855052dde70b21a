#!/usr/bin/env python3
"""Writes low-contrast copies of a benchmark's colour and gray scenes.

    python3 scripts/lowc_variants.py ../shared/bench/shapes-dev OUT_DIR

Each scene's luminance is compressed around its mean so that its 1st-99th
percentile spread becomes 15-35 grey levels, Gaussian noise (sigma 1.5-4) is
added, and the result is saved as an 8-bit gray PNG with the scene's label
map. OUT_DIR/index.json lists them with variants "syn_color" / "syn_gray", so
`sam2 eval OUT_DIR` measures the low-contrast path on scenes other than the
ones its thresholds were chosen on. Fixed seed: the same files every run.
Needs python3-numpy and python3-pil.
"""
import json
import os
import shutil
import sys

import numpy as np
from PIL import Image


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    index = json.load(open(os.path.join(src, "index.json")))
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    os.makedirs(os.path.join(out, "labels"), exist_ok=True)
    rng = np.random.default_rng(7)
    scenes = []
    for e in index["images"]:
        if e["variant"] == "lowc":
            continue
        lum = np.asarray(Image.open(os.path.join(src, e["image"])).convert("L"), np.float32)
        lo, hi = np.percentile(lum, [1, 99])
        spread, sigma = rng.uniform(15, 35), rng.uniform(1.5, 4)
        mean = lum.mean()
        low = mean + (lum - mean) * spread / max(hi - lo, 1) + rng.normal(0, sigma, lum.shape)
        image = os.path.join("images", os.path.basename(e["image"]))
        labels = os.path.join("labels", os.path.basename(e["labels"]))
        Image.fromarray(np.clip(np.round(low), 0, 255).astype(np.uint8)).save(os.path.join(out, image))
        shutil.copyfile(os.path.join(src, e["labels"]), os.path.join(out, labels))
        scenes.append(dict(e, image=image, labels=labels, variant="syn_" + e["variant"]))
    index["images"] = scenes
    index["variants"] = {"syn_color": "colour scene made low-contrast gray with noise",
                         "syn_gray": "gray scene made low-contrast with noise"}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    print(f"{len(scenes)} low-contrast scenes in {out}")


if __name__ == "__main__":
    main()
