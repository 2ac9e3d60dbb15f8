//! The blocking endpoint: [`Chunked`] over a [`FrameReader`] and an [`Outbound`].

use std::time::Instant;

use serde::Serialize;

use super::state::{GiveUp, Incoming, Plan, State};
use super::{ChunkOptions, Parts, is_envelope};
use crate::error::{Error, Result};
use crate::host_stdio::{HostStdin, HostStdout};
use crate::io::{FrameReader, FrameWriter, Timed, WaitReadable};
use crate::limits::Limits;
use crate::outbound::Outbound;

/// A host's endpoint for messages of any size, in both directions: the blocking
/// counterpart of the extension's `NativePort`. See the [module](super) for an example.
///
/// Its input waits with a time limit ([`WaitReadable`]), so the timeouts of
/// [`ChunkOptions`] fire while the extension is silent: a transfer that stalls comes back
/// from [`recv`](Self::recv) as [`Incoming::Failed`], and a send that gets no
/// acknowledgement returns [`Error::Transfer`].
#[derive(Debug)]
pub struct Chunked<R: WaitReadable, W: Outbound> {
    reader: FrameReader<R>,
    writer: W,
    state: State,
}

/// The endpoint of [`Chunked::stdio`]: the process's stdin and stdout.
pub type StdioChunked = Chunked<HostStdin, FrameWriter<HostStdout>>;

impl StdioChunked {
    /// The process's stdin and stdout, set up as [`crate::stdio`] does, with the
    /// host's limits.
    ///
    /// # Errors
    ///
    /// When stdin or stdout is not open.
    pub fn stdio(options: ChunkOptions) -> Result<Self> {
        let (reader, writer) = crate::io::stdio(Limits::host()).map_err(Error::Io)?;
        Ok(Chunked::new(reader, writer, options))
    }
}

impl<R: WaitReadable, W: Outbound> Chunked<R, W> {
    /// An endpoint over a frame reader and a writer (whose cap bounds every frame sent,
    /// parts included).
    pub fn new(reader: FrameReader<R>, writer: W, options: ChunkOptions) -> Self {
        Chunked {
            reader,
            writer,
            state: State::new(options),
        }
    }

    /// The next whole message or failed transfer; `None` at the end of the stream. A
    /// message in parts is returned once its end frame has checked out. What is queued
    /// is written before a read that may wait.
    ///
    /// # Errors
    ///
    /// The stream's errors ([`Error::is_fatal`] says whether it can go on).
    pub fn recv(&mut self) -> Result<Option<Incoming>> {
        loop {
            if let Some(incoming) = self.state.ready() {
                self.reply()?;
                return Ok(Some(incoming));
            }
            if !self.reader.has_frame() {
                self.writer.flush()?;
            }
            // A transfer in progress has a deadline: wait no longer than that.
            let frame = match self.reader.read_frame_until(self.state.next_deadline())? {
                Timed::Frame(frame) => frame,
                Timed::End => return Ok(None),
                Timed::Expired => continue,
            };
            let incoming = self.state.take(frame);
            self.reply()?;
            if incoming.is_some() {
                return Ok(incoming);
            }
        }
    }

    /// Writes the acknowledgements and refusals the reassembler queued.
    fn reply(&mut self) -> Result<()> {
        let mut any = false;
        for frame in self.state.outbox() {
            self.writer.queue(&frame)?;
            any = true;
        }
        if any { self.writer.flush() } else { Ok(()) }
    }

    /// Sends a message's JSON text, whatever its size. Invalid JSON is refused before
    /// anything is written. A message that fits one frame and cannot be taken for an
    /// envelope goes as it is; any other as parts, at most [`ChunkOptions::window`] of
    /// them unacknowledged (the frames that arrive meanwhile are kept for
    /// [`recv`](Self::recv), within [`ChunkOptions::max_buffered`]).
    ///
    /// # Errors
    ///
    /// [`Error::Transfer`] when the extension refuses the message, or when this side
    /// gives it up (no acknowledgement within [`ChunkOptions::ack_timeout`], or too
    /// much arrived meanwhile) and tells the extension so; the stream goes on. The
    /// writer's errors otherwise.
    pub fn send_json(&mut self, json: &[u8]) -> Result<()> {
        self.state.validate(json)?;
        self.send_valid(json)
    }

    /// Serializes `value` and sends it as [`send_json`](Self::send_json) does: the text
    /// is held once, and one frame at a time is built from it.
    ///
    /// # Errors
    ///
    /// As [`send_json`](Self::send_json), and [`Error::Serialize`].
    pub fn send<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let text = self.state.serialize(value)?;
        let sent = self.send_valid(&text);
        self.state.give_back(text);
        sent
    }

    /// Like [`send_json`](Self::send_json), but a message that fits one frame is
    /// queued (written at the next flush, send, or read that may wait) rather than
    /// written at once: replies to a burst leave in one write.
    ///
    /// # Errors
    ///
    /// As [`send_json`](Self::send_json).
    pub fn queue_json(&mut self, json: &[u8]) -> Result<()> {
        self.state.validate(json)?;
        if json.len() <= self.writer.cap().max as usize && !is_envelope(json) {
            return self.writer.queue(json);
        }
        self.writer.flush()?;
        self.send_valid(json)
    }

    /// Writes every queued message.
    ///
    /// # Errors
    ///
    /// The writer's.
    pub fn flush(&mut self) -> Result<()> {
        self.writer.flush()
    }

    fn send_valid(&mut self, json: &[u8]) -> Result<()> {
        let max_frame = self.writer.cap().max as usize;
        let Plan::Parts(id) = self.state.plan(json, max_frame) else {
            return self.writer.send(json);
        };
        let result = self.send_parts(id, json, max_frame);
        self.state.done_sending();
        result
    }

    fn send_parts(&mut self, id: u32, json: &[u8], max_frame: usize) -> Result<()> {
        let mut parts = Parts::new(id, json, max_frame, self.state.window);
        loop {
            if self.state.must_wait(parts.parts_written()) {
                // Wait while a window's worth of parts is unacknowledged, keeping what
                // arrives meanwhile for recv.
                let mut wait = self.state.start_wait(id);
                while self.state.must_wait(parts.parts_written()) {
                    let frame = match self.reader.read_frame_until(Some(wait.deadline))? {
                        Timed::Frame(frame) => frame,
                        Timed::End => {
                            return Err(State::closed_while_sending(id, parts.parts_written()));
                        }
                        Timed::Expired if Instant::now() < wait.deadline => continue,
                        Timed::Expired => {
                            let give_up = self.state.timed_out(&wait, &parts);
                            return self.give_up(give_up);
                        }
                    };
                    let waited = self.state.waited(&mut wait, frame, &parts);
                    self.reply()?;
                    if let Err(give_up) = waited {
                        return self.give_up(give_up);
                    }
                }
            }
            if let Some(err) = self.state.refusal() {
                return Err(err);
            }
            if !parts.next_frame(&mut self.state.frame) {
                return Ok(());
            }
            // One frame at a time: the message is never held twice.
            self.writer.send(&self.state.frame)?;
        }
    }

    /// Tells the extension that this side gave the message up, and says why.
    fn give_up(&mut self, give_up: GiveUp) -> Result<()> {
        self.writer.send(&give_up.abort)?;
        Err(give_up.error)
    }

    /// Whether [`recv`](Self::recv) has something to return without reading: a message
    /// kept while a send waited, or a whole frame buffered (which may be a part).
    pub fn has_frame(&self) -> bool {
        self.state.has_held() || self.reader.has_frame()
    }

    /// The limits and the window in force.
    pub fn options(&self) -> &ChunkOptions {
        self.state.reassembler.options()
    }

    /// Replaces the limits and the window; messages already being reassembled go on
    /// under the new limits.
    pub fn set_options(&mut self, options: ChunkOptions) {
        self.state.set_options(options);
    }

    /// The frame reader.
    pub fn reader(&self) -> &FrameReader<R> {
        &self.reader
    }

    /// The writer.
    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.writer
    }
}
