"""nmframe.dumps / loads / validate against the json module: the same values, the
same texts where JSON leaves no choice, and the core's errors with their offsets."""

from __future__ import annotations

import json
import random

import pytest

import nmframe


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 6 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 2**64 - 1, rng.randrange(-(10**12), 10**12)])
    if kind == 3:
        alphabet = 'ab"\\\n\t\x00\x1f\x7f é😀\u2028/'
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
    if kind == 4:
        return rng.choice([0.5, -2.25, 1e-7, 3.14159, 1e300, -0.0])
    if kind in (5, 6):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {f"k{rng.randrange(50)}\u00e9": random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_dumps_and_loads_agree_with_the_json_module_on_generated_values():
    rng = random.Random(20261205)
    for _ in range(3000):
        value = random_value(rng)
        text = nmframe.dumps(value)
        assert json.loads(text) == value
        assert nmframe.loads(text) == value
        assert nmframe.loads(compact(value)) == value
        if "e" not in text.decode() and "." not in text.decode():  # no floats: one way to write it
            assert text == compact(value), value


def test_loads_raises_where_json_loads_does_on_mutated_texts():
    rng = random.Random(7)
    for _ in range(3000):
        text = bytearray(compact(random_value(rng)))
        for _ in range(rng.randrange(1, 3)):
            at = rng.randrange(len(text))
            text[at : at + 1] = bytes([rng.choice(b'{}[],:"\\ 0e.-tfn\xff\xc3')])
        text = bytes(text)
        try:
            expected = json.loads(text.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            with pytest.raises(nmframe.InvalidMessage):
                nmframe.loads(text)
            with pytest.raises(nmframe.InvalidMessage):
                nmframe.validate(text)
            continue
        if any(isinstance(x, float) for x in [expected]) or b"e" in text or b"." in text:
            continue  # json.loads and simd-json may round a long number differently in the last bit
        assert nmframe.loads(text) == expected, text


def test_lone_surrogates_come_back_exactly():
    for text in [b'"\\ud800"', b'["a\\udfffb"]', b'{"\\udc00":"\\ud83d"}', b'"\\ud83d\\ude00"']:
        value = nmframe.loads(text)
        assert value == json.loads(text)
        assert nmframe.dumps(value) == (text if b"\\ude00" not in text else '"\U0001f600"'.encode())


def test_errors_name_the_offset_and_the_size():
    with pytest.raises(nmframe.InvalidJson) as err:
        nmframe.loads(b'{"a":[1,2,}')
    assert (err.value.offset, err.value.size, err.value.kind) == (10, 11, "invalid JSON")
    with pytest.raises(nmframe.InvalidUtf8) as err:
        nmframe.validate(b'["\xc3\x28"]')
    assert err.value.offset == 2
    with pytest.raises(nmframe.InvalidJson, match="empty payload"):
        nmframe.validate(b"")
    with pytest.raises(nmframe.NestingTooDeep):
        nmframe.loads(b"[" * 2000 + b"]" * 2000)
    nmframe.validate(b"[" * 500_000 + b"]" * 500_000)


def test_what_json_cannot_hold_is_refused():
    for bad, error in [(float("nan"), ValueError), (float("inf"), ValueError), (object(), TypeError),
                       ({(1,): 2}, TypeError), ({"a": set()}, TypeError)]:
        with pytest.raises(error):
            nmframe.dumps(bad)
    deep = []
    for _ in range(2000):
        deep = [deep]
    with pytest.raises(ValueError, match="nesting deeper"):
        nmframe.dumps(deep)
    cycle = []
    cycle.append(cycle)
    with pytest.raises(ValueError):
        nmframe.dumps(cycle)


def test_keys_and_numbers_as_json_dumps_writes_them():
    assert nmframe.dumps({1: True, None: 2, False: 3, 2.5: 4}) == b'{"1":true,"null":2,"false":3,"2.5":4}'
    assert nmframe.dumps([2**80, -(2**70), (1, "x")]) == compact([2**80, -(2**70), [1, "x"]])
    assert nmframe.dumps("\x00\x1f\u2028") == b'"\\u0000\\u001f\xe2\x80\xa8"'
