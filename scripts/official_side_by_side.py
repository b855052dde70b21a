#!/usr/bin/env python3
"""Run the official SAM 2 automatic mask generator and sam2c's on the same
image, checkpoint, parameters and thread count, one after the other, and
print both times, their ratio and how many masks agree.

    python3 scripts/official_side_by_side.py --official-src DIR \
        --checkpoint CKPT.pt --config sam2.1_hiera_t.yaml --image IMG.png \
        [--sam2 build/sam2] [--threads 2] [--repeat 2] [-- AMG flags]

DIR is a checkout of the official repository (the folder that holds the
`sam2` package). Needs PyTorch, torchvision, PyYAML, Pillow and numpy; on
Debian `apt-get install python3-torch python3-torchvision python3-yaml
python3-pil python3-numpy`. Debian's PyTorch (1.13) lacks a few things the
official code imports; the shims below stand in for them without changing
any arithmetic of the model:
  - hydra and iopath: empty modules (imported at package load; the model is
    built here straight from the YAML's `_target_` entries instead);
  - F.scaled_dot_product_attention (PyTorch >= 2): softmax(q k^T / sqrt(d)) v;
  - torchvision's Resize on tensors: antialias on, as in torchvision >= 0.17;
  - SAM2ImagePredictor's feature sizes, hard-coded for 1024 input, derived
    from the model's image size (the same at 1024).
A checkpoint written by `sam2 bench --random-weights --write-checkpoint`
lets the official geometries be timed without downloading weights.
AMG flags after `--` use this project's spelling (--points-per-side 32 ...)
and go to both sides.
"""
import argparse
import importlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import types


def common_args(doc):
    """The arguments this script shares with official_parity.py."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official-src", required=True, help="folder holding the official `sam2` package")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--config", required=True, help="official YAML (a path, or a name under sam2/configs)")
    ap.add_argument("--image", required=True)
    ap.add_argument("--sam2", default="build/sam2", help="this project's CLI")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the figures here")
    return ap


def parse_args():
    ap = common_args(__doc__)
    ap.add_argument("--repeat", type=int, default=1, help="alternating runs of each side")
    ap.add_argument("amg", nargs=argparse.REMAINDER, help="-- then AMG flags for both sides")
    a = ap.parse_args()
    if a.amg and a.amg[0] == "--":
        a.amg = a.amg[1:]
    return a


def amg_params(flags):
    """--kebab-case VALUE pairs as official keyword arguments."""
    if len(flags) % 2:
        sys.exit("AMG flags come in pairs: --name VALUE")
    out = {}
    for name, value in zip(flags[::2], flags[1::2]):
        if not name.startswith("--"):
            sys.exit(f"not an AMG flag: {name}")
        key = name[2:].replace("-", "_")
        if key == "point_grids":
            sys.exit("--point-grids is not supported here")
        if value.lower() in ("true", "false"):
            out[key] = value.lower() == "true"
        elif re.fullmatch(r"-?\d+", value):
            out[key] = int(value)
        else:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return out


def install_shims():
    """Stand-ins for what Debian's PyTorch 1.13 stack lacks (see above)."""
    for name in ("hydra", "hydra.core", "hydra.core.global_hydra", "hydra.utils", "iopath", "iopath.common",
                 "iopath.common.file_io"):
        sys.modules.setdefault(name, types.ModuleType(name))

    class _GlobalHydra:
        @staticmethod
        def instance():
            return types.SimpleNamespace(is_initialized=lambda: True)

    sys.modules["hydra"].initialize_config_module = lambda *a, **k: None
    sys.modules["hydra"].compose = None
    sys.modules["hydra.core.global_hydra"].GlobalHydra = _GlobalHydra
    sys.modules["hydra.utils"].instantiate = None
    sys.modules["iopath.common.file_io"].g_pathmgr = None

    import torch
    import torch.nn.functional as F
    import torchvision.transforms as T

    if not hasattr(F, "scaled_dot_product_attention"):
        def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False):
            if attn_mask is not None or is_causal or dropout_p:
                raise NotImplementedError("shim: plain attention only")
            w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
            return w @ v
        F.scaled_dot_product_attention = sdpa

    class ResizeAntialias(T.Resize):
        def __init__(self, size, *args, **kwargs):
            kwargs["antialias"] = True
            super().__init__(size, *args, **kwargs)

    T.Resize = ResizeAntialias


def derive_feature_sizes():
    """SAM2ImagePredictor hard-codes the feature sizes of 1024 input."""
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    plain_init = SAM2ImagePredictor.__init__

    def init(self, sam_model, *args, **kwargs):
        plain_init(self, sam_model, *args, **kwargs)
        s = sam_model.image_size
        self._bb_feat_sizes = [(s // 4, s // 4), (s // 8, s // 8), (s // 16, s // 16)]

    SAM2ImagePredictor.__init__ = init


def instantiate(node):
    """A YAML node with `_target_` entries as the objects they name."""
    if isinstance(node, dict):
        kwargs = {k: instantiate(v) for k, v in node.items() if k != "_target_"}
        if "_target_" not in node:
            return kwargs
        module, _, cls = node["_target_"].rpartition(".")
        return getattr(importlib.import_module(module), cls)(**kwargs)
    if isinstance(node, list):
        return [instantiate(v) for v in node]
    if isinstance(node, str) and re.fullmatch(r"[-+]?\d+(\.\d*)?[eE][-+]?\d+", node):
        return float(node)  # YAML 1.1 reads 1e-6 as a string, OmegaConf as a number
    return node


def build_official(src, config, checkpoint):
    import torch
    import yaml

    sys.path.insert(0, os.path.abspath(src))
    path = config if os.path.exists(config) else os.path.join(src, "sam2", "configs", config)
    with open(path) as f:
        cfg = yaml.safe_load(f)["model"]
    # the overrides the official build_sam2 adds for image use
    extra = cfg.setdefault("sam_mask_decoder_extra_args", {}) or {}
    extra.update(dynamic_multimask_via_stability=True, dynamic_multimask_stability_delta=0.05,
                 dynamic_multimask_stability_thresh=0.98)
    cfg["sam_mask_decoder_extra_args"] = extra
    model = instantiate(cfg)
    sd = torch.load(checkpoint, map_location="cpu")["model"]
    try:
        missing, unexpected = model.load_state_dict(sd, strict=False)
    except RuntimeError as e:  # shapes that do not fit
        lines = str(e).splitlines()
        sys.exit(f"checkpoint does not fit the config {path}: {lines[1].strip() if len(lines) > 1 else e}")
    video_only = ("memory_attention.", "memory_encoder.", "maskmem_tpos_enc", "no_mem_pos_enc", "no_mem_embed",
                  "no_obj_ptr", "obj_ptr_proj.", "obj_ptr_tpos_proj.", "mask_downsample.", "no_obj_embed_spatial")
    missing = [k for k in missing if not k.startswith(video_only)]
    if missing or unexpected:
        sys.exit(f"checkpoint does not fit the config: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval()


def load_rgb(image_path):
    import numpy as np
    from PIL import Image
    return np.array(Image.open(image_path).convert("RGB"))


def encoder_official(model, image_path):
    import torch
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    image = load_rgb(image_path)
    predictor = SAM2ImagePredictor(model)
    t0 = time.perf_counter()
    with torch.inference_mode():
        predictor.set_image(image)
    return time.perf_counter() - t0


def model_args(checkpoint, config):
    """Our CLI infers an official preset from the checkpoint; a YAML file is passed on."""
    return ["-m", checkpoint] + (["-c", config] if os.path.exists(config) else [])


def encoder_ours(exe, model, image_path, threads, outdir):
    cmd = [exe, "embed"] + model + ["-t", str(threads), image_path, "-o", os.path.join(outdir, "x.emb"),
                                    "--overwrite"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"image encoder ([0-9.]+) s", r.stderr)
    if r.returncode or not m:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return float(m.group(1))


def run_official(model, image_path, params):
    import torch
    from sam2.automatic_mask_generator import SAM2AutomaticMaskGenerator

    image = load_rgb(image_path)
    gen = SAM2AutomaticMaskGenerator(model, **params)
    t0 = time.perf_counter()  # generate() runs the encoder too
    with torch.inference_mode():
        masks = gen.generate(image)
    return time.perf_counter() - t0, masks


def run_ours(exe, model, image_path, flags, threads, outdir):
    cmd = [exe, "auto"] + model + ["-t", str(threads), image_path, "--output-mode", "uncompressed_rle",
           "--json", os.path.join(outdir, "masks.json"), "-o", outdir, "--overwrite"] + flags
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    # the CLI's own figure covers what generate() does: encoder and AMG,
    # not loading the checkpoint or writing files
    m = re.search(r"masks in ([0-9.]+) s", r.stderr)
    if not m:
        sys.exit(f"no time in the CLI's report:\n{r.stderr}")
    with open(os.path.join(outdir, "masks.json")) as f:
        return float(m.group(1)), json.load(f)["masks"]


def rle_decode(counts, h, w):
    import numpy as np
    runs = np.asarray(counts, dtype=np.int64)
    flat = np.repeat(np.arange(len(runs)) % 2 == 1, runs)  # runs alternate, starting with zeros
    return flat.reshape(w, h).T  # column-major, as the official RLE


def mask_of(record):
    import numpy as np
    seg = record["segmentation"]
    if isinstance(seg, dict):
        h, w = seg["size"]
        return rle_decode(seg["counts"], h, w)
    return np.asarray(seg, dtype=bool)


def agreement(ours, theirs, window=4):
    """Masks matched one to one by IoU >= 0.99: in the same place of the
    list, and allowing a mask to sit up to `window` places away (masks with
    nearly equal predicted IoUs can swap places when their last bits
    differ)."""
    def iou(a, b):
        ma, mb = mask_of(a), mask_of(b)
        union = (ma | mb).sum()
        return 1.0 if union == 0 else (ma & mb).sum() / union

    n = min(len(ours), len(theirs))
    in_place = [iou(ours[i], theirs[i]) >= 0.99 for i in range(n)]
    taken = set(i for i in range(n) if in_place[i])
    nearby = sum(in_place)
    for i in range(n):
        if in_place[i]:
            continue
        for j in range(max(0, i - window), min(len(theirs), i + window + 1)):
            if j not in taken and iou(ours[i], theirs[j]) >= 0.99:
                taken.add(j)
                nearby += 1
                break
    return sum(in_place), nearby


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def main():
    a = parse_args()
    if not os.path.isfile(os.path.join(a.official_src, "sam2", "automatic_mask_generator.py")):
        sys.exit(f"{a.official_src}: not a checkout of the official repository (no sam2/automatic_mask_generator.py)")
    for f in (a.checkpoint, a.image, a.sam2):
        if not os.path.isfile(f):
            sys.exit(f"{f}: no such file")
    params = amg_params(a.amg)
    params["output_mode"] = "uncompressed_rle"
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    install_shims()
    import torch
    torch.set_num_threads(a.threads)
    model = build_official(a.official_src, a.config, a.checkpoint)
    derive_feature_sizes()
    official_t, ours_t, official_enc, ours_enc = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.repeat):
            official_enc.append(encoder_official(model, a.image))
            ours_enc.append(encoder_ours(a.sam2, model_args(a.checkpoint, a.config), a.image, a.threads, tmp))
            t, theirs = run_official(model, a.image, params)
            official_t.append(t)
            t, ours = run_ours(a.sam2, model_args(a.checkpoint, a.config), a.image, a.amg, a.threads, tmp)
            ours_t.append(t)
    same, near = agreement(ours, theirs)
    fig = {
        "image": a.image, "checkpoint": a.checkpoint, "threads": a.threads, "params": params,
        "torch": torch.__version__, "official_s": official_t, "sam2c_s": ours_t,
        "official_encoder_s": official_enc, "sam2c_encoder_s": ours_enc,
        "speedup_median": median(official_t) / median(ours_t),
        "encoder_speedup_median": median(official_enc) / median(ours_enc),
        "masks_official": len(theirs), "masks_sam2c": len(ours),
        "masks_same_in_place": int(same), "masks_same_nearby": int(near),
    }
    print(f"official encoder: {' '.join(f'{t:.2f}' for t in official_enc)} s; sam2c encoder: "
          f"{' '.join(f'{t:.2f}' for t in ours_enc)} s; speed-up (medians) {fig['encoder_speedup_median']:.1f}x")
    print(f"official AMG: {' '.join(f'{t:.2f}' for t in official_t)} s (PyTorch {torch.__version__}, "
          f"{a.threads} threads)")
    print(f"sam2c AMG:    {' '.join(f'{t:.2f}' for t in ours_t)} s (encoder and AMG, as generate())")
    print(f"AMG speed-up (medians): {fig['speedup_median']:.1f}x")
    print(f"masks: official {len(theirs)}, sam2c {len(ours)}; the same (IoU >= 0.99) in the same place {same}, "
          f"within 4 places {near}")
    if a.json:
        with open(a.json, "x") as f:
            json.dump(fig, f, indent=1)
    return 0 if len(theirs) == len(ours) == near else 1


if __name__ == "__main__":
    sys.exit(main())
