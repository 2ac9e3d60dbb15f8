//! Framing: limits in both roles, every error with its numbers, arbitrary chunking.

use std::io::{self, Read, Write};

use nmframe::{
    Cap, Decoded, Direction, Error, FrameDecoder, FrameReader, FrameWriter, Limits,
    MAX_HOST_TO_BROWSER, SliceFrames, decode_frame, encode_frame, encode_header, encode_json,
};
use proptest::prelude::*;

const MIB: usize = 1024 * 1024;

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_ne_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

fn frames(payloads: &[Vec<u8>]) -> Vec<u8> {
    payloads.iter().flat_map(|p| frame(p)).collect()
}

/// Feeds `wire` to a streaming decoder in the given chunk sizes, collecting frames.
fn stream_decode(wire: &[u8], chunks: &[usize], cap: Cap) -> (Vec<Vec<u8>>, Result<(), Error>) {
    let mut decoder = FrameDecoder::with_cap(cap);
    let mut out = Vec::new();
    let mut rest = wire;
    let mut sizes = chunks.iter().cycle();
    loop {
        loop {
            match decoder.decode() {
                Ok(Some(f)) => out.push(f.to_vec()),
                Ok(None) => break,
                Err(err) => return (out, Err(err)),
            }
        }
        if rest.is_empty() {
            return (out, decoder.finish());
        }
        let n = (*sizes.next().unwrap()).clamp(1, rest.len());
        decoder.push(&rest[..n]);
        rest = &rest[n..];
    }
}

/// The borrowed decoder over a growing prefix of `wire`, as a caller with its own
/// buffer would use it.
fn slice_decode(wire: &[u8], chunks: &[usize], cap: Cap) -> (Vec<Vec<u8>>, Result<(), Error>) {
    let mut out = Vec::new();
    let mut start = 0;
    let mut end = 0;
    let mut sizes = chunks.iter().cycle();
    loop {
        match decode_frame(&wire[start..end], cap) {
            Ok(Decoded::Frame { payload, consumed }) => {
                out.push(payload.to_vec());
                start += consumed;
            }
            Ok(Decoded::Incomplete { needed }) => {
                assert!(needed > 0);
                if end == wire.len() {
                    // The end of the stream as SliceFrames sees the whole of it.
                    let mut all = SliceFrames::new(wire, cap);
                    all.by_ref().for_each(drop);
                    assert_eq!(all.offset(), start);
                    return (out, all.finish());
                }
                end = (end + (*sizes.next().unwrap()).max(1)).min(wire.len());
            }
            Err(err) => return (out, Err(err)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_frames_in_any_chunks_decode_the_same(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20),
        chunks in prop::collection::vec(1usize..64, 1..10),
    ) {
        let wire = frames(&payloads);
        let cap = Limits::host().inbound();
        let (streamed, end) = stream_decode(&wire, &chunks, cap);
        prop_assert!(end.is_ok());
        prop_assert_eq!(&streamed, &payloads);
        let (sliced, end) = slice_decode(&wire, &chunks, cap);
        prop_assert!(end.is_ok());
        prop_assert_eq!(&sliced, &payloads);
        // One byte at a time: every split inside every header.
        let (bytewise, end) = stream_decode(&wire, &[1], cap);
        prop_assert!(end.is_ok());
        prop_assert_eq!(&bytewise, &payloads);
    }

    #[test]
    fn a_cut_stream_delivers_every_whole_frame_then_says_where_it_was_cut(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..100), 1..10),
        cut in any::<prop::sample::Index>(),
        chunks in prop::collection::vec(1usize..40, 1..5),
    ) {
        let wire = frames(&payloads);
        let cut = cut.index(wire.len());
        let cap = Limits::host().inbound();
        let (streamed, end) = stream_decode(&wire[..cut], &chunks, cap);
        let (sliced, slice_end) = slice_decode(&wire[..cut], &chunks, cap);
        prop_assert_eq!(&streamed, &sliced);
        prop_assert_eq!(format!("{end:?}"), format!("{slice_end:?}"));
        // Every frame that ends before the cut is delivered, in order.
        let mut boundary = 0;
        let mut whole = 0;
        for p in &payloads {
            if boundary + 4 + p.len() > cut { break; }
            boundary += 4 + p.len();
            whole += 1;
        }
        prop_assert_eq!(&streamed[..], &payloads[..whole]);
        match end {
            Ok(()) => prop_assert_eq!(boundary, cut),
            Err(Error::TruncatedHeader { offset, received }) => {
                prop_assert_eq!(offset as usize, boundary);
                prop_assert_eq!(received, cut - boundary);
                prop_assert!(received < 4);
            }
            Err(Error::TruncatedPayload { offset, expected, received, .. }) => {
                prop_assert_eq!(offset as usize, boundary);
                prop_assert_eq!(expected, payloads[whole].len());
                prop_assert_eq!(received, cut - boundary - 4);
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn serialized_values_round_trip(values in prop::collection::vec(".{0,40}", 1..10)) {
        let mut wire = Vec::new();
        for v in &values {
            encode_json(&mut wire, v, Limits::host().outbound()).unwrap();
        }
        let decoded: Vec<String> = SliceFrames::new(&wire, Limits::browser().inbound())
            .map(|f| serde_json::from_slice(f.unwrap()).unwrap())
            .collect();
        prop_assert_eq!(decoded, values);
    }
}

#[test]
fn header_is_native_endian() {
    let mut out = Vec::new();
    encode_frame(&mut out, &[b'1'; 0x0102], Limits::host().outbound()).unwrap();
    assert_eq!(out[..4], 0x0102u32.to_ne_bytes());
    let Decoded::Frame { payload, consumed } =
        decode_frame(&out, Limits::host().inbound()).unwrap()
    else {
        panic!("whole frame expected")
    };
    assert_eq!((payload.len(), consumed), (0x0102, 0x0106));
}

#[test]
fn length_counts_utf8_bytes_not_characters() {
    let mut out = Vec::new();
    let len = encode_json(&mut out, "é€😀", Limits::host().outbound()).unwrap();
    // Quotes + 2 + 3 + 4 bytes: 11 bytes for 3 characters.
    assert_eq!(len, 11);
    assert_eq!(out[..4], 11u32.to_ne_bytes());
}

#[test]
fn host_outbound_limit_is_exactly_one_mib() {
    let cap = Limits::host().outbound();
    assert_eq!(
        cap,
        Cap {
            max: 1_048_576,
            direction: Direction::HostToBrowser
        }
    );
    let mut out = Vec::new();
    encode_frame(&mut out, &vec![b'0'; MIB], cap).unwrap();
    assert_eq!(out.len(), MIB + 4);
    let err = encode_frame(&mut out, &vec![b'0'; MIB + 1], cap).unwrap_err();
    assert!(matches!(
        err,
        Error::FrameTooLarge {
            len: 1_048_577,
            limit: 1_048_576,
            direction: Direction::HostToBrowser,
            header: None,
            ..
        }
    ));
    assert_eq!(out.len(), MIB + 4, "nothing appended on refusal");
    assert!(!err.is_fatal());
    assert_eq!(
        err.to_string(),
        "message of 1048577 bytes exceeds the host → browser limit of 1048576 bytes; nothing was written"
    );
}

#[test]
fn browser_inbound_limit_is_exactly_one_mib() {
    let cap = Limits::browser().inbound();
    let ok = frame(&vec![b'1'; MIB]);
    assert!(
        matches!(decode_frame(&ok, cap), Ok(Decoded::Frame { consumed, .. }) if consumed == MIB + 4)
    );
    let over = ((MIB + 1) as u32).to_ne_bytes();
    // Rejected on the header alone, before any payload arrives.
    let err = decode_frame(&over, cap).unwrap_err();
    assert!(matches!(
        err,
        Error::FrameTooLarge { offset: 0, len: 1_048_577, limit: 1_048_576, direction: Direction::HostToBrowser, header: Some(h), .. } if h == over
    ));
    assert!(err.is_fatal());
}

#[test]
fn host_inbound_accepts_u32_max_header_and_waits_for_the_payload() {
    let header = u32::MAX.to_ne_bytes();
    let cap = Limits::host().inbound();
    assert_eq!(cap.max, u32::MAX);
    assert_eq!(
        decode_frame(&header, cap).unwrap(),
        Decoded::Incomplete {
            needed: u32::MAX as usize
        }
    );
    let mut decoder = FrameDecoder::new(Limits::host());
    decoder.push(&header);
    decoder.push(&[b'x'; 10]);
    assert!(decoder.decode().unwrap().is_none());
    assert!(matches!(
        decoder.finish(),
        Err(Error::TruncatedPayload { offset: 0, expected, received: 10, .. }) if expected == u32::MAX as usize
    ));
}

#[test]
fn custom_inbound_cap_boundaries() {
    for cap_len in [1u32, 100, 64 << 20] {
        let limits = Limits::host().with_max_inbound(cap_len);
        for (len, ok) in [(cap_len - 1, true), (cap_len, true), (cap_len + 1, false)] {
            let mut decoder = FrameDecoder::new(limits);
            decoder.push(&len.to_ne_bytes());
            if ok {
                decoder.push(&vec![b'7'; len as usize]);
                assert_eq!(decoder.decode().unwrap().unwrap().len(), len as usize);
            } else {
                let err = decoder.decode().unwrap_err();
                assert!(matches!(
                    err,
                    Error::FrameTooLarge { len: l, limit, direction: Direction::BrowserToHost, .. }
                        if l == u64::from(len) && limit == cap_len
                ));
                // Fatal and sticky: the same error again, and at the end.
                assert!(decoder.is_poisoned());
                assert!(matches!(decoder.decode(), Err(Error::FrameTooLarge { .. })));
                assert!(matches!(decoder.finish(), Err(Error::FrameTooLarge { .. })));
            }
        }
    }
}

#[test]
fn caps_cannot_be_raised_past_the_protocol() {
    let limits = Limits::host().with_max_outbound(u32::MAX);
    assert_eq!(limits.max_outbound(), MAX_HOST_TO_BROWSER);
    let limits = Limits::browser().with_max_inbound(10 << 20);
    assert_eq!(limits.max_inbound(), MAX_HOST_TO_BROWSER);
    assert_eq!(Limits::browser().max_outbound(), u32::MAX);
}

#[test]
fn zero_length_inbound_frame_is_delivered_empty() {
    let mut wire = frame(b"");
    wire.extend(frame(b"1"));
    let got: Vec<_> = FrameReader::new(&wire[..], Limits::host())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got.len(), 2);
    assert!(got[0].is_empty());
    assert_eq!(&got[1][..], b"1");
}

#[test]
fn empty_outbound_frame_is_refused() {
    let err = encode_header(0, Limits::host().outbound()).unwrap_err();
    assert!(matches!(
        err,
        Error::EmptyFrame {
            direction: Direction::HostToBrowser
        }
    ));
    let mut writer = FrameWriter::new(Vec::new(), Limits::host());
    assert!(matches!(writer.send(b""), Err(Error::EmptyFrame { .. })));
    assert!(writer.get_ref().is_empty());
}

#[test]
fn truncated_header_says_how_many_bytes_came() {
    for n in 1..4 {
        let mut wire = frame(b"{}");
        wire.extend_from_slice(&[9, 0, 0][..n]);
        let mut reader = FrameReader::new(&wire[..], Limits::host());
        assert_eq!(&reader.next().unwrap().unwrap()[..], b"{}");
        let err = reader.next().unwrap().unwrap_err();
        assert!(
            matches!(err, Error::TruncatedHeader { offset: 6, received } if received == n),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "stream ended inside a frame header at offset 6: {n} of 4 header bytes arrived"
            )
        );
        assert!(reader.next().is_none(), "nothing after a fatal error");
    }
}

#[test]
fn truncated_payload_says_expected_and_received() {
    let mut wire = frame(b"[1]");
    wire.extend_from_slice(&100u32.to_ne_bytes());
    wire.extend_from_slice(&[b' '; 30]);
    let mut reader = FrameReader::new(&wire[..], Limits::host());
    assert_eq!(&reader.next().unwrap().unwrap()[..], b"[1]");
    assert!(matches!(
        reader.next().unwrap().unwrap_err(),
        Error::TruncatedPayload {
            offset: 7,
            expected: 100,
            received: 30,
            ..
        }
    ));
}

#[test]
fn text_on_stdout_is_named_in_the_error() {
    // 1836017711 is "/hom" on a little-endian machine: a path printed to stdout.
    let wire = b"/home/user/.config is missing\n";
    let err = FrameReader::new(&wire[..], Limits::browser())
        .next()
        .unwrap()
        .unwrap_err();
    let len = u32::from_ne_bytes(*b"/hom");
    assert!(
        matches!(err, Error::FrameTooLarge { offset: 0, len: l, limit: 1_048_576, .. } if l == u64::from(len))
    );
    assert_eq!(
        err.to_string(),
        format!(
            "frame header at offset 0 announces {len} bytes, over the host → browser limit of 1048576 bytes; \
             the stream cannot be resynchronised; header bytes look like text (\"/hom\"): something wrote to stdout"
        )
    );
    // Under a host's 4 GiB cap the same text is a truncated payload, with the same hint.
    let err = FrameReader::new(&b"List of"[..], Limits::host())
        .next()
        .unwrap()
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("header bytes look like text (\"List\"): something wrote to stdout"),
        "{err}"
    );
    // A binary header gets no hint.
    let err = decode_frame(&[0xff, 0xff, 0xff, 0x7f], Limits::browser().inbound()).unwrap_err();
    assert!(!err.to_string().contains("look like text"));
}

#[test]
fn frames_before_a_bad_header_are_all_delivered() {
    let mut wire = frames(&[b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
    wire.extend_from_slice(&((MIB + 1) as u32).to_ne_bytes());
    wire.extend_from_slice(&frame(b"4"));
    let results: Vec<_> = FrameReader::new(&wire[..], Limits::browser()).collect();
    assert_eq!(results.len(), 4);
    for (i, r) in results[..3].iter().enumerate() {
        assert_eq!(r.as_ref().unwrap()[..], [b'1' + i as u8]);
    }
    assert!(matches!(
        results[3],
        Err(Error::FrameTooLarge {
            offset: 15,
            len: 1_048_577,
            ..
        })
    ));
}

#[test]
fn invalid_json_is_reported_and_the_stream_goes_on() {
    let wire = frames(&[
        b"{\"a\":1}".to_vec(),
        b"{\"a\":".to_vec(),
        b"\xff\"x\"".to_vec(),
        b"[2]".to_vec(),
    ]);
    let mut reader = FrameReader::new(&wire[..], Limits::host()).validate_json();
    assert_eq!(&reader.read_frame().unwrap().unwrap()[..], b"{\"a\":1}");
    let err = reader.read_frame().unwrap_err();
    assert!(matches!(err, Error::InvalidJson { .. }), "{err:?}");
    assert!(!err.is_fatal());
    assert!(matches!(
        reader.read_frame().unwrap_err(),
        Error::InvalidUtf8 { offset: 0 }
    ));
    assert_eq!(&reader.read_frame().unwrap().unwrap()[..], b"[2]");
    assert!(reader.read_frame().unwrap().is_none());
}

#[test]
fn writer_checks_json_before_writing() {
    let mut writer = FrameWriter::new(Vec::new(), Limits::host()).validate_json();
    assert!(matches!(
        writer.send(b"{\"a\":}"),
        Err(Error::InvalidJson { offset: 5, .. })
    ));
    assert!(matches!(
        writer.send(b"\"\xe9\""),
        Err(Error::InvalidUtf8 { offset: 1 })
    ));
    assert!(writer.get_ref().is_empty());
    writer.send(br#"{"a":"\n"}"#).unwrap();
    // Validation leaves the payload as it was: the escape is still there.
    assert_eq!(&writer.get_ref()[4..], br#"{"a":"\n"}"#);
}

#[test]
fn oversized_serialization_writes_nothing_and_reports_the_real_size() {
    let mut writer = FrameWriter::new(Vec::new(), Limits::host());
    writer.queue_json(&1).unwrap();
    let big = "x".repeat(3 * MIB);
    let err = writer.send_json(&big).unwrap_err();
    assert!(
        matches!(err, Error::FrameTooLarge { len, limit: 1_048_576, .. } if len == 3 * MIB as u64 + 2)
    );
    assert!(writer.get_ref().is_empty(), "nothing reached the writer");
    assert_eq!(writer.queued(), 5, "the earlier queued frame is kept");
    writer.send_json(&"after").unwrap();
    let got: Vec<_> = SliceFrames::new(writer.get_ref(), Limits::browser().inbound())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got, [&b"1"[..], b"\"after\""]);
}

#[test]
fn serialization_errors_are_clear() {
    let mut map = std::collections::HashMap::new();
    map.insert(vec![1u8], 2);
    let mut out = Vec::new();
    let err = encode_json(&mut out, &map, Limits::host().outbound()).unwrap_err();
    assert!(matches!(err, Error::Serialize(_)), "{err:?}");
    assert!(out.is_empty());
}

/// A writer that accepts at most `step` bytes per call and fails with EINTR every other
/// call: `send` must still write whole frames.
struct Stingy {
    out: Vec<u8>,
    step: usize,
    calls: usize,
    flushes: usize,
}

impl Write for Stingy {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(2) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(self.step);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.flushes += 1;
        Ok(())
    }
}

#[test]
fn partial_writes_and_eintr_still_write_whole_frames_and_flush() {
    let mut writer = FrameWriter::new(
        Stingy {
            out: Vec::new(),
            step: 3,
            calls: 0,
            flushes: 0,
        },
        Limits::host(),
    );
    writer.send(b"[1,2,3]").unwrap();
    writer.queue(b"4").unwrap();
    writer.queue_json(&5).unwrap();
    writer.send_json(&[6]).unwrap();
    let sink = writer.get_ref();
    assert_eq!(sink.flushes, 2, "each send flushes");
    let got: Vec<_> = SliceFrames::new(&sink.out, Limits::browser().inbound())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got, [&b"[1,2,3]"[..], b"4", b"5", b"[6]"]);
}

#[test]
fn a_closed_pipe_is_a_disconnect() {
    let (reader, writer) = io::pipe().unwrap();
    drop(reader);
    let mut writer = FrameWriter::new(writer, Limits::host());
    let err = writer.send(b"{}").unwrap_err();
    assert!(err.is_disconnect(), "{err:?}");
    assert!(err.to_string().starts_with("the peer disconnected"));
}

#[test]
fn input_waiting_says_whether_a_read_would_wait_for_the_peer() {
    let (pipe, mut peer) = io::pipe().unwrap();
    let mut reader = FrameReader::new(pipe, Limits::host());
    assert!(!reader.input_waiting(), "nothing sent yet");
    // A whole frame and the first bytes of the next: a read takes both.
    let mut wire = frame(b"[1]");
    wire.extend_from_slice(&frame(b"[2]")[..5]);
    peer.write_all(&wire).unwrap();
    assert!(reader.input_waiting(), "bytes in the pipe");
    assert_eq!(&reader.read_frame().unwrap().unwrap()[..], b"[1]");
    assert!(
        reader.input_waiting(),
        "the start of the next frame is buffered"
    );
    peer.write_all(&frame(b"[2]")[5..]).unwrap();
    assert_eq!(&reader.read_frame().unwrap().unwrap()[..], b"[2]");
    assert!(!reader.input_waiting(), "caught up");
    // The end of the stream is input too: the next read will not wait for it.
    drop(peer);
    assert!(reader.input_waiting(), "the pipe's end");
    assert!(reader.read_frame().unwrap().is_none());
}

/// A reader that hands out at most `step` bytes per call and fails with EINTR in
/// between.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
    interrupt: bool,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(self.step).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn reader_handles_short_reads_and_eintr() {
    let payloads: Vec<Vec<u8>> = (0..50)
        .map(|i| format!("{{\"i\":{i}}}").into_bytes())
        .collect();
    let wire = frames(&payloads);
    let reader = FrameReader::new(
        Trickle {
            data: &wire,
            step: 5,
            interrupt: false,
        },
        Limits::host(),
    );
    let got: Vec<Vec<u8>> = reader.map(|f| f.unwrap().to_vec()).collect();
    assert_eq!(got, payloads);
}

#[test]
fn one_read_serves_a_burst_of_small_frames() {
    let payloads: Vec<Vec<u8>> = (0..1000).map(|i| format!("[{i}]").into_bytes()).collect();
    let wire = frames(&payloads);
    // Within one read window (64 KiB while no large frame is arriving).
    assert!(wire.len() < 64 * 1024);
    let mut reader = FrameReader::new(&wire[..], Limits::host());
    assert!(!reader.has_frame());
    reader.read_frame().unwrap().unwrap();
    // All the others came in the same read.
    for _ in 1..1000 {
        assert!(reader.has_frame());
        reader.read_frame().unwrap().unwrap();
    }
    assert!(!reader.has_frame());
    assert!(reader.read_frame().unwrap().is_none());
}

#[test]
fn read_json_gives_owned_values() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Msg {
        id: u32,
        tags: Vec<String>,
    }
    let wire = frames(&[
        br#"{"id":1,"tags":["a\"b"]}"#.to_vec(),
        br#"{"id":"x"}"#.to_vec(),
        br#"{"id":2,"#.to_vec(),
        br#"{"id":3,"tags":[]}"#.to_vec(),
    ]);
    let mut reader = FrameReader::new(&wire[..], Limits::host());
    assert_eq!(
        reader.read_json::<Msg>().unwrap(),
        Some(Msg {
            id: 1,
            tags: vec!["a\"b".into()]
        })
    );
    // Valid JSON of the wrong shape, then not JSON at all: two different errors, neither
    // fatal.
    let err = reader.read_json::<Msg>().unwrap_err();
    assert!(
        matches!(&err, Error::WrongShape { .. }) && !err.is_fatal(),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "payload is valid JSON of the wrong shape: expected a non-negative integer, \
         found another type of value"
    );
    let err = reader.read_json::<Msg>().unwrap_err();
    assert!(matches!(&err, Error::InvalidJson { .. }), "{err:?}");
    assert_eq!(
        reader.read_json::<Msg>().unwrap(),
        Some(Msg {
            id: 3,
            tags: vec![]
        })
    );
    assert_eq!(reader.read_json::<Msg>().unwrap(), None);
}

#[test]
fn slice_frames_reports_offsets() {
    let mut wire = frames(&[b"1".to_vec(), b"22".to_vec()]);
    wire.extend_from_slice(&u32::MAX.to_ne_bytes());
    let mut it = SliceFrames::new(&wire, Limits::browser().inbound());
    assert_eq!(it.next().unwrap().unwrap(), b"1");
    assert_eq!(it.next().unwrap().unwrap(), b"22");
    assert_eq!(it.offset(), 11);
    assert!(matches!(
        it.next(),
        Some(Err(Error::FrameTooLarge { offset: 11, .. }))
    ));
    assert!(it.next().is_none());
}

/// A writer that takes `room` bytes, a few at a time, and then fails as a full disk
/// does.
struct FillsUp {
    taken: Vec<u8>,
    room: usize,
}

impl std::io::Write for FillsUp {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.room - self.taken.len()).min(7);
        if n == 0 {
            return Err(std::io::Error::from_raw_os_error(28)); // ENOSPC
        }
        self.taken.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_write_that_stops_inside_a_frame_breaks_the_writer() {
    for room in [1, 3, 4, 10, 20] {
        let mut writer = FrameWriter::new(
            FillsUp {
                taken: Vec::new(),
                room,
            },
            Limits::host(),
        );
        writer.queue(b"[1]").unwrap();
        let err = writer.send(b"[\"second\"]").unwrap_err();
        assert!(matches!(err, Error::Io(_)), "room {room}: {err:?}");
        // Anything more would be read as the rest of the cut frame: refused, with the
        // numbers, by every call, and nothing more reaches the writer.
        for outcome in [
            writer.send(b"[3]"),
            writer.queue(b"[3]"),
            writer.queue_json(&[3]),
            writer.flush(),
        ] {
            let err = outcome.unwrap_err();
            assert!(
                matches!(err, Error::WriterBroken { written, len: 21 } if written == room),
                "room {room}: {err:?}"
            );
            assert!(err.is_fatal());
            assert!(
                err.to_string().contains(&format!("{room} of 21 bytes")),
                "{err}"
            );
        }
        assert_eq!(writer.get_ref().taken.len(), room);
    }
}

#[test]
fn a_write_that_fails_before_its_first_byte_leaves_the_writer_usable() {
    let mut writer = FrameWriter::new(
        FillsUp {
            taken: Vec::new(),
            room: 0,
        },
        Limits::host(),
    );
    assert!(matches!(writer.send(b"[1]"), Err(Error::Io(_))));
    // Nothing of the frame went out: the stream is intact and the writer can go on.
    writer.get_mut().room = 100;
    writer.send(b"[2]").unwrap();
    assert_eq!(writer.get_ref().taken, frame(b"[2]"));
}

#[test]
fn a_missing_field_is_a_wrong_shape_named_by_serde() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)] // only the error is looked at
    struct Request<'a> {
        id: u64,
        op: &'a str,
    }
    let mut payload = br#"{"op":"ping"}"#.to_vec();
    let err = nmframe::JsonDecoder::new()
        .deserialize::<Request<'_>>(&mut payload)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "payload is valid JSON of the wrong shape: missing field `id`"
    );
}
