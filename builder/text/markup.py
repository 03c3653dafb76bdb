"""Markup left in text by its source format, turned into plain text and counted by kind.

- ``paragraph_mark``: private-use characters that dumps use as paragraph marks (U+E40C in SogouCA)
  become paragraph breaks, before the garbled-text check could count them as damage;
- ``cdata``, ``html_tag``, ``html_entity``: HTML inside record fields and feed descriptions
  (``<![CDATA[…]]>``, ``<p>``, ``<br>``, ``&nbsp;``); block tags become line breaks, script/style go whole;
- ``md_heading``, ``md_emphasis``, ``md_link``, ``md_image``, ``md_list``, ``md_quote``, ``md_code``,
  ``md_rule``: markdown syntax becomes the text it marks up;
- ``null_literal``: ``None``/``null``/``nan`` rendered by whoever dumped the data (``标题：None``) is removed
  with its label;
- ``layout_marker``: ``[Table_Title]``-style placeholders in the text layer of generated PDF reports;
- ``layout_cell``: a layout table (a page laid out in ``<table>`` cells) rendered as ``| text |`` rows: a row
  with one non-empty cell becomes its text, a row of empty cells goes; rows of two or more cells are tables.

Each pass is guarded by a cheap membership test, so text without markup costs one scan per kind.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

# private-use code points seen as paragraph marks in Chinese dumps (SogouCA: U+E40C)
PARAGRAPH_MARKS = "\ue40c"
_PARA_MARK = re.compile(f"[ \u3000]*[{PARAGRAPH_MARKS}]+[ \u3000]*")

_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_DROP_ELEMENTS = re.compile(r"<(script|style|noscript|iframe)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BLOCK_TAGS = ("p|div|br|hr|li|ul|ol|h[1-6]|tr|table|section|article|blockquote|figure|figcaption|header|footer|"
               "dd|dt|dl|pre|center")
_INLINE_TAGS = "a|span|strong|b|i|em|u|font|img|sup|sub|small|big|td|th|tbody|thead|code|mark|s|strike|label|video|source|audio|wbr|o:p"
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCK_TAGS})\b[^<>]*/?>", re.I)
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE_TAGS})\b[^<>]*/?>", re.I)
_ENTITY = re.compile(r"&(?:[A-Za-z]{2,8}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});")

_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$", re.M)
_MD_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.S)
# single-star emphasis only around text with a Han character, so 3*4*5 and file globs stay
_MD_ITALIC = re.compile(r"(?<![*A-Za-z0-9_])\*(?=[^\s*])([^*\n]*?[\u4e00-\u9fff][^*\n]*?)(?<=[^\s*])\*(?![*A-Za-z0-9_])")
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_MD_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\((?:[^()\n]|\([^)\n]*\))*\)")
_MD_REF_DEF = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S+.*$", re.M)
_MD_LIST = re.compile(r"^[ \t]*[-*+•][ \t]+(?=\S)", re.M)
_MD_QUOTE = re.compile(r"^[ \t]*>[ \t]?", re.M)
_MD_FENCE = re.compile(r"^[ \t]*(```|~~~).*$", re.M)
_MD_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_MD_RULE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.M)

NULL_WORDS = ("None", "null", "NULL", "Null", "nan", "NaN", "undefined")
_NULL = "(?:None|null|NULL|Null|nan|NaN|undefined)"
# "标题：None" as a whole line, or "作者：None，" inside a line (label of up to 8 characters)
_NULL_LINE = re.compile(rf"^[ \t]*[^\n:：，。]{{1,8}}[:：][ \t]*{_NULL}[ \t]*$\n?", re.M)
_NULL_FIELD = re.compile(rf"(?:(?<=^)|(?<=[\s，,；;。]))[^\s:：，。；;]{{1,8}}[:：][ \t]*{_NULL}(?![A-Za-z0-9_])[ \t]*[，,；;]?[ \t]*", re.M)
_NULL_BARE = re.compile(rf"^[ \t]*{_NULL}[ \t]*$\n?", re.M)


def _sub(pattern: re.Pattern, repl, text: str, counts: dict[str, int], kind: str) -> str:
    text, n = pattern.subn(repl, text)
    if n:
        counts[kind] = counts.get(kind, 0) + n
    return text


def paragraph_marks(text: str, counts: dict[str, int]) -> str:
    if any(m in text for m in PARAGRAPH_MARKS):
        text = _sub(_PARA_MARK, "\n\n", text, counts, "paragraph_mark")
    return text


def strip_html(text: str, counts: dict[str, int]) -> str:
    """Tags, comments, CDATA wrappers and entities inside a text field -> plain text with line breaks."""
    if "<![CDATA[" in text:
        text = _sub(_CDATA, r"\1", text, counts, "cdata")
    if "<" in text:
        text = _sub(_DROP_ELEMENTS, "", text, counts, "html_tag")
        text = _sub(_COMMENT, "", text, counts, "html_tag")
        text = _sub(_BLOCK_TAG, "\n", text, counts, "html_tag")
        text = _sub(_INLINE_TAG, "", text, counts, "html_tag")
    if "&" in text:
        n = len(_ENTITY.findall(text))
        if n:
            text = html.unescape(text)
            counts["html_entity"] = counts.get("html_entity", 0) + n
    return text


def strip_markdown(text: str, counts: dict[str, int]) -> str:
    """Markdown syntax -> the text it marks up (headings, emphasis, links, images, lists, quotes, code)."""
    if "#" in text:
        text = _sub(_MD_HEADING, r"\1", text, counts, "md_heading")
    text = _sub(_MD_LIST, "", text, counts, "md_list")
    if "*" in text or "__" in text:
        text = _sub(_MD_RULE, "", text, counts, "md_rule")
        text = _sub(_MD_BOLD, r"\2", text, counts, "md_emphasis")
        if "*" in text:
            text = _sub(_MD_ITALIC, r"\1", text, counts, "md_emphasis")
    elif "---" in text:
        text = _sub(_MD_RULE, "", text, counts, "md_rule")
    if "](" in text:
        text = _sub(_MD_IMAGE, "", text, counts, "md_image")
        text = _sub(_MD_LINK, r"\1", text, counts, "md_link")
    if "]:" in text:
        text = _sub(_MD_REF_DEF, "", text, counts, "md_link")
    if ">" in text:
        text = _sub(_MD_QUOTE, "", text, counts, "md_quote")
    if "`" in text:
        text = _sub(_MD_FENCE, "", text, counts, "md_code")
        text = _sub(_MD_INLINE_CODE, r"\1", text, counts, "md_code")
    return text


def strip_null_literals(text: str, counts: dict[str, int]) -> str:
    """``标题：None`` lines and ``作者：null，`` fields that a dump rendered from missing values."""
    if not any(w in text for w in ("None", "null", "NULL", "Null", "nan", "NaN", "undefined")):
        return text
    text = _sub(_NULL_LINE, "", text, counts, "null_literal")
    text = _sub(_NULL_FIELD, "", text, counts, "null_literal")
    return _sub(_NULL_BARE, "", text, counts, "null_literal")


# formats whose text may carry markdown; HTML pages come out of trafilatura as plain text already
MARKDOWN_FORMATS = {"md", "jsonl", "json", "csv", "parquet", "xmlrecords", "rss", "txt"}
HTML_FORMATS = {"jsonl", "json", "csv", "parquet", "xmlrecords", "rss", "txt", "md"}


# layout placeholders that report generators leave in a PDF's text layer ([Table_Title], [Table_Summary] …)
_LAYOUT_MARKER = re.compile(r"\[(?:Table|Chart|Figure|Pic)_[A-Za-z0-9_]+\]")


_CELL_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$", re.M)


def _layout_row(m: re.Match) -> str:
    cells = [c.strip() for c in m.group(0).strip().strip("|").split("|")]
    filled = [c for c in cells if c]
    return filled[0] if len(filled) == 1 else ("" if not filled else m.group(0))


def layout_cells(text: str, counts: dict[str, int]) -> str:
    """Rows of a layout table with at most one filled cell become that cell's text (see ``layout_cell``)."""
    if "|" not in text:
        return text
    out = _CELL_ROW.sub(_layout_row, text)
    if out != text:
        n = sum(1 for a, b in zip(text.split("\n"), out.split("\n")) if a != b)
        counts["layout_cell"] = counts.get("layout_cell", 0) + n
    return out


def normalize_markup(text: str, fmt: str, counts: dict[str, int]) -> str:
    """All markup passes that fit a source format, in order: paragraph marks, HTML, markdown, null literals."""
    text = paragraph_marks(text, counts)
    if fmt in ("html", "web"):
        text = layout_cells(text, counts)
    if fmt in ("pdf", "web") and "_" in text and "[" in text:
        text = _sub(_LAYOUT_MARKER, "", text, counts, "layout_marker")
    if fmt in HTML_FORMATS:
        text = strip_html(text, counts)
    if fmt in MARKDOWN_FORMATS:
        text = strip_markdown(text, counts)
    return strip_null_literals(text, counts)


def field_text(value: str | None, counts: dict[str, int] | None = None) -> str | None:
    """A short field (title, author): markup removed, paragraph marks and line breaks become spaces."""
    if value is None:
        return None
    counts = {} if counts is None else counts
    value = strip_markdown(strip_html(paragraph_marks(value, counts), counts), counts)
    value = re.sub(r"\s*\n\s*", " ", value).strip()
    return None if not value or value in NULL_WORDS else value


class FieldTypeError(ValueError):
    """A record field holds a value that is not text (an object, a list of non-strings)."""


def is_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in NULL_WORDS + ("",)


def value_text(value: Any, name: str) -> str | None:
    """A record field as text: null-likes are None, a list of strings is paragraphs joined by blank lines,
    numbers become their text, anything else raises FieldTypeError naming the type."""
    if is_null(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("gb18030", errors="replace")
    if isinstance(value, (list, tuple)):
        parts = [v for v in value if not is_null(v)]
        if all(isinstance(v, str) for v in parts):
            return "\n\n".join(p.strip() for p in parts if p.strip()) or None
        kinds = sorted({type(v).__name__ for v in parts if not isinstance(v, str)})
        raise FieldTypeError(f"field '{name}' is a list holding {', '.join(kinds)}, not a list of paragraphs")
    if isinstance(value, bool):
        raise FieldTypeError(f"field '{name}' is a boolean, not text")
    if isinstance(value, (int, float)):
        return str(value)
    raise FieldTypeError(f"field '{name}' is {type(value).__name__}, not text")
