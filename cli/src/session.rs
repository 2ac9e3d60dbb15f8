//! One session of `nmframe run`: the host started as a browser starts it, messages
//! written on one thread, its output read and judged on another, and the events of both
//! turned into replies on stdout and diagnostics on stderr.

use std::io::{self, BufRead, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ExitStatus};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use nmframe::chunked::{Accepted, ChunkOptions, Reassembler};
use nmframe::{
    Browser, Cap, Decoded, Direction, Error, FrameDecoder, FrameWriter, HEADER_LEN, JsonDecoder,
    Limits, decode_frame,
};

use crate::browser::{CHROMIUM_SAYS, EXIT_GRACE, Verdict, judge, oversized};
use crate::launch::{Launch, relay_stderr};
use crate::out::{note, problem, stderr_line, warn};
use crate::text::{preview, to_json_line};

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
    print_stderr(child.stderr.take().expect("piped"));
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
                    let at = started.elapsed();
                    for verdict in judge(browser, frame, offset, &mut json) {
                        let event = match verdict {
                            Verdict::Deliver(reply) => Event::Reply(reply, at),
                            Verdict::Dropped(why) => Event::Dropped(why),
                            Verdict::Fatal {
                                browser_says,
                                diagnosis,
                            } => Event::Fatal {
                                browser_says,
                                diagnosis,
                            },
                        };
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

/// Copies the host's stderr to ours on a thread of its own, each line prefixed.
fn print_stderr(stderr: impl Read + Send + 'static) {
    thread::spawn(move || {
        relay_stderr(stderr, |line| {
            let text = String::from_utf8_lossy(line);
            stderr_line(format_args!(
                "[host] {}",
                text.trim_end_matches(['\n', '\r'])
            ));
        });
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
