"""nmframe.aio through real pipes: an asyncio host answering from many tasks."""

from __future__ import annotations

import json

from conftest import frame, script

AIO_HOST = script("""
    import asyncio, random
    from nmframe import aio

    async def answer(host, message):
        await asyncio.sleep(random.random() / 100)
        await host.send({"id": message["id"], "double": message["n"] * 2})

    async def main():
        host = aio.Host()
        tasks = set()
        async for message in host:
            if message == "stop":
                break
            task = asyncio.create_task(answer(host, message))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        await host.send("bye")
        host.close()

    asyncio.run(main())
""")


def test_replies_from_many_tasks_all_arrive(browsers):
    b = browsers(AIO_HOST)
    requests = [{"id": i, "n": i * 3} for i in range(300)]
    b.write(b"".join(frame(json.dumps(r).encode()) for r in requests))
    b.send(b"{not json")  # skipped and logged; the host goes on
    replies = [json.loads(b.reply()) for _ in requests]
    assert sorted(r["id"] for r in replies) == list(range(300))
    assert all(r["double"] == r["id"] * 6 for r in replies)
    b.send(b'"stop"')
    assert b.reply() == b'"bye"'
    assert b.close() == 0, b.stderr
    assert "skipped a message" in b.stderr


def test_the_loop_ends_when_the_browser_closes_the_pipe(browsers):
    b = browsers(script("""
        import asyncio, sys
        from nmframe import aio

        async def main():
            host = aio.Host()
            n = 0
            async for message in host:
                n += 1
                await host.send(message)
            print(f"ended after {n}", file=sys.stderr)

        asyncio.run(main())
    """))
    assert b.roundtrip(b"[1]") == b"[1]"
    assert b.roundtrip(b"[2]") == b"[2]"
    assert b.close() == 0
    assert "ended after 2" in b.stderr
