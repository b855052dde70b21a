#!/usr/bin/env bash
# --dedup: near-copies the official box NMS lets through (a few stray pixels
# stretch one box) are removed by their pixels, the better rated kept; the
# official output is untouched without the flag; bad values refused.
. "$(dirname "$0")/lib.sh"
SD=${SAM2_BENCH:-}/shapes-dev
S=(-t 2 --points-per-side 16 --pred-iou-thresh 0.5 --stability-score-thresh 0.8 --contrast auto
   --output-mode uncompressed_rle)

if [ -f "$SD/index.json" ]; then
  # dev_015 (low contrast): the official pass keeps one object three times
  expect_ok "official" "$SAM2" auto "$SD/images/dev_015.png" "${S[@]}" -o "$TMP/a" --json "$TMP/a.json"
  expect_ok "dedup" "$SAM2" auto "$SD/images/dev_015.png" "${S[@]}" --dedup true -o "$TMP/b" --json "$TMP/b.json"
  expect_ok "dedup at 0.99" "$SAM2" auto "$SD/images/dev_015.png" "${S[@]}" --dedup true --dedup-iou 0.99 \
    -o "$TMP/c" --json "$TMP/c.json"
  # the smallest threshold the flag takes, the library takes too
  expect_ok "dedup at 0.01" "$SAM2" auto "$SD/images/dev_015.png" "${S[@]}" --dedup true --dedup-iou 0.01 \
    -o "$TMP/d" --json "$TMP/d.json"
  python3 - "$TMP/a.json" "$TMP/b.json" "$TMP/c.json" <<'PY' && ok || bad "dedup records"
import json, sys
a, b, c = (json.load(open(f)) for f in sys.argv[1:4])
assert a["robust"]["dedup"] is False and all("source" not in m for m in a["masks"])
assert abs(b["robust"]["dedup_iou"] - 0.9) < 1e-6 and b["robust"]["consensus"] is False
def bits(m):  # the mask as one integer, a bit per pixel
    v, p = 0, 0
    for i, n in enumerate(m["segmentation"]["counts"]):
        if i % 2:
            v |= ((1 << n) - 1) << p
        p += n
    return v
def iou(P, Q):
    return bin(P & Q).count("1") / bin(P | Q).count("1")
def box_iou(p, q):
    ix = min(p[0] + p[2], q[0] + q[2]) - max(p[0], q[0])
    iy = min(p[1] + p[3], q[1] + q[3]) - max(p[1], q[1])
    i = max(ix, 0) * max(iy, 0)
    return i / (p[2] * p[3] + q[2] * q[3] - i)
kept = b["masks"]
assert all(m in a["masks"] for m in kept), "a kept record changed"
assert [a["masks"].index(m) for m in kept] == sorted(a["masks"].index(m) for m in kept), "order changed"
gone = [m for m in a["masks"] if m not in kept]
assert len(gone) >= 2, "only %d near-copies removed" % len(gone)
for g in gone:
    G = bits(g)
    twins = [k for k in kept if iou(G, bits(k)) > 0.9]
    assert twins and all(k["predicted_iou"] >= g["predicted_iou"] for k in twins), "a removed mask had no better twin"
    assert any(box_iou(g["bbox"], k["bbox"]) <= 0.7 for k in twins), "box NMS would have caught it"
for i, p in enumerate(kept):
    for q in kept[i + 1:]:
        assert iou(bits(p), bits(q)) <= 0.9 + 1e-6, "two near-copies kept"
assert len(b["masks"]) <= len(c["masks"]) <= len(a["masks"])
PY
else
  echo "no \$SAM2_BENCH/shapes-dev: only the bad-input checks run"
fi

# bad values are refused before any image is read
expect_fail "dedup threshold 0" "dedup-iou" "$SAM2" auto "$TMP/none.png" -o "$TMP/bo" --dedup-iou 0
expect_fail "dedup threshold above 1" "dedup-iou" "$SAM2" auto "$TMP/none.png" -o "$TMP/bo" --dedup-iou 1.5
expect_fail "dedup threshold NaN" "dedup-iou" "$SAM2" auto "$TMP/none.png" -o "$TMP/bo" --dedup-iou nan
expect_fail "dedup bad value" "dedup" "$SAM2" auto "$TMP/none.png" -o "$TMP/bo" --dedup maybe
expect_fail "dedup without value" "needs a value" "$SAM2" auto "$TMP/none.png" -o "$TMP/bo" --dedup
expect_fail "consensus stability gate above 1" "min_stability" "$SAM2" auto "$TMP/none.png" -o "$TMP/bo" \
  --consensus-min-stability 2
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
