"""Train the boilerplate line model (builder/text/line_model.npz) on the labelled written pages, and measure it
on pages it was not trained on.

    python bench/corpus/train_line_model.py                     # train on every batch, write the shipped model
    python bench/corpus/train_line_model.py --holdout-from 18   # train on batches 1-17 only, judge 18 and later

Each page goes through extraction, markup and normalisation as in the corpus stage, then through the rules
(`BoilerplateRemover` with no model), which report every line with where it stands (above the article,
inside it, below it) and whether it is prose; a line is furniture or body by the page's labels (their starts,
as `bench/boilerplate_quality.py` matches them), else left out. With ``--holdout-from N`` the model is
trained on the batches before N and, for the later ones, the script prints per threshold how many of the
furniture lines the rules keep the model would take, and how many body lines it would take (lines the model
sees: not removed by a rule, not prose, at most 80 characters, not ending a sentence), and the same for the lines the rules kept
when those batches were first run blind (results/written{N}_blind_boilerplate.txt).

The model learns from every labelled line, including those the rules remove: trained only on the lines the
remover asks it about (``--asked-only``), it had too few furniture lines to learn from and took none of the
held-out ones (--holdout-from 18: 0 of 54 at every threshold).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import boilerplate_quality as bq  # noqa: E402

from builder.text.boilerplate import _ENDS_SENTENCE, _TAGGED_HEADLINE, LEARNED_MAX_CHARS, BoilerplateRemover, is_field_line  # noqa: E402
from builder.text.line_model import MODEL_FILE, LineModel, train  # noqa: E402
from builder.text.markup import normalize_markup  # noqa: E402
from builder.text.normalize import compare_form, normalize  # noqa: E402

RESULTS = ROOT / "bench" / "corpus" / "results"


def page_lines(name: str) -> list[tuple[str, str, bool, bool | None, bool]]:
    """(line, where, prose, furniture? (None: unlabelled), removed by a rule) for every line of a written page."""
    lab = LABELS[name]
    raw = bq.extract((bq.WRITTEN / name).read_bytes(), "builder")
    text = bq.page_text(raw)
    anchors, title = getattr(text, "anchors", None), getattr(text, "title", None)
    text = normalize(normalize_markup(text, "html", {}))
    PREPARED[name] = (text, anchors, title)
    seen: list = []
    remover = BoilerplateRemover(line_model=None, on_lines=seen.extend)
    _, removed = remover.explain(text, link_pages=True, anchors=anchors, title=title)
    gone = {line for _, line in removed}
    fk = [k for k in (bq.key(f) for f in lab["furniture"]) if k]
    bk = [k for k in (bq.key(b) for b in lab["body"]) if k]
    out = []
    for line, where, prose in seen:
        k = bq.key(line)
        if not k:
            continue
        furniture = bq._kept(k, [f for f in fk]) or any(k.startswith(f) for f in fk)
        body = any(k.startswith(b) for b in bk)
        label = True if furniture and not body else False if body and not furniture else None
        out.append((line, where, prose, label, line in gone))
    return out


def own_page_lines(path: Path) -> list[tuple[str, str, bool, bool | None, bool]]:
    """The same for one of the four pages in bench/corpus/pages (text with F|/B| labels per line): they hold the
    counter-examples our own labels chose (a wire's （完） is the article's end mark)."""
    labelled = [(x[2:], x[:1] == "F") for x in path.read_text(encoding="utf-8").splitlines() if x[:2] in ("F|", "B|")]
    text = normalize(normalize_markup("\n".join(line for line, _ in labelled), "html", {}))
    seen: list = []
    _, removed = BoilerplateRemover(line_model=None, on_lines=seen.extend).explain(text, link_pages=True)
    gone = {line for _, line in removed}
    label_of = {compare_form(line): furniture for line, furniture in labelled}
    return [(line, where, prose, label_of.get(compare_form(line)), line in gone) for line, where, prose in seen]


def asked(line: str, prose: bool, removed: bool) -> bool:
    """A line the remover would ask the model about (short, not prose, not ending a sentence, no rule took it)."""
    return not removed and not prose and len(line) <= LEARNED_MAX_CHARS and not _ENDS_SENTENCE.search(line)


def blind_misses(batches: set[int]) -> set[str]:
    """Keys of the furniture lines the rules kept when these batches were first run blind."""
    keys = set()
    for b in batches:
        f = RESULTS / f"written{b}_blind_boilerplate.txt"
        if not f.is_file():
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.startswith("written html batch"):
                break
            if "FURNITURE KEPT" in line:
                keys.add(compare_form(line.split(": ", 1)[1])[:20])
    return keys


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--holdout-from", type=int, help="train on the batches before this one; judge this one and later")
    ap.add_argument("--out", type=Path, default=MODEL_FILE)
    ap.add_argument("--asked-only", action="store_true", help="train only on the lines the remover asks the model about")
    args = ap.parse_args()
    pages = {name: page_lines(name) for name in LABELS}
    train_pages = [n for n in pages if args.holdout_from is None or bq.written_batch(n) < args.holdout_from]
    own = [r for f in sorted((ROOT / "bench" / "corpus" / "pages").glob("*.txt")) for r in own_page_lines(f)]
    rows = [(line, where, prose, label) for n in train_pages for line, where, prose, label, removed in pages[n]
            if label is not None and (not args.asked_only or asked(line, prose, removed))]
    rows += [(line, where, prose, label) for line, where, prose, label, removed in own
             if label is not None and (not args.asked_only or asked(line, prose, removed))]
    model = train(rows)
    print(f"trained on {len(train_pages)} written pages and our 4 own pages, {len(rows)} lines ({sum(r[3] for r in rows)} furniture)")
    if args.holdout_from is None:
        model.save(args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
        return
    test = [n for n in pages if bq.written_batch(n) >= args.holdout_from]
    batches = {bq.written_batch(n) for n in test}
    misses = blind_misses(batches)
    label_of = {n: {line: label for line, _, _, label, _ in pages[n]} for n in test}
    furniture_kept = sum(1 for n in test for line, _, _, label, removed in pages[n] if label and not removed)
    body_total = sum(1 for n in test for r in pages[n] if r[3] is False)
    print(f"held out: {len(test)} pages of batches {min(batches)}-{max(batches)}: {furniture_kept} labelled furniture lines "
          f"the rules keep now, {body_total} body lines")
    # the blind misses as the rules of that time left them (some are removed by rules written since): the model is
    # asked about each as the remover would ask (short, not prose, not ending a sentence), where it stands now
    blind = [(n, r) for n in test for r in pages[n] if r[3] and compare_form(r[0])[:20] in misses
             and not r[2] and len(r[0]) <= LEARNED_MAX_CHARS and not _ENDS_SENTENCE.search(r[0]) and not is_field_line(r[0])
             and not (r[1] == "lead" and _TAGGED_HEADLINE.match(r[0]))]
    print(f"furniture lines the rules kept when those batches ran blind: {len(misses)}; short, not prose, not ending a "
          f"sentence, no label：value line, no tagged headline above the article: {len(blind)}")
    print("threshold  furniture the model removes (of what the rules keep now)  body removed  blind misses it would take")
    for thr in (0.7, 0.8, 0.85, 0.9, 0.95):
        remover = BoilerplateRemover(line_model=model, line_model_threshold=thr)
        took_f, took_b = 0, []
        for n in test:
            text, anchors, title = PREPARED[n]
            _, removed = remover.explain(text, link_pages=True, anchors=anchors, title=title)
            for family, line in removed:
                if family == "learned":
                    label = label_of[n].get(line)
                    took_f += label is True
                    if label is False:
                        took_b.append(f"{n}: {line[:24]}")
        m_hit = sum(model.probability(r[0], r[1], False) >= thr for _, r in blind)
        print(f"  {thr:4.2f}     {took_f:4d}/{furniture_kept:<4d}                                            "
              f"{len(took_b)}/{body_total}       {m_hit}/{len(blind)}  {'; '.join(took_b[:3])}")


PREPARED: dict[str, tuple] = {}
LABELS = tomllib.loads((bq.WRITTEN / "labels.toml").read_text(encoding="utf-8"))

if __name__ == "__main__":
    main()
