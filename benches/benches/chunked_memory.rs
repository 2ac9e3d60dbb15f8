//! What a hostile extension can make a chunked host hold: each case of the hardening
//! issue against the Rust chunked host (core/examples/chunked_host.rs) and the C one
//! (ffi/examples/c/chunked_host.c, NMF_HOST_CHUNKED), each on a fresh process, with the
//! host's peak memory (VmHWM) and what it still holds after three small messages
//! (VmRSS), read from /proc. Linux only.
//!
//! `cargo bench -p nmframe-benches --bench chunked_memory` (about two minutes); `--case
//! TEXT` runs the cases whose name contains TEXT.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use nmframe::chunked::{Accepted, ChunkOptions, Parts, Reassembler};
use nmframe_test_support::chunked::echo_request;
use nmframe_test_support::process::HostProcess;

const MIB: usize = 1 << 20;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn run(cmd: &mut Command) {
    let status = cmd.status().expect("the build runs");
    assert!(status.success(), "{cmd:?} failed");
}

/// The two hosts, built in release.
fn build() -> Vec<(&'static str, PathBuf)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(&cargo)
        .args(["build", "--quiet", "--release", "-p", "libnmframe"])
        .args(["-p", "nmframe", "--example", "chunked_host"])
        .current_dir(root()));
    let target = std::env::current_exe().unwrap();
    let release = target.parent().unwrap().parent().unwrap();
    let c_host = release.join("chunked_host_c_bench");
    run(Command::new("cc")
        .args(["-std=c11", "-O2", "-I"])
        .arg(root().join("ffi/include"))
        .arg(root().join("ffi/examples/c/chunked_host.c"))
        .arg(release.join("libnmframe.a"))
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&c_host));
    vec![
        ("rust", release.join("examples/chunked_host")),
        ("c", c_host),
    ]
}

/// Kilobytes of `field` (VmHWM, VmRSS) in /proc/PID/status.
fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

/// The extension's side: its receiver (acknowledging when asked to), and the frames
/// from the host it has taken so far.
struct Extension {
    rx: Reassembler,
    acks: bool,
}

impl Extension {
    fn new(acks: bool) -> Self {
        Extension {
            rx: Reassembler::new(ChunkOptions::default()),
            acks,
        }
    }

    /// Takes frames until a whole message or a failure comes; a description of it.
    fn next(&mut self, host: &mut HostProcess) -> String {
        loop {
            let frame = host.recv();
            let accepted = self.rx.accept(BytesMut::from(&frame[..]), Instant::now());
            let answers = std::mem::take(self.rx.outbox());
            if self.acks {
                answers.iter().for_each(|a| host.send(a));
            }
            match accepted {
                Accepted::Pending | Accepted::Ack { .. } => {}
                Accepted::Message(m) => {
                    let head = String::from_utf8_lossy(&m[..m.len().min(60)]).into_owned();
                    return format!("{} bytes back: {head}", m.len());
                }
                Accepted::Refused(e) | Accepted::Failed(e) => return e.to_string(),
            }
        }
    }
}

/// One part frame of `len` bytes whose extra member is an array of zeros.
fn padded_part(id: u32, len: usize) -> Vec<u8> {
    let head = format!(r#"{{"$nmframe":2,"t":"part","id":{id},"seq":0,"extra":[0"#);
    let tail = br#"],"data":"[]"}"#;
    let mut frame = head.into_bytes();
    while frame.len() + tail.len() + 2 <= len {
        frame.extend_from_slice(b",0");
    }
    frame.extend_from_slice(tail);
    frame
}

fn end_of(id: u32, text: &[u8], parts: u64) -> Vec<u8> {
    format!(
        r#"{{"$nmframe":2,"t":"end","id":{id},"seq":{parts},"bytes":{},"crc32":{}}}"#,
        text.len(),
        crc32fast::hash(text)
    )
    .into_bytes()
}

/// A case: drives a fresh host and says what happened.
type Case = fn(&mut HostProcess) -> String;

fn unknown_member(host: &mut HostProcess, len: usize) -> String {
    host.send(&padded_part(1, len));
    host.send(&end_of(1, b"[]", 1));
    Extension::new(true).next(host)
}

fn huge_part_64(host: &mut HostProcess) -> String {
    unknown_member(host, 64 * MIB)
}

fn huge_part_240(host: &mut HostProcess) -> String {
    unknown_member(host, 240 * MIB)
}

/// A 400 MiB message in one part; the Rust host answers `echo`, the C host echoes
/// everything: 400 MiB come back in parts, acknowledged.
fn single_part_400(host: &mut HostProcess) -> String {
    let text = echo_request(1, 400 * MIB);
    let mut parts = Parts::new(1, &text, usize::MAX / 2, 0);
    let mut frame = Vec::new();
    while parts.next_frame(&mut frame) {
        host.send(&frame);
    }
    drop(frame);
    drop(text);
    Extension::new(true).next(host)
}

/// While the host waits for an acknowledgement of its 20 MiB echo, 732 messages of
/// 4 MiB (3 GiB) arrive, never acknowledging.
fn flood_while_waiting(host: &mut HostProcess) -> String {
    let request = echo_request(1, 20 * MIB);
    nmframe_test_support::chunked::send_in_parts(|f| host.send(f), 9, &request, MIB);
    // The host's first parts: it is waiting now.
    let mut ext = Extension::new(false);
    for _ in 0..8 {
        let frame = host.recv();
        ext.rx.accept(BytesMut::from(&frame[..]), Instant::now());
    }
    let flood = echo_request(2, 4 * MIB);
    let start = Instant::now();
    let mut gave_up = None;
    let mut note = |frame: &[u8]| {
        if gave_up.is_none() && frame.starts_with(br#"{"$nmframe":2,"t":"abort","id":0"#) {
            let v: serde_json::Value = serde_json::from_slice(frame).unwrap_or_default();
            gave_up = v["reason"].as_str().map(str::to_owned);
        }
    };
    for _ in 0..732 {
        host.send(&flood);
        // The echoes of what the host took (in parts) are read and dropped as they come.
        while let Some(frame) = host.try_recv(Duration::ZERO) {
            note(&frame);
        }
    }
    while let Some(frame) = host.try_recv(Duration::from_millis(500)) {
        note(&frame);
    }
    format!(
        "732 x 4 MiB written in {:.1} s; the host: {}",
        start.elapsed().as_secs_f64(),
        gave_up.as_deref().unwrap_or("did not give its send up")
    )
}

/// Sixteen transfers filled in turn, 1 MiB parts, until each is refused or 2 GiB went.
fn sixteen_in_turn(host: &mut HostProcess) -> String {
    let data = "a".repeat(MIB - 256);
    let mut sent = 0usize;
    let mut seq = [0u64; 16];
    let mut refused = 0;
    let mut open = [true; 16];
    while sent < 2048 * MIB && open.iter().any(|&o| o) {
        for id in 0..16u32 {
            if !open[id as usize] {
                continue;
            }
            let s = seq[id as usize];
            let frame = if s == 0 {
                format!(r#"{{"$nmframe":2,"t":"part","id":{id},"seq":0,"data":"[\"{data}"}}"#)
            } else {
                format!(r#"{{"$nmframe":2,"t":"part","id":{id},"seq":{s},"data":"{data}"}}"#)
            };
            host.send(frame.as_bytes());
            seq[id as usize] += 1;
            sent += frame.len();
        }
        while let Some(frame) = host.try_recv(Duration::from_millis(1)) {
            let v: serde_json::Value = serde_json::from_slice(&frame).unwrap_or_default();
            if v["t"] == "refuse"
                && let Some(id) = v["id"].as_u64()
                && open[id as usize]
            {
                open[id as usize] = false;
                refused += 1;
            }
        }
    }
    // The extension gives the rest up: their memory must come back too.
    let mut aborted = 0;
    for id in 0..16u32 {
        if open[id as usize] {
            let abort = format!(r#"{{"$nmframe":2,"t":"abort","id":{id},"reason":"done"}}"#);
            host.send(abort.as_bytes());
            aborted += 1;
        }
    }
    format!(
        "{refused} of 16 refused after {} MiB sent, the other {aborted} aborted by the extension",
        sent / MIB
    )
}

fn main() {
    let filter = std::env::args()
        .skip_while(|a| a != "--case")
        .nth(1)
        .unwrap_or_default();
    let cases: [(&str, Case); 5] = [
        (
            "a 64 MiB part with an unknown member (an array of zeros)",
            huge_part_64,
        ),
        ("a 240 MiB part with an unknown member", huge_part_240),
        ("a 400 MiB message in one part", single_part_400),
        (
            "732 x 4 MiB while the host waits for an ack",
            flood_while_waiting,
        ),
        ("16 transfers filled in turn", sixteen_in_turn),
    ];
    let hosts = build();
    println!("| case | host | peak (VmHWM) | held after 3 more messages (VmRSS) | what happened |");
    println!("| --- | --- | ---: | ---: | --- |");
    for (name, case) in cases {
        if !name.contains(&filter) {
            continue;
        }
        for (label, exe) in &hosts {
            let mut cmd = Command::new(exe);
            cmd.arg("chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/");
            let mut host = HostProcess::start(cmd);
            host.slack = Duration::from_secs(120);
            let what = case(&mut host);
            // Three small messages after: what the host still holds then.
            for n in 0..3 {
                let small = format!(r#"{{"op":"echo","id":{}}}"#, 100 + n);
                host.send(small.as_bytes());
            }
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut seen = 0;
            while seen < 3 && Instant::now() < deadline {
                if let Some(frame) = host.try_recv(Duration::from_millis(50))
                    && frame.starts_with(br#"{"op":"echo","id":10"#)
                {
                    seen += 1;
                }
            }
            std::thread::sleep(Duration::from_millis(200));
            let pid = host.id();
            let peak = status_kib(pid, "VmHWM");
            let held = status_kib(pid, "VmRSS");
            let (status, _) = host.close();
            println!(
                "| {name} | {label} | {} MiB | {} MiB | {what}; {seen} of 3 later messages answered; {status} |",
                peak / 1024,
                held / 1024
            );
        }
    }
}
