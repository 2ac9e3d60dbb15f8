//! A frame writer that writes on a thread of its own, so that a host reads and checks
//! the next messages while the replies to the last ones are still going out.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use bytes::Bytes;
use serde::Serialize;

use crate::encode::encode_json;
use crate::error::{Error, KeptIo, Result};
use crate::io::FrameWriter;
use crate::limits::Cap;
use crate::outbound::{COPY_BELOW, Job, Outbound, write_all_vectored};

/// Jobs handed to the writing thread at most: the bound on what is in flight when the
/// browser stops reading (two batches, or two frames, plus the one being written).
const DEPTH: usize = 2;

/// A flush or frame of at most this many bytes is written by the caller itself when the
/// writing thread has nothing to do: a lone reply then costs no wake-up of a second
/// thread (measured, `cargo bench -p nmframe-benches --bench e2e -- --latency`: 19 µs of
/// host CPU per 64-byte ping-pong handed over, 7 µs written inline). Larger ones are
/// handed over, so that reading overlaps writing: with 64 KiB written inline, a stream of
/// 64 KiB messages fell from 0.84× to 0.50× `cat`.
const INLINE_MAX: usize = COPY_BELOW + crate::HEADER_LEN;

/// What the caller writes itself, the thread being idle, once it has said it caught up
/// with its input ([`Outbound::caught_up`]): it has nothing else to do until the reply is
/// out, so a thread's wake-up would buy no overlap. A pipe's default capacity (64 KiB)
/// and a header: a reply of that size goes into a drained pipe in one write.
const CAUGHT_UP_MAX: usize = 64 * 1024 + crate::HEADER_LEN;

/// Batch buffers in circulation: the one being filled, [`DEPTH`] waiting, one being
/// written. All exist from the start and are taken in turn, so which buffer holds which
/// batch does not depend on how fast the writing thread is, and once each has held the
/// largest batch so far nothing is allocated.
const BUFFERS: usize = DEPTH + 2;

/// What the two threads share. A mutex, two condition variables and queues allocated
/// up front rather than `std::sync::mpsc`: a thread's first wait on a channel allocates
/// (its waiting context and the channel's list of waiters), and when that first wait
/// comes depends on timing, so a steady host would allocate at random moments.
#[derive(Debug)]
struct Shared<W> {
    state: Mutex<State>,
    /// The output. The writing thread locks it while it writes a job; the caller, to
    /// write inline, only while the thread has no job (so never waits for it).
    out: Mutex<Option<W>>,
    /// The writing thread waits here for a job, or for the caller to hang up.
    for_writer: Condvar,
    /// The caller waits here for room in `jobs`, a spent buffer, or the thread's end.
    for_caller: Condvar,
}

#[derive(Debug)]
struct State {
    /// At most [`DEPTH`] jobs, in order.
    jobs: VecDeque<Job>,
    /// Emptied batch buffers, in the order they were handed over.
    spent: VecDeque<Vec<u8>>,
    /// The caller will hand over nothing more: write what is left and stop.
    hung_up: bool,
    /// The writing thread has stopped (done, failed or panicked): nothing more is taken.
    stopped: bool,
    /// The writing thread is writing a job it took.
    busy: bool,
}

impl<W> Shared<W> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding the lock; a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits on `cond` while `waiting` holds and the writing thread is still going.
    fn wait_while<'a>(
        &self,
        cond: &Condvar,
        guard: MutexGuard<'a, State>,
        mut waiting: impl FnMut(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        cond.wait_while(guard, |st| !st.stopped && waiting(st))
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn hang_up(&self) {
        self.lock().hung_up = true;
        self.for_writer.notify_one();
    }
}

/// Marks the writing thread stopped however it ends, a panic included, so that the
/// caller never waits for a thread that is gone.
struct StopOnDrop<'a, W>(&'a Shared<W>);

impl<W> Drop for StopOnDrop<'_, W> {
    fn drop(&mut self) {
        self.0.lock().stopped = true;
        self.0.for_caller.notify_one();
    }
}

/// A [`FrameWriter`] moved onto a thread of its own, made by
/// [`FrameWriter::spawn_thread`].
///
/// On a machine with a second core this overlaps the two halves of a host's work:
/// reading and checking the next messages, and copying the replies into the pipe. The
/// refusals ([`Error::FrameTooLarge`], [`Error::EmptyFrame`], invalid JSON with
/// [`FrameWriter::validate_json`]) happen in the caller's thread, before anything is
/// handed over, with nothing written. A flush or frame of up to 16 KiB is written by the
/// calling thread itself when the writing thread has nothing to do (a lone reply then
/// costs no wake-up), and one of up to 64 KiB once the caller has said it caught up
/// with its input ([`Outbound::caught_up`]); anything else is handed over. A write
/// error stops everything, so nothing is ever written after a frame that failed
/// half-way: it is returned by the call that wrote inline, or by a later call once the
/// writing thread has met it, and by every call after that ([`Error::Disconnected`]
/// when the browser went away).
///
/// Memory stays bounded when the browser stops reading: the caller blocks once two
/// flushes or frames are waiting. Once warm, nothing is allocated per message: four
/// batch buffers go round between the threads, each kept as large as the largest batch
/// so far.
///
/// ```
/// use nmframe::{FrameReader, FrameWriter, Limits};
///
/// let mut wire = Vec::new();
/// for msg in [&b"[1]"[..], b"[2]"] {
///     nmframe::encode_frame(&mut wire, msg, Limits::browser().outbound())?;
/// }
/// let mut reader = FrameReader::new(&wire[..], Limits::host());
/// let mut writer = FrameWriter::new(Vec::new(), Limits::host()).spawn_thread()?;
/// while let Some(frame) = reader.read_frame()? {
///     writer.queue(&frame)?;
///     if !reader.has_frame() {
///         writer.flush()?; // hands the batch over; does not wait for the write
///     }
/// }
/// let out = writer.finish()?; // waits until everything is written
/// assert_eq!(out, wire);
/// # Ok::<(), nmframe::Error>(())
/// ```
#[derive(Debug)]
pub struct WriterThread<W> {
    /// The caller-side checks (cap, JSON) of the writer this was made from.
    checker: FrameWriter<io::Sink>,
    /// Frames queued for the next flush.
    batch: Vec<u8>,
    shared: Arc<Shared<W>>,
    /// The largest batch handed over so far: a buffer taken for the next batch is
    /// given this capacity, so that no buffer grows while a steady host runs.
    high_water: usize,
    thread: Option<JoinHandle<io::Result<Option<W>>>>,
    /// The write error that stopped the thread, kept to be returned again.
    failed: Option<KeptIo>,
    /// The caller has caught up with its input ([`Outbound::caught_up`]): the next flush
    /// or frame may be written inline up to [`CAUGHT_UP_MAX`].
    caught_up: bool,
}

impl<W: Write + Send + 'static> WriterThread<W> {
    fn spawn(writer: FrameWriter<W>) -> io::Result<Self> {
        let (checker, inner, queued) = writer.into_parts();
        let mut spent = VecDeque::with_capacity(BUFFERS);
        spent.extend((1..BUFFERS).map(|_| Vec::new()));
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                jobs: VecDeque::with_capacity(DEPTH),
                spent,
                hung_up: false,
                stopped: false,
                busy: false,
            }),
            out: Mutex::new(Some(inner)),
            for_writer: Condvar::new(),
            for_caller: Condvar::new(),
        });
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("nmframe-writer".into())
            .spawn(move || write_jobs(&theirs))?;
        Ok(WriterThread {
            checker,
            batch: queued,
            shared,
            high_water: 0,
            thread: Some(thread),
            failed: None,
            caught_up: false,
        })
    }

    /// The cap messages are checked against.
    pub fn cap(&self) -> Cap {
        self.checker.cap()
    }

    /// Bytes queued and not yet handed to the writing thread.
    pub fn queued(&self) -> usize {
        self.batch.len()
    }

    /// Adds a frame holding `payload` to the batch, copying it. Nothing is handed over
    /// until [`flush`](Self::flush) or the next [`send_frame`](Self::send_frame).
    ///
    /// # Errors
    ///
    /// The refusals of [`FrameWriter::queue`], with the batch left as it was; the error
    /// that stopped the writing thread.
    pub fn queue(&mut self, payload: &[u8]) -> Result<()> {
        self.check_alive()?;
        let header = self.checker.check_raw(payload)?;
        self.batch.extend_from_slice(&header);
        self.batch.extend_from_slice(payload);
        Ok(())
    }

    /// Serializes `value` as a frame at the end of the batch.
    ///
    /// # Errors
    ///
    /// [`Error::FrameTooLarge`] or [`Error::Serialize`], with the batch left as it was;
    /// the error that stopped the writing thread.
    pub fn queue_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.check_alive()?;
        encode_json(&mut self.batch, value, self.checker.cap()).map(drop)
    }

    /// Hands the batch, then `frame` without copying it, to the writing thread. A
    /// frame from a [`FrameReader`](crate::FrameReader) (a `BytesMut`) converts without
    /// a copy; keep a clone of the `Bytes` (a reference count) to look at it again.
    ///
    /// # Errors
    ///
    /// The refusals of [`FrameWriter::send`], with nothing handed over; the error that
    /// stopped the writing thread.
    pub fn send_frame(&mut self, frame: impl Into<Bytes>) -> Result<()> {
        let frame = frame.into();
        self.check_alive()?;
        let header = self.checker.check_raw(&frame)?;
        let inline_max = self.inline_max();
        if self.batch.len() + header.len() + frame.len() <= inline_max && self.idle() {
            return self.write_inline(&header, &frame);
        }
        self.flush()?;
        self.hand_over(Job::Frame(header, frame))
    }

    /// Hands the batch to the writing thread. It returns as soon as the thread has
    /// room for it (at once, unless two jobs are already waiting), not when the bytes
    /// are written: [`finish`](Self::finish) waits for that.
    ///
    /// # Errors
    ///
    /// The error that stopped the writing thread.
    pub fn flush(&mut self) -> Result<()> {
        self.check_alive()?;
        let inline_max = self.inline_max();
        if self.batch.is_empty() {
            return Ok(());
        }
        if self.batch.len() <= inline_max && self.idle() {
            return self.write_inline(&[], &[]);
        }
        // The next buffer in turn. When none has come back, the other three are waiting
        // or being written, so this waits exactly as handing over would (when the thread
        // has stopped, hand_over reports why).
        let mut next = {
            let state = self.shared.lock();
            let mut state = self
                .shared
                .wait_while(&self.shared.for_caller, state, |st| st.spent.is_empty());
            state.spent.pop_front().unwrap_or_default()
        };
        self.high_water = self.high_water.max(self.batch.len());
        next.reserve(self.high_water);
        let batch = std::mem::replace(&mut self.batch, next);
        self.hand_over(Job::Batch(batch))
    }

    /// Flushes, waits until every byte is written, and gives the writer back.
    ///
    /// # Errors
    ///
    /// The error that stopped the writing thread.
    pub fn finish(mut self) -> Result<W> {
        self.flush()?;
        self.stop()
    }

    /// Whether the writing thread is still going, without waiting: the error that
    /// stopped it, once it has stopped. A host that learns of end of input should ask
    /// before exiting quietly: a failed write on the thread shows up here, and in the
    /// next call that hands it something.
    ///
    /// # Errors
    ///
    /// The error that stopped the writing thread.
    pub fn check(&mut self) -> Result<()> {
        self.check_alive()?;
        match &self.thread {
            Some(thread) if thread.is_finished() => self.stop().map(drop),
            _ => Ok(()),
        }
    }

    /// The most the next flush or frame may write inline; takes the caller's word that it
    /// caught up, which holds for one write.
    fn inline_max(&mut self) -> usize {
        if std::mem::take(&mut self.caught_up) {
            CAUGHT_UP_MAX
        } else {
            INLINE_MAX
        }
    }

    /// Whether the writing thread has nothing to write and is not writing: the caller may
    /// then write itself, since only the caller gives it work.
    fn idle(&self) -> bool {
        let state = self.shared.lock();
        state.jobs.is_empty() && !state.busy && !state.stopped && !state.hung_up
    }

    /// Writes the batch, then `header` and `frame` (empty for a plain flush), and flushes,
    /// in the caller's thread (the writing thread being idle); the batch is left empty,
    /// its buffer kept. A failure is kept, as the writing thread keeps its own, and stops
    /// the thread.
    fn write_inline(&mut self, header: &[u8], frame: &[u8]) -> Result<()> {
        let result = {
            let mut out = self
                .shared
                .out
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match out.as_mut() {
                Some(out) => {
                    let mut slices = [
                        IoSlice::new(&self.batch),
                        IoSlice::new(header),
                        IoSlice::new(frame),
                    ];
                    write_all_vectored(out, &mut slices, &mut 0).and_then(|()| out.flush())
                }
                // Not reached: `idle` holds only while the thread runs, and it gives the
                // output back only when it ends.
                None => Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the writing thread has stopped",
                )),
            }
        };
        self.batch.clear();
        result.map_err(|err| {
            self.failed = Some(KeptIo::of(&err));
            self.shared.hang_up();
            Error::from_write(err)
        })
    }

    fn hand_over(&mut self, job: Job) -> Result<()> {
        let sent = {
            let state = self.shared.lock();
            let mut state = self
                .shared
                .wait_while(&self.shared.for_caller, state, |st| st.jobs.len() == DEPTH);
            if state.stopped || state.hung_up {
                false
            } else {
                state.jobs.push_back(job);
                true
            }
        };
        if sent {
            self.shared.for_writer.notify_one();
        } else {
            // The thread has stopped: joining it gives the error that stopped it.
            return Err(self.stop().err().unwrap_or_else(|| self.stopped()));
        }
        Ok(())
    }

    fn check_alive(&self) -> Result<()> {
        match self.failed {
            Some(_) => Err(self.stopped()),
            None => Ok(()),
        }
    }

    /// The error for a call after the thread stopped.
    fn stopped(&self) -> Error {
        let err = match &self.failed {
            Some(kept) => kept.error(),
            None => io::Error::new(io::ErrorKind::BrokenPipe, "the writing thread has stopped"),
        };
        Error::from_write(err)
    }

    /// Hangs up and joins the thread, once it has written what it holds.
    fn stop(&mut self) -> Result<W> {
        self.shared.hang_up();
        let Some(thread) = self.thread.take() else {
            return Err(self.stopped());
        };
        match thread.join() {
            // A failure met inline stands, whatever the thread saw after it.
            Ok(Ok(_)) if self.failed.is_some() => Err(self.stopped()),
            Ok(Ok(Some(inner))) => Ok(inner),
            Ok(Ok(None)) => Err(self.stopped()),
            Ok(Err(err)) => {
                self.failed = Some(KeptIo::of(&err));
                Err(Error::from_write(err))
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl<W: Write + Send + 'static> FrameWriter<W> {
    /// Moves the writer onto a thread of its own: see [`WriterThread`]. Frames queued
    /// so far go out first. Worth it where a second core is there to overlap reading
    /// with writing; a host on one core, or one that wants no thread, keeps the
    /// `FrameWriter`.
    ///
    /// # Errors
    ///
    /// When the thread cannot be started.
    pub fn spawn_thread(self) -> io::Result<WriterThread<W>> {
        WriterThread::spawn(self)
    }
}

impl<W: Write + Send + 'static> Outbound for WriterThread<W> {
    fn cap(&self) -> Cap {
        WriterThread::cap(self)
    }
    fn queue(&mut self, payload: &[u8]) -> Result<()> {
        WriterThread::queue(self, payload)
    }
    fn queue_frame(&mut self, frame: &Bytes) -> Result<()> {
        if frame.len() < COPY_BELOW {
            WriterThread::queue(self, frame)
        } else {
            // A reference count, not a copy: the writing thread writes it from where it lies.
            WriterThread::send_frame(self, frame.clone())
        }
    }
    fn queued(&self) -> usize {
        WriterThread::queued(self)
    }
    fn flush(&mut self) -> Result<()> {
        WriterThread::flush(self)
    }
    fn check(&mut self) -> Result<()> {
        WriterThread::check(self)
    }
    fn caught_up(&mut self) {
        self.caught_up = true;
    }
    fn heeds_caught_up(&self) -> bool {
        true
    }
    fn close(&mut self) -> Result<()> {
        WriterThread::flush(self)?;
        self.stop().map(drop)
    }
}

impl<W> Drop for WriterThread<W> {
    fn drop(&mut self) {
        // The thread ends once it has written what it holds.
        self.shared.hang_up();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writing thread: writes every job in order and flushes after each, until the
/// caller hangs up or a write fails (then it stops: nothing follows a broken frame).
/// Returns the output, for `finish`.
fn write_jobs<W: Write>(shared: &Shared<W>) -> io::Result<Option<W>> {
    let _stopped = StopOnDrop(shared);
    loop {
        let job = {
            let state = shared.lock();
            let mut state = shared.wait_while(&shared.for_writer, state, |st| {
                st.jobs.is_empty() && !st.hung_up
            });
            let job = state.jobs.pop_front();
            state.busy = job.is_some();
            job
        };
        let Some(job) = job else {
            return Ok(shared
                .out
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take());
        };
        // There is room for the next job now.
        shared.for_caller.notify_one();
        let mut guard = shared.out.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(out) = guard.as_mut() else {
            return Ok(None);
        };
        let spent = match job {
            Job::Batch(mut batch) => {
                out.write_all(&batch)?;
                batch.clear();
                Some(batch)
            }
            Job::Frame(header, frame) => {
                let mut slices = [IoSlice::new(&header), IoSlice::new(&frame)];
                write_all_vectored(out, &mut slices, &mut 0)?;
                None
            }
        };
        out.flush()?;
        drop(guard);
        let mut state = shared.lock();
        state.busy = false;
        // Within capacity: every buffer but the caller's fits.
        state.spent.extend(spent);
        drop(state);
        shared.for_caller.notify_one();
    }
}
