//! The process's stdin and stdout, set up once for a host: one implementation for the
//! Rust API and the C ABI (and through it C++ and Go). See [`HostStdio`].

use std::fs::File;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};

/// How [`HostStdio::open`] takes over stdin and stdout.
///
/// A browser starts a host with pipes on descriptors 0 and 1 and, for its log, on 2.
/// What a host inherits beyond that varies, and each of these has stopped real hosts:
///
/// - Descriptor 2 closed (a launcher that closes what it does not use): a host that
///   points descriptor 1 at 2 fails, and the next file it opens becomes its stderr.
///   It is opened on `/dev/null` here.
/// - A non-blocking stdin or stdout (`O_NONBLOCK` is a property of the open pipe, so a
///   parent that set it for itself passes it on): reads and writes fail with `EAGAIN`.
///   It is not cleared (the flag is shared with whoever else holds the pipe); reads
///   and writes wait for the descriptor with `poll` instead.
/// - `SIGPIPE` at its default: the first reply after the browser went away kills the
///   host. It is ignored, so a write fails with `EPIPE` and the host learns
///   [`Error::Disconnected`](crate::Error::Disconnected).
/// - Stray output on descriptor 1 (a `printf`, a library's banner, `println!`): it
///   lands inside the stream. The guard moves the real stdout to a private descriptor
///   and points descriptor 1 at stderr.
///
/// ```no_run
/// use nmframe::{FrameReader, FrameWriter, HostStdio, Limits};
///
/// let (stdin, stdout) = HostStdio::new().open()?;
/// let mut reader = FrameReader::new(stdin, Limits::host());
/// let mut writer = FrameWriter::new(stdout, Limits::host());
/// println!("this goes to the browser's log, not into the stream");
/// while let Some(frame) = reader.read_frame()? {
///     writer.send(&frame)?;
/// }
/// # Ok::<(), nmframe::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HostStdio {
    guard_stdout: bool,
    ignore_sigpipe: bool,
    pipe_size: Option<usize>,
}

impl Default for HostStdio {
    fn default() -> Self {
        Self::new()
    }
}

impl HostStdio {
    /// The defaults, the same in every binding: `SIGPIPE` ignored, the stdin pipe
    /// enlarged to 1 MiB on Linux, and the stdout guard on.
    pub fn new() -> Self {
        HostStdio {
            guard_stdout: true,
            ignore_sigpipe: true,
            pipe_size: Some(1 << 20),
        }
    }

    /// Points descriptor 1 at stderr after taking the real stdout, so that whatever
    /// else writes to stdout lands in the browser's log. On by default. On Windows it
    /// points the standard output handle (`GetStdHandle`, Rust's `println!`) and the C
    /// runtime's descriptor 1 (`printf`) at stderr; a language runtime that kept its
    /// own copy of the handle at start-up (Go's `os.Stdout`) is not covered.
    #[must_use]
    pub fn guard_stdout(mut self, on: bool) -> Self {
        self.guard_stdout = on;
        self
    }

    /// Whether to set `SIGPIPE` to ignored for the whole process (on by default; the
    /// Rust runtime does it already, a C or Go program does not).
    #[must_use]
    pub fn ignore_sigpipe(mut self, on: bool) -> Self {
        self.ignore_sigpipe = on;
        self
    }

    /// The capacity to ask for the stdin pipe on Linux (1 MiB by default, the
    /// unprivileged maximum; `None` leaves it). Firefox writes a large message a pipe's
    /// worth at a time and slows down with every slice: 64 MiB took 23.7 s through the
    /// default 64 KiB pipe and 3.0 s through a 1 MiB one (Firefox ESR). Failure is
    /// ignored: stdin may not be a pipe, or the user's pipe quota may be spent.
    #[must_use]
    pub fn pipe_size(mut self, bytes: Option<usize>) -> Self {
        self.pipe_size = bytes;
        self
    }

    /// Takes over stdin and stdout: private duplicates of descriptors 0 and 1
    /// (close-on-exec, so child processes do not inherit the browser's pipes), after
    /// the process-wide set-up described on [`HostStdio`].
    ///
    /// # Errors
    ///
    /// When stdin or stdout is not open (the message says which), when the guard is
    /// asked for where it is not available, or when a descriptor cannot be duplicated.
    pub fn open(self) -> io::Result<(HostStdin, HostStdout)> {
        let (stdin, stdout) = sys::open(self)?;
        Ok((HostStdin { file: stdin }, HostStdout { file: stdout }))
    }
}

/// The host's stdin, from [`HostStdio::open`]: reads wait out `EAGAIN` and `EINTR`.
#[derive(Debug)]
pub struct HostStdin {
    file: File,
}

/// The host's stdout, from [`HostStdio::open`]: writes wait out `EAGAIN` and `EINTR`.
#[derive(Debug)]
pub struct HostStdout {
    file: File,
}

impl HostStdin {
    /// The descriptor itself, for an event loop to drive (the async API's stdin).
    #[cfg(feature = "tokio")]
    pub(crate) fn into_file(self) -> File {
        self.file
    }

    /// The duplicated descriptor.
    pub fn as_file(&self) -> &File {
        &self.file
    }

    /// Waits up to `timeout` for input: `true` when a read will not block (bytes are
    /// there, or the end of the stream, or an error the read will report).
    ///
    /// # Errors
    ///
    /// When waiting itself fails.
    pub fn wait_readable(&self, timeout: std::time::Duration) -> io::Result<bool> {
        wait_readable(&self.file, timeout)
    }
}

/// For system calls of your own on the descriptor (splice, poll); reading it directly
/// bypasses the decoder.
#[cfg(unix)]
impl std::os::fd::AsFd for HostStdin {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// For system calls of your own on the descriptor; writing to it directly corrupts the
/// stream.
#[cfg(unix)]
impl std::os::fd::AsFd for HostStdout {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl HostStdout {
    /// The descriptor itself, for an event loop to drive (the async API's stdout).
    #[cfg(feature = "tokio")]
    pub(crate) fn into_file(self) -> File {
        self.file
    }

    /// The duplicated descriptor. Writing to it directly corrupts the stream.
    pub fn as_file(&self) -> &File {
        &self.file
    }
}

/// Waits up to `timeout` for `input` (a pipe, a file, a socket) to be readable: input
/// there, its end, or an error the next read reports.
#[cfg(unix)]
pub(crate) fn wait_readable(
    input: &impl std::os::fd::AsFd,
    timeout: std::time::Duration,
) -> io::Result<bool> {
    sys::wait_for(input.as_fd(), timeout)
}

/// Waits up to `timeout` for `input` (a pipe, a file) to be readable.
#[cfg(windows)]
pub(crate) fn wait_readable(
    input: &impl std::os::windows::io::AsHandle,
    timeout: std::time::Duration,
) -> io::Result<bool> {
    sys::wait_for(input.as_handle(), timeout)
}

/// Retries `op` while it fails with `EINTR`, and after waiting for the descriptor
/// while it fails with `EAGAIN`.
fn retry<T>(file: &File, ready_for: Wait, mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => sys::wait(file, ready_for)?,
            other => return other,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Wait {
    Read,
    Write,
}

impl Read for HostStdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let file = &self.file;
        retry(file, Wait::Read, || (&*file).read(buf))
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let file = &self.file;
        retry(file, Wait::Read, || (&*file).read_vectored(bufs))
    }
}

impl Write for HostStdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = &self.file;
        retry(file, Wait::Write, || (&*file).write(buf))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let file = &self.file;
        retry(file, Wait::Write, || (&*file).write_vectored(bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
mod sys {
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd};

    use super::{HostStdio, Wait};

    /// Whether descriptor `fd` is open.
    fn is_open(fd: libc::c_int) -> bool {
        // SAFETY: F_GETFD reads a descriptor's flags and touches no memory.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        flags != -1
    }

    /// A private, close-on-exec duplicate of descriptor `fd`, named `name` in errors.
    fn duplicate(fd: libc::c_int, name: &str) -> io::Result<File> {
        if !is_open(fd) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{name} (descriptor {fd}) is not open: a browser starts a host with \
                     pipes on descriptors 0 and 1"
                ),
            ));
        }
        // SAFETY: `fd` is open (checked above) and stays open while borrowed here: this
        // function closes nothing.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        Ok(borrowed.try_clone_to_owned()?.into())
    }

    pub(super) fn open(options: HostStdio) -> io::Result<(File, File)> {
        if options.ignore_sigpipe {
            // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
            unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        }
        #[cfg(target_os = "linux")]
        if let Some(size) = options.pipe_size {
            let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
            // SAFETY: F_SETPIPE_SZ takes an int and touches no memory. It fails
            // harmlessly when stdin is not a pipe or the pipe quota is spent.
            unsafe { libc::fcntl(libc::STDIN_FILENO, libc::F_SETPIPE_SZ, size) };
        }
        let stdin = duplicate(libc::STDIN_FILENO, "stdin")?;
        let stdout = duplicate(libc::STDOUT_FILENO, "stdout")?;
        if !is_open(libc::STDERR_FILENO) {
            // Whatever the process opens next would become its stderr, and the guard
            // would have nothing to point stdout at.
            let null = File::options().write(true).open("/dev/null")?;
            if null.as_raw_fd() == libc::STDERR_FILENO {
                // Opened as descriptor 2 itself (0 and 1 are open, 2 was the lowest
                // free): keep it, inheritable like the stderr it stands for.
                let fd = null.into_raw_fd();
                // SAFETY: F_SETFD on a descriptor this process owns; no memory effects.
                unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
            } else {
                // SAFETY: dup2 onto descriptor 2, which is closed (checked above);
                // `null` stays open until after the call.
                if unsafe { libc::dup2(null.as_raw_fd(), libc::STDERR_FILENO) } < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        if options.guard_stdout {
            // SAFETY: dup2 between two open descriptors; it has no memory effects. The
            // real stdout lives on in `stdout`.
            if unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok((stdin, stdout))
    }

    /// Blocks until `file` is ready for what `ready_for` says (or has failed: the
    /// retried call then reports how).
    pub(super) fn wait(file: &File, ready_for: Wait) -> io::Result<()> {
        let events = match ready_for {
            Wait::Read => libc::POLLIN,
            Wait::Write => libc::POLLOUT,
        };
        let mut poll = libc::pollfd {
            fd: file.as_fd().as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd, its count 1, no timeout.
        if unsafe { libc::poll(&mut poll, 1, -1) } < 0 {
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
        Ok(())
    }

    /// Waits up to `timeout` for `fd` to be readable (input, its end, or an error).
    pub(super) fn wait_for(fd: BorrowedFd<'_>, timeout: std::time::Duration) -> io::Result<bool> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            // Rounded up, so that a wait never ends before its time.
            let ms = libc::c_int::try_from(left.as_nanos().div_ceil(1_000_000))
                .unwrap_or(libc::c_int::MAX);
            let mut poll = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, its count 1, a timeout in milliseconds.
            match unsafe { libc::poll(&mut poll, 1, ms) } {
                n if n > 0 => return Ok(true),
                0 if left.is_zero() || ms == 0 => return Ok(false),
                0 => {}
                _ => {
                    let err = io::Error::last_os_error();
                    if err.kind() != io::ErrorKind::Interrupted {
                        return Err(err);
                    }
                }
            }
        }
    }
}

#[cfg(windows)]
mod sys {
    use std::ffi::{c_int, c_void};
    use std::fs::File;
    use std::io;
    use std::os::windows::io::AsHandle;

    use super::{HostStdio, Wait};

    const O_BINARY: c_int = 0x8000;
    // GetStdHandle's numbers: (DWORD)-11 and (DWORD)-12.
    const STD_OUTPUT_HANDLE: u32 = -11i32 as u32;
    const STD_ERROR_HANDLE: u32 = -12i32 as u32;

    unsafe extern "C" {
        fn _setmode(fd: c_int, mode: c_int) -> c_int;
        fn _dup2(from: c_int, to: c_int) -> c_int;
        fn _close(fd: c_int) -> c_int;
    }

    unsafe extern "system" {
        fn GetStdHandle(which: u32) -> *mut c_void;
        fn SetStdHandle(which: u32, handle: *mut c_void) -> i32;
    }

    pub(super) fn open(options: HostStdio) -> io::Result<(File, File)> {
        // The C runtime's descriptors 0 and 1 in binary mode, for C code in the same
        // process that reads or writes them (Rust's std never translates line endings).
        // SAFETY: _setmode on the C runtime's own descriptors; it touches no memory.
        unsafe { _setmode(0, O_BINARY) };
        // SAFETY: as above.
        unsafe { _setmode(1, O_BINARY) };
        let stdin = io::stdin().as_handle().try_clone_to_owned()?;
        let stdout = io::stdout().as_handle().try_clone_to_owned()?;
        if options.guard_stdout {
            guard();
        }
        Ok((stdin.into(), stdout.into()))
    }

    /// With the real stdout duplicated, points both ways of writing to "stdout" at
    /// stderr: the Win32 standard handle (Rust's `println!`, `WriteFile` on
    /// `GetStdHandle`) and the C runtime's descriptor 1 (`printf`).
    fn guard() {
        // SAFETY: GetStdHandle reads a process-wide slot; no memory is passed.
        let stderr = unsafe { GetStdHandle(STD_ERROR_HANDLE) };
        // SAFETY: SetStdHandle stores a handle value in that slot; the handle is only
        // used by later writes, which fail cleanly if it is not valid.
        unsafe { SetStdHandle(STD_OUTPUT_HANDLE, stderr) };
        // SAFETY: _dup2 on the C runtime's descriptors; it touches no memory of ours.
        if unsafe { _dup2(2, 1) } != 0 {
            // No stderr to point at: better a printf that fails than one in the stream.
            // The real stdout lives on in the duplicate taken above.
            // SAFETY: closes the C runtime's descriptor 1, nothing of ours.
            unsafe { _close(1) };
        }
    }

    /// Windows pipes opened by a browser are blocking: nothing to wait for.
    pub(super) fn wait(_file: &File, _ready_for: Wait) -> io::Result<()> {
        std::thread::yield_now();
        Ok(())
    }

    unsafe extern "system" {
        fn PeekNamedPipe(
            pipe: *mut c_void,
            buffer: *mut c_void,
            size: u32,
            read: *mut u32,
            available: *mut u32,
            left: *mut u32,
        ) -> i32;
    }

    /// Waits up to `timeout` for input on `file`. Anonymous pipes cannot be waited on
    /// with an event, so this looks every few milliseconds; a handle that is not a pipe,
    /// or one whose writer is gone, counts as readable (the read tells which).
    pub(super) fn wait_for(
        handle: std::os::windows::io::BorrowedHandle<'_>,
        timeout: std::time::Duration,
    ) -> io::Result<bool> {
        use std::os::windows::io::AsRawHandle;
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let mut available = 0u32;
            // SAFETY: a live handle; no buffer (size 0), and one valid out-pointer.
            let ok = unsafe {
                PeekNamedPipe(
                    handle.as_raw_handle(),
                    std::ptr::null_mut(),
                    0,
                    std::ptr::null_mut(),
                    &mut available,
                    std::ptr::null_mut(),
                )
            };
            if ok == 0 || available > 0 {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            std::thread::sleep(left.min(std::time::Duration::from_millis(5)));
        }
    }
}
