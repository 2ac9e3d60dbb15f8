//! `nmframe tap`: a transparent proxy between a real browser and a real host, started by
//! the browser in the host's place. It forwards both directions unchanged and writes one
//! JSON line per event to a log: every frame with its verdict under the browser's rules,
//! the host's stderr, the ends of both streams, the host's exit.

use std::ffi::OsString;
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use nmframe::{
    Browser, Caller, Cut, FrameScanner, HEADER_LEN, HostStdio, JsonDecoder, Limits, Scanned,
};
use serde::{Deserialize, Serialize};

use crate::out::problem;
use crate::run::{CHROMIUM_SAYS, EXIT_GRACE, Event, judge, oversized};
use crate::{MISBEHAVED, SETUP};

/// Bytes of a payload kept in the log without `--bodies`.
const HEAD: usize = 64;

/// Bytes of log lines waiting for the writer: past this, lines are counted as lost
/// rather than held, so a log read slowly (or never) costs neither the streams nor
/// memory, with `--bodies` too.
const LOG_QUEUE_BYTES: usize = 32 << 20;

/// How long the tap waits, once the host is gone, for the log to take what is queued.
const LOG_GRACE: Duration = Duration::from_secs(1);

/// One line of the log. Fields that do not apply to an event are left out.
#[derive(Serialize, Deserialize, Default, Debug, Clone)]
pub(crate) struct Entry {
    /// Seconds since the tap started.
    pub t: f64,
    /// The connection: one tap process, started by the browser for one port or one
    /// `sendNativeMessage`. Several may append to one log at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conn: Option<String>,
    /// `start`, `frame`, `stderr`, `eof`, `cut`, `closed`, `spawn_failed`, `killed`,
    /// `exit`, `lost`, `end`.
    pub event: String,
    /// `to_host` (browser → host) or `to_browser`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Stream offset of the frame's header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Payload length, as the header announced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub len: Option<u64>,
    /// The first bytes of the payload (lossy UTF-8), without `--bodies`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// The whole payload (lossy UTF-8), with `--bodies`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `ok`, `dropped` (the browser drops or alters it, the port stays open) or `fatal`
    /// (the browser closes the port).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// Why, for a frame that is not `ok`; what happened, for other events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// What the browser tells the extension when it closes the port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_says: Option<String>,
    /// A line the host wrote to stderr.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// `start`: the browser whose rules apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// `start`: the host's command line, the browser's arguments included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    /// `start`: the host's working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// `start`: wall-clock time, milliseconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unix_ms: Option<u64>,
    /// `exit`: the host's exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// `exit`: the signal that ended the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// `exit`: milliseconds between the browser closing the host's stdin and the exit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_eof_ms: Option<u64>,
    /// `lost`: log lines dropped because the log could not keep up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl Entry {
    fn new(event: &str) -> Entry {
        Entry {
            event: event.to_owned(),
            ..Entry::default()
        }
    }

    fn dir(mut self, dir: Dir) -> Entry {
        self.dir = Some(dir.name().to_owned());
        self
    }

    fn why(mut self, why: impl Into<String>) -> Entry {
        self.why = Some(why.into());
        self
    }

    /// About what the entry holds in memory while it waits for the writer.
    fn weight(&self) -> usize {
        let len = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        256 + len(&self.body) + len(&self.head) + len(&self.line) + len(&self.why)
    }
}

/// Which way bytes go.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Dir {
    ToHost,
    ToBrowser,
}

impl Dir {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dir::ToHost => "to_host",
            Dir::ToBrowser => "to_browser",
        }
    }
}

/// The log: events go to a writer thread, which opens the file itself (a FIFO without a
/// reader blocks only that thread), through a queue bounded in bytes, so that a slow or
/// broken log never holds up a stream.
#[derive(Clone)]
struct Log {
    tx: mpsc::Sender<(Entry, usize)>,
    counts: Arc<LogCounts>,
    start: Instant,
    conn: Arc<str>,
}

/// What the forwarding threads and the writer share.
#[derive(Default)]
struct LogCounts {
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
    fn open(path: &Path, conn: String) -> (Log, thread::JoinHandle<()>) {
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

    fn send(&self, mut entry: Entry) {
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
    fn end(self, writer: thread::JoinHandle<()>) {
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

fn write_log(path: &Path, rx: &mpsc::Receiver<(Entry, usize)>, counts: &LogCounts) {
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
struct LogSink {
    file: Option<std::fs::File>,
    buf: Vec<u8>,
    text: Vec<u8>,
}

impl LogSink {
    fn write(&mut self, entry: &Entry) {
        self.text.clear();
        serde_json::to_writer(&mut self.text, entry).expect("a log entry serializes");
        self.text.push(b'\n');
        self.buf.extend_from_slice(&self.text);
        if self.buf.len() >= 64 * 1024 {
            self.flush();
        }
    }

    /// Says how many lines were dropped since the last time, if any.
    fn lost(&mut self, counts: &LogCounts, next: &Entry) {
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

    fn flush(&mut self) {
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

/// Follows the frames in one direction as the bytes go by, without holding the stream
/// up: headers, the first bytes of each payload (or all of it), and for the host's
/// replies the whole payload, to judge it as the browser would. The boundaries come from
/// the core's `FrameScanner`, not its `FrameDecoder`: the decoder hands out whole
/// payloads, and the tap lets the payload bytes it does not keep pass unread (spliced
/// to /dev/null).
struct Tracker {
    dir: Dir,
    browser: Browser,
    bodies: bool,
    log: Log,
    json: JsonDecoder,
    scanner: FrameScanner,
    payload: BytesMut,
}

impl Tracker {
    fn new(dir: Dir, browser: Browser, bodies: bool, log: Log) -> Tracker {
        // Judged as its reader reads it: the browser stops at a reply over 1 MiB; a host
        // may be sent anything a 32-bit length can say.
        let cap = match dir {
            Dir::ToBrowser => Limits::browser().inbound(),
            Dir::ToHost => Limits::host().inbound(),
        };
        Tracker {
            dir,
            browser,
            bodies,
            log,
            json: JsonDecoder::new(),
            scanner: FrameScanner::new(cap),
            payload: BytesMut::new(),
        }
    }

    /// Whether the whole payload is kept: the host's replies are judged whole.
    fn keeps_all(&self) -> bool {
        self.bodies || self.dir == Dir::ToBrowser
    }

    fn feed(&mut self, mut bytes: &[u8]) {
        while let Some(event) = self.scanner.next(&mut bytes) {
            match event {
                Scanned::Header { .. } => self.payload.clear(),
                Scanned::Payload(piece) => {
                    let keep = if self.keeps_all() {
                        piece.len()
                    } else {
                        piece.len().min(HEAD.saturating_sub(self.payload.len()))
                    };
                    self.payload.extend_from_slice(&piece[..keep]);
                }
                Scanned::End { at, len } => self.finish_frame(at, u64::from(len)),
                Scanned::TooLarge { at, len } => self.too_large(at, len, bytes),
                Scanned::Lost(_) => {}
            }
        }
    }

    /// A header the browser stops at (over 1 MiB from the host): logged with the bytes
    /// that follow it, often a line of text.
    fn too_large(&mut self, at: u64, len: u32, after: &[u8]) {
        let err = self
            .scanner
            .too_large()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let mut seen = (len).to_ne_bytes().to_vec();
        seen.extend_from_slice(&after[..after.len().min(HEAD - HEADER_LEN)]);
        self.log.send(Entry {
            offset: Some(at),
            len: Some(u64::from(len)),
            verdict: Some("fatal".into()),
            browser_says: Some(oversized(self.browser, u64::from(len))),
            head: Some(String::from_utf8_lossy(&seen).into_owned()),
            ..Entry::new("frame").dir(self.dir).why(format!(
                "{err}; {} closes the port and stops reading",
                self.browser
            ))
        });
    }

    fn finish_frame(&mut self, at: u64, len: u64) {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let mut entry = Entry {
            offset: Some(at),
            len: Some(len),
            ..Entry::new("frame").dir(self.dir)
        };
        if self.bodies {
            entry.body = Some(text(&self.payload));
        } else {
            entry.head = Some(text(&self.payload[..self.payload.len().min(HEAD)]));
        }
        // A good reply, the common case, is judged in place; only a bad one goes through
        // the browser's rules in full (which take the payload).
        let good = self.dir == Dir::ToBrowser
            && !self.payload.is_empty()
            && !self.payload.starts_with(b"\xef\xbb\xbf")
            && self.json.validate(&self.payload).is_ok();
        if good {
            entry.verdict = Some("ok".to_owned());
            self.payload.clear();
        } else if self.dir == Dir::ToBrowser {
            let payload = self.payload.split();
            let events = judge(self.browser, payload, at, &mut self.json, self.log.start);
            let (mut verdict, mut why, mut says) = ("ok", Vec::new(), None);
            for event in events {
                match event {
                    Event::Dropped(text) => {
                        verdict = "dropped";
                        why.push(text);
                    }
                    Event::Fatal {
                        browser_says,
                        diagnosis,
                    } => {
                        verdict = "fatal";
                        why.push(diagnosis);
                        says = Some(browser_says);
                        // The browser reads no further: neither does the tap.
                        self.scanner.lose();
                    }
                    _ => {}
                }
            }
            entry.verdict = Some(verdict.to_owned());
            entry.why = (!why.is_empty()).then(|| why.join("; "));
            entry.browser_says = says;
        }
        self.log.send(entry);
    }

    /// How many of the next bytes the tracker does not need to see: the rest of a payload
    /// whose first bytes it has, or everything once the browser has stopped reading.
    #[cfg(target_os = "linux")]
    fn skippable(&self) -> u64 {
        if self.scanner.is_lost() || (!self.keeps_all() && self.payload.len() >= HEAD) {
            self.scanner.payload_due()
        } else {
            0
        }
    }

    /// Passes over `n` bytes that [`skippable`](Self::skippable) allowed.
    #[cfg(target_os = "linux")]
    fn skip(&mut self, n: u64) {
        if let Some(Scanned::End { at, len }) = self.scanner.skip(n) {
            self.finish_frame(at, u64::from(len));
        }
    }

    /// The stream ended: at a boundary, or inside a frame.
    fn end(&mut self) {
        let cut = self.scanner.cut().map(|cut| match cut {
            Cut::InPayload { at, len, have } => format!(
                "the stream ended inside the frame at offset {at}: {have} of its {len} bytes arrived"
            ),
            Cut::InHeader { at, have } => format!(
                "the stream ended inside a header at offset {at}: {have} of 4 bytes arrived"
            ),
        });
        match cut {
            Some(why) => {
                let mut entry = Entry::new("cut").dir(self.dir).why(why);
                if self.dir == Dir::ToBrowser {
                    entry.browser_says = Some(match self.browser {
                        Browser::Firefox => "An unexpected error occurred".into(),
                        _ => CHROMIUM_SAYS.into(),
                    });
                }
                self.log.send(entry);
            }
            None => self.log.send(Entry::new("eof").dir(self.dir)),
        }
    }
}

/// What `forward` needs of its ends beyond reading and writing: a descriptor, for the
/// zero-copy path where there is one.
#[cfg(unix)]
trait Descriptor: std::os::fd::AsFd {}
#[cfg(unix)]
impl<T: std::os::fd::AsFd> Descriptor for T {}
#[cfg(not(unix))]
trait Descriptor {}
#[cfg(not(unix))]
impl<T> Descriptor for T {}

/// How a direction ended.
enum End {
    /// The source reached end of file.
    Eof,
    /// Reading the source failed.
    ReadFailed(io::Error),
    /// The destination takes no more: its reader is gone.
    WriteFailed(io::Error),
}

/// Copies `from` to `to` as bytes arrive, watching the frames go by.
///
/// Returns when `from` ends, or when `to` will take no more: then the rest of `from` is
/// read and thrown away when `drain` is set (so that the writer on the other side is not
/// blocked by a reader that is gone), or left unread.
fn forward(
    mut from: impl Read + Descriptor,
    mut to: impl Write + Descriptor,
    tracker: &mut Tracker,
    drain: bool,
) {
    #[cfg(target_os = "linux")]
    let end = match splice::forward(&from, &to, tracker) {
        Some(end) => end,
        None => copy(&mut from, &mut to, tracker),
    };
    #[cfg(not(target_os = "linux"))]
    let end = copy(&mut from, &mut to, tracker);
    match end {
        End::Eof => tracker.end(),
        End::ReadFailed(err) => tracker.log.send(
            Entry::new("closed")
                .dir(tracker.dir)
                .why(format!("reading failed: {err}")),
        ),
        End::WriteFailed(err) => {
            let who = match tracker.dir {
                Dir::ToHost => "the host stopped reading its stdin",
                Dir::ToBrowser => "the browser stopped reading the host's stdout",
            };
            tracker.log.send(
                Entry::new("closed")
                    .dir(tracker.dir)
                    .why(format!("{who}: {err}")),
            );
            if drain {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(1..) = from.read(&mut buf) {}
            }
        }
    }
}

/// The portable way: read into a buffer, write it out, show it to the tracker.
fn copy(from: &mut impl Read, to: &mut impl Write, tracker: &mut Tracker) -> End {
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return End::Eof,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return End::ReadFailed(err),
        };
        // As in the splice path: logged before passed on, so that the log reads in causal
        // order.
        tracker.feed(&buf[..n]);
        let written = to.write_all(&buf[..n]).and_then(|()| to.flush());
        if let Err(err) = written {
            return End::WriteFailed(err);
        }
    }
}

/// Pipe to pipe without copying (Linux): each chunk is duplicated into a side pipe with
/// tee(2), moved on with splice(2), and the tracker reads the side pipe, skipping (by
/// splicing to /dev/null) the payload bytes it does not keep. A browser and its host
/// always talk through pipes; anything else takes the copying path.
#[cfg(target_os = "linux")]
mod splice {
    use std::fs::File;
    use std::io::{self, Read};
    use std::os::fd::AsFd;

    use nix::errno::Errno;
    use nix::fcntl::{FcntlArg, SpliceFFlags, fcntl, splice, tee};

    use super::{End, Tracker};

    /// The side pipe's size, and so the most one round moves: the unprivileged maximum.
    const SIDE: usize = 1 << 20;

    /// `None` when `from` or `to` is not a pipe (nothing was moved).
    pub(super) fn forward(from: &impl AsFd, to: &impl AsFd, tracker: &mut Tracker) -> Option<End> {
        let (side_r, side_w) = nix::unistd::pipe().ok()?;
        let room = fcntl(&side_w, FcntlArg::F_SETPIPE_SZ(SIDE as i32))
            .map(|n| n as usize)
            .unwrap_or(64 * 1024);
        let null = File::options().write(true).open("/dev/null").ok()?;
        let mut side = File::from(side_r);
        let mut buf = vec![0u8; room];
        let mut first = true;
        loop {
            let n = match tee(from, &side_w, room, SpliceFFlags::empty()) {
                Ok(0) => return Some(End::Eof),
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                // Not a pipe, or a non-blocking one (inherited): the copying path takes
                // over, which waits that out; nothing was moved yet.
                Err(Errno::EINVAL | Errno::EAGAIN) if first => return None,
                Err(Errno::EAGAIN) => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    continue;
                }
                Err(err) => return Some(End::ReadFailed(err.into())),
            };
            first = false;
            // Logged before passed on, in both directions: what answers these bytes (the
            // other direction's thread logs it) can never come first in the log.
            see(&mut side, &null, &mut buf, n, tracker);
            let moved = move_all(from, to, n);
            if let Err(err) = moved {
                return Some(End::WriteFailed(err));
            }
        }
    }

    /// Splices exactly `n` bytes, which are waiting in `from`, into `to`.
    fn move_all(from: &impl AsFd, to: &impl AsFd, mut n: usize) -> io::Result<()> {
        while n > 0 {
            match splice(from, None, to, None, n, SpliceFFlags::SPLICE_F_MOVE) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(m) => n -= m,
                Err(Errno::EINTR) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }

    /// Shows the tracker the `n` bytes waiting in the side pipe, reading only those it
    /// keeps.
    fn see(side: &mut File, null: &File, buf: &mut [u8], mut n: usize, tracker: &mut Tracker) {
        while n > 0 {
            let skip = tracker.skippable().min(n as u64) as usize;
            if skip > 0 {
                match splice(&*side, None, null, None, skip, SpliceFFlags::SPLICE_F_MOVE) {
                    Ok(m) if m > 0 => {
                        tracker.skip(m as u64);
                        n -= m;
                    }
                    Err(Errno::EINTR) => {}
                    // /dev/null refusing a splice: read the bytes instead.
                    _ => {
                        let m = side.read(&mut buf[..skip]).unwrap_or(0);
                        tracker.skip(m as u64);
                        n -= m;
                        if m == 0 {
                            return;
                        }
                    }
                }
                continue;
            }
            let want = n.min(buf.len());
            match side.read(&mut buf[..want]) {
                Ok(m) if m > 0 => {
                    tracker.feed(&buf[..m]);
                    n -= m;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                _ => return,
            }
        }
    }
}

/// `nmframe tap --log FILE [--bodies] [--browser B] -- HOST [ARGS...]`.
pub(crate) fn cmd_tap(
    log_path: &Path,
    bodies: bool,
    browser: Option<Browser>,
    command: &[OsString],
) -> u8 {
    let Some((host, args)) = command.split_first() else {
        problem("tap needs the host to start, after --");
        return crate::USAGE;
    };
    let argv: Vec<String> = command
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let browser = match browser.unwrap_or(Caller::from_args(&argv).browser) {
        Browser::Unknown => Browser::Chromium,
        known => known,
    };
    let host_path = PathBuf::from(host);
    // The browser starts a host in the host's own directory; the tap, started in its
    // place, does the same for the real one.
    let cwd = host_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // Each connection is a tap process of its own, and several may share one log.
    let (log, log_writer) = Log::open(log_path, format!("{}@{unix_ms}", std::process::id()));
    log.send(Entry {
        browser: Some(browser.to_string()),
        argv: Some(argv),
        cwd: Some(cwd.display().to_string()),
        unix_ms: Some(unix_ms),
        ..Entry::new("start")
    });
    let code = tap(&log, &host_path, args, &cwd, browser, bodies);
    log.end(log_writer);
    code
}

fn tap(
    log: &Log,
    host: &Path,
    args: &[OsString],
    cwd: &Path,
    browser: Browser,
    bodies: bool,
) -> u8 {
    // The tap's own stdio as a host's: SIGPIPE ignored, the stdin pipe enlarged as hosts
    // on nmframe do (Firefox writes a pipe's worth at a time), and fd 1 guarded so that
    // dropping the writer is what closes the browser's pipe.
    let (stdin, stdout) = match HostStdio::new().open() {
        Ok(stdio) => stdio,
        Err(err) => {
            log.send(Entry::new("spawn_failed").why(format!("the tap's own stdio: {err}")));
            problem(&format!("tap: {err}"));
            return SETUP;
        }
    };
    let mut child = match Command::new(host)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) => {
            let why = format!("cannot start {}: {err}", host.display());
            log.send(Entry::new("spawn_failed").why(why.clone()));
            problem(&format!("tap: {why}"));
            return 127;
        }
    };
    let eof_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    // The browser closing its end is seen here too, not only by the forwarding thread,
    // which may be stuck writing to a host that stopped reading.
    let watch = stdin.as_file().try_clone().ok();
    let to_host = {
        let mut tracker = Tracker::new(Dir::ToHost, browser, bodies, log.clone());
        let host_stdin = child.stdin.take().expect("piped");
        let eof_at = Arc::clone(&eof_at);
        thread::spawn(move || {
            forward(stdin, host_stdin, &mut tracker, true);
            // The host's stdin is closed now (dropped): the browser has disconnected, or
            // the host stopped reading.
            eof_at
                .lock()
                .expect("eof lock")
                .get_or_insert_with(Instant::now);
        })
    };
    let to_browser = {
        let mut tracker = Tracker::new(Dir::ToBrowser, browser, bodies, log.clone());
        let host_stdout = child.stdout.take().expect("piped");
        thread::spawn(move || forward(host_stdout, stdout, &mut tracker, false))
    };
    let stderr = {
        let host_stderr = child.stderr.take().expect("piped");
        let log = log.clone();
        thread::spawn(move || relay_stderr(host_stderr, &log))
    };
    drop(to_host);
    let status = wait_for_host(
        &mut child,
        &eof_at,
        watch.as_ref(),
        &to_browser,
        browser,
        log,
    );
    // The host is gone; its stdout ends with it, unless a child of its holds it open.
    let deadline = Instant::now() + Duration::from_secs(1);
    while !(to_browser.is_finished() && stderr.is_finished()) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(2));
    }
    let after_eof_ms = eof_at
        .lock()
        .expect("eof lock")
        .map(|at| at.elapsed().as_millis() as u64);
    let mut entry = Entry {
        after_eof_ms,
        ..Entry::new("exit")
    };
    let code = match status {
        Some(status) => {
            entry.code = status.code();
            entry.signal = signal_of(status);
            exit_code(status)
        }
        None => MISBEHAVED,
    };
    log.send(entry);
    code
}

/// Waits for the host to exit. Once the browser has closed the host's stdin (seen on
/// `watch`, the tap's own stdin, or by the forwarding thread), the host has the
/// browser's grace period, then it is killed as the browser would kill it.
fn wait_for_host(
    child: &mut Child,
    eof_at: &Mutex<Option<Instant>>,
    watch: Option<&std::fs::File>,
    to_browser: &thread::JoinHandle<()>,
    browser: Browser,
    log: &Log,
) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(_) => return None,
        }
        let since_eof = {
            let mut at = eof_at.lock().expect("eof lock");
            if at.is_none() && watch.is_some_and(hung_up) {
                *at = Some(Instant::now());
            }
            at.map(|at| at.elapsed())
        };
        if since_eof.is_some_and(|d| d > EXIT_GRACE) {
            log.send(Entry::new("killed").why(format!(
                "the host was still running {:.1} s after its stdin closed; {browser} kills it \
                 then (Chromium SIGKILL at 2 s, Firefox SIGTERM at about 3 s): so does the tap",
                EXIT_GRACE.as_secs_f64()
            )));
            let _ = child.kill();
            return child.wait().ok();
        }
        // Once either stream has ended the exit is near, and the browser times it: look
        // often. Before, a long session should not cost hundreds of wake-ups a second.
        let soon = since_eof.is_some() || to_browser.is_finished();
        thread::sleep(Duration::from_millis(if soon { 2 } else { 25 }));
    }
}

/// Whether the writer of `input` (the browser, for the tap's stdin) has closed its end,
/// whatever is still buffered in it.
#[cfg(unix)]
fn hung_up(input: &std::fs::File) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let mut fds = [PollFd::new(input.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(1..))
        && fds[0]
            .revents()
            .is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR))
}

/// Windows has no readiness for anonymous pipes: the forwarding thread tells.
#[cfg(not(unix))]
fn hung_up(_input: &std::fs::File) -> bool {
    false
}

/// Copies the host's stderr to the tap's (the browser logs it) and logs each line.
fn relay_stderr(stderr: impl Read, log: &Log) {
    let mut reader = io::BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let _ = io::stderr().write_all(&line);
                let text = String::from_utf8_lossy(&line);
                log.send(Entry {
                    line: Some(text.trim_end_matches(['\n', '\r']).to_owned()),
                    ..Entry::new("stderr")
                });
            }
        }
    }
}

fn signal_of(status: ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

/// The host's exit code, passed on; a signal as a shell reports it (128 + N).
fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), signal_of(status)) {
        (Some(code), _) => code as u8,
        (None, Some(signal)) => (128 + signal) as u8,
        (None, None) => MISBEHAVED,
    }
}
