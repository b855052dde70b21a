#!/usr/bin/env python3
"""Compare sam2c with the official SAM 2 code tensor by tensor on one
checkpoint and image: the image embedding and high-resolution features of
the encoder, then the predictor's low-resolution logits and predicted IoUs
for a set of prompts (points, background points, a box, box + point, one
mask, a mask input). Prints the largest absolute and relative difference of
each and exits non-zero when one exceeds its tolerance.

    python3 scripts/official_parity.py --official-src DIR \
        --checkpoint CKPT.pt --config sam2.1_hiera_b+.yaml --image IMG \
        [--sam2 build/sam2] [--threads 2] [--json FILE]

Checkpoints of every official geometry can be made without downloading
weights: `sam2 bench --random-weights --preset NAME --write-checkpoint F`
(add --fp16 for half-precision weights). Needs the same Python packages
and shims as scripts/official_side_by_side.py, whose helpers it uses.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import official_side_by_side as sbs  # noqa: E402

# Relative to the largest magnitude of the official tensor: float32 with a
# different order of sums, through up to 48 transformer blocks.
TOL_FEATURES = 1e-4
TOL_LOGITS = 1e-4
TOL_IOU = 1e-4


def parse_args():
    return sbs.common_args(__doc__).parse_args()


def prompts(w, h):
    """(name, CLI flags, official predict() keyword arguments); 'mask' uses
    the previous prompt's best low-resolution mask as mask input."""
    import numpy as np
    px, py = 0.37 * w, 0.58 * h
    qx, qy = 0.71 * w, 0.30 * h
    box = [0.20 * w, 0.25 * h, 0.65 * w, 0.80 * h]
    pt = lambda x, y, label=1: f"{x:.2f},{y:.2f},{label}"  # noqa: E731
    return [
        ("point", ["--point", pt(px, py)],
         dict(point_coords=np.array([[px, py]]), point_labels=np.array([1]), multimask_output=True)),
        ("point+background", ["--point", pt(px, py), "--point", pt(qx, qy, 0)],
         dict(point_coords=np.array([[px, py], [qx, qy]]), point_labels=np.array([1, 0]), multimask_output=True)),
        ("box", ["--box", ",".join(f"{v:.2f}" for v in box), "--multimask", "false"],
         dict(box=np.array(box), multimask_output=False)),
        ("box+point", ["--box", ",".join(f"{v:.2f}" for v in box), "--point", pt(px, py)],
         dict(point_coords=np.array([[px, py]]), point_labels=np.array([1]), box=np.array(box),
              multimask_output=True)),
        ("point, one mask", ["--point", pt(qx, qy), "--multimask", "false"],
         dict(point_coords=np.array([[qx, qy]]), point_labels=np.array([1]), multimask_output=False)),
        ("point+mask input", ["--point", pt(px, py)],
         dict(point_coords=np.array([[px, py]]), point_labels=np.array([1]), multimask_output=True)),
    ]


def rel_err(ours, theirs):
    import numpy as np
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        sys.exit(f"shapes differ: sam2c {ours.shape}, official {theirs.shape}")
    if not np.isfinite(ours).all():
        return float("inf"), float("inf")
    diff = np.abs(ours - theirs).max()
    scale = max(np.abs(theirs).max(), 1e-12)
    return float(diff), float(diff / scale)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")


def main():
    a = parse_args()
    for f in (a.checkpoint, a.image, a.sam2):
        if not os.path.isfile(f):
            sys.exit(f"{f}: no such file")
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    sbs.install_shims()
    import numpy as np
    import torch
    torch.set_num_threads(a.threads)
    model = sbs.build_official(a.official_src, a.config, a.checkpoint)
    sbs.derive_feature_sizes()
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    image = sbs.load_rgb(a.image)
    h, w = image.shape[:2]
    predictor = SAM2ImagePredictor(model)
    with torch.inference_mode():
        predictor.set_image(image)
    feats = predictor._features
    rows, ok = [], True

    def report(name, ours, theirs, tol):
        nonlocal ok
        d, r = rel_err(ours, theirs)
        good = r <= tol
        ok &= good
        rows.append(dict(name=name, max_abs=d, max_rel=r, tol=tol, ok=bool(good)))
        print(f"{name:40s} max |diff| {d:.3g}  relative {r:.3g}  {'ok' if good else 'FAIL'}")

    mdl = sbs.model_args(a.checkpoint, a.config)
    with tempfile.TemporaryDirectory() as tmp:
        emb = os.path.join(tmp, "x.emb")
        run([a.sam2, "embed"] + mdl + ["-t", str(a.threads), a.image, "-o", emb, "--dump-npy", tmp])
        report("image_embed", np.load(os.path.join(tmp, "image_embed.npy")), feats["image_embed"].numpy(),
               TOL_FEATURES)
        for i in range(2):
            path = os.path.join(tmp, f"high_res_feats_{i}.npy")
            if os.path.exists(path):  # not made when the decoder does not use them
                report(f"high_res_feats_{i}", np.load(path), feats["high_res_feats"][i].numpy(), TOL_FEATURES)
        last_logits = None
        for k, (name, flags, kw) in enumerate(prompts(w, h)):
            out = os.path.join(tmp, f"p{k}")
            if name.endswith("mask input"):
                best = int(np.argmax(np.load(os.path.join(tmp, "p0", "iou_predictions.npy"))[0]))
                flags = flags + ["--mask-input", f"{os.path.join(tmp, 'p0', 'low_res_masks.npy')}:{best}"]
                kw = dict(kw, mask_input=last_logits[best][None])
            run([a.sam2, "predict"] + mdl + ["-t", str(a.threads), emb, "-o", os.path.join(out, "png"),
                                             "--dump-npy", out] + flags)
            with torch.inference_mode():
                _, iou, low = predictor.predict(**kw, return_logits=True)
            if k == 0:
                last_logits = low
            report(f"{name}: low-res logits", np.load(os.path.join(out, "low_res_masks.npy"))[0], low, TOL_LOGITS)
            report(f"{name}: predicted IoU", np.load(os.path.join(out, "iou_predictions.npy"))[0], iou, TOL_IOU)
    if a.json:
        with open(a.json, "x") as f:
            json.dump(dict(checkpoint=a.checkpoint, config=a.config, image=a.image, torch=torch.__version__,
                           rows=rows), f, indent=1)
    print("all within tolerance" if ok else "some differences exceed their tolerance")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
