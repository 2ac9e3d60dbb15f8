//! A native-messaging host that echoes every message back, built on nmframe.
//!
//! It validates each message with simd-json and forwards the bytes untouched. Replies
//! to a burst of messages go out in one write. It exits when the browser closes its
//! stdin. A reply the browser would refuse (over 1 MiB) is never written: the host says
//! why on stderr and answers with an error object instead, giving the message's size
//! and FNV-1a checksum.
//!
//! Register it with a browser, or drive it with
//! `nmframe run -m '{"a":1}' -- target/debug/examples/echo_host`.

use std::io::Write as _;

use nmframe::{Error, FrameReader, FrameWriter, Limits};

/// What the host answers instead of a message it cannot echo: the error, the size and
/// a checksum, as every echo host here does.
mod refusal;
use refusal::Refusal;

/// Serves one browser connection until it closes, then returns.
fn serve<R: std::io::Read, W: std::io::Write>(
    mut reader: FrameReader<R>,
    writer: FrameWriter<W>,
) -> Result<(), Error> {
    // The writer checks the size first, then the JSON: a message too large to echo
    // costs no validation (and no copy of it).
    let mut writer = writer.validate_json();
    loop {
        let frame = match reader.read_frame() {
            Ok(Some(frame)) => frame,
            // The browser closed stdin: it disconnected, and the host must go.
            Ok(None) => return Ok(()),
            Err(err) => return Err(err),
        };
        let queued = writer.queue(&frame);
        if let Err(err) = queued {
            // Not eprintln!, which panics when the browser has closed stderr.
            let _ = writeln!(
                std::io::stderr(),
                "echo_host: not echoing a {}-byte message: {err}",
                frame.len()
            );
            writer.queue_json(&Refusal::of(&frame, &err))?;
        }
        // Flush when no other message is waiting: a burst costs one write, and a lone
        // message is still answered at once.
        if !reader.has_frame() {
            match writer.flush() {
                Err(err) if err.is_disconnect() => return Ok(()),
                other => other?,
            }
        }
    }
}

fn main() {
    let outcome = nmframe::stdio(Limits::host())
        .map_err(Error::Io)
        .and_then(|(reader, writer)| serve(reader, writer));
    if let Err(err) = outcome {
        let _ = writeln!(std::io::stderr(), "echo_host: {err}");
        std::process::exit(1);
    }
}
