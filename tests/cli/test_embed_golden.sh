#!/usr/bin/env bash
# sam2 embed --dump-npy on the golden images and models: every dumped tensor
# matches the reference within the golden tolerance; bad images are refused.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
if [ -n "$GOLDEN" ]; then
  for img in synthetic:synthetic.png coins:coins.png groceries:groceries.jpg; do
    name=${img%%:*}; file=${img#*:}
    d="$GOLDEN/cases/micro256/$name"
    expect_ok "embed $name" "$SAM2" embed "$GOLDEN/images/$file" -m "$GOLDEN/models/micro256.pt" \
      -c "$GOLDEN/models/micro256.yaml" --dump-npy "$TMP/$name"
    for t in input backbone_fpn_0 backbone_fpn_1 backbone_fpn_2 image_embed high_res_feats_0 high_res_feats_1; do
      tol="1e-3"; [ "$t" = input ] && tol="1e-5"
      if $PY - "$d/$t.npy" "$TMP/$name/$t.npy" "$tol" <<'PYEOF'
import sys, numpy as np
a = np.load(sys.argv[1]).astype(np.float64); b = np.load(sys.argv[2]).astype(np.float64)
tol = float(sys.argv[3])
ok = a.shape == b.shape and np.all(np.abs(a - b) <= tol + tol * np.abs(a))
print(sys.argv[2].split('/')[-2], sys.argv[2].split('/')[-1], a.shape, b.shape, float(np.abs(a - b).max()) if a.shape == b.shape else 'shape')
sys.exit(0 if ok else 1)
PYEOF
      then ok; else bad "$name $t differs from the golden tensor"; fi
    done
    for t in vision_pos_enc_0 vision_pos_enc_1 vision_pos_enc_2; do
      $PY -c "import sys,numpy as np;a=np.load(sys.argv[1]);b=np.load(sys.argv[2]);sys.exit(0 if a.shape==b.shape and np.abs(a-b).max()<=1e-5 else 1)" \
        "$GOLDEN/cases/micro256/$t.npy" "$TMP/$name/$t.npy" && ok || bad "$name $t"
    done
  done
fi
# bad images
$PY - "$TMP" <<'PYEOF'
import struct, sys, zlib
d = sys.argv[1]
def chunk(t, data):
    return struct.pack('>I', len(data)) + t + data + struct.pack('>I', zlib.crc32(t + data) & 0xffffffff)
sig = b'\x89PNG\r\n\x1a\n'
open(d + '/huge.png', 'wb').write(sig + chunk(b'IHDR', struct.pack('>IIBBBBB', 100000, 100000, 8, 0, 0, 0, 0)) + chunk(b'IEND', b''))
open(d + '/zero.png', 'wb').write(sig + chunk(b'IHDR', struct.pack('>IIBBBBB', 0, 10, 8, 0, 0, 0, 0)) + chunk(b'IEND', b''))
PYEOF
expect_fail "absurd dimensions" "limit\|PNG" "$SAM2" embed "$TMP/huge.png" -o "$TMP/h.emb"
expect_fail "zero size" "zero\|PNG" "$SAM2" embed "$TMP/zero.png" -o "$TMP/z.emb"
if [ -n "$GOLDEN" ]; then
  head -c 20000 "$GOLDEN/images/groceries.jpg" >"$TMP/cut.jpg"
  expect_fail "truncated JPEG" "JPEG" "$SAM2" embed "$TMP/cut.jpg" -o "$TMP/c.emb"
  { head -c 600 "$GOLDEN/images/groceries.jpg"; head -c 5000 /dev/urandom; } >"$TMP/corrupt.jpg"
  expect_fail "corrupt JPEG" "JPEG" "$SAM2" embed "$TMP/corrupt.jpg" -o "$TMP/c2.emb"
fi
printf 'GIF89a....' >"$TMP/x.gif"
expect_fail "unsupported format" "not a PNG, JPEG, TIFF or WebP" "$SAM2" embed "$TMP/x.gif" -o "$TMP/g.emb"
touch "$TMP/noperm.png"; chmod 000 "$TMP/noperm.png"
if [ "$(id -u)" -ne 0 ]; then expect_fail "unreadable" "denied" "$SAM2" embed "$TMP/noperm.png" -o "$TMP/n.emb"; fi
finish
