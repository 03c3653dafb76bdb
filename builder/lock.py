"""One build at a time per output folder: an OS file lock held for the whole run.

Two ``builder run`` on one output would write the same stage folders and manifests; the second one
gets a one-line error naming the first instead. The lock is ``<output>/.lock`` (``filelock``: ``flock``
on POSIX, released by the OS when the holder dies, so a killed run never leaves a stale lock);
``<output>/.lock.json`` says who holds it, for the message.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from .errors import BuilderError

LOCK = ".lock"
HOLDER = ".lock.json"
TMP = ".tmp"


class BuildLocked(BuilderError):
    """Another process is building into the same output folder."""


def _holder(output: Path) -> str:
    try:
        info = json.loads((output / HOLDER).read_text(encoding="utf-8"))
        return f"pid {info['pid']}, since {info['started']}: {info['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextmanager
def build_lock(output: Path, command: str | None = None) -> Iterator[None]:
    """Hold the output folder's lock, or raise :class:`BuildLocked` at once (no waiting).

    While it is held, nothing else writes under ``output``: leftovers of killed runs in ``.tmp/`` are
    removed on entry."""
    output.mkdir(parents=True, exist_ok=True)
    lock = FileLock(output / LOCK, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BuildLocked(f"{output} is being built by another builder run ({_holder(output)}); "
                          "wait for it to finish or stop it, then run again") from None
    try:
        info = {"pid": os.getpid(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "command": command or " ".join(["builder", *sys.argv[1:]])}
        (output / HOLDER).write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        shutil.rmtree(output / TMP, ignore_errors=True)
        yield
    finally:
        shutil.rmtree(output / TMP, ignore_errors=True)
        (output / HOLDER).unlink(missing_ok=True)
        lock.release()
