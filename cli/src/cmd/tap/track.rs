//! Following the frames of one direction as its bytes go by, and judging the host's
//! replies by the browser model.

use bytes::BytesMut;
use nmframe::{Browser, Cut, FrameScanner, HEADER_LEN, JsonDecoder, Limits, Scanned};

use super::log::{Dir, Entry};
use super::writer::Log;
use crate::browser::{Verdict, judge, oversized, says};

/// Bytes of a payload kept in the log without `--bodies`.
pub(super) const HEAD: usize = 64;

/// Follows the frames in one direction as the bytes go by, without holding the stream
/// up: headers, the first bytes of each payload (or all of it), and for the host's
/// replies the whole payload, to judge it as the browser would. The boundaries come from
/// the core's `FrameScanner`, not its `FrameDecoder`: the decoder hands out whole
/// payloads, and the tap lets the payload bytes it does not keep pass unread (spliced
/// to /dev/null).
pub(super) struct Tracker {
    pub(super) dir: Dir,
    browser: Browser,
    bodies: bool,
    pub(super) log: Log,
    json: JsonDecoder,
    scanner: FrameScanner,
    payload: BytesMut,
}

impl Tracker {
    pub(super) fn new(dir: Dir, browser: Browser, bodies: bool, log: Log) -> Tracker {
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
    pub(super) fn keeps_all(&self) -> bool {
        self.bodies || self.dir == Dir::ToBrowser
    }

    pub(super) fn feed(&mut self, mut bytes: &[u8]) {
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
    pub(super) fn too_large(&mut self, at: u64, len: u32, after: &[u8]) {
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

    pub(super) fn finish_frame(&mut self, at: u64, len: u64) {
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
            let verdicts = judge(self.browser, payload, at, &mut self.json);
            let (mut verdict, mut why, mut says) = ("ok", Vec::new(), None);
            for event in verdicts {
                match event {
                    Verdict::Dropped(text) => {
                        verdict = "dropped";
                        why.push(text);
                    }
                    Verdict::Fatal {
                        browser_says,
                        diagnosis,
                    } => {
                        verdict = "fatal";
                        why.push(diagnosis);
                        says = Some(browser_says);
                        // The browser reads no further: neither does the tap.
                        self.scanner.lose();
                    }
                    Verdict::Deliver(_) => {}
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
    pub(super) fn skippable(&self) -> u64 {
        if self.scanner.is_lost() || (!self.keeps_all() && self.payload.len() >= HEAD) {
            self.scanner.payload_due()
        } else {
            0
        }
    }

    /// Passes over `n` bytes that [`skippable`](Self::skippable) allowed.
    #[cfg(target_os = "linux")]
    pub(super) fn skip(&mut self, n: u64) {
        if let Some(Scanned::End { at, len }) = self.scanner.skip(n) {
            self.finish_frame(at, u64::from(len));
        }
    }

    /// The stream ended: at a boundary, or inside a frame.
    pub(super) fn end(&mut self) {
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
                    entry.browser_says = Some(says(self.browser).to_owned());
                }
                self.log.send(entry);
            }
            None => self.log.send(Entry::new("eof").dir(self.dir)),
        }
    }
}
