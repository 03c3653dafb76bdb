"""Shares of good / weak / poor in a judgments CSV (from sample.py, filled by a reader), per sample and per family,
per corpus source when the build is at hand, and the most common failure reasons with example keys.

    python bench/quality/shares.py bench/quality/judgments.csv [--build out/quality]
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

VERDICTS = ("good", "weak", "poor")


def table(title: str, groups: dict[str, Counter]) -> None:
    print(f"\n{title}")
    print(f"{'':<28}{'n':>4}  " + "  ".join(f"{v:>6}" for v in VERDICTS))
    for name, c in groups.items():
        n = sum(c.values())
        print(f"{name:<28}{n:>4}  " + "  ".join(f"{c[v] / n:>6.0%}" for v in VERDICTS))


def sources(build: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        import polars as pl

        from builder.shards import shard_files
    except ImportError:
        return out
    for f in shard_files(build / "templates" / "data"):
        for r in pl.read_parquet(f, columns=["id", "meta"]).iter_rows(named=True):
            out[r["id"]] = json.loads(r["meta"]).get("source") or ""
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("judgments")
    ap.add_argument("--build", default="out/quality", help="the build the sample came from (for shares per source)")
    args = ap.parse_args()
    rows = list(csv.DictReader(open(args.judgments, encoding="utf-8")))
    unjudged = [r["key"] for r in rows if r["verdict"] not in VERDICTS]
    if unjudged:
        raise SystemExit(f"{len(unjudged)} rows have no verdict (good/weak/poor), e.g. {unjudged[0]}")
    for sample in ("uniform", "per_subcategory"):
        part = [r for r in rows if r["sample"] == sample]
        if not part:
            continue
        groups: dict[str, Counter] = {"all": Counter(r["verdict"] for r in part)}
        for fam in sorted({r["family"] for r in part}):
            groups[fam] = Counter(r["verdict"] for r in part if r["family"] == fam)
        src = sources(Path(args.build))
        if src and all(r["key"] in src for r in part):
            for s in sorted({src[r["key"]] for r in part}):
                groups[f"source: {s}"] = Counter(r["verdict"] for r in part if src[r["key"]] == s)
        table(f"## {sample} sample ({len(part)} items)", groups)
    failures: dict[str, list[str]] = defaultdict(list)
    by_key = {}
    for r in rows:
        if r["verdict"] != "good" and r["key"] not in by_key:
            by_key[r["key"]] = r
            failures[r["subcategory"]].append(f"{r['key'][:10]} ({r['verdict']}): {r['reason']}")
    print("\n## not good, by sub-category (distinct items)")
    for sub, items in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"{sub} ({len(items)})")
        for line in items[:3]:
            print(f"  {line}")


if __name__ == "__main__":
    main()
