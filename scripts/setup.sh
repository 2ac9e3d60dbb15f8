#!/usr/bin/env bash
# Installs what the build and the tests need, skipping whatever is already there.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if ! have cargo; then
  echo "setup: cargo not found; install Rust (https://rustup.rs) first" >&2
  exit 1
fi

# rustfmt and clippy come as rustup components on a toolchain that lacks them.
if have rustup; then
  for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
      rustup component add "$component"
    fi
  done
fi
