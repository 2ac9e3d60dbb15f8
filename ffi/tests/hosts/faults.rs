//! The fault suite: the world around a host misbehaves (descriptors closed or
//! non-blocking at start, the browser's pipes gone, a disk full, a signal, a message of
//! 2 GiB), and every binding's echo host must come out of it as the table says: the
//! expected exit, never death by a signal it did not ask for, bounded in time, and
//! every reply it did send byte-exact.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use nmframe::MAX_HOST_TO_BROWSER;

use nmframe_test_support::hostile::frame;
use nmframe_test_support::process::stderr_of;

use super::{Browser, ORIGIN, Under, built, json_string, wait};

/// Each binding's echo host, as the command that starts it: the Rust example on
/// `FrameWriter`, `nmframe echo` on `WriterThread`, the C, C++ and Go examples on
/// libnmframe with its writer thread, the Node example on js/nmframe-host, and the
/// Python example on the `nmframe` package.
fn hosts() -> Vec<(&'static str, Vec<OsString>)> {
    let b = built();
    let exe = |path: &PathBuf| vec![path.clone().into_os_string()];
    vec![
        ("Rust", exe(&b.rust_echo)),
        (
            "nmframe echo",
            vec![b.nmframe.clone().into_os_string(), "echo".into()],
        ),
        ("C", exe(&b.c_echo)),
        ("C++", exe(&b.cpp_echo)),
        ("Go", exe(&b.go_echo)),
        ("Node", exe(&b.node_echo)),
        ("Python", exe(&b.python_echo)),
    ]
}

/// The command for a host's argv (the browser's arguments are added by the caller).
fn command(host: &[OsString]) -> Command {
    let mut cmd = Command::new(&host[0]);
    cmd.args(&host[1..]);
    cmd
}

type Outcome = Result<(), String>;

/// A case: what it does to the host, and what must come of it.
struct Case {
    name: &'static str,
    expected: &'static str,
    run: fn(&[OsString]) -> Outcome,
}

const CASES: &[Case] = &[
    Case {
        name: "browser's stderr gone, host logs",
        expected: "replies intact, exit 0",
        run: stderr_gone,
    },
    Case {
        name: "fd 2 closed at start (stdout guard on)",
        expected: "serves, exit 0",
        run: fd2_closed,
    },
    Case {
        name: "fd 0 closed at start",
        expected: "exits at once; non-zero only with a message naming stdin",
        run: fd0_closed,
    },
    Case {
        name: "fd 1 closed at start",
        expected: "exits; non-zero only with a message naming stdout",
        run: fd1_closed,
    },
    Case {
        name: "stdin and stdout inherited O_NONBLOCK",
        expected: "a burst and a 1 MiB reply read slowly come back intact, exit 0",
        run: nonblocking,
    },
    Case {
        name: "stdout gone mid-burst",
        expected: "exit 0 (disconnected)",
        run: stdout_gone_mid_burst,
    },
    Case {
        name: "stdin closed mid-frame",
        expected: "earlier replies intact, exit 1 naming the truncation",
        run: stdin_closed_mid_frame,
    },
    Case {
        name: "stdout is a full disk (/dev/full)",
        expected: "exit 1 naming the error, not a quiet exit at end of input",
        run: stdout_full,
    },
    Case {
        name: "a storm of SIGWINCH, SIGSTOP and SIGCONT during traffic",
        expected: "every reply intact and in order, exit 0",
        run: signal_storm,
    },
    Case {
        name: "SIGPIPE sent to the host",
        expected: "ignored: serves on, exit 0",
        run: sigpipe_sent,
    },
    Case {
        name: "a browser that stops reading (48 MiB sent)",
        expected: "the host waits with bounded memory, then every reply intact, exit 0",
        run: stalled_reader,
    },
    Case {
        name: "SIGTERM",
        expected: "terminated by SIGTERM at once",
        run: sigterm,
    },
    Case {
        name: "a 2 GiB + 1 KiB message",
        expected: "refused with an error reply, then serves on, exit 0",
        run: two_gib,
    },
];

/// Starts `exe` as a browser would, through `sh` so that a redirection can close or
/// change a descriptor first (`2>&-`), or through `python3` for what the shell cannot.
fn start_wrapped(host: &[OsString], wrapper: &[&str]) -> Browser {
    let mut cmd = Command::new(wrapper[0]);
    cmd.args(&wrapper[1..]).args(host);
    Browser::spawn(cmd, Under::Native)
}

fn sh(redirect: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        format!("exe=$0; exec \"$exe\" \"$@\" {redirect}"),
    ]
}

/// Starts `exe` through `sh` with `redirect` applied, stdin and stderr piped: for the
/// cases that watch the process rather than talk to it.
fn start_redirected(
    host: &[OsString],
    redirect: &str,
    stdout: Stdio,
) -> Result<std::process::Child, String> {
    let wrapper = sh(redirect);
    Command::new(&wrapper[0])
        .args(&wrapper[1..])
        .args(host)
        .arg(ORIGIN)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())
}

fn expect_exit(status: ExitStatus, code: i32, stderr: &str) -> Outcome {
    if status.code() == Some(code) {
        Ok(())
    } else {
        Err(format!(
            "{} (expected exit {code}); stderr: {stderr}",
            describe(status)
        ))
    }
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => format!("{status}"),
    }
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Outcome {
    if cond { Ok(()) } else { Err(what()) }
}

fn stderr_gone(host: &[OsString]) -> Outcome {
    let mut child = command(host)
        .arg(ORIGIN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    // The browser stops reading the host's log: the pipe's read end closes.
    drop(child.stderr.take());
    let mut to_host =
        nmframe::FrameWriter::new(child.stdin.take().unwrap(), nmframe::Limits::browser());
    let mut from_host =
        nmframe::FrameReader::new(child.stdout.take().unwrap(), nmframe::Limits::browser());
    let oversized = json_string(MAX_HOST_TO_BROWSER as usize + 1);
    // The host cannot echo this one, and says so on stderr (EPIPE there) before it
    // replies with an error object.
    to_host.send(&oversized).map_err(|e| e.to_string())?;
    let refusal = from_host
        .read_frame()
        .map_err(|e| e.to_string())?
        .ok_or("no reply")?;
    check(refusal.starts_with(b"{\"error\""), || {
        format!(
            "reply to the oversized message: {:?}",
            String::from_utf8_lossy(&refusal[..refusal.len().min(80)])
        )
    })?;
    to_host.send(b"[\"after\"]").map_err(|e| e.to_string())?;
    let echo = from_host
        .read_frame()
        .map_err(|e| e.to_string())?
        .ok_or("no echo")?;
    check(&echo[..] == b"[\"after\"]", || format!("echo {echo:?}"))?;
    drop(to_host);
    let status = wait(&mut child, Duration::from_secs(2));
    expect_exit(status, 0, "(gone)")
}

fn fd2_closed(host: &[OsString]) -> Outcome {
    let wrapper = sh("2>&-");
    let mut b = start_wrapped(
        host,
        &wrapper.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let reply = b.roundtrip(b"{\"fd2\":\"closed\"}");
    check(reply == b"{\"fd2\":\"closed\"}", || {
        format!("echo {reply:?}")
    })?;
    let (status, stderr) = b.close();
    expect_exit(status, 0, &stderr)
}

/// Starts the host with descriptor `fd` closed and gives it a message and then EOF, if
/// it is still there to take them; it must exit, by itself, and say why if it fails.
fn closed_at_start(host: &[OsString], fd: u32, name: &str) -> Outcome {
    let mut child = start_redirected(host, &format!("{fd}<&-"), Stdio::piped())?;
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(&frame(b"[1]"));
    drop(stdin);
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stdout.read_to_end(&mut all);
    });
    let status = wait(&mut child, Duration::from_secs(2));
    let stderr = stderr_of(&mut child);
    let _ = reader.join();
    match status.code() {
        Some(0) => Ok(()),
        Some(_) => check(stderr.contains(name), || {
            format!(
                "{} without naming {name}; stderr: {stderr}",
                describe(status)
            )
        }),
        None => Err(format!("{}; stderr: {stderr}", describe(status))),
    }
}

fn fd0_closed(host: &[OsString]) -> Outcome {
    closed_at_start(host, 0, "stdin")
}

fn fd1_closed(host: &[OsString]) -> Outcome {
    closed_at_start(host, 1, "stdout")
}

fn nonblocking(host: &[OsString]) -> Outcome {
    let script = "import fcntl, os, sys\n\
                  for fd in (0, 1):\n    \
                      fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)\n\
                  os.execv(sys.argv[1], sys.argv[1:])\n";
    let mut b = start_wrapped(host, &["python3", "-c", script]);
    // A burst, written before any reply is read.
    let burst: Vec<Vec<u8>> = (0..300)
        .map(|i| format!("{{\"n\":{i}}}").into_bytes())
        .collect();
    for msg in &burst {
        b.send(msg);
    }
    for msg in &burst {
        let reply = b.recv();
        check(&reply == msg, || format!("burst: {reply:?} for {msg:?}"))?;
    }
    // A reply bigger than the pipe, read slowly: the host's write meets a full pipe.
    let big = json_string(MAX_HOST_TO_BROWSER as usize);
    b.send(&big);
    std::thread::sleep(Duration::from_millis(200));
    let reply = b.recv();
    check(reply == big, || {
        format!("1 MiB reply differs ({} bytes)", reply.len())
    })?;
    let (status, stderr) = b.close();
    expect_exit(status, 0, &stderr)
}

fn stdout_gone_mid_burst(host: &[OsString]) -> Outcome {
    let mut b = Browser::spawn(command(host), Under::Native);
    for _ in 0..4 {
        b.send(&json_string(256 * 1024));
    }
    let mut head = [0u8; 4096];
    b.from_host
        .get_mut()
        .read_exact(&mut head)
        .map_err(|e| e.to_string())?;
    let Browser {
        mut child,
        to_host,
        from_host,
        stderr,
        ..
    } = b;
    drop(from_host);
    let mut to_host = to_host.unwrap();
    // The host learns of it when it next writes; the browser still talks.
    let _ = to_host.send(b"[\"more\"]");
    drop(to_host);
    let status = wait(&mut child, Duration::from_secs(2));
    let stderr = stderr.lock().unwrap().clone();
    expect_exit(status, 0, &stderr)
}

fn stdin_closed_mid_frame(host: &[OsString]) -> Outcome {
    let mut b = Browser::spawn(command(host), Under::Native);
    let reply = b.roundtrip(b"[\"before\"]");
    check(reply == b"[\"before\"]", || format!("echo {reply:?}"))?;
    let stdin = b.writer().get_mut();
    stdin.write_all(&100u32.to_ne_bytes()).unwrap();
    stdin.write_all(b"[\"only ten").unwrap();
    let (status, stderr) = b.close();
    expect_exit(status, 1, &stderr)?;
    check(stderr.contains("100"), || {
        format!("stderr lacks the length: {stderr}")
    })
}

fn stdout_full(host: &[OsString]) -> Outcome {
    let mut child = start_redirected(host, "1>/dev/full", Stdio::null())?;
    let mut stdin = child.stdin.take().unwrap();
    let frame = frame(b"[\"full\"]");
    stdin.write_all(&frame).map_err(|e| e.to_string())?;
    // The write fails at once; end of input must not hide it (with a writer thread,
    // the host learns of it at its next receive).
    std::thread::sleep(Duration::from_millis(100));
    drop(stdin);
    let status = wait(&mut child, Duration::from_secs(2));
    let stderr = stderr_of(&mut child);
    expect_exit(status, 1, &stderr)?;
    check(stderr.to_lowercase().contains("no space"), || {
        format!("stderr: {stderr}")
    })
}

fn sigterm(host: &[OsString]) -> Outcome {
    let mut b = Browser::spawn(command(host), Under::Native);
    let reply = b.roundtrip(b"[0]");
    check(reply == b"[0]", || format!("echo {reply:?}"))?;
    let pid = b.child.id();
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    check(killed.success(), || "kill failed".into())?;
    let status = wait(&mut b.child, Duration::from_secs(2));
    check(status.signal() == Some(15), || describe(status))
}

fn two_gib(host: &[OsString]) -> Outcome {
    let mut b = Browser::spawn(command(host), Under::Native);
    let len: usize = (2 << 30) + 1024;
    // A JSON string, which the host refuses to echo (over 1 MiB).
    let mut payload = vec![b'a'; len];
    payload[0] = b'"';
    payload[len - 1] = b'"';
    let stdin = b.writer().get_mut();
    stdin
        .write_all(&(len as u32).to_ne_bytes())
        .map_err(|e| e.to_string())?;
    stdin.write_all(&payload).map_err(|e| e.to_string())?;
    drop(payload);
    let reply = b.recv();
    check(reply.starts_with(b"{\"error\""), || {
        format!(
            "reply: {:?}",
            String::from_utf8_lossy(&reply[..reply.len().min(120)])
        )
    })?;
    check(
        String::from_utf8_lossy(&reply).contains(&len.to_string()),
        || {
            format!(
                "the reply does not give the size: {}",
                String::from_utf8_lossy(&reply)
            )
        },
    )?;
    let echo = b.roundtrip(b"[\"after\"]");
    check(echo == b"[\"after\"]", || format!("echo {echo:?}"))?;
    let (status, stderr) = b.close();
    expect_exit(status, 0, &stderr)
}

/// Sends `signal` to `pid`.
fn kill(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) takes two integers and touches no memory.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
}

/// Messages of mixed sizes, each different, so that a lost, repeated or damaged frame
/// shows.
fn traffic(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let len = [16, 300, 5_000, 70_000][i % 4] + i % 7;
            let mut msg = json_string(len);
            let tag = format!("{i:08}");
            msg[1..9].copy_from_slice(tag.as_bytes());
            msg
        })
        .collect()
}

fn signal_storm(host: &[OsString]) -> Outcome {
    let mut b = Browser::spawn(command(host), Under::Native);
    let pid = b.child.id();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let storm = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut sent = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for signal in [libc::SIGWINCH, libc::SIGSTOP, libc::SIGCONT] {
                    kill(pid, signal);
                    sent += 1;
                }
                std::thread::sleep(Duration::from_micros(300));
            }
            kill(pid, libc::SIGCONT);
            sent
        })
    };
    let messages = traffic(2_000);
    let mut outcome = Ok(());
    for chunk in messages.chunks(50) {
        for msg in chunk {
            b.send(msg);
        }
        for msg in chunk {
            let reply = b.recv();
            if &reply != msg {
                outcome = Err(format!(
                    "reply {:?}... for message {:?}...",
                    &reply[..9.min(reply.len())],
                    &msg[..9]
                ));
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = storm.join().unwrap();
    outcome?;
    check(sent > 300, || format!("only {sent} signals sent"))?;
    let (status, stderr) = b.close();
    expect_exit(status, 0, &stderr)
}

fn sigpipe_sent(host: &[OsString]) -> Outcome {
    let mut b = Browser::spawn(command(host), Under::Native);
    check(b.roundtrip(b"[1]") == b"[1]", || "first echo".into())?;
    kill(b.child.id(), libc::SIGPIPE);
    std::thread::sleep(Duration::from_millis(50));
    check(b.roundtrip(b"[2]") == b"[2]", || {
        "echo after SIGPIPE".into()
    })?;
    let (status, stderr) = b.close();
    expect_exit(status, 0, &stderr)
}

/// The host's resident memory at its peak, from /proc.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn stalled_reader(host: &[OsString]) -> Outcome {
    let mut b = Browser::spawn(command(host), Under::Native);
    let pid = b.child.id();
    // The baseline once the host is up and has answered a message of the same size.
    let message = json_string(256 * 1024);
    check(b.roundtrip(&message) == message, || "first echo".into())?;
    let before = peak_rss_kib(pid).unwrap_or(0);
    let count = 192; // 48 MiB
    let mut to_host = b.to_host.take().unwrap();
    let writer = {
        let message = message.clone();
        std::thread::spawn(move || {
            for _ in 0..count {
                if to_host.send(&message).is_err() {
                    break;
                }
            }
            to_host
        })
    };
    // Nobody reads the replies: the host fills its stdout pipe, then must wait (and
    // stop reading) rather than buffer what keeps coming.
    std::thread::sleep(Duration::from_millis(1500));
    let stalled = peak_rss_kib(pid).unwrap_or(0);
    for i in 0..count {
        let reply = b.recv();
        if reply != message {
            return Err(format!("reply {i} differs"));
        }
    }
    b.to_host = Some(writer.join().unwrap());
    let peak = peak_rss_kib(pid).unwrap_or(0);
    // Eight messages' worth: the pipes, a batch in each of the writer thread's two
    // slots, the read buffer. 48 MiB would show while stalled. Once the replies flow, a
    // Node host holds the buffers of messages already answered until V8 collects them,
    // which its heuristics put off until tens of MiB of them are dead (measured: 36 MiB
    // of `arrayBuffers` at the peak, with 4.5 MiB of heap): the stalled figure is the
    // one that shows whether it stopped reading. Even stalled, it holds the garbage of
    // the messages it answered before the pipe filled: 6.3 MiB over the baseline was
    // measured once (under load), where a host that kept reading would hold 48.
    let (garbage, stalled_garbage) = if host[0].to_string_lossy().ends_with(".mjs") {
        (48 * 1024, 10 * 1024)
    } else {
        (0, 0)
    };
    check(
        stalled < before + 8 * 256 + 4096 + stalled_garbage && peak < before + 16 * 1024 + garbage,
        || {
            format!(
                "peak RSS grew from {before} KiB to {stalled} KiB while stalled, {peak} KiB at the end"
            )
        },
    )?;
    let (status, stderr) = b.close();
    expect_exit(status, 0, &stderr)
}

/// Every case against every binding; the table is printed whatever happens, and the
/// test fails on any cell that is not as expected.
#[test]
fn fault_table_for_every_binding() {
    let hosts = hosts();
    let mut table = String::from("| case | expected |");
    for (name, _) in &hosts {
        let _ = write!(table, " {name} |");
    }
    table.push_str("\n|---|---|");
    table.push_str(&"---|".repeat(hosts.len()));
    table.push('\n');
    let mut failures = Vec::new();
    for case in CASES {
        let _ = write!(table, "| {} | {} |", case.name, case.expected);
        for (binding, argv) in &hosts {
            let started = std::time::Instant::now();
            let outcome = std::panic::catch_unwind(|| (case.run)(argv)).unwrap_or_else(|panic| {
                let text = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
                Err(format!("panicked: {}", text.unwrap_or_default()))
            });
            let took = started.elapsed();
            match outcome {
                Ok(()) => {
                    let _ = write!(table, " ok ({:.1} s) |", took.as_secs_f64());
                }
                Err(why) => {
                    table.push_str(" FAILED |");
                    failures.push(format!("{binding}, {}: {why}", case.name));
                }
            }
        }
        table.push('\n');
    }
    println!("{table}");
    assert!(failures.is_empty(), "{table}\n{}", failures.join("\n"));
}
