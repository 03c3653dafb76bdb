"""PDF extraction time: builder's page-aware reader (+ cleaning) against raw pypdf, same files, same process.

    python bench/pdf_extraction.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pypdf import PdfReader

from _common import REALDATA, ROOT
from builder.config import parse_config
from builder.stages.corpus.clean import Cleaner
from builder.stages.corpus.extract import RawDoc, read_pdf


def raw_pypdf(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    files = sorted((REALDATA / "pdf").glob("*.pdf")) if REALDATA.is_dir() else []
    files.append(ROOT / "corpora" / "demo" / "pdf" / "media_handbook.pdf")
    settings = parse_config("[build]\n", Path("bench.toml")).stage("corpus")["clean"]
    cleaner = Cleaner(settings)
    totals = {"pypdf": 0.0, "builder_extract": 0.0, "builder_extract_clean": 0.0}
    print(f"{'file':45} {'pages':>5} {'pypdf s':>8} {'builder s':>9} {'+clean s':>8} {'ratio':>6}")
    for f in files:
        t = {k: 0.0 for k in totals}
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            raw_pypdf(f)
            t1 = time.perf_counter()
            doc = read_pdf(f.read_bytes())[0]
            t2 = time.perf_counter()
            cleaner(RawDoc(text=doc.text), {})
            t3 = time.perf_counter()
            t["pypdf"] += t1 - t0
            t["builder_extract"] += t2 - t1
            t["builder_extract_clean"] += t3 - t1
        for k in totals:
            totals[k] += t[k]
        print(f"{f.name:45} {doc.meta['pages']:>5} {t['pypdf'] / args.repeat:8.3f} {t['builder_extract'] / args.repeat:9.3f} "
              f"{t['builder_extract_clean'] / args.repeat:8.3f} {t['builder_extract'] / t['pypdf']:6.2f}")
    print(f"total: builder/pypdf = {totals['builder_extract'] / totals['pypdf']:.3f} (extract), "
          f"{totals['builder_extract_clean'] / totals['pypdf']:.3f} (extract + clean)")


if __name__ == "__main__":
    main()
