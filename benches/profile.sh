#!/usr/bin/env bash
# Instruction counts of `nmframe echo` on 16 string frames of 1 MiB, with callgrind:
# stable on a noisy machine. This is the profile quoted in BENCHMARKS.md.
# usage: bash benches/profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release --locked -p nmframe-cli
input="$(mktemp)"
out="$(mktemp)"
trap 'rm -f "$input" "$out" "$out.cg"' EXIT
python3 - "$input" <<'PY'
import struct, sys
body = (b"native messaging frames json " * 40000)[:1048574]
payload = b'"' + body + b'"'
with open(sys.argv[1], "wb") as f:
    f.write((struct.pack("=I", len(payload)) + payload) * 16)
PY
valgrind -q --tool=callgrind --callgrind-out-file="$out.cg" target/release/nmframe echo <"$input" >"$out"
cmp -s "$input" "$out" || { echo "profile: the echo differs from its input" >&2; exit 1; }
callgrind_annotate "$out.cg" | grep -E '^ *[0-9,]+ [(]' | head -12
