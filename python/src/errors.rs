//! The core's errors as Python exceptions: the classes live in `nmframe/_errors.py`
//! (where their docstrings are), and carry the core's wording and numbers.

use nmframe::{Direction, Error};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// The exception classes of `nmframe._errors`, looked up once.
struct Classes {
    stream: Py<PyType>,
    disconnected: Py<PyType>,
    closed: Py<PyType>,
    too_large: Py<PyType>,
    empty: Py<PyType>,
    invalid_utf8: Py<PyType>,
    invalid_json: Py<PyType>,
    too_deep: Py<PyType>,
    transfer: Py<PyType>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let module = py.import("nmframe._errors")?;
        let get = |name: &str| -> PyResult<Py<PyType>> {
            Ok(module.getattr(name)?.cast_into::<PyType>()?.unbind())
        };
        Ok(Classes {
            stream: get("StreamError")?,
            disconnected: get("Disconnected")?,
            closed: get("Closed")?,
            too_large: get("MessageTooLarge")?,
            empty: get("EmptyMessage")?,
            invalid_utf8: get("InvalidUtf8")?,
            invalid_json: get("InvalidJson")?,
            too_deep: get("NestingTooDeep")?,
            transfer: get("TransferFailed")?,
        })
    })
}

/// An instance of `class` with the message `text` and the attributes `attrs`.
fn raise(py: Python<'_>, class: &Py<PyType>, text: String, attrs: &[(&str, Py<PyAny>)]) -> PyErr {
    let make = || -> PyResult<PyErr> {
        let exc = class.bind(py).call1((text.clone(),))?;
        for (name, value) in attrs {
            exc.setattr(*name, value)?;
        }
        Ok(PyErr::from_value(exc))
    };
    make().unwrap_or_else(|err| err)
}

fn int(py: Python<'_>, n: impl Into<u64>) -> Py<PyAny> {
    match n.into().into_pyobject(py) {
        Ok(v) => v.into_any().unbind(),
        Err(never) => match never {},
    }
}

/// `err` as the Python exception that names it; `size` is that of the inbound message
/// it is about, when there is one.
pub(crate) fn to_py(py: Python<'_>, err: &Error, size: Option<usize>) -> PyErr {
    let classes = match classes(py) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let text = err.to_string();
    let payload_attr = |attrs: &mut Vec<(&str, Py<PyAny>)>| {
        if let Some(size) = size {
            attrs.push(("size", int(py, size as u64)));
        }
    };
    let mut attrs = Vec::new();
    match err {
        Error::FrameTooLarge {
            len,
            limit,
            direction: Direction::HostToBrowser,
            ..
        } => {
            attrs.push(("size", int(py, *len)));
            attrs.push(("limit", int(py, *limit)));
            raise(py, &classes.too_large, text, &attrs)
        }
        Error::EmptyFrame { .. } => {
            payload_attr(&mut attrs);
            raise(py, &classes.empty, text, &attrs)
        }
        Error::InvalidUtf8 { offset } => {
            attrs.push(("offset", int(py, *offset as u64)));
            payload_attr(&mut attrs);
            raise(py, &classes.invalid_utf8, text, &attrs)
        }
        Error::InvalidJson { offset, .. } => {
            attrs.push(("offset", int(py, *offset as u64)));
            payload_attr(&mut attrs);
            raise(py, &classes.invalid_json, text, &attrs)
        }
        Error::NestingTooDeep { offset, limit } => {
            attrs.push(("offset", int(py, *offset as u64)));
            attrs.push(("limit", int(py, *limit as u64)));
            payload_attr(&mut attrs);
            raise(py, &classes.too_deep, text, &attrs)
        }
        Error::Disconnected(_) => raise(py, &classes.disconnected, text, &attrs),
        Error::Transfer(t) => {
            attrs.push((
                "code",
                t.code()
                    .as_str()
                    .into_pyobject(py)
                    .map(|s| s.into_any().unbind())
                    .unwrap_or_else(|_| py.None()),
            ));
            attrs.push(("id", t.id().map_or_else(|| py.None(), |id| int(py, id))));
            raise(py, &classes.transfer, text, &attrs)
        }
        Error::FrameTooLarge { len, limit, .. } => {
            attrs.push(("size", int(py, *len)));
            attrs.push(("limit", int(py, *limit)));
            raise(py, &classes.stream, text, &attrs)
        }
        // Truncations, I/O errors, a broken writer: the stream is over.
        _ => raise(py, &classes.stream, text, &attrs),
    }
}

/// `nmframe.Closed`: the browser closed the host's stdin (it does on disconnect).
pub(crate) fn closed(py: Python<'_>) -> PyErr {
    match classes(py) {
        Ok(c) => raise(
            py,
            &c.closed,
            "the browser closed the host's stdin".to_owned(),
            &[],
        ),
        Err(e) => e,
    }
}

/// A lock poisoned by a panic in another thread: the host's state is unknown.
pub(crate) fn poisoned() -> PyErr {
    PyRuntimeError::new_err("nmframe: a thread panicked while it held this host")
}
