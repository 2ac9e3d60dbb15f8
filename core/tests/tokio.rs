//! The async API (feature `tokio`): the codec's caps, cancellation, the hostile-input
//! table, backpressure, the sender handle, and the example hosts through real pipes.

use std::io;
use std::pin::Pin;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use nmframe::tokio::{FrameCodec, FrameSink, FrameStream};
use nmframe::{Error, FrameReader, FrameWriter, Limits, MAX_HOST_TO_BROWSER};
use nmframe_test_support::exits_within;
use nmframe_test_support::hostile::{self as hostile_cases, End, Reads, cases, frame};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn wire(msgs: &[&[u8]]) -> Vec<u8> {
    msgs.iter().flat_map(|m| frame(m)).collect()
}

#[test]
fn codec_has_the_two_caps_of_the_role() {
    runtime().block_on(async {
        // A browser writes up to 4 GiB - 1: 2 MiB is fine. A host reads it.
        let big = format!("\"{}\"", "x".repeat(2 << 20));
        let mut out = FramedWrite::new(Vec::new(), FrameCodec::new(Limits::browser()));
        out.send(Bytes::from(big.clone())).await.unwrap();
        let wire = out.into_inner();
        let mut frames = FramedRead::new(&wire[..], FrameCodec::new(Limits::host()));
        assert_eq!(frames.next().await.unwrap().unwrap(), big.as_bytes());
        assert!(frames.next().await.is_none());

        // A host writes at most 1 MiB: refused with nothing added.
        let mut codec = FrameCodec::new(Limits::host());
        let mut dst = BytesMut::new();
        let over = vec![b'1'; MAX_HOST_TO_BROWSER as usize + 1];
        let err = codec.encode(&over[..], &mut dst).unwrap_err();
        assert!(
            matches!(
                err,
                Error::FrameTooLarge {
                    len: 1_048_577,
                    limit: 1_048_576,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(dst.is_empty());
        codec.encode(&over[1..], &mut dst).unwrap();
        assert_eq!(dst.len(), 4 + MAX_HOST_TO_BROWSER as usize);
    });
}

#[test]
fn codec_refuses_an_oversized_header_before_reserving_anything() {
    // A browser reads at most 1 MiB: a header claiming 4 GiB - 1 is refused at once.
    let mut codec = FrameCodec::new(Limits::browser());
    let mut src = BytesMut::from(&u32::MAX.to_ne_bytes()[..]);
    let capacity = src.capacity();
    let err = codec.decode(&mut src).unwrap_err();
    assert!(
        matches!(
            err,
            Error::FrameTooLarge {
                len: 4_294_967_295,
                limit: 1_048_576,
                offset: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(src.capacity(), capacity);

    // A host accepts the header, but reserves only as bytes arrive.
    let mut codec = FrameCodec::new(Limits::host());
    let mut src = BytesMut::from(&u32::MAX.to_ne_bytes()[..]);
    src.extend_from_slice(b"[1,");
    assert!(codec.decode(&mut src).unwrap().is_none());
    assert!(
        src.capacity() <= 128 << 10,
        "reserved {} bytes",
        src.capacity()
    );
}

#[test]
fn codec_reports_truncation_with_its_numbers() {
    runtime().block_on(async {
        let mut stream = wire(&[b"[1]"]);
        stream.extend_from_slice(&frame(b"[2,3]")[..7]);
        let mut frames = FramedRead::new(&stream[..], FrameCodec::new(Limits::host()));
        assert_eq!(&frames.next().await.unwrap().unwrap()[..], b"[1]");
        let err = frames.next().await.unwrap().unwrap_err();
        assert!(
            matches!(
                err,
                Error::TruncatedPayload {
                    offset: 7,
                    expected: 5,
                    received: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().contains('5') && err.to_string().contains('3'),
            "{err}"
        );
    });
}

/// Hands out its bytes a few at a time, returning `Pending` (and waking itself) between
/// reads, as a pipe that fills slowly does.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    step: usize,
    ready: bool,
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.ready {
            self.ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.ready = false;
        let n = self
            .step
            .min(buf.remaining())
            .min(self.data.len() - self.at);
        let at = self.at;
        buf.put_slice(&self.data[at..at + n]);
        self.at += n;
        Poll::Ready(Ok(()))
    }
}

#[test]
fn recv_cancelled_in_select_loses_no_frame() {
    runtime().block_on(async {
        let msgs: Vec<Vec<u8>> = (0..300)
            .map(|i| format!(r#"{{"seq":{i},"pad":"{}"}}"#, "y".repeat(i * 7)).into_bytes())
            .collect();
        let data: Vec<u8> = msgs.iter().flat_map(|m| frame(m)).collect();
        let mut frames = FrameStream::new(
            Trickle {
                data,
                at: 0,
                step: 5,
                ready: false,
            },
            Limits::host(),
        );
        let mut got = Vec::new();
        let mut cancelled = 0;
        loop {
            // The other branch is ready on every second poll: recv is dropped mid-frame
            // again and again.
            tokio::select! {
                biased;
                () = tokio::task::yield_now() => cancelled += 1,
                frame = frames.recv() => match frame.unwrap() {
                    Some(frame) => got.push(frame.to_vec()),
                    None => break,
                },
            }
        }
        assert_eq!(got, msgs);
        assert!(
            cancelled > 1000,
            "recv was cancelled only {cancelled} times"
        );
    });
}

#[test]
fn stream_ends_cleanly_reports_truncation_and_goes_on_after_invalid_json() {
    runtime().block_on(async {
        let stream = wire(&[b"[1]", b"{bad", b"[2]"]);
        let mut frames = FrameStream::new(&stream[..], Limits::host()).validate_json();
        assert_eq!(&frames.recv().await.unwrap().unwrap()[..], b"[1]");
        let err = frames.recv().await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidJson { .. }) && !err.is_fatal(),
            "{err:?}"
        );
        assert_eq!(&frames.recv().await.unwrap().unwrap()[..], b"[2]");
        assert!(frames.recv().await.unwrap().is_none());
        assert!(frames.recv().await.unwrap().is_none());

        let mut stream = wire(&[b"[1]"]);
        stream.extend_from_slice(&[3, 0]);
        let mut frames = FrameStream::new(&stream[..], Limits::host());
        assert!(frames.next().await.unwrap().is_ok());
        let err = frames.next().await.unwrap().unwrap_err();
        assert!(
            matches!(
                err,
                Error::TruncatedHeader {
                    offset: 7,
                    received: 2
                }
            ),
            "{err:?}"
        );
        assert!(
            frames.next().await.is_none(),
            "the stream ends after a fatal error"
        );
    });
}

#[test]
fn recv_json_decodes_owned_values() {
    runtime().block_on(async {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Msg {
            id: u32,
            text: String,
        }
        let stream = wire(&[br#"{"id":7,"text":"h\u00e9"}"#, br#"{"id":"x"}"#]);
        let mut frames = FrameStream::new(&stream[..], Limits::host());
        let msg: Msg = frames.recv_json().await.unwrap().unwrap();
        assert_eq!(
            msg,
            Msg {
                id: 7,
                text: "hé".into()
            }
        );
        let err = frames.recv_json::<Msg>().await.unwrap_err();
        assert!(!err.is_fatal(), "{err:?}");
        assert!(frames.recv_json::<Msg>().await.unwrap().is_none());
    });
}

/// A slice of the stream per read: all of it, or one byte.
struct Source<'a> {
    data: &'a [u8],
    bytewise: bool,
}

impl AsyncRead for Source<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = if self.bytewise { 1 } else { buf.remaining() }
            .min(buf.remaining())
            .min(self.data.len());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(()))
    }
}

#[test]
fn hostile_inputs_against_the_stream_and_the_codec() {
    runtime().block_on(async {
        for case in cases() {
            let limits = if case.browser {
                Limits::browser()
            } else {
                Limits::host()
            };
            let bytewise = matches!(case.reads, Reads::Bytewise);
            let start = Instant::now();
            let source = Source {
                data: &case.stream,
                bytewise,
            };
            let mut frames = FrameStream::new(source, limits);
            let mut count = 0;
            let end = loop {
                match frames.recv().await {
                    Ok(Some(frame)) => {
                        if count == 0 {
                            assert_eq!(&frame[..], hostile_cases::GOOD, "{}", case.name);
                        }
                        count += 1;
                    }
                    Ok(None) => break End::Clean,
                    Err(err) => break End::of(&err),
                }
            };
            assert_eq!(
                (count, end),
                (case.frames, case.end),
                "stream: {}",
                case.name
            );

            // The codec through FramedRead: the same frames and the same end.
            let source = Source {
                data: &case.stream,
                bytewise,
            };
            let mut framed = FramedRead::new(source, FrameCodec::new(limits));
            let mut count = 0;
            let end = loop {
                match framed.next().await {
                    Some(Ok(_)) => count += 1,
                    None => break End::Clean,
                    Some(Err(err)) => break End::of(&err),
                }
            };
            assert_eq!(
                (count, end),
                (case.frames, case.end),
                "codec: {}",
                case.name
            );
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{}: took {:?}",
                case.name,
                start.elapsed()
            );
        }
    });
}

/// Counts writes, keeps what was written, and can stop accepting (a stalled reader)
/// or fail after some bytes (a broken pipe).
#[derive(Clone, Default)]
struct Probe {
    state: Arc<Mutex<ProbeState>>,
}

#[derive(Default)]
struct ProbeState {
    written: Vec<u8>,
    writes: usize,
    /// Accept no more than this many bytes in all (then `Pending`, never woken).
    stall_after: Option<usize>,
    /// Fail with `BrokenPipe` once this many bytes were accepted.
    fail_after: Option<usize>,
}

impl AsyncWrite for Probe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut st = self.state.lock().unwrap();
        let mut n = buf.len();
        if let Some(fail) = st.fail_after {
            if st.written.len() >= fail {
                return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
            }
            n = n.min(fail - st.written.len());
        }
        if let Some(stall) = st.stall_after {
            if st.written.len() >= stall {
                return Poll::Pending;
            }
            n = n.min(stall - st.written.len());
        }
        st.writes += 1;
        st.written.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn the_sink_stops_taking_messages_when_the_reader_stalls() {
    runtime().block_on(async {
        let probe = Probe::default();
        probe.state.lock().unwrap().stall_after = Some(64 << 10);
        let mut sink = FrameSink::new(probe.clone(), Limits::host());
        let msg = Bytes::from(format!("\"{}\"", "z".repeat(64 << 10)));
        let mut accepted = 0usize;
        loop {
            let send = SinkExt::send(&mut sink, msg.clone());
            match tokio::time::timeout(Duration::from_millis(50), send).await {
                Ok(result) => {
                    result.unwrap();
                    accepted += 1;
                }
                Err(_) => break,
            }
            assert!(accepted < 1000, "the sink never pushed back");
        }
        // A send flushes, so the first one stalls: nothing is queued beyond 1 MiB plus
        // one message whatever the sender does.
        assert!(
            sink.queued() <= (1 << 20) + msg.len() + 4,
            "{} bytes queued",
            sink.queued()
        );
        let mut sink = FrameSink::new(Probe::default(), Limits::host());
        for _ in 0..100 {
            // feed() does not flush: backpressure comes from poll_ready alone.
            sink.feed(msg.clone()).await.unwrap();
        }
        assert!(sink.queued() > 0);
        sink.flush().await.unwrap();
        assert_eq!(sink.queued(), 0);
    });
}

#[test]
fn a_write_that_fails_inside_a_frame_breaks_the_sink() {
    runtime().block_on(async {
        let probe = Probe::default();
        probe.state.lock().unwrap().fail_after = Some(6);
        let mut sink = FrameSink::new(probe.clone(), Limits::host());
        let err = sink.send(b"[1,2,3]").await.unwrap_err();
        assert!(err.is_disconnect(), "{err:?}");
        let err = sink.send(b"[4]").await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::WriterBroken {
                    written: 6,
                    len: 11
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            probe.state.lock().unwrap().written.len(),
            6,
            "nothing after the cut"
        );

        // A failure at a frame boundary leaves the sink usable... once the peer is back:
        // here it is simply reported.
        let probe = Probe::default();
        probe.state.lock().unwrap().fail_after = Some(0);
        let mut sink = FrameSink::new(probe, Limits::host());
        assert!(sink.send(b"[1]").await.unwrap_err().is_disconnect());
        assert!(
            sink.queue(b"[2]").is_ok(),
            "not broken: nothing of a frame went out"
        );
    });
}

#[test]
fn a_burst_through_the_sender_leaves_in_few_writes() {
    runtime().block_on(async {
        let probe = Probe::default();
        let (sender, writing) = FrameSink::new(probe.clone(), Limits::host())
            .validate_json()
            .spawn(512);
        let mut expected = Vec::new();
        for i in 0..400 {
            let msg = format!(r#"{{"seq":{i}}}"#);
            expected.extend_from_slice(&frame(msg.as_bytes()));
            sender.send(msg).await.unwrap();
        }
        let err = sender.send(&b"{oops"[..]).await.unwrap_err();
        assert!(matches!(err, Error::InvalidJson { .. }), "{err:?}");
        let other = sender.clone();
        other
            .send_json(&serde_json::json!({"from": "a clone"}))
            .await
            .unwrap();
        expected.extend_from_slice(&frame(br#"{"from":"a clone"}"#));
        drop((sender, other));
        writing.await.unwrap().unwrap();
        let st = probe.state.lock().unwrap();
        assert_eq!(st.written, expected);
        // 401 messages in four writes or so: Tokio's cooperative budget makes the sending
        // task yield every 128 sends, and the writing task then takes what is waiting.
        assert!(st.writes <= 5, "{} writes", st.writes);
    });
}

#[test]
fn senders_learn_why_the_writing_task_stopped() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let probe = Probe::default();
            probe.state.lock().unwrap().fail_after = Some(0);
            let (sender, writing) = FrameSink::new(probe, Limits::host()).spawn(4);
            sender.send(&b"[1]"[..]).await.unwrap();
            let Err(err) = writing.await.unwrap() else {
                panic!("the writing task did not fail");
            };
            assert!(err.is_disconnect(), "{err:?}");
            let err = sender.send(&b"[2]"[..]).await.unwrap_err();
            assert!(err.is_disconnect(), "{err:?}");
            let err = sender.send_json(&3).await.unwrap_err();
            assert!(err.is_disconnect(), "{err:?}");
        });
}

/// An example host started as a browser starts one.
fn spawn(name: &str) -> Child {
    nmframe_test_support::start_example("nmframe", name, &["tokio"])
}

/// The peak resident set of a process, from /proc (Linux).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn the_async_echo_host_through_real_pipes() {
    let mut child = spawn("tokio_echo_host");
    let mut to_host = FrameWriter::new(child.stdin.take().unwrap(), Limits::browser());
    let mut from_host = FrameReader::new(child.stdout.take().unwrap(), Limits::browser());
    for msg in [&b"{\"a\":1}"[..], b"[\"\\ud800\"]", b"\"\xc3\xa9\""] {
        to_host.send(msg).unwrap();
        assert_eq!(&from_host.read_frame().unwrap().unwrap()[..], msg);
    }
    // The reactor drives a description of the pipe of the host's own: descriptor 0,
    // which child processes inherit, is still blocking.
    let fdinfo = std::fs::read_to_string(format!("/proc/{}/fdinfo/0", child.id())).unwrap();
    let flags = fdinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .map(|f| u32::from_str_radix(f.trim(), 8).unwrap())
        .unwrap();
    assert_eq!(
        flags & libc::O_NONBLOCK as u32,
        0,
        "fd 0 made non-blocking: {fdinfo}"
    );
    // A burst, in order.
    for i in 0..500 {
        to_host.queue(format!("[{i}]").as_bytes()).unwrap();
    }
    to_host.flush().unwrap();
    for i in 0..500 {
        assert_eq!(
            from_host.read_frame().unwrap().unwrap(),
            format!("[{i}]").as_bytes()
        );
    }
    // Exactly 1 MiB comes back; 1 MiB + 1 is refused with its size, and the host goes on.
    for len in [1 << 20, (1 << 20) + 1] {
        let msg = format!("\"{}\"", "q".repeat(len - 2));
        to_host.send(msg.as_bytes()).unwrap();
        let reply = from_host.read_frame().unwrap().unwrap();
        if len == 1 << 20 {
            assert_eq!(reply, msg.as_bytes());
        } else {
            let v: serde_json::Value = serde_json::from_slice(&reply).unwrap();
            assert_eq!(v["size"], len, "{v}");
        }
    }
    // Invalid JSON: refused, answered, the host goes on.
    to_host.get_mut().write_all_frame(b"{nope");
    let v: serde_json::Value =
        serde_json::from_slice(&from_host.read_frame().unwrap().unwrap()).unwrap();
    assert!(v["error"].as_str().unwrap().contains("JSON"), "{v}");
    to_host.send(b"[\"still here\"]").unwrap();
    assert_eq!(
        &from_host.read_frame().unwrap().unwrap()[..],
        b"[\"still here\"]"
    );
    // End of input: a clean exit.
    drop(to_host);
    assert!(exits_within(&mut child, Duration::from_secs(2)).success());
    assert!(from_host.read_frame().unwrap().is_none());
}

/// Writes a frame without the writer's checks.
trait RawFrame {
    fn write_all_frame(&mut self, payload: &[u8]);
}

impl<W: io::Write> RawFrame for W {
    fn write_all_frame(&mut self, payload: &[u8]) {
        self.write_all(&frame(payload)).unwrap();
        self.flush().unwrap();
    }
}

#[test]
fn sigterm_and_a_vanished_browser_end_the_async_hosts_cleanly() {
    for name in ["tokio_echo_host", "tokio_rpc_host"] {
        // SIGTERM while waiting for input: exit 0.
        let mut child = spawn(name);
        let mut to_host = FrameWriter::new(child.stdin.take().unwrap(), Limits::browser());
        let mut from_host = FrameReader::new(child.stdout.take().unwrap(), Limits::browser());
        to_host
            .send(br#"{"id":1,"op":"upper","text":"a"}"#)
            .unwrap();
        from_host.read_frame().unwrap().unwrap();
        // SAFETY: kill(2) with a pid this test spawned and still owns; no memory involved.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        let status = exits_within(&mut child, Duration::from_secs(2));
        assert!(status.success(), "{name} after SIGTERM: {status}");

        // The browser closes the host's stdout, then sends: EPIPE is a clean end.
        let mut child = spawn(name);
        let mut to_host = FrameWriter::new(child.stdin.take().unwrap(), Limits::browser());
        drop(child.stdout.take());
        for i in 0..3 {
            to_host
                .send(format!(r#"{{"id":{i},"op":"upper","text":"x"}}"#).as_bytes())
                .ok();
        }
        drop(to_host);
        let status = exits_within(&mut child, Duration::from_secs(2));
        assert!(status.success(), "{name} after EPIPE: {status}");
    }
}

#[test]
fn the_rpc_host_answers_concurrent_requests_out_of_order() {
    let mut child = spawn("tokio_rpc_host");
    let mut to_host = FrameWriter::new(child.stdin.take().unwrap(), Limits::browser());
    let mut from_host = FrameReader::new(child.stdout.take().unwrap(), Limits::browser());
    to_host.queue(br#"{"id":1,"op":"sleep","ms":400}"#).unwrap();
    to_host.queue(br#"{"id":2,"op":"sleep","ms":200}"#).unwrap();
    to_host
        .queue(br#"{"id":3,"op":"upper","text":"h\u00e9"}"#)
        .unwrap();
    to_host.queue(br#"{"id":4,"op":"fly"}"#).unwrap();
    to_host.flush().unwrap();
    let started = Instant::now();
    let mut replies = Vec::new();
    for _ in 0..4 {
        let reply: serde_json::Value =
            serde_json::from_slice(&from_host.read_frame().unwrap().unwrap()).unwrap();
        replies.push(reply);
    }
    let ids: Vec<_> = replies.iter().map(|r| r["id"].clone()).collect();
    // The quick ones first, then the sleeps in the order they end: handled one after
    // another, the 400 ms sleep would answer before the 200 ms one.
    assert_eq!(
        &ids[2..],
        [serde_json::json!(2), serde_json::json!(1)],
        "{replies:?}"
    );
    assert!(ids[..2].contains(&serde_json::json!(3)), "{replies:?}");
    assert!(ids[..2].contains(&serde_json::Value::Null), "{replies:?}");
    let upper = replies.iter().find(|r| r["id"] == 3).unwrap();
    assert_eq!(upper["text"], "HÉ");
    // Concurrent: both sleeps together took about the longer one, not the sum.
    assert!(
        started.elapsed() < Duration::from_millis(580),
        "{:?}",
        started.elapsed()
    );
    drop(to_host);
    assert!(exits_within(&mut child, Duration::from_secs(2)).success());
}

/// A browser that stops reading: the host must stop reading too rather than buffer
/// what keeps arriving. Peak RSS stays bounded while 256 MiB are offered.
#[test]
fn a_stalled_browser_holds_the_async_hosts_memory_bounded() {
    for (name, msg) in [
        ("tokio_echo_host", format!("\"{}\"", "e".repeat(64 << 10))),
        (
            "tokio_rpc_host",
            format!(
                r#"{{"id":1,"op":"upper","text":"{}"}}"#,
                "r".repeat(64 << 10)
            ),
        ),
    ] {
        let mut child = spawn(name);
        let pid = child.id();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap(); // held open, never read
        let offered = Arc::new(Mutex::new(0usize));
        let counter = Arc::clone(&offered);
        let feeder = std::thread::spawn(move || {
            let mut to_host = FrameWriter::new(stdin, Limits::browser());
            for _ in 0..(256 << 20) / msg.len() {
                if to_host.send(msg.as_bytes()).is_err() {
                    break;
                }
                *counter.lock().unwrap() += msg.len();
            }
        });
        // Let it run into the wall.
        let mut last = 0;
        for _ in 0..40 {
            std::thread::sleep(Duration::from_millis(50));
            let now = *offered.lock().unwrap();
            if now == last && now > 0 {
                break;
            }
            last = now;
        }
        let accepted = *offered.lock().unwrap();
        let peak = peak_rss_kib(pid);
        println!("{name}: stalled after {accepted} bytes accepted; peak RSS {peak} KiB");
        assert!(accepted < 64 << 20, "{name} kept reading: {accepted} bytes");
        assert!(peak < 48 << 10, "{name} peaked at {peak} KiB");
        child.kill().unwrap();
        child.wait().unwrap();
        drop(stdout);
        feeder.join().unwrap();
    }
}

#[test]
fn a_senders_own_queue_goes_over_in_order_in_one_hand_over() {
    runtime().block_on(async {
        let probe = Probe::default();
        let (mut sender, writing) = FrameSink::new(probe.clone(), Limits::host())
            .validate_json()
            .spawn(1);
        let large = Bytes::from(format!("\"{}\"", "L".repeat(20_000)));
        let mut expected = Vec::new();
        for msg in [&b"[1]"[..], b"[2]"] {
            sender.queue(msg).unwrap();
            expected.extend_from_slice(&frame(msg));
        }
        sender.queue_frame(large.clone()).unwrap();
        expected.extend_from_slice(&frame(&large));
        assert!(matches!(
            sender.queue(b"[3"),
            Err(Error::InvalidJson { .. })
        ));
        assert!(
            sender.queue_json(&f64::NAN).is_ok(),
            "NaN serializes as null"
        );
        expected.extend_from_slice(&frame(b"null"));
        sender
            .queue_json(&serde_json::json!({"last": true}))
            .unwrap();
        expected.extend_from_slice(&frame(br#"{"last":true}"#));
        // A queue of depth 1 and four jobs: flush waits for room, in order.
        sender.flush().await.unwrap();
        drop(sender);
        writing.await.unwrap().unwrap();
        assert_eq!(probe.state.lock().unwrap().written, expected);
    });
}

/// A flush of up to 16 KiB while the writing task is idle is written by the flushing
/// task itself, before it yields; a larger one, or one behind jobs still in flight, is
/// handed over; what the pipe does not take at once is finished by the task, in order;
/// and an inline write that fails stops every sender as the task's own would.
#[test]
fn an_idle_senders_flush_is_written_inline_and_order_is_kept() {
    runtime().block_on(async {
        let probe = Probe::default();
        let (mut sender, writing) = FrameSink::new(probe.clone(), Limits::host())
            .validate_json()
            .spawn(8);
        let mut expected = frame(b"[1]");
        sender.queue(b"[1]").unwrap();
        sender.flush().await.unwrap();
        // No yield since: only this task can have written it.
        assert_eq!(probe.state.lock().unwrap().written, expected);

        let large = Bytes::from(format!("\"{}\"", "L".repeat(20_000)));
        sender.queue_frame(large.clone()).unwrap();
        sender.flush().await.unwrap();
        assert_eq!(
            probe.state.lock().unwrap().written.len(),
            expected.len(),
            "20 KiB goes to the writing task"
        );
        expected.extend_from_slice(&frame(&large));
        // Behind a job in flight, a small flush is handed over too, and keeps its place.
        sender.queue(b"[2]").unwrap();
        sender.flush().await.unwrap();
        expected.extend_from_slice(&frame(b"[2]"));
        tokio::task::yield_now().await;
        assert_eq!(probe.state.lock().unwrap().written, expected);

        // The pipe takes 5 bytes: the task writes the rest once it takes more.
        probe.state.lock().unwrap().stall_after = Some(expected.len() + 5);
        sender.queue(b"[3]").unwrap();
        sender.queue(b"[4]").unwrap();
        sender.flush().await.unwrap();
        expected.extend_from_slice(&frame(b"[3]"));
        expected.extend_from_slice(&frame(b"[4]"));
        assert_eq!(
            probe.state.lock().unwrap().written.len(),
            expected.len() - 9
        );
        probe.state.lock().unwrap().stall_after = None;
        sender.queue(b"[5]").unwrap();
        sender.flush().await.unwrap();
        expected.extend_from_slice(&frame(b"[5]"));
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(probe.state.lock().unwrap().written, expected);

        // The browser goes away: the inline write reports it, and so does everyone after.
        probe.state.lock().unwrap().fail_after = Some(expected.len());
        sender.queue(b"[6]").unwrap();
        let err = sender.flush().await.unwrap_err();
        assert!(err.is_disconnect(), "{err:?}");
        let err = sender.send(&b"[7]"[..]).await.unwrap_err();
        assert!(err.is_disconnect(), "{err:?}");
        sender.queue(b"[8]").unwrap();
        assert!(sender.flush().await.unwrap_err().is_disconnect());
        drop(sender);
        let Err(err) = writing.await.unwrap() else {
            panic!("the writing task ended well after a failed write");
        };
        assert!(err.is_disconnect(), "{err:?}");
        assert_eq!(probe.state.lock().unwrap().written, expected);
    });
}
