#!/usr/bin/env bash
# Installs libnmframe under a prefix: lib/libnmframe.{a,so}, include/nmframe.{h,hpp} and
# lib/pkgconfig/nmframe.pc. Then build a C host with
#   PKG_CONFIG_PATH=PREFIX/lib/pkgconfig cc host.c $(pkg-config --cflags --libs nmframe)
#
# usage: ffi/install.sh PREFIX [--profile release|debug] [--no-build]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
prefix="${1:?usage: ffi/install.sh PREFIX [--profile release|debug] [--no-build]}"
shift
profile=release
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

if [ "$build" = 1 ]; then
  flag=(); [ "$profile" = release ] && flag=(--release)
  cargo build --quiet --locked -p libnmframe "${flag[@]}" --manifest-path "$root/Cargo.toml"
fi
target="${CARGO_TARGET_DIR:-$root/target}/$profile"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
major="${version%%.*}"

install -d "$prefix/lib/pkgconfig" "$prefix/include"
install -m 644 "$target/libnmframe.a" "$prefix/lib/libnmframe.a"
install -m 755 "$target/libnmframe.so" "$prefix/lib/libnmframe.so.$version"
ln -sf "libnmframe.so.$version" "$prefix/lib/libnmframe.so.$major"
ln -sf "libnmframe.so.$major" "$prefix/lib/libnmframe.so"
install -m 644 "$here/include/nmframe.h" "$here/include/nmframe.hpp" "$prefix/include/"
cat > "$prefix/lib/pkgconfig/nmframe.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: nmframe
Description: Framing for browser native messaging: exact limits, zero-copy frames, simd-json
URL: https://github.com/nmframe/nmframe
Version: $version
Libs: -L\${libdir} -lnmframe
Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
Cflags: -I\${includedir}
PC
echo "installed libnmframe $version under $prefix"
