//! A host's main loop: one handler call per message, with the error handling every host
//! needs written once.

use std::fmt;
use std::io::{self, Read, Write};

use bytes::BytesMut;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::host_stdio::{HostStdin, HostStdio, HostStdout};
use crate::io::{FrameReader, FrameWriter};
use crate::json::{Document, JsonDecoder};
use crate::limits::Limits;

/// The error a [`Server`] handler returns: any error, so that `?` works on nmframe's
/// own and on the application's.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One message, as a [`Server`] hands it to its handler.
///
/// The payload lies in a buffer of the server's: [`json`](Self::json) and
/// [`parse`](Self::parse) read it in place, so their strings borrow from it.
#[derive(Debug)]
pub struct Message<'a> {
    frame: &'a mut BytesMut,
    json: &'a mut JsonDecoder,
    number: u64,
}

impl<'a> Message<'a> {
    /// Which message of the stream this is, counting from 1.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The payload as it arrived.
    pub fn bytes(&self) -> &[u8] {
        self.frame
    }

    /// The payload's buffer: `split()` it to keep it (to forward it, or answer later)
    /// without a copy.
    pub fn frame(&mut self) -> &mut BytesMut {
        self.frame
    }

    /// Deserializes the payload into `T` through simd-json, in place: `&str` fields
    /// borrow from the message.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] or [`Error::InvalidUtf8`] when the payload is not JSON,
    /// [`Error::WrongShape`] when it is JSON but not a `T`, [`Error::NestingTooDeep`]
    /// past [`TREE_DEPTH_LIMIT`](crate::TREE_DEPTH_LIMIT) levels. None is fatal: return
    /// it with `?` and the server reports it and goes on.
    pub fn json<T: Deserialize<'a>>(self) -> Result<T> {
        self.json.deserialize(self.frame)
    }

    /// Parses the payload into a [`Document`] to read by JSON Pointer.
    ///
    /// # Errors
    ///
    /// As for [`json`](Self::json), except `WrongShape`.
    pub fn parse(self) -> Result<Document<'a, 'a>> {
        self.json.parse(self.frame)
    }

    /// Checks that the payload is JSON, at any depth, without changing it, and gives
    /// its buffer back to forward.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] or [`Error::InvalidUtf8`].
    pub fn validate(self) -> Result<&'a mut BytesMut> {
        self.json.validate(self.frame)?;
        Ok(self.frame)
    }
}

/// A message the handler failed on, as the server reports it before going on.
#[derive(Debug)]
#[non_exhaustive]
pub struct Skipped<'a> {
    /// Which message of the stream, counting from 1.
    pub number: u64,
    /// Its length in bytes (0 when a validating reader refused it before the handler
    /// saw it).
    pub len: usize,
    /// What the handler (or the reader) returned.
    pub error: &'a (dyn std::error::Error + Send + Sync + 'static),
}

impl fmt::Display for Skipped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "message {} ({} bytes) skipped: {}",
            self.number, self.len, self.error
        )
    }
}

type OnError<'h, W> = Box<dyn FnMut(&Skipped<'_>, &mut FrameWriter<W>) -> Result<()> + 'h>;

/// A host's main loop: reads each message, calls a handler with it, writes what the
/// handler queued, and keeps serving through every error that leaves the stream usable.
///
/// - The browser closing stdin ends it with `Ok(())`: the host should exit.
/// - A handler error, or a message the reader refused, that is not
///   [fatal](Error::is_fatal) (invalid JSON, [`Error::WrongShape`], a reply over
///   1 MiB that was refused before a byte was written, any error of the application's)
///   is reported, by default as one line on stderr, and the next message is read.
///   [`on_error`](Self::on_error) can answer it instead.
/// - [`Error::Disconnected`] (the browser went away while a reply was being written)
///   ends it with `Ok(())`, as a normal end.
/// - A fatal error (a header over the cap, a stream cut inside a frame, a reply cut
///   part-way) ends it with that error, which carries its sizes and offsets.
///
/// Replies queued with [`FrameWriter::queue_json`] go out in one write once no other
/// whole message is waiting, so a burst of requests costs one write;
/// [`FrameWriter::send_json`] writes at once.
///
/// ```
/// use nmframe::{Limits, Server};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Request<'a> { id: u64, text: &'a str }
///
/// #[derive(Serialize)]
/// struct Reply { id: u64, upper: String }
///
/// // The browser's side: a good request, one of the wrong shape, another good one.
/// let mut input = Vec::new();
/// for msg in [r#"{"id":1,"text":"héllo"}"#, r#"{"op":"?"}"#, r#"{"id":2,"text":"wörld"}"#] {
///     nmframe::encode_frame(&mut input, msg.as_bytes(), Limits::browser().outbound())?;
/// }
/// let mut skipped = Vec::new();
/// let mut output = Vec::new();
/// Server::new(&input[..], &mut output, Limits::host())
///     .on_error(|bad, _| Ok(skipped.push(bad.to_string())))
///     .run(|msg, out| {
///         let req: Request<'_> = msg.json()?;   // a wrong shape is reported, and the loop goes on
///         out.queue_json(&Reply { id: req.id, upper: req.text.to_uppercase() })?;
///         Ok(())
///     })?;
///
/// let replies: Vec<&[u8]> = nmframe::SliceFrames::new(&output, Limits::browser().inbound())
///     .collect::<Result<_, _>>()?;
/// assert_eq!(replies, [r#"{"id":1,"upper":"HÉLLO"}"#.as_bytes(), r#"{"id":2,"upper":"WÖRLD"}"#.as_bytes()]);
/// assert_eq!(skipped, ["message 2 (10 bytes) skipped: payload is valid JSON of the wrong shape: missing field `id`"]);
/// # Ok::<(), nmframe::Error>(())
/// ```
///
/// A host on stdin and stdout starts with [`Server::stdio`]. `'h` is how long what
/// [`on_error`](Self::on_error) borrows lives.
pub struct Server<'h, R, W: Write> {
    reader: FrameReader<R>,
    writer: FrameWriter<W>,
    json: JsonDecoder,
    on_error: Option<OnError<'h, W>>,
}

impl<'h, R, W: Write> fmt::Debug for Server<'h, R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("on_error", &self.on_error.is_some())
            .finish_non_exhaustive()
    }
}

impl Server<'_, HostStdin, HostStdout> {
    /// A server on the process's stdin and stdout, set up as [`crate::stdio`] does
    /// (stdout guard on: `println!` goes to the browser's log).
    ///
    /// ```no_run
    /// use nmframe::{Limits, Server};
    ///
    /// Server::stdio(Limits::host())?.run(|msg, out| {
    ///     out.queue(msg.validate()?)?;  // echo; not JSON: reported on stderr, and on to the next
    ///     Ok(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// When stdin or stdout is not open, or cannot be duplicated.
    pub fn stdio(limits: Limits) -> io::Result<Self> {
        Self::stdio_with(HostStdio::new(), limits)
    }

    /// A server on stdin and stdout as `stdio` sets them up (guard, `SIGPIPE`, pipe
    /// size).
    ///
    /// # Errors
    ///
    /// As for [`stdio`](Self::stdio).
    pub fn stdio_with(stdio: HostStdio, limits: Limits) -> io::Result<Self> {
        let (stdin, stdout) = stdio.open()?;
        Ok(Self::from_parts(
            FrameReader::new(stdin, limits),
            FrameWriter::new(stdout, limits),
        ))
    }
}

impl<'h, R: Read, W: Write> Server<'h, R, W> {
    /// A server reading frames from `input` and writing replies to `output`, with the
    /// caps of `limits`.
    pub fn new(input: R, output: W, limits: Limits) -> Self {
        Self::from_parts(
            FrameReader::new(input, limits),
            FrameWriter::new(output, limits),
        )
    }

    /// A server over a reader and writer configured by the caller (a validating
    /// writer, a lower inbound cap).
    pub fn from_parts(reader: FrameReader<R>, writer: FrameWriter<W>) -> Self {
        Server {
            reader,
            writer,
            json: JsonDecoder::new(),
            on_error: None,
        }
    }

    /// Called for each message the handler failed on without breaking the stream, in
    /// place of the line on stderr: log it your way, or answer it through the writer.
    /// A fatal error it returns ends the loop; any other is logged on stderr.
    #[must_use]
    pub fn on_error(
        mut self,
        on_error: impl FnMut(&Skipped<'_>, &mut FrameWriter<W>) -> Result<()> + 'h,
    ) -> Self {
        self.on_error = Some(Box::new(on_error));
        self
    }

    /// Serves until the browser closes stdin or goes away (`Ok`), or until the stream
    /// breaks (the fatal error, with its numbers). Replies still queued are written
    /// before it returns.
    ///
    /// # Errors
    ///
    /// Only [fatal](Error::is_fatal) errors other than [`Error::Disconnected`].
    pub fn run<F>(mut self, mut handler: F) -> Result<()>
    where
        F: FnMut(Message<'_>, &mut FrameWriter<W>) -> std::result::Result<(), BoxError>,
    {
        let mut number = 0u64;
        loop {
            let failed = match self.reader.read_frame() {
                Ok(Some(mut frame)) => {
                    number += 1;
                    let len = frame.len();
                    let message = Message {
                        frame: &mut frame,
                        json: &mut self.json,
                        number,
                    };
                    handler(message, &mut self.writer)
                        .err()
                        .map(|err| (err, len))
                }
                Ok(None) => return ended(self.writer.flush()),
                Err(err) => {
                    number += 1;
                    Some((Box::new(err) as BoxError, 0))
                }
            };
            if let Some((err, len)) = failed
                && let Some(end) = self.report(err, number, len)
            {
                return end;
            }
            if self.writer.queued() > 0
                && !self.reader.has_frame()
                && let Err(err) = self.writer.flush()
            {
                return ended(Err(err));
            }
        }
    }

    /// Reports a message the handler failed on; `Some` when the error ends the loop.
    fn report(&mut self, err: BoxError, number: u64, len: usize) -> Option<Result<()>> {
        let err = match err.downcast::<Error>() {
            Ok(err) if err.is_fatal() => return Some(ended(Err(*err))),
            Ok(err) => err as BoxError,
            Err(other) => other,
        };
        let skipped = Skipped {
            number,
            len,
            error: &*err,
        };
        let Some(on_error) = &mut self.on_error else {
            log(&skipped);
            return None;
        };
        match on_error(&skipped, &mut self.writer) {
            Err(err) if err.is_fatal() => Some(ended(Err(err))),
            Err(err) => {
                log(&Skipped {
                    number,
                    len,
                    error: &err,
                });
                None
            }
            Ok(()) => None,
        }
    }
}

/// A clean end, or the fatal error that ended the loop: a disconnect is a clean end.
fn ended(outcome: Result<()>) -> Result<()> {
    match outcome {
        Err(err) if err.is_disconnect() => Ok(()),
        other => other,
    }
}

/// The default report: one line on stderr. Not `eprintln!`, which panics when the
/// browser has closed the host's stderr.
fn log(skipped: &Skipped<'_>) {
    let _ = writeln!(io::stderr(), "nmframe: {skipped}");
}
