#!/usr/bin/env bash
# The main job: the automatic mask generator on the example images with the
# embedded default model. Results go to out/demo/ (rewritten on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
SAM2=build/sam2
OUT=out/demo
mkdir -p "$OUT"
"$SAM2" info
# The demo model's predicted IoUs sit around 0.6, so the official default
# thresholds (0.8 / 0.95) keep almost nothing: use a setting that suits it.
PARAMS=(--points-per-side 16 --pred-iou-thresh 0.5 --stability-score-thresh 0.8)
for img in examples/images/*.png; do
  name=$(basename "$img" .png)
  "$SAM2" auto "$img" "${PARAMS[@]}" --output-mode coco_rle -o "$OUT/$name" \
      --json "$OUT/$name.json" --overlay "$OUT/$name.overlay.png" \
      --label-map "$OUT/$name.labels.png" --overwrite
done
echo "results in $OUT/"
# Side by side: the setting above against a denser grid and one crop layer,
# on the colour example (one embedding shared by the sets without crops).
"$SAM2" compare examples/images/shapes_color.png --pred-iou-thresh 0.5 --stability-score-thresh 0.8 \
    --set points-per-side=16 --set points-per-side=32 --set points-per-side=8,crop-n-layers=1 \
    -o "$OUT/compare.png" --overwrite
echo "comparison grid in $OUT/compare.png"
# The official generator beside --robust (and --robust without its consensus
# step) where the official one struggles: the low-contrast example.
"$SAM2" compare examples/images/shapes_lowcontrast.png "${PARAMS[@]}" \
    --set robust=false --set robust=true --set robust=true,consensus=false \
    -o "$OUT/compare_robust.png" --overwrite
echo "official beside --robust in $OUT/compare_robust.png"
