//! The value host on nmframe's async API (`nmframe::tokio`): each message decoded into a
//! simd-json value (strings borrowed from the frame) and serialized into the reply
//! queue of a `Sender`, handed over when no further message is buffered; a writing task
//! on the runtime's other worker writes it, a burst in one write.
use nmframe::{JsonDecoder, Limits};

#[tokio::main]
async fn main() -> Result<(), nmframe::Error> {
    let (mut frames, out) = nmframe::tokio::stdio(Limits::host())?;
    let (mut sender, writing) = out.spawn(64);
    let mut json = JsonDecoder::new();
    let served = async {
        while let Some(mut frame) = frames.recv().await? {
            sender.queue_json(&json.to_borrowed(&mut frame)?)?;
            if !frames.has_frame() {
                sender.flush().await?;
            }
        }
        sender.flush().await
    }
    .await;
    drop(sender);
    let written = writing.await.expect("the writing task does not panic");
    match served.and(written.map(drop)) {
        Err(e) if e.is_disconnect() => Ok(()),
        other => other,
    }
}
