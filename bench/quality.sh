#!/usr/bin/env bash
# make bench-quality: the low-contrast targets of `--robust` (README, "Grayscale
# and low-contrast images"), measured on shapes-dev and on scenes its settings
# were not chosen on. Draws the held-out sets into build/quality/ (once; deterministic), runs
# the strict and loose official settings and strict + --robust on each, and
# prints every set's table with a verdict per target and the low-contrast
# recall by noise band (bench/quality_targets.py;
# each run's table and per-image lines in build/quality/SET.SETTING.log).
# QUALITY_SETS picks sets (default: "dev seed777 seed999 lowc_variants");
# extra arguments go to every --robust run (e.g. --consensus-inner-support 12).
# Needs python3-numpy, python3-scipy and python3-pil.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${SAM2_BENCH:-../shared/bench}/shapes-dev
out=build/quality
sets=${QUALITY_SETS:-dev seed777 seed999 lowc_variants}
threads=${QUALITY_THREADS:-$(nproc)}
python3 -c "import numpy, scipy, PIL" 2>/dev/null ||
  { echo "bench-quality: needs python3-numpy, python3-scipy and python3-pil (apt-get install them)" >&2; exit 1; }
[ -f "$bench/index.json" ] || { echo "bench-quality: no $bench/index.json (set SAM2_BENCH)" >&2; exit 1; }
mkdir -p "$out"
args=()
for s in $sets; do
  case $s in
    dev) dir=$bench ;;
    seed777 | seed999)
      dir=$out/$s
      [ -f "$dir/index.json" ] || python3 scripts/make_shapes.py "$dir" 40 "${s#seed}" >/dev/null ;;
    lowc_variants)
      dir=$out/$s
      [ -f "$dir/index.json" ] || python3 scripts/lowc_variants.py "$bench" "$dir" >/dev/null ;;
    *) echo "bench-quality: unknown set '$s' (dev, seed777, seed999, lowc_variants)" >&2; exit 1 ;;
  esac
  for setting in strict loose robust; do
    case $setting in
      strict) flags=(--pred-iou-thresh 0.5 --stability-score-thresh 0.8) ;;
      loose) flags=(--pred-iou-thresh 0.1 --stability-score-thresh 0) ;;
      robust) flags=(--pred-iou-thresh 0.5 --stability-score-thresh 0.8 --robust "$@") ;;
    esac
    echo "== $s: $setting" >&2
    build/sam2 eval "$dir" -t "$threads" --points-per-side 16 "${flags[@]}" \
      --json "$out/$s.$setting.json" --overwrite >"$out/$s.$setting.log" 2>&1 ||
      { tail -5 "$out/$s.$setting.log" >&2; exit 1; }
  done
  args+=("$s=$out/$s")
done
python3 bench/quality_targets.py --json "$out/targets.json" "${args[@]}"
