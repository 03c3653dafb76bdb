"""The spine: stage registry and order, freshness, skip/force, atomic hand-over of outputs.

A run holds the output folder's lock (``builder.lock``) from start to end. A stage runs in a folder of
its own under ``<output>/.tmp/``. When it finishes, its report is built there, every file is fsynced,
the folder is renamed to ``<output>/<stage>/`` and ``manifest.json`` is written last (signals wait
until the swap is done). The manifest lists every shard with its size and row count, read back from
the files on disk. A stage folder without a manifest is incomplete and reruns; killing the process at
any moment therefore leaves either the old complete output or nothing, never a half-written one.

A stage is up to date when its manifest matches its config, its code (``manifest.code_fingerprint``),
its inputs and the shards on disk, and the last run was not partial in a way that a rerun can mend.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import signal
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .config import BuildConfig
from .errors import BuilderError, DryRunFinished
from .lock import TMP, build_lock
from .manifest import Manifest, hash_files_content
from .report import build_report
from .shards import fsync_dir, shard_files
from .stages import ORDER
from .stages.base import Stage, StageRun


def stage_names() -> list[str]:
    """Registered stages, in build order."""
    return [name for name, module in ORDER.items() if importlib.util.find_spec(module) is not None]


def stage_class(name: str) -> type[Stage]:
    if name not in ORDER:
        raise BuilderError(f"unknown stage '{name}' (stages: {', '.join(ORDER)}, or 'all')")
    module = importlib.import_module(ORDER[name])
    return module.STAGE


@dataclass
class StageStatus:
    name: str
    state: str  # done | stale | missing
    reason: str
    manifest: Manifest | None


def stage_dir(build: BuildConfig, name: str) -> Path:
    return build.output / name


def output_fingerprint(folder: Path) -> str:
    return hash_files_content(shard_files(folder / "data") + shard_files(folder / "rejected"), root=folder)


def statuses(build: BuildConfig, upto: str | None = None, stages: dict[str, Stage] | None = None,
             verify: bool = False) -> list[StageStatus]:
    """Freshness of every stage, in order. A stage after a stale one is stale too.

    ``verify`` re-hashes every shard against the manifest's fingerprint (otherwise only their presence
    and sizes are checked)."""
    result: list[StageStatus] = []
    manifests: dict[str, Manifest | None] = {}
    stale_upstream: str | None = None
    for name in stage_names():
        stage = _stage(build, name, stages)
        folder = stage_dir(build, name)
        m = Manifest.read(folder)
        manifests[name] = m
        if m is None:
            state, reason = "missing", "never built" if not folder.exists() else "incomplete (no manifest)"
        else:
            reason = (m.damage(folder, verify=verify)
                      or m.why_stale(stage.config_hash(), stage.input_fingerprints(manifests), stage.code_hash())
                      or stage.stale_reason(m))
            if reason is None and stale_upstream and stale_upstream in upstream_of(name):
                reason = f"upstream '{stale_upstream}' will rerun"
            state = "stale" if reason else "done"
            reason = reason or f"up to date (built {m.finished}, config, code and inputs unchanged)"
        if state != "done" and stale_upstream is None:
            stale_upstream = name
        result.append(StageStatus(name, state, reason, m))
        if upto and name == upto:
            break
    return result


def upstream_of(name: str) -> set[str]:
    """Every stage ``name`` depends on, directly or not, through ``needs`` and ``reads``."""
    seen: set[str] = set()
    todo = list(stage_class(name).needs) + list(stage_class(name).reads)
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(stage_class(n).needs)
            todo.extend(stage_class(n).reads)
    return seen


def _stage(build: BuildConfig, name: str, stages: dict[str, Stage] | None) -> Stage:
    """A stage object, reused across one run when ``stages`` is given (its input listing is then made once)."""
    if stages is None:
        return stage_class(name)(build)
    if name not in stages:
        stages[name] = stage_class(name)(build)
    return stages[name]


def execute(build: BuildConfig, name: str, console=None, progress=None, options: dict | None = None,
            stages: dict[str, Stage] | None = None) -> Manifest:
    """Run one stage into a temporary folder of its own, then swap it into place and write the manifest.

    The caller holds the build lock. Whatever stops the stage (an error, Ctrl-C, SIGTERM, a full disk),
    its temporary folder is removed and the previous complete output stays as it was."""
    stage = _stage(build, name, stages)
    final = stage_dir(build, name)
    upstream: dict[str, Manifest | None] = {}
    for need in stage.needs:
        m = Manifest.read(stage_dir(build, need))
        if m is None:
            raise BuilderError(f"stage '{name}' needs '{need}', which has not been built (run 'builder run {need}')")
        upstream[need] = m
    for read in stage.reads:
        upstream[read] = Manifest.read(stage_dir(build, read))
    tmp_root = build.output / TMP
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=tmp_root))
    try:
        return _execute_in(build, stage, name, work, final, upstream, console, progress, options)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # gone after a swap; the half-built output after a failure


def _execute_in(build, stage, name, work, final, upstream, console, progress, options) -> Manifest:
    t0 = time.time()
    run = StageRun(stage, work, {n: stage_dir(build, n) for n in stage.needs}, console=console, progress=progress, options=options)
    try:
        stage.run(run)
    except DryRunFinished:  # an estimate only: the previous output and manifest stay as they were
        run.close()
        raise
    except BaseException:
        run.abandon()  # shards still being written in the background finish before the folder is removed
        raise
    try:
        rows = run.close()
    except BaseException:
        run.abandon()
        raise
    files = verified_shards(work, name, rows)
    _check_output(stage, run, rows, upstream)
    seconds = time.time() - t0
    extra = stage.report_tables(run)
    build_report(work, name, run.counters, rows, stage.text_column, stage.source_column, extra, run.notes,
                 seed=build.settings["build"]["seed"], seconds=seconds, problems=run.problems, routing=stage.routing_reasons)
    manifest = Manifest(stage=name, config_hash=stage.config_hash(), inputs=stage.input_fingerprints(upstream),
                        output=output_fingerprint(work), rows=rows, counters=dict(run.counters),
                        seconds=round(seconds, 3), notes=run.notes, code_hash=stage.code_hash(), files=files,
                        problems=list(run.problems), rerun=run.rerun)
    fsync_tree(work)
    with signals_deferred():  # old output out of the way, new one in, manifest last: not interrupted halfway
        trash = work.with_name(work.name + ".old")
        if final.exists():
            final.rename(trash)
        work.rename(final)
        fsync_dir(final.parent)
        manifest.write(final)
    shutil.rmtree(trash, ignore_errors=True)
    return manifest


def _check_output(stage: Stage, run: StageRun, rows: dict[str, int], upstream: dict[str, Manifest]) -> None:
    """A stage that kept nothing of a non-empty input did less than asked (unless it says nothing was asked)."""
    if rows["data"] or run.problems or run.empty_ok:
        return
    needed = [upstream[n] for n in stage.needs if upstream.get(n) is not None]
    given = sum(m.rows.get("data", 0) for m in needed) if stage.needs else run.counters.get("rows_in", 0)
    if given:
        what = "input rows" if stage.needs else "input documents"
        run.problem(f"kept 0 of {given:,} {what} ({rows['rejected']:,} rejected: see 'builder report {stage.name}')")


def verified_shards(folder: Path, name: str, rows: dict[str, int]) -> dict[str, list[int]]:
    """Every shard of ``data/`` and ``rejected/`` with its size and row count, read back from the files on
    disk; they must hold exactly the rows the stage wrote."""
    import pyarrow.parquet as pq

    table: dict[str, list[int]] = {}
    for part in ("data", "rejected"):
        for f in shard_files(folder / part):
            table[f"{part}/{f.name}"] = [f.stat().st_size, pq.ParquetFile(f).metadata.num_rows]
    on_disk = {part: sum(r for rel, (_, r) in table.items() if rel.startswith(part + "/")) for part in ("data", "rejected")}
    if on_disk != rows:
        raise BuilderError(f"stage '{name}' wrote {rows} rows but its shards hold {on_disk}: the output is not trusted; run again")
    return table


def fsync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` to disk (before it is renamed into place)."""
    for dirpath, _dirs, names in os.walk(folder):
        for n in names:
            fd = os.open(os.path.join(dirpath, n), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


@contextmanager
def signals_deferred():
    """SIGINT and SIGTERM wait (and are delivered afterwards) while a few renames must all happen."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def plan(build: BuildConfig, target: str, force: bool = False, from_stage: str | None = None,
         stages: dict[str, Stage] | None = None) -> list[tuple[str, str]]:
    """The stages to run for a target, each with the reason. Upstream stages that are stale run first."""
    names = stage_names()
    if target != "all" and target not in names:
        raise BuilderError(f"unknown stage '{target}' (stages: {', '.join(names)}, or 'all')")
    if from_stage and from_stage not in names:
        raise BuilderError(f"unknown stage '{from_stage}' for --from (stages: {', '.join(names)})")
    last = names[-1] if target == "all" else target
    wanted = names[: names.index(last) + 1]
    if target != "all":
        keep = upstream_of(target) | {target}
        wanted = [n for n in wanted if n in keep]
    forced: set[str] = set()
    if force:
        forced |= set(wanted) if target == "all" else {target}
    if from_stage:
        forced |= {n for n in wanted if names.index(n) >= names.index(from_stage)}
    steps = []
    for st in statuses(build, upto=last, stages=stages):
        if st.name not in wanted:
            continue
        if st.name in forced:
            steps.append((st.name, "forced"))
        elif st.state != "done":
            steps.append((st.name, st.reason))
        else:
            steps.append((st.name, "skip"))
    return steps


def run(build: BuildConfig, target: str, force: bool = False, from_stage: str | None = None, console=None,
        progress=None, options: dict | None = None, command: str | None = None) -> Iterator[tuple[str, str, Manifest | None]]:
    """Yield (stage, what happened, manifest) as the build goes, holding the output folder's lock."""
    stages: dict[str, Stage] = {}
    with build_lock(build.output, command):
        for name, why in plan(build, target, force, from_stage, stages):
            # a stage's freshness depends on what upstream wrote, known only once upstream has finished:
            # ask again now (an upstream rerun with an unchanged output leaves this stage up to date)
            if why != "forced":
                st = statuses(build, upto=name, stages=stages)[-1]
                if st.state == "done":
                    yield name, st.reason, st.manifest
                    continue
                why = st.reason
            if console is not None:
                from rich.markup import escape

                console.print(f"[bold cyan]{name}[/]: running ({escape(why)})")  # a reason may quote "[llm]" etc.
            try:
                manifest = execute(build, name, console=console, progress=progress, options=options, stages=stages)
            except DryRunFinished as done:
                yield name, f"dry run: {done}; nothing after it runs", None
                return
            yield name, why, manifest


def partial_problems(build: BuildConfig, results: list[tuple[str, Manifest | None]]) -> list[tuple[str, str, bool]]:
    """(stage, problem, allowed) for every problem the manifests of a run record."""
    allow = build.settings["build"].get("allow_partial", False)
    out = []
    for name, m in results:
        if m is None:
            continue
        allowed = allow is True or (isinstance(allow, list) and name in allow)
        out.extend((name, p, allowed) for p in m.problems)
    return out
