//! Following frame boundaries in a stream without holding it: for a proxy that forwards
//! the bytes it reads and only looks at them (`nmframe tap`), where
//! [`FrameDecoder`](crate::FrameDecoder), which hands out whole payloads, would hold every
//! frame and could not let payload bytes pass unseen.

use crate::decode::check_len;
use crate::error::Error;
use crate::limits::{Cap, HEADER_LEN};

/// What [`FrameScanner::next`] found at the front of its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scanned<'a> {
    /// A header: the frame at stream offset `at` carries `len` bytes of payload.
    Header {
        /// The header's stream offset.
        at: u64,
        /// The payload's length.
        len: u32,
    },
    /// Some bytes of the current frame's payload, in order (a payload may come in many
    /// pieces).
    Payload(&'a [u8]),
    /// The frame at `at` is complete.
    End {
        /// The header's stream offset.
        at: u64,
        /// The payload's length.
        len: u32,
    },
    /// A header over the cap: the reader of this stream stops here, and no frame
    /// boundary after it can be trusted. Everything after it is [`Scanned::Lost`];
    /// [`FrameScanner::too_large`] gives the error with its numbers.
    TooLarge {
        /// The header's stream offset.
        at: u64,
        /// The length it announces.
        len: u32,
    },
    /// Bytes after the scanner stopped following frames.
    Lost(&'a [u8]),
}

/// How a stream ended, when not at a frame boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Inside a header: `have` of its 4 bytes arrived.
    InHeader {
        /// The header's stream offset.
        at: u64,
        /// Bytes of it that arrived.
        have: usize,
    },
    /// Inside the payload of the frame at `at`: `have` of its `len` bytes arrived.
    InPayload {
        /// The header's stream offset.
        at: u64,
        /// The payload's length.
        len: u32,
        /// Bytes of it that arrived.
        have: u64,
    },
}

/// Follows the frames of a stream as its bytes go by, holding none of them: headers
/// (even split across reads), payload bytes as they pass, frame ends, and a header over
/// the cap, after which the stream is lost. Sans-IO: the caller hands it each chunk it
/// reads, and may let payload bytes it does not need pass with [`skip`](Self::skip).
///
/// ```
/// use nmframe::{Cap, Direction, FrameScanner, Scanned};
///
/// let mut wire = 5u32.to_ne_bytes().to_vec();
/// wire.extend_from_slice(b"[1,2]");
/// let mut scanner = FrameScanner::new(Cap::protocol(Direction::HostToBrowser));
/// let (first, second) = wire.split_at(6); // the stream arrives in two reads
/// let mut seen = Vec::new();
/// for chunk in [first, second] {
///     let mut rest = chunk;
///     while let Some(event) = scanner.next(&mut rest) {
///         seen.push(event);
///     }
/// }
/// assert_eq!(seen, [
///     Scanned::Header { at: 0, len: 5 },
///     Scanned::Payload(b"[1"),
///     Scanned::Payload(b",2]"),
///     Scanned::End { at: 0, len: 5 },
/// ]);
/// assert!(scanner.cut().is_none()); // the stream may end here
/// ```
#[derive(Clone, Debug)]
pub struct FrameScanner {
    cap: Cap,
    /// Stream offset of the next byte.
    offset: u64,
    header: [u8; HEADER_LEN],
    have: usize,
    /// The frame whose payload is passing: its header's offset, length, bytes due.
    frame: Option<(u64, u32, u64)>,
    /// A frame with an empty payload, whose end is the next event.
    empty_end: Option<(u64, u32)>,
    lost: bool,
    /// The offset of the header over the cap, when that is what lost the stream.
    too_large_at: Option<u64>,
}

impl FrameScanner {
    /// A scanner that stops at a header over `cap`.
    pub fn new(cap: Cap) -> Self {
        FrameScanner {
            cap,
            offset: 0,
            header: [0; HEADER_LEN],
            have: 0,
            frame: None,
            empty_end: None,
            lost: false,
            too_large_at: None,
        }
    }

    /// The stream offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the scanner has stopped following frames (a header over the cap, or
    /// [`lose`](Self::lose)).
    pub fn is_lost(&self) -> bool {
        self.lost
    }

    /// Stops following frames: every later byte is [`Scanned::Lost`]. For a reader that
    /// has stopped reading (a browser after a fatal frame).
    pub fn lose(&mut self) {
        self.lost = true;
        self.frame = None;
        self.empty_end = None;
    }

    /// The next event from the front of `input`, which it advances past the bytes the
    /// event covers; `None` once `input` is used up and nothing is pending.
    pub fn next<'a>(&mut self, input: &mut &'a [u8]) -> Option<Scanned<'a>> {
        if let Some((at, len)) = self.empty_end.take() {
            return Some(Scanned::End { at, len });
        }
        if let Some((at, len, 0)) = self.frame {
            self.frame = None;
            return Some(Scanned::End { at, len });
        }
        if input.is_empty() {
            return None;
        }
        if self.lost {
            let lost = std::mem::take(input);
            self.offset += lost.len() as u64;
            return Some(Scanned::Lost(lost));
        }
        if let Some((at, len, due)) = self.frame {
            let take = usize::try_from(due).unwrap_or(usize::MAX).min(input.len());
            let (payload, rest) = input.split_at(take);
            *input = rest;
            self.offset += take as u64;
            self.frame = Some((at, len, due - take as u64));
            return Some(Scanned::Payload(payload));
        }
        // A header, perhaps split across reads.
        let take = (HEADER_LEN - self.have).min(input.len());
        self.header[self.have..self.have + take].copy_from_slice(&input[..take]);
        self.have += take;
        self.offset += take as u64;
        *input = &input[take..];
        if self.have < HEADER_LEN {
            return self.next(input);
        }
        self.have = 0;
        let at = self.offset - HEADER_LEN as u64;
        match check_len(self.header, self.cap, at) {
            Ok(len) => {
                let len = len as u32;
                if len == 0 {
                    self.empty_end = Some((at, 0));
                } else {
                    self.frame = Some((at, len, u64::from(len)));
                }
                Some(Scanned::Header { at, len })
            }
            Err(_) => {
                self.lost = true;
                self.too_large_at = Some(at);
                Some(Scanned::TooLarge {
                    at,
                    len: crate::decode::frame_len(self.header),
                })
            }
        }
    }

    /// The error of the header over the cap that lost the stream, with its numbers (and
    /// whether it looks like text), if that is what happened.
    pub fn too_large(&self) -> Option<Error> {
        let at = self.too_large_at?;
        check_len(self.header, self.cap, at).err()
    }

    /// How many of the next bytes are payload of the current frame: what a caller may
    /// pass by with [`skip`](Self::skip). Everything, once the stream is lost.
    pub fn payload_due(&self) -> u64 {
        if self.lost {
            return u64::MAX;
        }
        self.frame.map_or(0, |(_, _, due)| due)
    }

    /// Passes over `n` bytes of payload unseen (at most [`payload_due`](Self::payload_due));
    /// the frame's end when they complete it.
    ///
    /// # Panics
    ///
    /// If `n` is more than [`payload_due`](Self::payload_due).
    pub fn skip(&mut self, n: u64) -> Option<Scanned<'static>> {
        assert!(
            n <= self.payload_due(),
            "skipping {n} bytes where {} are payload",
            self.payload_due()
        );
        self.offset += n;
        let (at, len, due) = self.frame?;
        if due == n {
            self.frame = None;
            return Some(Scanned::End { at, len });
        }
        self.frame = Some((at, len, due - n));
        None
    }

    /// Where the stream stands if it ends now: `None` at a frame boundary (or once
    /// lost), otherwise how much of the last header or payload arrived.
    pub fn cut(&self) -> Option<Cut> {
        if self.lost {
            return None;
        }
        match self.frame {
            Some((at, len, due)) if due > 0 => Some(Cut::InPayload {
                at,
                len,
                have: u64::from(len) - due,
            }),
            Some(_) => None,
            None if self.have > 0 => Some(Cut::InHeader {
                at: self.offset - self.have as u64,
                have: self.have,
            }),
            None => None,
        }
    }
}
