"""Item filters, each with its own reason: empty, too short, too long, refusal, few-shot leak, duplicates,
ungrounded. Similarities are on character n-grams of the comparison form, which suits Chinese (no spaces,
full-width punctuation); the usual ROUGE tokenizer would throw the Chinese characters away.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import xxhash

from ...text.normalize import compare_form
from ...text.shingles import char_ngrams, jaccard


def hashed_grams(text: str, n: int) -> np.ndarray:
    """Sorted unique 64-bit hashes of the character n-grams of a text's comparison form."""
    grams = char_ngrams(text, n)
    return np.unique(np.fromiter((xxhash.xxh3_64_intdigest(g.encode("utf-8")) for g in grams), dtype=np.uint64, count=len(grams)))


class NearDuplicateIndex:
    """Exact set-similarity search (Jaccard >= threshold) with prefix filtering.

    Under one global order of n-grams (their hash), two sets with Jaccard >= t share at least one of
    their first ``|S| - ceil(t·|S|) + 1`` n-grams. Only those prefixes are indexed and probed, and every
    candidate is verified with the exact Jaccard, so nothing is missed and no false match is kept.
    Memory: one array of 8-byte hashes per kept item.
    """

    def __init__(self, threshold: float, n: int = 3):
        self.threshold = threshold
        self.n = n
        self.exact: dict[str, int] = {}
        self.sets: list[np.ndarray] = []
        self.postings: dict[int, list[int]] = {}

    def _prefix(self, grams: np.ndarray) -> np.ndarray:
        size = len(grams)
        return grams[: size - math.ceil(self.threshold * size) + 1] if size else grams

    def find(self, text: str) -> tuple[str, int, float] | None:
        """("exact" | "near", index of the earlier item, similarity) or None."""
        key = compare_form(text)
        if key in self.exact:
            return "exact", self.exact[key], 1.0
        if self.threshold >= 1.0:
            return None
        grams = hashed_grams(key, self.n)
        best: tuple[str, int, float] | None = None
        seen: set[int] = set()
        for g in self._prefix(grams).tolist():
            for idx in self.postings.get(g, ()):
                if idx in seen:
                    continue
                seen.add(idx)
                other = self.sets[idx]
                inter = len(np.intersect1d(grams, other, assume_unique=True))
                sim = inter / (len(grams) + len(other) - inter)
                if sim >= self.threshold and (best is None or sim > best[2]):
                    best = ("near", idx, sim)
        return best

    def add(self, text: str) -> int:
        key = compare_form(text)
        idx = len(self.sets)
        self.exact.setdefault(key, idx)
        grams = hashed_grams(key, self.n)
        self.sets.append(grams)
        if self.threshold < 1.0:
            for g in self._prefix(grams).tolist():
                self.postings.setdefault(g, []).append(idx)
        return idx


@dataclass
class Verdict:
    reason: str
    detail: str


def prompt_text(item: Mapping[str, Any]) -> str:
    """What a user would send: the instruction and its input."""
    return f"{item['instruction']}\n{item['input']}" if item.get("input") else item["instruction"]


class ItemFilters:
    """Decides, item by item, whether to keep it; remembers kept items for the duplicate checks."""

    def __init__(self, settings: Mapping[str, Any], examples: Sequence[Mapping[str, str]]):
        f = settings["filters"]
        self.s = settings
        self.n = f["ngram"]
        self.leak_threshold = f["fewshot_leak"]
        self.grounding_n = f["grounding_ngram"]
        self.min_grounding = f["min_grounding"]
        self.refusals = [re.compile(p) for p in settings["refusal_patterns"]]
        self.examples = [(char_ngrams(e["instruction"], self.n), char_ngrams(e["output"], self.n)) for e in examples]
        self.index = NearDuplicateIndex(f["near_duplicate"], self.n)
        self.kept_ids: list[str] = []

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
        if len(output) < s["answer_min_chars"]:
            return Verdict("dropped_too_short", f"answer of {len(output)} characters (< {s['answer_min_chars']})")
        if len(output) > s["answer_max_chars"]:
            return Verdict("dropped_too_long", f"answer of {len(output)} characters (> {s['answer_max_chars']})")
        if self.is_refusal(output):
            return Verdict("dropped_refusal", f"the answer refuses: {output[:40]}")
        if self.examples:
            ins, out = char_ngrams(instruction, self.n), char_ngrams(output, self.n)
            for k, (ex_ins, ex_out) in enumerate(self.examples):
                sim = max(jaccard(ins, ex_ins), jaccard(out, ex_out))
                if sim >= self.leak_threshold:
                    return Verdict("dropped_fewshot_leak", f"copies few-shot example {k + 1} (similarity {sim:.2f})")
        found = self.index.find(prompt_text(item))
        if found is not None:
            kind, idx, sim = found
            return Verdict(f"dropped_duplicate_{kind}", f"repeats item {self.kept_ids[idx]} (similarity {sim:.2f})")
        if self.min_grounding and grounding < self.min_grounding:
            return Verdict("dropped_ungrounded", f"grounding {grounding:.2f} < {self.min_grounding}")
        return None

    def remember(self, item: Mapping[str, Any], item_id: str) -> None:
        self.index.add(prompt_text(item))
        self.kept_ids.append(item_id)


def grounding_score(output: str, chunk_grams: set[str], n: int) -> float:
    """Share of the answer's character n-grams found in the source chunk."""
    grams = char_ngrams(output, n)
    return round(len(grams & chunk_grams) / len(grams), 4) if grams else 0.0
