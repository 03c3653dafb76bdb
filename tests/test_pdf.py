"""PDF pages are judged one by one, re-extracted when garbled, stripped of running lines, joined with the
right separator, and long documents become page ranges instead of being dropped."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest

from builder.stages.corpus.clean import Cleaner, join_offsets, split_long
from builder.stages.corpus.extract import RawDoc, UnreadableFile, read_pdf
from builder.stages.corpus.pdf import (
    counted_warnings,
    join_pdf_lines,
    page_problem,
    recover_pages,
    strip_running_lines,
)
from builder.stages.corpus.pdf_layout import Cell, Row, _consume, analyse, splice
from builder.text.boilerplate import BoilerplateRemover

GOOD = "青川市今年新建社区食堂四十二家，覆盖老城区和城东新区的主要街道。市民政局负责人介绍，食堂实行政府补贴、社会运营的方式。"
GARBAGE = "(cid:12)(cid:873)(cid:44)" * 10
LATIN_JUNK = "ÿ¬Ñ®Ó¸ ¼þ·¢²¼ ÔÚ±±¾© ¾ÙÐÐ ·¢²¼»á ¹«²¼ ÁË Ð¾Æ¬ ²úÆ·" * 3  # a mis-mapped text layer: no Han


def test_garbled_page_is_judged_before_any_length_rule():
    assert page_problem(GARBAGE, doc_has_han=True) == "garbled"
    assert page_problem(LATIN_JUNK, doc_has_han=True) == "no_han"
    assert page_problem(GOOD, doc_has_han=True) is None


def test_garbled_pages_are_reextracted_by_the_next_extractor_that_reads_them():
    calls = []

    def pdfium(data, numbers):
        calls.append(("pdfium", numbers))
        return {n: GARBAGE for n in numbers}  # fails too

    def pdfminer(data, numbers):
        calls.append(("pdfminer", numbers))
        return {n: GOOD for n in numbers}

    counts: Counter = Counter()
    pages, used = recover_pages(b"", [GOOD, GARBAGE, LATIN_JUNK], counts, fallbacks=[("pypdfium2", pdfium), ("pdfminer", pdfminer)])
    assert pages == [GOOD, GOOD, GOOD] and used == ["pypdf", "pdfminer", "pdfminer"]
    assert calls == [("pdfium", [1, 2]), ("pdfminer", [1, 2])]
    assert counts["pdf_pages_reextracted_pdfminer"] == 2 and "pdf_pages_garbled" not in counts


def test_page_is_rejected_only_when_every_extractor_fails_and_counted():
    counts: Counter = Counter()
    pages, used = recover_pages(b"", [GOOD, GARBAGE], counts, fallbacks=[("x", lambda d, n: {i: GARBAGE for i in n})])
    assert pages == [GOOD, ""] and counts["pdf_pages_garbled"] == 1 and used == ["pypdf", "garbled:garbled"]


def test_running_headers_footers_and_page_numbers_are_removed():
    pages = [f"青川市民政局 社区服务年度报告\n{GOOD}\n{GOOD[:30]}\n第{i}段：{GOOD}\n- {i} -" for i in range(1, 6)]
    counts: Counter = Counter()
    out = strip_running_lines(pages, counts)
    assert all("年度报告" not in p and "- " not in p and GOOD in p for p in out)
    assert all(p.count(GOOD) == 2 for p in out)  # a repeated full-width body line is not a running line
    assert counts["pdf_running_lines_removed"] == 10


@pytest.mark.parametrize("lines,joined", [
    (["青川市今年新建社区食堂四十二家，覆盖老城区和城东新区的主要街", "道。市民政局负责人介绍，食堂实行政府补贴。"],
     "青川市今年新建社区食堂四十二家，覆盖老城区和城东新区的主要街道。市民政局负责人介绍，食堂实行政府补贴。"),
    (["The city will publish its annual report on community", "services in March, with data from all canteens."],
     "The city will publish its annual report on community services in March, with data from all canteens."),
    (["监制人： 刘泽彭", "顾问： 杨启光 陈光磊 陈学超 周小兵 赵金铭 王小明 李大华 张三丰 赵子龙"],
     "监制人： 刘泽彭\n顾问： 杨启光 陈光磊 陈学超 周小兵 赵金铭 王小明 李大华 张三丰 赵子龙"),
])
def test_layout_lines_are_joined_with_the_right_separator(lines, joined):
    assert join_pdf_lines("\n".join(lines)) == joined


def test_library_warnings_become_one_counter():
    counts: Counter = Counter()
    with counted_warnings(counts):
        for _ in range(5):
            logging.getLogger("pdfminer.pdffont").warning("Could not get FontBBox from font descriptor")
    assert counts == {"pdf_extractor_warnings": 5}


SETTINGS = {"normalize": True, "markup": True, "boilerplate": True, "boilerplate_extra": [], "min_chars": 10, "max_chars": 300,
            "min_cjk_ratio": 0.3, "max_dup_line_ratio": 0.9, "dup_ngram_n": 10, "max_dup_ngram_ratio": 1.0,
            "max_garbled_ratio": 0.02, "t2s": False, "pii": True, "split_long_documents": True}


def test_long_pdf_is_split_into_page_ranges_with_provenance_not_dropped():
    pages = [f"第{i}页。" + GOOD for i in range(1, 11)]  # 10 pages of ~66 characters
    raw = RawDoc(text="\n\n".join(pages), format="pdf", meta={"pages": 10, "page_starts": join_offsets(pages)})
    counters: dict[str, int] = {}
    parts = split_long([raw], SETTINGS, counters)
    assert [p.path_suffix for p in parts] == ["#pages=1-4", "#pages=5-8", "#pages=9-10"]
    assert [p.meta["page_range"] for p in parts] == [[1, 4], [5, 8], [9, 10]]
    assert all(len(p.text) <= 300 for p in parts) and parts[1].text.startswith("第5页")
    assert counters == {"split_long_documents": 1, "split_parts": 3}
    for p in parts:
        text, dropped = Cleaner(dict(SETTINGS))(p, {})
        assert dropped is None
    unsplit = Cleaner(dict(SETTINGS, split_long_documents=False))(raw, {})[1]
    assert unsplit.reason == "dropped_too_long"
    assert split_long([raw], dict(SETTINGS, split_long_documents=False), {}) == [raw]


def _reportlab_pdf(tmp_path, pages=4):
    pytest.importorskip("reportlab")
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("pdf_extractors", ROOT / "bench" / "pdf_extractors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    path = tmp_path / "gen.pdf"
    source = mod.make_pdf(path, pages=pages)
    return path.read_bytes(), source


def test_generated_cjk_pdf_loses_its_running_header_and_page_numbers(tmp_path):
    data, source = _reportlab_pdf(tmp_path)
    doc = read_pdf(data)[0]
    assert "年度报告" not in doc.text and "- 2 -" not in doc.text
    assert doc.meta["_counts"]["pdf_running_lines_removed"] == 8
    assert "负责人介绍，食堂" in doc.text  # a wrapped line joined with no space between Han characters
    assert "annual report on community services" in doc.text


def test_pdf_with_no_readable_page_is_rejected_as_garbled(monkeypatch):
    import io

    from pypdf import PdfWriter

    import builder.stages.corpus.extract as ex

    w = PdfWriter()
    w.add_blank_page(200, 200)
    buf = io.BytesIO()
    w.write(buf)
    monkeypatch.setattr(ex, "recover_pages", lambda data, pages, counts: (counts.update(pdf_pages_garbled=1) or [""], ["pypdf"]))
    with pytest.raises(UnreadableFile) as err:
        read_pdf(buf.getvalue())
    assert err.value.reason == "garbled_pdf"


# --- tables and charts (pdf_layout.py), on PDFs written by bench/pdf_layout_fixtures.py and the realdata prospectus

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
REALDATA_PDF = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "pdf"
LEFT_ROWS = ["指标 | 2023年 | 2024年", "社零总额（万亿元） | 47.1 | 48.8", "同比增速 | 7.2% | 3.5%",
             "餐饮收入（万亿元） | 5.3 | 5.6", "网上零售额（万亿元） | 15.4 | 15.5"]
RIGHT_ROWS = ["行业 | 收入（亿元） | 占比", "餐饮 | 1260 | 32%", "旅游 | 980 | 25%", "家电 | 870 | 22%", "零售 | 820 | 21%"]


@pytest.mark.parametrize("name", ["report_tables_chart.pdf", "report_tables_chart_cid.pdf"])
def test_side_by_side_tables_come_out_one_after_the_other_one_row_per_line(name):
    """Rows at different heights (stream: left table, then right) and rows aligned and written row by row across
    both tables (stream interleaves them): either way each table is whole, under its own caption."""
    doc = read_pdf((FIXTURES / name).read_bytes())[0]
    text = doc.text
    assert "\n".join(LEFT_ROWS) in text and "\n".join(RIGHT_ROWS) in text
    assert text.index("表1：主要消费指标") < text.index(LEFT_ROWS[0]) < text.index("表2：样本企业分行业收入") < text.index(RIGHT_ROWS[0])
    counts = doc.meta["_counts"]
    assert counts["pdf_tables"] == 2 and counts["pdf_tables_side_by_side"] == 2 and counts["pdf_table_rows"] == 10


@pytest.mark.parametrize("name", ["report_tables_chart.pdf", "report_tables_chart_cid.pdf"])
def test_chart_ticks_data_labels_and_legend_are_removed_and_counted_while_the_prose_stays(name):
    doc = read_pdf((FIXTURES / name).read_bytes())[0]
    lines = doc.text.split("\n")
    for residue in ["0", "20", "100", "2020", "2024", "96", "营业收入", "净利润"]:
        assert residue not in lines
    assert not any(line.startswith(("0 20", "2020")) for line in lines)
    assert "图1：样本企业营业收入与净利润（亿元）" in doc.text  # the caption is text, not residue
    assert "我们维持行业“增持”评级" in doc.text and "此后两年恢复较快。" in doc.text
    assert doc.meta["_counts"]["pdf_chart_residue_lines"] >= 20


def test_tables_are_dropped_with_a_count_when_configured():
    doc = read_pdf((FIXTURES / "report_tables_chart.pdf").read_bytes(), tables="drop")[0]
    assert " | " not in doc.text and "社零总额" not in doc.text and "1260" not in doc.text
    assert "从下方两张表格可以看到" in doc.text
    counts = doc.meta["_counts"]
    assert counts["pdf_tables_dropped"] == 2 and counts["pdf_table_rows_dropped"] == 10 and "pdf_table_rows" not in counts


def test_table_rows_survive_the_cleaner_at_the_end_of_a_document():
    """A table that closes the text is in the trailing block; its rows (" | " cells) are not a site menu."""
    text = "\n".join([GOOD, "", *RIGHT_ROWS])
    out, removed = BoilerplateRemover().explain(text)
    assert out.endswith("\n".join(RIGHT_ROWS)) and removed == []
    menu = "\n".join([GOOD, "关于我们 | 联系我们 | 广告服务 | 法律声明"])
    assert BoilerplateRemover().explain(menu)[0] == GOOD  # a menu has no figures: still removed


@pytest.mark.skipif(not (REALDATA_PDF / "pymupdf_chinese-tables.pdf").is_file(), reason="realdata not present")
def test_prospectus_credit_table_keeps_one_row_per_line_with_whole_figures():
    doc = read_pdf((REALDATA_PDF / "pymupdf_chinese-tables.pdf").read_bytes())[0]
    assert "序号 | 金融机构名称 | 授信总额 | 已使用情况 | 剩余额度" in doc.text
    assert "3 | 兴业银行盐城分行 | 302,600.00 | 110,600.00 | 192,000.00" in doc.text
    assert "11 | 上海银行盐城分行 | 46,265.00 | 46,265.00 | 0.00" in doc.text
    assert "发行人各类授信额度总额达372.53 亿元" in doc.text  # prose around the table as pypdf read it


@pytest.mark.skipif(not (REALDATA_PDF / "unstructured_simplified_chinese.pdf").is_file(), reason="realdata not present")
def test_names_printed_in_columns_are_not_a_table():
    doc = read_pdf((REALDATA_PDF / "unstructured_simplified_chinese.pdf").read_bytes())[0]
    assert " | " not in doc.text and "pdf_tables" not in doc.meta.get("_counts", {})


def test_page_number_is_not_spelled_from_one_digit_table_cells():
    assert _consume("251", ["1", "2", "5"]) == 0
    assert _consume("1工商银行", ["工商银行", "1"]) == 2


def test_page_without_tables_or_charts_keeps_its_extracted_text():
    rows = [Row(700, 690, [Cell(50, 540, GOOD)]), Row(684, 674, [Cell(50, 300, "市民政局负责人介绍。")])]
    assert analyse(rows) == []
    assert splice(GOOD, [], Counter()) is None


def test_source_setting_pdf_tables_drop_reaches_the_reader_and_the_stage_counters():
    import json

    from builder.stages.corpus import process_file
    from builder.stages.corpus.clean import Kept

    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "config" / "corpus.schema.json").read_text(encoding="utf-8"))
    settings = {k: v["default"] for k, v in schema["properties"]["clean"]["properties"].items()}
    assert schema["properties"]["sources"]["items"]["properties"]["pdf_tables"]["enum"] == ["rows", "drop"]
    path = str(FIXTURES / "report_tables_chart.pdf")
    for mode, present in (("rows", True), ("drop", False)):
        out, counters = process_file(("pdf", path, {"name": "notes", "pdf_tables": mode}, dict(settings), "report_tables_chart.pdf"))
        docs = [o.document for o in out if isinstance(o, Kept)]
        assert len(docs) == 1 and ("零售 | 820 | 21%" in docs[0]["text"]) is present
        assert counters["pdf_tables_dropped" if mode == "drop" else "pdf_table_rows"] > 0


def test_table_header_row_repeated_at_the_top_of_each_page_is_not_a_running_header():
    header = "序号 | 金融机构名称 | 授信总额 | 已使用情况 | 剩余额度"
    pages = [f"{header}\n{n} | 工商银行 | 330,435.30 | 234,850.00 | 95,585.30\n{GOOD}\n- {n} -" for n in range(1, 5)]
    out = strip_running_lines(pages, Counter())
    assert all(p.startswith(header) and f"- {n} -" not in p for n, p in enumerate(out, 1))


def test_table_of_years_and_figures_under_one_header_row_is_a_table_not_chart_residue():
    def row(top, *cells):
        return Row(top, top - 9, [Cell(50 + 80 * k, 50 + 80 * k + 30, c) for k, c in enumerate(cells)])

    rows = [row(700, "年份", "营收", "利润"), row(682, "2020", "62", "8"), row(664, "2021", "75", "11"),
            row(646, "2022", "58", "5"), row(628, "2023", "81", "12")]
    regions = analyse(rows)
    assert [r.kind for r in regions] == ["table"]
    assert regions[0].lines == ["年份 | 营收 | 利润", "2020 | 62 | 8", "2021 | 75 | 11", "2022 | 58 | 5", "2023 | 81 | 12"]


@pytest.mark.parametrize("name", ["report_tables_chart.pdf", "report_tables_chart_cid.pdf"])
def test_rows_from_loose_character_boxes_hold_a_tables_labels_and_figures_together(name):
    """The fallback for pages whose PDFium rectangles are flat (a CID font not embedded and no CJK font on the
    machine: the glyphs have no height, so the rectangles split a row's labels from its figures). The loose
    character boxes come from the font size alone, so this holds on any machine, with or without CJK fonts."""
    import pypdfium2 as pdfium

    from builder.stages.corpus.pdf_layout import FLAT, build_rows, char_runs

    pdf = pdfium.PdfDocument((FIXTURES / name).read_bytes())
    try:
        tp = pdf[0].get_textpage()
        runs = char_runs(tp)
        tp.close()
    finally:
        pdf.close()
    assert all(top - bottom > FLAT for _, bottom, _, top, _ in runs)
    rows = [[c.text for c in r.cells] for r in build_rows(runs)]
    assert ["指标", "2023年", "2024年"] in [r[:3] for r in rows]
    assert ["社零总额（万亿元）", "47.1", "48.8"] in [r[:3] for r in rows]
    assert ["餐饮", "1260", "32%"] in [r[-3:] for r in rows]


def test_a_blank_line_or_an_indent_starts_a_new_paragraph_even_after_a_full_line():
    full = "市政府今天召开新闻发布会介绍今年上半年全市经济运行情况和下半年重点工作安排记者从会上了解到今年"
    indented = join_pdf_lines("\n".join([full, full, "\u3000\u3000" + full, full + "。"]))
    assert indented == full * 2 + "\n\n" + full * 2 + "。"  # the previous line runs full width and ends no sentence
    blank = join_pdf_lines("\n".join([full, full, "", full, full + "。"]))
    assert blank == full * 2 + "\n\n" + full * 2 + "。"
    assert join_pdf_lines("\n".join([full, full, full + "。"])) == full * 3 + "。"  # no indent, no blank: one paragraph
