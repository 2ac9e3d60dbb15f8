//! The receiver's side: parts taken, checked and joined into whole messages, within the
//! limits of [`ChunkOptions`].

use std::collections::{HashMap, VecDeque};
#[cfg(all(test, not(miri)))]
use std::time::Duration;
use std::time::Instant;

use bytes::BytesMut;

use super::ChunkOptions;
use super::wire::{self, Envelope, Kind, VERSION, is_envelope};
use crate::transfer::{TransferCode, TransferError};
use crate::validate::Validator;

/// Refused ids remembered, so that the rest of their frames are dropped quietly: a
/// sender that ignores refusals must not grow this without end.
const DROPPED_REMEMBERED: usize = 1024;

/// One message being reassembled.
#[derive(Debug)]
struct Partial {
    /// The message so far: handed out as it is (no copy) once the end checks out.
    text: Vec<u8>,
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
    /// A part was taken, or a frame that needs nothing more; no message is complete.
    Pending,
    /// The peer acknowledged parts of a message this side is sending.
    Ack {
        /// The message (this side's id).
        id: u32,
        /// The last part taken.
        seq: u64,
    },
    /// The peer refused a message this side is sending, or has sent (`refuse`).
    Refused(TransferError),
    /// A message from the peer failed, or a frame could not be read: reported, the
    /// reassembly dropped, and the peer told to stop where the message is known.
    Failed(TransferError),
}

/// Reassembles the messages a peer sends as parts, with [`ChunkOptions`]'s limits.
/// Sans-IO: frames go in through [`accept`](Self::accept) with the time they arrived;
/// the acknowledgements and refusals to send back collect in [`outbox`](Self::outbox).
///
/// Memory is bounded by the options: each message by
/// [`max_bytes`](ChunkOptions::max_bytes), all of them together by
/// [`max_buffered`](ChunkOptions::max_buffered), counting the capacity actually
/// reserved. An envelope frame is read without building a tree of it, and a part's
/// text is copied once, from the frame into the message.
///
/// ```
/// use std::time::Instant;
/// use bytes::BytesMut;
/// use nmframe::chunked::{Accepted, ChunkOptions, Parts, Reassembler};
///
/// let text = br#"{"rows":[1,2,3]}"#;
/// let mut parts = Parts::new(0, text, 256, 0);
/// let mut rx = Reassembler::new(ChunkOptions::default());
/// let mut frame = Vec::new();
/// let mut whole = None;
/// while parts.next_frame(&mut frame) {
///     if let Accepted::Message(m) = rx.accept(BytesMut::from(&frame[..]), Instant::now()) {
///         whole = Some(m);
///     }
/// }
/// assert_eq!(whole.as_deref(), Some(&text[..]));
/// ```
#[derive(Debug)]
pub struct Reassembler {
    options: ChunkOptions,
    partial: HashMap<u32, Partial>,
    /// Ids refused: their remaining frames are dropped without another error.
    dropped: VecDeque<u32>,
    validator: Validator,
    outbox: Vec<Vec<u8>>,
    /// The capacity the messages being reassembled hold, in bytes.
    reserved: usize,
    /// Bytes held elsewhere that count against `max_buffered` too: the messages an
    /// endpoint keeps while its send waits for an acknowledgement.
    pub(crate) outside: usize,
    /// Transfers found timed out while a frame was taken, for [`expire`](Self::expire).
    expired: VecDeque<TransferError>,
}

impl Reassembler {
    /// A reassembler with these limits.
    pub fn new(options: ChunkOptions) -> Self {
        Reassembler {
            options,
            partial: HashMap::new(),
            dropped: VecDeque::new(),
            validator: Validator::default(),
            outbox: Vec::new(),
            reserved: 0,
            outside: 0,
            expired: VecDeque::new(),
        }
    }

    /// The frames to send back (acknowledgements, refusals), in order; drained by the
    /// caller.
    pub fn outbox(&mut self) -> &mut Vec<Vec<u8>> {
        &mut self.outbox
    }

    /// How many messages are being reassembled.
    pub fn in_flight(&self) -> usize {
        self.partial.len()
    }

    /// The memory the messages being reassembled hold, in bytes of reserved capacity.
    pub fn buffered(&self) -> usize {
        self.reserved
    }

    /// The limits.
    pub fn options(&self) -> &ChunkOptions {
        &self.options
    }

    pub(crate) fn set_options(&mut self, options: ChunkOptions) {
        self.options = options;
    }

    /// When the next transfer in progress times out if no part of it comes first: just
    /// past its timeout, since a transfer expires when silent for *longer* than that.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.partial
            .values()
            .map(|p| p.seen + self.options.timeout + std::time::Duration::from_millis(1))
            .min()
    }

    /// Takes one frame's payload, which arrived at `now`. Transfers that have timed out
    /// by `now` are dropped first (they are reported by [`expire`](Self::expire)), so
    /// they never count against the limits.
    pub fn accept(&mut self, frame: BytesMut, now: Instant) -> Accepted {
        self.sweep(now);
        if !is_envelope(&frame) {
            return Accepted::Message(frame);
        }
        let env = match Envelope::read(&frame, &mut self.validator) {
            Ok(env) => env,
            Err(why) => {
                return report(
                    TransferCode::Malformed,
                    None,
                    format!("an envelope frame that is not JSON: {why}"),
                );
            }
        };
        match env.version() {
            Ok(v) if v == u64::from(VERSION) => {}
            version => return self.foreign(&env, version),
        }
        let kind = match env.kind() {
            Ok(kind) => kind,
            Err(why) => return report(TransferCode::Malformed, env.id(), why),
        };
        let Some(id) = env.id() else {
            return report(
                TransferCode::Malformed,
                None,
                format!("{kind:?} frame without an id from 0 to 4294967295").to_lowercase(),
            );
        };
        match kind {
            Kind::Part => self.part(id, &env, now),
            Kind::End => match (env.seq(), env.bytes(), env.crc32()) {
                (Some(seq), Some(bytes), Some(crc)) => self.end(id, seq, bytes, crc),
                _ => self.refuse(
                    id,
                    TransferCode::Malformed,
                    format!("the end of message {id} without an integer seq, bytes and crc32"),
                ),
            },
            Kind::Ack => match env.seq() {
                Some(seq) => Accepted::Ack { id, seq },
                None => report(
                    TransferCode::Malformed,
                    Some(id),
                    format!("an acknowledgement of message {id} without an integer seq"),
                ),
            },
            Kind::Abort => {
                let reason = Envelope::text(env.reason).unwrap_or_else(|| "no reason given".into());
                if let Some(p) = self.partial.remove(&id) {
                    self.reserved -= p.text.capacity();
                    return Accepted::Failed(TransferError::new(
                        TransferCode::Aborted,
                        Some(id),
                        format!(
                            "message {id} was aborted by the sender after {} parts: {reason}",
                            p.parts
                        ),
                    ));
                }
                // Already refused, or never started: nothing is lost.
                self.dropped.retain(|&d| d != id);
                Accepted::Pending
            }
            Kind::Refuse => {
                let reason = Envelope::text(env.reason).unwrap_or_else(|| "no reason given".into());
                let code = Envelope::text(env.code).unwrap_or_else(|| "no code".into());
                Accepted::Refused(TransferError::new(
                    TransferCode::Refused,
                    Some(id),
                    format!("the extension refused message {id} ({code}): {reason}"),
                ))
            }
        }
    }

    /// An envelope frame of another version: reported once per message, and a part
    /// refused so that its sender stops. Nothing else is answered, so two ends of
    /// different versions cannot answer each other's answers for ever.
    fn foreign(&mut self, env: &Envelope<'_>, version: Result<u64, String>) -> Accepted {
        let id = env.id();
        let is_part = env.kind() == Ok(Kind::Part);
        if let Some(id) = id
            && self.dropped.contains(&id)
        {
            if env.kind() == Ok(Kind::End) {
                self.dropped.retain(|&d| d != id);
            }
            return Accepted::Pending;
        }
        let version = version.map_or_else(|shown| shown, |v| v.to_string());
        let text = format!(
            "an envelope frame of version {version}; this side speaks version {VERSION} \
             (docs/CHUNKING.md): both ends need the same version of nmframe's envelope"
        );
        match id {
            Some(id) if is_part => self.refuse(id, TransferCode::Version, text),
            _ => report(TransferCode::Version, id, text),
        }
    }

    fn part(&mut self, id: u32, env: &Envelope<'_>, now: Instant) -> Accepted {
        let (Some(seq), Some(data)) = (env.seq(), env.data()) else {
            return self.refuse(
                id,
                TransferCode::Malformed,
                format!("a part of message {id} without an integer seq and a string data"),
            );
        };
        if seq != 0 && self.dropped.contains(&id) {
            return Accepted::Pending;
        }
        if seq == 0 {
            self.dropped.retain(|&d| d != id);
            if let Some(p) = self.partial.get(&id) {
                let parts = p.parts;
                return self.refuse(
                    id,
                    TransferCode::OutOfOrder,
                    format!("message {id} started again after {parts} parts"),
                );
            }
            let (Ok(total), Ok(window)) = (env.total(), env.window()) else {
                return self.refuse(
                    id,
                    TransferCode::Malformed,
                    format!("part 0 of message {id} with a total or window that is not an integer"),
                );
            };
            if self.partial.len() >= self.options.max_in_flight {
                return self.refuse(
                    id,
                    TransferCode::TooMany,
                    format!(
                        "message {id} would be the {}th in flight; the limit is {}",
                        self.partial.len() + 1,
                        self.options.max_in_flight
                    ),
                );
            }
            let total = total.map_or(0, |t| usize::try_from(t).unwrap_or(usize::MAX));
            if total > self.options.max_bytes {
                let limit = self.options.max_bytes;
                return self.refuse(
                    id,
                    TransferCode::TooLarge,
                    format!("message {id} announces {total} bytes; the limit is {limit}"),
                );
            }
            let room = self.room();
            if total > room {
                return self.refuse(id, TransferCode::Capacity, self.no_room(id, total, room));
            }
            let mut text = Vec::new();
            text.reserve_exact(total);
            self.reserved += text.capacity();
            self.partial.insert(
                id,
                Partial {
                    text,
                    parts: 0,
                    crc: crc32fast::Hasher::new(),
                    window: window.unwrap_or(0),
                    seen: now,
                },
            );
        }
        let Some(p) = self.partial.get(&id) else {
            return self.refuse(
                id,
                TransferCode::OutOfOrder,
                format!("part {seq} of message {id}, which has not started"),
            );
        };
        if seq != p.parts {
            let due = p.parts;
            return self.refuse(
                id,
                TransferCode::OutOfOrder,
                format!("part {seq} of message {id} arrived where part {due} was due"),
            );
        }
        let len = p.text.len();
        // Unescaping only shrinks the text: its escaped length bounds it, and the exact
        // length (another pass over the data) is counted only when the bound would break
        // a limit.
        let mut need = len + data.len();
        if need > self.options.max_bytes || need > self.room() + p.text.capacity() {
            need = len + wire::unescaped_len(data);
        }
        if need > self.options.max_bytes {
            let limit = self.options.max_bytes;
            return self.refuse(
                id,
                TransferCode::TooLarge,
                format!("message {id} reached {need} bytes; the limit is {limit}"),
            );
        }
        if let Err(text) = self.grow(id, need) {
            return self.refuse(id, TransferCode::Capacity, text);
        }
        let p = self.partial.get_mut(&id).expect("taken above");
        wire::unescape_into(&mut p.text, data);
        p.crc.update(&p.text[len..]);
        p.parts += 1;
        p.seen = now;
        if p.window > 0 && p.parts.is_multiple_of(u64::from((p.window / 2).max(1))) {
            self.outbox.push(wire::ack(id, seq));
        }
        Accepted::Pending
    }

    /// What `max_buffered` leaves for one more reservation.
    fn room(&self) -> usize {
        self.options
            .max_buffered
            .saturating_sub(self.reserved + self.outside)
    }

    fn no_room(&self, id: u32, need: usize, room: usize) -> String {
        format!(
            "message {id} needs {need} bytes; {} bytes are held by {} other message(s) and \
             {} by messages not yet read, and the limit for all together is {} ({room} left)",
            self.reserved,
            self.partial.len(),
            self.outside,
            self.options.max_buffered
        )
    }

    /// Makes room in message `id` for `need` bytes in all: doubling while the budget
    /// allows (so a message without a `total` costs a handful of moves), exactly `need`
    /// when only that fits, and an error naming the numbers when not even that does.
    fn grow(&mut self, id: u32, need: usize) -> Result<(), String> {
        let cap = self.partial[&id].text.capacity();
        if need <= cap {
            return Ok(());
        }
        let room = self.room() + cap;
        let doubled = need.max(cap.saturating_mul(2)).min(self.options.max_bytes);
        let target = if doubled <= room {
            doubled.max(need)
        } else if need <= room {
            need
        } else {
            return Err(self.no_room(id, need - cap, room - cap));
        };
        let p = self.partial.get_mut(&id).expect("present");
        p.text.reserve_exact(target - p.text.len());
        self.reserved = self.reserved - cap + p.text.capacity();
        Ok(())
    }

    fn end(&mut self, id: u32, seq: u64, bytes: u64, crc: u32) -> Accepted {
        if let Some(at) = self.dropped.iter().position(|&d| d == id) {
            self.dropped.remove(at);
            return Accepted::Pending;
        }
        let Some(p) = self.partial.remove(&id) else {
            return self.refuse(
                id,
                TransferCode::OutOfOrder,
                format!("the end of message {id}, which has not started"),
            );
        };
        self.reserved -= p.text.capacity();
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
        } else if let Err(err) = self.validator.validate(&p.text) {
            (
                TransferCode::Malformed,
                format!("message {id} ({received} bytes) is not JSON: {err}"),
            )
        } else {
            // Vec → Bytes → BytesMut hands the allocation over without a copy.
            return Accepted::Message(BytesMut::from(bytes::Bytes::from(p.text)));
        };
        self.refuse(id, code, text)
    }

    /// Drops transfers silent for longer than the timeout at `now`, queuing their
    /// errors and telling their senders.
    fn sweep(&mut self, now: Instant) {
        let timeout = self.options.timeout;
        let late = |p: &Partial| now.saturating_duration_since(p.seen) > timeout;
        if !self.partial.values().any(late) {
            return;
        }
        let mut ids: Vec<u32> = self
            .partial
            .iter()
            .filter(|(_, p)| late(p))
            .map(|(&id, _)| id)
            .collect();
        ids.sort_unstable();
        for id in ids {
            let p = &self.partial[&id];
            let text = format!(
                "message {id}: no part for {} ms after {} parts ({} bytes); the limit is {} ms",
                now.saturating_duration_since(p.seen).as_millis(),
                p.parts,
                p.text.len(),
                timeout.as_millis()
            );
            if let Accepted::Failed(err) = self.refuse(id, TransferCode::Timeout, text) {
                self.expired.push_back(err);
            }
        }
    }

    /// The next transfer that has had no part for longer than the timeout at `now`, if
    /// any: dropped, its sender told, and its error returned (call again for the next).
    pub fn expire(&mut self, now: Instant) -> Option<TransferError> {
        self.sweep(now);
        self.expired.pop_front()
    }

    /// Fails the peer's message `id`: its reassembly dropped, its remaining frames
    /// ignored, and the peer told with a `refuse` frame.
    fn refuse(&mut self, id: u32, code: TransferCode, text: String) -> Accepted {
        if let Some(p) = self.partial.remove(&id) {
            self.reserved -= p.text.capacity();
        }
        self.dropped.push_back(id);
        if self.dropped.len() > DROPPED_REMEMBERED {
            self.dropped.pop_front();
        }
        self.outbox.push(wire::refuse(id, code, &text));
        Accepted::Failed(TransferError::new(code, Some(id), text))
    }
}

/// A frame that fails on its own: reported, nothing answered (there is no message to
/// refuse, or the frame's id may not be the peer's).
fn report(code: TransferCode, id: Option<u32>, text: String) -> Accepted {
    Accepted::Failed(TransferError::new(code, id, text))
}

// Not under Miri: safe code only, and its longer texts reach simdutf8's AVX2 code, where
// Miri stops (an operation it does not support). The native run and the fuzz targets
// cover it.
#[cfg(all(test, not(miri)))]
mod tests {
    use super::super::Parts;
    use super::*;

    const MIB: usize = 1 << 20;

    fn frames(id: u32, text: &[u8], max_frame: usize) -> Vec<BytesMut> {
        let mut parts = Parts::new(id, text, max_frame, 0);
        let mut frames = Vec::new();
        let mut buf = Vec::new();
        while parts.next_frame(&mut buf) {
            frames.push(BytesMut::from(&buf[..]));
        }
        frames
    }

    fn failed(accepted: Accepted) -> TransferError {
        match accepted {
            Accepted::Failed(err) => err,
            other => panic!("{other:?}"),
        }
    }

    fn accept(rx: &mut Reassembler, frame: &str) -> Accepted {
        rx.accept(BytesMut::from(frame.as_bytes()), Instant::now())
    }

    #[test]
    fn parts_reassemble_byte_for_byte() {
        let mut text = String::from("[");
        for i in 0..20_000 {
            text.push_str(&format!(
                "\"r\u{e9}sum\u{e9} {i} \\\"q\\\" \u{1F600}\\n\",{i},"
            ));
        }
        text.push_str(r#""\u0001"]"#);
        let frames = frames(7, text.as_bytes(), 4096);
        assert!(frames.len() > 100);
        let mut rx = Reassembler::new(ChunkOptions::default());
        let mut got = None;
        for frame in frames {
            assert!(frame.len() <= 4096, "a {}-byte frame", frame.len());
            match rx.accept(frame, Instant::now()) {
                Accepted::Pending => {}
                Accepted::Message(m) => got = Some(m),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got.expect("the message").as_ref(), text.as_bytes());
        assert!(rx.outbox().is_empty(), "no window, no acknowledgements");
        assert_eq!(rx.buffered(), 0, "nothing held once delivered");
    }

    #[test]
    fn a_corrupted_part_fails_the_checksum_and_the_sender_is_told() {
        let text = br#"{"v":"hello world, hello world"}"#;
        let mut frames = frames(7, text, 256);
        let last = frames.len() - 2;
        let at = frames[last].iter().rposition(|&b| b == b'w').unwrap();
        frames[last][at] = b'W';
        let mut rx = Reassembler::new(ChunkOptions::default());
        let outcome: Vec<Accepted> = frames
            .into_iter()
            .map(|f| rx.accept(f, Instant::now()))
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
        let refuse = String::from_utf8(rx.outbox().pop().unwrap()).unwrap();
        assert!(
            refuse.starts_with(
                r#"{"$nmframe":2,"t":"refuse","id":7,"code":"checksum","reason":"message 7: CRC-32"#
            ),
            "{refuse}"
        );
    }

    /// Version 1's defect: an `abort` of one side's message was taken for the other's.
    /// Now `abort` names only the sender's own message and `refuse` the recipient's.
    #[test]
    fn an_abort_never_touches_the_recipients_own_message_and_a_refusal_never_the_peers() {
        let mut rx = Reassembler::new(ChunkOptions::default());
        assert!(matches!(
            accept(
                &mut rx,
                r#"{"$nmframe":2,"t":"part","id":0,"seq":0,"data":"[1,"}"#
            ),
            Accepted::Pending
        ));
        // The peer refuses *our* message 0: our reassembly of *its* message 0 stays.
        let refused = accept(
            &mut rx,
            r#"{"$nmframe":2,"t":"refuse","id":0,"code":"too-large","reason":"no"}"#,
        );
        let Accepted::Refused(err) = refused else {
            panic!("{refused:?}")
        };
        assert_eq!(err.code(), TransferCode::Refused);
        assert_eq!(
            err.to_string(),
            "the extension refused message 0 (too-large): no (refused)"
        );
        assert_eq!(rx.in_flight(), 1);
        accept(
            &mut rx,
            r#"{"$nmframe":2,"t":"part","id":0,"seq":1,"data":"2]"}"#,
        );
        let end = format!(
            r#"{{"$nmframe":2,"t":"end","id":0,"seq":2,"bytes":5,"crc32":{}}}"#,
            crc32fast::hash(b"[1,2]")
        );
        let Accepted::Message(m) = accept(&mut rx, &end) else {
            panic!("the message")
        };
        assert_eq!(&m[..], b"[1,2]");
        // The peer gives up its message 1: ours are not its to give up.
        accept(
            &mut rx,
            r#"{"$nmframe":2,"t":"part","id":1,"seq":0,"data":"["}"#,
        );
        let err = failed(accept(
            &mut rx,
            r#"{"$nmframe":2,"t":"abort","id":1,"reason":"cancelled"}"#,
        ));
        assert_eq!(err.code(), TransferCode::Aborted);
        // An abort of something this side is not receiving changes nothing.
        assert!(matches!(
            accept(&mut rx, r#"{"$nmframe":2,"t":"abort","id":9,"reason":"x"}"#),
            Accepted::Pending
        ));
    }

    #[test]
    fn another_version_is_refused_once_with_its_own_code_and_never_answered_twice() {
        let mut rx = Reassembler::new(ChunkOptions::default());
        let err = failed(accept(
            &mut rx,
            r#"{"$nmframe":1,"t":"part","id":3,"seq":0,"data":"x"}"#,
        ));
        assert_eq!(err.code(), TransferCode::Version);
        assert!(
            err.to_string()
                .contains("version 1; this side speaks version 2"),
            "{err}"
        );
        let refuse = String::from_utf8(rx.outbox().pop().unwrap()).unwrap();
        assert!(
            refuse.contains(r#""t":"refuse","id":3,"code":"version""#),
            "{refuse}"
        );
        // The rest of that message, quietly.
        assert!(matches!(
            accept(
                &mut rx,
                r#"{"$nmframe":1,"t":"part","id":3,"seq":1,"data":"y"}"#
            ),
            Accepted::Pending
        ));
        // A foreign abort or ack is reported, never answered.
        let err = failed(accept(&mut rx, r#"{"$nmframe":1,"t":"abort","id":8}"#));
        assert_eq!(err.code(), TransferCode::Version);
        let err = failed(accept(&mut rx, r#"{"$nmframe":"two","t":"ack","id":8}"#));
        assert!(err.to_string().contains("version \"two\""), "{err}");
        assert!(rx.outbox().is_empty());
    }

    /// A frame with a huge member the envelope does not define costs no tree: it is
    /// stepped over (the allocation test in core/tests/alloc.rs counts the bytes).
    #[test]
    fn unknown_members_are_stepped_over() {
        let zeros = vec!["0"; 100_000].join(",");
        let frame =
            format!(r#"{{"$nmframe":2,"t":"part","extra":[{zeros}],"id":2,"seq":0,"data":"[]"}}"#);
        let mut rx = Reassembler::new(ChunkOptions::default());
        assert!(matches!(accept(&mut rx, &frame), Accepted::Pending));
        assert_eq!(rx.in_flight(), 1);
    }

    #[test]
    fn the_budget_bounds_all_transfers_together() {
        let mut rx = Reassembler::new(ChunkOptions {
            max_buffered: 3 * MIB,
            ..ChunkOptions::default()
        });
        let data = "a".repeat(MIB);
        for id in 0..2 {
            let frame = format!(r#"{{"$nmframe":2,"t":"part","id":{id},"seq":0,"data":"{data}"}}"#);
            assert!(matches!(accept(&mut rx, &frame), Accepted::Pending));
        }
        assert!(rx.buffered() <= 3 * MIB);
        // A third that would pass the budget is refused with the numbers.
        let frame = format!(r#"{{"$nmframe":2,"t":"part","id":2,"seq":0,"data":"{data}{data}"}}"#);
        let err = failed(accept(&mut rx, &frame));
        assert_eq!(err.code(), TransferCode::Capacity);
        assert!(
            err.to_string()
                .contains("the limit for all together is 3145728"),
            "{err}"
        );
        // A total announced over the limit is refused before a byte is kept.
        let err = failed(accept(
            &mut rx,
            r#"{"$nmframe":2,"t":"part","id":5,"seq":0,"total":99999999999,"data":""}"#,
        ));
        assert_eq!(err.code(), TransferCode::TooLarge);
        assert_eq!(rx.in_flight(), 2);
    }

    /// Timed-out transfers are dropped before the next one is counted.
    #[test]
    fn expired_transfers_do_not_count_against_too_many() {
        let mut rx = Reassembler::new(ChunkOptions {
            max_in_flight: 1,
            timeout: Duration::from_millis(100),
            ..ChunkOptions::default()
        });
        let t0 = Instant::now();
        let part = |id: u32| {
            BytesMut::from(
                format!(r#"{{"$nmframe":2,"t":"part","id":{id},"seq":0,"data":"["}}"#).as_bytes(),
            )
        };
        assert!(matches!(rx.accept(part(1), t0), Accepted::Pending));
        let later = t0 + Duration::from_millis(500);
        assert!(matches!(rx.accept(part(2), later), Accepted::Pending));
        let expired = rx.expire(later).expect("message 1 timed out");
        assert_eq!(expired.code(), TransferCode::Timeout);
        assert_eq!(expired.id(), Some(1));
        assert!(rx.expire(later).is_none());
        assert_eq!(rx.in_flight(), 1);
    }
}
