//! [`Sender`]: a cloneable handle through which many tasks reply, and the task that
//! writes for them.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use serde::Serialize;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::FrameSink;
use super::write::Spare;
use crate::encode::{encode_header, encode_json};
use crate::error::{Error, KeptIo, Result};
use crate::json::JsonDecoder;
use crate::limits::{Cap, HEADER_LEN};
use crate::outbound::{COPY_BELOW, Job};

/// Jobs taken from the queue into one flush at most: enough to answer a burst in one
/// write, few enough that a long burst still goes out as it comes.
const BATCH_MESSAGES: usize = 256;

/// Why the writing task stopped, kept for every sender to report.
#[derive(Debug)]
enum Stopped {
    Io(KeptIo),
    Broken { written: usize, len: usize },
}

impl Stopped {
    fn of(err: &Error) -> Stopped {
        match err {
            Error::WriterBroken { written, len } => Stopped::Broken {
                written: *written,
                len: *len,
            },
            Error::Disconnected(e) | Error::Io(e) => Stopped::Io(KeptIo::of(e)),
            other => Stopped::Io(KeptIo::of(&io::Error::other(other.to_string()))),
        }
    }

    fn error(&self) -> Error {
        match self {
            Stopped::Broken { written, len } => Error::WriterBroken {
                written: *written,
                len: *len,
            },
            Stopped::Io(kept) => Error::from_write(kept.error()),
        }
    }
}

/// A cloneable handle for replying from many tasks, made by [`FrameSink::spawn`].
///
/// Each message is checked in the sending task (empty, over the cap, invalid JSON with
/// validation on: refused with nothing queued), then handed to the writing task
/// through a bounded queue: [`send`](Self::send) waits while the queue is full, so a
/// browser that stops reading stops the senders instead of growing memory. The
/// writing task takes every message waiting into one batch, so replies to a burst
/// leave in few writes.
///
/// A task that answers many messages at once (an echo, a burst) can also
/// [`queue`](Self::queue) on its own handle and [`flush`](Self::flush) when no further
/// message is buffered: the queue goes over as one batch, and the reading task pays
/// for one hand-over per burst instead of one per message.
///
/// Once the writing task has stopped on an error, every send returns that error
/// ([`Error::Disconnected`] when the browser went away).
#[derive(Debug)]
pub struct Sender {
    queue: mpsc::Sender<Job>,
    cap: Cap,
    /// Whether raw payloads are checked, and the validator that does it: one per
    /// handle, made on first use (handles are cloned per request).
    validate: bool,
    json: Mutex<Option<JsonDecoder>>,
    stopped: Arc<OnceLock<Stopped>>,
    /// What this handle queued for its next flush, in order.
    pending: VecDeque<Job>,
    /// Batch buffers the writing task has emptied, to fill again.
    spare: Spare,
}

impl Clone for Sender {
    /// Another handle to the same writing task, with an empty queue of its own.
    fn clone(&self) -> Self {
        Sender {
            queue: self.queue.clone(),
            cap: self.cap,
            validate: self.validate,
            json: Mutex::new(None),
            stopped: Arc::clone(&self.stopped),
            pending: VecDeque::new(),
            spare: self.spare.clone(),
        }
    }
}

impl Drop for Sender {
    /// What is still queued goes over if the writing task has room for it now;
    /// otherwise it is lost: [`flush`](Sender::flush) before dropping a handle that
    /// queued.
    fn drop(&mut self) {
        while let Some(job) = self.pending.pop_front() {
            if self.queue.try_send(job).is_err() {
                break;
            }
        }
    }
}

impl Sender {
    /// Sends one raw JSON message. Cancel-safe: a send dropped while waiting for room
    /// queues nothing.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyFrame`], [`Error::FrameTooLarge`], and with validation
    /// [`Error::InvalidJson`] or [`Error::InvalidUtf8`]: nothing sent, the host can go
    /// on. The error that stopped the writing task.
    pub async fn send(&self, payload: impl Into<Bytes>) -> Result<()> {
        let payload = payload.into();
        let header = self.check(&payload)?;
        self.hand_over(Job::Frame(header, payload)).await
    }

    fn check(&self, payload: &[u8]) -> Result<[u8; HEADER_LEN]> {
        let header = encode_header(payload.len(), self.cap)?;
        if self.validate {
            self.json
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert_with(JsonDecoder::new)
                .validate(payload)?;
        }
        Ok(header)
    }

    /// Serializes `value` and sends it.
    ///
    /// # Errors
    ///
    /// [`Error::FrameTooLarge`] or [`Error::Serialize`], with nothing sent; the error
    /// that stopped the writing task.
    pub async fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let mut frame = self.spare.take();
        encode_json(&mut frame, value, self.cap)?;
        self.hand_over(Job::Batch(frame)).await
    }

    async fn hand_over(&self, job: Job) -> Result<()> {
        match self.queue.send(job).await {
            Ok(()) => Ok(()),
            Err(_) => Err(self.stopped()),
        }
    }

    /// The batch at the back of this handle's queue, started if needed.
    fn batch(&mut self) -> &mut Vec<u8> {
        if !matches!(self.pending.back(), Some(Job::Batch(_))) {
            self.pending.push_back(Job::Batch(self.spare.take()));
        }
        match self.pending.back_mut() {
            Some(Job::Batch(batch)) => batch,
            _ => unreachable!("a batch was pushed above"),
        }
    }

    /// Queues a copy of `payload` on this handle, for its next [`flush`](Self::flush).
    ///
    /// # Errors
    ///
    /// The refusals of [`send`](Self::send), with nothing queued.
    pub fn queue(&mut self, payload: &[u8]) -> Result<()> {
        let header = self.check(payload)?;
        let batch = self.batch();
        batch.extend_from_slice(&header);
        batch.extend_from_slice(payload);
        Ok(())
    }

    /// Queues `payload` on this handle without copying it when it is large (16 KiB and
    /// up): a frame from a [`FrameStream`](super::FrameStream) goes back out as it came.
    ///
    /// # Errors
    ///
    /// The refusals of [`send`](Self::send), with nothing queued.
    pub fn queue_frame(&mut self, payload: impl Into<Bytes>) -> Result<()> {
        let payload = payload.into();
        if payload.len() < COPY_BELOW {
            return self.queue(&payload);
        }
        let header = self.check(&payload)?;
        self.pending.push_back(Job::Frame(header, payload));
        Ok(())
    }

    /// Serializes `value` into this handle's queue.
    ///
    /// # Errors
    ///
    /// [`Error::FrameTooLarge`] or [`Error::Serialize`], with the queue as it was.
    pub fn queue_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let cap = self.cap;
        let outcome = encode_json(self.batch(), value, cap);
        if let Some(Job::Batch(batch)) = self.pending.back()
            && batch.is_empty()
            && let Some(Job::Batch(batch)) = self.pending.pop_back()
        {
            self.spare.give(batch);
        }
        outcome.map(drop)
    }

    /// Hands this handle's queue to the writing task (not waiting for the write),
    /// waiting while the task's queue is full. Cancel-safe: what is not handed over
    /// stays queued.
    ///
    /// # Errors
    ///
    /// The error that stopped the writing task.
    pub async fn flush(&mut self) -> Result<()> {
        while !self.pending.is_empty() {
            let Ok(permit) = self.queue.reserve().await else {
                return Err(self.stopped());
            };
            if let Some(job) = self.pending.pop_front() {
                permit.send(job);
            }
        }
        Ok(())
    }

    /// The error that stopped the writing task, or that it has stopped.
    fn stopped(&self) -> Error {
        match self.stopped.get() {
            Some(stopped) => stopped.error(),
            None => Error::from_write(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the writing task has stopped",
            )),
        }
    }

    /// The cap messages are checked against.
    pub fn cap(&self) -> Cap {
        self.cap
    }
}

impl<W: AsyncWrite + Unpin + Send + 'static> FrameSink<W> {
    /// Moves the writer onto a task of its own and returns a cloneable [`Sender`] for
    /// it, with a queue of `depth` messages, and the task's handle. The task writes
    /// until every sender is dropped, then flushes and returns the writer; it stops at
    /// the first write error, which every sender then reports. Await the handle before
    /// the process exits, or the last replies may not be written.
    ///
    /// Call it from within a Tokio runtime.
    ///
    /// # Panics
    ///
    /// If `depth` is 0.
    pub fn spawn(self, depth: usize) -> (Sender, JoinHandle<Result<W>>) {
        let (queue, incoming) = mpsc::channel(depth);
        let stopped = Arc::new(OnceLock::new());
        let sender = Sender {
            queue,
            cap: self.cap(),
            validate: self.validates(),
            json: Mutex::new(None),
            stopped: Arc::clone(&stopped),
            pending: VecDeque::new(),
            spare: self.spare(),
        };
        let task = tokio::spawn(write_queue(self, incoming, stopped));
        (sender, task)
    }
}

/// The writing task: takes what is waiting, writes it in one flush, and again.
async fn write_queue<W: AsyncWrite + Unpin>(
    mut sink: FrameSink<W>,
    mut incoming: mpsc::Receiver<Job>,
    stopped: Arc<OnceLock<Stopped>>,
) -> Result<W> {
    while let Some(job) = incoming.recv().await {
        sink.push_job(job);
        for _ in 1..BATCH_MESSAGES {
            match incoming.try_recv() {
                Ok(job) => sink.push_job(job),
                Err(_) => break,
            }
        }
        if let Err(err) = sink.flush().await {
            let _ = stopped.set(Stopped::of(&err));
            // Senders waiting for room learn of it now, not at their next send.
            incoming.close();
            return Err(err);
        }
    }
    Ok(sink.into_inner())
}
