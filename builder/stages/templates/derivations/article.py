"""The article itself: title, body, date, byline, genre, length."""

from __future__ import annotations

import re

from .. import textkit as tk
from .core import Article, derivation


# -- the article itself ------------------------------------------------------------------------
TITLE_TAG = re.compile(r"\s*[（(](?:组?图|多图|视频|图文|附视频|附图|高清组图|实录)[）)]\s*$")  # a portal's media tag, not the headline


# an institution's name alone: a county's, a bureau's, a company's (no verb, an institution's ending)
BARE_NAME = re.compile(r"[\u4e00-\u9fff]{2,20}(?:局|院|所|中心|委员会|委|办|联社|合作社|公司|集团|协会|学会|政府|银行|医院|学校|大学|学院|"
                       r"电视台|广播电台|日报|晚报|网|报社|杂志社|博物馆|图书馆|剧团|俱乐部)")


GENRE_LABEL = re.compile(r"^\s*(?:社论|本报社论|评论员文章|本报评论员|特约评论员|时评|快评|短评|锐评|评论|述评|本台评论|本报评论|本网评论|本刊评论|"
                         r"[\u4e00-\u9fff]{2,4}(?:快评|短评|时评|锐评)|"
                         # a letter's or a notebook's label (读者来信：爷爷老照片上的…, blind round 47)
                         r"(?:读者|网友|群众|市民)?来信|网友留言|记者手记|编辑手记)\s*[：:|｜丨]\s*")


ACCOUNT_LABEL = re.compile(r"^\s*([\u4e00-\u9fff]{2,6})\s*[：:]\s*(?=\S{6})")


def _without_account_label(title: str, body: str) -> str:
    """The headline without a column's or an account's name before a colon (补壹刀：…, blind round 53): a prefix no
    two characters of which the article ever writes is the outlet's label, not the story's subject. 专访张三：…
    and 稳就业：… stay, their words are in the text."""
    m = ACCOUNT_LABEL.match(title)
    if not m or not body:
        return title
    label = m.group(1)
    if any(label[i:i + 2] in body for i in range(len(label) - 1)):
        return title
    return title[m.end():]


@derivation("title", "the article's own title")
def _title(a: Article):
    t = TITLE_TAG.sub("", tk.chinese_quotes(tk.clean_residue(a.doc.get("title") or ""))).strip()  # 龙湖"暗伤" -> 龙湖“暗伤”
    column = tk.column_label(t)
    if column:  # 棱镜|…, 【资讯汇总】…, #（关注夏收）（3）…: the outlet's column, not the headline
        t = re.sub(r"^\s*(?:【[^】]*】|#?[（(][^）)]*[）)]|[^|｜丨:：\s]{2,6}\s*[|｜丨])\s*(?:[（(]\d{1,3}[）)])?\s*", "", t, count=1)
    # a genre label in front of an opinion piece's headline (社论：让孩子走出…, blind round 28): the page files it, the
    # headline does not say it (the router reads the document's own title, label included)
    unlabelled = GENRE_LABEL.sub("", t, count=1)
    t = unlabelled if len(unlabelled) >= 6 else t
    body = a.get("body") or ""
    t = _without_account_label(t, body)
    if not 4 <= len(t) <= 60:
        return None
    if BARE_NAME.fullmatch(t) and not any(f[:1] == "v" and f != "vn" for _, f in tk.pos_tokens(t)):
        return None  # 柘阳县农村信用合作联社: the page's title is its owner's name, not a headline (blind round 40)
    words = [w for w, f in tk.pos_tokens(t) if len(w) >= 2 and f not in ("x", "m", "r", "c", "p", "u", "d", "uj")]
    if body and words and sum(w in body for w in words) < max(1, round(0.3 * len(words))):
        return None  # a page whose title belongs to another article (list pages, mismatched extraction)
    return t


@derivation("body", "the full text, headings as plain lines")
def _body(a: Article):
    paras = a.paragraphs
    if not paras:
        return None
    ended = sum(1 for p in paras if tk.SENTENCE_END.search(p) and len(p) >= 20)
    if ended == 0 or (len(paras) >= 4 and ended < 0.5 * len(paras)):
        return None  # a list of links or headlines, not an article
    return "\n".join(a.text_lines)


# the words of a forum thread around its first post: replies, the board, its pictures (楼下留言, 顶一下, 附件是…)
FORUM_WORDS = re.compile(r"楼主|楼下(?:留言|回复|见|继续|补充)|坛友|版主|顶一下|顶帖|跟帖|回帖|[（(]\s*(附件|上图|下图|截图)")
NO_CJK = re.compile(r"^[^\u4e00-\u9fff]*$")  # a bilingual page's English line


@derivation("tidy_body", "the full text when no paragraph is a plug, a label line, a forum aside"
                         " or a line with no Chinese (a whole-text task asks it)")
def _tidy_body(a: Article):
    """The body of a task that hands the whole text over and asks about its structure (教程结构梳理): on a guide or a
    forum post the furniture the corpus rules have not met is most often in the text itself, a caption, a board's
    call or an author's box, and every such line is in the input (blind rounds 54-64: 11 of 20 such items weak)."""
    from .exercises import NOT_A_PARAGRAPH

    body = a.get("body")
    if not body:
        return None
    for kind, t in a.blocks:
        if kind == "heading":
            continue
        t = t.strip()
        if tk.plug_anywhere(t) or NOT_A_PARAGRAPH.match(t) or FORUM_WORDS.search(t) or NO_CJK.match(t):
            return None
    return body


@derivation("published", "publication date")
def _published(a: Article):
    p = a.doc.get("published")
    return p if p and not p.startswith("2000-01-01") else None


@derivation("author", "byline")
def _author(a: Article):
    return a.doc.get("author") or None


@derivation("genre_name", "the router's genre, in Chinese")
def _genre_name(a: Article):
    return a.genre_name


@derivation("genre_judgement", "genre and the rules that decided it")
def _genre_judgement(a: Article):
    seen = [e for e in a.genre_evidence if not re.search(r"来自.{1,4}栏目|署名|配置指定|电头", e)]  # what the text shown shows
    # the rules' notes to their maintainers ("（引号外）", "（…引号内的话不算）") are no part of an editor's answer
    seen = list(dict.fromkeys(re.sub(r"（[^）]*引号[^）]*）", "", e).strip() for e in seen))
    if not seen:
        return None
    return f"体裁：{a.genre_name}\n判断依据：" + "；".join(seen[:4]) + "。"


@derivation("word_count", "characters without whitespace")
def _word_count(a: Article):
    return str(tk.cjk_len(a.get("body") or ""))
