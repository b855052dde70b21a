# lib.sh - shared helpers for the CLI tests (sourced). Counts checks and ends
# with "N passed, N failed".
set -u
PASS=0
FAIL=0
SAM2=${SAM2_BIN:?SAM2_BIN not set}
SRC=${SAM2_SOURCE_DIR:?SAM2_SOURCE_DIR not set}
GOLDEN=${SAM2_GOLDEN:-}
[ -d "$GOLDEN" ] || GOLDEN=""
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }

# expect_ok DESC CMD...: the command exits 0
expect_ok() {
  local desc=$1; shift
  if "$@" >"$TMP/out" 2>"$TMP/err"; then ok; else bad "$desc (exit $?): $(head -c 400 "$TMP/err")"; fi
}

# expect_fail DESC PATTERN CMD...: exits non-zero (not a crash), stderr matches
# PATTERN, and the message is a single line
expect_fail() {
  local desc=$1 pat=$2; shift 2
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  if [ $rc -eq 0 ]; then bad "$desc: exited 0"; return; fi
  if [ $rc -ge 128 ]; then bad "$desc: crashed (exit $rc): $(head -c 400 "$TMP/err")"; return; fi
  if grep -q "AddressSanitizer\|runtime error" "$TMP/err"; then bad "$desc: sanitizer report"; return; fi
  if ! grep -qi -- "$pat" "$TMP/err"; then bad "$desc: message lacks '$pat': $(head -c 400 "$TMP/err")"; return; fi
  ok
}

# json_get FILE EXPR: prints a Python expression evaluated on the parsed JSON `j`
json_get() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# expect_eq DESC GOT WANT
expect_eq() { if [ "$2" == "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi; }

finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}

# npy_shape FILE: the shape tuple written in a .npy header
npy_shape() { python3 -c "import sys,ast;h=open(sys.argv[1],'rb').read(256);print(ast.literal_eval(h[10:10+h[8]+256*h[9]].decode('latin1'))['shape'])" "$1"; }

# npy_part_equal STACKED B SINGLE: whether part B of a .npy stacked on its first
# axis holds the same bytes as the whole data of SINGLE (no numpy needed)
npy_part_equal() { python3 -c "
import sys
def data(p):
    b=open(p,'rb').read(); return b[10+b[8]+256*b[9]:]
s,one=data(sys.argv[1]),data(sys.argv[3]); k=int(sys.argv[2]); n=len(one)
print(len(one)>0 and s[k*n:(k+1)*n]==one)" "$1" "$2" "$3"; }
