//! `Host.frames()`: the messages as `bytes`, as they came.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::host::{Ending, Host, ending, report_skipped};

/// An iterator over a host's messages as `bytes` (`Host.frames()`). It ends when the
/// browser closes the pipe or has gone; a chunked message that failed is skipped
/// (logged); a broken stream raises `StreamError`.
#[pyclass(module = "nmframe", name = "Frames", frozen)]
pub struct Frames {
    pub(crate) host: Py<Host>,
}

#[pymethods]
impl Frames {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let host = self.host.get();
        loop {
            match host.next_frame(py) {
                Ok(Some(frame)) => return Ok(Some(PyBytes::new(py, &frame))),
                Ok(None) => return Ok(None),
                Err(err) => match ending(py, &err)? {
                    Ending::Stop => return Ok(None),
                    Ending::Skip => report_skipped(py, &err),
                    Ending::Raise => return Err(err),
                },
            }
        }
    }
}
