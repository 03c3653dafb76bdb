"""Cleaning rules for Chinese text: each rule is named, counted and asserted by its exact reason."""

from __future__ import annotations

import pytest

from builder.errors import ConfigError
from builder.stages.corpus.clean import DEFAULT_STEPS, CleanStep, Cleaner, Dropped, configured_steps
from builder.stages.corpus.extract import RawDoc
from builder.text import pii, quality
from builder.text.boilerplate import BoilerplateRemover
from builder.text.normalize import compare_form, normalize

DEFAULTS = {"normalize": True, "boilerplate": True, "boilerplate_extra": [], "min_chars": 80, "max_chars": 200000,
            "min_cjk_ratio": 0.3, "max_dup_line_ratio": 0.3, "dup_ngram_n": 10, "max_dup_ngram_ratio": 0.25,
            "max_garbled_ratio": 0.02, "t2s": False, "pii": True}
BODY = ("青川市今年新建社区食堂四十二家，覆盖老城区和城东新区的主要街道。市民政局负责人介绍，食堂实行政府补贴、"
        "社会运营的方式，六十岁以上老人每餐可享受三元补贴。家住城南街道的刘大爷说：“饭菜可口，价格实惠，子女也放心。”")


def test_radicals_and_fullwidth_latin_fold_but_chinese_punctuation_stays():
    assert normalize("⽤户⽅⾯：ＡＩ写作２０２５，真的吗？（是）") == "用户方面：AI写作2025，真的吗？（是）"


def test_whitespace_and_control_characters():
    assert normalize("中 国\u200b人\x07民  共和国\n\n\n\n新 闻") == "中国人民共和国\n\n新闻"


def test_spaces_between_names_and_headline_clauses_survive():
    # three or more short words (2-4 Han) side by side are names in a list; other spaces are layout
    assert normalize("编写： 杨启光 陈光磊 陈学超 周小兵") == "编写：杨启光 陈光磊 陈学超 周小兵"
    assert normalize("本报讯 为配合地铁3号线东段开通运营") == "本报讯为配合地铁3号线东段开通运营"
    assert normalize("多地项目连环爆雷 狂奔的龙湖集团", keep_cjk_spaces=True) == "多地项目连环爆雷 狂奔的龙湖集团"
    # a half-width quote between Chinese text is part of it: the space beside it is layout too
    assert normalize('她说："很有意思。" 茉莉还代表该地区') == '她说："很有意思。"茉莉还代表该地区'
    assert normalize('他说 "这是" 对的') == '他说"这是"对的'
    assert normalize('He said "ok" 好') == 'He said "ok" 好'


def test_compare_form_drops_punctuation_and_folds_width():
    assert compare_form("我们，认为：“新闻”Ａ b！") == compare_form("我们,认为:\"新闻\"a B!") == "我们认为新闻ab"


def test_boilerplate_lines_and_promotional_tail():
    text = "\n".join(["原标题：旧的标题", "来源：青川日报", BODY, BODY, BODY, "责任编辑：王五", "关于我们", "扫码关注公众号", "课程限时特惠仅需98元"])
    cleaned, lines, tail = BoilerplateRemover()(text)
    assert cleaned == "\n".join([BODY] * 3)
    assert lines == 3 and tail == 3


def test_boilerplate_keeps_long_sentences_that_mention_sources():
    line = "据新华社消息来源显示，" + BODY
    assert BoilerplateRemover()(line)[0] == line


@pytest.mark.realdata
def test_seed_article_tail_is_removed():
    from conftest import ROOT

    seed = ROOT.parent / "shared" / "seed" / "000_6cd5f3d04417a13f.txt"
    if not seed.exists():
        pytest.skip("seed not present")
    cleaned, _, tail = BoilerplateRemover()(seed.read_text(encoding="utf-8"))
    assert tail > 0
    for junk in ("站长微信", "限时特惠", "发表回复", "一年会员"):
        assert junk not in cleaned


def test_pii_masking_counts_each_kind():
    text = "联系电话13812345678或159-1234-5678，身份证330106199003074218，邮箱 lost.found@example.cn，订单号1381234567890。"
    masked, counts = pii.mask(text)
    assert counts == {"id_number": 1, "id_number_checked": 1, "phone": 2, "email": 1}
    assert "[手机号]" in masked and "[身份证号]" in masked and "[邮箱]" in masked and "1381234567890" in masked
    assert pii.scan(masked) == {}


@pytest.mark.parametrize("text,reason", [
    ("太短了。", "dropped_too_short"),
    ("This page is mostly English text with a few numbers 12345. " * 5 + "中文", "dropped_cjk_ratio"),
    ("热烈庆祝青川市第十届美食文化节隆重开幕\n全场商品八折优惠欢迎广大市民选购\n" * 30, "dropped_dup_lines"),
    ("(cid:1234)(cid:88)" * 30 + BODY, "dropped_garbled"),
])
def test_filters_drop_with_exact_reason(text, reason):
    counters: dict[str, int] = {}
    _, dropped = Cleaner(dict(DEFAULTS))(RawDoc(text=text), counters)
    assert dropped is not None and dropped.reason == reason


def test_repeated_ngrams_without_repeated_lines():
    spam = "点赞关注转发抽奖送好礼" * 40
    assert quality.check_dup_ngrams(BODY + spam, 10, 0.25)[0] == "dropped_dup_ngrams"
    assert quality.check_dup_ngrams(BODY * 1, 10, 0.25) is None


def test_good_document_is_kept_and_masked():
    counters: dict[str, int] = {}
    text, dropped = Cleaner(dict(DEFAULTS))(RawDoc(text=BODY + "\n咨询电话13812345678。\n责任编辑：李四"), counters)
    assert dropped is None
    assert "[手机号]" in text and "责任编辑" not in text
    assert counters["pii_masked_phone"] == 1 and counters["boilerplate_lines_removed"] == 1


def test_traditional_to_simplified_is_optional():
    trad = ("記者從市政府獲悉，這項新聞發佈會將於明天上午舉行。會議將介紹今年城市更新計劃的進展，"
            "包括老舊小區改造、道路拓寬與公園綠地建設。市民代表也將到場，就交通與停車問題提出建議。")
    s = dict(DEFAULTS, t2s=True, min_chars=10)
    text, dropped = Cleaner(s)(RawDoc(text=trad), {})
    assert dropped is None and "记者从市政府获悉" in text
    text2, _ = Cleaner(dict(DEFAULTS, min_chars=10))(RawDoc(text=trad), {})
    assert "記者" in text2


@pytest.mark.realdata
def test_realdata_radical_pdf_is_normalised(realdata):
    from builder.stages.corpus.extract import read_pdf

    doc = read_pdf((realdata / "pdf" / "mineru_chemical_introduction.pdf").read_bytes())[0]
    assert "⽤" in doc.text or "⽅" in doc.text  # the raw text layer uses Kangxi radicals
    clean = normalize(doc.text)
    assert not any(0x2F00 <= ord(c) <= 0x2FDF for c in clean)


def test_vertical_punctuation_becomes_full_width_not_ascii():
    assert normalize("标题︵竖排︶︐正文︓结束︒") == "标题（竖排），正文：结束。"


def test_spaces_between_chinese_brackets_and_extension_a_are_dropped():
    assert normalize("【 快讯 】 「 㐀 」") == "【快讯】「㐀」"


OFFICIAL = ("国家食药监局要求各地加快推进餐饮服务食品安全监督量化分级管理工作。" "各地要把餐饮服务食品安全监督量化分级管理工作作为重点，"
            "确保餐饮服务食品安全监督量化分级管理覆盖全部持证餐饮单位。" "截至目前，全国已有二十三个省份完成餐饮服务食品安全监督量化分级管理的动态评定。"
            "评定结果以笑脸、平脸、哭脸三种卡通图案公示在餐厅门口，方便消费者在就餐前了解这家餐厅的卫生状况。"
            "监管部门还将对评定为较差的单位加大检查频次，督促其限期整改，整改不到位的依法予以处理。")


def test_real_news_with_repeated_official_phrasing_is_kept():
    assert 0.25 < quality.dup_ngram_ratio(OFFICIAL, 10) < 0.5  # the old limit (0.25) dropped this kind of report
    text, dropped = Cleaner(dict(DEFAULTS, max_dup_ngram_ratio=0.5, min_chars=20))(RawDoc(text=OFFICIAL), {})
    assert dropped is None


def test_doubled_body_is_dedoubled_and_counted_not_dropped():
    paras = [BODY, "市民政局表示，下一步将在全市推广这一做法，力争年底前实现城区全覆盖，让老人吃得好、吃得放心。"]
    counters: dict[str, int] = {}
    text, dropped = Cleaner(dict(DEFAULTS))(RawDoc(text="\n".join(paras + paras)), counters)
    assert dropped is None and text == "\n".join(paras) and counters["dedoubled_body"] == 1
    counters = {}
    text, dropped = Cleaner(dict(DEFAULTS))(RawDoc(text=BODY + BODY), counters)  # doubled without a line break
    assert dropped is None and text == BODY and counters["dedoubled_body"] == 1


def test_repeated_long_paragraph_is_kept_once():
    other = "市民政局表示，下一步将在全市推广这一做法，力争年底前实现城区全覆盖。"
    text, found = quality.dedouble("\n".join([BODY, other, BODY, "短句重复。", "短句重复。"]))
    assert text == "\n".join([BODY, other, "短句重复。", "短句重复。"]) and found == {"repeated_paragraphs_removed": 1}


def test_a_run_of_replacement_characters_counts_once_as_damage():
    assert quality.garbled_ratio("好" * 94 + "\ufffd" * 6) == pytest.approx(1 / 95)


# -- the configured step list ---------------------------------------------------------------------
class DropMentionsOfLottery(CleanStep):
    """A user's own filter, loaded from the config as 'tests.test_clean:DropMentionsOfLottery'."""

    name = "lottery"

    def __call__(self, doc, count):
        if "彩票" in doc.text:
            count("lottery_seen")
            return Dropped("dropped_lottery", "mentions 彩票")
        return None


def test_default_step_list_is_the_documented_order_and_each_step_is_timed():
    assert [s.name for s in configured_steps(dict(DEFAULTS))] == [
        "markup", "garbled", "normalize", "boilerplate", "pii", "dedouble", "length", "cjk_ratio", "dup_lines", "dup_ngrams"]  # t2s off
    counters: dict[str, int] = {}
    Cleaner(dict(DEFAULTS))(RawDoc(text=BODY + "\n责任编辑：李四"), counters)
    assert {k for k in counters if k.startswith("clean_us_")} == {f"clean_us_{n}" for n in DEFAULT_STEPS if n != "t2s"}


def test_a_step_left_out_of_the_list_does_not_run():
    text = BODY + "\n咨询电话13812345678。\n责任编辑：李四"
    kept, _ = Cleaner(dict(DEFAULTS, steps=[n for n in DEFAULT_STEPS if n != "pii"]))(RawDoc(text=text), {})
    assert "13812345678" in kept and "责任编辑" not in kept
    masked, _ = Cleaner(dict(DEFAULTS))(RawDoc(text=text), {})
    assert "13812345678" not in masked


def test_reordered_steps_change_which_filter_names_the_drop():
    short_latin = "hello world " * 3  # too short and not Chinese: the first filter in the list names it
    _, first = Cleaner(dict(DEFAULTS))(RawDoc(text=short_latin), {})
    order = ["markup", "garbled", "normalize", "cjk_ratio", "length"]
    _, swapped = Cleaner(dict(DEFAULTS, steps=order))(RawDoc(text=short_latin), {})
    assert (first.reason, swapped.reason) == ("dropped_too_short", "dropped_cjk_ratio")


def test_a_users_step_from_the_config_runs_in_its_place():
    steps = list(DEFAULT_STEPS) + ["tests.test_clean:DropMentionsOfLottery"]
    counters: dict[str, int] = {}
    _, dropped = Cleaner(dict(DEFAULTS, steps=steps))(RawDoc(text=BODY + "另有彩票广告。"), counters)
    assert dropped == Dropped("dropped_lottery", "mentions 彩票") and counters["lottery_seen"] == 1
    assert "clean_us_lottery" in counters


@pytest.mark.parametrize("entry, says", [("spellcheck", "unknown step 'spellcheck'"),
                                         ("tests.test_clean:Nothing", "cannot load"),
                                         ("tests.test_clean:BODY", "not a CleanStep subclass")])
def test_a_bad_step_entry_is_a_one_line_config_error(entry, says):
    with pytest.raises(ConfigError) as err:
        configured_steps(dict(DEFAULTS, steps=["markup", entry]))
    assert says in str(err.value) and "\n" not in str(err.value)


def test_a_commentary_byline_removed_from_the_text_becomes_the_author():
    from builder.stages.corpus.clean import Cleaner
    from builder.stages.corpus.extract import RawDoc

    body = ("营商环境是一个地方的“软实力”，也是企业用脚投票的“风向标”。把这件事办好，既要有登高望远的谋划，更要有久久为功的韧劲。\n"
            "优化营商环境没有“完成时”，只有“进行时”。这几年，我省在压缩审批时限上下了不少功夫，但也要清醒看到，一些地方仍存在中梗阻。\n"
            "营商环境只有更好，没有最好。只要一项一项抓落实，一年接着一年干，就一定能让更多企业安心扎根、放心发展。")
    raw = RawDoc(text="本报评论员\n" + body, title="让营商环境“优”无止境", format="html")
    cleaner = Cleaner(dict(DEFAULTS))
    text, dropped = cleaner(raw, {})
    assert dropped is None and "本报评论员" not in text and raw.author == "本报评论员"


def test_repeated_ngram_share_hashed_in_numpy_equals_the_string_reference():
    import random

    from builder.text.quality import dup_ngram_ratio, dup_ngram_ratio_reference

    rnd = random.Random(7)
    sentences = ["今年夏粮收购进度已经过半。", "国家粮食和物资储备局有关负责人表示，今年收购价格总体平稳。", "据了解，各地已启动预案。",
                 "A股今日收涨 1.2%，成交额 9000 亿元。", "😀表情与𠀀扩展字也算字符。"]
    for _ in range(500):
        text = "\n".join("".join(rnd.choice(sentences) for _ in range(rnd.randint(1, 6))) for _ in range(rnd.randint(1, 4)))
        for n in (5, 10):
            assert dup_ngram_ratio(text, n) == pytest.approx(dup_ngram_ratio_reference(text, n), abs=1e-12)
    assert dup_ngram_ratio("", 10) == 0.0 and dup_ngram_ratio("独一无二的一句话没有任何重复的片段出现在这里", 5) == 0.0


@pytest.mark.parametrize("text", ["", "abc 123", "青川市公安局昨日通报，破获案件二百一十六起。", "𠀀𪚥兀﨑㐀 mixed ｱ ＡＢＣ",
                                  "記者從市政府獲悉\n\n第二段　全角空格", "\ud800 lone surrogate 中"])
def test_han_share_counted_in_numpy_equals_the_regex_count(text):
    import re

    from builder.text.normalize import cjk_ratio, han_count

    regex = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
    assert han_count(text) == len(regex.findall(text))
    nonspace = len(text) - sum(text.count(c) for c in " \n\t")
    assert cjk_ratio(text) == (len(regex.findall(text)) / nonspace if nonspace else 0.0)


@pytest.mark.parametrize("text", ["没有需要折叠的字符，标点（全角）保留！", "全角数字１２３和ＡＢＣ", "部首⻄⻔与竖排︵括号︶", "不间断\u00a0空格"])
def test_fold_skips_texts_without_foldable_characters_and_translates_the_others(text):
    from builder.text.normalize import _table, fold

    assert fold(text) == text.translate(_table())
