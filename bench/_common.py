"""Shared bench helpers: run a command and sample the peak RSS of its whole process tree."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
REALDATA = ROOT.parent / "shared" / "realdata"


def run_measured(cmd: list[str], **kw) -> tuple[float, int, int]:
    """Run cmd; return (seconds, peak PSS of the process tree in bytes, return code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        try:
            p = psutil.Process(proc.pid)
            while not stop.is_set():
                try:
                    # PSS: forked workers share the parent's pages; summing RSS would count them twice
                    total = sum(q.memory_full_info().pss for q in [p, *p.children(recursive=True)])
                    peak = max(peak, total)
                except psutil.Error:
                    pass
                time.sleep(0.05)
        except psutil.Error:
            pass

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    stop.set()
    t.join()
    if proc.returncode:
        sys.stderr.write(err.decode(errors="replace")[-2000:])
    return time.perf_counter() - t0, peak, proc.returncode


def builder_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "builder.cli", *args]
