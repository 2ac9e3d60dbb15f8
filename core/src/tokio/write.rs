//! [`FrameSink`]: frames written to an `AsyncWrite`, batched, with backpressure.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use serde::Serialize;
use tokio::io::AsyncWrite;

use crate::encode::encode_json;
use crate::error::{Error, Result};
use crate::io::FrameWriter;
use crate::limits::{Cap, HEADER_LEN, Limits};
use crate::outbound::{COPY_BELOW, Job};

/// Bytes queued at which [`Sink::poll_ready`](futures_sink::Sink::poll_ready) writes
/// before taking more: the bound on what a [`FrameSink`] holds when the browser stops
/// reading (with one more message of up to 1 MiB).
const HIGH_WATER: usize = 1 << 20;

/// Emptied batch buffers kept for reuse at most.
const SPARE: usize = 4;

/// Emptied batch buffers, shared by a [`FrameSink`] and the [`Sender`](super::Sender)s
/// of its writing task: a batch a sender fills comes back to the senders once written,
/// so a steady host allocates no buffer per burst.
#[derive(Clone, Debug, Default)]
pub(crate) struct Spare(Arc<Mutex<SpareBuffers>>);

#[derive(Debug, Default)]
struct SpareBuffers {
    buffers: Vec<Vec<u8>>,
    /// The largest batch given back so far: a buffer taken is made at least this large,
    /// so that which buffer gets which burst never makes one grow.
    high_water: usize,
}

impl Spare {
    /// An empty buffer with room for the largest batch written so far.
    pub(crate) fn take(&self) -> Vec<u8> {
        let mut spare = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut batch = spare.buffers.pop().unwrap_or_default();
        batch.reserve(spare.high_water);
        batch
    }

    /// Gives a written batch back for reuse.
    pub(crate) fn give(&self, mut batch: Vec<u8>) {
        let mut spare = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        spare.high_water = spare.high_water.max(batch.len());
        batch.clear();
        if spare.buffers.len() < SPARE {
            spare.buffers.push(batch);
        }
    }
}

/// Slices gathered into one vectored write.
const MAX_SLICES: usize = 64;

/// Queued output, in order.
#[derive(Debug)]
enum Out {
    /// Whole frames, headers included, copied in.
    Batch(Vec<u8>),
    /// One frame written from where it lies.
    Frame([u8; HEADER_LEN], Bytes),
}

impl Out {
    fn len(&self) -> usize {
        match self {
            Out::Batch(batch) => batch.len(),
            Out::Frame(header, payload) => header.len() + payload.len(),
        }
    }
}

/// Frames written to an [`AsyncWrite`]: the async [`FrameWriter`].
///
/// Every message is checked before it is queued (empty, over the outbound cap, and
/// with [`validate_json`](Self::validate_json) invalid JSON are refused with nothing
/// queued). Small frames are copied into a batch; [`Bytes`] payloads of 16 KiB and
/// more are written from where they lie (a frame from a [`FrameStream`](super::FrameStream) converts
/// without a copy). A flush writes everything queued in as few vectored writes as the
/// pipe takes.
///
/// Cancel-safe: what is queued stays queued until written, and a
/// [`flush`](Self::flush) dropped part-way resumes where it stopped on the next call.
/// A write error after part of a frame went out breaks the writer
/// ([`Error::WriterBroken`]): anything written after it would be read as the rest of
/// that frame.
///
/// As a [`Sink<Bytes>`](futures_sink::Sink) it applies backpressure: `poll_ready`
/// writes once 1 MiB is queued, so a browser that stops reading stops the host
/// instead of growing its memory.
///
/// ```
/// use nmframe::tokio::FrameSink;
/// use nmframe::Limits;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut out = FrameSink::new(Vec::new(), Limits::host()).validate_json();
/// out.queue(b"[1]")?;
/// out.queue_json(&serde_json::json!({"ok": true}))?;
/// assert!(out.queue(b"{not json").is_err()); // refused, nothing queued
/// out.flush().await?;
/// assert_eq!(out.get_ref().len(), 4 + 3 + 4 + 11);
/// # Ok::<(), nmframe::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct FrameSink<W> {
    inner: W,
    /// The checks of the blocking writer (cap, optional validation), writing nowhere.
    checker: FrameWriter<io::Sink>,
    out: VecDeque<Out>,
    /// Bytes of the front of `out` already written.
    front_written: usize,
    /// Bytes in `out` not yet written.
    queued: usize,
    /// Emptied batch buffers, for reuse.
    spare: Spare,
    /// Set when a write stopped part-way through a frame: (bytes of it written, its length).
    broken: Option<(usize, usize)>,
}

impl<W: AsyncWrite + Unpin> FrameSink<W> {
    /// A writer of frames with the outbound cap of `limits`.
    pub fn new(inner: W, limits: Limits) -> Self {
        Self::with_cap(inner, limits.outbound())
    }

    /// A writer with an explicit cap.
    pub fn with_cap(inner: W, cap: Cap) -> Self {
        FrameSink {
            inner,
            checker: FrameWriter::with_cap(io::sink(), cap),
            out: VecDeque::new(),
            front_written: 0,
            queued: 0,
            spare: Spare::default(),
            broken: None,
        }
    }

    /// Checks every raw payload with nmframe's validator before it is queued: invalid
    /// JSON is refused with nothing queued. (Chromium silently drops such a message, and
    /// Firefox disconnects the port.) Serialized values are valid by construction.
    #[must_use]
    pub fn validate_json(mut self) -> Self {
        self.checker = self.checker.validate_json();
        self
    }

    /// The cap messages are checked against.
    pub fn cap(&self) -> Cap {
        self.checker.cap()
    }

    pub(crate) fn validates(&self) -> bool {
        self.checker.validates()
    }

    /// The buffers this sink recycles, for the senders of its writing task.
    pub(crate) fn spare(&self) -> Spare {
        self.spare.clone()
    }

    /// Bytes queued and not yet written.
    pub fn queued(&self) -> usize {
        self.queued
    }

    fn check_intact(&self) -> Result<()> {
        match self.broken {
            Some((written, len)) => Err(Error::WriterBroken { written, len }),
            None => Ok(()),
        }
    }

    /// The batch at the back of the queue, started if needed.
    fn batch(&mut self) -> &mut Vec<u8> {
        if !matches!(self.out.back(), Some(Out::Batch(_))) {
            let batch = self.spare.take();
            self.out.push_back(Out::Batch(batch));
        }
        match self.out.back_mut() {
            Some(Out::Batch(batch)) => batch,
            _ => unreachable!("a batch was pushed above"),
        }
    }

    /// Adds a frame holding `payload` to the queue, copying it. Nothing is written
    /// until [`flush`](Self::flush).
    ///
    /// # Errors
    ///
    /// [`Error::EmptyFrame`], [`Error::FrameTooLarge`], with
    /// [`validate_json`](Self::validate_json) [`Error::InvalidJson`] or
    /// [`Error::InvalidUtf8`]: nothing queued. [`Error::WriterBroken`] after a write
    /// stopped inside a frame.
    pub fn queue(&mut self, payload: &[u8]) -> Result<()> {
        self.check_intact()?;
        let header = self.checker.check_raw(payload)?;
        self.push_checked(header, payload);
        Ok(())
    }

    /// Adds a frame holding `payload` without copying it when it is large: a frame from
    /// a [`FrameStream`](super::FrameStream) (`BytesMut::freeze`) goes back out as it
    /// arrived.
    ///
    /// # Errors
    ///
    /// As for [`queue`](Self::queue).
    pub fn queue_frame(&mut self, payload: impl Into<Bytes>) -> Result<()> {
        let payload = payload.into();
        self.check_intact()?;
        let header = self.checker.check_raw(&payload)?;
        self.push_checked_bytes(header, payload);
        Ok(())
    }

    /// Serializes `value` as a frame at the end of the queue.
    ///
    /// # Errors
    ///
    /// [`Error::FrameTooLarge`] or [`Error::Serialize`], with the queue left as it was;
    /// [`Error::WriterBroken`] after a write stopped inside a frame.
    pub fn queue_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.check_intact()?;
        let cap = self.checker.cap();
        let batch = self.batch();
        let before = batch.len();
        let outcome = encode_json(batch, value, cap);
        let added = batch.len() - before;
        if outcome.is_ok() {
            self.queued += added;
        }
        self.drop_empty_back();
        outcome.map(drop)
    }

    /// A batch started for a frame that was then refused leaves nothing behind.
    fn drop_empty_back(&mut self) {
        if let Some(Out::Batch(batch)) = self.out.back()
            && batch.is_empty()
            && let Some(Out::Batch(batch)) = self.out.pop_back()
        {
            self.spare.give(batch);
        }
    }

    pub(crate) fn push_checked(&mut self, header: [u8; HEADER_LEN], payload: &[u8]) {
        let batch = self.batch();
        batch.extend_from_slice(&header);
        batch.extend_from_slice(payload);
        self.queued += HEADER_LEN + payload.len();
    }

    /// Takes a job from a [`Sender`](super::Sender): its frames were checked there.
    pub(crate) fn push_job(&mut self, job: Job) {
        match job {
            Job::Frame(header, payload) => self.push_checked_bytes(header, payload),
            // Nothing to write (cannot come from a Sender, which drops empty batches).
            Job::Batch(batch) if batch.is_empty() => {}
            Job::Batch(batch) => {
                // Its own slice in the next vectored write: no copy.
                self.queued += batch.len();
                self.out.push_back(Out::Batch(batch));
            }
        }
    }

    pub(crate) fn push_checked_bytes(&mut self, header: [u8; HEADER_LEN], payload: Bytes) {
        if payload.len() < COPY_BELOW {
            self.push_checked(header, &payload);
        } else {
            self.queued += HEADER_LEN + payload.len();
            self.out.push_back(Out::Frame(header, payload));
        }
    }

    /// Queues a copy of `payload` and writes everything queued. (It takes any bytes,
    /// so that `sink.send(bytes)` means the same with `SinkExt` in scope; for a large
    /// `Bytes` without the copy, [`send_frame`](Self::send_frame).)
    ///
    /// # Errors
    ///
    /// The refusals of [`queue`](Self::queue), with nothing written; otherwise as for
    /// [`flush`](Self::flush).
    pub async fn send(&mut self, payload: impl AsRef<[u8]>) -> Result<()> {
        self.queue(payload.as_ref())?;
        self.flush().await
    }

    /// Queues `payload` as [`queue_frame`](Self::queue_frame) does and writes
    /// everything queued.
    ///
    /// # Errors
    ///
    /// As for [`send`](Self::send).
    pub async fn send_frame(&mut self, payload: impl Into<Bytes>) -> Result<()> {
        self.queue_frame(payload)?;
        self.flush().await
    }

    /// Serializes `value` into one frame and writes everything queued.
    ///
    /// # Errors
    ///
    /// As for [`queue_json`](Self::queue_json) and [`flush`](Self::flush).
    pub async fn send_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.queue_json(value)?;
        self.flush().await
    }

    /// Writes everything queued and flushes the writer. Cancel-safe: a flush dropped
    /// part-way resumes on the next call.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] when the peer has gone (a closed pipe); [`Error::Io`]
    /// otherwise. A failure after part of a frame was written also breaks the writer.
    pub async fn flush(&mut self) -> Result<()> {
        poll_fn(|cx| self.poll_write_queued(cx)).await
    }

    /// [`flush`](Self::flush) as a poll, for the senders' inline writes.
    pub(crate) fn poll_flush_queued(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_write_queued(cx)
    }

    /// Writes what is queued, in vectored writes, then flushes the writer.
    fn poll_write_queued(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.check_intact()?;
        while !self.out.is_empty() {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let mut used = 0;
            let mut skip = self.front_written;
            'gather: for out in &self.out {
                let parts: [&[u8]; 2] = match out {
                    Out::Batch(batch) => [batch, &[]],
                    Out::Frame(header, payload) => [header, payload],
                };
                for part in parts {
                    if skip >= part.len() {
                        skip -= part.len();
                        continue;
                    }
                    if used == MAX_SLICES {
                        break 'gather;
                    }
                    slices[used] = IoSlice::new(&part[skip..]);
                    skip = 0;
                    used += 1;
                }
            }
            let outcome =
                ready!(Pin::new(&mut self.inner).poll_write_vectored(cx, &slices[..used]));
            match outcome {
                Ok(0) => return Poll::Ready(Err(self.failed(io::ErrorKind::WriteZero.into()))),
                Ok(n) => self.advance(n),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Poll::Ready(Err(self.failed(err))),
            }
        }
        ready!(Pin::new(&mut self.inner).poll_flush(cx)).map_err(Error::from_write)?;
        Poll::Ready(Ok(()))
    }

    /// Marks `n` more bytes written, recycling what is done.
    fn advance(&mut self, mut n: usize) {
        self.queued -= n;
        while n > 0 {
            let front = self.out.front().expect("written bytes were queued");
            let left = front.len() - self.front_written;
            if n < left {
                self.front_written += n;
                return;
            }
            n -= left;
            self.front_written = 0;
            if let Some(Out::Batch(batch)) = self.out.pop_front() {
                self.spare.give(batch);
            }
        }
    }

    /// The error for a failed write: a frame cut part-way breaks the writer. The
    /// frame boundaries inside a batch are not kept, so a write that stopped anywhere
    /// after the start of the front item counts as cut (even if it stopped between two
    /// of a batch's frames): broken rather than risk writing into a cut frame.
    fn failed(&mut self, err: io::Error) -> Error {
        if self.front_written > 0
            && let Some(front) = self.out.front()
        {
            self.broken = Some((self.front_written, front.len()));
        }
        Error::from_write(err)
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The underlying writer, mutably: writing to it directly breaks the framing.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The underlying writer; anything queued and not flushed is lost.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: AsyncWrite + Unpin> futures_sink::Sink<Bytes> for FrameSink<W> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        this.check_intact()?;
        if this.queued >= HIGH_WATER {
            ready!(this.poll_write_queued(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, item: Bytes) -> Result<()> {
        self.get_mut().queue_frame(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_write_queued(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_queued(cx))?;
        Pin::new(&mut this.inner)
            .poll_shutdown(cx)
            .map_err(Error::from_write)
    }
}
