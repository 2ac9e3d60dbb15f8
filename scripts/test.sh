#!/usr/bin/env bash
# The whole test suite: installs what it needs (idempotently), then checks formatting,
# lints, tests and docs. This is the README's test command; CI runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# Each step says when it starts (seconds since this script did), so a slow run shows
# which step grew: CI must stay under 30 minutes.
step() { printf '\n==> [%d s] %s\n' "$SECONDS" "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "layout: no module cycle in core or cli, no production file over 600 lines, no command taking from main.rs (scripts/check-layout.py)"
python3 scripts/check-layout.py

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "cargo clippy for Windows (x86_64-pc-windows-gnu: the Windows code paths compile, warnings are errors)"
cargo clippy -p nmframe -p nmframe-ffi -p libnmframe -p nmframe-cli -p nmframe-python --all-features --target x86_64-pc-windows-gnu --locked -- -D warnings

step "cargo clippy for macOS (x86_64-apple-darwin: compiled and linted here, never run; see docs/PLATFORMS.md)"
cargo clippy -p nmframe -p nmframe-ffi -p libnmframe -p nmframe-cli -p nmframe-python --all-features --target x86_64-apple-darwin --locked -- -D warnings

step "C header is what cbindgen generates (ffi/gen-header.sh --check)"
bash ffi/gen-header.sh --check

step "gofmt and go vet (go/)"
unformatted="$(gofmt -l go)"
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
(cd go && GOFLAGS=-mod=mod GOPROXY=off CGO_CFLAGS="-I$PWD/../ffi/include" go vet -tags nmframe_nopkgconfig ./...)

step "the Python package: pip install ./python into target/py-venv (scripts/python-env.sh), mypy --strict over it and its examples, then pytest through real pipes"
python="$(bash scripts/python-env.sh)"
"$python" -m mypy --strict python/nmframe python/examples
"$python" -m pytest -q python/tests

step "cargo test (every feature: the async API too)"
cargo test --workspace --all-features --locked

step "the extension package (js/nmframe-port): node --test, against itself and against the Rust, Node and Python chunked hosts through real pipes"
cargo build --locked -p nmframe --example chunked_host
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
NMFRAME_CHUNKED_HOST="$target_dir/debug/examples/chunked_host" NMFRAME_PYTHON="$python" node --test js/nmframe-port/test/

step "the Node host library (js/nmframe-host): npm test, its hosts through real pipes and its JSON validator against JSON.parse"
(cd js/nmframe-host && npm test --silent)

# Miri runs every unit test of the core, where its unsafe code is (the decoder's reads
# without zeroing, the validator's SSE2/AVX2 loads, OwnedDocument, the parse error path),
# and the C ABI's in-process tests. A test Miri cannot run in reasonable time says so
# itself, with #[cfg_attr(miri, ignore = "why")], rather than a list of names here. AVX2
# is enabled for the interpreted program so that Miri takes the validator's AVX2 path
# too (it interprets the instructions: the host CPU does not matter).
step "Miri over the core's unit tests: the decoder's reads without zeroing, the validator's SSE2/AVX2 loads, OwnedDocument and the parse error path"
MIRIFLAGS=-Zmiri-disable-isolation RUSTFLAGS="-C target-feature=+avx2" \
  cargo +nightly miri test -p nmframe --lib --locked

step "Miri over the C ABI's in-process tests (every export, NULLs, sizes, the panic boundary)"
MIRIFLAGS=-Zmiri-disable-isolation cargo +nightly miri test -p nmframe-ffi --lib --test api --locked

step "real browsers: headless Chromium and Firefox ESR talk to the Rust, C, C++, Go, Node and Python hosts, and to the Rust, Node and Python chunked hosts through js/nmframe-port (browsers/run.py)"
python3 browsers/run.py

step "cargo package verifies every publishable crate (nmframe)"
cargo package -p nmframe --locked --allow-dirty --quiet

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --all-features --no-deps --locked

step "benches compile; the end-to-end benchmark once in tiny mode, the soak for 2 s per host (no timing is asserted; every reply is checked)"
cargo bench -p nmframe-benches --locked --no-run
cargo bench -p nmframe-benches --locked --bench e2e -- --tiny > /dev/null
cargo bench -p nmframe-benches --locked --bench soak -- --seconds 2 > /dev/null

step "fuzz smoke: every target for ${NMFRAME_FUZZ_SECONDS:-20} s from the committed seeds (nightly)"
bash fuzz/run-all.sh "${NMFRAME_FUZZ_SECONDS:-20}"

printf '\n==> [%d s] all passed\n' "$SECONDS"
