#!/usr/bin/env bash
# sam2 tune: the sweep table, the JSON document, settings that share a
# decoding giving what `sam2 auto` gives, scores against a ground truth, the
# top-settings grid, and bad input refused with one line.
. "$(dirname "$0")/lib.sh"
IMG="$SRC/examples/images/shapes_color.png"
png_size() { python3 -c "import struct,sys;d=open(sys.argv[1],'rb').read(24);print(*struct.unpack('>II',d[16:24]))" "$1"; }
# gray_png FILE W H: an 8-bit gray PNG of zeros with a square of label 1
gray_png() {
  python3 - "$@" <<'PY'
import sys, zlib, struct
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = b''.join(b'\0' + bytes(1 if 10 <= x < 60 and 10 <= y < 60 else 0 for x in range(w)) for y in range(h))
chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
                       + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
PY
}

# a ground truth made by the generator itself (16-bit label map)
expect_ok "truth from auto" "$SAM2" auto "$IMG" -t 2 --points-per-side 8 --pred-iou-thresh 0.5 \
  --stability-score-thresh 0.8 --output-mode coco_rle --json "$TMP/a.json" --label-map "$TMP/truth.png" -o "$TMP/a"
n_auto=$(json_get "$TMP/a.json" "len(j['masks'])")

G="points-per-side=8,6;pred-iou-thresh=0.5,0.7;stability-score-thresh=0.8,0.9"
expect_ok "tune" "$SAM2" tune "$IMG" -t 2 --grid "$G" --truth "$TMP/truth.png" --json "$TMP/t.json" -o "$TMP/t.png" --top 3
cp "$TMP/out" "$TMP/table"
expect_eq "settings" "$(json_get "$TMP/t.json" "len(j['settings'])")" 8
expect_eq "two decoding groups, both reused" "$(json_get "$TMP/t.json" "[(g['settings'], g['reused']) for g in j['groups']]")" \
  "[(4, True), (4, True)]"
expect_eq "setting keys" "$(json_get "$TMP/t.json" "sorted(j['settings'][0].keys())")" \
  "['covered', 'covered_twice', 'filters', 'group', 'index', 'masks', 'mean_predicted_iou', 'params', 'recall_50', 'recall_75', 'score', 'setting', 'split_objects', 'time_s']"
expect_eq "first setting" "$(json_get "$TMP/t.json" "j['settings'][0]['setting']")" \
  "points-per-side=8 pred-iou-thresh=0.5 stability-score-thresh=0.8"
# re-filtered decoder outputs give what a fresh run gives
expect_eq "same as auto" "$(json_get "$TMP/t.json" "j['settings'][0]['masks']")" "$n_auto"
expect_eq "same filter counts as auto" "$(json_get "$TMP/t.json" "j['settings'][0]['filters']")" "$(json_get "$TMP/a.json" "j['filters']")"
# the table's >iou and >stab columns: a stricter stability threshold passes fewer of the same IoU survivors
expect_eq "filter columns" "$(json_get "$TMP/t.json" "(lambda s: s[0]['filters']['above_pred_iou'] == s[1]['filters']['above_pred_iou'] and s[1]['filters']['above_stability'] <= s[0]['filters']['above_stability'])([x for x in j['settings'] if x['params']['points_per_side'] == 8 and x['params']['pred_iou_thresh'] == 0.5])")" True
grep -q "rank     #   >iou  >stab  masks" "$TMP/table" && ok || bad "table header: $(head -3 "$TMP/table")"
grep -q "^hint:" "$TMP/table" && bad "a hint although settings keep masks" || ok
# no setting keeps a mask: the hint names what stopped the loosest one, and the axis to widen
expect_ok "tune nothing kept" "$SAM2" tune "$IMG" -t 2 --points-per-side 4 --grid "pred-iou-thresh=0.995,0.99;stability-score-thresh=0.9"
grep -q "^hint: no setting keeps a mask; in the loosest (#2) no candidate's predicted IoU is above pred_iou_thresh 0.99 (the highest is 0\.[0-9]*): give pred-iou-thresh values below it in --grid$" "$TMP/out" &&
  ok || bad "tune hint: $(tail -2 "$TMP/out")"
expect_eq "figures in range" "$(json_get "$TMP/t.json" "all(0<=s['covered_twice']<=s['covered']<=1 and 0<=s['recall_75']<=s['recall_50']<=1 and s['time_s']>0 for s in j['settings'])")" True
# the truth came from setting 1: its objects are found again
expect_eq "recall of the source setting" "$(json_get "$TMP/t.json" "j['settings'][0]['recall_50'] >= 0.75")" True
expect_eq "objective" "$(json_get "$TMP/t.json" "j['objective']")" recall75
expect_eq "best is the top score" "$(json_get "$TMP/t.json" "j['best']['score'] == max(s['score'] for s in j['settings'])")" True
grep -q "^best by recall75: #" "$TMP/table" && ok || bad "best line missing"
expect_eq "table rows" "$(grep -c "points-per-side=" "$TMP/table")" 9
read -r w h < <(png_size "$TMP/t.png")
[ "$w" -gt 600 ] && [ "$h" -gt 600 ] && ok || bad "grid size $w x $h"

# without truth: the coverage objective, default grid
expect_ok "tune no truth" "$SAM2" tune "$IMG" -t 2 --points-per-side 6 --json "$TMP/n.json"
# the default grid, then settings drawn from the candidates' own scores
expect_eq "default grid" "$(json_get "$TMP/n.json" "(j['settings'][11]['setting'], j['objective'], len(j['groups']))")" \
  "('pred-iou-thresh=0.88 stability-score-thresh=0.95', 'coverage', 1)"
expect_eq "drawn grid" "$(json_get "$TMP/n.json" "bool(__import__('re').fullmatch(r'pred-iou-thresh=\d\.\d\d(,\d\.\d\d){0,2};stability-score-thresh=\d\.\d\d(,\d\.\d\d){0,2}', j['score_grid']))")" True
expect_eq "drawn settings" "$(json_get "$TMP/n.json" "(lambda a: len(j['settings']) - 12 == (a[0].count(',') + 1) * (a[1].count(',') + 1))(j['score_grid'].split(';'))")" True
# the lowest drawn IoU value passes at least half of all candidates, its
# lowest stability value at least three quarters of those
expect_eq "drawn percentiles" "$(json_get "$TMP/n.json" "(lambda f: f['above_pred_iou'] * 2 >= f['candidates'] and f['above_stability'] * 4 >= f['above_pred_iou'] * 3 and f['candidates'] > 0)(j['settings'][12]['filters'])")" True
grep -q "^settings 13-[0-9]* drawn from this image's candidates" "$TMP/out" && ok || bad "drawn grid line: $(head -4 "$TMP/out")"
# every candidate beyond the cache cap: the default grid alone, its candidates still shared
expect_ok "tune capped" "$SAM2" tune "$IMG" -t 2 --points-per-side 6 --max-cache-mb 1 --json "$TMP/cap.json"
grep -q "keeping every candidate would exceed --max-cache-mb 1: no settings drawn from their scores" "$TMP/err" && ok || bad "cap message: $(cat "$TMP/err")"
expect_eq "capped: default grid, shared" "$(json_get "$TMP/cap.json" "(len(j['settings']), j['score_grid'], j['groups'][0]['reused'])")" "(12, None, True)"
expect_eq "capped: same masks" "$(json_get "$TMP/cap.json" "[s['masks'] for s in j['settings']]")" "$(json_get "$TMP/n.json" "[s['masks'] for s in j['settings'][:12]]")"
# the best setting written for `sam2 auto --params` runs it again: same masks, same filter counts
expect_ok "tune best params" "$SAM2" tune "$IMG" -t 2 --points-per-side 6 --best-params "$TMP/best.json" --json "$TMP/b.json"
grep -q "^wrote $TMP/best.json (setting #[0-9]*; sam2 auto IMAGE --params $TMP/best.json runs it)$" "$TMP/err" && ok || bad "best-params line: $(cat "$TMP/err")"
expect_ok "auto with the best" "$SAM2" auto "$IMG" -t 2 --params "$TMP/best.json" --json "$TMP/ba.json" -o "$TMP/ba"
expect_eq "best reproduced" "$(json_get "$TMP/b.json" "(lambda s: (s['masks'], s['filters']))(j['settings'][j['best']['index'] - 1])")" \
  "$(json_get "$TMP/ba.json" "(len(j['masks']), j['filters'])")"
expect_fail "best params kept" "exists" "$SAM2" tune "$IMG" -t 2 --points-per-side 6 --best-params "$TMP/best.json"
expect_ok "tune explicit grid" "$SAM2" tune "$IMG" -t 2 --points-per-side 6 --grid "pred-iou-thresh=0.6" --json "$TMP/e.json"
expect_eq "no drawn grid with --grid" "$(json_get "$TMP/e.json" "(len(j['settings']), j['score_grid'])")" "(1, None)"
expect_eq "no truth keys" "$(json_get "$TMP/n.json" "'recall_75' in j['settings'][0]")" False

# bad input
expect_fail "unknown parameter" "unknown AMG parameter 'pred-iou'" "$SAM2" tune "$IMG" --grid "pred-iou=0.5"
expect_fail "bad value" "pred_iou_thresh takes a number" "$SAM2" tune "$IMG" --grid "pred-iou-thresh=0.5,high"
expect_fail "out of range" "pred_iou_thresh" "$SAM2" tune "$IMG" --grid "pred-iou-thresh=0.5,1.5"
expect_fail "swept twice" "swept twice" "$SAM2" tune "$IMG" --grid "points-per-side=4;points_per_side=8"
expect_fail "no values" "no values" "$SAM2" tune "$IMG" --grid "points-per-side="
expect_fail "recall needs truth" "needs --truth" "$SAM2" tune "$IMG" --objective recall75
expect_fail "bad objective" "objective" "$SAM2" tune "$IMG" --objective best
expect_fail "missing image" "nonexistent" "$SAM2" tune "$TMP/nonexistent.png" --grid "points-per-side=4"
gray_png "$TMP/small.png" 100 80
expect_fail "truth size mismatch" "100 x 80 but the image is 396 x 390" "$SAM2" tune "$IMG" -t 2 --grid "points-per-side=4" --truth "$TMP/small.png"
expect_fail "truth not labels" "channels" "$SAM2" tune "$IMG" -t 2 --grid "points-per-side=4" --truth "$IMG"
expect_fail "existing json" "exists" "$SAM2" tune "$IMG" --grid "points-per-side=4" --json "$TMP/t.json"
expect_fail "too many settings" "more than" "$SAM2" tune "$IMG" --grid "points-per-side=1,2,3,4,5,6,7,8,9,10;pred-iou-thresh=0,.1,.2,.3,.4,.5,.6,.7,.8,.9;box-nms-thresh=0,.1,.2,.3,.4,.5,.6,.7,.8,.9;mask-threshold=0,1,2,3,4,5,6,7,8,9,10"
finish
