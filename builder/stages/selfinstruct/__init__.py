"""selfinstruct: document-grounded instruction items written by a model through any OpenAI-compatible endpoint.

Deduplicated documents are packed into chunks by a token budget (``chunks.py``); each chunk is sent with
our Chinese prompt (``prompts/selfinstruct/``, ``prompt.py``: task types under the four families) through
the project's one LLM client (``builder.llm``: limits, retries, a SQLite cache that makes a rerun free).

On the event loop, each reply is only read (``replies.py``: every shape unwrapped, one ``json.loads`` for
a well-formed reply); a reply with no usable item is re-asked once, quoting the error. Every request ends
as valid, unwrapped, repaired, truncated, reasked or failed; a failed reply is kept raw in ``rejected/``,
and so is every item that is not kept, with its reason (the first reply of a re-asked request included).
The rest of the work on a reply (``recorder.py``: grounding, filters, records) runs in one worker process
while the next replies arrive, and is applied here in request order. Items that pass wait in a spill file
for the duplicate check (``filters.NearDuplicates``, once all replies are in) and are written as
instruction records (origin ``selfinstruct``, their family) in reply order.

With no endpoint configured the stage makes its dry-run estimate, says in its report and manifest that
nothing was generated and why, and writes an empty typed output, so the later stages go on.
``builder run selfinstruct --dry-run`` prints the estimate and sends nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import pickle
import random
import tempfile
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Iterator, Mapping

import polars as pl
import pyarrow.parquet as pq

from ...errors import BuilderError, DryRunFinished
from ...items import SplitRule
from ...llm import (LLMClient, LLMError, LLMSettings, RequestCache, cache_key, display_url, endpoint_problem,
                    estimate_prompt_tokens, in_order, response_format_for)
from ...resources import load_schema
from ...shards import INSTRUCTION_SCHEMA, REJECTED_SCHEMA, shard_files
from ...workers import new_pool
from ..base import Stage, StageRun
from .chunks import Chunk, chunk_documents
from .filters import ItemFilters, NearDuplicates
from .prompt import FAMILIES, SelfInstructPrompt
from .recorder import ChunkResult, PendingItem, Recorded, ReplyRecorder
from .replies import read_reply

REPLY_SCHEMA = "selfinstruct_reply"
LLM_RESULT_KEYS = ("model", "temperature", "top_p", "max_tokens", "seed", "response_format")
MODEL_FAILURES = {"invalid_json", "schema", "refusal"}  # the model answered, badly: a rerun would not mend it for free
OUTCOMES = ("valid", "unwrapped", "repaired", "truncated", "reasked", "failed")
NEAR_MAX_TOKENS = 0.8  # the dry run warns when the expected reply is this close to max_tokens


class Spill:
    """Items waiting for the duplicate check, pickled to an unlinked temporary file: memory stays flat however
    many requests a run makes; only each item's short comparison key stays in memory."""

    def __init__(self, folder: Path):
        self._file = tempfile.TemporaryFile(dir=folder)
        self.count = 0

    def add(self, p: PendingItem) -> None:
        pickle.dump(p, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def __iter__(self) -> Iterator[PendingItem]:
        self._file.flush()
        self._file.seek(0)
        for _ in range(self.count):
            yield pickle.load(self._file)

    def close(self) -> None:
        self._file.close()


SIMPLE_KEYWORDS = {"type", "minLength", "pattern", "enum", "minimum", "description", "title", "$schema", "$id", "default", "examples"}
JSON_TYPES = {"string": str, "integer": int, "null": type(None), "number": (int, float), "boolean": bool, "array": list, "object": dict}


def fast_check(schema: Mapping[str, Any]):
    """A quick yes/no check of a flat record against ``schema`` (type, minLength, pattern, enum, minimum,
    required, additionalProperties), or None when the schema uses other keywords.

    jsonschema spends about 1.5 ms on one instruction record; this takes a few µs, so a run validates every
    record without holding up its requests. A record it refuses is checked again by jsonschema, which
    words the problem, so a message never comes from here."""
    import re as _re

    if not set(schema) <= SIMPLE_KEYWORDS | {"properties", "required", "additionalProperties"} or schema.get("type") != "object":
        return None
    props = schema.get("properties", {})
    checks = []
    for name, p in props.items():
        if not set(p) <= SIMPLE_KEYWORDS:
            return None
        types = p.get("type")
        pytypes = tuple(JSON_TYPES[t] for t in ([types] if isinstance(types, str) else types or []))
        pattern = _re.compile(p["pattern"]) if "pattern" in p else None
        checks.append((name, pytypes, p.get("minLength"), pattern, frozenset(p["enum"]) if "enum" in p else None, p.get("minimum")))
    required = tuple(schema.get("required", ()))
    closed = schema.get("additionalProperties") is False
    allowed = frozenset(props)

    def ok(record: Mapping[str, Any]) -> bool:
        if any(k not in record for k in required) or (closed and not allowed.issuperset(record)):
            return False
        for name, pytypes, min_len, pattern, enum, minimum in checks:
            if name not in record:
                continue
            v = record[name]
            if pytypes and (not isinstance(v, pytypes) or (isinstance(v, bool) and bool not in pytypes)):
                return False
            if enum is not None and v not in enum:
                return False
            if isinstance(v, str):
                if min_len is not None and len(v) < min_len:
                    return False
                if pattern is not None and not pattern.search(v):
                    return False
            elif minimum is not None and isinstance(v, (int, float)) and v < minimum:
                return False
        return True

    return ok


_RECORDER: ReplyRecorder | None = None


def _set_recorder(recorder: ReplyRecorder) -> None:  # pragma: no cover - runs in the worker
    global _RECORDER
    _RECORDER = recorder


def record_one(res: ChunkResult) -> Recorded:
    assert _RECORDER is not None
    return _RECORDER(res)


RECORDERS = 2  # at most this many worker processes (fewer when [build] workers says so); a reply's recording
# depends on nothing but the reply, so any of them may take it


def recorder_pool(recorder: ReplyRecorder, workers: int = RECORDERS) -> ProcessPoolExecutor:
    """Worker processes holding ``recorder`` (builder.workers' pool: forked now, signals left to the main
    process, gone with it). Their results are applied in request order whichever finishes first, so the
    output does not depend on them."""
    return new_pool(max(1, min(RECORDERS, workers)), setup=_set_recorder, setup_args=(recorder,))


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
        fp["split"] = self.split_rule().fingerprint()
        return fp

    def split_rule(self) -> SplitRule:
        return SplitRule.from_build(self.build)

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
        split = self.split_rule()  # documents share a chunk only with documents of the same side
        chunks = chunk_documents(self.documents(ctx), s["chunk_tokens"], s["overlap_tokens"], lambda d: split.pack_group(d["id"]))
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
            self.report["estimate"] = est  # what a dry run estimated, for a caller of the stage
            ctx.report_table("estimate", pl.DataFrame({"measure": list(est), "value": [str(v) for v in est.values()]}))
            self.print_estimate(ctx, est)
            summary = self.describe_estimate(est)
            warning = self.length_warning(est)
            if warning:
                ctx.note(warning)
            if problem:
                ctx.count("skipped_no_endpoint", est["requests"])
                ctx.note(f"Dry-run estimate: {summary}.")
                ctx.problem(f"nothing was generated: {problem}")
                return
            ctx.log(f"dry-run estimate: {summary}")  # printed as text: "[llm.prices]" is not console markup
            raise DryRunFinished(f"estimate only, nothing sent: {self.describe_estimate(est, plain=False)}")
        asyncio.run(self.generate(ctx))
        self.write_items(ctx)
        ctx.tables.update(self.generation_tables(ctx))
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
        """Requests, tokens and cost of a run, before sending anything.

        The expected reply length comes from the replies already in the cache when there are any (this
        run's own requests first, else every usable reply of the model: the prompt settings' guess was 18%
        high on real replies), else from the prompt settings. Requests whose reply is cached cost nothing."""
        s, llm = self.settings, self.llm
        requests = input_tokens = uncached_input = chunk_tokens = chunk_chars = 0
        keys: list[str] = []
        fmt = response_format_for(llm.response_format, load_schema(REPLY_SCHEMA), "selfinstruct_items")
        params = {"response_format": fmt} if fmt else {}
        cache_file = self.build.cache_dir / "llm.sqlite"
        cache = RequestCache(cache_file) if cache_file.exists() else None
        try:
            for chunk in ctx.track(self.chunks(ctx), "estimate"):
                requests += 1
                messages = self.prompt.messages(chunk)
                tokens = estimate_prompt_tokens(messages)
                input_tokens += tokens
                chunk_tokens += chunk.tokens
                chunk_chars += len(chunk.text)
                if cache is not None:
                    keys.append(cache_key(llm, messages, **params))
                    if not cache.reply_lengths([keys[-1]]):
                        uncached_input += tokens
                else:
                    uncached_input += tokens
            own = cache.reply_lengths(keys) if cache is not None and keys else []
            seen = own or (cache.reply_lengths(model=llm.model) if cache is not None else [])
        finally:
            if cache is not None:
                cache.close()
        per_char = chunk_tokens / chunk_chars if chunk_chars else 1.0
        # an item: instruction (~40 chars), some input (~80), an answer in the middle of the asked range, JSON overhead
        item_chars = 40 + 80 + (s["answer_min_chars"] + s["answer_max_chars"]) / 2
        expected = int(s["items_per_request"] * (item_chars * per_char + 25))
        basis = "prompt settings"
        cut_share = None
        if seen:
            expected = int(round(sum(t for t, _ in seen) / len(seen)))
            cut_share = round(sum(1 for _, f in seen if f == "length") / len(seen), 4)
            basis = f"{len(seen)} cached replies" + (" of these requests" if own else f" of {llm.model}")
        cached = len(own)
        to_send = requests - cached
        output_tokens = to_send * min(llm.max_tokens, expected)
        upper = to_send * llm.max_tokens
        return {"requests": requests, "requests_cached": cached, "reply_tokens_expected": expected, "reply_tokens_basis": basis,
                "replies_cut_share": cut_share, "max_tokens": llm.max_tokens, "input_tokens": input_tokens,
                "input_tokens_to_pay": uncached_input, "output_tokens": output_tokens, "output_tokens_max": upper,
                "model": llm.model, "cost_usd": llm.cost(uncached_input, output_tokens), "cost_usd_max": llm.cost(uncached_input, upper)}

    def length_warning(self, est: Mapping[str, Any]) -> str | None:
        """A sentence when the expected reply comes within 20% of max_tokens (replies would be cut)."""
        expected, limit = est["reply_tokens_expected"], est["max_tokens"]
        if expected < NEAR_MAX_TOKENS * limit and not (est.get("replies_cut_share") or 0):
            return None
        cut = est.get("replies_cut_share")
        seen = f"; {cut:.0%} of the cached replies were cut (finish_reason=length)" if cut else ""
        where = "more than" if expected > limit else f"within {1 - NEAR_MAX_TOKENS:.0%} of"
        return (f"a reply of {self.settings['items_per_request']} items is expected to need about {expected:,} tokens "
                f"({est['reply_tokens_basis']}), {where} [llm] max_tokens = {limit:,}: replies would be cut{seen}; "
                "raise max_tokens or lower items_per_request / answer_max_chars")

    @staticmethod
    def describe_estimate(est: Mapping[str, Any], plain: bool = True) -> str:
        """One line. ``plain=False``: without square brackets, for text that rich may read as markup."""
        where = "in [llm.prices]" if plain else "under llm.prices"
        cost = (f"about ${est['cost_usd']:.2f} (at most ${est['cost_usd_max']:.2f}) at the configured {est['model']} prices"
                if est["cost_usd"] is not None else f"cost unknown (no price for {est['model']} {where})")
        cached = f" ({est['requests_cached']} answered from the cache)" if est.get("requests_cached") else ""
        return (f"{est['requests']} requests{cached}, {est['input_tokens']:,} input tokens, about {est['output_tokens']:,} output tokens "
                f"(at most {est['output_tokens_max']:,}), {cost}")

    def print_estimate(self, ctx: StageRun, est: Mapping[str, Any]) -> None:
        if ctx.console is None:
            return
        from rich.table import Table

        t = Table(title="selfinstruct dry-run estimate (re-asks not included)", title_justify="left")
        t.add_column("measure")
        t.add_column("value", justify="right")
        for k in ("requests", "requests_cached", "input_tokens", "input_tokens_to_pay", "output_tokens", "output_tokens_max",
                  "reply_tokens_expected", "max_tokens"):
            t.add_row(k, f"{est[k]:,}")
        t.add_row("reply_tokens_basis", str(est["reply_tokens_basis"]))
        if est.get("replies_cut_share") is not None:
            t.add_row("replies_cut_share", f"{est['replies_cut_share']:.0%}")
        t.add_row("model", str(est["model"]))
        for k in ("cost_usd", "cost_usd_max"):
            t.add_row(k, "no price configured" if est[k] is None else f"${est[k]:.4f}")
        ctx.console.print(t)

    # -- generation --------------------------------------------------------------------------------------
    async def generate(self, ctx: StageRun) -> None:
        """Send every chunk; read each reply on the event loop (cheap), record it in a worker process.

        The recorder (``recorder.py``: grounding, filters, records) runs in a process of its own, so it never
        holds up a request and uses the other core; its results are applied here in request order, and at
        most ``window`` of them wait (memory stays bounded). Items that pass wait for the duplicate check
        in a spill file, with only their comparison forms in memory."""
        s, llm = self.settings, self.llm
        prompt = self.prompt
        schema = load_schema(REPLY_SCHEMA)
        fmt = response_format_for(llm.response_format, schema, "selfinstruct_items")
        self._filters = ItemFilters(s, prompt.examples)
        self._samples: list[dict[str, Any]] = []
        self._rng = random.Random(self.build.settings["build"]["seed"])
        self._kept_seen = 0
        self._grounding: list[tuple[str, float]] = []
        self._families: Counter[str] = Counter()
        self._items_per_request: Counter[int] = Counter()
        self._used = Counter()
        self._spill = Spill(ctx.dir.parent)
        self._near = NearDuplicates(s["filters"])
        recorder = ReplyRecorder(s, prompt.examples, self.split_rule(), prompt.prompt_id, llm.model,
                                 fast_check(load_schema(self.record_schema)))
        client = LLMClient.from_build(self.build)
        params = {"response_format": fmt} if fmt else {}
        family_of = prompt.family_of
        is_refusal = self._filters.is_refusal

        async def work(chunk: Chunk) -> ChunkResult:
            messages = prompt.messages(chunk)
            result = ChunkResult(chunk, "failed")
            try:
                first = await client.chat(messages, **params)
            except LLMError as exc:
                result.reason, result.detail = f"failed_{exc.kind}", str(exc)
                return result
            result.replies.append(first)
            reading = read_reply(first, family_of, is_refusal)
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
                retry = read_reply(second, family_of, is_refusal)
                if retry.status != "invalid":
                    result.outcome, result.reading = "reasked", retry
                    return result
                reading = retry
            result.reason = f"failed_{reading.problem}"
            result.detail = reading.error or "no valid item"
            for reply in result.replies:  # unusable: kept in the cache file, asked anew by a later run
                client.discard(reply, result.detail)
            return result

        window = 4 * llm.concurrency
        pool = recorder_pool(recorder, self.build.workers)
        waiting: deque[Future] = deque()
        try:
            async for res in in_order((work(c) for c in ctx.track(self.chunks(ctx), "requests")), window):
                waiting.append(pool.submit(record_one, res))
                while waiting and waiting[0].done():
                    self.apply(ctx, waiting.popleft().result())
                if len(waiting) > window:  # the recorder is behind: let it catch up before reading more
                    self.apply(ctx, await asyncio.wrap_future(waiting.popleft()))
            while waiting:
                self.apply(ctx, await asyncio.wrap_future(waiting.popleft()))
        except BrokenProcessPool:
            raise BuilderError("selfinstruct: the recorder process died (out of memory?); the replies are cached, run again") from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            await client.aclose()
            self.client_stats = (Counter(client.stats), list(client.latencies))
        for k, v in client.stats.items():
            ctx.count(f"llm_{k}", v)

    # -- recording ----------------------------------------------------------------------------------------
    def apply(self, ctx: StageRun, done: Recorded) -> None:
        """Write what the recorder made of one reply (in request order)."""
        for name, n in done.counts.items():
            ctx.count(name, n)
        self._used.update(done.used)
        if done.returned is not None:
            self._items_per_request[done.returned] += 1
        for reason, detail, record, extra in done.rejects:
            ctx.reject(reason, detail, record, **extra)
        for record, extra in done.invalid:
            ctx.reject("invalid_record", ctx.check(record) or "the record does not match the instruction schema", record, **extra)
        for pending, forms in done.pending:
            self._near.forms.append(forms)
            self._spill.add(pending)

    def write_items(self, ctx: StageRun) -> None:
        """Drop near duplicates (the earliest item is kept), write the rest in reply order."""
        spill = self._spill
        try:
            repeats = self._near.resolve()
            for row, p in enumerate(spill):
                repeat = repeats.get(row)
                if repeat is not None:
                    kept_id = self._near.kept_ids[repeat.row] if repeat.row in self._near.kept_ids else ""
                    ctx.reject(f"dropped_duplicate_{repeat.kind}", repeat.detail(kept_id), p.record,
                               source=p.record["subcategory"], chunk_id=p.chunk_id)
                    continue
                self._near.kept_ids[row] = p.record["id"]
                # checked against the record schema in record() (fast_check, else jsonschema): written as is
                ctx.data.write(p.record)
                ctx.count("kept")
                self._grounding.append((p.task_type, p.grounding))
                self._families[p.family] += 1
                self.sample(p.record, p.chunk_id, p.chunk_text, p.grounding)
        finally:
            spill.close()
        for family in FAMILIES:
            ctx.count(f"kept_family_{family}", self._families.get(family, 0))

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
    def generation_tables(self, ctx: StageRun) -> dict[str, pl.DataFrame]:
        """Request outcomes, repairs, filters, tokens and cost of this run, for the report."""
        tables: dict[str, pl.DataFrame] = {}
        c = ctx.counters
        if not c.get("chunks"):
            return tables
        outcomes = [f"request_{k}" for k in OUTCOMES]
        total = sum(c.get(k, 0) for k in outcomes) or 1
        tables["requests"] = pl.DataFrame({"outcome": [k.removeprefix("request_") for k in outcomes],
                                           "requests": [c.get(k, 0) for k in outcomes],
                                           "share": [round(c.get(k, 0) / total, 4) for k in outcomes]})
        failed = sorted(k for k in c if k.startswith(("failed_", "reasked_", "repaired_", "unwrapped_", "item_", "truncated_")))
        tables["repairs_and_failures"] = pl.DataFrame({"what": failed, "count": [c[k] for k in failed]},
                                                      schema={"what": pl.String, "count": pl.Int64})
        per = sorted(self._items_per_request.items())
        tables["items_per_request"] = pl.DataFrame({"items": [k for k, _ in per], "requests": [v for _, v in per]},
                                                   schema={"items": pl.Int64, "requests": pl.Int64})
        tables["families"] = pl.DataFrame({"family": list(FAMILIES), "kept": [c.get(f"kept_family_{f}", 0) for f in FAMILIES]},
                                          schema={"family": pl.String, "kept": pl.Int64})
        drops = sorted(k for k in c if k.startswith(("dropped_", "invalid_record")))
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
