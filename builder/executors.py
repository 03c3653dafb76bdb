"""Where a stage's per-item work runs: this machine's process pool, or a Ray cluster.

A stage never names the executor. It calls ``StageRun.map`` (per file, per record batch, per
document) or takes a pool for a whole stage (dedup's sketch and verification batches); both come from
:func:`executor_for`, chosen by ``[build] executor`` or ``builder run --executor``:

* ``local``: ``builder.workers`` (a forked process pool, fault isolation per item);
* ``ray``: Ray tasks on the cluster named by ``[build] ray_address`` / ``--ray-address`` (``auto``
  joins the cluster in ``RAY_ADDRESS`` or the one started on this machine by ``ray start``; empty
  starts a private Ray on this machine). Ray is the optional extra ``builder[ray]``.

The same contract holds for both: results come back in input order, a bounded window at a time; an
item whose function raises or runs past ``[build] task_timeout`` comes back as ``TaskFailed``; a task
whose worker dies is retried by Ray (``RAY_TASK_RETRIES`` times), then each of its items is run alone
(again with retries) and only an item that still kills its worker becomes ``worker_died``, so a batch
is never lost. Everything that decides (shards, counters, rejects, the manifest, the lock, the atomic
swap) stays in the driver process, so outputs are the same rows in the same shards whichever runs the
work.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from .errors import ConfigError
from .workers import GRACE, TaskError, TaskFailed, WorkerPool, _call_chunk, _resolve, run_tasks

EXECUTORS = ("local", "ray")
RAY_EXTRA = "executor = \"ray\" needs Ray, the optional extra: pip install 'builder[ray]'"
RAY_TASK_RETRIES = 3  # Ray re-runs a task whose worker process died this many times before it is a failure


class LocalExecutor:
    """This machine: the forked, fault-isolating process pool of ``builder.workers``."""

    name = "local"

    def __init__(self, workers: int):
        self.workers = workers

    def map(self, func: Callable, items: Iterable, batch_size: int, timeout: float = 0.0,
            on_error: Callable[[TaskFailed], Any] | None = None) -> Iterator[Any]:
        return run_tasks(func, items, self.workers, batch_size, timeout, on_error)

    def pool(self, setup: Callable[[], None] | None = None) -> WorkerPool:
        """One pool for a stage; ``setup()`` runs once in each worker as it starts."""
        return WorkerPool(self.workers, setup)


def import_ray():
    """``ray``, or a one-line ConfigError naming the extra."""
    try:
        import ray
    except ImportError:
        raise ConfigError(RAY_EXTRA) from None
    return ray


_REMOTE: dict[str, Any] = {}


def _remote(ray, name: str, fn: Callable, **options) -> Any:
    """One ``ray.remote`` wrapper per function (Ray exports it again to a new session by itself)."""
    if name not in _REMOTE:
        _REMOTE[name] = ray.remote(**options)(fn)
    return _REMOTE[name]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _ray_chunk(func: Callable, chunk: list, timeout: float) -> list[tuple[str, Any]]:  # pragma: no cover - a Ray worker
    return _call_chunk(func, chunk, timeout)


def _ray_call(func: Callable, item: Any) -> Any:  # pragma: no cover - a Ray worker
    return func(item)


class RayExecutor:
    """A Ray cluster: the driver (this process) sends per-item work as Ray tasks and keeps every decision."""

    name = "ray"

    def __init__(self, address: str | None, workers: int):
        self.ray = import_ray()
        self.address = address or None
        self.requested = workers

    def start(self):
        """Join (or start) Ray once per process; a Ray the caller already started (a test, a notebook) is used as is."""
        ray = self.ray
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False,
                                      "include_dashboard": False, "configure_logging": False}
            if self.address:
                kwargs["address"] = self.address
                kwargs.pop("include_dashboard")
            else:  # a private Ray of [build] workers CPUs, even when RAY_ADDRESS or a 'ray start' cluster exists
                kwargs.update(address="local", num_cpus=self.requested)
            # workers are started with this process's interpreter and environment, so they import builder from
            # the same place (an editable install, a PYTHONPATH); a cluster's nodes need builder installed (docs/ray.md)
            import signal
            import threading

            main = threading.current_thread() is threading.main_thread()
            sigterm = signal.getsignal(signal.SIGTERM) if main else None  # ray.init installs its own; ours decides
            for attempt in (1, 2):
                try:
                    ray.init(**kwargs)
                    if main and sigterm is not None:
                        signal.signal(signal.SIGTERM, sigterm)  # the CLI's: exit 143, previous output kept
                    break
                except SystemExit as exc:  # SIGTERM while Ray starts: ray.init's handler exits; the CLI's should
                    if exc.code == signal.SIGTERM and callable(sigterm):
                        signal.signal(signal.SIGTERM, sigterm)
                        ray.shutdown()
                        sigterm(signal.SIGTERM, None)
                    raise
                except ConnectionError as exc:
                    raise ConfigError(f"ray: cannot join the cluster at {self.address!r}: {_first_line(exc)}") from None
                except Exception as exc:  # noqa: BLE001 - Ray's own start-up (a raylet that missed its 30 s on a loaded machine)
                    ray.shutdown()
                    if attempt == 2 or self.address:
                        raise ConfigError(f"ray: could not start Ray on this machine (tried twice): {_first_line(exc)}") from None
        return ray

    @property
    def workers(self) -> int:
        ray = self.start()
        return max(1, int(ray.cluster_resources().get("CPU", 1)))  # the whole cluster, not what is idle now

    def map(self, func: Callable, items: Iterable, batch_size: int, timeout: float = 0.0,
            on_error: Callable[[TaskFailed], Any] | None = None) -> Iterator[Any]:
        """``func(item)`` or ``on_error(TaskFailed)`` per item, in order.

        The input is read ``batch_size`` items at a time, exactly as the local pool reads it: a stage that
        rejects while it reads (an unreadable line of a JSON Lines file) interleaves those rejects with the
        workers' results in the same order, so the shards are the same row for row. Each batch goes out as
        a few Ray tasks per CPU of the cluster."""
        ray = self.start()
        cpus = self.workers
        task = _remote(ray, "chunk", _ray_chunk, max_retries=RAY_TASK_RETRIES, num_cpus=1)
        fref = ray.put(func)
        it = iter(items)
        refs: list = []
        try:
            while True:
                batch = list(itertools.islice(it, batch_size))
                if not batch:
                    break
                size = max(1, len(batch) // (cpus * 4))
                chunks = [batch[i:i + size] for i in range(0, len(batch), size)]
                refs = [task.remote(fref, chunk, timeout) for chunk in chunks]
                for k, chunk in enumerate(chunks):
                    outcomes = self._get(ray, refs[k], timeout * len(chunk) + GRACE if timeout > 0 else None)
                    # fetched: never cancelled below. A consumer that stops pulling after the last item (export's
                    # zip) left the generator suspended with every ref of its batch still listed, and cancelling
                    # finished tasks with force trips Ray 2.60's CHECK "Tried to complete task that was not
                    # pending", which aborts the driver (docs/ray.md)
                    refs[k] = None
                    if outcomes is None:
                        outcomes = list(self._isolate(ray, fref, chunk, timeout))
                    for item, outcome in zip(chunk, outcomes):
                        yield _resolve(item, outcome, on_error)
                refs = []
        finally:
            for ref in refs:  # stopped early (an error, Ctrl-C): nothing of ours keeps running
                if ref is not None:
                    ray.cancel(ref, force=True)

    def _get(self, ray, ref, timeout: float | None) -> list | None:
        """A task's outcomes, or None when its worker died on every retry (or it hung in C code)."""
        from ray.exceptions import GetTimeoutError, RayError

        try:
            return ray.get(ref, timeout=timeout)
        except GetTimeoutError:
            ray.cancel(ref, force=True)
            return None
        except RayError:  # worker crashed (after Ray's retries), object lost, node died
            return None

    def _isolate(self, ray, fref, chunk: list, timeout: float) -> Iterator[tuple[str, Any]]:
        """Each item of a failed chunk as its own task: only the item that kills its worker again fails."""
        from ray.exceptions import GetTimeoutError, RayError

        task = _remote(ray, "chunk", _ray_chunk, max_retries=RAY_TASK_RETRIES, num_cpus=1)
        refs = [task.remote(fref, [item], timeout) for item in chunk]
        for ref in refs:
            try:
                yield ray.get(ref, timeout=timeout + GRACE if timeout > 0 else None)[0]
            except GetTimeoutError:
                ray.cancel(ref, force=True)
                yield "timeout", f"no result after {timeout + GRACE:g} s; its Ray task was cancelled"
            except RayError as exc:
                yield "worker_died", (f"its Ray worker died while processing it ({type(exc).__name__}); it was retried "
                                      f"{RAY_TASK_RETRIES} times alone and died again")

    def pool(self, setup: Callable[[], None] | None = None) -> "RayPool":
        """Ray starts its workers itself: ``setup`` is not run (a task that needs what it prepares does it at first use)."""
        return RayPool(self)


class RayPool:
    """The Ray form of :class:`builder.workers.WorkerPool`: ``mapper(ahead)`` is an ordered map with at most
    ``ahead`` Ray tasks in flight and no round barrier. A task whose worker died on every retry raises
    :class:`TaskError` (as a dead local worker does)."""

    def __init__(self, executor: RayExecutor):
        self.executor = executor
        self.ray = executor.start()
        self.cpus = executor.workers

    def __enter__(self) -> "RayPool":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        return None

    def mapper(self, ahead: int) -> Callable[[Callable, Iterable], Iterator]:
        ray = self.ray
        ahead = max(ahead, 2 * self.cpus + 1)
        task = _remote(ray, "call", _ray_call, max_retries=RAY_TASK_RETRIES, num_cpus=1)

        def mapper(func: Callable, items: Iterable) -> Iterator:
            from ray.exceptions import RayError

            fref = ray.put(func)
            pending: deque = deque()

            def take():
                try:
                    return ray.get(pending.popleft())
                except RayError as exc:
                    raise TaskError(f"a Ray task failed after {RAY_TASK_RETRIES} retries ({type(exc).__name__}: "
                                    f"{str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''})") from None

            try:
                for item in items:
                    pending.append(task.remote(fref, item))
                    if len(pending) >= ahead:
                        yield take()
                while pending:
                    yield take()
            finally:
                for ref in pending:
                    ray.cancel(ref, force=True)

        return mapper


def executor_for(build) -> LocalExecutor | RayExecutor:
    """The executor a build asked for (``[build] executor``, overridden by ``builder run --executor``)."""
    b = build.settings["build"]
    kind = b.get("executor", "local")
    if kind == "ray":
        key = (b.get("ray_address") or "", build.workers)
        cached = _EXECUTORS.get(key)
        if cached is None:
            cached = _EXECUTORS[key] = RayExecutor(b.get("ray_address") or None, build.workers)
        return cached
    return LocalExecutor(build.workers)


_EXECUTORS: dict[tuple, RayExecutor] = {}


def check(build) -> None:
    """Fail early, in one line, when the build asks for Ray and the extra is not installed."""
    if build.settings["build"].get("executor", "local") == "ray":
        import_ray()


__all__ = ["EXECUTORS", "LocalExecutor", "RayExecutor", "RayPool", "executor_for", "check"]
