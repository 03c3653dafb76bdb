"""corpus: local files (and crawled pages) -> clean Chinese documents.

Files are listed from the configured sources, read and extracted by format, cleaned by the rule
chain in ``clean.py`` and written as documents. Per-file work runs on all cores in bounded batches;
record files (JSONL/CSV/Parquet) stream in batches of records.
"""

from __future__ import annotations

import fnmatch
import glob
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from ...manifest import hash_files_stat, hash_obj
from ..base import Stage, StageRun
from .clean import Cleaner, to_document
from .extract import EXTENSIONS, READERS, RECORD_FORMATS, RawDoc, UnreadableFile, parse_date
from .records import ITERATORS, decode_field, pick

RECORD_BATCH = 32  # records per task; a batch of tasks in flight stays a few MB


def source_name(src: dict[str, Any]) -> str:
    return src.get("name") or src["path"]


def list_source(root: Path, src: dict[str, Any]) -> tuple[list[Path], str | None]:
    """Files of one source, sorted; or ([], reason) when the source does not exist."""
    raw = src["path"]
    base = Path(raw).expanduser()
    base = base if base.is_absolute() else root / base
    if any(ch in raw for ch in "*?["):
        files = [Path(p) for p in glob.glob(str(base), recursive=True)]
        files = [p for p in files if p.is_file()]
        if not files:
            return [], f"no files match {base}"
    elif base.is_file():
        files = [base]
    elif base.is_dir():
        files = []
        for pattern in src.get("include", ["**/*"]):
            files.extend(p for p in base.glob(pattern) if p.is_file())
    else:
        return [], f"folder not found: {base}"
    excludes = src.get("exclude", [])
    out = []
    for p in sorted(set(files)):
        rel = str(p.relative_to(base)) if base.is_dir() and p.is_relative_to(base) else p.name
        if any(part.startswith(".") for part in p.parts[-3:]):
            continue
        if any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(p.name, pat) for pat in excludes):
            continue
        out.append(p)
    return out, None


def file_format(path: Path, src: dict[str, Any]) -> str | None:
    if src.get("format", "auto") != "auto":
        return src["format"]
    return EXTENSIONS.get(path.suffix.lower())


def display_path(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


# -- worker side: runs in a pool process ------------------------------------------------------
_CLEANER: dict[str, Cleaner] = {}


def _cleaner(settings: dict[str, Any]) -> Cleaner:
    key = hash_obj(settings)
    if key not in _CLEANER:
        _CLEANER[key] = Cleaner(settings)
    return _CLEANER[key]


Outcome = tuple[str, dict[str, Any]]  # ("keep", document) | ("reject", row)


def _finish(raws: list[RawDoc], src: dict[str, Any], path: str, settings: dict[str, Any], counters: Counter) -> list[Outcome]:
    cleaner = _cleaner(settings)
    out: list[Outcome] = []
    for raw in raws:
        text, dropped = cleaner(raw, counters)
        if dropped:
            out.append(("reject", {"reason": dropped.reason, "detail": dropped.detail, "source": src["name"],
                                   "path": path + raw.path_suffix,
                                   "record": {"title": raw.title, "text": raw.text, "format": raw.format}}))
        else:
            out.append(("keep", to_document(raw, text, cleaner, src, path)))
    return out


def process_file(task: tuple[str, str, dict[str, Any], dict[str, Any], str]) -> tuple[list[Outcome], Counter]:
    """Read, extract and clean one single-document file."""
    fmt, fpath, src, settings, shown = task
    counters: Counter = Counter()
    try:
        data = Path(fpath).read_bytes()
        if not data.strip():
            raise UnreadableFile("empty_file", "empty file")
        raws = READERS[fmt](data, src.get("encoding", "auto"))
    except UnreadableFile as exc:
        return [("reject", {"reason": exc.reason, "detail": exc.detail, "source": src["name"], "path": shown})], counters
    except OSError as exc:
        return [("reject", {"reason": "unreadable_file", "detail": f"cannot read: {exc.strerror}", "source": src["name"], "path": shown})], counters
    return _finish(raws, src, shown, settings, counters), counters


def process_records(task: tuple[list[tuple[str, dict[str, Any]]], str, dict[str, Any], dict[str, Any]]) -> tuple[list[Outcome], Counter]:
    """Map and clean a batch of records from one record file."""
    items, shown, src, settings = task
    counters: Counter = Counter()
    fields = src.get("fields", {})
    raws: list[RawDoc] = []
    out: list[Outcome] = []
    for suffix, record in items:
        text = decode_field(pick(record, fields, "text"))
        if not text or not text.strip():
            want = fields.get("text", "text/content")
            out.append(("reject", {"reason": "missing_text_field", "detail": f"record {suffix[1:]}: no text in field '{want}'",
                                   "source": src["name"], "path": shown + suffix, "record": record}))
            continue
        meta = {}
        if pick(record, fields, "url"):
            meta["url"] = decode_field(pick(record, fields, "url"))
        if pick(record, fields, "id") is not None:
            meta["record_id"] = decode_field(pick(record, fields, "id"))
        raws.append(RawDoc(text=text, title=decode_field(pick(record, fields, "title")),
                           published=parse_date(decode_field(pick(record, fields, "published"))),
                           author=decode_field(pick(record, fields, "author")), format=src["_format"], path_suffix=suffix, meta=meta))
    out.extend(_finish(raws, src, shown, settings, counters))
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
        prints = {}
        for src in self.sources():
            files, missing = list_source(self.build.root, src)
            prints[f"source:{src['name']}"] = f"missing:{missing}" if missing else hash_files_stat(files, self.build.root)
        prints.update(self.crawl_fingerprints())
        return prints

    def crawl_fingerprints(self) -> dict[str, str]:
        if not self.settings.get("crawl"):
            return {}
        from .crawl import DB_NAME, crawl_fingerprint

        return {"crawl": crawl_fingerprint(self.build.cache_dir / self.name / DB_NAME)}

    def report_tables(self, ctx: StageRun):
        return dict(getattr(ctx, "crawl_tables", {}))

    def tasks(self, ctx: StageRun) -> Iterator[tuple[str, Any]]:
        settings = self.settings["clean"]
        any_files = False
        for src in self.sources():
            files, missing = list_source(self.build.root, src)
            if missing:
                ctx.log(f"[red]error:[/] source '{src['name']}': {missing}")
                ctx.reject("missing_source", missing, source=src["name"], path=src["path"])
                continue
            any_files = any_files or bool(files)
            for f in files:
                shown = display_path(f, self.build.root)
                fmt = file_format(f, src)
                if fmt is None:
                    ctx.reject("unsupported_format", f"unsupported file type '{f.suffix or f.name}'", source=src["name"], path=shown)
                    continue
                if fmt in RECORD_FORMATS:
                    yield from self._record_tasks(ctx, f, shown, fmt, src, settings)
                else:
                    yield "file", (fmt, str(f), src, settings, shown)
        if not any_files and not self.settings.get("crawl"):
            ctx.note("no input files were found in any source")

    def _record_tasks(self, ctx, f: Path, shown: str, fmt: str, src, settings):
        src = dict(src, _format=fmt)
        batch: list[tuple[str, dict]] = []
        try:
            extra = {"record_tag": src["record_tag"]} if fmt == "xmlrecords" else {}
            for suffix, item in ITERATORS[fmt](f, src.get("encoding", "auto"), **extra):
                if isinstance(item, UnreadableFile):
                    ctx.count("rows_in")
                    ctx.reject(item.reason, item.detail, source=src["name"], path=shown + suffix)
                    continue
                batch.append((suffix, item))
                if len(batch) >= RECORD_BATCH:
                    yield "records", (batch, shown, src, settings)
                    batch = []
        except UnreadableFile as exc:
            ctx.count("rows_in")
            ctx.reject(exc.reason, exc.detail, source=src["name"], path=shown)
        if batch:
            yield "records", (batch, shown, src, settings)

    def run(self, ctx: StageRun) -> None:
        for kind, outcomes, counters in self._process(ctx):
            ctx.counters.update(counters)
            for verdict, row in outcomes:
                ctx.count("rows_in")
                if verdict == "keep":
                    ctx.keep(row)
                else:
                    record = row.pop("record", None)
                    ctx.reject(row.pop("reason"), row.pop("detail"), record, **row)
        self.after_files(ctx)

    def after_files(self, ctx: StageRun) -> None:
        """Crawled pages join the same documents output, cleaned by the same rules."""
        crawl = self.settings.get("crawl")
        if crawl:
            from .crawl import Crawler

            Crawler(self.build, crawl, ctx).run()

    def _process(self, ctx: StageRun):
        yield from ctx.track(ctx.map(_work, self.tasks(ctx)), "files")


def _work(item):
    kind, payload = item
    outcomes, counters = process_file(payload) if kind == "file" else process_records(payload)
    return kind, outcomes, counters


STAGE = CorpusStage
