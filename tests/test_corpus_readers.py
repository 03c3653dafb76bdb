"""Readers: encodings, headers, HTML, PDF (page-aware, encrypted, truncated, corrupt), record files."""

from __future__ import annotations

import io
import json

import pytest

from builder.stages.corpus.decode import DecodeError, decode
from builder.stages.corpus.extract import UnreadableFile, read_html, read_md, read_pdf, read_txt
from builder.stages.corpus.records import iter_csv, iter_jsonl, iter_parquet
from conftest import DEMO

TEXT = "新闻评论应当以事实为依据，做到客观、公正。"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "gbk", "gb18030"])
def test_decode_detects_chinese_encodings(encoding):
    data = (TEXT * 5).encode(encoding)
    text, _ = decode(data)
    assert text.lstrip("\ufeff") == TEXT * 5


def test_decode_rejects_binary():
    import random

    with pytest.raises(DecodeError, match="binary"):
        decode(random.Random(7).randbytes(2048) + b"\x00")


def test_demo_gbk_file_is_read_as_gbk():
    raw = (DEMO / "gbk" / "gbk_news_01.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    doc = read_txt(raw)[0]
    assert doc.title and "\ufffd" not in doc.text and len(doc.text) > 300


@pytest.mark.realdata
def test_realdata_gbk_records(realdata):
    from builder.stages.corpus.decode import decode_detail

    raw = (realdata / "encoding" / "news_tensite_xml.smarty.gbk.dat").read_bytes()
    d = decode_detail(raw)
    assert d.encoding == "gb18030" and d.text.count("<doc>") == 200
    # the dump lost the lead byte of each U+E40C paragraph mark (FD A3 -> "?" A3): the mark is restored, so the
    # rest of the record is read in step instead of as mojibake (销毁。?；泼鳎合衷谖倚); characters whose second
    # byte the dump lost are U+FFFD, counted, not guessed
    assert "销毁。\ue40c黄明：现在我" in d.text and "泼鳎" not in d.text
    assert d.repaired_marks == 803 and d.replacement_chars == d.text.count("\ufffd") == 803


def test_txt_header_gives_title_date_author(article_text):
    doc = read_txt(article_text.encode())[0]
    assert doc.title == "青川市新开通三条公交线路"
    assert doc.published == "2025-03-14"
    assert doc.author == "张明"
    assert doc.text.strip().startswith("本报讯")


def test_md_front_matter():
    md = "---\ntitle: 评论：让谣言止于智者\ndate: 2025-04-03\nauthor: 本报评论员\n---\n\n## 小标题\n\n我们认为，**治理谣言**需要[平台](http://x)与公众共同努力。\n"
    doc = read_md(md.encode())[0]
    assert (doc.title, doc.published, doc.author) == ("评论：让谣言止于智者", "2025-04-03", "本报评论员")
    from builder.stages.corpus.clean import Cleaner

    counters: dict[str, int] = {}
    settings = {"normalize": True, "markup": True, "boilerplate": True, "boilerplate_extra": [], "min_chars": 1, "max_chars": 10**6,
                "min_cjk_ratio": 0.3, "max_dup_line_ratio": 0.3, "dup_ngram_n": 10, "max_dup_ngram_ratio": 0.25,
                "max_garbled_ratio": 0.02, "t2s": False, "pii": True}
    text, _ = Cleaner(settings)(doc, counters)  # body markup is the cleaner's (counted) markup step
    assert "**" not in text and "](" not in text and "#" not in text and "治理谣言" in text
    assert counters["markup_md_emphasis"] == 1 and counters["markup_md_link"] == 1 and counters["markup_md_heading"] == 1


def test_html_main_text_without_chrome():
    page = next((DEMO / "interview").glob("*.html")).read_bytes()
    doc = read_html(page)[0]
    assert doc.title and doc.published and len(doc.text) > 400
    assert "ICP" not in doc.text and "版权所有" not in doc.text


def test_html_gbk_meta_charset():
    html = ('<html><head><meta charset="gbk"><title>乡村篮球赛开幕</title></head><body><article><h1>乡村篮球赛开幕</h1>'
            + "".join(f"<p>第{i}段：河湾镇首届村级篮球联赛今天开幕，十二支村队参赛，吸引了数千名村民到场观看。</p>" for i in range(6))
            + "</article></body></html>").encode("gbk")
    doc = read_html(html)[0]
    assert "河湾镇" in doc.text and "\ufffd" not in doc.text


def test_pdf_is_page_aware():
    doc = read_pdf((DEMO / "pdf" / "media_handbook.pdf").read_bytes())[0]
    meta = doc.meta
    assert meta["pages"] >= 3 and len(meta["page_starts"]) == meta["pages"]
    src = (DEMO / "pdf" / "media_handbook.src").read_text(encoding="utf-8")
    squash = lambda s: "".join(s.split())  # noqa: E731
    assert squash(doc.text) in squash(src) or squash(src).startswith(squash(doc.text)[:200])
    # each page offset points at that page's first characters
    for start in meta["page_starts"][1:]:
        assert doc.text[start - 2 : start] == "\n\n"


def _pdf_bytes(encrypt: bool = False) -> bytes:
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(DEMO / "pdf" / "media_handbook.pdf")
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    if encrypt:
        writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_encrypted_pdf_is_rejected_with_reason():
    with pytest.raises(UnreadableFile) as err:
        read_pdf(_pdf_bytes(encrypt=True))
    assert err.value.reason == "encrypted_pdf"


def test_truncated_pdf_is_rejected_with_reason():
    data = (DEMO / "pdf" / "media_handbook.pdf").read_bytes()
    with pytest.raises(UnreadableFile) as err:
        read_pdf(data[: len(data) // 2])
    assert err.value.reason == "truncated_pdf"


def test_corrupt_pdf_is_rejected_with_reason():
    with pytest.raises(UnreadableFile) as err:
        read_pdf(b"%PDF-1.7\n" + b"garbage " * 200 + b"\n%%EOF\n")
    assert err.value.reason == "corrupt_pdf"


def test_jsonl_malformed_line_is_rejected_alone(tmp_path):
    p = tmp_path / "a.jsonl"
    lines = [json.dumps({"title": "一", "content": "甲" * 10}, ensure_ascii=False), '{"title": "坏", "content": "未闭合', "[1, 2]",
             json.dumps({"title": "二", "content": "乙" * 10}, ensure_ascii=False)]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(iter_jsonl(p))
    good = [(s, r) for s, r in items if isinstance(r, dict)]
    bad = [(s, r) for s, r in items if isinstance(r, UnreadableFile)]
    assert [s for s, _ in good] == ["#L1", "#L4"]
    assert [s for s, _ in bad] == ["#L2", "#L3"]
    assert "line 2: invalid JSON" in bad[0][1].detail


def test_csv_and_parquet_records(tmp_path):
    import polars as pl

    df = pl.DataFrame({"title": ["一", "二"], "content": ["甲文" * 5, "乙文" * 5]})
    df.write_csv(tmp_path / "a.csv")
    df.write_parquet(tmp_path / "a.parquet")
    for it, name in ((iter_csv, "a.csv"), (iter_parquet, "a.parquet")):
        rows = [r for _, r in it(tmp_path / name)]
        assert [r["title"] for r in rows] == ["一", "二"]


@pytest.mark.realdata
def test_realdata_sogou_xml_records(realdata):
    from builder.stages.corpus.records import iter_xml_records

    items = list(iter_xml_records(realdata / "encoding" / "news_tensite_xml.smarty.gbk.dat"))
    assert len(items) == 200
    suffix, first = items[0]
    assert suffix == "#doc0" and first["url"].startswith("http") and first["contenttitle"] and "\ue40c黄明：现在我" in first["content"]


@pytest.mark.parametrize("raw,clean", [
    ("午间公告：天奇股份中标广汽丰田项目_证券时报网", "午间公告：天奇股份中标广汽丰田项目"),
    ("法国全国大罢工再次严重影响交通-新华网", "法国全国大罢工再次严重影响交通"),
    ("原创 最不愁吃肉的国家：顿顿有肉吃", "最不愁吃肉的国家：顿顿有肉吃"),
    ("A-B 测试指南：如何读懂实验数据", "A-B 测试指南：如何读懂实验数据"),
])
def test_html_titles_lose_site_names(raw, clean):
    from builder.stages.corpus.extract import tidy_title

    assert tidy_title(raw) == clean


def test_pdf_page_offsets_survive_cleaning(tmp_path):
    """Cleaning changes lengths (radicals, boilerplate, PII masks); page_starts must still point at each page."""
    from builder.config import parse_config
    from builder.stages.corpus.clean import Cleaner, join_offsets, to_document
    from builder.stages.corpus.extract import RawDoc

    pages = ["第一页：⽤户服务热线13812345678，来电请说明来意。本手册介绍新媒体编辑的日常工作流程。",
             "责任编辑：王五\n第二页　　正文讲述标题写作的基本规范，标题应当准确、简洁、有信息量。",
             "第三页：结语部分总结全书要点，提醒编辑在发布前再核对一次事实与数据。"]
    raw = RawDoc(text="\n\n".join(pages), format="pdf", meta={"pages": 3, "page_starts": join_offsets(pages)})
    settings = parse_config("[build]\n[corpus.clean]\nmin_chars = 10\n", tmp_path / "b.toml").stage("corpus")["clean"]
    cleaner = Cleaner(settings)
    text, dropped = cleaner(raw, {})
    assert dropped is None
    doc = to_document(raw, text, cleaner, {"name": "s"}, "x.pdf")
    starts = json.loads(doc["meta"])["page_starts"]
    assert [doc["text"][st:st + 3] for st in starts] == ["第一页", "第二页", "第三页"]
    assert "[手机号]" in doc["text"] and "用户" in doc["text"]


def test_utf8_csv_whose_sample_ends_inside_a_character(tmp_path):
    import polars as pl

    rows = ["新闻" * (i % 7 + 1) + "，青川市今日发布消息。" for i in range(3000)]
    pl.DataFrame({"title": [f"第{i}条" for i in range(3000)], "content": rows}).write_csv(tmp_path / "a.csv")
    items = list(iter_csv(tmp_path / "a.csv"))
    assert all(isinstance(r, dict) for _, r in items) and len(items) == 3000
    assert items[-1][1]["content"] == rows[-1]


BIG5 = "記者從市政府獲悉，這項新聞發佈會將於明天上午舉行。會議將介紹今年城市更新計劃的進展，包括老舊小區改造。"


def test_big5_is_detected_not_decoded_as_gb18030_mojibake():
    from builder.stages.corpus.decode import decode_detail

    data = BIG5.encode("big5")
    data.decode("gb18030")  # the trap: Big5 bytes are valid GB18030, as wrong characters
    d = decode_detail(data)
    assert d.encoding.startswith("big5") and d.text == BIG5


def test_gbk_page_declared_latin1_is_read_as_gbk_and_counted():
    from builder.stages.corpus.extract import html_decode

    body = "河湾镇首届村级篮球联赛今天开幕，十二支村队参赛，吸引了数千名村民到场观看。" * 6
    page = f'<html><head><meta charset="iso-8859-1"><title>乡村篮球赛开幕</title></head><body><p>{body}</p></body></html>'.encode("gbk")
    d = html_decode(page)
    assert body in d.text and d.counts()["decode_overruled_declaration"] == 1
    latin = '<html><head><meta charset="iso-8859-1"></head><body><p>Caf\xe9 cr\xe8me br\xfbl\xe9e</p></body></html>'.encode("latin-1")
    assert "Café crème" in html_decode(latin).text  # a real latin-1 page keeps its declaration


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_cjk_heavy_is_detected(codec):
    text = (TEXT * 8).replace("。", "。\n")
    assert decode((text).encode(codec)) == (text, codec)


def test_stray_nul_bytes_are_removed_and_counted_not_binary():
    from builder.stages.corpus.decode import decode_detail

    data = (TEXT * 40).encode("utf-8")
    data = data[:300] + b"\x00" + data[300:600] + b"\x00\x00" + data[600:]
    d = decode_detail(data)
    assert d.text == TEXT * 40 and d.nul_removed == 3 and d.counts() == {"decode_nul_removed": 3}


def test_replacement_characters_are_counted_and_kept_not_deleted():
    from builder.stages.corpus.clean import Cleaner

    data = (TEXT * 20).encode("utf-8")
    data = data[:30] + b"\xff" + data[30:]  # one damaged byte between two characters
    doc = read_txt(data)[0]
    assert doc.meta["_counts"] == {"decode_replacement_chars": 1}
    settings = {"normalize": True, "markup": True, "boilerplate": True, "boilerplate_extra": [], "min_chars": 10, "max_chars": 10**6,
                "min_cjk_ratio": 0.3, "max_dup_line_ratio": 0.9, "dup_ngram_n": 10, "max_dup_ngram_ratio": 1.0,
                "max_garbled_ratio": 0.02, "t2s": False, "pii": True}
    counters: dict[str, int] = {}
    text, dropped = Cleaner(settings)(doc, counters)
    assert dropped is None and text.count("\ufffd") == 1
    assert counters["decode_replacement_chars"] == 1 and counters["text_replacement_chars"] == 1 and "_counts" not in doc.meta


def test_bytes_common_in_no_chinese_encoding_fail_loudly():
    import random

    rnd = random.Random(3)
    data = bytes(rnd.randrange(0x81, 0xFF) for _ in range(4000))
    with pytest.raises(DecodeError, match="common-character share"):
        decode(data)


@pytest.mark.parametrize("line, names", [
    ("2025年3月14日 记者 张明", ["张明"]),
    ("记者 张明 李华", ["张明", "李华"]),
    ("作者：本报评论员", ["本报评论员"]),
    ("文/张三", ["张三"]),
    ("记者 周航 上周六下午，读书会在图书馆举行", ["周航"]),  # a time phrase after the name is no second name
    ("记者从市政府获悉，全市新开通三条公交线路", []),  # the label begins a sentence, not a byline
    ("本文是一篇评论", []),  # 文 without a mark after it is no label
])
def test_one_byline_pattern_for_text_headers_and_crawled_pages(line, names):
    from builder.stages.corpus.crawl import byline_author
    from builder.stages.corpus.extract import byline_names

    assert byline_names(line) == names
    assert byline_author(f"<html><body><p>{line}</p></body></html>") == ("、".join(names) or None)


def test_question_mark_repair_matches_reading_gbk_one_character_at_a_time():
    """The repair matches runs of characters without a '?' in one go: it cuts the bytes exactly as the reference that
    reads one GB18030 character at a time (random byte strings of the shapes that matter, and the SogouCA file)."""
    import random
    import re

    from conftest import ROOT

    from builder.stages.corpus.decode import repair_question_marks

    units = re.compile(rb"[\x81-\xfe][\x30-\x39][\x81-\xfe][\x30-\x39]|[\x81-\xfe][\x40-\x7e\x80-\xfe]|(?P<mark>\?\xa3)"
                       rb"|(?P<lost>[\x81-\xfe]\?)|[\x00-\x80]|[\x81-\xff]", re.S)

    def reference(data: bytes) -> tuple[bytes, int, int]:
        counts = {"mark": 0, "lost": 0}

        def fix(m):
            for kind, out in (("mark", b"\xfd\xa3"), ("lost", b"\x1a")):
                if m.group(kind):
                    counts[kind] += 1
                    return out
            return m.group(0)

        return units.sub(fix, data), counts["mark"], counts["lost"]

    rng = random.Random(7)
    pieces = [b"?", b"\xa3", b"\x81", b"\xfe", b"\xff", b"\x30", b"\x39", b"\x40", b"a", b"\x80", b"\x7f", b"\xb0", b"\xa1", b"\n"]
    for _ in range(5000):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        assert repair_question_marks(data) == reference(data), data
    sogou = ROOT.parent / "shared" / "realdata" / "encoding" / "news_tensite_xml.smarty.gbk.dat"
    if sogou.exists():
        assert repair_question_marks(sogou.read_bytes()) == reference(sogou.read_bytes())
