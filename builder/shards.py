"""Parquet shards in and out.

A stage writes bounded shards (``part-00000.parquet`` …) so that no stage holds a whole corpus in
memory; every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import errno
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import polars as pl

from .errors import BuilderError

# Column types of the records the stages exchange. A stage writing another kind passes its own.
DOCUMENT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String,
    "content_hash": pl.String,  # xxh3-64 of the cleaned text; id is unique per source+path+record
    "source": pl.String,
    "path": pl.String,
    "title": pl.String,
    "text": pl.String,
    "published": pl.String,
    "author": pl.String,
    "format": pl.String,
    "meta": pl.String,
}

REJECTED_SCHEMA: dict[str, pl.DataType] = {
    "reason": pl.String,  # the counter name, e.g. dropped_cjk_ratio
    "detail": pl.String,  # one human line: what exactly was wrong
    "source": pl.String,
    "path": pl.String,
    "id": pl.String,
    "record": pl.String,  # the dropped record as JSON, so nothing is lost
}


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (a power loss cannot undo it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; the rename is still atomic
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _disk_full(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) == errno.ENOSPC or "No space left on device" in str(exc) or "os error 28" in str(exc)


def _write_durably(path: Path, write: Callable[[Path], None], sync: bool = True) -> None:
    """Write through a temporary name, fsync it, rename it into place, fsync the folder.

    ``sync=False`` skips the fsyncs, for files inside a stage's temporary folder: the pipeline fsyncs that
    whole folder once before renaming it into place. On any failure the temporary file is removed; a full
    disk is a one-line ``BuilderError``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write(tmp)
        if sync:
            _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if _disk_full(exc):
            raise BuilderError(f"{path}: the disk is full (no space left on device); free some space and run again") from None
        raise
    if sync:
        fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    _write_durably(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_parquet(df: pl.DataFrame, path: Path, sync: bool = False) -> None:
    """A Parquet file written whole or not at all (shards and report tables; see ``_write_durably`` on ``sync``)."""
    _write_durably(path, lambda tmp: df.write_parquet(tmp, compression="zstd"), sync)


_WRITERS: list[ThreadPoolExecutor] = []
_WRITERS_LOCK = threading.Lock()
IN_FLIGHT = 2  # shards a writer may have being compressed while its caller goes on (each holds its rows)


def _writer_pool() -> ThreadPoolExecutor:
    """Two threads shared by every ShardWriter of the process: zstd compression and the file write release the
    GIL, so a stage's next shard is prepared (read, filtered, encoded) while the last ones are written."""
    with _WRITERS_LOCK:
        if not _WRITERS:
            _WRITERS.append(ThreadPoolExecutor(2, thread_name_prefix="shard-write"))
        return _WRITERS[0]


class ShardWriter:
    """Buffer rows and flush them as fixed-size Parquet shards with a fixed schema.

    Rows come one at a time (:meth:`write`, dicts) or as DataFrames (:meth:`write_frame`, no per-row
    Python work); either way they land in order in shards of ``rows_per_shard`` rows. Full shards are
    written by background threads, at most ``IN_FLIGHT`` at a time per writer; :meth:`close` waits for them
    and raises the first failure, :meth:`abandon` waits without raising (a failed stage, before its
    folder is removed)."""

    def __init__(self, folder: Path, schema: Mapping[str, pl.DataType], rows_per_shard: int = 5000, prefix: str = "part"):
        self.folder = Path(folder)
        self.schema = dict(schema)
        self.rows_per_shard = rows_per_shard
        self.prefix = prefix
        self.rows: list[dict[str, Any]] = []
        self.frames: list[pl.DataFrame] = []  # rows written as frames, before those in ``rows``
        self.frame_rows = 0
        self.count = 0
        self.files: list[Path] = []
        self._pending: deque[Future] = deque()

    def write(self, row: Mapping[str, Any]) -> None:
        self.rows.append({k: row.get(k) for k in self.schema})
        self.count += 1
        if self.frame_rows + len(self.rows) >= self.rows_per_shard:
            self.flush()

    def write_many(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.write(row)

    def write_frame(self, df: pl.DataFrame) -> None:
        """Write the rows of a DataFrame (the schema's columns, cast to its types; missing ones null)."""
        if not df.height:
            return
        self._rows_to_frame()
        self.frames.append(df.select([(pl.col(c) if c in df.columns else pl.lit(None)).cast(t).alias(c)
                                      for c, t in self.schema.items()]))
        self.frame_rows += df.height
        self.count += df.height
        while self.frame_rows >= self.rows_per_shard:
            whole = pl.concat(self.frames, how="vertical")
            self._write_shard(whole[: self.rows_per_shard])
            rest = whole[self.rows_per_shard :]
            self.frames, self.frame_rows = ([rest] if rest.height else []), rest.height

    def _rows_to_frame(self) -> None:
        if self.rows:
            self.frames.append(pl.DataFrame(self.rows, schema=self.schema))
            self.frame_rows += len(self.rows)
            self.rows = []

    def _write_shard(self, df: pl.DataFrame) -> None:
        path = self.folder / f"{self.prefix}-{len(self.files):05d}.parquet"
        self.files.append(path)
        self._pending.append(_writer_pool().submit(write_parquet, df, path))
        while len(self._pending) > IN_FLIGHT:
            self._pending.popleft().result()

    def _drain(self, raise_first: bool) -> None:
        first: BaseException | None = None
        while self._pending:
            try:
                self._pending.popleft().result()
            except BaseException as exc:  # noqa: BLE001 - every write is waited for; the first failure is raised
                first = first or exc
        if first is not None and raise_first:
            raise first

    def abandon(self) -> None:
        """Wait for the shards being written and ignore how they ended: the stage failed and its folder goes."""
        self._drain(raise_first=False)

    def flush(self) -> None:
        if not self.rows and not self.frames:
            return
        if self.frames:
            self._rows_to_frame()
            df = pl.concat(self.frames, how="vertical") if len(self.frames) > 1 else self.frames[0]
        else:
            df = pl.DataFrame(self.rows, schema=self.schema)
        self._write_shard(df)
        self.rows, self.frames, self.frame_rows = [], [], 0

    def close(self) -> list[Path]:
        try:
            self.flush()
        finally:
            self._drain(raise_first=True)
        if not self.files:  # an empty output is still a valid, typed output
            write_parquet(pl.DataFrame(schema=self.schema), self.folder / f"{self.prefix}-00000.parquet")
            self.files.append(self.folder / f"{self.prefix}-00000.parquet")
        return self.files

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.abandon()


def shard_files(folder: Path) -> list[Path]:
    return sorted(Path(folder).glob("*.parquet"))


def iter_shards(folder: Path, columns: list[str] | None = None) -> Iterator[pl.DataFrame]:
    """Yield each shard of a folder as a DataFrame, in order."""
    for f in shard_files(folder):
        yield pl.read_parquet(f, columns=columns)


def iter_rows(folder: Path, columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
    for df in iter_shards(folder, columns):
        yield from df.iter_rows(named=True)


INSTRUCTION_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String,
    "instruction": pl.String,
    "input": pl.String,
    "output": pl.String,
    "family": pl.String,       # 观点创作 | 文章转写 | 媒体理解 | 其他QA
    "subcategory": pl.String,
    "template_id": pl.String,
    "phrasing_id": pl.Int64,
    "source_id": pl.String,    # corpus document id; splits group by it
    "split": pl.String,        # train | validation
    "origin": pl.String,       # templates | selfinstruct
    "meta": pl.String,         # JSON provenance
}

# the four task families of the seed's media SFT data, with the ASCII names used for Hub configs
FAMILIES: dict[str, str] = {"观点创作": "opinion", "文章转写": "rewriting", "媒体理解": "understanding", "其他QA": "other_qa"}
