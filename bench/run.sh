#!/usr/bin/env bash
# make bench: timings and memory of the official geometries with random
# weights (no checkpoint needed). BENCH_PRESETS selects models (default:
# sam2.1_hiera_t); results also go to build/bench-<preset>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
for preset in ${BENCH_PRESETS:-sam2.1_hiera_t}; do
  echo "== $preset"
  build/sam2 bench --random-weights --preset "$preset" --json "build/bench-$preset.json" "$@"
done
