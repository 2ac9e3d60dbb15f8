//! Heap use, measured by a counting global allocator: no allocation in steady state,
//! and memory driven by bytes received, never by what a header claims.

use std::io::{self, Read};

use nmframe::{Error, FrameReader, JsonDecoder, Limits};

use nmframe_test_support::alloc::{Counting, allocs, mark, peak};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Hands out at most `step` bytes per read, like a pipe under load.
struct Pipe<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Pipe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Realistic messages of varied shape and size, none larger or denser than the
/// warm-up, which holds them all.
fn messages() -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut msgs = Vec::new();
    for i in 0..400 {
        let msg = match i % 4 {
            0 => format!(r#"{{"id":{i},"cmd":"ping"}}"#),
            1 => format!(
                r#"{{"id":{i},"text":"{}","escaped":"a\"b\\c\n\u00e9"}}"#,
                "lorem ipsum ".repeat(i % 50)
            ),
            2 => format!(
                r#"{{"id":{i},"items":[{}]}}"#,
                (0..i % 90)
                    .map(|n| format!(r#"{{"n":{n},"ok":true}}"#))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            _ => format!(r#"{{"id":{i},"blob":"{}"}}"#, "QUJD".repeat(i * 7)),
        };
        msgs.push(msg.into_bytes());
    }
    let warm = format!(
        "[{}]",
        msgs.iter()
            .map(|m| String::from_utf8_lossy(m))
            .collect::<Vec<_>>()
            .join(",")
    );
    (warm.into_bytes(), msgs)
}

fn wire(warm: &[u8], msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in std::iter::once(warm).chain(msgs.iter().map(Vec::as_slice)) {
        out.extend_from_slice(&(m.len() as u32).to_ne_bytes());
        out.extend_from_slice(m);
    }
    out
}

#[test]
fn steady_state_read_and_validate_allocates_nothing() {
    let (warm, msgs) = messages();
    let wire = wire(&warm, &msgs);
    let mut reader = FrameReader::new(
        Pipe {
            data: &wire,
            step: 16 * 1024,
        },
        Limits::host(),
    );
    let mut json = JsonDecoder::new();

    let first = reader.read_frame().unwrap().unwrap();
    json.validate(&first).unwrap();
    drop(first);

    let before = allocs();
    let mut bytes = 0;
    while let Some(frame) = reader.read_frame().unwrap() {
        json.validate(&frame).unwrap();
        bytes += frame.len();
    }
    let after = allocs();
    assert_eq!(bytes, msgs.iter().map(Vec::len).sum::<usize>());
    assert_eq!(
        after - before,
        0,
        "allocations while reading + validating {} frames",
        msgs.len()
    );
    println!(
        "read + validate: {} allocations for {} frames ({bytes} bytes)",
        after - before,
        msgs.len()
    );
}

#[test]
fn steady_state_echo_through_the_writer_thread_allocates_nothing() {
    // The echo of nmframe's own host, for replies it batches: the batch buffers go
    // back and forth between the threads. (Large frames handed over whole are the next
    // test: whether one is still being written when the next is read is a race.)
    let (warm, msgs) = messages();
    let mut wire = wire(&warm, &msgs);
    // The messages twice: the second round runs on buffers the first has grown.
    let again = wire.clone();
    wire.extend_from_slice(&again[4 + warm.len()..]);
    let mut reader = FrameReader::new(
        Pipe {
            data: &wire,
            step: 16 * 1024,
        },
        Limits::host(),
    );
    let mut writer = nmframe::FrameWriter::new(io::sink(), Limits::browser())
        .validate_json()
        .spawn_thread()
        .unwrap();
    let mut echo = |reader: &mut FrameReader<Pipe<'_>>, frames: usize| {
        for _ in 0..frames {
            let frame = reader.read_frame().unwrap().unwrap();
            if frame.len() >= 16 * 1024 {
                writer.send_frame(frame).unwrap();
            } else {
                writer.queue(&frame).unwrap();
            }
            if !reader.has_frame() {
                writer.flush().unwrap();
            }
        }
    };
    echo(&mut reader, 1 + msgs.len());
    let before = allocs();
    echo(&mut reader, msgs.len());
    let after = allocs();
    assert!(reader.read_frame().unwrap().is_none());
    writer.finish().unwrap();
    assert_eq!(
        after - before,
        0,
        "allocations while echoing {} frames through the writer thread",
        msgs.len()
    );
}

#[test]
fn a_frame_held_while_the_next_is_read_costs_no_allocation() {
    // What a writer thread does to the decoder: frame N is still being written while
    // frame N + 1 arrives. The decoder alternates between two allocations.
    let payload = vec![b'7'; 300_000];
    let mut wire = Vec::new();
    for _ in 0..20 {
        wire.extend_from_slice(&(payload.len() as u32).to_ne_bytes());
        wire.extend_from_slice(&payload);
    }
    let mut reader = FrameReader::new(
        Pipe {
            data: &wire,
            step: 64 * 1024,
        },
        Limits::host(),
    );
    let mut held = reader.read_frame().unwrap().unwrap();
    for _ in 0..3 {
        held = reader.read_frame().unwrap().unwrap();
    }
    let before = allocs();
    let mut frames = 4;
    while let Some(next) = reader.read_frame().unwrap() {
        assert_eq!(next[..], payload[..]);
        held = next; // the previous frame is dropped only now
        frames += 1;
    }
    let after = allocs();
    drop(held);
    assert_eq!(frames, 20);
    assert_eq!(
        after - before,
        0,
        "allocations while holding one frame at a time"
    );
}

/// The length a frame's header gives.
fn frame_len_of(frame: &[u8]) -> usize {
    u32::from_ne_bytes(frame[..4].try_into().unwrap()) as usize
}

#[test]
fn steady_state_read_and_borrowed_decode_allocates_nothing() {
    use nmframe::simd_json::prelude::*;
    let (warm, msgs) = messages();
    let wire = wire(&warm, &msgs);
    let mut reader = FrameReader::new(
        Pipe {
            data: &wire,
            step: 16 * 1024,
        },
        Limits::host(),
    );
    let mut json = JsonDecoder::new();

    let mut first = reader.read_frame().unwrap().unwrap();
    assert!(json.parse(&mut first).unwrap().value().is_array());
    drop(first);

    // Each document is also written back out (a value host's reply), into one buffer.
    let mut out = Vec::with_capacity(1 << 20);
    let before = allocs();
    let mut ids = 0;
    let mut escaped = 0;
    while let Some(mut frame) = reader.read_frame().unwrap() {
        let doc = json.parse(&mut frame).unwrap();
        out.clear();
        nmframe::encode_json(&mut out, &doc, Limits::host().outbound()).unwrap();
        assert_eq!(out.len() - 4, frame_len_of(&out));
        ids += doc.pointer("/id").and_then(|v| v.as_u64()).unwrap();
        if let Some(s) = doc.value().get("escaped").and_then(|v| v.into_string()) {
            assert_eq!(s, "a\"b\\c\né");
            escaped += 1;
        }
    }
    let after = allocs();
    assert_eq!(ids, (0..400).sum::<u64>());
    assert_eq!(escaped, 100);
    assert_eq!(
        after - before,
        0,
        "allocations while reading + parsing + writing back {} frames",
        msgs.len()
    );

    // For the record: a BorrowedValue tree allocates its arrays and objects.
    let (_, msgs) = messages();
    let mut msg = msgs[2].clone();
    let before = allocs();
    let value = json.to_borrowed(&mut msg).unwrap();
    let tree = allocs() - before;
    drop(value);
    assert!(tree > 0);
    println!(
        "read + parse (tape view) + write back: 0 allocations; BorrowedValue of a 2-item message: {tree} allocations"
    );
}

#[test]
fn a_header_claiming_4_gib_costs_only_what_arrives() {
    let mut wire = u32::MAX.to_ne_bytes().to_vec();
    wire.extend_from_slice(&[b'{'; 10]);
    let base = mark();
    let mut reader = FrameReader::new(&wire[..], Limits::host());
    let err = reader.read_frame().unwrap_err();
    let growth = peak() - base;
    assert!(
        matches!(err, Error::TruncatedPayload { expected, received: 10, .. } if expected == u32::MAX as usize),
        "{err:?}"
    );
    assert!(growth <= 1024 * 1024, "peak heap grew by {growth} bytes");
    println!("4 GiB header + 10 bytes + EOF: peak heap growth {growth} bytes");
}

#[test]
fn a_64_mib_frame_is_received_in_about_64_mib() {
    let len = 64 << 20;
    let mut wire = (len as u32).to_ne_bytes().to_vec();
    wire.resize(4 + len, b' ');
    wire[4] = b'1';
    let base = mark();
    let mut reader = FrameReader::new(
        Pipe {
            data: &wire,
            step: 1 << 20,
        },
        Limits::host(),
    );
    let frame = reader.read_frame().unwrap().unwrap();
    let growth = peak() - base;
    assert_eq!(frame.len(), len);
    assert!(
        growth as f64 <= 1.2 * len as f64,
        "peak heap grew by {growth} bytes for a {len}-byte frame"
    );
    println!(
        "one 64 MiB frame: peak heap growth {:.3} x the frame",
        growth as f64 / len as f64
    );
}

#[test]
fn a_frame_fed_one_byte_per_read_grows_its_buffer_a_few_times() {
    let len = 1 << 20;
    let mut wire = (len as u32).to_ne_bytes().to_vec();
    wire.resize(4 + len, b'7');
    let before = allocs();
    let mut reader = FrameReader::new(
        Pipe {
            data: &wire,
            step: 1,
        },
        Limits::host(),
    );
    let frame = reader.read_frame().unwrap().unwrap();
    let count = allocs() - before;
    assert_eq!(frame.len(), len);
    // Geometric growth: about log2(1 MiB / 16 KiB) reallocations, not one per read.
    assert!(
        count < 20,
        "{count} allocations for one frame fed 1 byte at a time"
    );
    println!("1 MiB frame, one byte per read: {count} allocations");
}

/// The async echo's path, `FrameStream` → `Sender::queue_frame`/`flush` → the writing task
/// → `FrameSink`: once warm, a burst costs no allocation (batch buffers come back to
/// the senders, frames are split off the decoder's buffer, the channel reuses its
/// blocks).
#[cfg(feature = "tokio")]
#[test]
fn steady_state_async_echo_allocates_nothing() {
    use nmframe::tokio::{FrameSink, FrameStream};

    /// The reader side of `Pipe`, for Tokio.
    struct AsyncPipe<'a>(Pipe<'a>);

    impl tokio::io::AsyncRead for AsyncPipe<'_> {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            let n = self.0.read(buf.initialize_unfilled())?;
            buf.advance(n);
            std::task::Poll::Ready(Ok(()))
        }
    }

    let (warm, msgs) = messages();
    let mut wire = wire(&warm, &msgs);
    // The messages three times: twice to warm up (every spare buffer is grown to the
    // largest batch the first time it is taken after that batch), once measured.
    let again = wire[4 + warm.len()..].to_vec();
    wire.extend_from_slice(&again);
    wire.extend_from_slice(&again);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut frames = FrameStream::new(
            AsyncPipe(Pipe {
                data: &wire,
                step: 16 * 1024,
            }),
            Limits::host(),
        );
        let (mut sender, writing) = FrameSink::new(tokio::io::sink(), Limits::browser())
            .validate_json()
            .spawn(64);
        let mut echo = async |count: usize| {
            for _ in 0..count {
                let frame = frames.recv().await.unwrap().unwrap();
                sender.queue_frame(frame.freeze()).unwrap();
                if !frames.has_frame() {
                    sender.flush().await.unwrap();
                    // Where a pipe would have nothing to read yet: the writing task runs
                    // (this in-memory pipe is never empty, so make room for it).
                    tokio::task::yield_now().await;
                }
            }
            sender.flush().await.unwrap();
            tokio::task::yield_now().await;
        };
        echo(1 + 2 * msgs.len()).await;
        let before = allocs();
        echo(msgs.len()).await;
        let after = allocs();
        assert!(frames.recv().await.unwrap().is_none());
        drop(sender);
        writing.await.unwrap().unwrap();
        assert_eq!(
            after - before,
            0,
            "allocations while echoing {} frames through the async path",
            msgs.len()
        );
    });
}

/// A large frame's buffer is not held for the rest of the connection: once the frames
/// are small again, the decoder gives that memory back.
#[test]
fn a_large_frames_buffer_is_given_back_once_frames_are_small_again() {
    let len = 48 << 20;
    let mut wire = (len as u32).to_ne_bytes().to_vec();
    wire.resize(4 + len, b' ');
    wire[4] = b'1';
    for _ in 0..3 {
        wire.extend_from_slice(&2u32.to_ne_bytes());
        wire.extend_from_slice(b"{}");
    }
    let base = mark();
    let mut reader = FrameReader::new(
        Pipe {
            data: &wire,
            step: 1 << 20,
        },
        Limits::host(),
    );
    let big = reader.read_frame().unwrap().unwrap();
    assert_eq!(big.len(), len);
    drop(big);
    for _ in 0..3 {
        assert_eq!(&reader.read_frame().unwrap().unwrap()[..], b"{}");
    }
    // The next read (here: the end of the stream) is where a host would wait.
    assert!(reader.read_frame().unwrap().is_none());
    let held = mark() - base;
    assert!(
        held < 1 << 20,
        "{held} bytes still held after a {len}-byte frame and three small ones"
    );
    println!("after a 48 MiB frame and three small ones: {held} bytes held");
}

/// An envelope frame is read without building a tree of it: a member the envelope does
/// not define, however large, costs nothing beyond the frame (version 1 built a tape of
/// it: 18 times a frame's size).
#[test]
fn an_envelope_frame_costs_its_frame_and_its_data_only() {
    use bytes::BytesMut;
    use nmframe::chunked::{Accepted, ChunkOptions, Reassembler};
    use std::time::Instant;

    let zeros = vec!["0"; 8 << 20].join(",");
    let frame =
        format!(r#"{{"$nmframe":2,"t":"part","id":1,"seq":0,"extra":[{zeros}],"data":"[1,2,3]"}}"#);
    let frame = BytesMut::from(frame.as_bytes());
    let mut rx = Reassembler::new(ChunkOptions::default());
    let base = mark();
    assert!(matches!(
        rx.accept(frame, Instant::now()),
        Accepted::Pending
    ));
    let unknown = peak() - base;
    assert!(
        unknown < 64 * 1024,
        "reading a 16 MiB envelope frame took {unknown} bytes"
    );
    // A message sent as one large part is held once more than its frame, no more.
    let data = "x".repeat(32 << 20);
    let text = format!(r#"["{data}"]"#);
    let part = format!(r#"{{"$nmframe":2,"t":"part","id":2,"seq":0,"data":"[\"{data}\"]"}}"#);
    let end = format!(
        r#"{{"$nmframe":2,"t":"end","id":2,"seq":1,"bytes":{},"crc32":{}}}"#,
        text.len(),
        crc32fast::hash(text.as_bytes())
    );
    let part = BytesMut::from(part.as_bytes());
    drop(data);
    let base = mark();
    assert!(matches!(rx.accept(part, Instant::now()), Accepted::Pending));
    let Accepted::Message(whole) = rx.accept(BytesMut::from(end.as_bytes()), Instant::now()) else {
        panic!("the message")
    };
    let growth = peak() - base;
    assert_eq!(whole.len(), text.len());
    assert!(
        (growth as f64) < 1.05 * text.len() as f64,
        "a {}-byte message in one part took {growth} bytes beyond its frame",
        text.len()
    );
    println!(
        "16 MiB envelope frame with an unknown member: {unknown} bytes; 32 MiB message in one part: {:.3} x",
        growth as f64 / text.len() as f64
    );
}
