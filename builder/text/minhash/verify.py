"""Verification: exact Jaccard and containment of a candidate pair, and the same-template check.

Same template, different event
------------------------------
Official news is written from templates: 习近平举行仪式欢迎马尔代夫总统访华 and …欢迎乌兹别克斯坦总统访华
share most of their 5-grams (Jaccard 0.51), as do two donor notices, 第三次 vs 第二次彩排, or
宣传部长会议 vs 组织部长会议. What separates them from a repost is *where* they differ: at the same
place in the shared wording, one text says one number, ordinal or name and the other says another.

:func:`slot_substitutions` finds those places. A character of a text is *covered* when some shingle
containing it is also a shingle of the other text; the uncovered runs are what differs. A run with
shared wording on both sides (its left and right anchor shingles are shared) is looked up in the
other text between the same anchors: if the other text has something different there too, both
short (``max_slot_chars``), it is a substitution. A substitution is a *slot* when a number stands for another
number (digits or Chinese numerals, 第N included) or when both sides are multi-character and mostly different
(a name for a name; a side holding a particle such as 的 or 了 is not a name). A typo (one character for another, or a few scattered ones) is not a slot; a
header, a footer or an inserted sentence is not a substitution at all (no shared wording on one side).
With ``distinct_slots`` on, a pair with a slot is never a near duplicate, whatever its Jaccard.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .settings import MinHashSettings
from .sketch import U32, U64, positional_hashes, set_of_stored, sorted_unique

NUMERAL_CHARS = set("0123456789〇零一二三四五六七八九十百千万亿两")
PARTICLES = set("的地得了着过吗呢吧")  # function characters: a run holding one is an edit or a typo, not a name
NUMERAL = re.compile(r"[0-9]+|[〇零一二三四五六七八九十百千万亿两]+")


def measure_sets(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Exact Jaccard and containment (share of the smaller set in the larger) of two sorted unique arrays."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return (1.0 if not len(b) else 0.0), 0.0
    inter = int(np.count_nonzero(_member(a, b)))
    return inter / (len(a) + len(b) - inter), inter / len(a)


def _member(x: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which values of ``x`` are in ``sorted_set`` (sorted unique)."""
    if not len(sorted_set):
        return np.zeros(len(x), bool)
    idx = np.searchsorted(sorted_set, x)
    idx[idx == len(sorted_set)] = 0
    return sorted_set[idx] == x


def _uncovered_runs(hpos: np.ndarray, other_set: np.ndarray, length: int, n: int) -> list[tuple[int, int]]:
    """Runs [start, end) of characters that no shingle shared with the other text covers."""
    shared = _member(hpos, other_set)
    if length <= n:
        return [] if shared.all() else [(0, length)]
    # character i is covered when a shared shingle starts in [i-n+1, i]: a window sum over the starts
    cs = np.concatenate(([0], np.cumsum(shared, dtype=np.int32)))
    idx = np.arange(length)
    hi = np.minimum(idx, len(shared) - 1) + 1
    lo = np.maximum(idx - n + 1, 0)
    uncovered = (cs[hi] - cs[lo]) == 0
    if not uncovered.any():
        return []
    edges = np.diff(np.concatenate(([0], uncovered.view(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def is_slot(a: str, b: str) -> bool:
    """Whether replacing ``a`` by ``b`` changes a number, an ordinal or a name (not a typo)."""
    if a == b:
        return False
    if len(a) == len(b):  # typos keep the length: look at the positions that differ
        diffs = [(x, y) for x, y in zip(a, b) if x != y]
        if any(x in NUMERAL_CHARS and y in NUMERAL_CHARS for x, y in diffs):
            return True  # a digit or numeral for another (11 -> 18, 第二 -> 第三)
        return _name_like(a, b) and len(diffs) * 2 > len(a)  # scattered typos leave most positions equal
    na, nb = NUMERAL.findall(a), NUMERAL.findall(b)
    if na and nb and na != nb:  # a number for another number (11 -> 8, 第一 -> 第十二)
        return True
    return _name_like(a, b)


def _name_like(a: str, b: str) -> bool:
    """Both sides could be names: two characters or more, and no particle a name would not contain."""
    return len(a) >= 2 and len(b) >= 2 and not (PARTICLES & set(a) or PARTICLES & set(b))


def slot_substitutions(cp_a: np.ndarray, cp_b: np.ndarray, ngram: int = 5, max_slot_chars: int = 12,
                       limit: int = 1) -> list[tuple[str, str]]:
    """Up to ``limit`` places where the texts (code points of their comparison forms) swap a number or a name."""
    if not len(cp_a) or not len(cp_b):
        return []
    return _slots(cp_a, positional_hashes(cp_a, ngram), cp_b, positional_hashes(cp_b, ngram), None, ngram,
                  max_slot_chars, limit)


def _slots(cp_a, ha, cp_b, hb, set_b, n: int, max_slot_chars: int, limit: int) -> list[tuple[str, str]]:
    if set_b is None:
        set_b = sorted_unique(hb)
    runs = [(s, e) for s, e in _uncovered_runs(ha, set_b, len(cp_a), n)
            if s >= n and e <= len(ha) - 1 and e - s <= max_slot_chars]
    if not runs:
        return []
    order = np.argsort(hb, kind="stable")
    sorted_b = hb[order]

    def first_pos(h) -> int:
        i = int(np.searchsorted(sorted_b, h))
        return int(order[i]) if i < len(sorted_b) and sorted_b[i] == h else -1

    out: list[tuple[str, str]] = []
    for s, e in runs:
        left, right = first_pos(ha[s - n]), first_pos(ha[e])
        if left < 0 or right < 0:
            continue
        bl, br = left + n, right
        if not 0 < br - bl <= max_slot_chars:
            continue
        a = cp_a[s:e].tobytes().decode("utf-32-le")
        b = cp_b[bl:br].tobytes().decode("utf-32-le")
        if is_slot(a, b):
            out.append((a, b))
            if len(out) >= limit:
                break
    return out


class StoredForms:
    """Reads documents' stored forms (code points) back, from scratch files or memory, with a small cache."""

    def __init__(self, where: dict[int, Any]):
        self.where = where
        self.cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
        self.files: dict[str, Any] = {}

    def load(self, row: int, s: MinHashSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(code points, exact shingle set, positional hashes or None for the word tokenizer)."""
        got = self.cache.get(row)
        if got is None:
            loc = self.where[row]
            if isinstance(loc, np.ndarray):
                cp = loc
            else:
                path, offset, count = loc
                f = self.files.get(path)
                if f is None:
                    f = self.files[path] = open(path, "rb")
                f.seek(offset * 4)
                cp = np.fromfile(f, dtype=U32, count=count)
            if s.tokenizer == "char":
                hpos = positional_hashes(cp, s.ngram)
                got = (cp, sorted_unique(hpos), hpos)
            else:
                got = (cp, set_of_stored(cp, s), None)
            self.cache[row] = got
        return got

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def verify_chunk(task: tuple[np.ndarray, dict[int, Any], MinHashSettings, bool]) -> np.ndarray:
    """Worker: (jaccard, containment, slots) per row pair; slots = 1 when the pair swaps a number or a name.

    The slot check runs only where it can change the outcome (a pair that would otherwise be a
    duplicate), and only for the char tokenizer.
    """
    pairs, where, s, check_slots = task
    forms = StoredForms(where)
    out = np.zeros((len(pairs), 3), dtype=np.float64)
    slots = check_slots and s.distinct_slots and s.tokenizer == "char"
    try:
        for k, (i, j) in enumerate(pairs.tolist()):
            cp_i, set_i, h_i = forms.load(i, s)
            cp_j, set_j, h_j = forms.load(j, s)
            jac, con = measure_sets(set_i, set_j)
            out[k, 0], out[k, 1] = jac, con
            if slots:
                small = min(len(cp_i), len(cp_j))
                maybe = jac >= s.threshold_at(small) or (
                    s.containment and con >= s.containment_threshold and min(len(set_i), len(set_j)) >= s.min_containment_shingles)
                if maybe and not np.array_equal(cp_i, cp_j):
                    a, b = ((cp_i, h_i), (cp_j, h_j, set_j)) if len(cp_i) <= len(cp_j) else ((cp_j, h_j), (cp_i, h_i, set_i))
                    out[k, 2] = 1.0 if _slots(a[0], a[1], b[0], b[1], b[2], s.ngram, s.max_slot_chars, 1) else 0.0
    finally:
        forms.close()
    return out


__all__ = ["measure_sets", "slot_substitutions", "is_slot", "verify_chunk", "StoredForms", "U64"]
