//! The async API, on Tokio (feature `tokio`): the same decoder, caps, checks and stdio
//! set-up as the blocking API, with the same [`Error`](crate::Error) variants.
//!
//! | you need | use |
//! | --- | --- |
//! | a host on stdin/stdout | [`stdio`] → ([`FrameStream`], [`FrameSink`]) |
//! | frames from any `AsyncRead`, cancel-safe in `select!` | [`FrameStream`] (a `Stream`) |
//! | frames to any `AsyncWrite`, batched, with backpressure | [`FrameSink`] (a `Sink<Bytes>`) |
//! | replies from many tasks | [`FrameSink::spawn`] → [`Sender`] (cloneable) |
//! | `Framed`/`FramedRead`/`FramedWrite` over another transport | [`FrameCodec`] |
//!
//! How a host ends: the stream returns `None` when the browser closes stdin (and, with
//! [`stdio`], on SIGTERM, which Firefox sends to a host still running 3 s later); a
//! write to a browser that went away is [`Error::Disconnected`](crate::Error::Disconnected).
//! Both are normal ends: exit 0.
//!
//! ```
//! use futures_util::StreamExt;
//! use nmframe::tokio::{FrameSink, FrameStream};
//! use nmframe::{JsonDecoder, Limits};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Request<'a> { id: u64, text: &'a str }
//!
//! #[derive(Serialize)]
//! struct Reply { id: u64, len: usize }
//!
//! /// Answers each request from a task of its own, in whatever order they finish.
//! async fn serve(
//!     mut frames: FrameStream<impl tokio::io::AsyncRead + Unpin>,
//!     out: FrameSink<impl tokio::io::AsyncWrite + Unpin + Send + 'static>,
//! ) -> Result<(), nmframe::Error> {
//!     let (sender, writing) = out.spawn(64);
//!     let mut json = JsonDecoder::new();
//!     while let Some(frame) = frames.next().await {
//!         let mut frame = frame?;
//!         let (id, len) = match json.deserialize::<Request<'_>>(&mut frame) {
//!             Ok(req) => (req.id, req.text.len()),
//!             Err(err) => { eprintln!("skipped: {err}"); continue } // the host goes on
//!         };
//!         let sender = sender.clone();
//!         tokio::spawn(async move { sender.send_json(&Reply { id, len }).await });
//!     }
//!     drop(sender);
//!     writing.await.expect("the writing task does not panic")?; // every reply written
//!     Ok(())
//! }
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let mut input = Vec::new();
//! for msg in [r#"{"id":1,"text":"héllo"}"#, r#"{"id":2,"text":"wörld!"}"#] {
//!     nmframe::encode_frame(&mut input, msg.as_bytes(), Limits::browser().outbound())?;
//! }
//! let (to_host, from_browser) = tokio::io::duplex(1 << 16);
//! let frames = FrameStream::new(&input[..], Limits::host());
//! serve(frames, FrameSink::new(to_host, Limits::host())).await?;
//!
//! let mut replies = FrameStream::new(from_browser, Limits::browser());
//! let mut ids = Vec::new();
//! while let Some(reply) = replies.recv_json::<serde_json::Value>().await? {
//!     ids.push(reply["id"].as_u64().unwrap());
//! }
//! ids.sort();
//! assert_eq!(ids, [1, 2]);
//! # Ok::<(), nmframe::Error>(())
//! # }).unwrap();
//! ```

mod chunked;
mod codec;
mod read;
mod sender;
mod stdio;
mod write;

pub use chunked::Chunked;
pub use codec::FrameCodec;
pub use read::FrameStream;
pub use sender::Sender;
pub use stdio::{Stdin, Stdout, open, stdio};
pub use write::FrameSink;
