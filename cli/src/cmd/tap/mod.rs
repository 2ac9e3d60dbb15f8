//! `nmframe tap`: a transparent proxy between a real browser and a real host, started by
//! the browser in the host's place. It forwards both directions unchanged and writes one
//! JSON line per event to a log: every frame with its verdict under the browser's rules,
//! the host's stderr, the ends of both streams, the host's exit.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nmframe::{Browser, Caller, HostStdio};

use crate::browser::EXIT_GRACE;
use crate::exit::{MISBEHAVED, SETUP};
use crate::launch::relay_stderr;
use crate::out::problem;

use forward::forward;
pub(crate) use log::Dir;
use log::Entry;
use track::Tracker;
use writer::Log;

mod forward;
pub(crate) mod install;
mod log;
pub(crate) mod show;
mod track;
mod writer;

/// `nmframe tap --log FILE [--bodies] [--browser B] -- HOST [ARGS...]`.
pub(crate) fn cmd_tap(
    log_path: &Path,
    bodies: bool,
    browser: Option<Browser>,
    command: &[OsString],
) -> u8 {
    let Some((host, args)) = command.split_first() else {
        problem("tap needs the host to start, after --");
        return crate::exit::USAGE;
    };
    let argv: Vec<String> = command
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let browser = match browser.unwrap_or(Caller::from_args(&argv).browser) {
        Browser::Unknown => Browser::Chromium,
        known => known,
    };
    let host_path = PathBuf::from(host);
    // The browser starts a host in the host's own directory; the tap, started in its
    // place, does the same for the real one.
    let cwd = host_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // Each connection is a tap process of its own, and several may share one log.
    let (log, log_writer) = Log::open(log_path, format!("{}@{unix_ms}", std::process::id()));
    log.send(Entry {
        browser: Some(browser.to_string()),
        argv: Some(argv),
        cwd: Some(cwd.display().to_string()),
        unix_ms: Some(unix_ms),
        ..Entry::new("start")
    });
    let code = tap(&log, &host_path, args, &cwd, browser, bodies);
    log.end(log_writer);
    code
}

fn tap(
    log: &Log,
    host: &Path,
    args: &[OsString],
    cwd: &Path,
    browser: Browser,
    bodies: bool,
) -> u8 {
    // The tap's own stdio as a host's: SIGPIPE ignored, the stdin pipe enlarged as hosts
    // on nmframe do (Firefox writes a pipe's worth at a time), and fd 1 guarded so that
    // dropping the writer is what closes the browser's pipe.
    let (stdin, stdout) = match HostStdio::new().open() {
        Ok(stdio) => stdio,
        Err(err) => {
            log.send(Entry::new("spawn_failed").why(format!("the tap's own stdio: {err}")));
            problem(&format!("tap: {err}"));
            return SETUP;
        }
    };
    let mut child = match Command::new(host)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) => {
            let why = format!("cannot start {}: {err}", host.display());
            log.send(Entry::new("spawn_failed").why(why.clone()));
            problem(&format!("tap: {why}"));
            return 127;
        }
    };
    let eof_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    // Whatever can end the session wakes the supervisor below; it sleeps until then.
    let (wake, woken) = mpsc::channel::<()>();
    // The browser closing its end is seen here too, not only by the forwarding thread,
    // which may be stuck writing to a host that stopped reading.
    let watch = stdin.as_file().try_clone().ok();
    let to_host = {
        let mut tracker = Tracker::new(Dir::ToHost, browser, bodies, log.clone());
        let host_stdin = child.stdin.take().expect("piped");
        let eof_at = Arc::clone(&eof_at);
        let wake = wake.clone();
        thread::spawn(move || {
            forward(stdin, host_stdin, &mut tracker, true);
            // The host's stdin is closed now (dropped): the browser has disconnected, or
            // the host stopped reading.
            eof_at
                .lock()
                .expect("eof lock")
                .get_or_insert_with(Instant::now);
            let _ = wake.send(());
        })
    };
    let to_browser = {
        let mut tracker = Tracker::new(Dir::ToBrowser, browser, bodies, log.clone());
        let host_stdout = child.stdout.take().expect("piped");
        let wake = wake.clone();
        thread::spawn(move || {
            forward(host_stdout, stdout, &mut tracker, false);
            let _ = wake.send(());
        })
    };
    let stderr = {
        let host_stderr = child.stderr.take().expect("piped");
        let log = log.clone();
        thread::spawn(move || log_stderr(host_stderr, &log))
    };
    drop(to_host);
    let tick = watchers::start(&child, watch.as_ref(), &wake);
    drop(wake);
    let status = wait_for_host(
        &mut child,
        &eof_at,
        watch.as_ref(),
        &to_browser,
        Waking { woken, tick },
        browser,
        log,
    );
    // The host is gone; its stdout ends with it, unless a child of its holds it open.
    let deadline = Instant::now() + Duration::from_secs(1);
    while !(to_browser.is_finished() && stderr.is_finished()) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(2));
    }
    let after_eof_ms = eof_at
        .lock()
        .expect("eof lock")
        .map(|at| at.elapsed().as_millis() as u64);
    let mut entry = Entry {
        after_eof_ms,
        ..Entry::new("exit")
    };
    let code = match status {
        Some(status) => {
            entry.code = status.code();
            entry.signal = signal_of(status);
            exit_code(status)
        }
        None => MISBEHAVED,
    };
    log.send(entry);
    code
}

/// How the supervisor sleeps: until one of the threads that watch the session sends on
/// `woken`, and where not everything has a watcher, at most `tick`.
struct Waking {
    woken: Receiver<()>,
    tick: Option<fn(soon: bool) -> Duration>,
}

/// Waits for the host to exit. Once the browser has closed the host's stdin (seen on
/// `watch`, the tap's own stdin, or by the forwarding thread), the host has the
/// browser's grace period, then it is killed as the browser would kill it.
fn wait_for_host(
    child: &mut Child,
    eof_at: &Mutex<Option<Instant>>,
    watch: Option<&std::fs::File>,
    to_browser: &thread::JoinHandle<()>,
    waking: Waking,
    browser: Browser,
    log: &Log,
) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(_) => return None,
        }
        let since_eof = {
            let mut at = eof_at.lock().expect("eof lock");
            if at.is_none() && watch.is_some_and(hung_up) {
                *at = Some(Instant::now());
            }
            at.map(|at| at.elapsed())
        };
        if since_eof.is_some_and(|d| d > EXIT_GRACE) {
            log.send(Entry::new("killed").why(format!(
                "the host was still running {:.1} s after its stdin closed; {browser} kills it \
                 then (Chromium SIGKILL at 2 s, Firefox SIGTERM at about 3 s): so does the tap",
                EXIT_GRACE.as_secs_f64()
            )));
            let _ = child.kill();
            return child.wait().ok();
        }
        let soon = since_eof.is_some() || to_browser.is_finished();
        let grace_left = since_eof.map(|d| EXIT_GRACE.saturating_sub(d) + Duration::from_millis(1));
        let timeout = match (waking.tick.map(|tick| tick(soon)), grace_left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let woke = match timeout {
            Some(timeout) => match waking.woken.recv_timeout(timeout) {
                Err(RecvTimeoutError::Disconnected) => Err(()),
                _ => Ok(()),
            },
            None => waking.woken.recv().map_err(|_| ()),
        };
        if woke.is_err() {
            // Every watcher has ended (so has the host, or its exit watcher would
            // still be waiting): nothing will wake us again, so look now and then.
            thread::sleep(timeout.unwrap_or(Duration::from_millis(2)));
        }
    }
}

/// The threads that wake the supervisor: on Linux, one waits for the host's exit and one
/// for the browser to hang up, so that a tap whose host is idle sleeps and costs nothing.
/// Elsewhere the supervisor also looks by itself, every 25 ms (2 ms once the exit is
/// near, which the browser times).
mod watchers {
    use super::*;

    #[cfg(target_os = "linux")]
    pub(super) fn start(
        child: &Child,
        watch: Option<&std::fs::File>,
        wake: &Sender<()>,
    ) -> Option<fn(bool) -> Duration> {
        use nix::sys::wait::{Id, WaitPidFlag, waitid};
        use nix::unistd::Pid;
        let pid = Pid::from_raw(child.id() as i32);
        let exit_wake = wake.clone();
        // WNOWAIT leaves the host a zombie for `try_wait` to reap: its pid cannot be
        // reused before then, so killing it by pid stays safe.
        let exits = thread::Builder::new()
            .name("tap-exit".into())
            .spawn(move || {
                while let Err(nix::errno::Errno::EINTR) =
                    waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT)
                {
                }
                let _ = exit_wake.send(());
            });
        let hangs = watch.and_then(|file| file.try_clone().ok()).map(|file| {
            let wake = wake.clone();
            thread::Builder::new()
                .name("tap-hangup".into())
                .spawn(move || {
                    if wait_hang_up(&file) {
                        let _ = wake.send(());
                    }
                })
        });
        match (exits, hangs) {
            (Ok(_), Some(Ok(_)) | None) => None,
            _ => Some(polling),
        }
    }

    /// Blocks until the writer of `input` closes its end; asks for no event, so that
    /// bytes waiting in the pipe do not wake it (POLLHUP and POLLERR always do).
    #[cfg(target_os = "linux")]
    fn wait_hang_up(input: &std::fs::File) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        loop {
            let mut fds = [PollFd::new(input.as_fd(), PollFlags::empty())];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(1..) => return true,
                Ok(..=0) | Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return false,
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn start(
        _child: &Child,
        _watch: Option<&std::fs::File>,
        _wake: &Sender<()>,
    ) -> Option<fn(bool) -> Duration> {
        Some(polling)
    }

    // Once either stream has ended the exit is near, and the browser times it: look
    // often. Before, a long session should not cost hundreds of wake-ups a second.
    fn polling(soon: bool) -> Duration {
        Duration::from_millis(if soon { 2 } else { 25 })
    }
}

/// Whether the writer of `input` (the browser, for the tap's stdin) has closed its end,
/// whatever is still buffered in it.
#[cfg(unix)]
fn hung_up(input: &std::fs::File) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let mut fds = [PollFd::new(input.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(1..))
        && fds[0]
            .revents()
            .is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR))
}

/// Windows has no readiness for anonymous pipes: the forwarding thread tells.
#[cfg(not(unix))]
fn hung_up(_input: &std::fs::File) -> bool {
    false
}

/// Copies the host's stderr to the tap's (the browser logs it) and logs each line.
fn log_stderr(stderr: impl Read, log: &Log) {
    relay_stderr(stderr, |line| {
        let _ = io::stderr().write_all(line);
        let text = String::from_utf8_lossy(line);
        log.send(Entry {
            line: Some(text.trim_end_matches(['\n', '\r']).to_owned()),
            ..Entry::new("stderr")
        });
    });
}

fn signal_of(status: ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

/// The host's exit code, passed on; a signal as a shell reports it (128 + N).
fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), signal_of(status)) {
        (Some(code), _) => code as u8,
        (None, Some(signal)) => (128 + signal) as u8,
        (None, None) => MISBEHAVED,
    }
}
