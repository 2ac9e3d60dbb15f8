//! The README's Rust host, as a newcomer would copy it: the README's block and
//! `examples/readme_host.rs` must be the same code, and the host built from it must answer
//! good messages, report bad ones and keep serving, and exit 0 when stdin closes.

use std::time::Duration;

use nmframe::{FrameReader, FrameWriter, Limits, MAX_HOST_TO_BROWSER};
use nmframe_test_support::process::stderr_of;
use nmframe_test_support::{exits_within, start_example};

const ROOT_README: &str = include_str!("../../README.md");
const EXAMPLE: &str = include_str!("../examples/readme_host.rs");

#[test]
fn the_readme_block_is_the_example() {
    let block = ROOT_README
        .split("```rust,no_run\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n").next())
        .expect("the README has a rust,no_run block");
    // The example is the block under its `//!` lines (examples must be documented).
    let body: String = EXAMPLE
        .lines()
        .skip_while(|line| line.starts_with("//!") || line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        block, body,
        "README.md's first Rust block and core/examples/readme_host.rs differ: edit both"
    );
}

#[test]
fn the_readme_host_reports_bad_messages_and_keeps_serving() {
    let mut child = start_example("nmframe", "readme_host", &[]);
    let mut writer = FrameWriter::new(child.stdin.take().unwrap(), Limits::browser());
    let mut reader = FrameReader::new(child.stdout.take().unwrap(), Limits::browser());
    let over = format!(
        r#"{{"id":4,"op":"{}"}}"#,
        "x".repeat(MAX_HOST_TO_BROWSER as usize)
    );
    let messages: [&[u8]; 6] = [
        br#"{"id":1,"op":"first"}"#,
        br#"{"op":"no id"}"#,
        b"[not json",
        over.as_bytes(),
        br#"{"id":5,"op":"\u00e9t\u00e9"}"#,
        br#"{"id":6,"op":"last"}"#,
    ];
    for msg in messages {
        writer.send(msg).unwrap();
    }
    let replies: Vec<Vec<u8>> = (0..3)
        .map(|_| reader.read_frame().unwrap().unwrap().to_vec())
        .collect();
    assert_eq!(
        replies,
        [
            br#"{"id":1,"echo":"first"}"#.to_vec(),
            r#"{"id":5,"echo":"été"}"#.as_bytes().to_vec(),
            br#"{"id":6,"echo":"last"}"#.to_vec(),
        ]
    );
    drop(writer);
    let status = exits_within(&mut child, Duration::from_secs(2));
    assert!(status.success(), "the host exits 0 at EOF: {status:?}");
    assert!(reader.read_frame().unwrap().is_none());
    let stderr = stderr_of(&mut child);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "one line per bad message: {stderr}");
    assert_eq!(
        lines[0],
        "nmframe: message 2 (14 bytes) skipped: payload is valid JSON of the wrong shape: missing field `id`"
    );
    assert!(
        lines[1].starts_with("nmframe: message 3 (9 bytes) skipped: payload is not valid JSON"),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with(&format!(
            "nmframe: message 4 ({} bytes) skipped: message of",
            over.len()
        )) && lines[2].contains("limit of 1048576 bytes; nothing was written"),
        "{stderr}"
    );
}
