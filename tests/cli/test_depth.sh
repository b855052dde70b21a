#!/usr/bin/env bash
# 16-bit input: the robust window is the default (not plain scaling), and
# every mode is selectable (embed, predict, auto's overlay); a bad mode is
# refused.
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
# predict takes --depth too, and the overlays show the image as the model saw it
for m in window scale; do
  expect_ok "predict, depth $m" "$SAM2" predict "$TMP/l16.png" -t 2 --depth "$m" --point 200,190 -o "$TMP/p_$m"
done
cmp -s "$TMP/p_window/mask_0.png" "$TMP/p_scale/mask_0.png" && bad "predict ignores --depth" || ok
cmp -s "$TMP/p_window/overlay.png" "$TMP/p_scale/overlay.png" && bad "predict's overlay ignores --depth" || ok
expect_fail "predict, bad depth" "official" "$SAM2" predict "$TMP/l16.png" --depth fancy --point 3,3 -o "$TMP/p_x"
for m in window scale; do
  expect_ok "auto overlay, depth $m" "$SAM2" auto "$TMP/l16.png" -t 2 --points-per-side 4 --depth "$m" \
    -o "$TMP/a_$m" --overlay "$TMP/a_$m.png"
done
cmp -s "$TMP/a_window.png" "$TMP/a_scale.png" && bad "auto's overlay ignores --depth" || ok
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
