"""The cleaning steps for one raw document, a configured list (``[corpus.clean] steps``), in the spirit
of datatrove's filters: each step is a small class with a name, its own counters and its own timing.

Mappers (markup, normalize, boilerplate, t2s, pii, dedouble) change the text and count what they changed;
filters (garbled, length, cjk_ratio, dup_lines, dup_ngrams) drop a document with a reason. A user reorders
or leaves out steps by listing them, switches one off with its boolean setting, or adds one of their own as
``"package.module:ClassName"`` (a :class:`CleanStep` subclass). The default list gives the output the fixed
chain gave before it became a list.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import xxhash

from ...errors import ConfigError
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


@dataclass(frozen=True)
class Kept:
    """A document that came through reading and cleaning (the ``documents`` row)."""

    document: dict[str, Any]


@dataclass(frozen=True)
class Rejected:
    """A file, record or page that did not, with the reason and where it came from (a ``rejected`` row)."""

    reason: str
    detail: str
    source: str
    path: str
    record: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Rejected":
        return cls(row["reason"], row["detail"], row["source"], row["path"], row.get("record"))

    def write(self, ctx) -> None:
        """Into the stage's ``rejected`` output."""
        ctx.reject(self.reason, self.detail, self.record, source=self.source, path=self.path)


Outcome = Kept | Rejected


class Draft:
    """One document on its way through the steps. A paged document (a PDF) is cut into its pages the first
    time a page-wise step asks for them, so page offsets survive cleaning; until then it is one text."""

    def __init__(self, raw: RawDoc):
        self.raw = raw
        self.starts: list[int] | None = raw.meta.get("page_starts")
        self._text: str | None = raw.text or ""
        self._pages: list[str] | None = None
        self.anchors: frozenset[str] | None = None  # a web page's link texts, for the boilerplate step

    @property
    def paged(self) -> bool:
        return bool(self.starts)

    @property
    def text(self) -> str:
        return self._text if self._pages is None else "\n\n".join(self._pages)

    @property
    def pages(self) -> list[str]:
        if self._pages is None:
            self._pages = split_pages(self._text, self.starts) if self.starts else [self._text]
            self._text = None
        return self._pages

    def map_text(self, fn: Callable[[str], str]) -> None:
        """Apply a whole-text mapper: to the text while it is whole, else page by page."""
        if self._pages is None:
            self._text = fn(self._text)
        else:
            self._pages = [fn(p) for p in self._pages]

    def finish(self) -> str:
        """The cleaned text; the page offsets of a paged document are recomputed from its cleaned pages."""
        pages = self.pages
        if self.starts:
            self.raw.meta["page_starts"] = join_offsets(pages)
        return "\n\n".join(pages)


Count = Callable[..., None]  # count(name, n=1)


class CleanStep:
    """One named cleaning step. A mapper changes the text and counts what it changed; a filter returns a
    ``Dropped`` (reason, detail) or None. ``switch`` names the boolean setting that turns it off; the
    ``Cleaner`` owns the loop, the timing (``clean_us_<name>`` counters, microseconds) and the counters."""

    name = ""
    switch: str | None = None

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings

    def enabled(self) -> bool:
        return self.switch is None or bool(self.settings.get(self.switch, True))

    def __call__(self, doc: Draft, count: Count) -> Dropped | None:
        raise NotImplementedError


class Markup(CleanStep):
    """The source format's markup into text (paragraph marks are private-use characters, not damage)."""

    name = switch = "markup"

    def __call__(self, doc, count):
        found: dict[str, int] = {}
        doc.map_text(lambda t: normalize_markup(t, doc.raw.format, found))
        for kind, n in found.items():
            count(f"markup_{kind}", n)


class Filter(CleanStep):
    """A step that keeps or drops the whole document; ``check`` returns (reason, detail) to drop it."""

    def check(self, text: str) -> tuple[str, str] | None:
        raise NotImplementedError

    def __call__(self, doc, count):
        verdict = self.check(doc.text)
        return Dropped(*verdict) if verdict else None


class Garbled(Filter):
    """Drop garbled text, judged before normalisation; U+FFFD stays in the text and is counted."""

    name = "garbled"

    def __call__(self, doc, count):
        count("text_replacement_chars", doc.text.count("\ufffd"))
        return super().__call__(doc, count)

    def check(self, text):
        return quality.check_garbled(text, self.settings["max_garbled_ratio"])


class Normalize(CleanStep):
    name = switch = "normalize"

    def __call__(self, doc, count):
        pages = doc.pages
        normalized = [normalize(p) for p in pages]
        count("normalized_changed", int(normalized != pages))
        pages[:] = normalized


class Boilerplate(CleanStep):
    name = switch = "boilerplate"

    @cached_property
    def remover(self) -> BoilerplateRemover:
        return BoilerplateRemover(extra=list(self.settings.get("boilerplate_extra", [])),
                                  line_model_threshold=float(self.settings.get("line_model_threshold", 0.9)))

    def __call__(self, doc, count):
        web = doc.raw.format in ("html", "web") and not doc.paged  # an extracted web page (a crawled PDF is not)
        pages = doc.pages
        for i, page in enumerate(pages):
            pages[i], removed = self.remover.explain(page, tail=i == len(pages) - 1, head=i == 0, link_pages=web,
                                                     shapes=not doc.paged, anchors=doc.anchors if web else None,
                                                     title=doc.raw.title if i == 0 else None)
            for family, line in removed:
                count(f"boilerplate_{family}")
                if not doc.raw.author and family == "credit" and "评论员" in line:
                    doc.raw.author = line.strip()  # the line goes, its author stays: 本报评论员 marks a commentary
            count("boilerplate_lines_removed", len(removed))


class TraditionalToSimplified(CleanStep):
    name = switch = "t2s"

    @cached_property
    def converter(self):
        from opencc import OpenCC

        return OpenCC("t2s")

    def __call__(self, doc, count):
        pages = doc.pages
        converted = [self.converter.convert(p) for p in pages]
        count("t2s_converted", int(converted != pages))
        pages[:] = converted


class MaskPII(CleanStep):
    name = switch = "pii"

    def __call__(self, doc, count):
        pages = doc.pages
        for i, page in enumerate(pages):
            pages[i], found = pii.mask(page)
            for kind, n in found.items():
                count(f"pii_masked_{kind}", n)


class Dedouble(CleanStep):
    """A body printed twice keeps one copy (not for paged documents: a PDF repeats running heads)."""

    name = switch = "dedouble"

    def __call__(self, doc, count):
        if doc.paged:
            return None
        pages = doc.pages
        pages[0], found = quality.dedouble(pages[0])
        for kind, n in found.items():
            count(kind, n)


class Length(Filter):
    name = "length"

    def check(self, text):
        return quality.check_length(text, self.settings["min_chars"], self.settings["max_chars"])


class CjkRatio(Filter):
    name = "cjk_ratio"

    def check(self, text):
        return quality.check_cjk(text, self.settings["min_cjk_ratio"])


class DupLines(Filter):
    name = "dup_lines"

    def check(self, text):
        return quality.check_dup_lines(text, self.settings["max_dup_line_ratio"])


class DupNgrams(Filter):
    name = "dup_ngrams"

    def check(self, text):
        return quality.check_dup_ngrams(text, self.settings["dup_ngram_n"], self.settings["max_dup_ngram_ratio"])


STEPS: dict[str, type[CleanStep]] = {cls.name: cls for cls in (
    Markup, Garbled, Normalize, Boilerplate, TraditionalToSimplified, MaskPII, Dedouble, Length, CjkRatio, DupLines, DupNgrams)}
DEFAULT_STEPS = ("markup", "garbled", "normalize", "boilerplate", "t2s", "pii", "dedouble",
                 "length", "cjk_ratio", "dup_lines", "dup_ngrams")


def step_class(entry: str) -> type[CleanStep]:
    """A step by its built-in name, or a user's ``package.module:ClassName`` (a ``CleanStep`` subclass)."""
    if entry in STEPS:
        return STEPS[entry]
    if ":" not in entry:
        raise ConfigError(f"corpus.clean.steps: unknown step '{entry}' (built-in: {', '.join(STEPS)}; "
                          "or 'package.module:ClassName')")
    module, _, attr = entry.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"corpus.clean.steps: cannot load '{entry}': {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, CleanStep)):
        raise ConfigError(f"corpus.clean.steps: '{entry}' is not a CleanStep subclass")
    return cls


def configured_steps(settings: dict[str, Any]) -> list[CleanStep]:
    """The steps in their configured order, those switched off left out."""
    steps = [step_class(entry)(settings) for entry in settings.get("steps") or DEFAULT_STEPS]
    return [step for step in steps if step.enabled()]


@dataclass
class Cleaner:
    settings: dict[str, Any]

    @cached_property
    def steps(self) -> list[CleanStep]:
        return configured_steps(self.settings)

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
        """Return (cleaned text, None) or (text so far, Dropped), running the configured steps in order."""

        def count(name: str, n: int = 1) -> None:
            if n:
                counters[name] = counters.get(name, 0) + n

        for name, n in raw.meta.pop("_counts", {}).items():  # the reader's decoding counters
            count(name, n)
        anchors = raw.meta.pop("_anchors", None)  # a web page's link texts (extract.page_anchors)
        doc = Draft(raw)
        doc.anchors = anchors
        for step in self.steps:
            t0 = time.perf_counter_ns()
            dropped = step(doc, count)
            count(f"clean_us_{step.name}", (time.perf_counter_ns() - t0) // 1000)
            if dropped:
                return doc.text, dropped
        return doc.finish(), None


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
