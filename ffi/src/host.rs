//! `nmf_host`: the common case, a host on its own stdin and stdout.

use std::ffi::{CStr, c_char, c_int};

use bytes::{Bytes, BytesMut};
use nmframe::chunked::{ChunkOptions, Chunked};
use nmframe::{Caller, Error, FrameReader, FrameWriter, HostStdin, HostStdio, Limits, Outbound};

use crate::caller::{CallerStrings, nmf_caller};
use crate::handle::{Handle, free_handle, last_error_of, new_handle, with_handle};
use crate::nmf_status::{self, *};
use crate::{LastError, size_t};

/// `nmf_host_new` flag: ask for the stdout guard explicitly (it is on by default). The
/// guard moves the real stdout to a private descriptor and points descriptor 1 at
/// stderr (on Windows, the standard output handle and the C runtime's descriptor 1), so
/// that a stray `printf` (or a library's banner) lands in the browser's log instead of
/// corrupting the stream.
pub const NMF_HOST_GUARD_STDOUT: u32 = 1;

/// `nmf_host_new` flag: leave descriptor 1 as it is (no stdout guard), for a host that
/// controls everything it links and wants its stdout untouched. Not with
/// `NMF_HOST_GUARD_STDOUT`.
pub const NMF_HOST_NO_GUARD_STDOUT: u32 = 4;

/// `nmf_host_new` flag: write replies on a thread of the library's own, so that reading
/// and checking the next messages overlaps writing the last replies (worth it with a
/// second core). `nmf_host_queue` and `nmf_host_send` still check and copy the message
/// before they return (the buffer is the caller's again at once); a send or flush hands
/// the queue over without waiting for the write. A reply to a lone message (nothing
/// else received and unanswered, nothing waiting in stdin) is written by the calling
/// thread when the writer thread is idle, up to 64 KiB: it would only wait for the
/// thread's wake-up. A failed write stops the thread:
/// every later call returns its status (`NMF_DISCONNECTED` when the browser went away).
/// `nmf_host_free` waits until every reply handed over is written.
pub const NMF_HOST_WRITER_THREAD: u32 = 2;

/// `nmf_host_new` flag: messages of any size, in both directions, through nmframe's
/// chunked envelope (docs/CHUNKING.md; the extension uses the JavaScript package
/// `nmframe-port`). `nmf_host_recv` returns whole messages, reassembled when the
/// extension sent them in parts (limits: `nmf_host_set_chunking`), or
/// `NMF_TRANSFER_FAILED` for one that failed (the stream goes on). `nmf_host_send` and
/// `nmf_host_queue` take messages of any size: one over 1 MiB leaves in parts, waiting
/// for the extension's acknowledgements so that at most a window of parts is in
/// flight; the messages that arrive meanwhile are kept for `nmf_host_recv`.
pub const NMF_HOST_CHUNKED: u32 = 8;

/// The flags `nmf_host_new` knows.
const KNOWN_FLAGS: u32 =
    NMF_HOST_GUARD_STDOUT | NMF_HOST_WRITER_THREAD | NMF_HOST_NO_GUARD_STDOUT | NMF_HOST_CHUNKED;

/// Where replies go: written by the calling thread (a `FrameWriter`), or by the host's
/// writer thread (a `WriterThread`), chosen by `nmf_host_new`'s flags.
type Writer = Box<dyn Outbound>;

/// The host's streams: frames as they come, or whole messages of any size.
#[allow(
    clippy::large_enum_variant,
    reason = "one per host, inside the boxed nmf_host; the chunked state is boxed already"
)]
pub(crate) enum Io {
    Plain {
        reader: FrameReader<HostStdin>,
        writer: Writer,
    },
    Chunked(Box<Chunked<HostStdin, Writer>>),
}

impl Io {
    pub(crate) fn writer(&mut self) -> &mut Writer {
        match self {
            Io::Plain { writer, .. } => writer,
            Io::Chunked(c) => c.writer_mut(),
        }
    }

    fn send(&mut self, payload: &[u8]) -> nmframe::Result<()> {
        match self {
            Io::Plain { writer, .. } => writer.send(payload),
            Io::Chunked(c) => c.send_json(payload),
        }
    }

    fn queue(&mut self, payload: &[u8]) -> nmframe::Result<()> {
        match self {
            Io::Plain { writer, .. } => writer.queue(payload),
            Io::Chunked(c) => c.queue_json(payload),
        }
    }
}

/// A native-messaging host on the process's stdin and stdout.
pub struct nmf_host {
    pub(crate) io: Io,
    /// The frame last handed out by `nmf_host_recv`.
    pub(crate) current: Option<BytesMut>,
    /// The frames last handed out by `nmf_host_recv_batch` (kept, and their storage
    /// reused, until the next receive).
    pub(crate) batch: Vec<BytesMut>,
    /// Received frames queued by `nmf_host_queue_view` without a copy: shared with the
    /// writer from then on, and kept here so that the caller's views stay readable
    /// until the next receive.
    pub(crate) kept: Vec<Bytes>,
    /// A failure met after the first message of a batch: returned by the next receive,
    /// so that the messages before it are delivered first.
    pub(crate) held: Option<Error>,
    caller: CallerStrings,
    pub(crate) last_error: LastError,
}

impl nmf_host {
    /// Lets go of the frames handed out by the last receive (their views end here).
    pub(crate) fn forget_received(&mut self) {
        self.current = None;
        self.batch.clear();
        self.kept.clear();
    }

    /// Tells the writer that the caller has caught up with its input, when it has: at
    /// most one received message in hand, nothing buffered, nothing in the pipe. A lone
    /// reply of up to 64 KiB is then written by the caller's thread rather than handed
    /// to the writer thread (see `Outbound::caught_up`). Asked only for large replies,
    /// since it costs a `poll`: smaller ones are written inline whenever the thread is
    /// idle.
    fn note_caught_up(&mut self) {
        if let Io::Plain { reader, writer } = &mut self.io
            && writer.heeds_caught_up()
            && self.batch.len() <= 1
            && !reader.input_waiting()
        {
            writer.caught_up();
        }
    }

    /// The received frame that the `len` bytes at address `start` lie in, shared and
    /// cut to them: see [`share_received`].
    fn received(&mut self, start: usize, len: usize) -> Option<Bytes> {
        let frames = self.current.iter_mut().chain(self.batch.iter_mut());
        share_received(&mut self.kept, frames, start, len)
    }
}

/// The frame, among those `kept` (shared already) and the `received` ones, that the
/// `len` bytes at address `start` lie wholly in, shared (a reference count) and cut to
/// them; `None` when they are not within one. A received frame is frozen into `kept`
/// the first time one of its views is shared: from then on a writer may read it at any
/// moment, and the caller has promised not to write to it.
pub(crate) fn share_received<'a>(
    kept: &mut Vec<Bytes>,
    mut received: impl Iterator<Item = &'a mut BytesMut>,
    start: usize,
    len: usize,
) -> Option<Bytes> {
    // Where the view begins within `frame`, when it lies wholly inside it.
    let offset_in = |frame: &[u8]| {
        let offset = start.checked_sub(frame.as_ptr() as usize)?;
        (offset <= frame.len() && len <= frame.len() - offset).then_some(offset)
    };
    if len == 0 {
        return None;
    }
    for frame in kept.iter() {
        if let Some(offset) = offset_in(frame) {
            return Some(frame.slice(offset..offset + len));
        }
    }
    let (frame, offset) = received.find_map(|f| offset_in(f).map(|offset| (f, offset)))?;
    let frozen = std::mem::take(frame).freeze();
    let view = frozen.slice(offset..offset + len);
    kept.push(frozen);
    Some(view)
}

impl Handle for nmf_host {
    fn last_error(&self) -> &LastError {
        &self.last_error
    }
    fn last_error_mut(&mut self) -> &mut LastError {
        &mut self.last_error
    }
}

/// Takes over the process's stdin and stdout as a native-messaging host.
///
/// - `argc`/`argv`: `main`'s arguments, parsed for the caller's identity (see
///   `nmf_host_caller`). With `argv` NULL the process's own command line is read.
/// - `flags`: 0 for the defaults, or `NMF_HOST_WRITER_THREAD`, and either
///   `NMF_HOST_NO_GUARD_STDOUT` or `NMF_HOST_GUARD_STDOUT`, joined with `|`. By default
///   the stdout guard is on, as in every binding.
/// - `max_inbound`: cap on messages read, 0 for the protocol's 4 GiB − 1 (Chromium
///   sends at most 64 MiB).
///
/// It also ignores `SIGPIPE` for the whole process, so that a browser that went away
/// is `NMF_DISCONNECTED` from `nmf_host_send` rather than a killed process; on Linux it
/// enlarges the stdin pipe to 1 MiB when it can (Firefox writes large messages much
/// faster then); opens descriptor 2 on `/dev/null` when it is closed; and waits out
/// `EAGAIN` when stdin or stdout was inherited non-blocking. On Windows it puts stdin
/// and stdout in binary mode. When stdin or stdout
/// is not open it returns `NMF_IO` and says which on stderr. Unknown flags, or both
/// guard flags, are `NMF_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `argv` is NULL, or an array of `argc` pointers to NUL-terminated strings; `out` is
/// valid for a write of one pointer. Free the host with `nmf_host_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_new(
    argc: c_int,
    argv: *const *const c_char,
    flags: u32,
    max_inbound: u32,
    out: *mut *mut nmf_host,
) -> nmf_status {
    let make = || {
        let guard_flags = NMF_HOST_GUARD_STDOUT | NMF_HOST_NO_GUARD_STDOUT;
        if flags & !KNOWN_FLAGS != 0 || flags & guard_flags == guard_flags {
            return Err(NMF_INVALID_ARGUMENT);
        }
        let caller = if argv.is_null() {
            Caller::from_env()
        } else {
            let Ok(argc) = usize::try_from(argc) else {
                return Err(NMF_INVALID_ARGUMENT);
            };
            // SAFETY: `argv` holds `argc` pointers by the caller's contract.
            let argv = unsafe { std::slice::from_raw_parts(argv, argc) };
            if argv.iter().any(|a| a.is_null()) {
                return Err(NMF_INVALID_ARGUMENT);
            }
            // SAFETY: each is a NUL-terminated string by the caller's contract.
            Caller::from_args(
                argv.iter()
                    .map(|&a| unsafe { CStr::from_ptr(a) }.to_string_lossy()),
            )
        };
        let mut setup = HostStdio::new();
        if flags & NMF_HOST_GUARD_STDOUT != 0 {
            setup = setup.guard_stdout(true);
        } else if flags & NMF_HOST_NO_GUARD_STDOUT != 0 {
            setup = setup.guard_stdout(false);
        }
        let (stdin, stdout) = match setup.open() {
            Ok(pair) => pair,
            Err(err) => {
                // There is no host yet to keep the message on: stderr is where the
                // browser's log is (and it is open: the set-up makes sure of that).
                eprint_quietly(&format!("nmf_host_new: {err}"));
                return Err(NMF_IO);
            }
        };
        let mut limits = Limits::host();
        if max_inbound != 0 {
            limits = limits.with_max_inbound(max_inbound);
        }
        let writer = FrameWriter::new(stdout, limits);
        // The chunked endpoint checks each message once itself, and builds its parts,
        // acknowledgements and aborts valid: the writer would check them all again.
        let writer = if flags & NMF_HOST_CHUNKED != 0 {
            writer
        } else {
            writer.validate_json()
        };
        let writer = if flags & NMF_HOST_WRITER_THREAD != 0 {
            match writer.spawn_thread() {
                Ok(thread) => Box::new(thread) as Writer,
                Err(_) => return Err(NMF_IO),
            }
        } else {
            Box::new(writer)
        };
        let reader = FrameReader::new(stdin, limits);
        let io = if flags & NMF_HOST_CHUNKED != 0 {
            Io::Chunked(Box::new(Chunked::new(
                reader,
                writer,
                ChunkOptions::default(),
            )))
        } else {
            Io::Plain { reader, writer }
        };
        Ok(nmf_host {
            io,
            current: None,
            batch: Vec::new(),
            kept: Vec::new(),
            held: None,
            caller: CallerStrings::new(caller),
            last_error: LastError::default(),
        })
    };
    // SAFETY: the caller's contract on `out`.
    unsafe { new_handle(out, make) }
}

/// Frees the host, closing its copies of stdin and stdout. NULL does nothing.
///
/// # Safety
///
/// `host` is NULL or a host from `nmf_host_new` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_free(host: *mut nmf_host) {
    // SAFETY: the caller's contract on `host`.
    unsafe { free_handle(host) }
}

/// Who started the host. Always succeeds on a live host.
///
/// # Safety
///
/// `host` is a live host; `out` is valid for a write of one `nmf_caller`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_caller(host: *mut nmf_host, out: *mut nmf_caller) -> nmf_status {
    let body = |h: &mut nmf_host| {
        if out.is_null() {
            return NMF_INVALID_ARGUMENT;
        }
        // SAFETY: non-NULL (checked above) and valid for a write by the caller's contract.
        unsafe { out.write(h.caller.view()) };
        NMF_OK
    };
    // SAFETY: the caller's contract on `host`.
    unsafe { with_handle(host, body) }
}

/// Sends one message: checks that it is non-empty, at most 1 MiB and valid UTF-8
/// JSON, then writes header and payload (after anything queued) in one vectored write,
/// retrying on `EINTR` and partial writes, and flushes (with `NMF_HOST_WRITER_THREAD`:
/// copies it and hands it, after anything queued, to the writer thread). On `NMF_EMPTY_FRAME`,
/// `NMF_FRAME_TOO_LARGE`, `NMF_INVALID_UTF8` or `NMF_INVALID_JSON` nothing was written
/// and the host can go on. `NMF_DISCONNECTED`: the browser went away.
///
/// # Safety
///
/// `host` is a live host; `json` is NULL with `len` 0, or valid for reads of `len`
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_send(
    host: *mut nmf_host,
    json: *const u8,
    len: size_t,
) -> nmf_status {
    // SAFETY: the caller's contract on `host` and `json`.
    unsafe { write_message(host, json, len, Io::send) }
}

/// Like `nmf_host_send`, but keeps the message in the host's queue (copied) until
/// `nmf_host_flush` or the next send: a host that answers a burst writes all replies
/// at once. Refusals leave the queue as it was.
///
/// # Safety
///
/// As for `nmf_host_send`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_queue(
    host: *mut nmf_host,
    json: *const u8,
    len: size_t,
) -> nmf_status {
    // SAFETY: the caller's contract on `host` and `json`.
    unsafe { write_message(host, json, len, Io::queue) }
}

/// The size from which `nmf_host_queue_view` shares a received frame rather than copy
/// it: where `Outbound::queue_frame` stops copying.
const SHARE_FROM: usize = 16 * 1024;

/// Like `nmf_host_queue`, for a message this host received: `json` is a view from the
/// last `nmf_host_recv` or `nmf_host_recv_batch`, or a part of one. A large message
/// (16 KiB or more) is queued without a copy: the host shares the received buffer with
/// the writer until it is written, and hands anything queued before it to the writer at
/// once. So an echo or a forwarder copies nothing. Once this returns `NMF_OK`, the caller
/// must not write to that view (it stays readable until the next receive, as before).
/// Bytes that are not such a view are copied, as `nmf_host_queue` does; so are messages
/// of a `NMF_HOST_CHUNKED` host. Refusals as for `nmf_host_send`, with nothing queued.
///
/// # Safety
///
/// As for `nmf_host_send`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_queue_view(
    host: *mut nmf_host,
    json: *const u8,
    len: size_t,
) -> nmf_status {
    let body = |h: &mut nmf_host| {
        // SAFETY: the caller's contract on `json`.
        let json = unsafe { crate::slice(json, len) };
        let Some(json) = json else {
            return NMF_INVALID_ARGUMENT;
        };
        // Below SHARE_FROM the writer copies a frame into its batch anyway: sharing it
        // would only keep the reader from reusing its buffer.
        let plain = matches!(h.io, Io::Plain { .. });
        let shared = if plain && json.len() >= SHARE_FROM {
            h.received(json.as_ptr() as usize, json.len())
        } else {
            None
        };
        let queued = match shared {
            Some(frame) => {
                h.note_caught_up();
                h.io.writer().queue_frame(&frame)
            }
            None => h.io.queue(json),
        };
        match queued {
            Ok(()) => NMF_OK,
            Err(err) => h.last_error.fail(&err),
        }
    };
    // SAFETY: the caller's contract on `host`.
    unsafe { with_handle(host, body) }
}

/// The body of `nmf_host_send` and `nmf_host_queue`: `write` is one of the two.
///
/// # Safety
///
/// As for `nmf_host_send`.
unsafe fn write_message(
    host: *mut nmf_host,
    json: *const u8,
    len: size_t,
    write: fn(&mut Io, &[u8]) -> nmframe::Result<()>,
) -> nmf_status {
    let body = |h: &mut nmf_host| {
        // SAFETY: the caller's contract on `json`.
        let json = unsafe { crate::slice(json, len) };
        let Some(json) = json else {
            return NMF_INVALID_ARGUMENT;
        };
        match write(&mut h.io, json) {
            Ok(()) => NMF_OK,
            Err(err) => h.last_error.fail(&err),
        }
    };
    // SAFETY: the caller's contract on `host`.
    unsafe { with_handle(host, body) }
}

/// Writes every queued message and flushes.
///
/// # Safety
///
/// `host` is a live host.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_flush(host: *mut nmf_host) -> nmf_status {
    let body = |h: &mut nmf_host| {
        if h.io.writer().queued() >= SHARE_FROM {
            h.note_caught_up();
        }
        match h.io.writer().flush() {
            Ok(()) => NMF_OK,
            Err(err) => h.last_error.fail(&err),
        }
    };
    // SAFETY: the caller's contract on `host`.
    unsafe { with_handle(host, body) }
}

/// The limits of a `NMF_HOST_CHUNKED` host, 0 for each default: the largest message
/// reassembled (`max_bytes`, default 1 GiB), the most messages reassembled at once
/// (`max_in_flight`, 16), the longest silence within one message (`timeout_ms`, 30000),
/// and the parts sent before waiting for the extension's acknowledgement (`window`, 8).
/// A message over a limit is `NMF_TRANSFER_FAILED` from `nmf_host_recv`, and the
/// extension is told. `NMF_INVALID_ARGUMENT` on a host made without `NMF_HOST_CHUNKED`.
/// The limits of `nmf_host_set_chunk_budget` are kept.
///
/// # Safety
///
/// `host` is a live host.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_set_chunking(
    host: *mut nmf_host,
    max_bytes: u64,
    max_in_flight: u32,
    timeout_ms: u32,
    window: u32,
) -> nmf_status {
    let change = |options: &mut ChunkOptions, defaults: ChunkOptions| {
        options.max_bytes = or_default(max_bytes, defaults.max_bytes);
        options.max_in_flight = match max_in_flight {
            0 => defaults.max_in_flight,
            n => n as usize,
        };
        options.timeout = or_default_ms(timeout_ms, defaults.timeout);
        options.window = if window == 0 { defaults.window } else { window };
    };
    // SAFETY: the caller's contract on `host`.
    unsafe { change_chunking(host, change) }
}

/// The bounds of a `NMF_HOST_CHUNKED` host against an extension that sends much or
/// answers little, 0 for each default: the most memory all incoming messages may hold
/// together (`max_buffered`, default 1 GiB: those being reassembled, and those kept
/// while a send waits for an acknowledgement), and how long a send waits for an
/// acknowledgement (`ack_timeout_ms`, 30000). A send past either is given up: the
/// extension is told, and `nmf_host_send` returns `NMF_TRANSFER_FAILED` (the stream goes
/// on; what arrived meanwhile comes from `nmf_host_recv`). `NMF_INVALID_ARGUMENT` on a
/// host made without `NMF_HOST_CHUNKED`. The limits of `nmf_host_set_chunking` are kept.
///
/// # Safety
///
/// `host` is a live host.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_set_chunk_budget(
    host: *mut nmf_host,
    max_buffered: u64,
    ack_timeout_ms: u32,
) -> nmf_status {
    let change = |options: &mut ChunkOptions, defaults: ChunkOptions| {
        options.max_buffered = or_default(max_buffered, defaults.max_buffered);
        options.ack_timeout = or_default_ms(ack_timeout_ms, defaults.ack_timeout);
    };
    // SAFETY: the caller's contract on `host`.
    unsafe { change_chunking(host, change) }
}

/// Applies `change` (given the defaults) to a chunked host's options, keeping the rest;
/// `NMF_INVALID_ARGUMENT` on a host made without `NMF_HOST_CHUNKED`.
///
/// # Safety
///
/// `host` is NULL or a live host.
unsafe fn change_chunking(
    host: *mut nmf_host,
    change: impl FnOnce(&mut ChunkOptions, ChunkOptions),
) -> nmf_status {
    let body = |h: &mut nmf_host| {
        let Io::Chunked(c) = &mut h.io else {
            return NMF_INVALID_ARGUMENT;
        };
        let mut options = c.options().clone();
        change(&mut options, ChunkOptions::default());
        c.set_options(options);
        NMF_OK
    };
    // SAFETY: the caller's contract on `host`.
    unsafe { with_handle(host, body) }
}

/// A size from C: 0 for the default, and at most what this machine can address.
fn or_default(bytes: u64, default: usize) -> usize {
    match bytes {
        0 => default,
        n => usize::try_from(n).unwrap_or(usize::MAX),
    }
}

/// A time in milliseconds from C: 0 for the default.
fn or_default_ms(ms: u32, default: std::time::Duration) -> std::time::Duration {
    match ms {
        0 => default,
        n => std::time::Duration::from_millis(u64::from(n)),
    }
}

/// The last failure on this host, with its numbers; valid until the next call on it.
/// Empty when the last call succeeded.
///
/// # Safety
///
/// `host` is NULL (an empty string is returned) or a live host.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_host_last_error(host: *const nmf_host) -> *const c_char {
    // SAFETY: the caller's contract on `host`.
    unsafe { last_error_of(host) }
}

/// Writes `line` to stderr, ignoring failure: a diagnostic must never be what stops a
/// host, nor panic across the C ABI.
fn eprint_quietly(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
