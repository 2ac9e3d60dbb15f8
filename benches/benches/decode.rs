//! Framing only: nmframe's borrowed-slice and streaming decoders against
//! tokio-util's LengthDelimitedCodec (native-endian u32), the peer crates' framing
//! functions, and a naive `read_exact` into a fresh `Vec`.

use std::hint::black_box;
use std::io::{Cursor, Read};

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use nmframe::{FrameReader, Limits, SliceFrames};
use nmframe_benches::{Shape, payload};
use tokio_util::codec::{Decoder, LengthDelimitedCodec};

const SIZES: [(&str, usize); 5] = [
    ("16B", 16),
    ("1KiB", 1 << 10),
    ("64KiB", 64 << 10),
    ("1MiB", 1 << 20),
    ("16MiB", 16 << 20),
];

/// A stream of frames of `size` bytes, about 4 MiB in all (at least one frame).
fn stream(size: usize) -> (Vec<u8>, usize) {
    let msg = payload(Shape::Strings, size);
    let count = ((4 << 20) / size).max(1);
    let mut out = Vec::with_capacity(count * (size + 4));
    for _ in 0..count {
        out.extend_from_slice(&(size as u32).to_ne_bytes());
        out.extend_from_slice(&msg);
    }
    (out, count)
}

fn naive(mut r: impl Read) -> usize {
    let mut total = 0;
    let mut header = [0u8; 4];
    while r.read_exact(&mut header).is_ok() {
        let mut buf = vec![0u8; u32::from_ne_bytes(header) as usize];
        r.read_exact(&mut buf).unwrap();
        total += black_box(buf).len();
    }
    total
}

fn bench(c: &mut Criterion) {
    for (name, size) in SIZES {
        let (wire, count) = stream(size);
        let mut group = c.benchmark_group(format!("decode/{name}"));
        group.throughput(Throughput::Bytes(wire.len() as u64));
        if size >= 1 << 20 {
            group.sample_size(10);
        }
        group.bench_function("nmframe slice", |b| {
            b.iter(|| {
                SliceFrames::new(black_box(&wire), Limits::host().inbound())
                    .map(|f| f.unwrap().len())
                    .sum::<usize>()
            })
        });
        group.bench_function("nmframe stream", |b| {
            b.iter(|| {
                FrameReader::new(black_box(&wire[..]), Limits::host())
                    .map(|f| f.unwrap().len())
                    .sum::<usize>()
            })
        });
        group.bench_function("tokio-util LengthDelimitedCodec", |b| {
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |mut buf| {
                    let mut codec = LengthDelimitedCodec::builder()
                        .length_field_length(4)
                        .native_endian()
                        .max_frame_length(usize::MAX)
                        .new_codec();
                    let mut total = 0;
                    while let Some(frame) = codec.decode(&mut buf).unwrap() {
                        total += frame.len();
                    }
                    total
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function("native_messaging decode_message_opt", |b| {
            b.iter(|| {
                let mut r = Cursor::new(black_box(&wire[..]));
                let mut total = 0;
                while let Some(msg) =
                    native_messaging::host::decode_message_opt(&mut r, usize::MAX).unwrap()
                {
                    total += msg.len();
                }
                total
            })
        });
        group.bench_function("chrome_native_messaging read_input (parses JSON)", |b| {
            b.iter(|| {
                let mut r = Cursor::new(black_box(&wire[..]));
                (0..count)
                    .map(|_| chrome_native_messaging::read_input(&mut r).unwrap())
                    .count()
            })
        });
        group.bench_function("naive read_exact + Vec", |b| {
            b.iter(|| naive(Cursor::new(black_box(&wire[..]))))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
