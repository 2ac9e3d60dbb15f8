//! [`FrameCodec`]: the framing as a `tokio_util::codec` decoder and encoder.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::decode::{READ_CHUNK, check_len, truncation};
use crate::encode::encode_header;
use crate::error::{Error, Result};
use crate::json::JsonDecoder;
use crate::limits::{Cap, HEADER_LEN, Limits};

/// The framing as a [`tokio_util::codec`] [`Decoder`] and [`Encoder`], for
/// `Framed`, `FramedRead` and `FramedWrite` over any transport.
///
/// Unlike `LengthDelimitedCodec` with one `max_frame_length`, the caps are the role's
/// two (a host reads up to 4 GiB − 1 and writes at most 1 MiB). A header over the cap
/// is refused as soon as its four bytes are there, before anything is reserved for
/// it, and the buffer is grown only as bytes arrive: a header that claims 4 GiB costs
/// nothing. Frames come out as `BytesMut` split off the read buffer, without a copy.
///
/// Errors end a `FramedRead` (tokio-util stops a stream at a decoder error), so
/// [`validate_json`](Self::validate_json) here ends the stream at the first invalid
/// message; [`FrameStream`](super::FrameStream) reports it and goes on, and reads
/// straight into its buffer: prefer it for stdin.
///
/// ```
/// use bytes::Bytes;
/// use futures_util::{SinkExt, StreamExt};
/// use nmframe::tokio::FrameCodec;
/// use nmframe::Limits;
/// use tokio_util::codec::{FramedRead, FramedWrite};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut out = FramedWrite::new(Vec::new(), FrameCodec::new(Limits::browser()));
/// out.send(Bytes::from_static(b"{\"id\":1}")).await?;
/// let wire = out.into_inner();
///
/// let mut frames = FramedRead::new(&wire[..], FrameCodec::new(Limits::host()));
/// assert_eq!(&frames.next().await.unwrap()?[..], b"{\"id\":1}");
/// assert!(frames.next().await.is_none());
/// # Ok::<(), nmframe::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct FrameCodec {
    inbound: Cap,
    outbound: Cap,
    /// Payload length of the frame whose header starts the buffer, once checked.
    pending: Option<usize>,
    /// Stream offset of the first byte of the buffer the decoder is given.
    offset: u64,
    validate_in: Option<JsonDecoder>,
    validate_out: Option<JsonDecoder>,
}

impl FrameCodec {
    /// A codec with the two caps of `limits`.
    pub fn new(limits: Limits) -> Self {
        FrameCodec {
            inbound: limits.inbound(),
            outbound: limits.outbound(),
            pending: None,
            offset: 0,
            validate_in: None,
            validate_out: None,
        }
    }

    /// Checks frames with nmframe's validator both ways: decoded frames, and payloads
    /// before they are encoded (a refused payload adds nothing to the buffer).
    #[must_use]
    pub fn validate_json(mut self) -> Self {
        self.validate_in = Some(JsonDecoder::new());
        self.validate_out = Some(JsonDecoder::new());
        self
    }

    /// The cap on frames decoded.
    pub fn inbound(&self) -> Cap {
        self.inbound
    }

    /// The cap on frames encoded.
    pub fn outbound(&self) -> Cap {
        self.outbound
    }
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>> {
        let len = match self.pending {
            Some(len) => len,
            None => {
                let Some(header) = src.first_chunk::<HEADER_LEN>() else {
                    return Ok(None);
                };
                let len = check_len(*header, self.inbound, self.offset)?;
                self.pending = Some(len);
                len
            }
        };
        let total = HEADER_LEN + len;
        if src.len() < total {
            // Room for what is missing, but never more than what has arrived (a lying
            // header costs nothing) and at least a read's worth.
            let missing = total - src.len();
            src.reserve(missing.min(src.len().max(READ_CHUNK)));
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        let frame = src.split_to(len);
        self.offset += total as u64;
        self.pending = None;
        if let Some(json) = &mut self.validate_in {
            json.validate(&frame)?;
        }
        Ok(Some(frame))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None => truncation(src, self.offset).map(|()| None),
        }
    }
}

impl FrameCodec {
    fn encode_slice(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<()> {
        let header = encode_header(payload.len(), self.outbound)?;
        if let Some(json) = &mut self.validate_out {
            json.validate(payload)?;
        }
        dst.reserve(HEADER_LEN + payload.len());
        dst.put_slice(&header);
        dst.put_slice(payload);
        Ok(())
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = Error;

    fn encode(&mut self, payload: Bytes, dst: &mut BytesMut) -> Result<()> {
        self.encode_slice(&payload, dst)
    }
}

impl Encoder<BytesMut> for FrameCodec {
    type Error = Error;

    fn encode(&mut self, payload: BytesMut, dst: &mut BytesMut) -> Result<()> {
        self.encode_slice(&payload, dst)
    }
}

impl Encoder<&[u8]> for FrameCodec {
    type Error = Error;

    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<()> {
        self.encode_slice(payload, dst)
    }
}
