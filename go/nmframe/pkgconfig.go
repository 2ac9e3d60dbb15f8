//go:build !nmframe_nopkgconfig

package nmframe

// The flags of an installed libnmframe (ffi/install.sh PREFIX, then
// PKG_CONFIG_PATH=PREFIX/lib/pkgconfig): the static library, so that the host needs
// nothing at run time, whatever environment the browser starts it in. Build with
// -tags nmframe_nopkgconfig to give CGO_CFLAGS and CGO_LDFLAGS yourself instead.

// #cgo pkg-config: nmframe-static
import "C"
