"""Compiled loops of the verification pass (numba): per-pair set intersections and the slot scan.

Verification is a loop over candidate pairs that numpy can only run as whole-block arrays (gather both
sets of every pair, one ``searchsorted`` of a block into the other): most of the time went to cache
misses in those large arrays and to sorting every position of every document. A numba loop walks two
sorted sets side by side (a merge: the two sets of a pair, a few hundred elements each, sit in cache)
and looks a text's positions up in a small hash table of the other text's shingles. Same results
as the numpy block functions they replaced and the pair-by-pair reference (tests compare them), in about a
fifth of the time on the benchmark's candidate pairs (`bench/dedup/regress.py` prints the step times).

numba (LLVM) was chosen over a C extension of our own: a well-kept library, wheels for every platform
the project supports, and the kernels stay readable Python. They are compiled on first use and cached
next to this file (``cache=True``), so a process pays the compilation once per installation.
"""

from __future__ import annotations

import sys

import numpy as np


def _import_njit():
    """numba's ``njit``, imported without scipy.linalg: on import numba probes for BLAS by importing
    scipy.linalg.cython_blas (over a second of the stage's serial time) to offer ``np.dot`` and friends,
    which these kernels never use. The probe is answered "not installed" for the length of the import
    only; scipy.linalg imports normally afterwards."""
    probe = "scipy.linalg.cython_blas"
    if "numba" in sys.modules or probe in sys.modules:
        from numba import njit

        return njit
    sys.modules[probe] = None  # type: ignore[assignment]  # an import of it now raises ImportError
    try:
        from numba import njit
        import numba.np.arraymath  # noqa: F401  # where the probe runs
    finally:
        if sys.modules.get(probe, 0) is None:
            del sys.modules[probe]
    return njit


njit = _import_njit()


@njit(cache=True, nogil=True)
def intersections(sets, set_off, x, y):  # pragma: no cover - compiled
    """|set(x[k]) ∩ set(y[k])| for each pair k; ``sets`` holds every document's sorted unique shingle
    hashes one after another, document d at ``sets[set_off[d]:set_off[d + 1]]``."""
    out = np.zeros(len(x), np.int64)
    for k in range(len(x)):
        i, iend = set_off[x[k]], set_off[x[k] + 1]
        j, jend = set_off[y[k]], set_off[y[k] + 1]
        c = 0
        while i < iend and j < jend:
            u, v = sets[i], sets[j]
            if u == v:
                c += 1
                i += 1
                j += 1
            elif u < v:
                i += 1
            else:
                j += 1
        out[k] = c
    return out


_P = np.uint64(0x100000001B3)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


@njit(cache=True, nogil=True)
def _hash_at(cp, start, n, drop):  # pragma: no cover - compiled
    """:func:`builder.text.minhash.sketch.positional_hashes` of the n-gram of ``cp`` starting at ``start``."""
    h = np.uint64(0)
    for k in range(n):
        h = h * _P + np.uint64(cp[start + k])
    h = (h ^ (h >> _S30)) * _M1
    h = (h ^ (h >> _S27)) * _M2
    h = h ^ (h >> _S31)
    return h >> drop


_EMPTY = np.uint64(1) << np.uint64(63)  # no 48-bit shingle hash has this value: an empty slot of the table


@njit(cache=True, nogil=True)
def _slot_of(keys, h, mask):  # pragma: no cover - compiled
    """The slot of hash ``h`` in the open-addressing table ``keys``: where it is, or the empty slot it would take."""
    slot = (h * _M1) >> np.uint64(40) & np.uint64(mask)
    while keys[slot] != _EMPTY and keys[slot] != h:
        slot = (slot + np.uint64(1)) & np.uint64(mask)
    return slot


@njit(cache=True, nogil=True)
def slot_runs(cp, cp_off, set_len, a, b, la, lb, n, hash_bits, max_slot_chars):  # pragma: no cover - compiled
    """Candidate slot runs of each pair (a[k], b[k]), a being the shorter text (longer than n characters):
    the gaps of uncovered characters between consecutive positions of a whose shingle is also one of b's,
    1..max_slot_chars long, whose anchor shingles (either side) first occur in b with a gap of
    1..max_slot_chars between them.

    Document d's code points are ``cp[cp_off[d]:cp_off[d + 1]]`` and ``set_len[d]`` the size of its stored
    shingle set. b's shingles go into an open-addressing table (hash -> first position), built per pair:
    a's positions are then looked up in constant time. Returns (runs, unchecked): per run (pair, a start,
    a end, b start, b end), pairs ascending and runs in text order within a pair, as
    :func:`builder.text.minhash.verify._slots` finds them before its :func:`is_slot` step; and the pairs
    whose b has a different number of distinct shingles than its stored set (not made by this engine: the
    caller checks those pair by pair).
    """
    drop = np.uint64(64 - hash_bits)
    size = 64
    while size < 2 * (np.max(lb) if len(lb) else 1):
        size *= 2
    keys = np.empty(size, np.uint64)
    vals = np.empty(size, np.int64)
    cap = 16
    res = np.empty((cap, 5), np.int64)
    unchecked = np.zeros(len(a), np.bool_)
    m = 0
    for k in range(len(a)):
        da, db = a[k], b[k]
        na = la[k] - n + 1
        nb = lb[k] - n + 1
        oa, ob = cp_off[da], cp_off[db]
        mask = 64
        while mask < 2 * nb:
            mask *= 2
        mask -= 1
        keys[: mask + 1] = _EMPTY
        distinct = 0
        for u in range(nb):
            h = _hash_at(cp, ob + u, n, drop)
            slot = _slot_of(keys, h, mask)
            if keys[slot] == _EMPTY:
                keys[slot] = h
                vals[slot] = u
                distinct += 1
        if distinct != set_len[db]:
            unchecked[k] = True
            continue
        prev = -1
        prev_pos = -1
        for t in range(na):
            h = _hash_at(cp, oa + t, n, drop)
            slot = _slot_of(keys, h, mask)
            if keys[slot] == _EMPTY:
                continue
            pos = vals[slot]  # where this shingle first occurs in b
            if prev >= 0:
                gap = t - prev - n
                if gap >= 1 and gap <= max_slot_chars:
                    bl, br = prev_pos + n, pos
                    if br - bl > 0 and br - bl <= max_slot_chars:
                        if m == cap:
                            cap *= 2
                            grown = np.empty((cap, 5), np.int64)
                            grown[:m] = res[:m]
                            res = grown
                        res[m, 0] = k
                        res[m, 1] = prev + n
                        res[m, 2] = t
                        res[m, 3] = bl
                        res[m, 4] = br
                        m += 1
            prev = t
            prev_pos = pos
    return res[:m], unchecked


@njit(cache=True, nogil=True)
def shared_fingerprints(docs, run_end, fp_counts, usable, need):  # pragma: no cover - compiled
    """Containment candidates from the sorted fingerprint index: (a, b, shared) for every pair a < b that
    shares at least 2 fingerprints and at least ``ceil(need * min(usable[a], usable[b]))`` of them.

    ``docs[k]`` is the document of the k-th entry of the index sorted by (fingerprint, document);
    ``run_end[k]`` is the end of its fingerprint's run, or 0 when the run is skipped (stock phrasing or a
    fingerprint of one document). Each document's entries are visited in turn (a counting pass puts them
    in document order) and every later document of the same runs is counted in one dense array, reset
    after each document: no pair is materialised before it is known to share enough."""
    n = len(fp_counts)
    off = np.zeros(n + 1, np.int64)
    for d in range(n):
        off[d + 1] = off[d] + fp_counts[d]
    fill = off[:-1].copy()
    pos = np.empty(off[n], np.int32)  # index positions (int32: the caller refuses 2**31 fingerprints or more)
    for k in range(len(docs)):
        if run_end[k] > k + 1:  # a later member exists in a kept run
            d = docs[k]
            pos[fill[d]] = k
            fill[d] += 1
    cnt = np.zeros(n, np.int32)
    touched = np.empty(n, np.int64)
    cap = 1024
    out_a = np.empty(cap, np.int64)
    out_b = np.empty(cap, np.int64)
    out_h = np.empty(cap, np.int64)
    m = 0
    for a in range(n):
        nt = 0
        for q in range(off[a], fill[a]):
            k = pos[q]
            for j in range(k + 1, run_end[k]):
                b = docs[j]
                if cnt[b] == 0:
                    touched[nt] = b
                    nt += 1
                cnt[b] += 1
        for t in range(nt):
            b = touched[t]
            h = cnt[b]
            cnt[b] = 0
            smaller = min(usable[a], usable[b])
            if h >= 2 and h >= np.ceil(smaller * need):
                if m == cap:
                    cap *= 2
                    na = np.empty(cap, np.int64)
                    nb = np.empty(cap, np.int64)
                    nh = np.empty(cap, np.int64)
                    na[:m] = out_a[:m]
                    nb[:m] = out_b[:m]
                    nh[:m] = out_h[:m]
                    out_a, out_b, out_h = na, nb, nh
                out_a[m] = a
                out_b[m] = b
                out_h[m] = h
                m += 1
    return out_a[:m], out_b[:m], out_h[:m]


def warm_containment() -> None:
    """Load (or compile) the containment kernel only: what the process that finds candidates needs."""
    shared_fingerprints(np.array([0, 1], np.int32), np.array([2, 2], np.int32), np.array([1, 1], np.int64),
                        np.array([1, 1], np.int64), 0.5)


def warm() -> None:
    """Load (or compile) every kernel now: a parent calls this before forking its workers, so they inherit them."""
    sets = np.array([1, 2, 3, 2, 3, 4], np.uint64)
    off = np.array([0, 3, 6], np.int64)
    one = np.array([0], np.int64)
    intersections(sets, off, one, one + 1)
    warm_containment()
    cp = np.arange(1, 13, dtype=np.uint32)
    slot_runs(cp, np.array([0, 6, 12], np.int64), np.array([2, 2], np.int64), one, one + 1, one + 6, one + 6, 5, 48, 12)
