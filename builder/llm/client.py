"""The one LLM client of the project: any OpenAI-compatible endpoint, with limits, retries and a cache.

Every stage that calls a model (selfinstruct, templates' model-made inputs) goes through this module.
Its parts: ``settings`` (the ``[llm]`` table, request parameters, cache key), ``limits`` (token buckets,
retryable statuses, backoff), ``redaction`` (what of the endpoint may be shown) and this client; every
name of those modules stays importable from here.

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

* ``transport.py`` does the HTTP (aiohttp, orjson: under 1 ms of CPU a request where the openai SDK spent
  about 5 ms on the event loop); it never retries: retries are ours, so they are counted (``client.stats``)
  and share one backoff policy.
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

import asyncio
import os
import re
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence

from .. import aio
from ..errors import BuilderError
from .cache import CachedReply, RequestCache, request_key
# the settings, limits and redaction live in their own modules; their names stay importable from here
from .limits import (DEAD_AFTER, FATAL_STATUS, RETRYABLE_STATUS, UNREACHABLE_AFTER, RateLimiter, Slots, backoff_delay,  # noqa: F401
                     estimate_prompt_tokens, is_retryable, retry_after_seconds)
from .redaction import Redactor, display_url, url_secrets  # noqa: F401
from .settings import (SAMPLING_KEYS, UNSUPPORTED_IN_STRICT, LLMSettings, _strict_schema, cache_key,  # noqa: F401
                       endpoint_problem, request_params, response_format_for)
from .transport import TRANSPORTS, TransportError

RESPONSE_FORMAT_REJECTED = re.compile(r"response_format|json_schema|json_object", re.IGNORECASE)


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


def rejects_response_format(message: str) -> bool:
    """Whether a 400's error text says the response_format parameter is what the endpoint refused."""
    return bool(RESPONSE_FORMAT_REJECTED.search(message or ""))


class LLMClient:
    """See the module docstring. One instance per run; use it as an async context manager."""

    def __init__(self, settings: LLMSettings, cache: RequestCache | None = None, api_key: str | None = None):
        self.settings = settings
        self.cache = cache
        self._redact = Redactor(settings.base_url, api_key)
        self._http = TRANSPORTS[settings.transport](settings.base_url, api_key, settings.timeout, settings.concurrency)
        self._slots = Slots(settings.concurrency)
        self._rpm = RateLimiter(settings.rpm) if settings.rpm else None
        self._tpm = RateLimiter(settings.tpm) if settings.tpm else None
        self._resume_at = 0.0  # monotonic time before which no request is sent (a 429's Retry-After)
        self._inflight: dict[str, asyncio.Future] = {}
        self._failed_in_a_row = 0
        self.text_mode = settings.response_format == "text"
        self.endpoint = display_url(settings.base_url) if settings.base_url else ""
        self.stats: Counter[str] = Counter()
        self.latencies: list[float] = []
        # the cache file is read and written by one thread of its own: a commit (~0.5 ms) never holds up the event
        # loop that sends the other requests, and a reply is handed on only once it is committed, as before
        self._cache_thread = ThreadPoolExecutor(1, thread_name_prefix="llm-cache") if cache is not None else None

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
        await self._http.aclose()
        if self._cache_thread is not None:
            self._cache_thread.shutdown(wait=True)  # a commit under way finishes first
        if self.cache is not None:
            self.cache.close()

    async def _in_cache_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._cache_thread, fn, *args)

    # -- one request ---------------------------------------------------------------------------------
    def params_for(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return request_params(self.settings, overrides, self.text_mode)

    def key_for(self, messages: Sequence[Mapping[str, Any]], **params: Any) -> str:
        """The cache key :meth:`chat` would use for these messages and parameters."""
        return request_key(self.settings.model, messages, self.params_for(params), self.endpoint)

    async def chat(self, messages: Sequence[Mapping[str, Any]], *, urgent: bool = False, **params: Any) -> Completion:
        """Send one chat request (or answer it from the cache). Raises :class:`LLMError` when it fails.

        ``urgent``: the request takes the next free slot before the queued ones (a re-ask, whose caller has waited once
        already and holds up the results after it)."""
        merged = self.params_for(params)
        key = request_key(self.settings.model, messages, merged, self.endpoint)
        if self.cache is not None:
            hit = await self._in_cache_thread(self.cache.get, key)
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
                result = await self._send(key, messages, merged, urgent)
                if self.cache is not None:  # committed before anyone sees the reply (the slot is free again meanwhile)
                    await self._in_cache_thread(self.cache.put, key, CachedReply(
                        result.model, result.text, result.finish_reason, result.refusal, result.usage.prompt_tokens,
                        result.usage.completion_tokens, result.latency))
            except LLMError as exc:
                # whatever the mode is now: a request in flight when another's 400 switched it carried the format too
                if exc.kind == "http_400" and "response_format" in merged and rejects_response_format(str(exc)):
                    self.text_mode = True
                    self.stats["response_format_rejected"] += 1
                    result = await self.chat(messages, urgent=urgent, **{k: v for k, v in params.items() if k != "response_format"})
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

    async def _send(self, key: str, messages: Sequence[Mapping[str, Any]], params: dict[str, Any], urgent: bool = False) -> Completion:
        s = self.settings
        estimate = estimate_prompt_tokens(messages) if (self._tpm is not None) else 0
        charge = estimate + int(params.get("max_tokens") or 0)
        async with self._slots.hold(urgent):
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
                    # not a failed request: chat() sends it again without the format (so no sign of a dead endpoint)
                    raise LLMError(kind, self._redact(message), attempt)
                if not is_retryable(kind) or attempt > s.max_retries:
                    self.stats["failed"] += 1
                    self._failed_in_a_row += 1
                    if not self.stats["replies"] and self._failed_in_a_row >= DEAD_AFTER:
                        raise LLMFatalError(self._redact(f"{display_url(s.base_url)}: the first {self._failed_in_a_row} requests all failed, "
                                                         f"the last with {message}; stopping instead of sending the rest"))
                    raise LLMError(kind, self._redact(f"{kind} after {attempt} attempt(s): {message}"), attempt)
                self.stats[f"retried_{kind}"] += 1
                if delay is None:
                    delay = backoff_delay(attempt, s.backoff_base, s.backoff_max, jitter=True)
                else:
                    delay = min(delay, s.backoff_max)
                if kind == "rate_limited":  # the limit is the endpoint's, not this request's: every request waits
                    self._resume_at = max(self._resume_at, time.monotonic() + delay)
                await asyncio.sleep(delay)

    async def _try_once(self, messages, params) -> tuple[str | None, Any, float | None]:
        """(None, reply as a dict, None) on success, else (kind, message, retry_after)."""
        try:
            self.stats["requests"] += 1
            body = {"model": self.settings.model, "messages": list(messages), **params}
            answer = await asyncio.wait_for(self._http.post(body), self.settings.timeout + 1.0)  # a total deadline
        except asyncio.TimeoutError:
            return "timeout", f"no reply within {self.settings.timeout:g} s", None
        except TransportError as exc:
            return "connection", str(exc), None
        status, resp = answer.status, answer.body
        if status >= 300:
            detail = _error_text(resp, status)
            if status in FATAL_STATUS:
                key = f"the key in ${self.settings.api_key_env}" if self.settings.api_key_env else "whether it needs a key"
                raise LLMFatalError(self._redact(f"{display_url(self.settings.base_url)}: the endpoint answered {status} ({detail}); "
                                                 f"check [llm] base_url, model and {key}")) from None
            if _looks_like_html(detail):
                raise LLMFatalError(self._redact(f"{display_url(self.settings.base_url)}: the endpoint returned HTML, not JSON "
                                                 f"(HTTP {status}): is base_url right?")) from None
            kind = "rate_limited" if status == 429 else "server_error" if status >= 500 and status != 501 else f"http_{status}"
            return kind, f"HTTP {status}: {detail}", retry_after_seconds(answer.headers)
        if isinstance(resp, str):
            if _looks_like_html(resp) or "html" in answer.content_type:
                raise LLMFatalError(self._redact(f"{display_url(self.settings.base_url)}: the endpoint returned HTML, not JSON: "
                                                 "is base_url right? (an OpenAI-compatible base_url usually ends in /v1)"))
            return "server_error", f"the reply is not JSON: {resp[:120]!r}", None
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
            else:  # while the window fills, each task starts (its request goes out) before the next is made
                await asyncio.sleep(0)
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


def _error_text(body: Any, status: int) -> str:
    """The server's words about a failed request: the ``error`` object's message (and the parameter it names)."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            text = str(err["message"])[:300]
            param = err.get("param")
            if param and str(param) not in text:  # OpenAI names the refused parameter here, not always in the message
                text += f" (param: {str(param)[:60]})"
            return text
        if isinstance(err, str) and err:
            return err[:300]
        return f"Error code: {status} - {str(body)[:280]}"
    text = str(body or "").strip()
    return text[:300] if text else f"Error code: {status}"


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

    return aio.run(go())
