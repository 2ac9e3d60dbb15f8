//! Sans-IO framing for browser native messaging: the decoder and encoder never touch a
//! file, a pipe or a clock, and blocking `std::io` adapters sit on top.
//!
//! On the wire, each message is a `u32` length in native byte order followed by that
//! many bytes of UTF-8 JSON. A host may send at most 1 MiB (exactly 1,048,576 bytes is
//! allowed); the browser may send up to 4 GiB − 1. The [`Role`] you play picks which
//! limit applies to what you read and to what you write.
//!
//! | you need | use |
//! | --- | --- |
//! | a host's main loop, with the error handling every host needs | [`Server`] |
//! | a host loop of your own over stdin/stdout | [`stdio`], [`FrameReader`], [`FrameWriter`] |
//! | replies written on a second core while the next messages are read | [`WriterThread`] |
//! | code that runs over either writer, chosen at run time | [`Outbound`] |
//! | frames out of a buffer you own, no copy, no allocation | [`decode_frame`], [`SliceFrames`] |
//! | frames out of a stream you feed yourself | [`FrameDecoder`] |
//! | frames into a buffer | [`encode_header`], [`encode_frame`], [`encode_json`] |
//! | JSON through simd-json, buffers reused | [`JsonDecoder`] |
//! | an async host on Tokio: `Stream`, `Sink`, a cloneable sender, a codec | `nmframe::tokio` (feature `tokio`) |
//!
//! # A host in a few lines
//!
//! ```
//! use nmframe::{Limits, Server};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Request<'a> { op: &'a str, text: &'a str }
//!
//! #[derive(Serialize)]
//! struct Reply { len: usize, upper: String }
//!
//! fn serve(server: Server<'_, impl std::io::Read, impl std::io::Write>) -> Result<(), nmframe::Error> {
//!     server.run(|msg, out| {
//!         // Not JSON, or JSON of the wrong shape (`Error::WrongShape`): `?` hands it to
//!         // the server, which logs it and reads the next message.
//!         let req: Request<'_> = msg.json()?;
//!         if req.op != "upper" {
//!             return Err(format!("unknown op {:?}", req.op).into());
//!         }
//!         out.queue_json(&Reply { len: req.text.len(), upper: req.text.to_uppercase() })?;
//!         Ok(())
//!     })
//! }
//!
//! // Play the browser: three requests in, two replies out.
//! let mut input = Vec::new();
//! for msg in [r#"{"op":"upper","text":"héllo"}"#, r#"{"op":"lower","text":"x"}"#, r#"{"op":"upper","text":"wörld"}"#] {
//!     nmframe::encode_frame(&mut input, msg.as_bytes(), Limits::browser().outbound())?;
//! }
//! let mut output = Vec::new();
//! serve(Server::new(&input[..], &mut output, Limits::host()))?;
//!
//! let replies: Vec<&[u8]> = nmframe::SliceFrames::new(&output, Limits::browser().inbound())
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(replies, [r#"{"len":6,"upper":"HÉLLO"}"#.as_bytes(), r#"{"len":6,"upper":"WÖRLD"}"#.as_bytes()]);
//! # Ok::<(), nmframe::Error>(())
//! ```
//!
//! In a real host, the server is [`Server::stdio`]. It returns when the browser closes
//! stdin (it does on disconnect) or goes away, and the host should then exit.
//! [`FrameReader`] and [`FrameWriter`], from [`stdio`], are the parts it is made of, for
//! a loop of your own: treat [`Error::Disconnected`] as a normal end, and go on after an
//! error that is not [fatal](Error::is_fatal).
//!
//! # Names
//!
//! `stdio` always means this process's stdin and stdout, set up by [`HostStdio`] with
//! its defaults: [`stdio`] (a reader and a writer of frames), [`Server::stdio`],
//! [`Chunked::stdio`](chunked::Chunked::stdio), and in the async API
//! `nmframe::tokio::stdio` and `nmframe::tokio::Chunked::stdio`. For a setup of your
//! own, [`HostStdio::open`] (blocking) or `nmframe::tokio::open` (async) gives the two
//! ends, and [`Server::stdio_with`] a server over them.

mod caller;
pub mod chunked;
mod decode;
mod encode;
mod error;
mod host_stdio;
mod io;
mod json;
mod json_write;
mod limits;
mod outbound;
mod scan;
mod serve;
mod threaded;
#[cfg(feature = "tokio")]
pub mod tokio;
mod transfer;
mod validate;

pub use caller::{Browser, Caller};
pub use decode::{Decoded, FrameDecoder, SliceFrames, decode_frame, frame_len};
pub use encode::{FrameBuffer, encode_frame, encode_header, encode_json};
pub use error::{Error, Result};
pub use host_stdio::{HostStdin, HostStdio, HostStdout};
pub use io::{FrameReader, FrameWriter, WaitReadable, stdio};
pub use json::{Document, JsonDecoder, OwnedDocument, TREE_DEPTH_LIMIT};
pub use limits::{
    CHROMIUM_MAX_BROWSER_TO_HOST, Cap, Direction, HEADER_LEN, Limits, MAX_BROWSER_TO_HOST,
    MAX_HOST_TO_BROWSER, Role,
};
pub use outbound::Outbound;
pub use scan::{Cut, FrameScanner, Scanned};
pub use serve::{BoxError, Message, Server, Skipped};
pub use threaded::WriterThread;

/// The simd-json this crate decodes with, for its value traits
/// (`use nmframe::simd_json::prelude::*`) and value types.
pub use simd_json;

/// The README's examples, compiled by `cargo test --all-features` (the async one needs
/// the `tokio` feature) so that they cannot go stale.
#[cfg(all(doctest, feature = "tokio"))]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

/// The crate README's example, compiled by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeExample;
