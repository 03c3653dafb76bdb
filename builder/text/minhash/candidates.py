"""Candidate pairs: LSH bands over the signatures, and shared containment fingerprints.

Pairs are packed into one uint64 (smaller row in the high 32 bits) so sets of pairs are numpy arrays.
"""

from __future__ import annotations

import numpy as np

from .settings import MinHashSettings

U32 = np.uint32
U64 = np.uint64


def _pack(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lo, hi = np.minimum(a, b).astype(U64), np.maximum(a, b).astype(U64)
    return (lo << U64(32)) | hi


def _unpack(codes: np.ndarray) -> np.ndarray:
    return np.stack([(codes >> U64(32)).astype(np.int64), (codes & U64(0xFFFFFFFF)).astype(np.int64)], axis=1)


def _bucket_pairs(keys: np.ndarray, rows: np.ndarray, window: int) -> np.ndarray:
    """Pairs of rows sharing a key: each member paired with up to ``window`` earlier members of its bucket."""
    if len(keys) < 2:
        return np.empty(0, U64)
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    return _window_pairs(np.r_[True, k[1:] != k[:-1]], rows[order], window)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64 keys: each band's ``rows`` signature values mixed into one 64-bit key."""
    keys = np.empty((sig.shape[0], bands), dtype=U64)
    with np.errstate(over="ignore"):
        for band in range(bands):
            h = np.full(sig.shape[0], U64(0x9E3779B97F4A7C15) + U64(band), dtype=U64)
            for c in range(band * rows, (band + 1) * rows):
                h = (h ^ sig[:, c].astype(U64)) * U64(0xBF58476D1CE4E5B9)
                h ^= h >> U64(31)
            keys[:, band] = h
    return keys


# -- LSH as a hash-partitioned exchange ----------------------------------------------------------------------
# The sketch tasks write each batch's band keys to the scratch folder, grouped by partition (key mod
# LSH_PARTITIONS); one task per partition then reads its slice of every batch file and pairs the members of its
# buckets. A bucket lies wholly in one partition, so the union of the partitions' pairs is exactly the pairs of
# :func:`lsh_candidates`; the driver never holds the band keys (n x bands x 8 bytes), only the pairs.

LSH_PARTITIONS = 16
BAND_ENTRY = np.dtype([("key", "<u8"), ("band", "u1"), ("local", "<u2")])  # 11 bytes, packed


def write_band_partitions(path: str, sig: np.ndarray, s: MinHashSettings) -> np.ndarray:
    """Worker: a batch's band keys, one entry per (document, band), written grouped by partition; returns the
    byte offset of each partition's slice in the file (LSH_PARTITIONS + 1 offsets)."""
    b, r = s.bands_rows()
    n = sig.shape[0]
    keys = band_keys(sig, b, r) if n else np.empty((0, b), U64)
    part = (keys % U64(LSH_PARTITIONS)).astype(np.int64).ravel()
    order = np.argsort(part, kind="stable")
    entries = np.empty(n * b, BAND_ENTRY)
    entries["key"] = keys.ravel()[order]
    entries["band"] = np.tile(np.arange(b, dtype=np.uint8), n)[order]
    entries["local"] = np.repeat(np.arange(n, dtype=np.uint16), b)[order]
    with open(path, "wb") as f:
        f.write(entries.tobytes())
    counts = np.bincount(part, minlength=LSH_PARTITIONS)
    return np.concatenate(([0], np.cumsum(counts))) * BAND_ENTRY.itemsize


def partition_pairs(task: tuple) -> np.ndarray:
    """Worker: the candidate pairs (packed, unique) of one partition. ``task`` = (slices, live, window): slices are
    (file, start byte, end byte, first row of the batch); ``live`` marks the rows LSH runs over (exact-unique
    documents long enough for a near match). Members of a bucket (same band, same key) are paired in row order,
    each with up to ``window`` earlier ones, as :func:`lsh_candidates` does."""
    slices, live, window = task
    keys, bands, rows = [], [], []
    for path, start, end, first_row in slices:
        if end <= start:
            continue
        with open(path, "rb") as f:
            f.seek(start)
            e = np.frombuffer(f.read(end - start), BAND_ENTRY)
        r = e["local"].astype(np.int64) + first_row
        keep = live[r]
        keys.append(e["key"][keep])
        bands.append(e["band"][keep])
        rows.append(r[keep])
    if not keys:
        return np.empty(0, U64)
    key, band, row = np.concatenate(keys), np.concatenate(bands), np.concatenate(rows)
    if len(key) < 2:
        return np.empty(0, U64)
    order = np.lexsort((row, key, band))
    key, band, row = key[order], band[order], row[order]
    starts = np.r_[True, (key[1:] != key[:-1]) | (band[1:] != band[:-1])]
    return np.unique(_window_pairs(starts, row, window))


def _window_pairs(starts: np.ndarray, rows: np.ndarray, window: int) -> np.ndarray:
    """Pairs of sorted members of runs (``starts`` marks each run's first): each paired with up to ``window`` earlier ones."""
    run_start = np.flatnonzero(starts)
    pos = np.arange(len(rows))
    within = pos - run_start[np.cumsum(starts) - 1]
    w = np.minimum(within, window)
    total = int(w.sum())
    if total == 0:
        return np.empty(0, U64)
    member = np.repeat(pos, w)
    step = np.arange(total) - np.repeat(np.cumsum(w) - w, w) + 1
    return _pack(rows[member], rows[member - step])


def lsh_candidates(sig: np.ndarray, rows_of: np.ndarray, s: MinHashSettings) -> np.ndarray:
    """Candidate pairs (packed uint64) of documents that share at least one LSH band."""
    b, r = s.bands_rows()
    if len(rows_of) < 2:
        return np.empty(0, U64)
    if s.lsh_backend == "datasketch":
        from datasketch import MinHashLSH

        lsh = MinHashLSH(num_perm=s.num_perm, params=(b, r))
        found = []
        for k, row in enumerate(rows_of.tolist()):
            m = _SigView(sig[k], s.seed)
            for other in lsh.query(m):
                found.append((other, row))
            lsh.insert(row, m, check_duplication=False)
        if not found:
            return np.empty(0, U64)
        arr = np.asarray(found, dtype=np.int64)
        return np.unique(_pack(arr[:, 0], arr[:, 1]))
    keys = band_keys(sig, b, r)
    parts = [_bucket_pairs(keys[:, band], rows_of, s.max_bucket) for band in range(b)]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, U64)


class _SigView:
    """The minimal MinHash interface MinHashLSH reads (hashvalues, scheme, seed, len)."""

    __slots__ = ("hashvalues", "scheme", "seed")

    def __init__(self, hashvalues: np.ndarray, seed: int):
        self.hashvalues, self.scheme, self.seed = hashvalues, "affine32", seed

    def __len__(self) -> int:
        return len(self.hashvalues)


def _count_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct codes and how often each occurs (sort-based, faster than np.unique on large uint64 arrays)."""
    if not len(codes):
        return codes, np.empty(0, np.int64)
    codes = np.sort(codes)
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    return codes[starts], np.diff(np.concatenate((starts, [len(codes)])))


def containment_candidates(fp: np.ndarray, fp_counts: np.ndarray, rows_of: np.ndarray, s: MinHashSettings) -> tuple[np.ndarray, np.ndarray]:
    """Pairs sharing enough fingerprints for the smaller text to be contained in the larger one.

    Returns (packed pairs, estimated containment). The fingerprint index (fingerprint, document) is
    sorted once; a fingerprint shared by more than ``max_posting`` documents is stock phrasing and
    skipped. Then each document's fingerprints are paired with the later documents of the same runs, counted
    in a compiled loop (:func:`.kernels.shared_fingerprints`: one dense counter, reset after each document,
    so no pair is held before it is known to share enough), and a pair is a candidate when it shares at
    least ``containment_threshold - containment_margin`` of the smaller document's fingerprints (of those
    not skipped as stock phrasing: in a large corpus common wording covers more of a short text). Sorted
    by pair. (The numpy version this replaced made every co-occurrence a packed code and sorted them to
    count: 0.68 s of the 50k benchmark's 2.6M fingerprints.)
    """
    n = len(fp_counts)
    if n < 2 or not len(fp):
        return np.empty(0, U64), np.empty(0)
    key = (fp.astype(U64) << U64(32)) | np.repeat(np.arange(n, dtype=U64), fp_counts)
    key.sort()
    vals = key >> U64(32)
    starts = np.concatenate(([True], vals[1:] != vals[:-1]))
    del vals
    docs = (key & U64(0xFFFFFFFF)).astype(np.int32)
    del key
    run_start = np.flatnonzero(starts).astype(np.int32)
    run_len = np.diff(np.concatenate((run_start, [len(docs)]))).astype(np.int32)
    run_of = (np.cumsum(starts, dtype=np.int32) - 1)
    del starts
    ok_run = (run_len >= 2) & (run_len <= s.max_posting)
    run_end = np.where(ok_run, run_start + run_len, 0)[run_of]  # 0 marks occurrences in skipped runs
    # a document's fingerprints that are not stock phrasing: the share a pair must reach is taken of these, so
    # a brief whose title and first sentences are common wording in a large corpus still finds its article
    usable = fp_counts - np.bincount(docs[(run_len > s.max_posting)[run_of]], minlength=n)
    del run_of
    need = float(max(s.containment_threshold - s.containment_margin, 0.05))  # one compiled signature
    from .kernels import shared_fingerprints

    if len(docs) >= 2**31:
        raise ValueError(f"{len(docs)} fingerprints: the containment index holds fewer than 2**31")
    a, b, hits = shared_fingerprints(docs, run_end.astype(np.int32, copy=False), fp_counts.astype(np.int64), usable.astype(np.int64), need)
    if not len(a):
        return np.empty(0, U64), np.empty(0)
    codes = _pack(rows_of[a], rows_of[b])
    order = np.argsort(codes, kind="stable")
    return codes[order], (hits / np.minimum(usable[a], usable[b]))[order]
