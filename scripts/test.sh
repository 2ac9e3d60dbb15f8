#!/usr/bin/env bash
# The whole test suite: installs what it needs (idempotently), then checks formatting,
# lints, tests and docs. This is the README's test command; CI runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "C header is what cbindgen generates (ffi/gen-header.sh --check)"
bash ffi/gen-header.sh --check

step "gofmt and go vet (go/)"
unformatted="$(gofmt -l go)"
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
(cd go && GOFLAGS=-mod=mod GOPROXY=off CGO_CFLAGS="-I$PWD/../ffi/include" go vet ./...)

step "cargo test"
cargo test --workspace --locked

step "Miri over the core's unsafe code: the decoder's reads without zeroing, the validator's SIMD loads"
PROPTEST_CASES=8 MIRIFLAGS=-Zmiri-disable-isolation \
  cargo +nightly miri test -p nmframe --lib --locked -- decode:: validate::tests::

step "real browsers: headless Chromium and Firefox ESR talk to the Rust, C, C++ and Go hosts (browsers/run.py)"
python3 browsers/run.py

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps --locked

step "benches compile; the end-to-end benchmark once in tiny mode (no timing is asserted)"
cargo bench -p nmframe-benches --locked --no-run
cargo bench -p nmframe-benches --locked --bench e2e -- --tiny > /dev/null

step "fuzz smoke: every target for ${NMFRAME_FUZZ_SECONDS:-20} s from the committed seeds (nightly)"
bash fuzz/run-all.sh "${NMFRAME_FUZZ_SECONDS:-20}"
