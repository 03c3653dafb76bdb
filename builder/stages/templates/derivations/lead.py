"""Lead and paragraphs: the lead, its sentences, halves, topic sentences, outline, abridgment."""

from __future__ import annotations

import re

from .. import textkit as tk
from .core import Article, derivation, numbered, first_sentence


# -- lead and paragraphs -----------------------------------------------------------------------
@derivation("lead", "the first paragraph without its dateline (a news lead)")
def _lead(a: Article):
    if not a.paragraphs:
        return None
    lead = tk.strip_dateline(a.paragraphs[0])
    if lead[:1] in "“「\"" or lead.endswith(("？", "?")):
        return None  # a quotation or a question opens a feature; a news lead states the facts
    return lead if 30 <= len(lead) <= 320 and lead[-1] in "。！？”" else None


@derivation("lead_first_sentence", "the lead's first sentence: a one-sentence news")
def _lead_first(a: Article):
    lead = a.get("lead")
    if not lead:
        return None
    s = first_sentence(lead)
    return s if 15 <= len(s) <= 150 else None


@derivation("lead_rest", "the lead without its first sentence")
def _lead_rest(a: Article):
    lead = a.get("lead")
    if not lead:
        return None
    rest = "".join(tk.split_sentences(lead)[1:])
    return rest or None


@derivation("body_after_lead", "everything after the first paragraph")
def _after_lead(a: Article):
    lines = a.text_lines
    if len(a.paragraphs) < 3:
        return None
    first = a.paragraphs[0]
    idx = lines.index(first)
    return "\n".join(lines[idx + 1:]) or None


@derivation("brief", "lead plus the first sentence of the second paragraph: a short news brief")
def _brief(a: Article):
    lead = a.get("lead")
    if not lead or len(a.paragraphs) < 2:
        return None
    extra = first_sentence(a.paragraphs[1])
    brief = lead + extra
    return brief if len(brief) <= 320 else lead


@derivation("second_paragraph", "the paragraph after the lead")
def _second_paragraph(a: Article):
    return a.paragraphs[1] if len(a.paragraphs) >= 3 and len(a.paragraphs[1]) >= 40 else None


@derivation("first_paragraph", "the opening paragraph as written")
def _first_paragraph(a: Article):
    return a.paragraphs[0] if len(a.paragraphs) >= 3 else None


# the author's note after the piece, no ending of it: 写到这里，我已经把问题反映给了…等有了回复，我再来更新 (blind round 41)
POSTSCRIPT = re.compile(r"写到这里|(再|会)来?更新|持续更新|后续[^。！？]{0,10}(更新|告诉大家|再报|跟进)|截至(记者)?发稿|^[（(]?(本文|作者)(写于|首发|补记)|^[（(]?(补记|附记|后记)")


@derivation("last_paragraph", "the closing paragraph (not an author's postscript)")
def _last_paragraph(a: Article):
    last = a.paragraphs[-1] if len(a.paragraphs) >= 3 else ""
    return last if len(last) >= 40 and not POSTSCRIPT.search(last) else None


@derivation("body_before_last", "everything but the closing paragraph")
def _before_last(a: Article):
    if len(a.paragraphs) < 3:
        return None
    lines = a.text_lines
    last = len(lines) - 1 - lines[::-1].index(a.paragraphs[-1])
    return "\n".join(lines[:last]) or None


@derivation("first_half", "the first half of the paragraphs")
def _first_half(a: Article):
    lines = a.text_lines
    if len(a.paragraphs) < 4:
        return None
    return "\n".join(lines[: len(lines) // 2])


@derivation("second_half", "the second half of the paragraphs")
def _second_half(a: Article):
    lines = a.text_lines
    if len(a.paragraphs) < 4:
        return None
    return "\n".join(lines[len(lines) // 2:])


@derivation("topic_sentences", "the first sentence of every paragraph (list)")
def _topic_sentences(a: Article):
    out = [first_sentence(tk.strip_dateline(p)) for p in a.paragraphs]
    return out if len(out) >= 3 else None


@derivation("outline", "a numbered outline: headings if the article has them, else paragraph topic sentences")
def _outline(a: Article):
    heads = [t for k, t in a.blocks if k == "heading"]
    if len(heads) >= 3:
        return numbered(heads)
    ts = a.get("topic_sentences")
    if not ts or len(ts) < 4:
        return None
    return numbered([s for s in ts if len(s) <= 80])


@derivation("abridged", "the lead and the topic sentence of every later paragraph: an extractive condensation")
def _abridged(a: Article):
    body = a.get("body") or ""
    if tk.cjk_len(body) < 500 or len(a.paragraphs) < 4:
        return None
    parts = [tk.strip_dateline(a.paragraphs[0])] + [first_sentence(p) for p in a.paragraphs[1:]]
    parts = [parts[0]] + [s for s in parts[1:] if tk.SENTENCE_END.search(s)  # a heading line (Evi1m0：去年跨过的客户端) is no sentence
                          and not re.search(r"截图|图为|图片来源|（图）|摄$", s)]  # nor a picture caption
    if any(re.match(r"^(他|她|它|他们|她们|其|该)", s) for s in parts[1:]):
        return None  # 他在演讲中指出… after the sentence naming him was left out: a pronoun without its person
    out = "".join(parts)
    return out if tk.cjk_len(out) <= 0.6 * tk.cjk_len(body) else None
