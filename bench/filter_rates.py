"""Quality filters: the share of real articles each filter would drop, with the dropped ones named.

Articles: the 20 pages of ../shared/realdata/html (read and cleaned as the corpus stage does), the 166
SogouCA records of ../shared/realdata/encoding with text, and the bodies of bench/corpus/pages/*.txt. Each
filter is applied on its own to the cleaned text (not only the first that fires), so every filter's rate is
visible. Mappers that rescue text (markup, boilerplate, de-doubling) run first, as in the stage.

    python bench/filter_rates.py [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REALDATA = ROOT.parent / "shared" / "realdata"


def defaults() -> dict:
    schema = json.loads((ROOT / "schemas" / "config" / "corpus.schema.json").read_text(encoding="utf-8"))
    return {k: v["default"] for k, v in schema["properties"]["clean"]["properties"].items()}


def articles() -> list[tuple[str, object]]:
    from builder.stages.corpus.extract import RawDoc, UnreadableFile, read_html
    from builder.stages.corpus.records import iter_xml_records, record_to_raw

    out = []
    for p in sorted((ROOT / "bench" / "corpus" / "pages").glob("*.txt")):
        lines = p.read_text(encoding="utf-8").splitlines()
        out.append((f"own/{p.name}", RawDoc(text="\n".join(x[2:] for x in lines), format="html")))
    if REALDATA.is_dir():
        for p in sorted((REALDATA / "html").glob("*.html")):
            try:
                out.append((f"html/{p.name}", read_html(p.read_bytes())[0]))
            except UnreadableFile as exc:
                print(f"html/{p.name}: unreadable ({exc.reason})")
        for suffix, rec in iter_xml_records(REALDATA / "encoding" / "news_tensite_xml.smarty.gbk.dat"):
            raw = record_to_raw(rec, {}, "xmlrecords", suffix)
            if isinstance(raw, RawDoc):
                out.append((f"sogou{suffix}", raw))
    return out


def main() -> None:
    from builder.stages.corpus.clean import Cleaner
    from builder.text import quality

    ap = argparse.ArgumentParser()
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--max-dup-ngram-ratio", type=float, help="override the default (0.25 was the old one)")
    args = ap.parse_args()
    s = defaults()
    if args.max_dup_ngram_ratio is not None:
        s["max_dup_ngram_ratio"] = args.max_dup_ngram_ratio
    loose = dict(s, min_chars=0, max_chars=10**9, min_cjk_ratio=0, max_dup_line_ratio=1, max_dup_ngram_ratio=1, max_garbled_ratio=1)
    cleaner = Cleaner(loose)
    filters = {
        "dropped_too_short": lambda t: quality.check_length(t, s["min_chars"], s["max_chars"]),
        "dropped_cjk_ratio": lambda t: quality.check_cjk(t, s["min_cjk_ratio"]),
        "dropped_dup_lines": lambda t: quality.check_dup_lines(t, s["max_dup_line_ratio"]),
        "dropped_dup_ngrams": lambda t: quality.check_dup_ngrams(t, s["dup_ngram_n"], s["max_dup_ngram_ratio"]),
        "dropped_garbled": lambda t: quality.check_garbled(t, s["max_garbled_ratio"]),
    }
    docs = articles()
    hits: dict[str, list[str]] = {k: [] for k in filters}
    mapped: Counter = Counter()
    for name, raw in docs:
        counters: dict[str, int] = {}
        text, _ = cleaner(raw, counters)
        for k in ("dedoubled_body", "repeated_paragraphs_removed"):
            mapped[k] += counters.get(k, 0)
        for f, check in filters.items():
            verdict = check(text)
            if verdict:
                hits[f].append(f"{name}: {verdict[1]}")
    n = len(docs)
    print(f"{n} real articles (own pages, realdata html, SogouCA records); settings: max_dup_ngram_ratio "
          f"{s['max_dup_ngram_ratio']}, max_dup_line_ratio {s['max_dup_line_ratio']}, min_chars {s['min_chars']}")
    print(f"{'filter':22s} {'drops':>5s} {'share':>6s}")
    for f, rows in hits.items():
        print(f"{f:22s} {len(rows):5d} {len(rows) / n:6.1%}")
        if args.show:
            for r in rows[:10]:
                print("    " + r)
    print("rescued instead of dropped: " + ", ".join(f"{k} {v}" for k, v in mapped.items()))


if __name__ == "__main__":
    main()
