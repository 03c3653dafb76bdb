"""Files to raw documents: title, text, date, author. Cleaning happens after, in ``clean.py``.

Each reader takes the file bytes (or path) and returns ``RawDoc`` objects, or raises
``UnreadableFile`` with a one-line reason.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ...text.markup import field_text
from .decode import GB_ALIASES, DecodeError, decode_detail, distrust_latin
from .pdf import counted_warnings, join_pdf_lines, place_tables, recover_pages, strip_running_lines


class UnreadableFile(ValueError):
    """The file cannot be read: the message says why (reason code in ``.reason``)."""

    def __init__(self, reason: str, detail: str, raw: str | None = None):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.raw = raw  # the unreadable record as text, kept in rejected/ (nothing is lost)


@dataclass
class RawDoc:
    text: str
    title: str | None = None
    published: str | None = None
    author: str | None = None
    format: str = "txt"
    path_suffix: str = ""  # "#L12" for a JSONL record, "#row3" for CSV/Parquet
    meta: dict[str, Any] = field(default_factory=dict)


DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")
# The one byline pattern of every reader (text headers here, crawled pages in crawl.py): a label (记者, 作者, 撰文,
# 采写, 通讯员; 文 only with a mark after it, as in 文/张三, since alone it begins too many words), then a
# name of 2–5 characters (本报评论员 is one) and up to two more of 2–4, each ending where the Chinese text
# ends (记者从市政府获悉 is no byline; 记者 周航 上周六下午 names 周航 only).
BYLINE = re.compile(r"(?:(?:记者|作者|撰文|采写|通讯员)[\s:：/]*|文\s*[/／:：]\s*)"
                    r"([\u4e00-\u9fff·]{2,5}(?![\u4e00-\u9fff·])(?:[\s、，,]+[\u4e00-\u9fff·]{2,4}(?![\u4e00-\u9fff·])){0,2})")
BYLINE_SEPARATORS = re.compile(r"[\s、，,]+")


def byline_names(text: str) -> list[str]:
    """The names in the first byline of ``text`` (记者 张明 李华 -> [张明, 李华]); [] when there is none."""
    m = BYLINE.search(text)
    return [n for n in BYLINE_SEPARATORS.split(m.group(1)) if n] if m else []


SENTENCE_END = tuple("。！？!?…；;”」』）)")


def parse_date(text: str | None) -> str | None:
    if not text:
        return None
    m = DATE.search(str(text))
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        return None


def _decoded(data: bytes, encoding: str):
    try:
        return decode_detail(data, encoding)
    except DecodeError as exc:
        raise UnreadableFile("unreadable_encoding", str(exc)) from None


def _text_of(data: bytes, encoding: str) -> str:
    return _decoded(data, encoding).text


def _split_header(lines: list[str]) -> tuple[str | None, str | None, str | None, list[str]]:
    """Title (first short line without sentence punctuation), then a dateline/byline if present."""
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    title = published = author = None
    if i < len(lines):
        first = lines[i].strip().lstrip("#").strip()
        if 0 < len(first) <= 64 and not first.endswith(SENTENCE_END) and len(lines) - i > 1:
            title = first
            i += 1
    for _ in range(2):
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i < len(lines) and len(lines[i].strip()) <= 48:
            line = lines[i].strip()
            d = parse_date(line)
            names = byline_names(line)
            if d or (names and len(line) <= 24):
                published = published or d
                author = author or ("、".join(names) or None)
                i += 1
                continue
        break
    return title, published, author, lines[i:]


def read_txt(data: bytes, encoding: str = "auto") -> list[RawDoc]:
    d = _decoded(data, encoding)
    title, published, author, body = _split_header(d.text.splitlines())
    return [RawDoc(text="\n".join(body), title=title, published=published, author=author, format="txt", meta=_counts_meta(d))]


def _counts_meta(d) -> dict:
    """Decoding counters travel to the cleaner in meta["_counts"] (popped there, never stored)."""
    counts = d.counts()
    return {"_counts": counts} if counts else {}


FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def read_md(data: bytes, encoding: str = "auto") -> list[RawDoc]:
    d = _decoded(data, encoding)
    text = d.text
    meta: dict[str, str] = {}
    m = FRONT.match(text)
    if m:
        for line in m.group(1).splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                meta[k.strip().lower()] = v.strip().strip("'\"")
        text = text[m.end():]
    title = meta.get("title")
    lines = text.splitlines()
    if not title:
        for j, line in enumerate(lines):
            if line.strip():
                if line.lstrip().startswith("#"):
                    title = field_text(line.strip().lstrip("#").strip())
                    lines = lines[j + 1:]
                break
    # body markup (emphasis, links, lists) is turned into text by the cleaner's markup step, which counts it
    return [RawDoc(text="\n".join(lines), title=title, published=parse_date(meta.get("date")), author=meta.get("author"), format="md",
                   meta=_counts_meta(d))]


META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


def html_decode(data: bytes, encoding: str = "auto"):
    """Decode HTML: the meta charset when declared and believable, else detection. A latin-1/windows-1252
    declaration on bytes that read as Chinese is overruled (counted as decode_overruled_declaration)."""
    from .decode import Decoded

    if encoding == "auto":
        m = META_CHARSET.search(data[:4096])
        if m:
            declared = m.group(1).decode("ascii", "ignore").lower()
            declared = "gb18030" if declared in GB_ALIASES else declared
            better = distrust_latin(data, declared)
            if better is not None:
                better.overruled = 1
                return better
            try:
                text = data.decode(declared)
                return Decoded(text, declared, replacement_chars=text.count("\ufffd"))
            except (UnicodeDecodeError, LookupError):
                pass
    return _decoded(data, encoding)


def html_to_text(data: bytes, encoding: str = "auto") -> str:
    return html_decode(data, encoding).text


SITE_ENDINGS = "网|报|新闻|频道|在线|官网|客户端|日报|晚报|时报"  # how a site's name ends (新华网, 证券时报, 澜视新闻)
SITE_SUFFIX = re.compile(r"\s*(?:[_|\-–—]|\s-\s)\s*([^_|\-–—]{1,16}?(?:" + SITE_ENDINGS + r")[^_|\-–—]{0,6})\s*$"
                         # an ASCII double hyphen only ever separates the site's name (…活动--溪城市第一人民医院);
                         # the Chinese dash —— opens a subtitle and is left alone
                         r"|\s*--\s*([^_|\-–—]{2,20})\s*$")
SITE_NAME = re.compile(r"(?:" + SITE_ENDINGS + r"|电视台|广播电台|融媒|发布"
                       # an institution's own site (…-集团要闻-某城市建设投资集团有限公司, …-某市少年宫: blind batch 82)
                       r"|公司|集团|少年宫|文化馆|图书馆|博物馆|科技馆|档案馆|医院|大学|学院|学校|协会|商会|委员会|政府|中心"
                       # a bureau's or a club's (…-青岚市气象局, …-枫溪市弈林象棋俱乐部: blind batch 84)
                       r"|[市县区省]\w{0,8}局|俱乐部|联合会)$")
COMMENTATOR = r"(?:本报|本网|本台|本刊)(?:特约)?评论员"  # 本网评论员：… a byline before the headline (blind batch 77)
TITLE_PREFIX = re.compile(r"^(?:(?:原创|转载|独家|快讯)\s+|\[[\u4e00-\u9fff]{2,6}\]\s*"  # [本地新闻] a forum's board tag (blind batch 74)
                          r"|" + COMMENTATOR + r"\s*[:：]\s*)")
_COMMENTATOR_PREFIX = re.compile(r"\s*(" + COMMENTATOR + r")\s*[:：]")


def tidy_title(title: str | None, sitename: str | None = None) -> str | None:
    """Drop the site name that pages append to the headline (…_证券时报网, …-新华网) and 原创/转载 tags."""
    if not title:
        return None
    t = title.strip()
    head = t.split("_")[0].strip()
    if head != t and len(head) >= 6 and re.search(r"[\u4e00-\u9fff]", head):
        t = head  # …获刑_检察要闻_澄阳市临溪区人民检察院: an underscore only ever chains the column and the site (blind batch 42)
    parts = re.split(r"\s*(?:-|\||｜)\s*", t)
    if len(parts) >= 3 and len(parts[0]) >= 6 and any(SITE_NAME.search(x) for x in parts[1:]):
        t = parts[0]  # 预付卡退费难？…请收好-汀阳新闻网-消费维权: the site and its column chained by hyphens (blind batch 53)
    parts = re.split(r"\s*-\s*", t)
    if len(parts) == 2 and len(parts[0]) >= 6 and SITE_NAME.search(parts[1]) and len(parts[1]) <= 20:
        t = parts[0]  # 我宫学员在全省…获得4个一等奖-青梧市少年宫: a headline, then the institution's name (blind batch 82)
    m = re.fullmatch(r"(.{6,}?)\s+-\s+([\u4e00-\u9fff]{2,8})", t)
    if m:
        t = m.group(1)  # 开演前的九十分钟 - 剧院故事: a spaced hyphen before a short column name (blind batch 81)
    for _ in range(2):  # …-新闻动态-枫亭市文化馆: the column, then the site (blind batch 72)
        m = re.fullmatch(r"(.{8,}[^\d\s-])-([\u4e00-\u9fff]{2,12})", t)
        if m and re.search(r"[，,\s：:]", m.group(1)):
            t = m.group(1)  # 在第41公里，他们为陌生人喊到嗓子哑-枫港国际马拉松: a headline, then the site's name (blind round 40)
    for _ in range(2):
        m = SITE_SUFFIX.search(t)
        if m and len(t) - len(m.group(0)) >= 6:
            t = t[: m.start()].rstrip()
        elif sitename and t.endswith(sitename) and len(t) > len(sitename) + 6:
            t = t[: -len(sitename)].rstrip(" _-|–—")
    t = _DIGIT_UNIT_SPACE.sub(r"\1\2", t.rstrip(" _-|–—:："))
    return TITLE_PREFIX.sub("", t) or None


_DIGIT_UNIT_SPACE = re.compile(r"(\d)[ \u3000]+([年月日号])")


_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.S | re.I)
_H1_TAG = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S | re.I)
_OG_TITLE = re.compile(r"""<meta[^>]+property\s*=\s*["']og:title["'][^>]*content\s*=\s*["']([^"']*)["']""", re.I)
_ANY_TAG = re.compile(r"<[^>]+>")


def _page_text(fragment: str) -> str:
    import html as htmlmod

    return re.sub(r"\s+", " ", htmlmod.unescape(_ANY_TAG.sub("", fragment))).strip()


_ORIGINAL_TITLE = re.compile(r"原标题\s*[:：]\s*(?:《([^》<>]{4,100})》|([^<>《》\n]{4,100}?)\s*(?:<|\n))")
_HEADING_XPATH = ("//h1|//h2|//h3|//h4|//h5|//h6|//*[contains(@class,'title') or contains(@class,'Title')"
                  " or contains(@id,'title')]|//meta[@name='ArticleTitle' or @name='articletitle']")


def _headings(html: str) -> list[str]:
    """Texts of the page's heading elements (h1–h6, elements whose class or id says title, meta ArticleTitle)."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html[:400_000])
    except (etree.ParserError, ValueError):
        return []
    out = []
    for el in tree.xpath(_HEADING_XPATH):
        if not isinstance(el.tag, str) or el.tag in ("title", "head", "body", "html", "script", "style"):
            continue
        if el.tag != "meta" and (el.xpath("ancestor-or-self::a") or el.xpath(".//a")):
            continue  # a linked heading is another page's headline (related lists, logos), not this page's
        text = el.get("content", "") if el.tag == "meta" else el.text_content()
        text = re.sub(r"\s+", " ", text).strip()
        if 6 <= len(text) <= 80:
            out.append(text)
    return out


def _bigram_share(text: str, body: str) -> float:
    grams = {text[i:i + 2] for i in range(len(text) - 1)}
    return sum(g in body for g in grams) / len(grams) if grams else 0.0


def choose_title(html: str, extracted: str | None, sitename: str | None = None, body: str = "") -> str | None:
    """The headline, site-name and column affixes stripped, checked against the page.

    First trafilatura's title against og:title, <h1> and <title> (:func:`_confirmed_title`); then, against the
    page's own evidence: the 原标题 (original title) a repost names restores a title cut short (``…无敌免...``)
    or carrying an injected prefix (``[广告词]headline``), but not a column tag the site dropped (``视界丨``); a heading of the page that the <title> starts with
    replaces a title that only adds a column name to it (``headline 东区办事处``) or that the <title> does not
    contain at all (a logo's text in <h1>); and when the title shares little with the article body while a
    heading of the page shares most of it, the heading wins (a <title> that names only the section). Linked
    headings (related lists, logos) are never candidates."""
    from ...text.normalize import compare_form

    t = _confirmed_title(html, extracted, sitename)
    if not t:
        return t
    def subtitle(h: str) -> bool:  # ——全市首批5条特色夜市街区运营情况调查: the line under a headline
        return bool(re.match(r"^\s*[—–-]{1,2}", h))

    ct = compare_form(t)
    m = _ORIGINAL_TITLE.search(html[:400_000])
    if m:
        original = tidy_title(_page_text(m.group(1) or m.group(2)), sitename)
        co = compare_form(original or "")
        cut = t.rstrip().endswith(("...", "…", "。。。"))
        # the page's title is the original plus something set apart ([某某面霜]…, …| 广告): an injected affix; a
        # title the reposting site reworded (连涨三周！… became 猪价连涨三周，…) is the page's own and stays
        affix = t.replace(original or "", "", 1).strip() if original and original in t else None
        injected = affix is not None and bool(re.fullmatch(r"[\[【〔（(][^\]】〕）)]{1,20}[\]】〕）)]|[^\s]{0,20}\s*[|｜_]\s*[^\s]{0,20}", affix))
        if len(co) >= 6 and co != ct and ((co in ct and injected) or (cut and ct in co)):
            return original
    tm = _TITLE_TAG.search(html[:200_000])
    cpage = compare_form(_page_text(tm.group(1))) if tm else ""
    # a repost's 原标题：《…》 line is the original's title, never this page's (only the step above may use it)
    heads = [(h, compare_form(h)) for h in _headings(html) if not re.match(r"^[（(]?\s*原标?题", h) and not subtitle(h)]
    # a heading the <title> starts with (after at most a short column prefix) that the chosen title extends
    inside = [(h, ch) for h, ch in heads if len(ch) >= 6 and ch != ct and 0 <= cpage.find(ch) <= 12]
    shorter = [(h, ch) for h, ch in inside if ct.startswith(ch) or ct.endswith(ch)]
    if shorter:
        return max(shorter, key=lambda x: len(x[1]))[0]
    if cpage and ct not in cpage:
        starts = [(h, ch) for h, ch in inside if len(ch) >= 8]
        if starts:
            return min(starts, key=lambda x: (cpage.find(x[1]), -len(x[1])))[0]
    # a title that the page's <h1> states too is the page's headline, however little of it the body repeats (a
    # paper's title); a heading that is a line of the body is a section of it (四、结论与政策建议), never the headline
    # (an <h1> that only names the column, 通知公告 over the notice's own heading, says nothing: a short title or the
    # site's name is not confirmed by it)
    h1_says = len(ct) >= 8 and ct != compare_form(sitename or "") and any(
        compare_form(_page_text(h)) == ct for h in _H1_TAG.findall(html[:200_000]))
    if body and not h1_says:
        cbody = compare_form(body[:3000])
        share = _bigram_share(ct, cbody)
        if share < 0.5:
            # a line of the body after its first (extractors repeat the headline on top) is a section of it
            lines = {compare_form(x) for x in [x for x in body.split("\n") if x.strip()][1:]}
            scored = [(_bigram_share(ch, cbody), h) for h, ch in heads if len(ch) >= 8 and ch not in lines]
            best = max(scored, default=(0.0, None))
            if best[0] >= 0.7 and best[0] >= share + 0.3:
                return best[1]
    return t


def _confirmed_title(html: str, extracted: str | None, sitename: str | None = None) -> str | None:
    """trafilatura's title is kept when the page's <title>, og:title or an <h1> confirms it; when an <h1>
    extends it (a title cut at a quote mark) the <h1> wins; when nothing confirms it (a title taken from a
    related-article block) the page's own <title> wins."""
    from ...text.normalize import compare_form

    head = html[:200_000]
    m = _TITLE_TAG.search(head)
    page = tidy_title(_page_text(m.group(1)), sitename) if m else None
    og = _OG_TITLE.search(head)
    og_title = tidy_title(_page_text(og.group(1)), sitename) if og else None
    h1s = [t for t in (_page_text(h) for h in _H1_TAG.findall(head)) if 4 <= len(t) <= 120]
    t = tidy_title(extracted, sitename)
    if not t:
        return page or og_title or (h1s[0] if h1s else None)
    ct = compare_form(t)
    for h in h1s:
        ch = compare_form(h)
        if len(ch) > len(ct) and ch.startswith(ct) and (not page or ch in compare_form(page) or compare_form(page) in ch):
            return h
    confirmed = [c for c in [page, og_title, *h1s] if c and (ct in compare_form(c) or compare_form(c) in ct)]
    if confirmed or not page:
        return t
    return page


_AUTHOR_LABEL = re.compile(r"^(?:作者|记者|文|撰文|通讯员|编辑)\s*[:：/|｜]?\s*")
_AUTHOR_EDITOR = re.compile(r"\s*(?:责任编辑|责编|编辑|审核|校对)\s*[:：].*$")
_AUTHOR_JUNK = re.compile(r"(?i)\b(?:name|e-?mail|com|net|admin|editor|unknown|null|none)\b|未知|佚名|匿名|授权|关注|登录|注册|必读|[@#<>{}]|https?:")


def validate_author(author: str | None) -> str | None:
    """An author name, or None for what pages put in the author slot that is not one
    (``Name; Email Com`` placeholders, ``作者：未知 责任编辑：…``, ``我已授权``, account prompts)."""
    if not author:
        return None
    a = _AUTHOR_EDITOR.sub("", author.strip())
    a = _AUTHOR_LABEL.sub("", a).strip(" ;；,，|/·")
    if not a or len(a) > 40 or _AUTHOR_JUNK.search(a):
        return None
    return a


TRAFILATURA_OPTIONS = {"include_comments": False, "include_tables": True}
# a </html> or </body> before the page's last one (a header template pasted in whole): the parser would end
# the document there and the extractor would see only the header's menu
_STRAY_END = re.compile(r"</(html|body)\s*>(?=.*</\1\s*>)", re.S | re.I)
# text straight after a closed block (…搓搓手了！！！<div><img></div>编辑|某某) starts a new line on screen; the
# extractor would run it into the line before, so a credit or a list item fuses with a body sentence
_BLOCK_THEN_TEXT = re.compile(r"(</(?:div|p|center|table|figure|blockquote|ul|ol|h[1-6])\s*>)(?=[^\s<])", re.I)


# a table cell that holds paragraphs: the page is laid out with a table (a forum post beside its author's
# profile, an old site's article column); the extractor joins a cell's text into one line, so the post's
# paragraphs, its 楼主/发表于 line and the author's name would fuse into one body line
_HAS_CELL = re.compile(r"<td\b", re.I)
_HAS_P = re.compile(r"<p\b|<br\b|<div\b", re.I)
_HAS_IMG = re.compile(r"<img\b", re.I)
_HAN = re.compile(r"[\u4e00-\u9fff]")


_INLINE = frozenset({"br", "i", "a", "span", "font", "strong", "b", "em", "img", "u", "s", "small", "big", "sup", "sub",
                     "ignore_js_op"})
_BLOCK_IN_POST = frozenset({"center", "div", "p", "figure", "figcaption"})  # blocks of plain text between a post's lines
MIN_BROKEN_CELL_CHARS = 100  # a cell of <br>-separated lines is a post, not a data cell, from this much text


def _breaks_to_paragraphs(cell) -> bool:
    """A cell whose text is lines separated by <br> (a Discuz forum post, an old site's article cell) rebuilt as
    one <p> per line: the extractor keeps paragraphs and drops such a cell's bare text whole. Only cells holding
    text and inline elements alone; False (unchanged) otherwise."""
    import lxml.html

    kids = list(cell)
    if any(not isinstance(k.tag, str) or k.tag not in _INLINE | _BLOCK_IN_POST for k in kids):
        return False
    lines = [cell.text or ""]
    for k in kids:
        if k.tag == "br":
            lines.append(k.tail or "")
        elif k.tag in _BLOCK_IN_POST:  # a picture and its caption centred between the lines (blind batch 47): a line of its own
            lines += [k.text_content(), k.tail or ""]
        else:
            lines[-1] += k.text_content() + (k.tail or "")
    lines = [line.strip() for line in lines if line.strip()]
    if len(lines) < 2:
        return False
    for k in kids:
        cell.remove(k)
    cell.text = None
    for line in lines:
        par = lxml.html.Element("p")
        par.text = line
        cell.append(par)
    return True


TEXT_BLOCK_MIN_HAN = 20  # a <div> with this many Han characters of its own text is a paragraph, not a wrapper


def _text_blocks(cell) -> int:
    """How many <div>s under ``cell`` hold a paragraph's worth of text of their own (an old site's article cell,
    one <div class="duan"> per paragraph: blind batch 61), up to 2."""
    n = 0
    for div in cell.iter("div"):
        if len(_HAN.findall(div.text or "")) >= TEXT_BLOCK_MIN_HAN:
            n += 1
            if n >= 2:
                break
    return n


def unwrap_layout_tables(html: str):
    """The page as an lxml tree with each layout table (a cell holding two or more paragraphs, as <p> or as
    <div>s of text, or a post of <br>-separated lines) turned into plain blocks, so its paragraphs stay lines; None when no table is a layout
    table (data tables stay)."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None
    changed = False
    for table in list(tree.iter("table")):
        layout = False
        for cell in table.iter("td"):
            if len(cell.findall(".//p")) >= 2 or _text_blocks(cell) >= 2:
                layout = True
            elif any(len(el.findall("br")) >= 2 and len(el.text_content()) >= MIN_BROKEN_CELL_CHARS
                     and _breaks_to_paragraphs(el) for el in list(cell.iter()) if isinstance(el.tag, str)):
                layout = True  # the lines in the cell itself or in a wrapper inside it (<div id="vsb_content">,
                # an e-paper's <founder-content>: blind batches 50 and 59)
        if layout:
            for el in table.iter("table", "tbody", "thead", "tfoot", "tr", "td", "th"):
                el.tag = "div"
            changed = True
    return tree if changed else None


def _as_tree(page):
    """The page as an lxml tree (parsed when it is still a string), or None when it cannot be parsed."""
    import lxml.html

    if not isinstance(page, str):
        return page
    try:
        return lxml.html.fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return None


_REPLY_CLASS = re.compile(r"""class\s*=\s*["'][^"']*\breply-""", re.I)
REPLY_MIN_HAN = 150  # Han characters of a reply-* block that is the page's content, not a blog comment's reply


def keep_official_replies(page):
    """The page (an lxml tree) with each ``reply-*`` block that holds an answer of its own (two or more paragraphs,
    ``REPLY_MIN_HAN`` Han characters or more: a 领导留言板 or 问政 page's official reply) renamed ``answer-*``, so the
    extractor does not drop it as a comment; None when there is none. A blog's reply-title or reply link stays."""
    page = _as_tree(page)
    if page is None:
        return None
    changed = False
    for el in page.xpath('//*[contains(@class, "reply-")]'):
        tokens = (el.get("class") or "").split()
        if not any(t.startswith("reply-") for t in tokens):
            continue
        paras = el.findall(".//p") or [d for d in el.findall("./div") if len(_HAN.findall(d.text_content())) >= 20]
        if len(paras) >= 2 and len(_HAN.findall(el.text_content())) >= REPLY_MIN_HAN:  # <div class="para"> too (batch 48)
            el.set("class", " ".join("answer-" + t[len("reply-"):] if t.startswith("reply-") else t for t in tokens))
            changed = True
    return page if changed else None


_HAS_SECTION = re.compile(r"<section\b", re.I)
_BLOCKS = ("div", "p", "section", "table", "ul", "ol", "li", "blockquote", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "pre")


def sections_to_paragraphs(page) -> tuple[object | None, int]:
    """(the page as an lxml tree with each ``<section>`` that holds only text and inline elements renamed ``<p>``,
    how many), or (None, 0) when there is none. A WeChat-style post written as one <section><span>…</span></section>
    per paragraph is otherwise read as one run of text (blind batch 65)."""
    page = _as_tree(page)
    if page is None:
        return None, 0
    leaves = [el for el in page.iter("section") if not any(isinstance(d.tag, str) and d.tag in _BLOCKS for d in el.iterdescendants())
              and el.text_content().strip()]
    for el in leaves:
        el.tag = "p"
    return (page, len(leaves)) if leaves else (None, 0)


_HAS_DL = re.compile(r"<dd\b", re.I)
DL_ANSWER_MIN_HAN = 20  # Han characters of a <dd> that is an answer, not a meta value (发布日期 2024-08-19)


def definition_lists_to_paragraphs(page) -> tuple[object | None, int]:
    """(the page as an lxml tree with the <dt>/<dd> of each <dl> that holds two or more answers of
    ``DL_ANSWER_MIN_HAN`` Han characters renamed <p>, how many lists), or (None, 0) when there is none. A knowledge
    base's Q&A written as <dt>问：…</dt><dd>答：…</dd> was dropped whole by the extractor (blind batch 152: all ten
    lines of a 12345 hotline's Q&A lost); a meta list of short values stays as it is."""
    page = _as_tree(page)
    if page is None:
        return None, 0
    lists = 0
    for dl in page.iter("dl"):
        items = [el for el in dl if isinstance(el.tag, str) and el.tag in ("dt", "dd")]
        answers = [el for el in items if el.tag == "dd" and len(_HAN.findall(el.text_content())) >= DL_ANSWER_MIN_HAN]
        if len(answers) < 2:
            continue
        for el in items:
            el.tag = "p"
        dl.tag = "div"
        lists += 1
    return (page, lists) if lists else (None, 0)


# readers' comment boxes under an article, by the class or id Chinese CMSs give them: WeChat's discuss_container,
# cmt-item, pl_item / pl-tit (评论), pinglunqu, liuyan (留言), gentie (跟帖); trafilatura knows only "comment*"
# (not pl-3 / pl-md-2, a grid's padding; not commentary; not pinglun-zhengwen, a commentary page's body)
_COMMENT_TOKEN = re.compile(r"(?i)^(?:discuss|cmts?(?:$|[-_])|comment(?!ary)|pinglun(?:qu)?(?:$|[-_](?:list|qu|area|box|item|tit))"
                            r"|pl[-_](?!\d|sm|md|lg|xl|2xl|auto)|liuyan|gentie)")
_COMMENT_ATTR = re.compile(r"""(?:class|id)\s*=\s*["'](?:[^"']*\s)?(?:discuss|cmt|comment|pinglun|pl[-_]|liuyan|gentie)""", re.I)
COMMENT_BOX_MAX_SHARE = 0.5  # a box holding half the page's Han text or more is the page, whatever its class says


def drop_comment_boxes(page) -> tuple[object | None, int]:
    """(the page as an lxml tree without its readers' comment boxes, how many), or (None, 0) when it has none:
    an element whose class or id token names a comment box (``_COMMENT_TOKEN``), unless it is the page's body or
    holds half or more of its Han text. Removed before extraction: a comment's text alone reads like a short
    paragraph (付老师的《采茶记》我看过三回，嗓子是真亮。)."""
    page = _as_tree(page)
    if page is None:
        return None, 0
    total = len(_HAN.findall(page.text_content())) or 1
    boxes = []
    for el in page.iter():
        if not isinstance(el.tag, str) or el.tag in ("html", "body", "article", "main"):
            continue
        tokens = (el.get("class") or "").split() + (el.get("id") or "").split()
        if any(_COMMENT_TOKEN.match(t) for t in tokens) and not any(b in el.iterancestors() for b in boxes):
            if len(_HAN.findall(el.text_content())) < COMMENT_BOX_MAX_SHARE * total:
                boxes.append(el)
    for el in boxes:
        el.drop_tree()
    return (page, len(boxes)) if boxes else (None, 0)


# a paragraph that holds only a picture, and the short paragraph under it: the picture's caption in the CMS layout
# most Chinese news sites use (<p align=center><img></p><p align=center>枫林苑小区老旧小区改造项目开工现场</p>)
_IMAGE_THEN_CAPTION = re.compile(r"(<p\b[^>]*>\s*(?:<a\b[^>]*>\s*)?<img\b[^>]*>\s*(?:</a\s*>\s*)?</p\s*>\s*)"
                                 r"<p\b[^>]*>((?:[^<]|<(?:span|font|em|b|strong|i)\b[^>]*>|</(?:span|font|em|b|strong|i)\s*>){2,200}?)</p\s*>",
                                 re.I)
_CAPTION_MAX = 40


def drop_image_captions(html: str) -> tuple[str, int]:
    """(html without the captions of pictures, how many): the paragraph right under a picture-only paragraph when it
    is short (up to 40 characters) and no sentence (no 。！？, not a numbered heading, not a 《title》 alone). Removed before extraction,
    since the text alone no longer shows that the line sat under a picture; counted as ``boilerplate_image_caption``."""
    import html as htmllib

    n = 0

    def drop(m: re.Match) -> str:
        nonlocal n
        text = " ".join(htmllib.unescape(_TAG.sub("", m.group(2))).split())
        if (not 2 <= len(text) <= _CAPTION_MAX or re.search(r"[。！？!?；;]", text) or re.fullmatch(r"《[^》]+》", text)
                or re.match(r"^(?:[一二三四五六七八九十]{1,3}|\d{1,2})[、.．]", text)):  # 《冬夜读书示子聿》 under a picture heads a poem
            return m.group(0)
        n += 1
        return m.group(1)

    return _IMAGE_THEN_CAPTION.sub(drop, html), n


_FRAMESET = re.compile(r"<frameset\b", re.I)
_NOFRAMES = re.compile(r"<noframes\b[^>]*>(.*?)</noframes\s*>", re.I | re.S)
_HEAD = re.compile(r"<head\b[^>]*>.*?</head\s*>", re.I | re.S)


def noframes_page(html: str) -> str:
    """A frameset page's text for browsers without frames (an old government site serves its article so, in
    <noframes>, blind batch 68) as the page's body; any other page unchanged. The extractor reads <body> only."""
    if not _FRAMESET.search(html):
        return html
    parts = _NOFRAMES.findall(html)
    if not parts:
        return html
    head = _HEAD.search(html)
    return f"<html>{head.group(0) if head else ''}<body>{''.join(parts)}</body></html>"


def extract_html(html: str, url: str | None = None, **options) -> RawDoc | None:
    """Main text, title, date and author with trafilatura; None when no article text is found.
    ``options`` go to ``trafilatura.bare_extraction`` (favor_precision, include_links …; see bench/boilerplate_quality.py)."""
    import trafilatura

    html = _BLOCK_THEN_TEXT.sub(r"\1<br>", _STRAY_END.sub("", noframes_page(html)))
    html, captions = drop_image_captions(html) if _HAS_IMG.search(html) else (html, 0)
    page = unwrap_layout_tables(html) if _HAS_CELL.search(html) and _HAS_P.search(html) else None
    if _REPLY_CLASS.search(html):
        kept = keep_official_replies(html if page is None else page)
        page = kept if kept is not None else page
    if _HAS_SECTION.search(html):
        leaves, _ = sections_to_paragraphs(html if page is None else page)
        page = leaves if leaves is not None else page
    if _HAS_DL.search(html):
        qa, _ = definition_lists_to_paragraphs(html if page is None else page)
        page = qa if qa is not None else page
    comment_boxes = 0
    if _COMMENT_ATTR.search(html):
        pruned, comment_boxes = drop_comment_boxes(html if page is None else page)
        page = pruned if pruned is not None else page
    doc = trafilatura.bare_extraction(html if page is None else page, url=url, with_metadata=True, **{**TRAFILATURA_OPTIONS, **options})
    if doc is None:
        return None
    d = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = d.get("text") or ""
    if not text.strip():
        return None
    meta = {k: d[k] for k in ("sitename", "hostname", "description") if d.get(k)}
    anchors = page_anchors(html)
    if anchors:
        meta["_anchors"] = anchors  # for the boilerplate step (popped by the cleaner, never stored)
    counts = {k: v for k, v in (("boilerplate_image_caption", captions), ("boilerplate_comment_box", comment_boxes)) if v}
    if counts:
        meta["_counts"] = {**counts, "boilerplate_lines_removed": captions}
    title = choose_title(html, d.get("title"), d.get("sitename"), text)  # against the text as extracted: a subheading
    commentator = next((m.group(1) for t in (title, d.get("title")) if t and (m := _COMMENTATOR_PREFIX.match(t))), None)
    if title:  # a thread's [本地新闻] tag or a commentator's byline, wherever the title came from
        title = TITLE_PREFIX.sub("", title) or title
    author = validate_author(d.get("author")) or commentator  # 本网评论员：… before the headline marks a commentary
    return RawDoc(text=restore_headings(html, text), title=title,  # put back is in the body, so it would look like the title
                  published=parse_date(d.get("date")), author=author, format="html", meta=meta)


# a subheading directly over a paragraph in the markup, and the paragraphs of the page
# (a heading's text runs into no other heading or paragraph: a page's unclosed <h2> must not swallow the article)
_HEAD_P = re.compile(r"<(h[2-6])\b[^>]*>((?:(?!</?(?:h[1-6]|p)\b).)*?)</\1\s*>(?=\s*<p\b[^>]*>((?:(?!</p\s*>).)*)</p\s*>)",
                     re.S | re.I)
_P = re.compile(r"<p\b[^>]*>((?:(?!</p\s*>).)*)</p\s*>", re.S | re.I)


_BOX_TAG = re.compile(r"<(/?)(?:div|section|aside|figure|ul|ol|table)\b", re.I)


def _closed_boxes(markup: str) -> bool:
    """Markup between a paragraph and a heading that holds only whole boxes (an inline 相关阅读 card): the heading
    stands in the paragraph's container, not in a box of its own after it (a quiz under the article: 随堂小测)."""
    depth, sibling = 0, False
    for m in _BOX_TAG.finditer(markup):
        if depth == -1 and not m.group(1) and m.group(0).lower() != "<section":
            return False  # the paragraph's section closed and something else than the next section opens
        depth += -1 if m.group(1) else 1
        if depth < 0:
            # …or the paragraph's <section> closes and the heading opens the next one: a WeChat post's parts are
            # sibling sections, each a heading and its paragraphs (blind batch 49); a <div> after the article (the
            # quiz) is not one
            if depth == -1 and m.group(0).lower() == "</section":
                sibling = True
                continue
            return False
    return depth == 0 and not (sibling and _TAG.sub("", markup).strip())


def restore_headings(html: str, text: str) -> str:
    """Put back the subheadings the extractor dropped (先看精神，再看体温 between two of its paragraphs; it keeps them
    on some pages and not on others): a <h2>–<h6> of 2–30 characters directly over a paragraph in the markup goes
    before that paragraph's line when the paragraph before the heading in the markup (a whole inline box such as
    相关阅读 or a chart with its note may stand between them: :func:`_closed_boxes`) is the line above it in the
    extracted text, or above the box's own lines there. Nothing else is added."""
    import bisect
    import html as htmllib

    from ...text.normalize import compare_form

    heads = list(_HEAD_P.finditer(html))
    if not heads:
        return text
    paras = list(_P.finditer(html))
    ends = [m.end() for m in paras]
    found = []
    for h in heads:
        last = bisect.bisect_right(ends, h.start()) - 1
        for k in range(last, max(last - 4, -1), -1):  # passed: a paragraph in a box just above (a chart's note), a picture
            if not _TAG.sub("", paras[k].group(1)).strip():
                continue
            if _closed_boxes(html[ends[k]:h.start()]):
                found.append((paras[k].group(1), h.group(2), h.group(3), html[ends[k]:h.start()]))
                break
    lines = text.split("\n")
    at = {f: i for i, f in reversed(list(enumerate(compare_form(line) for line in lines))) if f}
    inserts: dict[int, str] = {}
    for before, head, after, gap in found:
        raw = " ".join(htmllib.unescape(_TAG.sub("", head)).split())
        form = compare_form(raw)
        if not 2 <= len(form) <= 30 or form in at:
            continue
        i = at.get(compare_form(htmllib.unescape(_TAG.sub("", before))))
        j = at.get(compare_form(htmllib.unescape(_TAG.sub("", after))))
        if i is None or j is None or not 0 < j - i <= 3 or j in inserts:
            continue
        boxed = compare_form(htmllib.unescape(_TAG.sub(" ", gap)))  # the lines between are the box's own text
        if all(compare_form(lines[x]) in boxed for x in range(i + 1, j)):
            inserts[j] = raw
    if not inserts:
        return text
    out = []
    for i, line in enumerate(lines):
        if i in inserts:
            out.append(inserts[i])
        out.append(line)
    return "\n".join(out)


_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.S | re.I)
_IN_PAGE = re.compile(r"\bhref\s*=\s*[\"']?\s*#")
_TAG = re.compile(r"<[^>]*>")


def page_anchors(html: str) -> frozenset[str]:
    """The texts of the page's links (``<a href>`` to other pages; in-page ``#`` jumps, a table of contents, are
    left out), in compare form: a line of the extracted text that is one of them, or a label and one of them
    (上一篇：…), or several of them in a row, is a link, not article text (see ``BoilerplateRemover``). A regex
    over the markup, not a second parse: about a tenth of a millisecond for a news page."""
    import html as htmllib

    from ...text.normalize import compare_form

    out = set()
    for attrs, inner in _ANCHOR.findall(html):
        if _IN_PAGE.search(attrs):
            continue
        form = compare_form(htmllib.unescape(_TAG.sub("", inner)))
        if 2 <= len(form) <= 120:
            out.add(form)
    return frozenset(out)


def read_html(data: bytes, encoding: str = "auto") -> list[RawDoc]:
    d = html_decode(data, encoding)
    doc = extract_html(d.text)
    if doc is None:
        raise UnreadableFile("no_main_text", "trafilatura found no article text in the page")
    counts = Counter(doc.meta.get("_counts", {})) + Counter(d.counts())  # the extractor's and the decoder's
    if counts:
        doc.meta["_counts"] = dict(counts)
    return [doc]


def read_pdf(data: bytes, encoding: str = "auto", tables: str = "rows") -> list[RawDoc]:
    """One document per PDF, page-aware: ``meta.page_starts`` holds each page's character offset.
    ``tables``: "rows" keeps a table as rows (cells joined with " | "), "drop" removes it (counted); chart
    residue (axis ticks, data labels, legend words) is removed either way (see pdf_layout.py)."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError, PdfStreamError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise UnreadableFile("corrupt_pdf", "not a PDF (no %PDF header)")
    if b"%%EOF" not in data[-2048:]:
        raise UnreadableFile("truncated_pdf", "truncated PDF (no %%EOF marker at the end)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - pypdf raises several kinds here
                raise UnreadableFile("encrypted_pdf", f"encrypted PDF that cannot be opened: {exc}") from None
            if not ok:
                raise UnreadableFile("encrypted_pdf", "encrypted PDF (needs a password)")
        counts: Counter = Counter()
        with counted_warnings(counts):
            raw_pages = [page.extract_text() or "" for page in reader.pages]
            info = reader.metadata or {}
        raw_pages, used = recover_pages(data, raw_pages, counts)
        raw_pages = place_tables(data, raw_pages, used, counts, tables)
        pages = [join_pdf_lines(p) for p in strip_running_lines(raw_pages, counts)]
    except UnreadableFile:
        raise
    except FileNotDecryptedError as exc:
        raise UnreadableFile("encrypted_pdf", f"encrypted PDF: {exc}") from None
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, IndexError, AttributeError, OSError) as exc:
        raise UnreadableFile("corrupt_pdf", f"corrupt PDF: {type(exc).__name__}: {str(exc)[:120]}") from None
    starts, parts, pos = [], [], 0
    for text in pages:
        starts.append(pos)
        parts.append(text)
        pos += len(text) + 2
    title = str(info.get("/Title") or "").strip() or None
    m = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", str(info.get("/CreationDate") or ""))
    published = parse_date(f"{m.group(1)}-{m.group(2)}-{m.group(3)}") if m else None
    if not any(p.strip() for p in pages) and counts.get("pdf_pages_garbled"):
        raise UnreadableFile("garbled_pdf", f"every extractor read garbled text on all {counts['pdf_pages_garbled']} pages with text")
    meta = {"pages": len(pages), "page_starts": starts}
    if any(u != "pypdf" for u in used):
        meta["extractors"] = dict(Counter(u.split(":")[0] for u in used if not u.startswith("garbled")))
        garbled = {n + 1: u.split(":", 1)[1] for n, u in enumerate(used) if u.startswith("garbled")}
        if garbled:
            meta["garbled_pages"] = garbled  # 1-based page -> why the first reading was refused
    if counts:
        meta["_counts"] = dict(counts)
    return [RawDoc(text="\n\n".join(parts), title=title, published=published, author=str(info.get("/Author") or "") or None,
                   format="pdf", meta=meta)]


READERS = {"txt": read_txt, "md": read_md, "html": read_html, "pdf": read_pdf}
EXTENSIONS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".pdf": "pdf",
              ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "csv", ".tab": "csv",
              ".parquet": "parquet", ".rss": "rss", ".atom": "rss", ".xml": "rss"}
RECORD_FORMATS = {"jsonl", "json", "csv", "parquet", "xmlrecords", "rss"}
