//! Frame decoding: over a borrowed slice, or streaming into an owned buffer.

use std::io::{self, Read};

use bytes::{Buf, BytesMut};

use crate::error::{Error, Result};
use crate::limits::{Cap, HEADER_LEN, Limits};

/// The outcome of [`decode_frame`] when no error occurred.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole frame was found at the start of the buffer.
    Frame {
        /// The payload: a view into the buffer, `buf[HEADER_LEN..consumed]`.
        payload: &'a [u8],
        /// Bytes the frame takes in the buffer, header included.
        consumed: usize,
    },
    /// The buffer holds the start of a frame but not all of it. This is not an error:
    /// read more bytes and try again.
    Incomplete {
        /// How many more bytes are needed at least. While the header is incomplete
        /// this counts only the rest of the header.
        needed: usize,
    },
}

/// Reads the payload length out of a frame header.
#[inline]
pub fn frame_len(header: [u8; HEADER_LEN]) -> u32 {
    u32::from_ne_bytes(header)
}

/// Checks an announced length against a cap. `offset` is the header's stream offset.
#[inline]
pub(crate) fn check_len(header: [u8; HEADER_LEN], cap: Cap, offset: u64) -> Result<usize> {
    let len = frame_len(header);
    if len > cap.max {
        return Err(Error::FrameTooLarge {
            offset,
            len: u64::from(len),
            limit: cap.max,
            direction: cap.direction,
            header: Some(header),
        });
    }
    // A u32 always fits in usize on the 32- and 64-bit targets we build for.
    Ok(len as usize)
}

/// Decodes the frame at the start of `buf`, without copying or allocating.
///
/// The header is checked against `cap` as soon as its four bytes are there, before
/// the payload is waited for. A zero-length frame is returned as an empty payload.
///
/// ```
/// use nmframe::{decode_frame, Cap, Decoded, Direction};
///
/// let cap = Cap::protocol(Direction::BrowserToHost);
/// let mut wire = 7u32.to_ne_bytes().to_vec();
/// wire.extend_from_slice(br#"{"a":1}"#);
/// wire.extend_from_slice(&[3, 0]); // the start of the next header
///
/// let Decoded::Frame { payload, consumed } = decode_frame(&wire, cap)? else { panic!() };
/// assert_eq!(payload, br#"{"a":1}"#);
/// assert_eq!(decode_frame(&wire[consumed..], cap)?, Decoded::Incomplete { needed: 2 });
/// # Ok::<(), nmframe::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::FrameTooLarge`] when the header announces more than `cap.max` bytes. The
/// error's offset is 0: `buf` is taken to start at a frame boundary.
#[inline]
pub fn decode_frame(buf: &[u8], cap: Cap) -> Result<Decoded<'_>> {
    let Some((header, rest)) = buf.split_first_chunk::<HEADER_LEN>() else {
        return Ok(Decoded::Incomplete {
            needed: HEADER_LEN - buf.len(),
        });
    };
    let len = check_len(*header, cap, 0)?;
    match rest.get(..len) {
        Some(payload) => Ok(Decoded::Frame {
            payload,
            consumed: HEADER_LEN + len,
        }),
        None => Ok(Decoded::Incomplete {
            needed: len - rest.len(),
        }),
    }
}

/// An iterator over the frames of a byte slice, for captured streams and buffers
/// that hold many frames. Errors carry stream offsets counted from the slice's start.
///
/// ```
/// use nmframe::{Cap, Direction, SliceFrames};
///
/// let mut wire = Vec::new();
/// for msg in [&b"1"[..], b"[2]", b"\"three\""] {
///     wire.extend_from_slice(&(msg.len() as u32).to_ne_bytes());
///     wire.extend_from_slice(msg);
/// }
/// let mut frames = SliceFrames::new(&wire, Cap::protocol(Direction::HostToBrowser));
/// let all: Vec<&[u8]> = frames.by_ref().collect::<Result<_, _>>()?;
/// assert_eq!(all, [&b"1"[..], b"[2]", b"\"three\""]);
/// assert!(frames.finish().is_ok()); // nothing left over
/// # Ok::<(), nmframe::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SliceFrames<'a> {
    buf: &'a [u8],
    pos: usize,
    cap: Cap,
    failed: bool,
}

impl<'a> SliceFrames<'a> {
    /// Iterates over the frames in `buf` with `cap` on each payload.
    pub fn new(buf: &'a [u8], cap: Cap) -> Self {
        SliceFrames {
            buf,
            pos: 0,
            cap,
            failed: false,
        }
    }

    /// Offset of the next frame: everything before it was delivered.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// The bytes not yet decoded.
    pub fn remainder(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Checks how the slice ends once iteration stops: `Ok` when it ended at a frame
    /// boundary, or the truncation error for the partial frame at its end.
    ///
    /// # Errors
    ///
    /// [`Error::TruncatedHeader`] or [`Error::TruncatedPayload`], with the numbers.
    pub fn finish(&self) -> Result<()> {
        truncation(self.remainder(), self.pos as u64)
    }
}

impl<'a> Iterator for SliceFrames<'a> {
    type Item = Result<&'a [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let offset = self.pos as u64;
        match decode_frame(self.remainder(), self.cap) {
            Ok(Decoded::Frame { payload, consumed }) => {
                self.pos += consumed;
                Some(Ok(payload))
            }
            Ok(Decoded::Incomplete { .. }) => None,
            Err(mut err) => {
                self.failed = true;
                if let Error::FrameTooLarge { offset: o, .. } = &mut err {
                    *o = offset;
                }
                Some(Err(err))
            }
        }
    }
}

/// The error for bytes left at the end of a stream: none when `rest` is empty.
pub(crate) fn truncation(rest: &[u8], offset: u64) -> Result<()> {
    match rest.split_first_chunk::<HEADER_LEN>() {
        None if rest.is_empty() => Ok(()),
        None => Err(Error::TruncatedHeader {
            offset,
            received: rest.len(),
        }),
        Some((header, payload)) => Err(Error::TruncatedPayload {
            offset,
            expected: frame_len(*header) as usize,
            received: payload.len(),
            header: *header,
        }),
    }
}

/// How much room one read gets while no frame length is known, and the least a read
/// window grows by. Big enough that many small frames arrive in one system call.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// The least room [`FrameDecoder::read_buf`] offers a read before growing the buffer.
pub(crate) const MIN_READ: usize = READ_CHUNK / 4;

/// The largest allocation a decoder keeps once the frames are small again: what a large
/// frame needed above this is given back after the next small frame, not held for the
/// rest of the connection (a stream of large frames keeps its buffer).
const KEEP_AT_MOST: usize = 8 << 20;

/// A streaming frame decoder that owns its buffer.
///
/// Bytes go in by [`read_from`](Self::read_from) (straight from any [`Read`], into the
/// buffer, no intermediate copy), by [`read_buf`](Self::read_buf) +
/// [`commit`](Self::commit) (for callers that do their own I/O), or by
/// [`push`](Self::push) (a copy). Those three are the only ways in. Frames come out of [`decode`](Self::decode) as [`BytesMut`]
/// split off the buffer: owned, mutable (simd-json parses in place), and never copied.
///
/// The buffer grows only with bytes that actually arrive: a header announcing 4 GiB
/// costs a read window of 64 KiB, and the window never grows by more than what
/// has already arrived, so memory stays within about twice the bytes received. Frames
/// are checked against the inbound cap as soon as their header is complete.
///
/// ```
/// use nmframe::{FrameDecoder, Limits};
///
/// let mut decoder = FrameDecoder::new(Limits::host());
/// let mut wire = 2u32.to_ne_bytes().to_vec();
/// wire.extend_from_slice(b"{}");
///
/// decoder.push(&wire[..3]); // half a header
/// assert!(decoder.decode()?.is_none());
/// decoder.push(&wire[3..]);
/// assert_eq!(&decoder.decode()?.unwrap()[..], b"{}");
/// assert!(decoder.finish().is_ok()); // the stream may end here
/// # Ok::<(), nmframe::Error>(())
/// ```
#[derive(Debug)]
pub struct FrameDecoder {
    /// The received bytes not yet returned as frames; its spare capacity is the read
    /// window.
    ///
    /// INVARIANT: every byte of the allocation behind `buf` is initialised. `buf` grows
    /// or shrinks only in [`reserve`](Self::reserve): by `try_reclaim`, which reuses its
    /// own allocation and never allocates, or into a `Vec` whose capacity past the
    /// received bytes is zeroed.
    /// A read window can therefore be handed out as `&mut [u8]` without zeroing it
    /// first: a 1 MiB frame costs one pass over its bytes (the read), not two.
    buf: BytesMut,
    /// The allocation `buf` had before its last move, kept (empty) while frames handed
    /// out from it may still be alive, and reused once they are dropped: a host that
    /// writes one frame on another thread while it reads the next alternates between
    /// two allocations instead of making a new one per frame. Same INVARIANT as `buf`.
    spare: BytesMut,
    /// Whether frames were split off `buf`'s current allocation: it may be shared.
    shared_out: bool,
    /// Payload length of the frame whose header is at the start of `buf`, once known.
    pending: Option<usize>,
    /// Stream offset of `buf[0]`.
    offset: u64,
    cap: Cap,
    /// Set once an oversized header was seen: the stream has no frame boundary left.
    poisoned: bool,
    /// The length of the last frame handed out: while frames are that large, the
    /// buffer keeps the room they need.
    last_len: usize,
    /// The size of `buf`'s allocation, and of `spare`'s.
    alloc: usize,
    spare_alloc: usize,
}

impl FrameDecoder {
    /// A decoder with the inbound cap of `limits`.
    pub fn new(limits: Limits) -> Self {
        Self::with_cap(limits.inbound())
    }

    /// A decoder with an explicit cap.
    pub fn with_cap(cap: Cap) -> Self {
        FrameDecoder {
            buf: BytesMut::new(),
            spare: BytesMut::new(),
            shared_out: false,
            pending: None,
            offset: 0,
            cap,
            poisoned: false,
            last_len: 0,
            alloc: 0,
            spare_alloc: 0,
        }
    }

    /// The cap frames are checked against.
    pub fn cap(&self) -> Cap {
        self.cap
    }

    /// Received bytes not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The received bytes not yet returned as frames, starting at
    /// [`offset`](Self::offset): what a diagnosis shows after a bad header.
    pub fn buffered_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Stream offset of the next byte [`decode`](Self::decode) will look at.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether a whole frame is buffered, so that [`decode`](Self::decode) returns it
    /// without more input. Writers use this to batch replies: while it is true, more
    /// replies are coming before the next read would block.
    pub fn has_frame(&self) -> bool {
        let Some(header) = self.buf.first_chunk::<HEADER_LEN>() else {
            return false;
        };
        let len = frame_len(*header);
        len <= self.cap.max && HEADER_LEN + len as usize <= self.buf.len()
    }

    /// Copies `bytes` into the buffer.
    pub fn push(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        // Within the capacity just reserved: `extend_from_slice` does not allocate.
        self.buf.extend_from_slice(bytes);
    }

    /// Makes room for at least `additional` bytes after the received ones: in the
    /// allocation the buffer already has when the frames handed out from it were
    /// dropped (the steady state of a host: nothing allocated, nothing zeroed), or in
    /// the spare one; otherwise by growing it to exactly the size needed
    /// (`BytesMut::reserve` would double, leaving a 64 MiB frame in a 128 MiB
    /// allocation). Only capacity that is new is zeroed, once, to keep the INVARIANT.
    fn reserve(&mut self, additional: usize) {
        let len = self.buf.len();
        if self.oversized(len + additional) {
            // A large frame's allocation, far larger than frames are now: move the few
            // bytes received over to a buffer of the size needed, and let the large one
            // go (now, or when the frame handed out from it is dropped).
            let mut vec = Vec::with_capacity(len + additional.max(READ_CHUNK));
            vec.extend_from_slice(&self.buf);
            self.install(vec, len);
            self.spare = BytesMut::new();
            self.spare_alloc = 0;
            return;
        }
        if self.buf.try_reclaim(additional) {
            return;
        }
        if self.spare.try_reclaim(len + additional) {
            // The frames of the previous allocation are gone: move the partial frame
            // over (within the capacity just reclaimed: no allocation).
            self.spare.extend_from_slice(&self.buf);
            std::mem::swap(&mut self.buf, &mut self.spare);
            std::mem::swap(&mut self.alloc, &mut self.spare_alloc);
            self.spare.clear();
            self.shared_out = false;
            return;
        }
        let vec = if self.shared_out {
            // Frames of this allocation may be alive (a writer thread may hold one):
            // keep a handle to it as the spare and copy the partial frame out, unless
            // it is a large frame's, which goes with that frame.
            if self.alloc > KEEP_AT_MOST {
                self.spare = BytesMut::new();
                self.spare_alloc = 0;
            } else {
                self.spare = self.buf.split_to(0);
                self.spare_alloc = self.alloc;
            }
            let mut vec = Vec::with_capacity(len + additional);
            vec.extend_from_slice(&std::mem::take(&mut self.buf));
            vec
        } else {
            // BytesMut → Vec hands a unique allocation back without a copy, and
            // `reserve_exact` grows it in place where the allocator can (large blocks
            // are remapped): the peak stays near the new size, not old plus new.
            let mut vec = Vec::from(std::mem::take(&mut self.buf));
            vec.reserve_exact(additional);
            vec
        };
        self.install(vec, len);
    }

    /// Makes `vec` (holding the `len` bytes received) the buffer: its capacity past
    /// them zeroed, for the INVARIANT, and handed over without a copy.
    fn install(&mut self, mut vec: Vec<u8>, len: usize) {
        self.shared_out = false;
        vec.resize(vec.capacity(), 0);
        self.alloc = vec.len();
        // Vec (length = capacity) → Bytes → BytesMut, again without a copy.
        self.buf = BytesMut::from(bytes::Bytes::from(vec));
        self.buf.truncate(len);
    }

    /// Whether the buffer is a large frame's that frames have outgrown: its allocation
    /// over [`KEEP_AT_MOST`], and over four times what is needed now and what the last
    /// frame took.
    fn oversized(&self, need: usize) -> bool {
        self.alloc > KEEP_AT_MOST && self.alloc / 4 > need && self.alloc / 4 > self.last_len
    }

    /// A writable region of at least `min` bytes at the end of the buffer, for a
    /// caller that reads into it directly; report how much it filled with
    /// [`commit`](Self::commit). What the region holds before it is written is
    /// unspecified (zeros, or bytes of frames already returned).
    fn writable(&mut self, min: usize) -> &mut [u8] {
        if self.writable_len() < min {
            self.reserve(min);
        }
        let spare = self.buf.spare_capacity_mut();
        // SAFETY: `spare` is the buffer's spare capacity, valid for writes of its length
        // and borrowed mutably from `self` for as long as the returned slice; every byte
        // of it is initialised (INVARIANT on `buf`), so viewing it as `[u8]` is sound.
        unsafe { std::slice::from_raw_parts_mut(spare.as_mut_ptr().cast::<u8>(), spare.len()) }
    }

    /// The size of the writable region at the end of the buffer: what a
    /// [`commit`](Self::commit) may claim.
    pub fn writable_len(&self) -> usize {
        self.buf.capacity() - self.buf.len()
    }

    /// Marks `n` bytes of the region last returned by [`read_buf`](Self::read_buf) as
    /// received.
    ///
    /// # Panics
    ///
    /// If `n` is larger than [`writable_len`](Self::writable_len).
    pub fn commit(&mut self, n: usize) {
        assert!(
            n <= self.writable_len(),
            "commit of {n} bytes exceeds the {} writable bytes",
            self.writable_len()
        );
        let len = self.buf.len() + n;
        // SAFETY: `len` is within the capacity (asserted above), and every byte up to
        // the capacity is initialised (INVARIANT on `buf`).
        unsafe { self.buf.set_len(len) };
    }

    /// The size of the next read window: [`READ_CHUNK`] while no large frame is
    /// arriving; for a large frame, what is still missing of it, but never more than
    /// what has already arrived (so a lying header costs nothing) and never past the
    /// frame's end (so a 64 MiB message ends in a buffer of about 64 MiB).
    fn read_window(&self) -> usize {
        let filled = self.buf.len();
        let len = self.pending.or_else(|| {
            let header = self.buf.first_chunk::<HEADER_LEN>()?;
            Some(frame_len(*header) as usize)
        });
        let missing = len.map_or(0, |len| (HEADER_LEN + len).saturating_sub(filled));
        missing.min(filled).max(READ_CHUNK)
    }

    /// Room for the next read, for a caller that does its own I/O: at least `min`
    /// bytes, and at least 16 KiB. With nothing buffered, the room starts at the front
    /// of the buffer once the frames handed out from it are dropped, so that a frame
    /// never has to be moved there later. While that much is free the buffer is left
    /// alone; otherwise it grows by the next read window (64 KiB while no large frame is
    /// arriving; for a large one, what is missing of it, but never more than what has
    /// already arrived, so a lying header costs nothing), so a frame that arrives in
    /// small pieces costs a handful of reallocations, not one per read.
    /// Report what was filled with [`commit`](Self::commit).
    pub fn read_buf(&mut self, min: usize) -> &mut [u8] {
        let min = min.max(MIN_READ);
        if self.buf.is_empty() && self.writable_len() < self.alloc && !self.oversized(0) {
            // Nothing is waiting to be decoded: once the frames handed out are dropped,
            // the whole allocation is free, and reading into its start moves nothing.
            // Reading into the tail instead, a frame larger than the tail would have its
            // first part moved to the front when the rest arrives: a copy of nearly
            // every large message, for a host that answers one message at a time.
            // (No allocation either way: `try_reclaim` fails while a frame is alive.)
            let _ = self.buf.try_reclaim(self.alloc);
        }
        if self.writable_len() < min || self.oversized(self.buf.len() + min) {
            let grow = self.read_window().max(min);
            self.reserve(grow);
        }
        self.writable(0)
    }

    /// Reads once from `reader` straight into the buffer. Returns the number of bytes
    /// read; 0 means end of stream. Retries on `Interrupted`.
    ///
    /// # Errors
    ///
    /// The reader's error.
    pub fn read_from<R: Read + ?Sized>(&mut self, reader: &mut R) -> io::Result<usize> {
        let space = self.read_buf(0);
        loop {
            match reader.read(space) {
                Ok(n) => {
                    self.commit(n);
                    return Ok(n);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
    }

    /// The next whole frame, split off the buffer without copying, or `None` when more
    /// bytes are needed.
    ///
    /// # Errors
    ///
    /// [`Error::FrameTooLarge`] when a header exceeds the cap. It is fatal: the same
    /// error is returned by every later call, since the stream has lost its framing.
    pub fn decode(&mut self) -> Result<Option<BytesMut>> {
        let len = match self.pending {
            Some(len) => len,
            None => {
                let Some(header) = self.buf.first_chunk::<HEADER_LEN>() else {
                    return Ok(None);
                };
                match check_len(*header, self.cap, self.offset) {
                    Ok(len) => {
                        self.pending = Some(len);
                        len
                    }
                    Err(err) => {
                        self.poisoned = true;
                        return Err(err);
                    }
                }
            }
        };
        let total = HEADER_LEN + len;
        if self.buf.len() < total {
            return Ok(None);
        }
        self.buf.advance(HEADER_LEN);
        let frame = self.buf.split_to(len);
        self.shared_out = true;
        self.last_len = len;
        self.offset += total as u64;
        self.pending = None;
        Ok(Some(frame))
    }

    /// Declares the end of the stream: `Ok` when it ended at a frame boundary,
    /// otherwise the error that says how much of the last frame arrived.
    ///
    /// # Errors
    ///
    /// [`Error::TruncatedHeader`] or [`Error::TruncatedPayload`]; the
    /// [`Error::FrameTooLarge`] again for a stream that had an oversized header.
    pub fn finish(&self) -> Result<()> {
        let rest = &self.buf[..];
        if self.poisoned
            && let Some(header) = rest.first_chunk::<HEADER_LEN>()
        {
            // The header is still there: report what made the stream unreadable.
            check_len(*header, self.cap, self.offset)?;
        }
        truncation(rest, self.offset)
    }

    /// Whether an oversized header has ended this stream.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Forgets all buffered bytes and starts over at stream offset 0, keeping the
    /// buffer's memory.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.pending = None;
        self.offset = 0;
        self.poisoned = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Direction;

    /// Feeds `wire` through `read_buf` + `commit` in reads of `step` bytes, keeping
    /// every `keep`-th frame alive (so that the buffer cannot be reclaimed and must
    /// grow into a new allocation) and dropping the others (so that it is reclaimed).
    /// Under Miri this checks the INVARIANT on `buf`: a window handed out without
    /// zeroing is never uninitialised memory.
    fn feed(wire: &[u8], step: usize, keep: usize) -> Vec<Vec<u8>> {
        let mut decoder = FrameDecoder::with_cap(Cap::protocol(Direction::BrowserToHost));
        let mut kept = Vec::new();
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            while let Some(frame) = decoder.decode().unwrap() {
                out.push(frame.to_vec());
                if keep != 0 && out.len() % keep == 0 {
                    kept.push(frame);
                }
            }
            if at == wire.len() {
                break;
            }
            let n = step.min(wire.len() - at);
            let room = decoder.read_buf(0);
            // Whatever the window holds before the read is readable: old bytes or zeros.
            // (Its ends only: Miri checks every byte read, at great cost.)
            let ends = room.iter().take(512).chain(room.iter().rev().take(512));
            std::hint::black_box(ends.fold(0u8, |a, &b| a ^ b));
            let n = n.min(room.len());
            room[..n].copy_from_slice(&wire[at..at + n]);
            decoder.commit(n);
            at += n;
        }
        decoder.finish().unwrap();
        drop(kept);
        out
    }

    #[test]
    fn windows_reused_without_zeroing_hold_exactly_what_arrived() {
        let sizes: &[usize] = if cfg!(miri) {
            &[0, 1, 7, 300, 5000, 70_000, 3]
        } else {
            &[0, 1, 7, 300, 5000, 70_000, 3, 20_000, 300_000, 1 << 20]
        };
        let payloads: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|k| (k * 31 + i) as u8).collect())
            .collect();
        let mut wire = Vec::new();
        for p in &payloads {
            wire.extend_from_slice(&(p.len() as u32).to_ne_bytes());
            wire.extend_from_slice(p);
        }
        let steps: &[usize] = if cfg!(miri) {
            &[65_536]
        } else {
            &[1000, 4096, 65_536]
        };
        let keeps: &[usize] = if cfg!(miri) { &[0, 2] } else { &[0, 1, 2, 3] };
        for &step in steps.iter().chain([&wire.len()]) {
            for &keep in keeps {
                assert_eq!(
                    feed(&wire, step, keep),
                    payloads,
                    "step {step}, keep {keep}"
                );
            }
        }
    }

    /// One message at a time, each dropped before the next is read, as a host that
    /// answers each message does: every frame is read into the start of the one
    /// allocation, so no part of it is ever moved (a frame that straddled the tail
    /// had its first part copied to the front when the rest arrived).
    #[test]
    fn frames_read_one_at_a_time_start_at_the_front_and_are_never_moved() {
        let mut decoder = FrameDecoder::with_cap(Cap::protocol(Direction::BrowserToHost));
        let payload = vec![b'7'; 65_536];
        let mut wire = (payload.len() as u32).to_ne_bytes().to_vec();
        wire.extend_from_slice(&payload);
        let mut front = None;
        // Three under Miri, which copies the 64 KiB a byte at a time.
        let messages = if cfg!(miri) { 3 } else { 5 };
        for message in 0..messages {
            let mut at = 0;
            let frame = loop {
                if let Some(frame) = decoder.decode().unwrap() {
                    break frame;
                }
                // A pipe holds 64 KiB: the frame comes in reads of at most that.
                let room = decoder.read_buf(0);
                let n = room.len().min(wire.len() - at).min(65_536);
                // The first message grows the buffer to its size; then it stays.
                if at == 0 && message > 0 {
                    let start = room.as_ptr() as usize;
                    assert_eq!(*front.get_or_insert(start), start, "message {message}");
                }
                room[..n].copy_from_slice(&wire[at..at + n]);
                decoder.commit(n);
                at += n;
            };
            assert_eq!(&frame[..], &payload[..]);
            if let Some(front) = front {
                // Where the frame's bytes lie: the first read's window, not a copy.
                assert_eq!(
                    frame.as_ptr() as usize,
                    front + HEADER_LEN,
                    "message {message}"
                );
            }
        }
    }

    #[test]
    fn push_writable_and_commit_agree() {
        let mut decoder = FrameDecoder::with_cap(Cap::protocol(Direction::BrowserToHost));
        decoder.push(&3u32.to_ne_bytes());
        let room = decoder.writable(2);
        assert!(room.len() >= 2);
        room[..2].copy_from_slice(b"[1");
        decoder.commit(2);
        assert!(decoder.decode().unwrap().is_none());
        decoder.push(b"]");
        assert_eq!(&decoder.decode().unwrap().unwrap()[..], b"[1]");
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "8 MiB through the interpreter: the windows above cover the unsafe reads"
    )]
    fn a_large_frame_arrives_in_a_buffer_of_about_its_size() {
        let len = 8 << 20;
        let mut wire = (len as u32).to_ne_bytes().to_vec();
        wire.extend(std::iter::repeat_n(b'5', len));
        let mut decoder = FrameDecoder::new(Limits::host());
        let mut src = &wire[..];
        let mut reads = 0;
        let frame = loop {
            if let Some(f) = decoder.decode().unwrap() {
                break f;
            }
            // The window never runs past the frame's end.
            assert!(decoder.read_window() <= (len + 4 - decoder.buffered()).max(READ_CHUNK));
            decoder.read_from(&mut src).unwrap();
            reads += 1;
        };
        assert_eq!(frame.len(), len);
        // Windows double with what has arrived: a handful of reads, not len / 64 KiB.
        assert!(reads < 20, "{reads} reads");
        assert!(
            frame.capacity() < len + 2 * READ_CHUNK,
            "capacity {}",
            frame.capacity()
        );
    }
}
