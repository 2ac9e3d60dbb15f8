//! Receiving on an `nmf_host`: one message per call, or a batch of those already
//! buffered (for bindings where each call across the boundary costs).

use std::mem::MaybeUninit;

use bytes::BytesMut;
use nmframe::Error;
use nmframe::chunked::Incoming;

use crate::handle::{ask_handle, with_handle};
use crate::host::{Io, nmf_host};
use crate::nmf_status::{self, *};
use crate::size_t;

/// Waits for the next message: `NMF_OK` with `*payload`/`*len` viewing it (writable;
/// valid until the next `nmf_host_recv` or `nmf_host_free`, so it can be passed
/// straight to `nmf_host_send`), `NMF_EOF` when the browser closed the pipe
/// (the host should exit now), or an error (`NMF_FRAME_TOO_LARGE`,
/// `NMF_TRUNCATED_HEADER`, `NMF_TRUNCATED_PAYLOAD`, `NMF_IO`: all final). With
/// `NMF_HOST_WRITER_THREAD`, a write that failed on the thread is returned here too
/// (`NMF_IO`, or `NMF_DISCONNECTED` when the browser went away), before waiting and
/// instead of `NMF_EOF`. With `NMF_HOST_CHUNKED`, a message the extension sent in parts
/// comes back whole once checked, and one that failed is `NMF_TRANSFER_FAILED` (the
/// last error says why; call again for the next message).
///
/// # Safety
///
/// `host` is a live host; `payload` and `len` are valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_recv(
    host: *mut nmf_host,
    payload: *mut *mut u8,
    len: *mut size_t,
) -> nmf_status {
    let body = |h: &mut nmf_host| {
        if payload.is_null() || len.is_null() {
            return NMF_INVALID_ARGUMENT;
        }
        h.forget_received();
        match next_message(h) {
            Ok(frame) => {
                let frame = h.current.insert(frame);
                // SAFETY: non-NULL (checked above) and valid for a write by the caller's contract.
                unsafe { payload.write(frame.as_mut_ptr()) };
                // SAFETY: as above.
                unsafe { len.write(frame.len()) };
                NMF_OK
            }
            Err(status) => status,
        }
    };
    // SAFETY: the caller's contract on `host`.
    unsafe { with_handle(host, body) }
}

/// The next message, waiting for it; or the status to return (`NMF_EOF`, or a failure
/// with the last error set).
fn next_message(h: &mut nmf_host) -> Result<BytesMut, nmf_status> {
    if let Some(err) = h.held.take() {
        return Err(h.last_error.fail(&err));
    }
    // A writer thread that failed (a full disk, a closed pipe) makes the host useless:
    // say so now rather than wait for a message that cannot be answered, or report a
    // clean end of input that hides it.
    if let Err(err) = h.io.writer().check() {
        return Err(h.last_error.fail(&err));
    }
    let next = match &mut h.io {
        Io::Plain { reader, .. } => reader.read_frame(),
        Io::Chunked(c) => match c.recv() {
            Ok(Some(Incoming::Message(message))) => Ok(Some(message)),
            Ok(Some(Incoming::Failed(err))) => Err(Error::Transfer(err)),
            Ok(None) => Ok(None),
            Err(err) => Err(err),
        },
    };
    match next {
        Ok(Some(frame)) => Ok(frame),
        Ok(None) => match h.io.writer().check() {
            Ok(()) => Err(NMF_EOF),
            Err(err) => Err(h.last_error.fail(&err)),
        },
        Err(err) => Err(h.last_error.fail(&err)),
    }
}

/// One message of a batch from `nmf_host_recv_batch`: a view into the host's buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct nmf_message {
    /// The payload (writable, so that it can be changed in place or sent back as is).
    pub data: *mut u8,
    /// Its length in bytes.
    pub len: size_t,
}

/// Receives several messages in one call, for bindings where each call across the
/// boundary costs (Go's cgo, Python, ...): waits for the next message as
/// `nmf_host_recv` does, then adds every further message already buffered whole, up
/// to `max`, without waiting. `*count` is how many of `out` were written (at least 1
/// with `NMF_OK`; 0 otherwise). The views are valid until the next `nmf_host_recv`,
/// `nmf_host_recv_batch` or `nmf_host_free`: copy what is kept.
///
/// Statuses as for `nmf_host_recv`. A failure met after the first message of a batch
/// (a broken frame behind good ones) ends the batch there and is returned by the next
/// call, so every message before it is delivered. With `NMF_HOST_CHUNKED`, one message
/// per call.
///
/// # Safety
///
/// `host` is a live host; `out` is valid for writes of `max` `nmf_message`s; `count`
/// is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_recv_batch(
    host: *mut nmf_host,
    out: *mut nmf_message,
    max: size_t,
    count: *mut size_t,
) -> nmf_status {
    let body = |h: &mut nmf_host| {
        if out.is_null() || count.is_null() || max == 0 {
            return NMF_INVALID_ARGUMENT;
        }
        // SAFETY: non-NULL (checked above) and valid for a write by the caller's contract.
        unsafe { count.write(0) };
        h.forget_received();
        match next_message(h) {
            Ok(frame) => h.batch.push(frame),
            Err(status) => return status,
        }
        if let Io::Plain { reader, .. } = &mut h.io {
            while h.batch.len() < max && reader.has_frame() {
                match reader.read_frame() {
                    Ok(Some(frame)) => h.batch.push(frame),
                    Ok(None) => break,
                    Err(err) => {
                        h.held = Some(err);
                        break;
                    }
                }
            }
        }
        // SAFETY: `h.batch.len() <= max`, and `out` is valid for `max` writes by the
        // caller's contract; as `MaybeUninit`, what it held before is never read.
        let views = unsafe {
            std::slice::from_raw_parts_mut(out.cast::<MaybeUninit<nmf_message>>(), h.batch.len())
        };
        for (view, frame) in views.iter_mut().zip(&mut h.batch) {
            view.write(nmf_message {
                data: frame.as_mut_ptr(),
                len: frame.len(),
            });
        }
        // SAFETY: as for the first write of `count`.
        unsafe { count.write(h.batch.len()) };
        NMF_OK
    };
    // SAFETY: the caller's contract on `host`.
    unsafe { with_handle(host, body) }
}

/// Whether a whole message is already buffered, so that `nmf_host_recv` will not
/// block. Queue replies while this is true and flush when it turns false. With
/// `NMF_HOST_CHUNKED` a buffered frame may be one part of a longer message: then
/// `nmf_host_recv` writes what is queued before it waits for the rest.
///
/// # Safety
///
/// `host` is NULL (false) or a live host.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_has_message(host: *const nmf_host) -> bool {
    let ask = |h: &nmf_host| match &h.io {
        Io::Plain { reader, .. } => reader.has_frame(),
        Io::Chunked(c) => c.has_frame(),
    };
    // SAFETY: the caller's contract on `host`.
    unsafe { ask_handle(host, false, ask) }
}
