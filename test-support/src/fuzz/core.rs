//! Fuzz checks of the core crate, each with an oracle. Shared by the cargo-fuzz targets
//! (fuzz/fuzz_targets/) and by core/tests/fuzz_seeds.rs, which replays the committed
//! seeds on stable in every `cargo test`; the oracles also serve the property tests.

use nmframe::{
    Cap, Direction, Error, FrameDecoder, FrameWriter, JsonDecoder, Limits, OwnedDocument, Role,
    SliceFrames,
};

/// What a deframer makes of a whole stream: the frames, then how it ended.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    /// The payloads delivered, in order.
    pub frames: Vec<Vec<u8>>,
    /// How the stream ended.
    pub end: End,
}

/// How a stream ended, with the numbers (the fields of the matching [`nmframe::Error`]).
#[derive(Debug, PartialEq)]
#[allow(missing_docs)] // the fields are the error's, documented there
pub enum End {
    /// At a frame boundary.
    Clean,
    /// Inside a header.
    TruncatedHeader { offset: u64, received: usize },
    /// Inside a payload.
    TruncatedPayload {
        offset: u64,
        expected: usize,
        received: usize,
    },
    /// At a header over the cap.
    TooLarge { offset: u64, len: u64, limit: u32 },
}

fn end_of(err: Error) -> End {
    match err {
        Error::TruncatedHeader { offset, received } => End::TruncatedHeader { offset, received },
        Error::TruncatedPayload {
            offset,
            expected,
            received,
            ..
        } => End::TruncatedPayload {
            offset,
            expected,
            received,
        },
        Error::FrameTooLarge {
            offset, len, limit, ..
        } => End::TooLarge { offset, len, limit },
        other => panic!("a deframer cannot fail with {other:?}"),
    }
}

/// The obviously-correct deframer: read 4 bytes, check the cap, take `len` bytes.
/// With a cap of 1 MiB it is also a model of Chromium reading a host (docs/PROTOCOL.md:
/// reject a header over 1 MiB as soon as it arrives, read exactly `len` bytes,
/// deliver in order).
pub fn reference(stream: &[u8], cap: u32) -> Outcome {
    let mut frames = Vec::new();
    let mut at = 0usize;
    loop {
        let rest = &stream[at..];
        if rest.is_empty() {
            return Outcome {
                frames,
                end: End::Clean,
            };
        }
        if rest.len() < 4 {
            return Outcome {
                frames,
                end: End::TruncatedHeader {
                    offset: at as u64,
                    received: rest.len(),
                },
            };
        }
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]);
        if len > cap {
            return Outcome {
                frames,
                end: End::TooLarge {
                    offset: at as u64,
                    len: u64::from(len),
                    limit: cap,
                },
            };
        }
        let len = len as usize;
        if rest.len() - 4 < len {
            return Outcome {
                frames,
                end: End::TruncatedPayload {
                    offset: at as u64,
                    expected: len,
                    received: rest.len() - 4,
                },
            };
        }
        frames.push(rest[4..4 + len].to_vec());
        at += 4 + len;
    }
}

/// The streaming decoder fed `stream` in the given chunk sizes (cycled).
pub fn streamed(stream: &[u8], chunks: &[usize], cap: Cap) -> Outcome {
    let mut decoder = FrameDecoder::with_cap(cap);
    let mut frames = Vec::new();
    let mut rest = stream;
    let mut sizes = chunks.iter().copied().cycle();
    loop {
        loop {
            match decoder.decode() {
                Ok(Some(frame)) => frames.push(frame.to_vec()),
                Ok(None) => break,
                Err(err) => {
                    return Outcome {
                        frames,
                        end: end_of(err),
                    };
                }
            }
        }
        if rest.is_empty() {
            let end = decoder.finish().map_or_else(end_of, |()| End::Clean);
            return Outcome { frames, end };
        }
        let n = sizes.next().unwrap_or(1).clamp(1, rest.len());
        if n % 2 == 0 {
            decoder.push(&rest[..n]);
        } else {
            // The zero-copy way in: write into the decoder's own space.
            let space = decoder.read_buf(n);
            space[..n].copy_from_slice(&rest[..n]);
            decoder.commit(n);
        }
        rest = &rest[n..];
    }
}

/// The borrowed-slice decoder over the whole stream.
pub fn sliced(stream: &[u8], cap: Cap) -> Outcome {
    let mut it = SliceFrames::new(stream, cap);
    let mut frames = Vec::new();
    for frame in it.by_ref() {
        match frame {
            Ok(f) => frames.push(f.to_vec()),
            Err(err) => {
                return Outcome {
                    frames,
                    end: end_of(err),
                };
            }
        }
    }
    Outcome {
        frames,
        end: it.finish().map_or_else(end_of, |()| End::Clean),
    }
}

/// Input: a role byte, a chunking byte count and chunk sizes, then the stream.
fn split(data: &[u8]) -> Option<(Role, Vec<usize>, &[u8])> {
    let (&role, rest) = data.split_first()?;
    let (&n, rest) = rest.split_first()?;
    let n = (n % 8) as usize + 1;
    let (sizes, stream) = rest.split_at(n.min(rest.len()));
    let chunks = sizes.iter().map(|&s| s as usize * 7 + 1).collect();
    let role = if role % 2 == 0 {
        Role::Host
    } else {
        Role::Browser
    };
    Some((role, chunks, stream))
}

/// Arbitrary bytes in arbitrary chunks: the streaming decoder, the reference deframer
/// and (for the browser role) the Chromium model agree on frames and on the end.
pub fn stream_decode(data: &[u8]) {
    let Some((role, chunks, stream)) = split(data) else {
        return;
    };
    let cap = Limits::for_role(role).inbound();
    let expected = reference(stream, cap.max);
    assert_eq!(
        streamed(stream, &chunks, cap),
        expected,
        "streaming decoder vs reference"
    );
    if role == Role::Browser {
        let (frames, refused) = chromium_model(stream, &chunks);
        assert_eq!(frames, expected.frames, "Chromium's reader vs reference");
        assert_eq!(
            refused,
            matches!(expected.end, End::TooLarge { .. }),
            "Chromium's reader vs reference, on a header over 1 MiB"
        );
    }
}

/// Chromium reading a host, the way its source does it (`NativeMessageProcessHost`,
/// docs/PROTOCOL.md): every read is appended to one buffer; after each read, whole
/// messages are taken from its front, and the first header over 1 MiB closes the port
/// as soon as its 4 bytes are there. A second, differently built reader for the browser
/// role: the frames it delivers and whether it refused for size.
pub fn chromium_model(stream: &[u8], chunks: &[usize]) -> (Vec<Vec<u8>>, bool) {
    const MAXIMUM_NATIVE_MESSAGE_SIZE: usize = 1024 * 1024;
    let mut incoming: Vec<u8> = Vec::new();
    let mut messages = Vec::new();
    let mut rest = stream;
    let mut sizes = chunks.iter().copied().cycle();
    while !rest.is_empty() {
        let (read, after) = rest.split_at(sizes.next().unwrap_or(1).clamp(1, rest.len()));
        rest = after;
        incoming.extend_from_slice(read);
        while let Some(header) = incoming.first_chunk::<4>() {
            let size = u32::from_ne_bytes(*header) as usize;
            if size > MAXIMUM_NATIVE_MESSAGE_SIZE {
                return (messages, true);
            }
            if incoming.len() < 4 + size {
                break;
            }
            messages.push(incoming[4..4 + size].to_vec());
            incoming.drain(..4 + size);
        }
    }
    (messages, false)
}

/// As [`split`], with the role byte choosing the cap: none, or a small one (up to 127
/// bytes) so that the cap is hit by frames that fit in a fuzz input.
fn split_with_cap(data: &[u8]) -> Option<(Cap, Vec<usize>, &[u8])> {
    let (role, chunks, stream) = split(data)?;
    let cap = Cap {
        max: match role {
            Role::Host => u32::MAX,
            Role::Browser => u32::from(data[0] >> 1),
        },
        direction: Direction::BrowserToHost,
    };
    Some((cap, chunks, stream))
}

/// The borrowed-slice decoder and the streaming decoder: same frames, same errors.
pub fn slice_vs_stream(data: &[u8]) {
    let Some((cap, chunks, stream)) = split_with_cap(data) else {
        return;
    };
    assert_eq!(
        sliced(stream, cap),
        streamed(stream, &chunks, cap),
        "slice vs stream"
    );
}

/// serde_json as the oracle of the JSON path, reading escapes of unpaired surrogates
/// (`"\ud800"`: browsers send them) as U+FFFD as nmframe does, where serde_json alone
/// refuses them. The strings are walked escape by escape, independently of nmframe's
/// own rewriting.
pub fn serde_oracle(data: &[u8]) -> serde_json::Result<serde_json::Value> {
    serde_json::from_slice(&mend_for_serde(data))
}

/// serde_json as the oracle of validation: `IgnoredAny` checks the grammar alone, with
/// no depth limit and numbers of any magnitude, as `JSON.parse` does.
/// `IgnoredAny` skips string contents unchecked, so UTF-8 is checked first.
pub fn serde_grammar(data: &[u8]) -> Result<(), String> {
    std::str::from_utf8(data).map_err(|e| e.to_string())?;
    serde_json::from_slice::<serde::de::IgnoredAny>(&mend_for_serde(data))
        .map(drop)
        .map_err(|e| e.to_string())
}

fn mend_for_serde(data: &[u8]) -> Vec<u8> {
    fn unit(data: &[u8], at: usize) -> Option<u16> {
        let escape = data.get(at..at + 6)?.strip_prefix(b"\\u")?;
        u16::from_str_radix(std::str::from_utf8(escape).ok()?, 16).ok()
    }
    let mut data = data.to_vec();
    let (mut i, mut in_string) = (0, false);
    while i < data.len() {
        match data[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => match unit(&data, i) {
                Some(0xD800..=0xDBFF) if matches!(unit(&data, i + 6), Some(0xDC00..=0xDFFF)) => {
                    i += 11
                }
                Some(0xD800..=0xDFFF) => {
                    data[i + 2..i + 6].copy_from_slice(b"FFFD");
                    i += 5
                }
                _ => i += 1,
            },
            _ => {}
        }
        i += 1;
    }
    data
}

/// The JSON paths against serde_json. Validation against `IgnoredAny` (the grammar):
/// same verdict, always. The tree paths against `Value`: same verdict and equal values,
/// except where serde_json stops at 128 levels of nesting (simd-json at 1024; tested in
/// core/tests/json_oracle.rs).
pub fn json(data: &[u8]) {
    let mut json = JsonDecoder::new();
    let ours = json.validate(data);
    let grammar = serde_grammar(data);
    assert_eq!(
        ours.is_ok(),
        grammar.is_ok(),
        "validate: {ours:?}, serde_json IgnoredAny: {grammar:?}"
    );
    let oracle = serde_oracle(data);
    if let Err(e) = &oracle
        && e.to_string().starts_with("recursion limit exceeded")
    {
        return;
    }
    let mut doc = OwnedDocument::new();
    let tree = doc.parse(data);
    assert_eq!(
        tree.is_ok(),
        oracle.is_ok(),
        "OwnedDocument: {tree:?}, serde_json Value: {oracle:?}"
    );
    if let Ok(expected) = oracle {
        let mut copy = data.to_vec();
        let value: serde_json::Value = json
            .deserialize(&mut copy)
            .expect("valid JSON deserializes");
        assert!(
            same_json(&value, &expected),
            "simd-json: {value:?}\nserde_json: {expected:?}"
        );
    }
}

/// Equal JSON values, up to the one known difference of simd-json's number parsing
/// (tested in core/tests/json_oracle.rs): `-0` is the integer 0 rather than -0.0.
pub fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || (x.as_f64() == Some(0.0) && y.as_f64() == Some(0.0))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Encode then decode arbitrary payloads under an arbitrary cap: limits honoured
/// exactly, nothing written on refusal, the payload back intact.
pub fn roundtrip(data: &[u8]) {
    let Some((&c, payload)) = data.split_first() else {
        return;
    };
    let cap = Cap {
        max: u32::from(c) * 3,
        direction: Direction::HostToBrowser,
    };
    let mut out = b"prefix".to_vec();
    let result = nmframe::encode_frame(&mut out, payload, cap);
    match result {
        Ok(()) => {
            assert!(!payload.is_empty() && payload.len() <= cap.max as usize);
            let frames: Vec<&[u8]> = SliceFrames::new(
                &out[6..],
                Cap {
                    max: cap.max,
                    direction: Direction::BrowserToHost,
                },
            )
            .collect::<Result<_, _>>()
            .expect("an encoded frame decodes");
            assert_eq!(frames, [payload]);
        }
        Err(Error::EmptyFrame { .. }) => assert!(payload.is_empty()),
        Err(Error::FrameTooLarge { len, limit, .. }) => {
            assert_eq!((len, limit), (payload.len() as u64, cap.max));
        }
        Err(other) => panic!("unexpected {other:?}"),
    }
    if result.is_err() {
        assert_eq!(out, b"prefix", "nothing appended on refusal");
    }
    let mut writer = FrameWriter::with_cap(Vec::new(), cap);
    let sent = writer.send(payload);
    assert_eq!(sent.is_ok(), result.is_ok());
    if sent.is_err() {
        assert!(writer.get_ref().is_empty(), "nothing written on refusal");
    } else {
        assert_eq!(writer.get_ref()[..], out[6..]);
    }
}

/// The frame scanner (what `nmframe tap` follows the streams with) fed arbitrary bytes in
/// arbitrary chunks, letting some payload bytes pass unseen as the tap does: its frames
/// (offset, length, payload) and its end are the reference deframer's.
pub fn frame_scan(data: &[u8]) {
    use nmframe::{Cut, FrameScanner, Scanned};
    let Some((cap, chunks, stream)) = split_with_cap(data) else {
        return;
    };
    let expected = reference(stream, cap.max);
    let mut scanner = FrameScanner::new(cap);
    let mut frames: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut current: Option<(u64, u32, Vec<u8>)> = None;
    let mut too_large = None;
    let mut rest = stream;
    let mut sizes = chunks.iter().copied().cycle();
    let mut end_frame = |current: &mut Option<(u64, u32, Vec<u8>)>, at: u64, len: u32| {
        let (start, announced, payload) = current.take().expect("an end after a header");
        assert_eq!((start, announced), (at, len), "the end names its own frame");
        assert_eq!(payload.len(), len as usize, "the payload's bytes add up");
        frames.push((at, payload));
    };
    for round in 0.. {
        if rest.is_empty() {
            break;
        }
        let size = sizes.next().unwrap_or(1).clamp(1, rest.len());
        let (chunk, after) = rest.split_at(size);
        rest = after;
        // Every other read, the payload bytes due pass unseen (spliced past, in the tap).
        let due = scanner.payload_due();
        let mut chunk = chunk;
        if round % 2 == 1 && due > 0 && !scanner.is_lost() {
            let n = (chunk.len() as u64).min(due) as usize;
            if let Some((_, _, payload)) = current.as_mut() {
                payload.extend_from_slice(&chunk[..n]);
            }
            if let Some(Scanned::End { at, len }) = scanner.skip(n as u64) {
                end_frame(&mut current, at, len);
            }
            chunk = &chunk[n..];
        }
        while let Some(event) = scanner.next(&mut chunk) {
            match event {
                Scanned::Header { at, len } => {
                    assert!(current.is_none(), "a header inside a frame");
                    current = Some((at, len, Vec::new()));
                }
                Scanned::Payload(piece) => current
                    .as_mut()
                    .expect("a payload inside a frame")
                    .2
                    .extend_from_slice(piece),
                Scanned::End { at, len } => end_frame(&mut current, at, len),
                Scanned::TooLarge { at, len } => too_large = Some((at, len)),
                Scanned::Lost(_) => assert!(too_large.is_some(), "lost without a cause"),
            }
        }
    }
    assert_eq!(scanner.offset(), stream.len() as u64, "every byte counted");
    let mut at = 0u64;
    for ((offset, payload), want) in frames.iter().zip(&expected.frames) {
        assert_eq!(*offset, at, "a frame's offset");
        assert_eq!(payload, want, "a frame's payload");
        at += 4 + want.len() as u64;
    }
    assert_eq!(frames.len(), expected.frames.len(), "the number of frames");
    let end = match (too_large, scanner.cut()) {
        (Some((at, len)), None) => End::TooLarge {
            offset: at,
            len: u64::from(len),
            limit: cap.max,
        },
        (None, None) => End::Clean,
        (None, Some(Cut::InHeader { at, have })) => End::TruncatedHeader {
            offset: at,
            received: have,
        },
        (None, Some(Cut::InPayload { at, len, have })) => End::TruncatedPayload {
            offset: at,
            expected: len as usize,
            received: have as usize,
        },
        (Some(_), Some(cut)) => panic!("lost, yet cut {cut:?}"),
    };
    assert_eq!(end, expected.end, "how the stream ended");
}
