//! [`Sender`]: a cloneable handle through which many tasks reply, and the task that
//! writes for them.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll};

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

/// A flush of at most this many bytes is written by the flushing task itself when the
/// writing task has nothing to do (as [`WriterThread`](crate::WriterThread) does): a
/// lone reply then wakes no second task, which on a multi-threaded runtime is a second
/// thread. Larger flushes are handed over, so that reading overlaps writing.
const INLINE_MAX: usize = COPY_BELOW + HEADER_LEN;

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
/// for one hand-over per burst instead of one per message. A flush of up to 16 KiB
/// while the writing task is idle is written by the flushing task itself, so a lone
/// reply wakes no other task (or thread).
///
/// Once the writing task has stopped on an error, every send returns that error
/// ([`Error::Disconnected`] when the browser went away).
#[derive(Debug)]
pub struct Sender {
    queue: mpsc::Sender<Job>,
    /// The writing task's sink, for writing inline while the task is idle.
    shared: Arc<dyn Inline>,
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
            shared: Arc::clone(&self.shared),
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
            if !self.hand_over_now(job) {
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

    /// Hands `job` to the writing task, waiting for room in its queue. Cancel-safe:
    /// nothing is counted or sent until there is room.
    async fn hand_over(&self, job: Job) -> Result<()> {
        // Stopped by a sender's inline write: the task would write nothing more.
        if let Some(stopped) = self.stopped.get() {
            return Err(stopped.error());
        }
        let Ok(permit) = self.queue.reserve().await else {
            return Err(self.stopped());
        };
        self.shared.count(1);
        permit.send(job);
        Ok(())
    }

    /// Hands `job` over if the queue has room now; whether it did.
    fn hand_over_now(&self, job: Job) -> bool {
        self.shared.count(1);
        let sent = self.queue.try_send(job).is_ok();
        if !sent {
            self.shared.uncount(1);
        }
        sent
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
    /// A queue of up to 16 KiB is written here instead when the writing task is idle
    /// (nothing handed to it is unwritten) and the pipe takes it at once; whatever the
    /// pipe does not take then goes to the task. Order is kept either way.
    ///
    /// # Errors
    ///
    /// The error that stopped the writing task, or the failed inline write that
    /// stopped it.
    pub async fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if let Some(stopped) = self.stopped.get() {
            return Err(stopped.error());
        }
        let bytes: usize = self.pending.iter().map(Job::len).sum();
        if bytes <= INLINE_MAX {
            let shared = Arc::clone(&self.shared);
            let attempt = poll_fn(|cx| Poll::Ready(shared.try_write(&mut self.pending, cx))).await;
            match attempt {
                Attempt::Busy => {}
                Attempt::Written => return Ok(()),
                Attempt::Partly => {
                    // The rest waits in the sink: the task writes it before anything
                    // handed over after this. If its queue is full or closed, jobs in
                    // flight (or the error that stopped it) take care of it.
                    self.hand_over_now(Job::Batch(Vec::new()));
                    return Ok(());
                }
                Attempt::Failed(err) => {
                    let _ = self.stopped.set(Stopped::of(&err));
                    return Err(err);
                }
            }
        }
        while !self.pending.is_empty() {
            let Ok(permit) = self.queue.reserve().await else {
                return Err(self.stopped());
            };
            if let Some(job) = self.pending.pop_front() {
                self.shared.count(1);
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
        let cap = self.cap();
        let validate = self.validates();
        let spare = self.spare();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                sink: Some(self),
                in_flight: 0,
            }),
        });
        let sender = Sender {
            queue,
            shared: Arc::clone(&shared) as Arc<dyn Inline>,
            cap,
            validate,
            json: Mutex::new(None),
            stopped: Arc::clone(&stopped),
            pending: VecDeque::new(),
            spare,
        };
        let task = tokio::spawn(write_queue(shared, incoming, stopped));
        (sender, task)
    }
}

/// What the writing task and its senders share: the sink, whenever the task is not
/// writing with it, and how many jobs were handed to the task and are not written yet.
/// A sender writes inline only when that count is 0 (nothing of anyone's is ahead of
/// it in the queue) and the sink is there, and only under the lock, in one poll: the
/// task never waits for a sender for longer than that.
struct Shared<W> {
    state: Mutex<State<W>>,
}

struct State<W> {
    sink: Option<FrameSink<W>>,
    in_flight: usize,
}

impl<W> fmt::Debug for Shared<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Shared")
            .field("idle", &state.sink.is_some())
            .field("in_flight", &state.in_flight)
            .finish()
    }
}

impl<W> Shared<W> {
    fn lock(&self) -> MutexGuard<'_, State<W>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The sink, for the task to write what it was handed.
    fn take(&self) -> FrameSink<W> {
        self.lock()
            .sink
            .take()
            .expect("the sink is back in place whenever the lock is free")
    }

    /// The sink back in place, with `written` more jobs written.
    fn put_back(&self, sink: FrameSink<W>, written: usize) {
        let mut state = self.lock();
        state.sink = Some(sink);
        state.in_flight -= written;
    }
}

/// How an inline write went.
enum Attempt {
    /// The task has work or is writing: nothing done, hand over.
    Busy,
    /// Everything written.
    Written,
    /// Queued in the sink, partly written: the task must finish it.
    Partly,
    /// The write failed; the jobs are in the sink.
    Failed(Error),
}

/// The senders' side of [`Shared`], without the writer's type.
trait Inline: Send + Sync + fmt::Debug {
    /// `n` more jobs are being handed to the task.
    fn count(&self, n: usize);
    /// `n` jobs counted were not handed over after all.
    fn uncount(&self, n: usize);
    /// Writes `jobs` if the task is idle, moving them into the sink.
    fn try_write(&self, jobs: &mut VecDeque<Job>, cx: &mut Context<'_>) -> Attempt;
}

impl<W: AsyncWrite + Unpin + Send> Inline for Shared<W> {
    fn count(&self, n: usize) {
        self.lock().in_flight += n;
    }

    fn uncount(&self, n: usize) {
        self.lock().in_flight -= n;
    }

    fn try_write(&self, jobs: &mut VecDeque<Job>, cx: &mut Context<'_>) -> Attempt {
        let mut state = self.lock();
        if state.in_flight > 0 {
            return Attempt::Busy;
        }
        let Some(sink) = state.sink.as_mut() else {
            return Attempt::Busy;
        };
        for job in jobs.drain(..) {
            sink.push_job(job);
        }
        // The pipe's readiness is polled with the flushing task's waker; the task,
        // when nudged, polls with its own.
        match sink.poll_flush_queued(cx) {
            Poll::Ready(Ok(())) => Attempt::Written,
            Poll::Ready(Err(err)) => Attempt::Failed(err),
            Poll::Pending => Attempt::Partly,
        }
    }
}

/// The writing task: takes what is waiting, writes it in one flush, and again.
async fn write_queue<W: AsyncWrite + Unpin>(
    shared: Arc<Shared<W>>,
    mut incoming: mpsc::Receiver<Job>,
    stopped: Arc<OnceLock<Stopped>>,
) -> Result<W> {
    while let Some(job) = incoming.recv().await {
        let mut sink = shared.take();
        sink.push_job(job);
        let mut taken = 1;
        while taken < BATCH_MESSAGES {
            match incoming.try_recv() {
                Ok(job) => sink.push_job(job),
                Err(_) => break,
            }
            taken += 1;
        }
        let outcome = match stopped.get() {
            // An inline write failed: the stream is broken; write nothing more.
            Some(why) => Err(why.error()),
            None => sink.flush().await,
        };
        shared.put_back(sink, taken);
        if let Err(err) = outcome {
            let _ = stopped.set(Stopped::of(&err));
            // Senders waiting for room learn of it now, not at their next send.
            incoming.close();
            return Err(err);
        }
    }
    if let Some(why) = stopped.get() {
        return Err(why.error());
    }
    // What a sender's inline write left in the sink was nudged through the queue and
    // written above; flush in case the nudge found the queue full at the very end.
    let mut sink = shared.take();
    sink.flush().await?;
    Ok(sink.into_inner())
}
