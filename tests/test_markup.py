"""Markup of the source format becomes text, counted by kind; null literals and non-text fields never reach a document."""

from __future__ import annotations

import json

import pytest

from builder.stages.corpus import process_records
from builder.stages.corpus.clean import Kept, Rejected
from builder.stages.corpus.clean import Cleaner, to_document
from builder.stages.corpus.extract import RawDoc, read_md
from builder.stages.corpus.records import iter_jsonl, record_to_raw
from builder.text.markup import (
    FieldTypeError,
    normalize_markup,
    strip_html,
    strip_markdown,
    value_text,
)

DEFAULTS = {"normalize": True, "markup": True, "boilerplate": True, "boilerplate_extra": [], "min_chars": 20, "max_chars": 200000,
            "min_cjk_ratio": 0.3, "max_dup_line_ratio": 0.3, "dup_ngram_n": 10, "max_dup_ngram_ratio": 0.25,
            "max_garbled_ratio": 0.02, "t2s": False, "pii": True}
PARA = "寒潮来袭，全市气温骤降十度以上，市气象台发布寒潮蓝色预警，提醒市民注意防寒保暖。"
PARA2 = "市交通部门表示，已提前部署除冰除雪车辆，确保主干道路畅通，公交地铁运营时间不变。"


def test_markdown_emphasis_headings_links_lists_become_text():
    md = f"## 寒潮预警\n\n**{PARA}**\n\n- 第一条：[市气象台](https://example.cn/a)提醒\n* 第二条：*注意*保暖\n\n> 引用的话\n\n![图片](x.png)"
    counts: dict[str, int] = {}
    out = strip_markdown(md, counts)
    assert "**" not in out and "](" not in out and "#" not in out and "> " not in out and "x.png" not in out
    assert out.splitlines()[0] == "寒潮预警"
    assert "第一条：市气象台提醒" in out and "第二条：注意保暖" in out and PARA in out
    assert counts == {"md_heading": 1, "md_emphasis": 2, "md_link": 1, "md_image": 1, "md_list": 2, "md_quote": 1}


def test_single_asterisks_in_arithmetic_are_not_emphasis():
    counts: dict[str, int] = {}
    assert strip_markdown("面积为3*4*5立方米", counts) == "面积为3*4*5立方米"
    assert counts == {}


def test_html_in_a_field_cdata_tags_and_entities_become_text():
    desc = "<![CDATA[<p>据报道，&nbsp;华为发布新品&amp;服务。</p><p>第二段<br/>换行</p><script>var a=1;</script>]]>"
    counts: dict[str, int] = {}
    out = strip_html(desc, counts)
    assert "<" not in out and "CDATA" not in out and "&amp;" not in out and "var a" not in out
    assert "华为发布新品&服务。" in out and "第二段\n换行" in out
    assert counts["cdata"] == 1 and counts["html_tag"] >= 5 and counts["html_entity"] == 2


def test_private_use_paragraph_mark_becomes_paragraph_break_and_is_not_garbled():
    paras = [PARA, PARA2, "据悉，全市已开放三十处临时避寒场所，为流浪人员提供热食和棉被。", "气象专家提醒，此次降温将持续三天，周末起气温逐步回升。"]
    text = "\ue40c".join(paras)
    counters: dict[str, int] = {}
    out, dropped = Cleaner(dict(DEFAULTS))(RawDoc(text=text, format="xmlrecords"), counters)
    assert dropped is None
    assert out.split("\n\n") == paras
    assert counters["markup_paragraph_mark"] == 3


@pytest.mark.parametrize("text,gone", [
    (f"标题：None\n{PARA}", "标题"),
    (f"作者：null，来源：新华社\n{PARA}", "作者"),
    (f"{PARA}\nnan", "nan"),
])
def test_null_literals_are_removed_with_their_label(text, gone):
    counts: dict[str, int] = {}
    out = normalize_markup(text, "jsonl", counts)
    assert gone not in out and "None" not in out and "null" not in out and PARA in out
    assert counts["null_literal"] == 1


def test_null_word_inside_english_text_is_kept():
    counts: dict[str, int] = {}
    text = "函数返回 None 表示没有结果，这是 Python 的约定。"
    assert normalize_markup(text, "jsonl", counts) == text and counts == {}


def test_list_of_paragraphs_field_is_joined_with_paragraph_breaks():
    raw = record_to_raw({"title": "寒潮", "content": [PARA, "", None, PARA2]}, {}, "jsonl", "#L1")
    assert isinstance(raw, RawDoc) and raw.text == PARA + "\n\n" + PARA2


@pytest.mark.parametrize("value,words", [({"a": "甲"}, "dict"), ([1, 2], "int"), (True, "boolean")])
def test_non_text_field_is_rejected_with_a_type_reason(value, words):
    raw = record_to_raw({"content": value}, {}, "jsonl", "#L7")
    assert not isinstance(raw, RawDoc)
    assert raw.reason == "text_field_type" and words in raw.detail and "L7" in raw.detail
    with pytest.raises(FieldTypeError):
        value_text(value, "content")


@pytest.mark.parametrize("missing", [None, float("nan"), "None", "null", "NaN", ""])
def test_null_title_and_author_values_are_missing_not_text(missing):
    raw = record_to_raw({"title": missing, "author": missing, "content": PARA * 2}, {}, "parquet", "#row0")
    assert raw.title is None and raw.author is None
    cleaner = Cleaner(dict(DEFAULTS))
    text, _ = cleaner(raw, {})
    doc = to_document(raw, text, cleaner, {"name": "s"}, "a.parquet")
    assert doc["title"] is None and doc["author"] is None and "None" not in doc["text"]


def test_jsonl_record_with_markdown_and_list_field_end_to_end(tmp_path):
    p = tmp_path / "tv.jsonl"
    rows = [{"title": "**新闻联播**", "content": f"**{PARA}**\n\n标题：None\n\n{PARA2}"},
            {"title": "寒潮", "content": [PARA, PARA2]},
            {"title": "坏", "content": {"p": PARA}}]
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    items = list(iter_jsonl(p))
    settings = dict(DEFAULTS)
    out, counters = process_records((items, "tv.jsonl", {"name": "tv", "_format": "jsonl"}, settings))
    kept = [o.document for o in out if isinstance(o, Kept)]
    rejected = [o for o in out if isinstance(o, Rejected)]
    assert [r.reason for r in rejected] == ["text_field_type"]
    assert kept[0]["title"] == "新闻联播" and "**" not in kept[0]["text"] and "None" not in kept[0]["text"]
    assert kept[1]["text"] == PARA + "\n\n" + PARA2
    assert counters["markup_md_emphasis"] == 1 and counters["markup_null_literal"] == 1


def test_markdown_file_body_is_clean_after_the_cleaner_and_counted():
    md = "# 标题一\n\n**治理谣言**需要[平台](http://x)与公众共同努力，" + PARA + "\n\n1. 第一\n- 第二条" + PARA2
    raw = read_md(md.encode())[0]
    assert raw.title == "标题一"
    counters: dict[str, int] = {}
    text, dropped = Cleaner(dict(DEFAULTS))(raw, counters)
    assert dropped is None and "**" not in text and "](" not in text and "- 第二条" not in text
    assert counters["markup_md_emphasis"] == 1 and counters["markup_md_link"] == 1 and counters["markup_md_list"] == 1


def test_layout_markers_of_generated_pdf_reports_are_removed_and_counted():
    counts: dict[str, int] = {}
    out = normalize_markup(f"[Table_Title]\n{PARA}[Table_Summary]\n[Table_Author] 分析师：张三", "pdf", counts)
    assert "[Table_" not in out and PARA in out and counts == {"layout_marker": 3}
    assert normalize_markup("[Table_Title]", "txt", {}) == "[Table_Title]"  # only PDF text layers carry them


def test_layout_table_cells_of_a_web_page_become_plain_lines_and_data_tables_stay():
    from builder.text.markup import normalize_markup

    text = "\n".join(["|  |  |  | ", "| 现在位置： 首页 >> 东区新闻 >> 正文 | ", "|  | 青川市今年新建社区食堂四十二家。 |",
                      "| 指标 | 数值 |", "| 食堂 | 42 |"])
    counts: dict[str, int] = {}
    out = normalize_markup(text, "html", counts)
    assert out.split("\n") == ["", "现在位置： 首页 >> 东区新闻 >> 正文", "青川市今年新建社区食堂四十二家。", "| 指标 | 数值 |", "| 食堂 | 42 |"]
    assert counts["layout_cell"] == 3
    assert normalize_markup("| 青川 |", "md", {}) == "| 青川 |"  # only extracted web pages have layout tables


@pytest.mark.parametrize("value", [42, 3.5])
def test_a_number_in_the_text_field_is_rejected_with_a_type_reason_but_a_numeric_date_stays(value):
    raw = record_to_raw({"content": value}, {}, "jsonl", "#L9")
    assert not isinstance(raw, RawDoc) and raw.reason == "text_field_type" and "number" in raw.detail and "L9" in raw.detail
    ok = record_to_raw({"content": PARA, "published": 20260314}, {}, "jsonl", "#L10")
    assert isinstance(ok, RawDoc)
