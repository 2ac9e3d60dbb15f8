//! The one error type of the crate.

use std::{fmt, io};

use crate::limits::{Direction, HEADER_LEN};

/// Everything that can go wrong while framing, decoding or sending a message.
///
/// Each variant carries the numbers that explain it: sizes, limits and offsets. Stream
/// offsets count bytes from the start of the stream the decoder has seen; payload offsets
/// count bytes from the first byte of the JSON text.
///
/// Whether the stream can go on after an error is told by [`Error::is_fatal`]: a frame
/// whose JSON is invalid was consumed whole and the next frame can be read, while a
/// header over the cap leaves the reader unable to find the next frame.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error from the underlying reader or writer.
    Io(io::Error),
    /// The peer closed its end while a frame was being written (`EPIPE`,
    /// `ECONNRESET`, or a writer that accepts no more bytes). For a host this is the
    /// browser disconnecting: a normal way for a session to end, not a crash.
    Disconnected(io::Error),
    /// The stream ended inside a frame header.
    TruncatedHeader {
        /// Stream offset of the header.
        offset: u64,
        /// How many of the 4 header bytes arrived (1 to 3).
        received: usize,
    },
    /// The stream ended inside a payload.
    TruncatedPayload {
        /// Stream offset of the frame's header.
        offset: u64,
        /// The length the header announced.
        expected: usize,
        /// How many payload bytes arrived.
        received: usize,
        /// The header as it was read, for diagnosis.
        header: [u8; HEADER_LEN],
    },
    /// A frame longer than the cap for its direction. When reading, this is fatal: the
    /// stream cannot be resynchronised. When writing, nothing was written.
    FrameTooLarge {
        /// Stream offset of the frame's header (0 for an outbound frame).
        offset: u64,
        /// The payload length: as announced by the header when reading, as measured
        /// when writing.
        len: u64,
        /// The cap that was exceeded.
        limit: u32,
        /// Which way the frame was going.
        direction: Direction,
        /// The header bytes when the length came from the wire.
        header: Option<[u8; HEADER_LEN]>,
    },
    /// An attempt to write a frame with no payload. Chromium silently drops such a
    /// frame and Firefox disconnects, so it is refused; nothing was written.
    EmptyFrame {
        /// Which way the frame was going.
        direction: Direction,
    },
    /// The payload is not valid UTF-8.
    InvalidUtf8 {
        /// Offset in the payload of the first byte that is not valid UTF-8.
        offset: usize,
    },
    /// The payload is not a valid JSON text.
    InvalidJson {
        /// Offset in the payload where the parser gave up (0 when it cannot tell).
        offset: usize,
        /// What the parser expected or found.
        reason: String,
    },
    /// The payload is valid JSON but not of the shape a typed decoding asked for (a
    /// missing field, a string where a number was expected): a message the host should
    /// answer or log, and then go on.
    WrongShape {
        /// What did not match, as the type's `Deserialize` said it.
        reason: String,
    },
    /// The payload nests arrays and objects deeper than a decoder that builds a tree
    /// allows ([`TREE_DEPTH_LIMIT`](crate::TREE_DEPTH_LIMIT)). Such JSON may well be
    /// valid: browsers send it, and [`JsonDecoder::validate`](crate::JsonDecoder::validate)
    /// and forwarding have no depth limit.
    NestingTooDeep {
        /// Offset in the payload of the bracket that went past the limit.
        offset: usize,
        /// The decoder's limit, in levels.
        limit: usize,
    },
    /// An earlier write stopped part-way through a frame (the peer has its first
    /// `written` bytes of a write of `len`): anything written after it would be read as
    /// the rest of that frame, so the writer refuses every call. The stream is lost; a
    /// host should exit, and the browser will see the port close.
    WriterBroken {
        /// Bytes of the failed write that went out.
        written: usize,
        /// Bytes that write was to write (the frames queued with it included).
        len: usize,
    },
    /// A value could not be serialized as JSON (for example a map whose keys are not
    /// strings); nothing was written.
    Serialize(String),
    /// A message sent in parts was refused by the peer partway (its reason is in the
    /// error); the stream goes on. See [`crate::chunked`].
    Transfer(crate::transfer::TransferError),
}

impl Error {
    /// Whether the stream that produced this error can still deliver frames.
    ///
    /// I/O errors, disconnections, truncations and oversized inbound headers are
    /// fatal. Invalid JSON, invalid UTF-8 and refused outbound frames are not: the
    /// reader has consumed the bad frame, and a writer has written nothing.
    pub fn is_fatal(&self) -> bool {
        match self {
            Error::Io(_)
            | Error::Disconnected(_)
            | Error::WriterBroken { .. }
            | Error::TruncatedHeader { .. }
            | Error::TruncatedPayload { .. } => true,
            // Only an inbound header carries its bytes; a refused outbound frame does not.
            Error::FrameTooLarge { header, .. } => header.is_some(),
            Error::EmptyFrame { .. }
            | Error::InvalidUtf8 { .. }
            | Error::InvalidJson { .. }
            | Error::WrongShape { .. }
            | Error::NestingTooDeep { .. }
            | Error::Transfer(_)
            | Error::Serialize(_) => false,
        }
    }

    /// Whether this error means that the peer went away.
    pub fn is_disconnect(&self) -> bool {
        matches!(self, Error::Disconnected(_))
    }

    /// Sorts an I/O error from a writer: a closed peer becomes [`Error::Disconnected`].
    pub(crate) fn from_write(err: io::Error) -> Error {
        // Windows: a pipe whose reader is gone fails a write with ERROR_NO_DATA (232), or
        // under Wine with ERROR_PIPE_NOT_CONNECTED (233), which std leaves uncategorized.
        if cfg!(windows) && matches!(err.raw_os_error(), Some(232 | 233)) {
            return Error::Disconnected(err);
        }
        match err.kind() {
            io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::WriteZero => Error::Disconnected(err),
            _ => Error::Io(err),
        }
    }
}

/// An I/O error kept to be reported again (`io::Error` is not `Clone`): its kind, its
/// text and the system's error code, so that each repeat sorts as the first did (on
/// Windows a vanished reader is told apart by its code alone).
#[derive(Clone, Debug)]
pub(crate) struct KeptIo {
    kind: io::ErrorKind,
    text: String,
    code: Option<i32>,
}

impl KeptIo {
    pub(crate) fn of(err: &io::Error) -> KeptIo {
        KeptIo {
            kind: err.kind(),
            text: err.to_string(),
            code: err.raw_os_error(),
        }
    }

    pub(crate) fn error(&self) -> io::Error {
        match self.code {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(self.kind, self.text.clone()),
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::Io(err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(err) => write!(f, "I/O error: {err}"),
            Error::Disconnected(err) => write!(f, "the peer disconnected ({err})"),
            Error::TruncatedHeader { offset, received } => write!(
                f,
                "stream ended inside a frame header at offset {offset}: \
                 {received} of {HEADER_LEN} header bytes arrived"
            ),
            Error::TruncatedPayload {
                offset,
                expected,
                received,
                header,
            } => {
                write!(
                    f,
                    "stream ended inside the payload of the frame at offset {offset}: \
                     the header announced {expected} bytes, {received} arrived"
                )?;
                text_hint(f, header)
            }
            Error::FrameTooLarge {
                offset,
                len,
                limit,
                direction,
                header: Some(header),
            } => {
                write!(
                    f,
                    "frame header at offset {offset} announces {len} bytes, over the \
                     {direction} limit of {limit} bytes; the stream cannot be resynchronised"
                )?;
                text_hint(f, header)
            }
            Error::FrameTooLarge {
                len,
                limit,
                direction,
                header: None,
                ..
            } => write!(
                f,
                "message of {len} bytes exceeds the {direction} limit of {limit} bytes; \
                 nothing was written"
            ),
            Error::EmptyFrame { direction } => write!(
                f,
                "refusing to write an empty {direction} message (Chromium drops it, \
                 Firefox disconnects); nothing was written"
            ),
            Error::InvalidUtf8 { offset } => {
                write!(f, "payload is not valid UTF-8 at byte {offset}")
            }
            Error::InvalidJson { offset, reason } => {
                write!(f, "payload is not valid JSON at byte {offset}: {reason}")
            }
            Error::WrongShape { reason } => {
                write!(f, "payload is valid JSON of the wrong shape: {reason}")
            }
            Error::NestingTooDeep { offset, limit } => write!(
                f,
                "payload nests arrays and objects deeper than this decoder's limit of \
                 {limit} levels (at byte {offset}); the JSON may be valid: validation \
                 and forwarding have no depth limit"
            ),
            Error::WriterBroken { written, len } => write!(
                f,
                "an earlier write stopped after {written} of {len} bytes, inside a frame: \
                 the stream is corrupt from there on, so nothing more is written to it"
            ),
            Error::Transfer(err) => write!(f, "{err}"),
            Error::Serialize(reason) => {
                write!(f, "cannot serialize the message as JSON: {reason}")
            }
        }
    }
}

/// A header made of printable ASCII is almost always text that something wrote to the
/// stream (a `printf`, a log line): say so, since the length alone looks like nonsense.
fn text_hint(f: &mut fmt::Formatter<'_>, header: &[u8; HEADER_LEN]) -> fmt::Result {
    if header_looks_like_text(header) {
        f.write_str("; header bytes look like text (\"")?;
        for &b in header {
            write!(f, "{}", b.escape_ascii())?;
        }
        f.write_str("\"): something wrote to stdout")?;
    }
    Ok(())
}

/// Whether all four header bytes are printable ASCII or common whitespace.
fn header_looks_like_text(header: &[u8; HEADER_LEN]) -> bool {
    header
        .iter()
        .all(|&b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(err) | Error::Disconnected(err) => Some(err),
            _ => None,
        }
    }
}

/// A specialised `Result` for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A kept error sorts as the original did every time it is reported again: the code
    /// is what tells a vanished reader on Windows (233 under Wine) from other failures.
    #[test]
    fn a_kept_write_error_sorts_as_the_first() {
        for code in [32, 233] {
            let first = io::Error::from_raw_os_error(code);
            let kept = KeptIo::of(&first);
            let again = kept.error();
            assert_eq!(again.raw_os_error(), Some(code));
            assert_eq!(
                Error::from_write(again).is_disconnect(),
                Error::from_write(first).is_disconnect()
            );
        }
        let synthetic = io::Error::new(io::ErrorKind::WriteZero, "wrote nothing");
        let again = KeptIo::of(&synthetic).error();
        assert_eq!(again.kind(), io::ErrorKind::WriteZero);
        assert!(Error::from_write(again).is_disconnect());
    }
}
