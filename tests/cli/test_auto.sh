#!/usr/bin/env bash
# sam2 auto end to end: every output mode, the JSON document, parameters from
# flags and from --params, overlays / label maps / COCO files, and bad input.
. "$(dirname "$0")/lib.sh"
IMG="$SRC/examples/images/shapes_color.png"
P=(--points-per-side 8 --pred-iou-thresh 0.5 --stability-score-thresh 0.8)

expect_ok "auto rle" "$SAM2" auto "$IMG" "${P[@]}" --output-mode uncompressed_rle --json "$TMP/a.json" -o "$TMP/a"
expect_eq "params echoed" "$(json_get "$TMP/a.json" "j['params']['points_per_side']")" 8
expect_eq "sixteen params" "$(json_get "$TMP/a.json" "len(j['params'])")" 16
expect_eq "record keys" "$(json_get "$TMP/a.json" "sorted(j['masks'][0].keys())")" \
  "['area', 'bbox', 'crop_box', 'point_coords', 'predicted_iou', 'segmentation', 'stability_score']"
# the RLE covers the image and its ones add up to the area
expect_eq "rle consistent" "$(json_get "$TMP/a.json" "all(sum(m['segmentation']['counts'])==j['image']['width']*j['image']['height'] and sum(m['segmentation']['counts'][1::2])==m['area'] for m in j['masks'])")" True
n=$(json_get "$TMP/a.json" "len(j['masks'])")
[ "$n" -ge 1 ] && ok || bad "no masks on the example image"

# the filter counts: each a subset of the one before, the last the masks written
expect_eq "filter chain" "$(json_get "$TMP/a.json" "(lambda f: [f['clicks'], f['candidates']] == [64, 192] and f['candidates'] >= f['above_pred_iou'] >= f['above_stability'] >= f['off_crop_edge'] >= f['after_box_nms'] >= f['after_crop_nms'] == len(j['masks']) and f['max_pred_iou'] > 0.5)(j['filters'])")" True
grep -q "^filters: 64 clicks -> 192 candidates -> " "$TMP/err" && ok || bad "no filters line: $(cat "$TMP/err")"
grep -q "warning" "$TMP/err" && bad "a warning on an 8 x 8 grid: $(cat "$TMP/err")" || ok
grep -q "clicks decoded" "$TMP/err" && bad "progress without a terminal or --progress: $(cat "$TMP/err")" || ok
# --progress on: the clicks decoded after each batch, a line per tenth when stderr is no terminal
expect_ok "progress on" "$SAM2" auto "$IMG" "${P[@]}" --crop-n-layers 1 --progress on --json "$TMP/pg.json" -o "$TMP/pg"
expect_eq "progress lines" "$(grep -c "^sam2 auto: [0-9]* of 320 clicks decoded" "$TMP/err")" 5
grep -q "^sam2 auto: 320 of 320 clicks decoded (100%)$" "$TMP/err" && ok || bad "no final progress line: $(cat "$TMP/err")"
expect_fail "progress value" "--progress takes auto, on or off" "$SAM2" auto "$IMG" --progress maybe
# grids and crop layers far beyond the defaults are named before the run (the image here is missing)
expect_fail "large grid warns" "warning: 40000 clicks to decode per image, 39 times the default 32 x 32 grid's 1024" \
  "$SAM2" auto "$TMP/missing.png" --points-per-side 200
expect_fail "three crop layers warn" "warning: crop_n_layers 3 means 85 crops per image" \
  "$SAM2" auto "$TMP/missing.png" --points-per-side 8 --crop-n-layers 3
expect_fail "16 times the default clicks: no warning" "missing.png" "$SAM2" auto "$TMP/missing.png" --points-per-side 128
grep -q "warning" "$TMP/err" && bad "warning at 16384 clicks: $(cat "$TMP/err")" || ok
# nothing passes: the hint names the setting that stopped every candidate and its highest value
expect_ok "auto nothing passes" "$SAM2" auto "$IMG" --points-per-side 4 --pred-iou-thresh 0.99 --json "$TMP/z.json" -o "$TMP/z"
hi=$(json_get "$TMP/z.json" "'%.3f' % j['filters']['max_pred_iou']")
expect_eq "no masks" "$(json_get "$TMP/z.json" "len(j['masks'])")" 0
grep -q "^hint: no candidate's predicted IoU is above pred_iou_thresh 0.99 (the highest is $hi)" "$TMP/err" && ok || bad "no IoU hint: $(cat "$TMP/err")"
expect_ok "auto stability stops all" "$SAM2" auto "$IMG" --points-per-side 4 --pred-iou-thresh 0.1 --stability-score-thresh 0.999 --json "$TMP/z2.json" -o "$TMP/z2"
hs=$(json_get "$TMP/z2.json" "'%.3f' % j['filters']['max_stability']")
grep -q "^hint: no candidate above pred_iou_thresh has a stability score of 0.999 (the highest is $hs)" "$TMP/err" && ok || bad "no stability hint: $(cat "$TMP/err")"

expect_ok "auto coco" "$SAM2" auto "$IMG" "${P[@]}" --output-mode coco_rle --json "$TMP/c.json" -o "$TMP/c"
expect_eq "coco strings" "$(json_get "$TMP/c.json" "all(isinstance(m['segmentation']['counts'], str) for m in j['masks'])")" True
expect_eq "same masks in both modes" "$(json_get "$TMP/c.json" "len(j['masks'])")" "$n"

expect_ok "auto binary + overlay + labels + coco" "$SAM2" auto "$IMG" "${P[@]}" -o "$TMP/b" \
  --overlay "$TMP/b_overlay.png" --label-map "$TMP/b_labels.png" --coco "$TMP/b_coco.json"
expect_eq "png per mask" "$(ls "$TMP/b"/mask_*.png | wc -l)" "$n"
[ -s "$TMP/b_overlay.png" ] && ok || bad "overlay missing"
expect_eq "coco annotations" "$(json_get "$TMP/b_coco.json" "len(j['annotations'])")" "$n"
expect_eq "label map depth" "$(python3 -c "f=open('$TMP/b_labels.png','rb').read(26);print(f[24])")" 16

# bfloat16 precision: the same masks on this clear image where the CPU has it, a clear refusal where not
if grep -q avx512_bf16 /proc/cpuinfo; then
  expect_ok "auto bf16" "$SAM2" auto "$IMG" "${P[@]}" --precision bf16 --output-mode coco_rle --json "$TMP/bf.json" -o "$TMP/bf"
  python3 - "$TMP/c.json" "$TMP/bf.json" <<'PY' && ok || bad "bf16 masks differ from float32"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert len(a["masks"]) == len(b["masks"]) >= 1
assert abs(sum(m["area"] for m in a["masks"]) - sum(m["area"] for m in b["masks"])) <= 0.01 * sum(m["area"] for m in a["masks"])
PY
else
  expect_fail "bf16 without AVX-512 BF16" "AVX-512 BF16" "$SAM2" auto "$IMG" "${P[@]}" --precision bf16 -o "$TMP/bf"
fi
expect_fail "bad precision" "f32 (exact, the default) or bf16" "$SAM2" auto "$IMG" --precision fp8 -o "$TMP/bp"

printf '{"points_per_side": 8, "pred_iou_thresh": 0.5, "stability_score_thresh": 0.8, "output_mode": "coco_rle"}' >"$TMP/p.json"
expect_ok "--params" "$SAM2" auto "$IMG" --params "$TMP/p.json" --json "$TMP/p_out.json" -o "$TMP/p"
expect_eq "--params same result" "$(json_get "$TMP/p_out.json" "len(j['masks'])")" "$n"
expect_ok "flags override --params" "$SAM2" auto "$IMG" --params "$TMP/p.json" --points-per-side 4 --json "$TMP/p2.json" -o "$TMP/p2"
expect_eq "override" "$(json_get "$TMP/p2.json" "j['params']['points_per_side']")" 4

expect_ok "help" "$SAM2" auto --help
grep -q "points-per-side" "$TMP/out" && grep -q "crop-n-layers" "$TMP/out" && ok || bad "help lacks parameters"

# bad parameters: a clear message naming the parameter
expect_fail "negative points" "points_per_side" "$SAM2" auto "$IMG" --points-per-side -3
expect_fail "threshold out of range" "pred_iou_thresh" "$SAM2" auto "$IMG" --pred-iou-thresh 1.5
expect_fail "not a number" "pred_iou_thresh" "$SAM2" auto "$IMG" --pred-iou-thresh abc
expect_fail "bad mode" "output_mode" "$SAM2" auto "$IMG" --output-mode png
expect_fail "overlap" "crop_overlap_ratio" "$SAM2" auto "$IMG" --crop-overlap-ratio 1.2
printf '[[0.5, 0.5]]' >"$TMP/grid.json"
expect_fail "grid and points" "points_per_side" "$SAM2" auto "$IMG" --points-per-side 4 --point-grids "$TMP/grid.json"
printf '{"points_per_sid": 3}' >"$TMP/bad.json"
expect_fail "unknown param" "unknown parameter" "$SAM2" auto "$IMG" --params "$TMP/bad.json"
expect_ok "point grid" "$SAM2" auto "$IMG" --point-grids "$TMP/grid.json" --pred-iou-thresh 0 --stability-score-thresh 0 --json "$TMP/g.json" -o "$TMP/g"
expect_eq "grid point used" "$(json_get "$TMP/g.json" "len(j['params']['point_grids'][0])")" 1
# an embedding file replaces the image (no crop layers): the same masks
expect_ok "embed for auto" "$SAM2" embed "$IMG" -o "$TMP/img.emb"
expect_ok "auto on embedding" "$SAM2" auto "$TMP/img.emb" "${P[@]}" --output-mode coco_rle --json "$TMP/e.json" -o "$TMP/e"
expect_eq "embedding gives the same masks" "$(json_get "$TMP/e.json" "[m['segmentation']['counts'] for m in j['masks']]")" \
  "$(json_get "$TMP/c.json" "[m['segmentation']['counts'] for m in j['masks']]")"
expect_fail "crop layers need the image" "crop_n_layers" "$SAM2" auto "$TMP/img.emb" "${P[@]}" --crop-n-layers 1 --json "$TMP/e2.json" -o "$TMP/e2"
expect_fail "existing output" "exists" "$SAM2" auto "$IMG" "${P[@]}" --json "$TMP/a.json" -o "$TMP/a"
finish
