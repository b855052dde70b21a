#!/usr/bin/env bash
# Checkpoints in the official layout and geometry (random weights): the preset
# is recognised from the shapes (SAM 2 and 2.1), float16 is converted, video-only
# tensors are skipped, and float32 weights are not copied (peak RSS stays
# within the mapped file plus a small margin).
. "$(dirname "$0")/lib.sh"
expect_ok "write 2.1 tiny" "$SAM2" bench --write-checkpoint "$TMP/t21.pt" --preset sam2.1_hiera_t
expect_ok "info 2.1 tiny" "$SAM2" info -m "$TMP/t21.pt" --json
cp "$TMP/out" "$TMP/t21.json"
expect_eq "preset detected" "$(json_get "$TMP/t21.json" "j['preset']")" "sam2.1_hiera_t"
expect_eq "image size" "$(json_get "$TMP/t21.json" "j['image_size']")" 1024
expect_eq "video-only skipped" "$(json_get "$TMP/t21.json" "j['tensors_skipped']")" 5
expect_eq "nothing converted" "$(json_get "$TMP/t21.json" "j['converted_bytes']")" 0
size=$(stat -c %s "$TMP/t21.pt")
rss=$(json_get "$TMP/t21.json" "int(j['peak_rss_bytes'])")
echo "float32 checkpoint: $size bytes; peak RSS of sam2 info: $rss bytes"
[ "$rss" -lt $((size + 64 * 1024 * 1024)) ] && ok || bad "peak RSS $rss for a $size-byte checkpoint: weights copied?"
params=$(json_get "$TMP/t21.json" "j['parameters']")

expect_ok "write 2.1 tiny fp16" "$SAM2" bench --write-checkpoint "$TMP/t21h.pt" --preset sam2.1_hiera_t --fp16
expect_ok "info fp16" "$SAM2" info -m "$TMP/t21h.pt" --json
cp "$TMP/out" "$TMP/t21h.json"
expect_eq "fp16 dtype" "$(json_get "$TMP/t21h.json" "j['file_dtypes']")" "float16"
expect_eq "fp16 parameters" "$(json_get "$TMP/t21h.json" "j['parameters']")" "$params"
expect_eq "fp16 preset" "$(json_get "$TMP/t21h.json" "j['preset']")" "sam2.1_hiera_t"

expect_ok "write 2.0 small" "$SAM2" bench --write-checkpoint "$TMP/s20.pt" --preset sam2_hiera_s --fp16
expect_ok "info 2.0 small" "$SAM2" info -m "$TMP/s20.pt" --json
cp "$TMP/out" "$TMP/s20.json"
expect_eq "2.0 preset detected" "$(json_get "$TMP/s20.json" "j['preset']")" "sam2_hiera_s"
expect_eq "2.0 skipped" "$(json_get "$TMP/s20.json" "j['tensors_skipped']")" 4
# the encoder runs on the official geometry (a prediction end to end)
expect_ok "predict on 2.1 tiny" "$SAM2" predict "$SRC/examples/images/shapes_gray.png" -m "$TMP/t21h.pt" --point 150,150 -o "$TMP/p"
expect_eq "3 masks" "$(json_get "$TMP/p/predict.json" "len(j['masks'])")" 3
# a wrong config for an official checkpoint
expect_fail "config does not fit" "tensor\|config" "$SAM2" info -m "$TMP/t21.pt" -c "$SRC/models/sam2-demo-shapes.yaml"
finish
