"""selfinstruct: chunks, reply handling, filters, no-endpoint and dry-run behaviour, kill-and-resume.

The model is tests/fake_openai.py, a real OpenAI-compatible HTTP server on 127.0.0.1: the real client,
cache and stage code run. The upstream dedup output is a fixture written here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from builder import pipeline
from builder.config import load_config
from builder.errors import DryRunFinished
from builder.manifest import Manifest
from builder.shards import DOCUMENT_SCHEMA, INSTRUCTION_SCHEMA, write_parquet
from builder.stages.selfinstruct.chunks import chunk_documents
from builder.stages.selfinstruct.filters import find_repeats
from builder.text.shingles import char_ngrams, jaccard
from builder.text.tokens import count_tokens
from fake_openai import (FakeOpenAI, Reply, chinese_quotes, fenced, grounded_items, material, prose, rate_limited, refusal,
                         server_error, slow, trailing_commas, truncated, valid)

KEY = "sk-selfinstruct-test-key-0123456789abcdef"
ROOT = Path(__file__).resolve().parent.parent

CITIES = ["杭州", "成都", "西安", "长沙", "厦门", "青岛", "昆明", "南京", "武汉", "苏州", "合肥", "贵阳"]
WORK = ["短视频账号", "直播间", "公众号", "本地生活号", "读书博主", "农产品店铺"]
REASONS = ["把开头三秒做得更抓人", "固定每天晚上八点开播", "坚持回复每一条评论", "把选题和本地热点结合", "用数据复盘每一条内容",
           "请老用户参与拍摄"]


def doc_text(i: int, sentences: int = 8) -> str:
    out = []
    for k in range(sentences):
        city, work = CITIES[(i + k) % len(CITIES)], WORK[(i * 3 + k) % len(WORK)]
        reason = REASONS[(i + 2 * k) % len(REASONS)]
        out.append(f"第{i}篇第{k}条：{city}的一个{work}在第{k % 4 + 1}季度把播放量做到了{(i + 1) * (k + 3)}万，负责人认为关键在于{reason}。")
    return "\n".join("".join(out[j : j + 2]) for j in range(0, len(out), 2))


def toml_value(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f'"{k}" = {toml_value(x)}' for k, x in v.items()) + "}"
    return json.dumps(v, ensure_ascii=False)


def toml_table(d: dict) -> str:
    return "\n".join(f"{k} = {toml_value(v)}" for k, v in d.items())


def make_build(tmp: Path, url: str, n_docs: int = 6, sentences: int = 8, llm: dict | None = None, si: dict | None = None,
               export: dict | None = None):
    tmp.mkdir(parents=True, exist_ok=True)
    llm_cfg = {"base_url": url, "model": "fake-model", "api_key_env": "FAKE_LLM_KEY", "concurrency": 4, "timeout": 2.0,
               "max_retries": 2, "backoff_base": 0.05, "backoff_max": 2.0, "prices": {"fake-model": {"input": 1.0, "output": 2.0}}}
    llm_cfg.update(llm or {})
    si_cfg = {"chunk_tokens": 300, "items_per_request": 4, "answer_min_chars": 10}
    si_cfg.update(si or {})
    (tmp / "build.toml").write_text(f'[build]\nname = "t"\noutput = "out"\nworkers = 1\n\n[llm]\n{toml_table(llm_cfg)}\n\n'
                                    f'[selfinstruct]\n{toml_table(si_cfg)}\n\n[export]\n{toml_table(export or {})}\n', encoding="utf-8")
    build = load_config(tmp / "build.toml")
    rows = [{"id": f"doc{i:03d}", "source": "fixture", "path": f"d{i}.txt", "title": f"运营经验第{i}篇", "text": doc_text(i, sentences),
             "published": None, "author": None, "format": "txt", "meta": "{}"} for i in range(n_docs)]
    d = build.output / "dedup"
    write_parquet(pl.DataFrame(rows, schema=DOCUMENT_SCHEMA), d / "data" / "part-00000.parquet")
    Manifest(stage="dedup", config_hash="fixture", inputs={}, output=f"fixture-{n_docs}", rows={"data": n_docs}).write(d)
    return build


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("FAKE_LLM_KEY", KEY)


def data(build) -> pl.DataFrame:
    return pl.read_parquet(build.output / "selfinstruct" / "data")


def rejected(build) -> pl.DataFrame:
    return pl.read_parquet(build.output / "selfinstruct" / "rejected")


def doc_of(body: dict) -> int:
    m = re.search(r"第(\d+)篇", material(body))
    return int(m.group(1)) if m else -1


# -- chunks -----------------------------------------------------------------------------------------------------
def docs(n: int, sentences: int) -> list[dict]:
    return [{"id": f"d{i}", "source": "s", "title": f"标题{i}", "text": doc_text(i, sentences), "meta": "{}"} for i in range(n)]


def test_short_documents_are_packed_and_long_ones_cut_at_sentence_ends_without_loss():
    items = docs(3, 2) + docs(1, 40) + docs(2, 2)  # small, small, small, one long, small, small
    items[3]["id"] = "long"
    chunks = list(chunk_documents(items, budget=260))  # a short document is about 120 tokens
    assert all(count_tokens(c.text) <= 260 for c in chunks)
    assert chunks[0].doc_ids == ["d0", "d1"]  # packed whole, in order
    assert chunks[0].doc_texts() == [f"【标题{i}】\n{items[i]['text']}" for i in (0, 1)]  # where each one lies
    long_parts = [c for c in chunks if c.doc_ids == ["long"]]
    assert len(long_parts) > 3 and all(c.part.endswith(f"/{len(long_parts)}") for c in long_parts)
    assert all(c.text.rstrip().endswith("。") for c in long_parts)
    assert all(c.text.startswith("【标题0】") for c in long_parts)  # each part keeps its title
    # nothing lost, the last chunk included: every sentence of every document is in some chunk
    joined = "\n".join(c.text for c in chunks)
    for d in items:
        for sentence in re.findall(r"[^。\n]+。", d["text"]):
            assert sentence in joined
    assert chunks[-1].doc_ids[-1] == "d1" and chunks[-1].index == len(chunks) - 1


def test_overlap_repeats_whole_sentences_of_the_previous_part():
    long = docs(1, 40)
    plain = list(chunk_documents(long, budget=260))
    over = list(chunk_documents(long, budget=260, overlap=130))
    assert len(over) >= len(plain)
    first_lines = over[0].text.split("\n")
    second = over[1].text
    assert first_lines[-1] in second  # the last unit of part 1 opens part 2
    assert all(count_tokens(c.text) <= 260 for c in over)


def test_pdf_pages_follow_the_chunk():
    text = doc_text(0, 40)
    starts = [0, len(text) // 3, 2 * len(text) // 3]
    doc = {"id": "pdf1", "source": "s", "title": None, "text": text, "meta": json.dumps({"page_starts": starts, "pages": 3})}
    chunks = list(chunk_documents([doc], budget=200))
    assert chunks[0].pages["pdf1"][0] == 1 and chunks[-1].pages["pdf1"][-1] == 3
    assert sorted({p for c in chunks for p in c.pages["pdf1"]}) == [1, 2, 3]


def item(instruction: str, input: str = "") -> dict:
    return {"task_type": "问答", "instruction": instruction, "input": input, "output": "回答"}


def test_near_duplicates_need_both_instruction_and_input_alike_and_empty_inputs_are_no_evidence():
    passage = "很多新号一上来就追热点，结果流量来得快去得也快。账号真正能留住的，是那些和定位一致、能持续产出的内容。"
    items = [
        item("请总结一下这篇文章的主要内容"),                  # 0 kept
        item("请总结这篇文章的主要内容。"),                    # 1 near 0
        item("请总结一下这篇文章的主要内容！"),                # 2 exact: punctuation ignored
        item("主播在直播中的职责有哪些？"),                    # 3 kept
        item("助播在直播中的职责有哪些？"),                    # 4 another role: kept
        item("用不超过60字概括下面这段话的核心观点。", passage),  # 5 kept
        item("找出下面这段话里提到的两种做法。", passage),        # 6 same passage, another request: kept
        item("用不超过60字概括下面这段话的核心观点", "直播间的灯光要打在主播脸上，背景不要太亮。"),  # 7 another passage: kept
        item("请用不超过60字概括下面这段话的核心观点。", passage),  # 8 near 5
        item("用不超过60字概括下面这段话的核心观点。"),          # 9 same instruction as 5 without its input: kept
    ]
    repeats = find_repeats(items, threshold=0.3, ngram=2)  # the defaults
    dropped = {row: (r.row, r.kind) for row, r in enumerate(repeats) if r is not None}
    assert dropped == {1: (0, "near"), 2: (0, "exact"), 8: (5, "near")}
    assert repeats[8].input_similarity == 1.0 and repeats[8].detail("abc").startswith("repeats item abc (instruction similarity 0.")
    # the earliest item of a group is kept, whatever the order; the same input gives the same result
    backwards = find_repeats(items[::-1], 0.3, 2)
    assert {len(items) - 1 - row: len(items) - 1 - r.row for row, r in enumerate(backwards) if r is not None} == {0: 2, 1: 2, 5: 8}
    assert find_repeats(items, 0.3, 2) == repeats
    assert {row for row, r in enumerate(find_repeats(items, 1.0, 2)) if r is not None} == {2}  # 1 = exact only


def test_similarity_join_finds_every_pair_over_the_threshold_like_brute_force():
    import random as _random

    from builder.stages.selfinstruct.filters import similarity_join

    rng = _random.Random(7)
    words = ["直播", "主播", "短视频", "开头", "标题", "粉丝", "带货", "选品", "复盘", "数据", "账号", "运营"]
    sets = [char_ngrams("".join(rng.choice(words) for _ in range(rng.randint(2, 6))), 3) for _ in range(300)]
    for t in (0.5, 0.75, 0.9):
        brute = {(a, b) for b in range(len(sets)) for a in range(b) if sets[a] and sets[b] and jaccard(sets[a], sets[b]) >= t}
        assert {(a, b) for a, b, _ in similarity_join(sets, t)} == brute


def test_the_join_block_by_block_finds_the_same_pairs_as_all_at_once():
    import random as _random

    from builder.stages.selfinstruct.filters import GramJoin

    rng = _random.Random(11)
    words = ["直播", "主播", "短视频", "开头", "标题", "粉丝", "带货", "选品", "复盘", "数据", "账号", "运营"]
    sets = [char_ngrams("".join(rng.choice(words) for _ in range(rng.randint(2, 6))), 3) for _ in range(400)]
    brute = {(a, b) for b in range(len(sets)) for a in range(b) if sets[a] and sets[b] and jaccard(sets[a], sets[b]) >= 0.6}
    join, found, start = GramJoin(0.6), set(), 0
    for size in (1, 7, 0, 150, 42, 200):  # uneven blocks, an empty one; later blocks bring n-grams never seen before
        found |= {(a, b) for a, b, _ in join.join(sets[start:start + size])}
        start += size
    assert start == len(sets) and join.count == len(sets) and found == brute


def test_near_duplicates_settled_block_by_block_decide_as_all_at_once():
    import random as _random

    from builder.stages.selfinstruct.filters import NearDuplicates, dup_forms, resolve_repeats

    rng = _random.Random(5)
    asks = ["如何提高直播间的转化率", "怎么提高直播间的转化率", "请总结短视频开头的技巧", "请概括短视频开头的技巧", "主播的职责有哪些",
            "助播的职责有哪些", "低客单价商品如何选品", "高客单价商品如何选品", "写一条60字以内的标题", "写一条100字以内的标题"]
    inputs = ["", "", "", "账号粉丝三千", "账号粉丝三千人", "新开的农产品店铺"]
    items = [{"instruction": rng.choice(asks) + rng.choice(["", "？", "。"]), "input": rng.choice(inputs),
              "output": rng.choice(["要看数据", "先做复盘", "选品最重要"])} for _ in range(300)]
    forms = [dup_forms(i) for i in items]
    whole = resolve_repeats(forms, 0.3, 2)
    assert 0 < len(whole) < len(forms)
    for block in (1, 13, 64, 1000):
        near = NearDuplicates({"near_duplicate": 0.3, "ngram": 2}, block=block)
        got, rows = {}, []
        for form in forms:
            rows.append(near.add(form))
            if near.ready:
                got.update({row: r for row, r in near.settle() if r is not None})
        got.update(near.resolve())
        assert rows == list(range(len(forms))) and got == whole, block


def test_the_prompt_rendered_once_per_rotation_is_the_full_render(tmp_path):
    from builder.stages.selfinstruct import SelfInstructStage
    from builder.stages.selfinstruct.chunks import Chunk

    build = make_build(tmp_path, "http://127.0.0.1:9/v1")
    prompt = SelfInstructStage(build).prompt
    assert prompt.material_slot
    texts = ["第一段材料。", "  带空白和 {{ 花括号 }} 与 {% raw %} 的材料\n\n", "", "\x00material\x00 看起来像占位符"]
    for index in range(12):
        chunk = Chunk(index, texts[index % len(texts)], ["d"])
        slow = prompt._messages(prompt._render(prompt._rotation(index), chunk.text))
        assert prompt.messages(chunk) == slow, index
    assert prompt.material_slot and len(prompt._around) >= 2  # the rotations were rendered once each
    # a template that transforms the material is rendered in full every time
    custom = tmp_path / "gen.j2"
    custom.write_text("材料：{{ material | upper }}，示例：{{ examples }}，共{{ n }}条", encoding="utf-8")
    build = make_build(tmp_path / "b", "http://127.0.0.1:9/v1", si={"prompt_file": str(custom)})
    prompt = SelfInstructStage(build).prompt
    assert not prompt.material_slot
    assert prompt.messages(Chunk(0, "abc", ["d"]))[1]["content"].startswith("材料：ABC，示例：")


def test_answer_length_counts_characters_without_whitespace_as_templates_do(tmp_path):
    from builder.config import parse_config
    from builder.items import cjk_len
    from builder.stages.selfinstruct.filters import ItemFilters
    from builder.stages.templates import textkit

    assert textkit.cjk_len is cjk_len  # one measure for both stages
    settings = parse_config("[build]\n[selfinstruct]\nanswer_min_chars = 10\nanswer_max_chars = 25\n", tmp_path / "b.toml").settings["selfinstruct"]
    filters = ItemFilters(settings, [])

    def verdict(output):
        v = filters.check({"task_type": "问答", "instruction": "请说明运营的要点", "input": "", "output": output}, 1.0)
        return v and (v.reason, v.detail)

    spaced_short = "新媒体 运营\n\n要 看 数据"  # 9 characters, 15 with the spaces and line breaks
    assert cjk_len(spaced_short) == 9 and len(spaced_short) >= 10
    assert verdict(spaced_short) == ("dropped_too_short", "answer of 9 characters (< 10)")
    spaced_long = "好 " * 20 + "好"  # 21 characters, 41 with the spaces
    assert verdict(spaced_long) is None
    assert verdict("好" * 26) == ("dropped_too_long", "answer of 26 characters (> 25)")


# -- a full run through the fake endpoint ----------------------------------------------------------------------
SCENARIOS = {
    0: "valid", 1: "fenced", 2: "chinese_quotes", 3: "trailing_commas", 4: "truncated", 5: "prose_then_valid",
    6: "refusal", 7: "429", 8: "500", 9: "slow", 10: "schema_invalid", 11: "prose",
}


def scripted(body: dict, n: int, seen: dict) -> Reply:
    i = doc_of(body)
    tries = seen.setdefault(i, [0])
    tries[0] += 1
    reask = len(body["messages"]) > 2
    items = grounded_items(body)
    kind = SCENARIOS.get(i, "valid")
    if kind == "fenced":
        return fenced(items)
    if kind == "chinese_quotes":
        return chinese_quotes(items)
    if kind == "trailing_commas":
        return trailing_commas(items)
    if kind == "truncated":
        return truncated(items)
    if kind == "prose_then_valid":
        return valid(items) if reask else prose()
    if kind == "refusal":
        return refusal()
    if kind == "429" and tries[0] == 1:
        return rate_limited(0.2)
    if kind == "500" and tries[0] == 1:
        return server_error()
    if kind == "slow" and tries[0] == 1:
        return slow(valid(items), 3.5)
    if kind == "schema_invalid":
        return Reply(json.dumps({"items": [{"output": "只有回答，没有指令。"}]}, ensure_ascii=False))
    if kind == "prose":
        return prose()
    return valid(items)


def test_every_request_ends_valid_unwrapped_repaired_truncated_reasked_or_failed(tmp_path):
    seen: dict = {}
    with FakeOpenAI(lambda b, n: scripted(b, n, seen)) as srv:
        build = make_build(tmp_path, srv.url, n_docs=12, sentences=4, si={"chunk_tokens": 280})
        m = pipeline.execute(build, "selfinstruct")
        bodies = list(srv.bodies)
    c = m.counters
    assert c["chunks"] == 12
    assert [c.get(f"request_{k}", 0) for k in ("valid", "unwrapped", "repaired", "truncated", "reasked", "failed")] == [4, 1, 2, 1, 1, 3]
    assert c["failed_refusal"] == c["failed_schema"] == c["failed_invalid_json"] == 1
    assert c["unwrapped_code_fence"] == 1  # a fence is a shape, not a syntax repair
    for repair in ("chinese_quotes", "trailing_comma"):
        assert c[f"repaired_{repair}"] == 1, repair
    assert not any(k.startswith("repaired_") for k in c if k not in ("repaired_chinese_quotes", "repaired_trailing_comma"))
    assert c["reasked_invalid_json"] == 1 and c["dropped_truncated_item"] == 1
    assert c["dropped_reasked_reply"] == 1  # the prose reply that was re-asked has its row
    assert c["llm_retried_rate_limited"] == 1 and c["llm_retried_server_error"] == 1 and c["llm_retried_timeout"] == 1

    # failed replies are kept raw, with their reason
    rej = rejected(build)
    failed = {r["reason"]: json.loads(r["record"]) for r in rej.filter(pl.col("reason").str.starts_with("failed_")).iter_rows(named=True)}
    assert set(failed) == {"failed_refusal", "failed_schema", "failed_invalid_json"}
    assert "作为一个AI语言模型" in failed["failed_refusal"]["replies"][0]["text"]
    assert len(failed["failed_refusal"]["replies"]) == 2  # the reply and the re-ask's reply
    assert "只有回答" in failed["failed_schema"]["replies"][-1]["text"]
    assert all(r["chunk_id"] for r in rej.iter_rows(named=True))

    # the re-ask quotes the validation error after the bad reply
    reasks = [b for b in bodies if len(b["messages"]) == 4]
    assert len(reasks) == 4  # prose_then_valid, refusal, schema_invalid, prose
    schema_reask = next(b for b in reasks if doc_of(b) == 10)
    assert schema_reask["messages"][2]["role"] == "assistant" and "instruction" in schema_reask["messages"][3]["content"]

    # kept items are instruction records with provenance
    df = data(build)
    assert df.schema == pl.Schema(INSTRUCTION_SCHEMA)
    assert df.height == m.rows["data"] > 0
    row = df.row(0, named=True)
    meta = json.loads(row["meta"])
    assert row["origin"] == "selfinstruct" and row["subcategory"].startswith("selfinstruct/")
    # the fake model names no family: each item gets its task type's, counted
    families = json.loads((ROOT / "prompts" / "selfinstruct" / "families.json").read_text(encoding="utf-8"))
    assert row["family"] == next(f for f, d in families.items() if json.loads(row["meta"])["task_type"] in d["task_types"])
    assert c["item_family_missing"] == c["item_family_from_task_type"] > 0
    assert row["source_id"] in meta["doc_ids"] and meta["chunk_id"] and meta["model"] == "fake-model"
    assert meta["prompt_id"].startswith("selfinstruct/generate.zh@") and 0 < meta["grounding"] <= 1
    assert set(df["split"]) <= {"train", "validation"}
    # report tables
    report = json.loads((build.output / "selfinstruct" / "report" / "index.json").read_text(encoding="utf-8"))
    for table in ("requests", "families", "items_per_request", "filters", "tokens_and_cost", "latency_seconds", "grounding", "item_samples"):
        assert table in report["tables"]
    requests = pl.read_parquet(build.output / "selfinstruct" / "report" / "requests.parquet")
    assert dict(zip(requests["outcome"], requests["requests"])) == {"valid": 4, "unwrapped": 1, "repaired": 2, "truncated": 1,
                                                                   "reasked": 1, "failed": 3}
    # the key never reaches the output folder (cache, report, manifest, data)
    for f in build.output.rglob("*"):
        if f.is_file():
            assert KEY.encode() not in f.read_bytes(), f


def test_filters_each_count_their_drops(tmp_path):
    leak = json.loads((ROOT / "prompts" / "selfinstruct" / "fewshot.jsonl").read_text(encoding="utf-8").splitlines()[0])

    def script(body, n):
        base = grounded_items(body, 2)
        ok1, ok2 = base[0], base[1]
        items = [
            ok1,
            {**ok2, "instruction": ok2["instruction"] + "（简要）"},  # kept: different enough
            {"task_type": "问答", "instruction": "写标题", "input": "", "output": ok1["output"]},  # instruction too short
            {"task_type": "问答", "instruction": "请说明这个做法为什么有效", "input": "", "output": "有效。"},  # answer too short
            {"task_type": "写作", "instruction": "请写一篇很长的复盘文章", "input": "", "output": "长" * 500},  # too long
            {"task_type": "问答", "instruction": "请评价这个账号的运营策略", "input": "", "output": "作为一个AI语言模型，我无法对具体账号做出评价。"},
            {**leak},  # copied few-shot example
            dict(ok1),  # exact duplicate
            {**ok1, "instruction": ok1["instruction"] + "吗"},  # near duplicate
            {"task_type": "问答", "instruction": "谈谈你对宇宙起源的看法", "input": "", "output": "宇宙起源于大约一百三十八亿年前的一次大爆炸。"},
            {"task_type": "问答", "instruction": "", "input": "", "output": "没有指令的回答"},  # empty
        ]
        return valid(items)

    with FakeOpenAI(script) as srv:
        build = make_build(tmp_path, srv.url, n_docs=1, sentences=4,
                           si={"chunk_tokens": 400, "answer_max_chars": 300, "filters": {"min_grounding": 0.3}})
        m = pipeline.execute(build, "selfinstruct")
    c = m.counters
    assert c["items_returned"] == 11 and c["kept"] == 2
    expected = {"dropped_too_short": 2, "dropped_too_long": 1, "dropped_refusal": 1, "dropped_fewshot_leak": 1,
                "dropped_duplicate_exact": 1, "dropped_duplicate_near": 1, "dropped_ungrounded": 1, "dropped_empty": 1}
    assert {k: c.get(k, 0) for k in expected} == expected
    rej = rejected(build)
    assert rej.height == sum(expected.values())
    assert rej.filter(pl.col("reason") == "dropped_duplicate_exact")["detail"][0].startswith("repeats item")
    near = rej.filter(pl.col("reason") == "dropped_duplicate_near")["detail"][0]
    repeated = re.fullmatch(r"repeats item (\w+) \(instruction similarity 0\.\d\d, input similarity 1\.00\)", near)
    assert repeated and repeated.group(1) in set(data(build)["id"])  # it names the kept item it repeats
    filters = pl.read_parquet(build.output / "selfinstruct" / "report" / "filters.parquet")
    assert dict(zip(filters["filter"], filters["items"]))["dropped_fewshot_leak"] == 1


def test_an_item_is_credited_to_the_document_of_the_chunk_it_was_written_from(tmp_path):
    """Two documents of one side packed in one chunk: an item quoting the second is the second's."""
    from builder.items import split_rank

    # a validation share that puts both documents in validation by the hash alone (seed 42, the build default)
    share = min(1.0, max(split_rank("doc000", 42), split_rank("doc001", 42)) + 0.001)

    def script(body, n):
        text = material(body)
        assert "第0篇" in text and "第1篇" in text  # both documents are in this one request
        return valid(grounded_items(body, 8))

    with FakeOpenAI(script) as srv:
        build = make_build(tmp_path, srv.url, n_docs=2, sentences=4, si={"chunk_tokens": 600},
                           export={"validation_share": share, "validation_max_share": share})
        m = pipeline.execute(build, "selfinstruct")
        assert srv.hits == 1
    assert m.counters["chunks"] == 1
    df = data(build)
    by_doc = {"doc000": 0, "doc001": 0}
    for row in df.iter_rows(named=True):
        written_from = "doc%03d" % int(re.search(r"第(\d+)篇", row["output"]).group(1))
        assert row["source_id"] == written_from, row["output"]
        assert row["split"] == "validation"
        assert json.loads(row["meta"])["doc_ids"] == ["doc000", "doc001"]  # the whole chunk is still named
        by_doc[written_from] += 1
    assert by_doc["doc000"] and by_doc["doc001"]  # items from both documents were kept


def test_a_rerun_is_answered_from_the_cache(tmp_path):
    with FakeOpenAI() as srv:
        build = make_build(tmp_path, srv.url, n_docs=4)
        pipeline.execute(build, "selfinstruct")
        first, hits = data(build), srv.hits
        m = pipeline.execute(build, "selfinstruct")
        assert srv.hits == hits  # nothing paid twice
    assert data(build).equals(first)
    assert m.counters["llm_cached"] == hits and "llm_requests" not in m.counters


# -- no endpoint, dry run --------------------------------------------------------------------------------------
def test_no_endpoint_writes_an_empty_output_with_the_estimate_and_the_reason(tmp_path):
    build = make_build(tmp_path, "", n_docs=5)
    m = pipeline.execute(build, "selfinstruct")
    assert m.rows["data"] == 0 and data(build).schema == pl.Schema(INSTRUCTION_SCHEMA)
    assert any("nothing was generated" in p and "base_url is empty" in p for p in m.problems) and not m.rerun
    est = pl.read_parquet(build.output / "selfinstruct" / "report" / "estimate.parquet")
    est = dict(zip(est["measure"], est["value"]))
    chunks = list(chunk_documents(pl.read_parquet(build.output / "dedup" / "data").to_dicts(), 300))
    assert int(est["requests"]) == len(chunks) and int(est["input_tokens"]) > sum(c.tokens for c in chunks)
    assert float(est["cost_usd"]) > 0  # priced from [llm.prices]
    # with still no endpoint, the stage has no reason of its own to run again
    stage = pipeline.stage_class("selfinstruct")(build)
    assert Manifest.read(build.output / "selfinstruct").config_hash == stage.config_hash() and stage.stale_reason(m) is None


def test_missing_key_is_not_an_endpoint_and_the_stage_reruns_once_it_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv("FAKE_LLM_KEY")
    build = make_build(tmp_path, "http://127.0.0.1:9/v1", n_docs=2)
    m = pipeline.execute(build, "selfinstruct")
    assert any("FAKE_LLM_KEY" in p for p in m.problems) and m.rows["data"] == 0
    stage = pipeline.stage_class("selfinstruct")(build)
    before = stage.config_hash()
    assert stage.stale_reason(m) is None
    monkeypatch.setenv("FAKE_LLM_KEY", KEY)
    stage = pipeline.stage_class("selfinstruct")(build)
    assert stage.config_hash() == before  # whether a secret is set is not config
    assert stage.stale_reason(m) == "an endpoint is configured now (the last run had none)"


def test_dry_run_with_an_endpoint_sends_nothing_and_keeps_the_previous_output(tmp_path):
    with FakeOpenAI() as srv:
        build = make_build(tmp_path, srv.url, n_docs=3)
        done = pipeline.execute(build, "selfinstruct")
        hits, before = srv.hits, data(build)
        with pytest.raises(DryRunFinished, match="requests"):
            pipeline.execute(build, "selfinstruct", options={"dry_run": True})
        assert srv.hits == hits
    assert Manifest.read(build.output / "selfinstruct").output == done.output
    assert data(build).equals(before)
    assert not list((build.output / ".tmp").glob("selfinstruct-*"))


def test_dry_run_stops_the_pipeline_with_its_estimate(tmp_path, monkeypatch):
    with FakeOpenAI() as srv:
        build = make_build(tmp_path, srv.url, n_docs=2)
        monkeypatch.setattr(pipeline, "plan", lambda *a, **k: [("selfinstruct", "forced")])
        steps = list(pipeline.run(build, "selfinstruct", options={"dry_run": True}))
        assert srv.hits == 0
    assert steps[0][0] == "selfinstruct" and steps[0][1].startswith("dry run: estimate only") and steps[0][2] is None
    assert Manifest.read(build.output / "selfinstruct") is None


# -- kill and resume ---------------------------------------------------------------------------------------------
RUNNER = "import sys; from builder.config import load_config; from builder import pipeline; pipeline.execute(load_config(sys.argv[1]), 'selfinstruct')"


def test_killed_run_resumes_without_paying_twice_and_matches_an_uninterrupted_run(tmp_path):
    n_docs = 8  # 16 chunks at 300 tokens
    with FakeOpenAI(delay=0.05) as ref:
        reference = make_build(tmp_path / "ref", ref.url, n_docs=n_docs)
        pipeline.execute(reference, "selfinstruct")
        chunks = ref.answered
    assert chunks == 16

    with FakeOpenAI(delay=0.05) as srv:
        srv.hold_after = 7  # the provider answers 7 requests, then stalls
        build = make_build(tmp_path / "killed", srv.url, n_docs=n_docs)
        env = {**os.environ, "FAKE_LLM_KEY": KEY}
        proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(build.path)], env=env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cache = build.output / ".cache" / "llm.sqlite"
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline:
            if srv.answered == 7 and cache.exists():
                with sqlite3.connect(cache) as db:
                    stored = db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
                if stored == 7:
                    break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        assert stored == 7, "the killed run did not store its 7 replies in time"
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)  # reaps it and closes its pipes
        assert Manifest.read(build.output / "selfinstruct") is None  # nothing half-done is marked done
        srv.release()

        pipeline.execute(build, "selfinstruct")  # the same command again
        assert srv.answered == chunks  # every distinct request answered (paid) exactly once over both runs
        assert srv.hits > srv.answered  # the stalled requests reached the server but were never answered
    assert data(build).equals(data(reference))
    assert rejected(build).equals(rejected(reference))


# -- reply shapes, truncation, nothing lost ---------------------------------------------------------------------
REALDATA_REPLIES = ROOT.parent / "shared" / "realdata" / "llm_replies"


def item_rows_explain_every_returned_item(c: dict, rej: pl.DataFrame) -> None:
    """Every item of every used reply is a kept row or an item row in rejected/ (first replies of re-asked
    requests and the cut tail of truncated replies have rows of their own on top)."""
    item_rows = rej.filter(pl.col("reason").str.starts_with("dropped_") & ~pl.col("reason").is_in(
        ["dropped_truncated_item", "dropped_reasked_reply"]) & ~pl.col("detail").str.starts_with("first reply, re-asked")
        | (pl.col("reason") == "invalid_record"))
    assert item_rows.height + c.get("kept", 0) == c["items_returned"]


@pytest.mark.realdata
@pytest.mark.skipif(not REALDATA_REPLIES.is_dir(), reason="../shared/realdata/llm_replies is absent")
def test_the_130_real_replies_are_read_without_a_reask_for_their_shape(tmp_path):
    replies = [f.read_text(encoding="utf-8") for f in sorted(REALDATA_REPLIES.glob("*.json"))]
    assert len(replies) == 130
    with FakeOpenAI(lambda body, n: Reply(replies[doc_of(body)])) as srv:
        build = make_build(tmp_path, srv.url, n_docs=130, sentences=4, llm={"concurrency": 8},
                           si={"chunk_tokens": 300, "answer_max_chars": 2000})
        m = pipeline.execute(build, "selfinstruct")
        bodies = list(srv.bodies)
    c = m.counters
    assert c["chunks"] == 130
    reasked = [doc_of(b) for b in bodies if len(b["messages"]) > 2]
    # the only reply asked again is the one whose items have no instruction at all: a shape is never a reason
    no_instruction = [i for i, text in enumerate(replies) if '"instruction"' not in text]
    assert reasked == no_instruction and len(no_instruction) == 1
    assert c["request_failed"] == c["failed_schema"] == 1
    assert c["request_repaired"] == c["repaired_missing_brackets"] == 2  # the 2 replies without their outer brackets
    assert c["request_unwrapped"] == c["unwrapped_bare_array"] == 127 and c.get("request_valid", 0) == 0
    assert not any(k.startswith("repaired_") and k != "repaired_missing_brackets" for k in c)
    returned = sum(len(json.loads(t)) if t.lstrip().startswith("[") else t.count('"output"') for t in replies)
    assert c["items_returned"] == returned - 11  # all but the failed reply's 11
    item_rows_explain_every_returned_item(c, rejected(build))
    report = pl.read_parquet(build.output / "selfinstruct" / "report" / "requests.parquet")
    assert dict(zip(report["outcome"], report["requests"]))["unwrapped"] == 127


def test_a_reply_cut_by_max_tokens_is_counted_truncated_and_its_complete_items_kept(tmp_path):
    def script(body, n):
        return truncated(grounded_items(body, 4))  # 3 whole items, the 4th cut inside its output

    with FakeOpenAI(script) as srv:
        build = make_build(tmp_path, srv.url, n_docs=1, sentences=4, si={"chunk_tokens": 400})
        m = pipeline.execute(build, "selfinstruct")
        assert srv.hits == 1  # no re-ask: the complete items are there
    c = m.counters
    assert c["request_truncated"] == 1 and c["items_returned"] == 3 and c["kept"] == 3
    rej = rejected(build)
    tail = rej.filter(pl.col("reason") == "dropped_truncated_item")
    assert tail.height == 1 and '"output"' in json.loads(tail["record"][0])["item"]


def test_the_first_reply_of_a_reasked_request_leaves_a_row_for_each_of_its_items(tmp_path):
    def script(body, n):
        if len(body["messages"]) > 2:
            return valid(grounded_items(body, 2))
        return valid([{"task_type": "问答", "output": "只有回答，没有指令。"}, {"task_type": "问答", "instruction": "", "output": "空指令"}])

    with FakeOpenAI(script) as srv:
        build = make_build(tmp_path, srv.url, n_docs=1, sentences=4, si={"chunk_tokens": 400})
        m = pipeline.execute(build, "selfinstruct")
        assert srv.hits == 2
    c = m.counters
    assert c["request_reasked"] == 1 and c["reasked_schema"] == 1 and c["kept"] == 2
    first = rejected(build).filter(pl.col("detail").str.starts_with("first reply, re-asked"))
    assert sorted(first["reason"]) == ["dropped_empty", "dropped_invalid_item"]
    assert "'instruction' is missing" in first.filter(pl.col("reason") == "dropped_invalid_item")["detail"][0]
    item_rows_explain_every_returned_item(c, rejected(build))


def test_items_carry_their_family_and_a_missing_or_unknown_one_is_counted(tmp_path):
    def script(body, n):
        base = grounded_items(body, 4)
        base[0] = {**base[0], "family": "媒体理解", "task_type": "分类"}
        base[1] = {**base[1], "family": "观点创作", "task_type": "写作"}
        base[2] = {**base[2], "family": "新闻", "task_type": "没有这个类型"}  # unknown family and type: 其他QA
        base[3] = {**base[3], "task_type": "摘要"}  # no family: its task type's
        return valid(base)

    with FakeOpenAI(script) as srv:
        build = make_build(tmp_path, srv.url, n_docs=1, sentences=4, si={"chunk_tokens": 400, "filters": {"near_duplicate": 1.0}})
        m = pipeline.execute(build, "selfinstruct")
    c = m.counters
    assert sorted(data(build)["family"]) == sorted(["媒体理解", "观点创作", "其他QA", "文章转写"])
    assert (c["item_family_invalid"], c["item_family_missing"], c["item_family_defaulted"], c["item_family_from_task_type"]) == (1, 1, 1, 1)
    fam = pl.read_parquet(build.output / "selfinstruct" / "report" / "families.parquet")
    assert dict(zip(fam["family"], fam["kept"])) == {"观点创作": 1, "文章转写": 1, "媒体理解": 1, "其他QA": 1}


def test_dry_run_calibrates_on_cached_replies_and_warns_near_max_tokens(tmp_path):
    import io

    from rich.console import Console

    from builder.stages.base import StageRun

    def dry(build):  # the estimate is the run's "estimate" report table (measure -> value as text)
        stage = pipeline.stage_class("selfinstruct")(build)
        out = io.StringIO()
        work = build.output / "dry-run"
        work.mkdir(exist_ok=True)
        ctx = StageRun(stage, work, {"dedup": build.output / "dedup"}, console=Console(file=out, width=300), options={"dry_run": True})
        with pytest.raises(DryRunFinished) as done:
            stage.run(ctx)
        ctx.close()
        table = ctx.tables["estimate"]
        return dict(zip(table["measure"], table["value"])), out.getvalue(), str(done.value)

    with FakeOpenAI() as srv:
        build = make_build(tmp_path, srv.url, n_docs=3, llm={"prices": {}})
        before, _, _ = dry(build)
        assert before["reply_tokens_basis"] == "prompt settings" and before["requests_cached"] == "0"
        pipeline.execute(build, "selfinstruct")
        with sqlite3.connect(build.output / ".cache" / "llm.sqlite") as db:
            lengths = [r[0] for r in db.execute("SELECT completion_tokens FROM replies")]
        est, text, message = dry(build)
        assert srv.hits == len(lengths)  # the dry runs sent nothing
    assert est["requests_cached"] == est["requests"] == str(len(lengths)) and est["output_tokens"] == "0"
    assert est["reply_tokens_expected"] == str(round(sum(lengths) / len(lengths))) != before["reply_tokens_expected"]
    assert est["reply_tokens_basis"] == f"{len(lengths)} cached replies of these requests"
    assert "no price for fake-model in [llm.prices]" in text  # not eaten as console markup
    assert "[" not in message.split("cost unknown")[1]  # the message shown in the run table has no markup-like brackets
    assert "max_tokens" not in text.split("estimate")[-1]  # far from the limit: no warning

    # another max_tokens is another request (not cached), so the model's cached replies calibrate it; 10% above them: warned
    limit = int(int(est["reply_tokens_expected"]) * 1.1)
    build = make_build(tmp_path, srv.url, n_docs=3, llm={"prices": {}, "max_tokens": limit})
    est, text, _ = dry(build)
    assert est["requests_cached"] == "0" and est["reply_tokens_basis"] == f"{len(lengths)} cached replies of fake-model"
    assert f"within 20% of [llm] max_tokens = {limit:,}: replies would be cut" in " ".join(text.split())


def test_replies_are_recorded_in_worker_processes_not_on_the_event_loop(tmp_path, monkeypatch):
    from builder.stages.selfinstruct import recorder as rec

    call = rec.ReplyRecorder.__call__

    def tagged(self, res):
        out = call(self, res)
        out.counts[f"recorded_in_{os.getpid()}"] += 1
        return out

    monkeypatch.setattr(rec.ReplyRecorder, "__call__", tagged)  # the forked workers inherit it
    with FakeOpenAI() as srv:
        build = make_build(tmp_path, srv.url, n_docs=4)
        m = pipeline.execute(build, "selfinstruct")
    where = {k for k in m.counters if k.startswith("recorded_in_")}
    assert where and f"recorded_in_{os.getpid()}" not in where
    assert sum(m.counters[k] for k in where) == m.counters["chunks"]


def test_the_leak_filter_catches_a_reworded_example_and_its_shortcut_never_changes_a_verdict(tmp_path):
    from builder.config import parse_config
    from builder.stages.selfinstruct.filters import ItemFilters

    settings = parse_config("[build]\n", tmp_path / "b.toml").settings["selfinstruct"]
    examples = [json.loads(line) for line in (ROOT / "prompts" / "selfinstruct" / "fewshot.jsonl").read_text(encoding="utf-8").splitlines()]
    f = ItemFilters(settings, examples)
    reworded = {"task_type": "问答", "instruction": "视频发布两小时后播放量卡在几百，怎么排查问题？", "input": "",
                "output": "从四个方面查：内容上看开头三秒是否抓人、完播率高不高；账号上看近期有没有违规或频繁修改资料；"
                          "时间上看是否避开了用户活跃时段；标签上看话题和内容是否匹配。再结合后台完播率、互动率调整。"}
    verdict = f.check(reworded, 1.0)
    assert verdict and verdict.reason == "dropped_fewshot_leak" and verdict.detail.startswith("copies few-shot example 4")
    other = {"task_type": "问答", "instruction": "直播间停留时长很短，应该怎么改进？", "input": "",
             "output": "可以在开场就抛出福利和悬念，把讲解节奏控制在三分钟一个商品，并用福袋、抽奖等互动留住观众。"}
    assert f.check(other, 1.0) is None
    t = f.leak_threshold
    for it in [reworded, other, *examples]:
        assert (f.leak(it["instruction"], it["output"], at_least=t)[1] >= t) == (f.leak(it["instruction"], it["output"])[1] >= t)
