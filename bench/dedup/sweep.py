"""How the dedup defaults were chosen: precision / recall / F1 of the engine over a grid of settings.

Sketches the generated news once (``bench/dedup/generate.py``, same seed as bench.py), then re-runs
candidates, verification and decisions for each setting, and counts near (non-exact) merges per
label on the Sohu 2021 pairs (label 3 = same event, different article: should stay apart).

    python bench/dedup/sweep.py --docs 20000
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))

from bench import OUT, REALDATA, pairwise  # noqa: E402
from generate import generate  # noqa: E402

GRID = [
    {},
    {"threshold": 0.4},
    {"threshold": 0.6},
    {"threshold": 0.7},
    {"short_threshold": 0.5},
    {"short_threshold": 0.8},
    {"min_near_chars": 0},
    {"min_near_chars": 50},
    {"distinct_slots": False},
    {"containment_threshold": 0.7},
    {"containment_threshold": 0.9},
]


def sohu_near_merges(settings) -> dict[int, int]:
    from builder.text.minhash import find_duplicates

    path = REALDATA / "dedup_pairs" / "sohu2021_dd_test.jsonl"
    if not path.exists():
        return {}
    merged: dict[int, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        res = find_duplicates([r["sentence1"], r["sentence2"]], settings=settings)
        if any(m != "exact" for _, _, m in res.removed.values()):
            merged[r["label"]] = merged.get(r["label"], 0) + 1
    return merged


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from builder.text.minhash import MinHashDeduper, MinHashSettings

    corpus = OUT / f"news_{args.docs}_s{args.seed}.parquet"
    if not corpus.exists():
        corpus.parent.mkdir(parents=True, exist_ok=True)
        generate(args.docs, args.seed).write_parquet(corpus)
    df = pl.read_parquet(corpus, columns=["cluster", "text"])
    truth = df["cluster"].to_list()
    base = MinHashSettings()
    store = OUT / "sweep-store"
    shutil.rmtree(store, ignore_errors=True)
    dd = MinHashDeduper(base, store_dir=store)
    dd.add([df["text"].to_list()])
    rows = []
    for change in GRID:
        dd.s = replace(base, **change)
        res = dd.resolve(dd.cluster(), "earliest")
        row = {"setting": json.dumps(change) if change else "defaults", **pairwise(truth, res.keeper.tolist())}
        sohu = sohu_near_merges(dd.s)
        row.update({f"sohu_label{k}_near_merges": sohu.get(k, 0) for k in (0, 3, 5)})
        rows.append(row)
        print(json.dumps(row), flush=True)
    dd.close()
    with pl.Config(tbl_rows=50, tbl_cols=20, tbl_width_chars=200):
        print(pl.DataFrame(rows).drop("true_pairs", "found_pairs"))


if __name__ == "__main__":
    main()
