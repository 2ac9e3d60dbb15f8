//! JSON decoding of payloads through simd-json, with buffers reused across messages.

use std::borrow::Cow;
use std::mem;

use serde::Deserialize;
use simd_json::{BorrowedValue, Buffers, ErrorType, Node, Tape};

use crate::error::{Error, Result};
use crate::validate::Validator;

/// A JSON decoder that keeps simd-json's working buffers from one message to the next,
/// so that decoding a stream of messages stops allocating once the buffers have grown
/// to fit the largest message seen.
///
/// It offers three levels of decoding:
/// - [`validate`](Self::validate): is this UTF-8 JSON? No tree, and the payload is left
///   untouched, so it can be forwarded as it is.
/// - [`parse`](Self::parse): a [`Document`] to read values from, without allocating;
///   [`to_borrowed`](Self::to_borrowed): a `simd_json::BorrowedValue` tree. Both
///   unescape strings in place in the payload and point into it.
/// - [`deserialize`](Self::deserialize): any `serde::Deserialize` type, which may
///   borrow `&str` fields from the payload.
///
/// ```
/// use nmframe::JsonDecoder;
/// use nmframe::simd_json::prelude::*;
///
/// let mut json = JsonDecoder::new();
/// let mut payload = br#"{"cmd":"open","url":"https://example.org/a\"b"}"#.to_vec();
///
/// json.validate(&payload)?; // untouched
/// let doc = json.parse(&mut payload)?; // rewritten in place: escapes resolved
/// assert_eq!(doc.value().get("cmd").and_then(|v| v.into_string()), Some("open"));
/// assert_eq!(doc.pointer("/url").and_then(|v| v.into_string()), Some("https://example.org/a\"b"));
/// # Ok::<(), nmframe::Error>(())
/// ```
pub struct JsonDecoder {
    buffers: Buffers,
    /// The tape's allocation, kept empty between calls.
    tape: Vec<Node<'static>>,
    /// The tape-free validator behind [`validate`](Self::validate), which reads the
    /// caller's bytes where they lie.
    validator: Validator,
}

impl std::fmt::Debug for JsonDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonDecoder")
            .field("tape_capacity", &self.tape.capacity())
            .finish_non_exhaustive()
    }
}

impl Default for JsonDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonDecoder {
    /// A decoder with small buffers, which grow to fit the messages decoded.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// A decoder whose buffers are sized up front for messages of `len` bytes.
    pub fn with_capacity(len: usize) -> Self {
        JsonDecoder {
            buffers: Buffers::new(len),
            tape: Vec::new(),
            validator: Validator::default(),
        }
    }

    /// Checks that `payload` is one valid UTF-8 JSON text, with nothing before or after
    /// it but whitespace. `payload` is not modified.
    ///
    /// It accepts what `JSON.parse` accepts. Escapes of unpaired UTF-16 surrogates
    /// (`"\ud800"`) are valid: browsers send them for strings cut inside a surrogate
    /// pair, and every way of reading a value reads them as U+FFFD. Nesting has no
    /// limit (browsers send and accept JSON nested far deeper than the 1024 levels a
    /// tree is built for here), and numbers of any magnitude are valid (`1e400` is
    /// `Infinity` to a browser).
    ///
    /// This reads the payload once, where it lies: no copy, no tape, and no allocation
    /// unless the nesting is deeper than 64 levels (and then only until the decoder's
    /// stack has grown to fit).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUtf8`] with the offset of the first bad byte, or
    /// [`Error::InvalidJson`] with the offset and reason.
    pub fn validate(&mut self, payload: &[u8]) -> Result<()> {
        check_not_empty(payload)?;
        self.validator.validate(payload).map(drop)
    }

    /// Parses `payload` into a [`Document`] that reads values straight off simd-json's
    /// tape: no tree is built and nothing is allocated once the buffers are warm.
    /// Strings are unescaped in place, so `payload` is rewritten.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate).
    pub fn parse<'d, 'p>(&'d mut self, payload: &'p mut [u8]) -> Result<Document<'d, 'p>> {
        check_not_empty(payload)?;
        let mut tape = Tape(mem::take(&mut self.tape)).reset();
        match fill_in_place(payload, &mut self.buffers, &mut tape) {
            Ok(()) => Ok(Document {
                tape,
                home: &mut self.tape,
            }),
            Err(err) => {
                self.tape = tape.reset().0;
                Err(err)
            }
        }
    }

    /// Parses `payload` into a `simd_json::BorrowedValue` whose strings point into
    /// `payload` (rewritten in place). The tree's arrays and objects are allocated;
    /// [`parse`](Self::parse) reads values without that.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate).
    pub fn to_borrowed<'p>(&mut self, payload: &'p mut [u8]) -> Result<BorrowedValue<'p>> {
        Ok(self.parse(payload)?.to_borrowed())
    }

    /// Deserializes `payload` into `T`, which may borrow strings from it (rewritten in
    /// place).
    ///
    /// ```
    /// use nmframe::JsonDecoder;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Request<'a> { id: u64, op: &'a str }
    ///
    /// let mut json = JsonDecoder::new();
    /// let mut payload = br#"{"id":42,"op":"ping"}"#.to_vec();
    /// let req: Request<'_> = json.deserialize(&mut payload)?;
    /// assert_eq!((req.id, req.op), (42, "ping"));
    /// # Ok::<(), nmframe::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate), and [`Error::WrongShape`] when the JSON is
    /// valid but does not have the shape of `T` (a missing field, a string where a
    /// number was expected).
    pub fn deserialize<'p, T: Deserialize<'p>>(&mut self, payload: &'p mut [u8]) -> Result<T> {
        check_not_empty(payload)?;
        let mut tape = Tape(mem::take(&mut self.tape)).reset();
        if let Err(err) = fill_in_place(payload, &mut self.buffers, &mut tape) {
            self.tape = tape.reset().0;
            return Err(err);
        }
        let mut de = simd_json::Deserializer::from_tape(tape);
        let value = T::deserialize(&mut de);
        self.tape = de.into_tape().reset().0;
        // The text was validated whole above: whatever fails now is the shape.
        value.map_err(|err| Error::WrongShape {
            reason: describe_shape(err.error()),
        })
    }
}

/// A parsed JSON document: a view of simd-json's tape over a payload. Reading values
/// from it allocates nothing. It gives the decoder's buffers back when dropped.
pub struct Document<'d, 'p> {
    /// Nodes pointing into the payload.
    tape: Tape<'p>,
    /// Where the tape's allocation goes back to, in the decoder.
    home: &'d mut Vec<Node<'static>>,
}

impl<'p> Document<'_, 'p> {
    /// The root value, to be read with simd-json's value traits
    /// (`use nmframe::simd_json::prelude::*`).
    pub fn value(&self) -> simd_json::tape::Value<'_, 'p> {
        self.tape.as_value()
    }

    /// The value at a JSON Pointer (RFC 6901): `""` is the root, `"/a/0/b"` is key `a`,
    /// then index 0, then key `b`; `~1` stands for `/` and `~0` for `~` in keys.
    /// `None` when the path does not exist or the pointer is malformed.
    pub fn pointer(&self, pointer: &str) -> Option<simd_json::tape::Value<'_, 'p>> {
        json_pointer(self.value(), pointer)
    }

    /// simd-json's tape of the document, for a walk of one's own: each array and
    /// object node gives its number of elements and of nodes, and an object's keys are
    /// `Node::String`s before their values. The bindings build their language's values
    /// from it in one pass (the Python package does).
    ///
    /// ```
    /// use nmframe::JsonDecoder;
    /// use nmframe::simd_json::Node;
    ///
    /// let mut json = JsonDecoder::new();
    /// let mut payload = br#"{"a":[1,"x"]}"#.to_vec();
    /// let doc = json.parse(&mut payload)?;
    /// assert!(matches!(doc.tape()[0], Node::Object { len: 1, count: 4 }));
    /// assert_eq!(doc.tape()[1], Node::String("a"));
    /// # Ok::<(), nmframe::Error>(())
    /// ```
    pub fn tape(&self) -> &[Node<'p>] {
        &self.tape.0
    }

    /// Builds a `simd_json::BorrowedValue` tree of the document.
    pub fn to_borrowed(&self) -> BorrowedValue<'p> {
        simd_json::value::lazy::Value::from_tape(self.value()).into_value()
    }
}

impl Drop for Document<'_, '_> {
    fn drop(&mut self) {
        *self.home = Tape(mem::take(&mut self.tape.0)).reset().0;
    }
}

impl std::fmt::Debug for Document<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("nodes", &self.tape.0.len())
            .finish()
    }
}

/// A parsed JSON document that owns a copy of its text, for callers that cannot lend
/// the payload for as long as the document lives (the C ABI, whose Go callers may not
/// let C keep their pointers). Parsing copies the payload once into a reused, padded
/// buffer, which simd-json parses without the copy it would otherwise make itself; the
/// caller's bytes are never rewritten.
///
/// ```
/// use nmframe::OwnedDocument;
/// use nmframe::simd_json::prelude::*;
///
/// let mut doc = OwnedDocument::new();
/// doc.parse(br#"{"a":[1,{"b":"\u00e9"}]}"#)?;
/// assert_eq!(doc.pointer("/a/1/b").and_then(|v| v.into_string()), Some("é"));
/// doc.parse(b"[true]")?; // reuses every buffer
/// assert_eq!(doc.pointer("/0").and_then(|v| v.as_bool()), Some(true));
/// # Ok::<(), nmframe::Error>(())
/// ```
pub struct OwnedDocument {
    buffers: Buffers,
    /// INVARIANT: while `tape` is not empty, its nodes point into `text`'s heap buffer,
    /// and `text` is neither written nor reallocated. Every method that changes `text`
    /// empties `tape` first. The `'static` is a lie told to the type system only:
    /// nodes never leave `self` with a lifetime longer than a borrow of `self`.
    tape: Tape<'static>,
    text: Vec<u8>,
}

impl Default for OwnedDocument {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for OwnedDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedDocument")
            .field("nodes", &self.tape.0.len())
            .field("text_capacity", &self.text.capacity())
            .finish_non_exhaustive()
    }
}

impl OwnedDocument {
    /// An empty document; [`value`](Self::value) is `None` until a parse succeeds.
    pub fn new() -> Self {
        OwnedDocument {
            buffers: Buffers::new(0),
            tape: Tape(Vec::new()),
            text: Vec::new(),
        }
    }

    /// Copies `payload` and parses it, replacing the previous document.
    ///
    /// # Errors
    ///
    /// As for [`JsonDecoder::validate`]; the document is then empty.
    pub fn parse(&mut self, payload: &[u8]) -> Result<()> {
        self.clear();
        check_not_empty(payload)?;
        let len = payload.len();
        self.text.extend_from_slice(payload);
        mend_lone_surrogates(&mut self.text);
        self.text.resize(len + simd_json::INPUT_PADDING, 0);
        let text: *mut [u8] = self.text.as_mut_slice();
        // SAFETY: `text` points to the heap buffer of `self.text`, which lives as long as
        // `self`; the INVARIANT on `tape` keeps it unwritten and in place while nodes
        // point into it, and `tape` was emptied by `clear` above, so no other reference
        // into the buffer exists while this exclusive one is in use.
        let text: &'static mut [u8] = unsafe { &mut *text };
        let outcome = simd_json::fill_tape_padded(text, len, &mut self.buffers, &mut self.tape);
        if let Err(err) = outcome {
            self.tape.0.clear();
            return Err(convert(&err, payload));
        }
        Ok(())
    }

    /// Forgets the document, keeping the buffers.
    pub fn clear(&mut self) {
        // Drop the nodes before the text they point into changes (INVARIANT).
        self.tape.0.clear();
        self.text.clear();
    }

    /// The root value of the last successful parse.
    pub fn value(&self) -> Option<simd_json::tape::Value<'_, '_>> {
        if self.tape.0.is_empty() {
            return None;
        }
        // Covariance shortens the nodes' `'static` to the borrow of `self` (INVARIANT).
        Some(self.tape.as_value())
    }

    /// The value at a JSON Pointer (RFC 6901), as [`Document::pointer`].
    pub fn pointer(&self, pointer: &str) -> Option<simd_json::tape::Value<'_, '_>> {
        json_pointer(self.value()?, pointer)
    }
}

/// Walks an RFC 6901 JSON Pointer down a tape value.
pub(crate) fn json_pointer<'t, 'i>(
    mut value: simd_json::tape::Value<'t, 'i>,
    pointer: &str,
) -> Option<simd_json::tape::Value<'t, 'i>> {
    if pointer.is_empty() {
        return Some(value);
    }
    let rest = pointer.strip_prefix('/')?;
    for token in rest.split('/') {
        let key = unescape_token(token)?;
        value = if let Some(object) = value.as_object() {
            object.get(key.as_ref())?
        } else {
            let array = value.as_array()?;
            array.get(array_index(&key)?)?
        };
    }
    Some(value)
}

/// `~1` → `/`, `~0` → `~`; any other `~` sequence is malformed.
fn unescape_token(token: &str) -> Option<Cow<'_, str>> {
    if !token.contains('~') {
        return Some(Cow::Borrowed(token));
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next()? {
                '0' => out.push('~'),
                '1' => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(Cow::Owned(out))
}

/// An array index in a pointer: decimal digits, no leading zero (RFC 6901 §4).
fn array_index(token: &str) -> Option<usize> {
    let well_formed = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    if well_formed {
        token.parse().ok()
    } else {
        None
    }
}

/// Runs simd-json over `payload` in place, filling `tape` with nodes that borrow it
/// for `'a`; on failure, reports the exact offset of bad UTF-8.
///
/// The error path needs to read `payload` again, but the successful path hands a
/// borrow of it for all of `'a` to the tape, and the borrow checker cannot tell the
/// two paths apart. Both slices are therefore derived from one raw pointer.
fn fill_in_place<'a>(
    payload: &'a mut [u8],
    buffers: &mut Buffers,
    tape: &mut Tape<'a>,
) -> Result<()> {
    mend_lone_surrogates(payload);
    let len = payload.len();
    let ptr = payload.as_mut_ptr();
    // SAFETY: `ptr` and `len` describe `payload`, an exclusive borrow for `'a` that is
    // used from here on only through slices derived from `ptr`, so this slice is the
    // one exclusive access to those bytes while it lives.
    let exclusive: &'a mut [u8] = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
    match simd_json::fill_tape(exclusive, buffers, tape) {
        Ok(()) => Ok(()),
        Err(err) => {
            // The tape may hold references made from `exclusive`: drop them all.
            tape.0.clear();
            // SAFETY: `exclusive` is no longer used (simd-json's error holds no
            // reference into it and the tape was just emptied), so a shared view of the
            // same bytes, derived from the same pointer, aliases nothing live.
            let bytes: &[u8] = unsafe { std::slice::from_raw_parts(ptr, len) };
            Err(convert(&err, bytes))
        }
    }
}

/// Rewrites every escape of an unpaired UTF-16 surrogate (`\uD800` to `\uDFFF` not
/// part of a high + low pair) into `\uFFFD`, in place.
///
/// `JSON.stringify` writes a string's unpaired surrogate as such an escape (a string cut
/// in the middle of an emoji has one), and `JSON.parse` reads it back: browsers send it
/// and accept it. It has no UTF-8 form, so simd-json refuses it. Read as U+FFFD, what
/// `TextEncoder` makes of it, the message parses. Both escapes are six bytes, so every
/// offset stays put. Escapes outside strings are invalid JSON whatever they say, and
/// stay invalid.
fn mend_lone_surrogates(bytes: &mut [u8]) {
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'\\', &bytes[at..]) {
        let i = at + found;
        at = match escaped_unit(bytes, i) {
            Some(0xD800..=0xDBFF)
                if matches!(escaped_unit(bytes, i + 6), Some(0xDC00..=0xDFFF)) =>
            {
                i + 12
            }
            Some(0xD800..=0xDFFF) => {
                bytes[i + 2..i + 6].copy_from_slice(b"fffd");
                i + 6
            }
            // Any other escape is two bytes or more; skipping two keeps `\\` paired.
            _ => i + 2,
        };
        if at >= bytes.len() {
            break;
        }
    }
}

/// The code unit of the `\uXXXX` escape at `bytes[i..]`, if there is one.
fn escaped_unit(bytes: &[u8], i: usize) -> Option<u16> {
    let [b'\\', b'u', hex @ ..] = bytes.get(i..i + 6)? else {
        return None;
    };
    hex.iter().try_fold(0u16, |unit, &digit| {
        let value = (digit as char).to_digit(16)?;
        Some(unit << 4 | value as u16)
    })
}

/// How deep the paths that build a tree ([`JsonDecoder::parse`], `to_borrowed`,
/// `deserialize`, [`OwnedDocument`]) let arrays and objects nest: simd-json's fixed
/// limit, which keeps its stack bounded. [`JsonDecoder::validate`] has none.
pub const TREE_DEPTH_LIMIT: usize = simd_json::DEFAULT_MAX_DEPTH;

fn check_not_empty(payload: &[u8]) -> Result<()> {
    if payload.is_empty() {
        return Err(Error::InvalidJson {
            offset: 0,
            reason: "empty payload: a JSON text needs at least one value".into(),
        });
    }
    Ok(())
}

/// Turns a simd-json error into ours, finding the exact offset of bad UTF-8.
#[cold]
fn convert(err: &simd_json::Error, payload: &[u8]) -> Error {
    if let ErrorType::InvalidUtf8 = err.error() {
        // simd-json reports that the input is not UTF-8, not where: std tells where.
        let offset = match std::str::from_utf8(payload) {
            Err(utf8) => utf8.valid_up_to(),
            Ok(_) => err.index(),
        };
        return Error::InvalidUtf8 { offset };
    }
    if let ErrorType::DepthLimitExceeded = err.error() {
        return Error::NestingTooDeep {
            offset: err.index(),
            limit: TREE_DEPTH_LIMIT,
        };
    }
    if let Some(offset) = trailing_data(err, payload) {
        return Error::InvalidJson {
            offset,
            reason: "bytes after the end of the JSON value".into(),
        };
    }
    Error::InvalidJson {
        offset: err.index(),
        reason: describe(err.error()).into_owned(),
    }
}

/// The offset of the first byte after a complete root value, when that is what the
/// parser tripped on. simd-json reports it as `TrailingData` (after a scalar, offset 0)
/// or as `InternalError` at the root's closing bracket (after an array or object):
/// either way the offset it gives is not where the extra bytes are.
fn trailing_data(err: &simd_json::Error, payload: &[u8]) -> Option<usize> {
    let after_root = match err.error() {
        ErrorType::InternalError if matches!(payload.get(err.index()), Some(b']' | b'}')) => {
            err.index() + 1
        }
        ErrorType::TrailingData => end_of_scalar(payload)?,
        _ => return None,
    };
    let skipped = payload
        .get(after_root..)?
        .iter()
        .position(|b| !is_json_space(*b))?;
    Some(after_root + skipped)
}

/// Where a root scalar ends: after the closing quote of a string, or at the first
/// whitespace after a number or literal.
fn end_of_scalar(payload: &[u8]) -> Option<usize> {
    let start = payload.iter().position(|b| !is_json_space(*b))?;
    if payload[start] != b'"' {
        let len = payload[start..]
            .iter()
            .position(|b| is_json_space(*b) || b"[]{},:\"".contains(b))?;
        return Some(start + len);
    }
    let mut i = start + 1;
    while let Some(&b) = payload.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn describe(err: &ErrorType) -> Cow<'static, str> {
    Cow::Borrowed(match err {
        ErrorType::Eof => "unexpected end of the JSON text",
        ErrorType::UnterminatedString => "unterminated string",
        ErrorType::InvalidEscape => "invalid escape sequence",
        ErrorType::InvalidUnicodeEscape => "invalid \\u escape",
        ErrorType::InvalidUnicodeCodepoint => "invalid unicode code point",
        ErrorType::InvalidNumber => "invalid number",
        ErrorType::InvalidExponent => "invalid exponent in a number",
        ErrorType::UnexpectedCharacter => "unexpected character",
        ErrorType::ExpectedObjectColon => "expected ':' after an object key",
        ErrorType::ExpectedObjectKey => "expected a string key",
        ErrorType::ExpectedArrayComma => "expected ',' or ']' in an array",
        ErrorType::ExpectedMapComma => "expected ',' or '}' in an object",
        ErrorType::ExpectedArrayContent => "expected a value in an array",
        ErrorType::ExpectedObjectContent => "expected a value in an object",
        ErrorType::NoStructure => "no JSON value found",
        ErrorType::InternalError | ErrorType::Syntax => "malformed JSON",
        ErrorType::ExpectedTrue | ErrorType::ExpectedFalse | ErrorType::ExpectedNull => {
            "invalid literal (expected true, false or null)"
        }
        ErrorType::Serde(message) => return Cow::Owned(message.clone()),
        other => return Cow::Owned(format!("{other:?}")),
    })
}

/// What a typed decoding of valid JSON found instead of what it expected.
fn describe_shape(err: &ErrorType) -> String {
    let expected = match err {
        ErrorType::Serde(message) => return message.clone(),
        ErrorType::ExpectedArray => "an array",
        ErrorType::ExpectedBoolean => "a boolean",
        ErrorType::ExpectedEnum => "an enum variant",
        ErrorType::ExpectedFloat | ErrorType::ExpectedNumber => "a number",
        ErrorType::ExpectedInteger | ErrorType::ExpectedSigned => "an integer",
        ErrorType::ExpectedUnsigned => "a non-negative integer",
        ErrorType::ExpectedMap => "an object",
        ErrorType::ExpectedNull => "null",
        ErrorType::ExpectedString => "a string",
        other => return describe(other).into_owned(),
    };
    format!("expected {expected}, found another type of value")
}

#[cfg(test)]
mod tests {
    //! Small, deterministic cases for the two pieces of unsafe code in this file, so
    //! that they run under Miri too (the property tests cover the same code natively).
    use super::*;
    use simd_json::prelude::*;

    #[test]
    fn an_owned_document_outlives_its_input_and_reparses_in_place() {
        let mut doc = OwnedDocument::new();
        for round in 0..3 {
            let text =
                format!(r#"{{"round":{round},"list":[1,"two",{{"k":null}}],"s":"\ud83d\ude00x"}}"#);
            doc.parse(text.as_bytes()).unwrap();
            drop(text); // the document holds its own copy
            assert_eq!(doc.pointer("/round").and_then(|v| v.as_u64()), Some(round));
            let two = doc.pointer("/list/1").unwrap();
            assert_eq!(two.as_str(), Some("two"));
            assert!(doc.pointer("/list/2/k").is_some_and(|v| v.is_null()));
            let emoji = doc.pointer("/s").unwrap();
            assert_eq!(emoji.as_str(), Some("😀x"));
        }
        // A failed parse leaves the document empty, and the next one works.
        assert!(doc.parse(b"[1,").is_err());
        assert!(doc.value().is_none());
        doc.parse(b"[true]").unwrap();
        assert_eq!(doc.pointer("/0").and_then(|v| v.as_bool()), Some(true));
    }

    #[test]
    fn a_parse_error_reads_the_payload_after_the_parser_borrowed_it() {
        let mut json = JsonDecoder::new();
        for (text, offset) in [(&b"[1,2,}"[..], 5), (b"{\"a\":1} x", 8), (b"[\"\xff\"]", 2)] {
            let mut payload = text.to_vec();
            let err = json.parse(&mut payload).map(drop).unwrap_err();
            let at = match err {
                Error::InvalidJson { offset, .. } | Error::InvalidUtf8 { offset } => offset,
                other => panic!("{other:?}"),
            };
            assert_eq!(at, offset, "{:?}", String::from_utf8_lossy(text));
        }
        let mut payload = br#"{"ok":[1,2,3]}"#.to_vec();
        let doc = json.parse(&mut payload).unwrap();
        assert_eq!(doc.pointer("/ok/2").and_then(|v| v.as_u64()), Some(3));
    }
}
