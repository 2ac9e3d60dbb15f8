//! Every export, called as C would call it: NULLs, wrong sizes, caps, and out-parameters
//! left alone on failure; the hostile-input table and the fuzz seeds through the C ABI.
//! (What needs the crate's private parts, the panic boundary, is tested in src/tests.rs.)
//!
//! The library's own unsafe code keeps one operation per block; here a block is a
//! sequence of C calls on the same live handles, as a C caller writes it, under one
//! SAFETY argument.
#![allow(clippy::multiple_unsafe_ops_per_block)]

use std::ffi::{CStr, c_int};
use std::ptr::{null, null_mut};

use nmframe_ffi::nmf_status::*;
use nmframe_ffi::*;
use nmframe_test_support::hostile::{self as hostile_cases, frame};

fn text(p: *const std::ffi::c_char) -> String {
    // SAFETY: every string the library returns is NUL-terminated and live here.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

#[test]
fn version_and_constants_match_the_crates() {
    assert_eq!(text(nmf_version()), env!("CARGO_PKG_VERSION"));
    let parts: Vec<u32> = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(
        parts,
        [NMF_VERSION_MAJOR, NMF_VERSION_MINOR, NMF_VERSION_PATCH]
    );
    assert_eq!(NMF_HEADER_LEN, nmframe::HEADER_LEN);
    assert_eq!(NMF_MAX_HOST_TO_BROWSER, nmframe::MAX_HOST_TO_BROWSER);
    assert_eq!(NMF_MAX_BROWSER_TO_HOST, nmframe::MAX_BROWSER_TO_HOST);
}

#[test]
fn every_status_has_its_own_text() {
    let all = [
        NMF_OK,
        NMF_NEED_MORE,
        NMF_EOF,
        NMF_DISCONNECTED,
        NMF_INVALID_ARGUMENT,
        NMF_FRAME_TOO_LARGE,
        NMF_EMPTY_FRAME,
        NMF_TRUNCATED_HEADER,
        NMF_TRUNCATED_PAYLOAD,
        NMF_INVALID_UTF8,
        NMF_INVALID_JSON,
        NMF_IO,
        NMF_NOT_FOUND,
        NMF_NESTING_TOO_DEEP,
        NMF_WRITER_BROKEN,
        NMF_PANIC,
    ];
    let texts: std::collections::HashSet<String> = all
        .iter()
        .map(|s| text(nmf_status_str(*s as c_int)))
        .collect();
    assert_eq!(texts.len(), all.len());
    assert!(!texts.contains("unknown status"));
    assert_eq!(text(nmf_status_str(-1)), "unknown status");
    assert_eq!(text(nmf_status_str(4)), "unknown status");
    assert_eq!(
        text(nmf_status_str(NMF_FRAME_TOO_LARGE as c_int)),
        "frame too large"
    );
}

const HOST: u32 = nmf_role::NMF_ROLE_HOST as u32;
const BROWSER: u32 = nmf_role::NMF_ROLE_BROWSER as u32;

const SENTINEL: nmf_frame = nmf_frame {
    payload_offset: 77,
    payload_len: 77,
    consumed: 77,
    needed: 77,
};

#[test]
fn frame_parse() {
    let wire = frame(b"{\"a\":1}");
    let mut out = SENTINEL;
    // SAFETY: in all calls below, buffers and out-pointers are live locals of the sizes given.
    unsafe {
        assert_eq!(
            nmf_frame_parse(wire.as_ptr(), wire.len(), HOST, 0, &mut out),
            NMF_OK
        );
        assert_eq!(
            out,
            nmf_frame {
                payload_offset: 4,
                payload_len: 7,
                consumed: 11,
                needed: 0
            }
        );

        assert_eq!(
            nmf_frame_parse(wire.as_ptr(), 6, HOST, 0, &mut out),
            NMF_NEED_MORE
        );
        assert_eq!(out.needed, 5);
        // (NULL, 0) is an empty buffer: the whole header is needed.
        assert_eq!(nmf_frame_parse(null(), 0, HOST, 0, &mut out), NMF_NEED_MORE);
        assert_eq!(out.needed, 4);

        let mut out = SENTINEL;
        assert_eq!(
            nmf_frame_parse(null(), 5, HOST, 0, &mut out),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(
            nmf_frame_parse(wire.as_ptr(), wire.len(), HOST, 0, null_mut()),
            NMF_INVALID_ARGUMENT
        );
        // Over the cap, on the header alone; out untouched.
        assert_eq!(
            nmf_frame_parse(wire.as_ptr(), 4, HOST, 6, &mut out),
            NMF_FRAME_TOO_LARGE
        );
        assert_eq!(
            nmf_frame_parse(wire.as_ptr(), wire.len(), HOST, 7, &mut out),
            NMF_OK
        );
        let mut out = SENTINEL;
        let big = u32::MAX.to_ne_bytes();
        assert_eq!(
            nmf_frame_parse(big.as_ptr(), 4, HOST, NMF_MAX_HOST_TO_BROWSER, &mut out),
            NMF_FRAME_TOO_LARGE
        );
        assert_eq!(out, SENTINEL);
        assert_eq!(
            nmf_frame_parse(big.as_ptr(), 4, HOST, 0, &mut out),
            NMF_NEED_MORE
        );
    }
}

/// One rule for `max_len` in every call that takes a role: 0 is the protocol's limit
/// for the direction the call handles, a larger value is clamped to it.
#[test]
fn role_and_cap_mean_the_same_in_every_call() {
    let one_mib_plus_one = (NMF_MAX_HOST_TO_BROWSER + 1).to_ne_bytes();
    let mut out = SENTINEL;
    let mut header = [9u8; 4];
    // SAFETY: in all calls below, buffers and out-pointers are live locals of the sizes given.
    unsafe {
        // A browser reads host → browser frames: 1 MiB, whatever max_len asks for.
        for max in [0, u32::MAX] {
            assert_eq!(
                nmf_frame_parse(one_mib_plus_one.as_ptr(), 4, BROWSER, max, &mut out),
                NMF_FRAME_TOO_LARGE,
                "max_len {max}"
            );
        }
        assert_eq!(
            nmf_frame_parse(one_mib_plus_one.as_ptr(), 4, HOST, 0, &mut out),
            NMF_NEED_MORE
        );
        // A browser writes browser → host frames: up to 4 GiB - 1.
        assert_eq!(
            nmf_header_write(64 << 20, BROWSER, 0, header.as_mut_ptr()),
            NMF_OK
        );
        assert_eq!(header, (64u32 << 20).to_ne_bytes());
        // A host's cap on writes is clamped to 1 MiB.
        assert_eq!(
            nmf_header_write((1 << 20) + 1, HOST, u32::MAX, header.as_mut_ptr()),
            NMF_FRAME_TOO_LARGE
        );
        // The same numbers in a decoder.
        let mut d = null_mut();
        assert_eq!(nmf_decoder_new(BROWSER, u32::MAX, &mut d), NMF_OK);
        assert_eq!(nmf_decoder_push(d, one_mib_plus_one.as_ptr(), 4), NMF_OK);
        let (mut p, mut n) = (null_mut(), 0usize);
        assert_eq!(nmf_decoder_next(d, &mut p, &mut n), NMF_FRAME_TOO_LARGE);
        nmf_decoder_free(d);
        // An unknown role is refused by each, outputs untouched.
        let mut out = SENTINEL;
        let mut header = [9u8; 4];
        assert_eq!(
            nmf_frame_parse(one_mib_plus_one.as_ptr(), 4, 2, 0, &mut out),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(out, SENTINEL);
        assert_eq!(
            nmf_header_write(1, 2, 0, header.as_mut_ptr()),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(header, [9; 4]);
        assert_eq!(nmf_decoder_new(2, 0, &mut d), NMF_INVALID_ARGUMENT);
    }
}

#[test]
fn header_write() {
    let mut out = [9u8; 4];
    // SAFETY: in all calls below, `out` is 4 writable bytes.
    unsafe {
        assert_eq!(nmf_header_write(1 << 20, HOST, 0, out.as_mut_ptr()), NMF_OK);
        assert_eq!(out, (1u32 << 20).to_ne_bytes());
        let mut out = [9u8; 4];
        assert_eq!(
            nmf_header_write((1 << 20) + 1, HOST, 0, out.as_mut_ptr()),
            NMF_FRAME_TOO_LARGE
        );
        assert_eq!(
            nmf_header_write(0, HOST, 0, out.as_mut_ptr()),
            NMF_EMPTY_FRAME
        );
        assert_eq!(
            nmf_header_write(11, HOST, 10, out.as_mut_ptr()),
            NMF_FRAME_TOO_LARGE
        );
        assert_eq!(out, [9; 4], "untouched on refusal");
        assert_eq!(nmf_header_write(10, HOST, 10, out.as_mut_ptr()), NMF_OK);
        assert_eq!(out, 10u32.to_ne_bytes());
        assert_eq!(
            nmf_header_write(1, HOST, 0, null_mut()),
            NMF_INVALID_ARGUMENT
        );
    }
}

#[test]
fn json_validate() {
    let check = |bytes: &[u8]| {
        // SAFETY: a live slice.
        unsafe { nmf_json_validate(bytes.as_ptr(), bytes.len()) }
    };
    assert_eq!(check(br#"{"a":[1,"\u00e9"]}"#), NMF_OK);
    assert_eq!(check(b"[\"\xff\"]"), NMF_INVALID_UTF8);
    assert_eq!(check(b"{\"a\":}"), NMF_INVALID_JSON);
    assert_eq!(check(b"{} {}"), NMF_INVALID_JSON);
    // SAFETY: (NULL, 0) is allowed; (NULL, 3) is refused before any read.
    unsafe {
        assert_eq!(nmf_json_validate(null(), 0), NMF_INVALID_JSON);
        assert_eq!(nmf_json_validate(null(), 3), NMF_INVALID_ARGUMENT);
    }
}

struct Decoder(*mut nmf_decoder);

impl Decoder {
    fn new(role: u32, max: u32) -> Decoder {
        let mut d = null_mut();
        // SAFETY: `d` is a live out-pointer.
        assert_eq!(unsafe { nmf_decoder_new(role, max, &mut d) }, NMF_OK);
        assert!(!d.is_null());
        Decoder(d)
    }

    fn next(&self) -> (nmf_status, Vec<u8>) {
        let (mut p, mut n) = (null_mut(), 0);
        // SAFETY: live decoder and out-pointers.
        let status = unsafe { nmf_decoder_next(self.0, &mut p, &mut n) };
        let bytes = if status == NMF_OK {
            // SAFETY: the view is valid until the next call on the decoder.
            unsafe { std::slice::from_raw_parts(p, n) }.to_vec()
        } else {
            Vec::new()
        };
        (status, bytes)
    }

    fn error(&self) -> String {
        // SAFETY: live decoder.
        text(unsafe { nmf_decoder_last_error(self.0) })
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: made by nmf_decoder_new, freed once.
        unsafe { nmf_decoder_free(self.0) };
    }
}

#[test]
fn decoder_new_checks_its_arguments() {
    let mut d: *mut nmf_decoder = null_mut();
    // SAFETY: live out-pointer, or NULL on purpose.
    unsafe {
        assert_eq!(nmf_decoder_new(7, 0, &mut d), NMF_INVALID_ARGUMENT);
        assert!(d.is_null(), "out untouched");
        assert_eq!(nmf_decoder_new(0, 0, null_mut()), NMF_INVALID_ARGUMENT);
        nmf_decoder_free(null_mut());
    }
}

#[test]
fn decoder_zero_copy_input_and_frame_views() {
    let d = Decoder::new(nmf_role::NMF_ROLE_HOST as u32, 0);
    let mut wire = frame(b"[1]");
    wire.extend(frame(b""));
    wire.extend(frame(b"\"two\""));
    // Write the stream into the decoder's own space, 5 bytes at a time.
    for chunk in wire.chunks(5) {
        let (mut p, mut n) = (null_mut(), 0);
        // SAFETY: live decoder and out-pointers; the space is valid for `n` bytes.
        unsafe {
            assert_eq!(nmf_decoder_buffer(d.0, chunk.len(), &mut p, &mut n), NMF_OK);
            assert!(n >= chunk.len());
            std::ptr::copy_nonoverlapping(chunk.as_ptr(), p, chunk.len());
            assert_eq!(nmf_decoder_commit(d.0, chunk.len()), NMF_OK);
        }
    }
    assert_eq!(d.next(), (NMF_OK, b"[1]".to_vec()));
    assert_eq!(
        d.next(),
        (NMF_OK, Vec::new()),
        "a zero-length frame is delivered"
    );
    assert_eq!(d.next(), (NMF_OK, b"\"two\"".to_vec()));
    assert_eq!(d.next().0, NMF_NEED_MORE);
    // SAFETY: live decoder.
    unsafe {
        assert_eq!(nmf_decoder_buffered(d.0), 0);
        assert_eq!(nmf_decoder_finish(d.0), NMF_EOF);
    }
}

#[test]
fn decoder_refuses_a_commit_beyond_its_space() {
    let d = Decoder::new(nmf_role::NMF_ROLE_HOST as u32, 0);
    let (mut p, mut n) = (null_mut(), 0);
    // SAFETY: live decoder and out-pointers.
    unsafe {
        assert_eq!(nmf_decoder_buffer(d.0, 10, &mut p, &mut n), NMF_OK);
        assert_eq!(nmf_decoder_commit(d.0, n + 1), NMF_INVALID_ARGUMENT);
        assert!(
            d.error().contains(&format!("exceeds the {n} bytes")),
            "{}",
            d.error()
        );
        assert_eq!(
            nmf_decoder_buffer(d.0, 10, null_mut(), &mut n),
            NMF_INVALID_ARGUMENT
        );
    }
}

#[test]
fn decoder_errors_say_what_and_where() {
    let d = Decoder::new(nmf_role::NMF_ROLE_BROWSER as u32, 0);
    let mut wire = frame(b"{}");
    wire.extend_from_slice(b"/home/user");
    // SAFETY: live decoder and slice.
    unsafe { assert_eq!(nmf_decoder_push(d.0, wire.as_ptr(), wire.len()), NMF_OK) };
    assert_eq!(d.next(), (NMF_OK, b"{}".to_vec()));
    assert_eq!(d.error(), "", "cleared by success");
    assert_eq!(d.next().0, NMF_FRAME_TOO_LARGE);
    let err = d.error();
    assert!(
        err.contains("at offset 6") && err.contains("limit of 1048576 bytes"),
        "{err}"
    );
    assert!(
        err.contains("header bytes look like text (\"/hom\")"),
        "{err}"
    );
    assert_eq!(d.next().0, NMF_FRAME_TOO_LARGE, "fatal and sticky");

    let d = Decoder::new(nmf_role::NMF_ROLE_HOST as u32, 100);
    let wire = frame(&[b' '; 50]);
    // SAFETY: live decoder and slice.
    unsafe {
        assert_eq!(nmf_decoder_push(d.0, wire.as_ptr(), 30), NMF_OK);
        assert_eq!(nmf_decoder_finish(d.0), NMF_TRUNCATED_PAYLOAD);
        assert!(
            d.error()
                .contains("the header announced 50 bytes, 26 arrived"),
            "{}",
            d.error()
        );
        assert_eq!(nmf_decoder_push(d.0, null(), 1), NMF_INVALID_ARGUMENT);
        assert_eq!(nmf_decoder_push(d.0, null(), 0), NMF_OK);
    }
    let d = Decoder::new(nmf_role::NMF_ROLE_HOST as u32, 10);
    let wire = frame(&[b'1'; 11]);
    // SAFETY: live decoder and slice.
    unsafe { nmf_decoder_push(d.0, wire.as_ptr(), 4) };
    assert_eq!(d.next().0, NMF_FRAME_TOO_LARGE);
    assert!(
        d.error()
            .contains("announces 11 bytes, over the browser → host limit of 10 bytes"),
        "{}",
        d.error()
    );
}

#[test]
fn null_handles_are_refused_everywhere() {
    let (mut p, mut n) = (null_mut(), 0usize);
    let mut v = std::mem::MaybeUninit::<nmf_value>::uninit();
    let mut c = std::mem::MaybeUninit::<nmf_caller>::uninit();
    // SAFETY: every call gets a NULL handle, which each export checks first.
    unsafe {
        assert_eq!(
            nmf_decoder_buffer(null_mut(), 1, &mut p, &mut n),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(nmf_decoder_commit(null_mut(), 0), NMF_INVALID_ARGUMENT);
        assert_eq!(
            nmf_decoder_push(null_mut(), null(), 0),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(
            nmf_decoder_next(null_mut(), &mut p, &mut n),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(nmf_decoder_finish(null_mut()), NMF_INVALID_ARGUMENT);
        assert_eq!(nmf_decoder_buffered(null()), 0);
        assert_eq!(text(nmf_decoder_last_error(null())), "");
        assert_eq!(nmf_doc_parse(null_mut(), null(), 0), NMF_INVALID_ARGUMENT);
        assert_eq!(
            nmf_doc_get(null_mut(), null(), 0, v.as_mut_ptr()),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(text(nmf_doc_last_error(null())), "");
        assert_eq!(
            nmf_host_recv(null_mut(), &mut p, &mut n),
            NMF_INVALID_ARGUMENT
        );
        let mut batch = [nmf_message {
            data: null_mut(),
            len: 0,
        }; 2];
        let mut count = 7;
        assert_eq!(
            nmf_host_recv_batch(null_mut(), batch.as_mut_ptr(), 2, &mut count),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(nmf_host_send(null_mut(), null(), 0), NMF_INVALID_ARGUMENT);
        assert_eq!(nmf_host_queue(null_mut(), null(), 0), NMF_INVALID_ARGUMENT);
        assert_eq!(
            nmf_host_queue_view(null_mut(), null(), 0),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(nmf_host_flush(null_mut()), NMF_INVALID_ARGUMENT);
        assert_eq!(
            nmf_host_set_chunking(null_mut(), 0, 0, 0, 0),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(
            nmf_host_set_chunk_budget(null_mut(), 0, 0),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(
            nmf_host_caller(null_mut(), c.as_mut_ptr()),
            NMF_INVALID_ARGUMENT
        );
        assert!(!nmf_host_has_message(null()));
        assert_eq!(text(nmf_host_last_error(null())), "");
        nmf_doc_free(null_mut());
        nmf_host_free(null_mut());
    }
}

#[test]
fn host_new_checks_arguments_before_touching_stdio() {
    let mut h: *mut nmf_host = null_mut();
    let argv = [c"/host".as_ptr(), null()];
    // SAFETY: live locals; every call is refused before stdin or stdout is touched.
    unsafe {
        assert_eq!(
            nmf_host_new(0, null(), 0, 0, null_mut()),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(
            nmf_host_new(0, null(), 0x80, 0, &mut h),
            NMF_INVALID_ARGUMENT,
            "unknown flag"
        );
        assert_eq!(
            nmf_host_new(
                0,
                null(),
                NMF_HOST_GUARD_STDOUT | NMF_HOST_NO_GUARD_STDOUT,
                0,
                &mut h
            ),
            NMF_INVALID_ARGUMENT,
            "guard and no guard"
        );
        assert_eq!(
            nmf_host_new(2, argv.as_ptr(), 0, 0, &mut h),
            NMF_INVALID_ARGUMENT,
            "NULL in argv"
        );
        assert_eq!(
            nmf_host_new(-1, argv.as_ptr(), 0, 0, &mut h),
            NMF_INVALID_ARGUMENT
        );
    }
    assert!(h.is_null());
}

struct Doc(*mut nmf_doc);

impl Doc {
    fn new() -> Doc {
        let mut d = null_mut();
        // SAFETY: live out-pointer.
        assert_eq!(unsafe { nmf_doc_new(&mut d) }, NMF_OK);
        Doc(d)
    }

    fn parse(&self, json: &[u8]) -> nmf_status {
        // SAFETY: live doc and slice.
        unsafe { nmf_doc_parse(self.0, json.as_ptr(), json.len()) }
    }

    fn get(&self, pointer: &str) -> Result<nmf_value, nmf_status> {
        let mut v = std::mem::MaybeUninit::uninit();
        // SAFETY: live doc, slice and out-pointer.
        match unsafe {
            nmf_doc_get(
                self.0,
                pointer.as_ptr().cast(),
                pointer.len(),
                v.as_mut_ptr(),
            )
        } {
            // SAFETY: NMF_OK wrote the value.
            NMF_OK => Ok(unsafe { v.assume_init() }),
            other => Err(other),
        }
    }

    fn error(&self) -> String {
        // SAFETY: live doc.
        text(unsafe { nmf_doc_last_error(self.0) })
    }
}

impl Drop for Doc {
    fn drop(&mut self) {
        // SAFETY: made by nmf_doc_new, freed once.
        unsafe { nmf_doc_free(self.0) };
    }
}

fn string(v: &nmf_value) -> &[u8] {
    assert_eq!(v.r#type, nmf_json_type::NMF_JSON_STRING);
    // SAFETY: the string is valid until the next parse or free of its document.
    unsafe { std::slice::from_raw_parts(v.string.cast(), v.length) }
}

#[test]
fn doc_reads_every_type_by_pointer() {
    let doc = Doc::new();
    assert_eq!(
        doc.get("").unwrap_err(),
        NMF_NOT_FOUND,
        "empty before a parse"
    );
    let json = br#"{"n":null,"t":true,"i":-5,"u":18446744073709551615,"p":7,"f":2.5,"s":"a\u0000\"b","a":[1,2,3],"o":{"k/x":{}}}"#;
    let before = json.to_vec();
    assert_eq!(doc.parse(json), NMF_OK);
    assert_eq!(
        &json[..],
        &before[..],
        "the caller's buffer is not rewritten"
    );
    assert_eq!(doc.get("/n").unwrap().r#type, nmf_json_type::NMF_JSON_NULL);
    let t = doc.get("/t").unwrap();
    assert!(t.r#type == nmf_json_type::NMF_JSON_BOOL && t.boolean);
    let i = doc.get("/i").unwrap();
    assert_eq!(
        (i.r#type, i.integer, i.number),
        (nmf_json_type::NMF_JSON_INT, -5, -5.0)
    );
    let u = doc.get("/u").unwrap();
    assert_eq!(
        (u.r#type, u.uinteger),
        (nmf_json_type::NMF_JSON_UINT, u64::MAX)
    );
    let p = doc.get("/p").unwrap();
    assert_eq!(
        (p.r#type, p.integer, p.uinteger),
        (nmf_json_type::NMF_JSON_INT, 7, 7)
    );
    let f = doc.get("/f").unwrap();
    assert_eq!((f.r#type, f.number), (nmf_json_type::NMF_JSON_FLOAT, 2.5));
    assert_eq!(string(&doc.get("/s").unwrap()), b"a\0\"b");
    let a = doc.get("/a").unwrap();
    assert_eq!((a.r#type, a.length), (nmf_json_type::NMF_JSON_ARRAY, 3));
    assert_eq!(doc.get("/a/2").unwrap().integer, 3);
    assert_eq!(
        doc.get("/o/k~1x").unwrap().r#type,
        nmf_json_type::NMF_JSON_OBJECT
    );
    assert_eq!(doc.get("/a/3").unwrap_err(), NMF_NOT_FOUND);
    assert_eq!(doc.error(), "no value at JSON Pointer \"/a/3\"");
    assert_eq!(doc.get("").unwrap().length, 9);
}

#[test]
fn doc_parse_errors_carry_offsets_and_empty_the_document() {
    let doc = Doc::new();
    assert_eq!(doc.parse(b"[1]"), NMF_OK);
    assert_eq!(doc.parse(b"[1, 2,]"), NMF_INVALID_JSON);
    assert!(
        doc.error()
            .starts_with("payload is not valid JSON at byte "),
        "{}",
        doc.error()
    );
    assert_eq!(doc.get("").unwrap_err(), NMF_NOT_FOUND);
    // Deeper than a document allows, yet valid: a status of its own, never "invalid".
    let deep = [vec![b'['; 1025], vec![b']'; 1025]].concat();
    assert_eq!(doc.parse(&deep), NMF_NESTING_TOO_DEEP);
    assert!(
        doc.error().contains("limit of 1024 levels"),
        "{}",
        doc.error()
    );
    // SAFETY: a live buffer and its length.
    let validated = unsafe { nmf_json_validate(deep.as_ptr(), deep.len()) };
    assert_eq!(validated, NMF_OK);
    assert_eq!(doc.parse(b"[\"ok\xc0\"]"), NMF_INVALID_UTF8);
    assert_eq!(doc.error(), "payload is not valid UTF-8 at byte 4");
    // SAFETY: live doc; (NULL, 0) is an empty buffer, (NULL, 1) is refused.
    unsafe {
        assert_eq!(nmf_doc_parse(doc.0, null(), 0), NMF_INVALID_JSON);
        assert_eq!(nmf_doc_parse(doc.0, null(), 1), NMF_INVALID_ARGUMENT);
    }
    let bad_pointer = [0xffu8];
    let mut v = std::mem::MaybeUninit::uninit();
    assert_eq!(doc.parse(b"{}"), NMF_OK);
    // SAFETY: live doc, slice and out-pointer.
    unsafe {
        assert_eq!(
            nmf_doc_get(doc.0, bad_pointer.as_ptr().cast(), 1, v.as_mut_ptr()),
            NMF_INVALID_ARGUMENT
        );
        assert_eq!(
            nmf_doc_get(doc.0, c"".as_ptr(), 0, null_mut()),
            NMF_INVALID_ARGUMENT
        );
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads the seed files and replays thousands of calls: the native run and the sanitizers cover it"
)]
fn ffi_calls_fuzz_seeds_replay() {
    // The ffi_calls fuzz target's seeds and regressions, through its own check.
    nmframe_test_support::replay_seeds("ffi_calls", nmframe_test_support::fuzz::ffi::api_calls);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "MiBs of hostile frames through the interpreter: the native run and the sanitizers cover it"
)]
fn hostile_inputs_against_the_c_abi() {
    use hostile_cases::{End, Json, Reads};
    for case in hostile_cases::cases() {
        let role = if case.browser {
            nmf_role::NMF_ROLE_BROWSER
        } else {
            nmf_role::NMF_ROLE_HOST
        };
        let d = Decoder::new(role as u32, 0);
        let step = match case.reads {
            Reads::Whole => case.stream.len().max(1),
            Reads::Bytewise => 1,
        };
        let mut frames = 0;
        let mut last = Vec::new();
        let mut end = None;
        let mut chunks = case.stream.chunks(step);
        while end.is_none() {
            let (status, frame) = d.next();
            match status {
                NMF_OK => {
                    frames += 1;
                    last = frame;
                    continue;
                }
                NMF_FRAME_TOO_LARGE => {
                    end = Some(End::TooLarge { len: 0 });
                    break;
                }
                NMF_NEED_MORE => {}
                other => panic!("{}: {other:?}", case.name),
            }
            match chunks.next() {
                Some(chunk) => {
                    let (mut p, mut n) = (null_mut(), 0);
                    // SAFETY: live decoder; the space is valid for `n` >= chunk.len() bytes.
                    unsafe {
                        assert_eq!(nmf_decoder_buffer(d.0, chunk.len(), &mut p, &mut n), NMF_OK);
                        std::ptr::copy_nonoverlapping(chunk.as_ptr(), p, chunk.len());
                        assert_eq!(nmf_decoder_commit(d.0, chunk.len()), NMF_OK);
                    }
                }
                None => {
                    // SAFETY: live decoder.
                    let status = unsafe { nmf_decoder_finish(d.0) };
                    end = Some(match status {
                        NMF_EOF => End::Clean,
                        NMF_TRUNCATED_HEADER => End::TruncatedHeader { received: 0 },
                        NMF_TRUNCATED_PAYLOAD => End::TruncatedPayload {
                            expected: 0,
                            received: 0,
                        },
                        other => panic!("{}: {other:?}", case.name),
                    })
                }
            }
        }
        let end = end.unwrap();
        assert_eq!(frames, case.frames, "{}", case.name);
        // The status names the end; the last error carries its numbers.
        let same_kind = std::mem::discriminant(&end) == std::mem::discriminant(&case.end);
        assert!(same_kind, "{}: {end:?} vs {:?}", case.name, case.end);
        let numbers = match case.end {
            End::Clean => String::new(),
            End::TruncatedHeader { received } => format!("{received} of 4 header bytes arrived"),
            End::TruncatedPayload { expected, received } => {
                format!("the header announced {expected} bytes, {received} arrived")
            }
            End::TooLarge { len } => format!("announces {len} bytes"),
        };
        assert!(
            d.error().contains(&numbers),
            "{}: {:?} lacks {numbers:?}",
            case.name,
            d.error()
        );
        // SAFETY: a live slice.
        let verdict = unsafe { nmf_json_validate(last.as_ptr(), last.len()) };
        let expected = match case.last_json {
            Json::Valid => NMF_OK,
            Json::InvalidUtf8 { .. } => NMF_INVALID_UTF8,
            Json::Invalid => NMF_INVALID_JSON,
        };
        assert_eq!(verdict, expected, "{}", case.name);
    }
}
