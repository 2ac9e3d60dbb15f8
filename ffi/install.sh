#!/usr/bin/env bash
# Installs libnmframe and the nmframe command under a prefix:
#
#   lib/libnmframe.so.VERSION, its soname link and libnmframe.so   the shared library
#   lib/libnmframe.a                                                the static library
#   include/nmframe.h, include/nmframe.hpp
#   lib/pkgconfig/nmframe.pc          shared; its flags carry an rpath to lib/
#   lib/pkgconfig/nmframe-static.pc   static: the host needs nothing at run time
#   lib/cmake/nmframe/                find_package(nmframe): nmframe::nmframe, nmframe::static
#   bin/nmframe                       the nmframe command (manifest install/check, run)
#
# A browser starts a host with its own environment, not your shell's, so a host must find
# libnmframe.so without LD_LIBRARY_PATH: the shared flags embed an rpath, and the static
# ones need nothing. Build a C host with either of
#   PKG_CONFIG_PATH=PREFIX/lib/pkgconfig cc host.c $(pkg-config --cflags --libs nmframe)
#   PKG_CONFIG_PATH=PREFIX/lib/pkgconfig cc host.c $(pkg-config --cflags --libs nmframe-static)
#
# usage: ffi/install.sh PREFIX [--profile release|debug] [--no-build] [--no-cli]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
usage="usage: ffi/install.sh PREFIX [--profile release|debug] [--no-build] [--no-cli]"
prefix="${1:?$usage}"
shift
profile=release
build=1
cli=1
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="${2:?$usage}"; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-cli) cli=0; shift ;;
    *) echo "install.sh: unknown option $1" >&2; echo "$usage" >&2; exit 2 ;;
  esac
done
case "$(uname -s)" in
  Linux) ;;
  *) echo "install.sh: installs the Linux shared library; on $(uname -s), link target/$profile/libnmframe.a" >&2; exit 3 ;;
esac
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

if [ "$build" = 1 ]; then
  flags=(--quiet --locked -p libnmframe); [ "$profile" = release ] && flags+=(--release)
  [ "$cli" = 1 ] && flags+=(-p nmframe-cli)
  cargo build "${flags[@]}" --manifest-path "$root/Cargo.toml"
fi
target="${CARGO_TARGET_DIR:-$root/target}/$profile"
for built in "$target/libnmframe.a" "$target/libnmframe.so"; do
  [ -f "$built" ] || { echo "install.sh: $built is missing: build it, or drop --no-build" >&2; exit 3; }
done
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
# The soname is whatever the library was linked with (libnmframe/build.rs), read back
# from the file so that the links below can never disagree with it.
soname="$(objdump -p "$target/libnmframe.so" | awk '$1 == "SONAME" { print $2 }')"
[ -n "$soname" ] || { echo "install.sh: $target/libnmframe.so has no soname" >&2; exit 3; }
# What the static library needs from the system (Rust's standard library): threads,
# dlsym and libm. glibc 2.34 and later has them all in libc; older ones need the flags.
static_libs="-lpthread -ldl -lm"

install -d "$prefix/lib/pkgconfig" "$prefix/lib/cmake/nmframe" "$prefix/include"
install -m 644 "$target/libnmframe.a" "$prefix/lib/libnmframe.a"
install -m 755 "$target/libnmframe.so" "$prefix/lib/libnmframe.so.$version"
[ "$soname" = "libnmframe.so.$version" ] || ln -sfn "libnmframe.so.$version" "$prefix/lib/$soname"
ln -sfn "$soname" "$prefix/lib/libnmframe.so"
install -m 644 "$here/include/nmframe.h" "$here/include/nmframe.hpp" "$prefix/include/"

pc_head="prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include
"
cat > "$prefix/lib/pkgconfig/nmframe.pc" <<PC
$pc_head
Name: nmframe
Description: Framing for browser native messaging (shared library, found through an rpath)
URL: https://github.com/nmframe/nmframe
Version: $version
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lnmframe
Cflags: -I\${includedir}
PC
cat > "$prefix/lib/pkgconfig/nmframe-static.pc" <<PC
$pc_head
Name: nmframe-static
Description: Framing for browser native messaging (static library: nothing to find at run time)
URL: https://github.com/nmframe/nmframe
Version: $version
Libs: \${libdir}/libnmframe.a $static_libs
Cflags: -I\${includedir}
PC

cat > "$prefix/lib/cmake/nmframe/nmframeConfig.cmake" <<CMAKE
# find_package(nmframe) defines
#   nmframe::nmframe  libnmframe.so, linked with an rpath to it: a browser starts hosts
#                     without your LD_LIBRARY_PATH
#   nmframe::static   libnmframe.a and the system libraries it needs
# Written by ffi/install.sh; relocatable with its prefix.
if(CMAKE_VERSION VERSION_LESS 3.13)
  message(FATAL_ERROR "nmframe's CMake package needs CMake 3.13 or later")
endif()
get_filename_component(_nmframe_prefix "\${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
include(CMakeFindDependencyMacro)
find_dependency(Threads)
if(NOT TARGET nmframe::nmframe)
  add_library(nmframe::nmframe SHARED IMPORTED)
  set_target_properties(nmframe::nmframe PROPERTIES
    IMPORTED_LOCATION "\${_nmframe_prefix}/lib/libnmframe.so.$version"
    IMPORTED_SONAME "$soname"
    INTERFACE_INCLUDE_DIRECTORIES "\${_nmframe_prefix}/include"
    INTERFACE_LINK_OPTIONS "LINKER:-rpath,\${_nmframe_prefix}/lib")
  add_library(nmframe::static STATIC IMPORTED)
  set_target_properties(nmframe::static PROPERTIES
    IMPORTED_LOCATION "\${_nmframe_prefix}/lib/libnmframe.a"
    IMPORTED_LINK_INTERFACE_LANGUAGES "C"
    INTERFACE_INCLUDE_DIRECTORIES "\${_nmframe_prefix}/include"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;\${CMAKE_DL_LIBS};m")
endif()
unset(_nmframe_prefix)
CMAKE
cat > "$prefix/lib/cmake/nmframe/nmframeConfigVersion.cmake" <<CMAKE
# Compatible with a request for the same major version (and, before 1.0, the same minor
# version: 0.x releases may break the ABI) that is not newer than this one.
set(PACKAGE_VERSION "$version")
set(PACKAGE_VERSION_COMPATIBLE FALSE)
if(NOT PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION
   AND PACKAGE_FIND_VERSION_MAJOR EQUAL $(echo "$version" | cut -d. -f1)
   AND (PACKAGE_FIND_VERSION_MAJOR GREATER 0 OR PACKAGE_FIND_VERSION_MINOR EQUAL $(echo "$version" | cut -d. -f2)))
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
  set(PACKAGE_VERSION_EXACT TRUE)
endif()
CMAKE

if [ "$cli" = 1 ]; then
  [ -f "$target/nmframe" ] || { echo "install.sh: $target/nmframe is missing: build nmframe-cli, or pass --no-cli" >&2; exit 3; }
  install -d "$prefix/bin"
  install -m 755 "$target/nmframe" "$prefix/bin/nmframe"
fi
echo "installed libnmframe $version ($soname) under $prefix"
