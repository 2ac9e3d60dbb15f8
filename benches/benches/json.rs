//! JSON on realistic native-messaging payloads: nmframe's simd-json path (validate,
//! tape document, borrowed value, typed) against serde_json (IgnoredAny, Value, typed).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use nmframe::JsonDecoder;
use nmframe_benches::SAMPLES;
use serde::Deserialize;

/// A typed view of each sample, borrowing its strings where the parser can. Both
/// parsers fill the same untagged enum, so they do the same work.
#[derive(Deserialize)]
#[allow(dead_code)]
#[serde(untagged)]
enum Message<'a> {
    Command {
        cmd: &'a str,
        id: u64,
        url: &'a str,
        active: bool,
    },
    Page {
        id: u64,
        title: String,
        text: String,
        url: String,
    },
    Records {
        id: u64,
        records: Vec<Record>,
    },
    Blob {
        id: u64,
        mime: String,
        data: String,
    },
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Record {
    id: u64,
    name: String,
    tags: Vec<String>,
    score: u64,
    ok: bool,
}

fn bench(c: &mut Criterion) {
    for (name, text) in SAMPLES {
        let bytes = text.as_bytes().to_vec();
        let mut group = c.benchmark_group(format!("json/{name}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut json = JsonDecoder::new();
        group.bench_function("nmframe validate", |b| {
            b.iter(|| json.validate(black_box(&bytes)).unwrap())
        });
        group.bench_function("nmframe parse (tape document)", |b| {
            b.iter_batched_ref(
                || bytes.clone(),
                |buf| json.parse(buf).map(|d| d.value().is_object()).unwrap(),
                BatchSize::SmallInput,
            )
        });
        group.bench_function("nmframe to_borrowed", |b| {
            b.iter_batched_ref(
                || bytes.clone(),
                |buf| drop(json.to_borrowed(buf).unwrap()),
                BatchSize::SmallInput,
            )
        });
        group.bench_function("nmframe typed", |b| {
            b.iter_batched_ref(
                || bytes.clone(),
                |buf| drop(json.deserialize::<Message<'_>>(buf).unwrap()),
                BatchSize::SmallInput,
            )
        });
        group.bench_function("serde_json IgnoredAny", |b| {
            b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&bytes)).unwrap())
        });
        group.bench_function("serde_json Value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).unwrap())
        });
        group.bench_function("serde_json typed", |b| {
            b.iter(|| drop(serde_json::from_slice::<Message<'_>>(black_box(&bytes)).unwrap()))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
