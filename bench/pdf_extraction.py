"""PDF extraction: builder's page-aware reader (+ cleaning) against raw pypdf, same files, same process.

Per file: characters, Han share and CPU seconds of raw pypdf and of builder's reader (with and without the
table/chart step interleaved, for the ratio in the total); the tables and chart-residue
lines the reader found (pdf_layout.py); and the cost of the layout scan alone (PDFium text boxes -> rows)
against pdfminer.six's layout analysis, the peer that gives positioned text lines. Files: ../shared/realdata/pdf,
the demo handbook, and the layout fixtures of bench/pdf_layout_fixtures.py (two side-by-side tables and a bar
chart), for which the table rows and chart residue are also checked.

    python bench/pdf_extraction.py [--repeat 5]   # seconds: CPU seconds, best of the repeats
"""

from __future__ import annotations

import argparse
import io
import time
from collections import Counter
from pathlib import Path

from _common import REALDATA, ROOT
from pypdf import PdfReader

from builder.config import parse_config
from builder.stages.corpus import extract as extract_mod
from builder.stages.corpus.clean import Cleaner
from builder.stages.corpus.extract import RawDoc, read_pdf
from builder.stages.corpus.pdf import counted_warnings
from builder.text.normalize import cjk_ratio

FIXTURES = ROOT / "tests" / "fixtures" / "pdf"


def raw_pypdf(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def layout_scan(data: bytes) -> int:
    import pypdfium2 as pdfium

    from builder.stages.corpus.pdf_layout import page_rows

    pdf = pdfium.PdfDocument(data)
    n = 0
    try:
        for page in pdf:
            n += len(page_rows(page))
            page.close()
    finally:
        pdf.close()
    return n


def pdfminer_layout(data: bytes) -> int:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    return sum(1 for layout in extract_pages(io.BytesIO(data)) for el in layout if isinstance(el, LTTextContainer))


def timed(fn, repeat: int):
    """CPU seconds, best of ``repeat`` runs: the machine is shared, and the minimum is the least disturbed."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return out, best


def with_and_without(data: bytes, repeat: int):
    """The reader with and without the table/chart step, interleaved, CPU seconds, best of ``repeat``."""
    with_layout = extract_mod.place_tables
    on = off = float("inf")
    doc = None
    try:
        for _ in range(repeat):
            extract_mod.place_tables = with_layout
            t0 = time.process_time()
            doc = read_pdf(data)[0]
            on = min(on, time.process_time() - t0)
            extract_mod.place_tables = lambda data, pages, *a, **k: pages  # the reader before tables/charts
            t0 = time.process_time()
            read_pdf(data)
            off = min(off, time.process_time() - t0)
    finally:
        extract_mod.place_tables = with_layout
    return doc, on, off


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    files = sorted((REALDATA / "pdf").glob("*.pdf")) if REALDATA.is_dir() else []
    files.append(ROOT / "corpora" / "demo" / "pdf" / "media_handbook.pdf")
    files += sorted(FIXTURES.glob("*.pdf"))
    settings = parse_config("[build]\n", Path("bench.toml")).stage("corpus")["clean"]
    cleaner = Cleaner(settings)
    totals = Counter()
    print(f"{'file':36} {'pages':>5} {'pypdf chars':>11} {'Han':>5} {'s':>6} {'builder chars':>13} {'Han':>5} {'s':>6} "
          f"{'w/o step s':>10} {'+clean s':>8} {'ratio':>5} {'tables':>6} {'rows':>4} {'residue':>7} {'scan s':>6} {'pdfminer s':>10}")
    for f in files:
        data = f.read_bytes()
        raw, t_raw = timed(lambda data=data: raw_pypdf(data), args.repeat)
        doc, t_b, t_off = with_and_without(data, args.repeat)
        _, t_c = timed(lambda data=data: cleaner(RawDoc(text=read_pdf(data)[0].text), Counter()), args.repeat)
        _, t_scan = timed(lambda data=data: layout_scan(data), args.repeat)
        with counted_warnings(totals):  # pdfminer's font warnings: counted, not printed
            _, t_miner = timed(lambda data=data: pdfminer_layout(data), max(1, args.repeat // 2))
        c = doc.meta.get("_counts", {})
        totals.update({"pypdf": t_raw, "builder": t_b, "off": t_off, "clean": t_c, "scan": t_scan, "pdfminer": t_miner})
        print(f"{f.name[:36]:36} {doc.meta['pages']:>5} {len(raw):>11} {cjk_ratio(raw):5.2f} {t_raw:6.3f} {len(doc.text):>13} "
              f"{cjk_ratio(doc.text):5.2f} {t_b:6.3f} {t_off:10.3f} {t_c:8.3f} {t_b / t_raw:5.2f} {c.get('pdf_tables', 0):>6} "
              f"{c.get('pdf_table_rows', 0):>4} {c.get('pdf_chart_residue_lines', 0):>7} {t_scan:6.3f} {t_miner:10.3f}")
    print(f"total: builder/pypdf = {totals['builder'] / totals['pypdf']:.3f} (extract), without the table/chart step "
          f"{totals['off'] / totals['pypdf']:.3f}; the step costs {totals['builder'] / totals['off']:.2f}x the reader without it; "
          f"{totals['clean'] / totals['pypdf']:.3f} (extract + clean); layout scan {totals['scan']:.3f} s "
          f"= {totals['scan'] / totals['pypdf']:.2f}x pypdf, pdfminer layout {totals['pdfminer']:.3f} s "
          f"= {totals['pdfminer'] / totals['scan']:.1f}x the scan")
    # the layout fixtures: what the reader kept and dropped
    try:
        import sys

        sys.path.insert(0, str(ROOT / "bench"))
        from pdf_layout_fixtures import LEFT, PROSE, RIGHT, TICKS, YEARS
    except ImportError:
        return
    for f in sorted(FIXTURES.glob("*.pdf")):
        for mode in ("rows", "drop"):
            doc = read_pdf(f.read_bytes(), tables=mode)[0]
            lines = doc.text.split("\n")
            rows = [" | ".join(r) for r in LEFT + RIGHT]
            kept_rows = sum(1 for r in rows if r in lines)
            residue = sum(1 for t in TICKS + YEARS if t in lines or any(line.startswith(t + " ") for line in lines))
            flat = "".join(doc.text.split())
            prose = sum(1 for p in PROSE if "".join(p.split()) in flat)
            print(f"{f.name} tables={mode}: table rows kept as lines {kept_rows}/{len(rows)}; axis labels left {residue}/"
                  f"{len(TICKS + YEARS)}; prose paragraphs whole {prose}/{len(PROSE)}")


if __name__ == "__main__":
    main()
