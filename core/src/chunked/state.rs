//! An endpoint's state without its I/O, which the blocking [`Chunked`](super::Chunked)
//! and the async `nmframe::tokio::Chunked` drive: the reassembler, the messages kept
//! while a send waits, and the acknowledgements of the message being sent.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use serde::Serialize;

use super::reassembler::{Accepted, Reassembler};
use super::wire::{self, is_envelope};
use super::{ChunkOptions, Parts};
use crate::error::{Error, Result};
use crate::json::JsonDecoder;
use crate::transfer::{TransferCode, TransferError};

/// What [`Chunked::recv`](super::Chunked::recv) returns.
#[derive(Debug)]
pub enum Incoming {
    /// A whole message's JSON text: a plain frame as it came, or a reassembled message.
    Message(BytesMut),
    /// A message that failed (too large, corrupted, aborted, timed out...), or a
    /// refusal by the extension of a message this side had sent whole: reported, dropped,
    /// and the sender told to stop. The stream goes on.
    Failed(TransferError),
}

impl Incoming {
    /// The memory it holds, as counted against [`ChunkOptions::max_buffered`].
    fn size(&self) -> usize {
        match self {
            Incoming::Message(text) => text.len(),
            Incoming::Failed(err) => err.text().len(),
        }
    }
}

/// How a message leaves.
pub(crate) enum Plan {
    /// As it is, in one frame.
    Plain,
    /// In parts, as this message id.
    Parts(u32),
}

/// A send waiting for an acknowledgement.
pub(crate) struct AckWait {
    pub(crate) id: u32,
    pub(crate) deadline: Instant,
    since: Instant,
    acked: Option<u64>,
}

/// A send given up by this side: the `abort` frame to write, then the error to return.
pub(crate) struct GiveUp {
    pub(crate) abort: Vec<u8>,
    pub(crate) error: Error,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) reassembler: Reassembler,
    /// What arrived while a send waited for an acknowledgement.
    held: VecDeque<Incoming>,
    held_bytes: usize,
    acked: Option<u64>,
    refused: Option<TransferError>,
    sending: Option<u32>,
    next_id: u32,
    pub(crate) window: u32,
    ack_timeout: Duration,
    json: JsonDecoder,
    /// The frame being built, reused.
    pub(crate) frame: Vec<u8>,
    /// The text `send` serializes into, reused.
    text: Vec<u8>,
}

impl State {
    pub(crate) fn new(options: ChunkOptions) -> Self {
        State {
            window: options.window,
            ack_timeout: options.ack_timeout,
            reassembler: Reassembler::new(options),
            held: VecDeque::new(),
            held_bytes: 0,
            acked: None,
            refused: None,
            sending: None,
            next_id: 0,
            json: JsonDecoder::new(),
            frame: Vec::new(),
            text: Vec::new(),
        }
    }

    pub(crate) fn set_options(&mut self, options: ChunkOptions) {
        self.window = options.window;
        self.ack_timeout = options.ack_timeout;
        self.reassembler.set_options(options);
    }

    /// A message kept while a send waited, or a transfer that timed out.
    pub(crate) fn ready(&mut self) -> Option<Incoming> {
        if let Some(kept) = self.held.pop_front() {
            self.held_bytes -= kept.size();
            self.reassembler.outside = self.held_bytes;
            return Some(kept);
        }
        self.reassembler
            .expire(Instant::now())
            .map(Incoming::Failed)
    }

    pub(crate) fn has_held(&self) -> bool {
        !self.held.is_empty()
    }

    /// When a transfer in progress times out, for a read to wait no longer than that.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.reassembler.next_deadline()
    }

    /// The acknowledgements and refusals to write back now.
    pub(crate) fn outbox(&mut self) -> std::vec::Drain<'_, Vec<u8>> {
        self.reassembler.outbox().drain(..)
    }

    /// Routes one frame: acknowledgements and refusals to the send in progress,
    /// everything else through the reassembler.
    pub(crate) fn take(&mut self, frame: BytesMut) -> Option<Incoming> {
        match self.reassembler.accept(frame, Instant::now()) {
            Accepted::Message(text) => Some(Incoming::Message(text)),
            Accepted::Failed(err) => Some(Incoming::Failed(err)),
            Accepted::Pending => None,
            Accepted::Ack { id, seq } => {
                if self.sending == Some(id) {
                    self.acked = Some(self.acked.map_or(seq, |a| a.max(seq)));
                }
                None
            }
            // A refusal of a message sent whole already is the extension's verdict on it.
            Accepted::Refused(err) if self.sending != err.id() => Some(Incoming::Failed(err)),
            Accepted::Refused(err) => {
                self.refused = Some(err);
                None
            }
        }
    }

    pub(crate) fn validate(&mut self, json: &[u8]) -> Result<()> {
        self.json.validate(json)
    }

    /// Whether `json` (valid) leaves as it is or in parts; for parts, the send starts.
    pub(crate) fn plan(&mut self, json: &[u8], max_frame: usize) -> Plan {
        if json.len() <= max_frame && !is_envelope(json) {
            return Plan::Plain;
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.sending = Some(id);
        self.acked = None;
        self.refused = None;
        Plan::Parts(id)
    }

    /// Whether the send must wait for an acknowledgement before its next part.
    pub(crate) fn must_wait(&self, parts_written: u64) -> bool {
        self.window > 0
            && self.refused.is_none()
            && parts_written >= self.acked.map_or(0, |a| a + 1) + u64::from(self.window)
    }

    /// Starts waiting for an acknowledgement of message `id`.
    pub(crate) fn start_wait(&self, id: u32) -> AckWait {
        let now = Instant::now();
        AckWait {
            id,
            deadline: now + self.ack_timeout,
            since: now,
            acked: self.acked,
        }
    }

    /// One frame that arrived while a send waited: an acknowledgement moves the
    /// deadline on, anything for `recv` is kept. `Err` gives the send up: what is kept
    /// and what is being reassembled passed [`ChunkOptions::max_buffered`].
    pub(crate) fn waited(
        &mut self,
        wait: &mut AckWait,
        frame: BytesMut,
        parts: &Parts<'_>,
    ) -> std::result::Result<(), GiveUp> {
        if let Some(kept) = self.take(frame) {
            self.held_bytes += kept.size();
            self.held.push_back(kept);
            self.reassembler.outside = self.held_bytes;
        }
        if self.acked != wait.acked {
            wait.acked = self.acked;
            wait.since = Instant::now();
            wait.deadline = wait.since + self.ack_timeout;
        }
        let reassembling = self.reassembler.buffered();
        let limit = self.reassembler.options().max_buffered;
        if self.held_bytes + reassembling <= limit {
            return Ok(());
        }
        let id = wait.id;
        Err(self.give_up(
            id,
            TransferCode::Capacity,
            format!(
                "message {id} was given up after {} parts: while it waited for an \
                 acknowledgement, {} message(s) of {} bytes arrived and {reassembling} bytes \
                 are being reassembled, past the limit of {limit} for all together; what \
                 arrived is delivered",
                parts.parts_written(),
                self.held.len(),
                self.held_bytes
            ),
        ))
    }

    /// No acknowledgement came by the deadline: the send is given up.
    pub(crate) fn timed_out(&mut self, wait: &AckWait, parts: &Parts<'_>) -> GiveUp {
        let id = wait.id;
        self.give_up(
            id,
            TransferCode::Timeout,
            format!(
                "message {id}: no acknowledgement for {} ms after {} parts ({} bytes sent); \
                 the limit is {} ms, and the message was given up",
                wait.since.elapsed().as_millis(),
                parts.parts_written(),
                parts.bytes_written(),
                self.ack_timeout.as_millis()
            ),
        )
    }

    fn give_up(&mut self, id: u32, code: TransferCode, text: String) -> GiveUp {
        GiveUp {
            abort: wire::abort(id, &text),
            error: Error::Transfer(TransferError::new(code, Some(id), text)),
        }
    }

    /// The extension's refusal of the message being sent, if it came.
    pub(crate) fn refusal(&mut self) -> Option<Error> {
        self.refused.take().map(Error::Transfer)
    }

    pub(crate) fn done_sending(&mut self) {
        self.sending = None;
    }

    /// Serializes `value` into the reused text buffer, which the caller hands back with
    /// [`give_back`](Self::give_back): no allocation per message in steady state.
    pub(crate) fn serialize<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<Vec<u8>> {
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        simd_json::to_writer(&mut text, value).map_err(|e| Error::Serialize(e.to_string()))?;
        Ok(text)
    }

    /// Takes the buffer back, unless a large message grew it: that memory is returned.
    pub(crate) fn give_back(&mut self, text: Vec<u8>) {
        if text.capacity() <= 1 << 20 {
            self.text = text;
        }
    }

    pub(crate) fn closed_while_sending(id: u32, parts: u64) -> Error {
        Error::Disconnected(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!(
                "the extension closed the port while message {id} was being sent ({parts} parts \
                 written)"
            ),
        ))
    }
}
