"""Precision and recall of the selfinstruct near-duplicate and few-shot leak filters on labelled pairs.

    python bench/quality/selfinstruct_filters.py

Near duplicates: ``selfinstruct_neardup_groups.jsonl`` (42 groups: a question, two rewordings of it that a
model writes when it repeats itself, two questions that differ in one thing that matters: 主播/助播,
低/高客单, 上升/下降, 抖音/快手, 60/200 字) gives per group 3 duplicate pairs (base~same1, base~same2,
same1~same2) and 3 different pairs (base~other1, base~other2, same1~other1); ``selfinstruct_neardup_input_pairs.jsonl``
adds 20 labelled pairs with inputs (same passage with another request, same request on another passage,
numbers changed). The items are scored as the stage scores them (``filters.pair_verdict`` on
``dup_forms``), over thresholds, and against the filter before this change (instruction 3-gram Jaccard
>= 0.5 alone, two empty inputs alike). The chosen threshold is the lowest one whose precision for
"duplicate" is >= 0.95 with the next two thresholds also >= 0.95 (not a lucky point).

Few-shot leak: ``selfinstruct_leak_paraphrases.jsonl`` holds 24 moderate rewordings (3 per example) of the
8 examples in prompts/selfinstruct/fewshot.jsonl; negatives are ``selfinstruct_leak_negatives.jsonl`` (10
in-domain items on the same topics) and, when ../shared/realdata is there, every item of the 130 real
replies. Recall on the rewordings and the false-positive rate on the negatives, for a range of thresholds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from builder.stages.selfinstruct.filters import ItemFilters, dup_forms, pair_verdict  # noqa: E402
from builder.text.shingles import char_ngrams, jaccard  # noqa: E402

REALDATA = ROOT.parent / "shared" / "realdata" / "llm_replies"
THRESHOLDS = [round(0.3 + 0.05 * k, 2) for k in range(14)]  # below 0.3 the join's candidates grow fast
MARGIN = 0.97


def read_jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def labelled_pairs() -> list[tuple[dict, dict, bool]]:
    def it(instruction: str, input_: str = "") -> dict:
        return {"instruction": instruction, "input": input_, "output": ""}

    pairs = []
    for g in read_jsonl("selfinstruct_neardup_groups.jsonl"):
        base, (s1, s2), (o1, o2) = g["base"], g["same"], g["other"]
        pairs += [(it(base), it(s1), True), (it(base), it(s2), True), (it(s1), it(s2), True)]
        pairs += [(it(base), it(o1), False), (it(base), it(o2), False), (it(s1), it(o1), False)]
    for p in read_jsonl("selfinstruct_neardup_input_pairs.jsonl"):
        pairs.append((it(p["a"]["instruction"], p["a"]["input"]), it(p["b"]["instruction"], p["b"]["input"]), p["duplicate"]))
    return pairs


def old_filter(a: dict, b: dict, t: float = 0.5) -> bool:
    ins = jaccard(char_ngrams(a["instruction"], 3), char_ngrams(b["instruction"], 3))
    inp = jaccard(char_ngrams(a["input"], 3), char_ngrams(b["input"], 3))  # two empty inputs: 1.0
    return ins >= t and inp >= t


def scores(pred: list[bool], gold: list[bool]) -> tuple[float, float, int, int]:
    tp = sum(p and g for p, g in zip(pred, gold))
    fp = sum(p and not g for p, g in zip(pred, gold))
    fn = sum(g and not p for p, g in zip(pred, gold))
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 0.0), tp, fp


def near_duplicates() -> tuple[int, float]:
    pairs = labelled_pairs()
    gold = [g for _, _, g in pairs]
    print(f"near-duplicate pairs: {len(pairs)} ({sum(gold)} duplicates, {len(gold) - sum(gold)} different)\n")
    p, r, tp, fp = scores([old_filter(a, b) for a, b, _ in pairs], gold)
    print(f"before (instruction 3-gram Jaccard >= 0.5, empty inputs alike): precision {p:.3f}  recall {r:.3f}  "
          f"({fp} different pairs called duplicates)\n")
    best = None
    for ngram in (2, 3):
        print(f"{'threshold':>9} {'precision':>9} {'recall':>7} {'false dup':>9}   (this filter, character {ngram}-grams)")
        table = []
        for t in THRESHOLDS:
            pred = [pair_verdict(dup_forms(a), dup_forms(b), t, ngram)[0] for a, b, _ in pairs]
            p, r, tp, fp = scores(pred, gold)
            table.append((t, p, r))
            print(f"{t:9.2f} {p:9.3f} {r:7.3f} {fp:9d}")
        ok = [k for k in range(len(table)) if all(table[j][1] >= MARGIN for j in range(k, min(k + 3, len(table))))]
        if ok and (best is None or table[ok[0]][2] > best[3]):
            best = (ngram, *table[ok[0]])
        print()
    ngram, t, p, r = best
    print(f"chosen: {ngram}-grams, threshold {t:.2f} (precision {p:.3f}, recall {r:.3f}): the lowest threshold whose precision "
          f"and the next two thresholds' are >= {MARGIN} (a margin over the 0.95 target), best recall of the two gram sizes")
    for a, b, g in pairs:
        if pair_verdict(dup_forms(a), dup_forms(b), t, ngram)[0] and not g:
            print(f"  false duplicate: {a['instruction']} | {b['instruction']}")
    return ngram, t


def leaks() -> None:
    from builder.config import parse_config

    examples = read_jsonl("../../prompts/selfinstruct/fewshot.jsonl")
    settings = parse_config("[build]\n", ROOT / "build.toml").settings["selfinstruct"]
    f = ItemFilters(settings, examples)
    positives = read_jsonl("selfinstruct_leak_paraphrases.jsonl")
    negatives = read_jsonl("selfinstruct_leak_negatives.jsonl")
    real = 0
    if REALDATA.is_dir():
        for path in sorted(REALDATA.glob("*.json")):
            from builder.llm import extract_items

            got = extract_items(path.read_text(encoding="utf-8"))
            for item in got.items or []:
                if isinstance(item, dict) and isinstance(item.get("instruction"), str) and isinstance(item.get("output"), str):
                    negatives.append(item)
                    real += 1
    pos = [f.leak(p["instruction"], p["output"]) for p in positives]
    assert all(k + 1 == p["example"] for (k, _), p in zip(pos, positives) if k >= 0), "a rewording matched another example"
    neg = [f.leak(n["instruction"], n["output"])[1] for n in negatives]
    old = ItemFilters(settings, [])
    old_pos = [max(max(jaccard(char_ngrams(p["instruction"], 3), char_ngrams(e["instruction"], 3)),
                       jaccard(char_ngrams(p["output"], 3), char_ngrams(e["output"], 3))) for e in examples) for p in positives]
    del old
    print(f"\nfew-shot leak: {len(positives)} rewordings of the 8 examples, {len(negatives)} negatives "
          f"({len(negatives) - real} written, {real} real model items)")
    print(f"before (3-gram Jaccard of instruction or answer >= 0.6): caught {sum(s >= 0.6 for s in old_pos)}/{len(positives)}")
    print(f"{'threshold':>9} {'recall':>7} {'false positives':>16}   (this filter: bigram Jaccard of instructions, containment of answers)")
    for t in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        caught = sum(s >= t for _, s in pos)
        false = sum(s >= t for s in neg)
        print(f"{t:9.2f} {caught / len(pos):7.3f} {false:9d} of {len(neg)}")
    print(f"highest score of a negative: {max(neg):.2f}; lowest of a rewording: {min(s for _, s in pos):.2f}")
    print(f"configured threshold: {settings['filters']['fewshot_leak']}")


if __name__ == "__main__":
    ngram, threshold = near_duplicates()
    from builder.config import parse_config

    f = parse_config("[build]\n", ROOT / "build.toml").settings["selfinstruct"]["filters"]
    print(f"configured: ngram = {f['ngram']}, near_duplicate = {f['near_duplicate']}")
    leaks()
