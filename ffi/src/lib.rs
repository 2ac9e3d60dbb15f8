//! The C ABI of nmframe, as a Rust library: the exports that the `libnmframe` crate
//! turns into `libnmframe.a` / `libnmframe.so`, described by `include/nmframe.h`. Being
//! an ordinary library, it is tested from Rust (`tests/api.rs`) and called directly by
//! the fuzz targets.
//!
//! Every export is `unsafe extern "C"`, checks its pointers, runs inside one panic
//! boundary, and reports through [`nmf_status`]. The README's "C ABI" section states the
//! conventions; the header repeats them.
#![allow(non_camel_case_types)]

use std::ffi::{CString, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};

use nmframe::{Decoded, Error, Limits};

mod decoder;
mod doc;
mod host;
#[cfg(test)]
mod tests;

pub use decoder::*;
pub use doc::*;
pub use host::*;

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

/// The outcome of a call. The numbers are part of the ABI and are never reused.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum nmf_status {
    /// Success.
    NMF_OK = 0,
    /// Not an error: the buffer holds only part of a frame; supply more bytes.
    NMF_NEED_MORE = 1,
    /// Not an error: the stream ended cleanly at a frame boundary.
    NMF_EOF = 2,
    /// The peer closed the pipe (EPIPE on write): the browser disconnected.
    NMF_DISCONNECTED = 3,
    /// A NULL pointer, an out-of-range value or a size that does not fit.
    NMF_INVALID_ARGUMENT = 16,
    /// A frame over the cap: inbound (fatal for the stream) or outbound (nothing
    /// written).
    NMF_FRAME_TOO_LARGE = 17,
    /// An empty outbound message was refused; nothing written.
    NMF_EMPTY_FRAME = 18,
    /// The stream ended inside a frame header.
    NMF_TRUNCATED_HEADER = 19,
    /// The stream ended inside a payload.
    NMF_TRUNCATED_PAYLOAD = 20,
    /// The payload is not valid UTF-8.
    NMF_INVALID_UTF8 = 21,
    /// The payload is not valid JSON.
    NMF_INVALID_JSON = 22,
    /// An I/O error.
    NMF_IO = 23,
    /// A JSON Pointer that names no value.
    NMF_NOT_FOUND = 24,
    /// The JSON nests deeper than a parsed document allows (1024 levels). The text may
    /// be valid: `nmf_json_validate` and the echo path have no depth limit.
    NMF_NESTING_TOO_DEEP = 25,
    /// An earlier write stopped part-way through a message (a full disk, a pipe that
    /// failed): anything written after it would be read by the browser as the rest of
    /// that message, so the host refuses every send, queue and flush. Exit: the stream
    /// is lost.
    NMF_WRITER_BROKEN = 26,
    /// A message in parts failed (`NMF_HOST_CHUNKED`): from `nmf_host_recv`, one the
    /// extension sent arrived corrupted, too large, too late or aborted, and was
    /// dropped (the extension is told); from a send, the extension refused the reply
    /// part-way. The handle's last error says which message and why, with the numbers.
    /// The stream goes on.
    NMF_TRANSFER_FAILED = 27,
    /// A bug in nmframe: a Rust panic was caught at the boundary. The handle's last
    /// error holds its message; the handle should be freed.
    NMF_PANIC = 99,
}

use nmf_status::*;

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
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A static, NUL-terminated description of a status, such as `"frame too large"`.
/// Unknown numbers give `"unknown status"`.
#[unsafe(no_mangle)]
pub extern "C" fn nmf_status_str(status: c_int) -> *const c_char {
    let text: &'static str = match status {
        0 => "ok\0",
        1 => "need more bytes\0",
        2 => "end of stream\0",
        3 => "peer disconnected\0",
        16 => "invalid argument\0",
        17 => "frame too large\0",
        18 => "empty frame\0",
        19 => "stream ended inside a frame header\0",
        20 => "stream ended inside a payload\0",
        21 => "invalid UTF-8\0",
        22 => "invalid JSON\0",
        23 => "I/O error\0",
        24 => "not found\0",
        25 => "JSON nested deeper than the document's limit\0",
        26 => "writer broken by a write that stopped inside a message\0",
        27 => "a message in parts failed; the stream goes on\0",
        99 => "panic inside nmframe (a bug)\0",
        _ => "unknown status\0",
    };
    text.as_ptr().cast()
}

/// The status for an nmframe error.
pub(crate) fn status_of(err: &Error) -> nmf_status {
    match err {
        Error::Disconnected(_) => NMF_DISCONNECTED,
        Error::TruncatedHeader { .. } => NMF_TRUNCATED_HEADER,
        Error::TruncatedPayload { .. } => NMF_TRUNCATED_PAYLOAD,
        Error::FrameTooLarge { .. } => NMF_FRAME_TOO_LARGE,
        Error::EmptyFrame { .. } => NMF_EMPTY_FRAME,
        Error::InvalidUtf8 { .. } => NMF_INVALID_UTF8,
        // WrongShape comes from typed decoding, which the C ABI does not offer.
        Error::InvalidJson { .. } | Error::WrongShape { .. } | Error::Serialize(_) => {
            NMF_INVALID_JSON
        }
        Error::NestingTooDeep { .. } => NMF_NESTING_TOO_DEEP,
        Error::WriterBroken { .. } => NMF_WRITER_BROKEN,
        Error::Transfer(_) => NMF_TRANSFER_FAILED,
        _ => NMF_IO,
    }
}

/// Runs an export's body, turning a panic into [`NMF_PANIC`]: unwinding out of an
/// `extern "C"` function would abort the host.
pub(crate) fn boundary(body: impl FnOnce() -> nmf_status) -> nmf_status {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(NMF_PANIC)
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// The detailed text of a handle's last failure, kept in the handle.
#[derive(Debug, Default)]
pub(crate) struct LastError(Option<CString>);

impl LastError {
    pub(crate) fn set(&mut self, text: impl std::fmt::Display) {
        // A NUL inside the text would cut it short in C: spell it out.
        let text = text.to_string().replace('\0', "\\0");
        self.0 = CString::new(text).ok();
    }

    pub(crate) fn clear(&mut self) {
        self.0 = None;
    }

    pub(crate) fn as_ptr(&self) -> *const c_char {
        self.0.as_deref().map_or(c"".as_ptr(), |c| c.as_ptr())
    }

    /// Records `err` and returns its status.
    pub(crate) fn fail(&mut self, err: &Error) -> nmf_status {
        self.set(err);
        status_of(err)
    }
}

/// A handle that records its last failure.
pub(crate) trait Handle {
    fn last_error(&mut self) -> &mut LastError;
}

/// Runs `body` on the handle behind `ptr` inside the panic boundary. A NULL handle is
/// [`NMF_INVALID_ARGUMENT`]; a panic is recorded in the handle's last error.
///
/// # Safety
///
/// `ptr` is NULL or a valid, exclusive pointer to a live `H` made by this library.
pub(crate) unsafe fn with_handle<H: Handle>(
    ptr: *mut H,
    body: impl FnOnce(&mut H) -> nmf_status,
) -> nmf_status {
    if ptr.is_null() {
        return NMF_INVALID_ARGUMENT;
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: non-NULL, and valid and exclusive by the caller's contract.
        let handle = unsafe { &mut *ptr };
        handle.last_error().clear();
        body(handle)
    }));
    match outcome {
        Ok(status) => status,
        Err(payload) => {
            // SAFETY: as above; the panicking borrow has ended with the unwind.
            let handle = unsafe { &mut *ptr };
            handle.last_error().set(format_args!(
                "panic inside nmframe: {}",
                panic_message(&*payload)
            ));
            NMF_PANIC
        }
    }
}

/// A byte slice from a C buffer: `(NULL, 0)` is empty, `(NULL, n > 0)` is refused.
///
/// # Safety
///
/// When `ptr` is not NULL it must be valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn slice<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return (len == 0).then_some(&[]);
    }
    // SAFETY: non-NULL and valid for `len` bytes by the caller's contract.
    Some(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Where one frame sits in a caller's buffer, as found by [`nmf_frame_parse`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct nmf_frame {
    /// Offset of the payload in the buffer (always `NMF_HEADER_LEN` when found).
    pub payload_offset: size_t,
    /// Length of the payload.
    pub payload_len: size_t,
    /// Bytes the whole frame takes: header plus payload. Advance by this much.
    pub consumed: size_t,
    /// With `NMF_NEED_MORE`: the least number of further bytes needed.
    pub needed: size_t,
}

/// `size_t`, as cbindgen writes `usize`.
pub type size_t = usize;

/// Finds the frame at the start of `buf` without copying or allocating.
///
/// `role` is the side the caller plays (an `nmf_role`): a host parses browser → host
/// frames, capped at `max_len` (0: the protocol's limit for that direction, larger
/// values clamped to it).
///
/// Returns `NMF_OK` with the payload's place in `out`, or `NMF_NEED_MORE` with `out`
/// written in full (`needed` is the least number of further bytes, the other fields
/// 0), or `NMF_FRAME_TOO_LARGE` when the header announces more than the cap (checked
/// as soon as the four header bytes are there; `out` untouched). An unknown role is
/// `NMF_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `buf` is NULL with `len` 0, or valid for reads of `len` bytes; `out` is valid for a
/// write of one `nmf_frame`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_frame_parse(
    buf: *const u8,
    len: size_t,
    role: u32,
    max_len: u32,
    out: *mut nmf_frame,
) -> nmf_status {
    boundary(|| {
        // SAFETY: the caller's contract on `buf`.
        let Some(buf) = (unsafe { slice(buf, len) }) else {
            return NMF_INVALID_ARGUMENT;
        };
        let Some(mut limits) = role_limits(role) else {
            return NMF_INVALID_ARGUMENT;
        };
        if out.is_null() {
            return NMF_INVALID_ARGUMENT;
        }
        if max_len != 0 {
            limits = limits.with_max_inbound(max_len);
        }
        let (status, frame) = match nmframe::decode_frame(buf, limits.inbound()) {
            Ok(Decoded::Frame { payload, consumed }) => (
                NMF_OK,
                nmf_frame {
                    payload_offset: NMF_HEADER_LEN,
                    payload_len: payload.len(),
                    consumed,
                    needed: 0,
                },
            ),
            Ok(Decoded::Incomplete { needed }) => (
                NMF_NEED_MORE,
                nmf_frame {
                    needed,
                    ..nmf_frame::default()
                },
            ),
            Err(err) => return status_of(&err),
        };
        // SAFETY: `out` is non-NULL and valid for a write by the caller's contract.
        unsafe { out.write(frame) };
        status
    })
}

/// Writes the 4-byte header (native byte order) for a payload of `payload_len` bytes
/// into `out`, after checking it against the cap of the direction `role` writes (a host
/// writes host → browser frames): `max_len`, 0 meaning the protocol's limit for that
/// direction, larger values clamped to it. An empty payload is `NMF_EMPTY_FRAME`, an
/// oversized one `NMF_FRAME_TOO_LARGE`, an unknown role `NMF_INVALID_ARGUMENT`; `out`
/// is then untouched.
///
/// # Safety
///
/// `out` is valid for writes of `NMF_HEADER_LEN` (4) bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_header_write(
    payload_len: size_t,
    role: u32,
    max_len: u32,
    out: *mut u8,
) -> nmf_status {
    boundary(|| {
        let Some(mut limits) = role_limits(role) else {
            return NMF_INVALID_ARGUMENT;
        };
        if out.is_null() {
            return NMF_INVALID_ARGUMENT;
        }
        if max_len != 0 {
            limits = limits.with_max_outbound(max_len);
        }
        match nmframe::encode_header(payload_len, limits.outbound()) {
            Ok(header) => {
                // SAFETY: `out` is valid for 4 bytes by the caller's contract.
                unsafe { std::ptr::copy_nonoverlapping(header.as_ptr(), out, NMF_HEADER_LEN) };
                NMF_OK
            }
            Err(err) => status_of(&err),
        }
    })
}

thread_local! {
    /// One validator per thread, so that its buffers are reused across calls.
    static VALIDATOR: std::cell::RefCell<nmframe::JsonDecoder> = std::cell::RefCell::new(nmframe::JsonDecoder::new());
}

/// Checks that `buf` holds one valid UTF-8 JSON text: `NMF_OK`, `NMF_INVALID_UTF8` or
/// `NMF_INVALID_JSON` (an empty buffer is invalid JSON). The buffer is not modified.
/// It accepts what a browser's `JSON.parse` accepts: nesting of any depth, numbers of
/// any magnitude. For the offset and reason of a failure, parse with an `nmf_doc` and
/// read its last error. Buffers are reused per thread: no allocation once warm.
///
/// # Safety
///
/// `buf` is NULL with `len` 0, or valid for reads of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_json_validate(buf: *const u8, len: size_t) -> nmf_status {
    boundary(|| {
        // SAFETY: the caller's contract on `buf`.
        let Some(buf) = (unsafe { slice(buf, len) }) else {
            return NMF_INVALID_ARGUMENT;
        };
        VALIDATOR.with(|v| match v.borrow_mut().validate(buf) {
            Ok(()) => NMF_OK,
            Err(err) => status_of(&err),
        })
    })
}
