"""selfinstruct: document-grounded instruction items written by a model through any OpenAI-compatible endpoint.

Deduplicated documents are packed into chunks by a token budget (``chunks.py``); each chunk is sent with
our Chinese prompt (``prompts/selfinstruct/``, ``prompt.py``: task types under the four families) through
the project's one LLM client (``builder.llm``: limits, retries, a SQLite cache that makes a rerun free).

On the event loop, each reply is only read (``replies.py``: every shape unwrapped, one ``json.loads`` for
a well-formed reply); a reply with no usable item is re-asked once, quoting the error (the request, re-ask and
failure classification are ``builder.llm.flow.ask``, shared with templates' model-made inputs). Every request ends
as valid, unwrapped, repaired, truncated, reasked or failed; a failed reply is kept raw in ``rejected/``,
and so is every item that is not kept, with its reason (the first reply of a re-asked request included).
The rest of the work on a reply (``recorder.py``: grounding, filters, records) runs in worker processes
while the next replies arrive, and is applied here in request order. Items that pass wait for the
duplicate check (``filters.NearDuplicates``), which settles them a block at a time while later replies are
still on their way, and are written as instruction records (origin ``selfinstruct``, their family) in reply
order.

With no endpoint configured the stage makes its dry-run estimate, says in its report and manifest that
nothing was generated and why, and writes an empty typed output, so the later stages go on.
``builder run selfinstruct --dry-run`` prints the estimate and sends nothing.

Parts: ``reading.py`` (the dedup documents as chunks, the quick record check), ``estimate.py`` (the dry
run), ``state.py`` (what one run gathers: ``GenerationRun``, made in ``run`` and passed to each step),
``report.py`` (the report tables from that state); this module holds the stage and its generation loop.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterator, Mapping

import polars as pl

from ... import aio
from ...errors import BuilderError, DryRunFinished
from ...items import SplitRule
from ...llm import Completion, LLMClient, LLMSettings, ask, display_url, endpoint_problem, in_order, response_format_for
from ...resources import load_schema
from ...shards import INSTRUCTION_SCHEMA, REJECTED_SCHEMA
from ...workers import new_pool
from ..base import Stage, StageRun
from .chunks import Chunk
from .estimate import NEAR_MAX_TOKENS, REPLY_SCHEMA, describe_estimate, estimate_run, length_warning, print_estimate  # noqa: F401
from .filters import ItemFilters
from .prompt import FAMILIES, SelfInstructPrompt
from .reading import JSON_TYPES, SIMPLE_KEYWORDS, document_chunks, fast_check, read_documents  # noqa: F401
from .recorder import ChunkResult, Recorded, ReplyRecorder
from .replies import read_reply
from .report import OUTCOMES, report_tables  # noqa: F401
from .state import GenerationRun

LLM_RESULT_KEYS = ("model", "temperature", "top_p", "max_tokens", "seed", "response_format")
MODEL_FAILURES = {"invalid_json", "schema", "refusal"}  # the model answered, badly: a rerun would not mend it for free


_RECORDER: ReplyRecorder | None = None


RECORDER_NICE = 5  # the workers yield a shared core to the event loop that sends the requests: a reply recorded
# later costs nothing (at most a window of them waits), a request sent later costs throughput


def _set_recorder(recorder: ReplyRecorder) -> None:  # pragma: no cover - runs in the worker
    global _RECORDER
    _RECORDER = recorder
    try:
        os.nice(RECORDER_NICE)
    except (AttributeError, OSError):  # not on this platform, or not allowed: same work at the same priority
        pass


def record_one(res: ChunkResult) -> Recorded:
    assert _RECORDER is not None
    return _RECORDER(res)


RECORDERS = 2  # at most this many worker processes (fewer when [build] workers says so); a reply's recording
# depends on nothing but the reply, so any of them may take it


def recorder_pool(recorder: ReplyRecorder, workers: int = RECORDERS) -> ProcessPoolExecutor:
    """Worker processes holding ``recorder`` (builder.workers' pool: forked now, signals left to the main
    process, gone with it). Their results are applied in request order whichever finishes first, so the
    output does not depend on them. The first requests go out while the workers set up (no reply can
    reach them before the endpoint has answered)."""
    return new_pool(max(1, min(RECORDERS, workers)), setup=_set_recorder, setup_args=(recorder,), wait=False)


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
        return read_documents(ctx.input("dedup"))

    def chunks(self, ctx: StageRun) -> Iterator[Chunk]:
        split = self.split_rule()  # documents share a chunk only with documents of the same side
        return document_chunks(self.documents(ctx), self.settings, lambda d: split.pack_group(d["id"]))

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
        run = GenerationRun.start(s["filters"], self.build.settings["build"]["seed"], s["samples"])
        aio.run(self.generate(ctx, run))
        self.write_items(ctx, run)
        ctx.tables.update(report_tables(run, self.llm, ctx.counters))
        failed = {k.removeprefix("failed_"): n for k, n in ctx.counters.items() if k.startswith("failed_") and k.removeprefix("failed_") not in MODEL_FAILURES}
        if failed:
            kinds = ", ".join(f"{k}: {n}" for k, n in sorted(failed.items()))
            ctx.problem(f"{sum(failed.values())} of {ctx.counters.get('chunks', 0)} requests failed ({kinds}; see rejected/); "
                        "the next run retries them", rerun=True)

    def stale_reason(self, manifest) -> str | None:
        if manifest.counters.get("skipped_no_endpoint") and self.settings["enabled"] and endpoint_problem(self.llm) is None:
            return "an endpoint is configured now (the last run had none)"
        return None

    # -- dry run (estimate.py) -----------------------------------------------------------------------------
    def estimate(self, ctx: StageRun) -> dict[str, Any]:
        return estimate_run(self.settings, self.llm, self.prompt, ctx.track(self.chunks(ctx), "estimate"),
                            self.build.cache_dir / "llm.sqlite")

    def length_warning(self, est: Mapping[str, Any]) -> str | None:
        return length_warning(est, self.settings["items_per_request"])

    describe_estimate = staticmethod(describe_estimate)

    def print_estimate(self, ctx: StageRun, est: Mapping[str, Any]) -> None:
        print_estimate(ctx.console, est)

    # -- generation --------------------------------------------------------------------------------------
    async def generate(self, ctx: StageRun, run: GenerationRun) -> None:
        """Send every chunk; read each reply on the event loop (cheap), record it in a worker process.

        The recorder (``recorder.py``: grounding, filters, records) runs in a process of its own, so it never
        holds up a request and uses the other core; its results are applied here in request order, and at
        most ``window`` of them wait (memory stays bounded). Items that pass wait for the duplicate check,
        at most a block of them (``NearDuplicates.BLOCK``); after that only their comparison forms stay."""
        s, llm = self.settings, self.llm
        prompt = self.prompt
        schema = load_schema(REPLY_SCHEMA)
        fmt = response_format_for(llm.response_format, schema, "selfinstruct_items")
        recorder = ReplyRecorder(s, prompt.examples, self.split_rule(), prompt.prompt_id, llm.model,
                                 fast_check(load_schema(self.record_schema)))
        client = LLMClient.from_build(self.build)
        params = {"response_format": fmt} if fmt else {}
        family_of = prompt.family_of
        is_refusal = ItemFilters(s, prompt.examples).is_refusal

        def read(reply: Completion):
            return read_reply(reply, family_of, is_refusal)

        def reask(messages, reply: Completion, reading) -> list[dict[str, str]]:  # once, quoting the error
            return prompt.reask(messages, reply.text or (reply.refusal or ""), reading.error or "", reply.finish_reason == "length")

        async def work(chunk: Chunk) -> ChunkResult:
            asked = await ask(client, prompt.messages(chunk), read, params, reask if s["reask"] else None)
            return ChunkResult(chunk, asked.outcome, asked.reason, asked.detail, asked.reading, asked.first, asked.replies)

        window = 4 * llm.concurrency
        # forked before any connection is open (a child would hold copies of the sockets), not waited for
        pool = recorder_pool(recorder, self.build.workers)
        waiting: deque[Future] = deque()
        # the duplicate check of a block runs in a thread while replies keep coming (on the event loop it held
        # every reply that arrived meanwhile, ~0.1 s a block); one block at a time, written here in reply order
        settling: asyncio.Future | None = None

        async def settle(wait: bool = False) -> None:
            nonlocal settling
            if settling is not None and (wait or settling.done()):
                decided, settling = await settling, None
                self.write_decided(ctx, run, decided)
            if settling is None and run.near.ready:
                settling = asyncio.get_running_loop().run_in_executor(None, run.near.settle)

        try:
            # the chunks are made by a thread (parquet reads, token counts), a window ahead of the requests
            async for res in in_order((work(c) for c in ctx.track(aio.ahead(self.chunks(ctx), window), "requests")), window):
                waiting.append(pool.submit(record_one, res))
                while waiting and waiting[0].done():
                    self.apply(ctx, run, waiting.popleft().result())
                if len(waiting) > window:  # the recorder is behind: let it catch up before reading more
                    self.apply(ctx, run, await asyncio.wrap_future(waiting.popleft()))
                await settle()
            while waiting:
                self.apply(ctx, run, await asyncio.wrap_future(waiting.popleft()))
            await settle(wait=True)
        except BrokenProcessPool:
            raise BuilderError("selfinstruct: the recorder process died (out of memory?); the replies are cached, run again") from None
        finally:
            if settling is not None:  # an error or Ctrl-C: the thread finishes its block; nothing of it is written
                await asyncio.wait([settling])
            pool.shutdown(wait=True, cancel_futures=True)
            await client.aclose()
            run.client_stats, run.latencies = Counter(client.stats), list(client.latencies)
        for k, v in client.stats.items():
            ctx.count(f"llm_{k}", v)

    # -- recording ----------------------------------------------------------------------------------------
    def apply(self, ctx: StageRun, run: GenerationRun, done: Recorded) -> None:
        """Write what the recorder made of one reply (in request order)."""
        for name, n in done.counts.items():
            ctx.count(name, n)
        run.used.update(done.used)
        if done.returned is not None:
            run.items_per_request[done.returned] += 1
        for reason, detail, record, extra in done.rejects:
            ctx.reject(reason, detail, record, **extra)
        for record, extra in done.invalid:
            ctx.reject("invalid_record", ctx.check(record) or "the record does not match the instruction schema", record, **extra)
        for pending, forms in done.pending:
            run.near.add(forms)
            run.waiting.append(pending)
        # a block's worth is decided by generate() in a thread, while the next replies are on their way

    def write_settled(self, ctx: StageRun, run: GenerationRun) -> None:
        """Decide the waiting items (``NearDuplicates.settle``) and write them."""
        self.write_decided(ctx, run, run.near.settle())

    def write_decided(self, ctx: StageRun, run: GenerationRun, decided) -> None:
        """Drop the repeats of earlier kept items (the earliest is kept), write the rest in reply order."""
        near = run.near
        for row, repeat in decided:
            p = run.waiting.popleft()
            if repeat is not None:
                kept_id = near.kept_ids.get(repeat.row, "")
                ctx.reject(f"dropped_duplicate_{repeat.kind}", repeat.detail(kept_id), p.record,
                           source=p.record["subcategory"], chunk_id=p.chunk_id)
                continue
            near.kept_ids[row] = p.record["id"]
            # checked against the record schema in record() (fast_check, else jsonschema): written as is
            ctx.data.write(p.record)
            ctx.count("kept")
            run.grounding.append((p.task_type, p.grounding))
            run.families[p.family] += 1
            run.sample(p.record, p.chunk_id, p.chunk_text, p.grounding)

    def write_items(self, ctx: StageRun, run: GenerationRun) -> None:
        """Once every reply is in: the last items waiting for the duplicate check, then the per-family counts."""
        self.write_settled(ctx, run)
        for family in FAMILIES:
            ctx.count(f"kept_family_{family}", run.families.get(family, 0))


STAGE = SelfInstructStage
