"""corpus: local files (and crawled pages) -> clean Chinese documents.

Files are listed from the configured sources, read and extracted by format, cleaned by the rule
chain in ``clean.py`` and written as documents. Per-file work runs on all cores in bounded batches;
record files (JSONL/CSV/Parquet) stream in batches of records.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import os
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

import xxhash

from ...manifest import hash_obj
from ...workers import TaskFailed, _describe
from ..base import Stage, StageRun
from .clean import Cleaner, Kept, Outcome, Rejected, configured_steps, split_long, to_document
from .extract import EXTENSIONS, READERS, RECORD_FORMATS, RawDoc, UnreadableFile
from .records import ITERATORS, record_to_raw

RECORD_BATCH = 32  # records per task; a batch of tasks in flight stays a few MB


def source_name(src: dict[str, Any]) -> str:
    return src.get("name") or src["path"]


class SourceMissing(Exception):
    """A configured source has no files: the message says where we looked."""


def _matches(rel: str, patterns: list[str]) -> bool:
    # fnmatch's * also crosses '/', so "**/*.txt" needs its "**/" optional to match top-level files
    return any(fnmatch.fnmatch(rel, p) or (p.startswith("**/") and fnmatch.fnmatch(rel, p[3:])) for p in patterns)


@dataclass(frozen=True)
class WalkProblem:
    """A place under a source that could not be listed or read: it becomes a counted reject, not a crash."""

    path: str
    reason: str  # unreadable_folder | symlink_loop | dangling_link | unreadable_file
    detail: str


def _walk(folder: str, seen: frozenset[tuple[int, int]] = frozenset()) -> Iterator[os.DirEntry | WalkProblem]:
    """Files under a folder in sorted order, one directory listing at a time (no full list in memory).

    ``seen`` holds the (device, inode) of the folders above: a symlink back to one of them is a loop."""
    try:
        st = os.stat(folder)
        here = (st.st_dev, st.st_ino)
        if here in seen:
            yield WalkProblem(folder, "symlink_loop", "a symbolic link leads back to a folder above it; not followed")
            return
        with os.scandir(folder) as it:
            entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError as exc:
        yield WalkProblem(folder, "unreadable_folder", f"cannot list the folder: {exc.strerror or exc}")
        return
    below = seen | {here}
    for e in entries:
        try:
            is_dir = e.is_dir(follow_symlinks=True)
            is_file = not is_dir and e.is_file(follow_symlinks=True)
        except OSError as exc:  # ELOOP for a link to itself, EACCES …
            yield WalkProblem(e.path, "symlink_loop" if exc.errno == errno.ELOOP else "unreadable_file", exc.strerror or str(exc))
            continue
        if is_dir:
            yield from _walk(e.path, below)
        elif is_file:
            yield e
        elif e.is_symlink():
            yield WalkProblem(e.path, "dangling_link", f"a symbolic link to {os.readlink(e.path)}, which does not exist")


def walk_source(root: Path, src: dict[str, Any]) -> Iterator[tuple[Path, os.stat_result] | WalkProblem]:
    """Yield (path, stat) for every file of a source, in a stable sorted order, as a stream.

    Places that cannot be listed come as :class:`WalkProblem` items. A corpus of millions of files is
    never listed in memory at once. Raises SourceMissing when the source names nothing, or its include
    patterns match no file."""
    raw = src["path"]
    base = Path(raw).expanduser()
    base = base if base.is_absolute() else root / base
    excludes = src.get("exclude", [])
    if any(ch in raw for ch in "*?["):
        files = sorted(p for p in glob.glob(str(base), recursive=True) if os.path.isfile(p))
        if not files:
            raise SourceMissing(f"no files match {base}")
        for f in files:
            if not _matches(os.path.basename(f), excludes):
                yield Path(f), os.stat(f)
    elif base.is_file():
        yield base, base.stat()
    elif base.is_dir():
        include = src.get("include", ["**/*"])
        prefix = len(str(base)) + 1
        matched = 0
        for e in _walk(str(base)):
            if isinstance(e, WalkProblem):
                yield e
                continue
            rel = e.path[prefix:].replace(os.sep, "/")
            if _matches(rel, include) and not _matches(rel, excludes):
                try:
                    st = e.stat()
                except OSError as exc:
                    yield WalkProblem(e.path, "unreadable_file", exc.strerror or str(exc))
                    continue
                matched += 1
                yield Path(e.path), st
        if not matched:
            raise SourceMissing(f"no file in {base} matches include {include}" + (f" minus exclude {excludes}" if excludes else ""))
    else:
        raise SourceMissing(f"folder not found: {base}")


def fingerprint_source(root: Path, src: dict[str, Any]) -> str:
    """Path, size and modification time of every file, hashed as the listing streams by."""
    h = xxhash.xxh3_128()
    try:
        for entry in walk_source(root, src):
            if isinstance(entry, WalkProblem):
                h.update(f"{entry.path}\0{entry.reason}\n".encode())
            else:
                path, st = entry
                h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    except SourceMissing as exc:
        return f"missing:{exc}"
    return h.hexdigest()


def file_format(path: Path, src: dict[str, Any]) -> str | None:
    if src.get("format", "auto") != "auto":
        return src["format"]
    return EXTENSIONS.get(path.suffix.lower())


def display_path(path: Path, root: Path) -> str:
    rel = os.path.relpath(path, root)
    return str(path) if rel.startswith("..") else rel


# -- worker side: runs in a pool process ------------------------------------------------------
_CLEANER: dict[str, Cleaner] = {}


def _cleaner(settings: dict[str, Any]) -> Cleaner:
    key = hash_obj(settings)
    if key not in _CLEANER:
        _CLEANER[key] = Cleaner(settings)
    return _CLEANER[key]


def _finish(raws: list[RawDoc], src: dict[str, Any], path: str, settings: dict[str, Any], counters: Counter) -> list[Outcome]:
    cleaner = _cleaner(settings)
    out: list[Outcome] = []
    for raw in split_long(raws, settings, counters):
        text, dropped = cleaner(raw, counters)
        if dropped:
            out.append(Rejected.from_row({"reason": dropped.reason, "detail": dropped.detail, "source": src["name"],
                                   "path": path + raw.path_suffix,
                                   "record": {"title": raw.title, "text": raw.text, "format": raw.format}}))
        else:
            out.append(Kept(to_document(raw, text, cleaner, src, path)))
    return out


def process_file(task: tuple[str, str, dict[str, Any], dict[str, Any], str]) -> tuple[list[Outcome], Counter]:
    """Read, extract and clean one single-document file."""
    fmt, fpath, src, settings, shown = task
    counters: Counter = Counter()
    try:
        data = Path(fpath).read_bytes()
        if not data.strip():
            raise UnreadableFile("empty_file", "empty file")
        if fmt == "pdf":
            raws = READERS[fmt](data, src.get("encoding", "auto"), tables=src.get("pdf_tables", "rows"))
        else:
            raws = READERS[fmt](data, src.get("encoding", "auto"))
    except UnreadableFile as exc:
        return [Rejected.from_row({"reason": exc.reason, "detail": exc.detail, "source": src["name"], "path": shown})], counters
    except OSError as exc:
        return [Rejected.from_row({"reason": "unreadable_file", "detail": f"cannot read: {exc.strerror}", "source": src["name"], "path": shown})], counters
    except Exception as exc:  # noqa: BLE001 - any reader bug (a pypdf ParseError, a trafilatura crash) rejects this file only
        return [Rejected.from_row({"reason": "internal_error", "detail": f"reading failed: {_describe(exc)}", "source": src["name"], "path": shown})], counters
    try:
        return _finish(raws, src, shown, settings, counters), counters
    except Exception as exc:  # noqa: BLE001
        return [Rejected.from_row({"reason": "internal_error", "detail": f"cleaning failed: {_describe(exc)}", "source": src["name"], "path": shown})], counters


def process_records(task: tuple[list[tuple[str, dict[str, Any]]], str, dict[str, Any], dict[str, Any]]) -> tuple[list[Outcome], Counter]:
    """Map and clean a batch of records from one record file."""
    items, shown, src, settings = task
    counters: Counter = Counter()
    fields = src.get("fields", {})
    raws: list[RawDoc] = []
    out: list[Outcome] = []
    for suffix, record in items:
        try:
            raw = record_to_raw(record, fields, src["_format"], suffix)
        except Exception as exc:  # noqa: BLE001 - one odd record rejects itself, not its batch
            out.append(Rejected.from_row({"reason": "internal_error", "detail": f"record {suffix[1:]}: {_describe(exc)}",
                                   "source": src["name"], "path": shown + suffix, "record": record}))
            continue
        if isinstance(raw, UnreadableFile):
            out.append(Rejected.from_row({"reason": raw.reason, "detail": raw.detail, "source": src["name"],
                                   "path": shown + suffix, "record": record}))
        else:
            raws.append(raw)
    for raw in raws:
        try:
            out.extend(_finish([raw], src, shown, settings, counters))
        except Exception as exc:  # noqa: BLE001
            out.append(Rejected.from_row({"reason": "internal_error", "detail": f"cleaning failed: {_describe(exc)}", "source": src["name"],
                                   "path": shown + raw.path_suffix, "record": {"title": raw.title, "text": raw.text}}))
    return out, counters


class CorpusStage(Stage):
    name = "corpus"
    summary = "read local files (and crawl sites), extract and clean Chinese text, mask PII"

    def sources(self) -> list[dict[str, Any]]:
        out = []
        for src in self.settings.get("sources", []):
            s = dict(src)
            s["name"] = source_name(src)
            out.append(s)
        return out

    def input_fingerprints(self, upstream):
        prints = dict(self.source_fingerprints)
        prints.update(self.crawl_fingerprints())  # the crawl database changes during a run: read it each time
        return prints

    @cached_property
    def source_fingerprints(self) -> dict[str, str]:
        """Listing fingerprints of the file sources, walked once per stage object (one per pipeline run)."""
        return {f"source:{src['name']}": fingerprint_source(self.build.root, src) for src in self.sources()}

    def crawl_fingerprints(self) -> dict[str, str]:
        if not self.settings.get("crawl"):
            return {}
        from .crawl import DB_NAME, crawl_fingerprint

        return {"crawl": crawl_fingerprint(self.build.cache_dir / self.name / DB_NAME)}

    def tasks(self, ctx: StageRun) -> Iterator[tuple[str, Any]]:
        settings = self.settings["clean"]
        configured_steps(settings)  # an unknown or unloadable step is a one-line config error before any work
        any_files = False
        for src in self.sources():
            try:
                for entry in walk_source(self.build.root, src):
                    if isinstance(entry, WalkProblem):
                        ctx.count("rows_in")  # an input that could not be read is an input too: in = kept + rejected
                        ctx.reject(entry.reason, entry.detail, source=src["name"], path=display_path(Path(entry.path), self.build.root))
                        continue
                    f = entry[0]
                    any_files = True
                    shown = display_path(f, self.build.root)
                    fmt = file_format(f, src)
                    if fmt is None:
                        ctx.count("rows_in")  # an input that could not be read is an input too: in = kept + rejected
                        ctx.reject("unsupported_format", f"unsupported file type '{f.suffix or f.name}'", source=src["name"], path=shown)
                    elif fmt in RECORD_FORMATS:
                        yield from self._record_tasks(ctx, f, shown, fmt, src, settings)
                    else:
                        yield "file", (fmt, str(f), src, settings, shown)
            except SourceMissing as exc:
                ctx.count("rows_in")  # an input that could not be read is an input too: in = kept + rejected
                ctx.reject("missing_source", str(exc), source=src["name"], path=src["path"])
                ctx.problem(f"source '{src['name']}': {exc}")
        if not self.sources() and not self.settings.get("crawl"):
            ctx.problem("no sources are configured: add a [[corpus.sources]] table (or [corpus.crawl]) to the build config")
        elif not any_files and not self.settings.get("crawl"):
            ctx.note("no input files were found in any source")

    def _record_tasks(self, ctx, f: Path, shown: str, fmt: str, src, settings):
        src = dict(src, _format=fmt)
        batch: list[tuple[str, dict]] = []
        try:
            extra = {"record_tag": src["record_tag"]} if fmt == "xmlrecords" else \
                {"delimiter": src.get("delimiter", "auto")} if fmt == "csv" else {}
            for suffix, item in ITERATORS[fmt](f, src.get("encoding", "auto"), **extra):
                if isinstance(item, UnreadableFile):
                    ctx.count("rows_in")
                    ctx.reject(item.reason, item.detail, {"raw": item.raw} if item.raw is not None else None,
                               source=src["name"], path=shown + suffix)
                    continue
                batch.append((suffix, item))
                if len(batch) >= RECORD_BATCH:
                    yield "records", (batch, shown, src, settings)
                    batch = []
        except UnreadableFile as exc:
            ctx.count("rows_in")
            ctx.reject(exc.reason, exc.detail, source=src["name"], path=shown)
        except Exception as exc:  # noqa: BLE001 - a reader bug on one file (a corrupt Parquet footer …) rejects the rest of that file
            ctx.count("rows_in")
            ctx.reject("internal_error", f"reading records failed after {len(batch)} pending: {_describe(exc)}", source=src["name"], path=shown)
        if batch:
            yield "records", (batch, shown, src, settings)

    def run(self, ctx: StageRun) -> None:
        min_docs = int(self.settings["clean"].get("repeated_across_pages", 0) or 0)
        if min_docs and self.settings["clean"].get("boilerplate", True):
            from .repeats import RepeatPass

            repeats = RepeatPass(ctx, min_docs)
            keep = repeats.hold
        else:
            repeats, keep = None, ctx.keep
        try:
            for kind, outcomes, counters in self._process(ctx):
                ctx.counters.update(counters)
                for outcome in outcomes:
                    ctx.count("rows_in")
                    if isinstance(outcome, Kept):
                        keep(outcome.document)
                    else:
                        outcome.write(ctx)
            if repeats is not None:
                repeats.release(int(self.settings["clean"].get("min_chars", 0) or 0))
        finally:
            if repeats is not None:
                repeats.discard()  # an interrupted run leaves no spill behind
        self.after_files(ctx)

    def after_files(self, ctx: StageRun) -> None:
        """Crawled pages join the same documents output, cleaned by the same rules."""
        crawl = self.settings.get("crawl")
        if crawl:
            from .crawl import Crawler

            Crawler(self.build, crawl, ctx).run()

    def _process(self, ctx: StageRun):
        yield from ctx.track(ctx.map(_work, self.tasks(ctx), on_error=_failed_task), "files")


def _work(item):
    kind, payload = item
    outcomes, counters = process_file(payload) if kind == "file" else process_records(payload)
    return kind, outcomes, counters


def _failed_task(failure: TaskFailed):
    """A file or record batch whose worker died or timed out: every document of it becomes a reject."""
    kind, payload = failure.item
    if kind == "file":
        fmt, fpath, src, settings, shown = payload
        return kind, [Rejected.from_row({"reason": failure.kind, "detail": failure.detail, "source": src["name"], "path": shown})], Counter()
    items, shown, src, settings = payload
    return kind, [Rejected.from_row({"reason": failure.kind, "detail": f"record {suffix[1:]} (in a batch of {len(items)}): {failure.detail}",
                              "source": src["name"], "path": shown + suffix, "record": record}) for suffix, record in items], Counter()


STAGE = CorpusStage
