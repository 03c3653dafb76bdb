"""What the lock, the fsyncs and the shard verification cost on the demo build (the goal: under 5%).

Runs `builder run all --force` on the bundled demo in this process, alternating a normal build with
one where those safeguards are switched off (fsync a no-op, no lock, no shard table or damage check),
and prints the median of each and their ratio.

    python bench/reliability/overhead.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]


def build_once(out: Path) -> float:
    from builder import pipeline
    from builder.config import load_config

    build = load_config(ROOT / "corpora" / "demo" / "build.toml", out)
    t0 = time.perf_counter()
    for _ in pipeline.run(build, "all", force=True):
        pass
    return time.perf_counter() - t0


def without_safeguards():
    from builder import pipeline
    from builder.manifest import Manifest

    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch.object(os, "fsync", lambda fd: None))
    stack.enter_context(mock.patch.object(pipeline, "build_lock", lambda output, command=None: contextlib.nullcontext()))
    stack.enter_context(mock.patch.object(pipeline, "verified_shards", lambda folder, name, rows: {}))
    stack.enter_context(mock.patch.object(Manifest, "damage", lambda self, folder, verify=False: None))
    return stack


def timed_parts(out: Path) -> tuple[float, float]:
    """(seconds of the whole build, seconds spent inside the safeguards), measured in the same build."""
    from builder import lock, pipeline, shards
    from builder.manifest import Manifest

    spent = [0.0]

    def timer(fn):
        def wrapped(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[0] += time.perf_counter() - t0
        return wrapped

    real_fsync = os.fsync
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(os, "fsync", timer(real_fsync)))
        stack.enter_context(mock.patch.object(pipeline, "verified_shards", timer(pipeline.verified_shards)))
        stack.enter_context(mock.patch.object(Manifest, "damage", timer(Manifest.damage)))
        stack.enter_context(mock.patch.object(pipeline, "build_lock", timer(lock.build_lock)))
        total = build_once(out)
    return total, spent[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    with_s, without_s = [], []
    with tempfile.TemporaryDirectory() as tmp:
        build_once(Path(tmp) / "warm")  # imports, jieba dictionaries, page cache
        for k in range(args.rounds):
            with_s.append(build_once(Path(tmp) / f"with{k}"))
            with without_safeguards():
                without_s.append(build_once(Path(tmp) / f"without{k}"))
        direct = [timed_parts(Path(tmp) / f"timed{k}") for k in range(args.rounds)]
    a, b = statistics.median(with_s), statistics.median(without_s)
    print(f"demo build, {args.rounds} rounds each, alternating: with lock+fsync+verification median {a:.2f} s, "
          f"without {b:.2f} s: overhead {100 * (a / b - 1):+.1f}%")
    shares = [part / total for total, part in direct]
    print(f"time inside the safeguards (fsync calls, shard read-back, damage checks, lock), timed in the build itself: "
          f"median {100 * statistics.median(shares):.1f}% of the build (max {100 * max(shares):.1f}%)")


if __name__ == "__main__":
    main()
