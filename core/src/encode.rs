//! Frame encoding into a caller's buffer.

use std::io;

use bytes::BytesMut;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::limits::{Cap, HEADER_LEN};

/// Checks a payload length against `cap` and returns the header that announces it.
///
/// ```
/// use nmframe::{encode_header, Cap, Direction, Error};
///
/// let cap = Cap::protocol(Direction::HostToBrowser);
/// assert_eq!(encode_header(1 << 20, cap)?, (1u32 << 20).to_ne_bytes()); // exactly 1 MiB: fine
/// assert!(matches!(
///     encode_header((1 << 20) + 1, cap),
///     Err(Error::FrameTooLarge { len: 1_048_577, limit: 1_048_576, .. })
/// ));
/// # Ok::<(), nmframe::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::EmptyFrame`] for a length of 0, [`Error::FrameTooLarge`] over the cap.
#[inline]
pub fn encode_header(len: usize, cap: Cap) -> Result<[u8; HEADER_LEN]> {
    check_outbound(len as u64, cap)?;
    // check_outbound bounded len by a u32 cap.
    Ok((len as u32).to_ne_bytes())
}

#[inline]
fn check_outbound(len: u64, cap: Cap) -> Result<()> {
    if len == 0 {
        return Err(Error::EmptyFrame {
            direction: cap.direction,
        });
    }
    if len > u64::from(cap.max) {
        return Err(Error::FrameTooLarge {
            offset: 0,
            len,
            limit: cap.max,
            direction: cap.direction,
            header: None,
        });
    }
    Ok(())
}

/// A growable byte buffer that frames can be encoded into: `Vec<u8>` or [`BytesMut`].
pub trait FrameBuffer: sealed::Sealed {
    /// Bytes in the buffer.
    fn len(&self) -> usize;
    /// Whether the buffer is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Drops everything from `len` on.
    fn truncate(&mut self, len: usize);
    /// Appends `bytes`.
    fn extend_from_slice(&mut self, bytes: &[u8]);
    /// The buffer's bytes, mutably.
    fn bytes_mut(&mut self) -> &mut [u8];
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for Vec<u8> {}
    impl Sealed for bytes::BytesMut {}
}

impl FrameBuffer for Vec<u8> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len);
    }
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        Vec::extend_from_slice(self, bytes);
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
}

impl FrameBuffer for BytesMut {
    fn len(&self) -> usize {
        BytesMut::len(self)
    }
    fn truncate(&mut self, len: usize) {
        BytesMut::truncate(self, len);
    }
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        BytesMut::extend_from_slice(self, bytes);
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
}

/// Appends one frame (header, then `payload`) to `dst`. The payload is not checked
/// for valid JSON; see [`JsonDecoder::validate`](crate::JsonDecoder::validate).
///
/// ```
/// use nmframe::{encode_frame, Limits};
///
/// let mut out = Vec::new();
/// encode_frame(&mut out, br#"{"ok":true}"#, Limits::host().outbound())?;
/// assert_eq!(out[..4], 11u32.to_ne_bytes());
/// # Ok::<(), nmframe::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::EmptyFrame`] or [`Error::FrameTooLarge`]; `dst` is left unchanged.
pub fn encode_frame<B: FrameBuffer>(dst: &mut B, payload: &[u8], cap: Cap) -> Result<()> {
    let header = encode_header(payload.len(), cap)?;
    dst.extend_from_slice(&header);
    dst.extend_from_slice(payload);
    Ok(())
}

/// Serializes `value` as JSON straight into `dst` as one frame: the four header bytes
/// are reserved, the JSON is written after them, and the length is patched in. No
/// intermediate `String` or `Vec` is made. Returns the payload's length.
///
/// Once the JSON passes the cap, serialization goes on only to count the bytes (so the
/// error can give the real size) and stores nothing more.
///
/// ```
/// use nmframe::{encode_json, Limits};
///
/// #[derive(serde::Serialize)]
/// struct Reply<'a> { id: u32, text: &'a str }
///
/// let mut out = Vec::new();
/// let len = encode_json(&mut out, &Reply { id: 7, text: "héllo" }, Limits::host().outbound())?;
/// assert_eq!(&out[4..], r#"{"id":7,"text":"héllo"}"#.as_bytes());
/// assert_eq!(out[..4], (len as u32).to_ne_bytes()); // bytes, not characters
/// # Ok::<(), nmframe::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::FrameTooLarge`] over the cap, [`Error::Serialize`] when `value` cannot be
/// written as JSON. `dst` is left as it was on any error.
pub fn encode_json<B, T>(dst: &mut B, value: &T, cap: Cap) -> Result<usize>
where
    B: FrameBuffer,
    T: Serialize + ?Sized,
{
    let start = dst.len();
    dst.extend_from_slice(&[0; HEADER_LEN]);
    let mut sink = CappedSink {
        dst: &mut *dst,
        written: 0,
        max: u64::from(cap.max),
    };
    let outcome = simd_json::serde::to_writer(&mut sink, value);
    let written = sink.written;
    let checked = match outcome {
        Ok(()) => check_outbound(written, cap),
        Err(err) => Err(Error::Serialize(err.to_string())),
    };
    match checked {
        Ok(()) => {
            let header = (written as u32).to_ne_bytes();
            dst.bytes_mut()[start..start + HEADER_LEN].copy_from_slice(&header);
            Ok(written as usize)
        }
        Err(err) => {
            dst.truncate(start);
            Err(err)
        }
    }
}

/// Appends to a frame buffer until `max` bytes have been written, then only counts.
struct CappedSink<'a, B> {
    dst: &'a mut B,
    written: u64,
    max: u64,
}

impl<B: FrameBuffer> io::Write for CappedSink<'_, B> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.written += bytes.len() as u64;
        if self.written <= self.max {
            self.dst.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.write(bytes).map(drop)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
