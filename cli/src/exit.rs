//! The exit codes every command shares, as the README lists them.

/// The host (or the stream) misbehaved.
pub(crate) const MISBEHAVED: u8 = 1;
/// The command line was wrong.
pub(crate) const USAGE: u8 = 2;
/// The session could not be set up: host not found, I/O.
pub(crate) const SETUP: u8 = 3;
