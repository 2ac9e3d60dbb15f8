//! `nmframe dump`, `bridge` and `echo`.

use std::io::{self, BufWriter, Read, Write};
use std::process::{Command, Stdio};
use std::thread;

use bytes::Bytes;
use nmframe::{
    Error, FrameDecoder, FrameReader, FrameWriter, JsonDecoder, Limits, MAX_HOST_TO_BROWSER, Role,
    WriterThread,
};

use crate::run::{note, problem, warn};
use crate::text::{preview, to_json_line};

/// Writes a JSON string literal.
fn json_string(out: &mut Vec<u8>, s: &str) {
    // simd-json's serializer escapes exactly as JSON requires.
    let _ = nmframe::simd_json::to_writer(&mut *out, s);
}

/// Decodes a captured stream into one JSON line per frame. Returns whether the whole
/// stream was good.
pub fn dump(input: &mut dyn Read, role: Role, out: &mut dyn Write) -> io::Result<bool> {
    let mut decoder = FrameDecoder::new(Limits::for_role(role));
    let mut json = JsonDecoder::new();
    let mut out = BufWriter::new(out);
    let mut frames = 0u64;
    loop {
        let offset = decoder.offset();
        match decoder.decode() {
            Ok(Some(frame)) => {
                let mut line =
                    format!("{{\"offset\":{offset},\"length\":{},", frame.len()).into_bytes();
                match json.validate(&frame) {
                    Ok(()) => {
                        line.extend_from_slice(b"\"json\":");
                        line.extend_from_slice(&to_json_line(&frame));
                        line.extend_from_slice(b"}\n");
                        out.write_all(&line)?;
                        frames += 1;
                        continue;
                    }
                    Err(err) => {
                        line.extend_from_slice(b"\"error\":");
                        json_string(&mut line, &err.to_string());
                        line.extend_from_slice(b",\"bytes\":");
                        json_string(&mut line, &preview(&frame, 32));
                        line.extend_from_slice(b"}\n");
                        out.write_all(&line)?;
                        out.flush()?;
                        problem(&format!(
                            "frame {} (offset {offset}, {} bytes) is not a valid message: {err}",
                            frames + 1,
                            frame.len()
                        ));
                        return Ok(false);
                    }
                }
            }
            Ok(None) => {}
            Err(err) => {
                return bad_stream(&mut out, offset, &err, decoder.buffered_bytes(), frames);
            }
        }
        if decoder.read_from(input)? == 0 {
            return match decoder.finish() {
                Ok(()) => {
                    out.flush()?;
                    Ok(true)
                }
                Err(err) => bad_stream(
                    &mut out,
                    decoder.offset(),
                    &err,
                    decoder.buffered_bytes(),
                    frames,
                ),
            };
        }
    }
}

fn bad_stream(
    out: &mut dyn Write,
    offset: u64,
    err: &Error,
    bytes: &[u8],
    frames: u64,
) -> io::Result<bool> {
    let mut line = format!("{{\"offset\":{offset},\"error\":").into_bytes();
    json_string(&mut line, &err.to_string());
    line.extend_from_slice(b",\"bytes\":");
    json_string(&mut line, &preview(bytes, 32));
    line.extend_from_slice(b"}\n");
    out.write_all(&line)?;
    out.flush()?;
    problem(&format!("after {frames} good frames: {err}"));
    problem(&format!("bytes at offset {offset}: {}", preview(bytes, 32)));
    Ok(false)
}

/// Be a host that turns browser messages into NDJSON lines on `cmd`'s stdin and its
/// stdout lines back into messages.
pub fn bridge(cmd: &mut Command) -> io::Result<i32> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let (reader, writer) = nmframe::stdio(Limits::host())?;
    let mut child_in = child.stdin.take().expect("piped");
    let child_out = child.stdout.take().expect("piped");

    // Browser → command: one compact JSON line per message.
    let inbound = thread::spawn(move || -> Result<(), Error> {
        for frame in reader {
            let frame = frame?;
            let mut line = to_json_line(&frame);
            line.push(b'\n');
            if child_in
                .write_all(&line)
                .and_then(|()| child_in.flush())
                .is_err()
            {
                break; // the command stopped reading
            }
        }
        Ok(()) // dropping child_in closes the command's stdin
    });

    // Command → browser: each line a message, checked first.
    let outbound = lines_to_frames(child_out, writer);
    let status = child.wait()?;
    if let Err(err) = outbound
        && !err.is_disconnect()
    {
        problem(&format!("bridge: {err}"));
    }
    match inbound.join() {
        Ok(Err(err)) => problem(&format!("bridge: reading from the browser: {err}")),
        Err(_) => problem("bridge: the inbound thread panicked"),
        Ok(Ok(())) => {}
    }
    Ok(status.code().unwrap_or(1))
}

fn lines_to_frames(
    mut child_out: impl Read,
    mut writer: FrameWriter<nmframe::HostStdout>,
) -> Result<(), Error> {
    let mut json = JsonDecoder::new();
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut scanned = 0;
    let mut line_no = 0u64;
    loop {
        let old = buf.len();
        buf.resize(old + 64 * 1024, 0);
        let n = child_out.read(&mut buf[old..])?;
        buf.truncate(old + n);
        let mut start = 0;
        while let Some(i) = memchr::memchr(b'\n', &buf[scanned..]) {
            let end = scanned + i;
            line_no += 1;
            let line = trim_line(&buf[start..end]);
            if !line.is_empty() {
                send_line(&mut writer, &mut json, line, line_no)?;
            }
            start = end + 1;
            scanned = start;
        }
        buf.drain(..start);
        scanned = buf.len();
        // A line past the limit can never be sent: drop it as it streams in.
        if buf.len() > MAX_HOST_TO_BROWSER as usize + 2 && memchr::memchr(b'\n', &buf).is_none() {
            warn(&format!(
                "bridge: line {} is over {MAX_HOST_TO_BROWSER} bytes: not sent",
                line_no + 1
            ));
            skip_to_newline(&mut child_out, &mut buf)?;
            line_no += 1;
            scanned = 0;
        }
        if n == 0 {
            let line = trim_line(&buf);
            if !line.is_empty() {
                send_line(&mut writer, &mut json, line, line_no + 1)?;
            }
            return Ok(());
        }
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Discards input up to and including the next newline; keeps what follows it.
fn skip_to_newline(input: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = input.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        if let Some(i) = memchr::memchr(b'\n', &chunk[..n]) {
            buf.extend_from_slice(&chunk[i + 1..n]);
            return Ok(());
        }
    }
}

fn send_line(
    writer: &mut FrameWriter<nmframe::HostStdout>,
    json: &mut JsonDecoder,
    line: &[u8],
    n: u64,
) -> Result<(), Error> {
    if let Err(err) = json.validate(line) {
        warn(&format!("bridge: line {n} is not JSON, not sent: {err}"));
        return Ok(());
    }
    match writer.send(line) {
        Err(err) if !err.is_fatal() => {
            warn(&format!("bridge: line {n} not sent: {err}"));
            Ok(())
        }
        other => other,
    }
}

/// The reference echo host: validate each message with simd-json and send the same
/// bytes back. Replies to everything already buffered go out in one write. With a
/// second core (or `NMFRAME_ECHO_THREAD=1`), replies are written on a thread of their
/// own while the next messages are read; `NMFRAME_ECHO_THREAD=0` keeps one thread.
pub fn echo() -> Result<(), Error> {
    let (reader, writer) = nmframe::stdio(Limits::host())?;
    let threaded = match std::env::var("NMFRAME_ECHO_THREAD").as_deref() {
        Ok("0") => false,
        Ok("1") => true,
        _ => thread::available_parallelism().is_ok_and(|n| n.get() > 1),
    };
    // The writer checks the size first and the JSON second: a message too large to
    // echo costs no validation (and no copy of it).
    let writer = writer.validate_json();
    if threaded {
        serve_echo(reader, writer.spawn_thread()?)
    } else {
        serve_echo(reader, writer)
    }
}

/// FNV-1a, 32 bits: simple enough that any sender can compute it to compare.
fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Messages at least this large are written from where they lie instead of being
/// copied into the reply queue.
const DIRECT_WRITE: usize = 16 * 1024;

/// What the echo needs of a writer of frames, on this thread or on its own.
pub trait Replies {
    /// Writes (or hands over) one frame without copying it.
    fn send_frame(&mut self, frame: Bytes) -> Result<(), Error>;
    /// Queues a copy of a frame for the next flush.
    fn queue(&mut self, payload: &[u8]) -> Result<(), Error>;
    /// Sends what is queued.
    fn flush(&mut self) -> Result<(), Error>;
    /// Bytes queued.
    fn queued(&self) -> usize;
    /// Sends what is queued and waits until it is written.
    fn close(self) -> Result<(), Error>;
}

impl<W: Write> Replies for FrameWriter<W> {
    fn send_frame(&mut self, frame: Bytes) -> Result<(), Error> {
        self.send(&frame) // with anything queued, in one vectored write
    }
    fn queue(&mut self, payload: &[u8]) -> Result<(), Error> {
        FrameWriter::queue(self, payload)
    }
    fn flush(&mut self) -> Result<(), Error> {
        FrameWriter::flush(self)
    }
    fn queued(&self) -> usize {
        FrameWriter::queued(self)
    }
    fn close(mut self) -> Result<(), Error> {
        FrameWriter::flush(&mut self)
    }
}

impl<W: Write + Send + 'static> Replies for WriterThread<W> {
    fn send_frame(&mut self, frame: Bytes) -> Result<(), Error> {
        WriterThread::send_frame(self, frame)
    }
    fn queue(&mut self, payload: &[u8]) -> Result<(), Error> {
        WriterThread::queue(self, payload)
    }
    fn flush(&mut self) -> Result<(), Error> {
        WriterThread::flush(self)
    }
    fn queued(&self) -> usize {
        WriterThread::queued(self)
    }
    fn close(self) -> Result<(), Error> {
        self.finish().map(drop)
    }
}

/// Echoes every frame `reader` delivers through `writer`, which should check the
/// JSON (`validate_json`): an invalid message, or one too large to echo, is answered
/// with an error object giving its size and checksum, and the host goes on.
pub fn serve_echo<R: Read>(
    mut reader: FrameReader<R>,
    mut writer: impl Replies,
) -> Result<(), Error> {
    loop {
        let frame = match reader.read_frame()? {
            Some(frame) => frame,
            None => {
                return match writer.close() {
                    Err(err) if err.is_disconnect() => Ok(()),
                    other => other,
                };
            }
        };
        // A reference to the frame, for the error reply: the frame itself may be
        // handed over whole.
        let frame = frame.freeze();
        let checked = if frame.len() >= DIRECT_WRITE {
            writer.send_frame(frame.clone())
        } else {
            writer.queue(&frame)
        };
        match checked {
            Ok(()) => {}
            Err(err) if err.is_disconnect() => return Ok(()),
            Err(err) if err.is_fatal() => return Err(err),
            Err(err) => {
                note(&format!(
                    "echo: not echoing a {}-byte message: {err}",
                    frame.len()
                ));
                let mut reply = b"{\"error\":".to_vec();
                json_string(&mut reply, &err.to_string());
                // The size and a checksum let the sender check what arrived.
                reply.extend_from_slice(
                    format!(
                        ",\"size\":{},\"fnv1a32\":{}}}",
                        frame.len(),
                        fnv1a32(&frame)
                    )
                    .as_bytes(),
                );
                writer.queue(&reply)?;
            }
        }
        if !reader.has_frame() && writer.queued() > 0 {
            match writer.flush() {
                Err(err) if err.is_disconnect() => return Ok(()),
                other => other?,
            }
        }
    }
}
