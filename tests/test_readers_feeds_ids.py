"""Local RSS/Atom feeds, TSV and other CSV delimiters, and ids unique per build with the content hash beside them."""

from __future__ import annotations

import json

import pytest

from builder.stages.corpus import process_records
from builder.stages.corpus.clean import Kept
from builder.stages.corpus.extract import EXTENSIONS, RawDoc, UnreadableFile
from builder.stages.corpus.records import iter_csv, iter_feed, record_to_raw

SETTINGS = {"normalize": True, "markup": True, "boilerplate": True, "boilerplate_extra": [], "min_chars": 20, "max_chars": 10**6,
            "min_cjk_ratio": 0.3, "max_dup_line_ratio": 0.3, "dup_ngram_n": 10, "max_dup_ngram_ratio": 0.5,
            "max_garbled_ratio": 0.02, "t2s": False, "pii": True}
BODY = "青川市今年新建社区食堂四十二家，覆盖老城区和城东新区的主要街道。市民政局负责人介绍，食堂实行政府补贴、社会运营的方式。"

RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>青川新闻</title>
<item><title>社区食堂开业</title><link>https://news.example.cn/a/1</link><author>张明</author>
<pubDate>Fri, 14 Mar 2025 08:30:00 +0800</pubDate>
<description><![CDATA[<p>{BODY}</p><p>记者&nbsp;张明 &amp; 李华报道。</p><script>track()</script>]]></description></item>
<item><title>R&D 中心 & 新项目</title><link>https://news.example.cn/a/2</link><description>{BODY}</description></item>
</channel></rss>"""


def test_local_rss_gives_title_link_date_author_and_html_free_content(tmp_path):
    p = tmp_path / "feed.xml"
    p.write_text(RSS, encoding="utf-8")
    items = list(iter_feed(p))
    assert [s for s, _ in items] == ["#item0", "#item1"]
    first = items[0][1]
    assert (first["title"], first["url"], first["published"], first["author"]) == ("社区食堂开业", "https://news.example.cn/a/1", "2025-03-14", "张明")
    out, counters = process_records((items, "feed.xml", {"name": "feed", "_format": "rss"}, dict(SETTINGS)))
    docs = [o.document for o in out if isinstance(o, Kept)]
    assert len(docs) == 2  # the unescaped & of the second item does not lose the feed
    text = docs[0]["text"]
    assert "<" not in text and "CDATA" not in text and "&nbsp;" not in text and "track()" not in text
    assert BODY in text and "张明 & 李华报道" in text and docs[0]["published"] == "2025-03-14"
    assert counters["markup_html_tag"] >= 4 and json.loads(docs[0]["meta"])["url"] == "https://news.example.cn/a/1"


def test_atom_feed_and_feed_extensions(tmp_path):
    atom = f"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>博客</title>
<entry><title>周刊 第1期</title><link href="https://blog.example.cn/1"/><author><name>阮一峰</name></author>
<updated>2020-04-10T08:00:00Z</updated><content type="html">&lt;p&gt;{BODY}&lt;/p&gt;</content></entry></feed>"""
    p = tmp_path / "blog.atom"
    p.write_text(atom, encoding="utf-8")
    rec = list(iter_feed(p))[0][1]
    assert (rec["title"], rec["author"], rec["published"], rec["url"]) == ("周刊 第1期", "阮一峰", "2020-04-10", "https://blog.example.cn/1")
    assert EXTENSIONS[".rss"] == EXTENSIONS[".atom"] == EXTENSIONS[".xml"] == "rss" and EXTENSIONS[".tsv"] == "csv"


def test_feed_without_encoding_declaration_is_detected_not_read_as_windows_1252(tmp_path):
    p = tmp_path / "gb.xml"
    p.write_bytes("<rss><channel><item><title>信息交换用汉字编码字符集·基本集，通常简称国标码</title></item></channel></rss>".encode("gb18030"))
    assert list(iter_feed(p))[0][1]["title"] == "信息交换用汉字编码字符集·基本集，通常简称国标码"


def test_xml_that_is_not_a_feed_is_rejected_with_a_reason(tmp_path):
    p = tmp_path / "sitemap.xml"
    p.write_text("<urlset><url><loc>https://x.cn/</loc></url></urlset>", encoding="utf-8")
    with pytest.raises(UnreadableFile) as err:
        list(iter_feed(p))
    assert err.value.reason == "not_a_feed"


@pytest.mark.realdata
def test_realdata_feeds_malformed_rss_gb2312_and_atom(realdata):
    counts = {p.name: len(list(iter_feed(p))) for p in sorted((realdata / "rss").glob("*.xml"))}
    assert counts == {"chardet_gb2312_gb18030.xml": 1, "https-www-oschina-net-news-rss-show-industry.xml": 50,
                      "www-ruangyifeng-com-blog-atom.xml": 3}


@pytest.mark.parametrize("name,delim", [("a.tsv", "\t"), ("a.csv", ";"), ("b.csv", "|"), ("c.csv", ",")])
def test_tsv_and_other_delimiters_are_read(tmp_path, name, delim):
    p = tmp_path / name
    rows = [["title", "content"], ["一号", "甲文，含逗号，的正文"], ["二号", "乙文；分号"]]
    p.write_text("\n".join(delim.join(r) for r in rows) + "\n", encoding="utf-8")
    got = [r for _, r in iter_csv(p)]
    assert got == [{"title": "一号", "content": "甲文，含逗号，的正文"}, {"title": "二号", "content": "乙文；分号"}]


def test_explicit_delimiter_wins_over_sniffing(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("title|content\n一|甲,乙\n", encoding="utf-8")
    assert [r for _, r in iter_csv(p, delimiter="|")] == [{"title": "一", "content": "甲,乙"}]


def test_same_text_from_two_sources_gets_two_ids_and_one_content_hash():
    items = [("#L1", {"title": "一", "content": BODY}), ("#L2", {"title": "二", "content": BODY})]
    docs = []
    for src in ("a", "b"):
        out, _ = process_records((items, f"{src}.jsonl", {"name": src, "_format": "jsonl"}, dict(SETTINGS)))
        docs += [o.document for o in out if isinstance(o, Kept)]
    assert len({d["id"] for d in docs}) == 4
    assert len({d["content_hash"] for d in docs}) == 1
    assert all(len(d["id"]) == 16 and len(d["content_hash"]) == 16 for d in docs)


def test_document_with_content_hash_passes_the_document_schema():
    import jsonschema
    from conftest import ROOT

    schema = json.loads((ROOT / "schemas" / "document.schema.json").read_text(encoding="utf-8"))
    out, _ = process_records(([("#L1", {"content": BODY})], "a.jsonl", {"name": "a", "_format": "jsonl"}, dict(SETTINGS)))
    jsonschema.validate(out[0].document, schema)
    raw = record_to_raw({"content": BODY}, {}, "rss", "#item0")
    assert isinstance(raw, RawDoc) and raw.format == "rss"
