//! `nmframe tap`, through real processes: the test plays the browser on one side of the
//! tap, a real host runs on the other.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use nmframe::{FrameReader, FrameWriter, Limits};
use nmframe_test_support::exits_within;
use nmframe_test_support::process::stderr_of;
use serde_json::Value;

mod common;
use common::{NMFRAME, ORIGIN, host, scratch};

/// The tap in front of `host`, started as Chromium starts a host.
fn tap(log: &Path, extra: &[&str], host: &[&str]) -> Child {
    Command::new(NMFRAME)
        .args(["tap", "--log"])
        .arg(log)
        .args(extra)
        .arg("--")
        .args(host)
        .arg(ORIGIN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `nmframe echo` behind the tap, logging to `NAME/tap.log` in a fresh scratch folder,
/// with one message sent and echoed: the log's path, the tap, and the browser's ends.
fn tapped_echo(
    name: &str,
) -> (
    PathBuf,
    Child,
    FrameWriter<ChildStdin>,
    FrameReader<ChildStdout>,
) {
    let log = scratch(name).join("tap.log");
    let mut child = tap(&log, &[], &[NMFRAME, "echo"]);
    let (mut to, mut from) = browser_side(&mut child);
    to.send(br#"{"first":1}"#).unwrap();
    assert_eq!(&from.read_frame().unwrap().unwrap()[..], br#"{"first":1}"#);
    (log, child, to, from)
}

fn browser_side(child: &mut Child) -> (FrameWriter<ChildStdin>, FrameReader<ChildStdout>) {
    (
        FrameWriter::new(child.stdin.take().unwrap(), Limits::browser()),
        FrameReader::new(child.stdout.take().unwrap(), Limits::browser()),
    )
}

fn log_entries(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn events<'a>(entries: &'a [Value], event: &str) -> Vec<&'a Value> {
    entries.iter().filter(|e| e["event"] == event).collect()
}

fn show(log: &Path) -> (Option<i32>, String) {
    let out = Command::new(NMFRAME)
        .args(["tap", "show"])
        .arg(log)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_tapped_echo_host_forwards_both_ways_and_logs_every_frame() {
    let dir = scratch("tap_echo");
    let log = dir.join("tap.log");
    let mut child = tap(&log, &["--bodies"], &[NMFRAME, "echo"]);
    let (mut to, mut from) = browser_side(&mut child);
    let exact = format!("\"{}\"", "é".repeat((1 << 20) / 2 - 1));
    assert_eq!(exact.len(), 1 << 20);
    let messages = [r#"{"a":1}"#.to_owned(), "[\"\\ud800 ☃\"]".to_owned(), exact];
    for msg in &messages {
        to.send(msg.as_bytes()).unwrap();
        assert_eq!(&from.read_frame().unwrap().unwrap()[..], msg.as_bytes());
    }
    drop(to);
    assert!(from.read_frame().unwrap().is_none());
    assert!(exits_within(&mut child, Duration::from_secs(3)).success());

    let entries = log_entries(&log);
    let start = &events(&entries, "start")[0];
    assert_eq!(start["browser"], "Chromium");
    assert_eq!(start["argv"][1], "echo");
    assert_eq!(start["argv"][2], ORIGIN);
    let frames = events(&entries, "frame");
    assert_eq!(frames.len(), 6);
    let to_host: Vec<_> = frames.iter().filter(|f| f["dir"] == "to_host").collect();
    let to_browser: Vec<_> = frames.iter().filter(|f| f["dir"] == "to_browser").collect();
    for (i, msg) in messages.iter().enumerate() {
        for frame in [to_host[i], to_browser[i]] {
            assert_eq!(frame["len"], msg.len());
            assert_eq!(frame["body"], msg.as_str());
        }
        assert_eq!(to_browser[i]["verdict"], "ok");
    }
    // A request is logged before its reply: the timeline reads in causal order.
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!(frame["dir"], ["to_host", "to_browser"][i % 2], "{frames:?}");
    }
    assert_eq!(events(&entries, "eof").len(), 2);
    let exit = &events(&entries, "exit")[0];
    assert_eq!(exit["code"], 0);
    assert!(exit["after_eof_ms"].as_u64().unwrap() < 2000);

    // The log replays: the browser's messages, as NDJSON for `nmframe run --file`.
    let out = Command::new(NMFRAME)
        .args(["tap", "show", "--messages", "to-host"])
        .arg(&log)
        .output()
        .unwrap();
    let replay = String::from_utf8(out.stdout).unwrap();
    assert_eq!(replay.lines().collect::<Vec<_>>(), messages);
    let (code, shown) = show(&log);
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        shown.contains("diagnosis: no problem seen (3 message(s) to the host, 3 from it)"),
        "{shown}"
    );
}

#[test]
fn bad_output_passes_through_unchanged_and_show_names_the_cause() {
    let dir = scratch("tap_bad");
    // What the browser sees through the tap is what it sees without it, byte for byte.
    let run = |tapped: Option<&Path>, host_name: &str| {
        let mut cmd = Command::new(NMFRAME);
        cmd.args([
            "run", "-m", "[1]", "-m", "[2]", "-m", "[3]", "-m", "[4]", "--",
        ]);
        if let Some(log) = tapped {
            cmd.args([NMFRAME, "tap", "--log"]).arg(log).arg("--");
        }
        let out = cmd.arg(host(host_name)).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let cases = [
        (
            "prints_text.py",
            "header bytes look like text (\"/hom\"): something wrote to stdout",
        ),
        (
            "big_reply.py",
            "announces 2097154 bytes, over the host → browser limit of 1048576 bytes",
        ),
        ("bad_output.py", "is not a valid JSON message"),
    ];
    for (name, cause) in cases {
        let log = dir.join(format!("{name}.log"));
        assert_eq!(run(Some(&log), name), run(None, name), "{name}");
        let (code, shown) = show(&log);
        assert_eq!(code, Some(1), "{shown}");
        let diagnosis: Vec<&str> = shown
            .lines()
            .filter(|l| l.starts_with("diagnosis:"))
            .collect();
        assert!(
            diagnosis.iter().any(|l| l.contains(cause)),
            "{name}: the diagnosis names {cause:?}:\n{shown}"
        );
    }
}

#[test]
fn a_host_that_exits_mid_frame_is_logged_and_its_exit_code_passed_on() {
    let dir = scratch("tap_cut");
    let log = dir.join("tap.log");
    let host = host("exits_mid_frame.py");
    let mut child = tap(&log, &[], &[host.to_str().unwrap()]);
    let (mut to, mut from) = browser_side(&mut child);
    to.send(b"{}").unwrap();
    let err = from.read_frame().unwrap_err();
    assert!(
        matches!(
            err,
            nmframe::Error::TruncatedPayload {
                expected: 100,
                received: 5,
                ..
            }
        ),
        "the browser gets exactly the cut frame: {err:?}"
    );
    let status = exits_within(&mut child, Duration::from_secs(3));
    assert_eq!(status.code(), Some(3));
    let entries = log_entries(&log);
    let cut = &events(&entries, "cut")[0];
    assert_eq!(cut["dir"], "to_browser");
    assert!(
        cut["why"]
            .as_str()
            .unwrap()
            .contains("5 of its 100 bytes arrived"),
        "{cut}"
    );
    assert_eq!(events(&entries, "exit")[0]["code"], 3);
    let (_, shown) = show(&log);
    assert!(shown.contains("the host exited 3"), "{shown}");
}

#[test]
fn a_host_that_never_reads_pushes_back_on_the_browser_through_the_tap() {
    let dir = scratch("tap_backpressure");
    let log = dir.join("tap.log");
    let host = host("never_reads.py");
    let mut child = tap(&log, &[], &[host.to_str().unwrap()]);
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        let frame = [&1_000_000u32.to_ne_bytes()[..], &vec![b' '; 1_000_000]].concat();
        let mut sent = 0usize;
        for _ in 0..64 {
            if stdin.write_all(&frame).is_err() {
                break;
            }
            sent += frame.len();
            let _ = tx.send(sent);
        }
    });
    std::thread::sleep(Duration::from_millis(1500));
    let accepted = rx.try_iter().last().unwrap_or(0);
    // The host's pipe, the tap's buffer and its enlarged stdin pipe hold a few MB; the
    // rest must wait, as it would in front of the host itself.
    assert!(
        accepted < 8_000_000,
        "the tap accepted {accepted} bytes for a host that reads nothing"
    );
    assert!(!writer.is_finished());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_tap_does_not_outlive_a_browser_that_vanishes() {
    let dir = scratch("tap_vanish");
    // The host ignores the end of its stdin: the tap kills it as the browser would.
    let log = dir.join("never_exits.log");
    let host = host("never_exits.py");
    let mut child = tap(&log, &[], &[host.to_str().unwrap()]);
    let (mut to, mut from) = browser_side(&mut child);
    to.send(b"[1]").unwrap();
    assert_eq!(&from.read_frame().unwrap().unwrap()[..], b"[1]");
    let gone = Instant::now();
    drop(to);
    drop(from);
    let status = exits_within(&mut child, Duration::from_secs(5));
    assert!(gone.elapsed() < Duration::from_secs(4));
    assert!(!status.success());
    let entries = log_entries(&log);
    assert_eq!(events(&entries, "killed").len(), 1, "{entries:?}");

    // An echo host sees its stdin end and exits at once; the tap follows.
    let log = dir.join("echo.log");
    let mut child = tap(&log, &[], &[NMFRAME, "echo"]);
    let (to, from) = browser_side(&mut child);
    drop(to);
    drop(from);
    assert!(exits_within(&mut child, Duration::from_secs(2)).success());
}

#[test]
fn a_log_that_cannot_be_written_goes_to_stderr_and_the_stream_is_untouched() {
    let mut child = tap(
        Path::new("/nonexistent-dir/tap.log"),
        &[],
        &[NMFRAME, "echo"],
    );
    let (mut to, mut from) = browser_side(&mut child);
    to.send(br#"{"still":"forwarded"}"#).unwrap();
    assert_eq!(
        &from.read_frame().unwrap().unwrap()[..],
        br#"{"still":"forwarded"}"#
    );
    drop(to);
    assert!(exits_within(&mut child, Duration::from_secs(3)).success());
    let stderr = stderr_of(&mut child);
    assert!(
        stderr.contains("cannot open the log /nonexistent-dir/tap.log"),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"nmframe tap log: {"t":"#) && stderr.contains(r#""event":"frame""#),
        "{stderr}"
    );
}

#[test]
fn tap_install_puts_the_tap_in_front_of_an_installed_host_and_uninstall_restores_it() {
    let home = scratch("tap_install_home");
    let log = home.join("tap.log");
    let nmframe = |args: &[&str]| {
        let out = Command::new(NMFRAME)
            .args(args)
            .env("HOME", &home)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let host = host("argv.py");
    let (code, said) = nmframe(&[
        "manifest",
        "install",
        "--name",
        "com.example.tapped",
        "--path",
        host.to_str().unwrap(),
        "--browser",
        "chromium",
        "--origin",
        ORIGIN,
    ]);
    assert_eq!(code, Some(0), "{said}");
    let manifest = home.join(".config/chromium/NativeMessagingHosts/com.example.tapped.json");
    let original = std::fs::read(&manifest).unwrap();

    let (code, said) = nmframe(&[
        "tap",
        "install",
        "--name",
        "com.example.tapped",
        "--log",
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{said}");
    let tapped: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let wrapper = PathBuf::from(tapped["path"].as_str().unwrap());
    assert_eq!(
        wrapper,
        manifest.with_file_name("com.example.tapped.nmframe-tap")
    );
    // A second install is refused rather than tapping the tap.
    let (code, said) = nmframe(&[
        "tap",
        "install",
        "--name",
        "com.example.tapped",
        "--log",
        "/tmp/x",
    ]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("already tapped"), "{said}");

    // Started as Chromium starts the manifest's host: through the wrapper and the tap,
    // the host gets the browser's argv and its own directory.
    let (code, said) = nmframe(&["run", "--manifest", "com.example.tapped", "-m", "1"]);
    assert_eq!(code, Some(0), "{said}");
    let reply: Value = serde_json::from_str(said.lines().next().unwrap()).unwrap();
    assert_eq!(reply["argv"], serde_json::json!([ORIGIN]));
    assert_eq!(reply["cwd"], host.parent().unwrap().to_str().unwrap());
    let entries = log_entries(&log);
    assert_eq!(events(&entries, "frame").len(), 2);
    assert_eq!(
        events(&entries, "start")[0]["argv"][0],
        host.to_str().unwrap()
    );

    let (code, said) = nmframe(&["tap", "uninstall", "--name", "com.example.tapped"]);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(std::fs::read(&manifest).unwrap(), original);
    assert!(!wrapper.exists());
    let (code, _) = nmframe(&["tap", "uninstall", "--name", "com.example.tapped"]);
    assert_eq!(code, Some(1), "nothing left to restore");
}

#[test]
fn show_follow_prints_lines_as_the_tap_writes_them_and_stops_at_the_end() {
    let (log, mut child, mut to, mut from) = tapped_echo("tap_follow");
    let mut follow = Command::new(NMFRAME)
        .args(["tap", "show", "--follow"])
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut shown = std::io::BufReader::new(follow.stdout.take().unwrap());
    let mut line = String::new();
    let mut seen = Vec::new();
    // The lines so far come at once, while the session is still open.
    while !seen
        .iter()
        .any(|l: &String| l.contains(r#"{"first":1}"#) && l.contains("← host"))
    {
        line.clear();
        assert!(std::io::BufRead::read_line(&mut shown, &mut line).unwrap() > 0);
        seen.push(line.clone());
    }
    assert!(follow.try_wait().unwrap().is_none(), "it waits for more");
    to.send(br#"{"second":2}"#).unwrap();
    from.read_frame().unwrap().unwrap();
    drop(to);
    assert!(exits_within(&mut child, Duration::from_secs(3)).success());
    let mut rest = String::new();
    shown.read_to_string(&mut rest).unwrap();
    assert!(exits_within(&mut follow, Duration::from_secs(3)).success());
    assert!(rest.contains(r#"{"second":2}"#), "{rest}");
    assert!(rest.contains("diagnosis: no problem seen"), "{rest}");
}

/// The tap's own peak memory, from /proc (Linux).
fn peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap()
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

/// A log that is a FIFO nobody reads blocks nothing: the host starts, every frame is
/// forwarded, the tap's memory stays bounded with `--bodies`, and it exits as soon as
/// the host does, saying what the log never took.
#[test]
fn a_log_nobody_reads_holds_up_neither_the_streams_nor_the_exit_nor_memory() {
    let dir = scratch("tap_fifo");
    let log = dir.join("tap.fifo");
    mkfifo(&log);
    let mut child = tap(&log, &["--bodies"], &[NMFRAME, "echo"]);
    let pid = child.id();
    let (mut to, mut from) = browser_side(&mut child);
    let message = format!("\"{}\"", "x".repeat((1 << 20) - 2));
    let start = Instant::now();
    for _ in 0..160 {
        to.send(message.as_bytes()).unwrap();
        assert_eq!(from.read_frame().unwrap().unwrap().len(), message.len());
    }
    let peak = peak_kib(pid);
    // 320 MiB of bodies went by: the queue holds at most 32 MiB of them.
    assert!(peak < 160 * 1024, "the tap peaked at {peak} KiB");
    drop(to);
    let closed = Instant::now();
    assert!(exits_within(&mut child, Duration::from_secs(5)).success());
    assert!(
        closed.elapsed() < Duration::from_secs(3),
        "exited {:?} after its stdin closed",
        closed.elapsed()
    );
    let stderr = stderr_of(&mut child);
    assert!(
        stderr.contains("tap: the log took nothing more for 1000 ms after the host ended"),
        "{stderr}"
    );
    println!(
        "160 x 1 MiB through a tap whose log nobody reads: {:?}, peak {} MiB",
        start.elapsed(),
        peak / 1024
    );
}

/// A log read slowly (2 KB/s) does not keep the tap alive after the host exits.
#[test]
fn a_slow_log_does_not_keep_the_tap_alive() {
    let dir = scratch("tap_slow_fifo");
    let log = dir.join("tap.fifo");
    mkfifo(&log);
    let reader = {
        let log = log.clone();
        std::thread::spawn(move || {
            let mut fifo = std::fs::File::open(log).unwrap();
            let mut buf = [0u8; 200];
            while let Ok(1..) = fifo.read(&mut buf) {
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let mut child = tap(&log, &["--bodies"], &[NMFRAME, "echo"]);
    let (mut to, mut from) = browser_side(&mut child);
    for i in 0..200 {
        let msg = format!(r#"{{"n":{i},"pad":"{}"}}"#, "p".repeat(1000));
        to.send(msg.as_bytes()).unwrap();
        from.read_frame().unwrap().unwrap();
    }
    drop(to);
    let closed = Instant::now();
    assert!(exits_within(&mut child, Duration::from_secs(5)).success());
    assert!(
        closed.elapsed() < Duration::from_secs(3),
        "{:?}",
        closed.elapsed()
    );
    drop(reader);
}

/// A host that stopped reading, with a megabyte waiting for it, when the browser goes:
/// the tap kills it at the browser's grace period, as the browser would, and exits.
#[test]
fn a_host_that_stopped_reading_is_killed_when_the_browser_goes() {
    let dir = scratch("tap_stuck_host");
    let log = dir.join("tap.log");
    let host = host("never_reads.py");
    let mut child = tap(&log, &[], &[host.to_str().unwrap()]);
    let mut stdin = child.stdin.take().unwrap();
    // What the tap's enlarged stdin pipe and the host's pipe hold: the tap's forwarding
    // thread is left stuck writing to the host.
    let frame = [&1_000_000u32.to_ne_bytes()[..], &vec![b' '; 1_000_000]].concat();
    stdin.write_all(&frame).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(stdin);
    let gone = Instant::now();
    let status = exits_within(&mut child, Duration::from_secs(10));
    assert!(
        gone.elapsed() < Duration::from_secs(4),
        "the tap outlived the browser by {:?}",
        gone.elapsed()
    );
    assert!(!status.success());
    let entries = log_entries(&log);
    assert_eq!(events(&entries, "killed").len(), 1, "{entries:?}");
}

/// Several connections append to one log at once (each port, each sendNativeMessage is
/// a tap of its own): every line names its connection, and `tap show` tells them apart.
#[test]
fn connections_sharing_a_log_are_told_apart() {
    let dir = scratch("tap_connections");
    let log = dir.join("tap.log");
    let mut taps: Vec<Child> = (0..3).map(|_| tap(&log, &[], &[NMFRAME, "echo"])).collect();
    let mut sides: Vec<_> = taps.iter_mut().map(browser_side).collect();
    // Interleaved: connection k sends k + 1 messages.
    for round in 0..3 {
        for (k, (to, from)) in sides.iter_mut().enumerate() {
            if round <= k {
                let msg = format!(r#"{{"conn":{k},"round":{round}}}"#);
                to.send(msg.as_bytes()).unwrap();
                assert_eq!(&from.read_frame().unwrap().unwrap()[..], msg.as_bytes());
            }
        }
    }
    drop(sides);
    for child in &mut taps {
        assert!(exits_within(child, Duration::from_secs(3)).success());
    }
    let entries = log_entries(&log);
    let conns: std::collections::BTreeSet<&str> = entries
        .iter()
        .map(|e| e["conn"].as_str().expect("every line names its connection"))
        .collect();
    assert_eq!(conns.len(), 3);
    let (code, shown) = show(&log);
    assert_eq!(code, Some(0), "{shown}");
    for (k, n) in [(1, 1), (2, 2), (3, 3)] {
        assert!(shown.contains(&format!("connection {k} of 3")), "{shown}");
        let counts = format!("no problem seen ({n} message(s) to the host, {n} from it)");
        assert!(shown.contains(&counts), "{counts} missing:\n{shown}");
    }
}

/// The browser is told by its own arguments, wherever they are: after a host command
/// that has arguments of its own, Firefox's manifest path and add-on id still read as
/// Firefox.
#[test]
fn firefox_is_recognised_after_a_host_command_with_arguments() {
    let dir = scratch("tap_firefox");
    let log = dir.join("tap.log");
    let mut child = Command::new(NMFRAME)
        .args(["tap", "--log"])
        .arg(&log)
        .args(["--", NMFRAME, "echo"])
        .args([
            "/home/u/.mozilla/native-messaging-hosts/app.json",
            "app@example.org",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    assert!(exits_within(&mut child, Duration::from_secs(3)).success());
    let entries = log_entries(&log);
    assert_eq!(events(&entries, "start")[0]["browser"], "Firefox");
}

/// On a full disk no line vanishes: those the file did not take go to stderr, with the
/// count, the `start` among them.
#[test]
fn a_log_on_a_full_disk_loses_no_line() {
    let mut child = tap(Path::new("/dev/full"), &[], &[NMFRAME, "echo"]);
    let (mut to, mut from) = browser_side(&mut child);
    to.send(br#"{"on":"a full disk"}"#).unwrap();
    assert_eq!(
        &from.read_frame().unwrap().unwrap()[..],
        br#"{"on":"a full disk"}"#
    );
    drop(to);
    assert!(exits_within(&mut child, Duration::from_secs(3)).success());
    let stderr = stderr_of(&mut child);
    assert!(
        stderr.contains("tap: writing the log failed: No space left on device"),
        "{stderr}"
    );
    assert!(stderr.contains("line(s) it did not take"), "{stderr}");
    for event in ["start", "frame", "exit", "end"] {
        let line = format!(r#""event":"{event}""#);
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("nmframe tap log: ") && l.contains(&line)),
            "no {event} line on stderr:\n{stderr}"
        );
    }
}

/// A log with a byte that is not UTF-8 is still shown, with a note, not refused.
#[test]
fn show_reads_a_log_with_a_line_that_is_not_utf8() {
    let (log, mut child, to, from) = tapped_echo("tap_not_utf8");
    drop((to, from));
    assert!(exits_within(&mut child, Duration::from_secs(3)).success());
    let mut bytes = std::fs::read(&log).unwrap();
    // A byte of the host's name in the start line's argv.
    let at = bytes.windows(6).position(|w| w == br#""echo""#).unwrap();
    bytes[at + 2] = 0xff;
    std::fs::write(&log, bytes).unwrap();
    let (code, shown) = show(&log);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("is not UTF-8 at byte"), "{shown}");
    assert!(shown.contains("diagnosis: no problem seen"), "{shown}");
}

/// Context switches of every thread of process `pid`, from /proc.
#[cfg(target_os = "linux")]
fn switches(pid: u32) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let status = std::fs::read_to_string(task.unwrap().path().join("status")).unwrap();
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .map(|l| l.split_whitespace().last().unwrap().parse::<u64>().unwrap())
            .sum::<u64>();
    }
    total
}

/// A tap whose host is idle blocks in the kernel, every thread of it: no periodic
/// wake-up (it used to look every 25 ms for the host's exit and the browser's hang-up),
/// and both still end it at once.
#[cfg(target_os = "linux")]
#[test]
fn an_idle_tap_sleeps_until_the_browser_or_the_host_ends() {
    let (_log, mut child, to, from) = tapped_echo("tap_idle");
    std::thread::sleep(Duration::from_millis(100));
    let before = switches(child.id());
    std::thread::sleep(Duration::from_millis(600));
    let woke = switches(child.id()) - before;
    assert!(woke <= 2, "the idle tap woke {woke} times in 600 ms");
    let closed = Instant::now();
    drop(to);
    drop(from);
    assert!(exits_within(&mut child, Duration::from_secs(2)).success());
    assert!(closed.elapsed() < Duration::from_secs(1));
}
