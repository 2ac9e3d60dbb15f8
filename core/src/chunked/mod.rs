//! Messages of any size: nmframe's chunked envelope (version 2, `docs/CHUNKING.md`), the
//! host side of what the JavaScript package `nmframe-port` speaks in the extension.
//!
//! A host may send the browser at most 1 MiB per message. A larger message travels as
//! *parts*, each a JSON object whose first member is `"$nmframe"`, carrying a piece of
//! the message's text, then an *end* frame with its length and CRC-32; the receiver
//! reassembles it and checks both. Smaller messages travel as they are, so a peer that
//! never sends large ones sees nothing new.
//!
//! [`Chunked`] is a host's endpoint: [`recv`](Chunked::recv) returns whole messages
//! (plain or reassembled, within the limits of [`ChunkOptions`]) and the transfers that
//! failed, and [`send_json`](Chunked::send_json) / [`send`](Chunked::send) send
//! messages of any size, waiting for the extension's acknowledgements so that no more
//! than a window of parts is in flight. The pieces it is made of, [`Parts`] and
//! [`Reassembler`], are sans-IO.
//!
//! Every limit holds against a hostile or broken extension: a message's size, the
//! messages in flight, the memory all of them hold together (messages kept while a send
//! waits included), the silence within a message, and the wait for an acknowledgement.
//! A limit that is hit fails that one message, with its numbers, and the port goes on.
//!
//! ```no_run
//! use nmframe::chunked::{Chunked, ChunkOptions, Incoming};
//!
//! fn main() -> Result<(), nmframe::Error> {
//!     let mut host = Chunked::stdio(ChunkOptions::default())?;
//!     while let Some(incoming) = host.recv()? {
//!         match incoming {
//!             // Any size: a 40 MiB reply leaves as 40-odd parts.
//!             Incoming::Message(request) => host.send_json(&request)?,
//!             // One transfer failed (with its numbers); the others go on.
//!             Incoming::Failed(err) => eprintln!("host: {err}"),
//!         }
//!     }
//!     Ok(())
//! }
//! ```

use std::time::Duration;

mod blocking;
mod parts;
mod reassembler;
pub(crate) mod state;
mod wire;

pub use crate::transfer::{TransferCode, TransferError};
pub use blocking::{Chunked, StdioChunked};
pub use parts::Parts;
pub use reassembler::{Accepted, Reassembler};
pub use state::Incoming;
pub use wire::{KEY, VERSION, is_envelope};

/// How [`Chunked`] and [`Reassembler`] receive, and how [`Chunked`] sends.
///
/// The defaults fit a desktop: one message up to 1 GiB, and at most 1 GiB held for all
/// incoming messages together, whatever the extension sends.
#[derive(Clone, Debug)]
pub struct ChunkOptions {
    /// The largest message reassembled, in bytes of its text (default 1 GiB).
    pub max_bytes: usize,
    /// The most messages reassembled at once (default 16).
    pub max_in_flight: usize,
    /// The most memory, in bytes, that incoming messages hold together: those being
    /// reassembled (their reserved capacity) and those kept while a send waits for an
    /// acknowledgement (default 1 GiB). A part that would pass it fails its message
    /// with [`TransferCode::Capacity`]; a send whose wait would pass it is given up
    /// with that code, and what arrived is delivered.
    pub max_buffered: usize,
    /// The longest silence within one incoming message (default 30 s).
    pub timeout: Duration,
    /// The longest a send waits for the extension's acknowledgement before it gives
    /// the message up with [`TransferCode::Timeout`] (default 30 s).
    pub ack_timeout: Duration,
    /// Parts sent before waiting for the extension's acknowledgement; 0 for none
    /// (default 8: with 1 MiB parts, 8 MiB in flight).
    pub window: u32,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        ChunkOptions {
            max_bytes: 1 << 30,
            max_in_flight: 16,
            max_buffered: 1 << 30,
            timeout: Duration::from_secs(30),
            ack_timeout: Duration::from_secs(30),
            window: 8,
        }
    }
}
