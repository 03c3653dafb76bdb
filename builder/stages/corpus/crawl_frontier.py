"""The crawl's memory on disk (SQLite): the frontier, every fetch and its outcome, robots files.

A URL is ``pending`` until its fetch is recorded, in one transaction, together with the links it
led to; so a crawl killed at any moment resumes with exactly the URLs whose outcome was not yet
written, and never fetches a recorded one again. Page bodies are kept (zlib) so documents are built
from the database at the end, in URL order, and equal those of an uninterrupted crawl.
"""

from __future__ import annotations

import json
import sqlite3
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY, kind TEXT NOT NULL, depth INTEGER NOT NULL, host TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', via TEXT, parent TEXT, seq INTEGER NOT NULL, gen INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS urls_pending ON urls(state, depth, seq);
CREATE TABLE IF NOT EXISTS fetches (
    url TEXT PRIMARY KEY, kind TEXT NOT NULL, depth INTEGER, host TEXT, outcome TEXT NOT NULL, reason TEXT, detail TEXT,
    status INTEGER, final_url TEXT, content_type TEXT, bytes INTEGER, latency_ms REAL, attempts INTEGER,
    fetched_at REAL, gen INTEGER, body BLOB);
CREATE TABLE IF NOT EXISTS links (src TEXT NOT NULL, dst TEXT NOT NULL, PRIMARY KEY (src, dst));
CREATE TABLE IF NOT EXISTS robots (origin TEXT PRIMARY KEY, status INTEGER, body TEXT, gen INTEGER, fetched_at REAL);
CREATE TABLE IF NOT EXISTS skipped (reason TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (reason, url));
"""


@dataclass
class Fetch:
    """One recorded fetch. ``outcome``: ok | redirected | failed (with ``reason``)."""

    url: str
    kind: str
    depth: int
    host: str
    outcome: str
    reason: str | None = None
    detail: str | None = None
    status: int | None = None
    final_url: str | None = None
    content_type: str | None = None
    bytes: int = 0
    latency_ms: float | None = None
    attempts: int = 0
    body: bytes | None = None


class Frontier:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.gen = int(self.get("gen") or 0)

    def close(self) -> None:
        self.db.close()

    # -- meta ----------------------------------------------------------------------------------------
    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))

    def start(self, refresh_entry_points: bool) -> str:
        """Begin or resume: 'new' (empty db), 'resumed' (last crawl unfinished) or 'refreshed'."""
        state = self.get("state")
        if state is None:
            self.gen = 1
            how = "new"
        elif state == "running":
            return "resumed"
        else:
            self.gen += 1
            how = "refreshed"
            if refresh_entry_points:
                self.db.execute("BEGIN")
                again = "via='entry' OR kind IN ('feed', 'sitemap')"  # child sitemaps of an index too
                self.db.execute(f"DELETE FROM fetches WHERE url IN (SELECT url FROM urls WHERE {again})")
                self.db.execute(f"UPDATE urls SET state='pending', gen=? WHERE {again}", (self.gen,))
                self.db.execute("COMMIT")
        self.put("gen", self.gen)
        self.put("state", "running")
        self.put("started_at", time.time())
        return how

    def finish(self) -> None:
        self.put("state", "finished")
        self.put("finished_at", time.time())

    def fingerprint(self) -> str:
        n, last = self.db.execute("SELECT count(*), max(fetched_at) FROM fetches").fetchone()
        return f"gen{self.gen}:{self.get('state')}:{n}:{last}"

    # -- frontier -----------------------------------------------------------------------------------
    def _next_seq(self) -> int:
        return (self.db.execute("SELECT coalesce(max(seq), 0) FROM urls").fetchone()[0] or 0) + 1

    def add(self, urls: list[tuple[str, str, int, str, str, str | None]]) -> int:
        """Add (url, kind, depth, host, via, parent) rows; a known URL keeps its row but takes a smaller depth.

        Returns how many were new. Runs inside the caller's transaction when there is one.
        """
        new = 0
        seq = self._next_seq()
        for url, kind, depth, host, via, parent in urls:
            cur = self.db.execute("INSERT OR IGNORE INTO urls (url, kind, depth, host, state, via, parent, seq, gen) "
                                  "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)", (url, kind, depth, host, via, parent, seq, self.gen))
            if cur.rowcount:
                new += 1
                seq += 1
            else:
                self.db.execute("UPDATE urls SET depth=? WHERE url=? AND depth>?", (depth, url, depth))
        return new

    def depth_lowered(self, url: str, depth: int) -> bool:
        row = self.db.execute("SELECT depth, state FROM urls WHERE url=?", (url,)).fetchone()
        return bool(row and row[1] == "done" and row[0] > depth)

    def state_of(self, url: str) -> str | None:
        row = self.db.execute("SELECT state FROM urls WHERE url=?", (url,)).fetchone()
        return row[0] if row else None

    def pending(self, exclude_hosts: set[str], limit: int) -> list[tuple[str, str, int, str]]:
        """Pending (url, kind, depth, host): feeds and sitemaps first, then pages shallowest first in discovery order."""
        q = "SELECT url, kind, depth, host FROM urls WHERE state='pending'"
        args: list[Any] = []
        if exclude_hosts:
            q += f" AND host NOT IN ({','.join('?' * len(exclude_hosts))})"
            args.extend(sorted(exclude_hosts))
        q += " ORDER BY kind = 'page', depth, seq LIMIT ?"
        args.append(limit)
        return self.db.execute(q, args).fetchall()

    def pending_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM urls WHERE state='pending'").fetchone()[0]

    def pages_fetched(self) -> int:
        """Pages fetched in this crawl generation (what max_pages caps); a redirect's alias row is not a page."""
        return self.db.execute("SELECT count(*) FROM fetches WHERE kind='page' AND outcome IN ('ok', 'failed') AND gen=?",
                               (self.gen,)).fetchone()[0]

    def links_of(self, url: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT dst FROM links WHERE src=?", (url,))]

    # -- recording ----------------------------------------------------------------------------------
    def record(self, f: Fetch, discovered: list[tuple[str, str, int, str, str, str | None]] = (), links: list[str] = (),
               also_done: list[str] = ()) -> int:
        """Write one fetch, the URLs it discovered and its links, and mark it done: one transaction."""
        self.db.execute("BEGIN")
        try:
            body = zlib.compress(f.body, 6) if f.body is not None else None
            self.db.execute("INSERT OR REPLACE INTO fetches VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                            (f.url, f.kind, f.depth, f.host, f.outcome, f.reason, f.detail, f.status, f.final_url, f.content_type,
                             f.bytes, f.latency_ms, f.attempts, time.time(), self.gen, body))
            self.db.executemany("INSERT OR IGNORE INTO links VALUES (?, ?)", [(f.url, dst) for dst in links])
            new = self.add(list(discovered))
            self.db.execute("UPDATE urls SET state='done' WHERE url=?", (f.url,))
            for other in also_done:
                self.db.execute("UPDATE urls SET state='done' WHERE url=?", (other,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return new

    def has_fetch(self, url: str) -> bool:
        return self.db.execute("SELECT 1 FROM fetches WHERE url=? AND outcome != 'redirected'", (url,)).fetchone() is not None

    def skip(self, reason: str, url: str) -> None:
        """A URL never fetched because of the config (outside allowed domains, older than since ...)."""
        self.db.execute("INSERT OR IGNORE INTO skipped VALUES (?, ?)", (reason, url))

    # -- robots -------------------------------------------------------------------------------------
    def robots(self, origin: str) -> tuple[int, str] | None:
        row = self.db.execute("SELECT status, body FROM robots WHERE origin=? AND gen=?", (origin, self.gen)).fetchone()
        return (row[0], row[1]) if row else None

    def save_robots(self, origin: str, status: int, body: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO robots VALUES (?, ?, ?, ?, ?)", (origin, status, body, self.gen, time.time()))

    # -- reading back -------------------------------------------------------------------------------
    def fetches(self, with_body: bool = True) -> Iterator[dict[str, Any]]:
        cols = "url, kind, depth, host, outcome, reason, detail, status, final_url, content_type, bytes, latency_ms, attempts, fetched_at, gen"
        cols += ", body" if with_body else ""
        cur = self.db.execute(f"SELECT {cols} FROM fetches ORDER BY url")
        names = [d[0] for d in cur.description]
        for row in cur:
            d = dict(zip(names, row))
            if with_body and d.get("body") is not None:
                d["body"] = zlib.decompress(d["body"])
            yield d

    def skipped_counts(self) -> list[tuple[str, int]]:
        return self.db.execute("SELECT reason, count(*) FROM skipped GROUP BY reason ORDER BY reason").fetchall()

    def summary(self) -> dict[str, Any]:
        return json.loads(self.get("summary") or "{}")
