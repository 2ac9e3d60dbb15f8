//! The chunked endpoint's bounds against an extension that sends much and answers
//! little, in process over real pipes (blocking) and Tokio's in-memory pipes (async):
//! a send that gets no acknowledgement is given up at its timeout, what arrives while a
//! send waits is bounded and then delivered in order, and a transfer that stalls times
//! out while the extension is silent.

use std::io::{PipeReader, PipeWriter};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nmframe::chunked::{ChunkOptions, Chunked, Incoming, TransferCode};
use nmframe::{Error, FrameReader, FrameWriter, Limits};

const MIB: usize = 1 << 20;

type Host = Chunked<PipeReader, FrameWriter<PipeWriter>>;

/// A host endpoint, the extension's writer to it, and the frames the host writes
/// (collected on a thread, so that the host never blocks on a full pipe).
fn connect(options: ChunkOptions) -> (Host, FrameWriter<PipeWriter>, mpsc::Receiver<Vec<u8>>) {
    let (host_in, ext_out) = std::io::pipe().unwrap();
    let (ext_in, host_out) = std::io::pipe().unwrap();
    let host = Chunked::new(
        FrameReader::new(host_in, Limits::host()),
        FrameWriter::new(host_out, Limits::host()),
        options,
    );
    let (tx, frames) = mpsc::channel();
    std::thread::spawn(move || {
        for frame in FrameReader::new(ext_in, Limits::browser()) {
            let Ok(frame) = frame else { break };
            if tx.send(frame.to_vec()).is_err() {
                break;
            }
        }
    });
    (host, FrameWriter::new(ext_out, Limits::browser()), frames)
}

/// A valid JSON text of exactly `len` bytes, numbered `n`.
fn message(n: usize, len: usize) -> Vec<u8> {
    let mut text = format!(r#"{{"n":{n},"pad":""#).into_bytes();
    text.resize(len - 2, b'p');
    text.extend_from_slice(b"\"}");
    text
}

fn transfer_code(result: Result<(), Error>) -> (TransferCode, String) {
    match result {
        Err(Error::Transfer(err)) => (err.code(), err.to_string()),
        other => panic!("{other:?}"),
    }
}

fn last_envelope(frames: &mpsc::Receiver<Vec<u8>>) -> serde_json::Value {
    let mut last = None;
    while let Ok(frame) = frames.recv_timeout(Duration::from_millis(300)) {
        last = Some(frame);
    }
    serde_json::from_slice(&last.expect("a frame")).unwrap()
}

#[test]
fn a_send_without_acknowledgement_is_given_up_at_its_timeout() {
    let (mut host, mut ext, frames) = connect(ChunkOptions {
        ack_timeout: Duration::from_millis(300),
        window: 2,
        ..ChunkOptions::default()
    });
    let start = Instant::now();
    let (code, text) = transfer_code(host.send_json(&message(0, 3 * MIB)));
    let waited = start.elapsed();
    assert_eq!(code, TransferCode::Timeout);
    assert!(
        text.starts_with("message 0: no acknowledgement for 3"),
        "{text}"
    );
    assert!(text.contains("after 2 parts"), "{text}");
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(5),
        "given up after {waited:?}"
    );
    // The extension is told, and the port goes on.
    let abort = last_envelope(&frames);
    assert_eq!(abort["t"], "abort");
    assert_eq!(abort["id"], 0);
    ext.send(br#"{"after":1}"#).unwrap();
    let Some(Incoming::Message(m)) = host.recv().unwrap() else {
        panic!("the message after")
    };
    assert_eq!(&m[..], br#"{"after":1}"#);
}

#[test]
fn what_arrives_while_a_send_waits_is_bounded_then_delivered_in_order() {
    let (mut host, mut ext, _frames) = connect(ChunkOptions {
        max_buffered: 4 * MIB,
        window: 1,
        ..ChunkOptions::default()
    });
    // An extension that sends 1 MiB messages and never acknowledges.
    let writer: JoinHandle<FrameWriter<PipeWriter>> = std::thread::spawn(move || {
        for n in 0..8 {
            ext.send(&message(n, MIB - 64)).unwrap();
        }
        ext
    });
    let (code, text) = transfer_code(host.send_json(&message(99, 3 * MIB)));
    assert_eq!(code, TransferCode::Capacity);
    assert!(text.contains("past the limit of 4194304"), "{text}");
    assert!(text.contains("what arrived is delivered"), "{text}");
    // Nothing the extension sent is lost: all eight, in order (those kept first, then
    // the rest from the pipe).
    for n in 0..8 {
        let Some(Incoming::Message(m)) = host.recv().unwrap() else {
            panic!("message {n}")
        };
        let v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        assert_eq!(v["n"], n);
    }
    drop(writer.join().unwrap());
    assert!(host.recv().unwrap().is_none());
}

#[test]
fn a_stalled_transfer_times_out_while_the_extension_is_silent() {
    let (mut host, mut ext, frames) = connect(ChunkOptions {
        timeout: Duration::from_millis(200),
        ..ChunkOptions::default()
    });
    ext.send(br#"{"$nmframe":2,"t":"part","id":4,"seq":0,"data":"[1,"}"#)
        .unwrap();
    // No further frame: the timeout must fire on its own.
    let start = Instant::now();
    let Some(Incoming::Failed(err)) = host.recv().unwrap() else {
        panic!("a failed transfer")
    };
    assert_eq!(err.code(), TransferCode::Timeout);
    assert_eq!(err.id(), Some(4));
    assert!(start.elapsed() < Duration::from_secs(5));
    let refuse = last_envelope(&frames);
    assert_eq!(refuse["t"], "refuse");
    assert_eq!(refuse["code"], "timeout");
    drop(ext);
    assert!(host.recv().unwrap().is_none());
}

/// The same bounds on Tokio, over in-memory pipes.
#[cfg(feature = "tokio")]
mod on_tokio {
    use super::*;
    use nmframe::tokio::{Chunked, FrameSink, FrameStream};
    use tokio::io::DuplexStream;

    type Host = Chunked<tokio::io::ReadHalf<DuplexStream>, tokio::io::WriteHalf<DuplexStream>>;

    /// The host over one end of a duplex pipe; the extension gets the other.
    fn connect(options: ChunkOptions) -> (Host, DuplexStream) {
        let (host_end, ext_end) = tokio::io::duplex(4 * MIB);
        let (r, w) = tokio::io::split(host_end);
        let host = Chunked::new(
            FrameStream::new(r, Limits::host()),
            FrameSink::new(w, Limits::host()),
            options,
        );
        (host, ext_end)
    }

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut out = (payload.len() as u32).to_ne_bytes().to_vec();
        out.extend_from_slice(payload);
        out
    }

    #[tokio::test]
    async fn a_send_without_acknowledgement_is_given_up_at_its_timeout() {
        use tokio::io::AsyncReadExt;
        let (mut host, mut ext) = connect(ChunkOptions {
            ack_timeout: Duration::from_millis(300),
            window: 2,
            ..ChunkOptions::default()
        });
        // The extension reads (so that the pipe never fills) and never acknowledges.
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            let _ = ext.read_to_end(&mut all).await;
            all
        });
        let start = Instant::now();
        let (code, _) = transfer_code(host.send_json(&message(0, 3 * MIB)).await);
        assert_eq!(code, TransferCode::Timeout);
        assert!(start.elapsed() >= Duration::from_millis(300));
        drop(host);
        let all = reader.await.unwrap();
        let text = String::from_utf8_lossy(&all);
        assert!(text.contains(r#""t":"abort","id":0"#), "no abort sent");
    }

    #[tokio::test]
    async fn what_arrives_while_a_send_waits_is_bounded_then_delivered_in_order() {
        use tokio::io::AsyncWriteExt;
        let (mut host, ext) = connect(ChunkOptions {
            max_buffered: 4 * MIB,
            window: 1,
            ..ChunkOptions::default()
        });
        let (mut ext_r, mut ext_w) = tokio::io::split(ext);
        tokio::spawn(async move {
            let mut sink = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut ext_r, &mut sink).await;
        });
        let writer = tokio::spawn(async move {
            for n in 0..8 {
                ext_w
                    .write_all(&frame(&message(n, MIB - 64)))
                    .await
                    .unwrap();
            }
            ext_w
        });
        let (code, _) = transfer_code(host.send_json(&message(99, 3 * MIB)).await);
        assert_eq!(code, TransferCode::Capacity);
        for n in 0..8 {
            let Some(Incoming::Message(m)) = host.recv().await.unwrap() else {
                panic!("message {n}")
            };
            let v: serde_json::Value = serde_json::from_slice(&m).unwrap();
            assert_eq!(v["n"], n);
        }
        drop(writer.await.unwrap());
    }

    #[tokio::test]
    async fn a_stalled_transfer_times_out_while_the_extension_is_silent() {
        use tokio::io::AsyncWriteExt;
        let (mut host, mut ext) = connect(ChunkOptions {
            timeout: Duration::from_millis(200),
            ..ChunkOptions::default()
        });
        ext.write_all(&frame(
            br#"{"$nmframe":2,"t":"part","id":4,"seq":0,"data":"[1,"}"#,
        ))
        .await
        .unwrap();
        let Some(Incoming::Failed(err)) = host.recv().await.unwrap() else {
            panic!("a failed transfer")
        };
        assert_eq!(err.code(), TransferCode::Timeout);
        drop(ext);
    }
}
