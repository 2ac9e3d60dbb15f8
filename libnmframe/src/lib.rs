//! `libnmframe.a` and `libnmframe.so`: the C ABI of `nmframe-ffi`, under the library's
//! C name. Everything is in `nmframe-ffi`; linking it here exports its symbols.

pub use nmframe_ffi::*;
