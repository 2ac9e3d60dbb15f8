//! The C ABI of nmframe, as a Rust library: the exports that the `libnmframe` crate
//! turns into `libnmframe.a` / `libnmframe.so`, described by `include/nmframe.h`. Being
//! an ordinary library, it is tested from Rust (`tests/api.rs`) and called directly by
//! the fuzz targets.
//!
//! Every export is `unsafe extern "C"`, checks its pointers, runs inside one panic
//! boundary, and reports through [`nmf_status`]. The README's "C ABI" section states the
//! conventions; the header repeats them.
#![allow(non_camel_case_types)]

use std::ffi::c_char;

use nmframe::Limits;

// In the order the header presents them.
mod caller;
mod decoder;
mod doc;
mod frame;
mod handle;
mod host;
mod receive;
mod status;
#[cfg(test)]
mod tests;

pub use caller::*;
pub use decoder::*;
pub use doc::*;
pub use frame::*;
pub use host::*;
pub use receive::*;
pub use status::*;

pub(crate) use handle::{LastError, guarded, slice};

/// Major version of the library, as in `nmf_version()`.
pub const NMF_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const NMF_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const NMF_VERSION_PATCH: u32 = 0;

// Literals, not the core's constants, so that cbindgen can write them; a test checks
// that they agree.

/// Bytes in a frame header.
pub const NMF_HEADER_LEN: usize = 4;
/// The largest message a host may send to the browser: 1,048,576 bytes (exactly 1 MiB
/// is allowed).
pub const NMF_MAX_HOST_TO_BROWSER: u32 = 1_048_576;
/// The largest message the protocol can carry from the browser to a host.
pub const NMF_MAX_BROWSER_TO_HOST: u32 = 4_294_967_295;

/// The side the calling program plays, which says the limit of each direction. Every
/// call that takes a role and a `max_len` reads 0 as the protocol's limit for the
/// direction it handles, and clamps a larger value to that limit.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum nmf_role {
    /// A host: reads browser → host frames (up to 4 GiB − 1), writes host → browser
    /// frames (up to 1 MiB).
    NMF_ROLE_HOST = 0,
    /// The browser's side (a test harness, a tool that drives a host): reads host →
    /// browser frames, writes browser → host frames.
    NMF_ROLE_BROWSER = 1,
}

/// The limits of `role` (an `nmf_role` number), or `None` for an unknown role.
fn role_limits(role: u32) -> Option<Limits> {
    match role {
        r if r == nmf_role::NMF_ROLE_HOST as u32 => Some(Limits::host()),
        r if r == nmf_role::NMF_ROLE_BROWSER as u32 => Some(Limits::browser()),
        _ => None,
    }
}

/// The library's version, `"MAJOR.MINOR.PATCH"`, a static string.
#[unsafe(no_mangle)]
pub extern "C" fn nmf_version() -> *const c_char {
    guarded(std::ptr::null(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}

/// `size_t`, as cbindgen writes `usize`.
pub type size_t = usize;
