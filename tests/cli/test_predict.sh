#!/usr/bin/env bash
# sam2 embed / predict end to end on the embedded model: outputs written,
# JSON shape, PNG sizes, embedding reuse, and bad inputs.
. "$(dirname "$0")/lib.sh"
IMG="$SRC/examples/images/shapes_color.png"
W=$(python3 -c "import struct;f=open('$IMG','rb');f.read(16);print(struct.unpack('>I',f.read(4))[0])")
H=$(python3 -c "import struct;f=open('$IMG','rb');f.read(20);print(struct.unpack('>I',f.read(4))[0])")

expect_ok "embed" "$SAM2" embed "$IMG" -o "$TMP/img.emb" --dump-npy "$TMP/npy"
for t in input backbone_fpn_0 backbone_fpn_1 backbone_fpn_2 vision_pos_enc_0 image_embed high_res_feats_0 high_res_feats_1; do
  [ -s "$TMP/npy/$t.npy" ] && ok || bad "embed --dump-npy lacks $t.npy"
done
expect_eq "image_embed shape" "$(npy_shape "$TMP/npy/image_embed.npy")" "(1, 64, 16, 16)"
expect_fail "embed refuses to overwrite" "exists" "$SAM2" embed "$IMG" -o "$TMP/img.emb"

expect_ok "predict point" "$SAM2" predict "$IMG" --point 200,190 -o "$TMP/p1" --dump-npy "$TMP/p1npy"
expect_eq "3 masks" "$(json_get "$TMP/p1/predict.json" "len(j['masks'])")" 3
expect_eq "json width" "$(json_get "$TMP/p1/predict.json" "j['width']")" "$W"
for k in 0 1 2; do [ -s "$TMP/p1/mask_$k.png" ] && ok || bad "mask_$k.png missing"; done
[ -s "$TMP/p1/overlay.png" ] && ok || bad "overlay.png missing"
expect_eq "low_res_masks shape" "$(npy_shape "$TMP/p1npy/low_res_masks.npy")" "(1, 3, 64, 64)"

# the same prompt on the saved embedding gives the same masks
expect_ok "predict from embedding" "$SAM2" predict "$TMP/img.emb" --point 200,190 -o "$TMP/p2"
cmp -s "$TMP/p1/mask_0.png" "$TMP/p2/mask_0.png" && ok || bad "embedding and image give different masks"

expect_ok "predict box + negative point, single mask" "$SAM2" predict "$IMG" --box 100,100,300,280 --point 120,120,0 --multimask false -o "$TMP/p3"
expect_eq "1 mask" "$(json_get "$TMP/p3/predict.json" "len(j['masks'])")" 1
expect_ok "mask input" "$SAM2" predict "$IMG" --point 200,190 --mask-input "$TMP/p1npy/low_res_masks.npy:0" --multimask false -o "$TMP/p4"

# several boxes: one prompt each on one embedding, the same masks and logits as one box per run
B1=215,30,350,205; B2=40,90,145,170
expect_ok "two boxes" "$SAM2" predict "$IMG" --box $B1 --box $B2 -o "$TMP/pb" --dump-npy "$TMP/pbn"
expect_eq "a set per box" "$(json_get "$TMP/pb/predict.json" "[(b['box'], len(b['masks'])) for b in j['boxes']]")" \
  "[([215, 30, 350, 205], 3), ([40, 90, 145, 170], 3)]"
expect_eq "stacked logits" "$(npy_shape "$TMP/pbn/low_res_masks.npy")" "(2, 3, 64, 64)"
expect_eq "stacked IoUs" "$(npy_shape "$TMP/pbn/iou_predictions.npy")" "(2, 3)"
for b in 0 1; do
  box=$B1; [ $b -eq 1 ] && box=$B2
  expect_ok "box $b alone" "$SAM2" predict "$IMG" --box $box -o "$TMP/pb$b" --dump-npy "$TMP/pbn$b"
  for k in 0 1 2; do
    cmp -s "$TMP/pb/mask_${b}_$k.png" "$TMP/pb$b/mask_$k.png" && ok || bad "box $b mask $k differs from the box alone"
  done
  expect_eq "box $b IoUs" "$(json_get "$TMP/pb/predict.json" "[m['predicted_iou'] for m in j['boxes'][$b]['masks']]")" \
    "$(json_get "$TMP/pb$b/predict.json" "[m['predicted_iou'] for m in j['masks']]")"
  expect_eq "box $b logits" "$(npy_part_equal "$TMP/pbn/low_res_masks.npy" $b "$TMP/pbn$b/low_res_masks.npy")" True
done
expect_fail "several boxes with a click" "each is a prompt of its own" "$SAM2" predict "$IMG" --box $B1 --box $B2 --point 3,3 -o "$TMP/pbx"
expect_fail "two mask inputs" "one --mask-input" "$SAM2" predict "$IMG" --point 3,3 --mask-input a.npy --mask-input b.npy
boxes=(); for i in $(seq 257); do boxes+=(--box 1,1,9,9); done
expect_fail "too many boxes" "at most 256 boxes" "$SAM2" predict "$IMG" "${boxes[@]}"

# a click outside the image still runs (as in the official predictor), with a warning
expect_ok "point outside the image" "$SAM2" predict "$IMG" --point "$((W + 50)),10" -o "$TMP/pout"
grep -q "warning: point ($((W + 50)), 10) lies outside the $W x $H image" "$TMP/err" && ok || bad "no warning for a point outside the image: $(cat "$TMP/err")"
expect_ok "point inside the image" "$SAM2" predict "$IMG" --point 10,10 -o "$TMP/pin"
grep -q "warning" "$TMP/err" && bad "warning for a point inside the image: $(cat "$TMP/err")" || ok

# bad inputs
expect_fail "no prompt" "no prompt" "$SAM2" predict "$IMG"
expect_fail "NaN point" "point" "$SAM2" predict "$IMG" --point nan,3
expect_fail "bad label" "LABEL" "$SAM2" predict "$IMG" --point 3,3,7
expect_fail "reversed box" "x1 < x0" "$SAM2" predict "$IMG" --box 300,100,100,280 -o "$TMP/p5"
expect_fail "mask input shape" "expected shape" "$SAM2" predict "$IMG" --point 3,3 --mask-input "$TMP/npy/image_embed.npy" -o "$TMP/p6"
expect_fail "negative mask index" "negative" "$SAM2" predict "$IMG" --point 3,3 --mask-input "$TMP/p1npy/low_res_masks.npy:-1" -o "$TMP/p7n"
expect_fail "mask input needs an index" "pick one" "$SAM2" predict "$IMG" --point 3,3 --mask-input "$TMP/p1npy/low_res_masks.npy" -o "$TMP/p7"
# a .npy header claiming 2^40 values over 16 bytes of data: refused before 4 TiB is allocated
python3 -c "import sys;h=\"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1048576, 1048576), }\";h+=' '*(63-(10+len(h))%64)+'\\n';open(sys.argv[1],'wb').write(b'\\x93NUMPY\\x01\\x00'+bytes([len(h)%256,len(h)//256])+h.encode()+bytes(16))" "$TMP/huge.npy"
expect_fail "mask input with a huge shape" "truncated .npy data" "$SAM2" predict "$IMG" --point 3,3 --mask-input "$TMP/huge.npy" -o "$TMP/p7b"
head -c 1000 "$TMP/img.emb" >"$TMP/cut.emb"
expect_fail "truncated embedding" "truncated" "$SAM2" predict "$TMP/cut.emb" --point 3,3 -o "$TMP/p8"
# a changed byte in the features, or bytes after the end: the CRC-32 trailer refuses them
size=$(stat -c %s "$TMP/img.emb")
cp "$TMP/img.emb" "$TMP/flip.emb"
printf '\x5a' | dd of="$TMP/flip.emb" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_fail "corrupt embedding" "corrupt embedding" "$SAM2" predict "$TMP/flip.emb" --point 3,3 -o "$TMP/p8b"
cat "$TMP/img.emb" "$TMP/img.emb" >"$TMP/twice.emb"
expect_fail "bytes after the embedding" "after its end" "$SAM2" predict "$TMP/twice.emb" --point 3,3 -o "$TMP/p8c"
# a version 1 file (no trailer) from an earlier release still loads
python3 -c "import sys,struct;d=open(sys.argv[1],'rb').read();open(sys.argv[2],'wb').write(d[:8]+struct.pack('<I',1)+d[12:-4])" \
  "$TMP/img.emb" "$TMP/v1.emb"
expect_ok "version 1 embedding" "$SAM2" predict "$TMP/v1.emb" --point 200,190 -o "$TMP/p8d"
cmp -s "$TMP/p1/mask_0.png" "$TMP/p8d/mask_0.png" && ok || bad "version 1 embedding gives other masks"
# a NaN among the features, with a correct CRC-32: refused, not decoded into masks
python3 -c "import sys,struct,zlib;d=open(sys.argv[1],'rb').read()[:-4];d=d[:-4]+struct.pack('<f',float('nan'));open(sys.argv[2],'wb').write(d+struct.pack('<I',zlib.crc32(d)))" \
  "$TMP/img.emb" "$TMP/nan.emb"
expect_fail "NaN in an embedding" "non-finite" "$SAM2" predict "$TMP/nan.emb" --point 3,3 -o "$TMP/p8e"
if [ -n "$GOLDEN" ]; then
  expect_fail "embedding of another model" "another model" "$SAM2" predict "$TMP/img.emb" --point 3,3 \
    -m "$GOLDEN/models/micro256.pt" -c "$GOLDEN/models/micro256.yaml" -o "$TMP/p9"
fi
# damaged bytes quoted in a message are shown as '?', never as raw control characters
python3 -c "import sys;d=bytearray(open(sys.argv[1],'rb').read());d[13]=0x1b;open(sys.argv[2],'wb').write(d)" \
  "$TMP/img.emb" "$TMP/esc.emb"
expect_fail "damaged model hash" "another model" "$SAM2" predict "$TMP/esc.emb" --point 3,3 -o "$TMP/p8f"
grep -q "hash .?" "$TMP/err" && ! grep -q $'[\x01-\x1f]' "$TMP/err" && ok || bad "damaged hash printed raw: $(cat -v "$TMP/err")"
python3 -c "import sys;d=bytearray(open(sys.argv[1],'rb').read());d[50]=0x1b;open(sys.argv[2],'wb').write(d)" \
  "$TMP/img.emb" "$TMP/esc2.emb"
expect_fail "damaged tensor name" "found 'im?ge_embed'" "$SAM2" predict "$TMP/esc2.emb" --point 3,3 -o "$TMP/p8g"
expect_fail "missing image" "no such file" "$SAM2" predict "$TMP/none.png" --point 3,3
expect_fail "directory as image" "directory" "$SAM2" predict "$TMP" --point 3,3
printf 'not an image at all' >"$TMP/junk.png"
expect_fail "not an image" "not a PNG" "$SAM2" predict "$TMP/junk.png" --point 3,3
head -c 3000 "$IMG" >"$TMP/cut.png"
expect_fail "truncated PNG" "PNG" "$SAM2" predict "$TMP/cut.png" --point 3,3
finish
