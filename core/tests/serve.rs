//! `Server`: what each kind of error does to the loop, through in-memory streams and a
//! writer that counts its writes.

use std::io::{self, Write};

use nmframe::{Error, FrameWriter, Limits, MAX_HOST_TO_BROWSER, Server, SliceFrames, encode_frame};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Request<'a> {
    id: u64,
    text: &'a str,
}

#[derive(Serialize)]
struct Reply<'a> {
    id: u64,
    text: &'a str,
}

/// The browser's side of a stream: each message framed.
fn wire(messages: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for msg in messages {
        encode_frame(&mut out, msg, Limits::browser().outbound()).unwrap();
    }
    out
}

fn replies(output: &[u8]) -> Vec<String> {
    SliceFrames::new(output, Limits::browser().inbound())
        .map(|f| String::from_utf8(f.unwrap().to_vec()).unwrap())
        .collect()
}

/// Echoes `text` back under `id`; `"boom"` is an application error, `"big"` a reply
/// over 1 MiB.
fn handler(
    msg: nmframe::Message<'_>,
    out: &mut FrameWriter<impl Write>,
) -> Result<(), nmframe::BoxError> {
    let req: Request<'_> = msg.json()?;
    match req.text {
        "boom" => Err(format!("request {} asked for boom", req.id).into()),
        "big" => {
            let big = "x".repeat(MAX_HOST_TO_BROWSER as usize);
            Ok(out.queue_json(&Reply {
                id: req.id,
                text: &big,
            })?)
        }
        text => Ok(out.queue_json(&Reply { id: req.id, text })?),
    }
}

#[test]
fn every_message_that_leaves_the_stream_usable_is_reported_and_the_loop_goes_on() {
    let input = wire(&[
        br#"{"id":1,"text":"a"}"#,
        b"{not json",
        br#"{"op":"wrong shape"}"#,
        br#"{"id":4,"text":"boom"}"#,
        br#"{"id":5,"text":"big"}"#,
        b"\xff\xfe",
        br#"{"id":7,"text":"last"}"#,
    ]);
    let mut output = Vec::new();
    let mut skipped = Vec::new();
    Server::new(&input[..], &mut output, Limits::host())
        .on_error(|bad, _| {
            skipped.push((bad.number, bad.len, bad.error.to_string()));
            Ok(())
        })
        .run(handler)
        .unwrap();
    assert_eq!(
        replies(&output),
        [r#"{"id":1,"text":"a"}"#, r#"{"id":7,"text":"last"}"#]
    );
    let numbers: Vec<_> = skipped.iter().map(|s| (s.0, s.1)).collect();
    assert_eq!(numbers, [(2, 9), (3, 20), (4, 22), (5, 21), (6, 2)]);
    assert!(
        skipped[0].2.starts_with("payload is not valid JSON"),
        "{skipped:?}"
    );
    assert_eq!(
        skipped[1].2,
        "payload is valid JSON of the wrong shape: missing field `id`"
    );
    assert_eq!(skipped[2].2, "request 4 asked for boom");
    assert!(
        skipped[3].2.contains("1048594") && skipped[3].2.contains("1048576"),
        "the refusal names the size and the limit: {}",
        skipped[3].2
    );
    assert!(skipped[4].2.contains("UTF-8"), "{skipped:?}");
}

#[test]
fn on_error_can_answer_the_bad_message() {
    let input = wire(&[b"[1,", br#"{"id":2,"text":"b"}"#]);
    let mut output = Vec::new();
    Server::new(&input[..], &mut output, Limits::host())
        .on_error(|bad, out| {
            out.queue_json(
                &serde_json::json!({ "error": bad.error.to_string(), "message": bad.number }),
            )
        })
        .run(handler)
        .unwrap();
    let got = replies(&output);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].starts_with(r#"{"error":"payload is not valid JSON"#),
        "{got:?}"
    );
    assert!(got[0].ends_with(r#""message":1}"#), "{got:?}");
    assert_eq!(got[1], r#"{"id":2,"text":"b"}"#);
}

#[test]
fn a_stream_cut_inside_a_frame_ends_the_loop_with_its_numbers_after_every_earlier_reply() {
    let mut input = wire(&[br#"{"id":1,"text":"a"}"#, br#"{"id":2,"text":"b"}"#]);
    let cut_at = input.len() as u64;
    input.extend_from_slice(&100u32.to_ne_bytes());
    input.extend_from_slice(b"{\"id\":3");
    let mut output = Vec::new();
    let err = Server::new(&input[..], &mut output, Limits::host())
        .run(handler)
        .unwrap_err();
    match err {
        Error::TruncatedPayload {
            offset,
            expected,
            received,
            ..
        } => assert_eq!((offset, expected, received), (cut_at, 100, 7)),
        other => panic!("expected TruncatedPayload, got {other:?}"),
    }
    assert_eq!(
        replies(&output),
        [r#"{"id":1,"text":"a"}"#, r#"{"id":2,"text":"b"}"#]
    );
}

#[test]
fn a_header_over_the_cap_ends_the_loop() {
    let mut input = wire(&[br#"{"id":1,"text":"a"}"#]);
    input.extend_from_slice(&((64u32 << 20) + 1).to_ne_bytes());
    let mut output = Vec::new();
    let limits = Limits::host().with_max_inbound(nmframe::CHROMIUM_MAX_BROWSER_TO_HOST);
    let err = Server::new(&input[..], &mut output, limits)
        .run(handler)
        .unwrap_err();
    assert!(
        matches!(err, Error::FrameTooLarge { offset: 23, len, .. } if len == (64 << 20) + 1),
        "{err:?}"
    );
    assert_eq!(replies(&output), [r#"{"id":1,"text":"a"}"#]);
}

#[test]
fn a_fatal_error_from_the_handler_ends_the_loop() {
    let input = wire(&[br#"{"id":1,"text":"a"}"#, br#"{"id":2,"text":"b"}"#]);
    let mut calls = 0;
    let err = Server::new(&input[..], Vec::new(), Limits::host())
        .run(|_, _| {
            calls += 1;
            Err(Error::WriterBroken {
                written: 3,
                len: 10,
            }
            .into())
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::WriterBroken {
                written: 3,
                len: 10
            }
        ),
        "{err:?}"
    );
    assert_eq!(calls, 1);
}

/// A writer whose reader has gone: every write is `EPIPE`.
struct Gone;

impl Write for Gone {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_browser_going_away_is_a_clean_end() {
    let input = wire(&[br#"{"id":1,"text":"a"}"#, br#"{"id":2,"text":"b"}"#]);
    // Queued replies fail at the flush, sent ones in the handler: both end cleanly.
    Server::new(&input[..], Gone, Limits::host())
        .run(handler)
        .unwrap();
    let mut calls = 0;
    Server::new(&input[..], Gone, Limits::host())
        .run(|msg, out| {
            calls += 1;
            Ok(out.send(msg.bytes())?)
        })
        .unwrap();
    assert_eq!(calls, 1, "the loop stops at the first disconnect");
}

/// Counts the writes that reach it.
#[derive(Default)]
struct Counting {
    bytes: Vec<u8>,
    writes: usize,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes += 1;
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.writes += 1;
        let mut n = 0;
        for buf in bufs {
            self.bytes.extend_from_slice(buf);
            n += buf.len();
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn queued_replies_to_a_burst_leave_in_one_write() {
    let messages: Vec<String> = (0..200)
        .map(|i| format!(r#"{{"id":{i},"text":"m{i}"}}"#))
        .collect();
    let refs: Vec<&[u8]> = messages.iter().map(|m| m.as_bytes()).collect();
    let input = wire(&refs);
    let mut output = Counting::default();
    Server::new(&input[..], &mut output, Limits::host())
        .run(handler)
        .unwrap();
    assert_eq!(replies(&output.bytes), messages);
    // The whole input is one buffer's worth, so every frame is waiting when the first
    // is handled: one flush at the end of the burst.
    assert_eq!(output.writes, 1);
}

#[test]
fn replies_queued_when_the_stream_ends_are_written() {
    let input = wire(&[br#"{"id":1,"text":"a"}"#]);
    let mut output = Vec::new();
    Server::new(&input[..], &mut output, Limits::host())
        .run(|msg, out| {
            let req: Request<'_> = msg.json()?;
            out.queue_json(&Reply {
                id: req.id,
                text: req.text,
            })?;
            out.queue_json(&Reply {
                id: req.id,
                text: "again",
            })?;
            Ok(())
        })
        .unwrap();
    assert_eq!(
        replies(&output),
        [r#"{"id":1,"text":"a"}"#, r#"{"id":1,"text":"again"}"#]
    );
}
