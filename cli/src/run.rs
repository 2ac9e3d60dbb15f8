//! `nmframe run`: start a host exactly as a browser does, talk to it, and hold its
//! output to the browser's rules.

use std::ffi::OsString;
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use nmframe::chunked::{Accepted, ChunkOptions, Reassembler};
use nmframe::{
    Browser, Cap, Decoded, Direction, Error, FrameDecoder, FrameWriter, HEADER_LEN, JsonDecoder,
    Limits, MAX_HOST_TO_BROWSER, decode_frame,
};

use crate::out::{note, problem, stderr_line, warn};
use crate::text::{preview, to_json_line};

/// How long Chromium waits for a host to exit after closing its stdin before it sends
/// SIGKILL (Firefox sends SIGTERM at about 3 s).
pub const EXIT_GRACE: Duration = Duration::from_secs(2);

/// How to start the host.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The browser to imitate: its command line for the host and its rules for the
    /// host's output. The command line refuses `Unknown`; Chromium's rules would apply.
    pub browser: Browser,
    pub host: PathBuf,
    /// Arguments before the browser's own, e.g. the script for an interpreter.
    pub extra_args: Vec<OsString>,
    /// Chromium: `chrome-extension://<id>/`.
    pub origin: String,
    /// Firefox: the add-on id.
    pub extension_id: String,
    /// Firefox: the manifest path passed as `argv[1]`.
    pub manifest_path: PathBuf,
}

impl Launch {
    /// The host's command line and environment, as the browser sets them up.
    pub(crate) fn command(&self) -> Command {
        // A relative path with a folder in it would be looked up after the move into
        // the host's directory (below): anchor it here first. A bare name is searched
        // in PATH as usual.
        let host = if self.host.components().count() > 1 {
            std::path::absolute(&self.host).unwrap_or_else(|_| self.host.clone())
        } else {
            self.host.clone()
        };
        // The user's own arguments first: `run -- python3 host.py` is then started as
        // the kernel starts a `#!` script the browser launches.
        let mut args = self.extra_args.clone();
        match self.browser {
            Browser::Chromium | Browser::Unknown => {
                args.push(self.origin.clone().into());
                if cfg!(windows) {
                    // A service worker's port: there is no window.
                    args.push("--parent-window=0".into());
                }
            }
            Browser::Firefox => {
                args.push(self.manifest_path.clone().into());
                args.push(self.extension_id.clone().into());
            }
        }
        let mut cmd = self.program(&host, &args);
        // Both browsers start the host in its own directory.
        if let Some(dir) = host.parent().filter(|d| !d.as_os_str().is_empty()) {
            cmd.current_dir(dir);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    #[cfg(not(windows))]
    fn program(&self, host: &Path, args: &[OsString]) -> Command {
        let mut cmd = Command::new(host);
        cmd.args(args);
        cmd
    }

    /// Chromium on Windows starts every host through the command interpreter, as
    /// `%COMSPEC% /d /s /c "HOST ARGS" < pipe > pipe` (unless the policy
    /// NativeHostsExecutablesLaunchDirectly is set): `.bat` hosts run, `cmd.exe` is the
    /// process the browser watches and kills, and the host is its child. Firefox starts
    /// a program directly (the standard library runs a `.bat` through `cmd.exe` too).
    #[cfg(windows)]
    fn program(&self, host: &Path, args: &[OsString]) -> Command {
        use std::os::windows::process::CommandExt;
        if self.browser == Browser::Firefox {
            let mut cmd = Command::new(host);
            cmd.args(args);
            return cmd;
        }
        let comspec = std::env::var_os("COMSPEC").unwrap_or_else(|| "cmd.exe".into());
        let mut line = quote_arg(host.as_os_str());
        for arg in args {
            line.push(' ');
            line.push_str(&quote_arg(arg));
        }
        let mut cmd = Command::new(comspec);
        // cmd.exe parses its own command line: `/s /c "..."` strips the outer quotes
        // and runs the rest as typed.
        cmd.raw_arg(format!("/d /s /c \"{line}\""));
        cmd
    }
}

/// `arg` quoted for a Windows command line where it needs it (the C runtime's rules:
/// backslashes before a quote are doubled, a quote is escaped).
#[cfg(any(windows, test))]
fn quote_arg(arg: &std::ffi::OsStr) -> String {
    let arg = arg.to_string_lossy();
    if !arg.is_empty() && !arg.contains([' ', '\t', '"']) {
        return arg.into_owned();
    }
    let mut out = String::from('"');
    let mut backslashes = 0;
    for c in arg.chars() {
        if c == '\\' {
            backslashes += 1;
            continue;
        }
        // Backslashes count as escapes only before a quote.
        let escapes = if c == '"' {
            backslashes * 2 + 1
        } else {
            backslashes
        };
        out.extend(std::iter::repeat_n('\\', escapes));
        backslashes = 0;
        out.push(c);
    }
    out.extend(std::iter::repeat_n('\\', backslashes * 2));
    out.push('"');
    out
}

/// How the session is run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `sendNativeMessage`: send the first message, take the first reply, disconnect.
    pub one_shot: bool,
    /// Give up (and kill the host) after this long.
    pub timeout: Option<Duration>,
    /// Decorate the output for a person at a terminal.
    pub human: bool,
    /// Act as an extension with nmframe-port: acknowledge and reassemble messages in
    /// parts, and keep the port open until the host is quiet.
    pub chunked: bool,
}

/// What happened, for the exit code.
#[derive(Debug, Default)]
pub struct Report {
    pub sent: usize,
    pub replies: usize,
    /// Protocol violations and misbehaviour, each already explained on stderr.
    pub problems: usize,
    /// How the host ended, when it did.
    pub exit_status: Option<ExitStatus>,
    pub exit_after: Option<Duration>,
}

/// Why a session could not run at all.
#[derive(Debug)]
pub enum RunError {
    /// The host could not be started.
    Spawn(PathBuf, io::Error),
    /// A message to send is not valid JSON (the browser only sends JSON.stringify's
    /// output).
    BadMessage(usize, Error),
    /// Reading the messages to send failed.
    Input(io::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Spawn(host, err) => {
                write!(f, "cannot start the host {}: {err}", host.display())
            }
            RunError::BadMessage(n, err) => write!(f, "message {n} is not valid JSON: {err}"),
            RunError::Input(err) => write!(f, "cannot read the messages to send: {err}"),
        }
    }
}

/// Where the messages to send come from.
pub enum Messages {
    List(Vec<Vec<u8>>),
    /// Newline-delimited JSON; blank lines are skipped.
    Lines(Box<dyn BufRead + Send>),
    /// Bytes written to the host as they are: frames built by hand, malformed or not.
    Raw(Vec<u8>),
}

impl Messages {
    fn into_iter(self) -> Box<dyn Iterator<Item = io::Result<Vec<u8>>> + Send> {
        match self {
            Messages::List(list) => Box::new(list.into_iter().map(Ok)),
            Messages::Raw(_) => unreachable!("raw bytes are written by write_raw"),
            Messages::Lines(reader) => {
                Box::new(reader.split(b'\n').filter_map(|line| match line {
                    Ok(mut l) => {
                        if l.last() == Some(&b'\r') {
                            l.pop();
                        }
                        (!l.iter().all(u8::is_ascii_whitespace)).then_some(Ok(l))
                    }
                    Err(e) => Some(Err(e)),
                }))
            }
        }
    }
}

pub(crate) enum Event {
    Sent,
    InputError(RunError),
    InputDone(Instant),
    Reply(BytesMut, Duration),
    /// A frame the browser would silently drop, or deliver altered: the host
    /// misbehaved, though the port stays open.
    Dropped(String),
    /// Something worth saying that is not the host's fault.
    Warning(String),
    /// Something the user asked for, said so that the rest reads right.
    Note(String),
    /// What the browser would disconnect for.
    Fatal {
        browser_says: String,
        diagnosis: String,
    },
    Eof,
}

/// Runs one session; replies go to `out` as JSON lines, diagnostics to stderr.
pub fn run(
    launch: &Launch,
    settings: &Settings,
    messages: Messages,
    out: &mut dyn Write,
) -> Result<Report, RunError> {
    let (mut child, tree) = crate::tree::spawn(&mut launch.command())
        .map_err(|e| RunError::Spawn(launch.host.clone(), e))?;
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    relay_stderr(child.stderr.take().expect("piped"));
    let stdin = Arc::new(Mutex::new(Some(FrameWriter::with_cap(
        child.stdin.take().expect("piped"),
        Cap {
            max: launch.browser.max_browser_to_host(),
            direction: Direction::BrowserToHost,
        },
    ))));
    spawn_writer(
        Arc::clone(&stdin),
        messages,
        settings.one_shot,
        settings.chunked,
        tx.clone(),
    );
    spawn_reader(
        child.stdout.take().expect("piped"),
        launch.browser,
        started,
        tx,
    );
    let session = Session {
        child,
        tree,
        stdin,
        rx,
        settings,
        browser: launch.browser,
        report: Report::default(),
        deadline: settings.timeout.map(|t| started + t),
        reassembler: settings
            .chunked
            .then(|| Reassembler::new(ChunkOptions::default())),
        input_done: None,
        last_event: started,
    };
    session.drive(out)
}

struct Session<'a> {
    /// `--chunked`: the extension package's receiving side.
    reassembler: Option<Reassembler>,
    child: Child,
    tree: crate::tree::Tree,
    stdin: Arc<Mutex<Option<FrameWriter<ChildStdin>>>>,
    rx: Receiver<Event>,
    settings: &'a Settings,
    browser: Browser,
    report: Report,
    deadline: Option<Instant>,
    input_done: Option<Instant>,
    last_event: Instant,
}

impl Session<'_> {
    fn drive(mut self, out: &mut dyn Write) -> Result<Report, RunError> {
        loop {
            // Once its stdin is closed, the host has EXIT_GRACE of silence to finish
            // and exit, as under Chromium; any output it still sends restarts the clock.
            let quiet = self.input_done.map(|t| t.max(self.last_event) + EXIT_GRACE);
            let deadline = [self.deadline, quiet].into_iter().flatten().min();
            let event = match deadline {
                Some(deadline) => match self
                    .rx
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                {
                    Ok(event) => event,
                    Err(RecvTimeoutError::Timeout)
                        if Some(deadline) == quiet && quiet != self.deadline =>
                    {
                        break;
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        let limit = self.settings.timeout.unwrap_or_default();
                        problem(&format!("timed out after {limit:?}; killing the host"));
                        self.report.problems += 1;
                        self.kill();
                        return Ok(self.report);
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                None => match self.rx.recv() {
                    Ok(event) => event,
                    Err(_) => break,
                },
            };
            self.last_event = Instant::now();
            match event {
                Event::Sent => self.report.sent += 1,
                Event::InputError(err) => {
                    self.kill();
                    return Err(err);
                }
                Event::InputDone(at) => self.input_done = Some(at),
                Event::Reply(reply, at) => {
                    let Some(reply) = self.reassemble(reply) else {
                        continue;
                    };
                    self.report.replies += 1;
                    print_reply(out, &reply, at, self.settings.human);
                    if self.settings.one_shot {
                        // sendNativeMessage: the first reply wins, then the port closes.
                        self.close_stdin();
                        break;
                    }
                }
                Event::Dropped(text) => {
                    self.report.problems += 1;
                    warn(&text);
                }
                Event::Warning(text) => warn(&text),
                Event::Note(text) => note(&text),
                Event::Fatal {
                    browser_says,
                    diagnosis,
                } => {
                    self.report.problems += 1;
                    problem(&format!("{} would say: \"{browser_says}\"", self.browser));
                    problem(&diagnosis);
                    problem(&format!(
                        "{} closes the port and shuts the host down",
                        self.browser
                    ));
                    self.close_stdin();
                    break;
                }
                Event::Eof => break,
            }
        }
        self.finish();
        Ok(self.report)
    }

    /// `--chunked`: a part is taken (and acknowledged) and nothing is printed yet; a
    /// whole message is printed; a transfer that failed is a problem. Otherwise every
    /// frame is a reply.
    fn reassemble(&mut self, frame: BytesMut) -> Option<BytesMut> {
        let Some(rx) = self.reassembler.as_mut() else {
            return Some(frame);
        };
        let accepted = rx.accept(frame, Instant::now());
        let back: Vec<Vec<u8>> = rx.outbox().drain(..).collect();
        if !back.is_empty()
            && let Some(writer) = self.stdin.lock().expect("writer lock").as_mut()
        {
            for frame in back {
                if let Err(err) = writer.send(&frame) {
                    warn(&format!("an acknowledgement could not be sent: {err}"));
                    break;
                }
            }
        }
        match accepted {
            Accepted::Message(message) => Some(message),
            Accepted::Failed(err) | Accepted::Refused(err) => {
                self.report.problems += 1;
                problem(&format!("a message in parts failed: {err}"));
                None
            }
            Accepted::Pending | Accepted::Ack { .. } => None,
        }
    }

    fn close_stdin(&mut self) {
        self.stdin.lock().expect("writer lock").take();
        self.input_done.get_or_insert_with(Instant::now);
    }

    fn kill(&mut self) {
        self.close_stdin();
        self.report.exit_status = self.tree.kill(&mut self.child).ok();
    }

    /// The host's stdout is closed, or it went quiet after its stdin closed: close its
    /// stdin as the browser does and time its exit.
    fn finish(&mut self) {
        // With --chunked the port stayed open after the last message: it closes now.
        let closed = match self.input_done {
            Some(done) if !self.settings.chunked => done,
            _ => Instant::now(),
        };
        self.close_stdin();
        let waiting_since = Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    let took = closed.elapsed();
                    self.report.exit_status = Some(status);
                    self.report.exit_after = Some(took);
                    if !status.success() {
                        self.report.problems += 1;
                        problem(&format!(
                            "the host exited with {status} ({took:.1?} after its stdin closed)"
                        ));
                    } else if took > EXIT_GRACE {
                        warn(&format!(
                            "the host took {took:.1?} to exit after its stdin closed: Chromium kills a host at {EXIT_GRACE:?}"
                        ));
                    } else if self.settings.human {
                        note(&format!(
                            "the host exited cleanly {took:.1?} after its stdin closed"
                        ));
                    }
                    return;
                }
                Ok(None)
                    if waiting_since.elapsed() > EXIT_GRACE
                        || closed.elapsed() > 2 * EXIT_GRACE =>
                {
                    self.report.problems += 1;
                    problem(&format!(
                        "the host is still running {:.1?} after its stdin closed: Chromium kills it at {EXIT_GRACE:?} \
                         (SIGKILL), Firefox sends SIGTERM at 3 s; a host must exit when stdin ends",
                        closed.elapsed()
                    ));
                    self.kill();
                    return;
                }
                Ok(None) => thread::sleep(Duration::from_millis(1)),
                Err(err) => {
                    problem(&format!("cannot wait for the host: {err}"));
                    return;
                }
            }
        }
    }
}

fn spawn_writer(
    stdin: Arc<Mutex<Option<FrameWriter<ChildStdin>>>>,
    messages: Messages,
    one_shot: bool,
    keep_open: bool,
    tx: Sender<Event>,
) {
    thread::spawn(move || {
        if let Messages::Raw(bytes) = messages {
            write_raw(&stdin, &bytes, &tx);
            stdin.lock().expect("writer lock").take();
            let _ = tx.send(Event::InputDone(Instant::now()));
            return;
        }
        let mut json = JsonDecoder::new();
        let mut messages = messages.into_iter();
        let mut index = 0;
        let limit = if one_shot { 1 } else { usize::MAX };
        while index < limit {
            let Some(message) = messages.next() else {
                break;
            };
            index += 1;
            let message = match message {
                Ok(m) => m,
                Err(err) => {
                    return tx
                        .send(Event::InputError(RunError::Input(err)))
                        .unwrap_or(());
                }
            };
            if let Err(err) = json.validate(&message) {
                return tx
                    .send(Event::InputError(RunError::BadMessage(index, err)))
                    .unwrap_or(());
            }
            let mut guard = stdin.lock().expect("writer lock");
            let Some(writer) = guard.as_mut() else { return };
            match writer.send(&message) {
                Ok(()) => {
                    let _ = tx.send(Event::Sent);
                }
                Err(err @ Error::FrameTooLarge { .. }) => {
                    drop(guard);
                    let _ = tx.send(Event::Warning(format!(
                        "not sending message {index}: {err}; postMessage would throw"
                    )));
                }
                Err(err) => {
                    // The host stopped reading: the reader will tell what happened.
                    let _ = tx.send(Event::Warning(format!(
                        "message {index} could not be delivered: {err}"
                    )));
                    return;
                }
            }
        }
        if !one_shot {
            // An extension with nmframe-port keeps the port open: its acknowledgements
            // still have to reach the host. The session closes it once the host is quiet.
            if !keep_open {
                stdin.lock().expect("writer lock").take();
            }
            let _ = tx.send(Event::InputDone(Instant::now()));
        }
    });
}

/// Writes `bytes` to the host unchanged, counts the whole frames among them as sent, and
/// says where they stop being frames a browser could send.
fn write_raw(stdin: &Mutex<Option<FrameWriter<ChildStdin>>>, bytes: &[u8], tx: &Sender<Event>) {
    let mut guard = stdin.lock().expect("writer lock");
    let Some(writer) = guard.as_mut() else { return };
    let written = writer
        .get_mut()
        .write_all(bytes)
        .and_then(|()| writer.get_mut().flush());
    drop(guard);
    if let Err(err) = written {
        let _ = tx.send(Event::Warning(format!(
            "the raw bytes could not all be delivered: {err}"
        )));
    }
    let (mut offset, cap) = (0, Limits::browser().outbound());
    loop {
        match decode_frame(&bytes[offset..], cap) {
            Ok(Decoded::Frame { consumed, .. }) => {
                offset += consumed;
                let _ = tx.send(Event::Sent);
            }
            Ok(Decoded::Incomplete { .. }) if offset == bytes.len() => return,
            Ok(Decoded::Incomplete { .. }) => {
                let header = &bytes[offset..bytes.len().min(offset + HEADER_LEN)];
                let what = match <[u8; HEADER_LEN]>::try_from(header) {
                    Ok(header) => format!(
                        "a frame whose header announces {} bytes, of which {} follow",
                        u32::from_ne_bytes(header),
                        bytes.len() - offset - HEADER_LEN
                    ),
                    Err(_) => format!("{} bytes of a header", header.len()),
                };
                let _ = tx.send(Event::Note(format!(
                    "the raw bytes end at offset {offset} inside {what}: the host sees its stdin end mid-frame"
                )));
                return;
            }
            Err(err) => {
                let _ = tx.send(Event::Note(format!("the raw bytes: {err}")));
                return;
            }
        }
    }
}

/// Reads the host's stdout as the browser does, with the browser's limit and rules.
fn spawn_reader(
    stdout: impl Read + Send + 'static,
    browser: Browser,
    started: Instant,
    tx: Sender<Event>,
) {
    thread::spawn(move || {
        let mut stdout = stdout;
        let mut decoder = FrameDecoder::new(Limits::browser());
        let mut json = JsonDecoder::new();
        loop {
            let offset = decoder.offset();
            match decoder.decode() {
                Ok(Some(frame)) => {
                    for event in judge(browser, frame, offset, &mut json, started) {
                        let fatal = matches!(event, Event::Fatal { .. });
                        if tx.send(event).is_err() || fatal {
                            return;
                        }
                    }
                    continue;
                }
                Ok(None) => {}
                Err(err @ Error::FrameTooLarge { len, .. }) => {
                    let browser_says = oversized(browser, len);
                    let bytes = decoder.buffered_bytes();
                    let diagnosis =
                        format!("{err}\n  bytes at offset {offset}: {}", preview(bytes, 48));
                    let _ = tx.send(Event::Fatal {
                        browser_says,
                        diagnosis,
                    });
                    return;
                }
                Err(err) => {
                    let _ = tx.send(Event::Fatal {
                        browser_says: CHROMIUM_SAYS.into(),
                        diagnosis: err.to_string(),
                    });
                    return;
                }
            }
            match decoder.read_from(&mut stdout) {
                Ok(0) => {
                    let event = match decoder.finish() {
                        Ok(()) => Event::Eof,
                        Err(err) => Event::Fatal {
                            browser_says: CHROMIUM_SAYS.into(),
                            diagnosis: format!(
                                "the host closed its stdout mid-frame: {err}\n  bytes at offset {}: {}",
                                decoder.offset(),
                                preview(decoder.buffered_bytes(), 48)
                            ),
                        },
                    };
                    let _ = tx.send(event);
                    return;
                }
                Ok(_) => {}
                Err(err) => {
                    let _ = tx.send(Event::Warning(format!(
                        "reading the host's stdout failed: {err}"
                    )));
                    let _ = tx.send(Event::Eof);
                    return;
                }
            }
        }
    });
}

/// What `browser` says when a host announces a reply of `len` bytes, over 1 MiB.
pub(crate) fn oversized(browser: Browser, len: u64) -> String {
    match browser {
        Browser::Chromium | Browser::Unknown => CHROMIUM_SAYS.to_owned(),
        Browser::Firefox => format!(
            "Native application tried to send a message of {len} bytes, which exceeds the limit of \
             {MAX_HOST_TO_BROWSER} bytes."
        ),
    }
}

/// Chromium's one message for every host failure that closes the port.
pub(crate) const CHROMIUM_SAYS: &str = "Error when communicating with the native messaging host.";

/// What the browser does with one frame from the host (measured: docs/PROTOCOL.md,
/// "What the browsers do with bad output").
pub(crate) fn judge(
    browser: Browser,
    mut frame: BytesMut,
    offset: u64,
    json: &mut JsonDecoder,
    started: Instant,
) -> Vec<Event> {
    let at = started.elapsed();
    let len = frame.len();
    let where_ = format!("the {len}-byte frame at offset {offset}");
    if frame.is_empty() {
        return vec![match browser {
            Browser::Chromium | Browser::Unknown => {
                Event::Dropped(format!("{where_} is empty: Chromium drops it silently"))
            }
            Browser::Firefox => fatal_firefox(format!(
                "{where_} is empty (a host must never send an empty message)"
            )),
        }];
    }
    if frame.starts_with(b"\xef\xbb\xbf") {
        return match browser {
            Browser::Chromium | Browser::Unknown => vec![Event::Dropped(format!(
                "{where_} starts with a UTF-8 BOM: Chromium drops it silently"
            ))],
            Browser::Firefox => {
                let _ = frame.split_to(3);
                let mut events = vec![Event::Dropped(format!(
                    "{where_} starts with a UTF-8 BOM: Firefox strips it"
                ))];
                events.extend(judge(browser, frame, offset + 3, json, started));
                events
            }
        };
    }
    match json.validate(&frame) {
        Ok(()) => vec![Event::Reply(frame, at)],
        Err(Error::InvalidUtf8 { offset: bad }) => {
            // Both browsers decode with replacement characters and deliver.
            let lossy = String::from_utf8_lossy(&frame).into_owned();
            let note = format!(
                "{where_} is not valid UTF-8 at byte {bad} ({}): both browsers deliver it with U+FFFD in its place",
                preview(&frame[bad..], 8)
            );
            if json.validate(lossy.as_bytes()).is_ok() {
                vec![
                    Event::Dropped(note),
                    Event::Reply(BytesMut::from(lossy.as_bytes()), at),
                ]
            } else {
                invalid_json(
                    browser,
                    &where_,
                    &format!("not valid UTF-8 at byte {bad}, and not JSON either"),
                    &frame,
                )
            }
        }
        Err(err) => invalid_json(browser, &where_, &err.to_string(), &frame),
    }
}

fn invalid_json(browser: Browser, where_: &str, why: &str, frame: &[u8]) -> Vec<Event> {
    let detail = format!(
        "{where_} is not a valid JSON message: {why}\n  payload: {}",
        preview(frame, 48)
    );
    vec![match browser {
        Browser::Chromium | Browser::Unknown => {
            Event::Dropped(format!("{detail}\n  Chromium drops it silently"))
        }
        Browser::Firefox => fatal_firefox(detail),
    }]
}

fn fatal_firefox(diagnosis: String) -> Event {
    Event::Fatal {
        browser_says: "An unexpected error occurred".into(),
        diagnosis,
    }
}

/// Copies the host's stderr to ours, each line prefixed: the browser logs it too.
fn relay_stderr(stderr: impl Read + Send + 'static) {
    thread::spawn(move || {
        let reader = io::BufReader::new(stderr);
        for line in reader.split(b'\n') {
            let Ok(line) = line else { break };
            stderr_line(format_args!(
                "[host] {}",
                String::from_utf8_lossy(&line).trim_end_matches('\r')
            ));
        }
    });
}

fn print_reply(out: &mut dyn Write, reply: &[u8], at: Duration, human: bool) {
    let line = to_json_line(reply);
    let written = if human {
        writeln!(
            out,
            "\x1b[2m{:>9.3?} {:>8} B\x1b[0m  \x1b[32m←\x1b[0m {}",
            at,
            reply.len(),
            String::from_utf8_lossy(&line)
        )
    } else {
        out.write_all(&line).and_then(|()| out.write_all(b"\n"))
    };
    let _ = written.and_then(|()| out.flush());
}

/// The directory a relative host path is resolved in: the manifest's, as browsers do.
pub fn resolve_host(host: &Path, base: Option<&Path>) -> PathBuf {
    match base {
        Some(base) if host.is_relative() => base.join(host),
        _ => host.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::quote_arg;

    #[test]
    fn windows_arguments_are_quoted_as_the_c_runtime_reads_them() {
        let q = |s: &str| quote_arg(std::ffi::OsStr::new(s));
        assert_eq!(q("chrome-extension://abc/"), "chrome-extension://abc/");
        assert_eq!(
            q(r"C:\Program Files\host.exe"),
            r#""C:\Program Files\host.exe""#
        );
        assert_eq!(q(""), r#""""#);
        assert_eq!(q(r#"a "b""#), r#""a \"b\"""#);
        assert_eq!(q(r"dir with space\"), r#""dir with space\\""#);
        assert_eq!(q(r#"x\"y z"#), r#""x\\\"y z""#);
    }
}
