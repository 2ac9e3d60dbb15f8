//! The hostile-input table: what the other side can send, and what must come of it.
//! Run against the Rust API (core/tests/hostile.rs), the C ABI (ffi/tests/api.rs) and
//! the example hosts, the C one also under ASan (ffi/tests/hosts/main.rs). Every case starts with one
//! good frame, which must be delivered whatever follows.

/// How the bytes arrive.
#[derive(Clone, Copy, Debug)]
pub enum Reads {
    /// All at once.
    Whole,
    /// One byte per read.
    Bytewise,
}

/// How the stream must end (the numbers are those of the matching `nmframe::Error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // the fields are the error's, documented there
pub enum End {
    /// At a frame boundary.
    Clean,
    /// Inside a header.
    TruncatedHeader { received: usize },
    /// Inside a payload.
    TruncatedPayload { expected: usize, received: usize },
    /// At a header over the cap.
    TooLarge { len: u64 },
}

/// What JSON validation must say of the last frame delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Json {
    /// Valid JSON.
    Valid,
    /// Not UTF-8, first at this payload offset.
    InvalidUtf8 {
        /// Payload offset of the first bad byte.
        offset: usize,
    },
    /// UTF-8 but not JSON.
    Invalid,
}

/// One hostile input and what must come of it.
pub struct Case {
    /// What the case is, for failure messages.
    pub name: &'static str,
    /// Read as the browser (1 MiB cap) rather than as a host (4 GiB − 1).
    pub browser: bool,
    /// The bytes the other side sends.
    pub stream: Vec<u8>,
    /// How they arrive.
    pub reads: Reads,
    /// Frames delivered, the good first one included.
    pub frames: usize,
    /// How the stream must end.
    pub end: End,
    /// What validation must say of the last frame delivered.
    pub last_json: Json,
}

/// The good frame every case starts with.
pub const GOOD: &[u8] = br#"{"ok":1}"#;

/// `payload` as a frame: its length in native byte order, then the bytes.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_ne_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

fn after_good(rest: &[u8]) -> Vec<u8> {
    let mut out = frame(GOOD);
    out.extend_from_slice(rest);
    out
}

fn string_of(len: usize) -> Vec<u8> {
    let mut s = vec![b'a'; len];
    s[0] = b'"';
    s[len - 1] = b'"';
    s
}

/// The table.
pub fn cases() -> Vec<Case> {
    let huge = u32::MAX.to_ne_bytes();
    let mib = 1usize << 20;
    let case = |name, browser, stream, reads, frames, end, last_json| Case {
        name,
        browser,
        stream,
        reads,
        frames,
        end,
        last_json,
    };
    let ok = |name, stream: Vec<u8>, frames, last_json| {
        case(
            name,
            false,
            stream,
            Reads::Whole,
            frames,
            End::Clean,
            last_json,
        )
    };
    let mut all = vec![
        case(
            "4 GiB header then EOF",
            false,
            after_good(&huge),
            Reads::Whole,
            1,
            End::TruncatedPayload {
                expected: u32::MAX as usize,
                received: 0,
            },
            Json::Valid,
        ),
        case(
            "4 GiB header, 10 bytes, EOF",
            false,
            after_good(&[&huge[..], &[b'{'; 10]].concat()),
            Reads::Whole,
            1,
            End::TruncatedPayload {
                expected: u32::MAX as usize,
                received: 10,
            },
            Json::Valid,
        ),
        case(
            "truncated header, 1 byte",
            false,
            after_good(&[7]),
            Reads::Whole,
            1,
            End::TruncatedHeader { received: 1 },
            Json::Valid,
        ),
        case(
            "truncated header, 2 bytes",
            false,
            after_good(&[7, 0]),
            Reads::Whole,
            1,
            End::TruncatedHeader { received: 2 },
            Json::Valid,
        ),
        case(
            "truncated header, 3 bytes",
            false,
            after_good(&[7, 0, 0]),
            Reads::Whole,
            1,
            End::TruncatedHeader { received: 3 },
            Json::Valid,
        ),
        case(
            "truncated payload",
            false,
            after_good(&frame(&string_of(100))[..34]),
            Reads::Whole,
            1,
            End::TruncatedPayload {
                expected: 100,
                received: 30,
            },
            Json::Valid,
        ),
        ok(
            "zero-length frame",
            after_good(&frame(b"")),
            2,
            Json::Invalid,
        ),
        case(
            "frame at the cap (1 MiB, as the browser)",
            true,
            after_good(&frame(&string_of(mib))),
            Reads::Whole,
            2,
            End::Clean,
            Json::Valid,
        ),
        case(
            "frame at cap + 1 (as the browser)",
            true,
            after_good(&frame(&string_of(mib + 1))),
            Reads::Whole,
            1,
            End::TooLarge {
                len: mib as u64 + 1,
            },
            Json::Valid,
        ),
        ok(
            "10,000 tiny frames in one read",
            after_good(
                &(0..10_000)
                    .flat_map(|i| frame(format!("{i}").as_bytes()))
                    .collect::<Vec<_>>(),
            ),
            10_001,
            Json::Valid,
        ),
        case(
            "one byte per read for a whole 1 MiB frame",
            false,
            after_good(&frame(&string_of(mib))),
            Reads::Bytewise,
            2,
            End::Clean,
            Json::Valid,
        ),
        ok(
            "invalid UTF-8 at the start",
            after_good(&frame(b"\xff\"ab\"")),
            2,
            Json::InvalidUtf8 { offset: 0 },
        ),
        ok(
            "invalid UTF-8 in the middle",
            after_good(&frame(b"[\"a\xc3(b\"]")),
            2,
            Json::InvalidUtf8 { offset: 3 },
        ),
        ok(
            "invalid UTF-8 at the end",
            after_good(&frame(b"[\"ab\"]\xe2\x82")),
            2,
            Json::InvalidUtf8 { offset: 6 },
        ),
        ok(
            "invalid JSON",
            after_good(&frame(b"{\"a\":[1,}")),
            2,
            Json::Invalid,
        ),
        // Valid: browsers send and accept JSON nested this deep (JSON.stringify and
        // JSON.parse have no fixed depth limit), so validation has none either.
        ok(
            "JSON nested 10,000 deep",
            after_good(&frame(&[vec![b'['; 10_000], vec![b']'; 10_000]].concat())),
            2,
            Json::Valid,
        ),
        ok(
            "JSON nested 500,000 deep, one level short",
            after_good(&frame(&[vec![b'['; 500_000], vec![b']'; 499_999]].concat())),
            2,
            Json::Invalid,
        ),
        ok(
            "JSON nested 500,000 deep",
            after_good(&frame(&[vec![b'['; 500_000], vec![b']'; 500_000]].concat())),
            2,
            Json::Valid,
        ),
        ok(
            "a string of 1 MiB of backslash escapes",
            after_good(&frame(
                &[&b"\""[..], &b"\\\\".repeat(mib / 2), b"\""].concat(),
            )),
            2,
            Json::Valid,
        ),
        // Valid JSON that no f64 holds: JSON.parse reads Infinity.
        ok(
            "a number with 10,000 digits",
            after_good(&frame(&vec![b'7'; 10_000])),
            2,
            Json::Valid,
        ),
        ok(
            "NUL bytes",
            after_good(&frame(b"[\"a\x00b\"]")),
            2,
            Json::Invalid,
        ),
        ok(
            "a UTF-8 BOM before the JSON",
            after_good(&frame(b"\xef\xbb\xbf{\"a\":1}")),
            2,
            Json::Invalid,
        ),
    ];
    all.shrink_to_fit();
    all
}

impl End {
    /// How a reader's error ended the stream.
    ///
    /// # Panics
    ///
    /// For an error that does not end a stream (invalid JSON, I/O).
    pub fn of(err: &nmframe::Error) -> End {
        match *err {
            nmframe::Error::TruncatedHeader { received, .. } => End::TruncatedHeader { received },
            nmframe::Error::TruncatedPayload {
                expected, received, ..
            } => End::TruncatedPayload { expected, received },
            nmframe::Error::FrameTooLarge { len, .. } => End::TooLarge { len },
            ref other => panic!("not a way for a stream to end: {other:?}"),
        }
    }
}
