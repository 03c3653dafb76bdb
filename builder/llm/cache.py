"""The request cache: every reply paid for is kept in SQLite, so nothing is ever paid twice.

A request is keyed by a hash of what changes its result: the endpoint (its URL without credentials:
another provider's model of the same name is another model), the model, the messages and the sampling
parameters (temperature, max_tokens, response_format, seed …). The API key is never part of the key or
stored anywhere in the file. A reply is committed the moment it arrives, so a run killed halfway and
started again asks only for what it has not got yet. A reply its stage could not use (not JSON, not the
schema, after the re-ask too) is marked ``invalid``: it stays in the file for inspection, but is not
served again, so a provider's bad hour is not frozen into every later build.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

SCHEMA = """
CREATE TABLE IF NOT EXISTS replies (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT,
    refusal TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    latency REAL,
    created REAL NOT NULL,
    invalid TEXT
)
"""


def request_key(model: str, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any], endpoint: str = "") -> str:
    """The cache key of one chat request: sha256 of endpoint, model, messages and result-changing parameters.

    ``endpoint`` is the base URL as :func:`builder.llm.client.display_url` shows it (no credentials)."""
    payload = {"model": model, "messages": [dict(m) for m in messages], "params": {k: v for k, v in params.items() if v is not None}}
    if endpoint:
        payload["endpoint"] = endpoint
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedReply:
    model: str
    text: str
    finish_reason: str | None
    refusal: str | None
    prompt_tokens: int
    completion_tokens: int
    latency: float


class RequestCache:
    """A SQLite file of replies keyed by :func:`request_key`. Safe to share between processes (WAL)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a committed reply survives a killed process
        self._db.execute(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(replies)")}
        if "invalid" not in columns:  # a cache file from before replies could be marked
            self._db.execute("ALTER TABLE replies ADD COLUMN invalid TEXT")

    def get(self, key: str) -> CachedReply | None:
        with self._lock:
            row = self._db.execute(
                "SELECT model, text, finish_reason, refusal, prompt_tokens, completion_tokens, latency FROM replies"
                " WHERE key = ? AND invalid IS NULL",
                (key,)).fetchone()
        if row is None:
            return None
        return CachedReply(row[0], row[1], row[2], row[3], int(row[4] or 0), int(row[5] or 0), float(row[6] or 0.0))

    def put(self, key: str, reply: CachedReply) -> None:
        """Store a reply now (one committed transaction), so a crash a moment later loses nothing."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO replies (key, model, text, finish_reason, refusal, prompt_tokens, completion_tokens, latency, created,"
                " invalid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (key, reply.model, reply.text, reply.finish_reason, reply.refusal, reply.prompt_tokens, reply.completion_tokens,
                 reply.latency, time.time()))

    def mark_invalid(self, key: str, reason: str) -> None:
        """Keep the reply for inspection but never serve it again: the next run asks anew."""
        with self._lock:
            self._db.execute("UPDATE replies SET invalid = ? WHERE key = ?", (reason[:500], key))

    def reply_lengths(self, keys: Sequence[str] = (), model: str | None = None) -> list[tuple[int, str | None]]:
        """(completion_tokens, finish_reason) of the usable replies with these keys, or with none given, of
        every usable reply of ``model``: what a dry run calibrates its estimate on."""
        with self._lock:
            if keys:
                rows: list = []
                keys = list(keys)
                for i in range(0, len(keys), 500):
                    part = keys[i:i + 500]
                    rows += self._db.execute(
                        f"SELECT completion_tokens, finish_reason FROM replies WHERE invalid IS NULL AND key IN ({','.join('?' * len(part))})",
                        part).fetchall()
            else:
                rows = self._db.execute("SELECT completion_tokens, finish_reason FROM replies WHERE invalid IS NULL AND model = ?",
                                        (model or "",)).fetchall()
        return [(int(r[0] or 0), r[1]) for r in rows]

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM replies WHERE key = ? AND invalid IS NULL", (key,)).fetchone() is not None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "RequestCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
