"""The corpus-level pass of the ``repeated_across_pages`` boilerplate family (see builder/text/boilerplate_repeats.py).

Kept documents are held in a spill file in the stage's cache folder while their line keys are counted per
group (the page's host, else the source); once every file is read, the lines that stand in ``min_docs`` or
more documents of a group are removed where furniture sits, and the documents are written. The spill holds
one pickled document at a time, so memory stays flat in corpus size except for the key array (8 bytes per
short line). Counted: ``boilerplate_repeated_across_pages`` (lines), ``repeated_across_pages_documents``
(documents changed); the report's ``repeated_lines`` table lists the lines removed most, with their group and
how many documents held them.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from ...text.boilerplate_repeats import RepeatCounter, line_keys, strip_repeated
from .clean import doc_id

SKIP_FORMATS = ("pdf",)  # a PDF's running headers and footers have their own step (per page, in the reader)
TOP_LINES = 50


def group_of(doc: dict[str, Any]) -> str:
    """The host a document came from (its page's host, or its record's url), else its source."""
    try:
        meta = json.loads(doc.get("meta") or "{}")
    except ValueError:
        meta = {}
    host = meta.get("hostname") or (urlsplit(str(meta.get("url") or "")).hostname if meta.get("url") else None)
    return f"{doc.get('source')}\0{(host or '').lower()}"


class RepeatPass:
    def __init__(self, ctx, min_docs: int):
        self.ctx = ctx
        self.counter = RepeatCounter(min_docs)
        self.spill = tempfile.NamedTemporaryFile(prefix="repeats-", suffix=".pkl", dir=ctx.cache_dir, delete=False)
        self.held = 0

    def hold(self, doc: dict[str, Any]) -> None:
        if doc.get("format") not in SKIP_FORMATS:
            self.counter.add(line_keys(group_of(doc), doc.get("text") or ""))
        pickle.dump(doc, self.spill, protocol=pickle.HIGHEST_PROTOCOL)
        self.held += 1

    def discard(self) -> None:
        self.spill.close()
        try:
            os.unlink(self.spill.name)
        except FileNotFoundError:
            pass

    def release(self, min_chars: int) -> None:
        """Strip the repeated lines and keep (or reject) every held document."""
        ctx = self.ctx
        self.spill.close()
        repeated = self.counter.repeated()
        removed_lines: Counter = Counter()
        groups: dict[str, str] = {}
        try:
            with open(self.spill.name, "rb") as fh:
                for _ in range(self.held):
                    doc = pickle.load(fh)
                    if repeated and doc.get("format") not in SKIP_FORMATS:
                        group = group_of(doc)
                        text, removed = strip_repeated(group, doc["text"], repeated)
                        if removed:
                            ctx.count("boilerplate_repeated_across_pages", len(removed))
                            ctx.count("boilerplate_lines_removed", len(removed))
                            ctx.count("repeated_across_pages_documents")
                            for line in removed:
                                removed_lines[(group, line)] += 1
                                groups.setdefault(group, group.replace("\0", " "))
                            if len(text) < min_chars:  # the record keeps the text as it was, for review
                                ctx.reject("dropped_too_short", f"{len(text)} characters < min_chars {min_chars} once the "
                                           f"lines repeated across pages ({len(removed)}) were removed", doc)
                                continue
                            doc = dict(doc, text=text, content_hash=doc_id(text))
                    ctx.keep(doc)
        finally:
            self.discard()
        if removed_lines:
            top = removed_lines.most_common(TOP_LINES)
            ctx.report_table("repeated_lines", pl.DataFrame(
                {"group": [groups[g].strip() for (g, _), _ in top], "line": [line for (_, line), _ in top],
                 "documents": [n for _, n in top]},
                schema={"group": pl.String, "line": pl.String, "documents": pl.Int64}))
            ctx.note(f"{sum(removed_lines.values())} lines repeated across pages of one site removed from "
                     f"{ctx.counters['repeated_across_pages_documents']} documents (repeated_across_pages = "
                     f"{self.counter.min_docs}); the most frequent: {top[0][0][1][:40]!r}")
