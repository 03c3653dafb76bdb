"""An article and the named derivations a template may use (``{{ lead }}``, ``{{ keywords }}`` …).

A derivation takes an ``Article`` and returns a string, a list (for ``each`` sub-categories: one item
per element) or ``None`` when the article does not have it; ``None`` or an empty value routes the
article away from every sub-category that requires it, with a counted reason (``missing_<name>``).
Values are computed once per article, and only when a template asks for them.
"""

from __future__ import annotations

import random
import re
from typing import Any, Callable

import xxhash

from . import textkit as tk

Derivation = Callable[["Article"], Any]
DERIVATIONS: dict[str, Derivation] = {}
DESCRIPTIONS: dict[str, str] = {}


def derivation(name: str, doc: str):
    def deco(fn: Derivation) -> Derivation:
        DERIVATIONS[name] = fn
        DESCRIPTIONS[name] = doc
        return fn
    return deco


class Article:
    """A corpus document, its genre and lazily computed derivations."""

    def __init__(self, doc: dict[str, Any], genre: str = "news", genre_name: str = "新闻",
                 genre_evidence: tuple[str, ...] = (), topic_of: Callable[[str], str | None] | None = None):
        self.doc = doc
        self.id = doc["id"]
        self.genre = genre
        self.genre_name = genre_name
        self.genre_evidence = genre_evidence
        self._topic_of = topic_of
        self._cache: dict[str, Any] = {}
        self.blocks = self._blocks()

    def get(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = DERIVATIONS[name](self)
        return self._cache[name]

    def rng(self, salt: str) -> random.Random:
        return random.Random(xxhash.xxh3_64_intdigest(f"{self.id}:{salt}".encode("utf-8")))

    # -- structure -------------------------------------------------------------------------------
    def _blocks(self) -> list[tuple[str, str]]:
        """('heading'|'para', text) in order; a first line repeating the title is dropped."""
        title = (self.doc.get("title") or "").strip()
        out: list[tuple[str, str]] = []
        for i, p in enumerate(tk.split_paragraphs(self.doc.get("text") or "")):
            if i == 0 and title and p.replace(" ", "") == title.replace(" ", ""):
                continue
            m = tk.MD_HEADING.match(p)
            if m:
                out.append(("heading", m.group(1)))
                continue
            n = tk.NUMBERED.match(p)
            if n and len(p) <= 30 and not re.search(r"[。！？]", p[:-1]):
                out.append(("heading", p.rstrip("。：:")))
                continue
            if out and len(p) <= 16 and not re.search(r"[，。！？：；、“”,.!?:;]", p):
                out.append(("heading", p))  # a markdown heading whose ## the corpus stage removed
                continue
            out.append(("para", p))
        return out

    @property
    def tokens(self) -> list[tuple[str, str]]:
        """jieba tokens of the title and every block, each cut once."""
        if "_tokens" not in self._cache:
            self._cache["_tokens"] = tk.tokens_of([self.doc.get("title") or ""] + self.text_lines)
        return self._cache["_tokens"]

    @property
    def paragraphs(self) -> list[str]:
        return [t for k, t in self.blocks if k == "para"]

    @property
    def text_lines(self) -> list[str]:
        return [t for _, t in self.blocks]


def _numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def _first_sentence(p: str) -> str:
    s = tk.split_sentences(p)
    return s[0] if s else p


# -- the article itself ------------------------------------------------------------------------
@derivation("title", "the article's own title")
def _title(a: Article):
    t = (a.doc.get("title") or "").strip()
    return t if 4 <= len(t) <= 60 else None


@derivation("body", "the full text, headings as plain lines")
def _body(a: Article):
    return "\n".join(a.text_lines) or None


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
    if not a.genre_evidence:
        return None
    return f"体裁：{a.genre_name}\n判断依据：" + "；".join(a.genre_evidence[:4]) + "。"


@derivation("word_count", "characters without whitespace")
def _word_count(a: Article):
    return str(tk.cjk_len(_body(a) or ""))


# -- lead and paragraphs -----------------------------------------------------------------------
@derivation("lead", "the first paragraph without its dateline (a news lead)")
def _lead(a: Article):
    if not a.paragraphs:
        return None
    lead = tk.strip_dateline(a.paragraphs[0])
    return lead if 30 <= len(lead) <= 320 and lead[-1] in "。！？”" else None


@derivation("lead_first_sentence", "the lead's first sentence: a one-sentence news")
def _lead_first(a: Article):
    lead = a.get("lead")
    if not lead:
        return None
    s = _first_sentence(lead)
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
    extra = _first_sentence(a.paragraphs[1])
    brief = lead + extra
    return brief if len(brief) <= 320 else lead


@derivation("second_paragraph", "the paragraph after the lead")
def _second_paragraph(a: Article):
    return a.paragraphs[1] if len(a.paragraphs) >= 3 and len(a.paragraphs[1]) >= 40 else None


@derivation("first_paragraph", "the opening paragraph as written")
def _first_paragraph(a: Article):
    return a.paragraphs[0] if len(a.paragraphs) >= 3 else None


@derivation("last_paragraph", "the closing paragraph")
def _last_paragraph(a: Article):
    return a.paragraphs[-1] if len(a.paragraphs) >= 3 and len(a.paragraphs[-1]) >= 40 else None


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
    out = [_first_sentence(tk.strip_dateline(p)) for p in a.paragraphs]
    return out if len(out) >= 3 else None


@derivation("outline", "a numbered outline: headings if the article has them, else paragraph topic sentences")
def _outline(a: Article):
    heads = [t for k, t in a.blocks if k == "heading"]
    if len(heads) >= 3:
        return _numbered(heads)
    ts = a.get("topic_sentences")
    if not ts or len(ts) < 4:
        return None
    return _numbered([s for s in ts if len(s) <= 80])


@derivation("abridged", "the lead and the topic sentence of every later paragraph: an extractive condensation")
def _abridged(a: Article):
    body = _body(a) or ""
    if tk.cjk_len(body) < 500 or len(a.paragraphs) < 4:
        return None
    parts = [tk.strip_dateline(a.paragraphs[0])] + [_first_sentence(p) for p in a.paragraphs[1:]]
    out = "".join(parts)
    return out if tk.cjk_len(out) <= 0.6 * tk.cjk_len(body) else None


# -- keywords, topics, entities ------------------------------------------------------------------
@derivation("keyword_list", "jieba TF-IDF keywords (list)")
def _keyword_list(a: Article):
    kw = tk.keywords_tfidf(a.tokens, 8)
    return kw if len(kw) >= 4 else None


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
    words = tk.keywords_textrank(a.tokens, 6)
    topic = a.get("topic")
    tags = ([topic] if topic else []) + [w for w in words if w != topic]
    return "、".join(f"#{t}" for t in tags[:6]) if len(tags) >= 3 else None


@derivation("topic", "the event category from genres.toml topics (交通, 教育 …)")
def _topic(a: Article):
    if a._topic_of is None:
        return None
    return a._topic_of(f"{a.doc.get('title') or ''}\n{_body(a) or ''}")


@derivation("entities", "people, places and organisations (jieba part-of-speech)")
def _entities(a: Article):
    found = tk.entities_of(a.tokens)
    kinds = [k for k, v in found.items() if v]
    if len(kinds) < 2:
        return None
    return "\n".join(f"{k}：{'、'.join(v[:8])}" for k, v in found.items() if v)


@derivation("named_sources", "who is quoted or cited (list)")
def _named_sources(a: Article):
    out = tk.named_sources("\n".join(a.paragraphs))
    return out if len(out) >= 2 else None


@derivation("named_sources_text", "numbered named sources")
def _named_sources_text(a: Article):
    ns = a.get("named_sources")
    return _numbered(ns) if ns else None


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
            speaker = who[0] if who else None
            if speaker:
                out.append(f"“{m.group(1)}”——{speaker}")
    return _numbered(out) if out else None


@derivation("number_facts", "sentences that carry figures, each with its figures")
def _number_facts(a: Article):
    out = []
    for p in a.paragraphs:
        for s in tk.split_sentences(tk.strip_dateline(p)):
            nums = tk.numbers(s)
            if nums and len(s) <= 160:
                out.append(f"{'、'.join(dict.fromkeys(nums))}：{s}")
    return _numbered(out[:8]) if len(out) >= 3 else None


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
    ents = tk.entities_of(tk.pos_tokens(lead))
    places = ents["地点"]
    who = tk.named_sources(lead) or ents["机构"] or ents["人物"]
    if not when or not places:
        return None
    rows = [f"时间：{when[0]}", f"地点：{places[0]}"]
    if who:
        rows.append(f"主体：{who[0]}")
    rows.append(f"事件：{title}")
    rest = a.get("lead_rest")
    if rest:
        rows.append(f"结果与影响：{_first_sentence(rest)}")
    return "\n".join(rows)


@derivation("fact_check", "checkable claims: figures, dates and attributed statements")
def _fact_check(a: Article):
    rows = []
    for p in a.paragraphs:
        for s in tk.split_sentences(tk.strip_dateline(p)):
            what = []
            nums = tk.numbers(s)
            if nums:
                what.append("数字" + "、".join(dict.fromkeys(nums[:3])))
            ds = tk.dates(s)
            if ds:
                what.append("时间" + ds[0])
            src = tk.named_sources(s)
            if src:
                what.append("信源" + src[0])
            if len(what) >= 2 and len(s) <= 160:
                rows.append(f"{s}（核实：{'；'.join(what)}）")
    return _numbered(rows[:6]) if len(rows) >= 2 else None


# -- commentary --------------------------------------------------------------------------------
THESIS = re.compile(r"我们认为|笔者认为|在我们看来|说到底|归根结底|关键在于|值得警惕|应当|必须")


@derivation("thesis", "the central claim of a commentary (我们认为 … / 应当 …)")
def _thesis(a: Article):
    sentences = [s for p in a.paragraphs for s in tk.split_sentences(p)]
    for marker in ("我们认为", "笔者认为", "在我们看来"):
        for s in sentences:
            if marker in s:
                i = s.index(marker)
                return s[i:].lstrip("，,") if i < len(s) - 10 else s
    first_last = tk.split_sentences(a.paragraphs[0]) + tk.split_sentences(a.paragraphs[-1]) if a.paragraphs else []
    for s in first_last:
        if THESIS.search(s) and 12 <= len(s) <= 120:
            return s
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
    middle = [_first_sentence(p) for p in a.paragraphs[1:-1]]
    middle = [s for s in middle if 8 <= len(s) <= 100]
    if len(middle) < 2:
        return None
    end = _first_sentence(a.paragraphs[-1])
    return f"中心论点：{thesis}\n分论点：\n{_numbered(middle)}\n结论：{end}"


@derivation("argument_paragraphs", "middle paragraphs with their topic sentence and keywords (list)")
def _argument_paragraphs(a: Article):
    out = []
    for p in a.paragraphs[1:-1]:
        sents = tk.split_sentences(p)
        if len(p) < 60 or len(sents) < 2:
            continue
        kw = tk.keywords(p, 5)
        out.append({"text": p, "topic_sentence": sents[0], "keywords": "、".join(kw),
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
        return _body(a)
    return None


# -- structured pieces: sections, steps, rules, interviews -------------------------------------------
@derivation("sections", "headed sections: {heading, text} (list)")
def _sections(a: Article):
    out, head, buf = [], None, []
    for kind, t in a.blocks + [("heading", "")]:
        if kind == "heading":
            if head and buf and sum(len(x) for x in buf) >= 40:
                out.append({"heading": re.sub(r"^(?:[一二三四五六七八九十]{1,3}、|\d{1,2}[.、．]|第[一二三四五六七八九十\d]{1,3}[章节步]\s*)", "", head).strip(), "text": "\n".join(buf)})
            head, buf = t, []
        elif head:
            buf.append(t)
    return out if len(out) >= 2 else None


@derivation("section_headings", "the headings as a numbered list (steps of a tutorial)")
def _section_headings(a: Article):
    secs = a.get("sections")
    return _numbered([s["heading"] for s in secs]) if secs and len(secs) >= 3 else None


CHAPTER_RUN_ON = re.compile(r"^第[一二三四五六七八九十\d]{1,3}章\s*((\S{2})\S{0,6}?)(?=\s|\2)")


@derivation("rules", "numbered rules inside chapters: {chapter, heading, text} (list)")
def _rules(a: Article):
    out, chapter = [], None
    for kind, t in a.blocks:
        if kind == "heading":
            chapter = re.sub(r"^第[一二三四五六七八九十\d]{1,3}章\s*", "", t)
            continue
        m = CHAPTER_RUN_ON.match(t)
        if m:  # 第一章标题写作标题是…: a heading run into its first line by PDF extraction
            chapter = m.group(1)
            continue
        m = re.match(r"^([一二三四五六七八九十]{1,3})、(.+?)[。：]", t)
        if m and chapter and len(t) >= 30:
            out.append({"chapter": chapter, "heading": m.group(2), "text": t[m.end():].strip() or t})
    return out if len(out) >= 2 else None


@derivation("chapters", "chapters with their numbered rules: {chapter, text} (list)")
def _chapters(a: Article):
    rules = a.get("rules")
    if not rules:
        return None
    out: dict[str, list[str]] = {}
    for r in rules:
        out.setdefault(r["chapter"], []).append(f"{r['heading']}：{r['text']}")
    return [{"chapter": c, "text": _numbered(v)} for c, v in out.items() if len(v) >= 2] or None


QUESTION = re.compile(r"^(?:记者|问|Q|主持人|本报)[:：]\s*(.+)$")
ANSWER = re.compile(r"^(?:答|A|[\u4e00-\u9fff·]{2,6})[:：]\s*(.+)$")


@derivation("qa_turns", "interview turns: {question, answer} (list)")
def _qa_turns(a: Article):
    out, q, ans = [], None, []
    for p in a.paragraphs + ["问：END"]:
        mq = QUESTION.match(p)
        if mq:
            if q and ans:
                out.append({"question": q, "answer": "\n".join(ans)})
            q, ans = mq.group(1), []
            continue
        ma = ANSWER.match(p)
        if q is not None:
            ans.append(ma.group(1) if ma else p)
    out = [t for t in out if len(t["answer"]) >= 30 and t["question"] != "END"]
    return out if len(out) >= 2 else None


@derivation("interview_questions", "the reporter's questions, numbered")
def _interview_questions(a: Article):
    turns = a.get("qa_turns")
    return _numbered([t["question"] for t in turns]) if turns and len(turns) >= 3 else None


@derivation("interviewee", "who is interviewed, from 专访/对话 X：… titles")
def _interviewee(a: Article):
    m = re.match(r"^(?:专访|对话|访谈|独家专访|面对面)[|｜丨]?\s*(.{2,30}?)[：:]", a.doc.get("title") or "")
    return m.group(1) if m else None


@derivation("interview_topic", "the interview's theme: the title after the colon")
def _interview_topic(a: Article):
    m = re.match(r"^(?:专访|对话|访谈|独家专访|面对面).{2,30}?[：:](.+)$", a.doc.get("title") or "")
    return m.group(1).strip() if m else None


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


@derivation("definitions", "definitional sentences: {term, text} (list)")
def _definitions(a: Article):
    out, seen = [], set()
    sents = [s for p in a.paragraphs for s in tk.split_sentences(p)]
    for i, s in enumerate(sents):
        m = tk.DEFINITION_SUOWEI.search(s) or tk.DEFINITION.search(s)
        if not m:
            continue
        term = m.group(1)
        if (term in seen or len(term) < 2 or re.match(r"^(这|那|它|其|也|就|这种|这个|一个)", term)
                or re.search(r"[零一二三四五六七八九十百千万\d]+[款个种条次]|以内|以上|以下|之后|之前", term)):
            continue
        seen.add(term)
        text = s + (sents[i + 1] if i + 1 < len(sents) and len(s) < 60 else "")
        out.append({"term": term, "text": text})
    return out or None


@derivation("pitfalls", "sentences warning what not to do (不要/避免/切忌/误区)")
def _pitfalls(a: Article):
    rows = [s for p in a.paragraphs for s in tk.split_sentences(p)
            if re.search(r"不要|避免|切忌|误区|千万别|不能|禁止|杜绝", s) and 10 <= len(s) <= 150]
    return _numbered(rows[:6]) if len(rows) >= 2 else None


@derivation("subject", "what the article is about: the title before any colon or comma")
def _subject(a: Article):
    t = a.doc.get("title") or ""
    head = re.split(r"[：:，,？?！!]", t)[0].strip()
    return head if 2 <= len(head) <= 30 else None


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
TYPO_SWAPS = [(a, b) for a, b in TYPO_SWAPS if a != b and b not in ("其它", "涵义")]  # both forms accepted: not errors
TYPO_RULES = [(re.compile(r"(认真|仔细|慢慢|默默|悄悄|笑着|紧紧)地"), r"\1的"), (re.compile(r"得(很|非常|更加|十分)"), r"的\1")]


def _typo_version(rng: random.Random, text: str) -> tuple[str, list[str]] | None:
    """The paragraph with one to three typical typos, and the corrections; None if none applies."""
    present = [(a, b) for a, b in TYPO_SWAPS if a in text]
    chosen = rng.sample(present, min(3, len(present)))
    out = text
    fixes = []
    for right, wrong in chosen:
        out = out.replace(right, wrong, 1)
        fixes.append(f"{wrong}→{right}")
    for pat, repl in TYPO_RULES:
        m = pat.search(out)
        if m and len(fixes) < 3:
            wrong = pat.sub(repl, m.group(0), count=1)
            out = out[: m.start()] + wrong + out[m.end():]
            fixes.append(f"{wrong}→{m.group(0)}")
    return (out, fixes) if fixes else None


@derivation("edit_paragraphs", "body paragraphs with editing exercises: no punctuation, typos, traditional script (list)")
def _edit_paragraphs(a: Article):
    from opencc import OpenCC  # pure Python, loads its tables on first use

    cc = _opencc(OpenCC)
    out = []
    for i, p in enumerate(a.paragraphs[1:], 1):
        if not 80 <= len(p) <= 420 or tk.QUESTION_LINE.match(p):
            continue
        sents = tk.split_sentences(p)
        typo = _typo_version(a.rng(f"typo{i}"), p)
        trad = cc.convert(p)
        out.append({
            "text": p,
            "no_punct": PUNCT.sub(" ", p).replace("  ", " ").strip(),
            "sentences": "\n".join(f"- {s}" for s in sents) if len(sents) >= 3 else None,
            "typo": typo[0] if typo else None,
            "typo_fixes": "、".join(typo[1]) if typo else None,
            "traditional": trad if trad != p else None,
            "keywords": "、".join(tk.keywords(p, 5)),
        })
    return out or None


_CC: dict[str, Any] = {}


def _opencc(cls):
    if "s2t" not in _CC:
        _CC["s2t"] = cls("s2t")
    return _CC["s2t"]


@derivation("shuffled_paragraphs", "the paragraphs in a seeded shuffled order, labelled 【1】【2】…")
def _shuffled(a: Article):
    paras = a.paragraphs
    if not 4 <= len(paras) <= 10:
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
    return "\n".join(a.paragraphs) if 4 <= len(a.paragraphs) <= 10 else None


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
    return f"【{title}】{text}#{kw[0]}#"


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
