//! The process's stdin and stdout for the async API: set up by [`HostStdio`], then
//! driven by Tokio's reactor where they are pipes.

use std::fs::File;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{FrameSink, FrameStream};
use crate::host_stdio::HostStdio;
use crate::limits::Limits;

/// The host's stdin as an [`AsyncRead`], from [`stdio`] or [`open`].
///
/// When stdin is a pipe (as every browser starts a host), it is driven by Tokio's
/// reactor: no thread, and a read can be dropped at any point. Otherwise (a file or a
/// terminal, when the host is run by hand) reads go through Tokio's blocking pool, as
/// `tokio::fs::File` does: they work, but a read in progress finishes in the
/// background when dropped.
#[derive(Debug)]
pub struct Stdin(In);

#[derive(Debug)]
enum In {
    #[cfg(unix)]
    Pipe(tokio::net::unix::pipe::Receiver),
    Blocking(tokio::fs::File),
}

/// The host's stdout as an [`AsyncWrite`], from [`stdio`] or [`open`]: driven
/// by the reactor when it is a pipe, through the blocking pool otherwise.
#[derive(Debug)]
pub struct Stdout(Out);

#[derive(Debug)]
enum Out {
    #[cfg(unix)]
    Pipe(tokio::net::unix::pipe::Sender),
    Blocking(tokio::fs::File),
}

impl Stdin {
    /// Whether reads are driven by the reactor (stdin is a pipe).
    pub fn is_pipe(&self) -> bool {
        #[cfg(unix)]
        if let In::Pipe(_) = self.0 {
            return true;
        }
        false
    }
}

impl Stdout {
    /// Whether writes are driven by the reactor (stdout is a pipe).
    pub fn is_pipe(&self) -> bool {
        #[cfg(unix)]
        if let Out::Pipe(_) = self.0 {
            return true;
        }
        false
    }
}

/// The process's stdin and stdout as a host's [`FrameStream`] and [`FrameSink`], set
/// up by [`HostStdio`] with its defaults (the stdout guard, `SIGPIPE`
/// ignored, the stdin pipe enlarged), with SIGTERM ending the stream cleanly on Unix
/// ([`FrameStream::end_on_sigterm`]).
///
/// ```no_run
/// use futures_util::StreamExt;
/// use nmframe::Limits;
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> Result<(), nmframe::Error> {
///     let (mut frames, mut out) = nmframe::tokio::stdio(Limits::host())?;
///     while let Some(frame) = frames.next().await {
///         out.send_frame(frame?.freeze()).await?; // echo
///     }
///     Ok(())
/// }
/// ```
///
/// # Errors
///
/// As for [`HostStdio::open`]; when the SIGTERM handler cannot be registered.
///
/// # Panics
///
/// Outside a Tokio runtime with I/O enabled.
pub fn stdio(limits: Limits) -> io::Result<(FrameStream<Stdin>, FrameSink<Stdout>)> {
    let (stdin, stdout) = open(HostStdio::new())?;
    let frames = FrameStream::new(stdin, limits);
    #[cfg(unix)]
    let frames = frames.end_on_sigterm()?;
    Ok((frames, FrameSink::new(stdout, limits)))
}

/// Stdin and stdout set up by `setup`, for the reactor: the async counterpart of
/// [`HostStdio::open`], for a setup other than [`stdio`]'s.
///
/// On Linux each pipe is reopened through `/proc/self/fd` first, so that the
/// non-blocking mode the reactor needs is set on a description of this process's own:
/// descriptors 0 and 1, and whatever child processes inherit, stay blocking. Where
/// that is not possible (no `/proc`, other Unix systems) the duplicated descriptor is
/// made non-blocking, and so is descriptor 0, which shares its description.
///
/// # Errors
///
/// As for [`HostStdio::open`]; when a pipe cannot be registered with the reactor.
///
/// # Panics
///
/// Outside a Tokio runtime with I/O enabled.
pub fn open(setup: HostStdio) -> io::Result<(Stdin, Stdout)> {
    let (stdin, stdout) = setup.open()?;
    Ok((
        Stdin(reader(stdin.into_file())?),
        Stdout(writer(stdout.into_file())?),
    ))
}

#[cfg(unix)]
fn reader(file: File) -> io::Result<In> {
    if !is_fifo(&file) {
        return Ok(In::Blocking(tokio::fs::File::from_std(file)));
    }
    let file = own_description(&file, false).unwrap_or(file);
    Ok(In::Pipe(tokio::net::unix::pipe::Receiver::from_file(file)?))
}

#[cfg(unix)]
fn writer(file: File) -> io::Result<Out> {
    if !is_fifo(&file) {
        return Ok(Out::Blocking(tokio::fs::File::from_std(file)));
    }
    let file = own_description(&file, true).unwrap_or(file);
    Ok(Out::Pipe(tokio::net::unix::pipe::Sender::from_file(file)?))
}

#[cfg(unix)]
fn is_fifo(file: &File) -> bool {
    use std::os::unix::fs::FileTypeExt;
    file.metadata().is_ok_and(|m| m.file_type().is_fifo())
}

/// A new open file description of the same pipe (Linux: opening `/proc/self/fd/N`
/// reopens the pipe rather than duplicating the descriptor), close-on-exec.
///
/// Opened non-blocking, as the reactor needs it anyway: a blocking open of a pipe's
/// write end waits for a reader, and the browser may have closed its end already (the
/// open then fails with `ENXIO`, and the duplicate is used: its writes fail with
/// `EPIPE`, a disconnection).
#[cfg(target_os = "linux")]
fn own_description(file: &File, write: bool) -> Option<File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(!write)
        .write(write)
        .custom_flags(libc::O_NONBLOCK)
        .open(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .ok()
}

#[cfg(all(unix, not(target_os = "linux")))]
fn own_description(_file: &File, _write: bool) -> Option<File> {
    None
}

#[cfg(not(unix))]
fn reader(file: File) -> io::Result<In> {
    Ok(In::Blocking(tokio::fs::File::from_std(file)))
}

#[cfg(not(unix))]
fn writer(file: File) -> io::Result<Out> {
    Ok(Out::Blocking(tokio::fs::File::from_std(file)))
}

impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            #[cfg(unix)]
            In::Pipe(pipe) => Pin::new(pipe).poll_read(cx, buf),
            In::Blocking(file) => Pin::new(file).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stdout {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().0 {
            #[cfg(unix)]
            Out::Pipe(pipe) => Pin::new(pipe).poll_write(cx, buf),
            Out::Blocking(file) => Pin::new(file).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().0 {
            #[cfg(unix)]
            Out::Pipe(pipe) => Pin::new(pipe).poll_write_vectored(cx, bufs),
            Out::Blocking(file) => Pin::new(file).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.0 {
            #[cfg(unix)]
            Out::Pipe(pipe) => pipe.is_write_vectored(),
            Out::Blocking(file) => file.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            #[cfg(unix)]
            Out::Pipe(pipe) => Pin::new(pipe).poll_flush(cx),
            Out::Blocking(file) => Pin::new(file).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            #[cfg(unix)]
            Out::Pipe(pipe) => Pin::new(pipe).poll_shutdown(cx),
            Out::Blocking(file) => Pin::new(file).poll_shutdown(cx),
        }
    }
}
