//! JSON text → Python values: the core's simd-json tape walked once, building the
//! objects `json.loads` would.

use nmframe::JsonDecoder;
use nmframe::simd_json::{Node, StaticNode};
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyString};

use crate::errors;

static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The value of the JSON text `payload` (rewritten in place: simd-json unescapes
/// strings where they lie).
///
/// A text with a `\uD800`–`\uDFFF` escape goes to `json.loads` instead: browsers send
/// lone surrogates (a string cut inside an emoji), which have no UTF-8 form and which
/// simd-json, like the core, would read as U+FFFD; Python's `str` holds them, and
/// `json.loads` gives them back exactly. The core's validator has checked the text
/// first, so the errors are the core's either way.
pub(crate) fn loads<'py>(
    py: Python<'py>,
    json: &mut JsonDecoder,
    payload: &mut [u8],
) -> PyResult<Bound<'py, PyAny>> {
    if has_surrogate_escape(payload) {
        json.validate(payload)
            .map_err(|e| errors::to_py(py, &e, Some(payload.len())))?;
        let loads = JSON_LOADS.get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("json")?.getattr("loads")?.unbind())
        })?;
        // Valid UTF-8: the validator said so.
        let text = String::from_utf8_lossy(payload);
        return loads.bind(py).call1((text.as_ref(),));
    }
    let size = payload.len();
    let doc = json
        .parse(payload)
        .map_err(|e| errors::to_py(py, &e, Some(size)))?;
    let tape = doc.tape();
    // Python's cyclic collector would run again and again while a large document's
    // thousands of dicts and lists are made (measured: a sixth of the time of a 1 MiB
    // one), and it can find no cycle among them: it waits until the value is whole.
    // The GIL is held throughout, so no other thread sees the pause.
    let _paused = (tape.len() > GC_PAUSE_NODES)
        .then(|| GcPause::start(py))
        .transpose()?;
    let mut at = 0;
    let mut keys = Keys::new();
    build(py, tape, &mut at, &mut keys)
}

/// Documents of more nodes than this are built with the collector paused.
const GC_PAUSE_NODES: usize = 4096;

static GC: PyOnceLock<(Py<PyAny>, Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();

/// Python's cyclic collector switched off until dropped, if it was on.
struct GcPause<'py> {
    enable: Option<Bound<'py, PyAny>>,
}

impl<'py> GcPause<'py> {
    fn start(py: Python<'py>) -> PyResult<Self> {
        let (isenabled, disable, enable) = GC.get_or_try_init(py, || {
            let gc = py.import("gc")?;
            Ok::<_, PyErr>((
                gc.getattr("isenabled")?.unbind(),
                gc.getattr("disable")?.unbind(),
                gc.getattr("enable")?.unbind(),
            ))
        })?;
        if !isenabled.bind(py).call0()?.is_truthy()? {
            return Ok(GcPause { enable: None });
        }
        disable.bind(py).call0()?;
        Ok(GcPause {
            enable: Some(enable.bind(py).clone()),
        })
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if let Some(enable) = &self.enable {
            let _ = enable.call0();
        }
    }
}

/// The keys made so far in one document, by a hash of their text: objects of the same
/// shape share their key strings, as with `json.loads`, and each repeated key costs a
/// comparison instead of a new string.
struct Keys<'t, 'py> {
    slots: [Option<(&'t str, Bound<'py, PyString>)>; KEY_SLOTS],
}

const KEY_SLOTS: usize = 64;
/// Longer keys are rarely repeated: they are made each time.
const KEY_MAX: usize = 32;

impl<'t, 'py> Keys<'t, 'py> {
    fn new() -> Self {
        Keys {
            slots: [const { None }; KEY_SLOTS],
        }
    }

    fn get(&mut self, py: Python<'py>, key: &'t str) -> Bound<'py, PyString> {
        let bytes = key.as_bytes();
        if bytes.len() > KEY_MAX {
            return PyString::new(py, key);
        }
        let hash = bytes.iter().fold(bytes.len(), |h, &b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        let slot = &mut self.slots[hash % KEY_SLOTS];
        if let Some((seen, string)) = slot
            && *seen == key
        {
            return string.clone();
        }
        let string = PyString::new(py, key);
        *slot = Some((key, string.clone()));
        string
    }
}

/// Whether `text` holds a `\uD800`–`\uDFFF` escape (paired or not). An escaped
/// backslash followed by `ud800` is taken for one too: that text merely goes the slower
/// way.
fn has_surrogate_escape(text: &[u8]) -> bool {
    memchr::memchr_iter(b'\\', text).any(|i| {
        matches!(
            text.get(i + 1..i + 4),
            Some([b'u', b'd' | b'D', b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F'])
        )
    })
}

/// The value starting at `nodes[*at]`; `*at` moves past it.
fn build<'t, 'py>(
    py: Python<'py>,
    nodes: &[Node<'t>],
    at: &mut usize,
    keys: &mut Keys<'t, 'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let node = nodes[*at];
    *at += 1;
    Ok(match node {
        Node::String(s) => PyString::new(py, s).into_any(),
        Node::Static(StaticNode::I64(n)) => n.into_pyobject(py)?.into_any(),
        Node::Static(StaticNode::U64(n)) => n.into_pyobject(py)?.into_any(),
        Node::Static(StaticNode::F64(f)) => PyFloat::new(py, f).into_any(),
        Node::Static(StaticNode::Bool(b)) => PyBool::new(py, b).to_owned().into_any(),
        Node::Static(StaticNode::Null) => py.None().into_bound(py),
        Node::Array { len, .. } => {
            let size = ffi::Py_ssize_t::try_from(len)
                .map_err(|_| PyValueError::new_err("array too long"))?;
            // SAFETY: PyList_New with the GIL held (`py` proves it).
            let raw = unsafe { ffi::PyList_New(size) };
            // SAFETY: `raw` is a new reference, or NULL with an exception set, which
            // becomes the error.
            let list = unsafe { Bound::from_owned_ptr_or_err(py, raw)? };
            for i in 0..size {
                let item = build(py, nodes, at, keys)?;
                // SAFETY: `list` is a new list of `size` empty slots and `i < size`;
                // PyList_SetItem takes the reference `into_ptr` gives up. A list left
                // with empty slots by an error above is freed safely (they are NULL).
                let failed = unsafe { ffi::PyList_SetItem(list.as_ptr(), i, item.into_ptr()) } != 0;
                if failed {
                    return Err(PyErr::fetch(py));
                }
            }
            list
        }
        Node::Object { len, .. } => {
            let dict = PyDict::new(py);
            for _ in 0..len {
                let Node::String(key) = nodes[*at] else {
                    unreachable!("simd-json puts a string before each value of an object")
                };
                *at += 1;
                let value = build(py, nodes, at, keys)?;
                dict.set_item(keys.get(py, key), value)?;
            }
            dict.into_any()
        }
    })
}
