//! The chunked example host (`chunked_host.rs`) on Tokio, through
//! `nmframe::tokio::Chunked` (run with `--features tokio`): the same requests
//! (`common/chunked_ops.rs`), the same replies, messages of any size both ways.

use std::io::Write as _;

use nmframe::Error;
use nmframe::chunked::{ChunkOptions, Incoming};
use nmframe::tokio::Chunked;

#[path = "common/chunked_ops.rs"]
mod ops;

async fn serve() -> Result<(), Error> {
    let mut host = Chunked::stdio(ChunkOptions::default())?;
    while let Some(incoming) = host.recv().await? {
        let answer = match &incoming {
            Incoming::Message(text) => ops::answer(text),
            Incoming::Failed(err) => {
                let _ = writeln!(std::io::stderr(), "tokio_chunked_host: {err}");
                ops::failure(err)
            }
        };
        let reply = match (&answer, &incoming) {
            (ops::Answer::Json(reply), _) => &reply[..],
            (ops::Answer::Echo, Incoming::Message(text)) => &text[..],
            (ops::Answer::Echo, Incoming::Failed(_)) => continue,
        };
        match host.send_json(reply).await {
            // The extension refused the reply part-way: reported, and serving goes on.
            Err(err) if !err.is_fatal() => {
                let _ = writeln!(
                    std::io::stderr(),
                    "tokio_chunked_host: reply not sent: {err}"
                );
            }
            other => other?,
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    match serve().await {
        Err(err) if !err.is_disconnect() => {
            let _ = writeln!(std::io::stderr(), "tokio_chunked_host: {err}");
            std::process::exit(1);
        }
        _ => {}
    }
}
