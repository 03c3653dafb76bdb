"""Keywords, topics, entities, named sources, quotes, figures, dates, 5W and fact-check points."""

from __future__ import annotations

import re

from .. import textkit as tk
from .core import Article, derivation, numbered, first_sentence


# -- keywords, topics, entities ------------------------------------------------------------------
@derivation("keyword_list", "jieba TF-IDF keywords (list)")
def _keyword_list(a: Article):
    title = a.doc.get("title") or ""
    column = tk.column_label(title)
    head = tk.clean_residue(title).replace(column, "", 1) if column else title  # 棱镜|数据业大整顿: the column is no subject
    text = "\n".join([title] + a.text_lines)
    kw = tk.distinctive(tk.whole_words(tk.keywords_tfidf(a.tokens, 14), text), a.tokens, head)
    # the headline's own nouns that the body keeps using come first (共享充电宝 涨价: 充电宝), then TF-IDF's
    body = "\n".join(a.text_lines)
    subject = sorted({w for w, f in tk.pos_tokens(tk.clean_residue(head))
                      if len(w) >= 2 and f in ("n", "nz", "nt", "ns", "nr", "vn", "eng") and w not in tk.GENERIC
                      and body.count(w) >= 3}, key=lambda w: (-body.count(w), w))  # ties by the word: no set order
    kw = list(dict.fromkeys(subject[:2] + kw))
    kw = [w for w in kw if not tk.only_inside_names(w, text)]  # 龙凤 of “龙凤宝贝计划”: part of a name
    kw = list(dict.fromkeys(tk.whole_term(w, text, a.get("entity_names")) for w in kw))  # 魔盒 -> 数聚魔盒, 现金 -> 现金贷
    kw = [w for w in kw if not any(w != o and tk.whole_term(w, text, (o,)) == o for o in kw)]  # 郯城 always inside 郯城县; 标题 beside 小标题 stays
    kw = [w for w in kw if tk.recurring(w, body, a.doc.get("title") or "", a.get("entity_names"))]
    kept: list[str] = []
    for w in kw:  # 金塔县芨芨台子 after 芨芨台子煤矿: the same name again
        if not any(len(w) >= 3 and any(w[k:k + 3] in o for k in range(len(w) - 2)) for o in kept):
            kept.append(w)
    kw = tk.tidy_terms([w for w in kept if len(w) <= 8], body, head, column, a.get("body_entities")["人物"])[:6]  # the strongest six
    if len(kw) < 4 or not tk.names_subject(kw, head):
        return None  # keywords that miss what the headline is about are not the article's keywords
    return kw


@derivation("keywords", "jieba TF-IDF keywords joined with 、")
def _keywords(a: Article):
    kw = a.get("keyword_list")
    return "、".join(kw) if kw else None


@derivation("top_keywords", "the three strongest keywords")
def _top_keywords(a: Article):
    kw = a.get("keyword_list")
    return "、".join(kw[:3]) if kw else None


@derivation("tags", "jieba TextRank words plus the topic, as tags")
def _tags(a: Article):
    strong = set(tk.keywords_tfidf(a.tokens, 12))  # a tag must also be a TF-IDF keyword: no 街道, 综合, 观点
    text = "\n".join(a.text_lines)
    title = a.doc.get("title") or ""
    column = tk.column_label(title)
    head = tk.clean_residue(title).replace(column, "", 1) if column else title
    words = tk.distinctive(tk.whole_words([w for w in tk.keywords_textrank(a.tokens, 12) if w in strong and w in text], text),
                           a.tokens, head)
    words = list(dict.fromkeys(tk.whole_term(w, text, a.get("entity_names")) for w in words))
    words = [w for w in words if not tk.only_inside_names(w, text) and len(w) <= 8  # 甘肃张掖市矿山救护大队 is no tag
             and tk.recurring(w, text, head, a.get("entity_names"))]
    words = tk.tidy_terms(words, text, head, column, a.get("body_entities")["人物"], mentions=10**9)[:5]  # a person tag: the headline's
    if not tk.names_subject(words, head):
        return None  # tags that miss what the headline is about (郯城 beside 郯城县: the longer one kept above)
    topic = a.get("topic")
    tags = ([topic] if topic else []) + [w for w in words if w != topic]
    return "、".join(f"#{t}" for t in tags[:6]) if len(tags) >= 3 else None


@derivation("topic_choices", "the event categories to choose from (genres.toml topics), joined by 、")
def _topic_choices(a: Article):
    # a classification asked without its categories has no one right answer (blind round 26: 经济贸易 for a company's
    # results, 灾害应急 for a donation report, each defensible and neither what a reader would have picked)
    topics = getattr(getattr(a._topic_of, "__self__", None), "topics", None)
    return "、".join(t.name for t in topics) if topics else None


@derivation("topic", "the event category from genres.toml topics (交通, 教育 …)")
def _topic(a: Article):
    if a._topic_of is None:
        return None
    title = a.get("title")
    if not title:
        return None
    return a._topic_of(f"{title}\n{a.get('body') or ''}", title)


@derivation("body_entities", "people, places and organisations the body names, confirmed against it (by kind)")
def _body_entities(a: Article):
    return tk.named_entities(a.text_lines, "\n".join(a.text_lines))


@derivation("entity_names", "every confirmed name of the body, longest first (to keep keywords whole)")
def _entity_names(a: Article):
    found = a.get("body_entities")
    return tuple(sorted({w for ws in found.values() for w in ws}, key=lambda w: (-len(w), w)))


@derivation("entities", "people, places and organisations (LAC where installed, else jieba part-of-speech)")
def _entities(a: Article):
    found = {k: tk.drop_aliases(v) for k, v in a.get("body_entities").items()}  # the input shows the body: entities only from it
    kinds = [k for k, v in found.items() if v]
    if len(kinds) < 2 or any(len(v) > 8 for v in found.values()):
        return None  # an answer of more than eight names a kind reads as a dump, and a cut list is incomplete
    listed = [n for v in found.values() for n in v]
    places = [p for p in found.get("地点", []) if len(p) >= 2] + [re.sub(r"[省市县区]$", "", p) for p in found.get("地点", []) if len(p) >= 3]
    for span in tk.name_shapes("\n".join(a.text_lines)):
        if tk.covers(listed, span):
            continue
        if "·" not in span and "•" not in span and len(span) <= 12 and any(span.startswith(p) and len(span) > len(p) + 1 for p in places):
            found.setdefault("机构", []).append(span)  # 南屏市公安局: a listed place and an organisation's ending, by its shape
            listed.append(span)
            continue
        return None  # a name of the body the analyser missed (魔蝎科技, 亚伯拉罕·林肯): the list would be incomplete
    if any(len(v) > 8 for v in found.values()):
        return None
    return "\n".join(f"{k}：{'、'.join(v)}" for k, v in found.items() if v)


@derivation("named_sources", "who is quoted or cited (list)")
def _named_sources(a: Article):
    text = "\n".join(a.paragraphs)
    out = tk.named_sources(text)
    if tk.analyser() == "lac":  # a speaker the patterns missed (a foreign name, 普京则表示): LAC's person before a speech verb
        for who in tk.named_entities(a.paragraphs, text)["人物"]:
            if not any(who in o for o in out) and re.search(re.escape(who) + tk.SPEAKS_AFTER, text):
                out.append(who)
        out.sort(key=lambda w: text.find(w))
        for who in tk.named_entities(a.paragraphs, text)["人物"]:  # one who speaks further on in the sentence (菲利普8日在接受…时表示)
            if not any(who in o for o in out) and re.search(re.escape(who) + r"[^。！？“”]{0,30}?(?:表示|说|称|指出|透露|强调)", text):
                return None  # the list would miss a speaker: no item rather than an incomplete one
    return out if len(out) >= 2 else None


@derivation("named_sources_text", "numbered named sources")
def _named_sources_text(a: Article):
    ns = a.get("named_sources")
    return numbered(ns) if ns else None


@derivation("quotes", "direct quotations with their speakers")
def _quotes(a: Article):
    out = []
    for p in a.paragraphs:
        for s in tk.split_sentences(p):
            m = tk.DIRECT_QUOTE.search(s)
            if not m or not re.search(r"[，。！？]", m.group(1)):
                continue
            rest = s[: m.start()] + s[m.end():]
            who = tk.named_sources(rest.replace("“", "").replace("”", "") + "说")
            if not who:
                return None  # a quotation whose speaker code cannot name: no complete, correct list to offer
            out.append(f"“{m.group(1)}”——{who[0]}")
    return numbered(out) if out else None


@derivation("number_facts", "sentences that carry figures, each with its figures")
def _number_facts(a: Article):
    out, seen = [], set()
    for p in a.paragraphs:
        for s in tk.split_sentences(tk.strip_dateline(p)):
            nums = [n for n in tk.key_figures(s) if n not in seen]
            if nums:  # a figure already listed (6亿人次 in the lead and again in a quote) is listed once, where it first comes
                seen.update(nums)
                out.append(f"{'、'.join(nums)}：{s}")
    return numbered(out) if 3 <= len(out) <= 10 else None  # all of them (the answer must be complete), or no item


@derivation("timeline", "dated sentences in the order told, as a timeline")
def _timeline(a: Article):
    rows, seen = [], set()
    for p in a.paragraphs:
        for s in tk.split_sentences(tk.strip_dateline(p)):
            d = tk.dates(s)
            if d and d[0] not in seen and len(s) <= 160:
                seen.add(d[0])
                event = s[len(d[0]):].lstrip("，, ") if re.match(re.escape(d[0]) + r"[，,\s]", s) else s
                rows.append(f"{d[0]}：{event}")
    return "\n".join(rows) if len(rows) >= 2 else None


@derivation("five_w", "时间、地点、主体、事件 from the lead and title")
def _five_w(a: Article):
    lead, title = a.get("lead"), a.get("title")
    if not lead or not title:
        return None
    when = tk.dates(lead)
    ents = tk.named_entities([lead])
    places = ents["地点"]
    who = tk.named_sources(lead)  # the subject is who acts or speaks in the lead; never a guessed noun
    if not when or not places:
        return None
    rows = [f"时间：{when[0]}", f"地点：{places[0]}"]
    if who:
        rows.append(f"主体：{who[0]}")
    rows.append(f"事件：{title}")
    rest = a.get("lead_rest")
    if rest:
        rows.append(f"结果与影响：{first_sentence(rest)}")
    return "\n".join(rows)


@derivation("fact_check", "checkable claims: figures, dates and attributed statements")
def _fact_check(a: Article):
    rows, seen = [], set()
    for p in a.paragraphs:
        for s in tk.split_sentences(tk.strip_dateline(p)):
            if re.search(r"提醒|建议|呼吁|未来[一二三四五六七八九十两几\d]+[天日周月年]|请(?:广大|市民|游客|乘客)", s):
                continue  # advice and forecasts are no facts to check
            what = []
            ds = tk.dates(s)
            nums = [n for n in tk.numbers(s) if not any(n in d for d in ds)  # 2019 of 2019年 is the date, checked once
                    and not re.fullmatch(r"第?[一二三四五六七八九十\d]+[期届次批轮]", n)]  # 二期, 第26次: an ordinal, not a figure
            if nums and set(nums) <= seen:
                continue  # the same figure again (6亿人次 in the lead and in the quote): checked once
            seen.update(nums)
            if nums:
                what.append("数字" + "、".join(dict.fromkeys(nums[:3])))
            if ds:
                what.append("时间" + ds[0])
            src = tk.named_sources(s)
            if src:
                what.append("信源" + src[0])
            if len(what) >= 2 and len(s) <= 160:
                rows.append(f"{s}（核实：{'；'.join(what)}）")
    return numbered(rows[:6]) if len(rows) >= 2 else None
