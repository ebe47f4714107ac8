"""The threads downloads are produced on: kept for the next download once theirs is done (respond._Producers),
so a download does not make the event loop wait for a new thread to start; a burst leaves few behind."""

from __future__ import annotations

import asyncio
import os
import threading

from aiohttp import web

from mockserver import respond
from mockserver.respond import PRODUCING, WAITING, _Producers


def streaming_app(seen: list, gate: threading.Event | None = None) -> web.Application:
    """A handler that streams a few chunks made on the producer thread, noting the thread and its name."""

    async def download(request: web.Request) -> web.StreamResponse:
        def produce():
            me = threading.current_thread()
            seen.append((me, me.name))
            if gate is not None:
                gate.wait(30)
            for n in range(3):
                yield b"chunk %d\n" % n

        return await respond.stream(request, produce, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/file", download)
    return app


async def test_downloads_one_after_another_run_on_one_kept_thread(aiohttp_client, monkeypatch):
    # a pool of its own: threads that earlier tests' downloads left waiting would take these downloads in turn
    monkeypatch.setattr(respond, "_PRODUCERS", _Producers())
    seen: list = []
    client = await aiohttp_client(streaming_app(seen))
    for _ in range(4):
        reply = await client.get("/file")
        assert await reply.read() == b"chunk 0\nchunk 1\nchunk 2\n"
        for _ in range(200):  # the thread is back waiting (bounded poll, no fixed sleep)
            if seen[-1][0].name == WAITING:
                break
            await asyncio.sleep(0.01)
        assert seen[-1][0].name == WAITING  # not counted as a running producer (tests look for PRODUCING)
    assert {name for _, name in seen} == {PRODUCING}
    assert len({thread for thread, _ in seen}) == 1  # one thread started, for the first download only


async def test_a_burst_of_downloads_leaves_at_most_keep_threads_waiting(aiohttp_client):
    seen: list = []
    gate = threading.Event()
    client = await aiohttp_client(streaming_app(seen, gate))
    burst = _Producers.KEEP + 4
    replies = [asyncio.ensure_future(client.get("/file")) for _ in range(burst)]
    for _ in range(500):  # every producer runs at once, each on a thread of its own
        if len(seen) == burst:
            break
        await asyncio.sleep(0.01)
    assert len({thread for thread, _ in seen}) == burst
    gate.set()
    for reply in replies:
        assert await (await reply).read() == b"chunk 0\nchunk 1\nchunk 2\n"
    threads = {thread for thread, _ in seen}
    for _ in range(500):
        if all(not t.is_alive() or t.name == WAITING for t in threads):
            break
        await asyncio.sleep(0.01)
    assert sum(t.is_alive() for t in threads) <= _Producers.KEEP


def test_a_forked_process_starts_its_own_producer_threads():
    """A worker forked from a process with waiting producer threads has none of them: it must not hand a
    download to a thread that does not exist in it (the download would never start)."""
    producers = _Producers()
    done = threading.Event()
    producers.run(done.set)
    assert done.wait(10)
    for _ in range(500):
        if producers._waiting:
            break
        threading.Event().wait(0.01)
    assert producers._waiting == 1
    child = os.fork()
    if child == 0:  # the forked process: a job must run there too
        code = 1
        try:
            ran = threading.Event()
            producers.run(ran.set)
            code = 0 if ran.wait(10) else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_thread_waiting_for_a_job_is_never_named_as_a_running_producer(monkeypatch):
    """A job started as another ends, its thread about to wait again: the new thread started for it runs it,
    and no thread left waiting carries the busy name the stream's tests look for. The new thread is held
    at its start until the other job's thread could take the job (or 0.3 s), the interleaving that left a
    fresh thread waiting under the busy name on a loaded machine."""
    producers = _Producers()
    ran: list = []
    second_done = threading.Event()

    class HeldAtStart(threading.Thread):
        def run(self) -> None:
            if ran:  # the second job's thread: the first job's has gone back to waiting by the time it runs
                second_done.wait(0.3)
            super().run()

    monkeypatch.setattr(threading, "Thread", HeldAtStart)

    def second() -> None:
        ran.append(threading.current_thread())
        second_done.set()

    def first() -> None:
        ran.append(threading.current_thread())
        producers.run(second)  # as this job ends: its own thread has not gone back to waiting yet

    producers.run(first)
    assert second_done.wait(10)
    threads = set(ran)
    for _ in range(500):  # both threads go back to waiting (bounded poll, no fixed sleep)
        if producers._waiting == 2:
            break
        threading.Event().wait(0.01)
    assert len(threads) == 2, "the second job ran on the thread started for it"
    assert {t.name for t in threads} == {WAITING}
