//! `nmf_status`: the outcome of every call, its words, and the status of each core
//! error.

use std::ffi::{c_char, c_int};

use nmframe::Error;

use self::nmf_status::*;

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

/// A static, NUL-terminated description of a status, such as `"frame too large"`.
/// Unknown numbers give `"unknown status"`.
#[unsafe(no_mangle)]
pub extern "C" fn nmf_status_str(status: c_int) -> *const c_char {
    crate::guarded(std::ptr::null(), || status_text(status).as_ptr().cast())
}

/// The text of `nmf_status_str`, NUL included.
fn status_text(status: c_int) -> &'static str {
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
    text
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
