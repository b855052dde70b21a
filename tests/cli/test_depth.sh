#!/usr/bin/env bash
# 16-bit input: the robust window is the default (not plain scaling), and
# every mode is selectable; a bad mode is refused.
. "$(dirname "$0")/lib.sh"
IMG="$SRC/examples/images/shapes_gray.png"
# a 16-bit one-channel image with small values: the label map of a run
expect_ok "make a 16-bit image" "$SAM2" auto "$IMG" -t 2 --points-per-side 8 --pred-iou-thresh 0.3 \
  --stability-score-thresh 0.5 --output-mode coco_rle -o "$TMP/a" --json "$TMP/a.json" --label-map "$TMP/l16.png"
expect_eq "label map is 16-bit" "$(python3 -c "print(open('$TMP/l16.png','rb').read(26)[24])")" 16
for m in default window scale official; do
  opt=(); [ "$m" = default ] || opt=(--depth "$m")
  expect_ok "embed, depth $m" "$SAM2" embed "$TMP/l16.png" -t 2 "${opt[@]}" -o "$TMP/$m.emb"
done
cmp -s "$TMP/default.emb" "$TMP/window.emb" && ok || bad "the default is not the window"
cmp -s "$TMP/window.emb" "$TMP/scale.emb" && bad "window and scale agree on a low-valued 16-bit image" || ok
cmp -s "$TMP/scale.emb" "$TMP/official.emb" && bad "official (saturating) equals x/257 on small values" || ok
expect_fail "bad depth" "official" "$SAM2" embed "$TMP/l16.png" --depth fancy -o "$TMP/x.emb"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
