#!/usr/bin/env bash
# make bench: timings and memory of the official geometries with random
# weights (no checkpoint needed). BENCH_PRESETS selects models (default:
# sam2.1_hiera_t); each run's figures also go to build/bench-<preset>.json,
# and a table of all of them closes the run.
set -euo pipefail
cd "$(dirname "$0")/.."
presets=${BENCH_PRESETS:-sam2.1_hiera_t}
for preset in $presets; do
  echo "== $preset"
  SAM2_GOLDEN=${SAM2_GOLDEN:-../shared/golden} SAM2_BENCH=${SAM2_BENCH:-../shared/bench} \
    build/sam2 bench --random-weights --preset "$preset" --json "build/bench-$preset.json" "$@"
done
python3 - $presets <<'PY'
import json, sys
cols = [("encoder s", "encoder_s", "%.2f"), ("GFLOP/s", "encoder_gflops", "%.0f"),
        ("% sgemm", "encoder_fraction_of_sgemm", "%.1f"), ("dec ms/prompt", "decoder_ms_batched64", "%.1f"),
        ("AMG 32x32 s", "amg_official_s_1024", "%.1f"),
        ("AMG decoder floor s", "amg_decoder_floor_s", "%.2f"), ("AMG decoder % sgemm", "amg_decoder_fraction_of_sgemm", "%.1f"),
        ("AMG unfiltered 4000x3000 s", "amg_keep_all_s_4000x3000", "%.1f"),
        ("peak RSS MiB", "peak_rss_mib_amg_keep_all_4000x3000", "%.0f"),
        ("bf16 encoder s", "bf16_encoder_s", "%.2f"), ("bf16 speed-up", "bf16_speedup", "%.2f"),
        ("bf16 golden match", "bf16_golden_match_rate", "%.2f"), ("bf16 shapes-dev match", "bf16_shapes_dev_match_rate", "%.2f")]
print("\n| preset | " + " | ".join(c[0] for c in cols) + " |")
print("|---" * (len(cols) + 1) + "|")
for p in sys.argv[1:]:
    j = json.load(open("build/bench-%s.json" % p))
    vals = []
    for _, key, fmt in cols:
        v = j.get(key, -1)
        vals.append("-" if v is None or v < 0 else fmt % (v * 100 if key.endswith("fraction_of_sgemm") else v))
    print("| %s | %s |" % (p, " | ".join(vals)))
PY
