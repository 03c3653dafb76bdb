"""The spine: stage registry and order, freshness, skip/force, atomic hand-over of outputs.

A stage runs in ``<output>/.tmp/<stage>/``. When it finishes, its report is built there, the folder
is renamed to ``<output>/<stage>/`` and ``manifest.json`` is written last. A stage folder without a
manifest is incomplete and reruns; killing the process at any moment therefore leaves either the
old complete output or nothing, never a half-written one.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .config import BuildConfig
from .errors import BuilderError, DryRunFinished
from .manifest import Manifest, hash_files_content
from .report import build_report
from .shards import shard_files
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


def statuses(build: BuildConfig, upto: str | None = None, stages: dict[str, Stage] | None = None) -> list[StageStatus]:
    """Freshness of every stage, in order. A stage after a stale one is stale too."""
    result: list[StageStatus] = []
    manifests: dict[str, Manifest | None] = {}
    stale_upstream: str | None = None
    for name in stage_names():
        stage = _stage(build, name, stages)
        m = Manifest.read(stage_dir(build, name))
        manifests[name] = m
        if m is None:
            state, reason = "missing", "never built" if not stage_dir(build, name).exists() else "incomplete (no manifest)"
        else:
            reason = m.why_stale(stage.config_hash(), stage.input_fingerprints(manifests))
            if reason is None and stale_upstream and stale_upstream in stage.needs_all(build):
                reason = f"upstream '{stale_upstream}' will rerun"
            state = "stale" if reason else "done"
            reason = reason or f"up to date (built {m.finished}, config and inputs unchanged)"
        if state != "done" and stale_upstream is None:
            stale_upstream = name
        result.append(StageStatus(name, state, reason, m))
        if upto and name == upto:
            break
    return result


def _needs_all(cls, build: BuildConfig) -> set[str]:
    seen: set[str] = set()
    todo = list(cls.needs)
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(stage_class(n).needs)
    return seen


Stage.needs_all = lambda self, build: _needs_all(type(self), build)  # type: ignore[attr-defined]


def _stage(build: BuildConfig, name: str, stages: dict[str, Stage] | None) -> Stage:
    """A stage object, reused across one run when ``stages`` is given (its input listing is then made once)."""
    if stages is None:
        return stage_class(name)(build)
    if name not in stages:
        stages[name] = stage_class(name)(build)
    return stages[name]


def execute(build: BuildConfig, name: str, console=None, progress=None, options: dict | None = None,
            stages: dict[str, Stage] | None = None) -> Manifest:
    """Run one stage into a temporary folder, then swap it into place and write the manifest."""
    stage = _stage(build, name, stages)
    final = stage_dir(build, name)
    upstream: dict[str, Manifest | None] = {}
    for need in stage.needs:
        m = Manifest.read(stage_dir(build, need))
        if m is None:
            raise BuilderError(f"stage '{name}' needs '{need}', which has not been built (run 'builder run {need}')")
        upstream[need] = m
    work = build.output / ".tmp" / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    t0 = time.time()
    run = StageRun(stage, work, {n: stage_dir(build, n) for n in stage.needs}, console=console, progress=progress, options=options)
    try:
        stage.run(run)
    except DryRunFinished:  # an estimate only: the previous output and manifest stay as they were
        run.close()
        shutil.rmtree(work, ignore_errors=True)
        raise
    rows = run.close()
    seconds = time.time() - t0
    extra = stage.report_tables(run)
    build_report(work, name, run.counters, rows, stage.text_column, stage.source_column, extra, run.notes,
                 seed=build.settings["build"]["seed"], seconds=seconds)
    manifest = Manifest(stage=name, config_hash=stage.config_hash(), inputs=stage.input_fingerprints(upstream),
                        output=output_fingerprint(work), rows=rows, counters=dict(run.counters),
                        seconds=round(seconds, 3), notes=run.notes)
    # swap: old output out of the way, new one in, manifest last
    trash = build.output / ".tmp" / f"{name}.old"
    if trash.exists():
        shutil.rmtree(trash)
    if final.exists():
        final.rename(trash)
    work.rename(final)
    manifest.write(final)
    shutil.rmtree(trash, ignore_errors=True)
    return manifest


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
        keep = _needs_all(stage_class(target), build) | {target}
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
        progress=None, options: dict | None = None) -> Iterator[tuple[str, str, Manifest | None]]:
    """Yield (stage, what happened, manifest) as the build goes."""
    stages: dict[str, Stage] = {}
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
            console.print(f"[bold cyan]{name}[/]: running ({why})")
        try:
            manifest = execute(build, name, console=console, progress=progress, options=options, stages=stages)
        except DryRunFinished as done:
            yield name, f"dry run: {done}; nothing after it runs", None
            return
        yield name, why, manifest
