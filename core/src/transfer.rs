//! What can go wrong with one message of the chunked envelope (`docs/CHUNKING.md`): a
//! leaf that the error type and the chunked layer both use.

use std::fmt;

/// What went wrong with one message; the stream goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransferCode {
    /// The message grew past [`ChunkOptions::max_bytes`](crate::chunked::ChunkOptions::max_bytes),
    /// or announced a `total` over it.
    TooLarge,
    /// More messages in flight than
    /// [`ChunkOptions::max_in_flight`](crate::chunked::ChunkOptions::max_in_flight).
    TooMany,
    /// The messages held together (being reassembled, or kept while a send waits) would
    /// pass [`ChunkOptions::max_buffered`](crate::chunked::ChunkOptions::max_buffered).
    Capacity,
    /// No part of an incoming message for longer than
    /// [`ChunkOptions::timeout`](crate::chunked::ChunkOptions::timeout), or no
    /// acknowledgement of an outgoing one for longer than
    /// [`ChunkOptions::ack_timeout`](crate::chunked::ChunkOptions::ack_timeout).
    Timeout,
    /// An envelope frame without its members or with members of the wrong type, of an
    /// unknown type, or a reassembled text that is not JSON.
    Malformed,
    /// An envelope frame of a version this side does not speak.
    Version,
    /// A part other than the next one.
    OutOfOrder,
    /// The end frame's part count or byte count differs from what arrived.
    Length,
    /// The end frame's CRC-32 differs from that of what arrived.
    Checksum,
    /// The peer gave up a message it was sending (`abort`).
    Aborted,
    /// The peer refused a message this side was sending (`refuse`).
    Refused,
}

impl TransferCode {
    /// Every code, in the order of the protocol's table.
    pub const ALL: [TransferCode; 11] = [
        TransferCode::TooLarge,
        TransferCode::TooMany,
        TransferCode::Capacity,
        TransferCode::Timeout,
        TransferCode::Malformed,
        TransferCode::Version,
        TransferCode::OutOfOrder,
        TransferCode::Length,
        TransferCode::Checksum,
        TransferCode::Aborted,
        TransferCode::Refused,
    ];

    /// The code's name in the protocol and the JavaScript package (`"too-large"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TransferCode::TooLarge => "too-large",
            TransferCode::TooMany => "too-many",
            TransferCode::Capacity => "capacity",
            TransferCode::Timeout => "timeout",
            TransferCode::Malformed => "malformed",
            TransferCode::Version => "version",
            TransferCode::OutOfOrder => "out-of-order",
            TransferCode::Length => "length",
            TransferCode::Checksum => "checksum",
            TransferCode::Aborted => "aborted",
            TransferCode::Refused => "refused",
        }
    }

    /// The code named `name` in the protocol, if this side knows it.
    pub fn from_name(name: &str) -> Option<TransferCode> {
        TransferCode::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for TransferCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message that did not arrive, that the peer refused, or that this side gave up: the
/// code, the message's id when known, and a sentence with the numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferError {
    code: TransferCode,
    id: Option<u32>,
    text: String,
}

impl TransferError {
    pub(crate) fn new(code: TransferCode, id: Option<u32>, text: String) -> Self {
        TransferError { code, id, text }
    }

    /// What went wrong.
    pub fn code(&self) -> TransferCode {
        self.code
    }

    /// The message's id, when the frame that failed had one. Incoming and outgoing
    /// messages are numbered apart: the id is the sender's.
    pub fn id(&self) -> Option<u32> {
        self.id
    }

    /// The sentence alone, without the code.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.text, self.code.as_str())
    }
}

impl std::error::Error for TransferError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_distinct_name_that_reads_back() {
        let mut names: Vec<&str> = TransferCode::ALL.iter().map(|c| c.as_str()).collect();
        for code in TransferCode::ALL {
            assert_eq!(TransferCode::from_name(code.as_str()), Some(code));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TransferCode::ALL.len());
        assert_eq!(TransferCode::from_name("nonsense"), None);
    }
}
