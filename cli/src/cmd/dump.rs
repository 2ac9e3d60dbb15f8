//! `nmframe dump`: a captured stream, one JSON line per frame.

use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use nmframe::{Error, FrameDecoder, JsonDecoder, Limits, Role};

use crate::exit::{MISBEHAVED, SETUP};
use crate::out::problem;
use crate::text::{json_string, preview, to_json_line};

pub(crate) fn cmd_dump(file: Option<PathBuf>, role: Role) -> u8 {
    let mut input: Box<dyn io::Read> = match file.as_deref() {
        None => Box::new(io::stdin().lock()),
        Some(p) if p == Path::new("-") => Box::new(io::stdin().lock()),
        Some(p) => match std::fs::File::open(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                problem(&format!("cannot open {}: {e}", p.display()));
                return SETUP;
            }
        },
    };
    let mut out = io::stdout().lock();
    match dump(&mut input, role, &mut out) {
        Ok(true) => 0,
        Ok(false) => MISBEHAVED,
        Err(e) => {
            problem(&format!("dump: {e}"));
            SETUP
        }
    }
}

/// Decodes a captured stream into one JSON line per frame. Returns whether the whole
/// stream was good.
fn dump(input: &mut dyn Read, role: Role, out: &mut dyn Write) -> io::Result<bool> {
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
