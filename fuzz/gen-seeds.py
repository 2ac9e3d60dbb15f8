#!/usr/bin/env python3
"""Writes the committed seed corpora (fuzz/seeds/<target>/) from the test vectors.

Each seed is small; the fuzzer grows the corpus (fuzz/corpus/, not committed) from them.
The same seeds are replayed on stable by `cargo test` (core/tests/fuzz_seeds.rs and
ffi/tests/api.rs, through nmframe-test-support). Run it again after changing a vector: python3 fuzz/gen-seeds.py
"""
import json
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NE = "<" if sys.byteorder == "little" else ">"


def frame(payload, length=None):
    return struct.pack(NE + "I", len(payload) if length is None else length) + payload


STREAMS = {
    "empty": b"",
    "three_frames": frame(b'{"a":1}') + frame(b"[]") + frame(b'"x"'),
    "zero_length": frame(b"") + frame(b"1"),
    "truncated_header": frame(b"[1]") + b"\x07\x00",
    "truncated_payload": frame(b"[1]") + frame(b"[1,2,3]")[:7],
    "lying_4gib_then_10_bytes": struct.pack(NE + "I", 0xFFFFFFFF) + b"{" * 10,
    "text_on_stdout": b"/home/user/.config loaded\n" + frame(b"[1]"),
    "exactly_cap_header": struct.pack(NE + "I", 1 << 20),
    "cap_plus_one_header": struct.pack(NE + "I", (1 << 20) + 1) + b"x",
    "many_tiny": b"".join(frame(str(i).encode()) for i in range(200)),
}

JSON = {
    "object": b'{"cmd":"open","url":"https://example.org/?q=1","tabs":[1,2,3],"ok":true,"n":null}',
    "unicode": '{"t":"héllo wörld — 日本語 😀","e":"\\ud83d\\ude00 \\u0000 \\n"}'.encode(),
    "numbers": b"[0,-0,1e308,-1.5e-300,123456789012345678901234567890,18446744073709551615]",
    "trailing": b'{"a":1} {"b":2}',
    "bom": b'\xef\xbb\xbf{"a":1}',
    "raw_nul_in_string": b'"a\x00b"',
    "bad_utf8": b'["caf\xe9"]',
    "deep_200": b"[" * 200 + b"]" * 200,
    "deep_1025": b"[" * 1025 + b"]" * 1025,
    "escapes": b'"' + b"\\\\" * 500 + b'"',
    "digits": b"7" * 400,
    "empty": b"",
    "whitespace": b" \t\r\n 1 \n",
    "lone_surrogates": br'{"a":"x\ud800y","b":"\udc00","c":"\ud83d","d":"\ud800\ud83d\ude00","e":"\\ud800"}',
}


def seeds_for_streams():
    out = {}
    for name, stream in STREAMS.items():
        # role byte (even: host, odd: browser), chunk count, chunk sizes, stream
        out[name + "_host_bytewise"] = bytes([0, 0, 0]) + stream
        out[name + "_browser_chunked"] = bytes([1, 2, 3, 9]) + stream
    return out


def ffi_programs():
    def op_bytes(op, data):
        return bytes([op, len(data)]) + data

    stream = STREAMS["three_frames"] + STREAMS["truncated_payload"]
    new_host = bytes([0, 0]) + struct.pack("<I", 0)
    new_small_cap = bytes([0, 0]) + struct.pack("<I", 5)
    progs = {
        "decode_pushed": new_host + op_bytes(2, stream[:40]) + bytes([3] * 6) + bytes([4]),
        "decode_committed": new_host + op_bytes(1, stream[:13]) + op_bytes(1, stream[13:]) + bytes([3] * 6 + [4, 5]),
        "cap_hit": new_small_cap + op_bytes(2, frame(b"[1,2,3]")) + bytes([3, 3, 4]),
        "doc": op_bytes(6, JSON["object"]) + op_bytes(7, b"/tabs/2") + op_bytes(7, b"/url") + op_bytes(7, b"/x~1y"),
        "doc_invalid": op_bytes(6, JSON["bad_utf8"]) + op_bytes(7, b""),
        "stateless": op_bytes(8, frame(b"[1]")) + struct.pack("<I", 0) + bytes([9]) + struct.pack("<II", 1 << 20, 0)
        + op_bytes(10, JSON["unicode"]) + bytes([11, 3]),
    }
    return progs


def chunked_programs():
    # Ops of test-support/src/fuzz/chunked.rs: (op, arg, extra bytes).
    def start(i, pick=0, length=40, frame=0, window=0):
        return bytes([window * 10, pick * 4 + i, length, frame])

    def nxt(i, times=1):
        return bytes([1, i]) * times

    return {
        "whole_transfer": start(0) + nxt(0, 8),
        "interleaved": start(0, 1, 100, frame=40) + start(1, 2, 120) + (nxt(0) + nxt(1)) * 40,
        "corrupted_part": start(2, 3, 90) + nxt(2) + bytes([2, 2, 30]) + nxt(2, 6),
        "lost_part": start(3, 0, 100) + bytes([3, 3]) + nxt(3, 6),
        "too_large_and_budget": start(0, 0, 255) + start(1, 1, 255) + start(2, 2, 255) + (nxt(0) + nxt(1) + nxt(2)) * 12,
        "timeout": start(1, 0, 100, window=1) + nxt(1) + bytes([7, 200, 7, 200]) + nxt(1, 4),
        "plain_answers_versions_aborts": bytes([5, 33, 8, 2, 8, 3, 9, 1]) + start(0) + bytes([4, 0]) + nxt(0, 3),
        "raw_frames": bytes([6, 20]) + b'{"$nmframe":2,"t":"' + bytes([6, 5]) + b"[1,2]",
    }


def main():
    targets = {
        "frame_scan": seeds_for_streams(),
        "chunked_receive": chunked_programs(),
        "stream_decode": seeds_for_streams(),
        "slice_vs_stream": seeds_for_streams(),
        "json": JSON,
        "roundtrip": {
            "small_cap": bytes([3]) + b"[1,2,3,4]",
            "fits": bytes([255]) + JSON["object"],
            "empty_payload": bytes([10]),
            "zero_cap": bytes([0]) + b"1",
        },
        "ffi_calls": ffi_programs(),
    }
    root = os.path.join(HERE, "seeds")
    shutil.rmtree(root, ignore_errors=True)
    for target, seeds in targets.items():
        os.makedirs(os.path.join(root, target))
        for name, data in seeds.items():
            with open(os.path.join(root, target, name), "wb") as f:
                f.write(data)
    print(f"wrote {sum(len(s) for s in targets.values())} seeds under {root}")


if __name__ == "__main__":
    main()
