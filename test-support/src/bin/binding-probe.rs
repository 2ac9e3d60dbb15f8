//! The binding probe, Rust edition: the same program in every binding
//! (ffi/tests/probe/probe.c and probe.cpp, go/internal/probe), run by
//! ffi/tests/hosts/bindings.rs to keep the README's table of what each binding offers,
//! and its defaults, true.
//!
//! It starts a host with the crate's defaults (`nmframe::stdio`), prints a stray line to
//! stdout the way a Rust program does, and answers each message `{"text": T}` with what
//! the binding says: the caller's identity, whether T is valid JSON, and the error a
//! 1 MiB + 1 reply gets.

use std::process::ExitCode;

use nmframe::simd_json::prelude::*;
use nmframe::{Browser, Caller, JsonDecoder, Limits, MAX_HOST_TO_BROWSER};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("probe: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> nmframe::Result<()> {
    let (reader, mut writer) = nmframe::stdio(Limits::host())?;
    println!("stray line from rust");
    let caller = Caller::from_env();
    let mut big = vec![b'a'; MAX_HOST_TO_BROWSER as usize + 1];
    big[0] = b'"';
    *big.last_mut().unwrap() = b'"';
    let mut json = JsonDecoder::new();
    for frame in reader {
        let mut frame = frame?;
        let text = {
            let doc = json.parse(&mut frame)?;
            let text = doc
                .pointer("/text")
                .and_then(|v| v.as_str().map(str::to_owned));
            text.ok_or_else(|| nmframe::Error::Io(std::io::Error::other("no /text")))?
        };
        let valid = JsonDecoder::new().validate(text.as_bytes()).is_ok();
        let too_large = writer.send(&big).err().map(|e| e.to_string());
        let browser = match caller.browser {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
            Browser::Unknown => "unknown",
        };
        let reply = serde_json::json!({
            "binding": "rust",
            "browser": browser,
            "origin": caller.origin,
            "manifest_path": caller.manifest_path,
            "extension_id": caller.extension_id,
            "parent_window": caller.parent_window.unwrap_or(0),
            "valid": valid,
            "too_large": too_large.unwrap_or_default(),
        });
        writer.send(reply.to_string().as_bytes())?;
    }
    Ok(())
}
