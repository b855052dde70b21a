#!/usr/bin/env python3
"""Draws a synthetic benchmark in shapes-dev's format from its README's
description, for checking settings chosen on shapes-dev on scenes they were
not chosen on.

    python3 scripts/make_shapes.py OUT_DIR N_PER_VARIANT SEED

Writes OUT_DIR/images/ho_NNN.png, OUT_DIR/labels/ho_NNN.png (16-bit instance
labels, 0 = background, 1..N = the visible part of each object) and
OUT_DIR/index.json with N_PER_VARIANT scenes each of "color", "gray" and
"lowc", so that `sam2 eval OUT_DIR` scores them. Scenes: 192-400 px sides,
2-8 objects (ellipses, rectangles, rotated polygons, smooth blobs, thin bars)
with solid, gradient, stripe or noise fills on flat, gradient or smooth-noise
backgrounds, occluding each other, with some blur and pixel noise; object
areas follow shapes-dev's. Deterministic from SEED. Needs python3-numpy,
python3-scipy and python3-pil.
"""
import json
import os
import sys

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

VARIANTS = {
    "color": "RGB colour scene",
    "gray": "grayscale scene (single-channel PNG; use as 3 equal channels)",
    "lowc": "low-contrast grayscale scene (objects within a small intensity "
            "delta of the background, with noise; single-channel PNG)",
}

MIN_VISIBLE = 128          # drop / refuse objects whose visible part is smaller
AREA_LOG_MEDIAN = np.log(0.029)   # drawn (pre-occlusion) area / canvas area
AREA_LOG_SIGMA = 0.95
SHAPES = ["ellipse", "rect", "poly", "blob", "bar"]
SHAPE_P = [0.24, 0.22, 0.2, 0.22, 0.12]


# ----------------------------------------------------------------- helpers
def smooth_noise(rng, h, w, scale):
    """Zero-mean, unit-std low-frequency noise field with feature size ~scale px."""
    gh, gw = max(2, int(np.ceil(h / scale)) + 3), max(2, int(np.ceil(w / scale)) + 3)
    g = rng.standard_normal((gh, gw))
    up = ndi.zoom(g, (h / (gh - 3), w / (gw - 3)), order=3)[:h, :w]
    up = ndi.gaussian_filter(up, scale / 4.0)
    up -= up.mean()
    s = up.std()
    return up / s if s > 1e-9 else up


def linear_ramp(rng, h, w):
    """Ramp in [-0.5, 0.5] across the canvas along a random direction."""
    t = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = np.cos(t) * xx + np.sin(t) * yy
    r -= r.min()
    r /= max(r.max(), 1e-9)
    return r - 0.5


def rot_coords(h, w, cx, cy, ang):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = xx + 0.5 - cx, yy + 0.5 - cy
    c, s = np.cos(ang), np.sin(ang)
    return c * dx + s * dy, -s * dx + c * dy


def poly_mask(h, w, pts):
    """Even-odd rasterisation of a polygon at pixel centres (hard edges)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    xx += 0.5
    yy += 0.5
    inside = np.zeros((h, w), bool)
    n = len(pts)
    for i in range(n):
        x1, y1 = pts[i]
        x2, y2 = pts[(i + 1) % n]
        if y1 == y2:
            continue
        cond = (y1 > yy) != (y2 > yy)
        xint = (x2 - x1) * (yy - y1) / (y2 - y1) + x1
        inside ^= cond & (xx < xint)
    return inside


# ----------------------------------------------------------------- shapes
def make_mask(rng, h, w, kind):
    area = float(np.exp(rng.normal(AREA_LOG_MEDIAN, AREA_LOG_SIGMA))) * h * w
    area = float(np.clip(area, 150, 0.2 * h * w))
    # centre: mostly inside, sometimes cut by the border
    m = 0.06 if rng.random() < 0.75 else -0.02
    cx = rng.uniform(m * w, (1 - m) * w)
    cy = rng.uniform(m * h, (1 - m) * h)
    ang = rng.uniform(0, np.pi)
    if kind == "ellipse":
        asp = rng.uniform(1.0, 2.6)
        b = np.sqrt(area / (np.pi * asp))
        a = b * asp
        u, v = rot_coords(h, w, cx, cy, ang)
        return (u / a) ** 2 + (v / b) ** 2 <= 1.0
    if kind == "rect":
        asp = rng.uniform(1.0, 3.0)
        b = np.sqrt(area / asp)
        a = b * asp
        u, v = rot_coords(h, w, cx, cy, ang)
        return (np.abs(u) <= a / 2) & (np.abs(v) <= b / 2)
    if kind == "poly":
        nv = int(rng.integers(3, 8))
        # jittered, sorted vertex angles (avoids degenerate polygons)
        th = np.sort((np.arange(nv) + rng.uniform(-0.35, 0.35, nv)) * 2 * np.pi / nv)
        rad = rng.uniform(0.55, 1.0, nv)
        sx = rng.uniform(1.0, 2.2)
        px, py = rad * np.cos(th) * sx, rad * np.sin(th) / sx
        # area of the unit polygon -> scale
        a0 = 0.5 * abs(np.dot(px, np.roll(py, 1)) - np.dot(py, np.roll(px, 1)))
        k = np.sqrt(area / max(a0, 1e-3))
        c, s = np.cos(ang), np.sin(ang)
        pts = [(cx + k * (c * x - s * y), cy + k * (s * x + c * y)) for x, y in zip(px, py)]
        return poly_mask(h, w, pts)
    if kind == "blob":
        nk = int(rng.integers(2, 5))
        ks = rng.choice(np.arange(2, 6), nk, replace=False)
        amps = rng.uniform(0.06, 0.28, nk)
        phs = rng.uniform(0, 2 * np.pi, nk)
        tt = np.linspace(0, 2 * np.pi, 720, endpoint=False)
        rr = 1 + sum(a_ * np.cos(k_ * tt + p_) for a_, k_, p_ in zip(amps, ks, phs))
        rr = np.maximum(rr, 0.25)
        a0 = 0.5 * np.mean(rr ** 2) * 2 * np.pi
        R = np.sqrt(area / a0)
        u, v = rot_coords(h, w, cx, cy, ang)
        phi = np.mod(np.arctan2(v, u), 2 * np.pi)
        r_at = np.interp(phi, tt, rr, period=2 * np.pi)
        return np.hypot(u, v) <= R * r_at
    if kind == "bar":
        width = rng.uniform(2.5, 8.0)
        length = rng.uniform(0.25, 0.7) * min(h, w)
        u, v = rot_coords(h, w, cx, cy, ang)
        return (np.abs(u) <= length / 2) & (np.abs(v) <= width / 2)
    raise ValueError(kind)


# ----------------------------------------------------------------- fills
def fill_pattern(rng, h, w, mask, kind, amp):
    """Zero-mean-ish pattern (values in about [-amp, amp]) for an object."""
    ys, xs = np.nonzero(mask)
    if kind == "solid":
        return np.zeros((h, w))
    if kind == "gradient":
        t = rng.uniform(0, 2 * np.pi)
        r = np.cos(t) * np.arange(w)[None, :] + np.sin(t) * np.arange(h)[:, None]
        rv = r[ys, xs]
        lo, hi = rv.min(), rv.max()
        return ((r - lo) / max(hi - lo, 1e-6) - 0.5) * 2 * amp
    if kind == "stripe":
        t = rng.uniform(0, np.pi)
        period = rng.uniform(5, 16)
        r = np.cos(t) * np.arange(w)[None, :] + np.sin(t) * np.arange(h)[:, None]
        on = np.mod(r + rng.uniform(0, period), period) < period / 2
        return np.where(on, amp, -amp)
    if kind == "texture":
        return smooth_noise(rng, h, w, rng.uniform(3, 9)) * amp * 0.6
    raise ValueError(kind)


# ----------------------------------------------------------------- scene
def make_background(rng, h, w, variant):
    kind = rng.choice(["flat", "gradient", "noise"], p=[0.34, 0.38, 0.28])
    if variant == "color":
        c0 = rng.uniform(20, 235, 3)
        bg = np.broadcast_to(c0, (h, w, 3)).astype(np.float64).copy()
        if kind == "gradient":
            c1 = np.clip(c0 + rng.uniform(-70, 70, 3), 0, 255)
            bg += linear_ramp(rng, h, w)[..., None] * (c1 - c0)[None, None, :]
        elif kind == "noise":
            n = smooth_noise(rng, h, w, rng.uniform(25, 70))
            dirv = rng.uniform(-1, 1, 3)
            bg += n[..., None] * dirv[None, None, :] * rng.uniform(6, 18)
        return np.clip(bg, 0, 255)
    if variant == "gray":
        c0 = rng.uniform(30, 225)
        amp = rng.uniform(20, 60)
        nscale = rng.uniform(6, 16)
    else:  # lowc
        c0 = rng.uniform(45, 205)
        amp = rng.uniform(8, 22)
        nscale = rng.uniform(3, 7)
    bg = np.full((h, w), c0)
    if kind == "gradient":
        bg += linear_ramp(rng, h, w) * amp
    elif kind == "noise":
        bg += smooth_noise(rng, h, w, rng.uniform(20, 60)) * nscale
    return np.clip(bg, 0, 255)[..., None]


def make_object_values(rng, h, w, mask, bg, under_vals, variant):
    """Pixel values (h, w, C) for an object; None if contrast cannot be met."""
    fkind = rng.choice(["solid", "gradient", "stripe", "texture"], p=[0.4, 0.22, 0.18, 0.2])
    local = bg[mask].mean(axis=0)
    for _ in range(30):
        if variant == "color":
            base = rng.uniform(10, 245, 3)
            if np.linalg.norm(base - local) < 70:
                continue
            if any(np.linalg.norm(base - u) < 45 for u in under_vals):
                continue
            amp = {"solid": 0, "gradient": rng.uniform(12, 35), "stripe": rng.uniform(18, 45),
                   "texture": rng.uniform(12, 30)}[fkind]
            pat = fill_pattern(rng, h, w, mask, fkind, amp)
            tint = rng.uniform(0.6, 1.0, 3)
            vals = base[None, None, :] + pat[..., None] * tint[None, None, :]
            vals = np.clip(vals, 0, 255)
            return vals, vals[mask].mean(axis=0)
        if variant == "gray":
            amp = {"solid": 0, "gradient": rng.uniform(10, 30), "stripe": rng.uniform(18, 45),
                   "texture": rng.uniform(10, 25)}[fkind]
            delta = rng.uniform(30 + amp * 0.5, 170) * rng.choice([-1, 1])
            base = local[0] + delta
            if base < 5 or base > 250:
                continue
            if any(abs(base - u[0]) < 20 for u in under_vals):
                continue
        else:  # lowc
            delta = rng.uniform(5, 16) * rng.choice([-1, 1])
            base = local[0] + delta
            if base < 3 or base > 252:
                continue
            if any(abs(base - u[0]) < 4 for u in under_vals):
                continue
            amp = {"solid": 0, "gradient": rng.uniform(1.5, 4), "stripe": rng.uniform(2, 4.5),
                   "texture": rng.uniform(1.5, 3.5)}[fkind]
        pat = fill_pattern(rng, h, w, mask, fkind, amp)
        vals = np.clip(base + pat, 0, 255)[..., None]
        return vals, vals[mask].mean(axis=0)
    return None


def make_scene(rng, variant):
    if rng.random() < 0.27:
        h = w = int(rng.integers(192, 401))
    else:
        while True:
            h, w = (int(x) for x in rng.integers(192, 401, 2))
            if abs(h - w) >= 8:
                break
    bg = make_background(rng, h, w, variant)
    n_target = int(rng.integers(2, 9))
    labels = np.zeros((h, w), np.int32)
    img = bg.copy()
    obj_mean = []          # mean value of each accepted object
    n = 0
    tries = 0
    while n < n_target and tries < 200:
        tries += 1
        kind = rng.choice(SHAPES, p=SHAPE_P)
        mask = make_mask(rng, h, w, kind)
        if mask.sum() < MIN_VISIBLE:
            continue
        # objects with visible pixels under the new one
        under = np.unique(labels[mask])
        under = [int(u) for u in under if u > 0]
        new_labels = labels.copy()
        new_labels[mask] = n + 1
        counts = np.bincount(new_labels.ravel(), minlength=n + 2)
        if counts[1:n + 2].min() < MIN_VISIBLE:
            continue   # would hide an earlier object (or itself is tiny)
        res = make_object_values(rng, h, w, mask, bg, [obj_mean[u - 1] for u in under], variant)
        if res is None:
            continue
        vals, mean = res
        img[mask] = vals[mask]
        labels = new_labels
        obj_mean.append(mean)
        n += 1
    # blur, then pixel noise
    if rng.random() < 0.6:
        s = rng.uniform(0.5, 1.6)
        img = np.stack([ndi.gaussian_filter(img[..., c], s) for c in range(img.shape[2])], -1)
    if variant == "lowc":
        sig = rng.uniform(1.5, 5.0)
    else:
        sig = rng.uniform(1.0, 6.0) if rng.random() < 0.65 else 0.0
    if sig > 0:
        img = img + rng.normal(0, sig, img.shape)
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if variant != "color":
        img = img[..., 0]
    return img, labels


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    out, nper, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    os.makedirs(os.path.join(out, "labels"), exist_ok=True)
    ss = np.random.SeedSequence(seed)
    order_rng = np.random.default_rng(ss.spawn(1)[0])
    variants = [v for v in VARIANTS for _ in range(nper)]
    order_rng.shuffle(variants)
    scene_seeds = ss.spawn(len(variants))
    ndig = max(3, len(str(len(variants) - 1)))
    entries = []
    for i, (variant, sseed) in enumerate(zip(variants, scene_seeds)):
        rng = np.random.default_rng(sseed)
        img, labels = make_scene(rng, variant)
        ids = [int(x) for x in np.unique(labels) if x > 0]
        assert ids == list(range(1, len(ids) + 1))
        sid = "ho_%0*d" % (ndig, i)
        Image.fromarray(img, "RGB" if img.ndim == 3 else "L").save(
            os.path.join(out, "images", sid + ".png"))
        Image.fromarray(labels.astype(np.uint16)).save(os.path.join(out, "labels", sid + ".png"))
        entries.append({"id": sid, "image": "images/%s.png" % sid, "labels": "labels/%s.png" % sid,
                        "variant": variant, "height": int(img.shape[0]), "width": int(img.shape[1]),
                        "n_objects": len(ids), "object_ids": ids})
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"variants": VARIANTS, "images": entries}, f, indent=1)


if __name__ == "__main__":
    main()
