"""An article and the named derivations a template may use (``{{ lead }}``, ``{{ keywords }}`` …).

The derivations live in this package's modules, one per kind of article part (article, lead,
facts, commentary, structure, knowledge, exercises); importing the package registers them all.

A derivation takes an ``Article`` and returns a string, a list (for ``each`` sub-categories: one item
per element) or ``None`` when the article does not have it; ``None`` or an empty value routes the
article away from every sub-category that requires it, with a counted reason (``missing_<name>``).
Values are computed once per article, and only when a template asks for them.
"""

from __future__ import annotations

import random
import re
from typing import Any, Callable

import xxhash

from .. import textkit as tk

Derivation = Callable[["Article"], Any]
DERIVATIONS: dict[str, Derivation] = {}
DESCRIPTIONS: dict[str, str] = {}


def derivation(name: str, doc: str):
    def deco(fn: Derivation) -> Derivation:
        DERIVATIONS[name] = fn
        DESCRIPTIONS[name] = doc
        return fn
    return deco


class Article:
    """A corpus document, its genre and lazily computed derivations."""

    def __init__(self, doc: dict[str, Any], genre: str = "news", genre_name: str = "新闻",
                 genre_evidence: tuple[str, ...] = (), topic_of: Callable[..., str | None] | None = None):
        self.doc = doc
        self.id = doc["id"]
        self.genre = genre
        self.genre_name = genre_name
        self.genre_evidence = genre_evidence
        self._topic_of = topic_of
        self._cache: dict[str, Any] = {}
        self.dateline = ""
        self.blocks = self._blocks()

    def get(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = DERIVATIONS[name](self)
        return self._cache[name]

    def rng(self, salt: str) -> random.Random:
        return random.Random(xxhash.xxh3_64_intdigest(f"{self.id}:{salt}".encode("utf-8")))

    # -- structure -------------------------------------------------------------------------------
    def _blocks(self) -> list[tuple[str, str]]:
        """('heading'|'para', text) in order; a first line repeating the title is dropped, the dateline kept aside."""
        title = tk.clean_residue(self.doc.get("title") or "").strip()
        out: list[tuple[str, str]] = []
        lines = tk.page_lines(tk.split_paragraphs(tk.chinese_quotes(tk.clean_residue(self.doc.get("text") or ""))))
        if lines and title:  # a photo wire's caption head: 临沂（山东），2012年6月4日<the headline> before the text
            lines[0] = re.sub(r"^" + tk._HAN + r"{2,6}[（(]" + tk._HAN + r"{2,4}[）)][，,]\s*\d{4}年\d{1,2}月\d{1,2}日\s*" + re.escape(title) + r"\s*",
                              "", lines[0]) or lines[0]
        for i, p in enumerate(lines):
            if i == 0 and title and _same_headline(p, title):
                continue
            if not out and not self.dateline:  # the dateline (本报讯, **央视网消息**（新闻联播）：) is the outlet's, never an answer's
                self.dateline, p = tk.split_dateline(p)
            m = tk.MD_HEADING.match(p)
            if m:
                out.append(("heading", m.group(1)))
                continue
            n = tk.NUMBERED.match(p)
            if n and len(p) <= 30 and not re.search(r"[。！？]", p[:-1]):
                out.append(("heading", p.rstrip("。：:")))
                continue
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            # quotation marks for emphasis may stand in one (我们身边的“渡口”, blind round 25: a section ran on past it);
            # a line that is all one quotation is speech
            if (out and len(p) <= 16 and not re.search(r"[，。！？：；、,.!?:;]", p) and not re.fullmatch(r"“[^“”]*”", p)
                    and not re.search(r"[以的和与在了是为对从将把被及或等]$", p) and not re.match(r"[为以和与的及或并而]", nxt)):
                out.append(("heading", p))  # a markdown heading whose ## the corpus stage removed (not a line broken mid-sentence)
                continue
            out.append(("para", p))
        return out

    @property
    def tokens(self) -> list[tuple[str, str]]:
        """jieba tokens of the title and every block, each cut once."""
        if "_tokens" not in self._cache:
            self._cache["_tokens"] = tk.tokens_of([self.doc.get("title") or ""] + self.text_lines)
        return self._cache["_tokens"]

    @property
    def paragraphs(self) -> list[str]:
        return [t for k, t in self.blocks if k == "para"]

    @property
    def text_lines(self) -> list[str]:
        return [t for _, t in self.blocks]




def _same_headline(line: str, title: str) -> bool:
    """The first line repeats the title (exactly, or as a variant of it: most characters shared, no full stop)."""
    a, b = line.replace(" ", ""), title.replace(" ", "")
    if a == b:
        return True
    if len(a) > 60 or "。" in a:
        return False
    return len(set(a) & set(b)) >= 0.7 * len(set(b))


def numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def first_sentence(p: str) -> str:
    s = tk.split_sentences(p)
    return s[0] if s else p
