"""Genre router on a labelled set: recall per genre, the confusion matrix, news routed to commentary.

The set: the real documents of the annotation build (``bench/quality/build.toml``: ../shared/realdata
pages and SogouCA records labelled in ``genre_labels.toml``, the demo corpus labelled by its folders)
plus the articles of ``written_articles.py``. Paths are blanked before routing, so a folder name such
as ``commentary/`` cannot decide the genre. ``selfmedia_tutorial`` and ``explainer`` form one class
(explainer/how-to).

    builder run dedup -c bench/quality/build.toml     # once, for the real documents
    python bench/quality/genre_eval.py [--errors] [--heldout] [--pages out/quality-fresh8 [--pages …]]
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from heldout2_articles import heldout2_articles  # noqa: E402
from heldout_articles import heldout_articles  # noqa: E402
from written_articles import written_articles  # noqa: E402

from builder.shards import iter_rows, shard_files  # noqa: E402
from builder.stages.templates import textkit as tk  # noqa: E402
from builder.stages.templates.genres import load_genres  # noqa: E402

CLASSES = ("news", "commentary", "feature", "interview", "explainer")
DEMO_FOLDERS = {"news": "news", "gbk": "news", "reposts": "news", "commentary": "commentary", "feature": "feature",
                "interview": "interview", "selfmedia": "explainer", "pdf": "explainer"}
DEMO_JSONL = {"L1": "news", "L2": "news", "L3": "explainer", "L4": "explainer", "L6": "news", "L7": "explainer",
              "L8": "news", "L9": "explainer"}


def as_class(genre: str) -> str:
    return "explainer" if genre == "selfmedia_tutorial" else genre


def demo_label(path: str) -> str | None:
    rel = path.split("corpora/demo/", 1)[1]
    folder, name = rel.split("/", 1)
    if folder == "extra":
        g = name.split("_", 1)[0]
        return {"selfmedia": "explainer"}.get(g, g)
    if folder == "jsonl":
        return DEMO_JSONL.get(name.split("#")[-1])
    if folder == "junk":
        return "news" if name in ("ad_tail.txt", "pii_notice.txt", "radicals.txt", "traditional.txt") else None
    return DEMO_FOLDERS.get(folder)


def real_documents(build_out: Path) -> list[dict]:
    folder = build_out / "dedup" / "data"
    if not shard_files(folder):
        return []
    labels = tomllib.loads((HERE / "genre_labels.toml").read_text(encoding="utf-8"))["label"]
    out = []
    for d in iter_rows(folder):
        if "corpora/demo/" in (d["path"] or ""):
            label = demo_label(d["path"])
        else:
            label = labels.get(d["title"] or "", "news")
        if label and label != "skip":
            out.append(dict(d, label=label, origin="demo" if d["source"] == "demo" else "realdata"))
    return out


def page_documents(build_out: Path) -> list[dict]:
    """The written pages that carry their writer's genre in bench/corpus/pages_written/labels.toml (batches 40 on),
    as a build over them extracted them (fresh8_build.toml); "other" (数据新闻, roundups) is left out."""
    folder = build_out / "dedup" / "data"
    if not shard_files(folder):
        return []
    labels = tomllib.loads((ROOT / "bench" / "corpus" / "pages_written" / "labels.toml").read_text(encoding="utf-8"))
    out = []
    for d in iter_rows(folder):
        lab = labels.get(Path(d["path"] or "").name, {})
        if lab.get("genre") in CLASSES:
            out.append(dict(d, label=lab["genre"], origin="pages"))
    return out


def route(classifier, doc: dict) -> tuple[str, float, tuple[str, ...]]:
    d = dict(doc, path="")
    first = next((p for p in tk.split_paragraphs(d.get("text") or "") if p != (d.get("title") or "")), "")
    dec = classifier.classify(d, lead=first)
    return as_class(dec.genre), dec.score, dec.evidence


def evaluate(docs: list[dict], classifier) -> dict:
    conf: dict[str, Counter] = defaultdict(Counter)
    errors = []
    for d in docs:
        pred, score, ev = route(classifier, d)
        conf[d["label"]][pred] += 1
        if pred != d["label"]:
            errors.append((d["label"], pred, d.get("origin", "written"), d["title"], score, ev))
    recall = {g: (conf[g][g] / sum(conf[g].values()) if conf[g] else None) for g in CLASSES}
    n_news = sum(conf["news"].values())
    return {"conf": conf, "recall": recall, "news_to_commentary": conf["news"]["commentary"] / n_news if n_news else None,
            "errors": errors}


def margins(docs: list[dict], classifier) -> None:
    """How far each decision leads the runner-up, right and wrong ones apart, per predicted genre: what
    genres.toml's answer_margin and label_margin are set from (a decision under its margin makes no answer)."""
    by_pred: dict[str, list[tuple[bool, float]]] = defaultdict(list)
    for d in docs:
        dd = dict(d, path="")
        first = next((p for p in tk.split_paragraphs(dd.get("text") or "") if p != (dd.get("title") or "")), "")
        dec = classifier.classify(dd, lead=first)
        by_pred[as_class(dec.genre)].append((as_class(dec.genre) == d["label"], dec.margin))
    print("\n## lead over the runner-up: decisions under 1 / 2 / 3 / 4, right - wrong")
    for g in CLASSES:
        rows = by_pred.get(g, [])
        cells = [f"{sum(ok and m < t for ok, m in rows)}-{sum(not ok and m < t for ok, m in rows)}" for t in (1, 2, 3, 4)]
        print(f"{g:<10} n={len(rows):>3} wrong={sum(not ok for ok, _ in rows):>2}   " + "  ".join(f"{c:>7}" for c in cells))
    gate = [(ok, m >= classifier.answer_margin.get(g, 0.0)) for g, rows in by_pred.items() for ok, m in rows if g != "news"]
    print(f"outside news, decisions that pass answer_margin: {sum(p for _, p in gate)} of {len(gate)}, "
          f"wrong among them {sum(p and not ok for ok, p in gate)}")


def show(name: str, res: dict) -> None:
    print(f"\n## {name}")
    print("label       n   " + "  ".join(f"{c[:6]:>6}" for c in CLASSES) + "  recall")
    for g in CLASSES:
        row = res["conf"][g]
        n = sum(row.values())
        if not n:
            continue
        print(f"{g:<10} {n:>3}   " + "  ".join(f"{row[c]:>6}" for c in CLASSES) + f"  {res['recall'][g]:.3f}")
    if res["news_to_commentary"] is not None:
        print(f"news -> commentary: {res['news_to_commentary']:.3%}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "out" / "quality"), help="the annotation build's output folder")
    ap.add_argument("--genres", default=str(ROOT / "prompts" / "templates" / "genres.toml"))
    ap.add_argument("--errors", action="store_true", help="list every misrouted document")
    ap.add_argument("--heldout", action="store_true", help="also the held-out written set (heldout_articles.py), never used for tuning")
    ap.add_argument("--pages", action="append", default=[],
                    help="also the written pages with a genre label, from this build's output (out/quality-fresh8); repeat "
                         "for several builds, scored together")
    ap.add_argument("--margins", action="store_true", help="how far decisions lead the runner-up, right and wrong apart (all sets)")
    args = ap.parse_args()
    classifier = load_genres(Path(args.genres))
    real = real_documents(Path(args.out))
    written = [dict(d, origin="written") for d in written_articles()]
    if not real:
        print(f"(no real documents: run 'builder run dedup -c bench/quality/build.toml' first; {args.out})")
    sets = [("real (realdata + demo)", real), ("written", written), ("all", real + written)]
    if args.heldout:
        sets.append(("held-out written 1 (tuned on once, after its first run)", [dict(d, origin="heldout") for d in heldout_articles()]))
        sets.append(("held-out written 2 (one fix after its first run: policy Q&A titles)", [dict(d, origin="heldout2") for d in heldout2_articles()]))
    pages = [d for folder in args.pages for d in page_documents(Path(folder))]
    if pages:
        sets.append((f"written pages with their writer's genre ({', '.join(args.pages)})", pages))
    for name, docs in sets:
        if docs:
            res = evaluate(docs, classifier)
            show(f"{name}: {len(docs)} documents", res)
    if args.margins:
        held = [dict(d, origin="heldout") for d in heldout_articles()] + [dict(d, origin="heldout2") for d in heldout2_articles()]
        margins(real + written + held, classifier)
    if args.errors:
        for e in evaluate(real + written + pages, classifier)["errors"]:
            print(f"{e[0]:>10} -> {e[1]:<10} [{e[2]}] {e[3][:40]}  score {e[4]:.0f}  {'；'.join(e[5][:3])}")


if __name__ == "__main__":
    main()
