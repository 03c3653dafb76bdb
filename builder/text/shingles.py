"""Character n-gram shingles and exact set similarities for Chinese text (no spaces needed)."""

from __future__ import annotations

from .normalize import compare_form


def char_ngrams(text: str, n: int = 5, normalized: bool = False) -> set[str]:
    """Set of character n-grams of the comparison form (punctuation/space dropped, width folded)."""
    s = text if normalized else compare_form(text)
    if len(s) < n:
        return {s} if s else set()
    return {s[i : i + n] for i in range(len(s) - n + 1)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b) if (a or b) else 0.0


def overlap_share(part: str, whole: str, n: int = 5) -> float:
    """Share of ``part``'s character n-grams found in ``whole`` (used as a grounding score)."""
    p = char_ngrams(part, n)
    return len(p & char_ngrams(whole, n)) / len(p) if p else 0.0
