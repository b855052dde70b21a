#!/usr/bin/env bash
# sam2 auto on a folder: one output set per image, a failing image reported
# and skipped, non-zero exit with a summary, resume skips complete images.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/in"
cp "$SRC"/examples/images/*.png "$TMP/in/"
printf 'broken' >"$TMP/in/zz_broken.png"
P=(--points-per-side 4 --pred-iou-thresh 0 --stability-score-thresh 0)
"$SAM2" auto "$TMP/in" "${P[@]}" -o "$TMP/res" >"$TMP/o1" 2>"$TMP/e1"
rc=$?
[ $rc -eq 1 ] && ok || bad "a failing image should give exit 1 (got $rc)"
for n in shapes_color shapes_gray shapes_lowcontrast; do
  for f in masks.json overlay.png labels.png coco.json; do
    [ -s "$TMP/res/$n/$f" ] && ok || bad "$n/$f missing"
  done
done
[ ! -e "$TMP/res/zz_broken/masks.json" ] && ok || bad "the broken image has outputs"
grep -q "failed: .*zz_broken.png" "$TMP/e1" && ok || bad "summary does not name the failing image: $(cat "$TMP/e1")"
grep -q "4 images: 3 done, 0 skipped" "$TMP/e1" && ok || bad "summary: $(tail -3 "$TMP/e1")"
grep -q "3/4 shapes_lowcontrast" "$TMP/e1" && ok || bad "plain progress lines expected when stderr is not a terminal"
# resume: complete images are skipped, a removed one is redone
rm "$TMP/res/shapes_gray/masks.json"
touch -d '2000-01-01' "$TMP/res/shapes_color/masks.json"
"$SAM2" auto "$TMP/in" "${P[@]}" -o "$TMP/res" 2>"$TMP/e2"
grep -q "4 images: 1 done, 2 skipped" "$TMP/e2" && ok || bad "resume: $(tail -3 "$TMP/e2")"
[ -s "$TMP/res/shapes_gray/masks.json" ] && ok || bad "resume did not redo the incomplete image"
[ "$(stat -c %Y "$TMP/res/shapes_color/masks.json")" -lt 1000000000 ] && ok || bad "a complete image was redone"
"$SAM2" auto "$TMP/in" "${P[@]}" -o "$TMP/res" --overwrite 2>"$TMP/e3"
grep -q "4 images: 3 done, 0 skipped" "$TMP/e3" && ok || bad "--overwrite: $(tail -2 "$TMP/e3")"
# images that keep no mask are named, with where to look
"$SAM2" auto "$TMP/in" --points-per-side 4 --pred-iou-thresh 0.99 -o "$TMP/none" 2>"$TMP/e4"
expect_eq "images without a mask named" "$(grep -c '^  no mask: .*shapes_.*png ("filters" in its masks.json' "$TMP/e4")" 3
expect_eq "no mask line for masks found" "$(grep -c '^  no mask: ' "$TMP/e3")" 0
# several files given one by one
expect_ok "two files" "$SAM2" auto "$SRC/examples/images/shapes_gray.png" "$SRC/examples/images/shapes_color.png" "${P[@]}" -o "$TMP/two"
[ -s "$TMP/two/shapes_gray/masks.json" ] && [ -s "$TMP/two/shapes_color/masks.json" ] && ok || bad "two files: outputs missing"
# images that would share an output folder (same name in two folders, or the
# same stem with two extensions) are refused before any work, not skipped as
# already complete or written over each other
mkdir -p "$TMP/d1" "$TMP/d2"
cp "$SRC/examples/images/shapes_gray.png" "$TMP/d1/x.png"
cp "$SRC/examples/images/shapes_color.png" "$TMP/d2/x.png"
expect_fail "same name in two folders" "would both write" "$SAM2" auto "$TMP/d1/x.png" "$TMP/d2/x.png" "${P[@]}" -o "$TMP/same"
[ ! -e "$TMP/same/x" ] && ok || bad "same name in two folders: outputs written"
cp "$SRC/examples/images/shapes_color.png" "$TMP/d1/x.tif.png"
cp "$SRC/examples/images/shapes_color.png" "$TMP/d1/x.PNG"
expect_fail "same stem, two extensions" "x.PNG and .*x.png would both write" "$SAM2" auto "$TMP/d1" "${P[@]}" -o "$TMP/stem"
# a WebP image in a folder is found and read like the others
mkdir -p "$TMP/webp"
cp "$SRC/tests/fixtures/images/lossy.webp" "$TMP/webp/scene.webp"
printf 'notes' >"$TMP/webp/readme.txt"
expect_ok "folder with a WebP" "$SAM2" auto "$TMP/webp" "${P[@]}" -o "$TMP/webp_out"
[ -s "$TMP/webp_out/scene/masks.json" ] && ok || bad "WebP image: masks.json missing"
expect_eq "WebP image size" "$(json_get "$TMP/webp_out/scene/masks.json" "[j['image']['width'], j['image']['height']]" 2>/dev/null)" "[48, 32]"
finish
