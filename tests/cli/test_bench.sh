#!/usr/bin/env bash
# sam2 bench on the embedded model (seconds, no timing asserted): the targets
# line agrees with the figures it names, the JSON holds the same verdicts,
# no decoder count where it does not apply, and a figures file that cannot
# be written fails the run.
. "$(dirname "$0")/lib.sh"
M="$SRC/models/sam2-demo-shapes.pt"
C="$SRC/models/sam2-demo-shapes.yaml"
# without SAM2_GOLDEN and SAM2_BENCH the bf16 mask checks are left out (minutes)

expect_ok "bench" env -u SAM2_GOLDEN -u SAM2_BENCH "$SAM2" bench -m "$M" -c "$C" -t 2 --runs 1 --no-amg --json "$TMP/b.json"
grep -q "^targets: encoder >= 85% of sgemm: \(met\|not met\) ([0-9]*%)$" "$TMP/out" && ok || bad "targets line: $(grep targets "$TMP/out")"
# the verdict follows the fraction printed beside it and stored in the JSON
pct=$(sed -n 's/^targets: encoder >= 85% of sgemm: .* (\([0-9]*\)%)$/\1/p' "$TMP/out")
verdict=$(sed -n 's/^targets: encoder >= 85% of sgemm: \(.*\) ([0-9]*%)$/\1/p' "$TMP/out")
expect_eq "verdict from the fraction" "$verdict" "$(json_get "$TMP/b.json" "'met' if j['encoder_fraction_of_sgemm'] >= 0.85 else 'not met'")"
expect_eq "JSON verdict" "$(json_get "$TMP/b.json" "j['targets']['encoder_85pct_of_sgemm'] == (j['encoder_fraction_of_sgemm'] >= 0.85)")" True
expect_eq "JSON fraction" "$(json_get "$TMP/b.json" "round(100 * j['encoder_fraction_of_sgemm'])")" "$pct"
expect_eq "no AMG verdicts without the AMG" "$(json_get "$TMP/b.json" "sorted(j['targets'])")" "['encoder_85pct_of_sgemm']"
# with the generator (32 x 32 at 1024, keep-all at 4000 x 3000): its two verdicts from its figures
expect_ok "bench with AMG" env -u SAM2_GOLDEN -u SAM2_BENCH "$SAM2" bench -m "$M" -c "$C" -t 2 --runs 1 --json "$TMP/a.json"
grep -q "^targets: encoder >= 85% of sgemm: .*; AMG 32x32 within the encoder + 1.5 s: \(met\|not met\) ([0-9.]* s beyond it); peak RSS at 4000x3000 <= 1 GiB: \(met\|not met\) ([0-9]* MiB)$" "$TMP/out" &&
  ok || bad "targets line: $(grep targets "$TMP/out")"
expect_eq "AMG verdicts" "$(json_get "$TMP/a.json" "(j['targets']['amg_32x32_within_encoder_plus_1_5s'] == (j['amg_official_s_1024'] - j['encoder_s'] <= 1.5), j['targets']['peak_rss_4000x3000_within_1gib'] == (j['peak_rss_mib_amg_keep_all_4000x3000'] <= 1024))")" "(True, True)"
# the demo model's decoder (width 64, 8 heads x 8 tokens) has no implicit form: no count of its products
grep -q "^AMG decoder:" "$TMP/out" && bad "a decoder count for a decoder without the implicit form" || ok
expect_eq "no decoder figures in the JSON" "$(json_get "$TMP/a.json" "[k for k in j if k.startswith('amg_decoder')]")" "[]"
expect_fail "unwritable figures file" "cannot write" env -u SAM2_GOLDEN -u SAM2_BENCH "$SAM2" bench -m "$M" -c "$C" -t 2 --runs 1 --no-amg --json "$TMP/none/b.json"
finish
