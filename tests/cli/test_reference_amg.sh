#!/usr/bin/env bash
# sam2 auto against the official AMG outputs of the embedded demo model
# (learned weights) on shapes-dev images: every reference mask must be found
# (mask IoU >= 0.98, one to one), with the same count.
. "$(dirname "$0")/lib.sh"
REF="$SRC/../shared/bench/shapes-dev"
[ -d "$REF" ] || REF="$SRC/tests/fixtures/reference_amg"
PY=/usr/bin/python3
COMPARE="$SRC/tests/tools/compare_amg.py"
n=0
for f in "$REF"/reference_amg/*.json; do
  [ -f "$f" ] || continue
  b=$(basename "$f" .json); id=${b%%.*}
  $PY -c "import json,sys;d=json.load(open(sys.argv[1]));p=d['amg_params'];p.pop('output_mode');json.dump(p,open(sys.argv[2],'w'));json.dump(d['records'],open(sys.argv[3],'w'))" \
    "$f" "$TMP/$b.params.json" "$TMP/$b.ref.json"
  expect_ok "auto $b" "$SAM2" auto "$REF/images/$id.png" --params "$TMP/$b.params.json" \
    --output-mode uncompressed_rle --json "$TMP/$b.ours.json" -o "$TMP/out_$b"
  if $PY "$COMPARE" "$TMP/$b.ref.json" "$TMP/$b.ours.json" --min-match 0.99 >"$TMP/cmp" 2>&1; then ok; else bad "$b: $(cat "$TMP/cmp")"; fi
  g=$(awk '/^golden_masks/{print $2}' "$TMP/cmp"); c=$(awk '/^candidate_masks/{print $2}' "$TMP/cmp")
  expect_eq "$b mask count" "$c" "$g"
  echo "$b: $(tr -s ' ' <"$TMP/cmp" | head -8 | tr '\n' ' ')"
  n=$((n + 1))
done
[ "$n" -gt 0 ] && ok || bad "no reference AMG outputs found"
finish
