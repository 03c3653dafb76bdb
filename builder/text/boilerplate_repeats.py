"""Furniture found by repetition across the pages of one site: the ``repeated_across_pages`` rule family.

A line that stands in many documents of one host (or of one source, when documents carry no host) is the
site's, not the article's: a menu, a footer, a credits template (初审：… 复审：… 终审：…), a follow prompt, a
promo line pasted into every article. It needs no word list, so it catches furniture no rule has seen.

Two passes over a build: :func:`line_keys` gives the keys of a document's lines (computed where the document
is cleaned), :class:`RepeatCounter` counts in how many documents of a group each key stands, and
:func:`strip_repeated` removes the lines whose key reaches ``min_docs`` documents, where they sit:

- in the leading block (before the first prose line that is not itself repeated) and the trailing block
  (after the last one): any repeated line but a paragraph (a sentence of more than ``MAX_EDGE_SENTENCE``
  characters: the same story reposted under another lead keeps its text, dedup decides on it);
- between them only a repeated line that is not prose (no sentence of 16+ characters), at least
  ``MIN_MID_CHARS`` long and not a numbered heading (一、基本情况 recurs in a site's notices and is theirs).

A body sentence quoted in a few articles of one site stands in the middle of each and is prose, so it stays.
Keys fold spaces, and digits in lines that are not sentences (发布时间：2025-06-03 16:20 and …06-05 10:02 are
one template). A page whose every sentence is repeated (a template page, a copy) loses only its non-sentences.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable

import xxhash

from .boilerplate import is_prose

MAX_LINE = 200  # longer lines are paragraphs, never counted
MIN_MID_CHARS = 8  # a repeated line inside the body goes only when at least this long
# a repeated sentence at the edges goes only when short (本文系某某原创，转载请注明出处。); a repeated paragraph is a
# copied article (the same wire story under another lead), which dedup decides on, not this pass
MAX_EDGE_SENTENCE = 60
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_NUMBERED_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[、.．]|第[一二三四五六七八九十\d]+[章节部分条])")


def line_key(group: str, line: str) -> int | None:
    """The key of one line in its group (host or source); None for a blank or long line. Digits are folded in
    lines that are not sentences (a date, a counter); a sentence keeps them (气温25度 and 气温27度 differ)."""
    s = line.strip()
    if not s or len(s) > MAX_LINE:
        return None
    folded = s if is_prose(s) else _DIGITS.sub("0", s)
    return xxhash.xxh3_64_intdigest(f"{group}\0{_SPACE.sub('', folded)}".encode("utf-8"))


def line_keys(group: str, text: str) -> list[int]:
    """The distinct keys of a document's lines (a line twice in one page counts once)."""
    return sorted({k for k in (line_key(group, line) for line in text.split("\n")) if k is not None})


class RepeatCounter:
    """Counts, for each line key, the documents it stands in. Memory: 8 bytes per (document, line) pair
    until :meth:`repeated`, which keeps only the keys that reach ``min_docs``."""

    def __init__(self, min_docs: int = 3):
        self.min_docs = min_docs
        self.keys = array("Q")

    def add(self, keys: Iterable[int]) -> None:
        self.keys.extend(keys)

    def repeated(self) -> set[int]:
        if len(self.keys) < self.min_docs:
            return set()
        import numpy as np

        values, counts = np.unique(np.frombuffer(self.keys, dtype=np.uint64), return_counts=True)
        self.keys = array("Q")
        return set(values[counts >= self.min_docs].tolist())


def strip_repeated(group: str, text: str, repeated: set[int]) -> tuple[str, list[str]]:
    """The text without the repeated lines that sit where furniture sits; returns (text, removed lines)."""
    lines = text.split("\n")
    keys = [line_key(group, line) for line in lines]
    hit = [k is not None and k in repeated for k in keys]
    if not any(hit):
        return text, []
    anchors = [i for i, line in enumerate(lines) if not hit[i] and is_prose(line.strip())]
    # no sentence of its own: a template page (or a copy); only its non-sentences may go, the rest is dedup's
    lo, hi = (anchors[0], anchors[-1]) if anchors else (-1, len(lines))
    drop = set()
    for i, line in enumerate(lines):
        if not hit[i]:
            continue
        s = line.strip()
        prose = is_prose(s)
        if (i < lo or i > hi) and (not prose or len(s) <= MAX_EDGE_SENTENCE):
            drop.add(i)
        elif not prose and len(s) >= MIN_MID_CHARS and not _NUMBERED_HEADING.match(s):
            drop.add(i)
    if not drop:
        return text, []
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return "\n".join(kept).strip(), [lines[i].strip() for i in sorted(drop)]
