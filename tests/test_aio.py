"""builder.aio.run: SIGTERM during an event loop ends the run the way Ctrl-C does, with nothing printed after
the CLI's goodbye (CI once saw "Task exception was never retrieved ... Terminated" after it)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

CHILD = textwrap.dedent("""
    import asyncio, os, signal, sys, threading, time
    from builder import aio

    class Terminated(KeyboardInterrupt):
        pass

    def on_term(signum, frame):
        raise Terminated()

    signal.signal(signal.SIGTERM, on_term)

    async def busy(log):
        try:
            while True:
                t = time.monotonic()
                while time.monotonic() - t < 0.05:  # CPU inside a task: the signal lands there, not in select()
                    pass
                await asyncio.sleep(0)
        finally:
            log.append("cleaned")

    async def main(log):
        await asyncio.gather(*(asyncio.create_task(busy(log)) for _ in range(4)))

    log = []
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
    try:
        (aio.run if sys.argv[1] == "aio" else asyncio.run)(main(log))
    except Terminated:
        os.write(2, f"goodbye after {len(log)} clean-ups\\n".encode())
        sys.exit(143)
""")


def _child(how: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, how], cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("how", ["aio", "asyncio"])
def test_sigterm_in_a_busy_task_ends_with_the_goodbye_as_the_last_line(how):
    r = _child(how)
    assert r.returncode == 143, r.stderr
    if how == "asyncio":  # the fault aio.run exists for: a task keeps the exception and asyncio logs it at exit
        assert "Task exception was never retrieved" in r.stderr
    else:
        assert r.stderr == "goodbye after 4 clean-ups\n"


def test_ahead_yields_every_item_in_order_raises_where_making_failed_and_stops_when_left():
    import threading
    import time

    from builder import aio

    assert list(aio.ahead(iter(range(1000)), 8)) == list(range(1000))

    def failing():
        yield 1
        yield 2
        raise ValueError("shard 3 is not parquet")

    got = []
    with pytest.raises(ValueError, match="shard 3"):
        for x in aio.ahead(failing(), 4):
            got.append(x)
    assert got == [1, 2]  # the items made before the error all arrive first

    made = []

    def endless():
        for i in range(10**9):
            made.append(i)
            yield i

    it = aio.ahead(endless(), 4)
    assert next(it) == 0
    it.close()  # the consumer leaves: the thread stops at its next item instead of making all of them
    time.sleep(0.3)
    n = len(made)
    time.sleep(0.2)
    assert len(made) == n <= 8
    assert not [t for t in threading.enumerate() if t.name == "builder-ahead" and t.is_alive()]
