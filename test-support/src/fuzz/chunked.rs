//! A stateful fuzz check of the chunked receiver (`nmframe::chunked::Reassembler`),
//! driven by a byte program and checked against a model of what the peer sent.
//!
//! The program interleaves, for a handful of message ids: transfers started, their parts
//! sent in order, corrupted or skipped, their ends, aborts; plain messages; frames that
//! answer this side's own sends (acknowledgements, refusals); frames of another
//! version; arbitrary bytes as a frame; and steps of a virtual clock. After every frame:
//! - nothing is delivered that was not sent whole: a message from a transfer's end is
//!   exactly that transfer's text, a plain frame comes back as it went;
//! - memory stays within the limits: what the reassemblies hold together within
//!   `max_buffered`, and no more of them than `max_in_flight`;
//! - every frame the receiver sends back is a version-2 `ack` or `refuse`;
//! - frames about this side's sends never deliver a message.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use nmframe::chunked::{
    Accepted, ChunkOptions, Parts, Reassembler, TransferCode, VERSION, is_envelope,
};

const IDS: usize = 4;

fn options() -> ChunkOptions {
    ChunkOptions {
        max_bytes: 1200,
        max_in_flight: 3,
        max_buffered: 1800,
        timeout: Duration::from_millis(50),
        ..ChunkOptions::default()
    }
}

/// One transfer of the model: the text, the frames it is sent as, and how far it went.
struct Transfer {
    text: Vec<u8>,
    frames: Vec<Vec<u8>>,
    next: usize,
}

/// The text of a message: JSON with escapes, multi-byte characters and a length the
/// program picks (up to past `max_bytes`).
fn text(pick: u8, len: u8) -> Vec<u8> {
    let unit: &str = match pick % 4 {
        0 => "a",
        1 => "\u{e9}\\\"",
        2 => "\u{1F600}\\n",
        _ => "\\u0001x",
    };
    let mut s = String::from("[\"");
    for _ in 0..(usize::from(len) * 5 / unit.len().max(1)) {
        s.push_str(unit);
    }
    s.push_str("\",1]");
    s.into_bytes()
}

fn frames_of(id: u32, text: &[u8], max_frame: usize, window: u32) -> Vec<Vec<u8>> {
    let mut parts = Parts::new(id, text, max_frame, window);
    let mut frames = Vec::new();
    let mut frame = Vec::new();
    while parts.next_frame(&mut frame) {
        frames.push(frame.clone());
    }
    frames
}

/// What the receiver must make of the frame the program sent.
enum Expect {
    /// Anything but a message (a part, an abort, a corrupted frame...).
    NoMessage,
    /// Exactly this message, or nothing (a transfer's end: delivered only whole).
    WholeOrNothing(Vec<u8>),
    /// This message, as it is (a plain frame).
    Exactly(Vec<u8>),
    /// No check on what comes back (arbitrary bytes).
    Anything,
}

/// What a program made the receiver do.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Messages delivered from transfers.
    pub reassembled: usize,
    /// Plain messages delivered.
    pub plain: usize,
    /// Failures reported, expiries included.
    pub failed: usize,
}

/// Runs the program `data`.
pub fn chunked_receive(data: &[u8]) {
    run(data);
}

/// Runs the program `data`, and counts what happened.
pub fn run(data: &[u8]) -> Tally {
    let mut tally = Tally::default();
    let mut rx = Reassembler::new(options());
    let mut model: Vec<Option<Transfer>> = (0..IDS).map(|_| None).collect();
    let start = Instant::now();
    let mut clock = start;
    let mut bytes = data.iter().copied();
    while let Some(op) = bytes.next() {
        let arg = bytes.next().unwrap_or(0);
        let id = usize::from(arg) % IDS;
        let (frame, expect) = match op % 10 {
            // A transfer starts (and its first part goes).
            0 => {
                let text = text(arg / 4, bytes.next().unwrap_or(0));
                let max_frame = 256 + usize::from(bytes.next().unwrap_or(0)) * 4;
                let window = u32::from(op / 10 % 3);
                let frames = frames_of(id as u32, &text, max_frame, window);
                let first = frames[0].clone();
                model[id] = Some(Transfer {
                    text,
                    frames,
                    next: 1,
                });
                (first, Expect::NoMessage)
            }
            // The transfer's next frame; corrupted; or skipped.
            1..=3 => {
                let Some(t) = model[id].as_mut() else {
                    continue;
                };
                let Some(frame) = t.frames.get(t.next).cloned() else {
                    continue;
                };
                t.next += 1;
                if op % 10 == 3 {
                    continue; // lost on the way
                }
                let last = t.next == t.frames.len();
                let mut frame = frame;
                if op % 10 == 2 {
                    let at = usize::from(bytes.next().unwrap_or(0)) % frame.len();
                    frame[at] ^= 1 << (arg % 8);
                }
                let expect = if !is_envelope(&frame) {
                    // Corrupted out of the envelope: a plain message now, delivered as such.
                    Expect::Exactly(frame.clone())
                } else if last {
                    Expect::WholeOrNothing(t.text.clone())
                } else {
                    Expect::NoMessage
                };
                (frame, expect)
            }
            // The peer gives its transfer up.
            4 => {
                model[id] = None;
                let frame = format!(r#"{{"$nmframe":2,"t":"abort","id":{id},"reason":"x"}}"#);
                (frame.into_bytes(), Expect::NoMessage)
            }
            // A plain message.
            5 => {
                let text = text(arg, arg / 16);
                (text.clone(), Expect::Exactly(text))
            }
            // Arbitrary bytes as a frame: any id they name is no longer the model's.
            6 => {
                let n = usize::from(arg % 64);
                let raw: Vec<u8> = bytes.by_ref().take(n).collect();
                if is_envelope(&raw) {
                    model.iter_mut().for_each(|t| *t = None);
                }
                (raw, Expect::Anything)
            }
            // Time passes; transfers silent too long expire.
            7 => {
                clock += Duration::from_millis(u64::from(arg));
                while let Some(err) = rx.expire(clock) {
                    tally.failed += 1;
                    assert_eq!(err.code(), TransferCode::Timeout, "{err}");
                    if let Some(id) = err.id() {
                        model[id as usize % IDS] = None;
                    }
                }
                check(&mut rx);
                continue;
            }
            // An answer to one of this side's own sends.
            8 => {
                let frame = if arg % 2 == 0 {
                    format!(r#"{{"$nmframe":2,"t":"ack","id":{id},"seq":{arg}}}"#)
                } else {
                    format!(
                        r#"{{"$nmframe":2,"t":"refuse","id":{id},"code":"too-large","reason":"r"}}"#
                    )
                };
                (frame.into_bytes(), Expect::NoMessage)
            }
            // Another version's part.
            _ => {
                let frame = format!(r#"{{"$nmframe":1,"t":"part","id":{id},"seq":0,"data":"x"}}"#);
                (frame.into_bytes(), Expect::NoMessage)
            }
        };
        if frame.is_empty() {
            continue;
        }
        let accepted = rx.accept(BytesMut::from(&frame[..]), clock);
        match (&accepted, &expect) {
            (Accepted::Message(m), Expect::Exactly(want)) => {
                tally.plain += 1;
                assert_eq!(&m[..], &want[..], "a plain message changed")
            }
            (Accepted::Message(m), Expect::WholeOrNothing(want)) => {
                tally.reassembled += 1;
                assert_eq!(&m[..], &want[..], "a message that was not sent whole")
            }
            (Accepted::Message(m), Expect::NoMessage) => {
                panic!("a message from a frame that completes none: {m:?}")
            }
            (_, Expect::Exactly(want)) => panic!("a plain message {want:?} not delivered"),
            (Accepted::Failed(err) | Accepted::Refused(err), _) => {
                tally.failed += 1;
                if let Some(id) = err.id()
                    && err.code() != TransferCode::Refused
                {
                    model[id as usize % IDS] = None;
                }
            }
            _ => {}
        }
        if let (Accepted::Message(_), Expect::WholeOrNothing(_)) = (&accepted, &expect) {
            model[id] = None;
        }
        check(&mut rx);
    }
    tally
}

/// The limits hold, and what the receiver sends back is a version-2 answer.
fn check(rx: &mut Reassembler) {
    let limits = options();
    assert!(
        rx.buffered() <= limits.max_buffered,
        "{} bytes held, over {}",
        rx.buffered(),
        limits.max_buffered
    );
    assert!(rx.in_flight() <= limits.max_in_flight);
    for frame in rx.outbox().drain(..) {
        let v: serde_json::Value = serde_json::from_slice(&frame).expect("an answer is JSON");
        assert_eq!(v["$nmframe"], VERSION);
        assert!(v["t"] == "ack" || v["t"] == "refuse", "{v}");
        assert!(v["id"].is_u64());
    }
}
