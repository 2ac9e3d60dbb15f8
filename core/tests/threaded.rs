//! The writer thread: order, refusals in the caller's thread, a failed write that stops
//! everything after it, and backpressure when the reader stalls.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use nmframe::{Error, FrameWriter, Limits, SliceFrames, WriterThread};

/// A writer whose bytes the test can read while the thread owns it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn replies(wire: &[u8]) -> Vec<Vec<u8>> {
    SliceFrames::new(wire, Limits::browser().inbound())
        .map(|f| f.unwrap().to_vec())
        .collect()
}

#[test]
fn frames_leave_in_the_order_they_were_given() {
    let mut writer = FrameWriter::new(Vec::new(), Limits::host())
        .spawn_thread()
        .unwrap();
    let mut sent = Vec::new();
    for i in 0..300usize {
        let msg = format!("[{i},\"{}\"]", "x".repeat(i * 97 % 40_000)).into_bytes();
        if i % 3 == 0 {
            writer.send_frame(BytesMut::from(&msg[..])).unwrap();
        } else {
            writer.queue(&msg).unwrap();
        }
        if i % 7 == 0 {
            writer.flush().unwrap();
        }
        sent.push(msg);
    }
    writer.queue_json(&["last"]).unwrap();
    sent.push(br#"["last"]"#.to_vec());
    let out = writer.finish().unwrap();
    assert_eq!(replies(&out), sent);
}

#[test]
fn refusals_happen_in_the_callers_thread_with_nothing_written() {
    let sink = Shared::default();
    let mut writer = FrameWriter::new(sink.clone(), Limits::host())
        .validate_json()
        .spawn_thread()
        .unwrap();
    let too_big = BytesMut::from(&vec![b' '; (1 << 20) + 1][..]);
    assert!(matches!(
        writer.send_frame(too_big),
        Err(Error::FrameTooLarge {
            len: 1_048_577,
            header: None,
            ..
        })
    ));
    assert!(matches!(
        writer.queue(b"{\"a\":}"),
        Err(Error::InvalidJson { offset: 5, .. })
    ));
    assert!(matches!(writer.queue(b""), Err(Error::EmptyFrame { .. })));
    assert_eq!(writer.queued(), 0, "a refusal leaves the batch as it was");
    writer.queue(b"[1]").unwrap();
    writer.finish().unwrap();
    assert_eq!(replies(&sink.0.lock().unwrap()), vec![b"[1]".to_vec()]);
}

/// Accepts `room` bytes, then fails every write as a closed pipe does.
#[derive(Debug)]
struct Closes {
    room: usize,
    written: Arc<Mutex<Vec<u8>>>,
}

impl Write for Closes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.room == 0 {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        self.written.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_write_that_fails_half_way_stops_the_thread_and_every_later_call_says_so() {
    let written = Arc::new(Mutex::new(Vec::new()));
    let out = Closes {
        room: 4 + 3 + 4 + 5, // the first frame and part of the second
        written: written.clone(),
    };
    let mut writer = FrameWriter::new(out, Limits::host())
        .spawn_thread()
        .unwrap();
    writer.queue(b"[1]").unwrap();
    writer.flush().unwrap();
    // The frame breaks half-way. Written by this call (the thread being idle), the
    // failure is its result; handed over, it surfaces on a later call. It stays.
    let sent = writer.send_frame(BytesMut::from(&b"[2222222]"[..]));
    let mut failures = 0;
    if let Err(err) = sent {
        assert!(err.is_disconnect(), "{err:?}");
        failures += 1;
    }
    for _ in 0..100 {
        match writer.queue(b"[3]").and_then(|()| writer.flush()) {
            Ok(()) => std::thread::sleep(Duration::from_millis(5)),
            Err(err) => {
                assert!(err.is_disconnect(), "{err:?}");
                failures += 1;
                if failures == 3 {
                    break;
                }
            }
        }
    }
    assert_eq!(failures, 3, "the error is returned by every call after it");
    assert!(writer.finish().unwrap_err().is_disconnect());
    // Nothing was written after the frame that broke: the stream ends inside it.
    let wire = written.lock().unwrap().clone();
    assert_eq!(wire.len(), 4 + 3 + 4 + 5);
    let mut frames = SliceFrames::new(&wire, Limits::browser().inbound());
    assert_eq!(frames.next().unwrap().unwrap(), b"[1]");
    assert!(frames.next().is_none());
    assert!(matches!(
        frames.finish(),
        Err(Error::TruncatedPayload {
            expected: 9,
            received: 5,
            ..
        })
    ));
}

#[test]
fn check_reports_the_failure_without_handing_anything_over() {
    let written = Arc::new(Mutex::new(Vec::new()));
    let out = Closes {
        room: 2,
        written: written.clone(),
    };
    let mut writer = FrameWriter::new(out, Limits::host())
        .spawn_thread()
        .unwrap();
    writer.queue(b"[1]").unwrap();
    // Written inline, the failure is the flush's result; handed over, the thread fails
    // on its own time: check() waits for nothing, and says so once it has.
    let mut seen = writer.flush().err();
    for _ in 0..400 {
        if seen.is_some() {
            break;
        }
        if let Err(err) = writer.check() {
            seen = Some(err);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let err = seen.expect("check() never reported the failed write");
    assert!(err.is_disconnect(), "{err:?}");
    assert!(writer.check().unwrap_err().is_disconnect(), "it stays");
    assert_eq!(written.lock().unwrap().len(), 2);
}

/// Blocks every write until the test opens the gate, counting bytes.
struct Gated {
    open: Arc<Mutex<bool>>,
    bytes: Arc<AtomicUsize>,
}

impl Write for Gated {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        while !*self.open.lock().unwrap() {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.bytes.fetch_add(buf.len(), Ordering::SeqCst);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_stalled_reader_blocks_the_caller_after_two_jobs() {
    let open = Arc::new(Mutex::new(false));
    let bytes = Arc::new(AtomicUsize::new(0));
    let flushed = Arc::new(AtomicUsize::new(0));
    let gated = Gated {
        open: open.clone(),
        bytes: bytes.clone(),
    };
    let caller = {
        let flushed = flushed.clone();
        std::thread::spawn(move || {
            let mut writer = FrameWriter::new(gated, Limits::host())
                .spawn_thread()
                .unwrap();
            let msg = vec![b'1'; 100_000];
            for _ in 0..10 {
                writer.queue(&msg).unwrap();
                writer.flush().unwrap();
                flushed.fetch_add(1, Ordering::SeqCst);
            }
            writer.finish().unwrap();
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    // One job being written (blocked), two waiting, the caller blocked on the fourth:
    // at most three batches of 100 kB are held, whatever the caller wants to send.
    let held = flushed.load(Ordering::SeqCst);
    assert!(
        held <= 3,
        "{held} flushes went through while nothing could be written"
    );
    assert_eq!(bytes.load(Ordering::SeqCst), 0);
    *open.lock().unwrap() = true;
    caller.join().unwrap();
    assert_eq!(flushed.load(Ordering::SeqCst), 10);
    assert_eq!(bytes.load(Ordering::SeqCst), 10 * (4 + 100_000));
}

/// Records which thread wrote each piece.
type Log = Arc<Mutex<Vec<(String, usize)>>>;

struct WhoWrites(Log);

impl Write for WhoWrites {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let name = std::thread::current().name().unwrap_or("").to_owned();
        self.0.lock().unwrap().push((name, buf.len()));
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The bytes the thread called `name` wrote, in a [`WhoWrites`] log.
fn written_by(log: &[(String, usize)], name: &str) -> usize {
    log.iter()
        .filter(|(n, _)| n == name)
        .map(|(_, len)| len)
        .sum()
}

/// A writer thread whose every write is logged with the name of the thread that made
/// it, and the name of this (the caller's) thread.
fn watched_writer() -> (Log, WriterThread<WhoWrites>, String) {
    let log = Log::default();
    let writer = FrameWriter::new(WhoWrites(log.clone()), Limits::host())
        .spawn_thread()
        .unwrap();
    let caller = std::thread::current().name().unwrap_or("").to_owned();
    (log, writer, caller)
}

#[test]
fn a_lone_small_reply_is_written_by_the_caller_and_a_large_one_by_the_thread() {
    let (log, mut writer, caller) = watched_writer();
    writer.queue(b"[1]").unwrap();
    writer.flush().unwrap();
    writer.send_frame(BytesMut::from(&b"[2]"[..])).unwrap();
    let large = format!("\"{}\"", "x".repeat(200_000));
    writer.send_frame(BytesMut::from(large.as_bytes())).unwrap();
    writer.finish().unwrap();
    let log = log.lock().unwrap();
    let by = |name: &str| written_by(&log, name);
    assert_eq!(by(&caller), 2 * (4 + 3), "{log:?}");
    assert_eq!(by("nmframe-writer"), 4 + large.len(), "{log:?}");
}

#[test]
fn a_caller_that_caught_up_writes_one_reply_of_up_to_64_kib_itself() {
    use nmframe::Outbound;
    let (log, mut writer, caller) = watched_writer();
    let string = |len: usize| format!("\"{}\"", "x".repeat(len - 2));
    // 64 KiB exactly, with its header: the most a caller that caught up writes.
    let lone = string(64 << 10);
    writer.caught_up();
    writer.send_frame(BytesMut::from(lone.as_bytes())).unwrap();
    // A batch of 40,000 bytes, flushed after catching up: written by the caller too.
    let batch = string(40_000);
    writer.queue(batch.as_bytes()).unwrap();
    writer.caught_up();
    writer.flush().unwrap();
    // One byte over 64 KiB is handed over even after catching up (the thread is idle:
    // everything before was written inline).
    let over = string((64 << 10) + 1);
    writer.caught_up();
    writer.send_frame(BytesMut::from(over.as_bytes())).unwrap();
    // The word held for that write only: the next large frame is handed over.
    let next = string(20_000);
    writer.send_frame(BytesMut::from(next.as_bytes())).unwrap();
    writer.finish().unwrap();
    let log = log.lock().unwrap();
    let by = |name: &str| written_by(&log, name);
    assert_eq!(by(&caller), 4 + lone.len() + 4 + batch.len(), "{log:?}");
    assert_eq!(
        by("nmframe-writer"),
        4 + next.len() + 4 + over.len(),
        "{log:?}"
    );
}
