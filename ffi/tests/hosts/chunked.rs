//! NMF_HOST_CHUNKED through real pipes, for the C, C++ and Go hosts: messages of any size
//! both ways, with the test playing the extension (core's `Parts` to send, its
//! `Reassembler` to receive and acknowledge), a bad transfer reported while the host
//! goes on.

use std::path::Path;
use std::time::Instant;

use bytes::BytesMut;
use nmframe::chunked::{Accepted, ChunkOptions, Parts, Reassembler, is_envelope};

use nmframe_test_support::chunked::send_in_parts;
use nmframe_test_support::process::HostProcess;

use super::{Browser, Under, built};

/// Reads frames until a whole message arrives, acknowledging parts as the extension
/// package does; returns it and the number of frames it came in.
fn receive(b: &mut Browser, rx: &mut Reassembler) -> (BytesMut, usize) {
    let mut frames = 0;
    loop {
        let frame = b.recv();
        assert!(frame.len() <= 1 << 20, "a {}-byte frame", frame.len());
        frames += 1;
        let accepted = rx.accept(BytesMut::from(&frame[..]), Instant::now());
        for ack in rx.outbox().drain(..).collect::<Vec<_>>() {
            b.send(&ack);
        }
        match accepted {
            Accepted::Pending => {}
            Accepted::Message(m) => return (m, frames),
            other => panic!("{other:?}; stderr:\n{}", b.stderr()),
        }
    }
}

/// A message of `n` bytes whose text has escapes and multi-byte characters throughout.
fn message(n: usize, tag: &str) -> Vec<u8> {
    let unit = "\"r\u{e9}sum\u{e9} \\\\ \u{1F600}\\n\",";
    let mut text = format!(r#"{{"tag":"{tag}","rows":["#).into_bytes();
    while text.len() + unit.len() + 4 < n {
        text.extend_from_slice(unit.as_bytes());
    }
    text.extend_from_slice(b"0]}");
    text
}

fn session(label: &str, exe: &Path) {
    let mut b = Browser::start(exe, Under::Native);
    let mut rx = Reassembler::new(ChunkOptions::default());
    // Small messages travel as they are.
    assert_eq!(b.roundtrip(br#"{"small":1}"#), br#"{"small":1}"#);
    // 5 MiB in parts from the extension, echoed in parts (with acknowledgements).
    let big = message(5 << 20, "big");
    let sent = send_in_parts(|f| b.send(f), 1, &big, 1 << 20);
    assert!(sent > 5);
    let (echo, frames) = receive(&mut b, &mut rx);
    assert_eq!(echo.as_ref(), &big[..], "{label}: the 5 MiB echo differs");
    assert!(frames > 5, "{label}: the echo came in {frames} frames");
    // A message that looks like an envelope goes in parts even though it is small.
    let tricky = br#"{"$nmframe":2,"t":"end","id":9,"seq":0,"bytes":0,"crc32":0}"#;
    send_in_parts(|f| b.send(f), 2, tricky, 1 << 20);
    let (echo, frames) = receive(&mut b, &mut rx);
    assert_eq!(echo.as_ref(), &tricky[..]);
    assert_eq!(frames, 2, "{label}: one part and an end");
    // A corrupted transfer: the host reports it, tells the extension, and goes on.
    let mut parts = Parts::new(3, br#"{"lost":true}"#, 4096, 0);
    let mut frame = Vec::new();
    parts.next_frame(&mut frame);
    b.send(&frame);
    b.send(br#"{"$nmframe":2,"t":"end","id":3,"seq":1,"bytes":13,"crc32":7}"#);
    let refuse = b.recv();
    assert!(
        is_envelope(&refuse),
        "{label}: {}",
        String::from_utf8_lossy(&refuse)
    );
    let refuse: serde_json::Value = serde_json::from_slice(&refuse).unwrap();
    assert_eq!(refuse["t"], "refuse");
    assert_eq!(refuse["id"], 3);
    assert_eq!(refuse["code"], "checksum");
    b.expect_stderr("message 3: CRC-32");
    b.expect_stderr("7 announced (checksum)");
    assert_eq!(b.roundtrip(br#"{"after":true}"#), br#"{"after":true}"#);
    let (status, stderr) = b.close();
    assert!(
        status.success(),
        "{label}: exit {status}; stderr:\n{stderr}"
    );
}

#[test]
fn chunked_hosts_in_c_cpp_and_go_take_and_send_messages_of_any_size() {
    for (label, exe) in &built().chunked {
        session(label, exe);
    }
}

/// Both sides sending large messages at once, the extension refusing the host's echo
/// while its own upload of the same number is in flight: the upload arrives, the host
/// stops, and the port goes on (test-support's `chunked::collision`).
#[test]
fn chunked_hosts_in_c_cpp_go_node_and_python_lose_nothing_when_both_sides_send_at_once() {
    // The Node host is js/nmframe-host's example, whose envelope is js/nmframe-port's:
    // here it meets core's Parts and Reassembler, another implementation.
    let node = ("node", built().node_chunked.clone());
    let python = ("python", built().python_chunked.clone());
    for (label, exe) in built().chunked.iter().chain([&node, &python]) {
        let mut cmd = std::process::Command::new(exe);
        cmd.arg(super::ORIGIN);
        let mut host = HostProcess::start(cmd);
        nmframe_test_support::chunked::collision(&mut host);
        let (status, stderr) = host.close();
        assert!(
            status.success(),
            "{label}: exit {status}; stderr:\n{stderr}"
        );
    }
}
