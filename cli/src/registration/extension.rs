//! The extension on the other end: the id it will have, read from its manifest.json, so
//! that `check` can say whether a host manifest lets it in.
//!
//! Chromium: an extension's id is the first 128 bits of the SHA-256 of its public key
//! (the `key` of manifest.json, base64 of the DER SubjectPublicKeyInfo), written as 32
//! letters, `a` for 0 … `p` for 15. Loaded unpacked without a `key`, the hash is of the
//! folder's absolute path instead: the id changes when the folder moves. Firefox: the id
//! is `browser_specific_settings.gecko.id`; without one, a temporary add-on gets a new
//! random id each time it is loaded.

use std::path::{Path, PathBuf};

/// What an extension's manifest.json says about the id it will have.
#[derive(Debug)]
pub struct Extension {
    pub manifest: PathBuf,
    /// Chromium: the id, and whether it comes from `key` (stable) or the folder's path.
    pub chromium_id: String,
    pub id_from_key: bool,
    /// Firefox: `browser_specific_settings.gecko.id` (or the older `applications`).
    pub gecko_id: Option<String>,
    /// Whether it asks for the `nativeMessaging` permission (required or optional).
    pub asks_native_messaging: bool,
}

/// Reads the extension's manifest.json (`path` may be the file or its folder).
pub fn read(path: &Path) -> Result<Extension, String> {
    let manifest = if path.is_dir() {
        path.join("manifest.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read(&manifest)
        .map_err(|e| format!("cannot read the extension's {}: {e}", manifest.display()))?;
    let json: serde_json::Value = serde_json::from_slice(strip_bom(&text))
        .map_err(|e| format!("the extension's {} is not JSON: {e}", manifest.display()))?;
    let (chromium_id, id_from_key) = match json["key"].as_str() {
        Some(key) => {
            let der = base64_decode(key).ok_or_else(|| {
                format!(
                    "the \"key\" of {} is not base64 (it is the public key, as the Chrome Web \
                     Store dashboard shows it)",
                    manifest.display()
                )
            })?;
            (id_of(&der), true)
        }
        None => {
            let folder = manifest.parent().unwrap_or(Path::new("."));
            let folder = std::fs::canonicalize(folder)
                .map_err(|e| format!("cannot resolve {}: {e}", folder.display()))?;
            (id_of(folder.as_os_str().as_encoded_bytes()), false)
        }
    };
    let gecko = |root: &str| json[root]["gecko"]["id"].as_str().map(str::to_owned);
    let asks = |key: &str| {
        json[key]
            .as_array()
            .is_some_and(|p| p.iter().any(|v| v == "nativeMessaging"))
    };
    Ok(Extension {
        manifest,
        chromium_id,
        id_from_key,
        gecko_id: gecko("browser_specific_settings").or_else(|| gecko("applications")),
        asks_native_messaging: asks("permissions") || asks("optional_permissions"),
    })
}

fn strip_bom(text: &[u8]) -> &[u8] {
    text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text)
}

/// Chromium's id of `bytes` (a public key, or a folder's path).
pub fn id_of(bytes: &[u8]) -> String {
    sha256(bytes)[..16]
        .iter()
        .flat_map(|b| [b >> 4, b & 15])
        .map(|nibble| char::from(b'a' + nibble))
        .collect()
}

/// Standard base64 (with or without padding; whitespace ignored).
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// SHA-256 (FIPS 180-4): 32 bytes of one id need no crate.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(v);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, v) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&v.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha256_matches_the_standard_vectors() {
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn an_id_is_the_hash_of_the_key_in_letters() {
        // A key made with `openssl genrsa | openssl rsa -pubout -outform DER`, and its id
        // computed apart with Python's hashlib.
        let key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAstCLyRE+ylfLLC6EtIpELfgdeO7Fw9BRvWpfDgnYAX8rAiukirHPDsDaOfOHgelSAgyE3utdxN8ehwvXRjEjq3KF3MyOJDKu2HeYSb6TMbvdfx5UI8TXjC6lmeySq0V4SW/2nGkGxlSBKe3BYKtSUv81KT7+fOVW0vCFUZ8i3TajK/UGKo/3CSrWGTsCD9FAPMm2joNI/3KgRZhPBYFKRQJoW9Etm6+3X1hptVpL1F+JcYvxdB9WbTdFWqrx8X2wm3TsthoZbxK1o5RjlTbEcxOfLQJATRrqJMcN+GEWJkeUWmIDY+Tv7RwRhLCmYlLNHxwrC9uwlnyntVxc5H664wIDAQAB";
        assert_eq!(
            id_of(&base64_decode(key).unwrap()),
            "kaceigiiolilaeifldacobncjhiogcgd"
        );
        assert_eq!(
            id_of(b"/tmp/ext-folder"),
            "opnfgfgfjmhikfalfknidnpjnpnpchlb"
        );
    }

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVs\nbG8=").unwrap(), b"hello");
        assert!(base64_decode("a*b").is_none());
    }
}
