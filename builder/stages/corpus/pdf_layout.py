"""Tables and charts on a PDF page, found from the positions of its text (PDFium's text boxes).

Text extraction gives a table as a run of cells in content-stream order and a chart as a run of tick labels,
data labels and legend words; the line joiner then fuses them into one paragraph, and two tables printed side by
side come out interleaved. This module reads the page's text boxes (``pypdfium2``: one box per run of characters
written together, often a single character), and:

- groups the boxes into printed rows (vertical overlap) and each row into cells (a horizontal gap wider than the
  text height);
- finds table regions: three or more consecutive rows of two or more cells whose starts share at least two
  columns; single-cell rows inside (a cell wrapped over several lines) are merged into the nearest row;
- splits two tables printed side by side at the gutter between them (each row lies on one side of it, or the
  captions above start at the two blocks' left edges) and gives them one after the other;
- keeps a table as rows (cells joined with `` | ``, one row per line, captions above) or drops it
  (``tables="drop"``), counted either way (pdf_tables, pdf_table_rows, pdf_tables_side_by_side,
  pdf_tables_dropped);
- removes chart residue: a run of three or more rows made only of short tokens (no sentence punctuation), most
  of them numbers (ticks, years, data labels), legend words within the run included; a "table" whose rows are
  mostly numbers without a label cell is a chart too (pdf_chart_residue_lines).

What is found is put back into the extracted text (``splice``): the lines the region's cells were extracted as
are replaced by the table's rows or removed; every other line stays as the extractor gave it, so a layout this
module misreads costs at most its own region. A region whose lines cannot be found is left alone and counted
(pdf_tables_unplaced, pdf_charts_unplaced). Only pages whose text holds lines of figures are scanned
(pdf.may_hold_tables).

Not handled: tables without figures, cells spread over several lines around a vertically centred row (the
rating table of the realdata prospectus stays as pypdf reads it), charts whose labels are not mostly numbers.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

_HAN = re.compile(r"[\u3400-\u9fff]")
_SENTENCE = re.compile(r"[。！？!?；;，,：:]")
_NUMERIC = re.compile(r"^[-+−]?(\d[\d,]*(\.\d+)?|\.\d+)\s*[%‰]?$|^(19|20)\d{2}\s*(年|[AEH]|Q[1-4])?$|^\d{1,2}月$|^Q[1-4]$")
TABLE_SEP = " | "
_NO_COMMA = re.compile(r"[,，]")
_PUNCT_ONLY = re.compile(r"^[,，.。、:：;；'\"]+$")
MIN_TABLE_ROWS = 3
MIN_NUMERIC_CELLS = 0.2  # a table has figures; aligned words alone (a list of names in columns) are not one
MIN_RESIDUE_ROWS = 3
RESIDUE_TOKEN_CHARS = 10
RESIDUE_NUMERIC_SHARE = 0.6


@dataclass
class Cell:
    x0: float
    x1: float
    text: str


@dataclass
class Row:
    top: float
    bottom: float
    cells: list[Cell] = field(default_factory=list)

    @property
    def x0(self) -> float:
        return self.cells[0].x0

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 1.0)

    def text(self) -> str:
        return " ".join(c.text for c in self.cells)


def _join(a: str, b: str, gap: float, h: float) -> str:
    if not a:
        return b
    if _HAN.match(a[-1:]) or _HAN.match(b[:1]) or gap < 0.15 * h:
        return a + b
    return a + " " + b


def page_rows(page) -> list[Row]:
    """The page's printed rows, from PDFium's text boxes; a cell made of several boxes takes PDFium's own text
    for its area (its spacing: 330,435.30, not 3 3 0,43 5 . 3 0) when that spells the same characters."""
    tp = page.get_textpage()
    try:
        boxes = []
        for i in range(tp.count_rects()):
            left, bottom, right, top = tp.get_rect(i)
            text = tp.get_text_bounded(left, bottom, right, top).replace("\r", "").replace("\n", "").strip()
            if text:
                boxes.append((left, bottom, right, top, text))
        if any(b[3] - b[1] < FLAT for b in boxes):
            boxes = char_runs(tp)
        rows = build_rows(boxes)
        for row in rows:
            inset = 0.2 * row.height
            for c in row.cells:
                if " " not in c.text:
                    continue
                # down to below the baseline: thousands separators and decimal points sit lower than the digits
                bounded = tp.get_text_bounded(c.x0 - 0.5, row.bottom - 1.5 * inset, c.x1 + 0.5, row.top - inset)
                bounded = " ".join(bounded.split())
                if bounded and _key(bounded) == _key(c.text):
                    c.text = bounded
        return rows
    finally:
        tp.close()


FLAT = 0.5  # points: a text box this flat has no glyph metrics behind it


def char_runs(tp) -> list[tuple[float, float, float, float, str]]:
    """Text boxes made from PDFium's loose character boxes (font size, ascent and descent): for pages whose
    rectangles are flat.

    A CID font that the PDF names but does not embed (STSong-Light, common in Chinese reports) gets its glyph
    boxes from a system font; on a machine without a CJK font PDFium gives those characters zero height, and
    its rectangles then drop short runs (表, 指标) and put the rest on lines of their own, so a table's labels
    and its figures never meet in a row. The loose boxes do not depend on the glyphs. A run ends at a space,
    a line break, a gap wider than 0.6 em, a step back, or a change of line."""
    runs: list[list] = []
    cur: list | None = None
    for i in range(tp.count_chars()):
        ch = tp.get_text_range(i, 1)
        if not ch or ch.isspace():
            cur = None
            continue
        left, bottom, right, top = tp.get_charbox(i, loose=True)
        h = max(top - bottom, 1.0)
        if cur is not None and (abs(bottom - cur[1]) > 0.3 * h or left - cur[2] > 0.6 * h or left < cur[2] - 0.5 * h):
            cur = None
        if cur is None:
            cur = [left, bottom, right, top, ch]
            runs.append(cur)
        else:
            cur[1], cur[2], cur[3], cur[4] = min(cur[1], bottom), max(cur[2], right), max(cur[3], top), cur[4] + ch
    return [tuple(r) for r in runs]


def build_rows(boxes: list[tuple[float, float, float, float, str]]) -> list[Row]:
    """Boxes to printed rows (top to bottom), each row's boxes to cells (left to right)."""
    rows: list[tuple[float, float, list]] = []
    for box in sorted(boxes, key=lambda b: -(b[1] + b[3]) / 2):
        left, bottom, right, top, text = box
        h = top - bottom
        if rows:
            rtop, rbottom, members = rows[-1]
            overlap = min(top, rtop) - max(bottom, rbottom)
            if overlap >= 0.5 * min(h, rtop - rbottom):
                members.append(box)
                rows[-1] = (max(rtop, top), min(rbottom, bottom), members)
                continue
        rows.append((top, bottom, [box]))
    out = []
    for top, bottom, members in rows:
        members.sort(key=lambda b: b[0])
        heights = sorted(b[3] - b[1] for b in members)
        h = heights[len(heights) // 2] or 1.0
        row = Row(top, bottom)
        for left, _, right, _, text in members:
            if row.cells and left - row.cells[-1].x1 <= 0.9 * h:
                cell = row.cells[-1]
                cell.text = _join(cell.text, text, left - cell.x1, h)
                cell.x1 = max(cell.x1, right)
            else:
                row.cells.append(Cell(left, right, text))
        out.append(row)
    return out


def is_numeric(token: str) -> bool:
    return bool(_NUMERIC.match(token.strip()))


def _short_token_row(row: Row) -> bool:
    return all(len(c.text) <= RESIDUE_TOKEN_CHARS and not _SENTENCE.search(c.text) for c in row.cells)


def _columns(rows: list[Row], tol: float) -> list[float]:
    """Column starts shared by at least two rows of several cells."""
    starts = sorted(c.x0 for r in rows if len(r.cells) >= 2 for c in r.cells)
    clusters: list[list[float]] = []
    for x in starts:
        if clusters and x - clusters[-1][-1] <= tol:
            clusters[-1].append(x)
        else:
            clusters.append([x])
    return [sum(c) / len(c) for c in clusters if len(c) >= 2]


def _looks_like_text_columns(rows: list[Row]) -> bool:
    """Two columns of running text, not a table: long cells that read as sentences."""
    cells = [c.text for r in rows for c in r.cells]
    long = sum(1 for t in cells if len(t) >= 20)
    return long >= len(cells) * 0.5


def _is_prose_row(row: Row) -> bool:
    """A line of running text split at a wide space: two cells at most, ending a sentence."""
    return len(row.cells) <= 2 and row.cells[-1].text.endswith(("。", "！", "？"))


def find_tables(rows: list[Row]) -> list[tuple[int, int]]:
    """Index ranges [start, end) of rows that form tables."""
    out = []
    i = 0
    n = len(rows)
    while i < n:
        if len(rows[i].cells) < 2 or _is_prose_row(rows[i]):
            i += 1
            continue
        j = i + 1
        left = rows[i].x0
        lo = min(c.x0 for c in rows[i].cells)
        hi = max(c.x1 for c in rows[i].cells)
        while j < n:
            r = rows[j]
            gap = rows[j - 1].bottom - r.top
            if gap > 2.5 * max(r.height, rows[j - 1].height):
                break
            if _is_prose_row(r):
                break
            if len(r.cells) >= 2:
                lo, hi = min(lo, r.x0), max(hi, r.cells[-1].x1)
                j += 1
                continue
            # one cell: a wrapped cell inside the table (not in the first column), else the table has ended
            c = r.cells[0]
            if c.x0 > left + 2 * r.height and lo - 1 <= c.x0 and c.x1 <= hi + 1:
                j += 1
                continue
            break
        block = rows[i:j]
        multi = [r for r in block if len(r.cells) >= 2]
        tol = 0.8 * sorted(r.height for r in block)[len(block) // 2]
        cells = [c.text for r in multi for c in r.cells]
        numeric = sum(1 for x in cells if is_numeric(x) or re.match(r"^[-+]?\d", x))
        if (len(multi) >= MIN_TABLE_ROWS and len(_columns(multi, tol)) >= 2 and numeric >= MIN_NUMERIC_CELLS * len(cells)
                and not _looks_like_text_columns(multi)):
            # wrapped cells at the end of the block belong to it only when a row of several cells follows
            while j > i and len(rows[j - 1].cells) < 2:
                j -= 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def _merge_wrapped(block: list[Row]) -> list[Row]:
    """Fold single-cell rows (a cell wrapped over lines) into the nearest row of several cells."""
    multi = [k for k, r in enumerate(block) if len(r.cells) >= 2]
    merged = {k: Row(block[k].top, block[k].bottom, [Cell(c.x0, c.x1, c.text) for c in block[k].cells]) for k in multi}
    before: dict[int, list[Cell]] = {}
    for k, r in enumerate(block):
        if k in merged:
            continue
        mid = (r.top + r.bottom) / 2
        target = min(multi, key=lambda m: abs((block[m].top + block[m].bottom) / 2 - mid))
        cell = r.cells[0]
        row = merged[target]
        overlapping = [c for c in row.cells if not (c.x1 < cell.x0 or cell.x1 < c.x0)]
        col = overlapping[0] if overlapping else min(row.cells, key=lambda c: abs((c.x0 + c.x1) / 2 - (cell.x0 + cell.x1) / 2))
        if k < target:
            before.setdefault(id(col), []).append(cell)
        else:
            col.text = _join(col.text, cell.text, 1.0, 1.0)
    for row in merged.values():
        for c in row.cells:
            for pre in reversed(before.get(id(c), [])):
                c.text = _join(pre.text, c.text, 1.0, 1.0)
    return [merged[k] for k in multi]


def _split_side_by_side(block: list[Row], caption_rows: list[Row]) -> list[list[Row]]:
    """Two tables printed side by side, as two blocks (left first); one block when there is no such gutter."""
    cells = sorted((c.x0, c.x1) for r in block for c in r.cells)
    # candidate gutters: x positions no cell crosses
    gutters = []
    reach = cells[0][1]
    for x0, x1 in cells[1:]:
        if x0 > reach:
            gutters.append((reach, x0))
        reach = max(reach, x1)
    best = None
    for g0, g1 in gutters:
        mid = (g0 + g1) / 2
        lefts = [r for r in block if r.cells[-1].x1 <= mid]
        rights = [r for r in block if r.x0 >= mid]
        one_sided = len(lefts) + len(rights)
        left_cols = {round(c.x0) for r in block for c in r.cells if c.x1 <= mid}
        right_cols = {round(c.x0) for r in block for c in r.cells if c.x0 >= mid}
        if len(left_cols) < 2 or len(right_cols) < 2:
            continue
        caps = [c.x0 for r in caption_rows for c in r.cells if _CAPTION.match(c.text)]
        starts = (min(c.x0 for r in block for c in r.cells if c.x1 <= mid), min(c.x0 for r in block for c in r.cells if c.x0 >= mid))
        captioned = any(abs(x - starts[0]) < 12 for x in caps) and any(abs(x - starts[1]) < 12 for x in caps)
        if (lefts and rights and one_sided >= 0.8 * len(block)) or captioned:
            score = one_sided + (len(block) if captioned else 0)
            if best is None or score > best[0]:
                best = (score, mid)
    if best is None:
        return [block]
    mid = best[1]
    left: list[Row] = []
    right: list[Row] = []
    for r in block:
        lc = [c for c in r.cells if c.x1 <= mid]
        rc = [c for c in r.cells if c.x0 >= mid]
        if lc:
            left.append(Row(r.top, r.bottom, lc))
        if rc:
            right.append(Row(r.top, r.bottom, rc))
    return [left, right]


def _is_chart_table(rows: list[Row]) -> bool:
    """Tick and data labels of a chart that happen to line up: mostly numbers without a label cell, in rows of
    uneven length (a bar's label, two ticks, a row of years). A table of figures under one header row (年份 |
    营收 | 利润, then 2020 | 62 | 8 …) has rows of one length and stays a table."""
    labelled = sum(1 for r in rows if any(not is_numeric(c.text) and len(c.text) >= 2 for c in r.cells))
    if labelled >= len(rows) / 2:
        return False
    lengths = Counter(len(r.cells) for r in rows)
    return lengths.most_common(1)[0][1] < 0.7 * len(rows)


def _residue_runs(rows: list[Row], skip: set[int]) -> list[tuple[int, int]]:
    runs = []
    i = 0
    while i < len(rows):
        if i in skip or not _short_token_row(rows[i]):
            i += 1
            continue
        j = i
        while j < len(rows) and j not in skip and _short_token_row(rows[j]):
            j += 1
        cells = [c.text for r in rows[i:j] for c in r.cells]
        numeric = sum(1 for t in cells if is_numeric(t))
        numeric_rows = sum(1 for r in rows[i:j] if all(is_numeric(c.text) for c in r.cells))
        if j - i >= MIN_RESIDUE_ROWS and numeric_rows >= 2 and numeric >= RESIDUE_NUMERIC_SHARE * len(cells):
            runs.append((i, j))
        i = j
    return runs


@dataclass
class Region:
    """A table or a chart found on the page: the texts of its cells (to find its lines in the extracted text)
    and, for a table, its lines as rows (captions first, cells joined with `` | ``)."""

    kind: str
    tokens: list[str]
    lines: list[str] = field(default_factory=list)
    rows: int = 0
    blocks: int = 1


def _key(text: str) -> str:
    """Text compared without spaces and thousands separators (extractors differ on both)."""
    return _NO_COMMA.sub("", "".join(text.split()))


_CAPTION = re.compile(r"^(表|图|Table|Figure)\s*[0-9一二三四五六七八九十]")


def _caption_row(row: Row) -> bool:
    """A caption line above a table: 表1：… (one per table when two stand side by side), or a short label
    line of two cells (表 7-2： | 截至…, 单位： | 万元)."""
    if all(_CAPTION.match(c.text) for c in row.cells):
        return True
    return len(row.cells) == 2 and (bool(_CAPTION.match(row.cells[0].text)) or row.cells[0].text.endswith(("：", ":")))


def _caption_text(row: Row) -> str:
    if len(row.cells) == 2 and row.cells[0].text.endswith(("：", ":")) and not _CAPTION.match(row.cells[1].text):
        return row.cells[0].text + row.cells[1].text
    return " ".join(c.text for c in row.cells)


def analyse(rows: list[Row]) -> list[Region]:
    """Tables (as rows, side-by-side ones split) and chart residue of a page, top to bottom."""
    rows = [r for r in rows if not all(_PUNCT_ONLY.match(c.text) for c in r.cells)]
    spans = find_tables(rows)
    regions: list[Region] = []
    in_table: set[int] = set()
    for a, b in spans:
        block = rows[a:b]
        if _is_chart_table(block):
            regions.append(Region("chart", [c.text for r in block for c in r.cells], rows=len(block)))
            in_table.update(range(a, b))
            continue
        caps = [m for m in range(max(0, a - 2), a) if rows[m].bottom - rows[a].top <= 3 * rows[a].height
                and all(_CAPTION.match(c.text) for c in rows[m].cells)]
        lead: list[int] = []
        while len(block) > MIN_TABLE_ROWS and _caption_row(block[0]):  # 表1：… 表2：… above two tables; 单位：万元
            lead.append(a)
            a += 1
            block = block[1:]
        blocks = _split_side_by_side(_merge_wrapped(block), [rows[m] for m in caps + lead])
        lines: list[str] = []
        for n_block, bl in enumerate(blocks):
            x0 = min(c.x0 for r in bl for c in r.cells)
            cap = [c.text for m in caps + lead for c in rows[m].cells if abs(c.x0 - x0) < 12 and len(blocks) > 1]
            if len(blocks) == 1:
                cap = [rows[m].text() for m in caps] + [_caption_text(rows[m]) for m in lead]
            lines += cap + [TABLE_SEP.join(c.text for c in r.cells) for r in bl] + [""]
        caps += lead
        tokens = [c.text for r in rows[a:b] for c in r.cells] + [c.text for m in caps for c in rows[m].cells]
        regions.append(Region("table", tokens, lines[:-1], rows=sum(len(bl) for bl in blocks), blocks=len(blocks)))
        in_table.update(range(a, b))
    for a, b in _residue_runs(rows, in_table):
        regions.append(Region("chart", [c.text for r in rows[a:b] for c in r.cells], rows=b - a))
    return regions


def _consume(key: str, tokens: list[str]) -> int:
    """How many tokens (longest first) spell ``key`` exactly; 0 when they cannot, or when only one-character
    tokens do (a page number 251 is not the cells 2, 5 and 1 of a table)."""
    i = n = 0
    long = False
    while i < len(key):
        for t in tokens:
            if key.startswith(t, i):
                i += len(t)
                n += 1
                long = long or len(t) >= 2
                break
        else:
            return 0
    return n if long or n == 1 else 0


def splice(text: str, regions: list[Region], counts: Counter, tables: str = "rows") -> str | None:
    """Put the regions into the extracted text of the page: the lines a table's cells were extracted as are
    replaced by its rows (or dropped), the lines of chart residue are removed. Text outside the regions is
    left as the extractor gave it. None when nothing was placed."""
    lines = text.split("\n")
    keys = [_key(line) for line in lines]
    taken: set[int] = set()
    replace: dict[int, list[str]] = {}
    for region in regions:
        tokens = sorted({_key(t) for t in region.tokens if _key(t)}, key=len, reverse=True)
        total = sum(len(_key(t)) for t in region.tokens)
        runs: list[list[int]] = []
        run: list[int] = []
        used = 0
        for i, k in enumerate(keys + [None]):
            if k == "" and run:
                continue
            n = _consume(k, tokens) if k and i not in taken else 0
            if n:
                run.append(i)
                used += n
                continue
            if run and (len(run) >= 2 or used >= 3):
                runs.append(run)
            run, used = [], 0
        covered = sum(len(keys[i]) for r in runs for i in r)
        if not runs or covered < 0.6 * total:
            counts[f"pdf_{region.kind}s_unplaced"] += 1
            continue
        for r in runs:
            taken.update(r)
        if region.kind == "chart":
            counts["pdf_chart_residue_lines"] += sum(len(r) for r in runs)
            continue
        counts["pdf_tables"] += region.blocks
        if region.blocks > 1:
            counts["pdf_tables_side_by_side"] += region.blocks
        if tables == "drop":
            counts["pdf_tables_dropped"] += region.blocks
            counts["pdf_table_rows_dropped"] += region.rows
            continue
        counts["pdf_table_rows"] += region.rows
        replace[runs[0][0]] = ["", *region.lines, ""]
    if not taken:
        return None
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in replace:
            out += replace[i]
        elif i not in taken:
            out.append(line)
    return "\n".join(out)


def layout_pages(data: bytes, texts: dict[int, str], counts: Counter, tables: str = "rows") -> dict[int, str]:
    """For the pages given (number -> extracted text), the text with tables as rows and chart residue removed,
    for each page that has any."""
    import pypdfium2 as pdfium

    out = {}
    pdf = pdfium.PdfDocument(data)
    try:
        for n, text in texts.items():
            page = pdf[n]
            try:
                regions = analyse(page_rows(page))
            finally:
                page.close()
            if regions:
                new = splice(text, regions, counts, tables)
                if new is not None:
                    out[n] = new
    finally:
        pdf.close()
    return out
