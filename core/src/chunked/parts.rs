//! The sender's side: a large message cut into part frames and an end frame.

use std::io::Write as _;

use super::wire::{COST, KEY, VERSION, escape_into};

/// Room for a part's members other than `data`: the longest (part 0, with `total` and
/// `window`) is under 110 bytes.
const PART_OVERHEAD: usize = 128;

/// The frames one large message is sent as: parts, then the end frame. Sans-IO: each
/// call to [`next_frame`](Self::next_frame) writes one frame's payload into a buffer
/// the caller reuses, so sending holds the message once plus one frame.
///
/// ```
/// use nmframe::chunked::Parts;
///
/// let text = br#"{"rows":["a","b","c"]}"#;
/// let mut parts = Parts::new(5, text, 256, 0);
/// let mut frame = Vec::new();
/// assert!(parts.next_frame(&mut frame));
/// assert!(frame.starts_with(br#"{"$nmframe":2,"t":"part","id":5,"seq":0"#));
/// assert!(parts.next_frame(&mut frame)); // the end frame: length and CRC-32
/// assert!(frame.starts_with(br#"{"$nmframe":2,"t":"end","id":5,"seq":1,"bytes":22"#));
/// assert!(!parts.next_frame(&mut frame));
/// ```
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

    /// How many bytes of the message's text the parts written so far carry.
    pub fn bytes_written(&self) -> usize {
        self.pos
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

// Not under Miri: safe code only, and its longer texts reach simdutf8's AVX2 code, where
// Miri stops (an operation it does not support). The native run and the fuzz targets
// cover it.
#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_zlibs() {
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn every_frame_fits_and_pieces_end_between_utf8_sequences() {
        let text = "\u{1F600}\"\\\n\u{1}".repeat(500);
        let mut parts = Parts::new(1, text.as_bytes(), 256, 8);
        let mut frame = Vec::new();
        let mut frames = 0;
        while parts.next_frame(&mut frame) {
            assert!(frame.len() <= 256, "a {}-byte frame", frame.len());
            let v: serde_json::Value = serde_json::from_slice(&frame).expect("JSON");
            assert_eq!(v["$nmframe"], 2);
            frames += 1;
        }
        assert!(frames > 20);
        assert_eq!(parts.bytes_written(), text.len());
    }
}
