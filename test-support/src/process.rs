//! A host process driven as a browser drives it: frames written to its stdin, its
//! frames read on a thread of their own (so that a host that waits can be told from one
//! that is slow, and a test never deadlocks against a full pipe), its stderr collected.

use std::io::Read;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nmframe::{FrameReader, FrameWriter, Limits};

/// Everything `child` writes to stderr until it closes it (its stderr must be piped,
/// and not taken yet). Call it once the child's stdin is closed, or it may wait for
/// ever.
///
/// # Panics
///
/// When stderr was not piped, or cannot be read.
pub fn stderr_of(child: &mut Child) -> String {
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("stderr is readable");
    stderr
}

/// Collects what `child` writes to stderr, as it comes, on a thread of its own: read the
/// text so far from the mutex at any time. The thread ends, dropping its handle, when
/// the child closes stderr.
///
/// # Panics
///
/// When stderr was not piped.
pub fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let sink = Arc::clone(&stderr);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]);
            sink.lock().expect("stderr lock").push_str(&text);
        }
    });
    stderr
}

/// A running host with the test as its browser, its frames read on a thread of their
/// own. (The C ABI's host tests drive their hosts with a `Browser` of their own that
/// reads the host's stdout itself, because their fault cases need to stop reading, or
/// read raw bytes, at a chosen moment.)
pub struct HostProcess {
    child: Child,
    to: Option<FrameWriter<ChildStdin>>,
    frames: Receiver<Vec<u8>>,
    stderr: Arc<Mutex<String>>,
    /// How long a frame or a stderr line may take (longer under valgrind or Wine).
    pub slack: Duration,
}

impl HostProcess {
    /// Starts `cmd` with pipes on stdin, stdout and stderr.
    pub fn start(mut cmd: Command) -> HostProcess {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let to = FrameWriter::new(child.stdin.take().expect("piped"), Limits::browser());
        let from = child.stdout.take().expect("piped");
        let (tx, frames) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = FrameReader::new(from, Limits::browser());
            while let Ok(Some(frame)) = reader.read_frame() {
                if tx.send(frame.to_vec()).is_err() {
                    break;
                }
            }
        });
        let stderr = collect_stderr(&mut child);
        HostProcess {
            child,
            to: Some(to),
            frames,
            stderr,
            slack: Duration::from_secs(20),
        }
    }

    /// Writes one frame to the host.
    pub fn send(&mut self, frame: &[u8]) {
        let stderr = self.stderr();
        self.to
            .as_mut()
            .expect("stdin still open")
            .send(frame)
            .unwrap_or_else(|e| panic!("writing to the host failed: {e}; its stderr:\n{stderr}"));
    }

    /// The next frame from the host, waiting at most [`slack`](Self::slack).
    pub fn recv(&self) -> Vec<u8> {
        self.frames.recv_timeout(self.slack).unwrap_or_else(|e| {
            panic!(
                "no frame from the host within {:?} ({e}); its stderr:\n{}",
                self.slack,
                self.stderr()
            )
        })
    }

    /// The next frame if one comes within `wait`.
    pub fn try_recv(&self, wait: Duration) -> Option<Vec<u8>> {
        self.frames.recv_timeout(wait).ok()
    }

    /// Frames that arrive within `quiet` of each other.
    pub fn drain(&self, quiet: Duration) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| self.frames.recv_timeout(quiet).ok()).collect()
    }

    /// What the host wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }

    /// Waits until the host's stderr holds `needle`.
    pub fn expect_stderr(&self, needle: &str) {
        let start = Instant::now();
        while !self.stderr().contains(needle) {
            assert!(
                start.elapsed() < self.slack,
                "stderr lacks {needle:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The host's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Closes the host's stdin as a browser does on disconnect, and waits for the exit
    /// (at most [`slack`](Self::slack)); gives the status and everything on stderr.
    pub fn close(mut self) -> (ExitStatus, String) {
        drop(self.to.take());
        let status = crate::exits_within(&mut self.child, self.slack);
        // The stderr thread ends with the pipe; give it a moment to hand the rest over.
        let start = Instant::now();
        while Arc::strong_count(&self.stderr) > 1 && start.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(2));
        }
        (status, self.stderr())
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
