"""PDFs with layout that plain text extraction gets wrong, written with reportlab and a CJK font:

- ``report_tables_chart.pdf``: a one-page research note with two tables side by side (their rows at different
  heights, grid lines drawn), a bar chart (y-axis ticks, x-axis years, data labels on the bars, a legend) and
  prose above, between and below;
- ``report_tables_chart_cid.pdf``: the same page with the tables' rows aligned across both tables and written row by row across them (the
  text stream interleaves the two tables), in the
  built-in CID font STSong-Light instead of the embedded TrueType WenQuanYi Micro Hei.

Returned with each file: the prose paragraphs, the table rows (cells) and the chart's residue strings, so tests
and bench/pdf_extraction.py can check what the reader kept, joined and dropped.

    python bench/pdf_layout_fixtures.py [OUT_DIR]   # default tests/fixtures/pdf
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

PROSE = [
    "本周我们跟踪的二十家消费企业中，有十四家的季度营业收入实现同比增长，其中餐饮和旅游类企业的增速最快，家电类企业受到以旧换新政策拉动，"
    "订单量明显回升。",
    "从下方两张表格可以看到，一季度社会消费品零售总额的增速高于去年全年，服务类消费的占比继续提高，餐饮收入的增长主要来自县城和乡镇市场。",
    "图表显示，样本企业的营业收入和净利润在过去五年保持增长，二〇二二年受客流下降影响出现回落，此后两年恢复较快。",
    "我们维持行业“增持”评级，建议关注门店扩张稳健、现金流充裕的龙头企业，同时提示原材料价格上涨和消费复苏不及预期的风险。",
]
LEFT = [["指标", "2023年", "2024年"], ["社零总额（万亿元）", "47.1", "48.8"], ["同比增速", "7.2%", "3.5%"],
        ["餐饮收入（万亿元）", "5.3", "5.6"], ["网上零售额（万亿元）", "15.4", "15.5"]]
RIGHT = [["行业", "收入（亿元）", "占比"], ["餐饮", "1260", "32%"], ["旅游", "980", "25%"], ["家电", "870", "22%"],
         ["零售", "820", "21%"]]
YEARS = ["2020", "2021", "2022", "2023", "2024"]
REVENUE = [62, 75, 58, 81, 96]
PROFIT = [8, 11, 5, 12, 15]
TICKS = ["0", "20", "40", "60", "80", "100"]
LEGEND = ["营业收入", "净利润"]


def _font(name: str):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    if name == "wqy":
        pdfmetrics.registerFont(TTFont("WQY", str(WQY), subfontIndex=0))
        return "WQY"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def _wrap(c, text: str, font: str, size: float, x: float, y: float, width: float, lead: float) -> float:
    from reportlab.pdfbase import pdfmetrics

    line = ""
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, font, size) > width:
            c.drawString(x, y, line)
            y -= lead
            line = ch
        else:
            line += ch
    if line:
        c.drawString(x, y, line)
        y -= lead
    return y


def _table(c, rows, font, x, y, widths, row_h):
    c.setFont(font, 9)
    for r, row in enumerate(rows):
        cx = x
        for w, cell in zip(widths, row):
            c.drawString(cx + 3, y - r * row_h - row_h + 5, cell)
            cx += w
    c.setLineWidth(0.4)
    for r in range(len(rows) + 1):
        c.line(x, y - r * row_h, x + sum(widths), y - r * row_h)
    cx = x
    for w in [0, *widths]:
        cx += w
        c.line(cx, y, cx, y - len(rows) * row_h)


def make(path: Path, font_name: str = "wqy", aligned: bool = False) -> dict:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = _font(font_name)
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("消费行业周报")
    width, height = A4
    c.setFont(font, 9)
    c.drawString(50, height - 30, "长风证券研究所 行业周报")
    c.setFont(font, 16)
    c.drawString(50, height - 60, "消费行业周报：服务消费继续走强")
    c.setFont(font, 10.5)
    y = _wrap(c, PROSE[0], font, 10.5, 50, height - 90, width - 100, 16)
    y = _wrap(c, PROSE[1], font, 10.5, 50, y - 8, width - 100, 16)
    c.setFont(font, 9.5)
    top = y - 14
    c.drawString(50, top, "表1：主要消费指标")
    c.drawString(320, top - (0 if aligned else 6), "表2：样本企业分行业收入")
    if aligned:  # written row by row across both tables, as a page-layout program does: the text stream interleaves
        for r in range(len(LEFT)):
            _table(c, [LEFT[r]], font, 50, top - 8 - 18 * r, [120, 60, 60], 18)
            _table(c, [RIGHT[r]], font, 320, top - 8 - 18 * r, [70, 80, 70], 18)
    else:
        _table(c, LEFT, font, 50, top - 8, [120, 60, 60], 18)
        _table(c, RIGHT, font, 320, top - 20, [70, 80, 70], 16)
    y = top - 8 - 18 * len(LEFT) - 24
    c.setFont(font, 10.5)
    y = _wrap(c, PROSE[2], font, 10.5, 50, y, width - 100, 16)
    # the chart: axes, y ticks, bars with data labels, x-axis years, legend
    c.setFont(font, 9.5)
    c.drawString(50, y - 10, "图1：样本企业营业收入与净利润（亿元）")
    ox, oy, ch_h = 90, y - 190, 150
    c.setLineWidth(0.6)
    c.line(ox, oy, ox + 380, oy)
    c.line(ox, oy, ox, oy + ch_h)
    c.setFont(font, 8)
    for k, t in enumerate(TICKS):
        c.drawRightString(ox - 6, oy + k * ch_h / 5 - 3, t)
    for k, (yr, rev, pro) in enumerate(zip(YEARS, REVENUE, PROFIT)):
        bx = ox + 20 + k * 72
        c.setFillGray(0.35)
        c.rect(bx, oy, 22, rev * ch_h / 100, fill=1, stroke=0)
        c.setFillGray(0.7)
        c.rect(bx + 24, oy, 22, pro * ch_h / 100, fill=1, stroke=0)
        c.setFillGray(0)
        c.drawCentredString(bx + 11, oy + rev * ch_h / 100 + 3, str(rev))
        c.drawCentredString(bx + 35, oy + pro * ch_h / 100 + 3, str(pro))
        c.drawCentredString(bx + 23, oy - 12, yr)
    c.setFillGray(0.35)
    c.rect(ox + 120, oy - 32, 8, 8, fill=1, stroke=0)
    c.setFillGray(0.7)
    c.rect(ox + 210, oy - 32, 8, 8, fill=1, stroke=0)
    c.setFillGray(0)
    c.drawString(ox + 132, oy - 31, LEGEND[0])
    c.drawString(ox + 222, oy - 31, LEGEND[1])
    c.setFont(font, 8)
    c.drawString(50, oy - 50, "资料来源：公司公告，长风证券研究所")
    c.setFont(font, 10.5)
    _wrap(c, PROSE[3], font, 10.5, 50, oy - 74, width - 100, 16)
    c.showPage()
    c.save()
    residue = TICKS + YEARS + [str(v) for v in REVENUE + PROFIT] + LEGEND
    return {"prose": PROSE, "left": LEFT, "right": RIGHT, "residue": residue}


FILES = {"report_tables_chart.pdf": ("wqy", False), "report_tables_chart_cid.pdf": ("cid", True)}


def make_all(out: Path) -> dict[str, dict]:
    out.mkdir(parents=True, exist_ok=True)
    return {name: make(out / name, font, aligned) for name, (font, aligned) in FILES.items()}


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "fixtures" / "pdf"
    for name in make_all(out):
        print(out / name)
