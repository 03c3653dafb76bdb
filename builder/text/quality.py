"""Document quality checks. Each returns None (keep) or (reason, detail) naming what was measured."""

from __future__ import annotations

import re
from collections import Counter

from .normalize import cjk_ratio
from .shingles import char_grams

# U+FFFD counts: decoding damage is garbled text (a few per page pass under max_garbled_ratio, and are counted)
GARBLED = re.compile(r"\(cid:\d+\)|[\ue000-\uf8ff\ufffd]|[\U000f0000-\U0010ffff]")


def check_length(text: str, min_chars: int, max_chars: int):
    n = len(text)
    if n < min_chars:
        return "dropped_too_short", f"{n} characters < min_chars {min_chars}"
    if n > max_chars:
        return "dropped_too_long", f"{n} characters > max_chars {max_chars}"
    return None


def check_cjk(text: str, min_ratio: float):
    r = cjk_ratio(text)
    if r < min_ratio:
        return "dropped_cjk_ratio", f"Han share {r:.2f} < min_cjk_ratio {min_ratio}"
    return None


def dup_line_ratio(text: str) -> float:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    total = sum(len(line) for line in lines)
    seen: set[str] = set()
    dup = 0
    for line in lines:
        if line in seen:
            dup += len(line)
        seen.add(line)
    return dup / total if total else 0.0


def check_dup_lines(text: str, max_ratio: float):
    r = dup_line_ratio(text)
    if r > max_ratio:
        return "dropped_dup_lines", f"{r:.0%} of characters in repeated lines > max_dup_line_ratio {max_ratio}"
    return None


def dup_ngram_ratio(text: str, n: int) -> float:
    """Share of characters covered by character n-grams that occur more than once (no whitespace).

    The n-grams are hashed in numpy, all positions at once (a 64-bit polynomial hash of the code points: the same
    grams as :func:`dup_ngram_ratio_reference`). Not the dedup engine's ``positional_hashes``: importing it would make
    the corpus stage's code fingerprint, and so its freshness, depend on the dedup engine."""
    import numpy as np

    s = _SPACE.sub("", text)
    if len(s) < n * 2:
        return 0.0
    cp = np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    h = np.zeros(len(cp) - n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            h = h * np.uint64(0x100000001B3) + cp[k : k + len(h)]
    _, inverse, counts = np.unique(h, return_inverse=True, return_counts=True)
    if counts.max() == 1:  # the common case: nothing repeats
        return 0.0
    dup = counts[inverse] > 1
    covered = np.zeros(len(s), bool)
    for k in range(n):  # a repeated gram at i covers characters i .. i+n-1
        covered[k : k + len(h)] |= dup
    return float(np.count_nonzero(covered)) / len(s)


def dup_ngram_ratio_reference(text: str, n: int) -> float:
    """:func:`dup_ngram_ratio` with the n-grams as strings (the reference a test compares it with)."""
    s = _SPACE.sub("", text)
    if len(s) < n * 2:
        return 0.0
    grams = char_grams(s, n)
    counts = Counter(grams)
    if len(counts) == len(grams):
        return 0.0
    repeated = {g for g, c in counts.items() if c > 1}
    covered = bytearray(len(s))
    for i, g in enumerate(grams):
        if g in repeated:
            covered[i : i + n] = b"\x01" * n
    return covered.count(1) / len(s)


_SPACE = re.compile(r"\s+")


def check_dup_ngrams(text: str, n: int, max_ratio: float):
    r = dup_ngram_ratio(text, n)
    if r > max_ratio:
        return "dropped_dup_ngrams", f"{r:.0%} of characters in repeated {n}-grams > max_dup_ngram_ratio {max_ratio}"
    return None


_REPLACEMENT_RUN = re.compile("\ufffd{2,}")


def garbled_ratio(text: str) -> float:
    """Share of characters that are damage; a run of U+FFFD counts once (one lost emoji or symbol is often
    several replacement characters)."""
    if "\ufffd\ufffd" in text:
        text = _REPLACEMENT_RUN.sub("\ufffd", text)
    if not GARBLED.search(text):  # the common case: no damage at all
        return 0.0
    bad = sum(len(m) for m in GARBLED.findall(text))
    return bad / len(text) if text else 0.0


def check_garbled(text: str, max_ratio: float):
    r = garbled_ratio(text)
    if r > max_ratio:
        return "dropped_garbled", f"{r:.1%} of characters are (cid:N), private-use or replacement characters > max_garbled_ratio {max_ratio}"
    return None


MIN_REPEATED_PARAGRAPH = 40  # a paragraph this long that appears again is a duplication artefact, not style


def _has_repeated_long_line(text: str) -> bool:
    seen: set[str] = set()
    for line in text.split("\n"):
        line = line.strip()
        if len(line) >= MIN_REPEATED_PARAGRAPH:
            if line in seen:
                return True
            seen.add(line)
    return False


def dedouble(text: str) -> tuple[str, dict[str, int]]:
    """A body that appears twice (a page template printing the article twice, a dump concatenating
    two copies) keeps one copy; a long paragraph repeated later is kept once. Returns (text, counts)."""
    counts: dict[str, int] = {}
    if len(text) < 2 * MIN_REPEATED_PARAGRAPH:
        return text, counts
    head = text.lstrip()[:MIN_REPEATED_PARAGRAPH // 2]
    if text.find(head, len(text) // 3) < 0 and not _has_repeated_long_line(text):
        return text, counts  # the common case: nothing repeats, nothing to do
    paras = [p for p in text.split("\n") if p.strip()]
    keys = [re.sub(r"\s+", "", p) for p in paras]
    h = len(keys) // 2
    if len(keys) >= 2 and len(keys) % 2 == 0 and keys[:h] == keys[h:]:
        counts["dedoubled_body"] = 1
        cut = 0
        for _ in range(h):  # keep the text up to the end of the first copy, layout intact
            cut = text.index(paras[_], cut) + len(paras[_])
        return text[:cut].strip(), counts
    flat = re.sub(r"\s+", "", text)
    n = len(flat)
    if n >= 2 * MIN_REPEATED_PARAGRAPH and n % 2 == 0 and flat[: n // 2] == flat[n // 2 :]:
        counts["dedoubled_body"] = 1
        half, seen = n // 2, 0
        for i, ch in enumerate(text):
            if not ch.isspace():
                seen += 1
                if seen == half:
                    return text[: i + 1].strip(), counts
    seen_keys: set[str] = set()
    kept: list[str] = []
    removed = 0
    for line in text.split("\n"):
        k = re.sub(r"\s+", "", line)
        if len(k) >= MIN_REPEATED_PARAGRAPH and k in seen_keys:
            removed += 1
            continue
        seen_keys.add(k)
        kept.append(line)
    if removed:
        counts["repeated_paragraphs_removed"] = removed
        return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), counts
    return text, counts
