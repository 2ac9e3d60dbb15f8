"""nmframe.Host through real pipes: hosts run as browsers run them, this test playing
the browser."""

from __future__ import annotations

import json
import struct
import zlib

import nmframe
from conftest import EXAMPLES, MiB, ORIGIN, frame, script

ECHO = [str(EXAMPLES / "echo_host.py")]

# Messages as browsers write them (JSON.stringify): a lone surrogate among them, which
# both browsers send for a string cut inside an emoji.
VARIED = [
    b'{"a":1}',
    '{"text":"h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c\u8a9e \U0001f600","esc":"\\" \\\\ \\n \\r \\t \\u0000 \\b \\f"}'.encode(),
    b"[" * 64 + b"1" + b"]" * 64,
    b'[1e308,-0.0,123456789,true,false,null,""]',
    b'["\\ud800","a\\udfffb",{"\\udc00":"\\ud83d"}]',
    b'"a"',
]


def json_string(n: int) -> bytes:
    """A JSON string of exactly n bytes, letters that vary."""
    body = bytes(ord("a") + i % 26 for i in range(n - 2))
    return b'"' + body + b'"'


def test_echo_example_sends_every_message_back_byte_exact(browsers):
    b = browsers(ECHO)
    for msg in VARIED:
        assert b.roundtrip(msg) == msg
    exact = json_string(MiB)
    assert b.roundtrip(exact) == exact
    over = json_string(MiB + 1)
    refusal = json.loads(b.roundtrip(over))
    assert refusal == {"error": "frame too large", "size": MiB + 1, "fnv1a32": nmframe.fnv1a32(over)}
    b.expect_stderr("message of 1048577 bytes exceeds the host → browser limit of 1048576 bytes")
    for bad, kind in [(b"", "empty frame"), (b'{"a":', "invalid JSON"), (b'"\xff"', "invalid UTF-8")]:
        assert json.loads(b.roundtrip(bad))["error"] == kind
    assert b.roundtrip(b'["still here"]') == b'["still here"]'
    assert b.close() == 0, b.stderr


def test_values_come_back_as_they_came_lone_surrogates_included(browsers):
    b = browsers(script("""
        import nmframe
        host = nmframe.Host()
        for message in host:
            host.send(message)
    """))
    for msg in VARIED:
        if b"1e308" in msg:
            continue  # numbers are written in Python's shortest form (1e308 stays 1e308)
        assert b.roundtrip(msg) == msg, msg
    # A value decoded with a lone surrogate is a str holding it.
    assert b.roundtrip(b'{"s":"x\\ud800y"}') == b'{"s":"x\\ud800y"}'
    numbers = json.loads(b.roundtrip(b"[1e308,-0.0,123456789,1.5,-7]"))
    assert numbers == [1e308, -0.0, 123456789, 1.5, -7]
    assert b.close() == 0, b.stderr


def test_a_stray_print_goes_to_stderr_and_the_stream_stays_intact(browsers):
    b = browsers(script("""
        import sys
        import nmframe
        print("before the host")
        host = nmframe.Host()
        print("after the host")
        for message in host:
            print("handling", message)
            sys.stdout.write("written to sys.stdout\\n")
            host.send({"got": message})
    """))
    assert json.loads(b.roundtrip(b"[1]")) == {"got": [1]}
    assert json.loads(b.roundtrip(b"[2]")) == {"got": [2]}
    assert b.close() == 0
    for line in ["before the host", "after the host", "handling [2]", "written to sys.stdout"]:
        assert line in b.stderr


def test_the_caller_is_read_from_the_command_line(browsers):
    code = script("""
        import nmframe
        host = nmframe.Host()
        c = host.caller
        for _ in host:
            host.send([c.browser, c.origin, c.manifest_path, c.extension_id, c.parent_window])
    """)
    b = browsers(code, [ORIGIN, "--parent-window=77"])
    assert json.loads(b.roundtrip(b"0")) == [
        "chromium", ORIGIN, None, "knldjmfmopnpolahpmmgbagdohdnhkik", 77]
    assert b.close() == 0
    b = browsers(code, ["/home/u/.mozilla/native-messaging-hosts/x.json", "x@example.org"])
    assert json.loads(b.roundtrip(b"0")) == [
        "firefox", None, "/home/u/.mozilla/native-messaging-hosts/x.json", "x@example.org", None]
    assert b.close() == 0
    b = browsers(code, [])
    assert json.loads(b.roundtrip(b"0"))[0] == "unknown"
    assert b.close() == 0


def test_a_bad_message_is_an_exception_and_the_next_one_is_read(browsers):
    b = browsers(script("""
        import nmframe
        host = nmframe.Host()
        while True:
            try:
                host.send(host.recv())
            except nmframe.InvalidMessage as err:
                host.send({"kind": err.kind, "class": type(err).__name__, "offset": getattr(err, "offset", None),
                           "size": err.size, "text": str(err)})
            except nmframe.Closed:
                break
    """))
    reply = json.loads(b.roundtrip(b'{"a":[1,2,}'))
    assert reply["class"] == "InvalidJson" and reply["kind"] == "invalid JSON"
    assert reply["size"] == 11 and reply["offset"] == 10, reply
    assert "at byte 10" in reply["text"]
    reply = json.loads(b.roundtrip(b'["ok","\xc3\x28"]'))
    assert reply["class"] == "InvalidUtf8" and reply["offset"] == 7, reply
    reply = json.loads(b.roundtrip(b"[" * 5000 + b"]" * 5000))
    assert reply["class"] == "NestingTooDeep", reply
    assert b.roundtrip(b"[3]") == b"[3]"
    assert b.close() == 0


def test_iterating_skips_a_bad_message_and_logs_it(browsers):
    b = browsers(script("""
        import nmframe
        host = nmframe.Host()
        for message in host:
            host.send(message)
    """))
    b.send(b"{nope")
    assert b.roundtrip(b"[1]") == b"[1]"
    b.expect_stderr("skipped a message: payload is not valid JSON at byte 1")
    assert b.close() == 0


def test_replies_are_refused_before_a_byte_is_written_and_the_host_goes_on(browsers):
    b = browsers(script("""
        import nmframe
        host = nmframe.Host()
        for message in host:
            n = message["n"]
            try:
                if message.get("raw"):
                    host.send_bytes(b'"' + b"x" * (n - 2) + b'"')
                else:
                    host.send("x" * (n - 2))
            except nmframe.MessageTooLarge as err:
                host.send({"size": err.size, "limit": err.limit, "text": str(err)})
            for bad in (float("nan"), object(), {(1, 2): 3}):
                try:
                    host.send(bad)
                except (TypeError, ValueError) as err:
                    pass
                else:
                    host.send("sent what JSON cannot hold")
    """))
    for raw in (False, True):
        msg = json.dumps({"n": MiB, "raw": raw}).encode()
        assert b.roundtrip(msg) == b'"' + b"x" * (MiB - 2) + b'"'
        reply = json.loads(b.roundtrip(json.dumps({"n": MiB + 1, "raw": raw}).encode()))
        assert reply["size"] == MiB + 1 and reply["limit"] == MiB
        assert "1048577" in reply["text"] and "nothing was written" in reply["text"]
    assert b.close() == 0, b.stderr


def test_sends_from_another_thread_go_out_while_the_host_waits_to_read(browsers):
    b = browsers(script("""
        import threading, time
        import nmframe
        host = nmframe.Host()
        def tick():
            for i in range(50):
                # Asked while the main thread waits in a receive: answers at once.
                assert not host.has_message
                host.send({"tick": i})
                time.sleep(0.002)
        threading.Thread(target=tick).start()
        for message in host:
            host.send(message)
    """))
    # Nothing is sent to the host until every tick has arrived: its main thread waits
    # in a receive the whole time.
    assert [json.loads(b.reply()) for _ in range(50)] == [{"tick": i} for i in range(50)]
    assert b.roundtrip(b'"done"') == b'"done"'
    assert b.close() == 0


def syscalls_written(pid: int) -> int:
    with open(f"/proc/{pid}/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("syscw:"))


def test_a_burst_is_answered_in_a_few_writes(browsers):
    b = browsers(script("""
        import nmframe
        host = nmframe.Host()
        for message in host:
            host.send(message)
    """))
    assert b.roundtrip(b"[0]") == b"[0]"
    before = syscalls_written(b.proc.pid)
    burst = [json.dumps([i, "x" * (i % 50)], separators=(",", ":")).encode() for i in range(2000)]
    b.write(b"".join(frame(m) for m in burst))
    assert [b.reply() for _ in burst] == burst
    writes = syscalls_written(b.proc.pid) - before
    assert writes < 200, f"{writes} writes for 2000 replies"
    assert b.close() == 0


def test_a_large_reply_goes_out_behind_the_replies_queued_before_it(browsers):
    # A large reply with no request waiting is written from where it lies, in one write
    # with whatever is queued: it must not overtake the replies to a burst's earlier
    # requests.
    b = browsers(script("""
        import nmframe
        host = nmframe.Host()
        for message in host.frames():
            host.send_bytes(message)
    """))
    burst = [b"[%d]" % i for i in range(100)] + [json_string(64 * 1024), b"[100]", json_string(40_000)]
    b.write(b"".join(frame(m) for m in burst))
    assert [b.reply() for _ in burst] == burst
    assert b.roundtrip(json_string(1 << 20)) == json_string(1 << 20)
    assert b.close() == 0, b.stderr


def test_replies_queued_when_the_script_ends_are_written(browsers):
    b = browsers(script("""
        import nmframe
        host = nmframe.Host()
        for _ in range(2):
            host.send(host.recv())
        # Two more requests are buffered: the second reply waits in the queue, and the
        # script ends here.
    """))
    b.write(b"".join(frame(b"[%d]" % i) for i in range(4)))
    assert [b.reply(), b.reply()] == [b"[0]", b"[1]"]
    assert b.close() == 0, b.stderr


def test_a_stream_cut_inside_a_message_is_a_stream_error_with_the_numbers(browsers):
    b = browsers(ECHO)
    assert b.roundtrip(b'["before"]') == b'["before"]'
    b.write(struct.pack("=I", 100) + b'["only ten')
    assert b.close() == 1
    assert "the header announced 100 bytes, 10 arrived" in b.stderr


def test_a_message_over_max_inbound_ends_the_stream(browsers):
    b = browsers(script("""
        import sys
        import nmframe
        host = nmframe.Host(max_inbound=100)
        try:
            for message in host:
                host.send(message)
        except nmframe.StreamError as err:
            print(f"stream: {err} size={err.size} limit={err.limit} fatal={err.fatal}", file=sys.stderr)
    """))
    assert b.roundtrip(b"[1]") == b"[1]"
    b.send(json_string(200))
    assert b.close() == 0
    assert "size=200 limit=100 fatal=True" in b.stderr, b.stderr


def test_a_browser_that_went_away_is_disconnected(browsers):
    b = browsers(script("""
        import sys
        import nmframe
        host = nmframe.Host()
        message = host.recv()
        try:
            for _ in range(1000):
                host.send(message)
        except nmframe.Disconnected as err:
            print(f"disconnected: {err}", file=sys.stderr)
            sys.exit(3)
    """))
    b.proc.stdout.close()
    b.send(b'"x"')
    assert b.close() == 3
    assert "disconnected" in b.stderr


def test_serve_logs_what_fails_and_goes_on(browsers):
    b = browsers(script("""
        import nmframe
        def handle(message):
            if message == "boom":
                raise RuntimeError("the handler broke")
            if message == "quiet":
                return None
            if message == "huge":
                return "x" * (2 << 20)
            return {"echo": message}
        nmframe.serve(handle)
    """))
    for msg in [b'"boom"', b'"quiet"', b'"huge"']:
        b.send(msg)
    assert json.loads(b.roundtrip(b"[1]")) == {"echo": [1]}
    b.expect_stderr("RuntimeError: the handler broke")
    b.expect_stderr("reply not sent: message of 2097154 bytes exceeds")
    assert b.close() == 0


def test_options_of_a_chunked_host_need_one():
    import pytest

    with pytest.raises(ValueError, match="options of a chunked host"):
        nmframe.Host(max_message=10)


def test_a_chunked_host_passes_small_messages_as_they_are(browsers):
    b = browsers([str(EXAMPLES / "chunked_host.py")])
    request = b'{"op":"size","id":7,"x":"\\u00e9"}'
    reply = json.loads(b.roundtrip(request))
    assert reply == {"id": 7, "bytes": len(request), "crc32": zlib.crc32(request)}
    made = json.loads(b.roundtrip(b'{"op":"make","id":8,"bytes":100}'))
    assert made["id"] == 8 and len(json.dumps(made, separators=(",", ":"))) == 100
    assert b.roundtrip(b'{"op":"echo","id":9,"v":[1]}') == b'{"op":"echo","id":9,"v":[1]}'
    assert b.close() == 0
