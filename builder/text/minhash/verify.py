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
(a name for a name: no character in common, and no particle such as 的 or 了). A typo (one character for another, or a few scattered ones) is not a slot; a
header, a footer or an inserted sentence is not a substitution at all (no shared wording on one side).
With ``distinct_slots`` on, a pair with a slot is never a near duplicate, whatever its Jaccard.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from .settings import MinHashSettings
from .sketch import HASH_BITS, U32, U64, positional_hashes, sorted_unique

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


def _uncovered_runs(hpos: np.ndarray, other_set: np.ndarray, length: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Runs [start, end) of characters that no shingle shared with the other text covers, as two arrays."""
    shared = _member(hpos, other_set)
    if length <= n:
        return (np.empty(0, np.int64),) * 2 if shared.all() else (np.array([0]), np.array([length]))
    # character i is covered when a shared shingle starts in [i-n+1, i]: a window sum over the starts
    cs = np.concatenate(([0], np.cumsum(shared, dtype=np.int32)))
    idx = np.arange(length)
    hi = np.minimum(idx, len(shared) - 1) + 1
    lo = np.maximum(idx - n + 1, 0)
    uncovered = (cs[hi] - cs[lo]) == 0
    edges = np.diff(np.concatenate(([0], uncovered.view(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


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
    """Both sides could be different names: two characters or more each, no character in common (a common
    part would be covered by shared shingles), and no particle a name would not contain."""
    sa, sb = set(a), set(b)
    return len(a) >= 2 and len(b) >= 2 and not (sa & sb) and not (PARTICLES & (sa | sb))


def slot_substitutions(cp_a: np.ndarray, cp_b: np.ndarray, ngram: int = 5, max_slot_chars: int = 12,
                       limit: int = 1) -> list[tuple[str, str]]:
    """Up to ``limit`` places where the texts (code points of their comparison forms) swap a number or a name."""
    if not len(cp_a) or not len(cp_b):
        return []
    hb = positional_hashes(cp_b, ngram)
    return _slots(cp_a, positional_hashes(cp_a, ngram), cp_b, lambda: hb, sorted_unique(hb), ngram, max_slot_chars, limit)


def _slots(cp_a, ha, cp_b, get_hb, set_b, n: int, max_slot_chars: int, limit: int) -> list[tuple[str, str]]:
    """The work of :func:`slot_substitutions`; the larger text's positional hashes are asked for
    (``get_hb()``) only when the smaller one has a short uncovered run between shared anchors."""
    starts, ends = _uncovered_runs(ha, set_b, len(cp_a), n)
    inner = (starts >= n) & (ends <= len(ha) - 1) & (ends - starts <= max_slot_chars)
    if not inner.any():
        return []
    starts, ends = starts[inner], ends[inner]
    hb = get_hb()
    # where the anchors (the shared shingles either side of each run) first occur in the other text
    order = np.argsort(hb, kind="stable")
    sorted_b = hb[order]
    anchors = np.concatenate((ha[starts - n], ha[ends]))
    at = np.searchsorted(sorted_b, anchors)
    at[at == len(sorted_b)] = 0
    found = sorted_b[at] == anchors
    pos = np.where(found, order[at], -1)
    k = len(starts)
    left, right = pos[:k], pos[k:]
    bl, br = left + n, right
    ok = (left >= 0) & (right >= 0) & (br - bl > 0) & (br - bl <= max_slot_chars)
    out: list[tuple[str, str]] = []
    for s0, e0, b0, b1 in zip(starts[ok].tolist(), ends[ok].tolist(), bl[ok].tolist(), br[ok].tolist()):
        a = cp_a[s0:e0].tobytes().decode("utf-32-le")
        b = cp_b[b0:b1].tobytes().decode("utf-32-le")
        if is_slot(a, b):
            out.append((a, b))
            if len(out) >= limit:
                break
    return out


class StoredForms:
    """Reads documents' stored forms (code points) and shingle sets back, from scratch files or memory."""

    def __init__(self, where: dict[int, Any]):
        self.where = where
        self.cache: dict[int, list] = {}
        self.files: dict[str, int] = {}

    def load(self, row: int, s: MinHashSettings) -> list:
        """[code points, exact shingle set, positional hashes (filled in by :meth:`positions`)]."""
        got = self.cache.get(row)
        if got is None:
            loc = self.where[row]
            if len(loc) == 2:
                cp, hset = loc
            else:
                path, cp_at, cp_n, set_at, set_n = loc
                fd = self.files.get(path)
                if fd is None:
                    fd = self.files[path] = os.open(path, os.O_RDONLY)
                cp = np.frombuffer(os.pread(fd, 4 * cp_n, cp_at), dtype=U32)
                hset = np.frombuffer(os.pread(fd, 8 * set_n, set_at), dtype=U64)
            got = self.cache[row] = [cp, hset, None]
        return got

    @staticmethod
    def positions(entry: list, s: MinHashSettings) -> np.ndarray:
        if entry[2] is None:
            entry[2] = positional_hashes(entry[0], s.ngram)
        return entry[2]

    def close(self) -> None:
        for fd in self.files.values():
            os.close(fd)


def verify_chunk(task: tuple[np.ndarray, dict[int, Any], MinHashSettings, bool]) -> np.ndarray:
    """Worker: (jaccard, containment, slots) per row pair; slots = 1 when the pair swaps a number or a name.

    The slot check runs only where it can change the outcome (a pair that would otherwise be a
    duplicate), and only for the char tokenizer. The loops over pairs are compiled (:mod:`.kernels`):
    set intersections by merging, the slot scan by binary search in the other text's set; only the
    runs that pass go through :func:`is_slot`. The result equals :func:`measure_sets` and
    :func:`slot_substitutions` pair by pair (``verify_chunk_pairwise``, which a test compares).
    """
    pairs, where, s, check_slots = task
    forms = StoredForms(where)
    out = np.zeros((len(pairs), 3), dtype=np.float64)
    slots = check_slots and s.distinct_slots and s.tokenizer == "char"
    if not len(pairs):
        return out
    try:
        rows = np.unique(pairs)
        docs = _Docs([forms.load(int(r), s) for r in rows.tolist()])
    finally:
        forms.close()
    local = np.searchsorted(rows, pairs)
    i, j = local[:, 0], local[:, 1]
    jac, con = measure_block(docs, i, j)
    out[:, 0], out[:, 1] = jac, con
    if slots:
        small_cp = np.minimum(docs.cp_len[i], docs.cp_len[j])
        maybe = jac >= s.threshold_for(small_cp)
        if s.containment:
            maybe |= (con >= s.containment_threshold) & (np.minimum(docs.set_len[i], docs.set_len[j]) >= s.min_containment_shingles)
        out[np.flatnonzero(maybe), 2] = slot_block(docs, i[maybe], j[maybe], s.ngram, s.max_slot_chars)
    return out


def verify_chunk_pairwise(task: tuple[np.ndarray, dict[int, Any], MinHashSettings, bool]) -> np.ndarray:
    """:func:`verify_chunk` one pair at a time (the reference the vectorised version is tested against)."""
    pairs, where, s, check_slots = task
    forms = StoredForms(where)
    out = np.zeros((len(pairs), 3), dtype=np.float64)
    slots = check_slots and s.distinct_slots and s.tokenizer == "char"
    try:
        for k, (i, j) in enumerate(pairs.tolist()):
            e_i, e_j = forms.load(i, s), forms.load(j, s)
            cp_i, set_i, cp_j, set_j = e_i[0], e_i[1], e_j[0], e_j[1]
            jac, con = measure_sets(set_i, set_j)
            out[k, 0], out[k, 1] = jac, con
            if slots:
                small = min(len(cp_i), len(cp_j))
                maybe = jac >= s.threshold_at(small) or (
                    s.containment and con >= s.containment_threshold and min(len(set_i), len(set_j)) >= s.min_containment_shingles)
                if maybe and not np.array_equal(cp_i, cp_j):
                    a, b = (e_i, e_j) if len(cp_i) <= len(cp_j) else (e_j, e_i)
                    found = _slots(a[0], forms.positions(a, s), b[0], lambda b=b: forms.positions(b, s), b[1], s.ngram,
                                   s.max_slot_chars, 1)
                    out[k, 2] = 1.0 if found else 0.0
    finally:
        forms.close()
    return out


# -- the same measures for many pairs at once -------------------------------------------------------------------


class _Docs:
    """A chunk's documents as flat arrays: code points and exact shingle sets, with offsets and lengths."""

    def __init__(self, entries: list):
        self.cp_len = np.fromiter((len(e[0]) for e in entries), np.int64, len(entries))
        self.set_len = np.fromiter((len(e[1]) for e in entries), np.int64, len(entries))
        self.cp_off = np.concatenate(([0], np.cumsum(self.cp_len)))
        self.set_off = np.concatenate(([0], np.cumsum(self.set_len)))
        self.cp = np.concatenate([e[0] for e in entries]).astype(U32) if entries else np.empty(0, U32)
        self.sets = np.concatenate([e[1] for e in entries]).astype(U64) if entries else np.empty(0, U64)


def measure_block(docs: _Docs, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact Jaccard and containment of the pairs (i[k], j[k]) of a chunk, as :func:`measure_sets` gives them."""
    from .kernels import intersections

    k = len(i)
    if not k:
        return np.empty(0), np.empty(0)
    li, lj = docs.set_len[i], docs.set_len[j]
    swap = li > lj
    x, y = np.where(swap, j, i), np.where(swap, i, j)  # x: the smaller set (the first on a tie), as measure_sets
    lx, ly = docs.set_len[x], docs.set_len[y]
    inter = intersections(docs.sets, docs.set_off, x.astype(np.int64), y.astype(np.int64))
    with np.errstate(divide="ignore", invalid="ignore"):
        jac = inter / (lx + ly - inter)
        con = inter / lx
    empty = lx == 0
    jac[empty] = np.where(ly[empty] == 0, 1.0, 0.0)
    con[empty] = 0.0
    return jac, con


def slot_block(docs: _Docs, i: np.ndarray, j: np.ndarray, n: int, max_slot_chars: int) -> np.ndarray:
    """1.0 for each pair (i[k], j[k]) that swaps a number, an ordinal or a name (:func:`_slots` with limit 1).

    a is the shorter text (i on a tie). The runs :func:`_uncovered_runs` finds between shared anchors are
    the gaps between consecutive shared positions p < q of a with 0 < q - p - n <= max_slot_chars (the
    characters p+n .. q-1); the compiled scan (:func:`.kernels.slot_runs`) finds them and where their
    anchors first occur in b, and only the runs that pass go through :func:`is_slot`, in text order (a pair
    is done at its first slot). A pair whose b has a stored set that is not the set of its positions goes
    through :func:`_slots` itself.
    """
    from .kernels import slot_runs

    k = len(i)
    out = np.zeros(k)
    if not k:
        return out
    swap = docs.cp_len[i] > docs.cp_len[j]
    a, b = np.where(swap, j, i), np.where(swap, i, j)
    la, lb = docs.cp_len[a], docs.cp_len[b]
    sel = np.flatnonzero(la > n)  # a text no longer than one shingle has no run between anchors
    if not len(sel):
        return out
    runs, unchecked = slot_runs(docs.cp, docs.cp_off.astype(np.int64), docs.set_len.astype(np.int64), a[sel].astype(np.int64),
                                b[sel].astype(np.int64), la[sel].astype(np.int64), lb[sel].astype(np.int64), int(n), HASH_BITS,
                                int(max_slot_chars))
    done: set[int] = set()
    cp, off = docs.cp, docs.cp_off
    if len(runs):
        pair = runs[:, 0]
        sa, ea = off[a[sel][pair]] + runs[:, 1], off[a[sel][pair]] + runs[:, 2]
        sb, eb = off[b[sel][pair]] + runs[:, 3], off[b[sel][pair]] + runs[:, 4]
        for m, x0, x1, y0, y1 in zip(pair.tolist(), sa.tolist(), ea.tolist(), sb.tolist(), eb.tolist()):
            if m not in done and is_slot(cp[x0:x1].tobytes().decode("utf-32-le"), cp[y0:y1].tobytes().decode("utf-32-le")):
                done.add(m)
    for m in np.flatnonzero(unchecked).tolist():  # sets not made from these texts' positions: the reference, pair by pair
        da, db = int(a[sel[m]]), int(b[sel[m]])
        cp_a, cp_b = cp[off[da] : off[da + 1]], cp[off[db] : off[db + 1]]
        hb = positional_hashes(cp_b, n)
        if _slots(cp_a, positional_hashes(cp_a, n), cp_b, lambda hb=hb: hb, docs.sets[docs.set_off[db] : docs.set_off[db + 1]],
                  n, max_slot_chars, 1):
            done.add(m)
    if done:
        out[sel[np.fromiter(done, np.int64, len(done))]] = 1.0
    return out


__all__ = ["measure_sets", "slot_substitutions", "is_slot", "verify_chunk", "verify_chunk_pairwise", "measure_block",
           "slot_block", "StoredForms", "U64"]
