"""The one LLM client of the project: any OpenAI-compatible endpoint, with limits, retries and a cache.

Every stage that calls a model (selfinstruct, templates' model-made inputs) goes through this module.

Configuration is the ``[llm]`` table of the build config (``schemas/config/llm.schema.json``): ``base_url``,
``model``, ``api_key_env`` (the *name* of the environment variable holding the key; the key is read at
start and never written anywhere), ``concurrency``, ``rpm``, ``tpm``, ``timeout``, ``max_retries``,
``response_format``, ``temperature``, ``max_tokens``, ``prices``.

API::

    from builder.llm import LLMClient, ChatRequest, endpoint_problem, run_requests

    endpoint_problem(build)              # None when [llm] names a usable endpoint, else the reason (a sentence)

    async with LLMClient.from_build(build) as client:          # cache: <output>/.cache/llm.sqlite
        c = await client.chat([{"role": "user", "content": "你好"}], max_tokens=200)
        c.text, c.finish_reason, c.usage.prompt_tokens, c.usage.completion_tokens, c.latency, c.cached
        async for result in client.map(requests):               # ordered; Completion or LLMError per request
            ...

    results = run_requests(build, [ChatRequest(messages, {"temperature": 0})])   # sync helper, ordered

Behaviour:

* The openai SDK's ``AsyncOpenAI`` does the HTTP, with its own retries switched off (``max_retries=0``):
  retries are ours, so they are counted (``client.stats``) and share one backoff policy.
* At most ``concurrency`` requests are in flight; ``rpm`` and ``tpm`` are enforced by token buckets
  (the token charge is the prompt estimate plus ``max_tokens``, settled with the real usage afterwards).
* A 429, a 408/409, a 5xx other than 501, a timeout or a broken connection is retried up to
  ``max_retries`` times with exponential backoff and jitter; a ``Retry-After`` (or ``retry-after-ms``)
  header is honoured, and a 429 pauses every request, not just the one that got it (with or without
  ``Retry-After``).
* A 401/403/404, an HTML page instead of JSON, an endpoint that refuses connections before it has sent
  any reply, or ``DEAD_AFTER`` failed requests in a row before any reply stop the run with a one-line
  :class:`LLMFatalError` (a ``BuilderError``): every other request would fail the same way. Other 4xx
  replies and 501 fail that request at once (:class:`LLMError`), without retries.
* ``response_format`` is sent as given; when the endpoint rejects it (a 400 whose error names
  response_format, json_schema or json_object) the request is sent again without it and the client stays in
  text mode for the rest of the run (``stats['response_format_rejected']`` counts the rejected requests). A
  request that was already in flight with it is re-sent the same way when its own 400 arrives; any other 400
  fails that request only.
* Replies are cached by :func:`builder.llm.cache.request_key` (endpoint + model + messages + sampling
  parameters) and stored the moment they arrive; a cached reply comes back with ``cached=True`` and costs
  nothing. A caller that cannot use a reply calls :meth:`LLMClient.discard`: it is not served again.
* The API key never appears in an error message: the client scrubs it from whatever the server says. A
  ``base_url`` is shown without its userinfo and query string (``user:key@host``, ``?api-key=…``), and their
  values are scrubbed from the server's words too.
"""

from __future__ import annotations

import copy

import asyncio
import email.utils
import os
import random
import re
import time
import urllib.parse
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence

from ..errors import BuilderError
from .cache import CachedReply, RequestCache, request_key

RETRYABLE_STATUS = {408, 409, 429}  # and 5xx but 501: every other status fails its request at once
FATAL_STATUS = {401, 403, 404}
UNREACHABLE_AFTER = 2  # connection attempts, before any reply of the run, that make an endpoint unreachable
DEAD_AFTER = 8  # failed requests in a row, before any reply of the run, that stop the run
RESPONSE_FORMAT_REJECTED = re.compile(r"response_format|json_schema|json_object", re.IGNORECASE)
SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "seed", "response_format", "stop", "presence_penalty", "frequency_penalty")


class LLMError(Exception):
    """A request that did not end in a reply. ``kind`` names what happened (timeout, rate_limited, http_400 …)."""

    def __init__(self, kind: str, message: str, attempts: int = 1):
        super().__init__(message)
        self.kind = kind
        self.attempts = attempts


class LLMFatalError(BuilderError):
    """The endpoint refuses every request (bad key, unknown model, wrong URL): stop, don't burn retries."""


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False  # the server sent no usage; counted with tiktoken


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None
    usage: Usage
    latency: float
    cached: bool
    model: str
    refusal: str | None = None
    attempts: int = 1
    key: str = ""  # the cache key of the request


@dataclass(frozen=True)
class ChatRequest:
    """One request for :meth:`LLMClient.map` / :func:`run_requests`: messages and per-request parameters."""

    messages: Sequence[Mapping[str, Any]]
    params: Mapping[str, Any] = field(default_factory=dict)


def _schema_default(key: str) -> Any:
    from ..resources import load_schema

    return copy.deepcopy(load_schema("config/llm.schema.json")["properties"][key]["default"])


@dataclass(frozen=True)
class LLMSettings:
    base_url: str = ""
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    rpm: int = 0
    tpm: int = 0
    timeout: float = 120.0
    max_retries: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    response_format: str = "json_schema"
    temperature: float = 0.7
    top_p: float | None = None
    max_tokens: int = 4096
    seed: int | None = None
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: _schema_default("prices"))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "LLMSettings":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def sampling(self) -> dict[str, Any]:
        """Default parameters of every request (the ones that change the result, hence the cache key)."""
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens, "seed": self.seed}

    def price(self) -> Mapping[str, float] | None:
        return self.prices.get(self.model)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """US dollars for these tokens at the configured price of the model; None when no price is set."""
        p = self.price()
        if p is None:
            return None
        return prompt_tokens / 1e6 * p["input"] + completion_tokens / 1e6 * p["output"]


def request_params(settings: LLMSettings, overrides: Mapping[str, Any] | None = None, text_mode: bool | None = None) -> dict[str, Any]:
    """The parameters a request is sent (and cached) with: the settings' sampling defaults and ``overrides``."""
    params = settings.sampling()
    params.update(overrides or {})
    if settings.response_format == "text" if text_mode is None else text_mode:
        params.pop("response_format", None)
    return {k: v for k, v in params.items() if v is not None}


def cache_key(settings: LLMSettings, messages: Sequence[Mapping[str, Any]], **params: Any) -> str:
    """The cache key a client with these settings gives a request, without making a client (no SDK import)."""
    return request_key(settings.model, messages, request_params(settings, params),
                       display_url(settings.base_url) if settings.base_url else "")


def endpoint_problem(settings: LLMSettings | Mapping[str, Any]) -> str | None:
    """Why no request can be sent with these settings, as a sentence; None when the endpoint is usable."""
    s = settings if isinstance(settings, LLMSettings) else LLMSettings.from_mapping(settings)
    if not s.base_url.strip():
        return "no endpoint is configured ([llm] base_url is empty)"
    if not s.model.strip():
        return "no model is configured ([llm] model is empty)"
    if s.api_key_env and not os.environ.get(s.api_key_env):
        return (f"the environment variable {s.api_key_env} named by [llm] api_key_env is not set "
                "(set it, or set api_key_env = \"\" for an endpoint that needs no key)")
    return None


def response_format_for(mode: str, schema: Mapping[str, Any] | None = None, name: str = "reply") -> dict[str, Any] | None:
    """The ``response_format`` parameter for a mode of the config: json_schema, json_object or text (None)."""
    if mode == "json_schema" and schema is not None:
        return {"type": "json_schema", "json_schema": {"name": name, "schema": _strict_schema(schema), "strict": True}}
    if mode in ("json_schema", "json_object"):
        return {"type": "json_object"}
    return None


UNSUPPORTED_IN_STRICT = {"$schema", "$id", "title", "minLength", "maxLength", "minItems", "maxItems", "pattern", "format",
                         "minimum", "maximum", "default"}


def _strict_schema(node: Any) -> Any:
    """A copy of a JSON Schema without the keywords that structured-output endpoints reject."""
    if isinstance(node, dict):
        return {k: (_strict_schema(v) if k != "properties" else {p: _strict_schema(s) for p, s in v.items()})
                for k, v in node.items() if k not in UNSUPPORTED_IN_STRICT}
    if isinstance(node, list):
        return [_strict_schema(v) for v in node]
    return node


def display_url(url: str) -> str:
    """The endpoint URL as it may be shown: no ``user:password@``, no query string or fragment."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<the configured base_url>"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def url_secrets(url: str) -> list[str]:
    """Values in a URL that may be credentials: the userinfo and every query value (4 characters or more)."""
    try:
        parts = urllib.parse.urlsplit(url)
        found = [parts.password or "", parts.username or ""]
    except ValueError:
        return []
    for _name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        found.append(value)
    found += [part.split("=", 1)[-1] for part in parts.query.split("&")]  # raw, in case they are percent-encoded
    return sorted({v for v in found if len(v) >= 4}, key=len, reverse=True)


def rejects_response_format(message: str) -> bool:
    """Whether a 400's error text says the response_format parameter is what the endpoint refused."""
    return bool(RESPONSE_FORMAT_REJECTED.search(message or ""))


def estimate_prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """Prompt tokens as OpenAI counts them for chat: content tokens plus a few per message."""
    from ..text.tokens import count_tokens

    return sum(count_tokens(str(m.get("content") or "")) + 4 for m in messages) + 3


class RateLimiter:
    """A token bucket: ``per_minute`` units refill evenly; a burst of at most one second's worth after a pause.

    ``acquire(n)`` waits while the bucket is empty, then takes ``n`` (the level may go below zero for a
    large request; the debt is paid back before the next one goes). ``settle(delta)`` gives back or takes
    units once the real size of a request is known.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.level = 1.0  # start with one unit, not a full bucket: a run's first second stays under the rate too
        self.clock = clock
        self.updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    async def acquire(self, n: float = 1.0) -> None:
        async with self._lock:  # one waiter at a time keeps the order fair
            self._refill()
            need = min(n, self.capacity)
            while self.level < need:
                await asyncio.sleep((need - self.level) / self.rate)
                self._refill()
            self.level -= n

    def settle(self, delta: float) -> None:
        self._refill()
        self.level = min(self.capacity, self.level + delta)


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class LLMClient:
    """See the module docstring. One instance per run; use it as an async context manager."""

    def __init__(self, settings: LLMSettings, cache: RequestCache | None = None, api_key: str | None = None):
        import openai

        self.settings = settings
        self.cache = cache
        self._key = api_key or ""
        self._secrets = url_secrets(settings.base_url)
        self._sdk = openai.AsyncOpenAI(api_key=api_key or "not-needed", base_url=settings.base_url or None,
                                       max_retries=0, timeout=settings.timeout)
        self._openai = openai
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._rpm = RateLimiter(settings.rpm) if settings.rpm else None
        self._tpm = RateLimiter(settings.tpm) if settings.tpm else None
        self._resume_at = 0.0  # monotonic time before which no request is sent (a 429's Retry-After)
        self._inflight: dict[str, asyncio.Future] = {}
        self._failed_in_a_row = 0
        self.text_mode = settings.response_format == "text"
        self.endpoint = display_url(settings.base_url) if settings.base_url else ""
        self.stats: Counter[str] = Counter()
        self.latencies: list[float] = []

    # -- construction ------------------------------------------------------------------------------
    @classmethod
    def from_build(cls, build, cache: bool = True) -> "LLMClient":
        """The client for a build's ``[llm]`` settings, caching in ``<output>/.cache/llm.sqlite``.

        Raises :class:`BuilderError` with the reason when no endpoint is usable (check
        :func:`endpoint_problem` first to degrade gracefully instead).
        """
        settings = LLMSettings.from_mapping(build.settings.get("llm", {}))
        problem = endpoint_problem(settings)
        if problem:
            raise BuilderError(f"{build.path}: {problem}")
        key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
        return cls(settings, RequestCache(build.cache_dir / "llm.sqlite") if cache else None, api_key=key)

    async def __aenter__(self) -> "LLMClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._sdk.close()
        if self.cache is not None:
            self.cache.close()

    # -- one request ---------------------------------------------------------------------------------
    def params_for(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return request_params(self.settings, overrides, self.text_mode)

    def key_for(self, messages: Sequence[Mapping[str, Any]], **params: Any) -> str:
        """The cache key :meth:`chat` would use for these messages and parameters."""
        return request_key(self.settings.model, messages, self.params_for(params), self.endpoint)

    async def chat(self, messages: Sequence[Mapping[str, Any]], **params: Any) -> Completion:
        """Send one chat request (or answer it from the cache). Raises :class:`LLMError` when it fails."""
        merged = self.params_for(params)
        key = request_key(self.settings.model, messages, merged, self.endpoint)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.stats["cached"] += 1
                return Completion(hit.text, hit.finish_reason, Usage(hit.prompt_tokens, hit.completion_tokens), hit.latency,
                                  True, hit.model, hit.refusal, 0, key)
        same = self._inflight.get(key)
        if same is not None:  # the identical request is on its way: share its reply, pay once
            self.stats["shared_inflight"] += 1
            return await asyncio.shield(same)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            try:
                result = await self._send(key, messages, merged)
            except LLMError as exc:
                # whatever the mode is now: a request in flight when another's 400 switched it carried the format too
                if exc.kind == "http_400" and "response_format" in merged and rejects_response_format(str(exc)):
                    self.text_mode = True
                    self.stats["response_format_rejected"] += 1
                    result = await self.chat(messages, **{k: v for k, v in params.items() if k != "response_format"})
                else:
                    raise
            future.set_result(result)
            return result
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # mark retrieved: nobody else may be waiting
            raise
        finally:
            self._inflight.pop(key, None)

    async def _send(self, key: str, messages: Sequence[Mapping[str, Any]], params: dict[str, Any]) -> Completion:
        s = self.settings
        estimate = estimate_prompt_tokens(messages) if (self._tpm is not None) else 0
        charge = estimate + int(params.get("max_tokens") or 0)
        async with self._slots:
            attempt = 0
            while True:
                attempt += 1
                wait = self._resume_at - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if self._rpm is not None:
                    await self._rpm.acquire(1)
                if self._tpm is not None:
                    await self._tpm.acquire(charge)
                t0 = time.monotonic()
                kind, message, delay = await self._try_once(messages, params)
                if kind is None:
                    reply: Any = message
                    latency = time.monotonic() - t0
                    return self._accept(key, reply, latency, attempt, messages, charge)
                self.stats[f"error_{kind}"] += 1
                if kind == "connection" and not self.stats["replies"] and attempt >= UNREACHABLE_AFTER:
                    raise LLMFatalError(self._redact(f"{display_url(s.base_url)}: cannot connect ({message}); "
                                                     "is the server running, and is [llm] base_url right?"))
                if kind == "http_400" and "response_format" in params and rejects_response_format(message):
                    raise LLMError(kind, self._redact(message), attempt)  # chat() sends it again without the format
                retryable = kind in ("timeout", "connection", "rate_limited", "server_error") or kind in {f"http_{c}" for c in RETRYABLE_STATUS}
                if kind == "http_400" and "response_format" in params and rejects_response_format(str(message)):
                    # not a failed request: chat() sends it again without response_format (so not a sign of a dead endpoint)
                    raise LLMError(kind, self._redact(f"{kind} after {attempt} attempt(s): {message}"), attempt)
                if not retryable or attempt > s.max_retries:
                    self.stats["failed"] += 1
                    self._failed_in_a_row += 1
                    if not self.stats["replies"] and self._failed_in_a_row >= DEAD_AFTER:
                        raise LLMFatalError(self._redact(f"{display_url(s.base_url)}: the first {self._failed_in_a_row} requests all failed, "
                                                         f"the last with {message}; stopping instead of sending the rest"))
                    raise LLMError(kind, self._redact(f"{kind} after {attempt} attempt(s): {message}"), attempt)
                self.stats[f"retried_{kind}"] += 1
                if delay is None:
                    ceiling = min(s.backoff_max, s.backoff_base * (2 ** (attempt - 1)))
                    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
                else:
                    delay = min(delay, s.backoff_max)
                if kind == "rate_limited":  # the limit is the endpoint's, not this request's: every request waits
                    self._resume_at = max(self._resume_at, time.monotonic() + delay)
                await asyncio.sleep(delay)

    async def _try_once(self, messages, params) -> tuple[str | None, Any, float | None]:
        """(None, response, None) on success, else (kind, message, retry_after)."""
        oa = self._openai
        try:
            self.stats["requests"] += 1
            # the SDK's own transport, errors and auth, with a plain JSON body and a dict back: the typed
            # chat.completions.create() spends ~2 ms of CPU per request transforming params and building models
            call = self._sdk.post("/chat/completions", body={"model": self.settings.model, "messages": list(messages), **params},
                                  cast_to=object, options={"timeout": self.settings.timeout})
            resp = await asyncio.wait_for(call, self.settings.timeout + 1.0)  # a total deadline, however the bytes trickle
        except (asyncio.TimeoutError, oa.APITimeoutError):
            return "timeout", f"no reply within {self.settings.timeout:g} s", None
        except oa.APIConnectionError as exc:
            return "connection", str(exc.__cause__ or exc), None
        except oa.APIStatusError as exc:
            status = exc.status_code
            detail = _error_text(exc)
            if status in FATAL_STATUS:
                key = f"the key in ${self.settings.api_key_env}" if self.settings.api_key_env else "whether it needs a key"
                raise LLMFatalError(self._redact(f"{display_url(self.settings.base_url)}: the endpoint answered {status} ({detail}); "
                                                 f"check [llm] base_url, model and {key}")) from None
            if _looks_like_html(detail):
                raise LLMFatalError(self._redact(f"{display_url(self.settings.base_url)}: the endpoint returned HTML, not JSON "
                                                 f"(HTTP {status}): is base_url right?")) from None
            kind = "rate_limited" if status == 429 else "server_error" if status >= 500 and status != 501 else f"http_{status}"
            return kind, f"HTTP {status}: {detail}", retry_after_seconds(exc.response.headers)
        if isinstance(resp, str) and _looks_like_html(resp):
            raise LLMFatalError(self._redact(f"{display_url(self.settings.base_url)}: the endpoint returned HTML, not JSON: "
                                             "is base_url right? (an OpenAI-compatible base_url usually ends in /v1)"))
        if not isinstance(resp, dict) or not resp.get("choices"):
            return "server_error", "the reply has no choices", None
        return None, resp, None

    def _accept(self, key: str, resp: dict, latency: float, attempts: int, messages, charge: int) -> Completion:
        choice = resp["choices"][0] or {}
        msg = choice.get("message") or {}
        text = msg.get("content") or ""
        if not isinstance(text, str):  # content parts
            text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
        refusal = msg.get("refusal")
        finish_reason = choice.get("finish_reason")
        u = resp.get("usage") or {}
        if u.get("prompt_tokens") is not None:
            usage = Usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0))
        else:
            from ..text.tokens import count_tokens

            usage = Usage(estimate_prompt_tokens(messages), count_tokens(text), estimated=True)
        if self._tpm is not None:
            self._tpm.settle(charge - usage.prompt_tokens - usage.completion_tokens)
        completion = Completion(text, finish_reason, usage, latency, False, self.settings.model, refusal, attempts, key)
        if self.cache is not None:
            self.cache.put(key, CachedReply(self.settings.model, text, finish_reason, refusal, usage.prompt_tokens,
                                            usage.completion_tokens, latency))
        self.stats["replies"] += 1
        self._failed_in_a_row = 0
        self.stats["prompt_tokens"] += usage.prompt_tokens
        self.stats["completion_tokens"] += usage.completion_tokens
        self.latencies.append(latency)
        return completion

    def discard(self, completion: Completion, reason: str) -> None:
        """A reply its caller could not use: kept in the cache file, never served again (see ``cache``)."""
        if self.cache is not None and completion.key:
            self.cache.mark_invalid(completion.key, reason)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        if self._key and len(self._key) >= 4:
            text = text.replace(self._key, "***")
            text = text.replace(self._key[-6:], "***") if len(self._key) > 12 else text
        return text

    # -- many requests ---------------------------------------------------------------------------------
    async def map(self, requests: Iterable[ChatRequest], window: int | None = None) -> AsyncIterator[Completion | LLMError]:
        """Results in the order of ``requests``, at most ``window`` (default 4 × concurrency) started ahead."""

        async def one(req: ChatRequest) -> Completion | LLMError:
            try:
                return await self.chat(req.messages, **dict(req.params))
            except LLMError as exc:
                return exc

        async for result in in_order((one(r) for r in requests), window or 4 * self.settings.concurrency):
            yield result


async def in_order(awaitables: Iterable[Awaitable[Any]], window: int) -> AsyncIterator[Any]:
    """Run awaitables concurrently, at most ``window`` started and not yet yielded, and yield in input order.

    Memory stays bounded by the window however many items come; an exception cancels what is pending.
    """
    pending: deque[asyncio.Task] = deque()
    try:
        for aw in awaitables:
            pending.append(asyncio.ensure_future(aw))
            if len(pending) >= window:
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def _looks_like_html(text: Any) -> bool:
    head = str(text or "")[:300].lstrip().lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body")) or "<html" in head


def _error_text(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            text = str(err["message"])[:300]
            param = err.get("param")
            if param and str(param) not in text:  # OpenAI names the refused parameter here, not always in the message
                text += f" (param: {str(param)[:60]})"
            return text
    return str(getattr(exc, "message", exc))[:300]


def run_requests(build, requests: Iterable[ChatRequest], on_result: Callable[[int, Completion | LLMError], None] | None = None,
                 client: LLMClient | None = None) -> list[Completion | LLMError]:
    """Send requests through the build's client from sync code; results in order (Completion or LLMError).

    ``on_result(i, result)`` is called as each result becomes available, in order.
    """

    async def go() -> list[Completion | LLMError]:
        c = client or LLMClient.from_build(build)
        out: list[Completion | LLMError] = []
        try:
            async for result in c.map(requests):
                if on_result is not None:
                    on_result(len(out), result)
                out.append(result)
        finally:
            await c.aclose()
        return out

    return asyncio.run(go())
