//! Messages larger than 1 MiB (`nmframe::chunked`), the host's side alone: cutting a
//! 16 MiB message into part frames (escaping its text into JSON strings, CRC-32) and
//! reassembling them (parsing each part, checking the end). The reference in the same
//! run is the copy every sender pays anyway: the message's bytes into 1 MiB frames.

use std::hint::black_box;
use std::time::Instant;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nmframe::chunked::{Accepted, ChunkOptions, Parts, Reassembler};

const MIB: usize = 1 << 20;

/// 16 MiB of JSON: `letters` is a long string without escapes (a file, a page's text),
/// `rows` an array of small objects whose strings hold quotes, backslashes and
/// multi-byte characters (every key's quotes cost an escape).
fn messages() -> [(&'static str, Vec<u8>); 2] {
    let mut letters = br#"{"data":""#.to_vec();
    let mut x: u32 = 1;
    while letters.len() < 16 * MIB - 2 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        letters.push(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[(x >> 26) as usize],
        );
    }
    letters.extend_from_slice(b"\"}");
    let mut rows = b"[".to_vec();
    let mut i = 0u64;
    while rows.len() < 16 * MIB - 64 {
        rows.extend_from_slice(
            format!(
                r#"{{"id":{i},"title":"r\u00e9sum\u00e9 \"{i}\" \\ caf\u00e9","tags":["a","b"]}},"#
            )
            .as_bytes(),
        );
        i += 1;
    }
    rows.extend_from_slice(b"0]");
    [("letters", letters), ("rows", rows)]
}

fn frames_of(text: &[u8]) -> Vec<Vec<u8>> {
    let mut parts = Parts::new(1, text, MIB, 0);
    let mut frames = Vec::new();
    let mut frame = Vec::new();
    while parts.next_frame(&mut frame) {
        frames.push(frame.clone());
    }
    frames
}

fn bench(c: &mut Criterion) {
    for (name, text) in messages() {
        let mut group = c.benchmark_group(format!("chunked/{name}"));
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.sample_size(20);
        let mut frame = Vec::with_capacity(MIB);
        group.bench_function("reference: copy into 1 MiB frames", |b| {
            b.iter(|| {
                for piece in black_box(&text).chunks(MIB - 4) {
                    frame.clear();
                    frame.extend_from_slice(&(piece.len() as u32).to_ne_bytes());
                    frame.extend_from_slice(piece);
                    black_box(&frame);
                }
            })
        });
        group.bench_function("Parts: escape into part frames", |b| {
            b.iter(|| {
                let mut parts = Parts::new(1, black_box(&text), MIB, 0);
                while parts.next_frame(&mut frame) {
                    black_box(&frame);
                }
            })
        });
        let frames = frames_of(&text);
        group.bench_function("Reassembler: parse parts, check the end", |b| {
            b.iter_batched(
                || {
                    frames
                        .iter()
                        .map(|f| BytesMut::from(&f[..]))
                        .collect::<Vec<_>>()
                },
                |frames| {
                    let mut rx = Reassembler::new(ChunkOptions::default());
                    let now = Instant::now();
                    let mut whole = None;
                    for f in frames {
                        if let Accepted::Message(m) = rx.accept(f, now) {
                            whole = Some(m);
                        }
                    }
                    assert_eq!(whole.expect("reassembled").len(), text.len());
                },
                criterion::BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
