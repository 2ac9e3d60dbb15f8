//! What every writer of frames shares: the [`Outbound`] trait (send a frame now or queue
//! it), the jobs a writer on another thread or task takes, the size below which a frame
//! is copied rather than written from where it lies, and the vectored write loop.
//!
//! A leaf: it depends on the error and limit types only, and the writers
//! ([`FrameWriter`](crate::FrameWriter), [`WriterThread`](crate::WriterThread), the
//! async sink and sender) depend on it, never the other way round.

use std::io::{self, IoSlice, Write};

use bytes::Bytes;

use crate::error::Result;
use crate::limits::{Cap, HEADER_LEN};

/// A writer of frames that either writes at once or queues for the next flush:
/// [`FrameWriter`](crate::FrameWriter) (on the caller's thread) and
/// [`WriterThread`](crate::WriterThread) (on a thread of its own), or a box of either.
/// Code written against it (the chunked endpoint, an echo loop, the C ABI's host) runs
/// over both, chosen at run time if need be: `Box<dyn Outbound>` is one too.
///
/// Every method checks a payload against [`cap`](Self::cap) before anything is queued
/// or written: a refusal ([`Error::FrameTooLarge`](crate::Error::FrameTooLarge),
/// [`Error::EmptyFrame`](crate::Error::EmptyFrame)) leaves the queue as it was.
///
/// ```
/// use nmframe::{FrameWriter, Limits, Outbound};
///
/// // The same loop over a writer on this thread or on its own.
/// fn reply_all(out: &mut dyn Outbound, replies: &[&[u8]]) -> Result<(), nmframe::Error> {
///     for reply in replies {
///         out.queue(reply)?; // copied into the batch
///     }
///     out.flush() // one write for the burst
/// }
///
/// let mut here = FrameWriter::new(Vec::new(), Limits::host());
/// reply_all(&mut here, &[b"[1]", b"[2]"])?;
/// let mut threaded: Box<dyn Outbound> =
///     Box::new(FrameWriter::new(Vec::new(), Limits::host()).spawn_thread()?);
/// reply_all(&mut *threaded, &[b"[1]", b"[2]"])?;
/// threaded.close()?;
/// assert_eq!(here.get_ref().len(), 2 * (4 + 3));
/// # Ok::<(), nmframe::Error>(())
/// ```
pub trait Outbound {
    /// The cap payloads are checked against.
    fn cap(&self) -> Cap;

    /// Queues a copy of `payload` as one frame, written at the next flush or send.
    ///
    /// # Errors
    ///
    /// The refusals above, with nothing queued; a writer on another thread also
    /// reports here the error that stopped it.
    fn queue(&mut self, payload: &[u8]) -> Result<()>;

    /// Queues `frame` without copying it when it is large: its reference count is taken
    /// (a clone of the `Bytes`, not of its bytes) and it is written from where it lies,
    /// possibly at once, after what was queued before it. A small one is copied into the
    /// batch, which costs less than a write of several pieces, and less than touching
    /// its reference count.
    ///
    /// # Errors
    ///
    /// As for [`queue`](Self::queue), and the write errors of [`flush`](Self::flush).
    fn queue_frame(&mut self, frame: &Bytes) -> Result<()>;

    /// Bytes queued and not yet written or handed over.
    fn queued(&self) -> usize;

    /// Writes (or hands over) everything queued.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`](crate::Error::Disconnected) when the peer has gone;
    /// the write error otherwise.
    fn flush(&mut self) -> Result<()>;

    /// Queues `payload` and writes everything queued.
    ///
    /// # Errors
    ///
    /// As for [`queue`](Self::queue) and [`flush`](Self::flush).
    fn send(&mut self, payload: &[u8]) -> Result<()> {
        self.queue(payload)?;
        self.flush()
    }

    /// The error that stopped a writer on another thread, without waiting; `Ok` for a
    /// writer on this thread, whose errors come back from the call that wrote.
    ///
    /// # Errors
    ///
    /// The error that stopped the writer.
    fn check(&mut self) -> Result<()> {
        Ok(())
    }

    /// Says that the caller has caught up with its input: no message is waiting for it
    /// ([`FrameReader::input_waiting`](crate::FrameReader::input_waiting) is false), so
    /// it has nothing else to do until its reply is out. A writer on a thread of its own
    /// then writes the next flush or frame, up to 64 KiB, in the caller's thread when it
    /// has nothing else to write: a lone reply costs no wake-up of the second thread.
    /// Otherwise it writes only small ones so (up to 16 KiB), and hands larger ones over,
    /// so that reading the next messages overlaps writing. It holds for the next write
    /// only. A writer on the caller's thread has nothing to decide.
    ///
    /// ```
    /// use nmframe::{FrameWriter, Limits, Outbound};
    ///
    /// let mut out = FrameWriter::new(Vec::new(), Limits::host()).spawn_thread()?;
    /// let reply = vec![b'1'; 40_000]; // a JSON number of 40,000 digits
    /// out.queue(&reply)?;
    /// out.caught_up(); // the reader has nothing buffered and the pipe is empty
    /// out.flush()?; // written by this thread: the writing thread was idle
    /// assert_eq!(out.finish()?.len(), 4 + reply.len());
    /// # Ok::<(), nmframe::Error>(())
    /// ```
    fn caught_up(&mut self) {}

    /// Whether [`caught_up`](Self::caught_up) changes anything: only for a writer on a
    /// thread of its own. Asking the reader costs a `poll`, so a caller asks only a
    /// writer that listens.
    ///
    /// ```
    /// use nmframe::{FrameWriter, Limits, Outbound};
    ///
    /// let inline = FrameWriter::new(Vec::new(), Limits::host());
    /// assert!(!inline.heeds_caught_up());
    /// let threaded = FrameWriter::new(Vec::new(), Limits::host()).spawn_thread()?;
    /// assert!(threaded.heeds_caught_up());
    /// # Ok::<(), nmframe::Error>(())
    /// ```
    fn heeds_caught_up(&self) -> bool {
        false
    }

    /// Writes everything queued and waits until it is written: the last call before
    /// the host exits. A writer on another thread stops; later calls return an error.
    ///
    /// # Errors
    ///
    /// As for [`flush`](Self::flush).
    fn close(&mut self) -> Result<()>;
}

impl<T: Outbound + ?Sized> Outbound for Box<T> {
    fn cap(&self) -> Cap {
        (**self).cap()
    }
    fn queue(&mut self, payload: &[u8]) -> Result<()> {
        (**self).queue(payload)
    }
    fn queue_frame(&mut self, frame: &Bytes) -> Result<()> {
        (**self).queue_frame(frame)
    }
    fn queued(&self) -> usize {
        (**self).queued()
    }
    fn flush(&mut self) -> Result<()> {
        (**self).flush()
    }
    fn send(&mut self, payload: &[u8]) -> Result<()> {
        (**self).send(payload)
    }
    fn check(&mut self) -> Result<()> {
        (**self).check()
    }
    fn caught_up(&mut self) {
        (**self).caught_up()
    }
    fn heeds_caught_up(&self) -> bool {
        (**self).heeds_caught_up()
    }
    fn close(&mut self) -> Result<()> {
        (**self).close()
    }
}

/// Payloads smaller than this are copied into the batch rather than written from
/// where they lie: below it, one write of a copy costs less than a write of several
/// pieces.
pub(crate) const COPY_BELOW: usize = 16 * 1024;

/// What a writer on another thread or task writes, in order.
#[derive(Debug)]
pub(crate) enum Job {
    /// Whole frames, headers included. The buffer comes back emptied for reuse.
    Batch(Vec<u8>),
    /// One frame written from where it lies: a large payload is not copied.
    Frame([u8; HEADER_LEN], Bytes),
}

#[cfg(feature = "tokio")]
impl Job {
    /// Bytes it puts on the wire.
    pub(crate) fn len(&self) -> usize {
        match self {
            Job::Batch(batch) => batch.len(),
            Job::Frame(header, payload) => header.len() + payload.len(),
        }
    }
}

/// `Write::write_all_vectored`, which std has not stabilised: loops over partial
/// writes and `EINTR` until every slice is written, counting in `written` the bytes
/// that went out.
pub(crate) fn write_all_vectored<W: Write + ?Sized>(
    writer: &mut W,
    mut slices: &mut [IoSlice<'_>],
    written: &mut usize,
) -> io::Result<()> {
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match writer.write_vectored(slices) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the writer accepted no more bytes",
                ));
            }
            Ok(n) => {
                *written += n;
                IoSlice::advance_slices(&mut slices, n);
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
