//! The usual host shape on nmframe: decode each message into a JSON value (simd-json,
//! buffers reused, strings borrowed from the frame) and serialize a reply from it
//! straight into the output buffer. Replies to a burst go out in one write.
use nmframe::{JsonDecoder, Limits};

fn main() -> Result<(), nmframe::Error> {
    let (mut reader, mut writer) = nmframe::stdio(Limits::host())?;
    let mut json = JsonDecoder::new();
    while let Some(mut frame) = reader.read_frame()? {
        let value = json.to_borrowed(&mut frame)?;
        writer.queue_json(&value)?;
        if !reader.has_frame() {
            match writer.flush() {
                Err(e) if e.is_disconnect() => break,
                other => other?,
            }
        }
    }
    Ok(())
}
