//! A request/response host on Tokio (run with `--features tokio`): each request is
//! handled by a task of its own, so a slow one does not hold up the others, and each
//! reply carries its request's `id`, so they can go out in any order.
//!
//! Requests: `{"id": N, "op": "upper", "text": "..."}` and
//! `{"id": N, "op": "sleep", "ms": N}` (answered after that long). A request that is not
//! valid JSON, or not one of these, gets `{"id": null, "error": "..."}` and the host goes
//! on. Every reply is written through one cloneable [`Sender`]: the writing
//! task batches what is waiting into one write.
//!
//! [`Sender`]: nmframe::tokio::Sender

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use nmframe::tokio::Sender;
use nmframe::{Error, JsonDecoder, Limits};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Requests handled at once at most. When the browser stops reading, replies wait, the
/// handlers wait, and then the host stops reading too: its memory stays bounded.
const IN_FLIGHT: usize = 64;

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Request {
    Upper { id: u64, text: String },
    Sleep { id: u64, ms: u64 },
}

#[derive(Serialize)]
#[serde(untagged)]
enum Reply {
    Upper { id: u64, text: String },
    Slept { id: u64, slept_ms: u64 },
    Error { id: Option<u64>, error: String },
}

async fn handle(
    request: Request,
    sender: Sender,
    _permit: OwnedSemaphorePermit,
) -> Result<(), Error> {
    let reply = match request {
        Request::Upper { id, text } => Reply::Upper {
            id,
            text: text.to_uppercase(),
        },
        Request::Sleep { id, ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Reply::Slept { id, slept_ms: ms }
        }
    };
    sender.send_json(&reply).await
}

#[tokio::main]
async fn main() {
    // The error's message, with its numbers (main returning it would print its Debug).
    if let Err(err) = run().await {
        let _ = writeln!(std::io::stderr(), "tokio_rpc_host: {err}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Error> {
    let (mut frames, out) = nmframe::tokio::stdio(Limits::host())?;
    let (sender, writing) = out.spawn(IN_FLIGHT);
    let mut json = JsonDecoder::new();
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(frame) = frames.next().await {
        let mut frame = frame?;
        match json.deserialize::<Request>(&mut frame) {
            Ok(request) => {
                let permit = Arc::clone(&in_flight)
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                tokio::spawn(handle(request, sender.clone(), permit));
            }
            Err(err) => {
                let reply = Reply::Error {
                    id: None,
                    error: err.to_string(),
                };
                match sender.send_json(&reply).await {
                    Err(err) if err.is_disconnect() => return Ok(()),
                    other => other?,
                }
            }
        }
    }
    // End of input: the replies still being computed finish, then the writer drains.
    drop(sender);
    match writing.await.expect("the writing task does not panic") {
        Err(err) if err.is_disconnect() => Ok(()),
        other => other.map(drop),
    }
}
