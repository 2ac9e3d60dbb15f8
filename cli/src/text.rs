//! Showing bytes to a person: hex with a text rendering, and JSON on one line.

use nmframe::simd_json;

/// Up to `max` bytes as hex, then as text: `2f 68 6f 6d  "/hom"`.
pub fn preview(bytes: &[u8], max: usize) -> String {
    let shown = &bytes[..bytes.len().min(max)];
    let hex: Vec<String> = shown.iter().map(|b| format!("{b:02x}")).collect();
    let more = if bytes.len() > max { " …" } else { "" };
    format!(
        "{}{more}  \"{}\"{more}",
        hex.join(" "),
        shown.escape_ascii()
    )
}

/// A JSON text as one line: as it is when it has no line breaks, otherwise
/// re-serialized compactly (line breaks in JSON can only be whitespace).
pub fn to_json_line(json: &[u8]) -> Vec<u8> {
    if memchr::memchr2(b'\n', b'\r', json).is_none() {
        return json.to_vec();
    }
    let mut copy = json.to_vec();
    match simd_json::to_borrowed_value(&mut copy) {
        Ok(value) => simd_json::to_vec(&value).unwrap_or_else(|_| json.to_vec()),
        Err(_) => json
            .iter()
            .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
            .collect(),
    }
}

/// Writes a JSON string literal.
pub fn json_string(out: &mut Vec<u8>, s: &str) {
    // simd-json's serializer escapes exactly as JSON requires.
    let _ = nmframe::simd_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_show_hex_and_text() {
        assert_eq!(preview(b"/hom", 8), "2f 68 6f 6d  \"/hom\"");
        assert_eq!(preview(b"\x00\xffab", 2), "00 ff …  \"\\x00\\xff\" …");
    }

    #[test]
    fn json_lines_have_no_line_breaks() {
        assert_eq!(to_json_line(b"{\"a\":1}"), b"{\"a\":1}");
        assert_eq!(to_json_line(b"{\n  \"a\": [1,\r\n 2]\n}"), b"{\"a\":[1,2]}");
    }
}
