"""Seconds from a signal to the exit of `builder run corpus` on a 30,000-document corpus, mid-stage.

The signal goes to the whole process group, as a terminal's Ctrl-C does. Each try starts a fresh run,
waits until the stage has written its first shard (workers busy), sends the signal and times the exit;
it also checks the exit code, the stderr line and that no worker outlives the run.

    python bench/reliability/interrupt.py [--docs 30000] [--tries 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ARTICLE  # noqa: E402  - a realistic short news report


def make_corpus(folder: Path, n: int) -> Path:
    docs = folder / "docs"
    docs.mkdir(parents=True)
    for i in range(n):
        (docs / f"a{i:06d}.txt").write_text(ARTICLE.replace("三条", f"{i + 3}条").replace("48公里", f"{i % 97 + 10}公里"), encoding="utf-8")
    cfg = folder / "build.toml"
    cfg.write_text('[build]\nname = "interrupt"\noutput = "out"\nworkers = 2\n\n[[corpus.sources]]\nname = "docs"\npath = "docs"\n', encoding="utf-8")
    return cfg


def one_try(cfg: Path, sig: int) -> dict:
    out = cfg.parent / "out"
    proc = subprocess.Popen([sys.executable, "-m", "builder.cli", "run", "corpus", "-c", str(cfg), "--force"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    while not any((out / ".tmp").glob("corpus-*/data/part-*.parquet")):
        if proc.poll() is not None:
            raise SystemExit(f"the run ended before the signal: {proc.stderr.read()}")
        time.sleep(0.01)
    workers = psutil.Process(proc.pid).children(recursive=True)
    t0 = time.monotonic()
    os.killpg(proc.pid, sig)
    _, err = proc.communicate()
    seconds = time.monotonic() - t0
    _, alive = psutil.wait_procs(workers, timeout=5)
    return {"seconds": seconds, "code": proc.returncode, "line": err.strip().splitlines()[-1] if err.strip() else "",
            "workers": len(workers), "workers_left": len(alive)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=30000)
    ap.add_argument("--tries", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = make_corpus(Path(tmp), args.docs)
        subprocess.run([sys.executable, "-m", "builder.cli", "run", "corpus", "-c", str(cfg)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)  # a complete output that the interrupted runs must leave in place
        for name, sig in (("SIGINT", signal.SIGINT), ("SIGTERM", signal.SIGTERM)):
            tries = [one_try(cfg, sig) for _ in range(args.tries)]
            secs = [t["seconds"] for t in tries]
            print(f"{name}: {args.docs:,} documents, {args.tries} tries: median {statistics.median(secs):.2f} s, max {max(secs):.2f} s "
                  f"from the signal to the exit; exit codes {sorted({t['code'] for t in tries})}; "
                  f"workers left {sum(t['workers_left'] for t in tries)} of {sum(t['workers'] for t in tries)}; "
                  f"last line: {tries[-1]['line']!r}")
        rows = subprocess.run([sys.executable, "-m", "builder.cli", "status", "-c", str(cfg)], cwd=ROOT, capture_output=True, text=True).stdout
        print("after the interrupts, status:", "done" if " done " in rows else rows)


if __name__ == "__main__":
    main()
