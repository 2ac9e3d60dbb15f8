//! The calls on caller-owned bytes: find a frame, write a header, validate JSON.

use nmframe::Decoded;

use crate::handle::{boundary, slice};
use crate::nmf_status::{self, *};
use crate::{NMF_HEADER_LEN, role_limits, size_t, status_of};

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
