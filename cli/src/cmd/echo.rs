//! `nmframe echo`: the reference echo host.

use std::io::{Read, Write};
use std::thread;

use bytes::Bytes;
use nmframe::{Error, FrameReader, FrameWriter, Limits, WriterThread};

use crate::out::note;
use crate::text::json_string;

/// The reference echo host: validate each message with simd-json and send the same
/// bytes back. Replies to everything already buffered go out in one write. With a
/// second core (or `NMFRAME_ECHO_THREAD=1`), replies are written on a thread of their
/// own while the next messages are read; `NMFRAME_ECHO_THREAD=0` keeps one thread.
pub fn echo() -> Result<(), Error> {
    let (reader, writer) = nmframe::stdio(Limits::host())?;
    let threaded = match std::env::var("NMFRAME_ECHO_THREAD").as_deref() {
        Ok("0") => false,
        Ok("1") => true,
        _ => thread::available_parallelism().is_ok_and(|n| n.get() > 1),
    };
    // The writer checks the size first and the JSON second: a message too large to
    // echo costs no validation (and no copy of it).
    let writer = writer.validate_json();
    if threaded {
        serve_echo(reader, writer.spawn_thread()?)
    } else {
        serve_echo(reader, writer)
    }
}

/// FNV-1a, 32 bits: simple enough that any sender can compute it to compare.
fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Messages at least this large are written from where they lie instead of being
/// copied into the reply queue.
const DIRECT_WRITE: usize = 16 * 1024;

/// What the echo needs of a writer of frames, on this thread or on its own.
pub trait Replies {
    /// Writes (or hands over) one frame without copying it.
    fn send_frame(&mut self, frame: Bytes) -> Result<(), Error>;
    /// Queues a copy of a frame for the next flush.
    fn queue(&mut self, payload: &[u8]) -> Result<(), Error>;
    /// Sends what is queued.
    fn flush(&mut self) -> Result<(), Error>;
    /// Bytes queued.
    fn queued(&self) -> usize;
    /// Sends what is queued and waits until it is written.
    fn close(self) -> Result<(), Error>;
}

impl<W: Write> Replies for FrameWriter<W> {
    fn send_frame(&mut self, frame: Bytes) -> Result<(), Error> {
        self.send(&frame) // with anything queued, in one vectored write
    }
    fn queue(&mut self, payload: &[u8]) -> Result<(), Error> {
        FrameWriter::queue(self, payload)
    }
    fn flush(&mut self) -> Result<(), Error> {
        FrameWriter::flush(self)
    }
    fn queued(&self) -> usize {
        FrameWriter::queued(self)
    }
    fn close(mut self) -> Result<(), Error> {
        FrameWriter::flush(&mut self)
    }
}

impl<W: Write + Send + 'static> Replies for WriterThread<W> {
    fn send_frame(&mut self, frame: Bytes) -> Result<(), Error> {
        WriterThread::send_frame(self, frame)
    }
    fn queue(&mut self, payload: &[u8]) -> Result<(), Error> {
        WriterThread::queue(self, payload)
    }
    fn flush(&mut self) -> Result<(), Error> {
        WriterThread::flush(self)
    }
    fn queued(&self) -> usize {
        WriterThread::queued(self)
    }
    fn close(self) -> Result<(), Error> {
        self.finish().map(drop)
    }
}

/// Echoes every frame `reader` delivers through `writer`, which should check the
/// JSON (`validate_json`): an invalid message, or one too large to echo, is answered
/// with an error object giving its size and checksum, and the host goes on.
pub fn serve_echo<R: Read>(
    mut reader: FrameReader<R>,
    mut writer: impl Replies,
) -> Result<(), Error> {
    loop {
        let frame = match reader.read_frame()? {
            Some(frame) => frame,
            None => {
                return match writer.close() {
                    Err(err) if err.is_disconnect() => Ok(()),
                    other => other,
                };
            }
        };
        // A reference to the frame, for the error reply: the frame itself may be
        // handed over whole.
        let frame = frame.freeze();
        let checked = if frame.len() >= DIRECT_WRITE {
            writer.send_frame(frame.clone())
        } else {
            writer.queue(&frame)
        };
        match checked {
            Ok(()) => {}
            Err(err) if err.is_disconnect() => return Ok(()),
            Err(err) if err.is_fatal() => return Err(err),
            Err(err) => {
                note(&format!(
                    "echo: not echoing a {}-byte message: {err}",
                    frame.len()
                ));
                let mut reply = b"{\"error\":".to_vec();
                json_string(&mut reply, &err.to_string());
                // The size and a checksum let the sender check what arrived.
                reply.extend_from_slice(
                    format!(
                        ",\"size\":{},\"fnv1a32\":{}}}",
                        frame.len(),
                        fnv1a32(&frame)
                    )
                    .as_bytes(),
                );
                writer.queue(&reply)?;
            }
        }
        if !reader.has_frame() && writer.queued() > 0 {
            match writer.flush() {
                Err(err) if err.is_disconnect() => return Ok(()),
                other => other?,
            }
        }
    }
}
