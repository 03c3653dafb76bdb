"""PDF pages to text: judged page by page, re-extracted when garbled, furniture of the page removed.

- pypdf reads every page first (as before). A page is *suspect* when its text is garbled ((cid:N), private-use
  characters, U+FFFD) or carries almost no Han characters in a document that has them elsewhere, or none at
  all: such a page is read again by pypdfium2 (fast, PDFium's text layer) and then pdfminer.six, and the best
  reading wins (see bench/pdf_extractors.py for the measurements behind this order). A page is rejected only
  when every extractor fails, and the reason is counted (``pdf_pages_garbled``).
- Running headers and footers (the same first/last lines on most pages, page numbers included) are removed.
- Layout line breaks are joined with the right separator: nothing between two Han characters, a space between
  Latin words, a line break after a line that ends well short of the page's line width (a label, a heading,
  a list item), a paragraph break at a blank line, an indent or a short line ending a sentence.
- Warnings of the PDF libraries (bad font descriptors and the like) are counted into one counter, not logged
  line by line.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from contextlib import contextmanager

from ...text.normalize import cjk_ratio
from ...text.quality import garbled_ratio

SENTENCE_END = tuple("。！？!?…；;”」』）)")
MAX_PAGE_GARBLED = 0.05
_LATINISH_END = re.compile(r"[A-Za-z0-9,.;:%)\]\-]$")
_LATINISH_START = re.compile(r"^[A-Za-z0-9(\[]")
_HAN = re.compile(r"[\u3400-\u9fff]")
TABLE_ROW = " | "  # cells of a table row as pdf_layout.py writes them


class _CountingHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record):
        self.count += 1


@contextmanager
def counted_warnings(counts: Counter):
    """Warnings of pypdf/pdfminer/fontTools during extraction become one counter, not a log line each."""
    handler = _CountingHandler()
    loggers = [logging.getLogger(n) for n in ("pypdf", "pdfminer", "fontTools")]
    saved = [(lg.propagate, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
        if lg.level == logging.NOTSET or lg.level > logging.WARNING:
            lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, (prop, level) in zip(loggers, saved):
            lg.removeHandler(handler)
            lg.propagate = prop
            lg.setLevel(level)
        if handler.count:
            counts["pdf_extractor_warnings"] += handler.count


def page_problem(text: str, doc_has_han: bool) -> str | None:
    """Why a page's text looks unusable, or None."""
    s = "".join(text.split())
    if not s:
        return "empty"
    if garbled_ratio(s) > MAX_PAGE_GARBLED:
        return "garbled"
    if doc_has_han and len(s) >= 40 and cjk_ratio(s) < 0.02:
        return "no_han"
    return None


def page_score(text: str) -> float:
    s = "".join(text.split())
    if not s:
        return 0.0
    return cjk_ratio(s) + min(len(s), 2000) / 2000 * 0.1 - garbled_ratio(s) * 5


def _pdfium_pages(data: bytes, numbers: list[int]) -> dict[int, str]:
    import pypdfium2 as pdfium

    out = {}
    pdf = pdfium.PdfDocument(data)
    try:
        for n in numbers:
            page = pdf[n]
            tp = page.get_textpage()
            out[n] = tp.get_text_bounded().replace("\r\n", "\n")
            tp.close()
            page.close()
    finally:
        pdf.close()
    return out


def _pdfminer_pages(data: bytes, numbers: list[int]) -> dict[int, str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    out = {}
    for n, layout in zip(sorted(numbers), extract_pages(io.BytesIO(data), page_numbers=sorted(numbers))):
        out[n] = "".join(el.get_text() for el in layout if isinstance(el, LTTextContainer))
    return out


FALLBACKS = [("pypdfium2", _pdfium_pages), ("pdfminer", _pdfminer_pages)]


def recover_pages(data: bytes, pages: list[str], counts: Counter, fallbacks=None) -> tuple[list[str], list[str]]:
    """Re-read suspect pages with the fallback extractors; returns (page texts, extractor used per page).
    A page every extractor fails on becomes empty and is counted as pdf_pages_garbled."""
    fallbacks = FALLBACKS if fallbacks is None else fallbacks
    doc_has_han = sum(len(_HAN.findall(p)) for p in pages) >= 20
    used = ["pypdf"] * len(pages)
    suspect = {i: page_problem(p, doc_has_han) for i, p in enumerate(pages)}
    todo = [i for i, why in suspect.items() if why and why != "empty"]
    if not todo and not doc_has_han:  # no Han anywhere: maybe the whole text layer is mis-mapped
        todo = [i for i, p in enumerate(pages) if p.strip()]
    if not todo:
        return pages, used
    best = {i: (page_score(pages[i]), pages[i], "pypdf") for i in todo}
    for name, fn in fallbacks:
        left = [i for i in todo if page_problem(best[i][1], True) is not None]
        if not left:
            break
        try:
            with counted_warnings(counts):
                texts = fn(data, left)
        except ImportError:
            continue
        except Exception:  # noqa: BLE001 - a fallback that cannot read the file is just not better
            counts[f"pdf_fallback_failed_{name}"] += 1
            continue
        for i, text in texts.items():
            sc = page_score(text)
            if sc > best[i][0] + 0.05:
                best[i] = (sc, text, name)
    out = list(pages)
    for i in todo:
        _, text, name = best[i]
        if name != "pypdf":
            counts[f"pdf_pages_reextracted_{name}"] += 1
        why = page_problem(text, doc_has_han)
        if why == "garbled" or (why == "no_han" and suspect[i] == "garbled"):
            counts["pdf_pages_garbled"] += 1
            used[i] = f"garbled:{suspect[i]}"  # the page number and the reason reach meta.extractors/garbled_pages
            text = ""
            out[i] = text
            continue
        out[i] = text
        used[i] = name
    return out, used


_FIGURES = re.compile(r"\d")


def may_hold_tables(text: str, need: int = 3) -> bool:
    """Cheap test on the extracted text: the tables and charts pdf_layout.py handles hold figures, which come
    out as lines mostly of digits (cells, ticks, data labels); a page of prose or headings has few. Only
    such pages pay for the layout scan."""
    n = 0
    for line in text.splitlines():
        s = "".join(line.split())
        if s and len(_FIGURES.findall(s)) >= 0.3 * len(s):
            n += 1
            if n >= need:
                return True
    return False


def place_tables(data: bytes, pages: list[str], used: list[str], counts: Counter, tables: str = "rows") -> list[str]:
    """Tables as rows (or dropped) and chart residue removed, on the pages read by pypdf or PDFium (a page
    recovered by pdfminer has a text layer PDFium could not read). See pdf_layout.py."""
    todo = {i: p for i, p in enumerate(pages) if used[i] in ("pypdf", "pypdfium2") and may_hold_tables(p)}
    if not todo:
        return pages
    from .pdf_layout import layout_pages

    try:
        with counted_warnings(counts):
            new = layout_pages(data, todo, counts, tables)
    except ImportError:
        return pages
    except Exception:  # noqa: BLE001 - a page PDFium cannot lay out keeps its extracted text
        counts["pdf_layout_failed"] += 1
        return pages
    return [new.get(i, p) for i, p in enumerate(pages)]


_DIGITS = re.compile(r"\d+")


def _furniture_key(line: str) -> str:
    return _DIGITS.sub("#", "".join(line.split()))


def strip_running_lines(pages: list[str], counts: Counter, depth: int = 2) -> list[str]:
    """Remove lines among the first/last ``depth`` of a page that recur (digits folded) on at least half of
    the pages (3 at least): running headers, footers and page numbers."""
    if len(pages) < 3:
        return pages
    split = [[line for line in p.splitlines() if line.strip()] for p in pages]
    seen: Counter = Counter()
    for lines in split:
        keys = {_furniture_key(x) for x in lines[:depth] + lines[-depth:] if TABLE_ROW not in x}  # a table's header row repeated on each page is the table's
        seen.update(k for k in keys if k)
    need = max(3, (len(pages) + 1) // 2)
    widths = sorted(width(x) for lines in split for x in lines)
    full = widths[len(widths) * 3 // 4] if widths else 0
    # headers and footers are short: a full-width line that repeats is body text repeated, not furniture
    running = {k for k, n in seen.items() if n >= need and (width(k) <= 24 or width(k) < full * 0.7)}
    if not running:
        return pages
    out = []
    for lines in split:
        edge = set(range(min(depth, len(lines)))) | set(range(max(len(lines) - depth, 0), len(lines)))
        kept = [x for j, x in enumerate(lines) if not (j in edge and _furniture_key(x) in running)]
        counts["pdf_running_lines_removed"] += len(lines) - len(kept)
        out.append("\n".join(kept))
    return out


def width(line: str) -> int:
    """Printed width in half-width cells: CJK characters and full-width forms count two."""
    return len(line) + sum(1 for c in line if c >= "\u2e80")


_LABEL_START = re.compile(r"^[\u4e00-\u9fff]{2,6}\s*[：:]")
_SPACED = re.compile(r"[\u4e00-\u9fff] [\u4e00-\u9fff]")


def _separator(prev: str, nxt: str) -> str:
    """What goes between two layout lines of one paragraph: nothing between two Han characters, a space
    between Latin words or inside a space-separated list (names), a line break before a label (职务：姓名)."""
    if _LATINISH_END.search(prev) and _LATINISH_START.match(nxt):
        return "" if prev.endswith("-") and prev[-2:-1].isalpha() and nxt[:1].islower() else " "
    if _LABEL_START.match(nxt) and not prev.endswith(("，", "、", "（", "“")):
        return "\n"
    if _SPACED.search(prev[-12:]) and _SPACED.search(nxt[:12]):
        return " "
    return ""


def join_pdf_lines(page_text: str) -> str:
    """Rejoin the printed lines of a page into paragraphs (see the module docstring)."""
    raw_lines = page_text.splitlines()
    lines = [line.strip() for line in raw_lines]
    nonempty = [width(line) for line in lines if line and TABLE_ROW not in line]
    if not nonempty and not any(lines):
        return ""
    nonempty = nonempty or [0]
    typical = sorted(nonempty)[len(nonempty) * 3 // 4]  # printed width of a full line
    paras: list[str] = []
    buf = ""
    table: list[str] = []
    for raw, line in zip(raw_lines, lines):
        if TABLE_ROW in line:  # a table row (pdf_layout.py): a line of its own, the table one paragraph
            if buf:
                paras.append(buf)
                buf = ""
            table.append(line)
            continue
        if table:
            paras.append("\n".join(table))
            table = []
        if not line:
            if buf:
                paras.append(buf)
                buf = ""
            continue
        indented = raw[:1] in (" ", "\u3000", "\t") and raw[:2].strip() == "" and typical >= 40
        if buf and indented:
            paras.append(buf)
            buf = ""
        if not buf:
            buf = line
        elif buf.endswith("\n"):
            buf += line
        else:
            if buf.endswith("-") and _separator(buf, line) == "":
                buf = buf[:-1]
            buf += _separator(buf, line) + line
        w = width(line)
        short = w < typical * 0.7 and typical >= 30
        if line.endswith(SENTENCE_END) and w < typical * 0.9:
            paras.append(buf)
            buf = ""
        elif short:
            buf += "\n"  # a line that stops well before the margin: a label, a heading, a list item
    if table:
        paras.append("\n".join(table))
    if buf:
        paras.append(buf)
    return "\n\n".join(p.strip("\n") for p in paras if p.strip())
