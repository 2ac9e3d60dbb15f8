//! Messages of any size: nmframe's chunked envelope (version 1, `docs/CHUNKING.md`), the
//! host side of what the JavaScript package `nmframe-port` speaks in the extension.
//!
//! A host may send the browser at most 1 MiB per message. A larger message travels as
//! *parts*, each a JSON object whose first member is `"$nmframe"`, carrying a piece of
//! the message's text, then an *end* frame with its length and CRC-32; the receiver
//! reassembles it and checks both. Smaller messages travel as they are, so a peer that
//! never sends large ones sees nothing new.
//!
//! [`Chunked`] is a host's endpoint: [`recv`](Chunked::recv) returns whole messages
//! (plain or reassembled, with the receiver limits of [`ChunkOptions`]) and the
//! transfers that failed, and [`send_json`](Chunked::send_json) /
//! [`send`](Chunked::send) send messages of any size, waiting for the extension's
//! acknowledgements so that no more than a window of parts is in flight. The pieces it
//! is made of, [`Parts`] and [`Reassembler`], are sans-IO.
//!
//! ```no_run
//! use nmframe::chunked::{Chunked, ChunkOptions, Incoming};
//!
//! fn main() -> Result<(), nmframe::Error> {
//!     let mut host = Chunked::stdio(ChunkOptions::default())?;
//!     while let Some(incoming) = host.recv()? {
//!         match incoming {
//!             // Any size: a 40 MiB reply leaves as 40-odd parts.
//!             Incoming::Message(request) => host.send_json(&request)?,
//!             // One transfer failed (with its numbers); the others go on.
//!             Incoming::Failed(err) => eprintln!("host: {err}"),
//!         }
//!     }
//!     Ok(())
//! }
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::io::{FrameReader, FrameWriter};
use crate::json::JsonDecoder;
use crate::limits::Limits;
use crate::stdio::{HostStdin, HostStdout};

/// The member whose presence first in an object marks an envelope frame.
pub const KEY: &str = "$nmframe";
/// The envelope's version.
pub const VERSION: u32 = 1;

/// Room for a part's members other than `data`: the longest (part 0, with `total` and
/// `window`) is under 110 bytes.
const PART_OVERHEAD: usize = 128;

/// How [`Chunked`] and [`Reassembler`] receive, and how [`Chunked`] sends.
#[derive(Clone, Debug)]
pub struct ChunkOptions {
    /// The largest message reassembled, in bytes of its text (default 1 GiB).
    pub max_bytes: usize,
    /// The most messages reassembled at once (default 16).
    pub max_in_flight: usize,
    /// The longest silence within one message (default 30 s). Checked as frames
    /// arrive: a blocking host holds a silent peer's partial message until the next one.
    pub timeout: Duration,
    /// Parts sent before waiting for the extension's acknowledgement; 0 for none
    /// (default 8: with 1 MiB parts, 8 MiB in flight).
    pub window: u32,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        ChunkOptions {
            max_bytes: 1 << 30,
            max_in_flight: 16,
            timeout: Duration::from_secs(30),
            window: 8,
        }
    }
}

/// What went wrong with one message; the stream goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferCode {
    /// The message grew past [`ChunkOptions::max_bytes`].
    TooLarge,
    /// More messages in flight than [`ChunkOptions::max_in_flight`].
    TooMany,
    /// No part for longer than [`ChunkOptions::timeout`].
    Timeout,
    /// An envelope frame without its members, of another version, or a reassembled text
    /// that is not JSON.
    Malformed,
    /// A part other than the next one.
    OutOfOrder,
    /// The end frame's part count or byte count differs from what arrived.
    Length,
    /// The end frame's CRC-32 differs from that of what arrived.
    Checksum,
    /// The peer gave the message up (`abort`).
    Aborted,
}

impl TransferCode {
    /// The code's name in the protocol and the JavaScript package (`"too-large"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TransferCode::TooLarge => "too-large",
            TransferCode::TooMany => "too-many",
            TransferCode::Timeout => "timeout",
            TransferCode::Malformed => "malformed",
            TransferCode::OutOfOrder => "out-of-order",
            TransferCode::Length => "length",
            TransferCode::Checksum => "checksum",
            TransferCode::Aborted => "aborted",
        }
    }
}

/// A message that did not arrive, or that the peer refused: the code, the message's id
/// when known, and a sentence with the numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferError {
    code: TransferCode,
    id: Option<u32>,
    text: String,
}

impl TransferError {
    fn new(code: TransferCode, id: Option<u32>, text: String) -> Self {
        TransferError { code, id, text }
    }

    /// What went wrong.
    pub fn code(&self) -> TransferCode {
        self.code
    }

    /// The message's id, when the frame that failed had one.
    pub fn id(&self) -> Option<u32> {
        self.id
    }
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.text, self.code.as_str())
    }
}

impl std::error::Error for TransferError {}

/// Whether `frame` is an envelope frame: a JSON object whose first member is
/// `"$nmframe"` (JSON whitespace allowed). Decided from its first bytes.
pub fn is_envelope(frame: &[u8]) -> bool {
    let mut rest = frame;
    let skip = |rest: &mut &[u8]| {
        while let [b' ' | b'\t' | b'\n' | b'\r', tail @ ..] = *rest {
            *rest = tail;
        }
    };
    skip(&mut rest);
    let Some(tail) = rest.strip_prefix(b"{") else {
        return false;
    };
    rest = tail;
    skip(&mut rest);
    let Some(tail) = rest.strip_prefix(b"\"$nmframe\"") else {
        return false;
    };
    rest = tail;
    skip(&mut rest);
    rest.first() == Some(&b':')
}

/// What each byte of a message's text costs inside a JSON string as [`Parts`] writes it:
/// 1, 2 for `"`, `\` and the short escapes, 6 for other control characters.
const COST: [u8; 256] = {
    let mut cost = [1u8; 256];
    let mut b = 0;
    while b < 0x20 {
        cost[b] = 6;
        b += 1;
    }
    cost[b'\n' as usize] = 2;
    cost[b'\r' as usize] = 2;
    cost[b'\t' as usize] = 2;
    cost[0x08] = 2;
    cost[0x0c] = 2;
    cost[b'"' as usize] = 2;
    cost[b'\\' as usize] = 2;
    cost
};

fn escape_into(dst: &mut Vec<u8>, piece: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &b) in piece.iter().enumerate() {
        if COST[usize::from(b)] == 1 {
            continue;
        }
        dst.extend_from_slice(&piece[start..i]);
        start = i + 1;
        match b {
            b'"' => dst.extend_from_slice(b"\\\""),
            b'\\' => dst.extend_from_slice(b"\\\\"),
            b'\n' => dst.extend_from_slice(b"\\n"),
            b'\r' => dst.extend_from_slice(b"\\r"),
            b'\t' => dst.extend_from_slice(b"\\t"),
            0x08 => dst.extend_from_slice(b"\\b"),
            0x0c => dst.extend_from_slice(b"\\f"),
            _ => dst.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]),
        }
    }
    dst.extend_from_slice(&piece[start..]);
}

/// The frames one large message is sent as: parts, then the end frame. Sans-IO: each
/// call to [`next_frame`](Self::next_frame) writes one frame's payload into a buffer
/// the caller reuses, so sending holds the message once plus one frame.
#[derive(Debug)]
pub struct Parts<'a> {
    id: u32,
    text: &'a [u8],
    pos: usize,
    seq: u64,
    crc: crc32fast::Hasher,
    window: u32,
    budget: usize,
    done: bool,
}

impl<'a> Parts<'a> {
    /// The parts of `text` (the message's JSON text, valid UTF-8: the caller checks it)
    /// as message `id`, each frame at most `max_frame` bytes, asking for
    /// acknowledgements every `window` parts (0: none).
    ///
    /// # Panics
    ///
    /// If `max_frame` leaves no room for data (under 256 bytes).
    pub fn new(id: u32, text: &'a [u8], max_frame: usize, window: u32) -> Self {
        assert!(
            max_frame >= 256,
            "a {max_frame}-byte frame leaves no room for data"
        );
        Parts {
            id,
            text,
            pos: 0,
            seq: 0,
            crc: crc32fast::Hasher::new(),
            window,
            budget: max_frame - PART_OVERHEAD,
            done: false,
        }
    }

    /// How many parts have been written so far.
    pub fn parts_written(&self) -> u64 {
        self.seq
    }

    /// Writes the next frame's payload into `dst` (cleared first); `false` when every
    /// frame, the end frame included, has been written.
    pub fn next_frame(&mut self, dst: &mut Vec<u8>) -> bool {
        dst.clear();
        if self.done {
            return false;
        }
        if self.pos == self.text.len() && self.seq > 0 {
            let crc = self.crc.clone().finalize();
            let _ = write!(
                dst,
                r#"{{"{KEY}":{VERSION},"t":"end","id":{},"seq":{},"bytes":{},"crc32":{crc}}}"#,
                self.id,
                self.seq,
                self.text.len()
            );
            self.done = true;
            return true;
        }
        let _ = write!(
            dst,
            r#"{{"{KEY}":{VERSION},"t":"part","id":{},"seq":{}"#,
            self.id, self.seq
        );
        if self.seq == 0 {
            let _ = write!(dst, r#","total":{}"#, self.text.len());
            if self.window > 0 {
                let _ = write!(dst, r#","window":{}"#, self.window);
            }
        }
        dst.extend_from_slice(br#","data":""#);
        // The longest run of whole UTF-8 sequences whose escaped form fits the budget.
        let rest = &self.text[self.pos..];
        let mut cost = 0;
        let mut end = 0;
        while end < rest.len() {
            let c = usize::from(COST[usize::from(rest[end])]);
            if cost + c > self.budget {
                break;
            }
            cost += c;
            end += 1;
        }
        // Back off to the start of a sequence (continuation bytes are 10xxxxxx).
        if end < rest.len() {
            while end > 0 && rest[end] & 0xC0 == 0x80 {
                end -= 1;
            }
        }
        let piece = &rest[..end];
        escape_into(dst, piece);
        dst.extend_from_slice(b"\"}");
        self.crc.update(piece);
        self.pos += end;
        self.seq += 1;
        true
    }
}

/// One message being reassembled.
#[derive(Debug)]
struct Partial {
    /// The message so far: handed out as it is once the end checks out.
    text: BytesMut,
    parts: u64,
    crc: crc32fast::Hasher,
    window: u32,
    seen: Instant,
}

/// What a frame handed to a [`Reassembler`] turned out to be.
#[derive(Debug)]
pub enum Accepted {
    /// A whole message: a plain frame as it came, or a reassembled one.
    Message(BytesMut),
    /// A part was taken; the message is not complete yet.
    Pending,
    /// The peer acknowledged parts of a message this side is sending.
    Ack {
        /// The message.
        id: u32,
        /// The last part taken.
        seq: u64,
    },
    /// The peer gave up a message this side is sending.
    Refused(TransferError),
    /// A message failed; the reassembly is dropped and the peer told to stop.
    Failed(TransferError),
}

/// The envelope's members, as far as a receiver reads them.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(rename = "$nmframe")]
    version: u32,
    t: &'a str,
    id: Option<u32>,
    seq: Option<u64>,
    #[serde(borrow)]
    data: Option<&'a str>,
    window: Option<u32>,
    bytes: Option<u64>,
    crc32: Option<u32>,
    reason: Option<String>,
}

/// Reassembles the messages a peer sends as parts, with [`ChunkOptions`]'s limits.
/// Sans-IO: frames go in through [`accept`](Self::accept); the acknowledgements and
/// aborts to send back collect in [`outbox`](Self::outbox).
#[derive(Debug)]
pub struct Reassembler {
    options: ChunkOptions,
    partial: HashMap<u32, Partial>,
    /// Ids refused: their remaining frames are dropped without another error.
    dropped: VecDeque<u32>,
    json: JsonDecoder,
    outbox: Vec<Vec<u8>>,
}

impl Reassembler {
    /// A reassembler with these limits.
    pub fn new(options: ChunkOptions) -> Self {
        Reassembler {
            options,
            partial: HashMap::new(),
            dropped: VecDeque::new(),
            json: JsonDecoder::new(),
            outbox: Vec::new(),
        }
    }

    /// The frames to send back (acknowledgements, aborts), in order; drained by the
    /// caller.
    pub fn outbox(&mut self) -> &mut Vec<Vec<u8>> {
        &mut self.outbox
    }

    /// How many messages are being reassembled.
    pub fn in_flight(&self) -> usize {
        self.partial.len()
    }

    /// Takes one frame's payload, which arrived at `now`.
    pub fn accept(&mut self, mut frame: BytesMut, now: Instant) -> Accepted {
        if !is_envelope(&frame) {
            return Accepted::Message(frame);
        }
        let wire: Wire<'_> = match self.json.deserialize(&mut frame) {
            Ok(wire) => wire,
            Err(err) => {
                return self.fail(
                    None,
                    TransferCode::Malformed,
                    format!("an envelope frame that does not parse: {err}"),
                );
            }
        };
        if wire.version != VERSION {
            return self.fail(
                wire.id,
                TransferCode::Malformed,
                format!(
                    "an envelope of version {}; this side speaks {VERSION}",
                    wire.version
                ),
            );
        }
        let Some(id) = wire.id else {
            return self.fail(
                None,
                TransferCode::Malformed,
                format!("a {:?} frame without an id", wire.t),
            );
        };
        match wire.t {
            "part" => {
                let (Some(seq), Some(data)) = (wire.seq, wire.data) else {
                    return self.fail(
                        Some(id),
                        TransferCode::Malformed,
                        format!("a part of message {id} without its seq or data"),
                    );
                };
                self.part(id, seq, data.as_bytes(), wire.window, now)
            }
            "end" => match (wire.seq, wire.bytes, wire.crc32) {
                (Some(seq), Some(bytes), Some(crc)) => self.end(id, seq, bytes, crc),
                _ => self.fail(
                    Some(id),
                    TransferCode::Malformed,
                    format!("the end of message {id} without its seq, bytes or crc32"),
                ),
            },
            "ack" => match wire.seq {
                Some(seq) => Accepted::Ack { id, seq },
                None => self.fail(
                    Some(id),
                    TransferCode::Malformed,
                    format!("an acknowledgement for message {id} without a seq"),
                ),
            },
            "abort" => {
                let reason = wire.reason.unwrap_or_else(|| "no reason given".into());
                if self.partial.remove(&id).is_some() {
                    return Accepted::Failed(TransferError::new(
                        TransferCode::Aborted,
                        Some(id),
                        format!("message {id} was aborted by the sender: {reason}"),
                    ));
                }
                Accepted::Refused(TransferError::new(
                    TransferCode::Aborted,
                    Some(id),
                    format!("the extension refused message {id}: {reason}"),
                ))
            }
            other => self.fail(
                Some(id),
                TransferCode::Malformed,
                format!("an envelope frame of unknown type {other:?}"),
            ),
        }
    }

    fn part(
        &mut self,
        id: u32,
        seq: u64,
        data: &[u8],
        window: Option<u32>,
        now: Instant,
    ) -> Accepted {
        if seq != 0 && self.dropped.contains(&id) {
            return Accepted::Pending;
        }
        if seq == 0 {
            self.dropped.retain(|&d| d != id);
            if let Some(p) = self.partial.get(&id) {
                let parts = p.parts;
                return self.fail(
                    Some(id),
                    TransferCode::OutOfOrder,
                    format!("message {id} started again after {parts} parts"),
                );
            }
            if self.partial.len() >= self.options.max_in_flight {
                return self.fail(
                    Some(id),
                    TransferCode::TooMany,
                    format!(
                        "message {id} would be the {}th in flight; the limit is {}",
                        self.partial.len() + 1,
                        self.options.max_in_flight
                    ),
                );
            }
            self.partial.insert(
                id,
                Partial {
                    text: BytesMut::new(),
                    parts: 0,
                    crc: crc32fast::Hasher::new(),
                    window: window.unwrap_or(0),
                    seen: now,
                },
            );
        }
        let Some(p) = self.partial.get_mut(&id) else {
            return self.fail(
                Some(id),
                TransferCode::OutOfOrder,
                format!("part {seq} of message {id}, which has not started"),
            );
        };
        if seq != p.parts {
            let due = p.parts;
            return self.fail(
                Some(id),
                TransferCode::OutOfOrder,
                format!("part {seq} of message {id} arrived where part {due} was due"),
            );
        }
        let bytes = p.text.len() + data.len();
        if bytes > self.options.max_bytes {
            let limit = self.options.max_bytes;
            return self.fail(
                Some(id),
                TransferCode::TooLarge,
                format!("message {id} reached {bytes} bytes; the limit is {limit}"),
            );
        }
        p.text.extend_from_slice(data);
        p.crc.update(data);
        p.parts += 1;
        p.seen = now;
        if p.window > 0 && p.parts % u64::from((p.window / 2).max(1)) == 0 {
            let ack = format!(r#"{{"{KEY}":{VERSION},"t":"ack","id":{id},"seq":{seq}}}"#);
            self.outbox.push(ack.into_bytes());
        }
        Accepted::Pending
    }

    fn end(&mut self, id: u32, seq: u64, bytes: u64, crc: u32) -> Accepted {
        if let Some(at) = self.dropped.iter().position(|&d| d == id) {
            self.dropped.remove(at);
            return Accepted::Pending;
        }
        let Some(p) = self.partial.remove(&id) else {
            return self.fail(
                Some(id),
                TransferCode::OutOfOrder,
                format!("the end of message {id}, which has not started"),
            );
        };
        let received = p.text.len() as u64;
        let (code, text) = if seq != p.parts {
            (
                TransferCode::Length,
                format!("message {id} ended after {seq} parts; {} arrived", p.parts),
            )
        } else if bytes != received {
            (
                TransferCode::Length,
                format!("message {id} announced {bytes} bytes; {received} arrived"),
            )
        } else if crc != p.crc.clone().finalize() {
            (
                TransferCode::Checksum,
                format!(
                    "message {id}: CRC-32 {} of the {received} bytes that arrived, {crc} announced",
                    p.crc.finalize()
                ),
            )
        } else if let Err(err) = self.json.validate(&p.text) {
            return Accepted::Failed(TransferError::new(
                TransferCode::Malformed,
                Some(id),
                format!("message {id} ({received} bytes) is not JSON: {err}"),
            ));
        } else {
            return Accepted::Message(p.text);
        };
        self.fail(Some(id), code, text)
    }

    /// Drops a message that has had no part for longer than the timeout, and says so; the
    /// first of them, if any (call again for the next).
    pub fn expire(&mut self, now: Instant) -> Option<TransferError> {
        let timeout = self.options.timeout;
        let (&id, p) = self
            .partial
            .iter()
            .find(|(_, p)| now.saturating_duration_since(p.seen) > timeout)?;
        let text = format!(
            "message {id}: no part for {} ms after {} parts ({} bytes); the limit is {} ms",
            now.saturating_duration_since(p.seen).as_millis(),
            p.parts,
            p.text.len(),
            timeout.as_millis()
        );
        match self.fail(Some(id), TransferCode::Timeout, text) {
            Accepted::Failed(err) => Some(err),
            _ => None,
        }
    }

    fn fail(&mut self, id: Option<u32>, code: TransferCode, text: String) -> Accepted {
        if let Some(id) = id {
            self.partial.remove(&id);
            self.dropped.push_back(id);
            // A sender that ignores aborts must not grow this without end.
            if self.dropped.len() > 1024 {
                self.dropped.pop_front();
            }
            let mut abort =
                format!(r#"{{"{KEY}":{VERSION},"t":"abort","id":{id},"reason":""#).into_bytes();
            escape_into(&mut abort, text.as_bytes());
            abort.extend_from_slice(b"\"}");
            self.outbox.push(abort);
        }
        Accepted::Failed(TransferError::new(code, id, text))
    }
}

/// Where a [`Chunked`] endpoint writes: a [`FrameWriter`] or a
/// [`WriterThread`](crate::WriterThread), or a wrapper of one (the C ABI's host).
pub trait Outbound {
    /// The largest payload a frame may carry.
    fn max_frame(&self) -> usize;
    /// Queues one frame's payload (checked, copied) and writes everything queued.
    fn send(&mut self, payload: &[u8]) -> Result<()>;
    /// Queues one frame's payload, to be written at the next flush or send.
    fn queue(&mut self, payload: &[u8]) -> Result<()>;
    /// Writes everything queued.
    fn flush(&mut self) -> Result<()>;
}

impl<W: Write> Outbound for FrameWriter<W> {
    fn max_frame(&self) -> usize {
        self.cap().max as usize
    }
    fn send(&mut self, payload: &[u8]) -> Result<()> {
        FrameWriter::send(self, payload)
    }
    fn queue(&mut self, payload: &[u8]) -> Result<()> {
        FrameWriter::queue(self, payload)
    }
    fn flush(&mut self) -> Result<()> {
        FrameWriter::flush(self)
    }
}

impl<W: Write + Send + 'static> Outbound for crate::WriterThread<W> {
    fn max_frame(&self) -> usize {
        self.cap().max as usize
    }
    fn send(&mut self, payload: &[u8]) -> Result<()> {
        crate::WriterThread::queue(self, payload)?;
        crate::WriterThread::flush(self)
    }
    fn queue(&mut self, payload: &[u8]) -> Result<()> {
        crate::WriterThread::queue(self, payload)
    }
    fn flush(&mut self) -> Result<()> {
        crate::WriterThread::flush(self)
    }
}

/// What [`Chunked::recv`] returns.
#[derive(Debug)]
pub enum Incoming {
    /// A whole message's JSON text: a plain frame as it came, or a reassembled message.
    Message(BytesMut),
    /// A message that failed (too large, corrupted, aborted...): reported, dropped, and
    /// the sender told to stop. The stream goes on.
    Failed(TransferError),
}

/// An endpoint's state without its I/O: the reassembler, the messages kept while a
/// send waits, and the acknowledgements of the message being sent. The blocking
/// [`Chunked`] and the async `nmframe::tokio::Chunked` drive it.
#[derive(Debug)]
pub(crate) struct State {
    reassembler: Reassembler,
    /// What arrived while a send waited for an acknowledgement.
    held: VecDeque<Incoming>,
    acked: Option<u64>,
    refused: Option<TransferError>,
    sending: Option<u32>,
    next_id: u32,
    pub(crate) window: u32,
    json: JsonDecoder,
    /// The frame being built, reused.
    pub(crate) frame: Vec<u8>,
    /// The text `send` serializes into, reused.
    text: Vec<u8>,
}

/// How a message leaves.
pub(crate) enum Plan {
    /// As it is, in one frame.
    Plain,
    /// In parts, as this message id.
    Parts(u32),
}

impl State {
    pub(crate) fn new(options: ChunkOptions) -> Self {
        State {
            window: options.window,
            reassembler: Reassembler::new(options),
            held: VecDeque::new(),
            acked: None,
            refused: None,
            sending: None,
            next_id: 0,
            json: JsonDecoder::new(),
            frame: Vec::new(),
            text: Vec::new(),
        }
    }

    pub(crate) fn set_options(&mut self, options: ChunkOptions) {
        self.window = options.window;
        self.reassembler.options = options;
    }

    /// A message kept while a send waited, or a transfer that timed out.
    pub(crate) fn ready(&mut self) -> Option<Incoming> {
        self.held.pop_front().or_else(|| {
            self.reassembler
                .expire(Instant::now())
                .map(Incoming::Failed)
        })
    }

    pub(crate) fn has_held(&self) -> bool {
        !self.held.is_empty()
    }

    /// The acknowledgements and aborts to write back now.
    pub(crate) fn outbox(&mut self) -> std::vec::Drain<'_, Vec<u8>> {
        self.reassembler.outbox().drain(..)
    }

    /// Routes one frame: acknowledgements and refusals to the send in progress,
    /// everything else through the reassembler.
    pub(crate) fn take(&mut self, frame: BytesMut) -> Option<Incoming> {
        match self.reassembler.accept(frame, Instant::now()) {
            Accepted::Message(text) => Some(Incoming::Message(text)),
            Accepted::Failed(err) => Some(Incoming::Failed(err)),
            Accepted::Pending => None,
            Accepted::Ack { id, seq } => {
                if self.sending == Some(id) {
                    self.acked = Some(self.acked.map_or(seq, |a| a.max(seq)));
                }
                None
            }
            // A refusal of a message already sent whole is the extension's verdict.
            Accepted::Refused(err) if self.sending != err.id() => Some(Incoming::Failed(err)),
            Accepted::Refused(err) => {
                self.refused = Some(err);
                None
            }
        }
    }

    /// Keeps what arrived while a send waits.
    pub(crate) fn hold(&mut self, incoming: Incoming) {
        self.held.push_back(incoming);
    }

    pub(crate) fn validate(&mut self, json: &[u8]) -> Result<()> {
        self.json.validate(json)
    }

    /// Whether `json` (valid) leaves as it is or in parts; for parts, the send starts.
    pub(crate) fn plan(&mut self, json: &[u8], max_frame: usize) -> Plan {
        if json.len() <= max_frame && !is_envelope(json) {
            return Plan::Plain;
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.sending = Some(id);
        self.acked = None;
        self.refused = None;
        Plan::Parts(id)
    }

    /// Whether the send must wait for an acknowledgement before its next part.
    pub(crate) fn must_wait(&self, parts_written: u64) -> bool {
        self.window > 0
            && self.refused.is_none()
            && parts_written >= self.acked.map_or(0, |a| a + 1) + u64::from(self.window)
    }

    /// The extension's refusal of the message being sent, if it came.
    pub(crate) fn refusal(&mut self) -> Option<Error> {
        self.refused.take().map(Error::Transfer)
    }

    pub(crate) fn done_sending(&mut self) {
        self.sending = None;
    }

    /// Serializes `value` into the reused text buffer, which the caller hands back with
    /// [`give_back`](Self::give_back): no allocation per message in steady state.
    pub(crate) fn serialize<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<Vec<u8>> {
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        simd_json::to_writer(&mut text, value).map_err(|e| Error::Serialize(e.to_string()))?;
        Ok(text)
    }

    /// Takes the buffer back, unless a large message grew it: that memory is returned.
    pub(crate) fn give_back(&mut self, text: Vec<u8>) {
        if text.capacity() <= 1 << 20 {
            self.text = text;
        }
    }

    pub(crate) fn closed_while_sending(id: u32, parts: u64) -> Error {
        Error::Disconnected(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!(
                "the extension closed the port while message {id} was being sent ({parts} parts \
                 written)"
            ),
        ))
    }
}

/// A host's endpoint for messages of any size, in both directions: the blocking
/// counterpart of the extension's `NativePort`. See the [module](self) for an example.
#[derive(Debug)]
pub struct Chunked<R: Read, W: Outbound> {
    reader: FrameReader<R>,
    writer: W,
    state: State,
}

/// The endpoint of [`Chunked::stdio`]: the process's stdin and stdout.
pub type StdioChunked = Chunked<HostStdin, FrameWriter<HostStdout>>;

impl StdioChunked {
    /// The process's stdin and stdout, set up as [`crate::stdio`] does, with the
    /// host's limits.
    pub fn stdio(options: ChunkOptions) -> Result<Self> {
        let (reader, writer) = crate::stdio(Limits::host()).map_err(Error::Io)?;
        Ok(Chunked::new(reader, writer, options))
    }
}

impl<R: Read, W: Outbound> Chunked<R, W> {
    /// An endpoint over a frame reader and a writer (whose cap bounds every frame sent,
    /// parts included).
    pub fn new(reader: FrameReader<R>, writer: W, options: ChunkOptions) -> Self {
        Chunked {
            reader,
            writer,
            state: State::new(options),
        }
    }

    /// The next whole message or failed transfer; `None` at the end of the stream. A
    /// message in parts is returned once its end frame has checked out. What is queued
    /// is written before a read that may wait.
    pub fn recv(&mut self) -> Result<Option<Incoming>> {
        loop {
            if let Some(incoming) = self.state.ready() {
                self.reply()?;
                return Ok(Some(incoming));
            }
            if !self.reader.has_frame() {
                self.writer.flush()?;
            }
            let Some(frame) = self.reader.read_frame()? else {
                return Ok(None);
            };
            let incoming = self.state.take(frame);
            self.reply()?;
            if incoming.is_some() {
                return Ok(incoming);
            }
        }
    }

    /// Writes the acknowledgements and aborts the reassembler queued.
    fn reply(&mut self) -> Result<()> {
        let mut any = false;
        for frame in self.state.outbox() {
            self.writer.queue(&frame)?;
            any = true;
        }
        if any { self.writer.flush() } else { Ok(()) }
    }

    /// Sends a message's JSON text, whatever its size. Invalid JSON is refused before
    /// anything is written. A message that fits one frame and cannot be taken for an
    /// envelope goes as it is; any other as parts, at most [`ChunkOptions::window`] of
    /// them unacknowledged (the frames that arrive meanwhile are kept for
    /// [`recv`](Self::recv)). A refusal by the extension returns
    /// [`Error::Transfer`]; the stream goes on.
    pub fn send_json(&mut self, json: &[u8]) -> Result<()> {
        self.state.validate(json)?;
        self.send_valid(json)
    }

    /// Serializes `value` and sends it as [`send_json`](Self::send_json) does: the text
    /// is held once, and one frame at a time is built from it.
    pub fn send<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let text = self.state.serialize(value)?;
        let sent = self.send_valid(&text);
        self.state.give_back(text);
        sent
    }

    /// Like [`send_json`](Self::send_json), but a message that fits one frame is
    /// queued (written at the next flush, send, or read that may wait) rather than
    /// written at once: replies to a burst leave in one write.
    pub fn queue_json(&mut self, json: &[u8]) -> Result<()> {
        self.state.validate(json)?;
        if json.len() <= self.writer.max_frame() && !is_envelope(json) {
            return self.writer.queue(json);
        }
        self.writer.flush()?;
        self.send_valid(json)
    }

    /// Writes every queued message.
    pub fn flush(&mut self) -> Result<()> {
        self.writer.flush()
    }

    fn send_valid(&mut self, json: &[u8]) -> Result<()> {
        let max_frame = self.writer.max_frame();
        let Plan::Parts(id) = self.state.plan(json, max_frame) else {
            return self.writer.send(json);
        };
        let result = self.send_parts(id, json, max_frame);
        self.state.done_sending();
        result
    }

    fn send_parts(&mut self, id: u32, json: &[u8], max_frame: usize) -> Result<()> {
        let mut parts = Parts::new(id, json, max_frame, self.state.window);
        loop {
            // Wait while a window's worth of parts is unacknowledged, keeping what
            // arrives meanwhile for recv.
            while self.state.must_wait(parts.parts_written()) {
                let Some(frame) = self.reader.read_frame()? else {
                    return Err(State::closed_while_sending(id, parts.parts_written()));
                };
                if let Some(kept) = self.state.take(frame) {
                    self.state.hold(kept);
                }
                self.reply()?;
            }
            if let Some(err) = self.state.refusal() {
                return Err(err);
            }
            if !parts.next_frame(&mut self.state.frame) {
                return Ok(());
            }
            // One frame at a time: the message is never held twice.
            self.writer.send(&self.state.frame)?;
        }
    }

    /// Whether [`recv`](Self::recv) has something to return without reading: a message
    /// kept while a send waited, or a whole frame buffered (which may be a part).
    pub fn has_frame(&self) -> bool {
        self.state.has_held() || self.reader.has_frame()
    }

    /// Replaces the limits and the window; messages already being reassembled go on
    /// under the new limits.
    pub fn set_options(&mut self, options: ChunkOptions) {
        self.state.set_options(options);
    }

    /// The frame reader.
    pub fn reader(&self) -> &FrameReader<R> {
        &self.reader
    }

    /// The writer.
    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.writer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts_of(text: &[u8], max_frame: usize) -> Vec<Vec<u8>> {
        let mut parts = Parts::new(7, text, max_frame, 0);
        let mut frames = Vec::new();
        let mut buf = Vec::new();
        while parts.next_frame(&mut buf) {
            frames.push(buf.clone());
        }
        frames
    }

    #[test]
    fn crc32_is_zlibs() {
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn envelopes_are_told_by_their_first_member() {
        assert!(is_envelope(br#"{"$nmframe":1,"t":"part"}"#));
        assert!(is_envelope(b" {\n \"$nmframe\" :1}"));
        assert!(!is_envelope(br#"{"t":"part","$nmframe":1}"#));
        assert!(!is_envelope(br#"["$nmframe"]"#));
        assert!(!is_envelope(br#"{"$nmframes":1}"#));
    }

    #[test]
    fn parts_fit_the_frame_and_reassemble_byte_for_byte() {
        let mut text = String::from("[");
        for i in 0..20_000 {
            text.push_str(&format!(
                "\"r\u{e9}sum\u{e9} {i} \\\"q\\\" \u{1F600}\\n\",{i},"
            ));
        }
        text.push_str(r#""\u0001"]"#);
        let frames = parts_of(text.as_bytes(), 4096);
        assert!(frames.len() > 100);
        let mut rx = Reassembler::new(ChunkOptions::default());
        let now = Instant::now();
        let mut got = None;
        for frame in &frames {
            assert!(frame.len() <= 4096, "a {}-byte frame", frame.len());
            serde_json::from_slice::<serde_json::Value>(frame).expect("each frame is JSON");
            match rx.accept(BytesMut::from(&frame[..]), now) {
                Accepted::Pending => {}
                Accepted::Message(m) => got = Some(m),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got.expect("the message").as_ref(), text.as_bytes());
        assert!(rx.outbox().is_empty(), "no window, no acknowledgements");
    }

    #[test]
    fn a_corrupted_part_fails_the_checksum_and_the_sender_is_told() {
        let text = br#"{"v":"hello world, hello world"}"#;
        let mut frames = parts_of(text, 256);
        let last = frames.len() - 2;
        let at = frames[last].iter().rposition(|&b| b == b'w').unwrap();
        frames[last][at] = b'W';
        let mut rx = Reassembler::new(ChunkOptions::default());
        let now = Instant::now();
        let outcome: Vec<Accepted> = frames
            .into_iter()
            .map(|f| rx.accept(BytesMut::from(&f[..]), now))
            .collect();
        let Accepted::Failed(err) = outcome.last().unwrap() else {
            panic!("{outcome:?}");
        };
        assert_eq!(err.code(), TransferCode::Checksum);
        assert_eq!(err.id(), Some(7));
        assert!(
            err.to_string().contains("of the 32 bytes that arrived"),
            "{err}"
        );
        let abort = String::from_utf8(rx.outbox().pop().unwrap()).unwrap();
        assert!(
            abort.starts_with(r#"{"$nmframe":1,"t":"abort","id":7,"reason":"message 7: CRC-32"#),
            "{abort}"
        );
    }
}
