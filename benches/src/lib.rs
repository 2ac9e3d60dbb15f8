//! Shared by the benchmarks: the payloads they send.

/// The committed sample messages: a small command, a page's text, an array of
/// records, a base64 blob.
pub const SAMPLES: [(&str, &str); 4] = [
    ("command", include_str!("../data/command.json")),
    ("page_text", include_str!("../data/page_text.json")),
    ("records", include_str!("../data/records.json")),
    ("blob", include_str!("../data/blob.json")),
];

/// The shape of a generated payload.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// One long string field: where JSON parsers spend their time in strings.
    Strings,
    /// Many small nested objects.
    Nested,
}

/// A JSON payload of exactly `len` bytes (at least 16; at least 64 for `Nested`) in
/// canonical form: compact, keys sorted, integers only, so that any serializer writes
/// the same bytes back.
pub fn payload(shape: Shape, len: usize) -> Vec<u8> {
    let (mut out, closing): (Vec<u8>, &[u8]) = match shape {
        Shape::Strings => (b"{\"t\":\"".to_vec(), b"\"}"),
        Shape::Nested => {
            let mut s = b"{\"items\":[".to_vec();
            for i in 0.. {
                let item = format!("{{\"a\":{i},\"b\":{{\"c\":[1,2],\"d\":\"x\"}}}},");
                if s.len() + item.len() + 12 > len {
                    break;
                }
                s.extend_from_slice(item.as_bytes());
            }
            s.extend_from_slice(b"{\"pad\":\"");
            (s, b"\"}]}")
        }
    };
    assert!(
        out.len() + closing.len() <= len,
        "{len} bytes is too small for {shape:?}"
    );
    // Fill the open string up to the closing bytes, never cutting a character.
    let target = len - closing.len();
    for c in "native messaging h\u{e9}llo frames json ".chars().cycle() {
        if out.len() == target {
            break;
        }
        if out.len() + c.len_utf8() <= target {
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        } else {
            out.push(b'.');
        }
    }
    out.extend_from_slice(closing);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_exact_and_canonical() {
        for shape in [Shape::Strings, Shape::Nested] {
            for len in [64, 100, 1024, 65536, 1 << 20] {
                let p = payload(shape, len);
                assert_eq!(p.len(), len, "{shape:?} {len}");
                let v: serde_json::Value = serde_json::from_slice(&p).unwrap();
                assert_eq!(
                    serde_json::to_vec(&v).unwrap(),
                    p,
                    "{shape:?} {len} is canonical"
                );
            }
        }
        assert_eq!(payload(Shape::Strings, 16).len(), 16);
    }
}
