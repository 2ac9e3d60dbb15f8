//! The requests the chunked example hosts answer (blocking `chunked_host.rs`, async
//! `tokio_chunked_host.rs`): objects with an `op` and an `id`, answered with the same
//! `id`.
//! - `{"op":"echo","id":1,...}`: the request itself comes back, whatever its size.
//! - `{"op":"make","id":2,"bytes":N}`: a reply whose JSON text is exactly N bytes,
//!   `{"id":2,"data":"..."}`, the data drawn from [`letters`].
//! - `{"op":"size","id":3,...}`: `{"id":3,"bytes":B,"crc32":C}` of the request's text.

use nmframe::chunked::TransferError;
use serde::Deserialize;

#[derive(Deserialize)]
struct Request {
    op: String,
    id: u64,
    bytes: Option<usize>,
}

/// What to send back.
pub enum Answer {
    /// The request's own text.
    Echo,
    /// This JSON text.
    Json(Vec<u8>),
}

/// Appends `n` letters of a fixed pseudo-random sequence (a 32-bit LCG from 1, six bits
/// per letter), which the extension regenerates to compare: a moved or dropped byte
/// shows.
fn letters(dst: &mut Vec<u8>, n: usize) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x: u32 = 1;
    dst.extend((0..n).map(|_| {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        ALPHABET[(x >> 26) as usize]
    }));
}

/// The answer to one request's text.
pub fn answer(text: &[u8]) -> Answer {
    // Read without a copy: the text may be an echo's reply.
    let request: Request = match serde_json::from_slice(text) {
        Ok(request) => request,
        Err(err) => return json(&serde_json::json!({ "error": err.to_string() })),
    };
    let id = request.id;
    match request.op.as_str() {
        "echo" => Answer::Echo,
        "size" => json(&serde_json::json!({
            "id": id, "bytes": text.len(), "crc32": crc32fast::hash(text),
        })),
        "make" => {
            let head = format!(r#"{{"id":{id},"data":""#);
            let want = request.bytes.unwrap_or(0);
            let Some(n) = want.checked_sub(head.len() + 2) else {
                return json(&serde_json::json!({ "id": id, "error": "too small" }));
            };
            // Built in place: the reply is held once, and sent a frame at a time.
            let mut reply = Vec::with_capacity(want);
            reply.extend_from_slice(head.as_bytes());
            letters(&mut reply, n);
            reply.extend_from_slice(b"\"}");
            Answer::Json(reply)
        }
        other => json(&serde_json::json!({ "id": id, "error": format!("no op {other:?}") })),
    }
}

/// What the host tells the extension about a transfer of its that failed.
pub fn failure(err: &TransferError) -> Answer {
    json(&serde_json::json!({
        "transfer_error": err.code().as_str(),
        "message": err.to_string(),
    }))
}

fn json(value: &serde_json::Value) -> Answer {
    Answer::Json(serde_json::to_vec(value).expect("a JSON value serializes"))
}
