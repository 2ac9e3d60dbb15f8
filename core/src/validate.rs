//! JSON validation that reads the payload where it lies: no copy, no tape, no depth
//! limit of its own.
//!
//! Forwarding a message only needs a verdict, not a tree. simd-json always builds a
//! tape and unescapes strings in place, so validating through it meant copying every
//! payload into a padded scratch buffer first, and it refuses nesting deeper than 1024
//! levels, which browsers send. This validator is a single forward pass over the bytes:
//! UTF-8 is checked first for the whole payload (simdutf8), then one loop walks the
//! grammar of RFC 8259 with an explicit stack of one bit per open container, and skips
//! through strings 16 or 32 bytes at a time.
//!
//! It accepts exactly what `JSON.parse` accepts: any `\uXXXX` escape, paired or not (an
//! unpaired surrogate is what `JSON.stringify` writes for a string cut inside an emoji),
//! and numbers of any magnitude (`1e400` reads as `Infinity` in a browser).

use crate::error::Error;

/// What a valid text looked like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The deepest nesting of arrays and objects: 0 for a scalar, 1 for `[]`.
    pub depth: usize,
}

/// Why the grammar walk stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    ExpectedValue,
    ExpectedKey,
    ExpectedColon,
    ExpectedArrayComma,
    ExpectedObjectComma,
    Trailing,
    Unterminated,
    ControlInString,
    InvalidEscape,
    InvalidUnicodeEscape,
    InvalidNumber,
    InvalidLiteral,
}

impl Fault {
    fn reason(self) -> &'static str {
        match self {
            Fault::ExpectedValue => "expected a value",
            Fault::ExpectedKey => "expected a string key",
            Fault::ExpectedColon => "expected ':' after an object key",
            Fault::ExpectedArrayComma => "expected ',' or ']' in an array",
            Fault::ExpectedObjectComma => "expected ',' or '}' in an object",
            Fault::Trailing => "bytes after the end of the JSON value",
            Fault::Unterminated => "unexpected end of the JSON text inside a string",
            Fault::ControlInString => "control character (below U+0020) not escaped in a string",
            Fault::InvalidEscape => "invalid escape sequence",
            Fault::InvalidUnicodeEscape => "invalid \\u escape (4 hex digits expected)",
            Fault::InvalidNumber => "invalid number",
            Fault::InvalidLiteral => "invalid literal (expected true, false or null)",
        }
    }
}

/// A validator whose stack, needed only past 64 levels of nesting, is kept from one
/// message to the next.
#[derive(Debug, Default)]
pub(crate) struct Validator {
    /// Container kinds of the levels below the innermost 64, one bit each (1: object).
    spilled: Vec<u64>,
}

impl Validator {
    /// Checks that `text` is one UTF-8 JSON text with only whitespace around it.
    pub(crate) fn validate(&mut self, text: &[u8]) -> Result<Verdict, Error> {
        // std's ASCII test costs next to nothing on short messages, where simdutf8's
        // set-up would dominate; it stops at the first non-ASCII byte.
        if !text.is_ascii() && simdutf8::basic::from_utf8(text).is_err() {
            // simdutf8's basic flavour says whether, std says where.
            let offset = std::str::from_utf8(text)
                .err()
                .map_or(0, |err| err.valid_up_to());
            return Err(Error::InvalidUtf8 { offset });
        }
        self.spilled.clear();
        walk(text, &mut self.spilled).map_err(|(fault, offset)| {
            // A fault at the end is the end's fault, whatever was expected there.
            let reason = if offset < text.len() || fault == Fault::Unterminated {
                fault.reason()
            } else {
                "unexpected end of the JSON text"
            };
            Error::InvalidJson {
                offset: offset.min(text.len()),
                reason: reason.into(),
            }
        })
    }
}

/// The byte at `i`, or 0 past the end: NUL is invalid wherever a token may start, so
/// the end of the text needs no separate test in the grammar walk.
#[inline(always)]
fn at(text: &[u8], i: usize) -> u8 {
    text.get(i).copied().unwrap_or(0)
}

#[inline(always)]
fn skip_space(text: &[u8], i: usize) -> usize {
    // Compact JSON, what browsers send, has no whitespace: one test and out.
    if at(text, i) > b' ' {
        return i;
    }
    skip_space_slow(text, i)
}

#[inline(never)]
fn skip_space_slow(text: &[u8], mut i: usize) -> usize {
    while matches!(at(text, i), b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// The grammar walk over UTF-8 input. Returns the deepest nesting, or the fault and
/// its offset.
fn walk(text: &[u8], spilled: &mut Vec<u64>) -> Result<Verdict, (Fault, usize)> {
    // The innermost 64 levels live in `top`, bit 0 the innermost; deeper ones go to
    // `spilled`, a word at a time. 1 is an object, 0 an array.
    let mut top: u64 = 0;
    let mut depth: usize = 0;
    let mut deepest: usize = 0;
    let mut i = skip_space(text, 0);
    'value: loop {
        match at(text, i) {
            b'{' => {
                deepest = deepest.max(depth + 1);
                i = skip_space(text, i + 1);
                if at(text, i) == b'}' {
                    i += 1;
                } else {
                    push(&mut top, &mut depth, spilled, 1);
                    i = key(text, i)?;
                    continue 'value;
                }
            }
            b'[' => {
                deepest = deepest.max(depth + 1);
                i = skip_space(text, i + 1);
                if at(text, i) == b']' {
                    i += 1;
                } else {
                    push(&mut top, &mut depth, spilled, 0);
                    continue 'value;
                }
            }
            b'"' => i = string_end(text, i + 1)?,
            b'-' | b'0'..=b'9' => i = number(text, i)?,
            b't' => i = literal(text, i, b"true")?,
            b'f' => i = literal(text, i, b"false")?,
            b'n' => i = literal(text, i, b"null")?,
            _ => return Err((Fault::ExpectedValue, i)),
        }
        // A value ended at `i`: what may follow depends on the container it is in.
        loop {
            i = skip_space(text, i);
            if depth == 0 {
                return if i == text.len() {
                    Ok(Verdict { depth: deepest })
                } else {
                    Err((Fault::Trailing, i))
                };
            }
            let in_object = top & 1 == 1;
            match (at(text, i), in_object) {
                (b',', true) => {
                    i = key(text, skip_space(text, i + 1))?;
                    continue 'value;
                }
                (b',', false) => {
                    i = skip_space(text, i + 1);
                    continue 'value;
                }
                (b'}', true) | (b']', false) => {
                    pop(&mut top, &mut depth, spilled);
                    i += 1;
                }
                (_, true) => return Err((Fault::ExpectedObjectComma, i)),
                (_, false) => return Err((Fault::ExpectedArrayComma, i)),
            }
        }
    }
}

#[inline(always)]
fn push(top: &mut u64, depth: &mut usize, spilled: &mut Vec<u64>, kind: u64) {
    if *depth != 0 && depth.is_multiple_of(64) {
        spilled.push(*top);
        *top = 0;
    }
    *top = (*top << 1) | kind;
    *depth += 1;
}

#[inline(always)]
fn pop(top: &mut u64, depth: &mut usize, spilled: &mut Vec<u64>) {
    *top >>= 1;
    *depth -= 1;
    if *depth != 0 && depth.is_multiple_of(64) {
        // The word that filled up when this level was pushed.
        *top = spilled.pop().unwrap_or(0);
    }
}

/// An object key at `i`, its colon and the whitespace after: returns where the value
/// starts.
#[inline(always)]
fn key(text: &[u8], i: usize) -> Result<usize, (Fault, usize)> {
    if at(text, i) != b'"' {
        return Err((Fault::ExpectedKey, i));
    }
    let i = skip_space(text, string_end(text, i + 1)?);
    if at(text, i) != b':' {
        return Err((Fault::ExpectedColon, i));
    }
    Ok(skip_space(text, i + 1))
}

/// The rest of a string whose opening quote is just before `i`: returns the offset
/// after its closing quote.
#[inline(always)]
fn string_end(text: &[u8], mut i: usize) -> Result<usize, (Fault, usize)> {
    loop {
        i += find_special(&text[i..]);
        match at(text, i) {
            b'"' => return Ok(i + 1),
            b'\\' => i = escape_end(text, i)?,
            _ if i >= text.len() => return Err((Fault::Unterminated, i)),
            _ => return Err((Fault::ControlInString, i)),
        }
    }
}

/// The escape whose backslash is at `i`: returns the offset after it.
#[cold]
fn escape_end(text: &[u8], i: usize) -> Result<usize, (Fault, usize)> {
    match at(text, i + 1) {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(i + 2),
        b'u' => match text.get(i + 2..i + 6) {
            Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => Ok(i + 6),
            _ => Err((Fault::InvalidUnicodeEscape, i)),
        },
        _ => Err((Fault::InvalidEscape, i)),
    }
}

/// The end of the run of ASCII digits that starts at `i`, eight bytes at a time.
#[inline(always)]
fn digits_end(text: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = text.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        let digits = leading_digits(u64::from_le_bytes(*chunk));
        i += digits;
        if digits < 8 {
            return i;
        }
    }
    while at(text, i).is_ascii_digit() {
        i += 1;
    }
    i
}

/// How many of the eight bytes in `v` (first byte lowest) are ASCII digits before the
/// first that is not. A byte is a digit when its high nibble is 3 and adding 6 keeps it
/// so. The input is valid UTF-8, which has no byte above 0xF4, so adding 6 to a byte
/// never carries into the next one.
#[inline(always)]
fn leading_digits(v: u64) -> usize {
    const NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    // Non-zero bytes are not digits.
    let other =
        ((v & NIBBLES) ^ THREES) | ((v.wrapping_add(0x0606_0606_0606_0606) & NIBBLES) ^ THREES);
    // The high bit of every non-zero byte, without carries between bytes.
    let marks = (((other & LOW7) + LOW7) | other) & !LOW7;
    (marks.trailing_zeros() / 8) as usize
}

/// A number at `i` (RFC 8259 §6): returns the offset after it. What follows it is the
/// grammar walk's business: `01` fails there, at the `1`.
#[inline(always)]
fn number(text: &[u8], i: usize) -> Result<usize, (Fault, usize)> {
    #[cfg(target_arch = "x86_64")]
    if let Some(chunk) = text.get(i..).and_then(|rest| rest.first_chunk::<16>())
        && let Some(len) = short_number(chunk)
    {
        return Ok(i + len);
    }
    number_general(text, i)
}

/// The length of the number that starts `chunk`, when it has no exponent and ends
/// inside these 16 bytes: most numbers in JSON (ids, counts, prices, coordinates). One
/// classification of the 16 bytes replaces a test per digit. `None` sends the number
/// to [`number_general`], which also finds the faults.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn short_number(chunk: &[u8; 16]) -> Option<usize> {
    // A set bit for every byte that is not a digit, and for the 16 positions past the
    // chunk, so that a run of digits always ends at or before 16.
    let other = !simd::digit_mask(chunk);
    let start = usize::from(chunk[0] == b'-');
    let int_end = if chunk[start] == b'0' {
        start + 1
    } else {
        start + (other >> start).trailing_zeros() as usize
    };
    if int_end == start || int_end >= 16 {
        return None;
    }
    let mut end = int_end;
    if chunk[end] == b'.' {
        let fraction = end + 1;
        end = fraction + (other >> fraction).trailing_zeros() as usize;
        if end == fraction || end >= 16 {
            return None;
        }
    }
    if chunk[end] | 0x20 == b'e' {
        return None;
    }
    Some(end)
}

/// [`number`] a byte at a time, for what [`short_number`] leaves.
#[inline(never)]
fn number_general(text: &[u8], mut i: usize) -> Result<usize, (Fault, usize)> {
    if at(text, i) == b'-' {
        i += 1;
    }
    match at(text, i) {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits_end(text, i + 1),
        _ => return Err((Fault::InvalidNumber, i)),
    }
    if at(text, i) == b'.' {
        if !at(text, i + 1).is_ascii_digit() {
            return Err((Fault::InvalidNumber, i + 1));
        }
        i = digits_end(text, i + 2);
    }
    if at(text, i) | 0x20 == b'e' {
        i += 1;
        if matches!(at(text, i), b'+' | b'-') {
            i += 1;
        }
        if !at(text, i).is_ascii_digit() {
            return Err((Fault::InvalidNumber, i));
        }
        i = digits_end(text, i + 1);
    }
    Ok(i)
}

#[inline(always)]
fn literal(text: &[u8], i: usize, word: &[u8]) -> Result<usize, (Fault, usize)> {
    if text.get(i..i + word.len()) == Some(word) {
        Ok(i + word.len())
    } else {
        Err((Fault::InvalidLiteral, i))
    }
}

/// Whether a byte ends the plain run of a string: a quote, a backslash, or a control
/// character (which JSON requires escaped).
#[inline(always)]
fn is_special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// The offset of the first special byte in `s`, or `s.len()`. The reference every
/// faster search is tested against, and the tail of each of them.
fn find_special_naive(s: &[u8]) -> usize {
    s.iter().position(|&b| is_special(b)).unwrap_or(s.len())
}

/// The offset of the first special byte in `s`, or `s.len()`.
#[inline(always)]
fn find_special(s: &[u8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        simd::find_special(s)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        find_special_swar(s)
    }
}

/// Eight bytes at a time in a `u64`: for targets without the SIMD path.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn find_special_swar(s: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte that is zero; exact for the lowest such byte, which is
    // all a search needs (a borrow can only mark bytes above a real match).
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut i = 0;
    while let Some(chunk) = s.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        let v = u64::from_le_bytes(*chunk);
        let below_space = v.wrapping_sub(ONES * 0x20) & !v & HIGHS;
        let hits =
            zero(v ^ (ONES * u64::from(b'"'))) | zero(v ^ (ONES * u64::from(b'\\'))) | below_space;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + find_special_naive(&s[i..])
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8, _mm256_cmpeq_epi8, _mm256_loadu_si256,
        _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
    };

    use super::find_special_naive;

    /// Strings at least this long are searched with AVX2 when the CPU has it.
    const LONG: usize = 64;

    #[inline(always)]
    fn mask16(chunk: &[u8; 16]) -> u32 {
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it, and the
        // compiler enables it for every x86_64 target.
        unsafe { mask16_sse2(chunk) }
    }

    /// SSE2, which every x86_64 CPU has, for the first 16 bytes (most keys and short
    /// values end there); AVX2 past that when the CPU has it.
    #[inline(always)]
    pub(super) fn find_special(s: &[u8]) -> usize {
        if let Some(chunk) = s.first_chunk::<16>() {
            let mask = mask16(chunk);
            if mask != 0 {
                return mask.trailing_zeros() as usize;
            }
            return 16 + rest(&s[16..]);
        }
        find_special_naive(s)
    }

    #[inline(never)]
    fn rest(s: &[u8]) -> usize {
        if s.len() >= LONG && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked on the line above.
            return unsafe { find_special_avx2(s) };
        }
        find_special_sse2(s)
    }

    /// Sixteen bytes at a time: for CPUs without AVX2, and the short rest of strings.
    pub(super) fn find_special_sse2(s: &[u8]) -> usize {
        let mut i = 0;
        while let Some(chunk) = s.get(i..).and_then(|rest| rest.first_chunk::<16>()) {
            let mask = mask16(chunk);
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
        i + find_special_naive(&s[i..])
    }

    /// Bit `k` set when `chunk[k]` is special. A byte is below 0x20 exactly when the
    /// unsigned minimum of it and 0x1f is itself.
    #[target_feature(enable = "sse2")]
    #[inline]
    fn mask16_sse2(chunk: &[u8; 16]) -> u32 {
        // SAFETY: `chunk` is 16 readable bytes; `loadu` has no alignment requirement.
        let v: __m128i = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }

    /// Bit `k` set when `chunk[k]` is an ASCII digit.
    #[inline(always)]
    pub(super) fn digit_mask(chunk: &[u8; 16]) -> u32 {
        // SAFETY: SSE2 is part of the x86_64 baseline, as for `mask16`.
        unsafe { digit_mask_sse2(chunk) }
    }

    /// A byte is a digit when it minus `'0'`, wrapping, is at most 9.
    #[target_feature(enable = "sse2")]
    #[inline]
    fn digit_mask_sse2(chunk: &[u8; 16]) -> u32 {
        // SAFETY: `chunk` is 16 readable bytes; `loadu` has no alignment requirement.
        let v: __m128i = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
        let offset = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
        let digit = _mm_cmpeq_epi8(_mm_min_epu8(offset, _mm_set1_epi8(9)), offset);
        _mm_movemask_epi8(digit) as u32
    }

    #[target_feature(enable = "avx2")]
    fn mask32(chunk: &[u8; 32]) -> u32 {
        // SAFETY: `chunk` is 32 readable bytes; `loadu` has no alignment requirement.
        let v: __m256i = unsafe { _mm256_loadu_si256(chunk.as_ptr().cast()) };
        let quote = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8));
        let backslash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8));
        let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
        _mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(quote, backslash), control)) as u32
    }

    /// Two 32-byte blocks per turn: long strings (text, base64) are where a host
    /// spends its validation time.
    #[target_feature(enable = "avx2")]
    fn find_special_avx2(s: &[u8]) -> usize {
        let (pairs, _) = s.as_chunks::<64>();
        for (n, pair) in pairs.iter().enumerate() {
            let (halves, _) = pair.as_chunks::<32>();
            let both = u64::from(mask32(&halves[0])) | (u64::from(mask32(&halves[1])) << 32);
            if both != 0 {
                return n * 64 + both.trailing_zeros() as usize;
            }
        }
        let i = pairs.len() * 64;
        let (blocks, _) = s[i..].as_chunks::<32>();
        for (n, block) in blocks.iter().enumerate() {
            let mask = mask32(block);
            if mask != 0 {
                return i + n * 32 + mask.trailing_zeros() as usize;
            }
        }
        let i = i + blocks.len() * 32;
        i + find_special_naive(&s[i..])
    }

    #[cfg(test)]
    pub(super) fn find_special_avx2_checked(s: &[u8]) -> Option<usize> {
        // SAFETY: the CPU supports AVX2, checked in the same expression.
        std::arch::is_x86_feature_detected!("avx2").then(|| unsafe { find_special_avx2(s) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(text: &str) -> Result<Verdict, Error> {
        Validator::default().validate(text.as_bytes())
    }

    fn fault_at(text: &str) -> (usize, String) {
        match check(text) {
            Err(Error::InvalidJson { offset, reason }) => (offset, reason),
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn accepts_what_json_parse_accepts() {
        for ok in [
            "0",
            "-0",
            "1.5e-300",
            "1E+2",
            "-12.0e9",
            "1e400",
            "123456789012345678901234567890",
            "true",
            "false",
            "null",
            "\"\"",
            " \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\" ",
            "\"\\ud800\"",
            "\"\\udc00x\\uD83D\\uDE00\"",
            "[]",
            "{}",
            "[ ]",
            "{ }",
            "\t[1, 2 ,3 ]\r\n",
            "{\"a\":{\"b\":[{}, [], \"c\", null]}}",
            "\"héllo 😀\"",
            "{\"\":\"\"}",
            "[[[[[]]]]]",
        ] {
            assert!(check(ok).is_ok(), "{ok:?}: {:?}", check(ok));
        }
    }

    #[test]
    fn refuses_with_the_offset_and_reason() {
        for (bad, offset, reason) in [
            ("", 0, "unexpected end"),
            ("  ", 2, "unexpected end"),
            ("{\"a\":1,}", 7, "string key"),
            ("{\"a\":}", 5, "expected a value"),
            ("{} {}", 3, "after the end"),
            ("[1,]", 3, "expected a value"),
            ("[1 2]", 3, "',' or ']'"),
            ("{\"a\" 1}", 5, "':'"),
            ("{\"a\":1 \"b\":2}", 7, "',' or '}'"),
            ("[01]", 2, "',' or ']'"),
            ("[1.]", 3, "invalid number"),
            ("[1.e5]", 3, "invalid number"),
            ("[1e]", 3, "invalid number"),
            ("[-]", 2, "invalid number"),
            ("[+1]", 1, "expected a value"),
            ("[.5]", 1, "expected a value"),
            ("[tru]", 1, "literal"),
            ("[truex]", 5, "',' or ']'"),
            ("[nul]", 1, "literal"),
            ("\"abc", 4, "unexpected end"),
            ("\"a\nb\"", 2, "control character"),
            ("\"a\\x\"", 2, "invalid escape"),
            ("\"a\\u12g4\"", 2, "\\u escape"),
            ("\"a\\u12", 2, "\\u escape"),
            ("\"a\"\"b\"", 3, "after the end"),
            ("[\"a\"\"b\"]", 4, "',' or ']'"),
            ("[", 1, "unexpected end"),
            ("[1", 2, "unexpected end"),
            ("{\"a\"", 4, "unexpected end"),
            ("[\u{0}]", 1, "expected a value"),
            ("NaN", 0, "expected a value"),
            ("[1,2]]", 5, "after the end"),
            ("{]", 1, "string key"),
            ("[}", 1, "expected a value"),
            ("\u{feff}{}", 0, "expected a value"),
        ] {
            let (at, why) = fault_at(bad);
            assert_eq!(at, offset, "{bad:?}: {why}");
            assert!(why.contains(reason), "{bad:?}: {why:?} lacks {reason:?}");
        }
    }

    #[test]
    fn invalid_utf8_is_found_where_it_is() {
        let mut v = Validator::default();
        assert!(matches!(
            v.validate(b"[1,2]\xe2\x82"),
            Err(Error::InvalidUtf8 { offset: 5 })
        ));
        assert!(matches!(
            v.validate(b"\"\xff\""),
            Err(Error::InvalidUtf8 { offset: 1 })
        ));
        assert!(matches!(
            v.validate(b"\"\xed\xa0\x80\""),
            Err(Error::InvalidUtf8 { offset: 1 })
        ));
    }

    #[test]
    fn nesting_has_no_limit_of_its_own() {
        let mut v = Validator::default();
        let depths: &[usize] = if cfg!(miri) {
            &[1, 63, 64, 65, 127, 128, 129, 200]
        } else {
            &[1, 63, 64, 65, 127, 128, 129, 1024, 1025, 100_000]
        };
        for &depth in depths {
            let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            assert_eq!(v.validate(arrays.as_bytes()).unwrap().depth, depth);
            let objects = format!("{}1{}", "{\"k\":".repeat(depth), "}".repeat(depth));
            assert_eq!(v.validate(objects.as_bytes()).unwrap().depth, depth);
            // One bracket short, or the wrong kind at the bottom: refused at the end.
            let short = &arrays[..arrays.len() - 1];
            assert!(v.validate(short.as_bytes()).is_err(), "{depth}");
            let mixed = format!("{}{}", "[{\"k\":".repeat(depth), "]}".repeat(depth));
            let err = v.validate(mixed.as_bytes()).unwrap_err();
            assert!(
                matches!(err, Error::InvalidJson { offset, .. } if offset == depth * 6),
                "{err:?}"
            );
        }
    }

    #[test]
    fn alternating_containers_survive_the_spill_between_words() {
        // Kinds alternate across the 64-level boundaries of the bit stack, so a level
        // restored from the wrong word, or a wrong bit, closes with the wrong bracket.
        let mut v = Validator::default();
        let depth = 300;
        let mut open = String::new();
        let mut close = String::new();
        for level in 0..depth {
            if level % 3 == 0 {
                open.push_str("{\"k\":");
                close.insert(0, '}');
            } else {
                open.push('[');
                close.insert(0, ']');
            }
        }
        let text = format!("{open}0{close}");
        assert_eq!(v.validate(text.as_bytes()).unwrap().depth, depth);
    }

    #[test]
    fn a_special_at_every_offset_of_every_length_is_found() {
        // Deterministic, for Miri (proptest's generator is too slow there): every
        // search path, every tail length, every position, each kind of special byte.
        let (longest, kinds): (usize, &[u8]) = if cfg!(miri) {
            (70, &[b'\\', 0x1f])
        } else {
            (140, &[b'"', b'\\', 0x00, 0x1f])
        };
        for len in (0..longest).step_by(if cfg!(miri) { 3 } else { 1 }) {
            for at in 0..=len {
                for &special in kinds {
                    let mut s: Vec<u8> = (0..len).map(|k| b'a' + (k % 26) as u8).collect();
                    if at < len {
                        s[at] = special;
                    }
                    assert_eq!(find_special(&s), at, "len {len}, at {at}");
                    assert_eq!(find_special_swar(&s), at, "len {len}, at {at}");
                    #[cfg(target_arch = "x86_64")]
                    {
                        assert_eq!(simd::find_special_sse2(&s), at, "len {len}, at {at}");
                        if let Some(found) = simd::find_special_avx2_checked(&s) {
                            assert_eq!(found, at, "len {len}, at {at}");
                        }
                    }
                }
            }
        }
    }

    /// Numbers that end inside, at and past the 16 bytes the short path looks at, with
    /// and without what follows them: both paths give the same end or the same fault.
    #[test]
    fn numbers_end_where_they_end_on_either_path() {
        let cases: [(&str, Result<usize, usize>); 12] = [
            ("-122.4194155,37.77]", Ok(12)),
            ("0,1", Ok(1)),
            ("-0.5}", Ok(4)),
            ("01", Ok(1)),
            ("123456789012345,", Ok(15)),
            ("1234567890123456,", Ok(16)),
            ("12345678901234567890", Ok(20)),
            ("1.2345678901234567", Ok(18)),
            ("6.02e23,", Ok(7)),
            ("-", Err(1)),
            ("1.,", Err(2)),
            ("-x", Err(1)),
        ];
        for (text, expected) in cases {
            // Alone (the short path is tried only where 16 bytes are left) and padded to
            // 32 bytes (every one is tried on the short path first).
            let padded = format!("{text:<32}");
            for t in [text, padded.as_str()] {
                let got = number(t.as_bytes(), 0).map_err(|(_, at)| at);
                assert_eq!(got, expected, "{t:?}");
            }
        }
    }

    fn specials() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                8 => 0x20u8..0x7f,
                2 => 0x80u8..=0xff,
                1 => Just(b'"'),
                1 => Just(b'\\'),
                1 => 0u8..0x20,
            ],
            0..200,
        )
    }

    proptest! {
        #[test]
        #[cfg_attr(miri, ignore = "proptest's generator is too slow interpreted: the native run covers it")]
        fn leading_digits_agrees_with_counting(bytes in prop::array::uniform8(prop_oneof![3 => b'0'..=b'9', 1 => any::<u8>()])) {
            // Only bytes that valid UTF-8 can hold: up to 0xF4.
            let bytes = bytes.map(|b| b.min(0xF4));
            let expected = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            prop_assert_eq!(leading_digits(u64::from_le_bytes(bytes)), expected);
        }

        #[test]
        #[cfg(target_arch = "x86_64")]
        #[cfg_attr(miri, ignore = "proptest's generator is too slow interpreted: the native run covers it")]
        fn the_short_number_path_agrees_with_the_general_one(bytes in prop::array::uniform16(prop_oneof![
            8 => b'0'..=b'9',
            1 => Just(b'-'),
            1 => Just(b'.'),
            1 => Just(b'e'),
            1 => Just(b'E'),
            1 => Just(b'+'),
            1 => Just(b','),
            1 => any::<u8>(),
        ])) {
            if let Some(len) = short_number(&bytes) {
                prop_assert_eq!(number_general(&bytes, 0), Ok(len));
            }
        }

        #[test]
        #[cfg_attr(miri, ignore = "proptest's generator is too slow interpreted: the native run covers it")]
        fn every_search_agrees_with_the_naive_one(bytes in specials(), start in 0usize..64) {
            let s = &bytes[start.min(bytes.len())..];
            let expected = find_special_naive(s);
            prop_assert_eq!(find_special_swar(s), expected);
            prop_assert_eq!(find_special(s), expected);
            #[cfg(target_arch = "x86_64")]
            {
                prop_assert_eq!(simd::find_special_sse2(s), expected);
                if let Some(found) = simd::find_special_avx2_checked(s) {
                    prop_assert_eq!(found, expected);
                }
            }
        }

        #[test]
        #[cfg_attr(miri, ignore = "proptest's generator is too slow interpreted: the native run covers it")]
        fn a_lone_special_is_found_wherever_it_is(len in 0usize..300, at in 0usize..300, special in prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20]) {
            let mut s = vec![b'a'; len];
            if at < len {
                s[at] = special;
            }
            let expected = if at < len { at } else { len };
            prop_assert_eq!(find_special(&s), expected);
            prop_assert_eq!(find_special_swar(&s), expected);
        }
    }
}
