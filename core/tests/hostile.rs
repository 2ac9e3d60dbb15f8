//! The hostile-input table against the Rust API: the expected outcome of every case,
//! every frame before the bad one delivered, peak heap bounded by what was received,
//! and each case bounded in time.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use nmframe::{Error, FrameReader, JsonDecoder, Limits};
use nmframe_test_support::alloc::{Counting, mark, peak};
use nmframe_test_support::hostile::{self as hostile_cases, Case, End, Json, Reads, cases};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Hands out the stream whole, or one byte per read.
struct Source<'a> {
    data: &'a [u8],
    bytewise: bool,
}

impl Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = if self.bytewise { 1 } else { buf.len() }
            .min(buf.len())
            .min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn run(case: &Case) {
    let limits = if case.browser {
        Limits::browser()
    } else {
        Limits::host()
    };
    let start = Instant::now();
    let base = mark();
    let mut reader = FrameReader::new(
        Source {
            data: &case.stream,
            bytewise: matches!(case.reads, Reads::Bytewise),
        },
        limits,
    );
    let mut frames = 0;
    let mut last = None;
    let end = loop {
        match reader.read_frame() {
            Ok(Some(frame)) => {
                if frames == 0 {
                    assert_eq!(
                        &frame[..],
                        hostile_cases::GOOD,
                        "{}: the good frame first",
                        case.name
                    );
                }
                frames += 1;
                last = Some(frame);
            }
            Ok(None) => break End::Clean,
            Err(err) => break End::of(&err),
        }
    };
    let framing_peak = peak() - base;
    assert_eq!((frames, end), (case.frames, case.end), "{}", case.name);
    // Framing memory: what arrived (the last frame is still held) plus a read window.
    let bound = case.stream.len() as isize + (2 << 20);
    assert!(
        framing_peak <= bound,
        "{}: framing peaked at {framing_peak} bytes (bound {bound})",
        case.name
    );

    let last = last.expect("the good frame at least");
    let base = mark();
    let verdict = match JsonDecoder::new().validate(&last) {
        Ok(()) => Json::Valid,
        Err(Error::InvalidUtf8 { offset }) => Json::InvalidUtf8 { offset },
        Err(Error::InvalidJson { .. }) => Json::Invalid,
        Err(other) => panic!("{}: {other:?}", case.name),
    };
    let json_peak = peak() - base;
    assert_eq!(verdict, case.last_json, "{}", case.name);
    // Validation reads the payload where it lies; only nesting deeper than 64 levels
    // costs memory, one bit per level.
    let bound = last.len() as isize / 8 + 1024;
    assert!(
        json_peak <= bound,
        "{}: validation peaked at {json_peak} bytes (bound {bound})",
        case.name
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{}: took {:?}",
        case.name,
        start.elapsed()
    );
    println!(
        "{:<45} {frames:>6} frames, {end:?}, JSON {verdict:?}; heap peak {framing_peak} + {json_peak} bytes",
        case.name
    );
}

#[test]
fn hostile_inputs_against_the_rust_api() {
    for case in cases() {
        run(&case);
    }
}
