"""Documents -> chunks: source text packed into contexts by a token budget, with provenance.

Short documents are packed whole, several to a chunk; a document over the budget gets chunks of its
own, cut at paragraph boundaries, then at sentence ends (。！？ …), and only as a last resort inside a
sentence. Nothing is lost: the last chunk is always emitted. An optional overlap repeats the last whole
units of a long document's previous chunk. Tokens are counted with tiktoken (cl100k, offline).
Documents are packed only with documents of the same pack group (``group``: for the build, the side the
split rule fixes, so a chunk never mixes validation and train text; a document whose side the floor may
still change has group None and is never packed with another). Every chunk keeps its document ids, where each packed document's text lies in the chunk (``doc_spans``,
so an item can be credited to the document it was written from) and, for PDFs, the 1-based pages its
text comes from.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Iterator

import xxhash

from ...text.sentences import sentence_spans
from ...text.tokens import count_tokens

SEPARATOR = "\n\n"
ALONE = object()  # the pack key of a document that shares its chunk with none


@dataclass
class Chunk:
    index: int
    text: str
    doc_ids: list[str]
    pages: dict[str, list[int]] = field(default_factory=dict)
    tokens: int = 0
    source: str | None = None
    part: str = ""  # "2/5" for the parts of a long document
    doc_spans: list[tuple[int, int]] = field(default_factory=list)  # [start, end) of each document's text, by doc_ids

    def doc_texts(self) -> list[str]:
        """The text of each of the chunk's documents (header included), in the order of ``doc_ids``."""
        if len(self.doc_spans) != len(self.doc_ids):
            return [self.text] if len(self.doc_ids) == 1 else [self.text] * len(self.doc_ids)
        return [self.text[a:b] for a, b in self.doc_spans]

    @property
    def id(self) -> str:
        return xxhash.xxh3_64_hexdigest(("\0".join(self.doc_ids) + "\0" + self.text).encode("utf-8"))


@dataclass
class _Unit:
    text: str
    start: int
    end: int
    tokens: int


def page_starts(meta: str | None) -> list[int] | None:
    if not meta:
        return None
    try:
        starts = json.loads(meta).get("page_starts")
    except (ValueError, AttributeError):
        return None
    return starts if isinstance(starts, list) and starts else None


def pages_of(starts: list[int] | None, start: int, end: int) -> list[int]:
    """1-based pages that the text range [start, end) of a document touches."""
    if not starts:
        return []
    first = bisect.bisect_right(starts, start) - 1
    last = bisect.bisect_right(starts, max(start, end - 1)) - 1
    return list(range(max(first, 0) + 1, max(last, 0) + 2))


def _hard_cut(text: str, start: int, budget: int) -> Iterator[_Unit]:
    """A run of text with no sentence end, cut into pieces of at most ``budget`` tokens."""
    pos = 0
    while pos < len(text):
        size = len(text) - pos
        while True:
            piece = text[pos : pos + size]
            n = count_tokens(piece)
            if n <= budget or size <= 1:
                break
            size = max(1, int(size * budget / n * 0.95))
        yield _Unit(piece, start + pos, start + pos + len(piece), n)
        pos += size


def units(text: str, budget: int) -> Iterator[_Unit]:
    """Paragraphs of at most ``budget`` tokens; a longer paragraph is cut at sentence ends."""
    for m in re.finditer(r"[^\n]+", text):
        para = m.group(0)
        if not para.strip():
            continue
        n = count_tokens(para)
        if n <= budget:
            yield _Unit(para, m.start(), m.end(), n)
            continue
        for a, b in sentence_spans(para):
            sent = para[a:b]
            k = count_tokens(sent)
            if k <= budget:
                yield _Unit(sent, m.start() + a, m.start() + b, k)
            else:
                yield from _hard_cut(sent, m.start() + a, budget)


def header(title: str | None) -> str:
    return f"【{title.strip()}】\n" if title and title.strip() else ""


class Chunker:
    """Feed documents in order with :meth:`add`; chunks come out as they fill; :meth:`finish` flushes the rest.

    ``group`` maps a document to its pack group: short documents share a chunk only with documents of the
    same group, and a document whose group is None shares with none. Default: one group for all.
    """

    def __init__(self, budget: int, overlap: int = 0, group: Callable[[dict[str, Any]], Hashable | None] | None = None):
        self.budget = budget
        self.overlap = min(overlap, budget // 2)
        self.index = 0
        self.group = group or (lambda doc: "")
        self._packs: dict[Hashable, list[tuple[dict[str, Any], str, int]]] = {}  # group -> (doc, text with header, tokens)
        self._pack_tokens: dict[Hashable, int] = {}

    def _emit(self, text: str, doc_ids: list[str], pages: dict[str, list[int]], tokens: int, source: str | None,
              part: str = "", spans: list[tuple[int, int]] | None = None) -> Chunk:
        chunk = Chunk(self.index, text, doc_ids, pages, tokens, source, part, spans or [(0, len(text))])
        self.index += 1
        return chunk

    def _flush_pack(self, key: Hashable) -> Iterator[Chunk]:
        pack = self._packs.pop(key, None)
        tokens = self._pack_tokens.pop(key, 0)
        if not pack:
            return
        docs = [d for d, _, _ in pack]
        pages = {}
        for d in docs:
            starts = page_starts(d.get("meta"))
            if starts:
                pages[d["id"]] = list(range(1, len(starts) + 1))
        text = SEPARATOR.join(t for _, t, _ in pack)
        spans, pos = [], 0
        for _, t, _ in pack:
            spans.append((pos, pos + len(t)))
            pos += len(t) + len(SEPARATOR)
        yield self._emit(text, [d["id"] for d in docs], pages, tokens, docs[0].get("source"), spans=spans)

    def add(self, doc: dict[str, Any]) -> Iterator[Chunk]:
        body = (doc.get("text") or "").strip()
        if not body:
            return
        head = header(doc.get("title"))
        whole = head + body
        n = count_tokens(whole)
        key = self.group(doc)
        if n <= self.budget:
            if key is None:  # packed with nothing: a chunk of its own
                self._packs[ALONE], self._pack_tokens[ALONE] = [(doc, whole, n)], n
                yield from self._flush_pack(ALONE)
                return
            pack = self._packs.get(key)
            sep = 1 if pack else 0
            if pack and self._pack_tokens[key] + sep + n > self.budget:
                yield from self._flush_pack(key)
                sep = 0
            self._packs.setdefault(key, []).append((doc, whole, n))
            self._pack_tokens[key] = self._pack_tokens.get(key, 0) + sep + n
            return
        if key is not None:
            yield from self._flush_pack(key)
        yield from self._split_long(doc, head, doc.get("text") or "")

    def _split_long(self, doc: dict[str, Any], head: str, text: str) -> Iterator[Chunk]:
        head_tokens = count_tokens(head) if head else 0
        room = max(16, self.budget - head_tokens)
        starts = page_starts(doc.get("meta"))
        parts: list[list[_Unit]] = []
        current: list[_Unit] = []
        used = 0
        for u in units(text, room):
            cost = u.tokens + (1 if current else 0)
            if current and used + cost > room:
                parts.append(current)
                carry: list[_Unit] = []
                carried = 0
                for prev in reversed(current):  # overlap: whole units from the end of the previous chunk
                    if carried + prev.tokens + 1 > self.overlap or carried + prev.tokens + 1 + u.tokens > room:
                        break
                    carry.insert(0, prev)
                    carried += prev.tokens + 1
                current, used = carry, carried
                cost = u.tokens + (1 if current else 0)
            current.append(u)
            used += cost
        if current:
            parts.append(current)
        for k, part in enumerate(parts, 1):
            body = "\n".join(u.text for u in part)
            pages = {doc["id"]: pages_of(starts, part[0].start, part[-1].end)} if starts else {}
            yield self._emit(head + body, [doc["id"]], pages, head_tokens + sum(u.tokens for u in part) + len(part) - 1,
                             doc.get("source"), f"{k}/{len(parts)}")

    def finish(self) -> Iterator[Chunk]:
        for key in list(self._packs):
            yield from self._flush_pack(key)


def chunk_documents(docs: Iterable[dict[str, Any]], budget: int, overlap: int = 0,
                    group: Callable[[dict[str, Any]], Hashable | None] | None = None) -> Iterator[Chunk]:
    """All chunks of the documents, in order; the last one is never lost. ``group``: see :class:`Chunker`."""
    chunker = Chunker(budget, overlap, group)
    for doc in docs:
        yield from chunker.add(doc)
    yield from chunker.finish()
