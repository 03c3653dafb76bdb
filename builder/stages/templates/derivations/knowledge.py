"""Knowledge articles and tutorials: question titles, how-to questions, definitions, pitfalls."""

from __future__ import annotations

import re

from .. import textkit as tk
from .core import Article, derivation, numbered


# -- knowledge and tutorials ---------------------------------------------------------------------
@derivation("question_title", "a title that is itself a question")
def _question_title(a: Article):
    t = a.doc.get("title") or ""
    m = re.match(r"^[^？?]{4,40}[？?]", t)
    if m:
        return m.group(0)  # 什么是倒金字塔结构？新闻写作的一项基本功 -> the question
    if re.match(r"^(什么是|何为|如何|怎样|怎么|为什么|为何)", t):
        return t + "？"
    return None


@derivation("knowledge_topic", "the concept a knowledge article explains (not a document such as a handbook)")
def _knowledge_topic(a: Article):
    t = (a.doc.get("title") or "").strip()
    if re.search(r"手册|规范|指南|须知|汇编|目录", t):
        return None
    t = re.sub(r"^(什么是|何为)", "", t)
    head = re.split(r"[：:，,？?！!（(]", t)[0].strip()
    return head if 2 <= len(head) <= 20 else None


@derivation("howto_question", "a tutorial's title turned into the question it answers")
def _howto_question(a: Article):
    t = (a.doc.get("title") or "").strip()
    if not t or a.get("question_title"):
        return None
    q = re.sub(r"这样(写|做|拍|选|设计|搭配|用|投|搞)$", r"该怎么\1", t)
    if q != t:
        return q + "？"
    head = re.split(r"[：:，,]", t)[0]
    return f"{head}，具体应该怎么做？" if len(head) >= 4 else None


QA_LEAD = re.compile(r"^\s*(?:答|A)\s*[:：]\s*")
# a sentence that goes on with the definition before it: it names the term, or points back at it or explains it
GOES_ON = re.compile(r"^(它|其|这|该|此|也就是说|换句话说|简单(来)?说|通俗(地)?(讲|说)|比如|例如|譬如|包括|主要(包括|有)|一般|通常)")


@derivation("definitions", "definitional sentences: {term, text} (list)")
def _definitions(a: Article):
    out, seen = [], set()
    sents = [s for p in a.paragraphs for s in tk.split_sentences(p)]
    for i, s in enumerate(sents):
        m = tk.DEFINITION_SUOWEI.search(s) or tk.DEFINITION.search(s)
        if not m:
            continue
        # ROI是指投入产出比，即…: the greedy term ran over the first definition verb into the second's; cut it there
        term = re.split(r"是指|指的是|就是|是一种|是一项", m.group(1))[0]
        if (term in seen or len(term) < 2 or re.match(r"^(这|那|它|其|也|就|这种|这个|一个|您|你|我|他|她|大家)", term)
                # a predicate, not a term: 可享受半价优惠，即每张49元 (blind round 37: 请解释“可享受半价优惠”这个说法)
                or re.match(r"^(可|能|会|要|应|需|须|将|已|被|把|在|对|向|按|凭|由|经|均|都|还|并|再|即|仍|才)", term)
                # a clause cut from a requirement: 申请人须为定居在国外的中国公民，即… (blind round 55)
                or (len(term) >= 8 and "的" in term)
                # a count-word abbreviation names its list only in its trade: 双证 is two licences for ride-hailing and
                # others elsewhere (blind round 64: 双证指的是什么？ read as context-free)
                or re.fullmatch(r"[一二两双三四五六七八九十][\u4e00-\u9fff]{1,3}", term)
                # a point of a list, not a term: 一是逐一国家注册，即… (blind round 65: 请解释“一是逐一国家注册”这个说法)
                or re.match(r"^(一是|二是|三是|四是|五是|其一|其二|其三|首先|其次|再次|最后|第[一二三四五六七八九十])", term)
                or re.search(r"[零一二三四五六七八九十百千万\d]+[款个种条次]|以内|以上|以下|之后|之前", term)):
            continue
        seen.add(term)
        s = QA_LEAD.sub("", s)  # 答：光污染是指… answers as 光污染是指… (blind round 67)
        nxt = sents[i + 1] if i + 1 < len(sents) and len(s) < 60 else ""
        if nxt and term not in nxt and not GOES_ON.match(nxt):
            nxt = ""  # a sentence about something else (公园绿地面积大…) is no part of the definition (blind round 67)
        other = tk.DEFINITION_SUOWEI.search(nxt) or tk.DEFINITION.search(nxt)
        if other and other.group(1) != term:
            nxt = ""  # the next sentence defines another term (ROI after GMV): no part of this answer
        if re.match(r"^\s*(?:问|答|Q|A)\s*[:：]|.*[？?]$", nxt):
            nxt = ""  # the next question of a Q&A (问：遇到问题向哪里咨询？): not the answer's (blind round 54)
        text = s + nxt
        out.append({"term": term, "text": text})
    return out or None


@derivation("pitfalls", "sentences warning what not to do (不要/避免/切忌/误区)")
def _pitfalls(a: Article):
    rows = [s for p in a.paragraphs for s in tk.split_sentences(p)
            if re.search(r"不要|避免|切忌|误区|千万别|禁止|杜绝|别把|别让", s) and 10 <= len(s) <= 150 and not tk.NUMBERED.match(s)]
    return numbered(rows[:6]) if len(rows) >= 2 else None


@derivation("subject", "what the article is about: the title before any colon or comma")
def _subject(a: Article):
    t = a.doc.get("title") or ""
    head = re.split(r"[：:，,？?！!\s]", t)[0].strip()  # 理财从儿童做起 6招… -> 理财从儿童做起
    if re.search(r"[吗呢]$|哪|什么|怎么|如何|为何|几种", head):
        return None  # a question title makes no subject for 关于X… questions
    # the activity, not the document about it: 投放数据复盘指南 -> 投放数据复盘, 巨量千川投放入门 -> 巨量千川投放
    head = re.sub(r"(全攻略|攻略|指南|教程|手册|入门|技巧|方法论|方法|必读|宝典|秘籍)$", "", head)
    if re.search(r"(之后|以后|结束后|之前|以前|期间|的时候|时|后|前)$", head):
        return None  # a time clause (一场直播结束后，…) is no subject: 关于一场直播结束后，… reads wrong
    return head if 2 <= len(head) <= 16 else None


# what the piece calls itself, for a phrasing that names it: a tutorial is 教程, a guide 指南, a policy reading 解读
_SELF_NOUN = (("指南", "指南"), ("攻略", "攻略"), ("解读", "解读"), ("问答", "问答"), ("手册", "手册"), ("教程", "教程"))


@derivation("genre_noun", "what a phrasing calls the piece: 教程 for a tutorial, the title's 指南/解读/攻略, else 文章")
def _genre_noun(a: Article):
    title = a.doc.get("title") or ""
    named = next((noun for word, noun in _SELF_NOUN if word in title), None)
    return named or ("教程" if a.genre == "selfmedia_tutorial" else "文章")
