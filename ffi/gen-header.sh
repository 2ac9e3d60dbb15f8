#!/usr/bin/env bash
# Regenerates include/nmframe.h from the Rust sources with the pinned cbindgen.
# `--check` fails, without writing, when the committed header differs.
set -euo pipefail
cd "$(dirname "$0")"
want="$(cat cbindgen.version)"
have="$(cbindgen --version 2>/dev/null | awk '{print $2}')"
if [ "$have" != "$want" ]; then
  echo "gen-header: cbindgen $want is needed (found '${have:-none}'): cargo install cbindgen --version $want --locked" >&2
  exit 1
fi
out=include/nmframe.h
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
cbindgen --quiet --config cbindgen.toml --crate nmframe-ffi --output "$tmp"
if [ "${1:-}" = "--check" ]; then
  if ! diff -u "$out" "$tmp"; then
    echo "gen-header: $out is stale; run ffi/gen-header.sh and commit the result" >&2
    exit 1
  fi
else
  cp "$tmp" "$out"
fi
