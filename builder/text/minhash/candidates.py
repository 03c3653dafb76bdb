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
    starts = np.r_[True, k[1:] != k[:-1]]
    run_start = np.flatnonzero(starts)
    pos = np.arange(len(k))
    within = pos - run_start[np.cumsum(starts) - 1]
    w = np.minimum(within, window)
    total = int(w.sum())
    if total == 0:
        return np.empty(0, U64)
    member = np.repeat(pos, w)
    step = np.arange(total) - np.repeat(np.cumsum(w) - w, w) + 1
    partner = member - step
    return _pack(rows[order[member]], rows[order[partner]])


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


def containment_candidates(fp: np.ndarray, fp_counts: np.ndarray, rows_of: np.ndarray, s: MinHashSettings,
                           chunk_docs: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Pairs sharing enough fingerprints for the smaller text to be contained in the larger one.

    Returns (packed pairs, estimated containment). Fingerprints shared by more than ``max_posting``
    documents (stock phrases) are skipped.
    """
    n = len(fp_counts)
    if n < 2 or not len(fp):
        return np.empty(0, U64), np.empty(0)
    doc_of = np.repeat(np.arange(n, dtype=U64), fp_counts)
    index = np.sort((fp.astype(U64) << U64(32)) | doc_of)
    del doc_of
    offsets = np.r_[0, np.cumsum(fp_counts)]
    need = max(s.containment_threshold - s.containment_margin, 0.05)
    codes_out, est_out = [], []
    for first in range(0, n, chunk_docs):
        last = min(n, first + chunk_docs)
        probes = fp[offsets[first] : offsets[last]].astype(U64)
        qdoc = np.repeat(np.arange(first, last, dtype=np.int64), fp_counts[first:last])
        lo = np.searchsorted(index, probes << U64(32))
        hi = np.searchsorted(index, (probes + U64(1)) << U64(32))
        cnt = hi - lo
        ok = (cnt >= 2) & (cnt <= s.max_posting)
        lo, cnt, qdoc = lo[ok], cnt[ok], qdoc[ok]
        total = int(cnt.sum())
        if total == 0:
            continue
        pos = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
        other = (index[pos] & U64(0xFFFFFFFF)).astype(np.int64)
        q = np.repeat(qdoc, cnt)
        keep = other > q
        if not keep.any():
            continue
        code = (q[keep].astype(U64) << U64(32)) | other[keep].astype(U64)
        code, hits = np.unique(code, return_counts=True)
        pair = _unpack(code)
        smaller = np.minimum(fp_counts[pair[:, 0]], fp_counts[pair[:, 1]])
        good = (hits >= 2) & (hits >= np.ceil(smaller * need))
        if good.any():
            codes_out.append(_pack(rows_of[pair[good, 0]], rows_of[pair[good, 1]]))
            est_out.append(hits[good] / smaller[good])
    if not codes_out:
        return np.empty(0, U64), np.empty(0)
    return np.concatenate(codes_out), np.concatenate(est_out)
