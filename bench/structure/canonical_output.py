"""Canonical form of a stage's data/ and rejected/: rows as sorted JSON lines, written to PREFIX.data.jsonl and
PREFIX.rejected.jsonl, with a sha256 of each printed; two builds gave the same output when the files match.

    PYTHONPATH=. python bench/structure/canonical_output.py out/demo/corpus /tmp/before
"""
import hashlib
import json
import sys
from pathlib import Path

import polars as pl

root = sys.argv[1]
for part in ("data", "rejected"):
    df = pl.read_parquet(f"{root}/{part}")
    rows = sorted(json.dumps(r, ensure_ascii=False, sort_keys=True, default=str) for r in df.iter_rows(named=True))
    text = "\n".join(rows)
    Path(f"{sys.argv[2]}.{part}.jsonl").write_text(text, encoding="utf-8")
    print(part, df.height, hashlib.sha256(text.encode()).hexdigest())
