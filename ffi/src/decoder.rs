//! `nmf_decoder`: a streaming decoder that owns its buffer.

use std::ffi::c_char;

use bytes::BytesMut;
use nmframe::FrameDecoder;

use crate::handle::{Handle, ask_handle, free_handle, last_error_of, new_handle, with_handle};
use crate::nmf_status::{self, *};
use crate::{LastError, size_t};

/// A streaming frame decoder that owns its buffer. Bytes go in without a copy: ask for
/// writable space with `nmf_decoder_buffer`, `read()` into it, and report the count
/// with `nmf_decoder_commit`. Frames come out of `nmf_decoder_next` as views into the
/// buffer.
pub struct nmf_decoder {
    inner: FrameDecoder,
    /// The frame last handed out; its bytes stay put until the next call.
    current: Option<BytesMut>,
    last_error: LastError,
}

impl Handle for nmf_decoder {
    fn last_error(&self) -> &LastError {
        &self.last_error
    }
    fn last_error_mut(&mut self) -> &mut LastError {
        &mut self.last_error
    }
}

/// Makes a decoder for `role` (an `nmf_role`: `NMF_ROLE_HOST` reads browser → host
/// frames, `NMF_ROLE_BROWSER` host → browser frames) with `max_len` as its cap on
/// frames read; 0 means the protocol's limit for that direction. A larger value is
/// clamped to it.
///
/// # Safety
///
/// `out` is valid for a write of one pointer. Free the decoder with
/// `nmf_decoder_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_decoder_new(
    role: u32,
    max_len: u32,
    out: *mut *mut nmf_decoder,
) -> nmf_status {
    let make = || {
        let mut limits = crate::role_limits(role).ok_or(NMF_INVALID_ARGUMENT)?;
        if max_len != 0 {
            limits = limits.with_max_inbound(max_len);
        }
        Ok(nmf_decoder {
            inner: FrameDecoder::new(limits),
            current: None,
            last_error: LastError::default(),
        })
    };
    // SAFETY: the caller's contract on `out`.
    unsafe { new_handle(out, make) }
}

/// Frees a decoder and every view it handed out. NULL does nothing.
///
/// # Safety
///
/// `decoder` is NULL or a decoder from `nmf_decoder_new` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_decoder_free(decoder: *mut nmf_decoder) {
    // SAFETY: the caller's contract on `decoder`.
    unsafe { free_handle(decoder) }
}

/// Hands out writable space of at least `min_len` bytes at the end of the buffer (at
/// least 16 KiB; the buffer grows geometrically while a large frame arrives, never by
/// more than what has arrived): `*ptr` and `*len` describe it. Fill a
/// prefix of it and call `nmf_decoder_commit`. The space stays valid until the next
/// call on the decoder.
///
/// # Safety
///
/// `decoder` is a live decoder; `ptr` and `len` are valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_decoder_buffer(
    decoder: *mut nmf_decoder,
    min_len: size_t,
    ptr: *mut *mut u8,
    len: *mut size_t,
) -> nmf_status {
    let body = |d: &mut nmf_decoder| {
        if ptr.is_null() || len.is_null() {
            return NMF_INVALID_ARGUMENT;
        }
        let space = d.inner.read_buf(min_len);
        // SAFETY: non-NULL (checked above) and valid for a write by the caller's contract.
        unsafe { ptr.write(space.as_mut_ptr()) };
        // SAFETY: as above.
        unsafe { len.write(space.len()) };
        NMF_OK
    };
    // SAFETY: the caller's contract on `decoder`.
    unsafe { with_handle(decoder, body) }
}

/// Records that `n` bytes were written at the start of the space from
/// `nmf_decoder_buffer`. More than that space is `NMF_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `decoder` is a live decoder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_decoder_commit(decoder: *mut nmf_decoder, n: size_t) -> nmf_status {
    let body = |d: &mut nmf_decoder| {
        let room = d.inner.writable_len();
        if n > room {
            d.last_error.set(format_args!(
                "commit of {n} bytes exceeds the {room} bytes handed out by nmf_decoder_buffer"
            ));
            return NMF_INVALID_ARGUMENT;
        }
        d.inner.commit(n);
        NMF_OK
    };
    // SAFETY: the caller's contract on `decoder`.
    unsafe { with_handle(decoder, body) }
}

/// Copies `len` bytes from `buf` into the decoder: the simple way in, at the cost of a
/// copy.
///
/// # Safety
///
/// `decoder` is a live decoder; `buf` is NULL with `len` 0, or valid for reads of
/// `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_decoder_push(
    decoder: *mut nmf_decoder,
    buf: *const u8,
    len: size_t,
) -> nmf_status {
    let body = |d: &mut nmf_decoder| {
        // SAFETY: the caller's contract on `buf`.
        let bytes = unsafe { slice_of(buf, len) };
        let Some(bytes) = bytes else {
            return NMF_INVALID_ARGUMENT;
        };
        d.inner.push(bytes);
        NMF_OK
    };
    // SAFETY: the caller's contract on `decoder`.
    unsafe { with_handle(decoder, body) }
}

/// # Safety
///
/// As for [`crate::slice`].
unsafe fn slice_of<'a>(buf: *const u8, len: size_t) -> Option<&'a [u8]> {
    // SAFETY: forwarded contract.
    unsafe { crate::slice(buf, len) }
}

/// The next whole frame: `NMF_OK` with `*payload`/`*len` viewing it (writable, so that
/// it can be parsed in place; valid until the next `nmf_decoder_next` or
/// `nmf_decoder_free`, even while more bytes are written into the decoder), or
/// `NMF_NEED_MORE`, or `NMF_FRAME_TOO_LARGE` (fatal: the stream cannot be
/// resynchronised; the last error gives the length, the cap and the offset).
///
/// # Safety
///
/// `decoder` is a live decoder; `payload` and `len` are valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_decoder_next(
    decoder: *mut nmf_decoder,
    payload: *mut *mut u8,
    len: *mut size_t,
) -> nmf_status {
    let body = |d: &mut nmf_decoder| {
        if payload.is_null() || len.is_null() {
            return NMF_INVALID_ARGUMENT;
        }
        d.current = None;
        match d.inner.decode() {
            Ok(Some(frame)) => {
                let frame = d.current.insert(frame);
                // SAFETY: non-NULL (checked above) and valid for a write by the caller's contract.
                unsafe { payload.write(frame.as_mut_ptr()) };
                // SAFETY: as above.
                unsafe { len.write(frame.len()) };
                NMF_OK
            }
            Ok(None) => NMF_NEED_MORE,
            Err(err) => d.last_error.fail(&err),
        }
    };
    // SAFETY: the caller's contract on `decoder`.
    unsafe { with_handle(decoder, body) }
}

/// Declares the end of the input: `NMF_EOF` when it ended at a frame boundary,
/// otherwise `NMF_TRUNCATED_HEADER` or `NMF_TRUNCATED_PAYLOAD` (the last error says how
/// many bytes of what arrived).
///
/// # Safety
///
/// `decoder` is a live decoder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_decoder_finish(decoder: *mut nmf_decoder) -> nmf_status {
    let body = |d: &mut nmf_decoder| match d.inner.finish() {
        Ok(()) => NMF_EOF,
        Err(err) => d.last_error.fail(&err),
    };
    // SAFETY: the caller's contract on `decoder`.
    unsafe { with_handle(decoder, body) }
}

/// Bytes received and not yet returned as frames.
///
/// # Safety
///
/// `decoder` is NULL (0 is returned) or a live decoder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_decoder_buffered(decoder: *const nmf_decoder) -> size_t {
    // SAFETY: the caller's contract on `decoder`.
    unsafe { ask_handle(decoder, 0, |d| d.inner.buffered()) }
}

/// The last failure on this decoder, in words with its numbers (sizes, limits,
/// offsets): a NUL-terminated string owned by the decoder, valid until the next call
/// on it. Empty when the last call succeeded.
///
/// # Safety
///
/// `decoder` is NULL (an empty string is returned) or a live decoder.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_decoder_last_error(decoder: *const nmf_decoder) -> *const c_char {
    // SAFETY: the caller's contract on `decoder`.
    unsafe { last_error_of(decoder) }
}
