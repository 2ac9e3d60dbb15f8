//! The browser model: what Chromium and Firefox do with each frame a host writes, what
//! they say when they close the port, and how long they wait for a host to exit.
//! `run`, `manifest check` and `tap` judge a host by it (measured: docs/PROTOCOL.md,
//! "What the browsers do with bad output").

use std::time::Duration;

use bytes::BytesMut;
use nmframe::{Browser, Error, JsonDecoder, MAX_HOST_TO_BROWSER};

use crate::text::preview;

/// How long Chromium waits for a host to exit after closing its stdin before it sends
/// SIGKILL (Firefox sends SIGTERM at about 3 s).
pub(crate) const EXIT_GRACE: Duration = Duration::from_secs(2);

/// What the browser does with one frame from the host.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Delivered to the extension: this payload (which may differ from the frame's).
    Deliver(BytesMut),
    /// Dropped silently, or delivered altered: the host misbehaved, though the port
    /// stays open.
    Dropped(String),
    /// The browser closes the port: what it logs, and why.
    Fatal {
        browser_says: String,
        diagnosis: String,
    },
}

/// What `browser` logs when it closes the port on a host that broke the stream.
pub(crate) fn says(browser: Browser) -> &'static str {
    match browser {
        Browser::Firefox => FIREFOX_SAYS,
        Browser::Chromium | Browser::Unknown => CHROMIUM_SAYS,
    }
}

/// Firefox's message for a host whose output it cannot read.
pub(crate) const FIREFOX_SAYS: &str = "An unexpected error occurred";

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
) -> Vec<Verdict> {
    let len = frame.len();
    let where_ = format!("the {len}-byte frame at offset {offset}");
    if frame.is_empty() {
        return vec![match browser {
            Browser::Chromium | Browser::Unknown => {
                Verdict::Dropped(format!("{where_} is empty: Chromium drops it silently"))
            }
            Browser::Firefox => fatal_firefox(format!(
                "{where_} is empty (a host must never send an empty message)"
            )),
        }];
    }
    if frame.starts_with(b"\xef\xbb\xbf") {
        return match browser {
            Browser::Chromium | Browser::Unknown => vec![Verdict::Dropped(format!(
                "{where_} starts with a UTF-8 BOM: Chromium drops it silently"
            ))],
            Browser::Firefox => {
                let _ = frame.split_to(3);
                let mut events = vec![Verdict::Dropped(format!(
                    "{where_} starts with a UTF-8 BOM: Firefox strips it"
                ))];
                events.extend(judge(browser, frame, offset + 3, json));
                events
            }
        };
    }
    match json.validate(&frame) {
        Ok(()) => vec![Verdict::Deliver(frame)],
        Err(Error::InvalidUtf8 { offset: bad }) => {
            // Both browsers decode with replacement characters and deliver.
            let lossy = String::from_utf8_lossy(&frame).into_owned();
            let note = format!(
                "{where_} is not valid UTF-8 at byte {bad} ({}): both browsers deliver it with U+FFFD in its place",
                preview(&frame[bad..], 8)
            );
            if json.validate(lossy.as_bytes()).is_ok() {
                vec![
                    Verdict::Dropped(note),
                    Verdict::Deliver(BytesMut::from(lossy.as_bytes())),
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

fn invalid_json(browser: Browser, where_: &str, why: &str, frame: &[u8]) -> Vec<Verdict> {
    let detail = format!(
        "{where_} is not a valid JSON message: {why}\n  payload: {}",
        preview(frame, 48)
    );
    vec![match browser {
        Browser::Chromium | Browser::Unknown => {
            Verdict::Dropped(format!("{detail}\n  Chromium drops it silently"))
        }
        Browser::Firefox => fatal_firefox(detail),
    }]
}

fn fatal_firefox(diagnosis: String) -> Verdict {
    Verdict::Fatal {
        browser_says: FIREFOX_SAYS.into(),
        diagnosis,
    }
}
