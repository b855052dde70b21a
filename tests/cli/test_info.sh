#!/usr/bin/env bash
# sam2 info: counts for the embedded model and the golden models; bad inputs.
. "$(dirname "$0")/lib.sh"

expect_ok "info on the embedded model" "$SAM2" info --json
cp "$TMP/out" "$TMP/demo.json"
expect_eq "demo parameters" "$(json_get "$TMP/demo.json" "j['parameters']")" 1677617
expect_eq "demo tensors loaded" "$(json_get "$TMP/demo.json" "j['tensors_loaded']")" 263
expect_eq "demo tensors skipped" "$(json_get "$TMP/demo.json" "j['tensors_skipped']")" 106
expect_eq "demo preset" "$(json_get "$TMP/demo.json" "j['preset']")" None
expect_eq "demo image size" "$(json_get "$TMP/demo.json" "j['image_size']")" 256

models="$SRC/tests/fixtures/models"
[ -n "$GOLDEN" ] && models="$GOLDEN/models"
for m in micro256 micro1024; do
  [ -f "$models/$m.pt" ] || continue
  expect_ok "info $m" "$SAM2" info -m "$models/$m.pt" -c "$models/$m.yaml" --json
  cp "$TMP/out" "$TMP/$m.json"
  expect_eq "$m parameters" "$(json_get "$TMP/$m.json" "j['parameters']")" 742649
  expect_eq "$m tensors loaded" "$(json_get "$TMP/$m.json" "j['tensors_loaded']")" 251
  expect_eq "$m tensors skipped" "$(json_get "$TMP/$m.json" "j['tensors_skipped']")" 73
done
expect_ok "text info" "$SAM2" info
grep -q "image-path parameters *1677617" "$TMP/out" && ok || bad "text info lacks the parameter count"

# how OpenMP threads wait: a short spin unless the environment says otherwise
expect_ok "info, wait unset" env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$SAM2" info --json
expect_eq "sam2's spin count" "$(json_get "$TMP/out" "j['openmp_wait']")" "GOMP_SPINCOUNT=1000 (sam2's default)"
expect_ok "info, wait policy given" env OMP_WAIT_POLICY=active "$SAM2" info --json
expect_eq "the environment's policy" "$(json_get "$TMP/out" "j['openmp_wait']")" "OMP_WAIT_POLICY=active (environment)"

# bad inputs: each a one-line error and a non-zero exit
expect_fail "missing file" "no such file" "$SAM2" info -m "$TMP/nope.pt"
expect_fail "directory" "directory" "$SAM2" info -m "$TMP"
head -c 100 /dev/urandom >"$TMP/random.pt"
expect_fail "random bytes" "zip" "$SAM2" info -m "$TMP/random.pt"
pt="$SRC/models/sam2-demo-shapes.pt"
size=$(stat -c %s "$pt")
for cut in 10 1000 $((size / 2)) $((size - 100)) $((size - 1)); do
  head -c "$cut" "$pt" >"$TMP/cut.pt"
  expect_fail "truncated at $cut" "" "$SAM2" info -m "$TMP/cut.pt" -c "$SRC/models/sam2-demo-shapes.yaml"
done
# one changed byte in the middle of the weights: the recorded CRC-32 catches it
cp "$pt" "$TMP/flip.pt"
printf '\x5a' | dd of="$TMP/flip.pt" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_fail "one corrupt byte" "is corrupt" "$SAM2" info -m "$TMP/flip.pt"
if [ -n "$GOLDEN" ]; then
  # a config that does not fit the checkpoint
  expect_fail "wrong config" "tensor\|shape\|config" "$SAM2" info -m "$pt" -c "$GOLDEN/models/micro256.yaml"
fi
expect_fail "missing config" "no such file" "$SAM2" info -m "$pt" -c "$TMP/none.yaml"
expect_fail "unknown option" "unknown" "$SAM2" info --bogus
finish
