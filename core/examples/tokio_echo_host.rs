//! A native-messaging host on Tokio that echoes every message back: the async
//! counterpart of `echo_host.rs` (run with `--features tokio`).
//!
//! Each message is checked (size, JSON) in the reading task and queued, without a copy
//! when large, on a [`Sender`](nmframe::tokio::Sender); when no further message is
//! buffered the queue goes to the writing task in one hand-over. On a multi-threaded
//! runtime the next messages are read and checked on one core while the replies are
//! written on another, and a burst is answered in one write. A message
//! that cannot be echoed (over 1 MiB) is answered with an error object giving its size
//! and FNV-1a checksum, and the host goes on. It exits 0 when the browser closes stdin,
//! goes away, or sends SIGTERM.
//!
//! Drive it with
//! `nmframe run -m '{"a":1}' -- target/debug/examples/tokio_echo_host`.

use std::io::Write as _;

use futures_util::StreamExt;
use nmframe::tokio::{FrameStream, Sender};
use nmframe::{Error, Limits};
use tokio::io::AsyncRead;

mod refusal;
use refusal::Refusal;

async fn serve(
    mut frames: FrameStream<impl AsyncRead + Unpin>,
    mut out: Sender,
) -> Result<(), Error> {
    while let Some(frame) = frames.next().await {
        let frame = frame?.freeze();
        if let Err(err) = out.queue_frame(frame.clone()) {
            if err.is_fatal() {
                return Err(err);
            }
            // Not eprintln!, which panics when the browser has closed stderr.
            let _ = writeln!(
                std::io::stderr(),
                "tokio_echo_host: not echoing a {}-byte message: {err}",
                frame.len()
            );
            out.queue_json(&Refusal::of(&frame, &err))?;
        }
        if !frames.has_frame() {
            out.flush().await?;
        }
    }
    out.flush().await
}

#[tokio::main]
async fn main() {
    // The error's message, with its numbers (main returning it would print its Debug).
    if let Err(err) = run().await {
        let _ = writeln!(std::io::stderr(), "tokio_echo_host: {err}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Error> {
    let (frames, out) = nmframe::tokio::stdio(Limits::host())?;
    let (sender, writing) = out.validate_json().spawn(64);
    let served = serve(frames, sender).await;
    // Every reply handed over is written before the process exits.
    let written = writing.await.expect("the writing task does not panic");
    match served.and(written.map(drop)) {
        Err(err) if err.is_disconnect() => Ok(()),
        other => other,
    }
}
