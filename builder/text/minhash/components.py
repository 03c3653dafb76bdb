"""Connected components of a graph too large for one process: alternating large-star and small-star rounds
(Kiveris et al., "Connected Components in MapReduce and Beyond", SoCC 2014) over hash-partitioned edge files.

Every step is one task per partition, run by the engine's mapper (the process pool, or Ray tasks on any node).
A task reads its slice of every file the previous step wrote, groups its records by node and writes one file of
new records grouped by the partition of their node; it holds only its own partition's records, so the memory of
a worker is bounded by the edge count over the partition count, whatever the size of the graph. At the fixed
point every component is a star around its smallest node, which is the label :func:`.engine._components` gives:
the labels are the same, row for row (the driver checks that they are a valid labelling before using them).

Records are (node, neighbour) packed into one uint64, the node in the high 32 bits, as the candidate pairs are.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

U64 = np.uint64
LOW = U64(0xFFFFFFFF)
MIN_PARTITIONS = 16
RECORDS_PER_PARTITION = 1 << 22  # ~4M records a task: 32 MB packed, about 200 MB while a step sorts and groups them
SEED_CHUNK = 1 << 24  # edges the driver writes per seed file

Mapper = Callable[[Callable, Iterable], Iterator]


def partitions_for(edges: int) -> int:
    """Enough partitions that each holds about RECORDS_PER_PARTITION records (every edge is two records)."""
    return max(MIN_PARTITIONS, -(-2 * edges // RECORDS_PER_PARTITION))


def _write(path: Path, key: np.ndarray, other: np.ndarray, parts: int) -> list[int]:
    """Records (key, other) grouped by the partition of ``key``; returns the byte offset of each partition's slice."""
    rec = (key.astype(U64) << U64(32)) | other.astype(U64)
    part = (key % parts).astype(np.uint16 if parts < 1 << 16 else np.int64)  # 16 bits: numpy's radix sort
    order = np.argsort(part, kind="stable")
    rec[order].tofile(path)
    return (np.concatenate(([0], np.cumsum(np.bincount(part, minlength=parts)))) * 8).tolist()


def _read(slices: list[tuple[str, int, int]]) -> np.ndarray:
    """One partition's records from every file of the previous step, sorted and without repeats."""
    chunks = [np.fromfile(path, dtype=U64, count=(end - start) // 8, offset=start)
              for path, start, end in slices if end > start]
    if not chunks:
        return np.empty(0, U64)
    rec = np.concatenate(chunks)
    rec.sort()  # sort and drop repeats (np.unique's hash path is several times slower on these)
    return rec[np.r_[True, rec[1:] != rec[:-1]]]


def _fingerprint(rec: np.ndarray) -> int:
    """An order-free digest of a set of records (sum of mixed 64-bit hashes, wrapping)."""
    with np.errstate(over="ignore"):
        h = rec * U64(0x9E3779B97F4A7C15)
        h ^= h >> U64(29)
        h *= U64(0xBF58476D1CE4E5B9)
        h ^= h >> U64(32)
        return int(h.sum(dtype=U64))


def star_step(task: tuple) -> tuple[list[int], int, int]:
    """Worker: one partition's large-star or small-star step. ``task`` = (kind, slices, out path, partitions).

    large: for node u with neighbours N(u) (records keyed by both ends), m = min(N(u) + u); every neighbour v > u
    is linked to m, written keyed by v (the larger end, as small-star reads them).
    small: for node u with neighbours N(u), all smaller than u (records keyed by the larger end), m = min(N(u));
    u and every v in N(u) other than m are linked to m, written keyed by both ends (as large-star reads them).
    Returns the output's slice offsets, and the count and fingerprint of the records read (the fixed-point test).
    """
    kind, slices, out, parts = task
    rec = _read(slices)
    if not len(rec):
        return _write(Path(out), rec, rec, parts), 0, 0
    u = (rec >> U64(32)).astype(np.int64)
    v = (rec & LOW).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])
    heads = u[starts]
    low = np.minimum(np.minimum.reduceat(v, starts), heads)
    m = np.repeat(low, np.diff(np.r_[starts, len(u)]))
    if kind == "large":
        sel = v > u
        offsets = _write(Path(out), v[sel], m[sel], parts)
    else:
        sel = v != m
        x = np.concatenate((v[sel], heads))
        mx = np.concatenate((m[sel], low))
        offsets = _write(Path(out), np.concatenate((x, mx)), np.concatenate((mx, x)), parts)
    return offsets, len(rec), _fingerprint(rec)


def star_labels(task: tuple) -> np.ndarray:
    """Worker: (node, label) rows of one partition of the converged star forest (records keyed by the leaf)."""
    rec = _read(task)
    u = (rec >> U64(32)).astype(np.int64)
    v = (rec & LOW).astype(np.int64)
    sel = v < u
    return np.stack((u[sel], v[sel]), axis=1)


def partitioned_components(n: int, a: np.ndarray, b: np.ndarray, folder: Path, mapper: Mapper,
                           max_rounds: int = 64) -> tuple[np.ndarray, int] | None:
    """Labels (each row's smallest connected row) of the graph with edges (a, b) over rows 0..n-1, computed by
    tasks over partitioned edge files in ``folder``. Returns (labels, rounds), or None when the rounds did not
    converge or the result is not a valid labelling (the caller then computes the components itself)."""
    if n >= 1 << 32:  # rows are packed in 32 bits
        return None
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return _rounds(n, np.asarray(a, np.int64), np.asarray(b, np.int64), folder, mapper, max_rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # every round's files, whatever happened


def _rounds(n: int, a: np.ndarray, b: np.ndarray, folder: Path, mapper: Mapper, max_rounds: int) -> tuple[np.ndarray, int] | None:
    keep = a != b
    a, b = a[keep], b[keep]
    parts = partitions_for(len(a))
    files: list[tuple[str, list[int]]] = []
    for k, start in enumerate(range(0, len(a), SEED_CHUNK)):
        x, y = a[start : start + SEED_CHUNK], b[start : start + SEED_CHUNK]
        path = folder / f"seed-{k}.bin"
        files.append((str(path), _write(path, np.concatenate((x, y)), np.concatenate((y, x)), parts)))

    def step(kind: str, tag: str, inputs: list[tuple[str, list[int]]]) -> tuple[list[tuple[str, list[int]]], int, int]:
        tasks = [(kind, [(f, off[p], off[p + 1]) for f, off in inputs], str(folder / f"{tag}-{p}.bin"), parts)
                 for p in range(parts)]
        results = list(mapper(star_step, tasks))
        for f, _ in inputs:
            Path(f).unlink(missing_ok=True)
        count = sum(r[1] for r in results)
        digest = sum(r[2] for r in results) % (1 << 64)
        return [(t[2], r[0]) for t, r in zip(tasks, results)], count, digest

    seen: tuple[int, int] | None = None
    rounds = 0
    for rounds in range(1, max_rounds + 1):
        files, _, _ = step("large", f"large{rounds}", files)
        files, count, digest = step("small", f"small{rounds}", files)
        if seen == (count, digest):
            break
        seen = (count, digest)
    else:
        return None
    label = np.arange(n, dtype=np.int64)
    for rows in mapper(star_labels, [[(f, off[p], off[p + 1]) for f, off in files] for p in range(parts)]):
        if len(rows):
            np.minimum.at(label, rows[:, 0], rows[:, 1])
    for f, _ in files:
        Path(f).unlink(missing_ok=True)
    # a valid labelling by smallest row: constant along every edge, each label its own label, never above its row
    if not (np.array_equal(label[a], label[b]) and np.array_equal(label[label], label)
            and bool((label <= np.arange(n)).all())):
        return None
    return label, rounds
