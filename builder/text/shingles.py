"""Character n-gram shingles and exact set similarities for Chinese text (no spaces needed)."""

from __future__ import annotations

from .normalize import compare_form


def char_grams(s: str, n: int) -> list[str]:
    """The character n-grams of ``s`` in order; a text no longer than ``n`` is its own one gram (none when empty)."""
    if len(s) <= n:
        return [s] if s else []
    return [s[i : i + n] for i in range(len(s) - n + 1)]


def char_ngrams(text: str, n: int = 5, normalized: bool = False) -> set[str]:
    """Set of character n-grams of the comparison form (punctuation/space dropped, width folded)."""
    return set(char_grams(text if normalized else compare_form(text), n))


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b) if (a or b) else 0.0
