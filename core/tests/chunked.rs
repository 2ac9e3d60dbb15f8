//! `nmframe::chunked` through real pipes: the chunked example host, driven by a test that
//! plays the extension with the crate's own `Reassembler` (whose acknowledgements it
//! holds back or lets through).

use std::process::Command;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use nmframe::chunked::{Accepted, ChunkOptions, Reassembler, TransferCode, is_envelope};
use nmframe_test_support::process::HostProcess;
use nmframe_test_support::{chunked, example};

const MIB: usize = 1 << 20;

/// The blocking host and the async one: the same requests, the same behaviour.
const HOSTS: [(&str, &[&str]); 2] = [("chunked_host", &[]), ("tokio_chunked_host", &["tokio"])];

fn start((name, features): (&str, &[&str])) -> HostProcess {
    let mut cmd = Command::new(example("nmframe", name, features));
    cmd.arg("chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/");
    HostProcess::start(cmd)
}

fn close(host: HostProcess) -> String {
    let (status, stderr) = host.close();
    assert!(status.success(), "exit {status}: {stderr}");
    stderr
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
        host.send(format!(r#"{{"op":"make","id":1,"bytes":{bytes}}}"#).as_bytes());
        // No acknowledgement yet: eight parts, then the host waits.
        let first: Vec<BytesMut> = host
            .drain(Duration::from_millis(500))
            .iter()
            .map(|f| BytesMut::from(&f[..]))
            .collect();
        assert_eq!(first.len(), 8, "parts before the first acknowledgement");
        assert!(first.iter().all(|f| is_envelope(f) && f.len() <= MIB));
        // A request sent meanwhile is kept for later, not lost.
        host.send(br#"{"op":"size","id":2}"#);
        // Acknowledging part 3 lets four more through (the window is counted from the ack).
        host.send(br#"{"$nmframe":2,"t":"ack","id":0,"seq":3}"#);
        let more: Vec<BytesMut> = host
            .drain(Duration::from_millis(500))
            .iter()
            .map(|f| BytesMut::from(&f[..]))
            .collect();
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
                        host.send(&ack);
                    }
                    BytesMut::from(&host.recv()[..])
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
        close(host);
    }
}

/// The extension refuses a transfer partway: the host stops sending it, says why on
/// stderr, and answers the next request.
#[test]
fn a_refused_transfer_stops_and_the_host_goes_on() {
    for h in HOSTS {
        let mut host = start(h);
        host.send(br#"{"op":"make","id":1,"bytes":30000000}"#);
        let first = host.drain(Duration::from_millis(500));
        assert_eq!(first.len(), 8);
        host.send(
            br#"{"$nmframe":2,"t":"refuse","id":0,"code":"aborted","reason":"the user cancelled"}"#,
        );
        host.send(br#"{"op":"size","id":2}"#);
        let next = host.recv();
        assert!(!is_envelope(&next), "no more parts after the refusal");
        let v: serde_json::Value = serde_json::from_slice(&next).unwrap();
        assert_eq!(v["id"], 2);
        let stderr = close(host);
        assert!(
            stderr.contains(
                "reply not sent: the extension refused message 0 (aborted): the user cancelled (refused)"
            ),
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
        let send = |host: &mut HostProcess, frame: &str| host.send(frame.as_bytes());
        // The request {"op":"size","id":N} in two parts, as message `id`.
        let part = |id: u32, seq: u32, n: u32| match seq {
            0 => {
                format!(
                    r#"{{"$nmframe":2,"t":"part","id":{id},"seq":0,"data":"{{\"op\":\"size\","}}"#
                )
            }
            _ => format!(
                r#"{{"$nmframe":2,"t":"part","id":{id},"seq":{seq},"data":"\"id\":{n}}}"}}"#
            ),
        };
        send(&mut host, &part(5, 0, 3));
        send(&mut host, &part(5, 2, 3));
        // The sender is told to stop first, then the host reports the failure its own way.
        let refuse: serde_json::Value = serde_json::from_slice(&host.recv()).unwrap();
        assert_eq!(refuse["t"], "refuse");
        assert_eq!(refuse["id"], 5);
        assert_eq!(refuse["code"], "out-of-order");
        assert_eq!(
            refuse["reason"],
            "part 2 of message 5 arrived where part 1 was due"
        );
        let failed: serde_json::Value = serde_json::from_slice(&host.recv()).unwrap();
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
                r#"{{"$nmframe":2,"t":"end","id":6,"seq":2,"bytes":{},"crc32":{crc}}}"#,
                text.len()
            ),
        );
        let sized: serde_json::Value = loop {
            let v: serde_json::Value = serde_json::from_slice(&host.recv()).unwrap();
            if v["id"] == 4 {
                break v;
            }
        };
        assert_eq!(sized["bytes"], text.len());
        assert_eq!(sized["crc32"], crc);
        close(host);
    }
}

/// Both sides sending large messages at once, with the extension refusing the host's
/// while its own upload of the same number is in flight: nothing lost, nothing wedged.
#[test]
fn a_refusal_while_both_sides_send_loses_nothing() {
    for h in HOSTS {
        let mut host = start(h);
        chunked::collision(&mut host);
        close(host);
    }
}
