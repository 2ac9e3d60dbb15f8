//! The example echo host, driven through real pipes by a test playing the browser.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nmframe::{FrameReader, FrameWriter, Limits, MAX_HOST_TO_BROWSER, encode_frame};
use nmframe_test_support::echo::assert_refusal;
use nmframe_test_support::process::stderr_of;
use nmframe_test_support::{example, exits_within};

/// The example's binary, built by the cargo that runs this test (a plain `cargo test`
/// has built it already; `cargo test --test echo_host` has not).
fn echo_host() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| example("nmframe", "echo_host", &[]))
        .clone()
}

fn spawn() -> Child {
    Command::new(echo_host())
        .arg("chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn echoes_varied_json_and_the_exact_limit_then_exits_on_eof() {
    let mut child = spawn();
    let mut writer = FrameWriter::new(child.stdin.take().unwrap(), Limits::browser());
    let mut reader = FrameReader::new(child.stdout.take().unwrap(), Limits::browser());
    let exact = format!("\"{}\"", "é".repeat((MAX_HOST_TO_BROWSER as usize - 2) / 2));
    assert_eq!(exact.len(), MAX_HOST_TO_BROWSER as usize);
    let messages = [
        r#"{"a":1}"#.to_string(),
        r#"["unicode ☃ 😀", "esc \" \\ \n \u0000"]"#.to_string(),
        format!("{}null{}", "{\"k\":".repeat(500), "}".repeat(500)),
        exact,
    ];
    for msg in &messages {
        writer.send(msg.as_bytes()).unwrap();
        assert_eq!(&reader.read_frame().unwrap().unwrap()[..], msg.as_bytes());
    }
    drop(writer);
    let status = exits_within(&mut child, Duration::from_secs(1));
    assert!(status.success());
    assert!(
        reader.read_frame().unwrap().is_none(),
        "nothing after the last reply"
    );
}

#[test]
fn refuses_an_oversized_reply_and_keeps_serving() {
    let mut child = spawn();
    let mut writer = FrameWriter::new(child.stdin.take().unwrap(), Limits::browser());
    let mut reader = FrameReader::new(child.stdout.take().unwrap(), Limits::browser());
    let over = format!("\"{}\"", "x".repeat(MAX_HOST_TO_BROWSER as usize - 1));
    writer.send(over.as_bytes()).unwrap();
    let reply = reader.read_frame().unwrap().unwrap();
    assert_refusal(&reply, over.as_bytes(), "limit of 1048576 bytes");
    writer.send(b"[\"next\"]").unwrap();
    assert_eq!(&reader.read_frame().unwrap().unwrap()[..], b"[\"next\"]");
    drop(writer);
    assert!(exits_within(&mut child, Duration::from_secs(1)).success());
    let stderr = stderr_of(&mut child);
    assert!(
        stderr.contains("not echoing a 1048577-byte message"),
        "{stderr}"
    );
}

#[test]
fn frames_split_across_many_writes_and_bursts_in_one() {
    let mut child = spawn();
    let mut stdin = child.stdin.take().unwrap();
    let mut reader = FrameReader::new(child.stdout.take().unwrap(), Limits::browser());
    let mut wire = Vec::new();
    let msgs: Vec<String> = (0..2000).map(|i| format!("{{\"i\":{i}}}")).collect();
    for m in &msgs {
        encode_frame(&mut wire, m.as_bytes(), Limits::browser().outbound()).unwrap();
    }
    let writer = std::thread::spawn(move || {
        // The first hundred bytes one at a time, the rest in one write.
        for b in &wire[..100] {
            stdin.write_all(std::slice::from_ref(b)).unwrap();
            stdin.flush().unwrap();
        }
        stdin.write_all(&wire[100..]).unwrap();
    });
    for m in &msgs {
        assert_eq!(&reader.read_frame().unwrap().unwrap()[..], m.as_bytes());
    }
    writer.join().unwrap();
    assert!(exits_within(&mut child, Duration::from_secs(1)).success());
}

#[test]
fn browser_gone_mid_reply_is_not_a_crash() {
    let mut child = spawn();
    let mut writer = FrameWriter::new(child.stdin.take().unwrap(), Limits::browser());
    // A 512 KiB reply does not fit in a 64 KiB pipe: the host blocks partway through
    // writing it, and then the browser goes away.
    let big = format!("\"{}\"", "z".repeat(512 * 1024));
    writer.send(big.as_bytes()).unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 4096];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let status = exits_within(&mut child, Duration::from_secs(2));
    assert!(
        status.success(),
        "host must treat EPIPE as a disconnect: {status}"
    );
    // The host is gone: sending to it is a disconnect too, not a crash of ours.
    let err = writer.send(b"1").unwrap_err();
    assert!(err.is_disconnect(), "{err:?}");
}

/// `stdio()` raises stdin's pipe to 1 MiB: Firefox writes large messages a pipe's worth at
/// a time, and is ten times slower through the default 64 KiB.
#[cfg(target_os = "linux")]
#[test]
fn stdio_enlarges_the_stdin_pipe() {
    use std::os::fd::AsRawFd;
    // The pipe is made here, so that its size is read before the host can change it (with
    // `Stdio::piped`, the host may already have run by the time the test looks).
    let (host_end, stdin) = std::io::pipe().unwrap();
    // SAFETY: F_GETPIPE_SZ reads the capacity of a pipe this test owns; no memory is touched.
    let before = unsafe { libc::fcntl(stdin.as_raw_fd(), libc::F_GETPIPE_SZ) };
    let mut child = Command::new(echo_host())
        .arg("chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/")
        .stdin(host_end)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut writer = FrameWriter::new(stdin, Limits::browser());
    let mut reader = FrameReader::new(child.stdout.take().unwrap(), Limits::browser());
    // A reply proves the host got past stdio().
    writer.send(b"[1]").unwrap();
    assert_eq!(&reader.read_frame().unwrap().unwrap()[..], b"[1]");
    // SAFETY: as above.
    let after = unsafe { libc::fcntl(writer.get_ref().as_raw_fd(), libc::F_GETPIPE_SZ) };
    assert!(before < 1 << 20, "the pipe started at {before} bytes");
    assert_eq!(after, 1 << 20);
    drop(writer);
    assert!(exits_within(&mut child, Duration::from_secs(1)).success());
}
