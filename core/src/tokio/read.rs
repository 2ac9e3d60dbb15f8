//! [`FrameStream`]: frames read from an `AsyncRead`, straight into the decoder's buffer.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, ReadBuf};

use crate::decode::FrameDecoder;
use crate::error::{Error, Result};
use crate::json::JsonDecoder;
use crate::limits::Limits;

/// Frames read from an [`AsyncRead`]: the async [`FrameReader`](crate::FrameReader).
///
/// Bytes are read straight into the [`FrameDecoder`]'s buffer (no intermediate copy,
/// no zeroing), and frames come out as [`BytesMut`] split off it. The inbound cap is
/// checked as soon as a header is complete, and the buffer grows only with bytes that
/// arrive, never with what a header claims.
///
/// [`recv`](Self::recv) is cancel-safe: every byte read is kept in the decoder, so a
/// `recv` dropped inside `tokio::select!` loses nothing, and the next call returns the
/// frame it would have. The [`Stream`](futures_core::Stream) implementation is the
/// same.
///
/// A clean end of stream is `None`; a stream that ends inside a frame is
/// [`Error::TruncatedHeader`] or [`Error::TruncatedPayload`] with the numbers. After a
/// fatal error ([`Error::is_fatal`]) the stream ends; after a refused message
/// ([`validate_json`](Self::validate_json)) it goes on with the next one.
///
/// ```
/// use nmframe::tokio::FrameStream;
/// use nmframe::Limits;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut wire = Vec::new();
/// for msg in [&b"[1]"[..], b"{\"a\":2}"] {
///     nmframe::encode_frame(&mut wire, msg, Limits::browser().outbound())?;
/// }
/// let mut frames = FrameStream::new(&wire[..], Limits::host());
/// assert_eq!(&frames.recv().await?.unwrap()[..], b"[1]");
/// assert_eq!(&frames.recv().await?.unwrap()[..], b"{\"a\":2}");
/// assert!(frames.recv().await?.is_none());
/// # Ok::<(), nmframe::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct FrameStream<R> {
    inner: R,
    decoder: FrameDecoder,
    json: Option<JsonDecoder>,
    /// End of stream seen, or a fatal error returned: nothing more will come.
    done: bool,
    /// Ends the stream cleanly when the process gets SIGTERM.
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl<R: AsyncRead + Unpin> FrameStream<R> {
    /// A stream of frames with the inbound cap of `limits`.
    pub fn new(inner: R, limits: Limits) -> Self {
        Self::with_decoder(inner, FrameDecoder::new(limits))
    }

    /// A stream over a decoder configured by the caller.
    pub fn with_decoder(inner: R, decoder: FrameDecoder) -> Self {
        FrameStream {
            inner,
            decoder,
            json: None,
            done: false,
            #[cfg(unix)]
            terminate: None,
        }
    }

    /// Checks every payload with nmframe's validator before handing it out: invalid
    /// UTF-8 or JSON is an error for that frame, and the stream goes on.
    #[must_use]
    pub fn validate_json(mut self) -> Self {
        self.json = Some(JsonDecoder::new());
        self
    }

    /// Ends the stream cleanly (`None`, as at end of input) when the process receives
    /// SIGTERM, after the frames already buffered whole. Firefox sends SIGTERM to a
    /// host still running about 3 s after it closed the host's stdin. Registering the
    /// handler replaces SIGTERM's default action for the whole process, for good.
    ///
    /// # Errors
    ///
    /// When the handler cannot be registered; outside a Tokio runtime.
    #[cfg(unix)]
    pub fn end_on_sigterm(mut self) -> io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        self.terminate = Some(signal(SignalKind::terminate())?);
        Ok(self)
    }

    /// The next frame, `None` at a clean end of stream. Cancel-safe.
    ///
    /// # Errors
    ///
    /// I/O errors, truncation at the end of the stream, an oversized header (fatal),
    /// and with [`validate_json`](Self::validate_json) invalid UTF-8 or JSON (not fatal:
    /// the frame was consumed, call again for the next one).
    pub async fn recv(&mut self) -> Result<Option<BytesMut>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives the next message and deserializes it into an owned `T` through
    /// simd-json. Cancel-safe: the frame is decoded in the same poll that receives it.
    /// For strings borrowed from the frame, [`recv`](Self::recv) then
    /// [`JsonDecoder::deserialize`].
    ///
    /// # Errors
    ///
    /// As for [`recv`](Self::recv); [`Error::InvalidJson`] when the payload is not JSON,
    /// [`Error::WrongShape`] when it is not a `T` (neither is fatal).
    pub async fn recv_json<T: DeserializeOwned>(&mut self) -> Result<Option<T>> {
        let Some(mut frame) = poll_fn(|cx| self.poll_raw(cx)).await? else {
            return Ok(None);
        };
        let json = self.json.get_or_insert_with(JsonDecoder::new);
        json.deserialize(&mut frame).map(Some)
    }

    /// Polls for the next frame: what [`recv`](Self::recv) awaits.
    ///
    /// # Errors
    ///
    /// As for [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<BytesMut>>> {
        let frame = match ready!(self.poll_raw(cx)) {
            Ok(Some(frame)) => frame,
            other => return Poll::Ready(other),
        };
        if let Some(json) = &mut self.json
            && let Err(err) = json.validate(&frame)
        {
            return Poll::Ready(Err(err));
        }
        Poll::Ready(Ok(Some(frame)))
    }

    fn poll_raw(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<BytesMut>>> {
        loop {
            if self.done {
                return Poll::Ready(Ok(None));
            }
            match self.decoder.decode() {
                Ok(Some(frame)) => return Poll::Ready(Ok(Some(frame))),
                Ok(None) => {}
                Err(err) => {
                    self.done = true;
                    return Poll::Ready(Err(err));
                }
            }
            #[cfg(unix)]
            if let Some(signal) = &mut self.terminate
                && signal.poll_recv(cx).is_ready()
            {
                self.done = true;
                return Poll::Ready(Ok(None));
            }
            // Every byte of the window is initialised (FrameDecoder's invariant), so
            // the read goes straight into it without zeroing.
            let window = self.decoder.read_buf(0);
            let mut buf = ReadBuf::new(window);
            match ready!(Pin::new(&mut self.inner).poll_read(cx, &mut buf)) {
                Ok(()) => {
                    let n = buf.filled().len();
                    self.decoder.commit(n);
                    if n == 0 {
                        self.done = true;
                        return Poll::Ready(self.decoder.finish().map(|()| None));
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    self.done = true;
                    return Poll::Ready(Err(Error::Io(err)));
                }
            }
        }
    }

    /// Whether a whole frame is already buffered, so the next [`recv`](Self::recv)
    /// returns at once. A host that batches its replies flushes when this is false.
    pub fn has_frame(&self) -> bool {
        self.decoder.has_frame()
    }

    /// The decoder, for its offset and buffered bytes.
    pub fn decoder(&self) -> &FrameDecoder {
        &self.decoder
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The underlying reader, mutably: reading from it directly breaks the framing.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The underlying reader; buffered bytes are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead + Unpin> futures_core::Stream for FrameStream<R> {
    type Item = Result<BytesMut>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx).map(Result::transpose)
    }
}
