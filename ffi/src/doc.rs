//! `nmf_doc`: read fields of a JSON message by JSON Pointer, without a JSON library.

use std::ffi::c_char;

use nmframe::OwnedDocument;
use nmframe::simd_json::prelude::*;
use nmframe::simd_json::{StaticNode, ValueType, tape};

use crate::handle::{Handle, free_handle, last_error_of, new_handle, with_handle};
use crate::nmf_status::{self, *};
use crate::{LastError, size_t};

/// A reusable JSON document. `nmf_doc_parse` copies the text into the document (the
/// caller's buffer is neither rewritten nor kept), and values looked up with
/// `nmf_doc_get` point into the document's memory until the next parse or free.
pub struct nmf_doc {
    doc: OwnedDocument,
    last_error: LastError,
}

impl Handle for nmf_doc {
    fn last_error(&self) -> &LastError {
        &self.last_error
    }
    fn last_error_mut(&mut self) -> &mut LastError {
        &mut self.last_error
    }
}

/// The type of a JSON value.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum nmf_json_type {
    /// `null`.
    NMF_JSON_NULL = 0,
    /// `true` or `false`: see `boolean`.
    NMF_JSON_BOOL = 1,
    /// An integer that fits `int64_t`: see `integer` (and `number`).
    NMF_JSON_INT = 2,
    /// An integer above `INT64_MAX` that fits `uint64_t`: see `uinteger` (and
    /// `number`).
    NMF_JSON_UINT = 3,
    /// Any other number: see `number`.
    NMF_JSON_FLOAT = 4,
    /// A string: `string` and `length` (UTF-8, not NUL-terminated, may contain NUL).
    NMF_JSON_STRING = 5,
    /// An array of `length` elements (`"/path/0"` ... to reach them).
    NMF_JSON_ARRAY = 6,
    /// An object of `length` members.
    NMF_JSON_OBJECT = 7,
}

/// A view of one JSON value. Only the fields its `type` names are meaningful; the
/// others are zero.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct nmf_value {
    /// What the value is.
    pub r#type: nmf_json_type,
    /// For `NMF_JSON_BOOL`.
    pub boolean: bool,
    /// For `NMF_JSON_INT`.
    pub integer: i64,
    /// For `NMF_JSON_UINT` (and `NMF_JSON_INT` when not negative).
    pub uinteger: u64,
    /// For every number type, as a double.
    pub number: f64,
    /// For `NMF_JSON_STRING`: the unescaped UTF-8 bytes, owned by the document.
    pub string: *const c_char,
    /// Bytes of a string, or elements of an array or object.
    pub length: size_t,
}

impl nmf_value {
    fn of(value: tape::Value<'_, '_>) -> nmf_value {
        let mut out = nmf_value {
            r#type: nmf_json_type::NMF_JSON_NULL,
            boolean: false,
            integer: 0,
            uinteger: 0,
            number: 0.0,
            string: std::ptr::null(),
            length: 0,
        };
        if let Some(s) = value.into_string() {
            out.r#type = nmf_json_type::NMF_JSON_STRING;
            out.string = s.as_ptr().cast();
            out.length = s.len();
        } else if let Some(array) = value.as_array() {
            out.r#type = nmf_json_type::NMF_JSON_ARRAY;
            out.length = array.len();
        } else if let Some(object) = value.as_object() {
            out.r#type = nmf_json_type::NMF_JSON_OBJECT;
            out.length = object.len();
        } else if let Some(node) = value.as_static_node() {
            match node {
                StaticNode::Null => {}
                StaticNode::Bool(b) => {
                    out.r#type = nmf_json_type::NMF_JSON_BOOL;
                    out.boolean = b;
                }
                StaticNode::I64(i) => {
                    out.r#type = nmf_json_type::NMF_JSON_INT;
                    out.integer = i;
                    out.uinteger = u64::try_from(i).unwrap_or(0);
                    out.number = i as f64;
                }
                StaticNode::U64(u) => {
                    match i64::try_from(u) {
                        Ok(i) => {
                            out.r#type = nmf_json_type::NMF_JSON_INT;
                            out.integer = i;
                        }
                        Err(_) => out.r#type = nmf_json_type::NMF_JSON_UINT,
                    }
                    out.uinteger = u;
                    out.number = u as f64;
                }
                StaticNode::F64(f) => {
                    out.r#type = nmf_json_type::NMF_JSON_FLOAT;
                    out.number = f;
                }
            }
        }
        out
    }
}

/// The static node of a scalar tape value.
trait AsStaticNode {
    fn as_static_node(&self) -> Option<StaticNode>;
}

impl AsStaticNode for tape::Value<'_, '_> {
    fn as_static_node(&self) -> Option<StaticNode> {
        match self.value_type() {
            ValueType::Null => Some(StaticNode::Null),
            ValueType::Bool => self.as_bool().map(StaticNode::Bool),
            ValueType::I64 => self.as_i64().map(StaticNode::I64),
            ValueType::U64 => self.as_u64().map(StaticNode::U64),
            ValueType::F64 => self.as_f64().map(StaticNode::F64),
            _ => None,
        }
    }
}

/// Makes an empty document.
///
/// # Safety
///
/// `out` is valid for a write of one pointer. Free with `nmf_doc_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_doc_new(out: *mut *mut nmf_doc) -> nmf_status {
    let make = || {
        Ok(nmf_doc {
            doc: OwnedDocument::new(),
            last_error: LastError::default(),
        })
    };
    // SAFETY: the caller's contract on `out`.
    unsafe { new_handle(out, make) }
}

/// Frees a document. NULL does nothing.
///
/// # Safety
///
/// `doc` is NULL or a document from `nmf_doc_new` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_doc_free(doc: *mut nmf_doc) {
    // SAFETY: the caller's contract on `doc`.
    unsafe { free_handle(doc) }
}

/// Parses `len` bytes of JSON at `json` into the document, replacing what it held.
/// The bytes are copied: `json` is not modified and not kept. `NMF_INVALID_UTF8` or
/// `NMF_INVALID_JSON` leave the document empty, with the offset and reason in
/// `nmf_doc_last_error`. Buffers are reused: no allocation once warm.
///
/// # Safety
///
/// `doc` is a live document; `json` is NULL with `len` 0, or valid for reads of `len`
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_doc_parse(
    doc: *mut nmf_doc,
    json: *const u8,
    len: size_t,
) -> nmf_status {
    let body = |d: &mut nmf_doc| {
        // SAFETY: the caller's contract on `json`.
        let json = unsafe { crate::slice(json, len) };
        let Some(json) = json else {
            return NMF_INVALID_ARGUMENT;
        };
        match d.doc.parse(json) {
            Ok(()) => NMF_OK,
            Err(err) => d.last_error.fail(&err),
        }
    };
    // SAFETY: the caller's contract on `doc`.
    unsafe { with_handle(doc, body) }
}

/// Looks up the value at a JSON Pointer (RFC 6901; `""` is the root, `"/a/0"` is
/// element 0 of member `a`, `~1` is `/` and `~0` is `~` in a key), `pointer_len` bytes
/// of UTF-8 at `pointer`. `NMF_NOT_FOUND` when nothing is there (or the document is
/// empty). Strings in `*out` stay valid until the next parse or free.
///
/// # Safety
///
/// `doc` is a live document; `pointer` is NULL with `pointer_len` 0, or valid for reads
/// of `pointer_len` bytes; `out` is valid for a write of one `nmf_value`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_doc_get(
    doc: *mut nmf_doc,
    pointer: *const c_char,
    pointer_len: size_t,
    out: *mut nmf_value,
) -> nmf_status {
    let body = |d: &mut nmf_doc| {
        // SAFETY: the caller's contract on `pointer`.
        let bytes = unsafe { crate::slice(pointer.cast(), pointer_len) };
        let Some(bytes) = bytes else {
            return NMF_INVALID_ARGUMENT;
        };
        if out.is_null() {
            return NMF_INVALID_ARGUMENT;
        }
        let Ok(pointer) = std::str::from_utf8(bytes) else {
            d.last_error.set("the JSON Pointer is not valid UTF-8");
            return NMF_INVALID_ARGUMENT;
        };
        match d.doc.pointer(pointer) {
            Some(value) => {
                // SAFETY: non-NULL (checked above) and valid for a write by the caller's contract.
                unsafe { out.write(nmf_value::of(value)) };
                NMF_OK
            }
            None => {
                d.last_error
                    .set(format_args!("no value at JSON Pointer \"{pointer}\""));
                NMF_NOT_FOUND
            }
        }
    };
    // SAFETY: the caller's contract on `doc`.
    unsafe { with_handle(doc, body) }
}

/// The last failure on this document, with its numbers; valid until the next call on
/// it. Empty when the last call succeeded.
///
/// # Safety
///
/// `doc` is NULL (an empty string is returned) or a live document.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nmf_doc_last_error(doc: *const nmf_doc) -> *const c_char {
    // SAFETY: the caller's contract on `doc`.
    unsafe { last_error_of(doc) }
}
