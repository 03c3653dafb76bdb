"""Site furniture is removed where it sits (edges, whole furniture lines, tails), never a body sentence for a keyword."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT

from builder.stages.corpus.clean import Cleaner
from builder.stages.corpus.extract import RawDoc, choose_title, validate_author
from builder.text.boilerplate import RULES_FILE, BoilerplateRemover, load_rules

P1 = "本报讯 青川市公安局昨日通报，今年以来全市共破获电信网络诈骗案件二百一十六起，追回群众损失一千三百余万元。"
P2 = "据介绍，今年的诈骗案件中，冒充客服退款类占比最高，其次是刷单返利和虚假投资理财，受害者以中老年人居多。"
P3 = "市公安局反诈中心负责人表示，接到可疑电话应立即挂断，并拨打110或96110咨询，切勿向陌生账户转账。"
QR = "警方提醒，不要扫描二维码领取所谓补贴。"
MOMENTS = "她把孩子第一次走路的视频发到了朋友圈。"


def clean(text: str, **kw) -> tuple[str, list[tuple[str, str]]]:
    return BoilerplateRemover().explain(text, **kw)


def family_inside(line: str) -> str | None:
    """The family that removed ``line`` from the middle of an article, when it and only it went; else None."""
    out, removed = clean("\n".join([P1, P2, line, P3]))
    return removed[0][0] if out == "\n".join([P1, P2, P3]) and len(removed) == 1 and removed[0][1] == line else None


@pytest.mark.parametrize("sentence", [QR, MOMENTS, "有专家认为，关注公众号、刷短视频已经成为老年人了解子女生活的方式。",
                                      "家住三楼的刘阿姨说，版权所有的设计图纸由物业保管。", "责任编辑这个岗位，在很多地方报社已经合并到了编辑部。",
                                      "记者：群众接到可疑电话时，第一时间应该怎么做？"])
def test_body_sentence_with_a_furniture_keyword_survives_mid_article(sentence):
    text = "\n".join([P1, sentence, P2, P3])
    out, removed = clean(text)
    assert sentence in out and removed == []


def test_furniture_lines_are_removed_at_the_edges_and_by_family():
    text = "\n".join(["首页 > 新闻中心 > 社会", "字号", "2025-03-14 08:30 来源：青川日报", P1, QR, P2, MOMENTS, P3,
                      "- 责任编辑: 李四", "扫码关注公众号", "违法和不良信息举报电话：0838-1234567", "Copyright © 2025 青川新闻网 版权所有"])
    out, removed = clean(text)
    assert out == "\n".join([P1, QR, P2, MOMENTS, P3])
    assert dict((line, fam) for fam, line in removed) == {
        "首页 > 新闻中心 > 社会": "nav", "字号": "nav", "2025-03-14 08:30 来源：青川日报": "dateline", "- 责任编辑: 李四": "credit",
        "扫码关注公众号": "tail", "违法和不良信息举报电话：0838-1234567": "tail", "Copyright © 2025 青川新闻网 版权所有": "copyright"}
    # the editor line closes the article (a tail marker since issue 12): what follows it is cut as tail; the
    # same closing lines without an editor line above them are removed by their own families
    out, removed = clean("\n".join([P1, P2, P3, "扫码关注公众号", "违法和不良信息举报电话：0838-1234567"]))
    assert out == "\n".join([P1, P2, P3]) and removed == [("prompt", "扫码关注公众号"), ("contact", "违法和不良信息举报电话：0838-1234567")]


def test_related_headlines_and_comments_after_the_article_are_cut():
    text = "\n".join([P1, P2, P3, "网友评论仅供其表达个人看法，并不表明本站立场。", "这篇写得好！", "相关新闻", "- 青川今年新建社区食堂四十二家",
                      "- 城东新区三条公交线路开通"])
    out, removed = clean(text)
    assert out == "\n".join([P1, P2, P3])
    assert removed[0] == ("comments", "网友评论仅供其表达个人看法，并不表明本站立场。")  # the marker is itself a furniture line
    assert [fam for fam, _ in removed[1:]] == ["tail"] * 4


def test_tail_marker_before_the_article_does_not_cut_the_article():
    text = "\n".join(["相关新闻", P1, P2, P3])
    out, _ = clean(text)
    assert P1 in out and P3 in out


def test_an_attachment_line_between_numbered_parts_does_not_cut_the_parts_after_it():
    # blind batch 145: 附件：…合同示范文本.docx sat between a guide's parts 三 and 四, and 四 and 五 were cut as the tail
    parts = ["一、选择正规机构", "选择家政公司时，可先查看其营业执照经营范围是否包含家政服务，并查询企业和服务员的信用记录，持证上岗的服务员均有唯一编码。",
             "二、说清需求", "签约前应向家政公司讲清家庭成员情况、服务内容、工作时间和特殊要求，条件允许的话可约定一到三天的试工期。",
             "三、签订书面合同", "合同中应明确服务内容、服务时长、费用标准及支付方式、休息休假安排、更换服务员的条件以及违约和解约责任。",
             "附件：临州市家政服务合同示范文本（2024版）.docx",
             "四、购买保险", "建议选择已为服务员购买家政服务责任险或意外险的企业，签约时请对方出示保单，确认保险期限覆盖服务期。"]
    out, removed = clean("\n".join(parts))
    assert "四、购买保险" in out and "确认保险期限覆盖服务期" in out
    assert "示范文本" not in out  # the attachment line itself still goes
    end = "\n".join(parts[:6] + ["附件：临州市家政服务合同示范文本（2024版）.docx", "相关文章：某某协会召开年度会员大会"])
    assert "相关文章" not in clean(end)[0]  # an attachment after the last part still ends the article


def test_link_list_page_without_article_text_is_emptied_only_for_web_pages():
    links = "\n".join(["老照片：1933年的中国各地鸟瞰图，这大概就是古代的样子", "天山深处镶嵌的蓝色宝石，赛里木湖从原生态走向成熟景区",
                       "消失的阿富汗大佛：护佑了人们1500年，却自身难逃炮火攻击"])
    assert clean(links, link_pages=True)[0] == ""
    assert clean(links)[0] == links  # a text file of short lines (a poem, a list) is not a link page


def test_rules_live_in_a_data_file_and_a_custom_file_is_used(tmp_path):
    assert RULES_FILE.suffix == ".toml" and "credit" in RULES_FILE.read_text(encoding="utf-8")
    custom = tmp_path / "rules.toml"
    custom.write_text('[house]\nwhere = "line"\nmax_len = 20\npatterns = [\'^本台独家$\']\n', encoding="utf-8")
    assert load_rules(str(custom))["line"][0][0] == "house"
    out, removed = BoilerplateRemover(rules_file=str(custom)).explain("\n".join([P1, "本台独家", P2]))
    assert out == P1 + "\n" + P2 and removed == [("house", "本台独家")]


def test_extra_patterns_from_config_act_on_whole_short_lines():
    out, removed = BoilerplateRemover(extra=["本站特约"]).explain("\n".join([P1, "本站特约稿件", P2]))
    assert removed == [("extra", "本站特约稿件")]


def test_cleaner_counts_each_family():
    counters: dict[str, int] = {}
    raw = RawDoc(text="\n".join([P1, P2, P3, "【编辑：姚昊】", "（资料来源：参考消息、海外网等）"]), format="html")
    settings = {"normalize": True, "markup": True, "boilerplate": True, "boilerplate_extra": [], "min_chars": 10, "max_chars": 10**6,
                "min_cjk_ratio": 0.3, "max_dup_line_ratio": 0.3, "dup_ngram_n": 10, "max_dup_ngram_ratio": 0.25,
                "max_garbled_ratio": 0.02, "t2s": False, "pii": True}
    text, dropped = Cleaner(settings)(raw, counters)
    assert dropped is None and "姚昊" not in text and "资料来源" not in text
    assert counters["boilerplate_credit"] == 1 and counters["boilerplate_source"] == 1 and counters["boilerplate_lines_removed"] == 2


def test_title_cut_at_a_quote_mark_is_completed_from_h1():
    html = ('<html><head><title>多地项目连环爆雷 狂奔的龙湖集团"暗伤"曝露？_网易财经</title></head>'
            '<body><h1>多地项目连环爆雷 狂奔的龙湖集团"暗伤"曝露？</h1></body></html>')
    assert choose_title(html, "多地项目连环爆雷 狂奔的龙湖集团") == '多地项目连环爆雷 狂奔的龙湖集团"暗伤"曝露？'


def test_title_from_a_related_block_is_replaced_by_the_page_title():
    html = "<html><head><title>英国美女在殡仪馆工作太痛苦，转行当美人鱼！每小时收入近千元</title></head><body></body></html>"
    assert choose_title(html, "韩庚将在新西兰大婚，刘诗诗也来过！") == "英国美女在殡仪馆工作太痛苦，转行当美人鱼！每小时收入近千元"
    assert choose_title("<title>法国全国大罢工再次严重影响交通-新华网</title>", None) == "法国全国大罢工再次严重影响交通"


@pytest.mark.parametrize("raw,clean_", [("Name; Email Com", None), ("作者：未知 责任编辑：棒棒不是糖", None), ("我已授权", None),
                                        ("中国广州发布 关注", None), ("责任编辑：张迪", None), ("记者 黄斌汉", "黄斌汉"), ("黄斌汉", "黄斌汉")])
def test_authors_are_validated(raw, clean_):
    assert validate_author(raw) == clean_


def _bench():
    spec = importlib.util.spec_from_file_location("boilerplate_quality", ROOT / "bench" / "boilerplate_quality.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_own_labelled_pages_meet_precision_and_recall_goals():
    bench = _bench()
    own = {}
    for p in sorted((ROOT / "bench" / "corpus" / "pages").glob("*.txt")):
        lines = p.read_text(encoding="utf-8").splitlines()
        own[p.name] = ([x[2:] for x in lines if x.startswith("F|")], [x[2:] for x in lines if x.startswith("B|")],
                       "\n".join(x[2:] for x in lines))
    t = bench.score(own, show=False)["totals"]
    assert t["body"] >= 20 and t["furniture"] >= 30
    assert t["body_kept"] / t["body"] >= 0.99 and t["furniture_removed"] / t["furniture"] >= 0.95


@pytest.mark.realdata
def test_realdata_labelled_pages_meet_precision_and_recall_goals_and_titles(realdata):
    import tomllib

    bench = _bench()
    labels = tomllib.loads(bench.LABELS.read_text(encoding="utf-8"))
    pages = {}
    for name, lab in labels.items():
        raw = bench.extract((realdata / "html" / name).read_bytes(), "builder")
        pages[name] = (lab["furniture"], lab["body"], raw.text if raw else "")
    t = bench.score(pages, show=False)["totals"]
    assert t["body_kept"] / t["body"] >= 0.99 and t["furniture_removed"] / t["furniture"] >= 0.95


def test_heading_above_a_pdf_or_text_body_is_kept():
    out, removed = clean("\n".join(["前言", P1, P2, P3]))
    assert out.startswith("前言") and removed == []
    out, removed = clean("\n".join(["图集", P1, P2, P3]), link_pages=True)  # on a web page it is a menu word
    assert removed == [("nav", "图集")]


def test_first_body_line_about_wechat_is_not_a_prompt():
    first = "公众号的打开率普遍下滑。一篇文章能否被点开，标题起着决定性作用；点开以后能否读完，则很大程度取决于排版。"
    out, removed = clean("\n".join([first, P1, P2]))
    assert first in out and removed == []


def test_repost_header_run_together_with_the_first_sentence_keeps_the_sentence():
    line = "本文原标题：《定了！广州南沙邮轮母港即将开通！》搭地铁去坐邮轮玩转东南亚！"
    out, removed = clean("\n".join([line, P1, P2]))
    assert out.split("\n")[0] == "搭地铁去坐邮轮玩转东南亚！"
    assert removed == [("repost", "本文原标题：《定了！广州南沙邮轮母港即将开通！》")]


def test_long_closing_disclaimer_of_a_report_is_removed():
    disclaimer = "免责声明：本报告仅供本公司客户使用。" + "本报告所载资料的来源被认为是可靠的，但本公司不保证其准确性或完整性，据此操作风险自担。" * 25
    out, removed = clean("\n".join([P1, P2, P3, disclaimer]))
    assert out == "\n".join([P1, P2, P3]) and removed[0][0] == "disclaimer" and len(disclaimer) > 1000


# --- defects found on the held-out pages (issue 12); snippets written for these tests -------------------------

def _page(head: str, body: str) -> str:
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


ARTICLE = "".join(f"<p>{p}</p>" for p in (P1, P2, P3))


def test_stray_closing_html_tag_after_a_header_template_does_not_hide_the_article():
    from builder.stages.corpus.extract import extract_html

    menu = "<div class='header'><ul><li><a href='/'>首页</a></li><li><a href='/en'>EN</a></li><li><a href='/m'>邮箱</a></li></ul></div></html>"
    doc = extract_html(_page("<title>青川通报电诈案件</title>", menu + f"<div class='content'><div class='article'>{ARTICLE}</div></div>"))
    assert doc is not None and P1 in doc.text and P3 in doc.text


def test_original_title_completes_a_title_the_page_cut_short():
    html = _page("<title>青川公安通报：今年破获电诈案件二百一十六起，追回损失一千三...</title>",
                 f"<p>原标题：《青川公安通报：今年破获电诈案件二百一十六起，追回损失一千三百余万元》</p>{ARTICLE}")
    assert choose_title(html, "青川公安通报：今年破获电诈案件二百一十六起，追回损失一千三...") == \
        "青川公安通报：今年破获电诈案件二百一十六起，追回损失一千三百余万元"


def test_original_title_drops_an_injected_advert_prefix():
    html = _page("<title>[某某面霜]青川公安破获电诈案件二百余起</title>",
                 f"<p style='display:none'>原标题：青川公安破获电诈案件二百余起</p>{ARTICLE}")
    assert choose_title(html, "[某某面霜]青川公安破获电诈案件二百余起") == "青川公安破获电诈案件二百余起"


def test_original_title_with_a_column_tag_does_not_replace_the_headline():
    html = _page("<title>青川公安破获电诈案件二百余起</title>", f"<p>原标题：视界丨青川公安破获电诈案件二百余起</p>{ARTICLE}")
    assert choose_title(html, "青川公安破获电诈案件二百余起") == "青川公安破获电诈案件二百余起"


def test_heading_the_page_title_starts_with_drops_a_column_suffix():
    html = _page("<title>青川公安破获电诈案件二百余起 东区办事处_青川网</title>",
                 f"<span class='Title'><b>青川公安破获电诈案件二百余起</b></span>{ARTICLE}")
    assert choose_title(html, "青川公安破获电诈案件二百余起 东区办事处") == "青川公安破获电诈案件二百余起"


def test_logo_text_in_h1_loses_to_the_heading_the_page_title_names():
    html = _page("<title>股市预测--青川公安破获电诈案件二百余起</title>",
                 f"<h1><a href='/'>今日股市行情_明日大盘_股票行情</a></h1><div class='title-text'>青川公安破获电诈案件二百余起</div>{ARTICLE}")
    assert choose_title(html, "今日股市行情_明日大盘_股票行情") == "青川公安破获电诈案件二百余起"


def test_page_title_naming_only_the_section_loses_to_the_heading_the_body_repeats():
    head = "青川市公安局通报今年以来破获电信网络诈骗案件"
    html = _page("<title>新闻动态--青川学会官网</title>", f"<h3>首页 - 新闻动态</h3><h5>{head}</h5>{ARTICLE}")
    assert choose_title(html, "新闻动态--青川学会官网", body=P1 + P2) == head


def test_linked_heading_of_a_related_article_is_never_the_title():
    related = "青川市公安局通报今年以来破获电信网络诈骗案件二百起"
    html = _page("<title>新闻动态--青川学会官网</title>", f"<h3><a href='/n/2'>{related}</a></h3>{ARTICLE}")
    assert choose_title(html, "新闻动态--青川学会官网", body=P1 + P2) == "新闻动态--青川学会官网"


def test_title_drops_a_trailing_separator_and_the_space_before_a_year_unit():
    from builder.stages.corpus.extract import tidy_title

    assert tidy_title("关于调整2007　年末国债余额限额的决议__2007年第23号国务院公报_中国政府网") == "关于调整2007年末国债余额限额的决议"


@pytest.mark.parametrize("line,family", [
    ("采写：青川日报记者 张三 李四", "credit"),
    ("医技党支部、药剂科供稿 摄影/王五 编辑/赵六", "signoff"),
    ("地 址：青川市东城区人民路11号", "contact"),
    ("电 话：0838-1234567", "contact"),
    ("(综合整理自青川日报、青川新闻网等)", "source"),
    ("版权所有 青川市人民医院 Copyright © 2018 All rights reserved. 蜀ICP备14002927号-5 蜀公网安备51010402000231号 "
     "医院地址：青川市人民路58号 24小时急救电话：0838-88866120 传真：0838-88854265 联系邮箱：service@example.cn "
     "技术支持：青川网络科技有限公司 网站地图 | 联系我们 | 隐私政策", "footer"),  # longer than a copyright line
])
def test_closing_furniture_seen_on_held_out_pages_is_removed_by_family(line, family):
    out, removed = clean("\n".join([P1, P2, P3, line]))
    assert out == "\n".join([P1, P2, P3]) and removed == [(family, line)]


def test_closing_sentence_run_together_with_an_editor_credit_is_kept():
    merged = "这么高大上的邮轮母港，开始搓搓手了！！！编辑|禤志杰"
    out, _ = clean("\n".join([P1, P2, P3, merged]))
    assert merged in out


def test_address_words_inside_the_article_are_kept():
    mid = "记者在现场看到，地址：青川市人民路11号的服务大厅里排起了长队。"
    out, removed = clean("\n".join([P1, mid, P2, P3]))
    assert mid in out and removed == []


def test_breadcrumb_in_a_layout_table_row_is_removed():
    out, removed = clean("\n".join(["|  | 位置：首页 > 新闻动态 | ", P1, P2, P3]))
    assert out == "\n".join([P1, P2, P3]) and removed[0][0] == "nav"


def test_seo_keyword_string_above_the_article_is_not_prose_and_its_menu_goes():
    seo = "今日股市行情_明日大盘_今日股市_股票行情_明日股市_大盘预测_股市分析_股市最新消息 - 明日大盘网，权威股市行情资讯网站"
    out, removed = clean("\n".join([seo, "明日大盘", "股市行情", "20190926|国贸|增长率|全球经济", P1, P2, P3]), link_pages=True)
    assert out == "\n".join([P1, P2, P3])
    assert ("nav", seo) in removed and ("nav", "20190926|国贸|增长率|全球经济") in removed


def test_editor_line_closes_the_article_and_cuts_a_pasted_related_item():
    pasted = "青川警方：网传“取款机吞卡”系谣言，已查明发布者"
    summary = "青川市公安局昨日发布通报称，近日有网民在微信群散布不实信息，警方已依法对其作出处理，提醒市民不信谣不传谣。"
    out, removed = clean("\n".join([P1, P2, P3, "责任编辑：", pasted, summary, "，青川日报"]))
    assert out == "\n".join([P1, P2, P3])
    assert ("credit", "责任编辑：") in removed and ("tail", summary) in removed and ("tail", pasted) in removed


def test_lone_section_heading_that_opens_a_digest_is_kept():
    out, removed = clean("\n".join(["收盘播报", "【青川日报】青川三大指数集体回调 银行股逆市走强", P1, P2, P3]), link_pages=True)
    assert out.startswith("收盘播报") and removed == []


def test_last_crumb_after_a_removed_breadcrumb_is_still_a_menu_word():
    out, removed = clean("\n".join(["您所在的位置：", "首页 >", "公司 >", "公司", P1, P2, P3]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and ("nav", "公司") in removed


def test_text_after_a_closed_block_starts_its_own_line_so_a_credit_does_not_fuse_with_the_body():
    from builder.stages.corpus.extract import extract_html

    # a WeChat-style repost: short lines and image blocks; from six such segments on, the extractor alone runs
    # the text after an image block into the line before it (…搓搓手了！！！编辑|禤志杰)
    segs = "".join(f"{(P1, P2, P3)[k % 3]}<br>短句第{k}行<br>再一行说明<div style='text-align:center;'><img src='{k}.gif'></div>"
                   for k in range(8))
    body = (f"<div class='main_lt'><div class='newscontent'><div class='news_txt'>{segs}开始搓搓手了！！！"
            "<div style='text-align:center;'><img src='z.gif'></div>编辑|禤志杰<br>责编|陈梦莹<br></div></div></div>")
    lines = extract_html(_page("<title>青川通报</title>", body)).text.split("\n")
    assert "开始搓搓手了！！！" in lines and "编辑|禤志杰" in lines


def test_previous_and_next_links_with_a_long_headline_are_removed_anywhere():
    nxt = "下一条：化工学院师生赴企业开展校企合作调研并签订三项人才培养协议"
    out, removed = clean("\n".join([P1, P2, P3, "上一篇：学校召开寒假安全工作会议", nxt]))
    assert out == "\n".join([P1, P2, P3])
    assert removed == [("prevnext", "上一篇：学校召开寒假安全工作会议"), ("prevnext", nxt)]


def test_app_promotion_after_the_article_goes_while_the_same_words_inside_it_stay():
    inside = "民警提醒，请下载国家反诈中心客户端，开启来电预警功能。"
    text = "\n".join(["长风财经APP扫码下载，随时掌握最新行情", P1, inside, P2, P3, "（点击进入专题：2024-2025赛季女排联赛）",
                      "更多精彩内容，请下载东方快讯客户端。", "打开易闻新闻APP 查看更多高清图片"])
    out, removed = clean(text)
    assert out == "\n".join([P1, inside, P2, P3])
    # the last two, an invitation to open an app and the outlet's 更多…请下载…客户端, go by the line family wherever they stand
    # (batch 52: 打开…APP“澜城”频道，查看…; batch 71: 更多气象科普知识，欢迎关注…公众号)
    assert [fam for fam, _ in removed] == ["prompt"] * 2 + ["sponsor"] * 2


def test_closing_sentence_that_asks_readers_to_install_an_app_is_kept():
    last = "民警提醒，请下载国家反诈中心APP。"
    out, removed = clean("\n".join([P1, P2, P3, last]))
    assert out.endswith(last) and removed == []


@pytest.mark.parametrize(("line", "family"), [
    ("二审：吴海", "credit"), ("三审：陈立新", "credit"), ("初审：王五", "credit"),
    ("金桥证券网 版权所有", "copyright"), ("主办：黔山县融媒体中心　版权所有 ©2025", "copyright"),
])
def test_furniture_seen_blind_on_the_second_written_batch_is_removed_anywhere(line, family):
    assert family_inside(line) == family


def test_reader_counts_app_invitations_with_a_comma_and_a_top_menu_row_go_at_the_edges():
    top = ["溪城市第一人民医院 医院概况 科室导航 专家介绍", "120 人赞同了该文章"]
    end = ["打开APP，阅读全文", "下载飞鸟新闻APP，看更多热点资讯"]
    out, removed = clean("\n".join([*top, P1, P2, P3, *end]))
    assert out == "\n".join([P1, P2, P3])
    assert [fam for fam, _ in removed] == ["nav", "prompt", "sponsor", "sponsor"]  # an outlet's app plug: furniture anywhere


def test_two_clause_headline_above_the_article_is_not_a_menu_row():
    headline = "光伏板块午后拉升 多只个股涨停"
    out, _ = clean("\n".join([headline, P1, P2, P3]))
    assert out.startswith(headline)


def test_related_stocks_after_the_article_are_cut():
    out, removed = clean("\n".join([P1, P2, P3, "相关股票：", "光伏ETF 1.052 +3.14%"]))
    assert out == "\n".join([P1, P2, P3]) and [fam for fam, _ in removed] == ["tail", "tail"]


def test_site_name_after_a_double_hyphen_leaves_the_title_but_a_chinese_dash_subtitle_stays():
    from builder.stages.corpus.extract import tidy_title

    assert tidy_title("我院开展世界卫生日义诊活动--溪城市第一人民医院") == "我院开展世界卫生日义诊活动"
    assert tidy_title("改革开放四十年——一个村庄的变迁") == "改革开放四十年——一个村庄的变迁"


# --- generalisation (issue 12, batches 3 and 4): furniture by shape and by repetition, not by phrase -----------

from builder.text.boilerplate_repeats import RepeatCounter, line_keys, strip_repeated  # noqa: E402

FOOTER = "鑫闻财经 · 每天三分钟，读懂钱的事"  # no rule names these words
PROMO = "「鑫闻财经」每日早八点推送银行理财精选，设为星标不迷路"
SIGNOFF = "鑫闻财经，每天三分钟，陪你读懂身边钱的事。"
QUOTED = "会议强调，要坚持稳中求进工作总基调，统筹发展和安全，推动经济持续回升向好。"


def _repeat_pass(pages: dict[str, tuple[str, str]], min_docs: int = 3) -> dict[str, tuple[str, list[str]]]:
    counter = RepeatCounter(min_docs)
    for group, text in pages.values():
        counter.add(line_keys(group, text))
    repeated = counter.repeated()
    return {name: strip_repeated(group, text, repeated) for name, (group, text) in pages.items()}


def test_a_furniture_line_repeated_across_three_pages_of_one_host_is_removed_and_the_body_stays():
    bodies = [(P1, QR), (P2, MOMENTS), (P3, QUOTED)]
    pages = {n: ("xinwen-cj.example", "\n".join([f"2025年08月2{n}日 08:31 阅读({1000 + n})", a, PROMO, b, FOOTER]))
             for n, (a, b) in enumerate(bodies)}
    out = _repeat_pass(pages)
    for n, (a, b) in enumerate(bodies):
        text, removed = out[n]
        assert text == "\n".join([a, b]), text  # the date line differs only in digits: one template
        assert removed == [f"2025年08月2{n}日 08:31 阅读({1000 + n})", PROMO, FOOTER]


def test_a_line_in_only_two_pages_of_a_host_or_in_pages_of_different_hosts_stays():
    two = _repeat_pass({n: ("a.example", "\n".join([P1, P2, FOOTER])) for n in range(2)})
    assert all(removed == [] for _, removed in two.values())
    spread = _repeat_pass({n: (f"host{n}.example", "\n".join([P1, P2, FOOTER])) for n in range(3)})
    assert all(removed == [] for _, removed in spread.values())


def test_a_body_sentence_quoted_in_three_pages_of_one_host_stays_mid_body():
    ends = [P3, QR, MOMENTS]
    pages = {n: ("gov.example", "\n".join([b, QUOTED, ends[n], FOOTER])) for n, b in enumerate([P1, P2, MOMENTS + P1])}
    for text, removed in _repeat_pass(pages).values():
        assert QUOTED in text and removed == [FOOTER]


def test_a_numbered_heading_or_a_short_subhead_repeated_across_pages_stays_mid_body():
    sentences = [P1, P2, P3, QR, MOMENTS, QUOTED, P1 + P2, P2 + P3]
    pages = {n: ("gov.example", "\n".join([sentences[n], "一、基本情况", sentences[n + 4], "专家观点", sentences[n] + QR]))
             for n in range(4)}
    for text, removed in _repeat_pass(pages).values():
        assert "一、基本情况" in text and "专家观点" in text and removed == []


def test_corpus_stage_removes_lines_repeated_across_pages_counts_them_and_lists_them(cli, make_build, tmp_path):
    import json

    import polars as pl

    # the per-page rules keep this closing sentence (it reads as the article's last line); repetition finds it
    assert clean("\n".join([P1, P2, SIGNOFF]), link_pages=True)[1] == []
    src = tmp_path / "site"
    src.mkdir()
    for n, (body, end) in enumerate([(P1, QR), (P2, MOMENTS), (P3, P1), (MOMENTS + P2, P3)]):
        (src / f"a{n}.txt").write_text("\n".join([body, PROMO if n < 3 else QUOTED, end, SIGNOFF]), encoding="utf-8")
    cfg = make_build(f'[[corpus.sources]]\nname = "site"\npath = "{src}"\n[corpus.clean]\nmin_chars = 20\nrepeated_across_pages = 3\n')
    r = cli("run", "corpus", "-c", cfg)
    assert r.code == 0, r
    out = tmp_path / "out" / "corpus"
    docs = pl.read_parquet(out / "data")
    assert docs.height == 4
    for text in docs["text"]:
        assert SIGNOFF not in text and PROMO not in text
    counters = json.loads((out / "manifest.json").read_text())["counters"]
    assert counters["boilerplate_repeated_across_pages"] == 7 and counters["repeated_across_pages_documents"] == 4
    table = pl.read_parquet(out / "report" / "repeated_lines.parquet")
    assert set(table["line"]) == {SIGNOFF, PROMO} and dict(zip(table["line"], table["documents"]))[SIGNOFF] == 4
    assert not list(tmp_path.rglob("repeats-*.pkl"))  # the spill is gone
    cfg.write_text(cfg.read_text().replace("repeated_across_pages = 3", "repeated_across_pages = 0"), encoding="utf-8")
    assert cli("run", "corpus", "-c", cfg).code == 0
    assert all(SIGNOFF in t for t in pl.read_parquet(out / "data")["text"])  # 0 (the default) switches the pass off


@pytest.mark.parametrize("line", ["阅读 3.5万　赞 128　评论 30", "👍 2345", "赞(12)", "已有 56 条评论", "点赞 326　在看 58",
                                  "About Us | Contact Us | Privacy Policy", "政府网站找错 | 适老化无障碍服务",
                                  "主办单位：江岸区人民法院　地址：江岸区法院路8号", "香港晨报版权所有，不得转载",
                                  "编辑于 2025-03-02 21:14・IP 属地上海", "$贵酒老窖(SZ000999)$ $山泉酒业(SH600888)$",
                                  "【晨报直击】中环海滨长廊夜景"])
def test_furniture_shaped_lines_after_the_article_go_whatever_their_words(line):
    out, removed = clean("\n".join([P1, P2, P3, line]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [s for _, s in removed] == [line]


@pytest.mark.parametrize("line", ["【广告】夏季好物清仓，点击领取满减优惠券", "ADVERTISEMENT", ">>点击查看星驰E7本地最新报价<<",
                                  "点击观看《长河》精彩片段>>", "（更多精彩内容请关注星海娱乐官方微博）",
                                  "【江州看房团火热报名中，添加置业顾问微信：jzfc2025，免费专车接送】",
                                  "▶ 问医生：孩子腹泻三天了要不要去医院？立即咨询"])
def test_promotion_inside_the_body_goes_by_its_shape(line):
    out, removed = clean("\n".join([P1, line, P2, P3]))
    assert out == "\n".join([P1, P2, P3]) and [s for _, s in removed] == [line]


@pytest.mark.parametrize("line", ["（文中受访者均为化名）", "【法官说法】", "编辑点评：新款车型在续航和配置上都有提升，价格保持不变。",
                                  "退休那天，同事们在一张稿纸上写下“责任编辑：周振华”几个字送给他。",
                                  "村里给每户门口贴了二维码，保洁员检查完分类情况后扫一扫，积分就自动记到户主名下。",
                                  "车主还可以通过手机APP下载数字钥匙，实现无钥匙进入。", "小田并大田", "01 从外卖柜到冷链"])
def test_body_lines_that_look_like_furniture_stay_mid_article(line):
    out, removed = clean("\n".join([P1, line, P2, P3]), link_pages=True)
    assert line in out and removed == []


def test_comments_after_a_reaction_count_are_cut_even_when_they_read_as_sentences():
    text = "\n".join([P1, P2, P3, "88条回复", "雪山下的风：冰湖那张照片太美了，下次我也要去看看！", "谢谢，那天运气好"])
    out, removed = clean(text, link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and len(removed) == 3


def test_comment_above_its_like_count_and_everything_after_the_first_footer_line_go():
    text = "\n".join([P1, P2, P3, "每一集都很用心，支持第二季！", "👍 2345", "看到了我们村，太亲切了", "👍 980"])
    out, removed = clean(text, link_pages=True)
    assert out == "\n".join([P1, P2, P3]), out


def test_a_notices_signer_and_date_stay_while_its_footer_goes():
    text = "\n".join([P1, P2, P3, "梧州市教育局", "2025年7月2日", "主办：梧州市教育局　承办：梧州市教育信息中心"])
    out, removed = clean(text, link_pages=True)
    assert out == "\n".join([P1, P2, P3, "梧州市教育局", "2025年7月2日"]), out


def test_one_label_value_line_above_the_article_is_the_storys_own():
    text = "\n".join(["时间：昨日上午8时45分许", "地点：南安高速公路国道324水头段交叉处", P1, P2, P3])
    out, removed = clean(text, link_pages=True)
    assert out == text and removed == []


def test_a_sentence_broken_over_two_lines_at_the_end_stays():
    text = "\n".join([P1, P2, P3, "这么高大上的邮轮母港", "开始搓搓手了！！！"])
    out, removed = clean(text, link_pages=True)
    assert out == text


def test_pdf_pages_get_no_shape_rules_or_trailing_sweep():
    credits = "英文翻译：戴薇　美术编辑：李海燕"
    out, removed = clean("\n".join([P1, P2, P3, credits, "这里是后记"]), shapes=False)
    assert credits in out and "这里是后记" in out


def test_a_forum_post_laid_out_in_a_table_keeps_its_paragraphs_as_lines():
    from builder.stages.corpus.extract import extract_html

    paras = [P1, "第一家：巷口馄饨", P2, "第二家：东街锅边", P3]
    html = ("<html><head><title>老城区的早餐店</title></head><body><table><tr><td><div>老街食客</div><div>积分 1520</div></td>"
            "<td><h1>老城区的早餐店</h1>" + "".join(f"<p>{p}</p>" for p in paras) + "</td></tr></table></body></html>")
    doc = extract_html(html)
    lines = doc.text.split("\n")
    assert all(p in lines for p in paras), doc.text


def test_written_batches_three_and_four_meet_the_goals_after_the_fixes():
    """The blind figures of these batches are in bench/corpus/results/written{3,4}_blind_*.txt; this pins the
    after-fix figures so a later change that loses body lines or lets furniture back shows here."""
    import tomllib

    bench = _bench()
    labels = tomllib.loads((bench.WRITTEN / "labels.toml").read_text(encoding="utf-8"))
    pages, hosts = {}, {}
    for name, lab in labels.items():
        if bench.written_batch(name) in (3, 4):
            raw = bench.extract((bench.WRITTEN / name).read_bytes(), "builder")
            pages[name] = (lab["furniture"], lab["body"], raw.text)
            hosts[name] = raw.meta.get("hostname") or name
    t = bench.score(pages, False, (hosts, bench.repeated_lines(pages, hosts, 3)))["totals"]
    assert t["body"] >= 120 and t["furniture_in_text"] >= 60
    assert t["body_kept"] / t["body"] >= 0.99
    assert t["furniture_in_text_removed"] / t["furniture_in_text"] >= 0.95


def test_a_closing_score_line_stays_while_a_run_of_label_value_lines_after_the_article_goes():
    score = "全场比分：锦城 2-1 东江"
    out, _ = clean("\n".join([P1, P2, P3, score]), link_pages=True)
    assert out.endswith(score)
    comments = ["长线持有者：说得很实在", "老韭菜：早就跌麻了"]
    out, removed = clean("\n".join([P1, P2, P3, *comments]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [s for _, s in removed] == comments


def test_a_story_reposted_under_other_leads_keeps_its_repeated_paragraphs():
    leads = [P1, QR + P1, MOMENTS + P1]
    shared = [P2 + P3, P3 + P2]  # paragraphs of 90+ characters, the same in every copy
    pages = {n: ("wire.example", "\n".join([lead, *shared, SIGNOFF])) for n, lead in enumerate(leads)}
    for text, removed in _repeat_pass(pages).values():
        assert all(p in text for p in shared) and removed == [SIGNOFF]


LINKED_PAGE = """<html><head><title>青川新闻网</title></head><body>
<div class="article"><h1>青川破获电信诈骗案二百余起</h1>
<p>{p1}</p>
<p>推荐阅读：<a href="/n/101.html">青川县召开防汛工作调度会议部署汛期安全</a></p>
<p><a href="/n/102.html">白沙镇开展农村电商培训 三百余名村民参加</a></p>
<p><a href="#part1">一、全年办案情况</a></p>
<p>{p2}</p>
<p>据了解，相关案例已在<a href="/fz/">青川反诈</a>专栏公开，市民可对照自查，发现可疑情况及时报警。</p>
<p>{p3}</p>
<p>上一篇：<a href="/n/99.html">我县启动城乡居民医保集中缴费</a></p>
<p>标签：<a href="/t/1">反诈</a> <a href="/t/2">公安</a> <a href="/t/3">民生</a></p>
</div></body></html>"""


def test_a_line_that_is_a_link_of_its_page_is_furniture_wherever_it_stands():
    """The page's own links tell a related-headline list from article text, with no keyword: a headline link between
    two paragraphs goes, a sentence holding a link stays, and so does an in-page jump (a table of contents)."""
    from builder.stages.corpus.extract import extract_html

    raw = extract_html(LINKED_PAGE.format(p1=P1, p2=P2, p3=P3))
    assert raw is not None and "_anchors" in raw.meta
    counters: dict[str, int] = {}
    settings = {"normalize": True, "markup": True, "boilerplate": True, "boilerplate_extra": [], "min_chars": 10, "max_chars": 10**6,
                "min_cjk_ratio": 0.3, "max_dup_line_ratio": 0.3, "dup_ngram_n": 10, "max_dup_ngram_ratio": 0.25,
                "max_garbled_ratio": 0.02, "t2s": False, "pii": True}
    text, dropped = Cleaner(settings)(raw, counters)
    # 推荐阅读：<a>…</a> goes by its label (the edition family's one-link line) before its link is asked about, and so
    # does 标签：… (a tags line, furniture anywhere); the headline links between paragraphs go as the page's links
    assert dropped is None and counters["boilerplate_link_text"] >= 1 and counters["boilerplate_edition"] == 1
    for gone in ("青川县召开防汛工作调度会议", "白沙镇开展农村电商培训", "我县启动城乡居民医保", "标签"):
        assert gone not in text, gone
    for kept in (P1[4:], P2, P3, "相关案例已在青川反诈专栏公开", "一、全年办案情况"):
        assert kept in text, kept
    assert "_anchors" not in raw.meta  # popped by the cleaner: never stored


def test_link_text_is_not_used_for_pages_of_other_formats():
    out, removed = clean("\n".join([P1, "白沙镇开展农村电商培训 三百余名村民参加", P2, P3]))
    assert "白沙镇开展农村电商培训 三百余名村民参加" in out and removed == []


@pytest.mark.parametrize("line,caption", [("禹州市人民医院。", True), ("小刚的作业本。", True), ("会议现场。", True),
                                          ("大涧学校。", True),
                                          # the reduced dictionary cuts 检查单 into 检查 (a verb): kept, precision first
                                          ("事发次日小花在禹州光明医院的检查单。", False),
                                          ("记者在现场看到的情况。", False), ("昨天下午在市政府召开了会议。", False),
                                          ("他笑了。", False), ("三年后。", False), ("一片寂静。", False), ("没有人回答。", False),
                                          ("全场哗然。", False), ("夜深了。", False), ("首阳为拙；柳惠为工。", False)])
def test_a_photo_caption_left_as_a_line_of_a_web_page_goes_and_a_one_line_paragraph_stays(line, caption):
    other = "小花家。" if line != "小花家。" else "大涧学校。"  # a photo page captions more than one picture
    text = "\n".join([P1, line, P2, other, P3])
    out, removed = clean(text, link_pages=True)
    assert (line not in out) is caption
    assert (("caption", line) in removed) is caption
    out, removed = clean(text)  # not a web page: a text file's short line is its author's
    assert line in out


def test_a_single_caption_shaped_line_on_a_page_stays():
    """The tagger is asked only on pages with two or more lines of a caption's shape: one such line is more often a
    feature's one-line paragraph than the page's only picture."""
    text = "\n".join([P1, "禹州市人民医院。", P2, P3])
    assert clean(text, link_pages=True)[0] == text


@pytest.mark.parametrize("batch,body,furniture_in_text", [(6, 86, 40), (7, 91, 63)])  # 6: 41 until a caption under a picture went at extraction
def test_written_batches_six_and_seven_meet_the_goals_after_the_fixes(batch, body, furniture_in_text):
    """Each batch was run once blind (bench/corpus/results/written{6,7}_blind_boilerplate.txt: furniture in the text
    33/40 and 44/63, body 79/86 and 88/91); this pins the after-fix figures."""
    import tomllib

    bench = _bench()
    labels = tomllib.loads((bench.WRITTEN / "labels.toml").read_text(encoding="utf-8"))
    pages = {}
    for name, lab in labels.items():
        if bench.written_batch(name) == batch:
            raw = bench.extract((bench.WRITTEN / name).read_bytes(), "builder")
            pages[name] = (lab["furniture"], lab["body"], bench.page_text(raw))
    t = bench.score(pages, False)["totals"]
    assert t["body"] == body and t["body_kept"] == body
    assert t["furniture_in_text"] == furniture_in_text and t["furniture_in_text_removed"] / t["furniture_in_text"] >= 0.95


def test_a_forum_post_of_br_separated_lines_in_a_table_cell_is_kept_line_by_line():
    from builder.stages.corpus.extract import extract_html

    post = "<br />\n".join([P1, P2, P3])
    html = (f"<html><body><table><tr><td class='pls'>楼主</td><td class='t_f'>{post}</td></tr></table>"
            "<div>沙发 发表于 2025-6-5 21:26 终于开了！每天绕路去超市买菜太不方便了，这回好了。</div></body></html>")
    raw = extract_html(html)
    assert raw is not None
    lines = raw.text.split("\n")
    assert P2 in lines and P3 in lines


@pytest.mark.parametrize("line,family", [
    ("本帖最后由 溪畔老张 于 2025-6-5 21:40 编辑", "credit"),
    ("板凳 发表于 2025-6-5 22:03 二楼有卖烧饼的吗？原来菜场门口那家老李烧饼还在不在，谁知道？", "forum"),
    ("参与人数 3 威望 +3 收起 理由", "forum"),
    ("IMG_20250605_163201.jpg (286.45 KB, 下载次数: 12)", "forum"),
    ("本文刊发于《新财观》2025年第14期", "source"),
    ("▶ 听全文（约9分钟）", "nav"),
])
def test_forum_magazine_and_toolbar_lines_are_furniture_by_their_family(line, family):
    out, removed = clean("\n".join([P1, P2, line, P3]), link_pages=True)
    assert line not in out and (family, line) in removed


def test_a_bracketed_office_under_the_article_is_its_source_and_a_bracketed_sentence_is_not():
    out, removed = clean("\n".join([P1, P2, P3, "（新闻宣传中心）"]), link_pages=True)
    assert "新闻宣传中心" not in out and ("source", "（新闻宣传中心）") in removed
    closing = "（记者回访时，这家农贸市场已恢复营业。）"
    out, _ = clean("\n".join([P1, P2, P3, closing]), link_pages=True)
    assert closing in out


def test_a_reposts_original_title_line_is_never_the_pages_title():
    body = "".join([P1, P2, P3])
    html = ("<html><head><title>反诈宣传进社区_青川新闻网</title><meta property='og:title' content='反诈宣传进社区'></head><body>"
            "<h1>反诈宣传进社区</h1><p class='otitle'>原标题：《青川市公安局通报电信网络诈骗案件》</p>"
            f"<p>{P1}</p><p>{P2}</p><p>{P3}</p></body></html>")
    assert choose_title(html, "反诈宣传进社区", "青川新闻网", body) == "反诈宣传进社区"


def test_a_subheading_the_extractor_dropped_between_two_of_its_paragraphs_is_put_back():
    from builder.stages.corpus.extract import restore_headings

    html = f"<div><p>{P1}</p><h3>先看精神，再看体温</h3><p>{P2}</p><h3>相关阅读</h3><div>别处</div><p>{P3}</p></div>"
    assert restore_headings(html, "\n".join([P1, P2, P3])) == "\n".join([P1, "先看精神，再看体温", P2, P3])
    assert restore_headings(html, "\n".join([P1, "先看精神，再看体温", P2, P3])).count("先看精神") == 1
    # an inline box (相关阅读 and its link) between the paragraph and the heading: the heading still goes back (batch 32)
    boxed = (f"<div><p>{P1}</p><div class='insert'><span>相关阅读</span><a href='/a.html'>午睡睡多久最合适</a></div>"
             f"<h3>哪些情况需要警惕？</h3><p>{P2}</p></div>")
    assert restore_headings(boxed, "\n".join([P1, P2])) == "\n".join([P1, "哪些情况需要警惕？", P2])
    # not when the paragraph before the heading is not the line above (the heading would land in the wrong place)
    assert restore_headings(boxed, "\n".join([P2, P1])) == "\n".join([P2, P1])


@pytest.mark.parametrize("line,family", [
    ("编辑于 2025-04-02 10:21・IP 属地浙江", "dateline"),
    ("▲ 赞同 2316 ▼ 328 条评论 分享 收藏 喜欢 举报", "counters"),
    ("5月21日 21:02 来自 iPhone客户端 回复 赞 213", "comments"),
    ("（作者单位：鹭城市儿童医院呼吸内科）", "credit"),
    ("【记者 周扬 发自城南社区】", "credit"),
    ("（海州新闻网记者 许嘉禾 摄）", "photo"),
    ("本公司董事会及全体董事保证本公告内容不存在任何虚假记载、误导性陈述或者重大遗漏。", "disclaimer"),
])
def test_platform_and_announcement_lines_are_furniture_by_their_family(line, family):
    text = "\n".join([P1, P2, P3, line]) if family == "disclaimer" else "\n".join([P1, P2, line, P3])
    out, removed = clean(text, link_pages=True)
    assert line not in out and (family, line) in removed


def test_readers_messages_go_below_the_article_and_a_quoted_netizen_in_the_body_stays():
    quoted = "网友“海边的风”：我们小区地下车库进水了，请问找谁？"
    out, removed = clean("\n".join([P1, P2, P3, "网友互动（1,208）", quoted, "主持人回复：可拨打12345热线。"]), link_pages=True)
    assert quoted not in out and "主持人回复" not in out
    out, _ = clean("\n".join([P1, quoted, P2, P3]), link_pages=True)
    assert quoted in out


def test_original_content_notice_closes_the_article_and_cuts_readers_comments_after_it():
    comment = "温控这块确实被低估了，数据中心那边也是一样的逻辑。"
    out, removed = clean("\n".join([P1, P2, P3, "本文由零壹氪原创出品，未经许可，不得以任何方式转载。", "封面来源｜受访企业供图", comment]))
    assert out == "\n".join([P1, P2, P3]) and comment in [line for _, line in removed]


def test_a_cover_credit_and_a_spoiler_notice_are_furniture():
    out, removed = clean("\n".join(["这篇书评可能有关键情节透露", P1, P2, "封面来源｜受访企业供图", P3]))
    assert out == "\n".join([P1, P2, P3]) and {f for f, _ in removed} == {"prompt", "source"}


def test_a_reports_own_risk_warning_stays_and_a_generic_one_goes():
    own = "风险提示：光伏新增装机不及预期；天然气等燃料价格大幅波动；行业产能出清进度不及预期。"
    generic = "风险提示：以上内容仅供参考，不构成投资建议。"
    out, removed = clean("\n".join([P1, P2, P3, own, generic]))
    assert out == "\n".join([P1, P2, P3, own]) and removed == [("disclaimer", generic)]


def test_a_prompt_under_the_repeated_headline_is_still_above_the_article():
    title = "体检查出甲状腺结节，要不要做手术？听听专科医生怎么说"
    text = "\n".join([title, "点击上方蓝字，关注我们", P1, P2, P3])
    out, removed = clean(text, link_pages=True, title=title)
    assert out == "\n".join([title, P1, P2, P3]) and removed == [("prompt", "点击上方蓝字，关注我们")]
    # without the title, the headline reads as the article's first line and the prompt is inside the article:
    # the rules leave it there (whether the line model takes it depends on its training: not asserted here)
    out, _ = BoilerplateRemover(line_model=None).explain(text, link_pages=True)
    assert "点击上方蓝字" in out


def test_a_department_card_after_the_article_goes_and_an_associations_sign_up_sentence_stays():
    card = "临江二院甲状腺乳腺外科成立于2012年，现有医师14名，年手术量3000余台，开设甲状腺结节专病门诊。"
    out, _ = clean("\n".join([P1, P2, P3, "科室介绍", card]))
    assert out == "\n".join([P1, P2, P3])
    news = "据悉，协会将于10月组织第四站对接活动。有意参加的会员单位可与产业服务部联系报名。"
    out, removed = clean("\n".join([P1, P2, P3, news, "（图文/产业服务部 韩一凡　责任编辑：秘书处 吕梦）"]))
    assert out == "\n".join([P1, P2, P3, news]) and [f for f, _ in removed] == ["credit"]


@pytest.mark.parametrize("line,family", [
    ("（县融媒体中心记者刘洋/文陈晨/图）", "credit"),
    ("（澄江日报记者 陶文静　通讯员 施晓峰）", "credit"),
    ("本文刊载于《栖居》2025年10月刊，原题《一棵柠檬树的三年》。", "source"),
    ("（根据现场速记整理，以发言人实际发言为准）", "source"),
    ("本视频仅供新闻报道使用，转播请注明出处", "copyright"),
])
def test_batch_10_credit_source_and_notice_shapes_are_furniture(line, family):
    assert family_inside(line) == family


def test_a_bracketed_sentence_about_the_reporter_is_the_articles():
    aside = "（记者来到现场时，村民已经散去）"
    out, removed = clean("\n".join([P1, aside, P2, P3]))
    assert aside in out and removed == []


def test_a_subscription_box_after_the_article_is_cut():
    out, removed = clean("\n".join([P1, P2, P3, "订阅轻舟 Blog", "产品更新和幕后故事，每月一封，不打扰。"]))
    assert out == "\n".join([P1, P2, P3]) and [f for f, _ in removed] == ["tail", "tail"]


@pytest.mark.parametrize("line,family", [
    ("审 判 长：韩立新", "credit"),
    ("部分图片来源：2024年“美丽青川”摄影大赛投稿作品", "source"),
])
def test_batch_11_bench_and_picture_source_lines_are_furniture(line, family):
    assert family_inside(line) == family


def test_a_follow_prompt_behind_an_arrow_and_a_player_notice_are_prompts_at_the_edge():
    out, removed = clean("\n".join(["↑点击上方“清溪发布”关注我们", "温馨提示：如视频无法播放，请使用Chrome或Edge浏览器并刷新页面",
                                    P1, P2, P3]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [f for f, _ in removed] == ["prompt", "prompt"]
    assert "审判长韩立新庭后表示，银行卡不能出租、出借、出售。" in clean("\n".join([P1, "审判长韩立新庭后表示，银行卡不能出租、出借、出售。", P2, P3]))[0]


def test_readers_comments_with_a_reaction_bar_each_are_cut_with_the_name_above_the_first():
    comments = ["鲸鱼不睡觉", "单曲循环第五首，听到最后一句真的哭了", "1小时前 · 回复 · 赞 58",
                "南桥旧时光", "从《风过南桥》听到现在，终于等到巡演了！蓉城站冲", "2小时前 · 回复 · 赞 31"]
    out, removed = clean("\n".join([P1, P2, P3] + comments), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and len(removed) == len(comments)
    closing = "以上，谢邀。"  # an answer's short last line above its reaction bar is the answer's
    out, _ = clean("\n".join([P1, P2, P3, closing, "▲ 赞同 2316 ▼ 328 条评论 分享 收藏"]), link_pages=True)
    assert out.endswith(closing)


@pytest.mark.parametrize("line,family", [
    ("（撰稿：公司金融部 陈思远　编辑：办公室 林晓）", "credit"),
    ("认证车主：启航E7 2024款 长续航版", "forum"),
])
def test_batch_12_credit_and_badge_lines_are_furniture(line, family):
    assert family_inside(line) == family


def test_a_banks_standing_risk_warning_under_the_article_goes():
    out, removed = clean("\n".join([P1, P2, P3, "风险提示", "理财非存款，产品有风险，投资须谨慎。本网站所载产品信息仅供参考。"]))
    assert out == "\n".join([P1, P2, P3]) and {f for f, _ in removed} == {"disclaimer"}


def test_an_official_reply_in_a_reply_block_is_extracted():
    """A 领导留言板 page keeps the office's reply in reply-* blocks, which trafilatura drops as blog comments."""
    from builder.stages.corpus.extract import extract_html

    page = (ROOT / "bench" / "corpus" / "pages_written" / "b12_leader_liuyan_reply.html").read_text(encoding="utf-8")
    doc = extract_html(page)
    for line in ("网友您好！您反映的问题已收悉", "经实地调查，城东高铁站晚上9点以后到站的列车每天有11趟", "感谢您对我市交通工作的关心和支持！"):
        assert line in doc.text, line


def test_a_mood_poll_under_the_article_cuts_the_comments_after_it_and_a_comment_meta_line_opens_them_too():
    comments = ["看完本文，你的心情是？", "期待 412 观望 87 无感 23", "竹海听风", "不卖数值这句话我截图了，上线后来对照",
                "玩点网友 · 11-06 15:02 · 顶 268", "押镖的老刘", "38G……我的固态硬盘又要清理一轮了", "玩点网友 · 11-06 15:30 · 顶 133"]
    out, removed = clean("\n".join([P1, P2, P3] + comments), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and len(removed) == len(comments)
    # without the poll, the first comment's meta line (who, when, 顶 N) opens the comments, its name and text with it
    out, removed = clean("\n".join([P1, P2, P3] + comments[2:]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and len(removed) == len(comments) - 2
    from builder.text.boilerplate import is_comment_meta
    assert not is_comment_meta("新华社 · 11月6日 · 北京")  # no reaction: a dateline's parts
    assert not is_comment_meta("记者 · 11-06 15:02 · 顶着烈日，工人们仍在作业。")  # a sentence is never a meta line


def test_a_folded_articles_button_goes_and_a_date_and_time_field_is_not_a_code():
    out, removed = clean("\n".join([P1, "展开剩余 68%", P2, P3]))
    assert out == "\n".join([P1, P2, P3]) and removed == [("nav", "展开剩余 68%")]
    talk = "报告时间：2025年11月7日（星期五）下午15:00—16:30"  # a lecture notice's own field, above its abstract
    assert clean("\n".join([talk, P1, P2, P3]), link_pages=True)[0].startswith(talk)
    from builder.text.boilerplate import is_symbol_heavy
    assert is_symbol_heavy("$某某(SZ000999)$ #话题#") and not is_symbol_heavy(talk)


def test_a_papers_title_in_h1_is_kept_and_a_section_heading_of_the_body_never_replaces_it():
    title = "快递进村的“最后一公里”由谁买单——基于西岭省12个县的调查"
    section = "四、结论与政策建议与展望"
    html = _page(f"<title>{title}</title>", f"<h1>{title}</h1>{ARTICLE}<h2>{section}</h2>")
    assert choose_title(html, section, body=P1 + "\n" + section + "\n" + P2) == title
    # a <title> that names only the section still loses to the headline heading the body repeats
    head = "青川市公安局通报今年以来破获电信网络诈骗案件"
    html = _page("<title>新闻动态--青川学会官网</title>", f"<h5>{head}</h5>{ARTICLE}<h2>{section}</h2>")
    assert choose_title(html, "新闻动态--青川学会官网", body=P1 + "\n" + section + "\n" + P2) == head


def test_a_bracketed_section_label_with_a_call_word_is_a_heading_and_a_bracketed_call_is_a_prompt():
    qa = ["【咨询内容】", "我在一家公司工作了三年，公司最近以经营困难为由要求我主动辞职，我该怎么办？", "【律师解答】", P1, P2, P3]
    out, removed = clean("\n".join(qa), link_pages=True)
    assert out.startswith("【咨询内容】") and "【律师解答】" in out
    out, removed = clean("\n".join([P1, P2, "【点击关注】", P3]))
    assert out == "\n".join([P1, P2, P3]) and removed == [("prompt", "【点击关注】")]


def test_a_public_accounts_in_body_furniture_goes_from_the_top_and_the_closing_blocks():
    top = ["【老周说钱】每周三、周六晚上更新，用大白话算清普通人家的钱袋子。", "文｜老周 配图｜来自网络，侵权联系删除"]
    closing = ["——全文完——", "风险提示：以上仅为作者家庭的个人做法，不构成对任何产品的推荐或投资建议。",
               "觉得有点用的话，顺手点个赞，再转给同样为存钱发愁的朋友～", "往期干货：", "大额存单提前支取，利息到底怎么算？",
               "读者精选留言：", "@晴天小铺：按老周的方法分了三个账户，心里踏实多了。", "老周回复：下期就写这个，敬请期待。"]
    out, removed = clean("\n".join(top + [P1, P2, P3] + closing), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and len(removed) == len(top) + len(closing)
    # decorated block headings open the tail too: — 往期推荐 —, · 专家名片 ·
    for heading in ("— 往期推荐 —", "· 专家名片 ·"):
        out, _ = clean("\n".join([P1, P2, P3, heading, "杭若澄，呼吸与危重症医学科主任医师，擅长慢阻肺的诊治。"]), link_pages=True)
        assert out == "\n".join([P1, P2, P3]), heading


@pytest.mark.parametrize("line", ["↑ 戳上方“宁川二院”蓝字，健康知识早知道", "点上方蓝字「鹭川城事」并设为星标，本城新鲜事一条不落",
                                  "蓝字关注，和我们一起见证成长", "本文为「驭见车评」原创，个人转发随意，机构及媒体转载请先联系授权。"])
def test_a_public_accounts_follow_prompt_or_original_notice_above_the_article_goes(line):
    out, removed = clean("\n".join([line, P1, P2, P3]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and len(removed) == 1


@pytest.mark.parametrize("line", ["本文由「鹭川农商银行·夜市惠」支持丨活动期间在夜市刷鹭农卡满30元立减5元",
                                  "点击下方卡片，查看云穹S6本地最新报价", "云穹S6 增程版 | 厂商指导价21.98-26.58万 | 获取底价"])
def test_a_sponsorship_line_or_a_price_card_inside_the_article_goes(line):
    assert family_inside(line) == "sponsor"


@pytest.mark.parametrize("closing", ["让我们为这些坚守岗位的人点个赞！", "不少网友在评论区留言表示，希望夜市能一直开下去。",
                                     "据了解，该平台每天更新各区的空气质量数据。", "全文完整收录在该市档案馆的年鉴里。"])
def test_a_closing_sentence_that_praises_reports_or_mentions_an_update_stays(closing):
    out, _ = clean("\n".join([P1, P2, P3, closing]), link_pages=True)
    assert out.endswith(closing)


@pytest.mark.parametrize("line,family", [
    ("【A03版·城事】2025年06月14日星期六", "edition"), ("▶ 相关报道见A04版《车上的“护学员”》", "edition"),
    ("【逐浪新闻稿】即时发布", "edition"), ("本文约2600字，读完大概需要7分钟", "edition"),
    ("首发于专栏「生活里的物理课」，请勿搬运", "edition"),
    ("利益相关：无。文中提到的加湿器是自己买的。", "edition"), ("—— 以下为节目文字稿，经删节整理 ——", "edition"),
    ("□ 本报记者 霍闻笙 通讯员 艾青禾", "credit"), ("稿件来源：临沅日报全媒体中心", "source"),
    ("【口播】本期节目由「拾页手账」支持，新用户首单立减10元", "sponsor"), ("（文字整理：回声坊编辑部 实习生 邹小禾）", "credit"),
])
def test_batch_16_edition_release_transcript_and_column_lines_are_furniture(line, family):
    assert family_inside(line) == family


def test_a_press_releases_about_block_a_notices_attachments_and_a_podcasts_chapters_go():
    about = ["###", "关于逐浪运动", "逐浪运动创立于2014年，总部位于成都，是一家专注于跑步和户外运动装备的公司。"]
    out, removed = clean("\n".join([P1, P2, P3] + about), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and len(removed) == 3
    files = ["附件：1.云岭县2026年度城乡居民医保参保缴费指南", "2.各乡镇（街道）医保代办点地址及联系方式", "（附件请登录县政府门户网站查阅）"]
    out, _ = clean("\n".join([P1, P2, P3] + files), link_pages=True)
    assert out == "\n".join([P1, P2, P3])
    chapters = ["时间轴", "02:15 从辞职到开店", "14:40 一本书到底赚多少钱", "27:30 借阅卡和会员制"]
    out, removed = clean("\n".join(chapters + [P1, P2, P3]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and {f for f, _ in removed} == {"chapters"}
    # an event's own schedule stays: clock times, no 时间轴 heading
    schedule = ["08:30 签到入场", "09:00 开幕式", "10:30 分组讨论"]
    out, _ = clean("\n".join([P1] + schedule + [P2, P3]), link_pages=True)
    assert all(x in out for x in schedule)
    # 关于 a topic over the article's own paragraph stays (no company facts under it)
    out, _ = clean("\n".join([P1, P2, "关于退款", "退款将在七个工作日内原路退回，逾期未到账的可拨打客服电话咨询。", P3]), link_pages=True)
    assert "关于退款" in out


@pytest.mark.parametrize("line,family", [
    ("信息提供：桂香里社区居委会城建组", "source"), ("数据提供：省高速公路联网运营中心路网监测室", "source"),
    ("海报设计：言小溪 | 文字：路网监测室 | 编辑：阮棠", "credit"), ("本期赞助｜「云匣」家庭网盘，首月免费试用", "sponsor"),
    ("拾贝周刊 · 第142期 · 本期正文约3200字", "edition"),
])
def test_batch_17_supplier_credit_sponsor_and_issue_lines_are_furniture(line, family):
    assert family_inside(line) == family


def test_a_star_prompt_a_call_for_contributions_and_a_marked_reading_list_go_at_the_edges():
    top = "👆 点一下上面的蓝色名字，把桂香里邻里设成星标"
    end = ["欢迎课题组投稿最新成果，投稿邮箱：tougao@mail.example", "▍推荐阅读", "▸ 稻田养蟹会改变土壤微生物群落吗？"]
    out, removed = clean("\n".join([top, P1, P2, P3] + end), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and len(removed) == 4
    # a sentence about a journal that welcomes submissions, inside the article, stays
    mid = "该刊编辑部表示，欢迎更多基层研究者投稿，分享一线的观察。"
    assert mid in clean("\n".join([P1, mid, P2, P3]), link_pages=True)[0]


@pytest.mark.parametrize("line", [
    "【6月3日更新】截至记者发稿时，救援仍在进行，已有12人获救，另有3人下落不明。",
    "首发于知乎的这篇回答，短短三天内获得了十万点赞，作者随后又补写了续篇。",
    "【本报讯】市疾控中心每周一在官网更新流感监测数据。",
    "欢迎广大文学爱好者踊跃投稿参赛。",
    "根据新规，媒体转载须经授权，否则将承担相应的法律责任。",
    "【关注上海发布】",
])
def test_review_cases_a_news_line_that_looks_like_a_new_rule_is_judged_right(line):
    """Lines a review of the session's rules put forward as false positives: news stays, a bracketed call goes."""
    out, removed = clean("\n".join([P1, P2, P3, line]), link_pages=True)
    if line == "【关注上海发布】":
        assert removed == [("prompt", line)]
    else:
        assert out.endswith(line), removed
    # a WeChat subheading behind ▼ inside the article stays; ▼ pointing at a poster below is a call
    assert "▼ 加入医保有哪些好处" in clean("\n".join([P1, "▼ 加入医保有哪些好处", P2, P3]))[0]
    assert clean("\n".join([P1, "▼ 轻触下方海报，预约新品首发", P2, P3]))[1] == [("prompt", "▼ 轻触下方海报，预约新品首发")]


def test_review_cases_race_results_an_incident_timeline_and_netizens_quoted_in_a_report_stay():
    race = ["31:25 张三（北京）", "32:10 李四（上海）", "33:40 王五（杭州）"]
    timeline = ["时间线", "14:05 列车驶出站台", "14:12 司机发现异常", "14:20 列车紧急停车"]
    for block in (race, timeline):
        out, _ = clean("\n".join([P1] + block + [P2, P3]), link_pages=True)
        assert all(x in out for x in block), block
    quoted = ["网友评论：", "“终于等到这一天了。”", "对此，主办方表示，将认真听取各方意见，进一步完善活动方案和安全保障措施。"]
    out, _ = clean("\n".join([P1, P2] + quoted + [P3]), link_pages=True)
    assert out.endswith(P3) and quoted[2] in out


@pytest.mark.parametrize("line,family", [
    ("■ 本报记者 蒲晓岚 特约通讯员 甘一鸣", "credit"), ("（供稿单位：江屿发电公司党委工作部）", "credit"),
    ("数据来源：上市公司公告、汇澜数据终端", "source"), ("（本文原载《澄浦史志》2025年第1期，网络发布时有删节）", "source"),
    ("摘自《江城文史》2024年第3期", "source"),
])
def test_batch_18_19_bylines_suppliers_and_where_a_piece_ran_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("lead,family", [
    ("■ 基层党建品牌巡礼（十二）", "series"), ("※ 这是「老物件复活计划」的第7篇，前六篇在我的专栏文集里", "series"),
    ("🕯 这里是拾灯读书会第37期线下共读的文字记录", "series"), ("本文是同名视频的文字版，内容略有增补", "series"),
])
def test_batch_18_19_a_series_line_above_the_piece_goes(lead, family):
    out, removed = clean("\n".join([lead, P1, P2, P3]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and removed == [(family, lead)]


@pytest.mark.parametrize("end", [
    "（作者系江岳省社会科学院社会学研究所副研究员。本文为省社科基金重点项目“超大城市社区治理”的阶段性成果）",
    "本项目公开募捐方案已在民政部门备案，备案编号：53100000FC2025017",
    "💗 想为寒门学子出一份力？长按下方图片识别，小额也是心意",
    "欢迎转发扩散；其他媒体如需刊用本文，请先与总会宣传联络部联系",
    "📞 身边有烦心事？拨打新闻热线0591-8733 6110，或在榕视频App首页点“我要爆料”",
    "本文观点仅代表书友个人感受，书中引文均据2024年10月第1版",
    "📅 下期预告：第38期共读书目为《盐井村的秋天》，时间暂定11月22日",
    "—— 完 ——", "作者简介：麻致远，澄浦县地方志办公室退休干部，长期从事地方史研究。",
    "封面和文中照片都是我自己拍的，想转去别的平台请先私信我",
    "要是这篇对你有点用，顺手点赞投币，你们的支持就是继续拆机的动力！",
    "对应的视频版在我主页的视频列表里，标题一样，搜一下就能找到",
])
def test_batch_18_19_closing_notes_under_the_piece_go(end):
    out, removed = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [line for _, line in removed] == [end]


@pytest.mark.parametrize("line", [
    "数据来源的可靠性，是这次评估中专家反复追问的问题。",
    "这是他参加的第7次全国比赛，也是他离金牌最近的一次。",
    "调查发现，很多业主长按电梯按钮也没有反应，识别系统经常失灵。",
    "本文观点仅供讨论，欢迎读者批评指正。",
    "第三届论坛的作者简介环节被安排在了下午，每位作者有三分钟时间。",
    "他说，完成这项工作一共用了三年。",
])
def test_batch_18_19_body_sentences_like_the_new_rules_stay(line):
    """Sentences that share the new rules' words but are the article's: they stay mid-article and at the end."""
    assert family_inside(line) is None
    out, _ = clean("\n".join([P1, P2, line, P3]), link_pages=True)
    assert line in out
    out, _ = clean("\n".join([P1, P2, P3, line]), link_pages=True)
    assert out.endswith(line)


@pytest.mark.parametrize("line,family", [
    ("本项目由澜江公益基金会“乡村儿童阅读计划”资助", "sponsor"), ("【商家故事】第58期｜本期主角：城东的一家面馆", "edition"),
    ("本文由饱饱商家学院原创，采访整理：汪栗", "credit"),
])
def test_batch_20_21_funder_issue_and_write_up_lines_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("end", [
    "（本文节选自《冷运时代》2025年第11期封面报道，完整版见当期杂志）",
    "↓ 长按或扫码，两分钟填完报名表 ↓",
    "📣 你的小店也有故事？点击文末「我要投稿」",
    "📲 应用商店搜“今日青禾”，看更多县里的新鲜事",
    "*文中经营数据由商家本人提供，仅作经验交流参考",
    "◎ 遇到可疑情况拿不准？青屿农商银行24小时客服：96288（按0转人工）",
    "附件：处罚决定书（扫描件）.pdf",
])
def test_batch_20_21_closing_notes_under_the_piece_go(end):
    out, removed = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [line for _, line in removed] == [end]


def test_batch_20_21_a_marked_reading_list_heading_opens_the_tail_and_a_column_note_goes_with_the_hotline_under_it():
    out, removed = clean("\n".join([P1, P2, P3, "● 往期回顾", "● 那个总在图书角待到天黑的男孩", "● 一箱书，走过的第1000公里"]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and len(removed) == 3
    out, removed = clean("\n".join([P1, P2, P3, "往期推荐 ▼", "🐼 小熊猫“芝麻”一岁啦！生日蛋糕是苹果做的"]), link_pages=True)
    assert out == "\n".join([P1, P2, P3])
    note = "▶ 本栏目所载内容仅作金融知识普及之用，不作为办理任何业务的依据；理财有风险，投资需谨慎。"
    out, removed = clean("\n".join([P1, P2, P3, note, "◎ 遇到可疑情况拿不准？本行24小时客服：96288"]), link_pages=True)
    assert out == "\n".join([P1, P2, P3])


@pytest.mark.parametrize("line", [
    "本项目由省科技厅资助，总投资1.2亿元，预计明年底建成投用。",
    "附件是一份手写的清单，列出了老人这些年资助过的二十多名学生。",
    "长按电源键三秒，手机就会进入安全模式。",
    "市民可拨打热线反映问题，相关部门将在三个工作日内答复。",
    "文中提到的三家企业，目前都已经完成了整改。",
])
def test_batch_20_21_body_sentences_like_the_new_rules_stay(line):
    assert family_inside(line) is None
    out, _ = clean("\n".join([P1, P2, P3, line]), link_pages=True)
    assert out.endswith(line)


@pytest.mark.parametrize("line,family", [
    ("记录：邵青禾、任苒 | 摄影：周叙、林可 | 整理：阿苇", "credit"), ("本版责编：高二（3）班 孟夏 | 美编：俞小棠", "credit"),
    ("本期内容由全科医学科潘晓禾主治医师撰写", "credit"),
])
def test_batch_22_23_credit_lines_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("end", [
    "⚠ 以上内容为健康科普，具体诊疗请遵医嘱", "⚠ 户外运动具有一定风险，报名即视为已了解并自愿承担",
    "☎ 符合条件的困难群众可拨打12348公共法律服务热线", "📞 12319城管服务热线，全天24小时受理市容市貌问题",
    "✎ 《枫声》常年征稿，欢迎同学们把习作交给各班语文课代表",
    "📷 看到占道经营、乱堆乱放？点公众号菜单「随手拍」上传照片", "返校小贴士：集体返校请至少提前七个工作日联系校友会",
    "致谢：本次监测得到溪口镇生态环境保护专项资金的支持",
])
def test_batch_22_23_closing_notes_under_the_piece_go(end):
    out, removed = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [line for _, line in removed] == [end]


def test_batch_22_23_a_series_number_above_the_piece_goes_and_a_numbered_subheading_above_the_first_paragraph_stays():
    out, removed = clean("\n".join(["【最美退役军人风采录】之十二", P1, P2, P3]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and removed == [("series", "【最美退役军人风采录】之十二")]
    text = "\n".join(["一｜新开了哪些课", P1, P2, P3])
    assert clean(text, link_pages=True)[0] == text


@pytest.mark.parametrize("line", [
    "记录下这一幕的，是一位在现场值守了整夜的志愿者。",
    "以上内容为初步调查结果，最终结论将由专家组在下月公布。",
    "户外运动具有一定风险，这是每一位领队都会反复强调的一句话，但真正做到的人并不多。",
    "致谢环节，几位受助学生的家长也走上台来。",
])
def test_batch_22_23_body_sentences_like_the_new_rules_stay(line):
    assert family_inside(line) is None
    out, _ = clean("\n".join([P1, P2, P3, line]), link_pages=True)
    assert out.endswith(line)


@pytest.mark.parametrize("end", [
    "民警提醒，可在手机应用商店搜索下载国家反诈中心APP。",
    "市民办理业务后记得收藏好回执单，以备查询。",
    "温馨提示：近期气温骤降，请广大市民注意防寒保暖，出行注意安全。",
    "这是该市今年举办的第十期农民工技能培训班。",
    "市民如有疑问，可拨打服务热线：12345咨询。",
    "读者可拨打本报新闻热线反映身边的新鲜事。",
    "冬季户外运动存在一定风险，市民需根据自身情况量力而行，出发前查看天气预报，结伴同行。",
])
def test_review_cases_a_closing_sentence_that_shares_a_new_rules_words_stays(end):
    """Closing sentences a review of batches 18-23's rules put forward: each ends a sentence, so it is the article's."""
    out, _ = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out.endswith(end)


@pytest.mark.parametrize("line", [
    "本活动由市文明办主办，某银行冠名。", "数据来源：国家统计局，截至去年底全国共有中小学校20万所。", "记录｜一位乡村教师的三十年",
])
def test_review_cases_a_line_inside_the_article_that_shares_a_new_rules_words_stays(line):
    assert family_inside(line) is None


def test_review_case_a_numbered_subheading_above_the_first_paragraph_stays():
    for heading in ("1. 提高思想认识", "一、注意事项", "一｜新开了哪些课"):
        text = "\n".join([heading, P1, P2, P3])
        assert clean(text, link_pages=True)[0] == text


@pytest.mark.parametrize("line,family", [
    ("栏目主持：费玉衡（市方言文化研究会会员）", "credit"), ("文号：梧林通〔2025〕6号", "edition"),
    ("阅读提示：全文约1100字，建议先收藏再对照操作", "edition"),
])
def test_batch_24_25_host_document_number_and_reading_hint_lines_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("end", [
    "📲 还没装个人所得税App？在应用商店搜索即可", "📅 这个系列每周三晚上更新，下一篇聊聊敬语",
    "【免责说明】文中方法仅适用于常见故障的初步排查", "💬 你家冰箱还遇到过哪些怪问题？在下方留言，师傅挑典型的来解答",
    "关于我：前外贸跟单，现为自由译者", "· 本期完 ·",
])
def test_batch_24_25_closing_notes_under_the_piece_go(end):
    out, removed = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [line for _, line in removed] == [end]


def test_batch_24_25_a_bracketed_or_dotted_reading_list_heading_opens_the_tail():
    for heading in ("【往期推荐】", "▼ 档案里的溪宁 · 往期"):
        out, removed = clean("\n".join([P1, P2, P3, heading, "» 灵活就业人员怎么缴医保？一文说清"]), link_pages=True)
        assert out == "\n".join([P1, P2, P3]) and len(removed) == 2


@pytest.mark.parametrize("line", [
    "文号的编排有一套规则，每一份文件都对应唯一的编号。",
    "他在留言里告诉记者，这条路修好以后，孩子上学再也不用绕远了。",
    "这个系列讲座每周三晚上在社区活动室举行，已经坚持了两年。",
])
def test_batch_24_25_body_sentences_like_the_new_rules_stay(line):
    assert family_inside(line) is None
    out, _ = clean("\n".join([P1, P2, P3, line]), link_pages=True)
    assert out.endswith(line)


@pytest.mark.parametrize("line,family", [
    ("公告编号：沣红公〔2025〕9号", "edition"), ("📋 事项编码：330500-GR-0317", "edition"),
    ("📎 附件：1.救灾捐赠资金接收明细（单位）.xls 2.救灾捐赠资金接收明细（个人）.xls", "edition"),
    ("📄 附件：2025年第三季度报告全文（PDF，1.2MB）", "edition"),
    ("本公告同时刊登于10月15日《沣宁日报》第4版。", "edition"),
    ("🔖 本通知已同步推送至本园微信公众号及各班家长群，请家长留意查收。", "edition"),
    ("（图为去年油菜花节期间的石桥镇花田。资料图片 摄影：甘露）", "photo"),
])
def test_batch_27_filing_attachment_publication_and_caption_lines_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("end", [
    "【温馨提示】本指南根据现行规定编写，如遇政策调整，以窗口实际受理要求为准。",
    "👉 相关指南：新生儿落户后如何办理医保缴费？",
    "✍ 对本指南有意见建议？欢迎在页面下方“本页内容对您有帮助吗”处留言评价",
])
def test_batch_27_a_guides_standing_note_pointer_and_feedback_call_go(end):
    out, removed = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [line for _, line in removed] == [end]


@pytest.mark.parametrize("line", [
    "附件中的表格列出了每一笔捐赠的去向，接受社会监督。",
    "这份通知同时刊登在了区政府网站上，家长们可以对照查看。",
    "（记者在现场看到，图为志愿者正在分拣物资的情景，场面忙而不乱，很多人是第一次参加。）",
    "对本次调整有意见建议的市民，可在10月20日前通过12345热线反映。",
])
def test_batch_27_body_sentences_like_the_new_rules_stay(line):
    assert family_inside(line) is None
    out, _ = clean("\n".join([P1, P2, P3, line]), link_pages=True)
    assert out.endswith(line)


@pytest.mark.parametrize("line,family", [
    ("▲ 鹿鸣岗遗址发掘区全景（由北向南）", "photo"), ("（图1：大坝左侧的钓位，背后就是风口）", "photo"),
    ("« 上一期：“征信修复”是骗局！不良记录无法花钱洗白", "prevnext"), ("下一期：信用卡分期的“低费率”，实际年化是多少？", "prevnext"),
])
def test_batch_26_captions_and_issue_links_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("end", [
    "⚠ 温馨提示：本文内容仅供金融知识普及，不构成任何投资建议。",
    "📲 下载汇溪银行手机银行App，在“安全中心”可一键临时冻结账户",
])
def test_batch_26_a_columns_standing_note_and_app_plug_go(end):
    out, removed = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [line for _, line in removed] == [end]


@pytest.mark.parametrize("line", [
    "▲ 第一，发现可疑来电要立即挂断，不要透露任何验证码。",
    "下载手机银行App以后，记得第一时间开启登录保护和转账限额。",
    "上一期节目播出后，不少观众打来电话询问报名方式。",
])
def test_batch_26_body_sentences_like_the_new_rules_stay(line):
    assert family_inside(line) is None
    out, _ = clean("\n".join([P1, P2, P3, line]), link_pages=True)
    assert out.endswith(line)


def test_a_service_account_lookup_under_the_piece_goes_but_a_report_of_one_stays():
    end = "🔍 想查某本书在哪个书架？关注“筠江市图书馆”微信服务号，回复书名即可查询。"
    out, removed = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [line for _, line in removed] == [end]
    body = "不少读者关注“筠江市图书馆”微信服务号后，会在后台留言推荐想读的新书。"
    assert clean("\n".join([P1, P2, P3, body]), link_pages=True)[0].endswith(body)


@pytest.mark.parametrize("line,family", [
    ("▲ 除夕傍晚，“岑港拖12”号船员在船上包饺子。", "photo"), ("▲ 签约仪式现场。（融媒记者 黄诗涵 摄）", "photo"),
    ("（本文根据卢晓芳教练11月的直播课内容整理）", "edition"), ("本报评论员", "credit"),
    ("庾氏后人·明远 2025-12-07", "comments"),
])
def test_batch_28_29_captions_notes_bylines_and_commenters_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("end", [
    "⚠ 免责声明：本文仅为科普，不能代替执业兽医的面诊和诊断",
    "※ 为保护客户隐私，文中客户姓名均为化名。",
    "【安全提示】本文内容仅供学员参考，实际操作以考场规定和教练指导为准。",
])
def test_batch_28_29_disclaimers_and_name_notes_under_the_piece_go(end):
    out, removed = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [line for _, line in removed] == [end]


def test_batch_28_29_a_counted_comments_heading_and_an_emoji_reading_list_open_the_tail():
    for heading in ("族人留言（2）", "📖 延伸阅读："):
        out, removed = clean("\n".join([P1, P2, P3, heading, "· 猫咪一天该喝多少水？一张表算清楚"]), link_pages=True)
        assert out == "\n".join([P1, P2, P3]) and len(removed) == 2


@pytest.mark.parametrize("line", [
    "▲ 第二，出现“解冻”“验证”等字样的短信一律不要点击其中的链接。",
    "本报评论员在文中提出，城市更新要先问居民的意见。",
    "文中提到的几位老人，如今都已年过八旬。",
])
def test_batch_28_29_body_sentences_like_the_new_rules_stay(line):
    assert family_inside(line) is None
    out, _ = clean("\n".join([P1, P2, P3, line]), link_pages=True)
    assert out.endswith(line)


@pytest.mark.parametrize("line", ["工人在恒钧动力新产线上巡检设备。 阎菲 摄", "▲ 傍晚，郑海平在灯塔顶层擦拭透镜。许澜 摄",
                                  "图为消防官兵用喷雾水枪稀释泄漏的一甲胺。张东清摄"])
def test_batch_30_31_a_caption_closed_by_its_photographer_is_furniture_anywhere(line):
    assert family_inside(line) == "photo"


@pytest.mark.parametrize("end", [
    "* 本文仅代表作者个人观点，不代表望舒观察立场。", "枕石，专栏作者，前中学语文教师", "喜欢这篇文章？欢迎订阅枕石专栏，每周四更新。",
    "【晚报热线】如果您身边也有平凡而温暖的故事，欢迎拨打热线告诉我们。",
    "温馨提示：各地医保政策可能有所调整，具体以就医地和参保地医保部门公布的为准。",
])
def test_batch_30_31_a_columns_closing_lines_go(end):
    out, removed = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and [line for _, line in removed] == [end]


@pytest.mark.parametrize("line", [
    "她在给老人量完血压后说，今年村里的慢性病随访率提高了不少，明年还想把体检做得更细。",
    "喜欢这份工作吗？老周笑了笑，说干了三十年，早就离不开了。",
])
def test_batch_30_31_body_sentences_like_the_new_rules_stay(line):
    assert family_inside(line) is None
    out, _ = clean("\n".join([P1, P2, P3, line]), link_pages=True)
    assert out.endswith(line)


def test_a_familys_required_words_never_hide_a_line_its_patterns_match():
    """``requires`` only skips lines none of the family's patterns could match: checked on every labelled line start."""
    import re
    import tomllib

    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    labels = tomllib.loads((ROOT / "bench" / "corpus" / "pages_written" / "labels.toml").read_text(encoding="utf-8"))
    lines = {line for page in labels.values() for key in ("furniture", "body") for line in page.get(key, [])}
    lines |= {"免责声明：本文仅供参考", "理财非存款，产品有风险，投资须谨慎", "文中人物均为化名。"}
    guarded = [spec for spec in data.values() if spec.get("requires")]
    assert guarded
    for spec in guarded:
        full = re.compile("|".join(f"(?:{p})" for p in spec["patterns"]))
        needs = re.compile(spec["requires"])
        assert not [line for line in lines if full.search(line) and not needs.search(line)]


def _labelled_lines() -> list[str]:
    """Furniture and body lines of the written pages' labels, and lines of every shape the tests use."""
    import tomllib

    pages = tomllib.loads((ROOT / "bench" / "corpus" / "pages_written" / "labels.toml").read_text(encoding="utf-8"))
    lines = [P1, P2, P3, QR, MOMENTS]
    for page in pages.values():
        lines += list(page.get("furniture", [])) + list(page.get("body", [])) + [page.get("first", ""), page.get("last", "")]
    return [line for line in lines if line]


def test_alternatives_split_only_at_the_top_level():
    from builder.text.boilerplate import _alternatives

    assert _alternatives(r"^a|b(c|d)|[|]x|\|y|[^]|]z") == ["^a", "b(c|d)", "[|]x", r"\|y", "[^]|]z"]
    assert _alternatives("^(a|b)c") == ["^(a|b)c"]


def test_split_families_match_what_one_alternation_of_their_patterns_matches():
    """A family's patterns are searched split (anchored ones together, the others one by one) and the line families
    through length tiers: on 3,000+ labelled lines each answers what the one alternation answered before."""
    import re
    import tomllib

    from builder.text.boilerplate import _Family

    lines = _labelled_lines()
    assert len(lines) > 3000
    for family, spec in tomllib.loads(RULES_FILE.read_text(encoding="utf-8")).items():
        whole = re.compile("|".join(f"(?:{p})" for p in spec["patterns"]))
        split = _Family(spec["patterns"])
        for line in lines:
            assert bool(split.search(line)) == bool(whole.search(line)), (family, line)
            assert bool(split.match(line)) == bool(whole.match(line)), (family, line)
    remover = BoilerplateRemover(line_model=None)

    def line_family_untiered(s: str) -> str | None:
        from builder.text.boilerplate import _CELL_MARKS, _unlisted

        bare = _unlisted(_CELL_MARKS.sub("", s) if s[:1] == "|" else s)
        return next((f for f, pattern, max_len in remover.line_rules if len(bare) <= max_len and pattern.match(bare)), None)

    found = 0
    for line in lines:
        untiered = line_family_untiered(line)
        if untiered is not None:
            found += 1
            assert remover._line_family(line) == untiered, line
    assert found > 300


def test_a_short_line_under_a_picture_is_its_caption_and_is_counted():
    from builder.stages.corpus.extract import read_html

    page = (f"<html><head><title>老旧小区改造开工_滨川区政府</title></head><body><div class='art'><h1>老旧小区改造开工</h1>"
            f"<p>{P1}</p><p style='text-align:center'><img src='/a.jpg'></p><p style='text-align:center'>枫林苑小区改造项目开工现场</p>"
            f"<p>{P2}</p><p align='center'><img src='/b.jpg'></p><p>一、工作目标</p><p>{P3}</p>"
            f"<p><img src='/c.jpg'></p><p>图中的老人说，楼道终于亮了。</p><p><img src='/d.jpg'></p><p>《冬夜读书示子聿》</p></div></body></html>")
    raw = read_html(page.encode("utf-8"))[0]
    assert "开工现场" not in raw.text and P1[:20] in raw.text and P2[:20] in raw.text
    assert "一、工作目标" in raw.text  # a numbered heading under a picture is the article's
    assert "楼道终于亮了" in raw.text  # a sentence under a picture is text
    assert "《冬夜读书示子聿》" in raw.text  # a poem's title under a picture (realdata people_1)
    assert raw.meta["_counts"]["boilerplate_image_caption"] == 1


@pytest.mark.parametrize("line,gone", [
    ("宋怀瑾在门诊为患儿家长讲解睡眠监测结果。受访者供图", True),
    ("小花母亲说，女儿的左眼被塞了不止几十块小纸片。 小花母亲供图", False),  # a quoted sentence: the article's (realdata)
    ("图表：江岳市住房公积金新政主要变化　制图：柯一鸣", True),
    ("韩予舟冲过终点线。（图/风速体育 裴野）", True),
    ("巡查队员在马家湾堤段查看堤防情况。（钟立言 摄）", True),
    ("郑维安在病房查房。（受访者供图）", True),
    ("图片来源于网络，如有侵权请联系删除", True),
])
def test_captions_that_end_on_their_credit(line, gone):
    assert (family_inside(line) == "photo") is gone


def test_a_subheading_after_a_chart_box_with_its_note_is_put_back():
    from builder.stages.corpus.extract import restore_headings

    html = (f"<div><p>{P1}</p><div class='chart'><img src='/c.png'><p class='note'>图表：新政主要变化</p></div>"
            f"<h3>租房提取有什么新规定？</h3><p>{P2}</p></div>")
    assert restore_headings(html, "\n".join([P1, "图表：新政主要变化", P2])) == "\n".join(
        [P1, "图表：新政主要变化", "租房提取有什么新规定？", P2])


def test_a_government_page_feedback_widget_is_furniture():
    out, removed = clean("\n".join([P1, P2, P3, "本页内容对您是否有帮助？"]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and removed[0][0] == "nav"


def test_a_closing_call_to_pass_the_post_on_is_furniture_after_the_article():
    out, removed = clean("\n".join([P1, P2, P3, "转发提醒身边的人，就是在保护他们！"]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and removed[0][0] == "prompt"


@pytest.mark.parametrize("line,family", [
    ("编者按：急诊科被称为医院的“前哨”。深夜的急诊室里，每一分钟都有故事发生。", "editor_note"),
    ("【编者按】今年是云津博物馆建馆六十周年，本刊推出“馆藏背后的人”系列报道。", "editor_note"),
    ("图为居民在菜园里栽种蔬菜苗。雁州日报全媒体记者 邱阳 摄", "photo"),
    ("图为查勘员通过视频连线为客户远程定损。（安澜保险澄阳分公司供图）", "photo"),
    ("钟国梁会长（资料图）", "photo"),
    ("▲凌晨三点，东岭市场蔬菜交易区。摄影：阿屿", "photo"),
    ("录音、剪辑：阿屿", "credit"),
    ("相关链接：关于开展2025年度会员单位信用评价工作的通知", "edition"),
    ("【澄江财经日报评论版每周一、三、五出版，欢迎投稿：pinglun@cjcaijing.cn】", "edition"),
    ("视频加载中，请稍候……", "edition"),
    ("以下为视频内容文字整理，有删节。", "edition"),
    ("【限时】锐科技年度评测合集上线，回复“评测”免费领取电子版", "sponsor"),
    ("字体：大中小　分享", "nav"),
])
def test_batch_40_43_editor_notes_captions_credits_links_and_promos_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("line", [
    "图为什么会被压缩？因为平台会对上传的图片重新编码，画质随之下降，这是很多摄影爱好者都遇到过的问题。",
    "相关链接已经发到了家长群，家长可以在群里查看报名的具体要求。",
    "编者按照读者的意见，对这篇文章做了修改。",
])
def test_batch_40_43_body_sentences_like_the_new_rules_stay(line):
    assert family_inside(line) is None


def test_an_accounts_sign_off_after_the_article_goes():
    out, removed = clean("\n".join([P1, P2, P3, "关注“鹭川城事指南”，办事不迷路。"]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]) and removed[0][0] == "prompt"


def test_a_title_chained_to_its_column_and_site_by_underscores_keeps_the_headline():
    from builder.stages.corpus.extract import tidy_title

    assert tidy_title("打着“免费体检”幌子骗取老人养老钱 4名被告人获刑_检察要闻_澄阳市临溪区人民检察院") == "打着“免费体检”幌子骗取老人养老钱 4名被告人获刑"
    assert tidy_title("稳住基本盘——专访协会会长钟国梁_协会动态_澄阳市医疗器械行业协会") == "稳住基本盘——专访协会会长钟国梁"


@pytest.mark.parametrize("line,family", [
    ("▲书房的留言本上，写满了读者的心里话。（图/受访者提供）", "photo"),
    ("▲混双决胜局中，夏振川（右）与搭档甘蕾配合接杀。协会供图", "photo"),
    ("▲梧源市住房公积金管理中心服务大厅。资料图", "photo"),
    ("图解：新生儿出生“一件事”办理流程", "photo"),
    ("杨若溪在果园里直播销售猕猴桃。（白岭镇人民政府供图）", "photo"),
    ("栏目说明：本栏目每周选登一封读者来信，邀请执业律师作答。来信请发至 laixin@mingli-fw.example", "edition"),
    ("【数读澄川】系列报道持续更新中，敬请关注。", "edition"),
    ("【打印本页】 【关闭窗口】", "nav"),
])
def test_batch_44_47_captions_notes_and_window_buttons_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("end", [
    "律师简介：郑一鸣，澄湖青禾律师事务所合伙人，执业十二年，主要从事建设工程等领域的诉讼业务。",
    "本文仅为普法参考，不构成具体法律意见。个案情况请咨询专业律师。",
    "微信搜索“青屿出行”小程序，可查询实时到站信息。",
    "更多园区招商动态，请关注澜州商报",
])
def test_batch_44_47_a_bio_disclaimer_or_plug_after_the_article_goes(end):
    out, removed = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out == "\n".join([P1, P2, P3]), removed


def test_a_table_cell_post_with_a_centred_picture_keeps_its_paragraphs():
    from builder.stages.corpus.extract import unwrap_layout_tables

    html = (f"<table><tr><td>{P1}<br><br>{P2}<br><br><center><img src='/a.jpg'><br>果农在直播。（某镇供图）</center><br>"
            f"{P3}<br></td></tr></table>")
    tree = unwrap_layout_tables(html)
    paras = [p.text_content() for p in tree.iter("p")]
    assert paras == [P1, P2, "果农在直播。（某镇供图）", P3]


@pytest.mark.parametrize("line,family", [
    ("【温馨提示】关注本院微信服务号，可在线查询检验报告、预约体检科复诊。", "sponsor"),
    ("【明理提示】遇到家装纠纷，可拨打本网热线预约律师免费咨询。", "sponsor"),
    # any line under a bracketed 提示 label is a box beside the article, the guide's service line too: blind readers marked
    # hotline notes in inputs weak (round 61), and the 21 such lines of the written pages are all labelled furniture
    ("【温馨提示】如有疑问可拨打12345热线咨询。", "sponsor"),
    ("【预约提示】企业团体职业健康检查可提前一周预约，体检车可上门服务。", "sponsor"),  # blind batch 139
    ("温馨提示：如有疑问可拨打12345热线咨询。", None),  # without the box it is the guide's own last sentence
])
def test_an_outlets_own_plug_under_a_notice_label_is_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("line,family", [
    ("收听提示：《科学零距离》每周六19:30在金河新闻广播FM96.8首播，次日12:00重播，也可下载“金河听听”APP随时回听。", "programme"),
    ("（以下为访谈内容节选，有删节）", "programme"),
    ("画面：东岙海洋牧场全景（无人机航拍）", "programme"),
    ("资料图：午高峰时段，骑手在商圈路口等候通行。", "photo"),
    ("（配图：傅科摆展项前的小观众，摄于去年夏天）", "photo"),
    ("【导读】不少粉尘作业劳动者担心自己得了尘肺病，却不知道去哪里诊断。", "sponsor"),
    ("（纯个人经验，各地具体要求可能不一样，以当地仲裁院说法为准。）", "sponsor"),
    ("打开江海新闻APP，搜索“科创江海”，看更多商业航天前沿报道。", "sponsor"),
    ("| 查看: 8632|回复: 57 | 【干货】被拖欠工资怎么办？ [复制链接] |", "forum"),
    ("中级会员", "forum"),
    ("图为东岭服务区工作人员引导新能源车辆有序排队充电。（视频截图）", "photo"),  # blind batches 140-143
    ("图为平台上线仪式现场。（摄影 林晓川）", "photo"),
    ("回复 3# 栖湖业主小王：一般住建局的公众号上可以查分户账。", "forum"),
    ("（上图是我在政务服务平台上截的审查进度，个人信息已打码）", "forum"),
    ("订阅《城乡居住》：全国各地邮局均可订阅，邮发代号28-416。", "sponsor"),
    ("您身边有急难愁盼的事？欢迎拨打栏目热线0578-12345678，或在APP留言。", "sponsor"),
    ("2025年5月10日 星期六 农历四月十三", "sponsor"),
    ("🔥 森林防火期，请牢记：火种不进山，上坟不烧纸，野外不吸烟。", "pictograph"),  # blind batch 142
    ("👀 去看糯米前，请记住这几点", None),  # a subheading under a pictograph is short
    ("★ 协会将于6月中旬举办排污许可实务培训班，会员单位免费参加，报名请联系秘书处。", "sponsor"),  # blind batch 144
    ("《成长进行时》是晴川广播电视台新闻综合频道推出的青少年成长类专题栏目，关注校园。", "programme"),  # blind batch 150
    ("本站内容为网友发布，仅代表个人观点，与本站立场无关。", "sponsor"),
    ("▼打开速览新闻APP，参与#外卖骑手的一天#话题讨论", "sponsor"),  # blind round 68
    ("居民在服务区排队充电，工作人员现场引导。", None),
    ("画面里，老人正低头修补渔网。", None),
    ("以下是记者整理的几个要点。", None),
])
def test_programme_notes_stock_captions_and_teasers_are_furniture_anywhere(line, family):
    # blind batches 136-139: each kept in the text by the rules before (on the labelled lines of the written pages to
    # batch 139 every pattern matches furniture only)
    assert family_inside(line) == family


@pytest.mark.parametrize("line,family", [
    ("郭振声（左二）在田间向农户讲解无人机操作", "photo"),
    ("图为城东街道某小区新加装的电梯。（资料图）", "photo"),
    ("图为居民身份证异地办理流程示意图。市局人口管理支队制图", "photo"),
    ("延伸阅读：二孩家庭如何分配房间？这几种布局值得参考", "edition"),
    ("相关链接：", "edition"),
    ("【征稿】“云帆评论”栏目常年征集科技评论稿件", "sponsor"),
])
def test_batch_48_51_captions_links_and_calls_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


def test_an_interviewees_bio_after_the_interview_goes():
    end = "受访者简介：樊静秋，栎川师范学院生命科学学院副教授，长期从事萤火虫分类与保护研究。"
    out, removed = clean("\n".join([P1, P2, P3, end]), link_pages=True)
    assert out == "\n".join([P1, P2, P3])


def test_a_reply_block_of_div_paragraphs_is_an_official_answer_not_a_comment():
    from builder.stages.corpus.extract import keep_official_replies

    para = "经我局工作人员实地查看，柳塘村公交站点确实存在候车设施不足的问题，给群众出行带来不便，我们将尽快整改到位。"
    html = (f"<html><body><article><div>{P1}</div><section class='reply-body'><div class='letter-sub'>【县交通运输局回复】</div>"
            f"<div class='para'>{para}</div><div class='para'>{para}</div><div class='para'>{para}</div></section></article></body></html>")
    page = keep_official_replies(html)
    assert page is not None and page.xpath('//*[contains(@class, "answer-body")]')


def test_a_heading_that_opens_the_next_wechat_section_is_put_back():
    from builder.stages.corpus.extract import restore_headings

    html = (f"<section><p>{P1}</p></section>\n<section><h2 style='color:#2f6fb3'>一、别把保本当成唯一标准</h2><p>{P2}</p></section>"
            f"<div class='quiz'><h3>随堂小测</h3><p>{P3}</p></div>")
    out = restore_headings(html, "\n".join([P1, P2, P3]))
    assert out == "\n".join([P1, "一、别把保本当成唯一标准", P2, P3])  # the quiz's heading in a box of its own stays out


@pytest.mark.parametrize("line,family", [
    ("【澜视评论】每天早7点半，在澜视新闻客户端与您聊聊身边事。", "sponsor"),
    ("【行云小贴士】汀湾古镇夜游船票可在行云APP提前预订，节假日建议错峰出行。", "sponsor"),
    ("👉 想了解各区具体报名时间？后台回复“课后服务”即可领取汇总表。", "sponsor"),
    ("打开澜视新闻APP“澜城”频道，查看三桥通车后公交线路调整详情。", "sponsor"),
    ("主场球票火热预售中，扫码进入官方票务小程序，季票会员享九折优惠", "sponsor"),
])
def test_batch_52_55_plugs_inside_the_article_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("line", [
    "市民可通过“i澜城”APP预约停车位，目前已有3万余人注册使用。",
    "【政策解读】新规明确，电动自行车不得在楼道内停放、充电。",
])
def test_a_news_line_that_names_an_app_or_opens_on_a_label_stays(line):
    assert family_inside(line) is None


def test_a_title_chained_to_its_site_and_column_by_hyphens_keeps_the_headline():
    from builder.stages.corpus.extract import tidy_title

    assert tidy_title("预付卡退费难？这份维权步骤请收好-汀阳新闻网-消费维权") == "预付卡退费难？这份维权步骤请收好"
    assert tidy_title("中国-东盟博览会开幕-新华网") == "中国-东盟博览会开幕"


def test_round_40_a_credit_in_brackets_and_a_site_name_after_a_hyphen():
    from builder.stages.corpus.extract import tidy_title

    assert family_inside("（图片由桂花街道司法所提供）") == "photo"
    assert tidy_title("在第41公里，他们为陌生人喊到嗓子哑-枫港国际马拉松") == "在第41公里，他们为陌生人喊到嗓子哑"
    assert tidy_title("中国-东盟博览会开幕") == "中国-东盟博览会开幕"
    assert tidy_title("2024-2025赛季女排联赛开幕") == "2024-2025赛季女排联赛开幕"


def test_readers_comment_boxes_go_before_extraction_by_their_class_and_are_counted():
    from builder.stages.corpus.extract import read_html

    comments = ("<div class='discuss_container'><div class='discuss_title'>留言</div><ul>"
                "<li><span class='nickname'>澜川老戏迷</span><p>付老师的戏我看过三回，嗓子是真亮。</p></li>"
                "<li><span class='nickname'>晴天</span><p>谢谢师父，永远是您的学生。</p></li></ul></div>"
                "<div class='pl_item'>这篇写得好，支持反诈宣传进社区。</div>")
    page = (f"<html><head><title>反诈_青川日报</title></head><body><div class='pl-3 rich_media_content'><h1>反诈</h1>"
            f"<p>{P1}</p><p>{P2}</p><p>{P3}</p></div>{comments}</body></html>")
    raw = read_html(page.encode("utf-8"))[0]
    assert P1[:20] in raw.text and P3[:20] in raw.text  # pl-3 is a grid's padding, not 评论
    assert "嗓子是真亮" not in raw.text and "永远是您的学生" not in raw.text and "支持反诈" not in raw.text
    assert raw.meta["_counts"]["boilerplate_comment_box"] == 2


def test_a_box_named_like_comments_that_holds_the_article_stays():
    from builder.stages.corpus.extract import read_html

    page = (f"<html><body><div class='commentary-body'><p>{P1}</p><p>{P2}</p></div>"
            f"<div class='pinglun'><p>{P3}</p><p>{P1}</p><p>{P2}</p></div></body></html>")
    raw = read_html(page.encode("utf-8"))[0]
    assert P3[:20] in raw.text  # a 评论 page's body: more than half the page's text


def test_a_layout_table_of_text_divs_keeps_one_line_per_paragraph():
    from builder.stages.corpus.extract import read_html

    page = (f"<html><body><table width='980'><tr><td class='zuobian'><div class='weizhi'>您的位置：首页 → 新闻动态</div>"
            f"<h1>反诈</h1><div class='neirong'><div class='duan'>{P1}</div><div class='duan'>{P2}</div>"
            f"<div class='duan'>{P3}</div></div></td><td>最新动态</td></tr></table></body></html>")
    lines = read_html(page.encode("utf-8"))[0].text.split("\n")
    assert P2 in lines and P3 in lines  # not run together into one table row


def test_br_lines_in_a_wrapper_inside_a_table_cell_stay_lines():
    from builder.stages.corpus.extract import unwrap_layout_tables

    html = (f"<table><tr><td class='content'><div id='vsb_content'>{P1}<br><b>就业地域：近六成留在省内</b><br>{P2}<br>{P3}<br>"
            f"</div></td></tr></table>")
    paras = [p.text_content() for p in unwrap_layout_tables(html).iter("p")]
    assert paras == [P1, "就业地域：近六成留在省内", P2, P3]


@pytest.mark.parametrize("line,family", [
    ("【演出预告】新编花鼓戏《渡口灯》4月20日晚将在澜川大剧院再度上演，购票请点击文末“阅读原文”。", "sponsor"),
    ("【活动报名】周六上午读书会在市图书馆三楼举行，报名请扫码添加管理员。", "sponsor"),
    ("【演出信息】新编花鼓戏《渡口灯》4月20日晚在澜川大剧院上演，票价40元至120元。", None),  # the article's own facts
])
def test_an_event_plug_under_a_bracketed_label_is_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("line,family", [
    ("图为云屏县实验小学课后服务中的陶艺课。资料图", "photo"),
    ("点击右上角关注“老周说县域”，每天一篇，带你看懂县城里的大事小情。", "prompt"),
])
def test_batch_64_67_captions_and_follow_calls(line, family):
    out, removed = clean("\n".join([P1, P2, line, P3]) if family == "photo" else "\n".join([P1, P2, P3, line]))
    assert out == "\n".join([P1, P2, P3]) and removed[0][0] == family, removed


def test_a_letters_own_line_about_a_course_is_no_ad():
    first = "日前，学校校长信箱收到学员柴慧芳的来信，反映热门课程报名难的问题。经征得本人同意，现将来信及学校答复刊登如下。"
    out, _ = clean("\n".join([first, P2, P3]))
    assert out.startswith(first)
    out, removed = clean("\n".join([P1, P2, P3, "写作训练营火热报名中，报名请扫码。"]))
    assert out == "\n".join([P1, P2, P3]) and removed[0][0] == "ads"


def test_a_post_written_as_one_section_per_paragraph_keeps_its_paragraphs():
    from builder.stages.corpus.extract import read_html

    sections = "".join(f"<section><span style='font-size:15px'>{p}</span></section>" for p in (P1, P2, P3))
    page = (f"<html><body><div id='js_content'><section style='text-align:center'>点击上方蓝字关注我们</section>{sections}"
            f"<section><section><span>{P1}</span></section></section></div></body></html>")
    lines = read_html(page.encode("utf-8"))[0].text.split("\n")
    assert P2 in lines and P3 in lines


def test_a_question_and_answer_list_in_dl_markup_keeps_its_questions_and_answers():
    # blind batch 152: a 12345 hotline's Q&A as <dt>问：…</dt><dd>答：…</dd> was dropped whole by the extractor
    from builder.stages.corpus.extract import read_html

    qa = [("问：进城市书房需要办证吗？", "答：不需要专门办证。年满十四周岁的市民凭本人身份证，或在图书馆公众号领取电子读者证后，刷证或扫码即可进入。"),
          ("问：一次能借几本书？", "答：普通读者证每次可借图书五册，借期三十天，到期前可以在线续借一次，续借期限同样为三十天。"),
          ("问：城市书房几点开门？", "答：目前全市有二十四家城市书房实行二十四小时开放，其余书房每天早上九点至晚上九点开放，节假日照常。")]
    items = "".join(f"<dt>{q}</dt><dd>{a}</dd>" for q, a in qa)
    page = (f"<html><body><div class='nav'>首页 | 便民问答</div><div class='kb'><h1>城市书房怎么进、书怎么借？</h1>"
            f"<p>{P1}</p><dl class='kb-qa'>{items}</dl><dl class='meta'><dt>更新日期</dt><dd>2024-08-19</dd></dl></div></body></html>")
    lines = read_html(page.encode("utf-8"))[0].text.split("\n")
    assert all(q in lines and a in lines for q, a in qa)
    assert "2024-08-19" not in lines


@pytest.mark.parametrize("line,family", [
    ("（作者周砚，汽车自媒体“老周说车”主理人，从事汽车报道十二年。本文仅代表个人观点。）", "editor_note"),
    ("本周报由梧桐里社区居委会编印，稿件来自居民和社区工作人员，欢迎投稿。", "editor_note"),
    ("注：本文数据为初步统计，最终以统计部门发布为准。", "editor_note"),
    ("（画面来源：消防员头盔记录仪）", "credit"),
    ("来信人：方静怡（鹤岭区桂香街道）", "credit"),
    ("更多气象科普知识，欢迎关注“澜平气象”微信公众号，或拨打气象服务热线12121。", "sponsor"),
    ("【创建全国文明城市 你我共参与】", "sponsor"),
    ("（作者说，这条街的变化他看了二十年。）", None),  # a sentence about the author, no note
    ("注：括号内为去年同期数据。", None),  # a table's note the article needs
])
def test_batch_68_71_notes_credits_and_plugs_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


def test_a_frameset_page_is_read_from_its_noframes_body():
    from builder.stages.corpus.extract import read_html

    page = (f"<html><head><title>镇长信箱</title></head><frameset rows='130,*'><frame src='/top.htm'><frame src='/main.asp'>"
            f"<noframes><body><div class='weizhi'>您的位置：互动交流 &gt; 镇长信箱</div><p>{P1}</p><p>{P2}</p><p>{P3}</p></body>"
            f"</noframes></frameset></html>")
    raw = read_html(page.encode("utf-8"))[0]
    assert P1[:20] in raw.text and P3[:20] in raw.text


@pytest.mark.parametrize("line,family", [
    ("关注“鹤川应急”微信公众号，第一时间获取预警信息和避险知识。", "sponsor"),
    ("关注公众号“硬核拆机坊”，回复“键盘”领取2024键盘选购清单", "sponsor"),
    ("欢迎读者就此话题发表看法，来稿请通过本报客户端“评论投稿”栏目提交。", "sponsor"),
    ("【站内话题】你遇到过最离谱的送达时间是多少？欢迎在评论区聊聊。", "sponsor"),
    ("温馨提示：非遗技艺体验每日10:00、15:00各一场，每场限40人，请通过本馆微信公众号“枫亭文化馆”提前预约。", "sponsor"),
    ("转自：桐湾日报 2024年6月5日第2版", "credit"),
    ("（转载请注明出处，侵删）", "credit"),
    ("市民可关注“鹤川应急”微信公众号查询避难场所位置。", None),  # the article's own pointer
    ("欢迎大家积极参与本次活动。", None),
])
def test_batch_72_75_follow_calls_reader_calls_and_repost_notes_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


def test_a_title_loses_a_column_then_a_site_and_a_forum_board_tag():
    from builder.stages.corpus.extract import tidy_title

    assert tidy_title("第五届枫亭非遗展演周开幕 23个项目集中亮相-新闻动态-枫亭市文化馆") == "第五届枫亭非遗展演周开幕 23个项目集中亮相"
    assert tidy_title("[本地新闻] 盼了六年！白沙河大桥今天正式通车") == "盼了六年！白沙河大桥今天正式通车"


@pytest.mark.parametrize("line,family", [
    ("“青言”是澈大青年的评论栏目，欢迎同学们投稿发声。", "sponsor"),
    ("【小满信箱】每周三更新，来信请发送至 xinxiang@xiaoman.example，我们会隐去个人信息后选登。", "sponsor"),
    ("【风险提示】本文观点仅供参考，不构成任何投资建议，投资者据此操作，风险自担。", "sponsor"),
    ("【延伸阅读】今年前三季度我省新改建农村公路4200公里", "sponsor"),
    ("“双减”是教育部的重要政策，各校要积极参与落实。", None),
])
def test_batch_76_79_column_notes_and_labelled_notices_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


def test_a_commentator_byline_before_the_headline_leaves_the_title_and_marks_the_author():
    from builder.stages.corpus.extract import read_html

    page = (f"<html><head><title>本网评论员：信息披露“挤牙膏”，伤的是市场信任_鼎闻证券网</title></head><body><div class='art'>"
            f"<h1>本网评论员：信息披露“挤牙膏”，伤的是市场信任</h1><p>{P1}</p><p>{P2}</p><p>{P3}</p></div></body></html>")
    raw = read_html(page.encode("utf-8"))[0]
    assert raw.title == "信息披露“挤牙膏”，伤的是市场信任" and raw.author == "本网评论员"


@pytest.mark.parametrize("line,family", [
    ("按：这封信是上周收到的，征得写信人同意后略作删节发出。", "editor_note"),
    ("（来信有删节）", "editor_note"),
    ("欢迎关注我的微信公众号“坳上的灯”，有乡村教育方面的困惑，也可以给我写信。", "sponsor"),
    ("您好，欢迎访问国家税务总局岚川市税务局网站！", "sponsor"),
    ("图为签约仪式现场。集团党群工作部 供图", "photo"),
    ("按照规定，本市将于下月起实施新标准。", None),
    ("欢迎来到这座城市的人，都会被它的夜景吸引。", None),
])
def test_batch_80_83_notes_greetings_and_captions_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("line,family", [
    ("想领养的朋友，后台回复“领养”即可获取最新待领养名单。", "sponsor"),
    ("【爱心通道】救助站每月医疗支出超过2万元，如您愿意支持，可点击页面右侧“我要捐助”。", "sponsor"),
    ("会议现场。市气象局办公室 供图", "photo"),
    ("（来信人信息已作隐私处理）", "editor_note"),
    ("Powered by Discuz! X3.4", "credit"),
    ("柘原融媒讯（记者 欧阳烨 通讯员 范小雨）", "credit"),
    ("▶ 花灯节期间，凭外地身份证可免费游览沙湾古镇非遗馆，详情请咨询旅游服务热线0746-12301。", "sponsor"),
    ("游客凭外地身份证可免费游览非遗馆，详情可拨打旅游服务热线0746-12301咨询。", None),
    ("如您愿意支持孩子们的梦想，可以和我们一起去山里看看。", None),
    ("救助站每月医疗支出超过2万元，其中大部分用于绝育手术。", None),
])
def test_batch_84_87_reply_calls_appeals_captions_and_footers_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("line,family", [
    ("想跟老齐一起骑？本月“入门骑”报名已开启，名额30人，先到先得。", "sponsor"),
    ("想第一时间获取茶叶行情？关注协会微信公众号“岚峰茶讯”，每周一发布鲜叶价格周报。", "sponsor"),
    ("【听众热线】对办税服务有意见建议，欢迎留言或拨打节目热线参与讨论。", "sponsor"),
    ("【温馨提示】本社从未委托任何中介机构代办贷款，凡以“包办贷款”为由收取费用的均属诈骗，请广大客户提高警惕。", "sponsor"),
    ("本账号常年接收退役军人来信，来信请发至邮箱tlty@example.cn，我们将择要刊登并答复。", "sponsor"),
    ("本报道音频版已在11月19日《早安棠溪》节目中播出，欢迎在“棠溪广播”APP收听回放。", "sponsor"),
    ("欢迎拨打本台新闻热线2216968，说说您身边的出行难题。", "sponsor"),
    ("收听提示：节目中提到的操作截图已整理在下方，可边听边看。", "credit"),
    ("（本台评论员　卢成蹊）", "credit"),
    ("（来信人信息已征得本人同意公开）", "editor_note"),
    ("注：本文数据均来自墨穹文学网，统计时间为2024年1月1日至12月31日。", "editor_note"),
    ("想让老人出门更方便？社区的做法是把服务站开到楼下。", None),
    ("居民可在“棠溪办事”小程序预约窗口，节省排队时间。", None),
    ("他从未委托任何人代办过手续，全是自己一趟趟跑下来的。", None),
])
def test_batch_88_91_plugs_calls_notes_and_bylines_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("line,family", [
    ("黎秀云老师在课堂上。（学生记者 俞晓 摄）", "photo"),
    ("视频截图：谭国栋在居民家中检修插座。（本台记者 邵一帆 拍摄）", "photo"),
    ("【文创推荐】国庆限定“青岚古韵”书签礼盒已在馆内文创商店上架，点击菜单栏“文创小铺”也可线上下单。", "sponsor"),
    ("【相关报道】桂巷小区加装电梯“卡壳”，17户同意1户反对怎么办？", "sponsor"),
    ("有民生难题？拨打《民生面对面》热线5106 8890，或在禾阳新闻APP“我要爆料”栏目留言。", "sponsor"),
    ("遇到电信诈骗怎么办？民警提醒，第一时间拨打110报警，并保存好转账记录。", None),
])
def test_batch_92_95_captions_labelled_links_and_programme_calls_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("line,family", [
    ("温馨提示：关注“澄州水务”微信公众号，水费查询、故障报修、过户申请均可在线办理。", "sponsor"),
    ("欢迎来信：有烦心事、新鲜事，请发邮件至ljgc_laixin@ljtv.example，或拨打栏目热线2236188。", "sponsor"),
    ("想签约家庭医生？请就近到所在社区卫生服务站咨询，或拨打中心签约服务电话 8865 2309。", "sponsor"),
    ("下载鹭汀晚报APP，订阅“出行”频道，第一时间获取公交地铁调整信息。", "sponsor"),
    ("关键词：耐盐碱　大豆　测产　东沙基地", "sponsor"),
    ("→ 本次活动所用手套与长柄夹由岩雀户外提供。想参加下一期“无痕山野”，可在公众号后台回复“清山”报名。", "sponsor"),
    ("▲有消费纠纷？点击页面顶部“在线投诉”，足不出户提交投诉材料。", "sponsor"),
    ("（回复人：本台评论员 苗一帆）", "credit"),
    ("本文内容经闻静宜医生审阅。", "credit"),
    ("今天是：2024年7月12日 星期五", "credit"),
    ("市民可下载国家反诈中心App，开启来电预警功能，遇到可疑电话及时挂断。", None),
    ("关键是要把好事办好，让群众真正得实惠。", None),
])
def test_batch_96_99_tags_app_plugs_service_calls_and_signers_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


@pytest.mark.parametrize("line,family", [
    ("▲凌晨五点，志愿者在3号补给站分装饮用水。摄影｜阿凯", "photo"),
    ("曾铁军（左）在实训车间指导学生进行仰焊操作。 宣传部 韩露 摄", "photo"),
    ("（机手们在地头树荫下匆匆吃午饭。邬春燕 摄）", "photo"),
    ("本文指导专家：宋启航，泷州市第一人民医院心内科主任医师", "credit"),
    ("本期对谈经嘉宾审阅，文字有删节。", "credit"),
    ("位置：首页 » 新闻动态 » 数据发布", "breadcrumb"),
    ("（本文仅用于健康科普，不能代替医生面诊。如有不适请及时就医。）", "sponsor"),
    ("想读到更多对谈？留下邮箱，每期更新第一时间送达。", "sponsor"),
    ("延伸阅读：《托管服务第五年，我们算了一笔账》，点击博文目录即可查看。", "sponsor"),
    ("【温馨提示】出行前可拨打集团24小时客服热线400-871-2212查询路况。", "sponsor"),
    ("▼ 7月至8月，植物园将推出“夜游温室”自然导赏活动，每周五、周六晚开放，报名方式请留意下期推送。", "sponsor"),
    ("【身边榜样】第23期", "sponsor"),
    ("曾铁军说，焊工这门手艺，靠的是一遍遍地练。", None),
    ("专家提醒，出现胸痛应及时就医，不能代替的是专业诊断。", None),
])
def test_batch_100_107_captions_credits_caveats_and_plugs_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


def test_a_profile_card_under_an_interview_cuts_the_tail():
    card = "人物档案：黎秀云，1976年生，中学高级教师，1999年起在我校任教，现任语文教研组组长。"
    out, removed = clean("\n".join([P1, P2, P3, card]))
    assert out == "\n".join([P1, P2, P3]) and removed[0][0] == "tail"


def test_a_bracketed_author_bio_cuts_the_tail():
    out, removed = clean("\n".join([P1, P2, P3, "【作者简介】柯雨萱，南屿舞蹈学院舞蹈学专业2022级学生，校新闻中心学生记者。"]))
    assert out == "\n".join([P1, P2, P3]) and removed[0][0] == "tail"


@pytest.mark.parametrize("title,want", [
    ("宁川城投集团与三家单位签署云皋片区综合开发合作协议-集团要闻-宁川城市建设投资集团有限公司", "宁川城投集团与三家单位签署云皋片区综合开发合作协议"),
    ("我宫学员在全省青少年科技创新大赛中获得4个一等奖-青梧市少年宫", "我宫学员在全省青少年科技创新大赛中获得4个一等奖"),
    ("开演前的九十分钟 - 剧院故事", "开演前的九十分钟"),
    ("弈林俱乐部代表队夺得第五届“枫江杯”象棋团体赛冠军-枫溪市弈林象棋俱乐部", "弈林俱乐部代表队夺得第五届“枫江杯”象棋团体赛冠军"),
    ("汛期气象服务工作部署会召开-青岚市气象局", "汛期气象服务工作部署会召开"),
    ("中国-东盟博览会开幕", "中国-东盟博览会开幕"),
    ("COVID-19疫苗接种点开放", "COVID-19疫苗接种点开放"),
])
def test_a_title_loses_an_institution_or_a_column_after_a_hyphen(title, want):
    from builder.stages.corpus.extract import tidy_title

    assert tidy_title(title) == want


@pytest.mark.parametrize("line,family", [
    ("“市民办理业务后，记得把回执单收好备查。”", None),  # a quote of its own, printed nowhere else: the article's
    ("本文刊发于《新经济观察》2024年第21期，原标题为《顾屿川：一颗螺丝一颗螺丝地拧》。", "source"),
    ("本文刊载于《城与行》2025年第5期，转载请联系本刊获得授权。", "source"),
    ("（本文根据节目录音整理，有删节。文字整理：刘畅）", "source"),
    ("（本文由瑞州市燃气行业协会安全技术委员会供稿，欢迎各会员单位、社区转发宣传。）", "source"),
    ("Metro customer service 地铁客服热线：0766-96200 (Chinese & English, 6:00–23:00)", "hotline"),
    ("（视频截图）韦小棠在杉木坪村检查蜂箱", "photo"),
    ("IMG_20250219_0931.jpg", "forum"),
    ("注册时间：2016-4-2", "forum"),
    ("市民可拨打12345政务服务便民热线咨询，工作日上午9时至下午5时有专人接听。", None),  # a sentence: the article's
])
def test_batch_108_111_notes_hotlines_captions_and_forum_fields_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


def test_a_pull_quote_is_layout_where_the_text_prints_the_sentence_too():
    quote = "“一个场景吃透了，客户不会轻易换。”"
    said = "顾屿川说，做工业机器人要耐得住慢，一个场景吃透了，客户不会轻易换。这是他这些年最深的体会。"
    out, removed = clean("\n".join([P1, said, quote, P2, P3]))
    assert out == "\n".join([P1, said, P2, P3]) and removed == [("pull_quote", quote)]


@pytest.mark.parametrize("line", ["想第一时间获取鹭城名企校招信息？打开鹭鸣新闻APP，搜索“校招直通车”即可订阅。",
                                  "订阅本刊：全国各地邮局均可订阅，邮发代号88-316，每期定价25元。",
                                  "——以上仅为个人办理经历，政策如有调整请以榕溪市人社局公布为准。"])
def test_batch_108_111_plugs_and_caveats_under_the_article_are_furniture(line):
    out, removed = clean("\n".join([P1, P2, P3, line]))
    assert out == "\n".join([P1, P2, P3]) and [l for _, l in removed] == [line]


def test_a_closing_sentence_naming_a_service_number_without_a_colon_stays():
    # blind batch 111: once the note under it went, the guide's last paragraph stood at the edge, and 客服电话 took it
    last = ("燃气安全无小事。协会提醒，居民应积极配合燃气企业开展的入户安全检查，如有疑问可拨打所属燃气公司客服电话核实身份，"
            "谨防有人冒充上门推销高价配件。")
    out, removed = clean("\n".join([P1, P2, P3, last, "（本文由瑞州市燃气行业协会安全技术委员会供稿，欢迎各会员单位、社区转发宣传。）"]))
    assert out == "\n".join([P1, P2, P3, last]) and [f for f, _ in removed] == ["source"]


def test_an_unquoted_pull_quote_and_a_caption_with_a_place_in_the_picture_are_layout():
    said = "问题的根子在于快充协议各自为战。接口统一了，协议却没统一，消费者依然被锁在一个个“充电孤岛”里。"
    quote = "接口统一了，协议却没统一，消费者依然被锁在一个个“充电孤岛”里。"
    out, removed = clean("\n".join([P1, said, quote, P2, P3]))
    assert out == "\n".join([P1, said, P2, P3]) and removed == [("pull_quote", quote)]
    assert family_inside("节目录制现场，冯立言（右）向观众展示老年人一日膳食搭配。") == "photo"


@pytest.mark.parametrize("line,family", [
    ("想看完整报道？锁定临州新闻综合频道，每晚22:00《新闻夜航》与您不见不散。", "programme"),
    ("《健康沅州》每周六19:30在沅州新闻综合频道播出，次日12:10重播。", "programme"),
    ("（本文仅为普法科普，不构成对具体案件的法律意见。）", "sponsor"),
    ("节目播出后，不少观众打来电话询问报名方式，栏目组已将相关信息转交社区。", None),
])
def test_batch_116_119_programme_plugs_and_bracketed_caveats_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


def test_a_letters_address_under_a_column_is_furniture():
    line = "来信地址：岚州市农科路9号《沃野乡声》杂志社“农事问答”栏目（邮编410125）"
    out, removed = clean("\n".join([P1, P2, P3, line]))
    assert out == "\n".join([P1, P2, P3]) and [l for _, l in removed] == [line]


@pytest.mark.parametrize("line,family", [
    ("每周五，我们讲一个普通教师的故事。这一期的主人公，在乡村小学的土操场上，带着孩子们跳了十年绳。", "programme"),
    ("有新闻线索？请拨打鹤源融媒新闻热线0736-5821110，或在“鹤源融媒”APP“爆料”栏目留言，一经采用即付薄酬。", "hotline"),
    ("（本指南信息截至2024年6月25日，如遇调整，以各馆最新公告为准。）", "sponsor"),
    ("【预约咨询】协会每周二、周四下午提供个人出版免费咨询，预约电话：0791-86328816。", "sponsor"),
    ("本页内容对您有帮助吗？ Was this page helpful?", "sponsor"),
    ("每周五下午，社区志愿者都会上门为独居老人测量血压。", None),
])
def test_batch_120_123_column_blurbs_tip_calls_and_guide_caveats_are_furniture_anywhere(line, family):
    assert family_inside(line) == family


def test_a_profile_box_is_its_label_and_the_line_under_it_and_no_more():
    bio = "宋知遥，纪录片导演，1983年生，毕业于北方电影学院导演系，代表作有《山路弯弯》《守窑人》等。"
    turn = "主持人：为什么会选择古戏台这样一个相对冷门的题材？"
    out, removed = clean("\n".join([P1, "本期嘉宾", bio, turn, P2, P3]))
    assert out == "\n".join([P1, turn, P2, P3]) and removed == [("bio", "本期嘉宾"), ("bio", bio)]


def test_a_pull_quote_may_close_a_sentence_the_text_goes_on_with():
    said = "老师们也很容易分辨出背诵模板的回答。与其花钱上冲刺班，不如好好读几本书，认真想一想自己为什么喜欢这个专业。"
    quote = "“与其花钱上冲刺班，不如好好读几本书。”"
    out, removed = clean("\n".join([P1, said, quote, P2, P3]))
    assert out == "\n".join([P1, said, P2, P3]) and removed == [("pull_quote", quote)]


def test_comments_under_their_like_counts_and_a_board_footer_are_cut():
    # blind batch 132: trafilatura kept the hot comments (text, then 368赞) under a commentary whose markers it dropped
    # the count opens the tail: the comments after it go; the first comment, a sentence above it, stays (a known limit:
    # a count right under an article must not take the article's last paragraph)
    first = "我们小区那辆白色面包车停了四年，轮胎都瘪了，物业说没权限拖。"
    out, removed = clean("\n".join([P1, P2, P3, first, "368赞", "关键是认定标准，不然谁都怕担责任。", "201赞"]))
    assert out == "\n".join([P1, P2, P3, first]) and len(removed) == 3
    assert family_inside("GMT+8, 2025-3-2 21:14 , Processed in 0.0412 second(s), 18 queries .") == "forum"
