"""Site furniture of Chinese media pages and reposts, removed where it sits.

The rules live in ``boilerplate_rules.toml``, by family (credit, source, repost, dateline, photo, copyright,
comments, nav, prompt, contact, disclaimer, ads, tail). Where a family may act is part of the rule:

- ``line`` families remove a short line that *is* furniture (an editor credit, a 来源 line, a breadcrumb),
  matched from the line start, wherever it stands;
- ``edge`` families remove prompts, contact and disclaimer lines only in the leading block (before the first
  body line) or the trailing block (after the last body line), so a body sentence that mentions 朋友圈 or
  二维码 is never touched;
- ``tail`` markers (相关新闻, 网友评论仅供参考, 推荐阅读 …) cut the rest of the page after the body;
- ``link_list``: list items and headline-like lines in the leading/trailing blocks (related-headline lists).

Each removed line is reported with its family, so the cleaner counts and the bench scores each family.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import tomllib

RULES_FILE = Path(__file__).with_name("boilerplate_rules.toml")
MAX_EXTRA_LINE = 90  # user-supplied patterns (boilerplate_extra) act on lines up to this long, anywhere

_LIST_MARK = re.compile(r"^(?:[-–—•·*]\s*)+")
_LIST_CHARS = "-–—•·*"


def _unlisted(s: str) -> str:
    """``s`` without a leading list mark (- • · *)."""
    return _LIST_MARK.sub("", s) if s[:1] in _LIST_CHARS else s


def _is_headline(line: str, headline: str) -> bool:
    """A stripped line that is the headline (whitespace removed) once its own whitespace is removed."""
    return line[:1] == headline[:1] and re.sub(r"\s+", "", line) == headline
_CELL_MARKS = re.compile(r"^[|\s]+|[|\s]+$")  # a layout-table cell rendered as "| text |"
_KEYWORD_SEP = re.compile(r"[_|]")
_SENTENCE = re.compile(r"[。！？!?；;…]")
# a pull quote: a sentence of the article set apart, in quotation marks or not (“一个场景吃透了，客户不会轻易换。”,
# 接口统一了，协议却没统一，…“充电孤岛”里。); the page prints it again inside a paragraph, so the copy on a line of its own
# is layout (blind batches 109-123: 6 labelled furniture lines, 0 of 10,841 body lines; a feature's short quoted
# subheading, “爸爸，你跑慢一点！”, is shorter than 12 characters and ends no sentence of the text)
_PULL_QUOTE_END = re.compile(r"[。！？…]$")
# a profile box's label on a line of its own (本期嘉宾, 人物简介): it and the one line under it are the box (blind batches
# 111-122: 3 labels, each furniture, and the bio under each furniture too; 0 body)
_BIO_LABEL = re.compile(r"(本期嘉宾|嘉宾简介|人物简介|作者简介|个人简介|人物名片|嘉宾介绍|人物档案)\s*[:：]?")
BIO_MAX_CHARS = 150


def _pull_quote(s: str, text: str, copies: int) -> bool:
    """``s`` (a line standing ``copies`` times in ``text``) is printed again inside another line of the text."""
    core = s[1:-1] if s.startswith("“") and s.endswith("”") else s
    if not 12 <= len(core) <= 80 or not _PULL_QUOTE_END.search(core):
        return False
    core = core[:-1]  # …不如好好读几本书。 pulled from …不如好好读几本书，认真想一想…: the sentence may go on in the text
    return text.count(core) > copies  # one count per pass over the text: no line-by-line scan for each candidate


_REPOST_THEN_BODY = re.compile(r"^[（(]?\s*(?:本文)?原(?:标)?题为?\s*[:：]?\s*《[^》]{1,80}》[）)]?\s*(\S.{7,})$")
# a menu row above or below the article: three or more short words side by side (医院名 医院概况 科室导航)
_MENU_LINE = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9]{1,10}(?:[ \u3000]+(?:\|[ \u3000]+)?[\u4e00-\u9fffA-Za-z0-9]{1,6}){2,}$")
_HEADLINE_END = re.compile(r"[。！？!?；;…”」』）)]$")

# -- shape signals: what furniture looks like, whatever its words ------------------------------------------
# a row of counters (阅读 3.5万　赞 128　评论 30, 👍 2345, 赞(12), 已有 56 条评论, 点赞 326　在看 58): every part is a
# short label, a figure and a short unit; no sentence
_COUNTER_PART = r"(?:[\u4e00-\u9fffA-Za-z]{0,4}|[^\w\s]{1,2})\s*[:：(（]?\s*\d[\d.,]*\s*[万千kKwW+]?\s*[)）]?\s*[\u4e00-\u9fff]{0,3}"
_COUNTERS = re.compile(rf"^{_COUNTER_PART}(?:[\s·|｜/,，]+{_COUNTER_PART})*$")
# label：value (索引号：…, 发布机构：…, 主办单位：某法院　地址：…), one or more pairs, no sentence
_FIELD = re.compile(r"^(?:[\u4e00-\u9fff]{2,6}\s*[:：]\s*[^。！？!?：:]{1,40}?\s*){1,4}$")
# a row of short items split by | / · (About Us | Contact Us | Privacy Policy; 政府网站找错 | 适老化无障碍服务)
_SEPARATED = re.compile(r"\s*[|｜·•]\s*|\s+/\s+")
# a link that points on (>>点击查看…报价<<, 点击观看《长河》精彩片段>>): arrows and a call to act, no sentence
_ARROW_LINK = re.compile(r"^(?:>>|<<|»|«|＞＞|→)|(?:>>|<<|»|«|＞＞|→)\s*$")
_CALL = re.compile(r"点击|查看|观看|阅读|进入|了解|报名|领取|关注|添加|下载|扫码|扫一扫|订阅|加入|预约|咨询|戳")
# a whole line in brackets that asks the reader to act (（更多精彩内容请关注某某官方微博）, 【看房团报名中，添加微信…】)
_POINTER = re.compile(r"^[▶►☞👉▷➤⏩👇]|^[▼⬇]\s*\S{0,6}(下方|下图|下面|海报|卡片|链接|二维码|小程序)")  # ▼ also marks a WeChat subheading
_CALL_AT_END = re.compile(r"(立即|马上|点击|免费|在线)(咨询|购买|下载|查看|领取|报名|预约|抢购|试听|问诊)\s*[>》»]*$")
_BRACKETED = re.compile(r"^[【\[（(〔].{2,90}[】\]）)〕]$")
# an ad marker: 【广告】…, ADVERTISEMENT, 推广 alone
_AD_MARK = re.compile(r"^(?:[【\[（(]\s*(?:广告|推广|赞助|AD|Ad)\s*[】\]）)]|(?:广告|推广|ADVERTISEMENT|Advertisement|Sponsored|AD)\s*$)")
# a tagged headline (【晨报直击】中环海滨长廊夜景): a bracketed tag and a few words, no sentence end
_BRACKETED_UNIT = re.compile(r"^[（(【\[]\s*[\u4e00-\u9fffA-Za-z·、\s]{2,16}[）)】\]]$")
# a numbered subheading: 一｜新开了哪些课, 1. 提高思想认识, 二、注意事项 (never a byline's tagline or the line model's)
_NUMBERED_HEADING = re.compile(r"^([一二三四五六七八九十]{1,3}\s*[|｜、.．]|\d{1,2}\s*[|｜、.．])\s*\S")
_TAGGED_HEADLINE = re.compile(r"^[【\[][^】\]]{1,10}[】\]]\s*[^。！？!?，,；;]{2,40}$")


_CHAPTER = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?\s+[^。！？!?]{2,30}$")
_CHAPTER_HEADING = re.compile(r"^(本期|节目|视频|播客)?(时间轴|章节|分章)\s*[:：]?$")


_CN_PART = re.compile(r"^([一二三四五六七八九十])、")
_CN_NUMERALS = "一二三四五六七八九十"


def _numbering_goes_on(idx: list[int], n: int, strip: dict[int, str]) -> bool:
    """The article's numbered parts go on after line ``idx[n]``: the last 一、 part before it is 三、 and one of the
    next three lines opens 四、. An attachment line between a guide's third and fourth parts (附件：…合同示范文本.docx) is
    no end of the article (blind batch 145: parts 四 and 五 were cut as the page's tail)."""
    last = None
    for i in idx[:n]:
        m = _CN_PART.match(strip[i])
        if m:
            last = _CN_NUMERALS.index(m.group(1))
    if last is None or last + 1 >= len(_CN_NUMERALS):
        return False
    return any(strip[i].startswith(_CN_NUMERALS[last + 1] + "、") for i in idx[n + 1:n + 4])


def _chapter_marks(idx: list[int], strip: dict[int, str]) -> dict[int, str]:
    """A podcast's or video's chapter list (时间轴 / 02:15 从辞职到开店 / 14:40 …): three or more timestamped lines in
    a row, rising, under a 时间轴 or 章节 heading. An event's schedule (08:00 签到, 09:00 开幕式), race results
    (31:25 张三) and an incident's timeline (时间线 / 14:05 列车驶出站台) are the article's own."""
    out: dict[int, str] = {}
    run: list[int] = []
    for n, i in enumerate(idx + [None]):
        m = _CHAPTER.match(strip[i]) if i is not None else None
        if m:
            run.append(n)
            continue
        if len(run) >= 3:
            heading = run[0] > 0 and bool(_CHAPTER_HEADING.match(strip[idx[run[0] - 1]]))
            marks = [tuple(map(int, _CHAPTER.match(strip[idx[k]]).group(1, 2))) for k in run]
            if heading and marks == sorted(marks):
                for k in run:
                    out[idx[k]] = "chapters"
                out[idx[run[0] - 1]] = "chapters"
        run = []
    return out


_ABOUT = re.compile(r"^关于\s*([\u4e00-\u9fffA-Za-z]{2,16})\s*$")
_COMPANY_FACTS = re.compile(r"(创立|成立|创办|始创)于|是一家|总部(位于|设在)")
# the rules and dashes a WeChat editor sets around a block's heading: — 往期推荐 —, · 专家名片 ·, ——全文完——
_DECOR = re.compile(r"^[—\-–·•=~*#▍▎▌■□◆◇●○◎▶►▼▽▲△\s]+|[—\-–·•=~*#▍▎▌■□◆◇●○◎▶►▼▽▲△\s]+$")
# a comment's like count on a line of its own (368赞), under the comment it counts (blind batch 132: comments and
# their counts after a commentary reached its answers; on the labelled lines to batch 135: 3 furniture, 0 body)
_LIKE_COUNT = re.compile(r"\d+(?:\.\d+)?万?\s*(?:赞|点赞|喜欢|在看)")
_REACTION = re.compile(r"回复|评论|留言|跟帖|点赞|赞同|转发|收藏|浏览|阅读")


def is_reaction_count(s: str) -> bool:
    """A count of readers' reactions (88条回复, 评论 123): after enough body it opens the comments, like 相关新闻."""
    return len(s) <= 24 and bool(_REACTION.search(s)) and is_counter_line(s)


_DATE_PARTS = re.compile(r"\d+\s*[年月日号时点分]|\d{1,2}[:：]\d{2}")


def is_symbol_heavy(s: str) -> bool:
    """Tickers, tags and codes rather than text ($某某(SZ000999)$, #话题#): 40% or more ASCII letters, digits and
    marks, no sentence. The figures of a Chinese date or time are text (2025年7月2日, 报告时间：11月7日下午15:00—16:30)."""
    if len(s) < 6 or _SENTENCE.search(s) or _SIGNED_DATE.match(s):
        return False
    rest = _DATE_PARTS.sub("", s).replace(" ", "")
    return sum(1 for ch in rest if ch.isascii()) >= 0.4 * len(s.replace(" ", ""))


def is_counter_line(s: str) -> bool:
    return len(s) <= 40 and bool(re.search(r"\d", s)) and bool(_COUNTERS.match(s))


def is_field_line(s: str, pairs: int = 1) -> bool:
    """label：value cells (a page's information table), not a sentence; an empty value (各学校：) is a salutation.
    ``pairs``: how many label：value pairs the line needs (one pair above an article may be the story's own
    时间：昨日上午8时许; two side by side, or table cells, are the page's)."""
    cells = [c for c in _CELL_MARKS.sub("", s).split(" | ") if c.strip()]
    if not cells or len(s) > 90 or not all(_FIELD.match(c.strip()) for c in cells):
        return False
    return len(cells) >= pairs or len(re.findall(r"[:：]", s)) >= pairs


def is_separated_row(s: str, min_items: int = 3) -> bool:
    """Short items split by | · / (a footer menu), no sentence and no figure column (a table row keeps those)."""
    if _SENTENCE.search(s) or "，" in s:
        return False
    parts = [p for p in _SEPARATED.split(s) if p.strip()]
    return len(parts) >= min_items and all(len(p) <= 16 for p in parts) and not any(_FIGURE.match(p.strip()) for p in parts)


_DATETIME = re.compile(r"(19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*\d{1,2}[:：]\d{2}")
_SIGNED_DATE = re.compile(r"^(19|20)\d{2}年\d{1,2}月\d{1,2}日$")
_EDGE_COPYRIGHT = re.compile(r"版权所有|不得转载|禁止转载|严禁转载|保留所有权利|[Aa]ll [Rr]ights [Rr]eserved")


def shape_family(s: str) -> str | None:
    """Furniture by its shape, for lines in the leading or trailing block only: a row of counters, label：value
    cells, a row of short items split by separators, a copyright notice."""
    if is_counter_line(s):
        return "counters"
    if is_field_line(s, pairs=2):
        return "fields"
    if is_separated_row(s):
        return "nav"
    if is_symbol_heavy(s):
        return "nav"
    if len(s) <= 60 and _DATETIME.search(s) and not _SENTENCE.search(s):
        return "dateline"  # a meta line with a date and time (编辑于 2025-03-02 21:14・IP 属地上海, 本帖最后由…于…编辑)
    if len(s) <= 60 and _EDGE_COPYRIGHT.search(s) and s.count("。") <= 1:
        return "copyright"
    return None


_REACTION_WORDS = re.compile(r"条评论|个评论|人赞同|赞同|评论|分享|收藏|喜欢|举报|回复|转发|点赞|在看|阅读全文|阅读|赞|踩|浏览|关注")
# what else a reaction bar holds: marks, counts, and when the comment was posted (1小时前 · 回复 · 赞 58)
_REACTION_REST = re.compile(r"[\s▲▼△▽👍👎💬⭐·•|｜/,，()（）\[\]【】:：+]|\d+\s*(秒|分钟|小时|天|周|个月)前|刚刚|昨天|前天|"
                            r"\d{1,2}月\d{1,2}日|\d{1,2}[:：]\d{2}|\d[\d,.]*\s*[万千kKwW]?")


def is_reaction_bar(s: str) -> bool:
    """A bar of reader reactions and their counts (▲ 赞同 2316 ▼ 328 条评论 分享 收藏 喜欢 举报; 阅读全文 · 赞同 892 ·
    143 条评论): two or more reaction words and nothing else but counts, arrows and separators."""
    if len(s) > 80:
        return False
    words = _REACTION_WORDS.findall(s)
    return len(words) >= 2 and not _REACTION_REST.sub("", _REACTION_WORDS.sub("", s))


_META_SEP = re.compile(r"\s*[·•|｜]\s*")
_POSTED = re.compile(r"^(\d+\s*(秒|分钟|小时|天|周|个月)前|刚刚|昨天|前天|((19|20)\d{2}[-/.])?\d{1,2}[-/.]\d{1,2}(\s+\d{1,2}[:：]\d{2})?|"
                     r"\d{1,2}月\d{1,2}日(\s*\d{1,2}[:：]\d{2})?|\d{1,2}[:：]\d{2})$")
_REACTED = re.compile(r"^(顶|踩|赞|点赞|回复|评论|举报|支持|反对)\s*[（(]?\d*[）)]?$")


def is_comment_meta(s: str) -> bool:
    """The meta line of a reader's comment: its parts split by · or |, one of them when it was posted
    (11-06 15:02, 3小时前) and one a reaction with its count (顶 268, 回复), the rest short labels
    (玩点网友, IP属地浙江) with no sentence: 玩点网友 · 11-06 15:02 · 顶 268."""
    if len(s) > 60 or _SENTENCE.search(s):
        return False
    parts = [p for p in _META_SEP.split(s) if p]
    if len(parts) < 3:
        return False
    posted = sum(bool(_POSTED.match(p)) for p in parts)
    reacted = sum(bool(_REACTED.match(p)) for p in parts)
    return posted == 1 and reacted >= 1 and all(len(p) <= 12 for p in parts)


def _commenter_above(idx: list[int], n: int, strip: dict[int, str], i: int) -> int:
    """The line that opens a reader's comment ending in the reaction bar at ``idx[n]`` (== i): a short name with no
    punctuation (鲸鱼不睡觉) and at most one non-sentence comment line between it and the bar; else the bar itself."""
    for back in (2, 1):
        if n - back < 0:
            continue
        top = strip[idx[n - back]]
        between = [strip[idx[k]] for k in range(n - back + 1, n)]
        if (len(top) <= 12 and not re.search(r"[\W_]", top.replace(" ", ""), re.UNICODE)
                and all(len(x) <= 60 and not is_prose(x) for x in between)):
            return idx[n - back]
    return i


# what a short bracketed call is made of besides its call words: adverbs and the things it points at
_CALL_FILL = re.compile(r"立即|马上|免费|在线|一键|快来|欢迎|请|更多|详情|全文|原文|我们|本号|公众号|微信|官微|客户端|APP|App|二维码|这里")


_LABEL_NOUN = re.compile(r"(内容|解答|须知|方式|时间|地点|条件|流程|对象|要求|说明|问题|回复|答复|结果|范围|材料|事项)$")


def is_bracketed_label(s: str) -> bool:
    """A bracketed section label (【咨询内容】, 【报名须知】): a few characters ending in a label noun once the call
    words, adverbs and their objects are taken out; 【点击关注】 and 【扫码关注我们】 leave nothing, 【关注上海发布】 and
    【预约看房】 leave no label noun: calls."""
    inner = s[1:-1].strip()
    if len(inner) > 8 or not re.fullmatch(r"[\u4e00-\u9fff]+", inner):
        return False
    rest = _CALL_FILL.sub("", _CALL.sub("", inner))
    return len(rest) >= 2 and bool(_LABEL_NOUN.search(rest))


def promo_family(s: str) -> str | None:
    """In-body promotion by its shape, wherever it stands: an ad marker, an arrow link that asks to act, a
    whole bracketed line that asks to act. A sentence in brackets that asks nothing ((文中受访者均为化名)) stays."""
    if len(s) > 100:
        return None
    if is_reaction_bar(s):
        return "counters"
    if _AD_MARK.match(s):
        return "ads"
    if _ARROW_LINK.search(s) and _CALL.search(s) and "。" not in s:
        return "prompt"
    if _BRACKETED.match(s) and _CALL.search(s) and s.count("。") <= 1 and not is_bracketed_label(s):
        return "prompt"
    if "。" not in s and (_POINTER.match(s) and _CALL.search(s) or _CALL_AT_END.search(s)):
        return "prompt"  # ▶ 问医生：…？立即咨询; a line that ends on a button (…立即咨询, …马上领取)
    return None


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regex (``a|b(c|d)`` → ``a``, ``b(c|d)``): escapes, classes and groups skipped."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":  # a class: a ] right after [ or [^ is a member, not the end
            i = pattern.index("]", i + (3 if pattern[i + 1] == "^" else 2)) + 1
            continue
        depth += (c == "(") - (c == ")")
        if c == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    return out + [pattern[start:]]


class _Family:
    """A family's patterns for an unanchored search: the anchored ones (every alternative opens with ``^``) as one
    alternation tried at the line's start, each other one searched alone. One alternation of all of them is searched
    at every position of the line with every alternative, and loses the literal-prefix scan a pattern such as
    ``转载请(注明|联系)`` gets alone: the disclaimer family took 54 µs per body line that way, 13 µs split.
    ``requires``: words one of which every pattern needs (the rules file's ``requires``): a line with none of them
    skips the patterns."""

    def __init__(self, patterns: list[str], requires: str | None = None):
        anchored = [p for p in patterns if all(alt.startswith("^") for alt in _alternatives(p))]
        self.anchored = re.compile("|".join(f"(?:{p})" for p in anchored)) if anchored else None
        self.others = [re.compile(p) for p in patterns if p not in anchored]
        self.requires = re.compile(requires) if requires else None
        self.pattern = "|".join(f"(?:{p})" for p in patterns)

    def search(self, s: str) -> re.Match | None:
        if self.requires is not None and not self.requires.search(s):
            return None
        m = self.anchored.match(s) if self.anchored is not None else None
        return m or next((m for p in self.others if (m := p.search(s))), None)

    def match(self, s: str) -> re.Match | None:
        if self.requires is not None and not self.requires.search(s):
            return None
        m = self.anchored.match(s) if self.anchored is not None else None
        return m or next((m for p in self.others if (m := p.match(s))), None)


class _LengthTiers:
    """Rules ``(family, pattern, max_len)`` grouped by the line lengths they admit: for a line of n characters, the
    rules whose max_len may be at least n, in their file order, and one alternation of their patterns that says
    whether any of them can match; which family matches is still decided rule by rule (and by each max_len), in
    order. Lines up to ``floor`` characters share one tier of every rule: each tier is a regex compiled in every
    worker, and eight tiers took 0.25 s there, three times the one alternation of them all."""

    def __init__(self, rules: list[tuple[str, Any, int]], floor: int = 80):
        self.limits = sorted({max(max_len, floor) for _, _, max_len in rules})
        self.tiers = []
        for limit in self.limits:
            admitted = [rule for rule in rules if max(rule[2], floor) >= limit]
            self.tiers.append((admitted, re.compile("|".join(f"(?:{p.pattern})" for _, p, _ in admitted))))

    def of(self, n: int) -> tuple[list, re.Pattern | None]:
        k = bisect.bisect_left(self.limits, n)
        return self.tiers[k] if k < len(self.tiers) else ([], None)


@lru_cache(maxsize=4)
def load_rules(path: str = str(RULES_FILE)) -> dict:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    rules = {"line": [], "edge": [], "tail": None, "min_body_chars": 200}
    for family, spec in data.items():
        if spec["where"] == "line" and not spec.get("requires"):  # matched at the line start, through _LengthTiers
            pattern = re.compile("|".join(f"(?:{p})" for p in spec["patterns"]))
        else:
            pattern = _Family(spec["patterns"], spec.get("requires"))
        if spec["where"] == "tail":
            rules["tail"] = pattern
            rules["min_body_chars"] = int(spec.get("min_body_chars", 200))
        else:
            rules[spec["where"]].append((family, pattern, int(spec.get("max_len", 80))))
    return rules


def is_keyword_line(line: str) -> bool:
    """An SEO keyword string (今日股市行情_明日大盘_今日股市_…, 20190926|国贸|增长率): three or more ``_``/``|``
    separators and no sentence end."""
    return len(_KEYWORD_SEP.findall(line)) >= 3 and not re.search(r"[。！？!?]", line)


_TABLE_SEP = " | "
_FIGURE = re.compile(r"^[-+]?\d[\d,]*(\.\d+)?%?$")


def table_rows(strip: dict[int, str]) -> set[int]:
    """Lines of a table kept as rows (a PDF table: cells joined with " | "): two or more consecutive lines
    with the same number of cells, one cell at least a figure. A site menu (关于我们 | 联系我们 | …) has no
    figures and stands alone."""
    out: set[int] = set()
    run: list[int] = []
    for i in [*sorted(strip), None]:
        cells = strip[i].count(_TABLE_SEP) + 1 if i is not None and _TABLE_SEP in strip[i] else 0
        if run and (not cells or cells != strip[run[-1]].count(_TABLE_SEP) + 1 or i != run[-1] + 1):
            if len(run) >= 2 and any(_FIGURE.match(c.strip()) for j in run for c in strip[j].split(_TABLE_SEP)):
                out.update(run)
            run = []
        if cells:
            run.append(i)
    return out


_LINK_LABEL = re.compile(r"^[\u4e00-\u9fffA-Za-z]{1,8}\s*[:：]\s*")  # 上一篇：, 相关阅读：, 标签：
_LINK_PARTS = re.compile(r"\s*[|｜·•/]\s*|\s{2,}|\u3000+|\s+(?=\S)")
LINK_MIN_CHARS = 6  # a shorter line that is a link's text is removed only above or below the article


def link_form(line: str, anchors: frozenset[str]) -> str | None:
    """The compare form of ``line`` when the line is the text of a link of its page (``anchors``, in compare
    form: ``builder.stages.corpus.extract.page_anchors``): the whole line, a label and one link (上一篇：…), or
    two or more links in a row (标签：A B C). None when it is not: article text is not a link's text (none of
    626 labelled body lines of our pages is; 29 of 347 furniture lines are)."""
    from .normalize import compare_form

    bare = _LIST_MARK.sub("", _CELL_MARKS.sub("", line) if line[:1] == "|" else line)
    if len(bare) > 160:
        return None
    form = compare_form(bare)
    if len(form) < 2:
        return None
    if form in anchors:
        return form
    m = _LINK_LABEL.match(bare)
    rest = bare[m.end():] if m else bare
    if m:
        f = compare_form(rest)
        if len(f) >= 2 and f in anchors:
            return form
    parts = [compare_form(x) for x in _LINK_PARTS.split(rest) if x.strip()]
    parts = [x for x in parts if x]
    if len(parts) >= 2 and all(x in anchors for x in parts):
        return form
    return None


_CAPTION_SHAPE = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9·]{2,24}。$")
_CAPTION_TAGS = {"n", "nr", "ns", "nt", "nz", "ng", "nrt", "nrfg", "f", "s", "uj", "m", "q", "b", "x"}
_NOUNS = {"n", "nr", "ns", "nt", "nz", "ng", "nrt", "nrfg", "s"}
# a longer caption also says when and where (事发次日小花在禹州光明医院的检查单。) or opens on an adjective (大涧学校。)
_CAPTION_WIDE = {"t", "a"}
_CAPTION_PLACE = {"在", "于"}


CAPTION_DICT_MIN_FREQ = 20  # jieba's words at least this frequent tag caption lines: 80k of its 349k, loaded in 0.2 s
_CAPTION_TAGGER: tuple | None = None


def _caption_tagger() -> tuple:
    """(jieba tokenizer over its 80k more frequent words, word -> part-of-speech tag of those words). Not
    ``jieba.posseg``: importing it reads the full dictionary's tags and loading the full dictionary takes 1.7 s in
    every worker, which doubled the corpus stage's time on small web corpora for a check that fires on a few photo
    pages. A word the reduced dictionary lacks (a name the HMM joins: 小花) counts as a noun. The reduced dictionary
    is written once next to jieba's own cache."""
    global _CAPTION_TAGGER
    if _CAPTION_TAGGER is None:
        import logging
        import os
        import tempfile

        import jieba

        jieba.setLogLevel(logging.WARNING)
        path = os.path.join(tempfile.gettempdir(), f"builder-jieba-{jieba.__version__}-min{CAPTION_DICT_MIN_FREQ}.txt")
        if not os.path.exists(path):
            src = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
            with open(src, encoding="utf-8") as f:
                keep = [line for line in f if len(parts := line.split()) == 3 and int(parts[1]) >= CAPTION_DICT_MIN_FREQ]
            tmp = f"{path}.{os.getpid()}"
            with open(tmp, "w", encoding="utf-8") as f:
                f.writelines(keep)
            os.replace(tmp, path)  # atomic: workers may race to write it
        tags = {}
        with open(path, encoding="utf-8") as f:
            for line in f:
                word, _, tag = line.split()
                tags[word] = tag
        tokenizer = jieba.Tokenizer(dictionary=path)
        tokenizer.initialize()
        _CAPTION_TAGGER = (tokenizer, tags)
    return _CAPTION_TAGGER


def is_caption(line: str) -> bool:
    """A photo's caption left in a web page's text as a line of its own: a bare noun phrase closed by a full stop
    (小花家。 禹州市人民医院。 小刚的作业本。): no verb, adjective, adverb or pronoun, at least one noun. A one-line
    paragraph of a feature (他笑了。 三年后。 一片寂静。) has one of those or no noun. The tagger is loaded only when
    a page has two or more lines of that shape (see ``explain``): photo pages caption every picture."""
    if not _CAPTION_SHAPE.match(line):
        return False
    tokenizer, table = _caption_tagger()
    words = [w for w in tokenizer.lcut(line[:-1]) if w.strip()]
    tags = [table.get(w, "nz" if re.fullmatch(r"[\u4e00-\u9fff]{2,}", w) else "x") for w in words]
    if not tags or not any(t in _NOUNS for t in tags):
        return False
    if all(t in _CAPTION_TAGS for t in tags):
        return len(line) <= 12
    # time words, an adjective only as the first word, 在/于 before a place: still a noun phrase if it ends on a noun
    wide = all(t in _CAPTION_TAGS or t == "t" or (t == "a" and i == 0) or (t == "p" and w in _CAPTION_PLACE)
               for i, (w, t) in enumerate(zip(words, tags)))
    return wide and tags[-1] in _NOUNS


def is_prose(line: str) -> bool:
    """A line that reads as article text: a sentence of some length, or a long line (not a keyword string)."""
    n = len(line)
    if n >= 60:
        return not is_keyword_line(line)
    return n >= 16 and bool(_SENTENCE.search(line))


def line_family(line: str) -> str | None:
    """The family that removes ``line`` wherever it stands (the ``line`` rule families and in-body promotion
    shapes), else None: the same rules as the corpus stage, for a stage that meets text cleaned by older rules."""
    return _rules_only()._line_family(line.strip())


def edge_family(line: str) -> str | None:
    """The family that would remove ``line`` above or below an article (the ``edge`` rule families, no shape
    signals), else None; for a stage that asks it of a paragraph only to refuse an item, never to cut a line."""
    return _rules_only()._edge_family(line.strip(), shapes=False)


@lru_cache(maxsize=1)
def _rules_only() -> "BoilerplateRemover":
    return BoilerplateRemover(line_model=None)


LEARNED_MAX_CHARS = 80  # the line model judges short lines only: furniture is rarely longer, paragraphs are
_ENDS_SENTENCE = re.compile(r"[。！？!?…]+[”’」』）)]*$")


@dataclass
class BoilerplateRemover:
    extra: list[str] = field(default_factory=list)
    rules_file: str = str(RULES_FILE)
    # the learned second opinion on web pages' non-prose lines (:mod:`.line_model`): "default" is the shipped
    # model, None none; a line goes when its probability reaches the threshold (1.0: never)
    line_model: Any = "default"
    line_model_threshold: float = 0.9
    # (line, where, prose) for every line of a web page, after the rules: what the line model is trained on
    on_lines: Callable[[list[tuple[str, str, bool]]], None] | None = None

    def __post_init__(self):
        if self.line_model == "default":
            from .line_model import default_model

            self.line_model = default_model()
        rules = load_rules(self.rules_file)
        self.line_rules = list(rules["line"])
        self.edge_rules = rules["edge"]
        self.tail_re = rules["tail"]
        self.min_body_chars = rules["min_body_chars"]
        self.extra_re = re.compile("|".join(f"(?:{p})" for p in self.extra)) if self.extra else None
        # "could any line family match?" in one anchored pass per line, asked only of the families whose max_len
        # admits the line: a 150-character paragraph is tried against 2 of the 16 line families, not all of them
        self.line_tiers = _LengthTiers(self.line_rules)

    @staticmethod
    def _about_block(idx: list[int], n: int, strip: dict[int, str]) -> bool:
        """关于某某 over the company's standing paragraph (某某创立于2014年…): a press release's boilerplate."""
        m = _ABOUT.match(strip[idx[n]])
        if not m or n + 1 >= len(idx):
            return False
        nxt = strip[idx[n + 1]]
        return nxt.startswith(m.group(1)[:2]) and bool(_COMPANY_FACTS.search(nxt[:60]))

    def _line_family(self, s: str) -> str | None:
        if s[:1] == "|":
            s = _CELL_MARKS.sub("", s)
        bare = _unlisted(s)
        families, any_family = self.line_tiers.of(len(bare))
        if any_family is not None and any_family.match(bare):
            for family, pattern, max_len in families:
                if len(bare) <= max_len and pattern.match(bare):
                    return family
        if self.extra_re is not None and len(s) <= MAX_EXTRA_LINE and self.extra_re.search(s):
            return "extra"
        return promo_family(bare)

    def _edge_family(self, s: str, shapes: bool = True) -> str | None:
        bare = _LIST_MARK.sub("", _CELL_MARKS.sub("", s) if s[:1] == "|" else s)
        for family, pattern, max_len in self.edge_rules:
            if len(bare) <= max_len and pattern.search(bare):
                return family
        if s[:1] in "-–—•·*" and not is_prose(bare):
            return "link_list"
        if _MENU_LINE.match(bare):
            return "nav"
        if is_keyword_line(bare):
            return "nav"
        return shape_family(bare) if shapes else None

    def explain(self, text: str, tail: bool = True, head: bool = True, link_pages: bool = False,
                shapes: bool = True, anchors: frozenset[str] | None = None, title: str | None = None) -> tuple[str, list[tuple[str, str]]]:
        """Return (cleaned text, [(family, removed line), …]). ``head``/``tail`` False: this page has no
        leading/trailing furniture of its own (a page in the middle of a document). ``link_pages``: the text is
        a web page's extraction, so a text without any prose line is a list of links or a menu, and a short line
        above the article is a menu word (a poem in a text file or 前言 heading a PDF page is neither).
        ``shapes`` False: no shape signals and no trailing sweep (a PDF page: its credits and tables are the
        book's, and its running headers have their own step). ``anchors``: the page's link texts (a web page):
        a line that is a link's text (:func:`link_form`) is furniture (``link_text``) wherever it stands when
        it has ``LINK_MIN_CHARS`` or more, above or below the article when shorter. ``title``: the document's
        headline; the text's own copy of it (extractors repeat it on top) does not open the article, so a prompt
        under it (点击上方蓝字，关注我们) is still above the article."""
        lines = text.split("\n")
        idx = [i for i, line in enumerate(lines) if line.strip()]
        fam: dict[int, str] = {}
        strip = {i: lines[i].strip() for i in idx}
        trimmed: list[tuple[str, str]] = []
        captions = link_pages and sum(1 for i in idx if _CAPTION_SHAPE.match(strip[i])) >= 2
        copies = Counter(strip.values())
        for i in idx:
            f = self._line_family(strip[i])
            if f == "repost":
                m = _REPOST_THEN_BODY.match(strip[i])
                if m:  # 原标题：《…》 run together with the first sentence: drop the header, keep the sentence
                    trimmed.append(("repost", strip[i][: m.start(1)].strip()))
                    lines[i] = strip[i] = m.group(1)
                    continue
            if f is None and captions and is_caption(strip[i]):
                f = "caption"
            if f is None and anchors:
                form = link_form(strip[i], anchors)
                if form is not None and len(form) >= LINK_MIN_CHARS:
                    f = "link_text"
            if f is None and len(strip[i]) <= 82 and _PULL_QUOTE_END.search(strip[i].rstrip("”")) \
                    and _pull_quote(strip[i], text, copies[strip[i]]):
                f = "pull_quote"
            if f is None and _BIO_LABEL.fullmatch(strip[i]):
                f = "bio"
            if f:
                fam[i] = f
        labels = [n for n, i in enumerate(idx[:-1]) if fam.get(i) == "bio"]
        for n in labels:  # the box's text on the one line after its label: 宋知遥，纪录片导演，1983年生…
            if idx[n + 1] not in fam and len(strip[idx[n + 1]]) <= BIO_MAX_CHARS:
                fam[idx[n + 1]] = "bio"
        for i, f in _chapter_marks(idx, strip).items():
            fam.setdefault(i, f)
        body = [i for i in idx if i not in fam and is_prose(_unlisted(strip[i]))]
        end = len(lines)
        if tail and self.tail_re is not None:
            for n, i in enumerate(idx):
                bare = _unlisted(strip[i])
                bar = is_reaction_bar(bare) or is_comment_meta(bare) or bool(_LIKE_COUNT.fullmatch(bare))
                undecorated = _DECOR.sub("", bare)  # — 往期推荐 —, ▍推荐阅读; ### stays itself
                if len(bare) <= 400 and (self.tail_re.match(bare) or (undecorated != bare and self.tail_re.match(undecorated))
                                         or is_reaction_count(bare) or bar or self._about_block(idx, n, strip)):
                    if bar:  # a reader's name and comment above the first comment's reaction bar go with it
                        i = _commenter_above(idx, n, strip, i)
                        n = idx.index(i)
                    before = sum(len(strip[b]) for b in body if b < i)
                    after = sum(len(strip[b]) for b in body if b > i)
                    if before >= self.min_body_chars and before >= after and not _numbering_goes_on(idx, n, strip):
                        end = i
                        for j in idx[n:]:
                            fam.setdefault(j, "tail")
                        break
        live = [i for i in idx if i < end and i not in fam]
        edge: dict[int, str | None] = {}

        def edge_of(i: int) -> str | None:
            if i not in edge:
                edge[i] = self._edge_family(strip[i], shapes)
            return edge[i]

        headline = re.sub(r"\s+", "", title) if title else None

        def is_body(i: int) -> bool:
            if headline and _is_headline(strip[i], headline):
                return False
            return is_prose(_unlisted(strip[i])) and edge_of(i) is None

        # the first and last body lines bound the leading and trailing blocks; lines between them are
        # never judged by edge rules (and not even looked at)
        lo = next((i for i in live if is_body(i)), None)
        hi = next((i for i in reversed(live) if is_body(i)), None)
        link_page = link_pages and (lo is None or lo == hi)  # a web page without article text: links or a menu
        first = lo if lo is not None and head else -1
        last = hi if hi is not None and tail else end
        # a short line that opens the text with nothing above it, not even a removed breadcrumb, and heads the
        # article's first block (收盘播报 above a digest) is a section heading, not a menu word
        above = [i for i in live if i < first]
        lone_heading = idx[0] if idx and above and above[0] == idx[0] and len(above) <= 2 else None
        table = table_rows({i: strip[i] for i in live}) if any(_TABLE_SEP in strip[i] for i in live) else set()
        for i in live:
            if not (link_page or i < first or i > last) or i in table:
                continue
            f = edge_of(i)
            if f is None and anchors and link_form(strip[i], anchors) is not None:
                f = "link_text"
            if f is None and link_page and not _HEADLINE_END.search(strip[i]) and len(strip[i]) <= 40:
                f = "link_list"
            if f is None and link_pages and i < first and i != lone_heading and len(strip[i]) <= 6 and not re.search(r"[。！？!?；;…:：]", strip[i]):
                f = "nav"  # a breadcrumb's last crumb or a menu word above the article
            if f is None and link_pages and i < first and len(strip[i]) <= 40 and is_separated_row(strip[i], 2) \
                    and not _NUMBERED_HEADING.match(strip[i]):  # 一｜新开了哪些课 is the article's first subheading
                f = "byline"  # an author's tagline above the answer or post (城市更新项目协调员 · 做过四年加装电梯)
            if f:
                fam[i] = f
        if tail and shapes and hi is not None:
            self._sweep_trailing([i for i in idx if hi < i < end and i not in table], strip, fam)
        if link_pages and shapes and not link_page and (self.on_lines is not None or self._learned()):
            # not judged: table rows, the text's copy of the headline, a short section heading opening the text
            # (收盘播报 above a digest) and a tagged headline above the article (【青川日报】…: a digest's first
            # item), label：value lines (时间：… 地点：… above a report are the story's own), numbered subheadings,
            # and a notice's signer (the office above its date: the trailing sweep keeps it too)
            keep = table | {i for i in idx if (headline and _is_headline(strip[i], headline)) or is_field_line(strip[i])
                            or (i == lone_heading and len(strip[i]) <= 8) or (i < first and _TAGGED_HEADLINE.match(strip[i]))
                            or _NUMBERED_HEADING.match(strip[i])}
            keep |= {idx[n - 1] for n, i in enumerate(idx) if n and _SIGNED_DATE.match(strip[i])}
            self._learned_pass(idx, strip, fam, keep, first, last)
        if not fam and not trimmed:
            return text.strip(), []
        kept = [line for i, line in enumerate(lines) if i not in fam]
        removed = trimmed + [(fam[i], strip[i]) for i in idx if i in fam]
        return "\n".join(kept).strip(), removed

    def _learned(self) -> bool:
        return self.line_model is not None and self.line_model_threshold < 1.0

    def _learned_pass(self, idx: list[int], strip: dict[int, str], fam: dict[int, str], keep: set[int], first: int,
                      last: int) -> None:
        """The line model's pass over what the rules kept: a short line that is not prose and does not end a
        sentence goes as ``learned`` when the model's probability reaches the threshold (:mod:`.line_model`).
        ``keep``: lines it does not judge (see :meth:`explain`)."""

        def where(i: int) -> str:
            return "lead" if i < first else "tail" if i > last else "mid"

        def prose(i: int) -> bool:
            return is_prose(_unlisted(strip[i]))

        if self.on_lines is not None:
            self.on_lines([(strip[i], where(i), prose(i)) for i in idx])
        if not self._learned():
            return
        for i in idx:
            if i in fam or i in keep or len(strip[i]) > LEARNED_MAX_CHARS or prose(i) or _ENDS_SENTENCE.search(strip[i]):
                continue  # a line that ends a sentence is the article's (开始搓搓手了！！！ closes a paragraph broken in two)
            if self.line_model.probability(strip[i], where(i), False) >= self.line_model_threshold:
                fam[i] = "learned"

    @staticmethod
    def _sweep_trailing(trailing: list[int], strip: dict[int, str], fam: dict[int, str]) -> None:
        """The trailing block is the site's once its first furniture line is found: every line after that one
        goes too (a comment under its counters, a hot list without a heading). Lines before it (a notice's
        signer and date) stay; a date that follows a kept short line is that signature, not a dateline. A
        short line right above a row of counters or a reply button is a reader's comment."""
        for n, i in enumerate(trailing):
            if fam.get(i) == "dateline" and _SIGNED_DATE.match(strip[i]) and n and trailing[n - 1] not in fam \
                    and len(strip[trailing[n - 1]]) <= 30 and not _SENTENCE.search(strip[trailing[n - 1]]):
                del fam[i]
        signer = {trailing[n - 1] for n, i in enumerate(trailing) if n and _SIGNED_DATE.match(strip[i])}
        for n, i in enumerate(trailing):
            if i in fam or i in signer or _SIGNED_DATE.match(strip[i]):
                continue
            if _BRACKETED_UNIT.match(strip[i]):  # （新闻宣传中心）（市委宣传部供稿）under the article: who sent it
                fam[i] = "source"
                continue
            after = trailing[n + 1] if n + 1 < len(trailing) else None
            if after is not None and after not in fam and _HEADLINE_END.search(strip[after]) and not _TAGGED_HEADLINE.match(strip[i]):
                continue  # a sentence broken over two lines (这么高大上的邮轮母港 / 开始搓搓手了！！！)
            if is_field_line(strip[i]):
                # a run of label：value lines is the page's (readers' 昵称：评论, 上一篇文章：…/下一篇文章：…); one
                # alone right after the article may be its own (全场比分：锦城 2-1 东江)
                if any(0 <= m < len(trailing) and is_field_line(strip[trailing[m]]) for m in (n - 1, n + 1)):
                    fam[i] = "fields"
                continue
            if _TAGGED_HEADLINE.match(strip[i]) or is_separated_row(strip[i], 2) or not _HEADLINE_END.search(strip[i]):
                # 【某某直击】一条视频的标题 under the article; 政府网站找错 | 适老化无障碍服务; a headline or a
                # reader's reply without a sentence end (an article ends on a sentence)
                fam[i] = "link_list"
        first = next((n for n, i in enumerate(trailing) if i in fam), None)
        if first is None:
            return
        for i in trailing[first + 1:]:
            fam.setdefault(i, "trailing_block")
        if first and fam[trailing[first]] in ("counters", "comments", "nav") and len(strip[trailing[first - 1]]) <= 30:
            fam.setdefault(trailing[first - 1], "comments")

    def __call__(self, text: str, tail: bool = True, head: bool = True) -> tuple[str, int, int]:
        """Return (cleaned text, lines removed by line/edge rules, lines cut with the tail)."""
        out, removed = self.explain(text, tail=tail, head=head)
        cut = sum(1 for f, _ in removed if f == "tail")
        return out, len(removed) - cut, cut
