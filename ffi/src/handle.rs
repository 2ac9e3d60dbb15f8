//! The panic boundary every export runs in, and the life of a handle: made, used,
//! asked, freed, each in one generic function so that no export writes its own.
//!
//! Unwinding out of an `extern "C"` function aborts the process, so a panic (a bug in
//! nmframe) must stop here: a call that returns a status returns `NMF_PANIC` and keeps
//! the panic's message in the handle's last error; any other call returns its neutral
//! value (NULL, 0, false).

use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use nmframe::Error;

use crate::nmf_status::{self, *};
use crate::status_of;

/// Runs an export's body inside the boundary: a panic gives `on_panic`.
pub(crate) fn guarded<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// Runs an export's body inside the boundary: a panic gives [`NMF_PANIC`].
pub(crate) fn boundary(body: impl FnOnce() -> nmf_status) -> nmf_status {
    guarded(NMF_PANIC, body)
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

/// A handle that C holds by pointer and that records its last failure.
pub(crate) trait Handle {
    fn last_error(&self) -> &LastError;
    fn last_error_mut(&mut self) -> &mut LastError;
}

/// Makes a handle with `make` inside the boundary and writes its pointer to `out`. A
/// NULL `out` is [`NMF_INVALID_ARGUMENT`], and so is nothing made; `make` returns
/// the status to give instead.
///
/// # Safety
///
/// `out` is NULL or valid for a write of one pointer.
pub(crate) unsafe fn new_handle<H>(
    out: *mut *mut H,
    make: impl FnOnce() -> Result<H, nmf_status>,
) -> nmf_status {
    boundary(|| {
        if out.is_null() {
            return NMF_INVALID_ARGUMENT;
        }
        match make() {
            Ok(handle) => {
                // SAFETY: non-NULL (checked above) and valid for a write by the caller's
                // contract; freed by `free_handle`.
                unsafe { out.write(Box::into_raw(Box::new(handle))) };
                NMF_OK
            }
            Err(status) => status,
        }
    })
}

/// Frees a handle made by [`new_handle`], inside the boundary. NULL does nothing.
///
/// # Safety
///
/// `ptr` is NULL or a handle from [`new_handle`] not yet freed.
pub(crate) unsafe fn free_handle<H>(ptr: *mut H) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: made by Box::into_raw in `new_handle`, freed once by the caller's
    // contract.
    let handle = unsafe { Box::from_raw(ptr) };
    // A drop that panicked has nothing to report to; the memory it had not freed yet
    // is lost, the process goes on.
    guarded((), || drop(handle));
}

/// Runs `body` on the handle behind `ptr` inside the boundary. A NULL handle is
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
        handle.last_error_mut().clear();
        body(handle)
    }));
    match outcome {
        Ok(status) => status,
        Err(payload) => {
            // SAFETY: as above; the panicking borrow has ended with the unwind.
            let handle = unsafe { &mut *ptr };
            handle.last_error_mut().set(format_args!(
                "panic inside nmframe: {}",
                panic_message(&*payload)
            ));
            NMF_PANIC
        }
    }
}

/// Asks the handle behind `ptr` something, inside the boundary: `otherwise` when `ptr`
/// is NULL or the question panicked.
///
/// # Safety
///
/// `ptr` is NULL or a valid pointer to a live `H` made by this library.
pub(crate) unsafe fn ask_handle<H, T>(ptr: *const H, otherwise: T, ask: impl FnOnce(&H) -> T) -> T {
    // SAFETY: NULL or live, by the caller's contract; only read.
    let Some(handle) = (unsafe { ptr.as_ref() }) else {
        return otherwise;
    };
    guarded(otherwise, || ask(handle))
}

/// The last error of the handle behind `ptr`, an empty string for NULL: the body of
/// every `nmf_*_last_error`.
///
/// # Safety
///
/// As for [`ask_handle`].
pub(crate) unsafe fn last_error_of<H: Handle>(ptr: *const H) -> *const c_char {
    // SAFETY: the caller's contract on `ptr`.
    unsafe { ask_handle(ptr, c"".as_ptr(), |h| h.last_error().as_ptr()) }
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
