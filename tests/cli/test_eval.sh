#!/usr/bin/env bash
# sam2 eval: per-variant scores of the AMG on a small benchmark made of three
# shapes-dev scenes (one per variant), the same masks as sam2 auto, filters,
# and bad input refused with one line.
. "$(dirname "$0")/lib.sh"
SD=${SAM2_BENCH:-}/shapes-dev
B=(-t 2 --points-per-side 8 --pred-iou-thresh 0.5 --stability-score-thresh 0.8)

if [ -f "$SD/index.json" ]; then
  mkdir -p "$TMP/b"
  ln -s "$SD/images" "$TMP/b/images"
  ln -s "$SD/labels" "$TMP/b/labels"
  python3 - "$SD/index.json" "$TMP/b/index.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
keep = [e for e in j["images"] if e["id"] in ("dev_000", "dev_003", "dev_010")]
json.dump({"images": keep}, open(sys.argv[2], "w"))
PY
  expect_ok "eval three scenes" "$SAM2" eval "$TMP/b" "${B[@]}" --json "$TMP/e.json"
  for v in gray color lowc all; do grep -q "^$v " "$TMP/out" && ok || bad "table row $v missing"; done
  python3 - "$TMP/e.json" <<'PY' && ok || bad "eval JSON shape or values"
import json, sys
j = json.load(open(sys.argv[1]))
assert set(j["variants"]) == {"gray", "color", "lowc", "all"}, j["variants"].keys()
assert j["params"]["points_per_side"] == 8 and abs(j["params"]["pred_iou_thresh"] - 0.5) < 1e-6
assert len(j["images"]) == 3
for name, v in j["variants"].items():
    for k in ("recall50", "recall75", "uncovered_object_pixels", "split_rate"):
        assert 0.0 <= v[k] <= 1.0, (name, k, v[k])
    assert v["recall75"] <= v["recall50"]
    assert v["seconds_per_image"] > 0
a = j["variants"]["all"]
assert a["images"] == 3 and a["objects"] == sum(i["objects"] for i in j["images"])
assert abs(a["masks_per_image"] - sum(i["masks"] for i in j["images"]) / 3) < 1e-9
noise = {i["id"]: i["noise_sigma"] for i in j["images"]}
assert 1.5 < noise["dev_010"] < 5.5 and all(0 <= v < 20 for v in noise.values()), noise  # lowc: sigma 1.5-5
# per object: contrast and best IoU, one each, agreeing with the counts
for i in j["images"]:
    c, b = i["object_contrast"], i["object_best_iou"]
    assert len(c) == len(b) == i["objects"], i
    assert all(0 <= x <= 255 for x in c) and all(0 <= x <= 1 for x in b), i
    assert sum(x >= 0.75 for x in b) == i["found75"] and sum(x >= 0.5 for x in b) == i["found50"], i
# shapes-dev's low-contrast objects stand "within about 5-16 grey levels" of
# the background, the gray ones at least about 30
con = {i["id"]: sorted(i["object_contrast"]) for i in j["images"]}
assert 3 <= con["dev_010"][len(con["dev_010"]) // 2] <= 18, con
assert con["dev_000"][len(con["dev_000"]) // 2] >= 25, con
PY
  # the masks scored are the ones sam2 auto makes with the same parameters
  expect_ok "auto on one scene" "$SAM2" auto "$SD/images/dev_003.png" "${B[@]}" --output-mode coco_rle -o "$TMP/ao" --json "$TMP/a.json"
  n_auto=$(json_get "$TMP/a.json" "len(j['masks'])")
  n_eval=$(json_get "$TMP/e.json" "[i['masks'] for i in j['images'] if i['id'] == 'dev_003'][0]")
  expect_eq "eval and auto agree on the masks" "$n_eval" "$n_auto"
  # --overlays: one page per image named by its id (two tiles of the image's
  # size side by side, captions below); an existing page is kept unless
  # --overwrite; a file where the folder should be is refused
  expect_ok "eval overlays" "$SAM2" eval "$TMP/b" "${B[@]}" --variant lowc --variant gray --overlays "$TMP/ov"
  expect_eq "overlay pages" "$(ls "$TMP/ov" | tr '\n' ' ')" "dev_000.png dev_010.png "
  png_size() { python3 -c "import struct,sys; b=open(sys.argv[1],'rb').read(24); print(b[:8] == b'\x89PNG\r\n\x1a\n', *struct.unpack('>II', b[16:24]))" "$1"; }
  read -r png pw ph <<<"$(png_size "$TMP/ov/dev_010.png")"
  [ "$png" = True ] && [ "$pw" -ge 640 ] && [ "$ph" -gt 320 ] && ok || bad "overlay page: png $png, $pw x $ph"
  sum_before=$(md5sum "$TMP/ov/dev_010.png")
  expect_fail "overlay exists" "not overwriting" "$SAM2" eval "$TMP/b" "${B[@]}" --variant lowc --overlays "$TMP/ov"
  expect_eq "existing overlay kept" "$(md5sum "$TMP/ov/dev_010.png")" "$sum_before"
  expect_ok "overlays overwritten" "$SAM2" eval "$TMP/b" "${B[@]}" --variant lowc --overlays "$TMP/ov" --overwrite
  touch "$TMP/ovfile"
  expect_fail "overlays folder is a file" "cannot create the folder" "$SAM2" eval "$TMP/b" "${B[@]}" --overlays "$TMP/ovfile"
  # gap filling: masks are added and say so, the grid's stay; without it the
  # records carry only the official keys
  S=(-t 2 --points-per-side 16 --pred-iou-thresh 0.5 --stability-score-thresh 0.8)
  expect_ok "auto official" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --json "$TMP/o.json" --output-mode coco_rle -o "$TMP/oo"
  expect_ok "auto gap fill" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --gap-fill true --gap-fill-min-edge 0 \
    --json "$TMP/r.json" --output-mode coco_rle -o "$TMP/ro"
  python3 - "$TMP/o.json" "$TMP/r.json" <<'PY' && ok || bad "robust records"
import json, sys
o, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
official = {"segmentation", "area", "bbox", "predicted_iou", "point_coords", "stability_score", "crop_box"}
assert "robust" not in o and all(set(m) == official for m in o["masks"])
assert r["robust"]["gap_fill"]["rounds"] >= 1 and r["robust"]["gap_fill"]["min_edge"] == 0
grid = [m for m in r["masks"] if "source" not in m]
added = [m for m in r["masks"] if m.get("source") == "gap_fill"]
assert len(added) >= 1 and len(grid) + len(added) == len(r["masks"])
assert grid == o["masks"], "the grid's records changed"
PY
  # by default gap masks must follow edges of the image: on this noisy scene
  # the answers found without the test do not (their outlines' medians 1.25-1.35)
  expect_ok "auto gap fill, outline test" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --gap-fill true \
    --json "$TMP/r1.json" --output-mode coco_rle -o "$TMP/r1o"
  expect_eq "gap masks with the outline test" "$(json_get "$TMP/r1.json" "(j['robust']['gap_fill']['min_edge'], sum(m.get('source') == 'gap_fill' for m in j['masks']), len(j['masks']))")" \
    "(1.5, 0, $(json_get "$TMP/o.json" "len(j['masks'])"))"
  # consensus: votes of agreeing candidates are added and say so, after the grid's
  # (which keep their levels here: level picking for them is tested further on)
  expect_ok "auto consensus" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --consensus true --consensus-pick-masks false --json "$TMP/k.json" --output-mode coco_rle -o "$TMP/ko"
  python3 - "$TMP/o.json" "$TMP/k.json" <<'PY' && ok || bad "consensus records"
import json, sys
o, k = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
c = k["robust"]["consensus"]
assert c["min_support"] == 8 and abs(c["min_stability"] - 0.3) < 1e-6 and c["inner_support"] == 24 and c["min_edge"] == 1.5
assert c["cell_clicks"] is False and c["zoom_layers"] == 1 and c["mirror"] is True and c["flip"] is False
assert k["robust"]["gap_fill"] is False
n = len(o["masks"])
assert k["masks"][:n] == o["masks"], "the grid's records changed"
added = k["masks"][n:]
assert len(added) >= 1 and all(m["source"] == "consensus" for m in added)
PY
  # the zoomed crops' answers (default) find more of dev_013's objects than the
  # grid's alone, and leave the generator's own masks as they are (without the
  # mirrored answers, to see the crops' part alone)
  expect_ok "consensus without zoom" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --consensus true --consensus-pick-masks false \
    --consensus-mirror false --consensus-zoom 0 --consensus-min-support 4 --json "$TMP/k0.json" --output-mode coco_rle -o "$TMP/k0"
  python3 - "$TMP/o.json" "$TMP/k.json" "$TMP/k0.json" <<'PY' && ok || bad "zoom settings or grid records"
import json, sys
o, k, k0 = (json.load(open(f)) for f in sys.argv[1:4])
assert k0["robust"]["consensus"]["zoom_layers"] == 0 and k0["robust"]["consensus"]["min_support"] == 4
n = len(o["masks"])
assert k0["masks"][:n] == o["masks"] and k["masks"][:n] == o["masks"], "the grid's records changed"
assert [m["segmentation"] for m in k["masks"]] != [m["segmentation"] for m in k0["masks"]]
PY
  mkdir -p "$TMP/z"
  ln -s "$SD/images" "$TMP/z/images"
  ln -s "$SD/labels" "$TMP/z/labels"
  json_get "$SD/index.json" "json.dumps({'images': [e for e in j['images'] if e['id'] == 'dev_013']})" >"$TMP/z/index.json"
  expect_ok "eval zoomed consensus" "$SAM2" eval "$TMP/z" "${B[@]}" --consensus true --consensus-mirror false \
    --consensus-min-support 5 --json "$TMP/ez1.json"
  expect_ok "eval grid consensus" "$SAM2" eval "$TMP/z" "${B[@]}" --consensus true --consensus-mirror false \
    --consensus-zoom 0 --consensus-min-support 4 --json "$TMP/ez0.json"
  r1=$(json_get "$TMP/ez1.json" "round(j['variants']['lowc']['recall75'] * j['variants']['lowc']['objects'])")
  r0=$(json_get "$TMP/ez0.json" "round(j['variants']['lowc']['recall75'] * j['variants']['lowc']['objects'])")
  [ "$r1" -gt "$r0" ] && ok || bad "zoomed answers found $r1 objects, the grid's alone $r0"
  expect_fail "bad zoom" "zoom_layers" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" --consensus-zoom 4
  # explicit grids: the zoomed crops ask the last grid given
  printf '[[[0.25, 0.25], [0.5, 0.5], [0.75, 0.6]]]' >"$TMP/grid1.json"
  expect_ok "zoomed consensus with one explicit grid" "$SAM2" auto "$SD/images/dev_003.png" -t 2 \
    --point-grids "$TMP/grid1.json" --consensus true --consensus-mirror false --json "$TMP/pg.json" --output-mode coco_rle -o "$TMP/pg"
  # an embedding has no crops to zoom into: the grid's answers alone
  expect_ok "embed for consensus" "$SAM2" embed "$SD/images/dev_003.png" -o "$TMP/d3.emb"
  expect_ok "zoomed consensus on an embedding" "$SAM2" auto "$TMP/d3.emb" "${B[@]}" --consensus true --consensus-flip true \
    --json "$TMP/ce.json" --output-mode coco_rle -o "$TMP/ce"
  # with cell clicks the pool holds more answers: other votes, and the settings say so
  expect_ok "consensus with cell clicks" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --consensus true --consensus-pick-masks false \
    --consensus-mirror false --consensus-zoom 0 --consensus-cell-clicks true --consensus-min-support 7 --json "$TMP/k1.json" \
    --output-mode coco_rle -o "$TMP/k1"
  python3 - "$TMP/k0.json" "$TMP/k1.json" <<'PY' && ok || bad "cell clicks changed nothing"
import json, sys
k, k1 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert k1["robust"]["consensus"]["cell_clicks"] is True and k1["robust"]["consensus"]["min_support"] == 7
n = len(k["masks"]) - sum(m.get("source") == "consensus" for m in k["masks"])
assert k1["masks"][:n] == k["masks"][:n], "the grid's records changed"
assert [m["segmentation"] for m in k["masks"]] != [m["segmentation"] for m in k1["masks"]]
PY
  # the mirrored image's answers (default) give other votes than the image's
  # alone; the grid's records stay, the settings say which ran
  expect_ok "consensus without mirrored answers" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --consensus true --consensus-pick-masks false \
    --consensus-mirror false --consensus-min-support 5 --json "$TMP/k2.json" --output-mode coco_rle -o "$TMP/k2"
  python3 - "$TMP/k2.json" "$TMP/k.json" <<'PY' && ok || bad "mirrored answers changed nothing"
import json, sys
k, k2 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert k["robust"]["consensus"]["mirror"] is False and k2["robust"]["consensus"]["mirror"] is True
n = len(k["masks"]) - sum(m.get("source") == "consensus" for m in k["masks"])
assert k2["masks"][:n] == k["masks"][:n], "the grid's records changed"
assert all(m["source"] == "consensus" for m in k2["masks"][n:])
assert [m["segmentation"] for m in k["masks"]] != [m["segmentation"] for m in k2["masks"]]
PY
  # the flipped image's answers join the mirrored ones: other votes, the
  # grid's records stay, the settings say so
  expect_ok "consensus with flipped answers" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --consensus true --consensus-pick-masks false \
    --consensus-flip true --consensus-min-support 11 --consensus-inner-support 33 --json "$TMP/k3.json" \
    --output-mode coco_rle -o "$TMP/k3"
  python3 - "$TMP/k.json" "$TMP/k3.json" <<'PY' && ok || bad "flipped answers changed nothing"
import json, sys
k, k3 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
c = k3["robust"]["consensus"]
assert c["flip"] is True and c["mirror"] is True and c["min_support"] == 11 and c["inner_support"] == 33
n = len(k["masks"]) - sum(m.get("source") == "consensus" for m in k["masks"])
assert k3["masks"][:n] == k["masks"][:n], "the grid's records changed"
assert len(k3["masks"]) > n and all(m["source"] == "consensus" for m in k3["masks"][n:])
assert [m["segmentation"] for m in k["masks"]] != [m["segmentation"] for m in k3["masks"]]
PY
  expect_fail "bad flip value" "consensus-flip" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bf" --consensus-flip maybe
  # a low-contrast scene is stretched, and the answers on its denoised copy
  # join the pool (default): other votes than without them, the grid's
  # records the same, the settings and the preprocessing say so (8 x 8
  # clicks: one vote either way)
  expect_ok "consensus after the stretch" "$SAM2" auto "$SD/images/dev_013.png" "${B[@]}" --contrast auto \
    --consensus true --json "$TMP/k4.json" --output-mode coco_rle -o "$TMP/k4"
  expect_ok "consensus after the stretch, without denoised answers" "$SAM2" auto "$SD/images/dev_013.png" "${B[@]}" \
    --contrast auto --consensus true --consensus-denoised false --json "$TMP/k5.json" --output-mode coco_rle -o "$TMP/k5"
  python3 - "$TMP/k4.json" "$TMP/k5.json" <<'PY' && ok || bad "denoised answers changed nothing"
import json, sys
k4, k5 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert k4["preprocessing"]["contrast"] == "stretch" and k5["preprocessing"]["contrast"] == "stretch"
assert k4["preprocessing"]["denoised_answers"] is True and k5["preprocessing"]["denoised_answers"] is False
assert k4["robust"]["consensus"]["denoised"] == {"min_support": 14, "inner_support": 38}
assert k5["robust"]["consensus"]["denoised"] is False
n = len(k5["masks"]) - sum(m.get("source") == "consensus" for m in k5["masks"])
assert k4["masks"][:n] == k5["masks"][:n], "the grid's records changed"
assert all(m["source"] == "consensus" for m in k4["masks"][n:])
assert [m["segmentation"] for m in k4["masks"]] != [m["segmentation"] for m in k5["masks"]]
PY
  # a colour scene is not stretched: no denoised answers, the same masks
  expect_ok "robust colour scene" "$SAM2" auto "$SD/images/dev_003.png" "${B[@]}" --robust \
    --json "$TMP/k6.json" --output-mode coco_rle -o "$TMP/k6"
  expect_ok "robust colour scene, without denoised answers" "$SAM2" auto "$SD/images/dev_003.png" "${B[@]}" --robust \
    --consensus-denoised false --json "$TMP/k7.json" --output-mode coco_rle -o "$TMP/k7"
  expect_eq "denoised answers on a colour scene" \
    "$(json_get "$TMP/k6.json" "(j['preprocessing'], j['masks'] == json.load(open('$TMP/k7.json'))['masks'])")" \
    "({'contrast': 'none', 'denoised_answers': False}, True)"
  expect_fail "bad denoised value" "consensus-denoised" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bd" \
    --consensus-denoised maybe
  expect_fail "bad denoised support" "denoised_min_support" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bd" \
    --consensus-denoised-support 0
  # the steps after consensus ask the model about the image itself, not its
  # mirror: with no vote possible, gap filling gives what it gives alone (here
  # without zoomed crops, after which the context would hold the whole
  # mirrored image)
  expect_ok "gap fill alone" "$SAM2" auto "$SD/images/dev_013.png" "${B[@]}" --gap-fill true --gap-fill-min-edge 0 \
    --json "$TMP/g0.json" --output-mode coco_rle -o "$TMP/g0"
  expect_ok "gap fill after mirrored answers" "$SAM2" auto "$SD/images/dev_013.png" "${B[@]}" --gap-fill true --gap-fill-min-edge 0 \
    --consensus true --consensus-zoom 0 --consensus-min-support 100000 --json "$TMP/g1.json" \
    --output-mode coco_rle -o "$TMP/g1"
  python3 - "$TMP/g0.json" "$TMP/g1.json" <<'PY' && ok || bad "gap fill after mirrored answers"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b["robust"]["consensus"]["mirror"] is True
assert any(m.get("source") == "gap_fill" for m in a["masks"])
assert a["masks"] == b["masks"]
PY
  expect_fail "bad mirror value" "consensus-mirror" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" \
    --consensus-mirror sideways
  # inner votes: dev_036's strict masks join objects; with --consensus-inner-support
  # votes inside them are added (at least two more votes mostly inside one of them;
  # without the mirrored answers, so fewer clicks: 8)
  expect_ok "consensus on dev_036" "$SAM2" auto "$SD/images/dev_036.png" "${S[@]}" --consensus true \
    --consensus-mirror false --consensus-min-support 5 --consensus-inner-support 0 --json "$TMP/i0.json" --output-mode uncompressed_rle -o "$TMP/i0"
  expect_ok "consensus with inner votes" "$SAM2" auto "$SD/images/dev_036.png" "${S[@]}" --consensus true \
    --consensus-mirror false --consensus-min-support 5 --consensus-inner-support 8 --json "$TMP/i1.json" --output-mode uncompressed_rle -o "$TMP/i1"
  python3 - "$TMP/i0.json" "$TMP/i1.json" <<'PY' && ok || bad "inner votes"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["robust"]["consensus"]["inner_support"] == 0 and b["robust"]["consensus"]["inner_support"] == 8
def decode(m):
    s = m["segmentation"]; h, w = s["size"]; out = bytearray(h * w); p = 0
    for i, c in enumerate(s["counts"]):
        if i % 2: out[p:p + c] = b"\x01" * c
        p += c
    return out
grid = [m for m in a["masks"] if "source" not in m]
assert b["masks"][:len(grid)] == grid, "the grid's records changed"
hosts = [decode(m) for m in grid]
def inner(r):
    n = 0
    for m in r["masks"][len(grid):]:
        v = decode(m)
        n += any(sum(x & y for x, y in zip(v, h)) >= 0.8 * sum(v) for h in hosts)
    return n
assert all(m["source"] == "consensus" for m in b["masks"][len(grid):])
assert inner(b) >= inner(a) + 2, (inner(a), inner(b))
PY
  expect_fail "bad inner support" "inner_support" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" \
    --consensus-inner-support -1
  expect_fail "bad cell clicks value" "consensus-cell-clicks" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" \
    --consensus-cell-clicks maybe
  expect_fail "bad consensus value" "consensus-agree-iou" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" --consensus-agree-iou 0
  expect_fail "negative consensus outline test" "min_edge" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" --consensus-min-edge -1
  expect_fail "negative gap-fill outline test" "gap-fill-min-edge" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" --gap-fill-min-edge -1
  expect_ok "eval robust" "$SAM2" eval "$TMP/b" "${B[@]}" --robust --json "$TMP/er.json"
  json_get "$TMP/er.json" "j['robust']['gap_fill']['pred_iou_thresh']" | grep -q "^0.1" && ok || bad "eval JSON lacks the robust settings"
  expect_eq "robust turns the contrast step on" "$(json_get "$TMP/er.json" "j['robust']['contrast']")" auto
  expect_eq "robust turns consensus on" "$(json_get "$TMP/er.json" "j['robust']['consensus']['agree_iou']")" 0.75
  expect_eq "robust turns merging on" "$(json_get "$TMP/er.json" "round(j['robust']['merge']['min_union_iou'], 3)")" 0.8
  expect_eq "robust turns dedup on" "$(json_get "$TMP/er.json" "round(j['robust']['dedup_iou'], 3)")" 0.9
  expect_eq "outline tests on by default" "$(json_get "$TMP/er.json" "(j['robust']['consensus']['min_edge'], j['robust']['gap_fill']['min_edge'])")" "(1.5, 1.5)"
  # the contrast step: chosen for a low-contrast gray scene, reported, and it changes the masks
  expect_ok "auto contrast" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --contrast auto --json "$TMP/c.json" \
    --output-mode coco_rle -o "$TMP/co"
  expect_eq "the stretch reported" "$(json_get "$TMP/c.json" "j['preprocessing']['contrast']")" stretch
  python3 - "$TMP/o.json" "$TMP/c.json" <<'PY' && ok || bad "the stretch changed nothing"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert [m["segmentation"] for m in a["masks"]] != [m["segmentation"] for m in b["masks"]]
PY
  expect_ok "CLAHE on request" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --contrast clahe --json "$TMP/cl.json" \
    --output-mode coco_rle -o "$TMP/cl"
  expect_eq "CLAHE reported" "$(json_get "$TMP/cl.json" "j['preprocessing']['contrast']")" clahe
  python3 - "$TMP/c.json" "$TMP/cl.json" <<'PY' && ok || bad "CLAHE and the stretch gave the same masks"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert [m["segmentation"] for m in a["masks"]] != [m["segmentation"] for m in b["masks"]]
PY
  expect_ok "auto contrast, colour scene" "$SAM2" auto "$SD/images/dev_003.png" "${S[@]}" --contrast auto \
    --json "$TMP/c3.json" --output-mode coco_rle -o "$TMP/c3"
  expect_eq "no contrast step for colour" "$(json_get "$TMP/c3.json" "j['preprocessing']['contrast']")" none
  expect_ok "stretch on request, colour scene" "$SAM2" auto "$SD/images/dev_003.png" "${S[@]}" --contrast stretch \
    --json "$TMP/c4.json" --output-mode coco_rle -o "$TMP/c4"
  expect_eq "stretch reported for colour" "$(json_get "$TMP/c4.json" "j['preprocessing']['contrast']")" stretch
  # the median before the stretch on request: reported, other masks than the stretch alone
  expect_ok "median-stretch on request" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --contrast median-stretch \
    --json "$TMP/cm.json" --output-mode coco_rle -o "$TMP/cm"
  expect_eq "median-stretch reported" "$(json_get "$TMP/cm.json" "j['preprocessing']['contrast']")" median-stretch
  python3 - "$TMP/c.json" "$TMP/cm.json" <<'PY' && ok || bad "the median changed nothing"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert [m["segmentation"] for m in a["masks"]] != [m["segmentation"] for m in b["masks"]]
PY
  expect_fail "bad contrast" "off, auto, stretch, median-stretch or clahe" "$SAM2" auto "$SD/images/dev_013.png" \
    -o "$TMP/bo" --contrast max
  # merging on request: parts replaced by the model's answer, marked "merged"
  expect_ok "auto merge" "$SAM2" auto "$SD/images/dev_001.png" -t 2 --points-per-side 8 --pred-iou-thresh 0.1 \
    --stability-score-thresh 0 --merge true --merge-iou-thresh 0 --merge-min-union-iou 0 --json "$TMP/m.json" \
    --output-mode coco_rle -o "$TMP/mo"
  python3 - "$TMP/m.json" <<'PY' && ok || bad "merge records"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["robust"]["merge"]["min_union_iou"] == 0
assert abs(j["robust"]["merge"]["inner_vote_frac"] - 0.8) < 1e-6  # the consensus absorb_frac
assert any(m.get("source") == "merged" for m in j["masks"])
PY
  expect_fail "bad merge value" "merge-min-union-iou" "$SAM2" auto "$SD/images/dev_001.png" -o "$TMP/bo" \
    --merge-min-union-iou 3
  # large images: the robust steps run on a copy shrunk to --robust-max-side,
  # the masks come back at the image's size; images within it are untouched
  expect_ok "robust shrunk" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --robust --robust-max-side 120 \
    --json "$TMP/rs.json" --output-mode coco_rle -o "$TMP/rso"
  expect_ok "robust full size" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --robust --json "$TMP/rf.json" \
    --output-mode coco_rle -o "$TMP/rfo"
  expect_ok "robust never shrunk" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --robust --robust-max-side 0 \
    --json "$TMP/r0.json" --output-mode coco_rle -o "$TMP/r0o"
  python3 - "$SD/images/dev_013.png" "$TMP/rs.json" "$TMP/rf.json" "$TMP/r0.json" <<'PY' && ok || bad "robust on a shrunk copy"
import json, struct, sys
w, h = struct.unpack(">II", open(sys.argv[1], "rb").read()[16:24])
s, f, z = (json.load(open(p)) for p in sys.argv[2:5])
assert max(w, h) > 120 and s["robust"]["max_side"] == 120 and f["robust"]["max_side"] == 1024
assert len(s["masks"]) >= 1
for m in s["masks"]:
    assert m["segmentation"]["size"] == [h, w], m["segmentation"]["size"]
    x, y, bw, bh = m["bbox"]
    assert 0 <= x and x + bw < w and 0 <= y and y + bh < h and m["area"] > 0
assert [m["segmentation"] for m in s["masks"]] != [m["segmentation"] for m in f["masks"]]
assert z["masks"] == f["masks"], "an image within max_side changed"
PY
  # on a gray image the vote's level follows the image's edges unless asked
  # not to, and so do the other masks' (after gap filling and merging); the
  # settings say which ran; on a colour scene only "all" changes them
  expect_ok "votes at vote_frac" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --robust --consensus-pick-level off \
    --json "$TMP/rl.json" --output-mode coco_rle -o "$TMP/rlo"
  expect_ok "votes only picked" "$SAM2" auto "$SD/images/dev_013.png" "${S[@]}" --robust --consensus-pick-masks false \
    --json "$TMP/rm.json" --output-mode coco_rle -o "$TMP/rmo"
  python3 - "$TMP/rf.json" "$TMP/rl.json" "$TMP/rm.json" <<'PY' && ok || bad "--consensus-pick-level, --consensus-pick-masks"
import json, sys
f, l, m = (json.load(open(p)) for p in sys.argv[1:4])
assert f["robust"]["consensus"]["pick_level"] == "gray" and f["robust"]["consensus"]["level_gain"] == 0.25
assert f["robust"]["consensus"]["pick_masks"] is True and m["robust"]["consensus"]["pick_masks"] is False
assert l["robust"]["consensus"]["pick_level"] == "off"
grid = lambda j: [r["segmentation"] for r in j["masks"] if r.get("source") != "consensus"]
votes = lambda j: [r["segmentation"] for r in j["masks"] if r.get("source") == "consensus"]
assert grid(m) == grid(l) and grid(m), "the other masks changed without picking them"
assert votes(m) == votes(f) and votes(m) != votes(l), "pick_masks changed the votes, or picking changed none"
assert not any("picked_level" in r for r in l["masks"])
assert not any("picked_level" in r for r in m["masks"] if r.get("source") != "consensus")
# the same masks in the same order; the picked ones changed, the rest did not
assert len(f["masks"]) == len(m["masks"])
picked = 0
for a, b in zip(f["masks"], m["masks"]):
    if a.get("source") == "consensus": continue
    if "picked_level" in a:
        picked += 1
        assert a["picked_level"] in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7) and a["segmentation"] != b["segmentation"]
        assert a["point_coords"] == b["point_coords"] and a["predicted_iou"] == b["predicted_iou"]
    else:
        assert a["segmentation"] == b["segmentation"]
assert picked >= 1, "no mask's level picked"
PY
  expect_fail "bad pick masks" "consensus-pick-masks" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" \
    --consensus-pick-masks 2
  # gap filling under large masks: on dev_057 (low contrast) an object that
  # a background-sized mask covers gets its own mask; with it off, not
  expect_ok "fill under large masks" "$SAM2" auto "$SD/images/dev_057.png" "${S[@]}" --robust \
    --json "$TMP/u1.json" --output-mode uncompressed_rle -o "$TMP/u1o"
  expect_ok "no fill under large masks" "$SAM2" auto "$SD/images/dev_057.png" "${S[@]}" --robust --gap-fill-under 0 \
    --json "$TMP/u0.json" --output-mode uncompressed_rle -o "$TMP/u0o"
  python3 - "$TMP/u1.json" "$TMP/u0.json" <<'PY' && ok || bad "--gap-fill-under"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
u = a["robust"]["gap_fill"]["under"]
assert u == {"frac": 0.25, "support": 8, "min_edge": 3} and b["robust"]["gap_fill"]["under"] is False, u
h, w = a["masks"][0]["segmentation"]["size"]
def covers(m, x, y):  # column-major runs, zeros first
    q, p, on = int(x) * h + int(y), 0, False
    for c in m["segmentation"]["counts"]:
        if p <= q < p + c: return on
        p, on = p + c, not on
    return False
old = [m["segmentation"] for m in b["masks"]]
new = [m for m in a["masks"] if m["segmentation"] not in old]
assert new and all(m["source"] == "gap_fill" for m in new), [m.get("source") for m in new]
for m in new:  # its click lies under a mask of a quarter of the image or more, and it is smaller
    x, y = m["point_coords"][0]
    assert any(o["area"] >= 0.25 * w * h and covers(o, x, y) for o in a["masks"]), (x, y)
    assert m["area"] < 0.25 * w * h and covers(m, x, y)
PY
  expect_fail "bad fill-under share" "gap-fill-under" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" \
    --gap-fill-under 1.5
  expect_fail "bad fill-under support" "gap-fill-under-support" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" \
    --gap-fill-under-support 0
  # (an 8 x 8 grid and a support of 4 keep these three runs short under the sanitizers)
  for lv in off gray all; do
    expect_ok "colour scene, pick level $lv" "$SAM2" auto "$SD/images/dev_005.png" -t 2 --points-per-side 8 \
      --pred-iou-thresh 0.5 --stability-score-thresh 0.8 --robust --consensus-min-support 4 \
      --consensus-pick-level $lv --json "$TMP/pc_$lv.json" --output-mode coco_rle -o "$TMP/pco_$lv"
  done
  python3 - "$TMP/pc_off.json" "$TMP/pc_gray.json" "$TMP/pc_all.json" <<'PY' && ok || bad "pick level on a colour scene"
import json, sys
off, gray, every = ([m["segmentation"] for m in json.load(open(p))["masks"]] for p in sys.argv[1:4])
assert gray == off, "gray picked levels on a colour scene"
assert every != off, "all picked no level on a colour scene"
PY
  expect_fail "bad level gain" "level_gain" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" --consensus-level-gain -1
  expect_fail "bad pick level" "consensus-pick-level" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" \
    --consensus-pick-level true
  expect_fail "bad max side" "robust-max-side" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" --robust-max-side -5
  expect_fail "bad gap-fill value" "gap-fill-rounds" "$SAM2" auto "$SD/images/dev_013.png" -o "$TMP/bo" --gap-fill-rounds 99
  # filters
  expect_ok "variant filter" "$SAM2" eval "$TMP/b" "${B[@]}" --variant lowc
  grep -q "^lowc " "$TMP/out" && ! grep -q "^gray \|^all " "$TMP/out" && ok || bad "--variant lowc printed other rows"
  expect_ok "limit" "$SAM2" eval "$TMP/b" "${B[@]}" --limit 1
  grep -q "^gray  *1 " "$TMP/out" && ok || bad "--limit 1: $(cat "$TMP/out")"
  expect_fail "no matching variant" "no image" "$SAM2" eval "$TMP/b" "${B[@]}" --variant nosuch
  expect_fail "json exists" "exists" "$SAM2" eval "$TMP/b" "${B[@]}" --json "$TMP/e.json"
  # labels of another scene: size mismatch named
  python3 - "$TMP/b/index.json" "$TMP/bad.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["images"][0]["labels"] = j["images"][1]["labels"]
json.dump(j, open(sys.argv[2], "w"))
PY
  mkdir -p "$TMP/c" && ln -s "$SD/images" "$TMP/c/images" && ln -s "$SD/labels" "$TMP/c/labels"
  cp "$TMP/bad.json" "$TMP/c/index.json"
  expect_fail "labels of another size" "but the image is" "$SAM2" eval "$TMP/c" "${B[@]}"
else
  echo "no \$SAM2_BENCH/shapes-dev: only the bad-input checks run"
fi

mkdir -p "$TMP/empty"
expect_fail "no index" "cannot open" "$SAM2" eval "$TMP/empty"
echo '{"images": []}' > "$TMP/empty/index.json"
expect_fail "empty index" "no \"images\"" "$SAM2" eval "$TMP/empty"
echo '{"images": [{"id": "x"}]}' > "$TMP/empty/index.json"
expect_fail "entry without paths" "lacks" "$SAM2" eval "$TMP/empty"
echo '{"images": [{"image": "nosuch.png", "labels": "nosuch.png"}]}' > "$TMP/empty/index.json"
expect_fail "missing image" "nosuch.png" "$SAM2" eval "$TMP/empty"
echo 'not json' > "$TMP/empty/index.json"
expect_fail "broken index" "not valid JSON" "$SAM2" eval "$TMP/empty"
# variant names are the index's own strings: a long one is one row, not one
# row per image under a truncated name; a variant that is not a string is refused
mkdir -p "$TMP/lv"
python3 - "$SRC/examples/images/shapes_gray.png" "$TMP/lv" <<'PY'
import json, struct, sys, zlib
img, out = sys.argv[1], sys.argv[2]
w, h = struct.unpack(">II", open(img, "rb").read()[16:24])
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
raw = b"".join(b"\0" + bytes(1 + (x * 2 >= w) for x in range(w)) for _ in range(h))
open(out + "/labels.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                                      + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
open(out + "/image.png", "wb").write(open(img, "rb").read())
e = {"image": "image.png", "labels": "labels.png", "variant": "v" * 80}
json.dump({"images": [dict(e, id="a"), dict(e, id="b")]}, open(out + "/index.json", "w"))
json.dump({"images": [dict(e, id="a", variant=7)]}, open(out + "/bad.json", "w"))
json.dump({"images": [dict(e, id="a", variant="all")]}, open(out + "/all.json", "w"))
u = dict(e, id="u"); del u["variant"]
json.dump({"images": [dict(e, id="a", variant="x"), u]}, open(out + "/mixed.json", "w"))
PY
expect_ok "long variant name" "$SAM2" eval "$TMP/lv" -t 2 --points-per-side 2
[ "$(grep -c "^v\{80\}  *2 " "$TMP/out")" = 1 ] && ! grep -q "^all " "$TMP/out" && ok ||
  bad "long variant name: not one row of 2 images: $(cat "$TMP/out")"
# untagged images make their own row beside the tagged ones and the total
cp "$TMP/lv/index.json" "$TMP/lv/long.json" && mv "$TMP/lv/mixed.json" "$TMP/lv/index.json"
expect_ok "tagged and untagged" "$SAM2" eval "$TMP/lv" -t 2 --points-per-side 2 --json "$TMP/mixed_out.json"
expect_eq "rows of a mixed index" "$(json_get "$TMP/mixed_out.json" "sorted(j['variants'])")" "['all', 'untagged', 'x']"
mv "$TMP/lv/all.json" "$TMP/lv/index.json"
expect_fail "variant named all" "taken by the total" "$SAM2" eval "$TMP/lv" -t 2 --points-per-side 2
mv "$TMP/lv/bad.json" "$TMP/lv/index.json"
expect_fail "variant not a string" "must be strings" "$SAM2" eval "$TMP/lv" -t 2 --points-per-side 2
expect_fail "no folder" "no benchmark folder" "$SAM2" eval
expect_fail "bad parameter" "pred" "$SAM2" eval "$TMP/empty" --pred-iou-thresh 7
expect_fail "bad limit" "limit" "$SAM2" eval "$TMP/empty" --limit 0
expect_fail "unknown option" "unknown" "$SAM2" eval "$TMP/empty" --frobnicate
expect_ok "help" "$SAM2" eval --help
grep -q "recall" "$TMP/out" && ok || bad "help lacks the metrics"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
