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

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import tomllib

RULES_FILE = Path(__file__).with_name("boilerplate_rules.toml")
MAX_EXTRA_LINE = 90  # user-supplied patterns (boilerplate_extra) act on lines up to this long, anywhere

_LIST_MARK = re.compile(r"^(?:[-–—•·*]\s*)+")
_CELL_MARKS = re.compile(r"^[|\s]+|[|\s]+$")  # a layout-table cell rendered as "| text |"
_KEYWORD_SEP = re.compile(r"[_|]")
_SENTENCE = re.compile(r"[。！？!?；;…]")
_REPOST_THEN_BODY = re.compile(r"^[（(]?\s*(?:本文)?原(?:标)?题为?\s*[:：]?\s*《[^》]{1,80}》[）)]?\s*(\S.{7,})$")
# a menu row above or below the article: three or more short words side by side (医院名 医院概况 科室导航)
_MENU_LINE = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9]{1,10}(?:[ \u3000]+(?:\|[ \u3000]+)?[\u4e00-\u9fffA-Za-z0-9]{1,6}){2,}$")
_HEADLINE_END = re.compile(r"[。！？!?；;…”」』）)]$")


@lru_cache(maxsize=4)
def load_rules(path: str = str(RULES_FILE)) -> dict:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    rules = {"line": [], "edge": [], "tail": None, "min_body_chars": 200}
    for family, spec in data.items():
        pattern = re.compile("|".join(f"(?:{p})" for p in spec["patterns"]))
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


def is_prose(line: str) -> bool:
    """A line that reads as article text: a sentence of some length, or a long line (not a keyword string)."""
    n = len(line)
    if n >= 60:
        return not is_keyword_line(line)
    return n >= 16 and bool(_SENTENCE.search(line))


@dataclass
class BoilerplateRemover:
    extra: list[str] = field(default_factory=list)
    rules_file: str = str(RULES_FILE)

    def __post_init__(self):
        rules = load_rules(self.rules_file)
        self.line_rules = list(rules["line"])
        self.edge_rules = rules["edge"]
        self.tail_re = rules["tail"]
        self.min_body_chars = rules["min_body_chars"]
        self.extra_re = re.compile("|".join(f"(?:{p})" for p in self.extra)) if self.extra else None
        # one anchored alternation answers "could any line family match?" in a single pass per line
        self.any_line = re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern, _ in self.line_rules)) if self.line_rules else None
        self.max_line = max((m for _, _, m in self.line_rules), default=0)

    def _line_family(self, s: str) -> str | None:
        if s[:1] == "|":
            s = _CELL_MARKS.sub("", s)
        bare = _LIST_MARK.sub("", s) if s[:1] in "-–—•·*" else s
        if self.any_line is None or len(bare) > self.max_line or not self.any_line.match(bare):
            families = ()
        else:
            families = self.line_rules
        for family, pattern, max_len in families:
            if len(bare) <= max_len and pattern.match(bare):
                return family
        if self.extra_re is not None and len(s) <= MAX_EXTRA_LINE and self.extra_re.search(s):
            return "extra"
        return None

    def _edge_family(self, s: str) -> str | None:
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
        return None

    def explain(self, text: str, tail: bool = True, head: bool = True, link_pages: bool = False) -> tuple[str, list[tuple[str, str]]]:
        """Return (cleaned text, [(family, removed line), …]). ``head``/``tail`` False: this page has no
        leading/trailing furniture of its own (a page in the middle of a document). ``link_pages``: the text is
        a web page's extraction, so a text without any prose line is a list of links or a menu, and a short line
        above the article is a menu word (a poem in a text file or 前言 heading a PDF page is neither)."""
        lines = text.split("\n")
        idx = [i for i, line in enumerate(lines) if line.strip()]
        fam: dict[int, str] = {}
        strip = {i: lines[i].strip() for i in idx}
        trimmed: list[tuple[str, str]] = []
        for i in idx:
            f = self._line_family(strip[i])
            if f == "repost":
                m = _REPOST_THEN_BODY.match(strip[i])
                if m:  # 原标题：《…》 run together with the first sentence: drop the header, keep the sentence
                    trimmed.append(("repost", strip[i][: m.start(1)].strip()))
                    lines[i] = strip[i] = m.group(1)
                    continue
            if f:
                fam[i] = f
        body = [i for i in idx if i not in fam and is_prose(_LIST_MARK.sub("", strip[i]))]
        end = len(lines)
        if tail and self.tail_re is not None:
            for n, i in enumerate(idx):
                bare = _LIST_MARK.sub("", strip[i])
                if len(bare) <= 400 and self.tail_re.match(bare):
                    before = sum(len(strip[b]) for b in body if b < i)
                    after = sum(len(strip[b]) for b in body if b > i)
                    if before >= self.min_body_chars and before >= after:
                        end = i
                        for j in idx[n:]:
                            fam.setdefault(j, "tail")
                        break
        live = [i for i in idx if i < end and i not in fam]
        edge: dict[int, str | None] = {}

        def edge_of(i: int) -> str | None:
            if i not in edge:
                edge[i] = self._edge_family(strip[i])
            return edge[i]

        def is_body(i: int) -> bool:
            return is_prose(_LIST_MARK.sub("", strip[i])) and edge_of(i) is None

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
            if f is None and link_page and not _HEADLINE_END.search(strip[i]) and len(strip[i]) <= 40:
                f = "link_list"
            if f is None and link_pages and i < first and i != lone_heading and len(strip[i]) <= 6 and not re.search(r"[。！？!?；;…:：]", strip[i]):
                f = "nav"  # a breadcrumb's last crumb or a menu word above the article
            if f:
                fam[i] = f
        if not fam and not trimmed:
            return text.strip(), []
        kept = [line for i, line in enumerate(lines) if i not in fam]
        removed = trimmed + [(fam[i], strip[i]) for i in idx if i in fam]
        return "\n".join(kept).strip(), removed

    def __call__(self, text: str, tail: bool = True, head: bool = True) -> tuple[str, int, int]:
        """Return (cleaned text, lines removed by line/edge rules, lines cut with the tail)."""
        out, removed = self.explain(text, tail=tail, head=head)
        cut = sum(1 for f, _ in removed if f == "tail")
        return out, len(removed) - cut, cut
