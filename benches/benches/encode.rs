//! Writing a reply: nmframe serializes straight into the frame buffer (reused);
//! the usual way is serde_json::to_vec, then a header and a copy into a new buffer.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nmframe::Limits;
use nmframe_benches::SAMPLES;

fn bench(c: &mut Criterion) {
    for (name, text) in SAMPLES {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut group = c.benchmark_group(format!("encode/{name}"));
        group.throughput(Throughput::Bytes(text.len() as u64));
        let mut out = Vec::new();
        group.bench_function("nmframe encode_json (into a reused buffer)", |b| {
            b.iter(|| {
                out.clear();
                nmframe::encode_json(&mut out, black_box(&value), Limits::host().outbound())
                    .unwrap()
            })
        });
        group.bench_function("serde_json::to_vec + header", |b| {
            b.iter(|| {
                let json = serde_json::to_vec(black_box(&value)).unwrap();
                let mut frame = Vec::with_capacity(json.len() + 4);
                frame.extend_from_slice(&(json.len() as u32).to_ne_bytes());
                frame.extend_from_slice(&json);
                frame
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
