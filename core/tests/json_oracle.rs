//! The simd-json path against serde_json as the oracle: same verdict on validity, and
//! equal values whenever both accept.

use nmframe::simd_json::prelude::*;
use nmframe::{Error, JsonDecoder};
use proptest::prelude::*;
use serde_json::Value;

use nmframe_test_support::fuzz::core as checks;

/// Arbitrary JSON values, nested a few levels deep.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        // Strings full of what needs escaping, and non-BMP characters.
        prop::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just('\u{0}'),
                Just('\n'),
                Just('é'),
                Just('😀'),
                Just('\u{1f}')
            ],
            0..8
        )
        .prop_map(|cs| Value::String(cs.into_iter().collect())),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A simd-json borrowed value, converted for comparison with serde_json's.
fn to_serde(v: &nmframe::simd_json::BorrowedValue<'_>) -> Value {
    use nmframe::simd_json::{BorrowedValue as B, StaticNode as S};
    match v {
        B::Static(S::Null) => Value::Null,
        B::Static(S::Bool(b)) => Value::Bool(*b),
        B::Static(S::I64(i)) => Value::from(*i),
        B::Static(S::U64(u)) => Value::from(*u),
        B::Static(S::F64(f)) => Value::from(*f),
        B::String(s) => Value::String(s.to_string()),
        B::Array(a) => Value::Array(a.iter().map(to_serde).collect()),
        B::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.to_string(), to_serde(v)))
                .collect(),
        ),
    }
}

/// Validation against serde_json's grammar (`IgnoredAny`), the tree paths against its
/// `Value`: same verdicts, and equal values whenever both accept.
fn check_agrees(json: &mut JsonDecoder, bytes: &[u8]) -> Result<(), TestCaseError> {
    let verdict = json.validate(bytes);
    let grammar = checks::serde_grammar(bytes);
    prop_assert_eq!(
        verdict.is_ok(),
        grammar.is_ok(),
        "validate says {:?}, serde_json IgnoredAny says {:?}, for {:?}",
        verdict,
        grammar,
        String::from_utf8_lossy(bytes)
    );
    let oracle = checks::serde_oracle(bytes);
    let mut owned = nmframe::OwnedDocument::new();
    let tree = owned.parse(bytes);
    prop_assert_eq!(
        tree.is_ok(),
        oracle.is_ok(),
        "simd-json says {:?}, serde_json Value says {:?}, for {:?}",
        tree,
        oracle,
        String::from_utf8_lossy(bytes)
    );
    let Ok(expected) = oracle else { return Ok(()) };

    let mut copy = bytes.to_vec();
    let typed: Value = json
        .deserialize(&mut copy)
        .expect("typed decode of valid JSON");
    prop_assert_eq!(&typed, &expected);

    let mut copy = bytes.to_vec();
    let borrowed = json
        .to_borrowed(&mut copy)
        .expect("borrowed decode of valid JSON");
    prop_assert_eq!(&to_serde(&borrowed), &expected);

    let root = owned.value().expect("a parsed document has a root");
    let tree = nmframe::simd_json::value::lazy::Value::from_tape(root).into_value();
    prop_assert_eq!(&to_serde(&tree), &expected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_json_decodes_to_the_same_value(value in arb_json(), pretty in any::<bool>()) {
        let bytes = if pretty { serde_json::to_vec_pretty(&value) } else { serde_json::to_vec(&value) }.unwrap();
        let mut json = JsonDecoder::new();
        check_agrees(&mut json, &bytes)?;
    }

    #[test]
    fn mutated_json_gets_the_same_verdict(
        value in arb_json(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = serde_json::to_vec(&value).unwrap();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let mut json = JsonDecoder::new();
        check_agrees(&mut json, &bytes)?;
    }

    #[test]
    fn numbers_get_the_same_verdict_and_value(
        sign in prop_oneof![Just(""), Just("-"), Just("+")],
        int in "[0-9]{1,400}",
        frac in prop::option::of("[0-9]{0,30}"),
        exp in prop::option::of(("[eE]", prop_oneof![Just(""), Just("+"), Just("-")], "[0-9]{0,4}")),
    ) {
        // Integers far beyond u64 included: browsers' JSON.parse reads them as doubles,
        // and so must we.
        let mut text = format!("{sign}{int}");
        if let Some(frac) = frac { text.push('.'); text.push_str(&frac); }
        if let Some((e, s, digits)) = exp { text.push_str(&e); text.push_str(s); text.push_str(&digits); }
        let mut json = JsonDecoder::new();
        check_agrees(&mut json, text.as_bytes())?;
        check_agrees(&mut json, format!("[{text}]").as_bytes())?;
    }

    #[test]
    fn arbitrary_bytes_get_the_same_verdict(bytes in prop::collection::vec(any::<u8>(), 1..64)) {
        let mut json = JsonDecoder::new();
        check_agrees(&mut json, &bytes)?;
    }

    #[test]
    fn one_decoder_serves_many_messages(values in prop::collection::vec(arb_json(), 1..20)) {
        // Buffers carried from one message to the next must not leak into the next.
        let mut json = JsonDecoder::new();
        for value in &values {
            check_agrees(&mut json, &serde_json::to_vec(value).unwrap())?;
        }
    }
}

#[test]
fn validation_leaves_the_payload_alone_and_parsing_rewrites_it() {
    let mut json = JsonDecoder::new();
    let original = br#"{"k":"a\nb\u00e9"}"#.to_vec();
    let mut payload = original.clone();
    json.validate(&payload).unwrap();
    assert_eq!(payload, original);
    let doc = json.parse(&mut payload).unwrap();
    assert_eq!(doc.pointer("/k").unwrap().into_string(), Some("a\nbé"));
    drop(doc);
    assert_ne!(payload, original, "strings are unescaped in place");
}

#[test]
fn errors_carry_offsets() {
    let mut json = JsonDecoder::new();
    assert!(matches!(
        json.validate(b"\xff{}"),
        Err(Error::InvalidUtf8 { offset: 0 })
    ));
    assert!(matches!(
        json.validate(b"[\"ab\xc3\"]"),
        Err(Error::InvalidUtf8 { offset: 4 })
    ));
    assert!(matches!(
        json.validate(b"[1,2]\xe2\x82"),
        Err(Error::InvalidUtf8 { offset: 5 })
    ));
    // The in-place paths find the same offset.
    assert!(matches!(
        json.parse(&mut b"[\"ab\xc3\"]".to_vec()),
        Err(Error::InvalidUtf8 { offset: 4 })
    ));
    assert!(matches!(
        json.deserialize::<Value>(&mut b"[\"ab\xc3\"]".to_vec()),
        Err(Error::InvalidUtf8 { offset: 4 })
    ));

    let err = json.validate(br#"{"a":1,}"#).unwrap_err();
    assert!(
        matches!(err, Error::InvalidJson { offset: 7, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("payload is not valid JSON at byte 7: "),
        "{err}"
    );
    let err = json.validate(b"{} {}").unwrap_err();
    assert!(
        matches!(&err, Error::InvalidJson { reason, .. } if reason.contains("after the end")),
        "{err:?}"
    );
    let err = json.validate(b"").unwrap_err();
    assert!(
        matches!(&err, Error::InvalidJson { offset: 0, reason } if reason.starts_with("empty payload"))
    );
}

#[test]
fn typed_shape_errors_are_reported() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Msg {
        id: u32,
    }
    let mut json = JsonDecoder::new();
    let err = json
        .deserialize::<Msg>(&mut br#"{"id":"seven"}"#.to_vec())
        .unwrap_err();
    // Valid JSON, the wrong shape: not "invalid JSON".
    assert!(matches!(err, Error::WrongShape { .. }), "{err:?}");
}

#[test]
fn json_pointer_follows_rfc_6901() {
    let mut json = JsonDecoder::new();
    let mut payload = br#"{"a/b":{"m~n":[10,{"":true}]},"arr":[0,1,2],"07":7}"#.to_vec();
    let doc = json.parse(&mut payload).unwrap();
    assert!(doc.pointer("").unwrap().is_object());
    assert_eq!(doc.pointer("/a~1b/m~0n/0").unwrap().as_u64(), Some(10));
    assert_eq!(doc.pointer("/a~1b/m~0n/1/").unwrap().as_bool(), Some(true));
    assert_eq!(doc.pointer("/arr/2").unwrap().as_u64(), Some(2));
    assert_eq!(
        doc.pointer("/07").unwrap().as_u64(),
        Some(7),
        "object keys are not indices"
    );
    for missing in [
        "/arr/3", "/arr/01", "/arr/-", "/arr/x", "/nope", "a", "/a~2b", "/arr/0/x",
    ] {
        assert!(doc.pointer(missing).is_none(), "{missing}");
    }
}

#[test]
fn nesting_depth_validation_has_no_limit_and_trees_stop_at_1024() {
    // Browsers send JSON nested far deeper than any tree decoder allows: validation
    // (and so every echo and forward) accepts any depth. The tree paths stop at
    // simd-json's 1024 levels, serde_json's Value at 128; both say so.
    let mut json = JsonDecoder::new();
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
    assert!(serde_json::from_slice::<Value>(&nested(200)).is_err());
    for depth in [200, 1024, 1025, 10_000, 1_000_000] {
        json.validate(&nested(depth)).unwrap();
        checks::serde_grammar(&nested(depth)).unwrap();
    }
    assert!(json.parse(&mut nested(1024)).is_ok());
    let mut owned = nmframe::OwnedDocument::new();
    assert!(owned.parse(&nested(1024)).is_ok());
    let too_deep = |err: Error| {
        assert!(
            matches!(
                err,
                Error::NestingTooDeep {
                    offset: 1024,
                    limit: 1024
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("limit of 1024 levels"), "{text}");
        assert!(!text.contains("not valid JSON"), "{text}");
    };
    too_deep(json.parse(&mut nested(1025)).unwrap_err());
    too_deep(json.to_borrowed(&mut nested(1025)).unwrap_err());
    too_deep(json.deserialize::<Value>(&mut nested(5000)).unwrap_err());
    too_deep(owned.parse(&nested(1025)).unwrap_err());
    assert!(
        json.validate(&nested(1025)[1..]).is_err(),
        "one bracket short"
    );
}

#[test]
fn numbers_beyond_a_double_are_valid_json_and_refused_as_values() {
    // JSON.parse reads 1e400 as Infinity: valid JSON, which a browser sends as a
    // reply. No double holds it, so the tree paths refuse it, as serde_json does.
    let mut json = JsonDecoder::new();
    for text in ["1e400", "[-1e400]", &"7".repeat(400)] {
        json.validate(text.as_bytes()).unwrap();
        let err = json
            .deserialize::<Value>(&mut text.as_bytes().to_vec())
            .unwrap_err();
        assert!(matches!(err, Error::InvalidJson { .. }), "{err:?}");
        assert!(serde_json::from_str::<Value>(text).is_err());
    }
}

#[test]
fn negative_zero_is_a_known_difference() {
    // simd-json 0.19 reads `-0` as the integer 0; serde_json and JSON.parse give -0.0.
    // Browsers never send `-0` (JSON.stringify(-0) is "0"). Floats are correctly
    // rounded on both sides (serde_json needs its float_roundtrip feature for that).
    // If this starts failing, simd-json changed: update README's "Differences".
    let mut json = JsonDecoder::new();
    let ours: Value = json.deserialize(&mut b"[-0,-1.5e-300]".to_vec()).unwrap();
    let oracle: Value = serde_json::from_slice(b"[-0,-1.5e-300]").unwrap();
    assert_eq!(ours[0], Value::from(0));
    assert_eq!(oracle[0].as_f64().map(f64::is_sign_negative), Some(true));
    assert_eq!(ours[1], oracle[1]);
    assert_eq!(ours[1].as_f64(), Some(-1.5e-300));
}

#[test]
fn unpaired_surrogate_escapes_are_read_as_browsers_send_them() {
    // JSON.stringify("a\ud800b") is "a\ud800b": valid JSON that serde_json refuses.
    let mut json = JsonDecoder::new();
    for (text, string) in [
        (r#""a\ud800b""#, "a\u{fffd}b"),
        (r#""\udc00""#, "\u{fffd}"),
        (r#""\uD83D""#, "\u{fffd}"),
        (r#""\ud83d\ude00""#, "😀"),
        (r#""\ud800\ud83d\ude00""#, "\u{fffd}😀"),
        (r#""\ude00\ud83d""#, "\u{fffd}\u{fffd}"),
        (r#""\\ud800""#, "\\ud800"), // an escaped backslash, then text
        (r#""\\\ud800""#, "\\\u{fffd}"),
    ] {
        let payload = text.as_bytes().to_vec();
        json.validate(&payload).unwrap();
        assert_eq!(
            payload,
            text.as_bytes(),
            "validate leaves the payload alone"
        );
        let mut copy = payload.clone();
        let read: String = json.deserialize(&mut copy).unwrap();
        assert_eq!(read, string, "{text}");
        let mut copy = payload.clone();
        assert_eq!(
            json.parse(&mut copy).unwrap().value().as_str(),
            Some(string)
        );
        let mut owned = nmframe::OwnedDocument::new();
        owned.parse(&payload).unwrap();
        assert_eq!(owned.value().unwrap().as_str(), Some(string));
        assert_eq!(checks::serde_oracle(&payload).unwrap(), Value::from(string));
    }
    assert!(serde_json::from_slice::<Value>(br#""\ud800""#).is_err());
    // Escapes outside strings stay invalid; broken escapes inside them too.
    for bad in [r#"[\ud800]"#, r#""\ud8""#, r#""\ud80g""#, r#""\ud800"#] {
        assert!(json.validate(bad.as_bytes()).is_err(), "{bad}");
    }
}
