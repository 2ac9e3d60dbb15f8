//! What only the crate itself can reach: the panic boundary, and how errors become
//! statuses and last-error text. Everything else is tested through the exports, as C
//! calls them, in tests/api.rs.

use std::ffi::{CStr, c_int};

use crate::handle::{ask_handle, boundary, free_handle, new_handle, with_handle};
use crate::nmf_status::*;
use crate::*;

#[test]
fn a_broken_writer_has_its_own_status_and_message() {
    let err = nmframe::Error::WriterBroken {
        written: 3,
        len: 21,
    };
    assert_eq!(status_of(&err), NMF_WRITER_BROKEN);
    assert_eq!(NMF_WRITER_BROKEN as c_int, 26);
    let mut last = LastError::default();
    assert_eq!(last.fail(&err), NMF_WRITER_BROKEN);
    // SAFETY: the last error is a NUL-terminated string owned by `last`.
    let message = unsafe { CStr::from_ptr(last.as_ptr()) }.to_string_lossy();
    assert!(message.contains("3 of 21 bytes"), "{message}");
}

#[test]
fn a_panic_becomes_nmf_panic_and_is_recorded_on_the_handle() {
    assert_eq!(boundary(|| panic!("boom")), NMF_PANIC);
    let mut doc = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { nmf_doc_new(&mut doc) }, NMF_OK);
    let error = |doc| {
        // SAFETY: a live document.
        let text = unsafe { nmf_doc_last_error(doc) };
        // SAFETY: a NUL-terminated string the document owns, alive until its next call.
        unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned()
    };
    // SAFETY: a live document, made by nmf_doc_new.
    let status = unsafe { with_handle(doc, |_| panic!("forced for the test")) };
    assert_eq!(status, NMF_PANIC);
    assert_eq!(error(doc), "panic inside nmframe: forced for the test");
    // The handle still works, and a success clears the error.
    // SAFETY: a live document and a readable one-byte buffer.
    assert_eq!(unsafe { nmf_doc_parse(doc, b"1".as_ptr(), 1) }, NMF_OK);
    assert_eq!(error(doc), "");
    // SAFETY: made by nmf_doc_new, freed once.
    unsafe { nmf_doc_free(doc) };
}

#[test]
fn a_panic_in_a_question_or_a_drop_stays_inside_the_boundary() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("forced for the test: a drop that panics");
        }
    }
    let mut out: *mut Bomb = std::ptr::null_mut();
    // SAFETY: `out` is valid for a write.
    assert_eq!(unsafe { new_handle(&raw mut out, || Ok(Bomb)) }, NMF_OK);
    // SAFETY: `out` is a live handle from new_handle.
    let answer = unsafe { ask_handle(out.cast_const(), 7, |_| -> i32 { panic!("forced") }) };
    assert_eq!(answer, 7);
    // SAFETY: as above; freed once. The panic in its drop does not unwind out.
    unsafe { free_handle(out) };
    // A handle that cannot be made is the status `make` gives, and nothing written.
    let mut none: *mut Bomb = std::ptr::null_mut();
    // SAFETY: `none` is valid for a write.
    let status = unsafe { new_handle(&raw mut none, || Err(NMF_IO)) };
    assert_eq!((status, none.is_null()), (NMF_IO, true));
    assert!(!nmf_status_str(NMF_IO as c_int).is_null());
}

#[test]
fn a_received_view_is_shared_once_and_found_again_and_other_bytes_are_not() {
    use bytes::BytesMut;

    use crate::host::share_received;

    let mut frames = [
        BytesMut::from(&b"[1,2,3]"[..]),
        BytesMut::from(&b"{\"a\":\"bcdef\"}"[..]),
    ];
    let second = frames[1].as_ptr() as usize;
    let mut kept = Vec::new();
    // A part of the second frame: that frame is frozen (no copy: same address) and kept.
    let part = share_received(&mut kept, frames.iter_mut(), second + 5, 7).unwrap();
    assert_eq!(&part[..], b"\"bcdef\"");
    assert_eq!(part.as_ptr() as usize, second + 5);
    assert_eq!(kept.len(), 1);
    assert!(frames[1].is_empty(), "moved into kept, not copied");
    // The whole of it, again: found among the kept ones, not frozen twice.
    let whole = share_received(&mut kept, frames.iter_mut(), second, 13).unwrap();
    assert_eq!(&whole[..], b"{\"a\":\"bcdef\"}");
    assert_eq!(kept.len(), 1);
    // One byte past its end, an empty view, and bytes elsewhere: not a received view.
    assert!(share_received(&mut kept, frames.iter_mut(), second + 1, 13).is_none());
    assert!(share_received(&mut kept, frames.iter_mut(), second, 0).is_none());
    let elsewhere = *b"[1,2,3]";
    let at = elsewhere.as_ptr() as usize;
    assert!(share_received(&mut kept, frames.iter_mut(), at, 7).is_none());
    // The first frame, whole.
    let first = frames[0].as_ptr() as usize;
    let one = share_received(&mut kept, frames.iter_mut(), first, 7).unwrap();
    assert_eq!(&one[..], b"[1,2,3]");
    assert_eq!(kept.len(), 2);
}
