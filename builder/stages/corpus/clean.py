"""The cleaning chain for one raw document: each rule is a named step with its own counter.

Mappers (normalize, boilerplate, t2s, pii) change the text and count what they changed; filters
(length, cjk ratio, repeated lines, repeated n-grams, garbled) drop a document with a reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import xxhash

from ...text import pii, quality
from ...text.boilerplate import BoilerplateRemover
from ...text.markup import field_text, normalize_markup
from ...text.normalize import normalize
from .extract import RawDoc


def doc_id(text: str) -> str:
    """Content hash of the cleaned text (the ``content_hash`` column; exact duplicates share it)."""
    return xxhash.xxh3_64_hexdigest(text.encode("utf-8"))


def record_id(source: str, path: str) -> str:
    """The document id: unique per build, from where the document came (source, file or URL, record or
    page-range suffix), so the same text from two sources is two documents with one content_hash."""
    return xxhash.xxh3_64_hexdigest(f"{source}\0{path}".encode("utf-8"))


def split_pages(text: str, starts: list[int]) -> list[str]:
    """The pages of a text joined with blank lines, cut at their recorded start offsets."""
    ends = [max(st - 2, 0) for st in starts[1:]] + [len(text)]
    return [text[st:end] for st, end in zip(starts, ends)]


def join_offsets(pages: list[str]) -> list[int]:
    """Start offset of each page in ``"\n\n".join(pages)``."""
    out, pos = [], 0
    for page in pages:
        out.append(pos)
        pos += len(page) + 2
    return out


def split_long(raws: list[RawDoc], settings: dict[str, Any], counters: dict[str, int]) -> list[RawDoc]:
    """A paged document (PDF) longer than max_chars becomes page-range documents of at most max_chars each
    (``#pages=3-40`` in the path, ``page_range`` in meta) instead of being dropped whole."""
    limit = settings.get("max_chars", 0)
    if not settings.get("split_long_documents", True) or not limit:
        return raws
    out: list[RawDoc] = []
    for raw in raws:
        starts = raw.meta.get("page_starts")
        if not starts or len(raw.text) <= limit or len(starts) < 2:
            out.append(raw)
            continue
        pages = split_pages(raw.text, starts)
        groups: list[list[int]] = [[]]
        size = 0
        for i, page in enumerate(pages):
            if groups[-1] and size + len(page) + 2 > limit:
                groups.append([])
                size = 0
            groups[-1].append(i)
            size += len(page) + 2
        counters["split_long_documents"] = counters.get("split_long_documents", 0) + 1
        counters["split_parts"] = counters.get("split_parts", 0) + len(groups)
        base = {k: v for k, v in raw.meta.items() if k not in ("page_starts", "_counts")}
        for n, group in enumerate(groups):
            part = [pages[i] for i in group]
            first, last = group[0] + 1, group[-1] + 1
            meta = dict(base, page_starts=join_offsets(part), page_range=[first, last], part=n + 1, parts=len(groups))
            if n == 0 and "_counts" in raw.meta:
                meta["_counts"] = raw.meta["_counts"]
            out.append(RawDoc(text="\n\n".join(part), title=raw.title, published=raw.published, author=raw.author,
                              format=raw.format, path_suffix=f"{raw.path_suffix}#pages={first}-{last}", meta=meta))
    return out


@dataclass
class Dropped:
    reason: str
    detail: str


@dataclass
class Cleaner:
    settings: dict[str, Any]

    @cached_property
    def boilerplate(self) -> BoilerplateRemover:
        return BoilerplateRemover(extra=list(self.settings.get("boilerplate_extra", [])))

    @cached_property
    def t2s(self):
        from opencc import OpenCC

        return OpenCC("t2s")

    def clean_field(self, value: str | None) -> str | None:
        value = field_text(value) if value else None
        if not value:
            return None
        value = normalize(value, keep_cjk_spaces=True).replace("\n", " ").strip()
        if self.settings["t2s"]:
            value = self.t2s.convert(value)
        return value or None

    def __call__(self, raw: RawDoc, counters: dict[str, int]) -> tuple[str, Dropped | None]:
        """Return (cleaned text, None) or (text so far, Dropped)."""
        s = self.settings
        text = raw.text or ""

        def bump(name: str, n: int = 1) -> None:
            if n:
                counters[name] = counters.get(name, 0) + n

        for name, n in raw.meta.pop("_counts", {}).items():  # the reader's decoding counters
            bump(name, n)
        # markup of the source format first: paragraph marks are private-use characters, not damage
        if s.get("markup", True):
            found: dict[str, int] = {}
            text = normalize_markup(text, raw.format, found)
            for kind, n in found.items():
                bump(f"markup_{kind}", n)
        # garbled text is judged before normalisation; U+FFFD stays in the text and is counted, never dropped silently
        bump("text_replacement_chars", text.count("\ufffd"))
        g = quality.check_garbled(text, s["max_garbled_ratio"])
        if g:
            return text, Dropped(*g)
        # mappers run page by page when the document has pages, so page offsets survive cleaning
        starts = raw.meta.get("page_starts")
        pages = split_pages(text, starts) if starts else [text]
        if s["normalize"]:
            normalized = [normalize(p) for p in pages]
            bump("normalized_changed", int(normalized != pages))
            pages = normalized
        if s["boilerplate"]:
            web = raw.format in ("html", "web") and not starts  # an extracted web page (a crawled PDF is not)
            for i, page in enumerate(pages):
                pages[i], removed = self.boilerplate.explain(page, tail=i == len(pages) - 1, head=i == 0,
                                                                  link_pages=web)
                for family, _ in removed:
                    bump(f"boilerplate_{family}")
                bump("boilerplate_lines_removed", len(removed))
        if s["t2s"]:
            converted = [self.t2s.convert(p) for p in pages]
            bump("t2s_converted", int(converted != pages))
            pages = converted
        if s["pii"]:
            for i, page in enumerate(pages):
                pages[i], found = pii.mask(page)
                for kind, n in found.items():
                    bump(f"pii_masked_{kind}", n)
        if s.get("dedouble", True) and not starts:
            pages[0], found = quality.dedouble(pages[0])
            for kind, n in found.items():
                bump(kind, n)
        text = "\n\n".join(pages)
        if starts:
            raw.meta["page_starts"] = join_offsets(pages)
        for check in (lambda t: quality.check_length(t, s["min_chars"], s["max_chars"]),
                      lambda t: quality.check_cjk(t, s["min_cjk_ratio"]),
                      lambda t: quality.check_dup_lines(t, s["max_dup_line_ratio"]),
                      lambda t: quality.check_dup_ngrams(t, s["dup_ngram_n"], s["max_dup_ngram_ratio"])):
            verdict = check(text)
            if verdict:
                return text, Dropped(*verdict)
        return text, None


def to_document(raw: RawDoc, text: str, cleaner: Cleaner, source: dict[str, Any], path: str) -> dict[str, Any]:
    meta = dict(source.get("meta") or {})
    meta.update(raw.meta)
    if source.get("license"):
        meta.setdefault("license", source["license"])
    title = cleaner.clean_field(raw.title)
    if title and cleaner.settings["pii"]:
        title, _ = pii.mask(title)
    if title:  # extractors often repeat the headline as the first line of the body
        first, _, rest = text.partition("\n")
        if first.strip() == title and rest.strip():
            cut = len(text) - len(rest.strip())
            text = rest.strip()
            if "page_starts" in meta:
                meta["page_starts"] = [max(st - cut, 0) for st in meta["page_starts"]]
    author = cleaner.clean_field(raw.author)
    if author and cleaner.settings["pii"]:
        author, _ = pii.mask(author)
    return {
        "id": record_id(source["name"], path + raw.path_suffix),
        "content_hash": doc_id(text),
        "source": source["name"],
        "path": path + raw.path_suffix,
        "title": title,
        "text": text,
        "published": raw.published,
        "author": author,
        "format": raw.format,
        "meta": json.dumps(meta, ensure_ascii=False, sort_keys=True),
    }
