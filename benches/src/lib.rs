//! Shared by the benchmarks: the payloads they send, and the hosts they start.

pub mod hosts;

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

/// Makes a corpus of at most the given number of bytes.
pub type Generator = fn(usize) -> Vec<u8>;

/// The corpora of the usual shapes, generated (deterministically) rather than
/// committed: each at most `len` bytes of compact JSON, as `JSON.stringify` writes it.
pub const CORPORA: [(&str, Generator); 3] = [
    ("tweets", tweets),
    ("catalog", catalog),
    ("geojson", geojson),
];

/// A small, fixed pseudo-random sequence (xorshift64), so every run sees the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

/// Words as they appear inside JSON strings: some escaped, some not ASCII.
const WORDS: [&str; 16] = [
    "native",
    "messaging",
    "host",
    "browser",
    "extension",
    "frame",
    "pipe",
    "json",
    r"h\u00e9llo",
    "café",
    "😀",
    r"na\\ve",
    r#"\"quoted\""#,
    r"line\nbreak",
    "中文",
    "ok",
];

fn sentence(rng: &mut Rng, words: u64) -> String {
    (0..words)
        .map(|_| rng.pick(&WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Like a social-media API's timeline: nested user objects, text with escapes and
/// non-ASCII, ids beyond 2^53 as numbers and as strings, nulls, booleans, arrays.
pub fn tweets(len: usize) -> Vec<u8> {
    let mut rng = Rng(0x7e57_0001);
    let mut out = String::from(r#"{"statuses":["#);
    let mut n = 0u64;
    while out.len() + 1200 < len {
        if n > 0 {
            out.push(',');
        }
        let id = 1_300_000_000_000_000_000 + rng.below(1 << 40);
        let words = 5 + rng.below(20);
        let user = rng.below(1_000_000);
        let tags = (0..rng.below(3))
            .map(|k| {
                format!(
                    r#"{{"text":"{}","indices":[{k},{}]}}"#,
                    rng.pick(&WORDS[..8]),
                    k + 5
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        out.push_str(&format!(
            concat!(
                r#"{{"created_at":"Mon Nov 30 0{h}:{m:02}:00 +0000 2026","id":{id},"id_str":"{id}","#,
                r#""text":"{text}","truncated":false,"entities":{{"hashtags":[{tags}],"urls":[],"#,
                r#""user_mentions":[{{"screen_name":"user{u}","id":{u},"indices":[0,{i}]}}]}},"#,
                r#""in_reply_to_status_id":null,"user":{{"id":{u},"name":"{name}","#,
                r#""screen_name":"user{u}","location":"{loc}","followers_count":{f},"#,
                r#""verified":{v},"profile_image_url":"https://img.example.org/{u}/a.png"}},"#,
                r#""retweet_count":{r},"favorite_count":{fav},"favorited":false,"lang":"en"}}"#
            ),
            h = rng.below(10),
            m = rng.below(60),
            id = id,
            text = sentence(&mut rng, words),
            tags = tags,
            u = user,
            i = 4 + rng.below(10),
            name = sentence(&mut rng, 2),
            loc = sentence(&mut rng, 1),
            f = rng.below(100_000),
            v = rng.below(2) == 0,
            r = rng.below(1000),
            fav = rng.below(5000),
        ));
        n += 1;
    }
    out.push_str("]}");
    out.into_bytes()
}

/// Like a shop's product list: many small flat objects, short strings, prices with
/// decimals, small integers, booleans.
pub fn catalog(len: usize) -> Vec<u8> {
    let mut rng = Rng(0xca7a_1090);
    let mut out = String::from(r#"{"products":["#);
    let mut n = 0u64;
    while out.len() + 200 < len {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            concat!(
                r#"{{"sku":"A-{n:06}","name":"{name}","price":{p}.{c:02},"stock":{s},"#,
                r#""active":{a},"tags":["{t1}","{t2}"],"rating":{r}.{rd}}}"#
            ),
            n = n,
            name = sentence(&mut rng, 2),
            p = rng.below(500),
            c = rng.below(100),
            s = rng.below(1000),
            a = rng.below(4) != 0,
            t1 = rng.pick(&WORDS[..8]),
            t2 = rng.pick(&WORDS[..8]),
            r = rng.below(5),
            rd = rng.below(10),
        ));
        n += 1;
    }
    out.push_str("]}");
    out.into_bytes()
}

/// Like a GeoJSON feature collection: mostly arrays of coordinate pairs, doubles with
/// seven decimals, negative numbers.
pub fn geojson(len: usize) -> Vec<u8> {
    let mut rng = Rng(0x6e0_1504);
    let mut out = String::from(r#"{"type":"FeatureCollection","features":["#);
    let mut n = 0u64;
    while out.len() + 2500 < len {
        if n > 0 {
            out.push(',');
        }
        let points = (0..20 + rng.below(40))
            .map(|_| {
                format!(
                    "[-{}.{:07},{}.{:07}]",
                    70 + rng.below(50),
                    rng.below(10_000_000),
                    25 + rng.below(24),
                    rng.below(10_000_000)
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        out.push_str(&format!(
            concat!(
                r#"{{"type":"Feature","id":{n},"properties":{{"name":"{name}","area":{a}.{ad}e3}},"#,
                r#""geometry":{{"type":"Polygon","coordinates":[[{points}]]}}}}"#
            ),
            n = n,
            name = sentence(&mut rng, 2),
            a = rng.below(1000),
            ad = rng.below(1000),
            points = points,
        ));
        n += 1;
    }
    out.push_str("]}");
    out.into_bytes()
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

    #[test]
    fn corpora_are_valid_json_of_about_the_size_asked() {
        for (name, make) in CORPORA {
            let text = make(256 << 10);
            assert!(
                text.len() <= 256 << 10 && text.len() > 250 << 10,
                "{name}: {}",
                text.len()
            );
            serde_json::from_slice::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(text, make(256 << 10), "{name} is deterministic");
        }
    }
}
