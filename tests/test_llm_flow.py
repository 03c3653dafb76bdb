"""builder.llm.flow: one request -> read -> re-ask once -> classified end, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio

from fake_openai import FakeOpenAI, Reply
from test_llm_client import KEY, MSG, settings

from builder.llm import LLMClient, RequestCache
from builder.llm.flow import ask, read_text


def asked_once(url: str, cache=None, reask=True, discard=True):
    async def go():
        client = LLMClient(settings(url, max_retries=0), cache, api_key=KEY)
        try:
            again = (lambda messages, reply, reading: [*messages, {"role": "user", "content": f"再写一次：{reading.error}"}]) if reask else None
            return await ask(client, MSG, read_text, {"max_tokens": 50}, again, discard=discard)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_an_empty_reply_is_reasked_once_quoting_the_error():
    with FakeOpenAI([Reply("  "), Reply("今天的导语。")]) as srv:
        asked = asked_once(srv.url)
        assert srv.hits == 2 and "no usable text" in srv.bodies[1]["messages"][-1]["content"]
    assert (asked.outcome, asked.reason, asked.reading.text) == ("reasked", "", "今天的导语。")
    assert asked.first.problem == "empty_reply" and len(asked.replies) == 2


def test_a_reply_cut_twice_fails_as_truncated_and_is_not_served_again_from_the_cache(tmp_path):
    cut = Reply("今天的导语写到一半", finish_reason="length")
    with FakeOpenAI([cut]) as srv:
        asked = asked_once(srv.url, RequestCache(tmp_path / "c.sqlite"))
        assert (asked.outcome, asked.reason, asked.reading) == ("failed", "failed_truncated", None)
        assert asked.detail == "the reply was cut off at max_tokens" and srv.hits == 2
        asked_once(srv.url, RequestCache(tmp_path / "c.sqlite"))
        assert srv.hits == 4  # discarded: asked anew
        kept = asked_once(srv.url, RequestCache(tmp_path / "k.sqlite"), reask=False, discard=False)
        asked_once(srv.url, RequestCache(tmp_path / "k.sqlite"), reask=False, discard=False)
        assert srv.hits == 5 and kept.reason == "failed_truncated"  # kept: the second run was served from the cache


def test_a_request_with_no_reply_fails_with_the_error_kind():
    with FakeOpenAI([Reply(status=400, error="bad request")]) as srv:
        asked = asked_once(srv.url)
        assert srv.hits == 1  # no re-ask without a reply
    assert asked.outcome == "failed" and asked.reason == "failed_http_400" and asked.error is not None
    assert asked.replies == [] and asked.first is None and "bad request" in asked.detail
