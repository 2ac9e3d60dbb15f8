//! The log writer: a thread of its own, fed through a queue bounded in bytes, so that a
//! slow, full or blocked log never holds up the streams it describes.

use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use super::log::Entry;
use crate::out::problem;

/// Bytes of log lines waiting for the writer: past this, lines are counted as lost
/// rather than held, so a log read slowly (or never) costs neither the streams nor
/// memory, with `--bodies` too.
pub(super) const LOG_QUEUE_BYTES: usize = 32 << 20;

/// How long the tap waits, once the host is gone, for the log to take what is queued.
pub(super) const LOG_GRACE: Duration = Duration::from_secs(1);

/// The log: events go to a writer thread, which opens the file itself (a FIFO without a
/// reader blocks only that thread), through a queue bounded in bytes, so that a slow or
/// broken log never holds up a stream.
#[derive(Clone)]
pub(super) struct Log {
    tx: mpsc::Sender<(Entry, usize)>,
    counts: Arc<LogCounts>,
    start: Instant,
    conn: Arc<str>,
}

/// What the forwarding threads and the writer share.
#[derive(Default)]
pub(super) struct LogCounts {
    /// Bytes of entries queued for the writer.
    queued: AtomicUsize,
    /// Lines queued and not yet written.
    pending: AtomicU64,
    /// Lines dropped since the last `lost` line.
    lost: AtomicU64,
}

impl Log {
    /// Starts the writer, which appends to `path`. When the file cannot be opened or
    /// written, the lines go to stderr instead, prefixed, and the tap goes on.
    pub(super) fn open(path: &Path, conn: String) -> (Log, thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel();
        let counts = Arc::new(LogCounts::default());
        let writer = {
            let counts = Arc::clone(&counts);
            let path = path.to_path_buf();
            thread::spawn(move || write_log(&path, &rx, &counts))
        };
        let log = Log {
            tx,
            counts,
            start: Instant::now(),
            conn: conn.into(),
        };
        (log, writer)
    }

    pub(super) fn send(&self, mut entry: Entry) {
        entry.t = (self.start.elapsed().as_secs_f64() * 1e6).round() / 1e6;
        entry.conn = Some(self.conn.to_string());
        let weight = entry.weight();
        let queued = self.counts.queued.fetch_add(weight, Ordering::Relaxed);
        if queued + weight > LOG_QUEUE_BYTES {
            self.counts.queued.fetch_sub(weight, Ordering::Relaxed);
            self.counts.lost.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.counts.pending.fetch_add(1, Ordering::Relaxed);
        if self.tx.send((entry, weight)).is_err() {
            self.counts.pending.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The last entry; then waits for the writer, at most [`LOG_GRACE`], and says on
    /// stderr how many lines a log that did not keep up never took.
    pub(super) fn end(self, writer: thread::JoinHandle<()>) {
        self.send(Entry::new("end"));
        let counts = Arc::clone(&self.counts);
        drop(self);
        let deadline = Instant::now() + LOG_GRACE;
        while !writer.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(2));
        }
        if writer.is_finished() {
            let _ = writer.join();
            return;
        }
        let pending = counts.pending.load(Ordering::Relaxed);
        let lost = counts.lost.load(Ordering::Relaxed);
        problem(&format!(
            "tap: the log took nothing more for {} ms after the host ended: {pending} line(s) \
             not written, {lost} dropped before (a log read slowly or not at all never holds \
             the tap up)",
            LOG_GRACE.as_millis()
        ));
    }
}

pub(super) fn write_log(path: &Path, rx: &mpsc::Receiver<(Entry, usize)>, counts: &LogCounts) {
    // Opened here, not before the host starts: a FIFO without a reader blocks this
    // thread alone, while the entries wait in the bounded queue.
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    let mut out = LogSink {
        file: None,
        buf: Vec::with_capacity(64 * 1024),
        text: Vec::with_capacity(512),
    };
    match file {
        Ok(file) => out.file = Some(file),
        Err(err) => problem(&format!(
            "tap: cannot open the log {}: {err}; logging to stderr",
            path.display()
        )),
    }
    loop {
        // Wait for the next entry only once what was written is flushed: a burst of
        // frames costs one write, and `tap show --follow` sees a quiet tap's lines at once.
        let (entry, weight) = match rx.try_recv() {
            Ok(next) => next,
            Err(mpsc::TryRecvError::Empty) => {
                out.flush();
                match rx.recv() {
                    Ok(next) => next,
                    Err(_) => break,
                }
            }
            Err(mpsc::TryRecvError::Disconnected) => break,
        };
        out.lost(counts, &entry);
        // The tap's last word: a forwarding thread may still hold a sender (blocked on a
        // browser that keeps its end open), and the tap does not wait for it.
        let last = entry.event == "end";
        out.write(&entry);
        counts.queued.fetch_sub(weight, Ordering::Relaxed);
        counts.pending.fetch_sub(1, Ordering::Relaxed);
        if last {
            break;
        }
    }
    out.flush();
}

/// Where log lines go: the file, or stderr once the file fails. Lines collect in a
/// buffer of whole lines; when a write fails, the lines the file did not take go to
/// stderr with the count, so that none vanishes (a full disk, a closed FIFO).
pub(super) struct LogSink {
    file: Option<std::fs::File>,
    buf: Vec<u8>,
    text: Vec<u8>,
}

impl LogSink {
    pub(super) fn write(&mut self, entry: &Entry) {
        self.text.clear();
        serde_json::to_writer(&mut self.text, entry).expect("a log entry serializes");
        self.text.push(b'\n');
        self.buf.extend_from_slice(&self.text);
        if self.buf.len() >= 64 * 1024 {
            self.flush();
        }
    }

    /// Says how many lines were dropped since the last time, if any.
    pub(super) fn lost(&mut self, counts: &LogCounts, next: &Entry) {
        let count = counts.lost.swap(0, Ordering::Relaxed);
        if count > 0 {
            self.write(&Entry {
                t: next.t,
                conn: next.conn.clone(),
                count: Some(count),
                ..Entry::new("lost")
            });
        }
    }

    pub(super) fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if let Some(file) = &mut self.file {
            let mut done = 0;
            let failed = loop {
                match file.write(&self.buf[done..]) {
                    Ok(0) => break Some(io::Error::from(io::ErrorKind::WriteZero)),
                    Ok(n) => {
                        done += n;
                        if done == self.buf.len() {
                            break None;
                        }
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => break Some(err),
                }
            };
            let Some(err) = failed else {
                self.buf.clear();
                return;
            };
            // From the start of the line the file did not take whole.
            let from = self.buf[..done]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |at| at + 1);
            let lines = self.buf[from..].iter().filter(|&&b| b == b'\n').count();
            problem(&format!(
                "tap: writing the log failed: {err}; the {lines} line(s) it did not take, and \
                 every later one, go to stderr"
            ));
            self.file = None;
            self.buf.drain(..from);
        }
        let mut err = io::stderr().lock();
        for line in self.buf.split_inclusive(|&b| b == b'\n') {
            let _ = err.write_all(b"nmframe tap log: ");
            let _ = err.write_all(line);
        }
        self.buf.clear();
    }
}
