//! Chunked-envelope scenarios that every binding's chunked echo host must pass, with the
//! test as the extension (core's `Parts` to send, its `Reassembler` to receive, as
//! `js/nmframe-port` does).

use std::time::Instant;

use bytes::BytesMut;
use nmframe::chunked::{Accepted, ChunkOptions, Parts, Reassembler, TransferCode};

use crate::process::HostProcess;

const MIB: usize = 1 << 20;

/// `{"op":"echo","id":ID,"pad":"..."}` of exactly `len` bytes: the chunked example hosts
/// answer `echo` with the request itself, and the echo hosts echo everything.
pub fn echo_request(id: u32, len: usize) -> Vec<u8> {
    let mut text = format!(r#"{{"op":"echo","id":{id},"pad":""#).into_bytes();
    let pad = len - text.len() - 2;
    text.extend((0..pad).map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]));
    text.extend_from_slice(b"\"}");
    assert_eq!(text.len(), len);
    text
}

/// Hands `send` the frames of `text` in parts of at most `max_frame` bytes as message
/// `id`, without asking for acknowledgements (an extension may do without); returns how
/// many frames that took.
pub fn send_in_parts(mut send: impl FnMut(&[u8]), id: u32, text: &[u8], max_frame: usize) -> usize {
    let mut parts = Parts::new(id, text, max_frame, 0);
    let mut frame = Vec::new();
    let mut n = 0;
    while parts.next_frame(&mut frame) {
        send(&frame);
        n += 1;
    }
    n
}

/// Hands `frame` to the extension's receiver and writes back what it answers.
fn take(host: &mut HostProcess, rx: &mut Reassembler, frame: Vec<u8>) -> Accepted {
    let accepted = rx.accept(BytesMut::from(&frame[..]), Instant::now());
    for answer in std::mem::take(rx.outbox()) {
        host.send(&answer);
    }
    accepted
}

/// Both sides send large messages at once, and the extension refuses the host's while
/// its own upload, numbered the same, is in flight (version 1 lost the upload and wedged
/// the port here).
///
/// The extension sends a 20 MiB message that the host echoes in parts (the host's
/// message 0), starts a 2 MiB upload as its own message 0, refuses the host's echo when
/// it passes the 10 MiB its receiver takes (a `refuse` of message 0, as js/nmframe-port
/// with `maxBytes` does), then sends the rest of the upload. The upload must come back
/// whole, the host must stop sending the refused echo, and the port must go on.
pub fn collision(host: &mut HostProcess) {
    let big = echo_request(1, 20 * MIB);
    send_in_parts(|f| host.send(f), 5, &big, MIB);
    // The upload's first part: small parts, so that the test never blocks on a full pipe
    // while the host writes.
    let upload = echo_request(2, 2 * MIB + 17);
    let mut parts = Parts::new(0, &upload, 64 * 1024, 0);
    let mut frame = Vec::new();
    assert!(parts.next_frame(&mut frame));
    host.send(&frame);
    let mut rx = Reassembler::new(ChunkOptions {
        max_bytes: 10 * MIB,
        ..ChunkOptions::default()
    });
    let mut frames = 0;
    loop {
        let frame = host.recv();
        frames += 1;
        match take(host, &mut rx, frame) {
            Accepted::Pending => {}
            Accepted::Failed(err) if err.code() == TransferCode::TooLarge => {
                assert_eq!(err.id(), Some(0), "{err}");
                break;
            }
            other => panic!(
                "{other:?} after {frames} frames; stderr:\n{}",
                host.stderr()
            ),
        }
    }
    while parts.next_frame(&mut frame) {
        host.send(&frame);
    }
    // The refused echo's parts already in flight are dropped quietly by the receiver;
    // then the upload's echo (the host's message 1) arrives whole.
    let mut after = 0;
    let echo = loop {
        let frame = host.recv();
        after += 1;
        match take(host, &mut rx, frame) {
            Accepted::Pending => {}
            Accepted::Message(m) => break m,
            other => panic!("{other:?}; stderr:\n{}", host.stderr()),
        }
    };
    assert!(
        echo[..] == upload[..],
        "the upload came back as {} bytes of {}",
        echo.len(),
        upload.len()
    );
    // The host stopped at the refusal: at most a window (8) of parts of the refused
    // message came after it, and the upload's echo (3 parts and an end).
    assert!(after <= 8 + 4, "{after} frames after the refusal");
    host.send(br#"{"op":"echo","id":3}"#);
    assert_eq!(host.recv(), br#"{"op":"echo","id":3}"#);
    // And it said why its echo did not go.
    host.expect_stderr("refused message 0 (too-large)");
}
