//! A host that sends and receives messages of any size through `nmframe::chunked`: the
//! other end of the JavaScript package `nmframe-port` (js/nmframe-port), and of the
//! browser suite's large-message cases.
//!
//! Requests are objects with an `op` and an `id`, answered with the same `id`:
//! - `{"op":"echo","id":1,...}`: the request itself comes back, whatever its size.
//! - `{"op":"make","id":2,"bytes":N}`: a reply whose JSON text is exactly N bytes,
//!   `{"id":2,"data":"..."}`, the data drawn from [`letters`].
//! - `{"op":"size","id":3,...}`: `{"id":3,"bytes":B,"crc32":C}` of the request's text.
//!
//! A transfer the extension botched is reported on stderr and to the extension as
//! `{"transfer_error":CODE,"message":TEXT}`; the host goes on.
//!
//! Try it with `nmframe run -m '{"op":"make","id":1,"bytes":3000000}' --
//! target/debug/examples/chunked_host` (the run command shows the parts).

use std::io::Write as _;

use nmframe::Error;
use nmframe::chunked::{ChunkOptions, Chunked, Incoming, StdioChunked};
use serde::Deserialize;

#[derive(Deserialize)]
struct Request {
    op: String,
    id: u64,
    bytes: Option<usize>,
}

/// Appends `n` letters of a fixed pseudo-random sequence (a 32-bit LCG, six bits per
/// letter), which the extension regenerates to compare: a moved or dropped byte shows.
fn letters(dst: &mut Vec<u8>, n: usize) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x: u32 = 1;
    dst.extend((0..n).map(|_| {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        ALPHABET[(x >> 26) as usize]
    }));
}

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
        let text = match incoming {
            Incoming::Message(text) => text,
            Incoming::Failed(err) => {
                let _ = writeln!(std::io::stderr(), "chunked_host: {err}");
                host.send(&serde_json::json!({
                    "transfer_error": err.code().as_str(),
                    "message": err.to_string(),
                }))?;
                continue;
            }
        };
        let (bytes, crc) = (text.len(), crc32fast::hash(&text));
        // Read without a copy: the text may be an echo's reply.
        let request: Request = match serde_json::from_slice(&text) {
            Ok(request) => request,
            Err(err) => {
                host.send(&serde_json::json!({ "error": err.to_string() }))?;
                continue;
            }
        };
        let id = request.id;
        match request.op.as_str() {
            "echo" => sent(host.send_json(&text))?,
            "size" => host.send(&serde_json::json!({ "id": id, "bytes": bytes, "crc32": crc }))?,
            "make" => {
                let head = format!(r#"{{"id":{id},"data":""#);
                let want = request.bytes.unwrap_or(0);
                let Some(n) = want.checked_sub(head.len() + 2) else {
                    host.send(&serde_json::json!({ "id": id, "error": "too small" }))?;
                    continue;
                };
                // Built in place: the reply is held once, and sent a frame at a time.
                let mut reply = Vec::with_capacity(want);
                reply.extend_from_slice(head.as_bytes());
                letters(&mut reply, n);
                reply.extend_from_slice(b"\"}");
                sent(host.send_json(&reply))?;
            }
            other => {
                host.send(&serde_json::json!({ "id": id, "error": format!("no op {other:?}") }))?
            }
        }
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
