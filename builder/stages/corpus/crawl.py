"""Crawl news sites into the corpus: seeds, sitemaps and feeds, politely and resumably.

Two phases. The crawl (async, network-bound) walks the frontier kept in SQLite, one request at a
time per host and ``concurrency`` over all hosts, and records every fetch with its outcome and body.
Then the documents are built from the database (CPU-bound, on all cores, in URL order) through the
same extraction and cleaning chain as local files. Because documents come from the database and
not from the run, a crawl killed half-way and resumed ends with the same documents as one that
never stopped, and nothing recorded is fetched twice.

Modules: ``crawl_urls`` (normal form, allow rules), ``crawl_frontier`` (SQLite),
``crawl_fetch`` (robots, politeness, retries, redirects), ``crawl_feeds`` (feeds, sitemaps, links).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from ... import aio
from ...errors import BuilderError
from .clean import Cleaner, Kept, Rejected, to_document
from .crawl_feeds import content_kind, decode_html, page_links, parse_feed, parse_sitemap
from .crawl_fetch import Fetcher, Response
from .crawl_frontier import Fetch, Frontier
from .crawl_urls import UrlRules, host_of, normalize_url
from .extract import UnreadableFile, byline_names, extract_html, read_pdf, validate_author

DB_NAME = "crawl.sqlite"


def parse_since(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise BuilderError(f"[corpus.crawl] since: '{value}' is not a date (write since = \"2024-01-01\")") from None


def crawl_fingerprint(db_path: Path) -> str:
    """What the corpus stage's freshness sees of the crawl: generation, state and fetch count."""
    if not db_path.exists():
        return "none"
    fr = Frontier(db_path)
    try:
        return fr.fingerprint()
    finally:
        fr.close()


def default_domains(urls: list[str]) -> list[str]:
    out = []
    for u in urls:
        host = (urlsplit(u).hostname or "").lower()
        host = host[4:] if host.startswith("www.") else host
        if host and host not in out:
            out.append(host)
    return out


class WarcLog:
    """Raw responses as WARC records (warcio), one file per crawl session."""

    def __init__(self, folder: Path, gen: int):
        try:
            from warcio.warcwriter import WARCWriter
        except ImportError:
            raise BuilderError("[corpus.crawl] warc = true needs warcio: pip install 'builder[warc]'") from None
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"crawl-g{gen}-{time.strftime('%Y%m%d-%H%M%S')}.warc.gz"
        self.fh = open(self.path, "wb")
        self.writer = WARCWriter(self.fh, gzip=True)
        self.count = 0

    def __call__(self, r: Response, request_headers: dict[str, str]) -> None:
        import io

        from warcio.statusandheaders import StatusAndHeaders

        http = StatusAndHeaders(f"{r.status} OK", [(k, v) for k, v in r.headers if k not in ("content-encoding", "transfer-encoding")],
                                protocol="HTTP/1.1")
        # the length given: warcio then reads the body in place instead of spooling it to a temporary file it leaves open
        rec = self.writer.create_warc_record(r.final_url, "response", payload=io.BytesIO(r.body), length=len(r.body), http_headers=http)
        self.writer.write_record(rec)
        self.count += 1

    def close(self) -> None:
        self.fh.close()


class Crawler:
    def __init__(self, build, settings: dict[str, Any], ctx):
        self.build = build
        self.s = settings
        self.ctx = ctx
        self.counters: Counter[str] = Counter()
        self.strip = list(settings["strip_params"])
        self.since = parse_since(settings.get("since"))
        entries = [*settings["seeds"], *settings["sitemaps"], *settings["feeds"]]
        domains = settings["allowed_domains"] or default_domains(entries)
        pats = settings["url_patterns"]
        try:
            self.rules = UrlRules(domains, pats.get("allow", []), pats.get("deny", []))
        except Exception as exc:  # re.error
            raise BuilderError(f"[corpus.crawl] url_patterns: bad regex: {exc}") from None
        self.source = {"name": settings["name"], "license": settings.get("license"), "meta": settings.get("meta") or {}}
        self.db_path = ctx.cache_dir / DB_NAME
        self.stopped_by: str | None = None

    # -- entry -----------------------------------------------------------------------------------------
    def run(self) -> None:
        fr = Frontier(self.db_path)
        try:
            how = fr.start(self.s["refresh_entry_points"])
            self._add_entry_points(fr)
            self.ctx.log(f"crawl {how} (generation {fr.gen}): {fr.pending_count()} URLs pending, database {self.db_path}")
            before = fr.pages_fetched()
            aio.run(self._crawl(fr))
            fr.finish()
            fetched_now = fr.pages_fetched() - before
            self.ctx.count("crawl_pages_fetched_this_run", fetched_now)
            if how == "resumed":
                self.ctx.note(f"crawl resumed from {self.db_path.name}: fetched {fetched_now} more pages, none twice")
            if self.stopped_by:
                self.ctx.note(f"crawl stopped at max_pages = {self.s['max_pages']}; {fr.pending_count()} URLs left pending")
            self._emit(fr)
            self.ctx.tables.update(crawl_tables(fr, self.kept_by_host))
        finally:
            fr.close()
        self.ctx.counters.update(self.counters)

    def _add_entry_points(self, fr: Frontier) -> None:
        rows = []
        for kind, key in (("sitemap", "sitemaps"), ("feed", "feeds"), ("page", "seeds")):
            for raw in self.s[key]:
                url = normalize_url(raw, self.strip)
                why = "not an http(s) URL" if url is None else self.rules.why_not(url)
                if why:
                    self.ctx.count("rows_in")
                    self.ctx.reject("invalid_entry_point", f"{key} entry '{raw}' cannot be crawled: {why}", source=self.s["name"], path=raw)
                    continue
                rows.append((url, kind, 0, host_of(url), "entry", None))
        if not rows:
            self.ctx.note("[corpus.crawl] has no usable seeds, sitemaps or feeds; nothing was crawled")
        fr.db.execute("BEGIN")
        fr.add(rows)
        fr.db.execute("COMMIT")

    # -- phase 1: crawl --------------------------------------------------------------------------------
    async def _crawl(self, fr: Frontier) -> None:
        warc = WarcLog(self.ctx.cache_dir / "warc", fr.gen) if self.s["warc"] else None
        fetcher = Fetcher(self.s, self.rules, fr, self.counters, on_response=warc)
        concurrency = int(self.s["concurrency"])
        budget = int(self.s["max_pages"]) - fr.pages_fetched()
        inflight: dict[asyncio.Task, tuple[str, str]] = {}
        try:
            while True:
                pages_inflight = sum(1 for _, kind in inflight.values() if kind == "page")
                busy = fetcher.gate.busy() | {host_of(u) for u, _ in inflight.values()}
                while len(inflight) < concurrency:
                    picked = fr.pending(busy, limit=1)
                    if not picked or (picked[0][1] == "page" and budget - pages_inflight <= 0):
                        break
                    url, kind, depth, host = picked[0]
                    busy.add(host)
                    pages_inflight += kind == "page"
                    task = asyncio.create_task(self._visit(fr, fetcher, url, kind, depth))
                    inflight[task] = (url, kind)
                if not inflight:
                    waiting = fr.pending(set(), limit=concurrency * 4)
                    if not waiting:
                        break
                    if waiting[0][1] == "page" and budget <= 0:
                        self.stopped_by = "max_pages"
                        break
                    await asyncio.sleep(max(0.01, min(fetcher.gate.ready_in(h) for _, _, _, h in waiting)))
                    continue
                hosts_waiting = [fetcher.gate.ready_in(h) for h in fetcher.gate.next_at if fetcher.gate.ready_in(h) > 0]
                timeout = min(hosts_waiting) + 0.001 if hosts_waiting else None
                done, _ = await asyncio.wait(list(inflight), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    inflight.pop(task)
                    task.result()
                budget = int(self.s["max_pages"]) - fr.pages_fetched()
        finally:
            for task in inflight:
                task.cancel()
            if inflight:
                await asyncio.gather(*inflight, return_exceptions=True)
            await fetcher.aclose()
            if warc is not None:
                warc.close()
                self.ctx.note(f"raw responses kept as WARC: {warc.path} ({warc.count} records)")

    async def _visit(self, fr: Frontier, fetcher: Fetcher, url: str, kind: str, depth: int) -> None:
        why = self.rules.why_not(url)
        if why:  # the config changed since the URL was queued
            fr.record(Fetch(url, kind, depth, host_of(url), "skipped", why, f"the config no longer allows {url}"))
            return
        r = await fetcher.fetch(url)
        base = dict(kind=kind, depth=depth, status=r.status, content_type=r.content_type, bytes=len(r.body),
                    latency_ms=round(r.latency_ms, 2), attempts=r.attempts)
        if r.reason == "robots_disallowed":
            fr.record(Fetch(url, host=host_of(url), outcome="skipped", reason=r.reason, detail=r.detail, **base))
            return
        if r.reason:
            fr.record(Fetch(url, host=host_of(url), outcome="failed", reason=r.reason, detail=r.detail, final_url=r.final_url, **base))
            return
        final = r.final_url
        if final != url:
            if r.already_fetched or fr.has_fetch(final) or fr.state_of(final) == "done":
                self.counters["redirect_to_fetched"] += 1
                fr.record(Fetch(url, host=host_of(url), outcome="redirected", final_url=final, detail="target already fetched", **base))
                return
            fr.record(Fetch(url, host=host_of(url), outcome="redirected", final_url=final, **{**base, "bytes": 0}))
        fetch, discovered, links = self._digest(fr, final, kind, depth, r, base)
        if final != url:  # the target is known from now on, so a link to it later is not fetched again
            discovered = [(final, kind, depth, host_of(final), "redirect", url), *discovered]
        fr.record(fetch, discovered, links, also_done=[final])

    def _digest(self, fr: Frontier, url: str, kind: str, depth: int, r: Response, base: dict[str, Any]):
        """Route the body: feeds and sitemaps yield entry points, pages yield links and a stored body."""
        host = host_of(url)
        ck = content_kind(r.content_type, r.body)
        discovered: list[tuple] = []
        links: list[str] = []
        try:
            if kind == "feed":
                feed = parse_feed(r.body, r.content_type)
                self.counters["feed_entries_seen"] += len(feed.entries)
                self.counters["feed_entries_without_link"] += feed.without_link
                self.counters["feeds_malformed_tolerated"] += int(feed.malformed)
                discovered = self._entries(fr, [(e.url, e.published) for e in feed.entries], "page", url, "feed")
                return Fetch(url, host=host, outcome="ok", detail=f"{len(feed.entries)} entries", **base), discovered, []
            if kind == "sitemap":
                sm = parse_sitemap(r.body, r.content_type)
                self.counters[f"sitemap_{sm.kind}_entries_seen"] += len(sm.entries)
                child = "sitemap" if sm.kind == "index" else "page"
                discovered = self._entries(fr, [(e.url, e.published) for e in sm.entries], child, url, "sitemap")
                return Fetch(url, host=host, outcome="ok", detail=f"{sm.kind}: {len(sm.entries)} entries", **base), discovered, []
        except ValueError as exc:
            return Fetch(url, host=host, outcome="failed", reason=f"{kind}_unparseable", detail=str(exc)[:200], **base), [], []
        if ck == "pdf":
            return Fetch(url, host=host, outcome="ok", body=r.body, **base), [], []
        if ck != "html":
            return Fetch(url, host=host, outcome="failed", reason="skipped_content_type",
                         detail=f"content type '{r.content_type or 'none'}' is neither HTML nor PDF", **base), [], []
        html, _ = decode_html(r.body, r.content_type)
        found = page_links(html, url)
        if found.noindex and self.s["respect_robots"]:
            self.counters["robots_meta_noindex"] += 1
            return Fetch(url, host=host, outcome="skipped", reason="robots_noindex", detail="meta robots noindex", **base), [], []
        links = self._allowed_links(fr, found.links if not (found.nofollow and self.s["respect_robots"]) else [])
        if depth + 1 <= int(self.s["max_depth"]):
            discovered = [(u, "page", depth + 1, host_of(u), "link", url) for u in links]
            discovered += self._relink(fr, discovered)
        return Fetch(url, host=host, outcome="ok", body=r.body, **base), discovered, links

    def _entries(self, fr: Frontier, items: list[tuple[str, dt.date | None]], kind: str, parent: str, via: str) -> list[tuple]:
        out = []
        for raw, published in items:
            u = normalize_url(raw, self.strip, base=parent)
            why = "not_http" if u is None else self.rules.why_not(u)
            if why:
                self.counters[f"{via}_entries_{why}"] += 1
                fr.skip(why, u or raw)
                continue
            if self.since and published and published < self.since and kind == "page":
                self.counters[f"{via}_entries_older_than_since"] += 1
                fr.skip("older_than_since", u)
                continue
            out.append((u, kind, 0, host_of(u), via, parent))
        return out

    def _allowed_links(self, fr: Frontier, raw_links: list[str]) -> list[str]:
        seen: dict[str, None] = {}
        for raw in raw_links:
            u = normalize_url(raw, self.strip)
            if u is None:
                continue  # mailto:, javascript:, tel: ...
            why = self.rules.why_not(u)
            if why:
                self.counters[f"links_{why}"] += 1
                fr.skip(why, u)
                continue
            seen.setdefault(u, None)
        return list(seen)

    def _relink(self, fr: Frontier, discovered: list[tuple]) -> list[tuple]:
        """A page fetched at depth d and now reached at a smaller depth: queue its stored links again."""
        out, todo, limit = [], list(discovered), int(self.s["max_depth"])
        while todo:
            url, _, depth, *_ = todo.pop()
            if fr.depth_lowered(url, depth):
                fr.db.execute("UPDATE urls SET depth=? WHERE url=?", (depth, url))
                if depth + 1 <= limit:
                    more = [(u, "page", depth + 1, host_of(u), "link", url) for u in fr.links_of(url)]
                    out.extend(more)
                    todo.extend(more)
        return out

    # -- phase 2: documents from the database -------------------------------------------------------------
    def _emit(self, fr: Frontier) -> None:
        ctx = self.ctx
        clean = ctx.settings["clean"]
        since = self.since.isoformat() if self.since else None
        self.kept_by_host: Counter[str] = Counter()

        def tasks():
            for row in fr.fetches(with_body=True):
                yield row, self.source, clean, since

        for outcomes, counters in ctx.track(ctx.map(process_fetch, tasks()), "crawled pages"):
            self.counters.update(counters)
            for outcome in outcomes:
                ctx.count("rows_in")
                if isinstance(outcome, Kept):
                    if ctx.keep(outcome.document):
                        self.kept_by_host[host_of(outcome.document["path"])] += 1
                else:
                    outcome.write(ctx)


META_AUTHOR = re.compile(r"""<meta[^>]+name\s*=\s*["']author["'][^>]*content\s*=\s*["']([^"']{1,40})["']""", re.I)
TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def byline_author(html: str) -> str | None:
    """The reporter named in a byline (记者 林晓), else a short meta author."""
    body = html[html.lower().find("<body"):] if "<body" in html.lower() else html
    names = byline_names(TAGS.sub(" ", body[:60000]))  # the one byline pattern (extract.BYLINE)
    if names:
        return "、".join(names)
    m = META_AUTHOR.search(html[:20000])
    return validate_author(m.group(1).strip()) if m and len(m.group(1).strip()) <= 20 else None


# -- worker side: one recorded fetch -> outcomes (runs in a pool process) ------------------------------
_CLEANERS: dict[str, Cleaner] = {}


def process_fetch(task) -> tuple[list[tuple[str, dict[str, Any]]], Counter]:
    row, source, clean, since = task
    counters: Counter = Counter()
    url = row["url"]
    where = {"source": source["name"], "path": url}
    if row["outcome"] in ("failed", "skipped"):
        return [Rejected.from_row({"reason": row["reason"], "detail": f"{row['detail'] or row['reason']} ({url})", **where})], counters
    if row["outcome"] == "redirected":
        counters["crawl_redirect_aliases"] += 1
        return [], counters
    if row["kind"] != "page" or row["body"] is None:
        return [], counters  # a feed or sitemap: its entries were queued during the crawl
    body = row["body"]
    ck = content_kind(row["content_type"], body)
    try:
        if ck == "pdf":
            raws = read_pdf(body)
            charset = None
        else:
            html, charset = decode_html(body, row["content_type"])
            raw = extract_html(html, url=url)
            if raw is None:
                raise UnreadableFile("no_main_text", "trafilatura found no article text in the page")
            if not raw.author:  # trafilatura drops Chinese names; the byline or the meta tag has them
                raw.author = byline_author(html)
                counters["crawl_author_from_byline"] += int(bool(raw.author))
            raws = [raw]
            counters[f"crawl_charset_{charset.split(':')[0]}"] += 1
    except UnreadableFile as exc:
        return [Rejected.from_row({"reason": exc.reason, "detail": f"{exc.detail} ({url})", **where})], counters
    counters["crawl_pages_extracted"] += 1
    key = json.dumps(clean, sort_keys=True)
    cleaner = _CLEANERS.setdefault(key, Cleaner(clean))
    out = []
    for raw in raws:
        raw.format = "web"
        raw.meta.update({"url": url, "host": row["host"], "http_status": row["status"], "content_type": row["content_type"],
                         "fetched_at": dt.datetime.fromtimestamp(row["fetched_at"], dt.timezone.utc).isoformat(timespec="seconds"),
                         "crawl_depth": row["depth"]})
        if charset:
            raw.meta["charset"] = charset
        if since and raw.published and raw.published < since:
            out.append(Rejected.from_row({"reason": "older_than_since", "detail": f"published {raw.published}, before since {since} ({url})",
                                   **where, "record": {"title": raw.title, "published": raw.published}}))
            continue
        text, dropped = cleaner(raw, counters)
        if dropped:
            out.append(Rejected.from_row({"reason": dropped.reason, "detail": f"{dropped.detail} ({url})", **where,
                                   "record": {"title": raw.title, "text": raw.text, "format": "web"}}))
        else:
            out.append(Kept(to_document(raw, text, cleaner, source, url)))
    return out, counters


# -- report ------------------------------------------------------------------------------------------------
def crawl_tables(fr: Frontier, kept_by_host: Counter) -> dict[str, pl.DataFrame]:
    rows = list(fr.fetches(with_body=False))
    schema = {"url": pl.String, "kind": pl.String, "depth": pl.Int64, "host": pl.String, "outcome": pl.String, "reason": pl.String,
              "detail": pl.String, "status": pl.Int64, "final_url": pl.String, "content_type": pl.String, "bytes": pl.Int64,
              "latency_ms": pl.Float64, "attempts": pl.Int64, "fetched_at": pl.Float64, "gen": pl.Int64}
    df = pl.DataFrame(rows, schema=schema)
    tables: dict[str, pl.DataFrame] = {}
    tables["crawl_outcomes"] = (df.group_by("kind", "outcome", "reason", "status").agg(pl.len().alias("urls"), pl.col("bytes").sum())
                                .sort("urls", "kind", "outcome", descending=[True, False, False], nulls_last=True))
    fetched = df.filter(pl.col("outcome") != "skipped")
    hosts = (df.group_by("host").agg(
        (pl.col("outcome") != "skipped").sum().alias("fetched"),
        (pl.col("outcome") == "ok").sum().alias("ok"),
        (pl.col("outcome") == "failed").sum().alias("failed"),
        (pl.col("reason") == "robots_disallowed").sum().alias("robots_disallowed"),
        pl.col("bytes").sum().alias("bytes"),
        pl.col("latency_ms").median().round(1).alias("latency_p50_ms"),
    ))
    kept = pl.DataFrame({"host": list(kept_by_host), "documents": list(kept_by_host.values())},
                        schema={"host": pl.String, "documents": pl.Int64})
    tables["crawl_hosts"] = hosts.join(kept, on="host", how="left").fill_null(0).sort("fetched", "host", descending=[True, False])
    pages = df.filter(pl.col("kind") == "page")
    ok_pages = pages.filter(pl.col("outcome") == "ok").height
    docs = sum(kept_by_host.values())
    tables["crawl_yield"] = pl.DataFrame({
        "step": ["page URLs recorded", "pages fetched (HTTP)", "pages with a usable body (HTML/PDF)", "documents kept"],
        "count": [pages.height, pages.filter(pl.col("outcome") != "skipped").height, ok_pages, docs],
    }).with_columns((pl.col("count") / max(pages.height, 1)).round(4).alias("share_of_recorded"))
    lat = fetched.filter(pl.col("latency_ms").is_not_null())
    qs = [0.5, 0.9, 0.99]
    tables["crawl_latency"] = lat.group_by("kind").agg(
        pl.len().alias("fetches"), *[pl.col("latency_ms").quantile(q, "nearest").round(1).alias(f"p{int(q * 100)}_ms") for q in qs],
        pl.col("latency_ms").max().round(1).alias("max_ms"), pl.col("bytes").sum().alias("bytes"),
        pl.col("attempts").sum().alias("attempts"),
    ).sort("kind")
    robots = fr.db.execute("SELECT origin, status FROM robots ORDER BY origin").fetchall()
    disallowed = dict(df.filter(pl.col("reason") == "robots_disallowed").group_by("host").agg(pl.len()).iter_rows())
    tables["crawl_robots"] = pl.DataFrame(
        [{"origin": o, "robots_status": s, "urls_disallowed": int(disallowed.get(urlsplit(o).netloc, 0))} for o, s in robots],
        schema={"origin": pl.String, "robots_status": pl.Int64, "urls_disallowed": pl.Int64})
    tables["crawl_not_followed"] = pl.DataFrame(fr.skipped_counts(), schema={"reason": pl.String, "urls": pl.Int64}, orient="row")
    return tables
