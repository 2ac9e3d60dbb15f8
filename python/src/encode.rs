//! Python values → JSON text, written where `json.dumps(v, separators=(",", ":"),
//! ensure_ascii=False, allow_nan=False)` would write the same value: compact, UTF-8,
//! and lone surrogates (which a `str` may hold, and browsers send) as `\udXXX` escapes,
//! so that they go back exactly as they came.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Deeper than this is refused, as a circular reference would be (`json.dumps` stops
/// at Python's recursion limit, 1,000 by default); the browsers' own limit is deeper,
/// but nothing this deep comes from Python code on purpose.
const MAX_DEPTH: usize = 1024;

/// Appends the JSON text of `value` to `out`.
pub(crate) fn dumps(value: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    write_value(value, out, 0)
}

fn write_value(value: &Bound<'_, PyAny>, out: &mut Vec<u8>, depth: usize) -> PyResult<()> {
    if let Ok(s) = value.cast::<PyString>() {
        return write_str(s, out);
    }
    if value.is_none() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    if let Ok(b) = value.cast_exact::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
        return Ok(());
    }
    if value.cast::<PyInt>().is_ok() {
        return write_int(value, out);
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return write_float(f.value(), out);
    }
    if depth >= MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "nesting deeper than {MAX_DEPTH} levels (or a circular reference)"
        )));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        out.push(b'{');
        for (i, (key, item)) in dict.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_key(&key, out)?;
            out.push(b':');
            write_value(&item, out, depth + 1)?;
        }
        out.push(b'}');
        return Ok(());
    }
    if let Ok(list) = value.cast::<PyList>() {
        return write_array(list.iter(), out, depth);
    }
    if let Ok(tuple) = value.cast::<PyTuple>() {
        return write_array(tuple.iter(), out, depth);
    }
    Err(PyTypeError::new_err(format!(
        "Object of type {} is not JSON serializable",
        value.get_type().name()?
    )))
}

/// A list or a tuple, as a JSON array.
fn write_array<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    out: &mut Vec<u8>,
    depth: usize,
) -> PyResult<()> {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_value(&item, out, depth + 1)?;
    }
    out.push(b']');
    Ok(())
}

/// A key as `json.dumps` writes it: strings as they are; numbers, booleans and None as
/// the string of their JSON.
fn write_key(key: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    if let Ok(s) = key.cast::<PyString>() {
        return write_str(s, out);
    }
    let is_scalar = key.is_none() || key.cast::<PyInt>().is_ok() || key.cast::<PyFloat>().is_ok();
    if !is_scalar {
        return Err(PyTypeError::new_err(format!(
            "keys must be str, int, float, bool or None, not {}",
            key.get_type().name()?
        )));
    }
    out.push(b'"');
    write_value(key, out, 0)?;
    out.push(b'"');
    Ok(())
}

fn write_int(value: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    let mut digits = itoa::Buffer::new();
    if let Ok(n) = value.extract::<i64>() {
        out.extend_from_slice(digits.format(n).as_bytes());
    } else if let Ok(n) = value.extract::<u64>() {
        out.extend_from_slice(digits.format(n).as_bytes());
    } else {
        // Past 64 bits: Python's own digits (int.__repr__, as json.dumps writes them).
        let text = <PyInt as pyo3::PyTypeInfo>::type_object(value.py())
            .call1((value,))?
            .repr()?;
        out.extend_from_slice(text.to_cow()?.as_bytes());
    }
    Ok(())
}

fn write_float(f: f64, out: &mut Vec<u8>) -> PyResult<()> {
    if !f.is_finite() {
        return Err(PyValueError::new_err(format!(
            "Out of range float values are not JSON compliant: {f}"
        )));
    }
    let mut digits = ryu::Buffer::new();
    out.extend_from_slice(digits.format_finite(f).as_bytes());
    Ok(())
}

fn write_str(s: &Bound<'_, PyString>, out: &mut Vec<u8>) -> PyResult<()> {
    if let Some(text) = utf8_of(s) {
        write_escaped(text, out, false);
        return Ok(());
    }
    match s.to_cow() {
        Ok(text) => {
            write_escaped(text.as_bytes(), out, false);
            Ok(())
        }
        Err(_) => {
            // A lone surrogate: its three "UTF-8" bytes (ED A0..BF xx) are written as
            // the escape the browser sent.
            let bytes = s.call_method1("encode", ("utf-8", "surrogatepass"))?;
            let bytes = bytes.cast::<PyBytes>()?;
            write_escaped(bytes.as_bytes(), out, true);
            Ok(())
        }
    }
}

#[cfg(not(windows))]
unsafe extern "C" {
    /// In the stable ABI from 3.10, and in every CPython 3 before it with this
    /// signature: the string's UTF-8, cached in the string object (an ASCII string's
    /// own characters), without the `bytes` object that `PyUnicode_AsUTF8String` makes
    /// for each call.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::ffi::c_char;
}

/// The UTF-8 of `s` where it lies, or `None` (a lone surrogate, or Windows, where
/// Python 3.9's `python3.dll` does not export the call: `to_cow` is the way there).
#[cfg(not(windows))]
fn utf8_of<'a>(s: &'a Bound<'_, PyString>) -> Option<&'a [u8]> {
    let mut len: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live str (the GIL is held while it is borrowed) and `len` a
    // valid place for the length.
    let ptr = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut len) };
    if ptr.is_null() {
        // The UnicodeEncodeError of a lone surrogate: the caller takes the slow way.
        let _ = PyErr::take(s.py());
        return None;
    }
    let len = usize::try_from(len).ok()?;
    // SAFETY: CPython returns `len` bytes of UTF-8 at `ptr`, owned by the string
    // object and kept until it is freed; `s`, borrowed for 'a, keeps it alive and str
    // objects never change.
    Some(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

#[cfg(windows)]
fn utf8_of<'a>(_s: &'a Bound<'_, PyString>) -> Option<&'a [u8]> {
    None
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `w` is below 0x20, a quote or a backslash (or, with
/// `surrogates`, 0xED, the lead byte of a surrogate's encoding).
fn word_needs_escape(w: u64, surrogates: bool) -> bool {
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    let mut hit = control | zero(w ^ (LO * u64::from(b'"'))) | zero(w ^ (LO * u64::from(b'\\')));
    if surrogates {
        hit |= zero(w ^ (LO * 0xED));
    }
    hit != 0
}

/// `text` as a JSON string, quotes included. Runs of bytes that need no escape are
/// found eight at a time and copied whole.
fn write_escaped(text: &[u8], out: &mut Vec<u8>, surrogates: bool) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        if let Some(word) = text.get(i..i + 8) {
            let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            if !word_needs_escape(w, surrogates) {
                i += 8;
                continue;
            }
        }
        let b = text[i];
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x08 => Some(b"\\b"),
            0x0C => Some(b"\\f"),
            _ => None,
        };
        if let Some(escape) = escape {
            out.extend_from_slice(&text[start..i]);
            out.extend_from_slice(escape);
            i += 1;
            start = i;
        } else if b < 0x20 {
            out.extend_from_slice(&text[start..i]);
            out.extend_from_slice(format!("\\u{:04x}", b).as_bytes());
            i += 1;
            start = i;
        } else if surrogates && b == 0xED && text.get(i + 1).is_some_and(|&c| c >= 0xA0) {
            let unit = (u32::from(b & 0x0F) << 12)
                | (u32::from(text[i + 1] & 0x3F) << 6)
                | u32::from(text[i + 2] & 0x3F);
            out.extend_from_slice(&text[start..i]);
            out.extend_from_slice(format!("\\u{unit:04x}").as_bytes());
            i += 3;
            start = i;
        } else {
            i += 1;
        }
    }
    out.extend_from_slice(&text[start..]);
    out.push(b'"');
}
