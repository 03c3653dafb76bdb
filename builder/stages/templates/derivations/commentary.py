"""Commentary: thesis, attitude, argument structure, quotable sentences, editorials."""

from __future__ import annotations

import re

from .. import textkit as tk
from .core import Article, derivation, numbered, first_sentence


# -- commentary --------------------------------------------------------------------------------
THESIS = re.compile(r"我们认为|笔者认为|在我们看来|说到底|归根结底|关键在于|值得警惕|应当|必须")


# a claim about something named earlier (这一步值得迈出去, 此举应当坚持): alone it says nothing (blind round 29)
ANAPHORA = re.compile(r"^(?:我们认为|笔者认为|在我们看来)?[，,]?\s*(?:这|那|此|其)(?:一步|件事|种|个|些|举|项|样|么|一)")


# the words that point at the thesis are the writer's, not the claim: 立意拟题 gets 提升服务…, not 说到底，提升服务… or
# 笔者认为，… (blind round 60)
THESIS_LEAD = re.compile(r"^(?:我们认为|笔者认为|在我们看来|在笔者看来|说到底|归根结底|归根到底|总之|总而言之|可见|由此可见)[，,：:]?\s*")


def _claim(sentence: str) -> str:
    return THESIS_LEAD.sub("", sentence, count=1)


def _names_the_subject(claim: str, title: str) -> bool:
    """The claim says what the piece is about: one of its content words is in the headline, or shares two characters
    with it (数字背后…考题 under 为青年就业多铺几条路 does not; blind round 33)."""
    words = [w for w, f in tk.pos_tokens(claim) if len(w) >= 2 and f[:1] in ("n", "v", "a") and w not in tk.GENERIC]
    return not title or tk.names_subject(words, title)


@derivation("thesis", "the central claim of a commentary (我们认为 … / 应当 …)")
def _thesis(a: Article):
    title = a.doc.get("title") or ""
    sentences = [s for p in a.paragraphs for s in tk.split_sentences(p)]
    for marker in ("我们认为", "笔者认为", "在我们看来"):
        for s in sentences:
            if marker in s:
                i = s.index(marker)
                claim = s[i:].lstrip("，,") if i < len(s) - 10 else s
                if not ANAPHORA.match(claim) and _names_the_subject(claim, title) and len(_claim(claim)) >= 8:
                    return _claim(claim)
    first_last = tk.split_sentences(a.paragraphs[0]) + tk.split_sentences(a.paragraphs[-1]) if a.paragraphs else []
    for s in first_last:
        if THESIS.search(s) and 12 <= len(_claim(s)) <= 120 and not ANAPHORA.match(s) and _names_the_subject(s, title):
            return _claim(s)
    return None


@derivation("title_thesis", "the thesis when the headline says it: every noun of the headline is in the thesis")
def _title_thesis(a: Article):
    """The thesis of a 立意拟题 item: a headline is its answer only when it says the thesis, not the news hook (blind
    round 34: 说到底，预付卡是一份信任的契约 answered by 健身房“跑路”之后，预付卡的钱该由谁兜底)."""
    thesis, title = a.get("thesis"), a.get("title")
    if not thesis or not title:
        return None
    nouns = [w for w, f in tk.pos_tokens(title) if len(w) >= 2 and f[:1] == "n" and w not in tk.GENERIC]
    return thesis if nouns and all(w in thesis for w in nouns) else None


# a sentence that takes a position: the thesis markers, an ought or a must-not, a judgement said as one
STANCE = re.compile(THESIS.pattern + r"|我的看法|我认为|在我看来|不能|不应|不该|应该|需要|值得|是对的|是错的|站不住|不可取|"
                    r"恰恰|与其|不妨")


@derivation("stance_opening", "the commentary's opening up to the paragraph that states its position (one or two paragraphs)")
def _stance_opening(a: Article):
    """The 开篇 of a commentary: the news hook and the position it takes. The first paragraph when it takes one; else
    the first two when the second does (a hook told in full, then 我的看法很明确：…); else None: an opening that only
    tells the news is no answer to 交代由头、亮明立意 (blind round 28)."""
    paras = a.paragraphs
    if len(paras) < 3:
        return None
    for n in (1, 2):
        opening = "\n".join(paras[:n])
        if STANCE.search(paras[n - 1]) and len(opening) <= 600:
            return opening
    return None


@derivation("attitude", "the commentary's attitude (呼吁/批评/肯定) with its evidence")
def _attitude(a: Article):
    text = "\n".join(a.paragraphs)
    scores = {
        "呼吁与建议": len(re.findall(r"应当|应该|需要|要让|必须|建议|不妨|呼吁", text)),
        "批评与警示": len(re.findall(r"值得警惕|不能|不应|乱象|问题|隐患|误区|弊端|失职", text)),
        "肯定与赞扬": len(re.findall(r"点赞|可喜|值得肯定|喝彩|难能可贵|令人欣慰|值得称道", text)) * 2,
    }
    label, n = max(scores.items(), key=lambda kv: kv[1])
    thesis = a.get("thesis")
    if n < 3 or not thesis:
        return None
    return f"态度：{label}\n依据：{thesis}"


@derivation("argument_structure", "中心论点、分论点与结论 of a commentary")
def _argument_structure(a: Article):
    thesis = a.get("thesis")
    if not thesis or len(a.paragraphs) < 4:
        return None
    middle = [first_sentence(p) for p in a.paragraphs[1:-1]]
    middle = [s for s in middle if 8 <= len(s) <= 100]
    if len(middle) < 2:
        return None
    end = first_sentence(a.paragraphs[-1])
    return f"中心论点：{thesis}\n分论点：\n{numbered(middle)}\n结论：{end}"


# a paragraph that opens by pointing back (其次，… 此外，… 但是，…) continues the one before it: written from its
# keywords alone it reads as a middle without a start (blind round 20: an answer opening on 其次，)
LEANS_ON_PREVIOUS = re.compile(r"^(其次|再次|再者|此外|另外|最后|第[二三四五六七八九十]|同时|与此同时|而且|并且|然而|但是|但|不过|因此|所以|可见|由此可见|总之|换言之|反过来|相反|当然|况且|何况|于是|可是|只是|就这样|这样一来|由此|正因(为)?如此|也正因(为)?如此)[，,、]?"
                               # …or by asking why of what came before: 为什么会这样？ (blind round 60)
                               r"|^(为什么会这样|为何会这样|何以如此|为何如此|怎么会这样|问题出在哪|症结在哪)"
                               # …or by pointing at what came before: 这些问题，恰恰说明… (blind round 37), 对此，…
                               r"|^(这些|这种|这类|这样的|此类|上述|以上|那些|对此|为此|这也|这就|这一)"
                               # …or by answering what came before: 原因很简单，… 答案是… 道理不难理解 (blind round 40)
                               r"|^(原因|答案|道理|理由|结果|问题)(很简单|不难|在于|是|有[二两三四五几])"
                               # …or as a point of a list a sentence before announced: 一要…，二要… (blind round 48)
                               r"|^(首先|其一|[一二三四五六七八九十]要(?![素件点求紧务闻])|[一二三四五六七八九十]是|第一)[，,、：:]?"
                               # …or by sizing up the story told above: 事情不大，背后的问题却… (blind round 54)
                               r"|^(事情|事儿|事件|此事|这事|个案|小事)(虽|不大|虽小|不算大|看似|本身)"
                               # …or by taking a chain one link further: 信任的缺失，又源于公开的不足 (blind round 61)
                               r"|^[^，。！？“”]{2,12}，又(?![称说])")


@derivation("argument_paragraphs", "middle paragraphs with their topic sentence and keywords (list)")
def _argument_paragraphs(a: Article):
    out = []
    for p in a.paragraphs[1:-1]:
        sents = tk.split_sentences(p)
        if len(p) < 60 or len(sents) < 2 or LEANS_ON_PREVIOUS.match(p):
            continue
        kw = tk.point_words(p, a.get("entity_names"), "\n".join(a.text_lines), a.doc.get("title") or "")
        out.append({"text": p, "topic_sentence": sents[0], "keywords": "、".join(kw) if len(kw) >= 3 else None,
                    "sentences": "\n".join(f"- {s}" for s in sents)})
    return out or None


GOLDEN = re.compile(r"既要.{1,15}也要|不是.{1,15}而是|与其.{1,15}不如|越.{1,8}越|不能只|更要|才能|不在于.{1,15}而在于|既是.{1,12}也是")


@derivation("golden_sentence", "a short, balanced sentence worth quoting")
def _golden(a: Article):
    for p in a.paragraphs:
        for s in tk.split_sentences(p):
            if 10 <= len(s) <= 45 and GOLDEN.search(s) and "“" not in s:
                return s
    return None


@derivation("editorial_body", "the body, only for pieces signed as an editorial (本报评论员, 社论)")
def _editorial(a: Article):
    author = a.doc.get("author") or ""
    if re.search(r"评论员|社论|本报编辑部|短评", author + (a.doc.get("title") or "")):
        return a.get("body")
    return None
