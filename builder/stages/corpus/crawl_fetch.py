"""One polite HTTP fetch: robots.txt, per-host spacing, retries with backoff, redirects, size cap.

``Fetcher.fetch(url)`` follows redirects itself (each hop is checked against the config's rules and
the target host's robots.txt, and waits its host's turn), retries 429/5xx/timeouts/connection errors
with exponential backoff that honours ``Retry-After``, and stops reading a body at ``max_bytes``.
Every outcome is a ``Response`` with a reason code, never an exception.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
from protego import Protego

from ...backoff import backoff_delay, retry_after_seconds

from .crawl_frontier import Frontier
from .crawl_urls import UrlRules, host_of, normalize_url, origin

RETRY_STATUS = {429, 500, 502, 503, 504, 408}
ROBOTS_MAX_BYTES = 500_000


@dataclass
class Response:
    url: str  # the normalised URL asked for
    final_url: str
    status: int | None = None
    reason: str | None = None  # None = a body to use
    detail: str | None = None
    content_type: str | None = None
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    latency_ms: float = 0.0
    attempts: int = 0
    hops: list[str] = field(default_factory=list)
    already_fetched: bool = False  # a redirect to a URL this crawl has recorded before


class HostGate:
    """One request at a time per host, ``delay`` seconds apart (the larger of config and Crawl-delay)."""

    def __init__(self, default_delay: float):
        self.default_delay = default_delay
        self.locks: dict[str, asyncio.Lock] = {}
        self.next_at: dict[str, float] = {}
        self.delays: dict[str, float] = {}

    def busy(self) -> set[str]:
        now = time.monotonic()
        return {h for h, lk in self.locks.items() if lk.locked()} | {h for h, t in self.next_at.items() if t > now}

    def ready_in(self, host: str) -> float:
        return max(0.0, self.next_at.get(host, 0.0) - time.monotonic())

    def set_delay(self, host: str, delay: float) -> None:
        self.delays[host] = max(self.default_delay, delay)

    def defer(self, host: str, seconds: float) -> None:
        self.next_at[host] = max(self.next_at.get(host, 0.0), time.monotonic() + seconds)

    async def turn(self, host: str):
        lock = self.locks.setdefault(host, asyncio.Lock())
        await lock.acquire()
        wait = self.ready_in(host)
        if wait:
            await asyncio.sleep(wait)
        return lock

    def done(self, host: str, lock: asyncio.Lock) -> None:
        self.next_at[host] = max(self.next_at.get(host, 0.0), time.monotonic() + self.delays.get(host, self.default_delay))
        lock.release()


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header value (delta-seconds or an HTTP date); see :mod:`builder.backoff`."""
    return retry_after_seconds({"retry-after": value} if value else None)


class Fetcher:
    def __init__(self, settings: dict[str, Any], rules: UrlRules, frontier: Frontier, counters, on_response: Callable | None = None):
        s = settings
        self.s = s
        self.rules = rules
        self.frontier = frontier
        self.counters = counters
        self.on_response = on_response  # (Response, request headers) -> None, e.g. the WARC writer
        self.gate = HostGate(float(s["per_host_delay"]))
        self.robots: dict[str, Protego | None] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self.strip = s["strip_params"]
        self.client = httpx.AsyncClient(headers={"User-Agent": s["user_agent"], "Accept-Encoding": "gzip, deflate"},
                                        timeout=httpx.Timeout(float(s["timeout"])), follow_redirects=False,
                                        limits=httpx.Limits(max_connections=max(4, int(s["concurrency"]) * 2)))

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- robots.txt ------------------------------------------------------------------------------------
    async def allowed_by_robots(self, url: str) -> bool:
        if not self.s["respect_robots"]:
            return True
        o = origin(url)
        lock = self._robots_locks.setdefault(o, asyncio.Lock())
        async with lock:
            if o not in self.robots:
                self.robots[o] = await self._load_robots(o)
        parser = self.robots[o]
        if parser is None:  # robots.txt unreachable (5xx / network): RFC 9309 says assume full disallow
            return False
        return parser.can_fetch(url, self.s["user_agent"])

    async def _load_robots(self, o: str) -> Protego | None:
        saved = self.frontier.robots(o)
        if saved is None:
            r = await self._get(o + "/robots.txt", ROBOTS_MAX_BYTES, retries=1)
            status = r.status or 0
            body = r.body.decode("utf-8", errors="replace") if r.reason in (None, "too_large") and status == 200 else ""
            self.frontier.save_robots(o, status, body)
            self.counters["robots_txt_fetched"] += 1
            saved = (status, body)
        status, body = saved
        # protego, not urllib.robotparser: it obeys the * and $ wildcards (Disallow: /*.pdf$) and fractional Crawl-delay
        if 200 <= status < 300:
            parser = Protego.parse(body)
        elif 400 <= status < 500:  # no robots.txt: everything is allowed
            parser = Protego.parse("")
        else:
            self.counters["robots_txt_unreachable"] += 1
            return None
        delay = float(parser.crawl_delay(self.s["user_agent"]) or 0)
        rate = parser.request_rate(self.s["user_agent"])
        if rate and rate.requests:
            delay = max(delay, rate.seconds / rate.requests)
        if delay:
            host = host_of(o + "/")
            self.gate.set_delay(host, float(delay))
            self.gate.defer(host, float(delay))  # the robots.txt request itself counts
        return parser

    # -- one URL with redirects -----------------------------------------------------------------------------
    async def fetch(self, url: str) -> Response:
        hops = [url]
        current = url
        attempts = 0
        for _ in range(int(self.s["max_redirects"]) + 1):
            if not await self.allowed_by_robots(current):
                return Response(url, current, reason="robots_disallowed", detail=f"robots.txt disallows {current}", hops=hops,
                                attempts=attempts)
            r = await self._get(current, int(self.s["max_bytes"]), retries=int(self.s["retries"]))
            attempts += r.attempts
            r.url, r.hops, r.attempts = url, hops, attempts
            if r.status in (301, 302, 303, 307, 308) and r.reason is None:
                target = normalize_url(dict(r.headers).get("location", ""), self.strip, base=current)
                if target is None:
                    return _fail(r, "redirect_invalid", f"redirect from {current} to an unusable location")
                if target in hops:
                    return _fail(r, "redirect_loop", f"redirect loop: {' -> '.join(hops + [target])}")
                why = self.rules.why_not(target)
                if why:
                    return _fail(r, "redirect_" + why, f"redirect to {target} which the config does not allow ({why})")
                hops.append(target)
                self.counters["redirects_followed"] += 1
                if self.frontier.state_of(target) == "done":  # known already: no need to fetch it again
                    r.final_url, r.body, r.already_fetched = target, b"", True
                    return r
                current = target
                continue
            r.final_url = current
            return r
        return _fail(Response(url, current, hops=hops, attempts=attempts), "too_many_redirects",
                     f"more than {self.s['max_redirects']} redirects: {' -> '.join(hops)}")

    # -- one request with retries -------------------------------------------------------------------------
    async def _get(self, url: str, max_bytes: int, retries: int) -> Response:
        host = host_of(url)
        backoff = float(self.s["backoff"])
        attempt = 0
        while True:
            attempt += 1
            lock = await self.gate.turn(host)
            try:
                r = await self._once(url, max_bytes)
            finally:
                self.gate.done(host, lock)
            r.attempts = attempt
            retryable = (r.status in RETRY_STATUS and r.reason is not None) or r.reason in ("timeout", "fetch_failed_network")
            if not retryable or attempt > retries:
                return r
            wait = backoff_delay(attempt, backoff)
            ra = retry_after_seconds(dict(r.headers))
            if ra is not None:
                if ra > float(self.s["max_retry_wait"]):
                    r.detail = f"{r.detail}; Retry-After {ra:.0f}s exceeds max_retry_wait"
                    return r
                wait = max(wait, ra)
            self.counters["retries"] += 1
            self.counters[f"retried_{r.status or r.reason}"] += 1
            self.gate.defer(host, wait)

    async def _once(self, url: str, max_bytes: int) -> Response:
        t0 = time.perf_counter()
        try:
            return await asyncio.wait_for(self._stream(url, max_bytes, t0), timeout=float(self.s["timeout"]))
        except (asyncio.TimeoutError, httpx.TimeoutException):
            return Response(url, url, reason="timeout", detail=f"no complete answer within {self.s['timeout']}s",
                            latency_ms=(time.perf_counter() - t0) * 1000)
        except httpx.HTTPError as exc:
            return Response(url, url, reason="fetch_failed_network", detail=f"{type(exc).__name__}: {str(exc)[:160]}",
                            latency_ms=(time.perf_counter() - t0) * 1000)

    async def _stream(self, url: str, max_bytes: int, t0: float) -> Response:
        async with self.client.stream("GET", url) as resp:
            headers = [(k.lower(), v) for k, v in resp.headers.items()]
            r = Response(url, url, status=resp.status_code, content_type=resp.headers.get("content-type"), headers=headers)
            declared = resp.headers.get("content-length")
            if resp.status_code >= 400:
                r.reason = f"fetch_failed_status_{resp.status_code}"
                r.detail = f"HTTP {resp.status_code} {resp.reason_phrase}"
            elif 300 <= resp.status_code < 400:
                pass
            elif declared and declared.isdigit() and int(declared) > max_bytes:
                r.reason, r.detail = "too_large", f"Content-Length {declared} bytes exceeds max_bytes {max_bytes}"
            else:
                chunks, size = [], 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        r.reason, r.detail = "too_large", f"body exceeds max_bytes {max_bytes}"
                        break
                    chunks.append(chunk)
                if r.reason is None:
                    r.body = b"".join(chunks)
            r.latency_ms = (time.perf_counter() - t0) * 1000
            if self.on_response is not None and r.reason is None:
                self.on_response(r, dict(self.client.headers))
            return r


def _fail(r: Response, reason: str, detail: str) -> Response:
    r.reason, r.detail, r.body = reason, detail, b""
    return r
