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
//! | a host loop over stdin/stdout | [`stdio`], [`FrameReader`], [`FrameWriter`] |
//! | replies written on a second core while the next messages are read | [`WriterThread`] |
//! | frames out of a buffer you own, no copy, no allocation | [`decode_frame`], [`SliceFrames`] |
//! | frames out of a stream you feed yourself | [`FrameDecoder`] |
//! | frames into a buffer | [`encode_header`], [`encode_frame`], [`encode_json`] |
//! | JSON through simd-json, buffers reused | [`JsonDecoder`] |
//! | an async host on Tokio: `Stream`, `Sink`, a cloneable sender, a codec | `nmframe::tokio` (feature `tokio`) |
//!
//! # A host in a few lines
//!
//! ```
//! use nmframe::{FrameReader, FrameWriter, JsonDecoder, Limits};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Request<'a> { op: &'a str, text: &'a str }
//!
//! #[derive(Serialize)]
//! struct Reply { len: usize, upper: String }
//!
//! fn serve(input: impl std::io::Read, output: impl std::io::Write) -> Result<(), nmframe::Error> {
//!     let reader = FrameReader::new(input, Limits::host());
//!     let mut writer = FrameWriter::new(output, Limits::host());
//!     let mut json = JsonDecoder::new();
//!     for frame in reader {
//!         let mut frame = frame?;
//!         let req: Request<'_> = match json.deserialize(&mut frame) {
//!             Ok(req) => req,
//!             // Not JSON, or valid JSON of the wrong shape (`Error::WrongShape`): a
//!             // real host answers or logs it; either way it goes on.
//!             Err(_) => continue,
//!         };
//!         assert_eq!(req.op, "upper");
//!         match writer.send_json(&Reply { len: req.text.len(), upper: req.text.to_uppercase() }) {
//!             Err(err) if err.is_disconnect() => break, // the browser went away
//!             other => other?,
//!         }
//!     }
//!     Ok(())
//! }
//!
//! // Play the browser: two requests in, two replies out.
//! let mut input = Vec::new();
//! for msg in [r#"{"op":"upper","text":"héllo"}"#, r#"{"op":"upper","text":"wörld"}"#] {
//!     nmframe::encode_frame(&mut input, msg.as_bytes(), nmframe::Limits::browser().outbound())?;
//! }
//! let mut output = Vec::new();
//! serve(&input[..], &mut output)?;
//!
//! let replies: Vec<&[u8]> = nmframe::SliceFrames::new(&output, Limits::browser().inbound())
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(replies[0], r#"{"len":6,"upper":"HÉLLO"}"#.as_bytes());
//! # Ok::<(), nmframe::Error>(())
//! ```
//!
//! In a real host, `serve` gets its streams from [`stdio`]. A host must exit when its
//! stdin ends (the browser closes it on disconnect) and treat [`Error::Disconnected`]
//! as a normal end.

mod caller;
mod decode;
mod encode;
mod error;
mod io;
mod json;
mod limits;
mod stdio;
mod threaded;
#[cfg(feature = "tokio")]
pub mod tokio;
mod validate;

pub use caller::{Browser, Caller};
pub use decode::{
    Decoded, FrameDecoder, MIN_READ, READ_CHUNK, SliceFrames, decode_frame, frame_len,
};
pub use encode::{FrameBuffer, encode_frame, encode_header, encode_json};
pub use error::{Error, Result, header_looks_like_text};
pub use io::{FrameReader, FrameWriter, stdio};
pub use json::{Document, JsonDecoder, OwnedDocument, TREE_DEPTH_LIMIT};
pub use limits::{
    CHROMIUM_MAX_BROWSER_TO_HOST, Cap, Direction, HEADER_LEN, Limits, MAX_BROWSER_TO_HOST,
    MAX_HOST_TO_BROWSER, Role,
};
pub use stdio::{HostStdin, HostStdio, HostStdout};
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
