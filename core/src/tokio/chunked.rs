//! Messages of any size on Tokio: the async counterpart of
//! [`crate::chunked::Chunked`], over a [`FrameStream`] and a [`FrameSink`].

use std::time::Instant;

use bytes::BytesMut;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};

use super::{FrameSink, FrameStream, Stdin, Stdout};
use crate::chunked::state::{GiveUp, Plan, State};
use crate::chunked::{ChunkOptions, Incoming, Parts, is_envelope};
use crate::error::{Error, Result};
use crate::limits::Limits;

/// A host's async endpoint for messages of any size (docs/CHUNKING.md): whole messages
/// from [`recv`](Self::recv), any size through [`send_json`](Self::send_json), at most
/// a window of parts unacknowledged by the extension.
///
/// The timeouts of [`ChunkOptions`] run on Tokio's timer, so the runtime needs its time
/// driver (`#[tokio::main]` enables it; a `runtime::Builder` needs `enable_time()` or
/// `enable_all()`).
///
/// ```no_run
/// use nmframe::chunked::{ChunkOptions, Incoming};
/// use nmframe::tokio::Chunked;
///
/// #[tokio::main]
/// async fn main() -> Result<(), nmframe::Error> {
///     let mut host = Chunked::stdio(ChunkOptions::default())?;
///     while let Some(incoming) = host.recv().await? {
///         match incoming {
///             Incoming::Message(request) => host.send_json(&request).await?,
///             Incoming::Failed(err) => eprintln!("host: {err}"),
///         }
///     }
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct Chunked<R, W> {
    frames: FrameStream<R>,
    sink: FrameSink<W>,
    state: State,
}

impl Chunked<Stdin, Stdout> {
    /// The process's stdin and stdout, set up as [`super::stdio`] does, with the host's
    /// limits.
    pub fn stdio(options: ChunkOptions) -> Result<Self> {
        let (frames, sink) = super::stdio(Limits::host()).map_err(Error::Io)?;
        Ok(Chunked::new(frames, sink, options))
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Chunked<R, W> {
    /// An endpoint over a frame stream and sink (whose cap bounds every frame sent).
    pub fn new(frames: FrameStream<R>, sink: FrameSink<W>, options: ChunkOptions) -> Self {
        Chunked {
            frames,
            sink,
            state: State::new(options),
        }
    }

    /// The next whole message or failed transfer; `None` at the end of the stream.
    /// What is queued is written before a read that may wait. Cancel-safe where it
    /// waits for a frame: a frame is taken in the same poll that reads it.
    pub async fn recv(&mut self) -> Result<Option<Incoming>> {
        loop {
            if let Some(incoming) = self.state.ready() {
                self.reply().await?;
                return Ok(Some(incoming));
            }
            if !self.frames.has_frame() {
                self.sink.flush().await?;
            }
            // A transfer in progress has a deadline: wait no longer than that.
            let Some(frame) = self.recv_until(self.state.next_deadline()).await? else {
                continue;
            };
            let Some(frame) = frame else {
                return Ok(None);
            };
            let incoming = self.state.take(frame);
            self.reply().await?;
            if incoming.is_some() {
                return Ok(incoming);
            }
        }
    }

    /// The next frame (`Some(None)` at the end), or `None` when `deadline` passed
    /// first. Cancel-safe: a frame is taken in the poll that reads it.
    async fn recv_until(&mut self, deadline: Option<Instant>) -> Result<Option<Option<BytesMut>>> {
        match deadline {
            None => self.frames.recv().await.map(Some),
            Some(at) => match tokio::time::timeout_at(at.into(), self.frames.recv()).await {
                Ok(frame) => frame.map(Some),
                Err(_elapsed) => Ok(None),
            },
        }
    }

    async fn reply(&mut self) -> Result<()> {
        let mut any = false;
        for frame in self.state.outbox() {
            self.sink.queue(&frame)?;
            any = true;
        }
        if any { self.sink.flush().await } else { Ok(()) }
    }

    /// Sends a message's JSON text, whatever its size, as the blocking
    /// [`Chunked::send_json`](crate::chunked::Chunked::send_json) does. Not
    /// cancel-safe: a send dropped part-way leaves a message unfinished (the extension
    /// drops it when its timeout passes).
    pub async fn send_json(&mut self, json: &[u8]) -> Result<()> {
        self.state.validate(json)?;
        self.send_valid(json).await
    }

    /// Serializes `value` and sends it as [`send_json`](Self::send_json) does.
    pub async fn send<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let text = self.state.serialize(value)?;
        let sent = self.send_valid(&text).await;
        self.state.give_back(text);
        sent
    }

    /// Queues a message that fits one frame for the next flush; sends a larger one in
    /// parts at once.
    pub async fn queue_json(&mut self, json: &[u8]) -> Result<()> {
        self.state.validate(json)?;
        if json.len() <= self.sink.cap().max as usize && !is_envelope(json) {
            return self.sink.queue(json);
        }
        self.sink.flush().await?;
        self.send_valid(json).await
    }

    /// Writes every queued message.
    pub async fn flush(&mut self) -> Result<()> {
        self.sink.flush().await
    }

    async fn send_valid(&mut self, json: &[u8]) -> Result<()> {
        let max_frame = self.sink.cap().max as usize;
        let Plan::Parts(id) = self.state.plan(json, max_frame) else {
            return self.sink.send(json).await;
        };
        let result = self.send_parts(id, json, max_frame).await;
        self.state.done_sending();
        result
    }

    async fn send_parts(&mut self, id: u32, json: &[u8], max_frame: usize) -> Result<()> {
        let mut parts = Parts::new(id, json, max_frame, self.state.window);
        loop {
            if self.state.must_wait(parts.parts_written()) {
                let mut wait = self.state.start_wait(id);
                while self.state.must_wait(parts.parts_written()) {
                    let frame = match self.recv_until(Some(wait.deadline)).await? {
                        Some(Some(frame)) => frame,
                        Some(None) => {
                            return Err(State::closed_while_sending(id, parts.parts_written()));
                        }
                        None if Instant::now() < wait.deadline => continue,
                        None => {
                            let give_up = self.state.timed_out(&wait, &parts);
                            return self.give_up(give_up).await;
                        }
                    };
                    let waited = self.state.waited(&mut wait, frame, &parts);
                    self.reply().await?;
                    if let Err(give_up) = waited {
                        return self.give_up(give_up).await;
                    }
                }
            }
            if let Some(err) = self.state.refusal() {
                return Err(err);
            }
            if !parts.next_frame(&mut self.state.frame) {
                return Ok(());
            }
            self.sink.send(&self.state.frame).await?;
        }
    }

    /// Tells the extension that this side gave the message up, and says why.
    async fn give_up(&mut self, give_up: GiveUp) -> Result<()> {
        self.sink.send(&give_up.abort).await?;
        Err(give_up.error)
    }

    /// The limits and the window in force.
    pub fn options(&self) -> &ChunkOptions {
        self.state.reassembler.options()
    }

    /// Replaces the limits and the window.
    pub fn set_options(&mut self, options: ChunkOptions) {
        self.state.set_options(options);
    }
}
