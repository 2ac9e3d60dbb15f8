//! The soak: minutes of mixed traffic through each echo host (valid messages of every
//! size up to exactly 1 MiB, invalid JSON, invalid UTF-8, messages too large to echo),
//! every reply checked, the host's resident memory and open descriptors sampled every
//! second. A host that leaks, loses a frame or stalls shows here.
//!
//!     cargo bench -p nmframe-benches --bench soak                   # 1 minute per host
//!     cargo bench -p nmframe-benches --bench soak -- --seconds 600  # 10 minutes per host
//!
//! Prints a markdown table for BENCHMARKS.md.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use nmframe::{FrameWriter, Limits, MAX_HOST_TO_BROWSER};
use nmframe_benches::hosts::{Host, build_hosts, connect, open_fds, rss_kib};
use nmframe_test_support::echo::fnv1a32;

/// What the host must answer to a message.
enum Expect {
    /// The same bytes.
    Echo(Arc<Vec<u8>>),
    /// An error object naming the size and checksum of what it refused.
    Refusal { size: usize, fnv1a32: u32 },
}

/// A JSON string of exactly `len` bytes whose contents depend on `seed`.
fn json_string(len: usize, seed: usize) -> Vec<u8> {
    let mut s: Vec<u8> = (0..len).map(|i| b'a' + ((i + seed) % 26) as u8).collect();
    s[0] = b'"';
    s[len - 1] = b'"';
    s
}

/// The traffic, one message kind after another, in a fixed cycle: mostly valid
/// messages, with the kinds a host must refuse and survive mixed in.
fn message(n: usize) -> (Vec<u8>, bool) {
    match n % 20 {
        // Valid, small to large.
        0..=9 => (json_string(64 + (n * 37) % 4096, n), true),
        10..=12 => (json_string(64 * 1024 + n % 100, n), true),
        13 => (json_string(MAX_HOST_TO_BROWSER as usize, n), true),
        // Invalid JSON: an object cut short.
        14 | 15 => {
            let mut m = b"{\"cut\":".to_vec();
            m.extend_from_slice(&json_string(100 + n % 5000, n));
            m.push(b',');
            (m, false)
        }
        // Invalid UTF-8 inside a string.
        16 => {
            let mut m = json_string(500, n);
            m[250] = 0xff;
            (m, false)
        }
        // Too large to echo (over 1 MiB).
        17 => (
            json_string(MAX_HOST_TO_BROWSER as usize + 1 + n % 4096, n),
            false,
        ),
        // Valid, with nesting and escapes.
        _ => (
            format!("{{\"n\":{n},\"deep\":[[[{{\"a\":\"q\\\"\\\\\"}}]]],\"x\":null}}").into_bytes(),
            true,
        ),
    }
}

struct Report {
    messages: u64,
    refused: u64,
    mismatches: u64,
    bytes: u64,
    seconds: f64,
    rss_early: u64,
    rss_end: u64,
    rss_max: u64,
    fds_start: usize,
    fds_end: usize,
    fds_max: usize,
    exit: String,
}

fn soak(host: &Host, seconds: u64) -> Report {
    let (mut child, stdin, mut replies) = connect(host, true);
    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    // The writer runs at most this many messages ahead of the replies: a browser's
    // port does not queue without limit either.
    const AHEAD: u64 = 32;
    let (expect_tx, expect_rx) = sync_channel::<Expect>(AHEAD as usize * 2);
    let writer = {
        let stop = stop.clone();
        let received = received.clone();
        std::thread::spawn(move || {
            // The browser side writes whatever the test says, checks or not.
            let mut out = FrameWriter::new(stdin, Limits::browser());
            let (mut sent, mut bytes) = (0u64, 0u64);
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                while sent - received.load(Ordering::Acquire) >= AHEAD {
                    std::thread::sleep(Duration::from_micros(50));
                }
                let (msg, echoed) = message(n);
                n += 1;
                let expect = if echoed {
                    Expect::Echo(Arc::new(msg.clone()))
                } else {
                    Expect::Refusal {
                        size: msg.len(),
                        fnv1a32: fnv1a32(&msg),
                    }
                };
                if expect_tx.send(expect).is_err() {
                    break;
                }
                let header = (msg.len() as u32).to_ne_bytes();
                let inner = out.get_mut();
                if inner
                    .write_all(&header)
                    .and_then(|()| inner.write_all(&msg))
                    .is_err()
                {
                    break;
                }
                sent += 1;
                bytes += msg.len() as u64;
            }
            drop(out); // closes the host's stdin
            bytes
        })
    };
    let checker = {
        let received = received.clone();
        std::thread::spawn(move || {
            let (mut refused, mut mismatches) = (0u64, 0u64);
            for expect in expect_rx {
                let Ok(Some(reply)) = replies.read_frame() else {
                    mismatches += 1;
                    break;
                };
                let good = match &expect {
                    Expect::Echo(sent) => reply[..] == sent[..],
                    Expect::Refusal { size, fnv1a32 } => {
                        refused += 1;
                        let text = String::from_utf8_lossy(&reply);
                        text.starts_with("{\"error\":")
                            && text.contains(&format!("\"size\":{size},"))
                            && text.contains(&format!("\"fnv1a32\":{fnv1a32}}}"))
                    }
                };
                if !good {
                    mismatches += 1;
                }
                received.fetch_add(1, Ordering::Release);
            }
            (refused, mismatches)
        })
    };
    let start = Instant::now();
    let (mut rss_early, mut rss_end, mut rss_max) = (0, 0, 0);
    let (mut fds_start, mut fds_end, mut fds_max) = (0, 0, 0);
    while start.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(1));
        let (rss, fds) = (rss_kib(&child), open_fds(&child));
        if fds_start == 0 {
            fds_start = fds;
        }
        if rss_early == 0 && start.elapsed() >= Duration::from_secs(seconds.div_ceil(10)) {
            rss_early = rss;
        }
        rss_end = rss;
        rss_max = rss_max.max(rss);
        fds_end = fds;
        fds_max = fds_max.max(fds);
    }
    stop.store(true, Ordering::Relaxed);
    let bytes = writer.join().unwrap();
    let (refused, mismatches) = checker.join().unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let status = child.wait().unwrap();
    Report {
        messages: received.load(Ordering::Relaxed),
        refused,
        mismatches,
        bytes,
        seconds,
        rss_early: if rss_early == 0 { rss_end } else { rss_early },
        rss_end,
        rss_max,
        fds_start,
        fds_end,
        fds_max,
        exit: status.to_string(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1)?.parse::<u64>().ok())
        .unwrap_or(60)
        .max(1);
    let (echo, _) = build_hosts();
    let hosts: Vec<&Host> = echo
        .iter()
        .filter(|h| {
            !h.is_cat()
                && !h.name.contains("one thread")
                && !h.name.contains("before")
                && !h.name.starts_with("plain")
                // The Node and Python peers are there to be compared with, in e2e:
                // they cannot refuse a reply over 1 MiB, which the soak sends.
                && !h.name.starts_with("Node, ")
                && !h.name.starts_with("Python, ")
        })
        .collect();
    println!("# nmframe soak: {seconds} s of mixed traffic per host\n");
    println!(
        "| host | messages (refused), per second | MB sent | mismatches | RSS at {} s / end / max | open fds at 1 s / end / max | exit |",
        seconds.div_ceil(10)
    );
    println!("|---|---|---|---|---|---|---|");
    let mut failed = false;
    for host in hosts {
        let r = soak(host, seconds);
        failed |= r.mismatches > 0;
        println!(
            "| {} | {} ({}), {:.0}/s | {:.0} | {} | {:.1} / {:.1} / {:.1} MiB | {} / {} / {} | {} |",
            host.name,
            r.messages,
            r.refused,
            r.messages as f64 / r.seconds,
            r.bytes as f64 / 1e6,
            r.mismatches,
            r.rss_early as f64 / 1024.0,
            r.rss_end as f64 / 1024.0,
            r.rss_max as f64 / 1024.0,
            r.fds_start,
            r.fds_end,
            r.fds_max,
            r.exit,
        );
    }
    assert!(
        !failed,
        "a host answered wrongly: see the mismatches column"
    );
}
