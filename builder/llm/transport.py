"""The HTTP of one chat request: a POST to ``<base_url>/chat/completions`` over aiohttp, the body as bytes.

The openai SDK spent about 5 ms of CPU per request on the event loop (request transforms, httpx's pool
bookkeeping, pydantic models we turned back into dicts); at 32 requests in flight against a 200 ms
endpoint that is most of a core, and requests waited on it. aiohttp's C parser and connection pool do the
same request in under 1 ms (``bench/selfinstruct_throughput.py --clients`` measures the two side by side),
and orjson reads the reply. What the SDK did for us is kept here: the ``Authorization: Bearer`` header, the
base URL's query string kept on every request (``?api-version=…``, ``?api-key=…``), the proxy from the
environment (``HTTPS_PROXY``), a total deadline per attempt, and the error body's ``error`` object.

:meth:`ChatTransport.post` never raises for an HTTP status: it returns an :class:`Answer` (status, headers,
parsed JSON or raw text). A timeout raises ``asyncio.TimeoutError``; a connection that could not be made or
broke raises :class:`TransportError`. The client (``client.py``) decides what each of those means.

``[llm] transport = "openai"`` sends the same request through the openai SDK instead
(:class:`SDKTransport`, same contract): for endpoints or proxies that only the SDK's defaults reach, or to
compare the two. The SDK's own retries are off there too.
"""

from __future__ import annotations

import asyncio
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping

import orjson


class TransportError(Exception):
    """No HTTP answer: the connection was refused, reset or closed halfway."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # case-insensitive (aiohttp's CIMultiDictProxy)
    body: Any  # the parsed JSON, or the text when it is not JSON
    content_type: str = ""

    @property
    def is_json(self) -> bool:
        return not isinstance(self.body, str)


def chat_url(base_url: str) -> str:
    """``<base_url>/chat/completions`` with the base URL's query string kept and its userinfo left out (the key
    goes in the Authorization header; aiohttp refuses both at once)."""
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + "/chat/completions", parts.query, ""))


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``<scheme>_proxy``, ``all_proxy``), None when there is none
    or ``no_proxy`` covers the host."""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return None
    return proxy


class ChatTransport:
    """One aiohttp session per event loop, made on the first request (a client may be built outside a loop)."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float, connections: int):
        self.url = chat_url(base_url)
        self.timeout = float(timeout)
        self.connections = max(1, int(connections))
        self._headers = {"Authorization": f"Bearer {api_key or 'not-needed'}", "Content-Type": "application/json",
                         "Accept": "application/json"}
        self._proxy = env_proxy(self.url)
        self._session = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _session_now(self):
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            # a per-phase limit as the SDK had (connect, each read) and a total deadline a little above it
            timeout = aiohttp.ClientTimeout(total=self.timeout + 1.0, sock_connect=self.timeout, sock_read=self.timeout)
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.connections, ttl_dns_cache=300),
                                                  timeout=timeout, headers=self._headers)
            self._loop = loop
        return self._session

    async def post(self, body: Mapping[str, Any]) -> Answer:
        import aiohttp

        session = self._session_now()
        data = orjson.dumps(body)
        try:
            # a 3xx is an answer (a POST is not to become a GET somewhere else)
            async with session.post(self.url, data=data, proxy=self._proxy, allow_redirects=False) as resp:
                raw = await resp.read()
                content_type = resp.headers.get("Content-Type", "")
                headers = resp.headers
                status = resp.status
        except asyncio.TimeoutError:  # aiohttp's own timeouts are these too
            raise
        except (aiohttp.ClientError, OSError) as exc:
            raise TransportError(str(exc) or type(exc).__name__) from None
        try:
            parsed: Any = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            parsed = raw.decode("utf-8", errors="replace")
        return Answer(status, headers, parsed, content_type)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            try:
                if self._loop is asyncio.get_running_loop():
                    await session.close()
            except RuntimeError:
                pass


class SDKTransport:
    """The same POST through the openai SDK (``AsyncOpenAI``, retries off): ``model`` and ``messages`` as its
    arguments, every other field of the body in ``extra_body``, so what is sent is the body
    :class:`ChatTransport` sends. The raw HTTP reply is read back, so both transports return the same
    :class:`Answer`."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float, connections: int):
        self.base_url = base_url
        self.api_key = api_key or "not-needed"
        self.timeout = float(timeout)
        self.connections = max(1, int(connections))
        self._client = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client_now(self):
        import httpx
        import openai

        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            limits = httpx.Limits(max_connections=self.connections, max_keepalive_connections=self.connections)
            self._client = openai.AsyncOpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0,
                                              timeout=self.timeout, http_client=openai.DefaultAsyncHttpxClient(limits=limits))
            self._loop = loop
        return self._client

    async def post(self, body: Mapping[str, Any]) -> Answer:
        import openai

        client = self._client_now()
        rest = {k: v for k, v in body.items() if k not in ("model", "messages")}
        try:
            raw = await client.chat.completions.with_raw_response.create(model=body["model"], messages=body["messages"],
                                                                          extra_body=rest or None)
            resp = raw.http_response
        except openai.APIStatusError as exc:
            resp = exc.response
        except openai.APITimeoutError:
            raise asyncio.TimeoutError from None
        except openai.APIConnectionError as exc:
            raise TransportError(str(exc.__cause__ or exc) or type(exc).__name__) from None
        content = resp.content
        try:
            parsed: Any = orjson.loads(content) if content else {}
        except orjson.JSONDecodeError:
            parsed = content.decode("utf-8", errors="replace")
        return Answer(resp.status_code, resp.headers, parsed, resp.headers.get("content-type", ""))

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                if self._loop is asyncio.get_running_loop():
                    await client.close()
            except RuntimeError:
                pass


TRANSPORTS = {"aiohttp": ChatTransport, "openai": SDKTransport}
