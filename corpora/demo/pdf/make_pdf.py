"""Generate media_handbook.pdf (real text layer) from media_handbook.src.

Usage: pip install reportlab && python corpora/demo/pdf/make_pdf.py  (only to regenerate the committed PDF)
Each chapter ("第X章 ...") starts on a new page; the handbook title and
foreword share page 1 with chapter 1. Lines are wrapped by measured width.
"""
import os
import re

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "media_handbook.src")
OUT = os.path.join(HERE, "media_handbook.pdf")

FONT = "STSong-Light"
BODY_SIZE, HEAD_SIZE, TITLE_SIZE = 11, 14, 18
MARGIN = 64
CHAPTER_RE = re.compile(r"^第[一二三四五六七八九十]+章")
NO_LINE_START = set("，。、；：！？）》”’")  # never start a wrapped line with these


def split_pages(text):
    """Return list of page texts: page 1 = title+foreword+chapter 1, then one chapter per page."""
    pages, cur = [], []
    seen_chapter = False
    for line in text.splitlines():
        if CHAPTER_RE.match(line):
            if seen_chapter:
                pages.append("\n".join(cur).strip())
                cur = []
            seen_chapter = True
        cur.append(line)
    if cur:
        pages.append("\n".join(cur).strip())
    return pages


def wrap(line, size, width):
    out, cur = [], ""
    for ch in line:
        if pdfmetrics.stringWidth(cur + ch, FONT, size) > width and ch not in NO_LINE_START:
            out.append(cur)
            cur = ch
        else:
            cur += ch
    out.append(cur)
    return out


def main():
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    with open(SRC, encoding="utf-8") as f:
        text = f.read()
    pw, ph = A4
    width = pw - 2 * MARGIN
    c = canvas.Canvas(OUT, pagesize=A4, invariant=1)  # reproducible bytes
    c.setTitle("新媒体编辑手册（简明版）")
    c.setAuthor("builder demo corpus")
    for pno, page in enumerate(split_pages(text), 1):
        y = ph - MARGIN
        for i, line in enumerate(page.splitlines()):
            if not line.strip():
                y -= BODY_SIZE * 0.8
                continue
            if pno == 1 and i == 0:
                size = TITLE_SIZE
            elif CHAPTER_RE.match(line) or line in ("前言", "结语"):
                size = HEAD_SIZE
            else:
                size = BODY_SIZE
            for seg in wrap(line, size, width):
                if y < MARGIN + size:  # overflow: continue on a fresh page
                    c.showPage()
                    y = ph - MARGIN
                c.setFont(FONT, size)
                c.drawString(MARGIN, y - size, seg)
                y -= size * 1.6
        c.showPage()
    c.save()
    print("wrote", OUT)


if __name__ == "__main__":
    main()
