//! The tap's log format: one JSON line per event. The tap writes it, `tap show` reads
//! it; this file is the one definition of both.

use serde::{Deserialize, Serialize};

/// One line of the log. Fields that do not apply to an event are left out.
#[derive(Serialize, Deserialize, Default, Debug, Clone)]
pub(crate) struct Entry {
    /// Seconds since the tap started.
    pub t: f64,
    /// The connection: one tap process, started by the browser for one port or one
    /// `sendNativeMessage`. Several may append to one log at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conn: Option<String>,
    /// `start`, `frame`, `stderr`, `eof`, `cut`, `closed`, `spawn_failed`, `killed`,
    /// `exit`, `lost`, `end`.
    pub event: String,
    /// `to_host` (browser → host) or `to_browser`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Stream offset of the frame's header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Payload length, as the header announced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub len: Option<u64>,
    /// The first bytes of the payload (lossy UTF-8), without `--bodies`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// The whole payload (lossy UTF-8), with `--bodies`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `ok`, `dropped` (the browser drops or alters it, the port stays open) or `fatal`
    /// (the browser closes the port).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// Why, for a frame that is not `ok`; what happened, for other events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// What the browser tells the extension when it closes the port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_says: Option<String>,
    /// A line the host wrote to stderr.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// `start`: the browser whose rules apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// `start`: the host's command line, the browser's arguments included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    /// `start`: the host's working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// `start`: wall-clock time, milliseconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unix_ms: Option<u64>,
    /// `exit`: the host's exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// `exit`: the signal that ended the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// `exit`: milliseconds between the browser closing the host's stdin and the exit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_eof_ms: Option<u64>,
    /// `lost`: log lines dropped because the log could not keep up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl Entry {
    pub(super) fn new(event: &str) -> Entry {
        Entry {
            event: event.to_owned(),
            ..Entry::default()
        }
    }

    pub(super) fn dir(mut self, dir: Dir) -> Entry {
        self.dir = Some(dir.name().to_owned());
        self
    }

    pub(super) fn why(mut self, why: impl Into<String>) -> Entry {
        self.why = Some(why.into());
        self
    }

    /// About what the entry holds in memory while it waits for the writer.
    pub(super) fn weight(&self) -> usize {
        let len = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        256 + len(&self.body) + len(&self.head) + len(&self.line) + len(&self.why)
    }
}

/// Which way bytes go.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Dir {
    ToHost,
    ToBrowser,
}

impl Dir {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dir::ToHost => "to_host",
            Dir::ToBrowser => "to_browser",
        }
    }
}
