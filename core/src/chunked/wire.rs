//! The envelope on the wire (`docs/CHUNKING.md`): how an envelope frame is told from a
//! message, read without building a tree, and written.
//!
//! A receiver reads an envelope frame in two passes over its bytes and allocates
//! nothing: the validator checks that it is one JSON text (so a frame with a huge member
//! costs what validating it costs, never a tree of it), then a scan picks the members it
//! knows and steps over the rest. The `data` of a part is left where it lies, escaped,
//! and unescaped once, straight into the message being reassembled.

use std::io::Write as _;

use memchr::{memchr, memchr2};

use crate::transfer::TransferCode;
use crate::validate::Validator;

/// The member whose presence first in an object marks an envelope frame.
pub const KEY: &str = "$nmframe";
/// The envelope's version: 2 since acknowledgements and refusals name the recipient's
/// messages (`ack`, `refuse`) and `abort` only the sender's own.
pub const VERSION: u32 = 2;

/// Whether `frame` is an envelope frame: a JSON object whose first member is
/// `"$nmframe"` (JSON whitespace allowed). Decided from its first bytes.
///
/// ```
/// use nmframe::chunked::is_envelope;
///
/// assert!(is_envelope(br#"{"$nmframe":2,"t":"ack","id":0,"seq":3}"#));
/// assert!(!is_envelope(br#"{"t":"ack","$nmframe":2}"#)); // not first: a message
/// ```
pub fn is_envelope(frame: &[u8]) -> bool {
    let mut rest = frame;
    let skip = |rest: &mut &[u8]| {
        while let [b' ' | b'\t' | b'\n' | b'\r', tail @ ..] = *rest {
            *rest = tail;
        }
    };
    skip(&mut rest);
    let Some(tail) = rest.strip_prefix(b"{") else {
        return false;
    };
    rest = tail;
    skip(&mut rest);
    let Some(tail) = rest.strip_prefix(b"\"$nmframe\"") else {
        return false;
    };
    rest = tail;
    skip(&mut rest);
    rest.first() == Some(&b':')
}

/// What each byte of a message's text costs inside a JSON string as
/// [`Parts`](super::Parts) writes it: 1, 2 for `"`, `\` and the short escapes, 6 for
/// other control characters.
pub(crate) const COST: [u8; 256] = {
    let mut cost = [1u8; 256];
    let mut b = 0;
    while b < 0x20 {
        cost[b] = 6;
        b += 1;
    }
    cost[b'\n' as usize] = 2;
    cost[b'\r' as usize] = 2;
    cost[b'\t' as usize] = 2;
    cost[0x08] = 2;
    cost[0x0c] = 2;
    cost[b'"' as usize] = 2;
    cost[b'\\' as usize] = 2;
    cost
};

/// Appends `piece` (UTF-8) to `dst` escaped as the inside of a JSON string.
pub(crate) fn escape_into(dst: &mut Vec<u8>, piece: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &b) in piece.iter().enumerate() {
        if COST[usize::from(b)] == 1 {
            continue;
        }
        dst.extend_from_slice(&piece[start..i]);
        start = i + 1;
        match b {
            b'"' => dst.extend_from_slice(b"\\\""),
            b'\\' => dst.extend_from_slice(b"\\\\"),
            b'\n' => dst.extend_from_slice(b"\\n"),
            b'\r' => dst.extend_from_slice(b"\\r"),
            b'\t' => dst.extend_from_slice(b"\\t"),
            0x08 => dst.extend_from_slice(b"\\b"),
            0x0c => dst.extend_from_slice(b"\\f"),
            _ => dst.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]),
        }
    }
    dst.extend_from_slice(&piece[start..]);
}

/// The inside of a JSON string as it stands in a frame (escapes not yet resolved), or a
/// member of another type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Member<'a> {
    Absent,
    /// A non-negative integer without fraction or exponent that fits 64 bits.
    Uint(u64),
    /// A string, escaped as it came.
    Str(&'a [u8]),
    /// Anything else: the wrong type for every member the envelope defines.
    Other,
}

impl<'a> Member<'a> {
    fn uint(self) -> Option<u64> {
        match self {
            Member::Uint(n) => Some(n),
            _ => None,
        }
    }

    fn str(self) -> Option<&'a [u8]> {
        match self {
            Member::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// The members of one envelope frame that a receiver reads; others are stepped over.
/// When a member occurs twice the last one counts, as in `JSON.parse`.
#[derive(Debug)]
pub(crate) struct Envelope<'a> {
    pub version: Member<'a>,
    pub t: Member<'a>,
    pub id: Member<'a>,
    pub seq: Member<'a>,
    pub data: Member<'a>,
    pub total: Member<'a>,
    pub window: Member<'a>,
    pub bytes: Member<'a>,
    pub crc32: Member<'a>,
    pub code: Member<'a>,
    pub reason: Member<'a>,
}

/// What a frame's `t` says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Part,
    End,
    Abort,
    Ack,
    Refuse,
}

impl<'a> Envelope<'a> {
    /// Reads `frame`, an envelope frame (first member `"$nmframe"`): `Err` with the
    /// validator's sentence when it is not one JSON text.
    pub(crate) fn read(frame: &'a [u8], validator: &mut Validator) -> Result<Self, String> {
        validator.validate(frame).map_err(|e| e.to_string())?;
        let mut env = Envelope {
            version: Member::Absent,
            t: Member::Absent,
            id: Member::Absent,
            seq: Member::Absent,
            data: Member::Absent,
            total: Member::Absent,
            window: Member::Absent,
            bytes: Member::Absent,
            crc32: Member::Absent,
            code: Member::Absent,
            reason: Member::Absent,
        };
        // Valid JSON whose first token is `{` (is_envelope said so): the scan below
        // needs no error paths.
        let mut i = skip_space(frame, 0) + 1;
        let mut ignored = Member::Absent;
        loop {
            i = skip_space(frame, i);
            if frame.get(i) != Some(&b'"') {
                break; // `}`
            }
            let key_end = string_end(frame, i);
            let key = &frame[i + 1..key_end - 1];
            i = skip_space(frame, key_end) + 1; // past ':'
            i = skip_space(frame, i);
            let (member, end) = member_at(frame, i);
            i = skip_space(frame, end);
            let slot = match key {
                b"$nmframe" => &mut env.version,
                b"t" => &mut env.t,
                b"id" => &mut env.id,
                b"seq" => &mut env.seq,
                b"data" => &mut env.data,
                b"total" => &mut env.total,
                b"window" => &mut env.window,
                b"bytes" => &mut env.bytes,
                b"crc32" => &mut env.crc32,
                b"code" => &mut env.code,
                b"reason" => &mut env.reason,
                _ => &mut ignored,
            };
            *slot = member;
            if frame.get(i) == Some(&b',') {
                i += 1;
            } else {
                break;
            }
        }
        Ok(env)
    }

    /// The version as a number, or how it was written.
    pub(crate) fn version(&self) -> Result<u64, String> {
        match self.version {
            Member::Uint(n) => Ok(n),
            Member::Str(s) => Err(format!("\"{}\"", String::from_utf8_lossy(s))),
            _ => Err("a value that is not a version number".into()),
        }
    }

    pub(crate) fn kind(&self) -> Result<Kind, String> {
        match self.t.str() {
            Some(b"part") => Ok(Kind::Part),
            Some(b"end") => Ok(Kind::End),
            Some(b"abort") => Ok(Kind::Abort),
            Some(b"ack") => Ok(Kind::Ack),
            Some(b"refuse") => Ok(Kind::Refuse),
            Some(other) => Err(format!(
                "an envelope frame of unknown type \"{}\"",
                String::from_utf8_lossy(other)
            )),
            None => Err("an envelope frame without a string \"t\"".into()),
        }
    }

    /// The id, when it is an integer from 0 to 2^32 − 1.
    pub(crate) fn id(&self) -> Option<u32> {
        self.id.uint().and_then(|n| u32::try_from(n).ok())
    }

    pub(crate) fn seq(&self) -> Option<u64> {
        self.seq.uint()
    }

    pub(crate) fn data(&self) -> Option<&'a [u8]> {
        self.data.str()
    }

    /// `total` when present and a number; `Err` when present and not one.
    pub(crate) fn total(&self) -> Result<Option<u64>, ()> {
        optional_uint(self.total)
    }

    /// `window` when present and a number that fits 32 bits.
    pub(crate) fn window(&self) -> Result<Option<u32>, ()> {
        match optional_uint(self.window)? {
            Some(n) => u32::try_from(n).map(Some).map_err(drop),
            None => Ok(None),
        }
    }

    pub(crate) fn bytes(&self) -> Option<u64> {
        self.bytes.uint()
    }

    pub(crate) fn crc32(&self) -> Option<u32> {
        self.crc32.uint().and_then(|n| u32::try_from(n).ok())
    }

    /// A string member as text, for a person (`reason`, `code`).
    pub(crate) fn text(member: Member<'_>) -> Option<String> {
        let raw = member.str()?;
        let mut out = Vec::with_capacity(raw.len());
        unescape_into(&mut out, raw);
        Some(String::from_utf8_lossy(&out).into_owned())
    }
}

fn optional_uint(member: Member<'_>) -> Result<Option<u64>, ()> {
    match member {
        Member::Absent => Ok(None),
        Member::Uint(n) => Ok(Some(n)),
        _ => Err(()),
    }
}

fn skip_space(text: &[u8], mut i: usize) -> usize {
    while matches!(text.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// The index just past the string whose opening quote is at `i` (valid JSON).
fn string_end(text: &[u8], i: usize) -> usize {
    let mut at = i + 1;
    loop {
        match memchr2(b'"', b'\\', &text[at..]) {
            Some(n) if text[at + n] == b'"' => return at + n + 1,
            // A backslash and the byte it escapes (a `\u` escape's digits are no quote).
            Some(n) => at += n + 2,
            None => return text.len(),
        }
    }
}

/// The member that starts at `i` (valid JSON) and the index just past it. Containers
/// are stepped over, never built.
fn member_at(text: &[u8], i: usize) -> (Member<'_>, usize) {
    match text.get(i) {
        Some(b'"') => {
            let end = string_end(text, i);
            (Member::Str(&text[i + 1..end - 1]), end)
        }
        Some(b'{' | b'[') => (Member::Other, container_end(text, i)),
        Some(b'0'..=b'9') => {
            let mut end = i;
            let mut value: Option<u64> = Some(0);
            while let Some(&d @ b'0'..=b'9') = text.get(end) {
                value = value
                    .and_then(|v| v.checked_mul(10))
                    .and_then(|v| v.checked_add(u64::from(d - b'0')));
                end += 1;
            }
            if matches!(text.get(end), Some(b'.' | b'e' | b'E')) {
                (Member::Other, scalar_end(text, end))
            } else {
                (value.map_or(Member::Other, Member::Uint), end)
            }
        }
        _ => (Member::Other, scalar_end(text, i)),
    }
}

/// The end of a number or literal (valid JSON): the next delimiter.
fn scalar_end(text: &[u8], mut i: usize) -> usize {
    while let Some(b) = text.get(i) {
        if matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
            break;
        }
        i += 1;
    }
    i
}

/// The index just past the array or object that opens at `i` (valid JSON).
fn container_end(text: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while let Some(&b) = text.get(i) {
        match b {
            b'"' => {
                i = string_end(text, i);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    text.len()
}

/// Appends the text of a JSON string's inside (`raw`, escapes included, from a text the
/// validator accepted) to `dst`. An escaped surrogate without its other half becomes
/// U+FFFD, as a browser's `TextEncoder` writes it.
pub(crate) fn unescape_into(dst: &mut Vec<u8>, raw: &[u8]) {
    unescape_with(raw, |run| dst.extend_from_slice(run));
}

/// How many bytes [`unescape_into`] appends for `raw`, without writing them: the size
/// a part's limits are checked against before any memory is reserved.
pub(crate) fn unescaped_len(raw: &[u8]) -> usize {
    let mut len = 0;
    unescape_with(raw, |run| len += run.len());
    len
}

/// Hands `each` the unescaped text of `raw` run by run.
fn unescape_with(raw: &[u8], mut each: impl FnMut(&[u8])) {
    let mut rest = raw;
    while let Some(at) = memchr(b'\\', rest) {
        each(&rest[..at]);
        let escaped = rest.get(at + 1).copied().unwrap_or(b'\\');
        let mut used = 2;
        let one = match escaped {
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'u' => {
                let unit = hex4(rest.get(at + 2..).unwrap_or_default());
                used = 6;
                let c = if (0xD800..0xDC00).contains(&unit) {
                    let low = rest
                        .get(at + 6..at + 8)
                        .filter(|s| *s == b"\\u")
                        .map(|_| hex4(rest.get(at + 8..).unwrap_or_default()))
                        .filter(|low| (0xDC00..0xE000).contains(low));
                    match low {
                        Some(low) => {
                            used = 12;
                            0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        }
                        None => 0xFFFD,
                    }
                } else if (0xDC00..0xE000).contains(&unit) {
                    0xFFFD
                } else {
                    unit
                };
                let c = char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
                each(c.encode_utf8(&mut [0; 4]).as_bytes());
                rest = rest.get(at + used..).unwrap_or_default();
                continue;
            }
            // `\"`, `\\`, `\/`.
            other => other,
        };
        each(&[one]);
        rest = rest.get(at + used..).unwrap_or_default();
    }
    each(rest);
}

/// Four hex digits (the validator checked them) as a number.
fn hex4(digits: &[u8]) -> u32 {
    digits.iter().take(4).fold(0, |n, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => 0,
        };
        (n << 4) | u32::from(v)
    })
}

/// `{"$nmframe":2,"t":"ack","id":ID,"seq":SEQ}`: parts of the peer's message `id` taken
/// up to `seq`.
pub(crate) fn ack(id: u32, seq: u64) -> Vec<u8> {
    format!(r#"{{"{KEY}":{VERSION},"t":"ack","id":{id},"seq":{seq}}}"#).into_bytes()
}

/// `refuse`: this side will not take the peer's message `id`, with the code and why.
pub(crate) fn refuse(id: u32, code: TransferCode, reason: &str) -> Vec<u8> {
    let mut frame = Vec::with_capacity(64 + reason.len());
    let _ = write!(
        frame,
        r#"{{"{KEY}":{VERSION},"t":"refuse","id":{id},"code":"{code}","reason":""#
    );
    escape_into(&mut frame, reason.as_bytes());
    frame.extend_from_slice(b"\"}");
    frame
}

/// `abort`: this side gives up its own message `id`, and why.
pub(crate) fn abort(id: u32, reason: &str) -> Vec<u8> {
    let mut frame = Vec::with_capacity(64 + reason.len());
    let _ = write!(
        frame,
        r#"{{"{KEY}":{VERSION},"t":"abort","id":{id},"reason":""#
    );
    escape_into(&mut frame, reason.as_bytes());
    frame.extend_from_slice(b"\"}");
    frame
}

// Not under Miri: safe code only, and its longer texts reach simdutf8's AVX2 code, where
// Miri stops (an operation it does not support). The native run and the fuzz targets
// cover it.
#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    fn read(frame: &str) -> Envelope<'_> {
        Envelope::read(frame.as_bytes(), &mut Validator::default()).expect("valid")
    }

    #[test]
    fn envelopes_are_told_by_their_first_member() {
        assert!(is_envelope(br#"{"$nmframe":2,"t":"part"}"#));
        assert!(is_envelope(b" {\n \"$nmframe\" :1}"));
        assert!(!is_envelope(br#"{"t":"part","$nmframe":2}"#));
        assert!(!is_envelope(br#"["$nmframe"]"#));
        assert!(!is_envelope(br#"{"$nmframes":2}"#));
    }

    #[test]
    fn known_members_are_read_and_the_rest_stepped_over() {
        let env = read(
            r#" { "$nmframe" : 2 , "x":[[{"}":"]"}],1e5,"\"",{}], "t":"part","id":4294967295,
               "seq":0,"total":12,"window":8,"y":-1.5,"data":"a\"b\\c\u00e9","z":null}"#,
        );
        assert_eq!(env.version(), Ok(2));
        assert_eq!(env.kind(), Ok(Kind::Part));
        assert_eq!(env.id(), Some(u32::MAX));
        assert_eq!(env.seq(), Some(0));
        assert_eq!(env.total(), Ok(Some(12)));
        assert_eq!(env.window(), Ok(Some(8)));
        let mut text = Vec::new();
        unescape_into(&mut text, env.data().unwrap());
        assert_eq!(text, "a\"b\\c\u{e9}".as_bytes());
    }

    #[test]
    fn members_of_the_wrong_type_are_not_taken() {
        let env = read(r#"{"$nmframe":"2","t":1,"id":4294967296,"seq":-1,"data":5,"window":1.0}"#);
        assert_eq!(env.version(), Err("\"2\"".into()));
        assert!(env.kind().is_err());
        assert_eq!(env.id(), None);
        assert_eq!(env.seq(), None);
        assert_eq!(env.data(), None);
        assert_eq!(env.window(), Err(()));
        assert_eq!(
            read(r#"{"$nmframe":2,"seq":99999999999999999999}"#).seq(),
            None
        );
    }

    #[test]
    fn a_frame_that_is_not_json_is_refused_with_the_validators_reason() {
        let err = Envelope::read(br#"{"$nmframe":2,"t":"#, &mut Validator::default());
        let err = err.unwrap_err();
        assert!(err.contains("not valid JSON at byte 18"), "{err}");
    }

    #[test]
    fn escapes_resolve_as_json_parse_and_text_encoder_do() {
        let cases: [(&str, &str); 6] = [
            (r"plain", "plain"),
            (r#"\"\\\/\b\f\n\r\t"#, "\"\\/\u{8}\u{c}\n\r\t"),
            (r"\u00e9\u20ac", "\u{e9}\u{20ac}"),
            (r"\ud83d\ude00!", "\u{1F600}!"),
            (r"\ud800x\udc00", "\u{FFFD}x\u{FFFD}"),
            (r"\ud800\u0041", "\u{FFFD}A"),
        ];
        for (raw, want) in cases {
            let mut out = Vec::new();
            unescape_into(&mut out, raw.as_bytes());
            assert_eq!(unescaped_len(raw.as_bytes()), out.len(), "{raw}");
            assert_eq!(String::from_utf8(out).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn escaping_then_unescaping_gives_the_text_back() {
        let text = "a\"b\\c\n\u{1}\u{1f}\t\u{e9}\u{1F600}";
        let mut escaped = Vec::new();
        escape_into(&mut escaped, text.as_bytes());
        let mut back = Vec::new();
        unescape_into(&mut back, &escaped);
        assert_eq!(back, text.as_bytes());
    }

    #[test]
    fn control_frames_read_back() {
        let frame = refuse(7, TransferCode::TooLarge, "too \"big\"");
        let text = String::from_utf8(frame).unwrap();
        let env = read(&text);
        assert_eq!(env.kind(), Ok(Kind::Refuse));
        assert_eq!(env.id(), Some(7));
        assert_eq!(Envelope::text(env.code).as_deref(), Some("too-large"));
        assert_eq!(Envelope::text(env.reason).as_deref(), Some("too \"big\""));
        let text = String::from_utf8(abort(3, "gone")).unwrap();
        assert_eq!(read(&text).kind(), Ok(Kind::Abort));
        let text = String::from_utf8(ack(3, 9)).unwrap();
        assert_eq!(read(&text).seq(), Some(9));
    }
}
