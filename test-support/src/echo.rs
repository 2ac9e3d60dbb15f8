//! The echo hosts' refusal, checked in one place: a message an echo host cannot echo
//! (over 1 MiB, not JSON) is answered with `{"error": ..., "size": N, "fnv1a32": H}`,
//! the size and checksum of what arrived, so that the sender can tell which message
//! it was and that it arrived whole. Every echo host gives it: the `nmframe echo`
//! command, the Rust examples, and the C, C++ and Go examples.

use serde_json::Value;

/// FNV-1a, 32 bits: simple enough that any sender can compute it to compare.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Whether `reply` (a JSON text) is an echo host's refusal of `payload`: an error that
/// names its size and checksum.
pub fn is_refusal_of(reply: &[u8], payload: &[u8]) -> bool {
    let Ok(reply) = serde_json::from_slice::<Value>(reply) else {
        return false;
    };
    reply["error"].is_string()
        && reply["size"] == payload.len()
        && reply["fnv1a32"] == fnv1a32(payload)
}

/// Checks that `reply` is an echo host's refusal of `payload` whose error says
/// `because`, and says what it got otherwise.
///
/// # Panics
///
/// When it is not.
pub fn assert_refusal(reply: &[u8], payload: &[u8], because: &str) {
    let text = String::from_utf8_lossy(reply);
    assert!(
        is_refusal_of(reply, payload),
        "not a refusal of the {}-byte message (fnv1a32 {}): {text}",
        payload.len(),
        fnv1a32(payload)
    );
    assert!(
        text.contains(because),
        "the refusal does not say {because:?}: {text}"
    );
}
