//! Blocking adapters over `std::io`: a reader of frames and a writer of frames.

use std::io::{self, IoSlice, Read, Write};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::decode::FrameDecoder;
use crate::encode::{encode_header, encode_json};
use crate::error::{Error, Result};
use crate::host_stdio::{HostStdin, HostStdio, HostStdout};
use crate::json::JsonDecoder;
use crate::limits::{Cap, Limits};
use crate::outbound::{COPY_BELOW, Outbound, write_all_vectored};

/// Reads frames from any [`Read`], one [`BytesMut`] per message.
///
/// Reads are large (at least 64 KiB of room), so a
/// burst of small messages costs one system call, and frames come out without being
/// copied. The end of the stream at a frame boundary ends iteration; the end of the
/// stream inside a frame is an error that says how much arrived.
///
/// With [`validate_json`](Self::validate_json), each payload is checked by simd-json
/// before it is handed out; a frame that is not valid JSON is reported as an error
/// and the next frame can still be read.
///
/// ```
/// use nmframe::{FrameReader, Limits};
///
/// let mut wire = Vec::new();
/// for msg in [&br#"{"n":1}"#[..], br#"{"n":2}"#] {
///     wire.extend_from_slice(&(msg.len() as u32).to_ne_bytes());
///     wire.extend_from_slice(msg);
/// }
/// let reader = FrameReader::new(&wire[..], Limits::host());
/// let frames: Vec<_> = reader.collect::<Result<_, _>>()?;
/// assert_eq!(&frames[1][..], br#"{"n":2}"#);
/// # Ok::<(), nmframe::Error>(())
/// ```
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: R,
    decoder: FrameDecoder,
    json: Option<JsonDecoder>,
    /// End of stream seen, or a fatal error returned: nothing more will come.
    done: bool,
}

impl<R: Read> FrameReader<R> {
    /// A reader of frames with the inbound cap of `limits`.
    pub fn new(inner: R, limits: Limits) -> Self {
        Self::with_decoder(inner, FrameDecoder::new(limits))
    }

    /// A reader over a decoder configured by the caller.
    pub fn with_decoder(inner: R, decoder: FrameDecoder) -> Self {
        FrameReader {
            inner,
            decoder,
            json: None,
            done: false,
        }
    }

    /// Checks every payload with simd-json before handing it out.
    #[must_use]
    pub fn validate_json(mut self) -> Self {
        self.json = Some(JsonDecoder::new());
        self
    }

    /// The next frame, `None` at a clean end of stream.
    ///
    /// # Errors
    ///
    /// I/O errors, truncation at the end of the stream, an oversized header (fatal),
    /// and with [`validate_json`](Self::validate_json) invalid UTF-8 or JSON (not
    /// fatal: the frame was consumed, call again for the next one).
    pub fn read_frame(&mut self) -> Result<Option<BytesMut>> {
        let frame = match self.read_raw() {
            Ok(Some(frame)) => frame,
            other => return other,
        };
        if let Some(json) = &mut self.json {
            json.validate(&frame)?;
        }
        Ok(Some(frame))
    }

    fn read_raw(&mut self) -> Result<Option<BytesMut>> {
        match self.next_raw(|_| Ok(true))? {
            Timed::Frame(frame) => Ok(Some(frame)),
            Timed::End | Timed::Expired => Ok(None),
        }
    }

    /// The next frame, unchecked; before each read, `ready` says whether input will come
    /// in time (`false`: [`Timed::Expired`], the stream goes on).
    fn next_raw(&mut self, mut ready: impl FnMut(&R) -> Result<bool>) -> Result<Timed> {
        loop {
            if self.done {
                return Ok(Timed::End);
            }
            match self.decoder.decode() {
                Ok(Some(frame)) => return Ok(Timed::Frame(frame)),
                Ok(None) => {}
                Err(err) => {
                    self.done = true;
                    return Err(err);
                }
            }
            if !ready(&self.inner)? {
                return Ok(Timed::Expired);
            }
            match self.decoder.read_from(&mut self.inner) {
                Ok(0) => {
                    self.done = true;
                    self.decoder.finish()?;
                    return Ok(Timed::End);
                }
                Ok(_) => {}
                Err(err) => {
                    self.done = true;
                    return Err(Error::Io(err));
                }
            }
        }
    }

    /// Reads the next message and deserializes it into an owned `T` through simd-json.
    /// The frame's buffer is released before returning.
    ///
    /// # Errors
    ///
    /// As for [`read_frame`](Self::read_frame); [`Error::InvalidJson`] when the payload
    /// is not JSON, [`Error::WrongShape`] when it is not a `T` (neither is fatal).
    pub fn read_json<T: DeserializeOwned>(&mut self) -> Result<Option<T>> {
        let Some(mut frame) = self.read_raw()? else {
            return Ok(None);
        };
        let json = self.json.get_or_insert_with(JsonDecoder::new);
        json.deserialize(&mut frame).map(Some)
    }

    /// Whether a whole frame is already buffered, so the next
    /// [`read_frame`](Self::read_frame) will not block. A host that batches its replies
    /// flushes them when this turns false.
    pub fn has_frame(&self) -> bool {
        self.decoder.has_frame()
    }

    /// The decoder underneath, for its offset and buffer counts.
    pub fn decoder(&self) -> &FrameDecoder {
        &self.decoder
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The wrapped reader, mutably. Reading from it directly loses frame sync.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Gives the wrapped reader back; buffered bytes are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// A reader that can wait for input with a time limit: what lets the chunked endpoint
/// notice a silent peer (a transfer that stalls, an acknowledgement that never comes)
/// while it is silent, not only when its next frame arrives.
///
/// Implemented for the host's stdin and for the readers that never block.
pub trait WaitReadable: Read {
    /// Waits up to `timeout` for something to read (or for the end of the input, or an
    /// error, which the next read reports): `true` when a read will not block.
    ///
    /// # Errors
    ///
    /// When waiting itself fails.
    fn wait_readable(&self, timeout: Duration) -> io::Result<bool>;
}

impl WaitReadable for HostStdin {
    fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        HostStdin::wait_readable(self, timeout)
    }
}

/// Readers on a descriptor (a handle on Windows) that the system can wait on.
macro_rules! wait_on_descriptor {
    ($($reader:ty),*) => {$(
        impl WaitReadable for $reader {
            fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
                crate::host_stdio::wait_readable(self, timeout)
            }
        }
    )*};
}

wait_on_descriptor!(std::fs::File, io::PipeReader, std::process::ChildStdout);

impl WaitReadable for &[u8] {
    fn wait_readable(&self, _timeout: Duration) -> io::Result<bool> {
        Ok(true)
    }
}

impl<T: AsRef<[u8]>> WaitReadable for io::Cursor<T> {
    fn wait_readable(&self, _timeout: Duration) -> io::Result<bool> {
        Ok(true)
    }
}

/// What a read with a deadline gives.
#[derive(Debug)]
pub(crate) enum Timed {
    Frame(BytesMut),
    /// The clean end of the stream.
    End,
    /// Nothing whole by the deadline; the stream goes on.
    Expired,
}

impl<R: WaitReadable> FrameReader<R> {
    /// Whether input is waiting: bytes already buffered here (a frame, or the start of
    /// one), or bytes (or the end) in the pipe. `false` means the next read would wait
    /// for the peer: the caller has caught up, and may tell its writer so
    /// ([`Outbound::caught_up`]). When nothing is buffered this asks the system (a
    /// `poll` of no time); when that fails, the answer is `true`.
    ///
    /// ```no_run
    /// use nmframe::{Limits, Outbound};
    ///
    /// let (mut reader, writer) = nmframe::stdio(Limits::host())?;
    /// let mut writer = writer.validate_json().spawn_thread()?;
    /// while let Some(frame) = reader.read_frame()? {
    ///     if !reader.input_waiting() {
    ///         writer.caught_up(); // a lone reply of up to 64 KiB is written here
    ///     }
    ///     writer.queue_frame(&frame.freeze())?;
    ///     if !reader.has_frame() {
    ///         writer.flush()?;
    ///     }
    /// }
    /// writer.finish()?;
    /// # Ok::<(), nmframe::Error>(())
    /// ```
    pub fn input_waiting(&self) -> bool {
        self.decoder.buffered() > 0 || self.inner.wait_readable(Duration::ZERO).unwrap_or(true)
    }

    /// The next frame if one arrives by `deadline` (`None`: no limit), as
    /// [`read_frame`](Self::read_frame) reads it.
    pub(crate) fn read_frame_until(&mut self, deadline: Option<Instant>) -> Result<Timed> {
        let ready = |inner: &R| match deadline {
            None => Ok(true),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                Ok(!left.is_zero() && inner.wait_readable(left).map_err(Error::Io)?)
            }
        };
        let timed = self.next_raw(ready)?;
        if let (Timed::Frame(frame), Some(json)) = (&timed, &mut self.json) {
            json.validate(frame)?;
        }
        Ok(timed)
    }
}

impl<R: Read> Iterator for FrameReader<R> {
    type Item = Result<BytesMut>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_frame().transpose()
    }
}

/// Writes frames to any [`Write`].
///
/// [`send`](Self::send) and [`send_json`](Self::send_json) write one whole frame
/// (header and payload in one vectored write, partial writes and `EINTR` handled) and
/// flush: a reply never sits in a buffer. [`queue`](Self::queue) and
/// [`queue_json`](Self::queue_json) collect frames for one write at
/// [`flush`](Self::flush), for hosts that answer a burst of requests at once.
///
/// The outbound cap is checked before anything reaches the writer: a refused message
/// writes nothing, and the writer stays usable. A peer that has gone away is
/// [`Error::Disconnected`].
///
/// ```
/// use nmframe::{FrameWriter, Limits, Error};
///
/// let mut writer = FrameWriter::new(Vec::new(), Limits::host());
/// writer.send(br#"{"ok":true}"#)?;
/// let too_big = vec![b' '; (1 << 20) + 1];
/// assert!(matches!(writer.send(&too_big), Err(Error::FrameTooLarge { len: 1_048_577, .. })));
/// writer.send_json(&["still", "usable"])?;
/// assert_eq!(writer.get_ref().len(), 4 + 11 + 4 + 18);
/// # Ok::<(), nmframe::Error>(())
/// ```
#[derive(Debug)]
pub struct FrameWriter<W: Write> {
    inner: W,
    cap: Cap,
    /// Frames queued for the next flush, and the scratch for serialization.
    pending: Vec<u8>,
    json: Option<JsonDecoder>,
    /// Set when a write stopped part-way: (bytes that went out, bytes it was to write).
    broken: Option<(usize, usize)>,
}

impl<W: Write> FrameWriter<W> {
    /// A writer of frames with the outbound cap of `limits`.
    pub fn new(inner: W, limits: Limits) -> Self {
        Self::with_cap(inner, limits.outbound())
    }

    /// A writer with an explicit cap.
    pub fn with_cap(inner: W, cap: Cap) -> Self {
        FrameWriter {
            inner,
            cap,
            pending: Vec::new(),
            json: None,
            broken: None,
        }
    }

    /// Checks every raw payload with simd-json before it is written or queued: invalid
    /// JSON is refused with nothing written. (Chromium silently drops such a message,
    /// and Firefox disconnects the port.) Serialized values are valid by construction.
    #[must_use]
    pub fn validate_json(mut self) -> Self {
        self.json = Some(JsonDecoder::new());
        self
    }

    /// The cap messages are checked against.
    pub fn cap(&self) -> Cap {
        self.cap
    }

    /// Whether raw payloads are validated.
    #[cfg(feature = "tokio")]
    pub(crate) fn validates(&self) -> bool {
        self.json.is_some()
    }

    pub(crate) fn check_raw(&mut self, payload: &[u8]) -> Result<[u8; 4]> {
        self.check_intact()?;
        let header = encode_header(payload.len(), self.cap)?;
        if let Some(json) = &mut self.json {
            json.validate(payload)?;
        }
        Ok(header)
    }

    /// Writes one frame holding `payload`, with anything queued before it, and
    /// flushes.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyFrame`], [`Error::FrameTooLarge`], or with
    /// [`validate_json`](Self::validate_json) [`Error::InvalidJson`]: nothing written.
    /// [`Error::Disconnected`] when the peer has gone; [`Error::Io`] otherwise.
    pub fn send(&mut self, payload: &[u8]) -> Result<()> {
        let header = self.check_raw(payload)?;
        let mut slices = [
            IoSlice::new(&self.pending),
            IoSlice::new(&header),
            IoSlice::new(payload),
        ];
        let len = self.pending.len() + header.len() + payload.len();
        let mut written = 0;
        let outcome = write_all_vectored(&mut self.inner, &mut slices, &mut written);
        self.pending.clear();
        self.finish_write(outcome, written, len)
    }

    /// Fails with [`Error::WriterBroken`] once a write has stopped part-way.
    fn check_intact(&self) -> Result<()> {
        match self.broken {
            Some((written, len)) => Err(Error::WriterBroken { written, len }),
            None => Ok(()),
        }
    }

    /// The end of a write of `len` bytes of which `written` went out: a write that
    /// failed after its first byte left the peer inside a frame, so the writer is
    /// broken from then on. Anything written after it would be read as the rest of
    /// that frame.
    fn finish_write(&mut self, outcome: io::Result<()>, written: usize, len: usize) -> Result<()> {
        if outcome.is_err() && written > 0 {
            self.broken = Some((written, len));
        }
        outcome
            .and_then(|()| self.inner.flush())
            .map_err(Error::from_write)
    }

    /// Serializes `value` into one frame, writes it with anything queued, and flushes.
    ///
    /// # Errors
    ///
    /// [`Error::FrameTooLarge`] or [`Error::Serialize`] with nothing written (queued
    /// frames stay queued); otherwise as for [`send`](Self::send).
    pub fn send_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.queue_json(value)?;
        self.flush()
    }

    /// Adds a frame holding `payload` to the queue, copying it. Nothing is written
    /// until [`flush`](Self::flush) or the next `send`.
    ///
    /// # Errors
    ///
    /// As for [`send`](Self::send)'s refusals; the queue is left as it was.
    pub fn queue(&mut self, payload: &[u8]) -> Result<()> {
        let header = self.check_raw(payload)?;
        self.pending.extend_from_slice(&header);
        self.pending.extend_from_slice(payload);
        Ok(())
    }

    /// Serializes `value` as a frame at the end of the queue.
    ///
    /// # Errors
    ///
    /// [`Error::FrameTooLarge`] or [`Error::Serialize`]; the queue is left as it was.
    pub fn queue_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.check_intact()?;
        encode_json(&mut self.pending, value, self.cap).map(drop)
    }

    /// Bytes queued and not yet written.
    pub fn queued(&self) -> usize {
        self.pending.len()
    }

    /// Writes every queued frame in one go and flushes the writer.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] when the peer has gone; [`Error::Io`] otherwise. The
    /// queue is emptied either way. A write that failed after its first byte breaks
    /// the writer: every later call is [`Error::WriterBroken`].
    pub fn flush(&mut self) -> Result<()> {
        self.check_intact()?;
        let len = self.pending.len();
        let mut written = 0;
        let outcome = write_all_vectored(
            &mut self.inner,
            &mut [IoSlice::new(&self.pending)],
            &mut written,
        );
        self.pending.clear();
        self.finish_write(outcome, written, len)
    }

    /// The checks of this writer on a writer of nothing, the wrapped writer, and the
    /// queued bytes.
    pub(crate) fn into_parts(self) -> (FrameWriter<io::Sink>, W, Vec<u8>) {
        let checker = FrameWriter {
            inner: io::sink(),
            cap: self.cap,
            pending: Vec::new(),
            json: self.json,
            broken: self.broken,
        };
        (checker, self.inner, self.pending)
    }

    /// The wrapped writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The wrapped writer, mutably. Writing to it directly corrupts the stream.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Gives the wrapped writer back; queued frames are dropped.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Outbound for FrameWriter<W> {
    fn cap(&self) -> Cap {
        self.cap
    }
    fn queue(&mut self, payload: &[u8]) -> Result<()> {
        FrameWriter::queue(self, payload)
    }
    fn queue_frame(&mut self, frame: &Bytes) -> Result<()> {
        if frame.len() < COPY_BELOW {
            FrameWriter::queue(self, frame)
        } else {
            // With what is queued, in one vectored write: the frame is not copied.
            FrameWriter::send(self, frame)
        }
    }
    fn queued(&self) -> usize {
        FrameWriter::queued(self)
    }
    fn flush(&mut self) -> Result<()> {
        FrameWriter::flush(self)
    }
    fn send(&mut self, payload: &[u8]) -> Result<()> {
        FrameWriter::send(self, payload)
    }
    fn close(&mut self) -> Result<()> {
        FrameWriter::flush(self)
    }
}

/// The process's stdin and stdout as a host's reader and writer of frames, for a loop of
/// your own ([`Server::stdio`](crate::Server::stdio) is the loop written once), set up by
/// [`HostStdio`] with its defaults and the stdout guard: `println!` and
/// anything else written to descriptor 1 goes to stderr (the browser's log) instead of
/// into the stream.
///
/// The descriptors are duplicated, so the frames bypass the buffering of
/// `std::io::Stdin` and `Stdout`: no extra copy on the way in, and nothing held back on
/// the way out. See [`HostStdio`] for the rest (the stdin pipe enlarged, `SIGPIPE`
/// ignored, a closed stderr, non-blocking descriptors); use it directly for other
/// choices.
///
/// ```no_run
/// use std::io::Write as _;
/// use nmframe::{stdio, Limits};
///
/// let (reader, mut writer) = stdio(Limits::host())?;
/// for frame in reader {
///     match writer.send(&frame?) {
///         // echo; the browser went away, or the stream broke: stop
///         Err(err) if err.is_disconnect() => break,
///         Err(err) if err.is_fatal() => return Err(err),
///         // refused (over 1 MiB), nothing written: say so (not eprintln!, which
///         // panics once the browser has closed stderr) and go on
///         Err(err) => drop(writeln!(std::io::stderr(), "not echoed: {err}")),
///         Ok(()) => {}
///     }
/// }
/// # Ok::<(), nmframe::Error>(())
/// ```
///
/// # Errors
///
/// When stdin or stdout is not open, or cannot be duplicated.
pub fn stdio(limits: Limits) -> io::Result<(FrameReader<HostStdin>, FrameWriter<HostStdout>)> {
    let (stdin, stdout) = HostStdio::new().open()?;
    Ok((
        FrameReader::new(stdin, limits),
        FrameWriter::new(stdout, limits),
    ))
}
