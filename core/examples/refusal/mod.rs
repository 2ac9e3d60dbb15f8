//! What the echo examples answer instead of a message they cannot echo (over 1 MiB, or
//! not JSON), as every echo host in this repository does (the `nmframe echo` command,
//! the C, C++ and Go examples): the error, and the size and checksum of what arrived,
//! so that the sender can tell which message it was and that it arrived whole.

/// The reply to a message that was not echoed.
#[derive(serde::Serialize)]
pub struct Refusal {
    pub error: String,
    pub size: usize,
    pub fnv1a32: u32,
}

impl Refusal {
    /// The refusal of `message` for `err`.
    pub fn of(message: &[u8], err: &nmframe::Error) -> Refusal {
        Refusal {
            error: err.to_string(),
            size: message.len(),
            fnv1a32: fnv1a32(message),
        }
    }
}

/// FNV-1a, 32 bits: simple enough that any sender can compute it to compare.
fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}
