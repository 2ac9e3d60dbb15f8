#!/usr/bin/env bash
# Instruction counts of `nmframe echo` on 16 frames of 1 MiB, with callgrind: stable
# on a noisy machine. This is the profile quoted in BENCHMARKS.md.
# usage: bash benches/profile.sh [strings|nested]
set -euo pipefail
cd "$(dirname "$0")/.."
shape="${1:-strings}"
cargo build --quiet --release --locked -p nmframe-cli
input="$(mktemp)"
out="$(mktemp)"
trap 'rm -f "$input" "$out" "$out.cg"' EXIT
python3 - "$input" "$shape" <<'PY'
import struct, sys
if sys.argv[2] == "nested":
    items = b",".join(b'{"a":%d,"b":{"c":[1,2],"d":"x"}}' % i for i in range(40000))
    payload = (b'{"items":[' + items)[:1048560]
    payload = payload[: payload.rindex(b"},{") + 1] + b"]}"
else:
    body = (b"native messaging frames json " * 40000)[:1048574]
    payload = b'"' + body + b'"'
with open(sys.argv[1], "wb") as f:
    f.write((struct.pack("=I", len(payload)) + payload) * 16)
PY
# One thread: callgrind runs threads one at a time anyway, and the counts stay comparable.
NMFRAME_ECHO_THREAD=0 valgrind -q --tool=callgrind --callgrind-out-file="$out.cg" \
  target/release/nmframe echo <"$input" >"$out"
cmp -s "$input" "$out" || { echo "profile: the echo differs from its input" >&2; exit 1; }
callgrind_annotate "$out.cg" | grep -E '^ *[0-9,]+ [(]' | head -12
