//! The usual host shape on nmframe: decode each message into a JSON value and serialize
//! a reply from it straight into the output batch. By default the value is simd-json's
//! `BorrowedValue` tree (buffers reused, strings borrowed from the frame); with
//! `--document`, nmframe's `Document`, the tape itself (`JsonDecoder::parse`), the same
//! work without an allocation per array and object. Replies to a burst go out in one
//! write, on a writer thread, while the next messages are read and decoded.
use nmframe::{JsonDecoder, Limits};

fn main() -> Result<(), nmframe::Error> {
    let document = std::env::args().any(|arg| arg == "--document");
    let (mut reader, writer) = nmframe::stdio(Limits::host())?;
    let mut writer = writer.spawn_thread()?;
    let mut json = JsonDecoder::new();
    while let Some(mut frame) = reader.read_frame()? {
        if document {
            writer.queue_json(&json.parse(&mut frame)?)?;
        } else {
            writer.queue_json(&json.to_borrowed(&mut frame)?)?;
        }
        if !reader.has_frame() {
            match writer.flush() {
                Err(e) if e.is_disconnect() => return Ok(()),
                other => other?,
            }
        }
    }
    match writer.finish() {
        Err(e) if e.is_disconnect() => Ok(()),
        other => other.map(drop),
    }
}
