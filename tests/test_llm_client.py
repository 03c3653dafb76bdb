"""The one LLM client, through a real OpenAI-compatible HTTP server on 127.0.0.1 (tests/fake_openai.py)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from builder.errors import BuilderError
from builder.llm import (ChatRequest, LLMClient, LLMError, LLMFatalError, LLMSettings, RateLimiter, RequestCache,
                         endpoint_problem, parse_json_reply, response_format_for, run_requests)
from builder.llm.client import retry_after_seconds
from builder.resources import load_schema
from fake_openai import FakeOpenAI, Reply, rate_limited, server_error, slow, valid

KEY = "sk-test-abcdefghijklmnopqrstuvwxyz0123"
MSG = [{"role": "user", "content": "写一句新闻导语。"}]


def settings(url: str, **kw) -> LLMSettings:
    base = dict(base_url=url, model="fake-model", api_key_env="", concurrency=4, timeout=2.0, max_retries=3,
                backoff_base=0.05, backoff_max=2.0, response_format="text")
    base.update(kw)
    return LLMSettings(**base)


def run(coro):
    return asyncio.run(coro)


async def one_chat(s: LLMSettings, cache=None, api_key=KEY, messages=MSG, **params):
    client = LLMClient(s, cache, api_key=api_key)
    try:
        return await client.chat(messages, **params), client
    finally:
        await client.aclose()


# -- requests, cache, secrets ---------------------------------------------------------------------------------
def test_reply_fields_and_the_key_sent_as_bearer():
    with FakeOpenAI([valid([{"a": "b"}])]) as srv:
        c, client = run(one_chat(settings(srv.url)))
    assert json.loads(c.text) == {"items": [{"a": "b"}]}
    assert c.finish_reason == "stop" and not c.cached and c.usage.prompt_tokens > 0 and c.latency > 0
    assert srv.auth == [f"Bearer {KEY}"]
    assert srv.bodies[0]["model"] == "fake-model" and srv.bodies[0]["temperature"] == 0.7
    assert client.stats["requests"] == 1 and client.stats["replies"] == 1


def test_cache_answers_the_same_request_without_a_hit_and_never_stores_the_key(tmp_path):
    path = tmp_path / "llm.sqlite"
    with FakeOpenAI() as srv:
        c1, _ = run(one_chat(settings(srv.url), RequestCache(path)))
        c2, client = run(one_chat(settings(srv.url), RequestCache(path), api_key="sk-another-key-entirely-000000"))
        assert srv.hits == 1
        assert c2.cached and c2.text == c1.text and client.stats["cached"] == 1
        c3, _ = run(one_chat(settings(srv.url, temperature=0.2), RequestCache(path)))  # a result-changing parameter
        assert srv.hits == 2 and not c3.cached
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("llm.sqlite*"))
    assert KEY.encode() not in blob and b"sk-another" not in blob
    assert len(RequestCache(path)) == 2


def test_identical_requests_in_flight_are_sent_once(tmp_path):
    async def go(url):
        client = LLMClient(settings(url), RequestCache(tmp_path / "c.sqlite"), api_key=KEY)
        try:
            return await asyncio.gather(*(client.chat(MSG) for _ in range(5)))
        finally:
            await client.aclose()

    with FakeOpenAI(delay=0.2) as srv:
        results = run(go(srv.url))
    assert srv.hits == 1 and len({r.text for r in results}) == 1


def test_a_401_stops_the_run_with_one_line_that_hides_the_key():
    script = [Reply(status=401, error=f"Incorrect API key provided: {KEY}. You can find your key at …")]
    with FakeOpenAI(script) as srv:
        with pytest.raises(LLMFatalError) as info:
            run(one_chat(settings(srv.url)))
        assert srv.hits == 1  # never retried
    assert isinstance(info.value, BuilderError) and KEY not in str(info.value) and "401" in str(info.value)


def test_a_fatal_error_never_shows_credentials_in_the_url():
    script = [Reply(status=401, error="Unauthorized")]
    with FakeOpenAI(script) as srv:
        host = srv.url.removeprefix("http://")
        url = f"http://alice:userinfo-secret-123@{host}?api-key=query-secret-456&x=1"
        with pytest.raises(LLMFatalError) as info:
            run(one_chat(settings(url)))
    text = str(info.value)
    assert "userinfo-secret-123" not in text and "query-secret-456" not in text and "alice" not in text
    assert text.startswith(f"http://{host}: the endpoint answered")  # where it went, without who and what


def test_endpoint_problem_names_what_is_missing(monkeypatch):
    assert "base_url is empty" in endpoint_problem({"base_url": ""})
    monkeypatch.delenv("MY_LLM_KEY", raising=False)
    assert "MY_LLM_KEY" in endpoint_problem({"base_url": "http://x/v1", "api_key_env": "MY_LLM_KEY"})
    monkeypatch.setenv("MY_LLM_KEY", "k")
    assert endpoint_problem({"base_url": "http://x/v1", "api_key_env": "MY_LLM_KEY"}) is None
    assert endpoint_problem({"base_url": "http://x/v1", "api_key_env": ""}) is None


# -- retries -----------------------------------------------------------------------------------------------------
def test_429_waits_for_retry_after_then_succeeds():
    with FakeOpenAI([rate_limited(1), valid([{"a": "b"}])]) as srv:
        t0 = time.monotonic()
        c, client = run(one_chat(settings(srv.url)))
        waited = time.monotonic() - t0
    assert srv.hits == 2 and c.attempts == 2
    assert waited >= 0.95  # Retry-After: 1 honoured, not the 0.05 s backoff
    assert client.stats["retried_rate_limited"] == 1


def test_a_429_without_retry_after_pauses_every_request_not_just_its_own():
    arrivals: list[float] = []
    limited: list[float] = []

    def script(body, n):
        arrivals.append(time.monotonic())
        if n == 0:
            limited.append(time.monotonic())
            return Reply(status=429, error="slow down")  # no Retry-After header
        return slow(valid([{"a": "b"}]), 0.05)

    async def go(url):
        client = LLMClient(settings(url, backoff_base=0.6, concurrency=4), None, api_key=KEY)
        try:
            first = asyncio.ensure_future(client.chat(MSG))
            while not client.stats["error_rate_limited"]:  # wait until the 429 has come back and the pause is set
                await asyncio.sleep(0.005)
            later = [asyncio.ensure_future(client.chat([{"role": "user", "content": f"问题{i}"}])) for i in range(3)]
            return await asyncio.gather(first, *later)
        finally:
            await client.aclose()

    with FakeOpenAI(script) as srv:
        run(go(srv.url))
    assert len(arrivals) == 5
    assert all(t - limited[0] >= 0.29 for t in arrivals[1:]), [round(t - limited[0], 3) for t in arrivals]


def test_a_501_and_other_4xx_fail_at_once_without_retries():
    for status in (501, 422):
        with FakeOpenAI([Reply(status=status, error="no")]) as srv:
            with pytest.raises(LLMError) as info:
                run(one_chat(settings(srv.url)))
            assert srv.hits == 1 and info.value.kind == f"http_{status}"


def test_500_is_retried_with_backoff_and_counted():
    with FakeOpenAI([server_error(), server_error(), valid([{"a": "b"}])]) as srv:
        c, client = run(one_chat(settings(srv.url)))
    assert srv.hits == 3 and c.attempts == 3 and client.stats["retried_server_error"] == 2


def test_a_reply_slower_than_the_timeout_is_abandoned_and_retried():
    with FakeOpenAI([slow(valid([{"a": "slow"}]), 3.0), valid([{"a": "fast"}])]) as srv:
        t0 = time.monotonic()
        c, client = run(one_chat(settings(srv.url, timeout=0.5)))
        took = time.monotonic() - t0
    assert json.loads(c.text)["items"][0]["a"] == "fast"
    assert client.stats["retried_timeout"] == 1 and took < 2.5


def test_retries_give_up_with_the_kind_of_failure():
    with FakeOpenAI([server_error()]) as srv:
        with pytest.raises(LLMError) as info:
            run(one_chat(settings(srv.url, max_retries=2)))
        assert srv.hits == 3
    assert info.value.kind == "server_error" and info.value.attempts == 3


def test_a_400_is_not_retried():
    with FakeOpenAI([Reply(status=400, error="bad request: messages too long")]) as srv:
        with pytest.raises(LLMError) as info:
            run(one_chat(settings(srv.url)))
        assert srv.hits == 1
    assert info.value.kind == "http_400"


def test_retry_after_header_forms():
    assert retry_after_seconds({"retry-after": "7"}) == 7
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0  # in the past
    assert retry_after_seconds({}) is None


# -- response_format ------------------------------------------------------------------------------------------
def test_json_schema_response_format_is_sent_and_a_rejecting_endpoint_falls_back_to_text():
    fmt = response_format_for("json_schema", load_schema("selfinstruct_reply"), "items")
    assert fmt["json_schema"]["strict"] is True
    assert "minItems" not in json.dumps(fmt) and "$schema" not in json.dumps(fmt)

    def script(body, n):
        if "response_format" in body:
            return Reply(status=400, error="response_format json_schema is not supported by this model")
        return valid([{"a": "b"}])

    async def go(url):
        client = LLMClient(settings(url, response_format="json_schema"), api_key=KEY)
        try:
            first = await client.chat(MSG, response_format=fmt)
            second = await client.chat([{"role": "user", "content": "再来一条"}], response_format=fmt)
            return first, second, client
        finally:
            await client.aclose()

    with FakeOpenAI(script) as srv:
        first, second, client = run(go(srv.url))
        assert srv.bodies[0]["response_format"]["type"] == "json_schema"
        assert "response_format" not in srv.bodies[1] and "response_format" not in srv.bodies[2]
        assert srv.hits == 3  # the second request went straight to text mode
    assert client.text_mode and client.stats["response_format_rejected"] == 1


def test_requests_in_flight_when_response_format_is_rejected_all_fall_back_to_text():
    """Every request that carried response_format is re-sent without it, whatever the mode is when its 400 lands."""
    fmt = response_format_for("json_object")

    def script(body, n):
        if "response_format" in body:
            return Reply(status=400, error="This model does not support response_format of type json_object", delay=0.15)
        return Reply(body["messages"][-1]["content"])

    reqs = [ChatRequest([{"role": "user", "content": f"第{i}条"}], {"response_format": fmt}) for i in range(8)]

    async def go(url):
        client = LLMClient(settings(url, response_format="json_object", concurrency=4), api_key=KEY)
        try:
            return [r async for r in client.map(reqs)], client
        finally:
            await client.aclose()

    with FakeOpenAI(script) as srv:
        results, client = run(go(srv.url))
        rejected = sum("response_format" in b for b in srv.bodies)
    assert [r.text if not isinstance(r, LLMError) else f"ERR {r}" for r in results] == [f"第{i}条" for i in range(8)]
    assert rejected >= 2  # several were in flight together when the first 400 came back
    assert client.text_mode and client.stats["response_format_rejected"] == rejected


@pytest.mark.parametrize("error,param", [
    ("Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", None),
    ("JSON_SCHEMA output is not available for this deployment", None),
    ("Invalid parameter.", "response_format"),
])
def test_a_400_about_response_format_switches_to_text(error, param):
    def script(body, n):
        return Reply(status=400, error=error, param=param) if "response_format" in body else Reply("好")

    with FakeOpenAI(script) as srv:
        c, client = run(one_chat(settings(srv.url, response_format="json_schema"), response_format={"type": "json_object"}))
        assert srv.hits == 2
    assert c.text == "好" and client.text_mode


def test_a_400_about_something_else_fails_that_request_only_and_keeps_response_format():
    def script(body, n):
        if "太长" in body["messages"][-1]["content"]:
            return Reply(status=400, error="This model's maximum context length is 8192 tokens. Please reduce the length of the messages.")
        return Reply("好")

    fmt = {"type": "json_object"}

    async def go(url):
        client = LLMClient(settings(url, response_format="json_object"), api_key=KEY)
        try:
            with pytest.raises(LLMError) as info:
                await client.chat([{"role": "user", "content": "太长的材料"}], response_format=fmt)
            ok = await client.chat(MSG, response_format=fmt)
            return info.value, ok, client
        finally:
            await client.aclose()

    with FakeOpenAI(script) as srv:
        error, ok, client = run(go(srv.url))
        assert srv.hits == 2 and all("response_format" in b for b in srv.bodies)  # not re-sent, and the next one keeps it
    assert error.kind == "http_400" and "maximum context length" in str(error)
    assert ok.text == "好" and not client.text_mode and client.stats["response_format_rejected"] == 0


# -- limits ---------------------------------------------------------------------------------------------------
def test_concurrency_limit_holds():
    with FakeOpenAI(delay=0.15) as srv:
        reqs = [ChatRequest([{"role": "user", "content": f"第{i}条"}]) for i in range(12)]

        async def go():
            client = LLMClient(settings(srv.url, concurrency=3), api_key=KEY)
            try:
                return [r async for r in client.map(reqs)]
            finally:
                await client.aclose()

        results = run(go())
    assert srv.max_inflight == 3 and len(results) == 12


def test_rpm_limit_spaces_requests():
    with FakeOpenAI() as srv:
        reqs = [ChatRequest([{"role": "user", "content": f"第{i}条"}]) for i in range(5)]

        async def go():
            client = LLMClient(settings(srv.url, rpm=120, concurrency=5), api_key=KEY)
            try:
                t0 = time.monotonic()
                out = [r async for r in client.map(reqs)]
                return out, time.monotonic() - t0
            finally:
                await client.aclose()

        results, took = run(go())
    # 120/min = 2/s: the first goes at once, each of the other four 0.5 s later
    assert len(results) == 5 and 1.8 <= took < 3.0


def test_token_bucket_charges_and_settles():
    async def go():
        limiter = RateLimiter(600)  # 10 units/s, at most a second's worth (10) saved up; starts with 1
        t0 = time.monotonic()
        await limiter.acquire(1)
        assert time.monotonic() - t0 < 0.05 and limiter.level < 0.1
        limiter.settle(4)  # the request was smaller than charged: 4 units come back
        assert 4 <= limiter.level < 4.1
        t0 = time.monotonic()
        await limiter.acquire(30)  # bigger than the bucket: waits for a full bucket, then goes into debt
        assert 0.5 <= time.monotonic() - t0 < 1.0
        assert limiter.level < -19
        t0 = time.monotonic()
        await limiter.acquire(1)  # the debt is paid back first
        assert time.monotonic() - t0 >= 1.9

    run(go())


def test_map_keeps_order_and_returns_errors_in_place():
    def script(body, n):
        text = body["messages"][-1]["content"]
        return Reply(status=400, error="bad") if "坏" in text else Reply(text)

    with FakeOpenAI(script) as srv:
        reqs = [ChatRequest([{"role": "user", "content": t}]) for t in ["一", "坏", "三", "四"]]

        async def go():
            client = LLMClient(settings(srv.url), api_key=KEY)
            try:
                return [r async for r in client.map(reqs, window=2)]
            finally:
                await client.aclose()

        results = run(go())
    assert [r.text if not isinstance(r, LLMError) else "ERR" for r in results] == ["一", "ERR", "三", "四"]


def test_run_requests_from_sync_code(tmp_path, monkeypatch):
    from builder.config import parse_config

    with FakeOpenAI() as srv:
        monkeypatch.setenv("FAKE_LLM_KEY", KEY)
        text = f'[build]\noutput = "out"\n[llm]\nbase_url = "{srv.url}"\nmodel = "m"\napi_key_env = "FAKE_LLM_KEY"\n'
        build = parse_config(text, tmp_path / "build.toml")
        results = run_requests(build, [ChatRequest([{"role": "user", "content": f"<材料>第{i}句话的内容就写在这里。</材料>"}]) for i in range(3)])
        assert srv.hits == 3 and srv.auth[0] == f"Bearer {KEY}"
    assert [json.loads(r.text)["items"][0]["output"][:7] for r in results] == ["材料指出：第0", "材料指出：第1", "材料指出：第2"]
    assert (tmp_path / "out" / ".cache" / "llm.sqlite").is_file()


def test_from_build_without_endpoint_is_a_one_line_error(tmp_path):
    from builder.config import parse_config

    build = parse_config("[build]\n", tmp_path / "build.toml")
    with pytest.raises(BuilderError, match="base_url is empty") as err:
        LLMClient.from_build(build)
    assert "\n" not in str(err.value) and str(err.value).startswith(str(tmp_path / "build.toml"))


# -- JSON repair ----------------------------------------------------------------------------------------------
ITEMS = '{"items": [{"instruction": "写标题", "output": "好标题"}, {"instruction": "写导语", "output": "好导语"}]}'


@pytest.mark.parametrize("text,repair", [
    (f"好的，以下是结果：\n```json\n{ITEMS}\n```\n希望有帮助", "code_fence"),
    (ITEMS.replace('"items"', "“items”"), "chinese_quotes"),
    ('{“items”: [{“instruction”: “写“标题”", “output”: “好”}]}', "chinese_quotes"),
    ('{"items": [{"instruction": "写标题", "output": "好标题",},]}', "trailing_comma"),
    ('{"items": [{"instruction": "写标题", "output": "好标题"}', "missing_brackets"),
    (f"这是结果 {ITEMS}", "surrounding_prose"),
])
def test_repairs(text, repair):
    parsed = parse_json_reply(text)
    assert parsed.status == "repaired" and repair in parsed.repairs, parsed
    assert parsed.value["items"][0]["instruction"].startswith("写")


def test_chinese_quotes_inside_strings_are_kept():
    parsed = parse_json_reply('{"items": [{"instruction": "解释“流量密码”", "output": "指“爆款”规律"}]}')
    assert parsed.status == "valid" and parsed.value["items"][0]["instruction"] == "解释“流量密码”"


def test_truncated_last_item_is_dropped_only_when_cut():
    cut = ITEMS[: ITEMS.rfind("好导语") + 1]
    parsed = parse_json_reply(cut, "length")
    assert [i["instruction"] for i in parsed.value["items"]] == ["写标题"]
    assert parsed.dropped_tail["instruction"] == "写导语" and "truncated_item_dropped" in parsed.repairs
    closed = ITEMS[: ITEMS.rfind("}") - 1]  # cut after the last item closed, before "]}"
    parsed = parse_json_reply(closed, "length")
    assert len(parsed.value["items"]) == 2 and parsed.dropped_tail is None
    same_cut_no_length = parse_json_reply(cut, "stop")
    assert len(same_cut_no_length.value["items"]) == 2  # not cut by max_tokens: keep what json-repair recovered


def test_prose_and_empty_are_invalid():
    assert parse_json_reply("这篇文章讲了三个要点。").status == "invalid"
    assert parse_json_reply("").status == "invalid"
    assert parse_json_reply(None).error == "the reply is empty"


def test_settings_defaults_match_the_config_schema():
    """LLMSettings is built from the validated [llm] table; its own defaults (used when a caller builds one
    directly) must not drift from the documented ones in schemas/config/llm.schema.json."""
    import dataclasses

    from builder.llm.client import LLMSettings
    from builder.resources import load_schema

    props = load_schema("config/llm.schema.json")["properties"]
    for f in dataclasses.fields(LLMSettings):
        if f.name in props and "default" in props[f.name]:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            assert default == props[f.name]["default"], f.name


# -- every reply shape: items out without a re-ask ------------------------------------------------------------
ITEM = {"instruction": "写标题", "input": "", "output": "好标题"}
ITEM_JSON = json.dumps(ITEM, ensure_ascii=False)


@pytest.mark.parametrize("text,outcome,shape,repairs,count", [
    ('{"items": [%s, %s]}' % (ITEM_JSON, ITEM_JSON), "valid", [], [], 2),
    ("[%s, %s]" % (ITEM_JSON, ITEM_JSON), "unwrapped", ["bare_array"], [], 2),
    ('{"data": [%s]}' % ITEM_JSON, "unwrapped", ["wrapped_list"], [], 1),
    ('{"指令数据": [%s, %s]}' % (ITEM_JSON, ITEM_JSON), "unwrapped", ["wrapped_list"], [], 2),
    ('{"result": {"items": [%s]}}' % ITEM_JSON, "unwrapped", ["wrapped_list"], [], 1),
    (ITEM_JSON, "unwrapped", ["single_item"], [], 1),
    ('{"1": %s, "2": %s}' % (ITEM_JSON, ITEM_JSON), "unwrapped", ["keyed_items"], [], 2),
    ("好的：\n```json\n[%s]\n```" % ITEM_JSON, "unwrapped", ["code_fence", "bare_array"], [], 1),
    ("以下是数据：\n%s\n希望有帮助。" % ITEM_JSON, "unwrapped", ["surrounding_prose", "single_item"], [], 1),
    ("%s\n%s\n%s" % (ITEM_JSON, ITEM_JSON, ITEM_JSON), "unwrapped", ["json_lines"], [], 3),
    ("%s,\n%s" % (ITEM_JSON, ITEM_JSON), "repaired", [], ["missing_brackets"], 2),  # an array without its brackets
    ('{"items": [%s,]}' % ITEM_JSON, "repaired", [], ["trailing_comma"], 1),
    ('{"items": [{"instruction": “写标题”, "output": "好"}]}', "repaired", [], ["chinese_quotes"], 1),
])
def test_every_reply_shape_gives_its_items_and_only_broken_syntax_counts_as_a_repair(text, outcome, shape, repairs, count):
    from builder.llm import extract_items

    got = extract_items(text)
    assert (got.outcome, got.shape, got.repairs, len(got.items)) == (outcome, shape, repairs, count)
    assert got.items[0]["instruction"] == "写标题"


def test_a_reply_cut_by_max_tokens_keeps_its_complete_items_and_hands_back_the_cut_one():
    from builder.llm import extract_items

    whole = '{"items": [%s, %s, {"instruction": "写导语", "output": "这条导语写到一半' % (ITEM_JSON, ITEM_JSON)
    got = extract_items(whole, "length")
    assert got.outcome == "truncated" and len(got.items) == 2 and "写导语" in got.dropped_tail
    bare = "[%s, %s" % (ITEM_JSON, ITEM_JSON[:20])
    got = extract_items(bare, "length")
    assert got.outcome == "truncated" and len(got.items) == 1 and got.dropped_tail.startswith('{"instruction"')
    lines = "%s\n%s" % (ITEM_JSON, ITEM_JSON[:20])
    got = extract_items(lines, "length")
    assert got.outcome == "truncated" and len(got.items) == 1 and got.dropped_tail
    closed = '{"items": [%s]}' % ITEM_JSON  # cut exactly at the end: nothing lost, still counted as cut
    got = extract_items(closed, "length")
    assert got.outcome == "truncated" and len(got.items) == 1 and got.dropped_tail is None


def test_a_reply_without_items_is_invalid_with_its_reason():
    from builder.llm import extract_items

    assert extract_items("这篇文章讲了三个要点。").error == "no JSON object or array in the reply"
    assert extract_items('{"summary": "很好"}').error == "the JSON holds no list of items"
    assert extract_items("").error == "the reply is empty" and not extract_items(None).ok


# -- the two transports ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", ["aiohttp", "openai"])
def test_both_transports_send_the_same_body_and_meet_faults_alike(transport):
    """[llm] transport = "openai" (the SDK) and the default aiohttp one: the same body on the wire, the key
    as Bearer, a 429's Retry-After honoured, a 500 retried, a slow reply abandoned, a 401 fatal."""
    script = [rate_limited(0.3), server_error(), slow(valid([{"a": "slow"}]), 4.0), valid([{"a": "b"}])]
    with FakeOpenAI(script) as srv:  # a timeout that a loaded CI machine's normal reply (SDK import included) stays under
        s = settings(srv.url, transport=transport, timeout=1.5, top_p=0.9, seed=7)
        t0 = time.monotonic()
        c, client = run(one_chat(s, max_tokens=64))
        took = time.monotonic() - t0
        body = srv.bodies[-1]
    assert json.loads(c.text) == {"items": [{"a": "b"}]} and c.attempts == 4 and c.usage.completion_tokens > 0
    assert 0.3 <= took < 4.0
    assert client.stats["retried_rate_limited"] == 1 and client.stats["retried_server_error"] == 1
    assert client.stats["retried_timeout"] == 1
    assert srv.auth[-1] == f"Bearer {KEY}"
    assert {k: body[k] for k in ("model", "messages", "temperature", "top_p", "seed", "max_tokens")} == {
        "model": "fake-model", "messages": MSG, "temperature": 0.7, "top_p": 0.9, "seed": 7, "max_tokens": 64}
    with FakeOpenAI([Reply(status=401, error=f"Incorrect API key provided: {KEY}")]) as srv:
        with pytest.raises(LLMFatalError) as info:
            run(one_chat(settings(srv.url, transport=transport)))
        assert srv.hits == 1
    assert KEY not in str(info.value) and "401" in str(info.value)


def test_slots_let_an_urgent_waiter_in_first_and_a_cancelled_one_passes_its_slot_on():
    from builder.llm.limits import Slots

    async def main():
        slots, order = Slots(1), []
        await slots.acquire()

        async def wait(name, urgent=False):
            await slots.acquire(urgent)
            order.append(name)
            slots.release()

        fresh = [asyncio.ensure_future(wait(f"fresh{i}")) for i in range(3)]
        await asyncio.sleep(0)
        gone = asyncio.ensure_future(wait("gone", urgent=True))
        reask = asyncio.ensure_future(wait("reask", urgent=True))
        await asyncio.sleep(0)
        gone.cancel()  # a cancelled waiter is skipped: the slot goes to the next in line
        slots.release()
        await asyncio.gather(*fresh, reask)
        assert order == ["reask", "fresh0", "fresh1", "fresh2"]
        assert slots._free == 1  # every slot came back

    asyncio.run(main())
