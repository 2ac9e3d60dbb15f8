#!/usr/bin/env bash
# Installs what the build and the tests need, skipping whatever is already there.
# Debian/Ubuntu packages come from apt (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

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

# C/C++ compilers (ASan/UBSan runtimes come with gcc), Go for the cgo example,
# valgrind and pkg-config for the C ABI tests, Python for the CLI's broken test hosts
# and the browser suite's runner.
packages=()
have gcc || packages+=(gcc)
have g++ || packages+=(g++)
have go || packages+=(golang-go)
have valgrind || packages+=(valgrind)
have pkg-config || packages+=(pkg-config)
have cmake || packages+=(cmake)   # the CMake package test (find_package(nmframe))
# The Windows builds: MinGW-w64 cross compilers, and Wine to run what they build.
have x86_64-w64-mingw32-gcc || packages+=(gcc-mingw-w64-x86-64)
have x86_64-w64-mingw32-g++ || packages+=(g++-mingw-w64-x86-64)
have wine || packages+=(wine wine64)
have python3 || packages+=(python3)   # the command-line tool's test hosts
# The Python package's environment (scripts/python-env.sh): Debian's python3 needs
# python3-venv for `python3 -m venv`; a python3 of its own build has it already.
python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
have node || packages+=(nodejs)       # the extension package's tests (node --test; Node 18+)
# The real browsers for browsers/run.py, with their recommended packages (fonts and the
# like), as tested.
browsers=()
[ -x /usr/lib/chromium/chromium ] || browsers+=(chromium)
have firefox-esr || browsers+=(firefox-esr)
if [ $((${#packages[@]} + ${#browsers[@]})) -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "setup: installing ${packages[*]} ${browsers[*]}"
  "${sudo[@]}" apt-get update -q
  if [ ${#packages[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
  fi
  if [ ${#browsers[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${browsers[@]}"
  fi
fi

# The header generator, pinned: a different cbindgen may write a different header.
cbindgen_version="$(cat ffi/cbindgen.version)"
if [ "$(cbindgen --version 2>/dev/null | awk '{print $2}')" != "$cbindgen_version" ]; then
  echo "setup: installing cbindgen $cbindgen_version"
  cargo install --quiet --locked cbindgen --version "$cbindgen_version"
fi

# Rust's standard library for the other targets the tests build for.
for target in x86_64-pc-windows-gnu x86_64-apple-darwin; do
  # Windows: built and run under Wine; macOS: its standard library, for clippy only.
  if have rustup && ! rustup target list --installed | grep -q "^$target\$"; then
    rustup target add "$target"
  fi
done

# Fuzzing: a nightly toolchain (this machine kind ships one) and a pinned cargo-fuzz.
if have rustup && ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
# Miri runs the core's unsafe code (reads into spare capacity, SIMD loads).
if have rustup && ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^miri'; then
  rustup component add miri rust-src --toolchain nightly
fi
cargo_fuzz_version=0.13.2
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$cargo_fuzz_version" ]; then
  echo "setup: installing cargo-fuzz $cargo_fuzz_version"
  cargo install --quiet --locked cargo-fuzz --version "$cargo_fuzz_version"
fi
