//! A fuzz check of the C ABI: sequences of calls decoded from the input, with NULLs,
//! zero lengths and fuzzed sizes, checked against a model. Run by the `ffi_calls`
//! fuzz target and by nmframe-ffi's tests, which replay the committed seeds.
//!
//! Each arm of the program is a short sequence of C calls on live handles, under one
//! SAFETY argument, as a C caller would write it: one unsafe operation per block is
//! the rule for the library, not for this driver of it.
#![allow(clippy::multiple_unsafe_ops_per_block)]

use std::ptr::{null, null_mut};

use nmframe::{Cap, Direction, SliceFrames};

use nmframe_ffi::nmf_status::*;
use nmframe_ffi::*;

/// Reads the fuzz input as a little program of C calls.
struct Program<'a>(&'a [u8]);

impl<'a> Program<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn bytes(&mut self) -> &'a [u8] {
        let n = self.byte().map_or(0, usize::from);
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }

    fn u32(&mut self) -> u32 {
        let mut v = [0u8; 4];
        for b in &mut v {
            *b = self.byte().unwrap_or(0);
        }
        u32::from_le_bytes(v)
    }
}

/// A decoder under test, and everything written into it (the model of its stream).
struct Tracked {
    handle: *mut nmf_decoder,
    max: u32,
    stream: Vec<u8>,
    frames_out: usize,
    failed: bool,
}

impl Tracked {
    fn new(role: u32, max: u32) -> Option<Tracked> {
        let mut handle = null_mut();
        // SAFETY: a live out-pointer.
        let status = unsafe { nmf_decoder_new(role, max, &mut handle) };
        if role > 1 {
            assert_eq!(status, NMF_INVALID_ARGUMENT);
            assert!(handle.is_null(), "out untouched on failure");
            return None;
        }
        assert_eq!(status, NMF_OK);
        let protocol = if role == 0 { u32::MAX } else { 1 << 20 };
        let max = if max == 0 {
            protocol
        } else {
            max.min(protocol)
        };
        Some(Tracked {
            handle,
            max,
            stream: Vec::new(),
            frames_out: 0,
            failed: false,
        })
    }

    /// The frames the model expects, and whether the stream hits the cap.
    fn expected(&self) -> (Vec<Vec<u8>>, bool) {
        let cap = Cap {
            max: self.max,
            direction: Direction::BrowserToHost,
        };
        let mut frames = Vec::new();
        for frame in SliceFrames::new(&self.stream, cap) {
            match frame {
                Ok(f) => frames.push(f.to_vec()),
                Err(_) => return (frames, true),
            }
        }
        (frames, false)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // SAFETY: made by nmf_decoder_new, freed once.
        unsafe { nmf_decoder_free(self.handle) };
    }
}

/// Runs the program in `data`; panics on any broken promise.
pub fn api_calls(data: &[u8]) {
    let mut p = Program(data);
    let mut decoder: Option<Tracked> = None;
    let mut doc = null_mut();
    // SAFETY: a live out-pointer.
    assert_eq!(unsafe { nmf_doc_new(&mut doc) }, NMF_OK);
    while let Some(op) = p.byte() {
        // SAFETY: in every arm, pointers are live locals or handles made above, of the
        // lengths passed; NULLs are passed on purpose, with lengths that allow them.
        unsafe {
            match op % 12 {
                0 => {
                    let role = u32::from(p.byte().unwrap_or(0) % 3);
                    decoder = Tracked::new(role, p.u32() % 4096);
                }
                1 => {
                    let Some(d) = decoder.as_mut().filter(|d| !d.failed) else {
                        continue;
                    };
                    let input = p.bytes();
                    let (mut ptr, mut len) = (null_mut(), 0);
                    assert_eq!(
                        nmf_decoder_buffer(d.handle, input.len(), &mut ptr, &mut len),
                        NMF_OK
                    );
                    assert!(len >= input.len() && !ptr.is_null());
                    std::ptr::copy_nonoverlapping(input.as_ptr(), ptr, input.len());
                    // Committing more than was handed out is refused, and changes nothing.
                    assert_eq!(nmf_decoder_commit(d.handle, len + 1), NMF_INVALID_ARGUMENT);
                    assert_eq!(nmf_decoder_commit(d.handle, input.len()), NMF_OK);
                    d.stream.extend_from_slice(input);
                }
                2 => {
                    let Some(d) = decoder.as_mut().filter(|d| !d.failed) else {
                        continue;
                    };
                    let input = p.bytes();
                    let ptr = if input.is_empty() && p.byte().unwrap_or(0) % 2 == 0 {
                        null()
                    } else {
                        input.as_ptr()
                    };
                    assert_eq!(nmf_decoder_push(d.handle, ptr, input.len()), NMF_OK);
                    d.stream.extend_from_slice(input);
                }
                3 => {
                    let Some(d) = decoder.as_mut() else { continue };
                    let (frames, over_cap) = d.expected();
                    let (mut ptr, mut len) = (null_mut(), 0usize);
                    let status = nmf_decoder_next(d.handle, &mut ptr, &mut len);
                    match status {
                        NMF_OK => {
                            let got = std::slice::from_raw_parts(ptr, len);
                            assert_eq!(Some(got), frames.get(d.frames_out).map(Vec::as_slice));
                            d.frames_out += 1;
                        }
                        NMF_NEED_MORE => assert!(d.frames_out == frames.len() && !over_cap),
                        NMF_FRAME_TOO_LARGE => {
                            assert!(d.frames_out == frames.len() && over_cap);
                            d.failed = true;
                        }
                        other => panic!("nmf_decoder_next: {other:?}"),
                    }
                    assert!(nmf_decoder_buffered(d.handle) <= d.stream.len());
                }
                4 => {
                    let Some(d) = decoder.as_mut() else { continue };
                    let status = nmf_decoder_finish(d.handle);
                    assert!(
                        matches!(
                            status,
                            NMF_EOF
                                | NMF_TRUNCATED_HEADER
                                | NMF_TRUNCATED_PAYLOAD
                                | NMF_FRAME_TOO_LARGE
                        ),
                        "{status:?}"
                    );
                }
                5 => decoder = None,
                6 => {
                    let input = p.bytes();
                    let ptr = if input.is_empty() {
                        null()
                    } else {
                        input.as_ptr()
                    };
                    let status = nmf_doc_parse(doc, ptr, input.len());
                    assert!(
                        matches!(
                            status,
                            NMF_OK | NMF_INVALID_JSON | NMF_INVALID_UTF8 | NMF_NESTING_TOO_DEEP
                        ),
                        "{status:?}"
                    );
                    // A document accepts less than validation: nesting past 1024 levels,
                    // and numbers no double holds (`1e400`), are valid JSON it refuses.
                    let valid = nmframe::JsonDecoder::new().validate(input);
                    if status == NMF_OK {
                        assert!(valid.is_ok(), "{valid:?}");
                    }
                    if valid.is_err() {
                        assert_ne!(status, NMF_OK);
                    }
                    // Validation checks UTF-8 before anything else; a document may
                    // stop at another fault first.
                    if status == NMF_INVALID_UTF8 {
                        assert!(
                            matches!(valid, Err(nmframe::Error::InvalidUtf8 { .. })),
                            "{valid:?}"
                        );
                    }
                }
                7 => {
                    let pointer = p.bytes();
                    let mut value = std::mem::MaybeUninit::uninit();
                    let ptr = if pointer.is_empty() {
                        null()
                    } else {
                        pointer.as_ptr().cast()
                    };
                    let status = nmf_doc_get(doc, ptr, pointer.len(), value.as_mut_ptr());
                    assert!(
                        matches!(status, NMF_OK | NMF_NOT_FOUND | NMF_INVALID_ARGUMENT),
                        "{status:?}"
                    );
                    if status == NMF_OK {
                        let v = value.assume_init();
                        if v.r#type == nmf_json_type::NMF_JSON_STRING {
                            // The view must be readable and UTF-8.
                            let s = std::slice::from_raw_parts(v.string.cast::<u8>(), v.length);
                            assert!(std::str::from_utf8(s).is_ok());
                        }
                    }
                }
                8 => {
                    let input = p.bytes();
                    let max = p.u32() % 512;
                    let mut frame = nmf_frame::default();
                    let ptr = if input.is_empty() {
                        null()
                    } else {
                        input.as_ptr()
                    };
                    let role = u32::from(p.byte().unwrap_or(0) % 3);
                    let status = nmf_frame_parse(ptr, input.len(), role, max, &mut frame);
                    let Some(mut limits) = model_limits(role) else {
                        assert_eq!(status, NMF_INVALID_ARGUMENT);
                        continue;
                    };
                    if max != 0 {
                        limits = limits.with_max_inbound(max);
                    }
                    match nmframe::decode_frame(input, limits.inbound()) {
                        Ok(nmframe::Decoded::Frame { payload, consumed }) => {
                            assert_eq!(
                                (status, frame.payload_len, frame.consumed),
                                (NMF_OK, payload.len(), consumed)
                            );
                        }
                        Ok(nmframe::Decoded::Incomplete { needed }) => {
                            assert_eq!((status, frame.needed), (NMF_NEED_MORE, needed));
                        }
                        Err(_) => assert_eq!(status, NMF_FRAME_TOO_LARGE),
                    }
                }
                9 => {
                    let len = p.u32() as usize % (3 << 20);
                    let max = p.u32() % (2 << 20);
                    let mut header = [0xAAu8; 4];
                    let role = u32::from(p.byte().unwrap_or(0) % 3);
                    let status = nmf_header_write(len, role, max, header.as_mut_ptr());
                    let Some(mut limits) = model_limits(role) else {
                        assert_eq!(status, NMF_INVALID_ARGUMENT);
                        assert_eq!(header, [0xAA; 4], "out untouched on refusal");
                        continue;
                    };
                    if max != 0 {
                        limits = limits.with_max_outbound(max);
                    }
                    let limit = limits.max_outbound() as usize;
                    match status {
                        NMF_OK => assert_eq!(header, (len as u32).to_ne_bytes()),
                        NMF_EMPTY_FRAME => assert_eq!(len, 0),
                        NMF_FRAME_TOO_LARGE => assert!(len > limit),
                        other => panic!("{other:?}"),
                    }
                    if status != NMF_OK {
                        assert_eq!(header, [0xAA; 4], "out untouched on refusal");
                    }
                }
                10 => {
                    let input = p.bytes();
                    let ptr = if input.is_empty() {
                        null()
                    } else {
                        input.as_ptr()
                    };
                    let status = nmf_json_validate(ptr, input.len());
                    assert_eq!(
                        status == NMF_OK,
                        nmframe::JsonDecoder::new().validate(input).is_ok()
                    );
                }
                _ => {
                    // NULL where a pointer is required, with a length that forbids it.
                    let n = usize::from(p.byte().unwrap_or(1)) + 1;
                    let mut frame = nmf_frame::default();
                    assert_eq!(
                        nmf_frame_parse(null(), n, 0, 0, &mut frame),
                        NMF_INVALID_ARGUMENT
                    );
                    assert_eq!(nmf_json_validate(null(), n), NMF_INVALID_ARGUMENT);
                    assert_eq!(nmf_doc_parse(doc, null(), n), NMF_INVALID_ARGUMENT);
                    assert_eq!(
                        nmf_decoder_push(null_mut(), null(), 0),
                        NMF_INVALID_ARGUMENT
                    );
                    if let Some(d) = &decoder {
                        assert_eq!(nmf_decoder_push(d.handle, null(), n), NMF_INVALID_ARGUMENT);
                    }
                }
            }
        }
    }
    // SAFETY: made by nmf_doc_new, freed once.
    unsafe { nmf_doc_free(doc) };
}

/// What the C ABI's `nmf_role` numbers stand for, written out independently of it.
fn model_limits(role: u32) -> Option<nmframe::Limits> {
    match role {
        0 => Some(nmframe::Limits::host()),
        1 => Some(nmframe::Limits::browser()),
        _ => None,
    }
}
