"""Item filters, each with its own reason: empty, too short, too long, refusal, few-shot leak, ungrounded
(``ItemFilters``, item by item), then duplicates (``find_repeats``, over all surviving items at once).
Similarities are on character n-grams of the comparison form, which suits Chinese (no spaces, full-width
punctuation); the usual ROUGE tokenizer would throw the Chinese characters away.

Duplicates are found with the dedup stage's engine (``builder.text.minhash``: MinHash, LSH banding, exact
verification of every candidate), so generated instructions and the corpus are deduplicated by the same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np

from ...items import cjk_len
from ...text.minhash import Mapper, MinHashDeduper, MinHashSettings
from ...text.normalize import compare_form
from ...text.shingles import char_ngrams, jaccard

# Short instructions have few shingles, so their MinHash estimates are noisy. A recall-heavy LSH (at Jaccard
# 0.5 with 128 permutations: 39 bands of 3 rows, a pair at the threshold becomes a candidate with p = 0.994)
# costs only the exact verification of a few more candidate pairs, which is cheap for instructions.
CANDIDATE_RECALL_WEIGHT = 0.99


@dataclass
class Verdict:
    reason: str
    detail: str


class ItemFilters:
    """Decides, item by item, whether an item is good enough to keep (duplicates are ``find_repeats``'s job)."""

    def __init__(self, settings: Mapping[str, Any], examples: Sequence[Mapping[str, str]]):
        f = settings["filters"]
        self.s = settings
        self.n = f["ngram"]
        self.leak_threshold = f["fewshot_leak"]
        self.grounding_n = f["grounding_ngram"]
        self.min_grounding = f["min_grounding"]
        self.refusals = [re.compile(p) for p in settings["refusal_patterns"]]
        self.examples = [(char_ngrams(e["instruction"], self.n), char_ngrams(e["output"], self.n)) for e in examples]

    def is_refusal(self, text: str) -> bool:
        head = text.strip()[:200]
        return any(p.search(head) for p in self.refusals)

    def check(self, item: Mapping[str, Any], grounding: float) -> Verdict | None:
        s = self.s
        instruction, output = item["instruction"].strip(), item["output"].strip()
        if not instruction or not output:
            return Verdict("dropped_empty", "empty instruction" if not instruction else "empty output")
        if len(compare_form(instruction)) < s["instruction_min_chars"]:
            return Verdict("dropped_too_short", f"instruction of {len(compare_form(instruction))} characters (< {s['instruction_min_chars']})")
        length = cjk_len(output)  # whitespace not counted, as in the templates' limits
        if length < s["answer_min_chars"]:
            return Verdict("dropped_too_short", f"answer of {length} characters (< {s['answer_min_chars']})")
        if length > s["answer_max_chars"]:
            return Verdict("dropped_too_long", f"answer of {length} characters (> {s['answer_max_chars']})")
        if self.is_refusal(output):
            return Verdict("dropped_refusal", f"the answer refuses: {output[:40]}")
        if self.examples:
            ins, out = char_ngrams(instruction, self.n), char_ngrams(output, self.n)
            for k, (ex_ins, ex_out) in enumerate(self.examples):
                sim = max(jaccard(ins, ex_ins), jaccard(out, ex_out))
                if sim >= self.leak_threshold:
                    return Verdict("dropped_fewshot_leak", f"copies few-shot example {k + 1} (similarity {sim:.2f})")
        if self.min_grounding and grounding < self.min_grounding:
            return Verdict("dropped_ungrounded", f"grounding {grounding:.2f} < {self.min_grounding}")
        return None


@dataclass(frozen=True)
class Repeat:
    """An item that repeats an earlier kept item: its row, exact or near, and how alike the two are."""

    row: int
    kind: str  # exact | near
    instruction_similarity: float
    input_similarity: float

    def detail(self, kept_id: str) -> str:
        if self.kind == "exact":
            return f"repeats item {kept_id} (same instruction and input once punctuation and spaces are ignored)"
        return (f"repeats item {kept_id} (instruction similarity {self.instruction_similarity:.2f}, "
                f"input similarity {self.input_similarity:.2f})")


def find_repeats(items: Sequence[Mapping[str, str]], threshold: float, ngram: int,
                 mapper: Mapper | None = None) -> list[Repeat | None]:
    """For each item, in order: None when it is kept, else the earlier kept item it repeats.

    Exact: same instruction and same input in comparison form. Near: the instructions have a character
    n-gram Jaccard of at least ``threshold`` (MinHash + LSH candidates, every one verified on the exact
    shingle sets) and so do the inputs (two empty inputs are alike). Instruction and input are compared
    separately, so one long passage with two different requests about it is not a duplicate, and neither is
    one request about two different passages. The earliest item of a group is kept and an item is dropped
    only for resembling a kept one (no chains), so the result is the same for the same input order.
    ``threshold >= 1`` keeps exact duplicates only.
    """
    out: list[Repeat | None] = [None] * len(items)
    alike: dict[int, list[tuple[float, float, int]]] = {}
    if threshold < 1.0 and len(items) > 1:
        s = MinHashSettings(ngram=ngram, threshold=threshold, containment_threshold=None,
                            candidate_recall_weight=CANDIDATE_RECALL_WEIGHT,
                            min_near_chars=0, short_chars=0, distinct_slots=False)  # short instructions: plain Jaccard
        instructions = MinHashDeduper(s, mapper=mapper, collapse_exact=False)
        instructions.add([[item["instruction"] for item in items]])
        pairs = instructions.cluster().pairs
        if len(pairs.a):
            inputs = MinHashDeduper(replace(s, near=False), mapper=mapper)  # shingle sets only, to measure the pairs
            inputs.add([[item["input"] for item in items]])
            input_similarity = inputs.measure(np.stack([pairs.a, pairs.b], axis=1))[:, 0]
            for a, b, jac, inp in zip(pairs.a.tolist(), pairs.b.tolist(), pairs.jaccard.tolist(), input_similarity.tolist()):
                if inp >= threshold:
                    alike.setdefault(max(a, b), []).append((jac, inp, -min(a, b)))
    kept_by_form: dict[tuple[str, str], int] = {}
    for row, item in enumerate(items):
        form = (compare_form(item["instruction"]), compare_form(item["input"]))
        if form in kept_by_form:
            out[row] = Repeat(kept_by_form[form], "exact", 1.0, 1.0)
            continue
        kept = [m for m in alike.get(row, ()) if out[-m[2]] is None]
        if kept:
            jac, inp, neg = max(kept)
            out[row] = Repeat(-neg, "near", round(jac, 4), round(inp, 4))
        else:
            kept_by_form[form] = row
    return out


def grounding_score(output: str, chunk_grams: set[str], n: int) -> float:
    """Share of the answer's character n-grams found in the source chunk."""
    grams = char_ngrams(output, n)
    return round(len(grams & chunk_grams) / len(grams), 4) if grams else 0.0
