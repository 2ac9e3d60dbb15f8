//! The Python package `nmframe`'s native part, `nmframe._nmframe`: the host, and JSON
//! both ways, on nmframe's core. The Python around it is in `python/nmframe/`.

use nmframe::{JsonDecoder, MAX_HOST_TO_BROWSER};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

mod decode;
mod encode;
mod errors;
mod frames;
mod host;

/// The JSON text of `value` as `bytes`: compact, UTF-8, as `json.dumps(value,
/// separators=(",", ":"), ensure_ascii=False, allow_nan=False)` writes it, with lone
/// surrogates as `\udXXX` escapes.
#[pyfunction]
fn dumps<'py>(py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let mut text = Vec::with_capacity(64);
    encode::dumps(value, &mut text)?;
    Ok(PyBytes::new(py, &text))
}

/// The value of the JSON text `data` (`bytes`, `bytearray` or `str`), through the
/// core's simd-json path. Raises `InvalidUtf8`, `InvalidJson` (with the byte offset)
/// or `NestingTooDeep`.
#[pyfunction]
fn loads<'py>(py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let mut text = text_of(data)?;
    decode::loads(py, &mut JsonDecoder::new(), &mut text)
}

/// Raises `InvalidUtf8` or `InvalidJson` (an empty text too) unless `data` is one UTF-8
/// JSON text (the core's validator: what a browser's `JSON.parse` accepts, with no
/// depth limit).
#[pyfunction]
fn validate(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
    let check = |text: &[u8]| {
        JsonDecoder::new()
            .validate(text)
            .map_err(|e| errors::to_py(py, &e, Some(text.len())))
    };
    if let Ok(bytes) = data.cast::<PyBytes>() {
        return check(bytes.as_bytes());
    }
    check(&text_of(data)?)
}

/// FNV-1a (32 bits) of `data`: the checksum nmframe's echo hosts give in a refusal.
#[pyfunction]
fn fnv1a32(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// A copy of the bytes of `data`: `bytes`, `bytearray`, or `str` (as UTF-8).
fn text_of(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    if let Ok(array) = data.cast::<PyByteArray>() {
        return Ok(array.to_vec());
    }
    if let Ok(s) = data.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "expected bytes, bytearray or str, not {}",
        data.get_type().name()?
    )))
}

#[pymodule]
fn _nmframe(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<host::Host>()?;
    m.add_class::<host::PyCaller>()?;
    m.add_class::<frames::Frames>()?;
    m.add_function(wrap_pyfunction!(dumps, m)?)?;
    m.add_function(wrap_pyfunction!(loads, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(fnv1a32, m)?)?;
    m.add("MAX_HOST_TO_BROWSER", MAX_HOST_TO_BROWSER)?;
    m.add("MAX_BROWSER_TO_HOST", nmframe::MAX_BROWSER_TO_HOST)?;
    m.add(
        "CHROMIUM_MAX_BROWSER_TO_HOST",
        nmframe::CHROMIUM_MAX_BROWSER_TO_HOST,
    )?;
    Ok(())
}
