"""Per-item work on all cores, isolated from the faults of any one item.

``run_tasks(func, items, ...)`` yields ``func(item)`` for every item, in order, a bounded batch at a time
(memory stays flat). What a single item can do to the run is contained:

* an exception inside ``func`` is caught in the worker and comes back as a :class:`TaskFailed`
  (``internal_error``, naming the exception), never as a dead stage;
* an item that runs past ``timeout`` seconds is stopped (``SIGALRM`` inside the worker; the worker is killed
  when a C extension does not return) and comes back as ``timeout``;
* a worker that dies (OOM killer, a segfault in a C extension, SIGKILL) breaks the pool
  (``BrokenProcessPool``): the batch is run again one item at a time, each in a fresh one-worker pool, so
  only the item that kills its worker again comes back as ``worker_died``.

``on_error(TaskFailed) -> result`` turns a failure into the caller's kind of result (a reject); without
it a failure raises :class:`TaskError`. Workers ignore SIGINT and SIGTERM: the main process owns
interrupts, and kills its workers the moment it stops, whatever the reason (Ctrl-C, SIGTERM, an error).
A worker whose parent is gone exits by itself within a second.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, TypeVar

import multiprocessing as mp

T = TypeVar("T")
R = TypeVar("R")

GRACE = 10.0  # seconds beyond an item's timeout before its worker is presumed stuck in C code and killed


@dataclass(frozen=True)
class TaskFailed:
    """An item whose work did not end in a result: ``kind`` is internal_error | timeout | worker_died."""

    item: Any
    kind: str
    detail: str


class TaskError(Exception):
    """A failed item where the caller gave no ``on_error`` (the message names the item's failure)."""


class _ItemTimeout(Exception):
    pass


def _on_alarm(signum, frame):  # pragma: no cover - runs in the worker
    raise _ItemTimeout()


def _describe(exc: BaseException) -> str:
    """``TypeError: message (at file.py:123 in func)``: the exception and the innermost frame of ours."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    for fr in reversed(frames):
        if "/builder/" in fr.filename.replace(os.sep, "/"):
            where = f" (at {os.path.basename(fr.filename)}:{fr.lineno} in {fr.name})"
            break
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"


def call_guarded(func: Callable[[T], R], item: T, timeout: float) -> tuple[str, Any]:
    """("ok", result) or (kind, detail): any exception of ``func`` (and a timeout) as a value."""
    alarm = timeout > 0 and threading.current_thread() is threading.main_thread()
    if alarm:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return "ok", func(item)
    except _ItemTimeout:
        return "timeout", f"took longer than {timeout:g} s (raise [build] task_timeout for very large files)"
    except Exception as exc:  # noqa: BLE001 - the point: one item's bug is that item's reject
        return "internal_error", _describe(exc)
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _call_chunk(func: Callable[[T], R], chunk: list[T], timeout: float) -> list[tuple[str, Any]]:
    return [call_guarded(func, item, timeout) for item in chunk]


HEAP_MMAP_BYTES = 32 << 20  # glibc's largest mmap threshold on 64-bit
HEAP_TRIM_BYTES = 128 << 20


def keep_heap() -> bool:
    """Let glibc's malloc serve the per-batch numpy temporaries (0.1-30 MB) from the heap and keep freed
    memory up to 128 MB: by default each one is a fresh mmap, and its pages fault in again on every batch,
    which made a dedup worker's shingling 1.4x slower than the same code in one process. Not glibc: no-op."""
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(-3, HEAP_MMAP_BYTES)) and bool(libc.mallopt(-1, HEAP_TRIM_BYTES))  # M_MMAP/M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        return False


def _worker_init(parent: int, setup: Callable[..., None] | None = None, setup_args: tuple = ()) -> None:  # pragma: no cover - worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # forked with both blocked (see new_pool): ignored from here on
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:  # the main process is gone (killed): nobody will read our results
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
    keep_heap()
    if setup is not None:
        setup(*setup_args)


def _context():
    return mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()


def _ready() -> bool:
    return True


def new_pool(workers: int, setup: Callable[..., None] | None = None, setup_args: tuple = (), wait: bool = True) -> ProcessPoolExecutor:
    """A pool whose workers are all forked now, with SIGINT and SIGTERM blocked until they ignore them: a
    Ctrl-C to the process group while a worker starts up cannot print its traceback. ``setup(*setup_args)``
    runs in each worker after that (a stage's per-worker state). ``wait=False``: return once forked, while
    the workers still run ``setup`` (their first tasks queue behind it)."""
    pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_worker_init,
                               initargs=(os.getpid(), setup, setup_args))
    blocked = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) if blocked else None
    try:
        first = pool.submit(_ready)  # a fork pool starts every worker at its first task
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
    if wait:
        first.result()
    return pool


def kill_pool(pool: ProcessPoolExecutor | None) -> None:
    """Stop a pool now: kill its processes (they may be mid-item or stuck) and drop what is queued."""
    if pool is None:
        return
    # ProcessPoolExecutor.kill_workers() arrives in Python 3.14; before that the process table is the way
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            proc.kill()
        except (OSError, ValueError, AttributeError):
            pass
    pool.shutdown(wait=True, cancel_futures=True)


def _resolve(item: Any, outcome: tuple[str, Any], on_error: Callable[[TaskFailed], Any] | None) -> Any:
    kind, value = outcome
    if kind == "ok":
        return value
    failure = TaskFailed(item, kind, value)
    if on_error is None:
        raise TaskError(f"{kind}: {value}")
    return on_error(failure)


def run_tasks(func: Callable[[T], R], items: Iterable[T], workers: int, batch_size: int, timeout: float = 0.0,
              on_error: Callable[[TaskFailed], Any] | None = None) -> Iterator[Any]:
    """``func(item)`` (or ``on_error(TaskFailed)``) for every item, in order; see the module docstring."""
    if workers <= 1:
        for item in items:
            yield _resolve(item, call_guarded(func, item, timeout), on_error)
        return
    pool: ProcessPoolExecutor | None = new_pool(workers)
    try:
        it = iter(items)
        while True:
            batch = list(itertools.islice(it, batch_size))
            if not batch:
                break
            try:
                outcomes = _run_batch(pool, func, batch, workers, timeout)
            except (BrokenProcessPool, FutureTimeout):
                kill_pool(pool)
                pool = None
                outcomes = list(_isolate(func, batch, timeout))
                pool = new_pool(workers)
            for item, outcome in zip(batch, outcomes):
                yield _resolve(item, outcome, on_error)
    finally:
        kill_pool(pool)


def _run_batch(pool: ProcessPoolExecutor, func, batch: list, workers: int, timeout: float) -> list[tuple[str, Any]]:
    size = max(1, len(batch) // (workers * 4))
    chunks = [batch[i:i + size] for i in range(0, len(batch), size)]
    futures = [pool.submit(_call_chunk, func, chunk, timeout) for chunk in chunks]
    deadline = time.monotonic() + (timeout * len(batch) + GRACE if timeout > 0 else float("inf"))
    out: list[tuple[str, Any]] = []
    for fut in futures:
        wait = deadline - time.monotonic()
        out.extend(fut.result(timeout=None if wait == float("inf") else max(wait, 0.0)))
    return out


def _isolate(func, batch: list, timeout: float) -> Iterator[tuple[str, Any]]:
    """Each item alone in a one-worker pool: the item that kills (or hangs) its worker is the culprit."""
    pool: ProcessPoolExecutor | None = None
    try:
        for item in batch:
            if pool is None:
                pool = new_pool(1)
            fut = pool.submit(_call_chunk, func, [item], timeout)
            try:
                yield fut.result(timeout=timeout + GRACE if timeout > 0 else None)[0]
            except BrokenProcessPool:
                kill_pool(pool)
                pool = None
                yield "worker_died", "its worker process died while processing it (killed by a signal or out of memory); it was retried alone and died again"
            except FutureTimeout:
                kill_pool(pool)
                pool = None
                yield "timeout", f"no result after {timeout + GRACE:g} s; its worker was killed"
    finally:
        kill_pool(pool)


class WorkerPool:
    """One fault-aware pool for a whole stage, forked at once (while the parent is small) and killed on
    any exit: an error, Ctrl-C or SIGTERM never leaves workers behind or a stage waiting forever.

    ``mapper(ahead)`` gives an ordered map with at most ``ahead`` tasks in flight and no round barrier.
    A worker that dies raises :class:`TaskError` at once (``multiprocessing.Pool`` would wait forever)."""

    def __init__(self, workers: int, setup: Callable[[], None] | None = None):
        self.workers = workers
        self.pool = new_pool(workers, setup) if workers > 1 else None  # every worker forked now, setup() run in each

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.pool is None:
            return
        if exc_type is None:
            self.pool.shutdown(wait=True)
        else:
            kill_pool(self.pool)

    def mapper(self, ahead: int) -> Callable[[Callable, Iterable], Iterator] | None:
        pool = self.pool
        if pool is None:
            return None

        def mapper(func: Callable, items: Iterable) -> Iterator:
            from collections import deque

            pending: deque = deque()
            try:
                for item in items:
                    pending.append(pool.submit(func, item))
                    if len(pending) >= ahead:
                        yield _result(pending.popleft())
                while pending:
                    yield _result(pending.popleft())
            finally:
                for fut in pending:
                    fut.cancel()

        return mapper


def _result(fut):
    try:
        return fut.result()
    except BrokenProcessPool:
        raise TaskError("a worker process died (killed by a signal or out of memory); run again, "
                        "or lower [build] workers if memory is short") from None
