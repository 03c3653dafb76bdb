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
import signal
import threading
from collections.abc import Coroutine
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
