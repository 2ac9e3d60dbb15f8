//! Forwarding one direction: bytes copied (or spliced, on Linux) from one end to the
//! other, shown to the direction's tracker on the way.

use std::io::{self, Read, Write};

use super::log::{Dir, Entry};
use super::track::Tracker;

/// What `forward` needs of its ends beyond reading and writing: a descriptor, for the
/// zero-copy path where there is one.
#[cfg(unix)]
pub(super) trait Descriptor: std::os::fd::AsFd {}
#[cfg(unix)]
impl<T: std::os::fd::AsFd> Descriptor for T {}
#[cfg(not(unix))]
pub(super) trait Descriptor {}
#[cfg(not(unix))]
impl<T> Descriptor for T {}

/// How a direction ended.
pub(super) enum End {
    /// The source reached end of file.
    Eof,
    /// Reading the source failed.
    ReadFailed(io::Error),
    /// The destination takes no more: its reader is gone.
    WriteFailed(io::Error),
}

/// Copies `from` to `to` as bytes arrive, watching the frames go by.
///
/// Returns when `from` ends, or when `to` will take no more: then the rest of `from` is
/// read and thrown away when `drain` is set (so that the writer on the other side is not
/// blocked by a reader that is gone), or left unread.
pub(super) fn forward(
    mut from: impl Read + Descriptor,
    mut to: impl Write + Descriptor,
    tracker: &mut Tracker,
    drain: bool,
) {
    #[cfg(target_os = "linux")]
    let end = match splice::forward(&from, &to, tracker) {
        Some(end) => end,
        None => copy(&mut from, &mut to, tracker),
    };
    #[cfg(not(target_os = "linux"))]
    let end = copy(&mut from, &mut to, tracker);
    match end {
        End::Eof => tracker.end(),
        End::ReadFailed(err) => tracker.log.send(
            Entry::new("closed")
                .dir(tracker.dir)
                .why(format!("reading failed: {err}")),
        ),
        End::WriteFailed(err) => {
            let who = match tracker.dir {
                Dir::ToHost => "the host stopped reading its stdin",
                Dir::ToBrowser => "the browser stopped reading the host's stdout",
            };
            tracker.log.send(
                Entry::new("closed")
                    .dir(tracker.dir)
                    .why(format!("{who}: {err}")),
            );
            if drain {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(1..) = from.read(&mut buf) {}
            }
        }
    }
}

/// The portable way: read into a buffer, write it out, show it to the tracker.
pub(super) fn copy(from: &mut impl Read, to: &mut impl Write, tracker: &mut Tracker) -> End {
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return End::Eof,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return End::ReadFailed(err),
        };
        // As in the splice path: logged before passed on, so that the log reads in causal
        // order.
        tracker.feed(&buf[..n]);
        let written = to.write_all(&buf[..n]).and_then(|()| to.flush());
        if let Err(err) = written {
            return End::WriteFailed(err);
        }
    }
}

/// Pipe to pipe without copying (Linux): each chunk is duplicated into a side pipe with
/// tee(2), moved on with splice(2), and the tracker reads the side pipe, skipping (by
/// splicing to /dev/null) the payload bytes it does not keep. A browser and its host
/// always talk through pipes; anything else takes the copying path.
#[cfg(target_os = "linux")]
pub(super) mod splice {
    use std::fs::File;
    use std::io::{self, Read};
    use std::os::fd::AsFd;

    use nix::errno::Errno;
    use nix::fcntl::{FcntlArg, SpliceFFlags, fcntl, splice, tee};

    use super::{End, Tracker};

    /// The side pipe's size, and so the most one round moves: the unprivileged maximum.
    const SIDE: usize = 1 << 20;

    /// `None` when `from` or `to` is not a pipe (nothing was moved).
    pub(super) fn forward(from: &impl AsFd, to: &impl AsFd, tracker: &mut Tracker) -> Option<End> {
        let (side_r, side_w) = nix::unistd::pipe().ok()?;
        let room = fcntl(&side_w, FcntlArg::F_SETPIPE_SZ(SIDE as i32))
            .map(|n| n as usize)
            .unwrap_or(64 * 1024);
        let null = File::options().write(true).open("/dev/null").ok()?;
        let mut side = File::from(side_r);
        let mut buf = vec![0u8; room];
        let mut first = true;
        loop {
            let n = match tee(from, &side_w, room, SpliceFFlags::empty()) {
                Ok(0) => return Some(End::Eof),
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                // Not a pipe, or a non-blocking one (inherited): the copying path takes
                // over, which waits that out; nothing was moved yet.
                Err(Errno::EINVAL | Errno::EAGAIN) if first => return None,
                Err(Errno::EAGAIN) => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    continue;
                }
                Err(err) => return Some(End::ReadFailed(err.into())),
            };
            first = false;
            // Logged before passed on, in both directions: what answers these bytes (the
            // other direction's thread logs it) can never come first in the log.
            see(&mut side, &null, &mut buf, n, tracker);
            let moved = move_all(from, to, n);
            if let Err(err) = moved {
                return Some(End::WriteFailed(err));
            }
        }
    }

    /// Splices exactly `n` bytes, which are waiting in `from`, into `to`.
    pub(super) fn move_all(from: &impl AsFd, to: &impl AsFd, mut n: usize) -> io::Result<()> {
        while n > 0 {
            match splice(from, None, to, None, n, SpliceFFlags::SPLICE_F_MOVE) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(m) => n -= m,
                Err(Errno::EINTR) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }

    /// Shows the tracker the `n` bytes waiting in the side pipe, reading only those it
    /// keeps.
    pub(super) fn see(
        side: &mut File,
        null: &File,
        buf: &mut [u8],
        mut n: usize,
        tracker: &mut Tracker,
    ) {
        while n > 0 {
            let skip = tracker.skippable().min(n as u64) as usize;
            if skip > 0 {
                match splice(&*side, None, null, None, skip, SpliceFFlags::SPLICE_F_MOVE) {
                    Ok(m) if m > 0 => {
                        tracker.skip(m as u64);
                        n -= m;
                    }
                    Err(Errno::EINTR) => {}
                    // /dev/null refusing a splice: read the bytes instead.
                    _ => {
                        let m = side.read(&mut buf[..skip]).unwrap_or(0);
                        tracker.skip(m as u64);
                        n -= m;
                        if m == 0 {
                            return;
                        }
                    }
                }
                continue;
            }
            let want = n.min(buf.len());
            match side.read(&mut buf[..want]) {
                Ok(m) if m > 0 => {
                    tracker.feed(&buf[..m]);
                    n -= m;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                _ => return,
            }
        }
    }
}
