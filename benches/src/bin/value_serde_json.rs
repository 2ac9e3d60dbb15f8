//! The usual host shape, hand-written on std and serde_json (the baseline most Rust
//! hosts are): read_exact the header and the body, serde_json::Value, to_vec, write.
use std::io::{self, Read, Write};

fn main() -> io::Result<()> {
    let mut stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    let mut header = [0u8; 4];
    while stdin.read_exact(&mut header).is_ok() {
        let mut body = vec![0u8; u32::from_ne_bytes(header) as usize];
        stdin.read_exact(&mut body)?;
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(io::Error::other)?;
        let reply = serde_json::to_vec(&value).map_err(io::Error::other)?;
        stdout.write_all(&(reply.len() as u32).to_ne_bytes())?;
        stdout.write_all(&reply)?;
        stdout.flush()?;
    }
    Ok(())
}
