//! `manifest check` starting the host the way the browser would, to catch the hosts that
//! cannot start there: the browser's report of those is one generic line.

use std::io::Read;
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nmframe::{Browser, Decoded, Limits, decode_frame};

use crate::browser::EXIT_GRACE;
use crate::launch::Launch;
use crate::registration::{Fields, Problem, error, warning};
use crate::text::preview;

/// What a browser started from a desktop session passes on, of the variables a host could
/// need. Everything else the shell that runs `check` has (`LD_LIBRARY_PATH`, a virtualenv,
/// an extended `PATH`) is what a host must not depend on.
const KEPT: [&str; 8] = [
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XDG_RUNTIME_DIR",
    "DBUS_SESSION_BUS_ADDRESS",
];

/// The `PATH` a desktop session usually gives its programs.
pub const DESKTOP_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// How the trial start went: problems, or what went well.
pub struct Started {
    pub problems: Vec<Problem>,
    pub note: Option<String>,
}

/// Starts the host of `fields` as `browser` would (its argv and working directory, a
/// desktop session's environment), closes its stdin at once, as the browser does on
/// disconnect, and judges how it exits.
pub fn try_start(fields: &Fields, browser: Browser, manifest: &Path) -> Started {
    let Some(host) = fields.path.as_deref() else {
        return Started {
            problems: Vec::new(),
            note: None,
        };
    };
    // A relative path (Windows) is taken from the manifest's folder.
    let host = &crate::launch::resolve_host(Path::new(host), manifest.parent());
    let launch = Launch {
        browser,
        host: host.to_path_buf(),
        extra_args: Vec::new(),
        origin: first(
            &fields.allowed_origins,
            "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/",
        ),
        extension_id: first(&fields.allowed_extensions, "check@nmframe.dev"),
        manifest_path: manifest.to_path_buf(),
    };
    let mut cmd = launch.command();
    // On Windows a program needs much of its environment to start at all (SystemRoot,
    // its PATH), and browsers pass theirs on: only Unix gets the desktop one.
    if cfg!(unix) {
        cmd.env_clear().env("PATH", DESKTOP_PATH);
        for name in KEPT {
            if let Some(value) = std::env::var_os(name) {
                cmd.env(name, value);
            }
        }
    }
    let started = Instant::now();
    let (mut child, tree) = match crate::tree::spawn(&mut cmd) {
        Ok(started) => started,
        Err(err) => return fail(cannot_spawn(host, &err)),
    };
    drop(child.stdin.take());
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait(&mut child, &tree, EXIT_GRACE);
    let after = started.elapsed();
    let grace = Duration::from_millis(500);
    let stdout = stdout.recv_timeout(grace).unwrap_or_default();
    let stderr = stderr.recv_timeout(grace).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr);
    // The last line: where a loader, `env` and a Python traceback say what went wrong.
    let last_line = stderr
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut problems = Vec::new();
    let Some(status) = status else {
        let orphan = if cfg!(windows) && browser != Browser::Firefox {
            // What the browser kills is the cmd.exe it started the host through.
            "; on Windows Chromium kills the cmd.exe it started the host through, and the \
             host itself is left running"
        } else {
            ""
        };
        problems.push(warning(format!(
            "the host was still running {} s after its stdin closed: a browser closes stdin \
             when the extension disconnects, and then kills the host (Chromium after 2 s, \
             Firefox sends SIGTERM){orphan}; exit when a read from stdin returns end of file",
            EXIT_GRACE.as_secs()
        )));
        return Started {
            problems,
            note: None,
        };
    };
    if let Some(problem) = judge_exit(status, last_line) {
        problems.push(problem);
    }
    if !stdout.is_empty() {
        problems.push(judge_stdout(&stdout, browser, host));
    }
    let environment = if cfg!(unix) {
        "a desktop session's environment"
    } else {
        "this environment"
    };
    let note = problems.is_empty().then(|| {
        format!(
            "started as {browser} starts it, with {environment}, and exited 0 {} ms after its stdin closed",
            after.as_millis()
        )
    });
    Started { problems, note }
}

fn first(list: &Option<Vec<String>>, fallback: &str) -> String {
    list.as_ref()
        .and_then(|l| l.first().cloned())
        .unwrap_or_else(|| fallback.to_owned())
}

fn fail(text: String) -> Started {
    Started {
        problems: vec![error(text)],
        note: None,
    }
}

/// Why the kernel refused to start the host, and what to do about it.
fn cannot_spawn(host: &Path, err: &std::io::Error) -> String {
    let shebang = std::fs::read(host).ok().and_then(|bytes| {
        let line = bytes.split(|&b| b == b'\n').next()?.strip_prefix(b"#!")?;
        Some(String::from_utf8_lossy(line).trim().to_owned())
    });
    match (err.kind(), err.raw_os_error(), shebang) {
        (std::io::ErrorKind::NotFound, _, Some(line)) => format!(
            "the host cannot start: its #! line names an interpreter that does not exist \
             (\"#!{line}\"); install it, or point the line at one that exists"
        ),
        (std::io::ErrorKind::NotFound, _, None) => format!(
            "the host cannot start ({err}): the program exists, so the loader it names \
             does not (a binary built for another system or C library?)"
        ),
        (std::io::ErrorKind::PermissionDenied, _, Some(line)) => format!(
            "the host cannot start ({err}): the host or its interpreter (\"#!{line}\") is \
             not executable; chmod +x it"
        ),
        (std::io::ErrorKind::PermissionDenied, _, None) => format!(
            "the host cannot start ({err}): chmod +x {}, and check that its file system is \
             not mounted noexec",
            host.display()
        ),
        // ENOEXEC: neither an executable format nor a `#!` script.
        (_, Some(8), None) => format!(
            "the host cannot start ({err}): it is not a program this system runs; a script \
             needs a #! line"
        ),
        _ => format!("the host cannot start: {err}"),
    }
}

/// An exit that means the host could not start or run, with the fix.
fn judge_exit(status: ExitStatus, stderr: &str) -> Option<Problem> {
    let said = if stderr.is_empty() {
        String::new()
    } else {
        format!(": \"{stderr}\"")
    };
    match status.code() {
        Some(0) => None,
        Some(127) if stderr.contains("error while loading shared libraries") => {
            Some(error(format!(
                "the host cannot start: the dynamic loader cannot find a library{said}. A \
                 browser starts hosts without your shell's LD_LIBRARY_PATH: link with an \
                 rpath ($(pkg-config --libs nmframe) has one), link statically \
                 ($(pkg-config --libs nmframe-static)), or install the library where \
                 ldconfig finds it"
            )))
        }
        Some(127) => Some(error(format!(
            "the host exited 127, a command it runs was not found{said}. A browser starts \
             hosts with PATH={DESKTOP_PATH} (or its session's), not your shell's: use \
             absolute paths"
        ))),
        Some(126) => Some(error(format!(
            "the host exited 126, a command it runs cannot be executed{said}"
        ))),
        Some(code) if cfg!(windows) => judge_windows_exit(code as u32, stderr, &said),
        Some(code) => Some(warning(format!(
            "the host exited {code} when its stdin closed at once (a browser closes it when \
             the extension disconnects){said}; a host should exit 0 at end of file"
        ))),
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                if let Some(signal) = status.signal() {
                    return Some(error(format!(
                        "the host was killed by signal {signal} as it started{said}"
                    )));
                }
            }
            Some(error(format!("the host ended with {status}{said}")))
        }
    }
}

/// A Windows exit that means the host could not start: the loader's NTSTATUS codes, and
/// `cmd.exe` (which Chromium starts hosts through) not finding the program.
fn judge_windows_exit(code: u32, stderr: &str, said: &str) -> Option<Problem> {
    let text = match code {
        0 => return None,
        0xC000_0135 => format!(
            "the host cannot start: a DLL it needs was not found (0xC0000135, \
             STATUS_DLL_NOT_FOUND){said}. Windows looks beside the program, in System32 and \
             in the browser's PATH: put nmframe.dll (and your compiler's runtime DLLs) next \
             to the host, or link libnmframe statically"
        ),
        0xC000_0139 => format!(
            "the host cannot start: a DLL beside it lacks a function the host was built \
             against (0xC0000139, STATUS_ENTRYPOINT_NOT_FOUND){said}; ship the nmframe.dll \
             the host was linked with"
        ),
        0xC000_007B => format!(
            "the host cannot start: it or a DLL it loads is built for another architecture \
             (0xC000007B, STATUS_INVALID_IMAGE_FORMAT){said}; build the host and its DLLs \
             for the same one"
        ),
        0xC000_0142 => {
            format!("the host cannot start: a DLL failed to initialise (0xC0000142){said}")
        }
        // cmd.exe: "is not recognized as an internal or external command" (Wine words it
        // "Can't recognize ..."); 9009 is its exit code for that.
        _ if code == 9009
            || stderr.contains("not recognized")
            || stderr.contains("Can't recognize") =>
        {
            format!(
                "the host cannot start: cmd.exe, which Chromium starts hosts through, did not \
                 find the program{said}; check \"path\" in the manifest"
            )
        }
        0xC000_0000.. => {
            format!("the host crashed as it started (0x{code:08X}: an NTSTATUS code){said}")
        }
        _ => {
            return Some(warning(format!(
                "the host exited {code} when its stdin closed at once (a browser closes it \
                 when the extension disconnects){said}; a host should exit 0 at end of file"
            )));
        }
    };
    Some(error(text))
}

/// Bytes the host wrote unasked: whole messages are allowed, anything else would break
/// the stream.
fn judge_stdout(stdout: &[u8], browser: Browser, host: &Path) -> Problem {
    let cap = Limits::browser().inbound();
    let (mut rest, mut messages) = (stdout, 0);
    while let Ok(Decoded::Frame { consumed, .. }) = decode_frame(rest, cap) {
        messages += 1;
        rest = &rest[consumed..];
    }
    if rest.is_empty() {
        return warning(format!(
            "the host sent {messages} message(s) before it was sent any; {browser} passes \
             them to the extension"
        ));
    }
    let batch = host
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("bat") || e.eq_ignore_ascii_case("cmd"));
    let cause = if batch {
        // cmd.exe echoes each command with its prompt ("C:\dir>...") to stdout.
        "a batch file echoes its commands to stdout unless its first line is @echo off"
    } else {
        "print to stderr"
    };
    error(format!(
        "the host wrote {} bytes to stdout that are not whole messages, before it was sent \
         any (text printed to stdout?): {}. {browser} would close the port; {cause}",
        stdout.len(),
        preview(stdout, 32)
    ))
}

/// Reads a pipe to its end on a thread of its own; the bytes come back on the receiver.
/// A host that leaves a child holding the pipe open never ends it: the caller waits only
/// so long.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        let _ = tx.send(bytes);
    });
    rx
}

/// The host's exit status, or `None` (and the host killed) when it is still running
/// after `limit`.
fn wait(child: &mut Child, tree: &crate::tree::Tree, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if start.elapsed() >= limit {
            let _ = tree.kill(child);
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
