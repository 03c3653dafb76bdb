"""Extraction quality on ../shared/realdata/html/: builder's settings against trafilatura's defaults.

For each page, bench/extraction_expected.toml holds the headline and the first and last sentence of
the article body, written by hand. Scores per extractor: title exact match (as extracted, and after
folding width/punctuation with builder.text.normalize.compare_form), and body coverage: the first
sentence found, the last sentence found, both found (matching after compare_form, so quote styles
and spaces do not count).

    python bench/extraction_quality.py [--heldout-dir DIR | --written]

``--heldout-dir DIR`` scores the held-out pages instead (never used to tune the rules; expectations in
bench/heldout_expected.toml, pages read from DIR; skipped when DIR is absent).
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HTML = ROOT.parent / "shared" / "realdata" / "html"
EXPECTED = Path(__file__).with_name("extraction_expected.toml")
HELDOUT_EXPECTED = Path(__file__).with_name("heldout_expected.toml")
WRITTEN = Path(__file__).parent / "corpus" / "pages_written"


def builder_extract(data: bytes) -> tuple[str | None, str]:
    """What the crawler and the html reader do: charset, trafilatura with builder's settings."""
    from builder.stages.corpus.crawl_feeds import decode_html
    from builder.stages.corpus.extract import extract_html

    html, _ = decode_html(data, "text/html")
    raw = extract_html(html)
    return (raw.title, raw.text) if raw else (None, "")


def builder_cleaned(data: bytes) -> tuple[str | None, str]:
    """The stored document: extraction, then the corpus cleaning chain (boilerplate, normalisation)."""
    from collections import Counter

    from builder.stages.corpus.crawl_feeds import decode_html
    from builder.stages.corpus.extract import extract_html

    html, _ = decode_html(data, "text/html")
    raw = extract_html(html)
    if raw is None:
        return None, ""
    cleaner = _cleaner()
    text, _ = cleaner(raw, Counter())
    return cleaner.clean_field(raw.title), text


_C = {}


def _cleaner():
    if "c" not in _C:
        import json

        from builder.stages.corpus.clean import Cleaner

        schema = json.loads((ROOT / "schemas" / "config" / "corpus.schema.json").read_text(encoding="utf-8"))
        defaults = {k: v["default"] for k, v in schema["properties"]["clean"]["properties"].items()}
        _C["c"] = Cleaner(defaults)
    return _C["c"]


def trafilatura_defaults(data: bytes) -> tuple[str | None, str]:
    import trafilatura

    doc = trafilatura.bare_extraction(data, with_metadata=True)
    if doc is None:
        return None, ""
    d = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    return d.get("title"), d.get("text") or ""


def main() -> None:
    import argparse

    from builder.text.normalize import compare_form

    ap = argparse.ArgumentParser()
    ap.add_argument("--heldout-dir", type=Path, help="score the held-out pages in this folder instead of realdata")
    ap.add_argument("--written", action="store_true", help="score the written pages of bench/corpus/pages_written")
    ap.add_argument("--batch", type=int, choices=[1, 2, 3, 4, 5], help="with --written: only this batch of pages")
    args = ap.parse_args()
    html_dir, expected_file = (args.heldout_dir, HELDOUT_EXPECTED) if args.heldout_dir else (HTML, EXPECTED)
    if args.written:
        html_dir, expected_file = WRITTEN, WRITTEN / "labels.toml"
    if not html_dir.is_dir():
        print(f"skipped: {html_dir} is not present")
        return
    expected = tomllib.loads(expected_file.read_text(encoding="utf-8"))
    expected = {name: exp for name, exp in expected.items() if (html_dir / name).is_file()}
    if args.written and args.batch:
        from bench.boilerplate_quality import written_batch

        expected = {name: exp for name, exp in expected.items() if written_batch(name) == args.batch}
    pages = {name: (html_dir / name).read_bytes() for name in expected}
    extractors = {"builder (extract)": builder_extract, "builder (extract + clean)": builder_cleaned,
                  "trafilatura defaults": trafilatura_defaults}
    n = len(pages)
    print(f"{n} pages from {html_dir}\n")
    print(f"{'extractor':28s} {'title exact':>11s} {'title folded':>12s} {'first found':>11s} {'last found':>10s} "
          f"{'both found':>10s} {'seconds':>8s}")
    misses: dict[str, list[str]] = {}
    for label, fn in extractors.items():
        fn(next(iter(pages.values())))  # warm up: imports and trafilatura's first-call setup are not timed
        t0 = time.perf_counter()
        exact = folded = first = last = both = 0
        misses[label] = []
        for name, data in pages.items():
            exp = expected[name]
            title, text = fn(data)
            body = compare_form(text)
            ok_first = compare_form(exp["first"]) in body
            ok_last = compare_form(exp["last"]) in body
            exact += int((title or "").strip() == exp["title"])
            folded += int(compare_form(title or "") == compare_form(exp["title"]))
            first += ok_first
            last += ok_last
            both += ok_first and ok_last
            if not (ok_first and ok_last) or (title or "").strip() != exp["title"]:
                misses[label].append(f"{name}: title={title!r} first={'ok' if ok_first else 'MISSING'} last={'ok' if ok_last else 'MISSING'}")
        secs = time.perf_counter() - t0
        print(f"{label:28s} {exact / n:11.0%} {folded / n:12.0%} {first / n:11.0%} {last / n:10.0%} {both / n:10.0%} {secs:8.2f}")
    for label, rows in misses.items():
        print(f"\n{label}: pages not fully right")
        for r in rows:
            print("  " + r)


if __name__ == "__main__":
    main()
