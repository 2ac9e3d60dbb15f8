//! Writing a parsed [`Document`] back out as JSON, straight from simd-json's tape.
//!
//! A host that answers with what it was sent, or with a part of it, would otherwise
//! build a `BorrowedValue` tree first: an allocation for every array and object, and
//! a free for each again. Walking the tape allocates nothing.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use simd_json::{BorrowedValue, Node};

use crate::json::Document;

/// Serializes the document as it was parsed: the same keys in the same order, strings
/// unescaped and escaped again, numbers as simd-json read them (so `1.0` comes back as
/// `1.0`, `1e2` as `100.0`). With [`WriterThread::queue_json`](crate::WriterThread::queue_json)
/// or [`encode_json`](crate::encode_json) the JSON is written into the output batch
/// directly.
///
/// ```
/// use nmframe::{JsonDecoder, Limits, encode_json};
///
/// let mut json = JsonDecoder::new();
/// let mut payload = br#"{"op":"echo","args":[1,"\u00e9",null,{"x":true}]}"#.to_vec();
/// let doc = json.parse(&mut payload)?;
/// let mut out = Vec::new();
/// encode_json(&mut out, &doc, Limits::host().outbound())?;
/// assert_eq!(&out[4..], r#"{"op":"echo","args":[1,"é",null,{"x":true}]}"#.as_bytes());
/// # Ok::<(), nmframe::Error>(())
/// ```
impl Serialize for Document<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.tape() {
            [] => serializer.serialize_unit(),
            tape => Nodes(tape).serialize(serializer),
        }
    }
}

/// The value whose first node starts the slice.
struct Nodes<'t, 'p>(&'t [Node<'p>]);

/// How many nodes the value starting at `tape[0]` takes, its own included.
fn span(tape: &[Node<'_>]) -> usize {
    match tape[0] {
        Node::Array { count, .. } | Node::Object { count, .. } => count + 1,
        Node::String(_) | Node::Static(_) => 1,
    }
}

impl Serialize for Nodes<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tape = self.0;
        match tape[0] {
            Node::String(s) => serializer.serialize_str(s),
            // Through simd-json's own value, so that whichever number types its
            // features enable come out as it writes them.
            Node::Static(node) => BorrowedValue::Static(node).serialize(serializer),
            Node::Array { len, .. } => {
                let mut seq = serializer.serialize_seq(Some(len))?;
                let mut at = 1;
                for _ in 0..len {
                    let element = &tape[at..];
                    seq.serialize_element(&Nodes(element))?;
                    at += span(element);
                }
                seq.end()
            }
            Node::Object { len, .. } => {
                let mut map = serializer.serialize_map(Some(len))?;
                let mut at = 1;
                for _ in 0..len {
                    let Node::String(key) = tape[at] else {
                        unreachable!("simd-json's tape has a string node for every key");
                    };
                    let value = &tape[at + 1..];
                    map.serialize_entry(key, &Nodes(value))?;
                    at += 1 + span(value);
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::JsonDecoder;

    fn rewritten(text: &str) -> String {
        let mut json = JsonDecoder::new();
        let mut payload = text.as_bytes().to_vec();
        let doc = json.parse(&mut payload).unwrap();
        simd_json::to_string(&doc).unwrap()
    }

    fn through_tree(text: &str) -> String {
        let mut json = JsonDecoder::new();
        let mut payload = text.as_bytes().to_vec();
        simd_json::to_string(&json.to_borrowed(&mut payload).unwrap()).unwrap()
    }

    #[test]
    fn writes_what_the_tree_writes() {
        for text in [
            "0",
            "-1.5e3",
            "18446744073709551615",
            "\"a\\\"b\\\\c\\u0001\\ud83d\\ude00\"",
            "[]",
            "{}",
            "[[],{},[[]],{\"a\":{}}]",
            r#"{"items":[{"a":0,"b":{"c":[1,2],"d":"x"}},{"a":1,"b":{"c":[1,2],"d":"x"}}],"z":null}"#,
            r#"{"k":[true,false,null,1.25,-0.0,"é"],"l":2}"#,
        ] {
            assert_eq!(rewritten(text), through_tree(text), "{text}");
        }
    }

    #[test]
    fn keys_keep_their_order_and_repeats() {
        // A tree keeps one value per key (and past 32 keys, its own order); the tape
        // keeps the message's: `JSON.parse` on the other end takes the last, as it
        // would have of the message itself.
        let text = r#"{"b":1,"a":2,"b":3}"#;
        assert_eq!(rewritten(text), text);
        let many: Vec<String> = (0..40).rev().map(|k| format!("\"k{k}\":{k}")).collect();
        let text = format!("{{{}}}", many.join(","));
        assert_eq!(rewritten(&text), text);
    }

    /// JSON values as `JSON.stringify` writes them, nested a few levels.
    fn values() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            ".*".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
                prop::collection::vec((".{0,6}", inner), 0..8)
                    .prop_map(|entries| serde_json::Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        #[cfg_attr(miri, ignore = "proptest's generator is too slow interpreted: the native run covers it")]
        fn any_document_is_written_as_its_tree_is(value in values()) {
            let text = serde_json::to_string(&value).unwrap();
            let out = rewritten(&text);
            prop_assert_eq!(&out, &through_tree(&text));
            // And it reads back as the same value.
            let back: serde_json::Value = serde_json::from_str(&out).unwrap();
            let again: serde_json::Value = serde_json::from_str(&through_tree(&text)).unwrap();
            prop_assert_eq!(back, again);
        }
    }
}
