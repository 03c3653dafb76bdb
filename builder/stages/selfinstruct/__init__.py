"""selfinstruct: document-grounded instruction items written by a model through any OpenAI-compatible endpoint.

Deduplicated documents are packed into chunks by a token budget (``chunks.py``); each chunk is sent with
our Chinese prompt (``prompts/selfinstruct/``, ``prompt.py``) through the project's one LLM client
(``builder.llm``: limits, retries, a SQLite cache that makes a rerun free). Each reply is parsed, repaired
(``builder.llm.repair``) and validated against ``schemas/selfinstruct_reply.schema.json``; a reply with no
valid item is re-asked once, quoting the error. Every request ends as valid, repaired, reasked or failed,
and a failed reply is kept raw in ``rejected/``. Items then pass the filters (``filters.py``), each drop
with its reason. Exact and near-duplicate items are found once all replies are in, with the dedup stage's
MinHash engine (``builder.text.minhash``), and the rest are written as instruction records (origin
``selfinstruct``, family 其他QA) in reply order. Until then the items wait in memory (a few kB each).

With no endpoint configured the stage makes its dry-run estimate, says in its report and manifest that
nothing was generated and why, and writes an empty typed output, so the later stages go on.
``builder run selfinstruct --dry-run`` prints the estimate and sends nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import polars as pl
import pyarrow.parquet as pq

from ...config import first_error, schema_validator
from ...errors import BuilderError, DryRunFinished
from ...llm import (Completion, LLMClient, LLMError, LLMSettings, display_url, endpoint_problem, estimate_prompt_tokens,
                    in_order, parse_json_reply, response_format_for)
from ...resources import load_schema
from ...shards import INSTRUCTION_SCHEMA, REJECTED_SCHEMA, shard_files
from ...text.shingles import char_ngrams
from ...items import hashed_split, item_id
from ..base import Stage, StageRun
from .chunks import Chunk, chunk_documents
from .filters import ItemFilters, find_repeats, grounding_score
from .prompt import SelfInstructPrompt

FAMILY = "其他QA"
ITEM_FIELDS = ("task_type", "instruction", "input", "output")
REPLY_SCHEMA = "selfinstruct_reply"
OTHER_TYPE = "其他"
LLM_RESULT_KEYS = ("model", "temperature", "top_p", "max_tokens", "seed", "response_format")
MODEL_FAILURES = {"invalid_json", "schema", "refusal"}  # the model answered, badly: a rerun would not mend it for free


@dataclass
class Reading:
    """What one reply gave: valid items, invalid ones with their errors, and how it was repaired."""

    status: str  # valid | repaired | invalid
    items: list[dict[str, str]] = field(default_factory=list)
    invalid: list[tuple[Any, str]] = field(default_factory=list)
    empty: list[dict[str, Any]] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    error: str | None = None
    problem: str = ""  # invalid_json | schema | refusal, when invalid
    dropped_tail: Any = None
    returned: int = 0


@dataclass
class PendingItem:
    """An item that passed the filters and waits for the duplicate check."""

    item: dict[str, str]
    record: dict[str, Any]
    task_type: str
    grounding: float
    chunk_id: str
    chunk_text: str  # the head shown in the report's samples


@dataclass
class ChunkResult:
    chunk: Chunk
    outcome: str  # valid | repaired | reasked | failed
    reason: str = ""
    detail: str = ""
    reading: Reading | None = None
    first: Reading | None = None
    replies: list[Completion] = field(default_factory=list)


def written_from(item: Mapping[str, str], doc_grams: list[set[str]], n: int) -> int:
    """The index of the chunk's document that the item's output and input share most character n-grams with.

    A chunk packs several short documents; an item is credited to the one it was written from, so its split
    is that document's (another document's validation text never reaches train). Ties go to the first.
    """
    grams = char_ngrams(item["output"], n) | char_ngrams(item.get("input") or "", n)
    best, best_shared = 0, -1
    for k, doc in enumerate(doc_grams):
        shared = len(grams & doc)
        if shared > best_shared:
            best, best_shared = k, shared
    return best


class SelfInstructStage(Stage):
    name = "selfinstruct"
    needs = ("dedup",)
    summary = "Document-grounded instruction items from a model, validated, repaired, filtered and cached."
    record_schema = "instruction"
    data_columns = INSTRUCTION_SCHEMA
    rejected_columns = {**REJECTED_SCHEMA, "chunk_id": pl.String}
    text_column = "output"
    source_column = "subcategory"

    def __init__(self, build):
        super().__init__(build)
        self.llm = LLMSettings.from_mapping(build.settings.get("llm", {}))
        self._prompt: SelfInstructPrompt | None = None
        self.report: dict[str, Any] = {}

    @property
    def prompt(self) -> SelfInstructPrompt:
        if self._prompt is None:
            self._prompt = SelfInstructPrompt.from_settings(self.settings, self.build)
        return self._prompt

    def config_fingerprint(self) -> dict[str, Any]:
        fp = super().config_fingerprint()
        llm = self.build.settings.get("llm", {})
        fp["llm"] = {k: llm.get(k) for k in LLM_RESULT_KEYS}
        fp["endpoint"] = display_url(self.llm.base_url)  # another provider's model of the same name is another model
        fp["prompt"] = self.prompt.fingerprint()
        fp["reply_schema"] = load_schema(REPLY_SCHEMA)
        return fp

    # -- input ---------------------------------------------------------------------------------------
    def documents(self, ctx: StageRun) -> Iterator[dict[str, Any]]:
        files = shard_files(ctx.input("dedup"))
        for f in files:
            names = pq.read_schema(f).names
            cols = [c for c in ("id", "source", "title", "text", "meta") if c in names]
            if "id" not in cols or "text" not in cols:
                raise BuilderError(f"{f}: the dedup output has no 'id' or 'text' column (columns: {', '.join(names)})")
            for batch in pq.ParquetFile(f).iter_batches(batch_size=256, columns=cols):
                yield from batch.to_pylist()

    def chunks(self, ctx: StageRun) -> Iterator[Chunk]:
        s = self.settings
        chunks = chunk_documents(self.documents(ctx), s["chunk_tokens"], s["overlap_tokens"])
        return itertools.islice(chunks, s["max_chunks"]) if s["max_chunks"] else chunks

    # -- the stage -------------------------------------------------------------------------------------
    def run(self, ctx: StageRun) -> None:
        s = self.settings
        if not s["enabled"]:
            ctx.note("selfinstruct is switched off ([selfinstruct] enabled = false): nothing was generated")
            ctx.empty_ok = True
            return
        problem = endpoint_problem(self.llm)
        dry_run = bool(ctx.options.get("dry_run"))
        if problem or dry_run:
            est = self.estimate(ctx)
            self.report["estimate"] = est
            self.print_estimate(ctx, est)
            summary = self.describe_estimate(est)
            if est["reply_tokens_expected"] > est["max_tokens"]:
                ctx.note(f"a reply of {s['items_per_request']} items is expected to need about {est['reply_tokens_expected']:,} tokens, "
                         f"more than [llm] max_tokens = {est['max_tokens']:,}: replies would be cut; raise max_tokens or lower "
                         "items_per_request / answer_max_chars")
            if problem:
                ctx.count("skipped_no_endpoint", est["requests"])
                ctx.note(f"Dry-run estimate: {summary}.")
                ctx.problem(f"nothing was generated: {problem}")
                return
            raise DryRunFinished(f"estimate only, nothing sent: {summary}")
        asyncio.run(self.generate(ctx))
        self.write_items(ctx)
        failed = {k.removeprefix("failed_"): n for k, n in ctx.counters.items() if k.startswith("failed_") and k.removeprefix("failed_") not in MODEL_FAILURES}
        if failed:
            kinds = ", ".join(f"{k}: {n}" for k, n in sorted(failed.items()))
            ctx.problem(f"{sum(failed.values())} of {ctx.counters.get('chunks', 0)} requests failed ({kinds}; see rejected/); "
                        "the next run retries them", rerun=True)

    def stale_reason(self, manifest) -> str | None:
        if manifest.counters.get("skipped_no_endpoint") and self.settings["enabled"] and endpoint_problem(self.llm) is None:
            return "an endpoint is configured now (the last run had none)"
        return None

    # -- dry run -----------------------------------------------------------------------------------------
    def estimate(self, ctx: StageRun) -> dict[str, Any]:
        s, llm = self.settings, self.llm
        requests = input_tokens = chunk_tokens = chunk_chars = 0
        for chunk in ctx.track(self.chunks(ctx), "estimate"):
            requests += 1
            input_tokens += estimate_prompt_tokens(self.prompt.messages(chunk))
            chunk_tokens += chunk.tokens
            chunk_chars += len(chunk.text)
        per_char = chunk_tokens / chunk_chars if chunk_chars else 1.0
        # an item: instruction (~40 chars), some input (~80), an answer in the middle of the asked range, JSON overhead
        item_chars = 40 + 80 + (s["answer_min_chars"] + s["answer_max_chars"]) / 2
        expected = int(s["items_per_request"] * (item_chars * per_char + 25))
        output_tokens = requests * min(llm.max_tokens, expected)
        upper = requests * llm.max_tokens
        return {"requests": requests, "reply_tokens_expected": expected, "max_tokens": llm.max_tokens, "input_tokens": input_tokens, "output_tokens": output_tokens, "output_tokens_max": upper,
                "model": llm.model, "cost_usd": llm.cost(input_tokens, output_tokens), "cost_usd_max": llm.cost(input_tokens, upper)}

    @staticmethod
    def describe_estimate(est: Mapping[str, Any]) -> str:
        cost = (f"about ${est['cost_usd']:.2f} (at most ${est['cost_usd_max']:.2f}) at the configured {est['model']} prices"
                if est["cost_usd"] is not None else f"cost unknown (no price for {est['model']} in [llm.prices])")
        return (f"{est['requests']} requests, {est['input_tokens']:,} input tokens, about {est['output_tokens']:,} output tokens "
                f"(at most {est['output_tokens_max']:,}), {cost}")

    def print_estimate(self, ctx: StageRun, est: Mapping[str, Any]) -> None:
        if ctx.console is None:
            return
        from rich.table import Table

        t = Table(title="selfinstruct dry-run estimate (re-asks not included)", title_justify="left")
        t.add_column("measure")
        t.add_column("value", justify="right")
        for k in ("requests", "input_tokens", "output_tokens", "output_tokens_max", "reply_tokens_expected", "max_tokens"):
            t.add_row(k, f"{est[k]:,}")
        t.add_row("model", str(est["model"]))
        for k in ("cost_usd", "cost_usd_max"):
            t.add_row(k, "no price configured" if est[k] is None else f"${est[k]:.4f}")
        ctx.console.print(t)

    # -- generation --------------------------------------------------------------------------------------
    async def generate(self, ctx: StageRun) -> None:
        s, llm = self.settings, self.llm
        prompt = self.prompt
        schema = load_schema(REPLY_SCHEMA)
        fmt = response_format_for(llm.response_format, schema, "selfinstruct_items")
        self._reply_validator = schema_validator(REPLY_SCHEMA)
        self._item_validator = type(self._reply_validator)(schema["properties"]["items"]["items"])
        self._filters = ItemFilters(s, prompt.examples)
        self._known_types = set(s["task_types"])
        self._samples: list[dict[str, Any]] = []
        self._rng = random.Random(self.build.settings["build"]["seed"])
        self._kept_seen = 0
        self._grounding: list[tuple[str, float]] = []
        self._items_per_request: Counter[int] = Counter()
        self._used = Counter()
        self._pending: list[PendingItem] = []
        client = LLMClient.from_build(self.build)
        params = {"response_format": fmt} if fmt else {}

        async def work(chunk: Chunk) -> ChunkResult:
            messages = prompt.messages(chunk)
            result = ChunkResult(chunk, "failed")
            try:
                first = await client.chat(messages, **params)
            except LLMError as exc:
                result.reason, result.detail = f"failed_{exc.kind}", str(exc)
                return result
            result.replies.append(first)
            reading = self.read(first)
            result.first = reading
            if reading.status != "invalid":
                result.outcome, result.reading = reading.status, reading
                return result
            if s["reask"]:
                again = prompt.reask(messages, first.text or (first.refusal or ""), reading.error or "", first.finish_reason == "length")
                try:
                    second = await client.chat(again, **params)
                except LLMError as exc:
                    result.reason, result.detail = f"failed_{exc.kind}", f"re-ask: {exc}"
                    return result
                result.replies.append(second)
                retry = self.read(second)
                if retry.status != "invalid":
                    result.outcome, result.reading = "reasked", retry
                    return result
                reading = retry
            result.reason = f"failed_{reading.problem}"
            result.detail = reading.error or "no valid item"
            for reply in result.replies:  # unusable: kept in the cache file, asked anew by a later run
                client.discard(reply, result.detail)
            return result

        try:
            async for res in in_order((work(c) for c in ctx.track(self.chunks(ctx), "requests")), 4 * llm.concurrency):
                self.record(ctx, res)
        finally:
            await client.aclose()
            self.client_stats = (Counter(client.stats), list(client.latencies))
        for k, v in client.stats.items():
            ctx.count(f"llm_{k}", v)

    def read(self, c: Completion) -> Reading:
        """Parse, repair and validate one reply."""
        if c.refusal and not (c.text or "").strip():
            return Reading("invalid", error=f"the model refused: {c.refusal[:200]}", problem="refusal")
        parsed = parse_json_reply(c.text, c.finish_reason, "items")
        if not parsed.ok:
            refused = self._filters.is_refusal(c.text or "")
            return Reading("invalid", error="the reply is a refusal, not JSON" if refused else parsed.error,
                           problem="refusal" if refused else "invalid_json")
        repairs = list(parsed.repairs)
        value = parsed.value
        if isinstance(value, list):
            value, repairs = {"items": value}, repairs + ["bare_array"]
        raw_items = value.get("items") if isinstance(value, dict) else None
        if not isinstance(raw_items, list):
            problem = first_error(self._reply_validator, value) or "the reply is not an object with an \"items\" list"
            return Reading("invalid", error=f"the JSON does not match the schema: {problem}", repairs=repairs, problem="schema")
        reading = Reading("repaired" if repairs else "valid", repairs=repairs, dropped_tail=parsed.dropped_tail, returned=len(raw_items))
        for raw in raw_items:
            item, fixes = self.tidy(raw)
            if item is not None and isinstance(item["instruction"], str) and isinstance(item["output"], str) \
                    and not (item["instruction"] and item["output"]):
                reading.empty.append(item)
                continue
            problem = first_error(self._item_validator, item) if item is not None else "the item is not an object"
            if problem:
                reading.invalid.append((raw, problem))
                continue
            for fix in fixes:
                if fix not in reading.repairs:
                    reading.repairs.append(fix)
            reading.items.append(item)
        if reading.repairs and reading.status == "valid":
            reading.status = "repaired"
        if not reading.items:
            first = (reading.invalid[0][1] if reading.invalid else
                     "every item has an empty instruction or answer" if reading.empty else "the \"items\" list is empty")
            reading.status, reading.error, reading.problem = "invalid", f"no valid item: {first}", "schema"
        return reading

    @staticmethod
    def tidy(raw: Any) -> tuple[dict[str, Any] | None, list[str]]:
        """Keep the four fields; an omitted input or task type becomes ""; a list answer is joined by lines."""
        if not isinstance(raw, dict):
            return None, []
        fixes = []
        item: dict[str, Any] = {}
        for k in ITEM_FIELDS:
            v = raw.get(k)
            if v is None and k in ("input", "task_type"):
                v = ""
                fixes.append(f"filled_{k}")
            elif isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v):
                v = "\n".join(str(x) for x in v)
                fixes.append(f"joined_{k}")
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                v = str(v)
                fixes.append(f"coerced_{k}")
            item[k] = v.strip() if isinstance(v, str) else v
        if set(raw) - set(ITEM_FIELDS):
            fixes.append("extra_fields")
        return item, fixes

    # -- writing ----------------------------------------------------------------------------------------
    def record(self, ctx: StageRun, res: ChunkResult) -> None:
        chunk = res.chunk
        ctx.count("chunks")
        for c in res.replies:
            key = "cached" if c.cached else "paid"
            self._used[f"{key}_prompt_tokens"] += c.usage.prompt_tokens
            self._used[f"{key}_completion_tokens"] += c.usage.completion_tokens
            self._used[f"{key}_replies"] += 1
        first = res.first
        if res.outcome == "reasked" and first is not None:
            ctx.count(f"reasked_{first.problem}")
        if res.outcome == "failed":
            ctx.count("request_failed")
            raw = {"id": chunk.id, "source": chunk.source, "doc_ids": chunk.doc_ids,
                   "replies": [{"text": c.text, "finish_reason": c.finish_reason, "refusal": c.refusal} for c in res.replies]}
            ctx.reject(res.reason, res.detail, raw, chunk_id=chunk.id)
            return
        reading = res.reading
        assert reading is not None
        ctx.count(f"request_{res.outcome}")
        for r in reading.repairs:
            ctx.count(f"repaired_{r}")
        self._items_per_request[reading.returned] += 1
        ctx.count("items_returned", reading.returned)
        base = {"source": chunk.source, "chunk_id": chunk.id}
        for item in reading.empty:
            ctx.reject("dropped_empty", "empty instruction" if not item["instruction"] else "empty answer", {"id": chunk.id, "item": item},
                       **base)
        for raw, problem in reading.invalid:
            ctx.reject("dropped_invalid_item", problem, {"id": chunk.id, "item": raw}, **base)
        if reading.dropped_tail is not None:
            ctx.reject("dropped_truncated_item", "the reply was cut by max_tokens inside this item (finish_reason=length)",
                       {"id": chunk.id, "item": reading.dropped_tail}, **base)
        chunk_grams = char_ngrams(chunk.text, self._filters.grounding_n)
        doc_grams = [char_ngrams(t, self._filters.grounding_n) for t in chunk.doc_texts()] if len(chunk.doc_ids) > 1 else []
        s = self.settings
        seed = self.build.settings["build"]["seed"]
        model = res.replies[-1].model if res.replies else self.llm.model
        for item in reading.items:
            task_type = item["task_type"] if item["task_type"] in self._known_types else OTHER_TYPE
            if task_type != item["task_type"]:
                ctx.count("unlisted_task_type")
            grounding = grounding_score(item["output"], chunk_grams, self._filters.grounding_n)
            source_id = chunk.doc_ids[written_from(item, doc_grams, self._filters.grounding_n)] if doc_grams else chunk.doc_ids[0]
            record = {
                "id": item_id(item["instruction"], item["input"], item["output"]), "instruction": item["instruction"], "input": item["input"], "output": item["output"],
                "family": FAMILY, "subcategory": f"selfinstruct/{task_type}", "template_id": None, "phrasing_id": None,
                "source_id": source_id, "split": hashed_split(source_id, seed, s["validation_share"]),
                "origin": "selfinstruct",
                "meta": json.dumps({"doc_ids": chunk.doc_ids, "pages": chunk.pages, "chunk_id": chunk.id, "chunk_part": chunk.part,
                                    "model": model, "prompt_id": self.prompt.prompt_id, "grounding": grounding,
                                    "task_type": item["task_type"], "request_outcome": res.outcome},
                                   ensure_ascii=False, sort_keys=True),
            }
            verdict = self._filters.check(item, grounding)
            if verdict is not None:
                ctx.reject(verdict.reason, verdict.detail, record, source=record["subcategory"], chunk_id=chunk.id)
                continue
            problem = ctx.check(record)
            if problem:  # before the duplicate check, so an invalid item never makes a valid one a duplicate
                ctx.reject("invalid_record", problem, record, chunk_id=chunk.id)
                continue
            self._pending.append(PendingItem(item, record, task_type, grounding, chunk.id, chunk.text[:400]))

    def write_items(self, ctx: StageRun) -> None:
        """Drop exact and near duplicates (the earliest item is kept), write the rest in reply order."""
        pending, self._pending = self._pending, []
        f = self.settings["filters"]
        repeats = find_repeats([p.item for p in pending], f["near_duplicate"], f["ngram"], ctx.map)
        for p, repeat in zip(pending, repeats):
            if repeat is not None:
                ctx.reject(f"dropped_duplicate_{repeat.kind}", repeat.detail(pending[repeat.row].record["id"]), p.record,
                           source=p.record["subcategory"], chunk_id=p.chunk_id)
            elif ctx.keep(p.record):
                self._grounding.append((p.task_type, p.grounding))
                self.sample(p.record, p.chunk_id, p.chunk_text, p.grounding)

    def sample(self, record: Mapping[str, Any], chunk_id: str, chunk_text: str, grounding: float) -> None:
        """Reservoir sample of kept items with their source chunk, for the report."""
        k = self.settings["samples"]
        self._kept_seen += 1
        row = {"id": record["id"], "task": record["subcategory"], "grounding": grounding, "instruction": record["instruction"],
               "input": record["input"][:200], "output": record["output"][:300], "chunk_id": chunk_id,
               "source_chunk": chunk_text}
        if len(self._samples) < k:
            self._samples.append(row)
        else:
            j = self._rng.randrange(self._kept_seen)
            if j < k:
                self._samples[j] = row

    # -- report -------------------------------------------------------------------------------------------
    def report_tables(self, ctx: StageRun) -> dict[str, pl.DataFrame]:
        tables: dict[str, pl.DataFrame] = {}
        c = ctx.counters
        est = self.report.get("estimate")
        if est is not None:
            tables["estimate"] = pl.DataFrame({"measure": list(est), "value": [str(v) for v in est.values()]})
        if not c.get("chunks"):
            return tables
        outcomes = ["request_valid", "request_repaired", "request_reasked", "request_failed"]
        total = sum(c.get(k, 0) for k in outcomes) or 1
        tables["requests"] = pl.DataFrame({"outcome": [k.removeprefix("request_") for k in outcomes],
                                           "requests": [c.get(k, 0) for k in outcomes],
                                           "share": [round(c.get(k, 0) / total, 4) for k in outcomes]})
        failed = sorted(k for k in c if k.startswith("failed_") or k.startswith("reasked_") or k.startswith("repaired_"))
        tables["repairs_and_failures"] = pl.DataFrame({"what": failed, "count": [c[k] for k in failed]},
                                                      schema={"what": pl.String, "count": pl.Int64})
        per = sorted(self._items_per_request.items())
        tables["items_per_request"] = pl.DataFrame({"items": [k for k, _ in per], "requests": [v for _, v in per]},
                                                   schema={"items": pl.Int64, "requests": pl.Int64})
        drops = sorted(k for k in c if k.startswith("dropped_"))
        returned = c.get("items_returned", 0) or 1
        tables["filters"] = pl.DataFrame({"filter": drops + ["kept"], "items": [c[k] for k in drops] + [c.get("kept", 0)],
                                          "share_of_returned": [round(c[k] / returned, 4) for k in drops] + [round(c.get("kept", 0) / returned, 4)]},
                                         schema={"filter": pl.String, "items": pl.Int64, "share_of_returned": pl.Float64})
        stats, latencies = getattr(self, "client_stats", (Counter(), []))
        u = self._used
        paid_cost = self.llm.cost(u["paid_prompt_tokens"], u["paid_completion_tokens"])
        all_cost = self.llm.cost(u["paid_prompt_tokens"] + u["cached_prompt_tokens"], u["paid_completion_tokens"] + u["cached_completion_tokens"])
        rows = [("chunks", c.get("chunks", 0)), ("http_requests_sent", stats.get("requests", 0)),
                ("replies_paid_this_run", u["paid_replies"]), ("replies_from_cache", u["cached_replies"]),
                ("prompt_tokens_paid", u["paid_prompt_tokens"]), ("completion_tokens_paid", u["paid_completion_tokens"]),
                ("prompt_tokens_all_replies", u["paid_prompt_tokens"] + u["cached_prompt_tokens"]),
                ("completion_tokens_all_replies", u["paid_completion_tokens"] + u["cached_completion_tokens"]),
                ("cost_usd_this_run", "no price" if paid_cost is None else round(paid_cost, 6)),
                ("cost_usd_all_replies", "no price" if all_cost is None else round(all_cost, 6))]
        rows += [(k, v) for k, v in sorted(stats.items()) if k.startswith(("retried_", "error_", "response_format"))]
        tables["tokens_and_cost"] = pl.DataFrame({"measure": [r[0] for r in rows], "value": [str(r[1]) for r in rows]})
        if latencies:
            lat = pl.Series(latencies)
            tables["latency_seconds"] = pl.DataFrame([{"n": lat.len(), "mean": round(float(lat.mean()), 3),
                                                       **{f"p{q}": round(float(lat.quantile(q / 100, "nearest")), 3) for q in (10, 50, 90, 99)},
                                                       "max": round(float(lat.max()), 3)}])
        if self._grounding:
            g = pl.DataFrame(self._grounding, schema={"task": pl.String, "grounding": pl.Float64}, orient="row")
            tables["grounding"] = (g.group_by("task").agg(pl.len().alias("items"), pl.col("grounding").mean().round(3).alias("mean"),
                                                         pl.col("grounding").quantile(0.1, "nearest").alias("p10"),
                                                         pl.col("grounding").median().alias("p50")).sort("task"))
        if self._samples:
            tables["item_samples"] = pl.DataFrame(self._samples)
        return tables


STAGE = SelfInstructStage
