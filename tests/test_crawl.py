"""The crawler against a real HTTP server on 127.0.0.1 serving tests/fixtures/site (pages we wrote).

The server counts every hit, so politeness (robots.txt, Crawl-delay), retries and resumption are
checked by what the server saw, not by what the crawler says it did.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from builder.config import load_config
from builder.errors import BuilderError
from builder.shards import iter_rows

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(__file__).resolve().parent / "fixtures" / "site"
PDF = ROOT / "corpora" / "demo" / "pdf" / "media_handbook.pdf"
MAX_BYTES = 200_000


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that gave up (timeout test) is expected
        pass


class SiteServer:
    """The fixture site plus the routes that misbehave on purpose."""

    def __init__(self, real_html: Path | None = None, slow_seconds: float = 2.0):
        self.hits: Counter[str] = Counter()
        self.log: list[tuple[float, str, str]] = []  # (time, path, user agent)
        self.lock = threading.Lock()
        self.real_html = real_html
        self.slow_seconds = slow_seconds
        self.page_delay = 0.0
        self.robots_txt: bytes | None = None  # None: the fixture site's robots.txt
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server API
                path = self.path
                with server.lock:
                    server.hits[path] += 1
                    n = server.hits[path]
                    server.log.append((time.monotonic(), path, self.headers.get("User-Agent", "")))
                try:
                    server.route(self, path, n)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def send(h, status: int, body: bytes = b"", ctype: str = "text/html", headers: dict | None = None, length: bool = True):
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if length:
            h.send_header("Content-Length", str(len(body)))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.write(body)

    def article(self, name: str) -> bytes:
        return (SITE / "news" / "2026" / name).read_bytes()

    def route(self, h, path: str, n: int) -> None:
        send = self.send
        clean = path.split("?")[0]
        if self.page_delay and clean.endswith(".html"):
            time.sleep(self.page_delay)
        if clean == "/redirect/a":
            return send(h, 301, headers={"Location": "/redirect/b"})
        if clean == "/redirect/b":
            return send(h, 302, headers={"Location": f"{self.base}/news/2026/farm-market.html?utm_source=old"})
        if clean == "/loop/1":
            return send(h, 302, headers={"Location": "/loop/2"})
        if clean == "/loop/2":
            return send(h, 302, headers={"Location": "/loop/1"})
        if clean == "/flaky.html":
            if n == 1:
                return send(h, 500, b"oops")
            return send(h, 200, self.article("tech-expo.html").replace("科技展览会".encode(), "重试成功的展览会".encode()),
                        "text/html; charset=utf-8")
        if clean == "/limited.html":
            if n == 1:
                return send(h, 429, b"slow down", headers={"Retry-After": "1"})
            return send(h, 200, self.article("reading-club-archive.html").replace("第一期".encode(), "限流之后".encode()),
                        "text/html; charset=utf-8")
        if clean == "/slow.html":
            time.sleep(self.slow_seconds)
            return send(h, 200, self.article("train-line.html"))
        if clean == "/huge.html":
            return send(h, 200, b"<html><body>" + "大".encode() * (MAX_BYTES // 2) + b"</body></html>")
        if clean == "/huge-stream.html":
            return send(h, 200, b"<html><body>" + "长".encode() * (MAX_BYTES // 2) + b"</body></html>", length=False)
        if clean == "/report.pdf":
            return send(h, 200, PDF.read_bytes(), "application/pdf")
        if clean == "/logo.png":
            return send(h, 200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")
        if clean == "/sitemap-news.xml.gz":
            body = (SITE / "sitemap-news.xml").read_text(encoding="utf-8").replace("{base}", self.base)
            return send(h, 200, gzip.compress(body.encode()), "application/x-gzip")
        if clean in ("/feed.xml", "/sitemap_index.xml"):
            body = (SITE / clean.lstrip("/")).read_text(encoding="utf-8").replace("{base}", self.base)
            return send(h, 200, body.encode(), "application/rss+xml" if "feed" in clean else "application/xml")
        if clean == "/robots.txt":
            return send(h, 200, self.robots_txt or (SITE / "robots.txt").read_bytes(), "text/plain")
        if clean.startswith("/real/") and self.real_html is not None:
            name = clean[len("/real/"):]
            if name == "index.html":
                links = "".join(f'<li><a href="/real/{p.name}">{p.stem}</a></li>' for p in sorted(self.real_html.glob("*.html")))
                return send(h, 200, f"<html><body><ul>{links}</ul></body></html>".encode(), "text/html; charset=utf-8")
            f = self.real_html / name
            if f.is_file():
                return send(h, 200, f.read_bytes(), "text/html")  # no charset: meta tag or detection decides
        f = SITE / clean.lstrip("/")
        if f.is_file() and SITE in f.resolve().parents:
            # the GBK page goes out without a charset in the header; UTF-8 pages say so
            ctype = "text/html" if f.name == "gbk.html" else "text/html; charset=utf-8"
            return send(h, 200, f.read_bytes(), ctype)
        return send(h, 404, b"not found")

    def page_hits(self) -> Counter:
        return Counter({p: n for p, n in self.hits.items() if p != "/robots.txt"})


@pytest.fixture
def site():
    with SiteServer() as s:
        yield s


def write_config(folder: Path, crawl: str, name: str = "build.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / name
    cfg.write_text(f"""
[build]
name = "crawltest"
output = "out"
workers = 1

[corpus.clean]
min_chars = 60

[corpus.crawl]
{crawl}
""", encoding="utf-8")
    return cfg


def fixture_crawl(base: str, **over) -> str:
    settings = {
        "seeds": [f"{base}/index.html"],
        "feeds": [f"{base}/feed.xml"],
        "sitemaps": [f"{base}/sitemap_index.xml"],
        "max_depth": 2,
        "concurrency": 4,
        "per_host_delay": 0.0,
        "timeout": 0.6,
        "retries": 2,
        "backoff": 0.05,
        "max_bytes": MAX_BYTES,
        "user_agent": "builder-test-crawler/1.0",
    }
    settings.update(over)
    return "\n".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in settings.items())


def run_corpus(cfg: Path, *extra: str) -> int:
    from builder.cli import main

    try:
        main(["run", "corpus", "-c", str(cfg), *extra])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


def outputs(cfg: Path) -> tuple[list[dict], list[dict]]:
    out = load_config(cfg).output / "corpus"
    return list(iter_rows(out / "data")), list(iter_rows(out / "rejected"))


def by_path(rows: list[dict]) -> dict[str, dict]:
    return {r["path"]: r for r in rows}


# -- the whole fixture site through `builder run corpus` --------------------------------------------------
def test_crawl_fixture_site_through_the_cli(site, tmp_path):
    cfg = write_config(tmp_path, fixture_crawl(site.base, since="2026-01-01"))
    assert run_corpus(cfg) == 0
    docs, rejected = outputs(cfg)
    kept = by_path(docs)
    b = site.base
    expected = {f"{b}/news/2026/local-library.html", f"{b}/news/2026/river-cleanup.html", f"{b}/gbk.html",
                f"{b}/news/2026/farm-market.html", f"{b}/news/2026/tech-expo.html", f"{b}/news/2026/train-line.html",
                f"{b}/news/2026/reading-club.html", f"{b}/flaky.html", f"{b}/limited.html",
                # depth 2 from the feed (feed entry -> reading club -> archive); depth 3 from the seed
                f"{b}/news/2026/reading-club-archive.html"}
    assert expected <= set(kept), sorted(set(expected) - set(kept))
    assert all(d["format"] == "web" and d["source"] == "web" for d in docs)

    # GBK page decoded from its meta tag; title/date/author from trafilatura
    gbk = kept[f"{b}/gbk.html"]
    assert gbk["title"] == "山区小学通上了光纤网络"
    assert "石门小学终于通上了光纤网络" in gbk["text"]
    assert gbk["published"] == "2026-10-28"
    meta = json.loads(gbk["meta"])
    assert meta["url"] == f"{b}/gbk.html" and meta["http_status"] == 200
    assert kept[f"{b}/news/2026/local-library.html"]["title"] == "市图书馆延长夜间开放时间"
    assert "首页" not in kept[f"{b}/news/2026/local-library.html"]["text"].split("\n")[0]
    assert "重试成功的展览会" in kept[f"{b}/flaky.html"]["text"] or kept[f"{b}/flaky.html"]["title"].startswith("重试成功")
    assert kept[f"{b}/news/2026/river-cleanup.html"]["author"] == "陈静"

    reasons = {(r["reason"], r["path"]) for r in rejected}
    assert ("older_than_since", f"{b}/report.pdf") in reasons  # the PDF's creation date is 2000-01-01
    assert ("fetch_failed_status_404", f"{b}/missing.html") in reasons
    assert ("redirect_loop", f"{b}/loop/1") in reasons
    assert ("timeout", f"{b}/slow.html") in reasons
    assert ("too_large", f"{b}/huge.html") in reasons
    assert ("too_large", f"{b}/huge-stream.html") in reasons
    assert ("skipped_content_type", f"{b}/logo.png") in reasons
    assert ("robots_disallowed", f"{b}/private/secret.html") in reasons
    # the feed's and sitemap's 2025 entry is older than since: never fetched
    assert site.hits["/news/2025/old-festival.html"] == 0

    # politeness, as the server saw it
    assert site.hits["/private/secret.html"] == 0
    assert site.hits["/robots.txt"] == 1
    assert all(ua == "builder-test-crawler/1.0" for _, _, ua in site.log)
    times = sorted(t for t, _, _ in site.log)
    gaps = [b2 - a for a, b2 in zip(times, times[1:])]
    assert min(gaps) >= 0.045, "Crawl-delay 0.05 of robots.txt is one request at a time, 50 ms apart"
    # retries: 500 then 200, 429 (Retry-After 1) then 200, the slow page 1 + 2 retries
    assert site.hits["/flaky.html"] == 2 and site.hits["/limited.html"] == 2 and site.hits["/slow.html"] == 3
    limited = [t for t, p, _ in site.log if p == "/limited.html"]
    assert limited[1] - limited[0] >= 0.95, "Retry-After: 1 was honoured"
    # tracking parameters normalised away: the library article was linked 4 ways, fetched once
    assert sum(n for p, n in site.hits.items() if p.startswith("/news/2026/local-library.html")) == 1
    assert site.hits["/news/2026/farm-market.html"] + site.hits["/news/2026/farm-market.html?utm_source=old"] == 1
    # the other domain is never contacted (it would fail: no network), only counted
    db = sqlite3.connect(load_config(cfg).output / ".cache" / "corpus" / "crawl.sqlite")
    skipped = dict(db.execute("SELECT url, reason FROM skipped"))
    assert skipped["https://elsewhere.example.net/partner.html"] == "outside_allowed_domains"
    assert "https://elsewhere.example.net/sitemap-page.html" in skipped
    assert not db.execute("SELECT 1 FROM fetches WHERE host LIKE '%example.net%'").fetchall()

    # the report has the crawl tables
    report = load_config(cfg).output / "corpus" / "report"
    outcomes = pl.read_parquet(report / "crawl_outcomes.parquet")
    assert outcomes.filter(pl.col("reason") == "robots_disallowed")["urls"].sum() == 1
    hosts = pl.read_parquet(report / "crawl_hosts.parquet")
    assert hosts.filter(pl.col("host") == site.base.split("//")[1])["documents"][0] == len(docs)
    latency = pl.read_parquet(report / "crawl_latency.parquet")
    assert set(latency["kind"]) == {"page", "feed", "sitemap"}
    assert (report / "crawl_robots.parquet").exists() and (report / "crawl_yield.parquet").exists()
    summary = dict(pl.read_parquet(report / "summary.parquet").iter_rows())
    assert summary["rows_in"] == len(docs) + len(rejected)


def test_rerun_is_up_to_date_and_force_refreshes_only_entry_points(site, tmp_path):
    cfg = write_config(tmp_path, fixture_crawl(site.base))
    assert run_corpus(cfg) == 0
    first = site.page_hits()
    docs1, _ = outputs(cfg)
    assert run_corpus(cfg) == 0
    assert site.page_hits() == first, "an up-to-date stage fetches nothing"
    assert run_corpus(cfg, "--force") == 0
    again = site.page_hits() - first
    assert set(again) == {"/index.html", "/feed.xml", "/sitemap_index.xml", "/sitemap-news.xml.gz"}, again
    assert set(again.values()) == {1}
    docs2, _ = outputs(cfg)
    assert sorted(d["path"] for d in docs2) == sorted(d["path"] for d in docs1)
    pdf = by_path(docs2)[f"{site.base}/report.pdf"]  # no since: the PDF is kept, page-aware
    assert json.loads(pdf["meta"])["pages"] >= 1 and pdf["format"] == "web"


# -- kill and resume ------------------------------------------------------------------------------------------
class Crash(Exception):
    pass


def test_killed_crawl_resumes_without_refetching(site, tmp_path, monkeypatch):
    from builder.stages.corpus import crawl_frontier

    crawl = fixture_crawl(site.base, concurrency=1, since="2026-01-01")
    # reference: one uninterrupted crawl of the same site in another build folder
    ref_cfg = write_config(tmp_path / "ref", crawl)
    assert run_corpus(ref_cfg) == 0
    ref_docs, ref_rejected = outputs(ref_cfg)
    site.hits.clear()

    cfg = write_config(tmp_path / "killed", crawl)
    real_record = crawl_frontier.Frontier.record
    recorded = {"n": 0}

    def record_then_crash(self, *args, **kwargs):
        out = real_record(self, *args, **kwargs)
        recorded["n"] += 1
        if recorded["n"] == 7:
            raise Crash("killed after 7 recorded fetches")
        return out

    monkeypatch.setattr(crawl_frontier.Frontier, "record", record_then_crash)
    from builder.cli import main

    with pytest.raises(Crash):
        main(["--debug", "run", "corpus", "-c", str(cfg)])
    monkeypatch.setattr(crawl_frontier.Frontier, "record", real_record)
    assert not (load_config(cfg).output / "corpus" / "manifest.json").exists()
    hits_before = site.page_hits()
    assert 0 < sum(hits_before.values())

    assert run_corpus(cfg) == 0
    # nothing the first run recorded was fetched again (retried URLs are hit twice within one run)
    retried = {"/flaky.html", "/limited.html", "/slow.html"}
    twice = {p for p, n in site.page_hits().items() if n > 1 and p not in retried}
    assert not twice, twice
    docs, rejected = outputs(cfg)
    strip = lambda rows: sorted((r["path"], r.get("id"), r.get("text")) for r in rows)  # noqa: E731
    assert strip(docs) == strip(ref_docs)
    assert sorted((r["reason"], r["path"]) for r in rejected) == sorted((r["reason"], r["path"]) for r in ref_rejected)


def test_sigkilled_crawl_process_resumes_without_refetching(site, tmp_path):
    """A real SIGKILL of a `builder run corpus` process mid-crawl: the rerun refetches at most the one
    page that was in flight (concurrency 1) and ends with the documents of an uninterrupted crawl."""
    import signal
    import subprocess
    import sys

    crawl = fixture_crawl(site.base, concurrency=1, since="2026-01-01")
    ref_cfg = write_config(tmp_path / "ref", crawl)
    assert run_corpus(ref_cfg) == 0
    ref_docs, _ = outputs(ref_cfg)
    site.hits.clear()
    site.page_delay = 0.15  # slow pages down so the kill lands mid-crawl

    cfg = write_config(tmp_path / "killed", crawl)
    proc = subprocess.Popen([sys.executable, "-m", "builder.cli", "run", "corpus", "-c", str(cfg)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and sum(n for p, n in site.page_hits().items() if p.endswith(".html")) < 6:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (load_config(cfg).output / "corpus" / "manifest.json").exists()
    first = site.page_hits()
    assert sum(first.values()) >= 6
    site.page_delay = 0.0

    assert run_corpus(cfg) == 0
    retried = {"/flaky.html", "/limited.html", "/slow.html"}
    again = {p for p, n in site.page_hits().items() if n > first.get(p, 0) and first.get(p, 0) > 0 and p not in retried}
    assert len(again) <= 1, again  # only the page in flight when the process died
    docs, _ = outputs(cfg)
    strip = lambda rows: sorted((r["path"], r.get("id"), r.get("text")) for r in rows)  # noqa: E731
    assert strip(docs) == strip(ref_docs)


def test_robots_wildcard_and_end_anchor_are_obeyed(site, tmp_path):
    # urllib.robotparser reads "/*.pdf$" as a literal path prefix and would fetch the PDF; protego does not
    site.robots_txt = b"User-agent: *\nDisallow: /*.pdf$\nCrawl-delay: 0.01\n"
    cfg = write_config(tmp_path, fixture_crawl(site.base, max_depth=1, feeds=[], sitemaps=[]))
    assert run_corpus(cfg) == 0
    docs, rejected = outputs(cfg)
    reasons = {(r["reason"], r["path"]) for r in rejected}
    assert ("robots_disallowed", f"{site.base}/report.pdf") in reasons
    assert site.hits["/report.pdf"] == 0
    # what the rule does not match is fetched: the pages linked from the same index, and /private/ now
    assert f"{site.base}/news/2026/local-library.html" in by_path(docs)
    assert site.hits["/private/secret.html"] == 1


def test_max_pages_then_continue(site, tmp_path):
    cfg = write_config(tmp_path, fixture_crawl(site.base, max_pages=3, concurrency=2, refresh_entry_points=False))
    assert run_corpus(cfg) == 0
    docs, _ = outputs(cfg)
    first = site.page_hits()
    pages = {p for p in first if p not in ("/feed.xml", "/sitemap_index.xml", "/sitemap-news.xml.gz")}
    assert len(pages) == 3
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("max_pages = 3", "max_pages = 100"), encoding="utf-8")
    assert run_corpus(cfg) == 0
    later = site.page_hits() - first
    assert not (set(later) & pages), "pages of the first run are not fetched again"
    docs2, _ = outputs(cfg)
    assert len(docs2) > len(docs)


# -- pieces ------------------------------------------------------------------------------------------------
def test_url_normalisation():
    from builder.stages.corpus.crawl_urls import UrlRules, normalize_url

    strip = ["spm", "from", "scene", "chksm"]
    a = normalize_url("HTTP://News.Example.COM:80/a/./b/../文章.html?utm_source=x&b=2&a=1&spm=c.d#comments", strip)
    b = normalize_url("http://news.example.com/a/%E6%96%87%E7%AB%A0.html?a=1&b=2", strip)
    assert a == b == "http://news.example.com/a/%E6%96%87%E7%AB%A0.html?a=1&b=2"
    assert normalize_url("mailto:x@y.cn") is None and normalize_url("javascript:void(0)") is None
    assert normalize_url("ftp://x.cn/a") is None
    # courlan's tracker list (click ids, campaign, ref) goes; an article id stays
    assert normalize_url("https://x.cn/a?id=7&fbclid=abc&gclid=1&ref=home&utm_campaign=z") == "https://x.cn/a?id=7"
    assert normalize_url("https://新闻.中国/a") == "https://xn--efvy88h.xn--fiqs8s/a"
    assert normalize_url("../b.html", base="https://x.cn/a/c/d.html") == "https://x.cn/a/b.html"
    rules = UrlRules(["example.com"], allow=[r"/news/"], deny=[r"\.jpg$"])
    assert rules.why_not("https://www.example.com/news/1.html") is None
    assert rules.why_not("https://example.com.evil.cn/news/1.html") == "outside_allowed_domains"
    assert rules.why_not("https://example.com/about.html") == "url_pattern_not_allowed"
    assert rules.why_not("https://example.com/news/a.jpg") == "url_pattern_denied"


def test_feeds_are_parsed_tolerantly(realdata):
    from builder.stages.corpus.crawl_feeds import parse_feed

    rss = realdata / "rss"
    oschina = parse_feed((rss / "https-www-oschina-net-news-rss-show-industry.xml").read_bytes())
    assert oschina.malformed and len(oschina.entries) == 50
    assert oschina.entries[0].url.startswith("https://www.oschina.net/news/")
    atom = parse_feed((rss / "www-ruangyifeng-com-blog-atom.xml").read_bytes(), "application/atom+xml")
    assert len(atom.entries) == 3 and atom.entries[0].published is not None
    gb = parse_feed((rss / "chardet_gb2312_gb18030.xml").read_bytes())
    assert gb.without_link == 1 and not gb.entries


def test_feed_in_gb2312_is_decoded_not_mojibake():
    from builder.stages.corpus.crawl_feeds import parse_feed

    xml = "<rss><channel><title>频道</title><item><title>信息交换用汉字编码字符集</title><link>http://a.cn/1</link></item></channel></rss>"
    import feedparser

    feed = parse_feed(xml.encode("gb2312"))
    assert [e.url for e in feed.entries] == ["http://a.cn/1"] and feed.title == "频道"
    assert feedparser.parse(xml.encode("gb2312")).feed.get("title") != "频道"  # what we avoid


def test_sitemap_index_gzip_and_text():
    from builder.stages.corpus.crawl_feeds import parse_sitemap

    index = (SITE / "sitemap_index.xml").read_text(encoding="utf-8").replace("{base}", "http://s.cn")
    sm = parse_sitemap(index.encode())
    assert sm.kind == "index" and sm.entries[0].url == "http://s.cn/sitemap-news.xml.gz"
    urls = (SITE / "sitemap-news.xml").read_text(encoding="utf-8").replace("{base}", "http://s.cn")
    sm = parse_sitemap(gzip.compress(urls.encode()))
    assert sm.kind == "urlset" and len(sm.entries) == 4 and str(sm.entries[0].published) == "2026-11-18"
    broken = urls.replace("</urlset>", "").replace("<lastmod>2026-11-02</lastmod>", "<lastmod>2026-11-02")
    assert len(parse_sitemap(broken.encode()).entries) >= 2
    assert len(parse_sitemap(b"http://s.cn/a\nhttp://s.cn/b\n").entries) == 2


def test_retry_after_forms():
    from email.utils import formatdate

    from builder.stages.corpus.crawl_fetch import retry_after

    assert retry_after("7") == 7.0
    assert 25 < retry_after(formatdate(time.time() + 30, usegmt=True)) <= 31
    assert retry_after("soon") is None and retry_after(None) is None


def test_bad_since_is_a_one_line_error(tmp_path, site):
    cfg = write_config(tmp_path, fixture_crawl(site.base, since="last week"))
    with pytest.raises(BuilderError) as err:
        load_config(cfg)
    assert "corpus.crawl.since" in str(err.value) and "'last week'" in str(err.value) and "\n" not in str(err.value)


def test_toml_date_since_and_warc(site, tmp_path):
    pytest.importorskip("warcio")
    cfg = write_config(tmp_path, fixture_crawl(site.base, warc=True, max_depth=0, feeds=[], sitemaps=[]) + "\nsince = 2026-01-01\n")
    assert run_corpus(cfg, "--allow-partial") == 0  # the only page, a link list, keeps no article: a partial build
    from warcio.archiveiterator import ArchiveIterator

    warcs = list((load_config(cfg).output / ".cache" / "corpus" / "warc").glob("*.warc.gz"))
    assert len(warcs) == 1
    with open(warcs[0], "rb") as fh:
        uris = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh) if r.rec_type == "response"]
    assert f"{site.base}/index.html" in uris
    assert set(site.page_hits()) == {"/index.html"}, "max_depth = 0 follows no links"


# -- real pages ------------------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_crawl_real_news_pages(realdata, tmp_path):
    with SiteServer(real_html=realdata / "html") as srv:
        cfg = write_config(tmp_path, fixture_crawl(srv.base, seeds=[f"{srv.base}/real/index.html"], feeds=[], sitemaps=[],
                                                   max_depth=1, concurrency=4, max_bytes=5_000_000))
        assert run_corpus(cfg) == 0
    docs, rejected = outputs(cfg)
    pages = sorted((realdata / "html").glob("*.html"))
    real = [d for d in docs if "/real/" in d["path"] and not d["path"].endswith("index.html")]
    assert len(real) >= len(pages) * 0.8, [r["path"] + " " + r["reason"] for r in rejected]
    people = next(d for d in real if d["path"].endswith("people_1.html"))
    assert people["title"] and len(people["text"]) > 200


def test_a_chinese_page_sent_with_a_latin1_header_is_read_as_chinese():
    from builder.stages.corpus.crawl_feeds import decode_html, decode_xml

    page = ("<html><head><title>河湾镇首届乡村篮球联赛开赛</title></head><body><p>5月10日晚，河湾镇首届乡村篮球联赛在镇文体广场开幕，"
            "二十四支村队将在一个月里同场竞技。</p></body></html>")
    text, how = decode_html(page.encode("gbk"), "text/html; charset=ISO-8859-1")
    assert "河湾镇首届乡村篮球联赛" in text and "overruled" in how
    french = "<html><body><p>Le café de la gare ouvre à sept heures, été comme hiver.</p></body></html>"
    text, how = decode_html(french.encode("latin-1"), "text/html; charset=ISO-8859-1")
    assert "café" in text and "overruled" not in how
    feed = ('<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><title>河湾镇新闻</title>'
            '<item><title>河湾镇首届乡村篮球联赛开赛，二十四支村队同场竞技</title></item></channel></rss>')
    assert "河湾镇新闻" in decode_xml(feed.encode("gbk"), None)
