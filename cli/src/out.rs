//! Diagnostics on stderr: the one place the command writes them, so that a closed
//! stderr never stops it.

use std::io::{self, Write};

/// Writes one line to stderr, ignoring failure. `eprintln!` panics when stderr is
/// gone, and a browser that closed its end of a host's stderr is no reason for
/// `nmframe echo` (or any command) to die.
pub(crate) fn stderr_line(line: std::fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(line).and_then(|()| err.write_all(b"\n"));
}

pub fn problem(text: &str) {
    for line in text.lines() {
        stderr_line(format_args!("nmframe: error: {line}"));
    }
}

pub fn warn(text: &str) {
    for line in text.lines() {
        stderr_line(format_args!("nmframe: warning: {line}"));
    }
}

pub fn note(text: &str) {
    stderr_line(format_args!("nmframe: {text}"));
}
