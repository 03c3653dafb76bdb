"""Chinese sentences: split at 。！？ (and ……) outside quotations, keeping a closing quote attached.

One splitter for the project: templates derive inputs from sentences, selfinstruct cuts over-long
paragraphs at sentence ends (it needs the offsets, hence ``sentence_spans``).
"""

from __future__ import annotations

SENTENCE_END = set("。！？!?")
OPEN_QUOTES = "“‘「『《（("
CLOSE_QUOTES = "”’」』》）)"
_PAIR = dict(zip(OPEN_QUOTES, CLOSE_QUOTES))
_CLOSERS = "”’」』"


def _emit(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append((start, end))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed; a newline always ends a sentence."""
    out: list[tuple[int, int]] = []
    stack: list[str] = []
    start, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _PAIR and ch not in "（(":
            stack.append(_PAIR[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
        elif ch in _CLOSERS and stack:  # a stray closing mark: recover
            stack.clear()
        end = ch in SENTENCE_END or (ch == "…" and i + 1 < n and text[i + 1] == "…")
        if ch == "…" and end:
            i += 1
        if end and not stack:
            # keep runs like ！？ and a directly following closing quote
            while i + 1 < n and (text[i + 1] in SENTENCE_END or text[i + 1] in _CLOSERS):
                i += 1
            _emit(text, start, i + 1, out)
            start = i + 1
        elif ch == "\n":
            _emit(text, start, i, out)
            start, stack = i + 1, []
        i += 1
    _emit(text, start, n, out)
    return out


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]
