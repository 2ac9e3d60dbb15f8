//! Replays the committed fuzz seeds (fuzz/seeds/, written by fuzz/gen-seeds.py) and
//! every regression input (fuzz/regressions/) through the fuzz targets' own checks, on
//! stable, in every `cargo test`.

use nmframe_test_support::fuzz::core as checks;
use nmframe_test_support::replay_seeds as replay;

#[test]
fn stream_decode_seeds() {
    replay("stream_decode", checks::stream_decode);
}

#[test]
fn slice_vs_stream_seeds() {
    replay("slice_vs_stream", checks::slice_vs_stream);
}

#[test]
fn json_seeds() {
    replay("json", checks::json);
}

#[test]
fn roundtrip_seeds() {
    replay("roundtrip", checks::roundtrip);
}

#[test]
fn the_reference_deframer_models_chromium() {
    // The oracle itself, on the cases docs/PROTOCOL.md describes.
    let mut wire = 3u32.to_ne_bytes().to_vec();
    wire.extend_from_slice(b"[1]");
    wire.extend_from_slice(&((1u32 << 20) + 1).to_ne_bytes());
    let outcome = checks::reference(&wire, 1 << 20);
    assert_eq!(outcome.frames, [b"[1]".to_vec()]);
    assert_eq!(
        outcome.end,
        checks::End::TooLarge {
            offset: 7,
            len: (1 << 20) + 1,
            limit: 1 << 20
        }
    );
    assert_eq!(
        checks::reference(&wire[..9], 1 << 20).end,
        checks::End::TruncatedHeader {
            offset: 7,
            received: 2
        }
    );
}

#[test]
fn frame_scan_seeds() {
    replay("frame_scan", checks::frame_scan);
}

#[test]
fn chunked_receive_seeds() {
    replay(
        "chunked_receive",
        nmframe_test_support::fuzz::chunked::chunked_receive,
    );
}

/// The chunked check's seeds reach what it checks: messages reassembled and delivered
/// whole, and transfers that fail (corrupted, lost, too large, timed out).
#[test]
fn the_chunked_seeds_deliver_and_fail() {
    use nmframe_test_support::fuzz::chunked::run;
    let seed = |name: &str| {
        std::fs::read(
            nmframe_test_support::fuzz_dir()
                .join("seeds/chunked_receive")
                .join(name),
        )
        .unwrap()
    };
    assert_eq!(run(&seed("whole_transfer")).reassembled, 1);
    assert_eq!(run(&seed("interleaved")).reassembled, 2);
    for name in [
        "corrupted_part",
        "lost_part",
        "too_large_and_budget",
        "timeout",
    ] {
        let tally = run(&seed(name));
        assert_eq!(tally.reassembled, 0, "{name}: {tally:?}");
        assert!(tally.failed > 0, "{name}: {tally:?}");
    }
    assert_eq!(run(&seed("plain_answers_versions_aborts")).plain, 1);
}
