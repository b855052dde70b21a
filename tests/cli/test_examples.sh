#!/usr/bin/env bash
# The library examples (examples/*.c) run on the embedded demo model and say
# what they should.
. "$(dirname "$0")/lib.sh"
BIN=$(dirname "$SAM2")
M=("$SRC/models/sam2-demo-shapes.pt" "$SRC/models/sam2-demo-shapes.yaml")

expect_ok "point prompt" "$BIN/example_point_prompt" "${M[@]}"
expect_eq "three masks" "$(grep -c '^mask [0-2]: predicted IoU 0\.[0-9]*, area [1-9][0-9]* px$' "$TMP/out")" 3

expect_ok "auto masks" "$BIN/example_auto_masks" "${M[@]}"
n=$(grep -c '^mask [0-9]*: area [1-9]' "$TMP/out")
[ "$n" -ge 1 ] && ok || bad "auto masks: no mask: $(cat "$TMP/out")"
grep -q "^filters: 256 clicks, 768 candidates, [0-9]* above pred_iou_thresh 0.8 (highest 0\.[0-9]*), .*, $n after NMS$" "$TMP/out" &&
  ok || bad "auto masks: filters line: $(tail -1 "$TMP/out")"
# thresholds above every candidate's: no mask, and the counts say where they stopped
expect_ok "auto masks, nothing passes" "$BIN/example_auto_masks" "${M[@]}" 0.99 0.5
grep -q "^filters: 256 clicks, 768 candidates, 0 above pred_iou_thresh 0.99 (highest 0\.[0-9]*), 0 above stability_score_thresh 0.5 (highest nan)" "$TMP/out" &&
  ok || bad "nothing passes: $(cat "$TMP/out")"
grep -q "^mask " "$TMP/out" && bad "nothing passes, yet masks" || ok
expect_fail "bad threshold" "pred_iou_thresh" "$BIN/example_auto_masks" "${M[@]}" 1.5 0.5
expect_fail "missing model" "nonexistent" "$BIN/example_auto_masks" "$TMP/nonexistent.pt"
finish
