"""Editing exercises made from a real paragraph, and short re-packagings (Weibo post, facts list)."""

from __future__ import annotations

import re
import random
from typing import Any

from .. import textkit as tk
from .core import Article, derivation


# -- editing exercises made from a real paragraph ------------------------------------------------
PUNCT = re.compile(r"[，。！？；：、“”‘’（）《》…—]")
# real-world confusions an editor corrects: homophones and look-alikes inside common words
TYPO_SWAPS = [("已经", "以经"), ("再次", "在次"), ("坚持", "坚特"), ("按照", "安照"), ("部署", "布署"), ("一如既往", "一如继往"),
              ("迫不及待", "迫不急待"), ("截至", "截止"), ("必须", "必需"), ("报道", "报导"), ("安装", "按装"), ("考察", "考查"),
              ("拥有", "用有"), ("精彩", "精采"), ("反映", "反应"), ("即将", "既将"), ("以便", "已便"), ("竣工", "峻工"),
              ("挑战", "跳战"), ("搭建", "塔建"), ("度过", "渡过"), ("震撼", "震憾"), ("重叠", "重迭"), ("再接再厉", "再接再励"),
              ("针对", "真对"), ("气氛", "气份"), ("辐射", "幅射"), ("家具", "家俱"), ("交流", "交留"), ("部门", "布门"),
              ("提高", "题高"), ("成绩", "成积"), ("训练", "训炼"), ("锻炼", "锻练"), ("辨别", "辩别"), ("辩论", "辨论"),
              ("暴露", "爆露"), ("急躁", "急燥"), ("干燥", "干躁"), ("复杂", "复扎"), ("综合", "综和"), ("融合", "溶合"),
              ("范围", "范为"), ("稳定", "隐定"), ("经营", "经营"), ("采取", "采娶"), ("决定", "绝定"), ("建议", "建意"),
              ("效果", "效裹"), ("保持", "保待"), ("关注", "关住"), ("既然", "即然"), ("防范", "防犯"), ("防御", "防卸"),
              ("检查", "检察"), ("毕竟", "必竟"), ("启事", "启示"), ("权利", "权力"), ("含义", "涵义"), ("其他", "其它"),
              ("按时", "安时"), ("通过", "通国"), ("期间", "其间"), ("座谈", "坐谈"), ("一筹莫展", "一愁莫展"), ("脉搏", "脉博")]
# variant forms a dictionary accepts (其它, 涵义, 报导, 精采, 重迭): changing them teaches no correction (blind round 23)
# …and pairs of two real words (期间/其间, 权利/权力, 反映/反应): which one is right depends on the sentence, and the
# "typo" may be the better word where it is put (blind round 54: 保留两年，其间落实单位 "corrected" to 期间). Only swaps
# that make a non-word stay: a reader can tell them wrong without the writer's intent.
TYPO_SWAPS = [(a, b) for a, b in TYPO_SWAPS if a != b and b not in ("其它", "涵义", "报导", "精采", "重迭", "其间", "截止", "必需", "反应",
                                                                    "考查", "渡过", "检察", "启示", "权力")]
TYPO_RULES = [(re.compile(r"(认真|仔细|慢慢|默默|悄悄|笑着|紧紧)地"), r"\1的"), (re.compile(r"得(很|非常|更加|十分)"), r"的\1")]


# errors a real paragraph already has: an exercise made from it would keep them in its "corrected" answer
OWN_ERRORS = re.compile("|".join([re.escape(b) for _, b in TYPO_SWAPS if len(b) >= 2] + [
    r"写到[：:]\s*[“\"「]",  # 写道 before a quotation
    r"[追跑说做写长来去]的(?:快|慢|好|巧|早|晚|多|少|准|对)(?=[，。！？、；,!?]|$)",  # 追的巧 for 追得巧
]))


def own_errors(text: str) -> list[str]:
    """Errors an editor would correct that the paragraph already has (以经, 写到：“, 追的快)."""
    return [m.group(0) for m in OWN_ERRORS.finditer(text)]


def _typo_version(rng: random.Random, text: str) -> tuple[str, list[str]] | None:
    """The paragraph with one to three typical typos, and the corrections; None if none applies, or when the
    paragraph has errors of its own (the answer, the paragraph as written, would keep them)."""
    if own_errors(text):
        return None
    # a swap only where the word stands as a word: 即将 inside 随即将其 is 随即 and 将 (blind round 52: 随既将其 with
    # 改动：既将→即将, a typo no writer makes and a change note that names the wrong word)
    if not any(a in text for a, _ in TYPO_SWAPS):
        return _rule_typos(text, [])
    starts, pos = set(), 0
    for w, _ in tk.pos_tokens(text):
        starts.add(pos)
        pos += len(w)
    starts.add(pos)
    at = {a: next((m.start() for m in re.finditer(re.escape(a), text) if m.start() in starts and m.end() in starts), None)
          for a, _ in TYPO_SWAPS if a in text}
    present = [(a, b) for a, b in TYPO_SWAPS if at.get(a) is not None]
    chosen = rng.sample(present, min(3, len(present)))
    out = text
    fixes = []
    for right, wrong in sorted(chosen, key=lambda rw: -at[rw[0]]):  # from the end: earlier offsets stay valid
        i = at[right]
        if out[i:i + len(right)] != right:
            continue  # an overlapping swap took it
        out = out[:i] + wrong + out[i + len(right):]
        fixes.append(f"{wrong}→{right}")
    fixes.reverse()
    return _rule_typos(out, fixes)


def _rule_typos(out: str, fixes: list[str]) -> tuple[str, list[str]] | None:
    """The rule-made typos (的/地/得 and the like) on top of the swapped words, up to three in all."""
    for pat, repl in TYPO_RULES:
        m = pat.search(out)
        if m and len(fixes) < 3:
            wrong = pat.sub(repl, m.group(0), count=1)
            out = out[: m.start()] + wrong + out[m.end():]
            fixes.append(f"{wrong}→{m.group(0)}")
    return (out, fixes) if fixes else None


PARAGRAPH_END = re.compile(r"[。！？!?…”」』）)]$")
NOT_A_PARAGRAPH = re.compile(r"^\s*(?:【[^】]{2,8}】|(?:写在前面|编者按|编者的话|导读|编辑提示)\s*[:：]|"
                             r"(?:\d{4}年)?\d{1,2}月\d{1,2}日(?:上午|下午|晚|晚上|早上|凌晨)?[，,][^。！？，,；]{4,40}。$|"  # one clause after the date
                             # …or a scene's caption: 开幕式现场，各参赛学校代表队入场。 (blind round 68)
                             r"[^。！？，,；]{2,12}现场[，,][^。！？，,；]{2,24}。$)")
# a paragraph of a reordering exercise ends a sentence, a closing quotation or bracket at most after it: (6:00–23:00)
# closes a hotline line, not a paragraph
SENTENCE_CLOSED = re.compile(r"[。！？!?…][”」』’）)]{0,2}$")
CONTINUATION = {"是", "的", "了", "着", "过", "和", "及", "与", "或", "等", "并", "而"}  # a first word that carries on a cut sentence
REPEAT_SPAN = 12


def whole_paragraph(p: str) -> bool:
    """A paragraph an editing exercise can stand on: it ends a sentence, does not open on a word that carries on a
    sentence cut above it (是表示有机化合物…: the term it defines was lost), and does not repeat a run of
    REPEAT_SPAN characters (a table's rows flattened into one line: …违约风险很低联合资信评估有限公司稳定2020 AA+ 偿还…)."""
    if not PARAGRAPH_END.search(p):
        return False
    toks = tk.pos_tokens(p[:12])
    if toks and toks[0][0] in CONTINUATION:
        return False
    seen: set[str] = set()
    for k in range(len(p) - REPEAT_SPAN + 1):
        span = p[k : k + REPEAT_SPAN]
        if span in seen:
            return False
        seen.add(span)
    return True


QA_MARK = re.compile(r"^(?:问|答|[QqAa])\s*[:：]")  # 答：… an interview's answer: its mark is no part of an exercise (blind round 48)
ENUMERATED = re.compile(r"^(?:[一二三四五六七八九十]+[，、．.]|（[一二三四五六七八九十]+）|[一二三四五六七八九十]是)")  # 二，… a point of a list: not a paragraph on its own


LIST_ITEM = re.compile(r"^\s*[-•*·]\s")


@derivation("edit_paragraphs", "body paragraphs with editing exercises: no punctuation, typos, traditional script (list)")
def _edit_paragraphs(a: Article):
    from opencc import OpenCC  # pure Python, loads its tables on first use

    cc = _opencc(OpenCC)
    out = []
    for i, p in enumerate(a.paragraphs[1:], 1):
        # (a list item keeps its mark, "- 答：…", in the exercise: blind round 65)
        if (not 80 <= len(p) <= 420 or tk.QUESTION_LINE.match(p) or ENUMERATED.match(p) or QA_MARK.match(p)
                or LIST_ITEM.match(p) or not whole_paragraph(p)):
            continue
        sents = tk.split_sentences(p)
        typo = _typo_version(a.rng(f"typo{i}"), p)
        trad = cc.convert(p) if _t2s(OpenCC).convert(p) == p else p  # a paragraph already in traditional script answers nothing
        out.append({
            "text": p,
            "no_punct": PUNCT.sub(" ", p).replace("  ", " ").strip(),
            "sentences": "\n".join(f"- {s}" for s in sents) if len(sents) >= 3 else None,
            "typo": typo[0] if typo else None,
            "typo_fixes": "、".join(typo[1]) if typo else None,
            "traditional": trad if trad != p else None,
            "keywords": "、".join(tk.point_words(p, a.get("entity_names"), "\n".join(a.text_lines), a.doc.get("title") or "")),
        })
    return out or None


_CC: dict[str, Any] = {}


def _t2s(cls):
    if "t2s" not in _CC:
        _CC["t2s"] = cls("t2s")
    return _CC["t2s"]


def _opencc(cls):
    if "s2t" not in _CC:
        _CC["s2t"] = cls("s2t")
    return _CC["s2t"]


@derivation("reorder_paragraphs", "the paragraphs of a reordering exercise: 4 to 10, each ending a sentence (list)")
def _reorder_paragraphs(a: Article):
    """An article with a subheading or a photo caption among its paragraphs makes no exercise (blind readers of
    the written-pages build found captions shuffled into the answer and subheadings placed anywhere: neither has
    an order of its own to restore). Not :func:`whole_paragraph`: its cut-sentence test refuses a paragraph that
    opens 与往年不同的是, which a reordering exercise can stand on."""
    if any(kind == "heading" for kind, _ in a.blocks):  # its paragraphs without their headings lose their order
        return None
    paras = a.paragraphs
    if not 4 <= len(paras) <= 10 or not all(SENTENCE_CLOSED.search(p.strip()) for p in paras):
        return None
    # a plug or a hotline left in the text is no paragraph with a place in the story (blind round 54: 打开某某APP，搜索
    # “校招直通车”即可订阅。 and 地铁客服热线：0766-96200 (…) put back into the answer as paragraphs); nor is a line under a
    # 【label】, a desk's lead-in (写在前面：…) or a dated one-sentence caption (5月25日，市民带着宠物在…玩耍。): each of the
    # three reordering answers read poor in blind round 60 carried one of them
    return None if any(tk.plug_anywhere(p) or NOT_A_PARAGRAPH.match(p) for p in paras) else paras


@derivation("shuffled_paragraphs", "the paragraphs in a seeded shuffled order, labelled 【1】【2】…")
def _shuffled(a: Article):
    paras = a.get("reorder_paragraphs")
    if not paras:
        return None
    order = list(range(len(paras)))
    rng = a.rng("shuffle")
    for _ in range(5):
        rng.shuffle(order)
        if order != sorted(order):
            break
    else:
        return None
    return "\n".join(f"【{k}】{paras[j]}" for k, j in enumerate(order, 1))


@derivation("paragraphs_in_order", "all paragraphs in their real order")
def _in_order(a: Article):
    paras = a.get("reorder_paragraphs")
    return "\n".join(paras) if paras else None


@derivation("weibo_post", "a media Weibo post: 【title】the lead (≤140 characters) #topic#")
def _weibo(a: Article):
    title, lead = a.get("title"), a.get("lead")
    kw = a.get("keyword_list")
    if not title or not lead or not kw:
        return None
    text = ""
    for s in tk.split_sentences(lead):
        if len(text) + len(s) > 120:
            break
        text += s
    if not text:
        return None
    tag = next((k for k in kw if k in title), None)  # the topic tag names what the headline is about
    return f"【{title}】{text}#{tag}#" if tag else None


@derivation("facts_list", "the facts of a news lead as bullet points: time, place, subject, figures")
def _facts_list(a: Article):
    fw = a.get("five_w")
    if not fw:
        return None
    nums = tk.numbers(a.get("lead") or "")
    rows = [line for line in fw.split("\n") if not line.startswith("结果")]
    if nums:
        rows.append("数据：" + "、".join(dict.fromkeys(nums[:5])))
    return "\n".join(f"- {r}" for r in rows)
