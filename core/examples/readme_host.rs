//! The README's Rust host, kept identical to it by `core/tests/readme_host.rs` (everything
//! below these lines), which builds it and sends it bad messages.

use nmframe::{Limits, Server};
use serde::{Deserialize, Serialize}; // serde = { version = "1", features = ["derive"] }

#[derive(Deserialize)]
struct Request<'a> {
    id: u64,
    op: &'a str,
}

#[derive(Serialize)]
struct Reply<'a> {
    id: u64,
    echo: &'a str,
}

fn main() -> Result<(), nmframe::Error> {
    // Serves until the browser closes stdin or goes away. A message that is not JSON or
    // not a Request, or a reply over 1 MiB, is reported on stderr (the browser's log) and
    // the next message is read; only a broken stream ends it early, with its numbers.
    Server::stdio(Limits::host())?.run(|msg, out| {
        let req: Request<'_> = msg.json()?; // in place: `op` borrows from the message
        let reply = Reply {
            id: req.id,
            echo: req.op,
        };
        out.queue_json(&reply)?; // replies to a burst leave in one write
        Ok(())
    })
}
