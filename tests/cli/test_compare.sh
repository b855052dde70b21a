#!/usr/bin/env bash
# sam2 compare: a captioned grid of the image and one overlay per parameter
# set (page size from the layout), and bad input refused with one line.
. "$(dirname "$0")/lib.sh"
IMG="$SRC/examples/images/shapes_color.png"
B=(--pred-iou-thresh 0.5 --stability-score-thresh 0.8)
png_size() { python3 -c "import struct,sys;d=open(sys.argv[1],'rb').read(24);print(*struct.unpack('>II',d[16:24]))" "$1"; }

# 3 sets + the source = 2 x 2 tiles of 320 px: page 10 + 2 * (320 + 10) = 670 wide
expect_ok "compare 3 sets" "$SAM2" compare "$IMG" "${B[@]}" -t 2 --set points-per-side=8 \
  --set "points-per-side=12,box-nms-thresh=0.5" --set points-per-side=4,crop-n-layers=1 --tile-width 320 -o "$TMP/g.png"
[ -s "$TMP/g.png" ] && ok || bad "grid missing"
read -r w h < <(png_size "$TMP/g.png")
expect_eq "grid width" "$w" 670
[ "$h" -gt 660 ] && [ "$h" -lt 900 ] && ok || bad "grid height $h"
grep -q "set 3 (points-per-side=4 crop-n-layers=1): [0-9]* masks" "$TMP/err" && ok || bad "per-set line missing"
# the overlays differ from the source: some mask was drawn in at least one set
python3 - "$TMP/g.png" <<'PY' && ok || bad "grid looks blank"
import sys, zlib, struct
d = open(sys.argv[1], 'rb').read()
idat = b''.join(d[i+8:i+8+struct.unpack('>I', d[i:i+4])[0]] for i in range(8, len(d)) if d[i+4:i+8] == b'IDAT')
raw = zlib.decompress(idat)
sys.exit(0 if len(set(raw)) > 50 else 1)
PY

# one column, custom tile width: 1 + 2 tiles stacked
expect_ok "cols 1" "$SAM2" compare "$IMG" "${B[@]}" -t 2 --set points-per-side=4 --set points-per-side=6 \
  --cols 1 --tile-width 200 -o "$TMP/c.png"
read -r w h < <(png_size "$TMP/c.png")
expect_eq "one column width" "$w" 220

# a set that keeps nothing says which filter stopped every candidate; one that keeps masks does not
expect_ok "empty set hint" "$SAM2" compare "$IMG" "${B[@]}" -t 2 --set points-per-side=4 \
  --set points-per-side=4,pred-iou-thresh=0.99 -o "$TMP/h.png"
expect_eq "one hint" "$(grep -c "^  hint: " "$TMP/err")" 1
grep -A1 "^set 2 " "$TMP/err" | grep -q "^  hint: no candidate's predicted IoU is above pred_iou_thresh 0.99" && ok ||
  bad "hint missing: $(cat "$TMP/err")"

# never overwrite unasked; --overwrite replaces
expect_fail "existing output" "exists" "$SAM2" compare "$IMG" --set points-per-side=4 -o "$TMP/g.png"
expect_ok "overwrite" "$SAM2" compare "$IMG" "${B[@]}" -t 2 --set points-per-side=4 -o "$TMP/g.png" --overwrite

# the steps of --robust as set names, and --robust for every set (a set's own
# value wins): each set gives what 'sam2 auto' gives with the same flags
LOWC="$SRC/examples/images/shapes_lowcontrast.png"
LB=("${B[@]}" --points-per-side 16)
count_auto() { "$SAM2" auto "$LOWC" "${LB[@]}" -t 2 --output-mode coco_rle -o "$TMP/a" --overwrite "$@" 2>&1 |
  sed -n 's/^\([0-9]*\) masks in .*/\1/p'; }
n_off=$(count_auto)
n_rob=$(count_auto --robust)
n_nocons=$(count_auto --robust --consensus false)
[ "$n_rob" != "$n_off" ] && ok || bad "--robust gives as many masks as the official setting ($n_off): nothing to compare"
expect_ok "robust sets" "$SAM2" compare "$LOWC" "${LB[@]}" -t 2 --set robust=false --set robust=true \
  --set robust=true,consensus=false -o "$TMP/r.png"
grep -q "^set 1 (robust=false): $n_off masks in [0-9.]* s$" "$TMP/err" && ok || bad "official set: want $n_off masks"
grep -q "^set 2 (robust=true): $n_rob masks in [0-9.]* s (contrast stretch, denoised answers)$" "$TMP/err" && ok ||
  bad "robust set: want $n_rob masks, the contrast step and the denoised answers named"
grep -q "^set 3 (robust=true consensus=false): $n_nocons masks in [0-9.]* s (contrast stretch)$" "$TMP/err" && ok ||
  bad "robust set without consensus: want $n_nocons masks, the contrast step and no denoised answers"
expect_ok "--robust for every set" "$SAM2" compare "$LOWC" "${LB[@]}" -t 2 --robust --set robust=false \
  --set gap_fill=true -o "$TMP/r2.png"
grep -q "^set 1 (robust=false): $n_off masks" "$TMP/err" && ok || bad "robust=false did not win over --robust"
grep -q "^set 2 (gap_fill=true): $n_rob masks" "$TMP/err" && ok || bad "--robust did not reach set 2"

expect_ok "help" "$SAM2" compare --help
grep -q -- "--set" "$TMP/out" && ok || bad "help lacks --set"

# bad input: one line, non-zero, no crash
expect_fail "unknown parameter" "unknown AMG parameter 'points-per-sid'" "$SAM2" compare "$IMG" --set points-per-sid=16 -o "$TMP/x.png"
expect_fail "bad value" "points_per_side takes a whole number" "$SAM2" compare "$IMG" --set points-per-side=abc -o "$TMP/x.png"
expect_fail "out of range" "pred_iou_thresh" "$SAM2" compare "$IMG" --set pred-iou-thresh=1.5 -o "$TMP/x.png"
expect_fail "not name=value" "not name=value" "$SAM2" compare "$IMG" --set points-per-side -o "$TMP/x.png"
expect_fail "no set" "no --set" "$SAM2" compare "$IMG" -o "$TMP/x.png"
expect_fail "no image" "no image" "$SAM2" compare --set points-per-side=4
expect_fail "missing image" "nonexistent" "$SAM2" compare "$TMP/nonexistent.png" --set points-per-side=4 -o "$TMP/x.png"
expect_fail "bad common flag" "unknown AMG parameter 'bogus'" "$SAM2" compare "$IMG" --bogus 3 --set points-per-side=4 -o "$TMP/x.png"
expect_fail "bad robust value" "robust takes true or false, got 'maybe'" "$SAM2" compare "$IMG" --set robust=maybe -o "$TMP/x.png"
expect_fail "bad step value" "consensus-min-support: bad value 'abc'" "$SAM2" compare "$IMG" --set consensus-min-support=abc -o "$TMP/x.png"
expect_fail "unknown step" "unknown option '--merge-bogus'" "$SAM2" compare "$IMG" --set merge-bogus=1 -o "$TMP/x.png"
expect_fail "bad tile width" "tile-width" "$SAM2" compare "$IMG" --set points-per-side=4 --tile-width 5 -o "$TMP/x.png"
[ ! -e "$TMP/x.png" ] && ok || bad "a failed run left an output"
finish
