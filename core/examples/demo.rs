//! Plays the browser against the echo host: starts it as Chromium would, exchanges a
//! handful of messages over real pipes, and prints what happened.
//!
//! `cargo run --release -p nmframe --example demo`

use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nmframe::{FrameReader, FrameWriter, Limits, MAX_HOST_TO_BROWSER};

#[path = "echo_host.rs"]
mod echo_host;

/// Chromium passes the caller's origin as the host's first argument.
const ORIGIN: &str = "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("--host") {
        let (reader, writer) = nmframe::stdio(Limits::host())?;
        return Ok(echo_host::serve(reader, writer)?);
    }

    let exe = std::env::current_exe()?;
    let mut child = Command::new(&exe)
        .args(["--host", ORIGIN])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut to_host = FrameWriter::new(child.stdin.take().unwrap(), Limits::browser());
    let mut from_host = FrameReader::new(child.stdout.take().unwrap(), Limits::browser());
    println!(
        "started the echo host as Chromium would: {} {ORIGIN}\n",
        exe.display()
    );

    let string_of = |len: usize| format!("\"{}\"", "a".repeat(len - 2));
    let cases: Vec<(&str, String)> = vec![
        ("small command", r#"{"cmd":"ping","id":1}"#.into()),
        (
            "unicode",
            r#"{"text":"héllo wörld — 日本語 😀","escaped":"tab\there \u0000 nul"}"#.into(),
        ),
        ("nested", format!("{}1{}", "[".repeat(64), "]".repeat(64))),
        ("exactly 1 MiB", string_of(MAX_HOST_TO_BROWSER as usize)),
        (
            "1 MiB + 1 byte",
            string_of(MAX_HOST_TO_BROWSER as usize + 1),
        ),
        ("after the refusal", r#"{"still":"alive"}"#.into()),
    ];

    println!(
        "{:<20} {:>10} {:>10} {:>10}  reply",
        "message", "sent", "received", "round trip"
    );
    for (label, msg) in &cases {
        let start = Instant::now();
        to_host.send(msg.as_bytes())?;
        let reply = from_host
            .read_frame()?
            .ok_or("the host closed its stdout")?;
        let took = start.elapsed();
        let preview = if reply.len() > 60 {
            format!("{}…", String::from_utf8_lossy(&reply[..60]))
        } else {
            String::from_utf8_lossy(&reply).into_owned()
        };
        println!(
            "{label:<20} {:>10} {:>10} {:>10.2?}  {preview}",
            msg.len(),
            reply.len(),
            took
        );
        if *label == "exactly 1 MiB" {
            assert_eq!(
                &reply[..],
                msg.as_bytes(),
                "the 1 MiB reply must arrive intact"
            );
        }
    }

    // A burst: one thread writes while this one reads, as the browser does.
    let count = 20_000;
    let msg = br#"{"cmd":"tick","payload":"0123456789abcdef0123456789abcdef"}"#;
    let start = Instant::now();
    let writer = std::thread::spawn(move || -> Result<FrameWriter<_>, nmframe::Error> {
        let mut batch = FrameWriter::new(BufWriter::new(to_host.into_inner()), Limits::browser());
        for _ in 0..count {
            batch.queue(msg)?;
            if batch.queued() > 64 * 1024 {
                batch.flush()?;
            }
        }
        batch.flush()?;
        let inner = batch
            .into_inner()
            .into_inner()
            .map_err(|e| e.into_error())?;
        Ok(FrameWriter::new(inner, Limits::browser()))
    });
    for _ in 0..count {
        let reply = from_host
            .read_frame()?
            .ok_or("the host closed its stdout")?;
        assert_eq!(&reply[..], &msg[..]);
    }
    let took = start.elapsed();
    let to_host = writer.join().expect("writer thread")?;
    println!(
        "\nburst of {count} messages of {} bytes: {:.0} messages/s, {:.1} MB/s each way",
        msg.len(),
        count as f64 / took.as_secs_f64(),
        (count * msg.len()) as f64 / took.as_secs_f64() / 1e6
    );

    // Disconnect: the browser closes the host's stdin and waits for it to exit.
    let start = Instant::now();
    drop(to_host.into_inner());
    let status = child.wait()?;
    let took = start.elapsed();
    println!("closed the host's stdin: it exited ({status}) after {took:.2?}");
    if took > Duration::from_secs(2) {
        println!("warning: Chromium would have killed it at 2 s");
    }
    std::io::stdout().flush()?;
    Ok(())
}
