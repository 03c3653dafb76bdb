"""The article itself: title, body, date, byline, genre, length."""

from __future__ import annotations

from .. import textkit as tk
from .core import Article, derivation


# -- the article itself ------------------------------------------------------------------------
@derivation("title", "the article's own title")
def _title(a: Article):
    t = (a.doc.get("title") or "").strip()
    return t if 4 <= len(t) <= 60 else None


@derivation("body", "the full text, headings as plain lines")
def _body(a: Article):
    return "\n".join(a.text_lines) or None


@derivation("published", "publication date")
def _published(a: Article):
    p = a.doc.get("published")
    return p if p and not p.startswith("2000-01-01") else None


@derivation("author", "byline")
def _author(a: Article):
    return a.doc.get("author") or None


@derivation("genre_name", "the router's genre, in Chinese")
def _genre_name(a: Article):
    return a.genre_name


@derivation("genre_judgement", "genre and the rules that decided it")
def _genre_judgement(a: Article):
    if not a.genre_evidence:
        return None
    return f"体裁：{a.genre_name}\n判断依据：" + "；".join(a.genre_evidence[:4]) + "。"


@derivation("word_count", "characters without whitespace")
def _word_count(a: Article):
    return str(tk.cjk_len(a.get("body") or ""))
