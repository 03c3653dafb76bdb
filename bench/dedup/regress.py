"""Same outputs before and after a speed change: the engine's decisions on fixed corpora, saved and compared.

Runs :class:`builder.text.minhash.MinHashDeduper` with the dedup stage's defaults (keep earliest) on
the demo corpus (its corpus-stage shard), the Sohu 2021 pairs (all texts as one corpus) and generated
news (``bench/dedup/generate.py``, 20,000 documents by default), and records for every corpus the
verified pairs (rows, Jaccard, containment, match, rounded to 6 places), the clusters, the keeper,
match and container of every row, the measures reported for each removal, and the pass counters.

    python bench/dedup/regress.py --save bench/out/dedup/regress-before.json     # on the old code
    python bench/dedup/regress.py --check bench/out/dedup/regress-before.json    # on the new code: exit 1 on any difference

The demo shard is read from ``--demo`` (default: ``out/demo/corpus/data`` of this checkout, else of
``/work/main``); build it with ``builder run corpus -c corpora/demo/build.toml``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out" / "dedup"
REALDATA = ROOT.parent / "shared" / "realdata"


def corpora(args) -> dict[str, list[str]]:
    sys.path.insert(0, str(Path(__file__).parent))
    from generate import generate

    out: dict[str, list[str]] = {}
    demo = Path(args.demo) if args.demo else next((p for p in (ROOT / "out/demo/corpus/data", Path("/work/main/out/demo/corpus/data"))
                                                  if p.exists()), None)
    if demo is not None and demo.exists():
        out["demo"] = pl.read_parquet(demo / "*.parquet", columns=["text"])["text"].fill_null("").to_list()
    else:
        print("demo corpus shard not found: skipped (build it with `builder run corpus -c corpora/demo/build.toml`)")
    sohu = REALDATA / "dedup_pairs" / "sohu2021_dd_test.jsonl"
    if sohu.exists():
        rows = [json.loads(line) for line in sohu.read_text(encoding="utf-8").splitlines()]
        out["sohu"] = [t for r in rows for t in (r["sentence1"], r["sentence2"])]
    for n in args.docs:
        path = OUT / f"news_{n}_s0.parquet"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            generate(n, 0).write_parquet(path)
        out[f"news_{n}"] = pl.read_parquet(path, columns=["text"])["text"].to_list()
    return out


def decisions(texts: list[str]) -> dict:
    from builder.text.minhash import MinHashDeduper, MinHashSettings

    dd = MinHashDeduper(MinHashSettings(), batch_size=256)
    try:
        batches = [texts[i : i + 5000] for i in range(0, len(texts), 5000)]
        try:  # as the dedup stage sends them (older checkouts: lists of str)
            from builder.text.minhash.sketch import Utf8Batch

            batches = [Utf8Batch.from_series(pl.Series(b, dtype=pl.String)) for b in batches]
        except ImportError:
            pass
        dd.add(batches)
        cl = dd.cluster()
        res = dd.resolve(cl, "earliest")
        sims = dd.removal_measures(cl, res)
    finally:
        dd.close()
    p = cl.pairs
    order = np.lexsort((p.b, p.a))
    r6 = lambda x: [round(float(v), 6) for v in x]  # noqa: E731
    return {
        "pairs": [[int(p.a[k]), int(p.b[k]), round(float(p.jaccard[k]), 6), round(float(p.containment[k]), 6), p.match[k]]
                  for k in order.tolist()],
        "labels": cl.labels.tolist(),
        "keeper": res.keeper.tolist(),
        "match": res.match,
        "via": res.via.tolist(),
        "removed_measures": [r6(row) for row in sims.tolist()],
        "stats": {k: v for k, v in cl.stats.items() if k != "candidate_pairs_skipped_by_estimate"},
        "seconds": dict(dd.seconds),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, nargs="*", default=[20000])
    ap.add_argument("--demo", default=None)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--save")
    g.add_argument("--check")
    args = ap.parse_args()
    got = {}
    for name, texts in corpora(args).items():
        t0 = time.perf_counter()
        got[name] = decisions(texts)
        print(f"{name}: {len(texts)} texts, {len(got[name]['pairs'])} verified pairs, "
              f"{sum(1 for m in got[name]['match'] if m != 'kept')} removed, {time.perf_counter() - t0:.1f} s "
              f"{ {k: round(v, 2) for k, v in got[name]['seconds'].items()} }", flush=True)
    if args.save:
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        Path(args.save).write_text(json.dumps(got))
        print(f"saved {args.save}")
        return
    ref = json.loads(Path(args.check).read_text())
    bad = 0
    for name, mine in got.items():
        if name not in ref:
            print(f"{name}: not in the reference")
            continue
        for key in ("pairs", "labels", "keeper", "match", "via", "removed_measures", "stats"):
            a, b = ref[name][key], mine[key]
            if a != b:
                bad += 1
                if isinstance(a, list) and isinstance(b, list):
                    diff = [k for k in range(min(len(a), len(b))) if a[k] != b[k]]
                    print(f"{name}.{key}: DIFFERENT (lengths {len(a)} vs {len(b)}; {len(diff)} entries differ, "
                          f"first: {[(a[k], b[k]) for k in diff[:3]]})")
                else:
                    print(f"{name}.{key}: DIFFERENT {a} vs {b}")
        print(f"{name}: {'same' if not bad else 'checked'}")
    print("identical" if not bad else f"{bad} differences")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
