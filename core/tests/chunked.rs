//! `nmframe::chunked` through real pipes: the chunked example host, driven by a test that
//! plays the extension with the crate's own `Reassembler` (whose acknowledgements it
//! holds back or lets through).

use std::io::Read;
use std::process::{Child, ChildStdin, ChildStdout};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use nmframe::chunked::{Accepted, ChunkOptions, Reassembler, TransferCode, is_envelope};
use nmframe::{FrameReader, FrameWriter, Limits};
use nmframe_test_support::start_example;

const MIB: usize = 1 << 20;

struct Host {
    child: Child,
    to: FrameWriter<ChildStdin>,
    frames: Receiver<BytesMut>,
}

/// The blocking host and the async one: the same requests, the same behaviour.
const HOSTS: [(&str, &[&str]); 2] = [("chunked_host", &[]), ("tokio_chunked_host", &["tokio"])];

fn start((name, features): (&str, &[&str])) -> Host {
    let mut child = start_example("nmframe", name, features);
    let to = FrameWriter::new(child.stdin.take().unwrap(), Limits::browser());
    let from: ChildStdout = child.stdout.take().unwrap();
    // Frames arrive on a thread, so that the test can tell a host that waits from one
    // that is slow.
    let (tx, frames) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = FrameReader::new(from, Limits::browser());
        while let Ok(Some(frame)) = reader.read_frame() {
            if tx.send(frame).is_err() {
                break;
            }
        }
    });
    Host { child, to, frames }
}

impl Host {
    fn next(&self) -> BytesMut {
        self.frames
            .recv_timeout(Duration::from_secs(20))
            .expect("a frame from the host")
    }

    /// Frames that arrive within `quiet` of each other.
    fn drain(&self, quiet: Duration) -> Vec<BytesMut> {
        std::iter::from_fn(|| self.frames.recv_timeout(quiet).ok()).collect()
    }

    fn close(mut self) -> String {
        drop(self.to);
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(status.success(), "exit {status}: {stderr}");
        stderr
    }
}

fn seq_of(frame: &[u8]) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(frame).unwrap();
    v["seq"].as_u64().unwrap()
}

/// The host keeps at most its window (8) of parts unacknowledged, keeps the messages that
/// arrive while it waits, and the reply reassembles byte for byte once the test acks.
#[test]
fn a_large_reply_waits_for_acknowledgements_and_arrives_whole() {
    for h in HOSTS {
        let mut host = start(h);
        let bytes = 20 * MIB + 3;
        host.to
            .send(format!(r#"{{"op":"make","id":1,"bytes":{bytes}}}"#).as_bytes())
            .unwrap();
        // No acknowledgement yet: eight parts, then the host waits.
        let first = host.drain(Duration::from_millis(500));
        assert_eq!(first.len(), 8, "parts before the first acknowledgement");
        assert!(first.iter().all(|f| is_envelope(f) && f.len() <= MIB));
        // A request sent meanwhile is kept for later, not lost.
        host.to.send(br#"{"op":"size","id":2}"#).unwrap();
        // Acknowledging part 3 lets four more through (the window is counted from the ack).
        host.to
            .send(br#"{"$nmframe":1,"t":"ack","id":0,"seq":3}"#)
            .unwrap();
        let more = host.drain(Duration::from_millis(500));
        assert_eq!(more.len(), 4, "parts after acknowledging part 3");
        assert_eq!(seq_of(&more[3]), 11);
        // From here the crate's own receiver takes the parts and acknowledges them.
        let mut rx = Reassembler::new(ChunkOptions::default());
        let now = Instant::now();
        let mut parts = first.into_iter().chain(more);
        // The window comes with part 0, so it has to go through the receiver first.
        let mut reply = None;
        let mut small = None;
        let mut pending_acks: Vec<Vec<u8>> = Vec::new();
        loop {
            let frame = match parts.next() {
                Some(frame) => frame,
                None => {
                    for ack in pending_acks.drain(..) {
                        host.to.send(&ack).unwrap();
                    }
                    host.next()
                }
            };
            match rx.accept(frame, now) {
                Accepted::Pending => pending_acks.append(rx.outbox()),
                Accepted::Message(m) if is_envelope(&m) => panic!("an envelope delivered"),
                Accepted::Message(m) if m.len() == bytes => reply = Some(m),
                Accepted::Message(m) => small = Some(m),
                other => panic!("{other:?}"),
            }
            if reply.is_some() && small.is_some() {
                break;
            }
        }
        let reply = reply.unwrap();
        let head = br#"{"id":1,"data":""#;
        assert_eq!(&reply[..head.len()], head);
        assert!(reply.ends_with(b"\"}"));
        let small: serde_json::Value = serde_json::from_slice(&small.unwrap()).unwrap();
        assert_eq!(
            small["id"], 2,
            "the request that waited is answered after the reply"
        );
        host.close();
    }
}

/// The extension refuses a transfer partway: the host stops sending it, says why on
/// stderr, and answers the next request.
#[test]
fn a_refused_transfer_stops_and_the_host_goes_on() {
    for h in HOSTS {
        let mut host = start(h);
        host.to
            .send(br#"{"op":"make","id":1,"bytes":30000000}"#)
            .unwrap();
        let first = host.drain(Duration::from_millis(500));
        assert_eq!(first.len(), 8);
        host.to
            .send(br#"{"$nmframe":1,"t":"abort","id":0,"reason":"the user cancelled"}"#)
            .unwrap();
        host.to.send(br#"{"op":"size","id":2}"#).unwrap();
        let next = host.next();
        assert!(!is_envelope(&next), "no more parts after the abort");
        let v: serde_json::Value = serde_json::from_slice(&next).unwrap();
        assert_eq!(v["id"], 2);
        let stderr = host.close();
        assert!(
            stderr.contains("reply not sent: the extension refused message 0: the user cancelled"),
            "{stderr}"
        );
    }
}

/// A transfer from the extension that goes wrong is reported to it, with the numbers,
/// and the host goes on; a good one in parts arrives whole.
#[test]
fn the_host_reports_a_bad_transfer_and_reassembles_a_good_one() {
    for h in HOSTS {
        let mut host = start(h);
        let send = |host: &mut Host, frame: &str| host.to.send(frame.as_bytes()).unwrap();
        // The request {"op":"size","id":N} in two parts, as message `id`.
        let part = |id: u32, seq: u32, n: u32| match seq {
            0 => {
                format!(
                    r#"{{"$nmframe":1,"t":"part","id":{id},"seq":0,"data":"{{\"op\":\"size\","}}"#
                )
            }
            _ => format!(
                r#"{{"$nmframe":1,"t":"part","id":{id},"seq":{seq},"data":"\"id\":{n}}}"}}"#
            ),
        };
        send(&mut host, &part(5, 0, 3));
        send(&mut host, &part(5, 2, 3));
        // The sender is told to stop first, then the host reports the failure its own way.
        let abort: serde_json::Value = serde_json::from_slice(&host.next()).unwrap();
        assert_eq!(abort["t"], "abort");
        assert_eq!(abort["id"], 5);
        assert_eq!(
            abort["reason"],
            "part 2 of message 5 arrived where part 1 was due"
        );
        let failed: serde_json::Value = serde_json::from_slice(&host.next()).unwrap();
        assert_eq!(failed["transfer_error"], TransferCode::OutOfOrder.as_str());
        assert_eq!(
            failed["message"],
            "part 2 of message 5 arrived where part 1 was due (out-of-order)"
        );
        let text = r#"{"op":"size","id":4}"#;
        let crc = crc32fast::hash(text.as_bytes());
        send(&mut host, &part(6, 0, 4));
        send(&mut host, &part(6, 1, 4));
        send(
            &mut host,
            &format!(
                r#"{{"$nmframe":1,"t":"end","id":6,"seq":2,"bytes":{},"crc32":{crc}}}"#,
                text.len()
            ),
        );
        let sized: serde_json::Value = loop {
            let v: serde_json::Value = serde_json::from_slice(&host.next()).unwrap();
            if v["id"] == 4 {
                break v;
            }
        };
        assert_eq!(sized["bytes"], text.len());
        assert_eq!(sized["crc32"], crc);
        host.close();
    }
}
