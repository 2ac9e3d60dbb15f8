//! Validation alone, the work of an echo or a forwarding host: nmframe's validator
//! against serde_json's `IgnoredAny` (the fastest check serde_json offers), sonic-rs's
//! `IgnoredAny` (its checked `skip_one`: the fastest full validation in Rust we know
//! of), and simd-json building its tape (how nmframe validated before), on the
//! committed samples, the generated corpora of the usual shapes, and the end-to-end
//! payloads.
//!
//!     cargo bench -p nmframe-benches --bench validate

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nmframe::JsonDecoder;
use nmframe_benches::{CORPORA, SAMPLES, Shape, payload};

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = SAMPLES
        .iter()
        .map(|(name, text)| (format!("sample {name}"), text.as_bytes().to_vec()))
        .collect();
    for (name, make) in CORPORA {
        all.push((format!("corpus {name}"), make(1 << 20)));
    }
    for shape in [Shape::Strings, Shape::Nested] {
        all.push((format!("e2e {shape:?} 1 MiB"), payload(shape, 1 << 20)));
    }
    all
}

fn bench(c: &mut Criterion) {
    let mut buffers = nmframe::simd_json::Buffers::new(1 << 20);
    let mut tape = nmframe::simd_json::Tape::null().reset();
    let mut scratch = Vec::new();
    for (name, bytes) in inputs() {
        let mut group = c.benchmark_group(format!("validate/{name}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut json = JsonDecoder::new();
        group.bench_function("nmframe validate", |b| {
            b.iter(|| json.validate(black_box(&bytes)).unwrap())
        });
        group.bench_function("serde_json IgnoredAny", |b| {
            b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&bytes)).unwrap())
        });
        group.bench_function("sonic-rs IgnoredAny (skip_one, checked)", |b| {
            b.iter(|| sonic_rs::from_slice::<serde::de::IgnoredAny>(black_box(&bytes)).unwrap())
        });
        group.bench_function("simd-json copy + fill_tape", |b| {
            b.iter(|| {
                scratch.clear();
                scratch.extend_from_slice(black_box(&bytes));
                scratch.resize(bytes.len() + nmframe::simd_json::INPUT_PADDING, 0);
                let mut t = std::mem::replace(&mut tape, nmframe::simd_json::Tape::null().reset());
                let ok = nmframe::simd_json::fill_tape_padded(
                    &mut scratch,
                    bytes.len(),
                    &mut buffers,
                    &mut t,
                )
                .is_ok();
                tape = t.reset();
                assert!(ok);
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
