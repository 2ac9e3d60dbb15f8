//! `nmframe.Host`: a host on the process's stdin and stdout, set up by the core's
//! `HostStdio` as in every binding.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use bytes::BytesMut;
use nmframe::chunked::{ChunkOptions, Chunked, Incoming};
use nmframe::{
    Browser, Caller, Error, FrameReader, FrameWriter, HostStdin, HostStdio, HostStdout,
    JsonDecoder, Limits, MAX_HOST_TO_BROWSER, WaitReadable,
};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

use crate::{decode, encode, errors};

/// Queued replies are written once they reach this much, even while more requests
/// wait: a long burst is written in slices rather than held whole.
const FLUSH_AT: usize = 1 << 20;

/// A reply of at least this size that goes out at once is written from the caller's
/// buffer (one vectored write behind what is queued) rather than copied into the queue:
/// below it the copy costs less than a write of several pieces.
const WRITE_IN_PLACE: usize = 16 * 1024;

/// How long a chunked host's receive waits for input without its lock before it looks
/// again.
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// What went wrong with the GIL released: the core's error, or a lock another thread
/// poisoned.
enum Failure {
    Core(Error),
    Poisoned,
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Core(err)
    }
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, Failure> {
    m.lock().map_err(|_| Failure::Poisoned)
}

fn raise(py: Python<'_>, failure: Failure) -> PyErr {
    match failure {
        Failure::Core(err) => errors::to_py(py, &err, None),
        Failure::Poisoned => errors::poisoned(),
    }
}

struct Writer {
    out: FrameWriter<HostStdout>,
    /// For messages given as bytes: the core's validator.
    json: JsonDecoder,
}

type ChunkedIo = Chunked<HostStdin, FrameWriter<HostStdout>>;

#[allow(
    clippy::large_enum_variant,
    reason = "one per host, which Python holds on the heap; the chunked state is boxed already"
)]
enum Io {
    /// Frames as they come: reading and writing locked apart, so that one thread may
    /// send while another waits for the next message.
    Plain {
        reader: Mutex<FrameReader<HostStdin>>,
        writer: Mutex<Writer>,
    },
    /// Messages of any size: one endpoint, which reads acknowledgements while it sends.
    /// A receive waits for input on `watch` (a duplicate of stdin) without the lock, so
    /// that other threads can send while no message is arriving.
    Chunked {
        endpoint: Mutex<Box<ChunkedIo>>,
        watch: std::fs::File,
    },
}

/// Who started the host, from its command line (browsers pass their caller there).
#[pyclass(module = "nmframe", name = "Caller", frozen, get_all)]
pub struct PyCaller {
    /// `"chromium"`, `"firefox"`, or `"unknown"` (started by hand or by a test).
    browser: &'static str,
    /// Chromium: the extension's origin, `chrome-extension://<id>/`.
    origin: Option<String>,
    /// Firefox: the absolute path of the host's manifest.
    manifest_path: Option<String>,
    /// The extension's id: from the origin (Chromium) or the last argument (Firefox).
    extension_id: Option<String>,
    /// Chromium on Windows: the handle of the calling window (`--parent-window=`).
    parent_window: Option<u64>,
}

#[pymethods]
impl PyCaller {
    fn __repr__(&self) -> String {
        format!(
            "Caller(browser={:?}, origin={:?}, manifest_path={:?}, extension_id={:?}, parent_window={:?})",
            self.browser, self.origin, self.manifest_path, self.extension_id, self.parent_window
        )
    }
}

impl From<Caller> for PyCaller {
    fn from(c: Caller) -> Self {
        PyCaller {
            browser: match c.browser {
                Browser::Chromium => "chromium",
                Browser::Firefox => "firefox",
                Browser::Unknown => "unknown",
            },
            origin: c.origin,
            manifest_path: c.manifest_path,
            extension_id: c.extension_id,
            parent_window: c.parent_window,
        }
    }
}

/// A native-messaging host on this process's stdin and stdout. See the package's
/// docstring (`help(nmframe)`) for the whole story.
#[pyclass(module = "nmframe", name = "Host", frozen, subclass)]
pub struct Host {
    io: Io,
    /// Decodes received messages into values (locked with the GIL held, briefly).
    json: Mutex<JsonDecoder>,
    /// A whole message is buffered, so the reader will be back without waiting:
    /// replies queue until then and go out together (see `send`).
    more: AtomicBool,
    caller: Py<PyCaller>,
}

/// A size in seconds from Python, as a `Duration`.
fn seconds(s: f64, what: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        PyValueError::new_err(format!("{what} must be a number of seconds >= 0, not {s}"))
    })
}

#[pymethods]
impl Host {
    #[new]
    #[pyo3(signature = (*, guard_stdout = true, max_inbound = None, chunked = false, max_message = None, max_buffered = None, window = None, timeout = None, ack_timeout = None, argv = None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "keyword-only options, each with a default"
    )]
    fn new(
        py: Python<'_>,
        guard_stdout: bool,
        max_inbound: Option<u32>,
        chunked: bool,
        max_message: Option<usize>,
        max_buffered: Option<usize>,
        window: Option<u32>,
        timeout: Option<f64>,
        ack_timeout: Option<f64>,
        argv: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let chunk_options_given = max_message.is_some()
            || max_buffered.is_some()
            || window.is_some()
            || timeout.is_some()
            || ack_timeout.is_some();
        if chunk_options_given && !chunked {
            return Err(PyValueError::new_err(
                "max_message, max_buffered, window, timeout and ack_timeout are options of a chunked host (chunked=True)",
            ));
        }
        let mut options = ChunkOptions::default();
        if let Some(n) = max_message {
            options.max_bytes = n;
        }
        if let Some(n) = max_buffered {
            options.max_buffered = n;
        }
        if let Some(n) = window {
            options.window = n;
        }
        if let Some(s) = timeout {
            options.timeout = seconds(s, "timeout")?;
        }
        if let Some(s) = ack_timeout {
            options.ack_timeout = seconds(s, "ack_timeout")?;
        }
        let argv = match argv {
            Some(argv) => argv,
            None => py.import("sys")?.getattr("argv")?.extract()?,
        };
        // sys.argv has the script where argv[0] would be, and the browser's arguments
        // after it: the core reads them from the end.
        let caller = Caller::from_args(std::iter::once(String::new()).chain(argv));
        let (stdin, stdout) = py
            .detach(|| HostStdio::new().guard_stdout(guard_stdout).open())
            .map_err(|e| PyOSError::new_err(format!("nmframe.Host: {e}")))?;
        let mut limits = Limits::host();
        if let Some(n) = max_inbound {
            limits = limits.with_max_inbound(n);
        }
        let reader = FrameReader::new(stdin, limits);
        let out = FrameWriter::new(stdout, limits);
        let io = if chunked {
            let watch = reader.get_ref().as_file().try_clone().map_err(|e| {
                PyOSError::new_err(format!("nmframe.Host: cannot duplicate stdin: {e}"))
            })?;
            Io::Chunked {
                endpoint: Mutex::new(Box::new(Chunked::new(reader, out, options))),
                watch,
            }
        } else {
            Io::Plain {
                reader: Mutex::new(reader),
                writer: Mutex::new(Writer {
                    out,
                    json: JsonDecoder::new(),
                }),
            }
        };
        Ok(Host {
            io,
            json: Mutex::new(JsonDecoder::new()),
            more: AtomicBool::new(false),
            caller: Py::new(py, PyCaller::from(caller))?,
        })
    }

    /// Who started the host: a `Caller` (browser, origin or manifest path, extension
    /// id, parent window).
    #[getter]
    fn caller(&self, py: Python<'_>) -> Py<PyCaller> {
        self.caller.clone_ref(py)
    }

    /// Whether a whole message is already buffered: the next receive will not wait.
    /// False while another thread is in a receive (what it is waiting for is its own).
    #[getter]
    fn has_message(&self) -> bool {
        // `try_lock`: asked from a thread beside one blocked in `recv`, this must answer
        // now, not when a message arrives.
        match &self.io {
            Io::Plain { reader, .. } => reader.try_lock().is_ok_and(|r| r.has_frame()),
            Io::Chunked { endpoint, .. } => endpoint.try_lock().is_ok_and(|c| c.has_frame()),
        }
    }

    /// Waits for the next message and returns it as a Python value (what
    /// `json.loads` gives). Raises `Closed` when the browser has closed the pipe (the
    /// host should exit), an `InvalidMessage` for a message that is not UTF-8 JSON
    /// (the next call goes on with the next message), `TransferFailed` for a chunked
    /// message that failed, and `StreamError` when the stream itself broke.
    fn recv<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut frame = self.next_frame(py)?.ok_or_else(|| errors::closed(py))?;
        let mut json = self.json.lock().map_err(|_| errors::poisoned())?;
        decode::loads(py, &mut json, &mut frame)
    }

    /// Waits for the next message and returns its JSON text as `bytes`, as it came
    /// (not checked: `nmframe.loads` or `json.loads` will say whether it is JSON).
    /// Raises as `recv` does.
    fn recv_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let frame = self.next_frame(py)?.ok_or_else(|| errors::closed(py))?;
        Ok(PyBytes::new(py, &frame))
    }

    /// Sends `value` as JSON (as `json.dumps` would write it, compact). A reply over
    /// 1 MiB is refused before a byte is written (`MessageTooLarge`, with its size and
    /// the limit) and the host can go on; so are NaN and infinities (`ValueError`) and
    /// what JSON cannot hold (`TypeError`). Raises `Disconnected` when the browser has
    /// gone. Replies sent while more requests are already waiting go out together, in
    /// one write, before the host waits for the next message; otherwise at once.
    fn send(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut text = Vec::with_capacity(64);
        encode::dumps(value, &mut text)?;
        self.write(py, &text, false)
    }

    /// Sends `data`, a JSON text as `bytes`, `bytearray` or `str`, as it is, once checked:
    /// not empty, at most 1 MiB (`MessageTooLarge`), then UTF-8 (`InvalidUtf8`) and JSON
    /// (`InvalidJson`, with the byte offset). Nothing is written when it is refused.
    fn send_bytes(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Ok(bytes) = data.cast::<PyBytes>() {
            // Immutable, and kept alive by `data` while the GIL is released.
            return self.write(py, bytes.as_bytes(), true);
        }
        if let Ok(array) = data.cast::<PyByteArray>() {
            // A bytearray can change while the GIL is released: write a copy.
            let copy = array.to_vec();
            return self.write(py, &copy, true);
        }
        if let Ok(s) = data.cast::<PyString>() {
            let text = s.to_cow()?;
            return self.write(py, text.as_bytes(), true);
        }
        Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "send_bytes takes bytes, bytearray or str, not {}",
            data.get_type().name()?
        )))
    }

    /// Sends `text`, made by `nmframe.dumps`: checked for size only (the async host
    /// turns values into JSON on the event loop's thread and writes on its own).
    fn _send_dumped(&self, py: Python<'_>, text: &Bound<'_, PyBytes>) -> PyResult<()> {
        self.write(py, text.as_bytes(), false)
    }

    /// Writes every queued reply now.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| -> Result<(), Failure> {
            match &self.io {
                Io::Plain { writer, .. } => lock(writer)?.out.flush()?,
                Io::Chunked { endpoint, .. } => lock(endpoint)?.flush()?,
            }
            Ok(())
        })
        .map_err(|f| raise(py, f))
    }

    /// The messages as `bytes`, as they came (not checked): for a host that forwards
    /// or echoes them. The loop ends as iterating the host does.
    fn frames(slf: Py<Self>) -> crate::frames::Frames {
        crate::frames::Frames { host: slf }
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next message as a value; the loop ends when the browser closes the pipe
    /// or has gone. A message that is not JSON is skipped (see `Host.messages`).
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loop {
            match self.recv(py) {
                Ok(value) => return Ok(Some(value)),
                Err(err) => match ending(py, &err)? {
                    Ending::Stop => return Ok(None),
                    Ending::Skip => report_skipped(py, &err),
                    Ending::Raise => return Err(err),
                },
            }
        }
    }

    /// `flush`, with errors ignored: what `atexit` calls, so that replies queued when
    /// the script ends are written.
    fn _flush_at_exit(&self, py: Python<'_>) {
        let _ = self.flush(py);
    }
}

/// What an iterator does with an error from a receive.
pub(crate) enum Ending {
    /// The browser closed the pipe or went away: the loop ends.
    Stop,
    /// One message failed; the stream goes on.
    Skip,
    /// The stream broke: the caller must hear of it.
    Raise,
}

pub(crate) fn ending(py: Python<'_>, err: &PyErr) -> PyResult<Ending> {
    let module = py.import("nmframe._errors")?;
    let is = |name: &str| -> PyResult<bool> {
        let class = module.getattr(name)?;
        err.get_type(py).is_subclass(&class)
    };
    Ok(if is("Closed")? || is("Disconnected")? {
        Ending::Stop
    } else if is("InvalidMessage")? || is("TransferFailed")? {
        Ending::Skip
    } else {
        Ending::Raise
    })
}

/// Says on stderr (the browser's log) that a message was skipped, through the
/// `logging` module's `nmframe` logger.
pub(crate) fn report_skipped(py: Python<'_>, err: &PyErr) {
    let log = || -> PyResult<()> {
        let logger = py
            .import("logging")?
            .call_method1("getLogger", ("nmframe",))?;
        logger.call_method1("warning", ("skipped a message: %s", err.value(py)))?;
        Ok(())
    };
    let _ = log();
}

impl Host {
    /// The next frame (a whole message for a chunked host), or `None` at the end of
    /// input. Replies queued are written first.
    pub(crate) fn next_frame(&self, py: Python<'_>) -> PyResult<Option<BytesMut>> {
        let next = py.detach(|| -> Result<Option<BytesMut>, Failure> {
            match &self.io {
                Io::Plain { reader, writer } => {
                    let mut reader = lock(reader)?;
                    if !reader.has_frame() {
                        // The read may wait: the replies queued so far go out first.
                        self.more.store(false, Ordering::SeqCst);
                        let mut w = lock(writer)?;
                        if w.out.queued() > 0 {
                            w.out.flush()?;
                        }
                    }
                    let frame = reader.read_frame()?;
                    self.more.store(reader.has_frame(), Ordering::SeqCst);
                    Ok(frame)
                }
                Io::Chunked { endpoint, watch } => loop {
                    {
                        let mut c = lock(endpoint)?;
                        if c.has_frame() || watch.wait_readable(Duration::ZERO).unwrap_or(true) {
                            self.more.store(false, Ordering::SeqCst);
                            let next = c.recv()?;
                            self.more.store(c.has_frame(), Ordering::SeqCst);
                            return match next {
                                Some(Incoming::Message(m)) => Ok(Some(m)),
                                Some(Incoming::Failed(t)) => Err(Failure::Core(Error::Transfer(t))),
                                None => Ok(None),
                            };
                        }
                        // Nothing to read: what was queued goes out before the wait.
                        c.flush()?;
                    }
                    // Waiting without the lock. A transfer of the extension's still in
                    // progress times out at the next receive that reads.
                    let _ = watch.wait_readable(IDLE_WAIT);
                },
            }
        });
        next.map_err(|f| raise(py, f))
    }

    /// Queues `text` (checked as UTF-8 JSON first when `validate`), and writes the
    /// queue unless a whole request is already waiting to be read.
    fn write(&self, py: Python<'_>, text: &[u8], validate: bool) -> PyResult<()> {
        py.detach(|| -> Result<(), Failure> {
            match &self.io {
                Io::Plain { writer, .. } => {
                    let mut w = lock(writer)?;
                    // The core's order: empty and too large first (queue says so),
                    // and only then is the text read.
                    if validate && !text.is_empty() && text.len() <= MAX_HOST_TO_BROWSER as usize {
                        w.json.validate(text)?;
                    }
                    if text.len() >= WRITE_IN_PLACE && !self.more.load(Ordering::SeqCst) {
                        // A large reply with no request waiting goes out at once: written
                        // from where it lies, after what is queued, not copied behind it.
                        w.out.send(text)?;
                        return Ok(());
                    }
                    w.out.queue(text)?;
                    // Checked under the writer's lock: the reader clears `more` and then
                    // takes this lock to flush, so a reply queued here is either
                    // written by that flush or sees `more` cleared and writes itself.
                    if !self.more.load(Ordering::SeqCst) || w.out.queued() >= FLUSH_AT {
                        w.out.flush()?;
                    }
                }
                Io::Chunked { endpoint, .. } => {
                    // The endpoint checks every message itself (and builds its parts
                    // from the text once checked).
                    let mut c = lock(endpoint)?;
                    if self.more.load(Ordering::SeqCst) {
                        c.queue_json(text)?;
                    } else {
                        c.send_json(text)?;
                    }
                }
            }
            Ok(())
        })
        .map_err(|f| raise(py, f))
    }
}
