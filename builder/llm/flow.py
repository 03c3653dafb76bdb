"""One model request through to a usable reply or a reject reason: the flow every model-calling stage shares.

``ask`` sends the messages through the client (limits, retries, cache), reads the reply with the caller's
``read`` (JSON items checked against a schema, or plain text with ``read_text``), re-asks once with the
caller's ``reask`` messages when the reply cannot be used, and classifies the end:

* ``outcome``: the usable reading's own status (``valid``, ``repaired`` …), ``reasked`` when the second
  reply was the usable one, or ``failed``;
* a failure has a ``problem``: the ``LLMError``'s kind when no reply came (``timeout``, ``http_400`` …), else
  the last reading's problem (``invalid_json``, ``schema``, ``refusal``, ``empty_reply``, ``truncated``);
  ``reason`` is ``failed_<problem>`` and ``detail`` says what went wrong in a line.

A reply that could not be used is marked invalid in the request cache (``discard=True``, the default), so
the next run asks again instead of being served the same reply. A reading is any object with ``status``
(``"invalid"`` when unusable), ``problem`` and ``error``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import (
    Any,
    Callable,
    Generic,
    Iterable,
    Mapping,
    Protocol,
    Sequence,
    TypeVar,
)

from .. import aio
from .client import Completion, LLMClient, LLMError, in_order

Messages = Sequence[Mapping[str, Any]]


class Reading(Protocol):
    status: str
    problem: str
    error: str | None


R = TypeVar("R", bound=Reading)


@dataclass
class TextReading:
    """A plain-text reply: usable unless empty, refused or cut at max_tokens."""

    status: str  # valid | invalid
    text: str = ""
    problem: str = ""  # empty_reply | truncated, when invalid
    error: str | None = None


def read_text(c: Completion) -> TextReading:
    text = (c.text or "").strip()
    if not text or c.refusal:
        return TextReading("invalid", text, "empty_reply", "the model returned no usable text")
    if c.finish_reason == "length":
        return TextReading("invalid", text, "truncated", "the reply was cut off at max_tokens")
    return TextReading("valid", text)


@dataclass
class Asked(Generic[R]):
    """How one request ended (see the module docstring)."""

    outcome: str
    reading: R | None = None  # the usable reading; None when failed
    first: R | None = None  # the first reply's reading (kept also when a re-ask replaced it)
    replies: list[Completion] = field(default_factory=list)
    error: LLMError | None = None  # the request that got no reply
    problem: str = ""
    detail: str = ""

    @property
    def reason(self) -> str:
        return f"failed_{self.problem}" if self.outcome == "failed" else ""

    @property
    def reply(self) -> Completion | None:
        """The last reply received, if any."""
        return self.replies[-1] if self.replies else None


async def ask(client: LLMClient, messages: Messages, read: Callable[[Completion], R], params: Mapping[str, Any] | None = None,
              reask: Callable[[Messages, Completion, R], Messages] | None = None, discard: bool = True) -> Asked[R]:
    """Send, read, re-ask once (when ``reask`` is given), classify; never raises ``LLMError``."""
    params = dict(params or {})
    asked: Asked[R] = Asked("failed")
    try:
        reply = await client.chat(messages, **params)
    except LLMError as exc:
        asked.error, asked.problem, asked.detail = exc, exc.kind, str(exc)
        return asked
    asked.replies.append(reply)
    reading = asked.first = read(reply)
    if reading.status != "invalid":
        asked.outcome, asked.reading = reading.status, reading
        return asked
    if reask is not None:
        try:
            second = await client.chat(reask(messages, reply, reading), urgent=True, **params)  # ahead of fresh requests
        except LLMError as exc:
            asked.error, asked.problem, asked.detail = exc, exc.kind, f"re-ask: {exc}"
            return asked
        asked.replies.append(second)
        retry = read(second)
        if retry.status != "invalid":
            asked.outcome, asked.reading = "reasked", retry
            return asked
        reading = retry
    asked.problem, asked.detail = reading.problem, reading.error or "no usable reply"
    if discard:
        for r in asked.replies:  # unusable: kept in the cache file, asked anew by a later run
            client.discard(r, asked.detail)
    return asked


def ask_all(build, requests: Iterable[tuple[Messages, Mapping[str, Any]]], read: Callable[[Completion], R],
            discard: bool = True, client: LLMClient | None = None) -> list[Asked[R]]:
    """``ask`` for each (messages, params) from sync code, at most 4 × concurrency started ahead; in order."""

    async def go() -> list[Asked[R]]:
        c = client or LLMClient.from_build(build)
        try:
            window = 4 * c.settings.concurrency
            return [a async for a in in_order((ask(c, m, read, p, discard=discard) for m, p in requests), window)]
        finally:
            await c.aclose()

    return aio.run(go())
