//! `nmframe tap show FILE [--follow] [--messages to-host|to-browser]`: a tap log as a
//! timeline, with the diagnosis of what went wrong; or one direction's messages as NDJSON
//! to replay with `nmframe run --file`.

use std::io::{self, BufRead, Write};
use std::path::Path;
use std::time::Duration;

use super::log::{Dir, Entry};
use crate::exit::{MISBEHAVED, SETUP};
use crate::out::problem;

/// Prints the timeline of the log at `path` and its diagnosis, one connection after the
/// other (several tap processes, one per port or `sendNativeMessage`, may write one log at
/// once: each line names its connection). With `follow`, prints lines as the taps write
/// them, each with its connection's number, until every connection seen has ended.
pub(crate) fn cmd_show(path: &Path, follow: bool) -> u8 {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) => {
            problem(&format!("cannot open {}: {err}", path.display()));
            return SETUP;
        }
    };
    let mut reader = io::BufReader::new(file);
    let mut out = io::stdout().lock();
    let mut sessions: Vec<(Option<String>, Session, Vec<String>)> = Vec::new();
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        match reader.read_until(b'\n', &mut line) {
            Ok(0) if follow && !all_ended(&sessions) => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            Ok(0) => break,
            Ok(_) if !line.ends_with(b"\n") && follow => continue, // the rest is on its way
            Ok(_) => {}
            Err(err) => {
                problem(&format!("reading {}: {err}", path.display()));
                return SETUP;
            }
        }
        number += 1;
        let bytes = std::mem::take(&mut line);
        let text = match std::str::from_utf8(&bytes) {
            Ok(text) => text.to_owned(),
            Err(err) => {
                let note = format!(
                    "          (line {number} is not UTF-8 at byte {}: read with U+FFFD in its place)",
                    err.valid_up_to()
                );
                let _ = writeln!(out, "{note}");
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let entry = match serde_json::from_str::<Entry>(text) {
            Ok(entry) => entry,
            Err(err) => {
                let _ = writeln!(
                    out,
                    "          (line {number} is not a tap log line: {err})"
                );
                continue;
            }
        };
        let at = session_of(&mut sessions, &entry);
        let (_, session, lines) = &mut sessions[at];
        let shown = session.timeline(&entry);
        if follow {
            let _ = writeln!(out, "#{} {shown}", at + 1);
            if session.ended {
                let _ = session.diagnose(&mut out);
            }
            let _ = out.flush();
        } else {
            lines.push(shown);
        }
    }
    let mut bad = false;
    let many = sessions.len() > 1;
    for (i, (conn, session, lines)) in sessions.iter().enumerate() {
        if follow {
            if !session.ended {
                bad |= session.diagnose(&mut out);
            } else {
                bad |= session.bad();
            }
            continue;
        }
        if i > 0 {
            let _ = writeln!(out);
        }
        if many {
            let name = conn.as_deref().unwrap_or("without an id");
            let _ = writeln!(out, "connection {} of {} ({name})", i + 1, sessions.len());
        }
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        bad |= session.diagnose(&mut out);
    }
    if bad { MISBEHAVED } else { 0 }
}

/// The session `entry` belongs to: by its connection, or for a log without connection
/// ids (older taps) the latest one, a `start` beginning the next.
fn session_of(sessions: &mut Vec<(Option<String>, Session, Vec<String>)>, entry: &Entry) -> usize {
    let found = match &entry.conn {
        Some(conn) => sessions
            .iter()
            .position(|(c, _, _)| c.as_deref() == Some(conn.as_str())),
        None if entry.event == "start" => None,
        None => sessions.iter().rposition(|(c, _, _)| c.is_none()),
    };
    found.unwrap_or_else(|| {
        sessions.push((entry.conn.clone(), Session::default(), Vec::new()));
        sessions.len() - 1
    })
}

fn all_ended(sessions: &[(Option<String>, Session, Vec<String>)]) -> bool {
    !sessions.is_empty() && sessions.iter().all(|(_, s, _)| s.ended)
}

/// What one tapped connection did, for the diagnosis.
#[derive(Default)]
struct Session {
    started: bool,
    ended: bool,
    browser: String,
    /// The first event the browser closes the port for.
    fatal: Option<(f64, String, Option<String>)>,
    /// Frames the browser drops or alters.
    dropped: Vec<(f64, String)>,
    stderr: Vec<String>,
    exit: Option<Entry>,
    killed: Option<String>,
    eof_to_host: Option<f64>,
    messages: [usize; 2],
}

impl Session {
    fn timeline(&mut self, e: &Entry) -> String {
        let at = format!("{:>10.3} s  ", e.t);
        let why = e.why.as_deref().unwrap_or("");
        match e.event.as_str() {
            "start" => {
                self.started = true;
                self.browser = e.browser.clone().unwrap_or_default();
                format!(
                    "{at}start    {} started `{}` in {}",
                    self.browser,
                    e.argv.as_deref().unwrap_or_default().join(" "),
                    e.cwd.as_deref().unwrap_or("?")
                )
            }
            "frame" => {
                let to_host = e.dir.as_deref() == Some(Dir::ToHost.name());
                self.messages[usize::from(!to_host)] += 1;
                let arrow = if to_host { "→ host " } else { "← host " };
                let text = e.body.as_deref().or(e.head.as_deref()).unwrap_or("");
                let cut = if e.body.is_none()
                    && e.len.unwrap_or(0) as usize > text.len()
                    && e.verdict.as_deref() != Some("fatal")
                {
                    " …"
                } else {
                    ""
                };
                let verdict = match e.verdict.as_deref() {
                    Some("fatal") => {
                        self.fatal
                            .get_or_insert((e.t, why.to_owned(), e.browser_says.clone()));
                        format!("\n{:14}FATAL: {why}", "")
                    }
                    Some("dropped") => {
                        self.dropped.push((e.t, why.to_owned()));
                        format!("\n{:14}DROPPED: {why}", "")
                    }
                    _ => String::new(),
                };
                format!(
                    "{at}{arrow} {:>9} B  {}{cut}{verdict}",
                    e.len.unwrap_or(0),
                    shorten(text, 100)
                )
            }
            "stderr" => {
                let line = e.line.clone().unwrap_or_default();
                self.stderr.push(line.clone());
                format!("{at}stderr   {line}")
            }
            "eof" | "cut" | "closed" => {
                let what = match (e.event.as_str(), e.dir.as_deref()) {
                    ("eof", Some("to_host")) => {
                        self.eof_to_host = Some(e.t);
                        "the browser closed the host's stdin".to_owned()
                    }
                    ("eof", _) => "the host closed its stdout".to_owned(),
                    ("cut", Some("to_browser")) => {
                        self.fatal
                            .get_or_insert((e.t, why.to_owned(), e.browser_says.clone()));
                        format!("the host's stdout ended mid-frame: {why}")
                    }
                    ("cut", _) => format!("the host's stdin ended mid-frame: {why}"),
                    _ => why.to_owned(),
                };
                format!("{at}{:<8} {what}", e.event)
            }
            "killed" => {
                self.killed = Some(why.to_owned());
                format!("{at}killed   {why}")
            }
            "spawn_failed" => {
                self.fatal
                    .get_or_insert((e.t, format!("the host did not start: {why}"), None));
                format!("{at}failed   {why}")
            }
            "exit" => {
                self.exit = Some(e.clone());
                let how = how_it_ended(e);
                let when = e
                    .after_eof_ms
                    .map(|ms| format!(", {ms} ms after its stdin closed"))
                    .unwrap_or_default();
                format!("{at}exit     the host {how}{when}")
            }
            "lost" => format!(
                "{at}lost     {} log line(s): the log could not keep up",
                e.count.unwrap_or(0)
            ),
            "end" => {
                self.ended = true;
                format!("{at}end")
            }
            other => format!("{at}{other}"),
        }
    }

    /// Whether anything went wrong, without printing it.
    fn bad(&self) -> bool {
        self.diagnose(&mut io::sink())
    }

    /// Prints what went wrong, the cause the browser hid; whether anything did.
    fn diagnose(&self, out: &mut impl Write) -> bool {
        let browser = if self.browser.is_empty() {
            "the browser"
        } else {
            &self.browser
        };
        let mut lines = Vec::new();
        if let Some((t, why, says)) = &self.fatal {
            let says = says
                .as_deref()
                .map(|s| format!(" and tells the extension \"{s}\""))
                .unwrap_or_default();
            lines.push(format!(
                "{browser} closes the port at {t:.3} s{says}, because: {why}"
            ));
        }
        for (t, why) in &self.dropped {
            lines.push(format!("at {t:.3} s {browser} drops a reply: {why}"));
        }
        if let Some(why) = &self.killed {
            lines.push(why.clone());
        }
        if let Some(exit) = &self.exit
            && exit.code != Some(0)
        {
            let how = how_it_ended(exit);
            let last = self
                .stderr
                .last()
                .map(|l| format!("; its last stderr line: {l}"))
                .unwrap_or_default();
            lines.push(format!("the host {how}{last}"));
        }
        let _ = writeln!(out);
        if lines.is_empty() {
            let _ = writeln!(
                out,
                "diagnosis: no problem seen ({} message(s) to the host, {} from it)",
                self.messages[0], self.messages[1]
            );
            return false;
        }
        for line in lines {
            let _ = writeln!(out, "diagnosis: {line}");
        }
        true
    }
}

/// "exited 3", "was killed by signal 9": how an `exit` entry says the host ended.
fn how_it_ended(exit: &Entry) -> String {
    match (exit.code, exit.signal) {
        (Some(code), _) => format!("exited {code}"),
        (_, Some(signal)) => format!("was killed by signal {signal}"),
        _ => "ended".to_owned(),
    }
}

/// `text` cut to `max` characters, on one line.
fn shorten(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { '·' } else { c })
        .take(max)
        .collect();
    if text.chars().count() > max {
        format!("{flat}…")
    } else {
        flat
    }
}

/// Prints the messages of one direction as NDJSON, for `nmframe run --file`.
pub(crate) fn cmd_messages(path: &Path, dir: Dir) -> u8 {
    let text = match std::fs::read(path) {
        // A line that is not UTF-8 (a log written over) is read with U+FFFD in its place.
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(err) => {
            problem(&format!("cannot read {}: {err}", path.display()));
            return SETUP;
        }
    };
    let mut out = io::stdout().lock();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(entry) = serde_json::from_str::<Entry>(line) else {
            continue;
        };
        if entry.event != "frame" || entry.dir.as_deref() != Some(dir.name()) {
            continue;
        }
        let Some(body) = entry.body else {
            problem(&format!(
                "{} holds only the first bytes of each message: record with `nmframe tap --bodies`",
                path.display()
            ));
            return MISBEHAVED;
        };
        // One message per line: a raw line break in JSON text can only be whitespace
        // (inside a string it would be invalid), so a space keeps the message the same.
        let _ = writeln!(out, "{}", body.replace(['\n', '\r'], " "));
    }
    0
}
