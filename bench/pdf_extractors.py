"""PDF text extractors compared: pypdf (the default), pdfminer.six and pypdfium2, per file: characters, Han
share, garbled share ((cid:N), private-use, U+FFFD), seconds, and for PDFs generated here (reportlab, CJK CID
font, running header/footer, mixed Latin) the share of the source text's characters recovered in order.

    python bench/pdf_extractors.py [--repeat 3]

Files: ../shared/realdata/pdf/*.pdf (when present), the demo handbook, and bench/out/pdf/generated_*.pdf.
"""

from __future__ import annotations

import argparse
import difflib
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REALDATA = ROOT.parent / "shared" / "realdata" / "pdf"
OUT = ROOT / "bench" / "out" / "pdf"

PARAS = [
    "青川市今年新建社区食堂四十二家，覆盖老城区和城东新区的主要街道。市民政局负责人介绍，食堂实行政府补贴、社会运营的方式，"
    "六十岁以上老人每餐可享受三元补贴。",
    "The city will publish its annual report on community services in March, with data from all 42 canteens.",
    "家住城南街道的刘大爷说：“饭菜可口，价格实惠，子女也放心。”据统计，开业三个月以来，食堂累计接待老人超过十二万人次，"
    "日均就餐人数稳定在一千三百人左右。",
]


def make_pdf(path: Path, pages: int = 6) -> str:
    """A CJK PDF with a running header and a page-number footer; returns the body text written."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    body = []
    for p in range(pages):
        c.setFont("STSong-Light", 9)
        c.drawString(60, height - 40, "青川市民政局 社区服务年度报告")
        c.drawString(width / 2, 30, f"- {p + 1} -")
        c.setFont("STSong-Light", 11)
        y = height - 80
        for para in PARAS:
            text = f"第{p + 1}页 " + para
            body.append(text)
            line = ""
            for ch in text:
                if pdfmetrics.stringWidth(line + ch, "STSong-Light", 11) > width - 120:
                    c.drawString(60, y, line)
                    y -= 16
                    line = ch
                else:
                    line += ch
            c.drawString(60, y, line)
            y -= 28
        c.showPage()
    c.save()
    return "\n".join(body)


def pypdf_pages(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def pdfminer_pages(data: bytes) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    out = []
    for layout in extract_pages(io.BytesIO(data)):
        out.append("".join(el.get_text() for el in layout if isinstance(el, LTTextContainer)))
    return out


def pdfium_pages(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        out = []
        for page in pdf:
            tp = page.get_textpage()
            out.append(tp.get_text_bounded())
            tp.close()
            page.close()
        return out
    finally:
        pdf.close()


EXTRACTORS = {"pypdf": pypdf_pages, "pdfminer.six": pdfminer_pages, "pypdfium2": pdfium_pages}


def measure(text: str) -> tuple[int, float, float]:
    from builder.text.normalize import cjk_ratio
    from builder.text.quality import garbled_ratio

    return len(text), cjk_ratio(text), garbled_ratio(text)


def recovered(text: str, source: str) -> float:
    a = "".join(text.split())
    b = "".join(source.split())
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in m.get_matching_blocks()) / max(len(b), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    files: list[tuple[Path, str | None]] = []
    if REALDATA.is_dir():
        files += [(p, None) for p in sorted(REALDATA.glob("*.pdf"))]
    files.append((ROOT / "corpora" / "demo" / "pdf" / "media_handbook.pdf", None))
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        gen = OUT / "generated_cjk_6pages.pdf"
        files.append((gen, make_pdf(gen)))
    except ImportError:
        print("reportlab not installed: generated PDFs skipped")
    print(f"{'file':38s} {'extractor':13s} {'chars':>7s} {'Han':>5s} {'garbled':>7s} {'recovered':>9s} {'seconds':>8s}")
    from collections import Counter

    from builder.stages.corpus.pdf import counted_warnings

    totals = {k: 0.0 for k in EXTRACTORS}
    warnings: Counter = Counter()
    for path, source in files:
        data = path.read_bytes()
        for name, fn in EXTRACTORS.items():
            t0 = time.perf_counter()
            with counted_warnings(warnings):
                for _ in range(args.repeat):
                    pages = fn(data)
            secs = (time.perf_counter() - t0) / args.repeat
            totals[name] += secs
            text = "\n".join(pages)
            n, han, garbled = measure(text)
            rec = f"{recovered(text, source):9.3f}" if source else f"{'-':>9s}"
            print(f"{path.name[:38]:38s} {name:13s} {n:7d} {han:5.2f} {garbled:7.3f} {rec} {secs:8.3f}")
    print("total seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in totals.items()))
    print(f"library warnings during extraction (counted, not logged): {warnings['pdf_extractor_warnings']}")


if __name__ == "__main__":
    main()
