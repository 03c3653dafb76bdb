"""Sample items of a templates build for reading: a uniform sample and one item per sub-category.

Both samples are seeded by item id (the same build gives the same sample, and an item kept by a rebuild
stays sampled, so judgments carry over by key: ``--judged`` pre-fills them). Writes a CSV to judge (key, sample,
family, subcategory, instruction, input, output, verdict, reason) and a Markdown file to read; the
reader fills verdict (good / weak / poor, by ../shared/QUALITY.md) and a reason of at most 20 words,
then ``shares.py`` prints the shares.

    python bench/quality/sample.py --build out/quality --uniform 60     # -> out/quality/sample.csv and .md
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import polars as pl
import xxhash

from builder.shards import shard_files


def load_items(build: Path) -> pl.DataFrame:
    files = shard_files(build / "templates" / "data")
    if not files:
        raise SystemExit(f"{build}/templates/data: no items (run 'builder run templates -c bench/quality/build.toml')")
    return pl.concat([pl.read_parquet(f) for f in files]).sort("id")


def rank(seed: int, item_id: str) -> int:
    """A seeded hash of the item id: the sample is the items with the smallest ranks, so an item that survives a
    rebuild stays in the sample (judgments carry over by key) and only new items need reading."""
    return xxhash.xxh3_64_intdigest(f"{seed}:{item_id}".encode())


def samples(df: pl.DataFrame, uniform: int, seed: int) -> list[tuple[str, dict]]:
    rows = sorted(df.to_dicts(), key=lambda r: rank(seed, r["id"]))
    out = [("uniform", r) for r in rows[:uniform]]
    first: dict[str, dict] = {}
    for r in rows:
        first.setdefault(r["subcategory"], r)
    out += [("per_subcategory", first[sub]) for sub in sorted(first)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="out/quality")
    ap.add_argument("--uniform", type=int, default=60)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--judged", help="an earlier judgments CSV: verdicts of items still sampled are carried over")
    ap.add_argument("--out", default="out/quality/sample", help="CSV to fill and Markdown to read; outside the repo, since items quote ../shared texts")
    args = ap.parse_args()
    picked = samples(load_items(Path(args.build)), args.uniform, args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    judged: dict[str, tuple[str, str]] = {}
    if args.judged:
        for row in csv.DictReader(open(args.judged, encoding="utf-8")):
            judged[row["key"]] = (row["verdict"], row["reason"])
    with open(out.with_suffix(".csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["key", "sample", "family", "subcategory", "verdict", "reason"])
        for kind, r in picked:
            w.writerow([r["id"], kind, r["family"], r["subcategory"], *judged.get(r["id"], ("", ""))])
    with open(out.with_suffix(".md"), "w", encoding="utf-8") as f:
        for i, (kind, r) in enumerate(picked, 1):
            f.write(f"## {i}. {r['id']} [{kind}] {r['family']} / {r['subcategory']}\n\n**instruction** {r['instruction']}\n\n"
                    f"**input**\n\n{r['input'] or '(none)'}\n\n**output**\n\n{r['output']}\n\n---\n\n")
    print(f"{sum(r['id'] in judged for _, r in picked)} carried over; {len(picked)} items ({sum(k == 'uniform' for k, _ in picked)} uniform, "
          f"{sum(k != 'uniform' for k, _ in picked)} one per sub-category) -> {out.with_suffix('.csv')}, {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
