#!/usr/bin/env bash
# bench/quality_targets.py (make bench-quality's verdicts): the recorded
# shapes-dev runs meet all eight targets; a figure moved just past a bound
# fails exactly its target, in the text and in the JSON; with per-image
# noise figures the low-contrast recall per noise band, with per-object
# contrast figures per contrast band, matches a count made here; missing runs
# are refused with a message.
. "$(dirname "$0")/lib.sh"
Q="$SRC/bench/quality_targets.py"
B="$SRC/bench/baselines"
cp "$B/shapes-dev.strict.json" "$TMP/dev.strict.json"
cp "$B/shapes-dev.loose.json" "$TMP/dev.loose.json"
cp "$B/shapes-dev.strict-robust.json" "$TMP/dev.robust.json"
expect_ok "recorded runs" python3 "$Q" --json "$TMP/t.json" dev="$TMP/dev"
grep -q "^targets met: 8 of 8$" "$TMP/out" && ok || bad "recorded runs: $(tail -1 "$TMP/out")"
grep -q "^| lowc | robust | 0.739 | 0.676 | 1.29 | 0.170 | 0.036 |" "$TMP/out" && ok || bad "table row of lowc robust"
expect_eq "JSON count" "$(json_get "$TMP/t.json" "(j['met'], j['total'])")" "(8, 8)"

# edit DESC PY: the robust run with one figure changed (j: its JSON)
edit() {
  mkdir -p "$TMP/e"
  cp "$TMP/dev.strict.json" "$TMP/e/dev.strict.json"
  cp "$TMP/dev.loose.json" "$TMP/e/dev.loose.json"
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); $1; json.dump(j, open(sys.argv[2], 'w'))" \
    "$TMP/dev.robust.json" "$TMP/e/dev.robust.json"
  python3 "$Q" --json "$TMP/e/t.json" dev="$TMP/e/dev" >"$TMP/out" 2>"$TMP/err"
}
# low-contrast recall 0.049 above the better official (loose 0.532): short of 0.05
edit "j['variants']['lowc']['recall75'] = 0.532 + 0.049"
grep -q "^lowc recall@0.75 >= better official + 0.05: NOT MET (0.581, bound 0.582)$" "$TMP/out" && ok || bad "lowc recall: $(grep 'lowc recall' "$TMP/out")"
grep -q "^targets met: 7 of 8$" "$TMP/out" && ok || bad "one target missed: $(tail -1 "$TMP/out")"
expect_eq "JSON verdict" "$(json_get "$TMP/e/t.json" "[t['met'] for t in j['sets']['dev']['lowc']['targets']]")" "[False, True, True, True]"
# colour recall 0.011 below loose's 0.641: beyond the slack
edit "j['variants']['color']['recall75'] = 0.641 - 0.011"
grep -q "^color recall@0.75 >= better official - 0.01: NOT MET" "$TMP/out" && ok || bad "colour recall: $(grep 'color recall' "$TMP/out")"
# split above half the loose setting's, uncovered above half the strict one's, too many masks
edit "j['variants']['lowc']['split_rate'] = 0.26; j['variants']['lowc']['uncovered_object_pixels'] = 0.25; j['variants']['gray']['masks_per_object'] = 1.51"
grep -q "^lowc split <= 0.5 x loose: NOT MET" "$TMP/out" && ok || bad "split: $(grep 'lowc split' "$TMP/out")"
grep -q "^lowc uncovered <= 0.5 x strict: NOT MET" "$TMP/out" && ok || bad "uncovered: $(grep 'lowc uncovered' "$TMP/out")"
grep -q "^gray masks/object <= 1.5: NOT MET" "$TMP/out" && ok || bad "masks: $(grep 'gray masks' "$TMP/out")"
grep -q "^targets met: 5 of 8$" "$TMP/out" && ok || bad "three targets missed: $(tail -1 "$TMP/out")"

# recall by noise band: the recorded runs carry no noise figures, so no table
grep -q "pixel-noise" "$TMP/out" && bad "a noise table without noise figures" || ok
# noise (N: the first ten low-contrast scenes 2.0, the others 4.0) added to the recorded runs
mkdir -p "$TMP/n"
for k in strict loose robust; do
  python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
low = sorted(i['id'] for i in j['images'] if i['variant'] == 'lowc')
for i in j['images']:
    i['noise_sigma'] = (2.0 if i['id'] in low[:10] else 4.0) if i['variant'] == 'lowc' else 1.0
json.dump(j, open(sys.argv[2], 'w'))" "$TMP/dev.$k.json" "$TMP/n/dev.$k.json"
done
expect_ok "noise figures" python3 "$Q" --json "$TMP/n/t.json" dev="$TMP/n/dev"
# the expected rows, counted here from the per-image records
want=$(python3 -c "
import json, sys
rows = {k: {i['id']: i for i in json.load(open(sys.argv[1] + k + '.json'))['images'] if i['variant'] == 'lowc'}
        for k in ('strict', 'loose', 'robust')}
low = sorted(rows['strict'])
for name, ids in (('below 2.5', low[:10]), ('3.5 and above', low[10:])):
    o = sum(rows['strict'][i]['objects'] for i in ids)
    print('| %s | %d | %d | %s |' % (name, len(ids), o, ' | '.join('%.3f' % (sum(rows[k][i]['found75'] for i in ids) / o)
                                                               for k in ('strict', 'loose', 'robust'))))
" "$TMP/n/dev.")
while IFS= read -r row; do
  grep -qF "$row" "$TMP/out" && ok || bad "noise row '$row' missing: $(grep '^| .*[0-9] | [0-9]' "$TMP/out" | tail -3)"
done <<<"$want"
grep -qF "| 2.5-3.5 | 0 | 0 | - | - | - |" "$TMP/out" && ok || bad "empty noise band"
grep -q "^lowc, recall@0.75 by the scenes' pixel-noise sigma" "$TMP/out" && ok || bad "no lowc noise table"
grep -q "^color, recall@0.75 by" "$TMP/out" && bad "a noise table for colour scenes" || ok
expect_eq "JSON bands" "$(json_get "$TMP/n/t.json" "[b['scenes'] for b in j['sets']['dev']['lowc']['by_noise']]")" "[10, 0, 10]"
grep -q "^targets met: 8 of 8$" "$TMP/out" && ok || bad "noise figures changed a verdict"
# a run over other scenes: no table
python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
drop = [i for i in j['images'] if i['variant'] == 'lowc'][0]
j['images'].remove(drop)
json.dump(j, open(sys.argv[1], 'w'))" "$TMP/n/dev.loose.json"
expect_ok "runs over other scenes" python3 "$Q" dev="$TMP/n/dev"
grep -q "pixel-noise" "$TMP/out" && bad "a noise table from runs over other scenes" || ok

# recall by object contrast: per-object figures made up for the recorded runs
# (each low-contrast scene's first object at 3 grey levels, the others at 10;
# the objects a run found at 0.75 first, at IoU 0.8, the rest at 0.5)
grep -q "objects' contrast" "$TMP/out" && bad "a contrast table without contrast figures" || ok
mkdir -p "$TMP/c"
for k in strict loose robust; do
  python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
for i in j['images']:
    i['object_contrast'] = [3.0] + [10.0] * (i['objects'] - 1)
    i['object_best_iou'] = [0.8] * i['found75'] + [0.5] * (i['objects'] - i['found75'])
json.dump(j, open(sys.argv[2], 'w'))" "$TMP/dev.$k.json" "$TMP/c/dev.$k.json"
done
expect_ok "contrast figures" python3 "$Q" --json "$TMP/c/t.json" dev="$TMP/c/dev"
want=$(python3 -c "
import json, sys
rows = {k: [i for i in json.load(open(sys.argv[1] + k + '.json'))['images'] if i['variant'] == 'lowc']
        for k in ('strict', 'loose', 'robust')}
low = len(rows['strict'])
mid = sum(i['objects'] - 1 for i in rows['strict'])
print('| below 5 | %d | %s |' % (low, ' | '.join('%.3f' % (sum(i['found75'] >= 1 for i in r) / low) for r in rows.values())))
print('| 5-16 | %d | %s |' % (mid, ' | '.join('%.3f' % (sum(max(i['found75'] - 1, 0) for i in r) / mid)
                                              for r in rows.values())))
" "$TMP/c/dev.")
while IFS= read -r row; do
  grep -qF "$row" "$TMP/out" && ok || bad "contrast row '$row' missing: $(grep -A6 "objects' contrast" "$TMP/out")"
done <<<"$want"
grep -qF "| 16 and above | 0 | - | - | - |" "$TMP/out" && ok || bad "empty contrast band"
grep -q "^color, recall@0.75 by the objects' contrast" "$TMP/out" && bad "a contrast table for colour scenes" || ok
expect_eq "JSON contrast bands" "$(json_get "$TMP/c/t.json" "[b['objects'] for b in j['sets']['dev']['lowc']['by_contrast']][2]")" "0"
grep -q "^targets met: 8 of 8$" "$TMP/out" && ok || bad "contrast figures changed a verdict"

expect_fail "missing runs" "cannot read" python3 "$Q" dev="$TMP/none"
finish
