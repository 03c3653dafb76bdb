"""Boilerplate removal: precision (body lines kept) and recall (furniture lines removed), per rule family.

Two labelled sets:
- ``realdata``: the 20 pages of ../shared/realdata/html, extracted by builder's reader (trafilatura), lines
  labelled in bench/corpus/boilerplate_labels.toml (furniture / body, by the start of each line);
- ``own``: pages written for this bench, bench/corpus/pages/*.txt, one line per line, ``F|`` furniture, ``B|`` body.

A body line counts as kept when its start (compare form, 40 characters) is still in the cleaned text, and is
also counted when it starts a line of its own (paragraphs not run together); a
furniture line counts as removed when no cleaned line starts with it. Each removed line is attributed to
the rule family that removed it (when the remover can say; otherwise ``removed``), so a family that
deletes body text shows up by name. Titles are scored too: exact headline against the hand-written titles
of bench/extraction_expected.toml.

The written pages of bench/corpus/pages_written (shipped, labelled from the HTML before builder ran on them) are
scored on every run, with their titles.

A third, held-out set (``--heldout-dir DIR``): pages never used to tune the rules, labelled the same way in
bench/corpus/heldout_labels.toml and bench/heldout_expected.toml, but from the HTML rather than from the
extracted text; the pages are read from DIR (they are not in the repository) and the set is skipped when DIR
is absent. Because those labels include furniture the extractor never emits, furniture recall is reported
twice: over all labelled lines, and over the labelled lines present in the extracted text (comparable with
the fitted sets).

    python bench/boilerplate_quality.py [--variant builder|precision|recall|no_links] [--show] [--heldout-dir DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HTML = ROOT.parent / "shared" / "realdata" / "html"
LABELS = ROOT / "bench" / "corpus" / "boilerplate_labels.toml"
PAGES = ROOT / "bench" / "corpus" / "pages"
EXPECTED = ROOT / "bench" / "extraction_expected.toml"
HELDOUT_LABELS = ROOT / "bench" / "corpus" / "heldout_labels.toml"
HELDOUT_EXPECTED = ROOT / "bench" / "heldout_expected.toml"
WRITTEN = ROOT / "bench" / "corpus" / "pages_written"  # written pages, labelled blind (labels.toml in the folder)
KEY = 40
BREAK_KEY = 10  # a kept body line starts a line of its own when a cleaned line starts with this much of it (not run into
                # the line before: a layout table read as one row, blind batch 61)


def key(line: str) -> str:
    from builder.text.normalize import compare_form

    return compare_form(line)[:KEY]


class PageText(str):
    """An extracted text with its page's link texts (what the corpus stage hands the boilerplate step)."""

    anchors: frozenset | None = None
    title: str | None = None


def page_text(raw) -> str:
    if raw is None:
        return PageText("")
    out = PageText(raw.text)
    out.anchors = raw.meta.get("_anchors")
    out.title = raw.title
    return out


def clean_lines(text: str, last_page: bool = True, rules: bool = True) -> tuple[str, list[tuple[str, str]]]:
    """The cleaning steps that remove lines (markup, normalisation, boilerplate); filters are not applied.
    ``rules`` False: markup and normalisation only (to measure the repeated_across_pages pass on its own)."""
    from builder.text.boilerplate import BoilerplateRemover
    from builder.text.markup import normalize_markup
    from builder.text.normalize import normalize

    anchors, title = getattr(text, "anchors", None), getattr(text, "title", None)  # normalising returns a plain str
    text = normalize(normalize_markup(text, "html", {}))
    if not rules:
        return text, []
    remover = BoilerplateRemover()
    if hasattr(remover, "explain"):
        try:
            out, removed = remover.explain(text, link_pages=True, anchors=anchors, title=title)  # as the corpus stage calls it
        except TypeError:  # a remover without the link-text signal
            out, removed = remover.explain(text, link_pages=True)
        return out, removed
    out = remover(text)[0]
    kept = Counter(line.strip() for line in out.split("\n"))
    removed = []
    for line in text.split("\n"):
        s = line.strip()
        if not s:
            continue
        if kept[s]:
            kept[s] -= 1
        else:
            removed.append(("removed", s))
    return out, removed


def extract(data: bytes, variant: str):
    from builder.stages.corpus import extract as ex
    from builder.stages.corpus.crawl_feeds import decode_html

    html, _ = decode_html(data, "text/html")
    opts = {"builder": {}, "precision": {"favor_precision": True}, "recall": {"favor_recall": True},
            "no_links": {"include_links": False}}[variant]
    try:
        return ex.extract_html(html, **opts) if opts else ex.extract_html(html)
    except TypeError:  # an extract_html without trafilatura options
        return ex.extract_html(html)


def _kept(k: str, out_keys: list[str]) -> bool:
    """A furniture start is still there when a line starts with it (or it starts with most of a line)."""
    return any(o.startswith(k) or (len(o) >= 4 and k.startswith(o) and len(o) >= len(k) * 0.8) for o in out_keys)


def repeated_lines(pages: dict[str, tuple], hosts: dict[str, str], min_docs: int, rules: bool = True) -> set[int]:
    """The corpus-level pass: line keys standing in ``min_docs`` or more cleaned pages of one host."""
    from builder.text.boilerplate_repeats import RepeatCounter, line_keys

    counter = RepeatCounter(min_docs)
    for name, (_, _, text) in pages.items():
        counter.add(line_keys(hosts[name], clean_lines(text, rules=rules)[0]))
    return counter.repeated()


def score(pages: dict[str, tuple[list[str], list[str], str]], show: bool, repeats: tuple | None = None,
          rules: bool = True) -> dict:
    """pages: name -> (furniture starts, body starts, raw text). Returns totals and per-family counts.
    ``repeats``: (host of each page, repeated line keys) to run the repeated_across_pages pass after cleaning."""
    t = Counter()
    fam_body: Counter = Counter()
    fam_furn: Counter = Counter()
    for name, (furn, body, text) in pages.items():
        out, removed = clean_lines(text, rules=rules)
        if repeats is not None:
            from builder.text.boilerplate_repeats import strip_repeated

            out, more = strip_repeated(repeats[0][name], out, repeats[1])
            removed = removed + [("repeated_across_pages", line) for line in more]
        out_keys = [key(line) for line in out.split("\n") if line.strip()]
        raw_keys = [key(line) for line in text.split("\n") if line.strip()]
        joined = "".join(out_keys)
        from builder.text.normalize import compare_form

        out_full = compare_form(out)
        for b in body:
            k = key(b)
            if not k:
                continue
            t["body"] += 1
            if k in out_full or k in joined:
                t["body_kept"] += 1
                if any(o.startswith(k[:BREAK_KEY]) for o in out_keys):
                    t["body_own_line"] += 1
                elif show:
                    print(f"  BODY RUN INTO A LINE {name}: {b}")
            else:
                fam = next((f for f, line in removed if key(line) == k), "extraction")
                fam_body[fam] += 1
                if show:
                    print(f"  BODY LOST [{fam}] {name}: {b}")
        for f in furn:
            k = key(f)
            if not k:
                continue
            t["furniture"] += 1
            in_text = _kept(k, raw_keys)
            t["furniture_in_text"] += in_text
            if _kept(k, out_keys):
                if show:
                    print(f"  FURNITURE KEPT {name}: {f}")
            else:
                t["furniture_removed"] += 1
                t["furniture_in_text_removed"] += in_text
                fam = next((fm for fm, line in removed if key(line) == k or key(line).startswith(k) or k.startswith(key(line) or "\0")), "not extracted")
                fam_furn[fam] += 1
    return {"totals": t, "body_removed_by": fam_body, "furniture_removed_by": fam_furn}


def report(label: str, r: dict) -> None:
    t = r["totals"]
    print(f"{label}: body kept {t['body_kept']}/{t['body']} = {t['body_kept'] / max(t['body'], 1):.3f}; "
          f"furniture removed {t['furniture_removed']}/{t['furniture']} = {t['furniture_removed'] / max(t['furniture'], 1):.3f}; "
          f"of the furniture present in the extracted text {t['furniture_in_text_removed']}/{t['furniture_in_text']} = "
          f"{t['furniture_in_text_removed'] / max(t['furniture_in_text'], 1):.3f}; "
          f"kept body lines that start a line {t['body_own_line']}/{t['body_kept']}")
    fams = sorted(set(r["body_removed_by"]) | set(r["furniture_removed_by"]))
    print(f"  {'rule family':24s} {'furniture removed':>17s} {'body removed':>12s}")
    for f in fams:
        print(f"  {f:24s} {r['furniture_removed_by'][f]:17d} {r['body_removed_by'][f]:12d}")


def titles(variant: str, html_dir: Path = HTML, expected_file: Path = EXPECTED, only: set | None = None) -> None:
    from builder.stages.corpus.clean import Cleaner

    expected = tomllib.loads(expected_file.read_text(encoding="utf-8"))
    cleaner = Cleaner({"normalize": True, "t2s": False, "pii": False})
    ok = 0
    wrong = []
    expected = {name: exp for name, exp in expected.items() if (html_dir / name).is_file()
                and (only is None or name in only)}
    for name, exp in expected.items():
        raw = extract((html_dir / name).read_bytes(), variant)
        title = cleaner.clean_field(raw.title) if raw else None
        if (title or "") == exp["title"]:
            ok += 1
        else:
            wrong.append(f"  {name}: got {title!r}, want {exp['title']!r}")
    print(f"titles exact (after clean_field): {ok}/{len(expected)}")
    for w in wrong:
        print(w)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default="builder", choices=["builder", "precision", "recall", "no_links"])
    ap.add_argument("--show", action="store_true", help="list body lines lost and furniture kept")
    ap.add_argument("--heldout-dir", type=Path, help="folder of the held-out pages (see bench/corpus/HELDOUT.md)")
    ap.add_argument("--batch", type=int, choices=range(1, 156), help="only this batch of the written pages, nothing else")
    ap.add_argument("--repeats", type=int, default=3, metavar="N",
                    help="also score the written pages after the repeated_across_pages pass at N documents per host (0: off)")
    args = ap.parse_args()
    if args.batch:
        written(args.variant, args.show, args.batch, args.repeats)
        return
    own = {}
    for p in sorted(PAGES.glob("*.txt")):
        lines = p.read_text(encoding="utf-8").splitlines()
        furn = [line[2:] for line in lines if line.startswith("F|")]
        body = [line[2:] for line in lines if line.startswith("B|")]
        own[p.name] = (furn, body, "\n".join(line[2:] for line in lines))
    report("own pages", score(own, args.show))
    written(args.variant, args.show, None, args.repeats)
    if not HTML.is_dir():
        print(f"realdata skipped: {HTML} is not present")
        return
    labels = tomllib.loads(LABELS.read_text(encoding="utf-8"))
    real = {}
    for name, lab in labels.items():
        raw = extract((HTML / name).read_bytes(), args.variant)
        real[name] = (lab["furniture"], lab["body"], page_text(raw))
    report(f"realdata html ({args.variant})", score(real, args.show))
    titles(args.variant)
    if args.heldout_dir is not None:
        heldout(args.heldout_dir, args.variant, args.show)


BATCH2 = {"stock_news.html", "provincial_threeaudit.html", "column_qa.html", "hospital_news.html", "app_h5.html"}


def page_host(name: str, raw) -> str:
    """The group a page's lines are counted in by repeated_across_pages: its host when the page names its URL; the
    pages of one written site (bN_samehost_1/2/3, written without a URL) share one, as a crawl of the site would
    give them; any other page is a group of its own."""
    host = raw.meta.get("hostname") if raw else None
    return host or re.sub(r"_\d+\.html$", "", name) if "_samehost_" in name else (host or name)


def written_batch(name: str) -> int:
    """Which batch of written pages a file belongs to: 1 and 2 by name, later batches by their ``bN_`` prefix."""
    m = re.match(r"b(\d+)_", name)
    if m:
        return int(m.group(1))
    return 2 if name in BATCH2 else 1


def written(variant: str, show: bool, batch: int | None = None, repeats: int = 0) -> None:
    """The written pages of bench/corpus/pages_written: HTML with labels (title, body, furniture) in labels.toml.

    Scored per batch (each batch was labelled and run once blind before the fixes it prompted) and in total."""
    labels = tomllib.loads((WRITTEN / "labels.toml").read_text(encoding="utf-8"))
    pages, hosts = {}, {}
    for name, lab in labels.items():
        if batch is not None and written_batch(name) != batch:
            continue
        raw = extract((WRITTEN / name).read_bytes(), variant)
        pages[name] = (lab["furniture"], lab["body"], page_text(raw))
        hosts[name] = page_host(name, raw)
    for b in sorted({written_batch(n) for n in pages}):
        part = {n: v for n, v in pages.items() if written_batch(n) == b}
        report(f"written html batch {b} ({variant}, {len(part)} pages)", score(part, show))
    if batch is None:
        report(f"written html, all batches ({variant}, {len(pages)} pages)", score(pages, False))
    if repeats:
        # the corpus-level pass over every written page (pages of one host count together, whatever their batch)
        everything = {}
        for name, lab in labels.items():
            raw = extract((WRITTEN / name).read_bytes(), variant) if name not in pages else None
            if name not in pages:
                hosts[name] = page_host(name, raw)
            everything[name] = pages.get(name) or (lab["furniture"], lab["body"], page_text(raw))
        rep = repeated_lines(everything, hosts, repeats)
        shared = Counter(hosts[n] for n in everything)
        for b in sorted({written_batch(n) for n in pages}):
            part = {n: v for n, v in pages.items() if written_batch(n) == b}
            multi = sum(shared[hosts[n]] >= repeats for n in part)
            report(f"written html batch {b} + repeated_across_pages = {repeats} ({len(part)} pages, {multi} from a host "
                   f"with {repeats}+ pages)", score(part, show, (hosts, rep)))
        # the pass on its own (no per-page rules), on the pages of hosts with enough pages: what repetition finds
        multi = {n: v for n, v in everything.items() if shared[hosts[n]] >= repeats and n in pages}
        if multi:
            alone = repeated_lines(everything, hosts, repeats, rules=False)
            report(f"written html, repeated_across_pages = {repeats} ALONE, no per-page rules ({len(multi)} pages of "
                   f"hosts with {repeats}+ pages)", score(multi, show, (hosts, alone), rules=False))
            report(f"  the same pages, per-page rules alone", score(multi, False))
    expected = WRITTEN / "labels.toml"
    titles(variant, WRITTEN, expected, only=set(pages))


def heldout(folder: Path, variant: str, show: bool) -> None:
    if not folder.is_dir():
        print(f"held-out set skipped: {folder} is not present")
        return
    labels = tomllib.loads(HELDOUT_LABELS.read_text(encoding="utf-8"))
    missing = [name for name in labels if not (folder / name).is_file()]
    if missing:
        print(f"held-out set: {len(missing)} labelled pages not in {folder} (another batch, or not saved)")
    pages = {}
    for name, lab in labels.items():
        if name in missing:
            continue
        raw = extract((folder / name).read_bytes(), variant)
        pages[name] = (lab["furniture"], lab["body"], page_text(raw))
    report(f"held-out html ({variant}, {len(pages)} pages)", score(pages, show))
    titles(variant, folder, HELDOUT_EXPECTED)


if __name__ == "__main__":
    main()
