"""What a fetched response says about other URLs: feed entries, sitemap locations, page links.

Feeds go through feedparser (tolerant of malformed XML such as an unescaped ``&``), after we decode
them ourselves: feedparser falls back to windows-1252 for an undeclared GB2312 feed. Sitemaps
(``urlset`` and ``sitemapindex``, gzipped or not, or plain text) go through lxml in recover mode.
Links come from ``<a href>`` and ``<area href>`` after ``<base href>``, unless the page says nofollow.
"""

from __future__ import annotations

import calendar
import re
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from urllib.parse import urljoin

from .decode import DecodeError, decode, declared_codec, distrust_latin
from .extract import html_to_text, parse_date

XML_DECL = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_\-]+)""", re.I)
MAX_UNZIPPED = 50 * 1024 * 1024  # the sitemap protocol caps a file at 50 MB uncompressed


@dataclass
class Entry:
    url: str
    published: date | None = None


codec = declared_codec  # the name this module's callers know


def header_charset(content_type: str | None) -> str | None:
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", content_type or "", re.I)
    return codec(m.group(1)) if m else None


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode a page: the HTTP header's charset, else the meta tag, else detection. (text, how)."""
    declared = header_charset(content_type)
    if declared:
        better = distrust_latin(body, declared)  # a Chinese page sent as "charset=ISO-8859-1" (a server default)
        if better is not None:
            return better.text, f"header:{declared}:overruled:{better.encoding}"
        try:
            return body.decode(declared), f"header:{declared}"
        except UnicodeDecodeError:
            pass  # servers lie: a GBK page sent as "charset=utf-8" is common
    return html_to_text(body), "meta_or_detected"


def decode_xml(body: bytes, content_type: str | None) -> str:
    """Decode a feed or sitemap: header charset, XML declaration, then detection."""
    for name in (header_charset(content_type), codec(m.group(1).decode()) if (m := XML_DECL.search(body[:512])) else None):
        if name:
            better = distrust_latin(body, name)
            if better is not None:
                return better.text
            try:
                return body.decode(name)
            except UnicodeDecodeError:
                continue
    try:
        return decode(body)[0]
    except DecodeError:
        return body.decode("utf-8", errors="replace")


def gunzip(body: bytes) -> bytes:
    if body[:2] != b"\x1f\x8b":
        return body
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(body, MAX_UNZIPPED)
    if d.unconsumed_tail:
        raise ValueError(f"gzip expands past {MAX_UNZIPPED} bytes")
    return out


def _struct_date(t) -> date | None:
    if not t:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(t), tz=timezone.utc).date()
    except (OverflowError, ValueError, TypeError):
        return None


def parse_iso_date(text: str | None) -> date | None:
    """The date a feed or sitemap gives (2024-03-14, 2024-03-14T08:00:00+08:00), read by ``extract.parse_date``."""
    found = parse_date(text)
    return date.fromisoformat(found) if found else None


@dataclass
class Feed:
    entries: list[Entry]
    title: str | None
    malformed: bool
    without_link: int


def parse_feed(body: bytes, content_type: str | None = None) -> Feed:
    """RSS 2.0 / Atom / RDF entries with their dates; malformed XML is tolerated."""
    import feedparser

    text = decode_xml(gunzip(body), content_type)
    # the text is already decoded: drop the declaration so feedparser does not second-guess it
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    parsed = feedparser.parse(text, sanitize_html=False, resolve_relative_uris=False)
    entries, no_link = [], 0
    for e in parsed.entries:
        link = e.get("link") or next((lk.get("href") for lk in e.get("links", []) if lk.get("href")), None)
        if not link:
            no_link += 1
            continue
        entries.append(Entry(link, _struct_date(e.get("published_parsed") or e.get("updated_parsed"))))
    if not parsed.entries and parsed.get("bozo") and not parsed.feed:
        raise ValueError(f"not a feed: {type(parsed.get('bozo_exception')).__name__}: {parsed.get('bozo_exception')}")
    return Feed(entries, parsed.feed.get("title"), bool(parsed.get("bozo")), no_link)


@dataclass
class Sitemap:
    kind: str  # "index" (more sitemaps) or "urlset" (pages)
    entries: list[Entry]


def parse_sitemap(body: bytes, content_type: str | None = None) -> Sitemap:
    """A sitemap or sitemap index (XML, gzipped or not), or a plain-text list of URLs."""
    from lxml import etree

    raw = gunzip(body)
    head = raw.lstrip()[:512].lower()
    if not head.startswith(b"<"):
        text = decode_xml(raw, content_type)
        urls = [line.strip() for line in text.splitlines() if line.strip().startswith(("http://", "https://"))]
        if not urls:
            raise ValueError("neither XML nor a list of URLs")
        return Sitemap("urlset", [Entry(u) for u in urls])
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(raw, parser)
    if root is None:
        raise ValueError("unparseable XML")
    kind = "index" if etree.QName(root).localname.lower() == "sitemapindex" else "urlset"
    entries = []
    for node in root.iter("{*}sitemap", "{*}url", "sitemap", "url"):
        loc = node.find("{*}loc")
        if loc is None:
            loc = node.find("loc")
        if loc is None or not (loc.text or "").strip():
            continue
        when = None
        for tag in ("lastmod", "publication_date"):
            found = next(node.iter("{*}" + tag, tag), None)
            if found is not None and found.text:
                when = parse_iso_date(found.text)
                break
        entries.append(Entry(loc.text.strip(), when))
    if not entries and etree.QName(root).localname.lower() not in ("urlset", "sitemapindex"):
        raise ValueError(f"not a sitemap (root element <{etree.QName(root).localname}>)")
    return Sitemap(kind, entries)


@dataclass
class PageLinks:
    links: list[str]
    nofollow: bool
    noindex: bool


ROBOTS_META = re.compile(r"<meta[^>]+name\s*=\s*[\"']?robots[^>]*>", re.I)


def page_links(html: str, url: str) -> PageLinks:
    """Outgoing links of a page (absolute, not yet normalised), and its robots meta directives."""
    import lxml.html

    directives = " ".join(ROBOTS_META.findall(html[:20000])).lower()
    nofollow = "nofollow" in directives or "content=\"none\"" in directives
    noindex = "noindex" in directives or "content=\"none\"" in directives
    if nofollow or not html.strip():
        return PageLinks([], nofollow, noindex)
    try:
        tree = lxml.html.document_fromstring(html)
    except Exception:  # noqa: BLE001 - lxml raises ParserError / XMLSyntaxError / ValueError on junk
        return PageLinks([], nofollow, noindex)
    base = tree.find(".//base[@href]")
    base_url = url
    if base is not None:
        base_url = urljoin(url, base.get("href"))
    links = []
    for el in tree.iter("a", "area"):
        href = el.get("href")
        rel = (el.get("rel") or "").lower()
        if href and "nofollow" not in rel:
            links.append((base_url, href.strip()))
    out = []
    for b, href in links:
        try:
            out.append(urljoin(b, href))
        except ValueError:
            continue
    return PageLinks(out, nofollow, noindex)


def content_kind(content_type: str | None, body: bytes) -> str | None:
    """Route a response: "html", "pdf", "xml" (feeds and sitemaps) or None (skipped)."""
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct in ("text/html", "application/xhtml+xml"):
        return "html"
    if ct in ("application/pdf", "application/x-pdf"):
        return "pdf"
    if ct.endswith("xml") or ct in ("application/rss+xml", "application/atom+xml", "application/x-gzip", "application/gzip"):
        return "xml"
    if ct in ("", "application/octet-stream", "text/plain", "binary/octet-stream"):
        head = body.lstrip()[:1024].lower()
        if head.startswith(b"%pdf"):
            return "pdf"
        if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
            return "html"
        if head.startswith(b"<?xml") or head.startswith((b"<rss", b"<feed", b"<urlset", b"<sitemapindex")) or body[:2] == b"\x1f\x8b":
            return "xml"
        if ct == "text/plain":
            return "text"
    return None
