#!/usr/bin/env python3
"""The low-contrast targets of `--robust`, checked on `sam2 eval` runs.

    python3 bench/quality_targets.py [--json OUT] NAME=PREFIX...

Each PREFIX names three `sam2 eval --json` files of one benchmark:
PREFIX.strict.json (pred_iou_thresh 0.5, stability_score_thresh 0.8),
PREFIX.loose.json (0.1, 0) and PREFIX.robust.json (strict + --robust), all
with points_per_side 16. Prints per set a table of the three settings per
variant and one line per target:

- low-contrast variants ("lowc", and the "syn_*" scenes of
  scripts/lowc_variants.py): recall at IoU 0.75 at least 0.05 above the better
  official setting; split rate at most half the loose setting's; uncovered
  object pixels at most half the strict setting's;
- other variants (colour, gray): recall at 0.75 not below the better official
  setting by more than 0.01;
- every variant: at most 1.5 masks per object (masks per image at most 1.5x
  the objects per image).

Where the runs give each image's noise_sigma (sam2 eval's pixel-noise
estimate), each low-contrast variant's recall at 0.75 is also shown per noise
band (below 2.5, 2.5-3.5, 3.5 and above, grey levels): on those scenes it is
where recall is lost. Where they give each object's contrast (object_contrast:
its median luminance against that of the pixels within 4 px around it) and
best mask IoU, it is shown per contrast band of the objects too (below 5,
5-16, 16 and above grey levels; shapes-dev's low-contrast objects are "within
about 5-16 grey levels of the background").

--json OUT writes the figures and verdicts. Exits 0 whether targets are met
or not: this is a measurement, not a test.
"""
import json
import sys

NOISE_BANDS = ((0.0, 2.5, "below 2.5"), (2.5, 3.5, "2.5-3.5"), (3.5, float("inf"), "3.5 and above"))
CONTRAST_BANDS = ((0.0, 5.0, "below 5"), (5.0, 16.0, "5-16"), (16.0, float("inf"), "16 and above"))
LOWC_GAIN, OTHER_SLACK, SPLIT_SHARE, UNCOVERED_SHARE, MASKS_PER_OBJECT = 0.05, 0.01, 0.5, 0.5, 1.5
SETTINGS = ("strict", "loose", "robust")
COLUMNS = (("recall@0.5", "recall50", "%.3f"), ("recall@0.75", "recall75", "%.3f"),
           ("masks/object", "masks_per_object", "%.2f"), ("uncovered", "uncovered_object_pixels", "%.3f"),
           ("split", "split_rate", "%.3f"), ("s/image", "seconds_per_image", "%.2f"))


def is_low_contrast(variant):
    return variant == "lowc" or variant.startswith("syn_")


def check(name, ok, have, need):
    return {"target": name, "met": bool(ok), "value": have, "bound": need}


def targets(variant, runs):
    s, lo, r = (runs[k] for k in SETTINGS)
    best = max(s["recall75"], lo["recall75"])
    out = []
    if is_low_contrast(variant):
        out.append(check("recall@0.75 >= better official + %.2f" % LOWC_GAIN, r["recall75"] >= best + LOWC_GAIN - 1e-9,
                         r["recall75"], best + LOWC_GAIN))
        out.append(check("split <= %.1f x loose" % SPLIT_SHARE, r["split_rate"] <= SPLIT_SHARE * lo["split_rate"] + 1e-9,
                         r["split_rate"], SPLIT_SHARE * lo["split_rate"]))
        out.append(check("uncovered <= %.1f x strict" % UNCOVERED_SHARE,
                         r["uncovered_object_pixels"] <= UNCOVERED_SHARE * s["uncovered_object_pixels"] + 1e-9,
                         r["uncovered_object_pixels"], UNCOVERED_SHARE * s["uncovered_object_pixels"]))
    else:
        out.append(check("recall@0.75 >= better official - %.2f" % OTHER_SLACK, r["recall75"] >= best - OTHER_SLACK - 1e-9,
                         r["recall75"], best - OTHER_SLACK))
    out.append(check("masks/object <= %.1f" % MASKS_PER_OBJECT, r["masks_per_object"] <= MASKS_PER_OBJECT + 1e-9,
                     r["masks_per_object"], MASKS_PER_OBJECT))
    return out


def load(prefix):
    """The variants' rows and the per-image records of the three runs."""
    runs, images = {}, {}
    for k in SETTINGS:
        path = "%s.%s.json" % (prefix, k)
        try:
            j = json.load(open(path))
            runs[k], images[k] = j["variants"], j.get("images", [])
        except (OSError, ValueError, KeyError, AttributeError) as e:
            sys.exit("quality_targets: cannot read the variants of %s: %s" % (path, e))
    return runs, images


def same_scenes(variant, images, keys):
    """The variant's per-image records of each setting by id, and their ids;
    None when the runs cover other images or a record lacks one of keys."""
    rows = {k: {i["id"]: i for i in images[k] if i.get("variant") == variant} for k in SETTINGS}
    ids = sorted(rows["strict"])
    if not ids or any(sorted(rows[k]) != ids for k in SETTINGS):
        return None
    if any(key not in rows[k][i] for k in SETTINGS for i in ids for key in keys):
        return None
    return rows, ids


def by_noise(variant, images):
    """Recall at 0.75 of each setting per noise band of the variant's scenes
    (the strict run's noise figures: the image is the same in every run);
    None when a run lacks the figures or the runs cover other images."""
    scenes = same_scenes(variant, images, ("noise_sigma",))
    if not scenes:
        return None
    rows, ids = scenes
    out = []
    for lo, hi, label in NOISE_BANDS:
        band = [i for i in ids if lo <= rows["strict"][i]["noise_sigma"] < hi]
        objects = sum(rows["strict"][i]["objects"] for i in band)
        recall = {k: (sum(rows[k][i]["found75"] for i in band) / objects if objects else None) for k in SETTINGS}
        out.append({"band": label, "noise_from": lo, "noise_to": hi if hi != float("inf") else None,
                    "scenes": len(band), "objects": objects, "recall75": recall})
    return out


def by_contrast(variant, images):
    """Recall at 0.75 of each setting per contrast band of the variant's
    objects (the strict run's contrast figures); None when a run lacks the
    per-object figures or the runs cover other images."""
    scenes = same_scenes(variant, images, ("object_contrast", "object_best_iou"))
    if not scenes:
        return None
    rows, ids = scenes
    out = []
    for lo, hi, label in CONTRAST_BANDS:
        objects, found = 0, dict.fromkeys(SETTINGS, 0)
        for i in ids:
            for o, c in enumerate(rows["strict"][i]["object_contrast"]):
                if lo <= c < hi:
                    objects += 1
                    for k in SETTINGS:
                        found[k] += rows[k][i]["object_best_iou"][o] >= 0.75
        recall = {k: (found[k] / objects if objects else None) for k in SETTINGS}
        out.append({"band": label, "contrast_from": lo, "contrast_to": hi if hi != float("inf") else None,
                    "objects": objects, "found75": found, "recall75": recall})
    return out


def print_bands(title, heads, bands, lead):
    """A table of recall at 0.75 per band and setting; lead(b): a band's
    first cells."""
    print("\n%s:\n" % title)
    print("| " + " | ".join(list(heads) + list(SETTINGS)) + " |")
    print("|---" * (len(heads) + len(SETTINGS)) + "|")
    for b in bands:
        cells = ["-" if b["recall75"][k] is None else "%.3f" % b["recall75"][k] for k in SETTINGS]
        print("| %s |" % " | ".join(lead(b) + cells))


def main(argv):
    out_json = None
    if len(argv) >= 2 and argv[0] == "--json":
        out_json, argv = argv[1], argv[2:]
    if not argv or any("=" not in a for a in argv):
        sys.exit(__doc__)
    report, met, total = {}, 0, 0
    for arg in argv:
        name, prefix = arg.split("=", 1)
        runs, images = load(prefix)
        variants = [v for v in runs["robust"] if v != "all" and all(v in runs[k] for k in SETTINGS)]
        print("\n## %s\n" % name)
        print("| variant | setting | " + " | ".join(c[0] for c in COLUMNS) + " |")
        print("|---" * (len(COLUMNS) + 2) + "|")
        report[name] = {}
        for v in variants:
            for k in SETTINGS:
                row = runs[k][v]
                print("| %s | %s | %s |" % (v, k, " | ".join(fmt % row[key] for _, key, fmt in COLUMNS)))
        print()
        for v in variants:
            verdicts = targets(v, {k: runs[k][v] for k in SETTINGS})
            report[name][v] = {"figures": {k: runs[k][v] for k in SETTINGS}, "targets": verdicts}
            for t in verdicts:
                met, total = met + t["met"], total + 1
                print("%s %s: %s (%.3f, bound %.3f)" % (v, t["target"], "met" if t["met"] else "NOT MET", t["value"],
                                                        t["bound"]))
        for v in variants:
            bands = by_noise(v, images) if is_low_contrast(v) else None
            if bands:
                report[name][v]["by_noise"] = bands
                print_bands("%s, recall@0.75 by the scenes' pixel-noise sigma" % v, ("noise sigma", "scenes", "objects"),
                            bands, lambda b: [b["band"], str(b["scenes"]), str(b["objects"])])
            bands = by_contrast(v, images) if is_low_contrast(v) else None
            if bands:
                report[name][v]["by_contrast"] = bands
                print_bands("%s, recall@0.75 by the objects' contrast (grey levels)" % v, ("contrast", "objects"), bands,
                            lambda b: [b["band"], str(b["objects"])])
    print("\ntargets met: %d of %d" % (met, total))
    if out_json:
        with open(out_json, "w") as f:
            json.dump({"sets": report, "met": met, "total": total}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
