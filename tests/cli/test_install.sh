#!/usr/bin/env bash
# The installed tree (cmake --install): the CLI carries the demo model inside
# it and runs from anywhere; libsam2.a, sam2.h and sam2.pc build a program.
. "$(dirname "$0")/lib.sh"
BUILD=${SAM2_BUILD_DIR:?SAM2_BUILD_DIR not set}
P="$TMP/prefix"
expect_ok "install" cmake --install "$BUILD" --prefix "$P"
BIN="$P/bin/sam2"
[ -x "$BIN" ] && ok || bad "no installed sam2"
PC=$(dirname "$(find "$P" -name sam2.pc | head -1)")
[ -f "$PC/sam2.pc" ] && ok || bad "no sam2.pc installed"
[ -f "$P/include/sam2.h" ] && ok || bad "no sam2.h installed"

# the built-in model: the same weights as the file, named as built in, and no
# path into the source tree compiled into the binary
expect_ok "installed info" bash -c "cd '$TMP' && '$BIN' info --json"
cp "$TMP/out" "$TMP/inst.json"
expect_ok "info of the model file" "$SAM2" info -m "$SRC/models/sam2-demo-shapes.pt" -c "$SRC/models/sam2-demo-shapes.yaml" --json
expect_eq "same weights" "$(json_get "$TMP/inst.json" "j['model_hash']")" "$(json_get "$TMP/out" "j['model_hash']")"
expect_eq "named built in" "$(json_get "$TMP/inst.json" "j['config']")" "built-in demo model (models/sam2-demo-shapes.pt)"
grep -c -F "$SRC/models" "$BIN" >/dev/null && bad "the binary names $SRC/models" || ok
# masks from the installed binary equal those of the build tree's
A=(--points-per-side 8 --pred-iou-thresh 0.5 --stability-score-thresh 0.8 --output-mode coco_rle)
expect_ok "installed auto" bash -c "cd '$TMP' && '$BIN' auto '$SRC/examples/images/shapes_color.png' ${A[*]} --json i.json -o io"
expect_ok "build auto" "$SAM2" auto "$SRC/examples/images/shapes_color.png" "${A[@]}" --json "$TMP/b.json" -o "$TMP/bo"
expect_eq "same masks" "$(json_get "$TMP/i.json" "[m['segmentation'] for m in j['masks']]")" \
  "$(json_get "$TMP/b.json" "[m['segmentation'] for m in j['masks']]")"
# a YAML for the built-in weights: the one given is read and named; a missing one is an error
expect_ok "built-in weights, YAML given" "$BIN" info -c "$SRC/models/sam2-demo-shapes.yaml" --json
expect_eq "YAML named" "$(json_get "$TMP/out" "j['config']")" "$SRC/models/sam2-demo-shapes.yaml"
expect_fail "missing YAML" "cannot open $TMP/none.yaml" "$BIN" info -c "$TMP/none.yaml"
sed 's/embed_dim: 24/embed_dim: 32/' "$SRC/models/sam2-demo-shapes.yaml" >"$TMP/other.yaml"
cmp -s "$TMP/other.yaml" "$SRC/models/sam2-demo-shapes.yaml" && bad "other.yaml unchanged" || ok
expect_fail "YAML of other weights" "cannot load model: backbone_channel_list" "$BIN" info -c "$TMP/other.yaml"

# a program against the installed library, found through pkg-config
flags=$(PKG_CONFIG_PATH="$PC" pkg-config --cflags --libs sam2)
expect_ok "compile against the install" cc -std=c11 -Wall -Wextra -Werror -o "$TMP/point_prompt" \
  "$SRC/examples/point_prompt.c" $flags
expect_ok "run it" "$TMP/point_prompt" "$SRC/models/sam2-demo-shapes.pt" "$SRC/models/sam2-demo-shapes.yaml"
grep -q "^mask 0: predicted IoU" "$TMP/out" && ok || bad "no masks from the installed library: $(cat "$TMP/out")"
finish
