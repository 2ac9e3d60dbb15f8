//! A host that sends and receives messages of any size through `nmframe::chunked`: the
//! other end of the JavaScript package `nmframe-port` (js/nmframe-port), and of the
//! browser suite's large-message cases. The requests it answers are in
//! `common/chunked_ops.rs`; `tokio_chunked_host.rs` is the same host on Tokio.
//!
//! A transfer the extension botched is reported on stderr and to the extension as
//! `{"transfer_error":CODE,"message":TEXT}`; a reply the extension refused part-way is
//! reported on stderr; the host goes on.
//!
//! Try it with `nmframe run --chunked -m '{"op":"make","id":1,"bytes":3000000}' --
//! target/debug/examples/chunked_host` (without `--chunked`, `run` shows the first
//! parts, then the host waits for acknowledgements that never come).

use std::io::Write as _;

use nmframe::Error;
use nmframe::chunked::{ChunkOptions, Chunked, Incoming, StdioChunked};

#[path = "common/chunked_ops.rs"]
mod ops;

/// A send that failed without breaking the stream (the extension refused the transfer,
/// or the value would not serialize) is reported and serving goes on.
fn sent(outcome: Result<(), Error>) -> Result<(), Error> {
    match outcome {
        Err(err) if !err.is_fatal() => {
            let _ = writeln!(std::io::stderr(), "chunked_host: reply not sent: {err}");
            Ok(())
        }
        other => other,
    }
}

fn serve(host: &mut StdioChunked) -> Result<(), Error> {
    while let Some(incoming) = host.recv()? {
        let answer = match &incoming {
            Incoming::Message(text) => ops::answer(text),
            Incoming::Failed(err) => {
                let _ = writeln!(std::io::stderr(), "chunked_host: {err}");
                ops::failure(err)
            }
        };
        let reply = match (&answer, &incoming) {
            (ops::Answer::Json(reply), _) => &reply[..],
            (ops::Answer::Echo, Incoming::Message(text)) => &text[..],
            (ops::Answer::Echo, Incoming::Failed(_)) => continue,
        };
        sent(host.send_json(reply))?;
    }
    Ok(())
}

fn main() {
    let outcome = Chunked::stdio(ChunkOptions::default()).and_then(|mut host| serve(&mut host));
    match outcome {
        Err(err) if !err.is_disconnect() => {
            let _ = writeln!(std::io::stderr(), "chunked_host: {err}");
            std::process::exit(1);
        }
        _ => {}
    }
}
