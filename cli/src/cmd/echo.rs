//! `nmframe echo`: the reference echo host.

use std::thread;

use nmframe::{Error, FrameReader, Limits, Outbound, WaitReadable};

use crate::out::note;
use crate::text::json_string;

/// The reference echo host: validate each message with simd-json and send the same
/// bytes back. Replies to everything already buffered go out in one write. With a
/// second core (or `NMFRAME_ECHO_THREAD=1`), replies are written on a thread of their
/// own while the next messages are read; `NMFRAME_ECHO_THREAD=0` keeps one thread.
pub fn echo() -> Result<(), Error> {
    let (reader, writer) = nmframe::stdio(Limits::host())?;
    let threaded = match std::env::var("NMFRAME_ECHO_THREAD").as_deref() {
        Ok("0") => false,
        Ok("1") => true,
        _ => thread::available_parallelism().is_ok_and(|n| n.get() > 1),
    };
    // The writer checks the size first and the JSON second: a message too large to
    // echo costs no validation (and no copy of it).
    let writer = writer.validate_json();
    if threaded {
        serve_echo(reader, writer.spawn_thread()?)
    } else {
        serve_echo(reader, writer)
    }
}

/// Replies from this size on are handed to the writing thread unless the host has
/// caught up with its input.
const LARGE: usize = 16 * 1024;

/// FNV-1a, 32 bits: simple enough that any sender can compute it to compare.
fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Echoes every frame `reader` delivers through `writer`, which should check the
/// JSON (`validate_json`): an invalid message, or one too large to echo, is answered
/// with an error object giving its size and checksum, and the host goes on.
pub fn serve_echo<R: WaitReadable>(
    mut reader: FrameReader<R>,
    mut writer: impl Outbound,
) -> Result<(), Error> {
    loop {
        let frame = match reader.read_frame()? {
            Some(frame) => frame,
            None => {
                return match writer.close() {
                    Err(err) if err.is_disconnect() => Ok(()),
                    other => other,
                };
            }
        };
        // Frozen, so that a large frame can be handed over by reference count while it is
        // kept for the error reply.
        let frame = frame.freeze();
        // A large reply to a lone message is written by this thread (nothing else is
        // waiting for it); smaller ones are whenever the writing thread is idle, so
        // they need not ask the system.
        if writer.heeds_caught_up() && frame.len() >= LARGE && !reader.input_waiting() {
            writer.caught_up();
        }
        match writer.queue_frame(&frame) {
            Ok(()) => {}
            Err(err) if err.is_disconnect() => return Ok(()),
            Err(err) if err.is_fatal() => return Err(err),
            Err(err) => {
                note(&format!(
                    "echo: not echoing a {}-byte message: {err}",
                    frame.len()
                ));
                let mut reply = b"{\"error\":".to_vec();
                json_string(&mut reply, &err.to_string());
                // The size and a checksum let the sender check what arrived.
                reply.extend_from_slice(
                    format!(
                        ",\"size\":{},\"fnv1a32\":{}}}",
                        frame.len(),
                        fnv1a32(&frame)
                    )
                    .as_bytes(),
                );
                writer.queue(&reply)?;
            }
        }
        if !reader.has_frame() && writer.queued() > 0 {
            match writer.flush() {
                Err(err) if err.is_disconnect() => return Ok(()),
                other => other?,
            }
        }
    }
}
