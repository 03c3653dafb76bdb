"""Running an event loop from the stages' synchronous code, with SIGTERM handled the way asyncio handles Ctrl-C.

``asyncio.run`` turns Ctrl-C into a cancellation of the main task, so every task's clean-up runs and no
exception is left in a task nobody reads. SIGTERM gets no such treatment: the CLI's handler raises
:class:`~builder.cli.Terminated` inside whatever task the loop happens to be running. That task then holds an
exception that nobody retrieves, and asyncio logs it ("Task exception was never retrieved ... Terminated") at
exit, after the CLI's own one-line goodbye. :func:`run` cancels the main task on SIGTERM instead, then lets the
handler that was installed before (the CLI's) decide, outside the loop.
"""

from __future__ import annotations

import asyncio
import queue
import signal
import threading
from collections.abc import Coroutine, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``; a SIGTERM meanwhile cancels ``coro`` and then calls the previous SIGTERM handler."""
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        return asyncio.run(coro)  # signals reach the main thread only; SIG_DFL / SIG_IGN need no help
    terminated: list[int] = []

    async def main() -> T:
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()

        def on_sigterm() -> None:
            terminated.append(signal.SIGTERM)
            me.cancel()

        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        try:
            return await coro
        finally:
            loop.remove_signal_handler(signal.SIGTERM)  # leaves SIG_DFL behind: put the previous one back
            signal.signal(signal.SIGTERM, previous)

    try:
        result = asyncio.run(main())
    except asyncio.CancelledError:
        if not terminated:
            raise
    if terminated:  # cancelled by a SIGTERM: now the handler it was meant for decides, outside the loop
        previous(signal.SIGTERM, None)
        raise asyncio.CancelledError()  # a handler that returned: the work was still cut short
    return result


_END = object()


def ahead(items: Iterable[T], n: int) -> Iterator[T]:
    """``items``, made up to ``n`` ahead by a thread of their own, so that an event loop that pulls them pays for
    a queue read and not for the making (selfinstruct's chunks: parquet reads and token counts, which release
    the GIL). An error while making them is raised here, at the item it stopped; leaving early stops the thread
    at its next item."""
    q: queue.Queue = queue.Queue(maxsize=max(1, n))
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, _END))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put((False, exc))

    threading.Thread(target=make, name="builder-ahead", daemon=True).start()
    try:
        while True:
            made, item = q.get()
            if made:
                yield item
            elif item is _END:
                return
            else:
                raise item
    finally:
        stop.set()
