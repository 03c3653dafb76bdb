"""Train the genre router's learned second opinion (builder/stages/templates/genre_model.py) and measure it.

Training data: the labelled set of genre_eval.py (realdata pages and SogouCA records labelled in
genre_labels.toml, the demo corpus by its folders, the written articles) and the written pages that carry
their writer's genre (batches 40 on), as the builds named by --pages extracted them. "other" is left out.

    python bench/quality/train_genre_model.py [--pages out/quality-fresh8 ...] [--evaluate] [--out FILE]

--evaluate measures before writing, without the measured documents in training:
- leave one page group out: each --pages build is held out in turn (the model trained on everything else);
- 5-fold over the labelled set (the pages always in training);
for the rules alone, the model alone and the router as shipped (the model overrules the rules at
``model_override`` of genres.toml).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import tomllib  # noqa: E402

import genre_eval as ge  # noqa: E402

from builder.stages.templates.genre_model import train  # noqa: E402
from builder.stages.templates.genres import QUOTED, load_genres  # noqa: E402

GENRES = ROOT / "prompts" / "templates" / "genres.toml"
OUT = ROOT / "prompts" / "templates" / "genre_model.npz"
CLASSES = ge.CLASSES


def rows(docs: list[dict]) -> list[tuple[str, str, str, str]]:
    return [(d.get("title") or "", QUOTED.sub("“”", d.get("text") or ""), d.get("text") or "", d["label"]) for d in docs]


def score(docs: list[dict], model, override: float) -> dict[str, Counter]:
    """Right answers per genre for the rules alone, the model alone and the two together, and the news sent to commentary."""
    clf = load_genres(GENRES)
    clf.model, clf.model_override = None, 1.0
    rules = Counter(ge.route(clf, d)[0] == d["label"] and d["label"] for d in docs)
    clf.model, clf.model_override = model, override
    both_routes = [ge.route(clf, d)[0] for d in docs]
    both = Counter(g == d["label"] and d["label"] for g, d in zip(both_routes, docs))
    alone = Counter()
    for d in docs:
        p = model.probabilities(d.get("title") or "", QUOTED.sub("“”", d.get("text") or ""), d.get("text") or "")
        alone[d["label"]] += max(p, key=p.get) == d["label"]
    n = Counter(d["label"] for d in docs)
    n2c = sum(1 for g, d in zip(both_routes, docs) if d["label"] == "news" and g == "commentary")
    return {"n": n, "rules": rules, "model": alone, "router": both, "news_to_commentary": Counter({"router": n2c})}


def add(total: dict[str, Counter], part: dict[str, Counter]) -> None:
    for k, c in part.items():
        total.setdefault(k, Counter()).update(c)


def show(name: str, t: dict[str, Counter]) -> None:
    print(f"\n## {name}")
    print(f"{'genre':<11} {'n':>4}  {'rules':>12}  {'model':>12}  {'router':>12}")
    for c in CLASSES:
        n = t["n"][c]
        cells = [f"{t[k][c]:>4} {t[k][c] / max(n, 1):.3f}" for k in ("rules", "model", "router")]
        print(f"{c:<11} {n:>4}  " + "  ".join(f"{x:>12}" for x in cells))
    print(f"news -> commentary (router): {t['news_to_commentary']['router']} of {t['n']['news']}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--build", default=str(ROOT / "out" / "quality"), help="the annotation build (realdata + demo)")
    ap.add_argument("--pages", action="append", default=[], help="a build over labelled written pages (repeat)")
    ap.add_argument("--evaluate", action="store_true")
    args = ap.parse_args()
    if not args.pages:
        args.pages = [str(p) for p in sorted((ROOT / "out").glob("quality-fresh*"), key=lambda p: p.name)
                      if p.name[len("quality-fresh"):].isdigit() and int(p.name[len("quality-fresh"):]) >= 8]
    labelled = [d for d in ge.real_documents(Path(args.build)) + [dict(d, origin="written") for d in ge.written_articles()]
                if d["label"] in CLASSES]
    groups = {p: ge.page_documents(Path(p)) for p in args.pages}
    pages = [d for g in groups.values() for d in g]
    override = float(tomllib.loads(GENRES.read_text(encoding="utf-8")).get("model_override", 0.7))
    print(f"labelled set {len(labelled)} documents, written pages {len(pages)} in {len(groups)} builds; override at {override}")
    if args.evaluate:
        total: dict[str, Counter] = {}
        for held, docs in groups.items():
            model = train(rows(labelled + [d for p, g in groups.items() if p != held for d in g]), CLASSES)
            add(total, score(docs, model, override))
        show("written pages, each build held out in turn", total)
        order = list(range(len(labelled)))
        random.Random(1).shuffle(order)
        total = {}
        for f in range(5):
            test = set(order[f::5])
            model = train(rows([d for i, d in enumerate(labelled) if i not in test] + pages), CLASSES)
            add(total, score([labelled[i] for i in sorted(test)], model, override))
        show("labelled set, 5-fold", total)
    model = train(rows(labelled + pages), CLASSES)
    model.save(Path(args.out))
    print(f"\nwrote {args.out}: {len(model.rows)} feature rows, {Path(args.out).stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
