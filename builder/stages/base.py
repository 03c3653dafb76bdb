"""The stage contract.

A stage reads the outputs of the stages it ``needs`` (never their code) and writes, through its
``StageRun``, kept records to ``data/`` and dropped ones, each with a reason, to ``rejected/``. The
pipeline owns the folder, the atomic swap, the manifest and the report; a stage owns only its
decisions, its counters and its own report tables, which it hands to ``StageRun.report_table`` (or
``tables_after_close`` for tables read from its closed shards), never through attributes of its own.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping, Sequence, TypeVar

import orjson
import polars as pl

from ..config import BuildConfig, first_error, schema_validator
from ..manifest import Manifest, code_fingerprint, hash_obj
from ..shards import DOCUMENT_SCHEMA, REJECTED_SCHEMA, ShardWriter
from ..executors import executor_for
from ..workers import TaskFailed

T = TypeVar("T")
R = TypeVar("R")


class Stage:
    """One step of the build. Subclasses set the class attributes and implement ``run``."""

    name: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ()  # stages that must be built first; their data is this stage's input
    reads: ClassVar[tuple[str, ...]] = ()  # stages whose outputs or reports it also reads (the card); absent is allowed
    summary: ClassVar[str] = ""
    record_schema: ClassVar[str] = "document"  # schemas/<name>.schema.json checked at the boundary
    data_columns: ClassVar[Mapping[str, pl.DataType]] = DOCUMENT_SCHEMA
    rejected_columns: ClassVar[Mapping[str, pl.DataType]] = REJECTED_SCHEMA
    text_column: ClassVar[str] = "text"  # what the report measures
    source_column: ClassVar[str] = "source"
    routing_reasons: ClassVar[tuple[str, ...]] = ()  # reject reasons (or prefixes ending in '_') that record routing, not a loss

    def __init__(self, build: BuildConfig):
        self.build = build
        self.settings: dict[str, Any] = build.stage(self.name)

    # -- freshness -------------------------------------------------------------------------------
    def config_fingerprint(self) -> dict[str, Any]:
        """Everything in the settings that shapes the output. Override to add prompt/template hashes."""
        b = self.build.settings["build"]
        return {"stage": self.settings, "seed": b.get("seed"), "shard_rows": b.get("shard_rows")}

    def config_hash(self) -> str:
        return hash_obj(self.config_fingerprint())

    def code_hash(self) -> str:
        """The stage's own code and every builder module it imports: an edit there makes the stage stale."""
        return code_fingerprint(type(self).__module__)

    def stale_reason(self, manifest: Manifest) -> str | None:
        """A reason to rerun that only the stage can see (e.g. an endpoint that is usable now); None if none."""
        return None

    def input_fingerprints(self, upstream: Mapping[str, Manifest | None]) -> dict[str, str]:
        """Default: the output fingerprints of the stages this one needs or reads."""
        return {name: (m.output if m else "missing") for name, m in upstream.items() if name in self.needs or name in self.reads}

    # -- work --------------------------------------------------------------------------------------
    def run(self, ctx: "StageRun") -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def report_tables(self, ctx: "StageRun") -> dict[str, pl.DataFrame]:
        """Extra report tables beyond the common ones (name -> table): what the run put in ``ctx.tables``."""
        return ctx.collect_tables()


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def record_json(record: Mapping[str, Any]) -> str:
    """A rejected record as compact JSON text (UTF-8 as is, anything else as ``str()``), by orjson: a tenth of
    ``json.dumps``'s time, and a stage that rejects many records writes them on its event loop. Integers past
    64 bits, which orjson refuses, go through json."""
    try:
        return orjson.dumps(record, default=str, option=_JSON_OPTIONS).decode()
    except TypeError:
        return json.dumps(record, ensure_ascii=False, default=str)


class StageRun:
    """What a running stage gets: writers, counters, workers, inputs, a cache dir and a console."""

    def __init__(self, stage: Stage, work_dir: Path, inputs: Mapping[str, Path], console=None, progress=None, options: Mapping[str, Any] | None = None):
        self.stage = stage
        self.build = stage.build
        self.dir = work_dir
        self.inputs = dict(inputs)
        self.console = console
        self.progress = progress
        self.options = dict(options or {})
        self.counters: Counter[str] = Counter()
        self.notes: list[str] = []
        self.problems: list[str] = []
        self.rerun = False
        self.empty_ok = False  # set by a stage that was asked to produce nothing (switched off)
        self.tables: dict[str, pl.DataFrame] = {}  # the stage's own report tables (name -> table)
        self._table_makers: list[Callable[[], Mapping[str, pl.DataFrame]]] = []
        rows = self.build.settings["build"]["shard_rows"]
        self.data = ShardWriter(work_dir / "data", stage.data_columns, rows)
        self.rejected = ShardWriter(work_dir / "rejected", stage.rejected_columns, rows)
        self._validator = schema_validator(stage.record_schema) if stage.record_schema else None
        self.started = time.time()

    @property
    def settings(self) -> dict[str, Any]:
        return self.stage.settings

    @property
    def cache_dir(self) -> Path:
        d = self.build.cache_dir / self.stage.name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def input(self, stage: str, part: str = "data") -> Path:
        return self.inputs[stage] / part

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] += n

    def problem(self, text: str, rerun: bool = False) -> None:
        """The build did less than asked here (a missing source, failed model requests …): noted, recorded
        in the manifest, and the run exits non-zero unless partial builds are allowed. ``rerun``: the next
        run does this stage again (the failed work is retried) instead of calling it up to date."""
        self.problems.append(text)
        self.rerun = self.rerun or rerun
        self.log(f"partial: {text}")

    def note(self, text: str) -> None:
        """A sentence for the report and manifest (e.g. why nothing was generated)."""
        self.notes.append(text)
        self.log(text)

    def report_table(self, name: str, table: pl.DataFrame) -> None:
        """Add one of the stage's own tables to its report (``report/<name>.parquet``)."""
        self.tables[name] = table

    def tables_after_close(self, make: Callable[[], Mapping[str, pl.DataFrame]]) -> None:
        """Report tables computed from the stage's closed shards (``data/``, ``rejected/``), made once the run ends."""
        self._table_makers.append(make)

    def collect_tables(self) -> dict[str, pl.DataFrame]:
        """Every table the run reported, the deferred ones made now (call after ``close``)."""
        for make in self._table_makers:
            self.tables.update(make())
        self._table_makers.clear()
        return dict(self.tables)

    def log(self, text: str) -> None:
        if self.console is not None:
            from rich.markup import escape

            self.console.print(f"  [dim]{self.stage.name}:[/] {escape(text)}", highlight=False)  # "[llm]" is text, not markup

    def check(self, record: Mapping[str, Any]) -> str | None:
        """Validate a record against the stage's schema; the first problem as one line, or None."""
        if self._validator is None:
            return None
        return first_error(self._validator, dict(record))

    def keep(self, record: Mapping[str, Any]) -> bool:
        """Write a record to data/ after the schema check; a failing record goes to rejected/."""
        problem = self.check(record)
        if problem:
            self.reject("invalid_record", problem, record)
            return False
        self.data.write(record)
        self.count("kept")
        return True

    def reject(self, reason: str, detail: str, record: Mapping[str, Any] | None = None, **extra: Any) -> None:
        """Write a dropped record with its reason; the reason is also a counter."""
        record = dict(record or {})
        row = {
            "reason": reason,
            "detail": detail,
            "source": record.get("source") or extra.pop("source", None),
            "path": record.get("path") or extra.pop("path", None),
            "id": record.get("id") or extra.pop("id", None),
            "record": record_json(record) if record else None,
        }
        row.update(extra)
        self.rejected.write(row)
        self.count(reason)

    def map(self, func: Callable[[T], R], items: Iterable[T], batch_size: int | None = None,
            on_error: Callable[[TaskFailed], Any] | None = None) -> Iterator[Any]:
        """Apply ``func`` over all cores, in order, a bounded batch at a time (memory stays flat).

        An item whose ``func`` raises, runs past ``[build] task_timeout`` or kills its worker comes back as
        ``on_error(TaskFailed)`` (without ``on_error`` it raises ``TaskError``); see ``builder.workers``."""
        executor = executor_for(self.build)  # this machine's pool or a Ray cluster ([build] executor)
        # the batch follows [build] workers whatever runs it, so Ray reads the input as the local pool does
        batch_size = batch_size or self.build.settings["build"]["batch_size"] * max(self.build.workers, 1)
        timeout = float(self.build.settings["build"].get("task_timeout", 0) or 0)
        return executor.map(func, items, batch_size, timeout, on_error)

    def track(self, items: Sequence[T] | Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
        """Iterate with a progress bar when a console is attached."""
        if self.progress is None or getattr(self.progress, "disable", False):  # no display (a pipe, a file): nothing to tidy
            yield from items
            return
        if total is None and hasattr(items, "__len__"):
            total = len(items)  # type: ignore[arg-type]
        task = self.progress.add_task(f"{self.stage.name}: {description}", total=total)
        try:
            for item in items:
                yield item
                self.progress.advance(task)
        finally:
            try:
                self.progress.remove_task(task)
            except KeyError:  # closed late (an interrupted run's generator, collected after the display stopped)
                pass

    def close(self) -> dict[str, int]:
        try:
            self.data.close()
        finally:
            self.rejected.close()
        return {"data": self.data.count, "rejected": self.rejected.count}

    def abandon(self) -> None:
        """The stage failed or was interrupted: let the shards being written finish before the folder goes."""
        self.data.abandon()
        self.rejected.abandon()
