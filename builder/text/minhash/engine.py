"""The engine: stream batches in, find candidates, verify them, decide who survives.

Near duplicates (exact, or verified Jaccard) are undirected and clustered as connected components.
Containment is directed: an edge goes from the smaller document to the one that contains it, it is
never used to join two clusters, and a cluster that is contained in another is removed as a whole in
favour of its container's cluster (followed to a cluster that nothing contains). So a short item
quoted in ten distinct long articles removes only itself, and the keep policy can never remove a
container for the excerpt it contains, whatever the dates or the order.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .candidates import LSH_PARTITIONS, _unpack, containment_candidates, lsh_candidates, partition_pairs
from .components import partitioned_components
from .settings import KEEP_POLICIES, MinHashSettings
from .sketch import U32, U64, Utf8Batch, sketch_batch
from .verify import verify_chunk

Mapper = Callable[[Callable, Iterable], Iterator]


def pool_mapper(pool, ahead: int) -> Mapper:
    """An ordered map over a process pool with at most ``ahead`` tasks in flight and no round barrier:
    a new task goes out as soon as the oldest result is taken, so workers never wait for a whole round
    and the input (batches of texts read from shards) is consumed only as fast as it is processed."""

    def mapper(func: Callable, items: Iterable) -> Iterator:
        from collections import deque

        pending: deque = deque()
        for item in items:
            pending.append(pool.apply_async(func, (item,)))
            if len(pending) >= ahead:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    return mapper
ESTIMATE_SLACK = 0.2
EXCERPT_SHARE = 0.8  # a contained document under this share of its container's shingles is an excerpt of it


@dataclass
class DuplicatePairs:
    """Verified duplicate pairs (rows) with their measured similarity; ``match`` is jaccard or containment."""

    a: np.ndarray
    b: np.ndarray
    jaccard: np.ndarray
    containment: np.ndarray
    match: list[str]


@dataclass
class Clustering:
    """The outcome over all documents added (by row number, in the order added).

    ``labels`` are the near-duplicate clusters (exact and Jaccard edges only). Containment edges are
    kept apart, directed: ``contained[k]`` is inside ``container[k]``.
    """

    labels: np.ndarray
    sizes: np.ndarray
    exact_rep: np.ndarray  # row of the first exact duplicate of each row (itself when unique)
    pairs: DuplicatePairs  # every verified pair, jaccard and containment
    contained: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    container: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    containment: np.ndarray = field(default_factory=lambda: np.empty(0))
    contained_jaccard: np.ndarray = field(default_factory=lambda: np.empty(0))
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class Resolution:
    """Who survives. ``keeper[r]`` is the row that stands for row r (itself when kept)."""

    keeper: np.ndarray
    match: list[str]  # per row: kept | exact | jaccard | containment
    via: np.ndarray  # per row: the document it was matched to (its container for containment, else its keeper)

    @property
    def removed(self) -> np.ndarray:
        return np.flatnonzero(self.keeper != np.arange(len(self.keeper)))


class MinHashDeduper:
    """Streams batches of texts in, keeps only their sketches, then finds and resolves duplicates.

    ``mapper`` runs the per-batch work (``StageRun.map`` in a stage: all cores, ordered, bounded).
    ``store_dir``: scratch folder for the stored forms (code points, needed for verification); None
    keeps them in memory, which is right for small inputs such as a few thousand instructions.
    ``driver_max_edges``: graphs with more edges than this have their connected components computed by the
    mapper's tasks over partitioned edge files (:mod:`.components`) instead of in this process (None: never).
    """

    def __init__(self, settings: MinHashSettings | None = None, store_dir: Path | str | None = None,
                 mapper: Mapper | None = None, batch_size: int = 256, collapse_exact: bool = True,
                 driver_max_edges: int | None = None):
        self.s = settings or MinHashSettings()
        self.store_dir = Path(store_dir) if store_dir is not None else None
        if self.store_dir is not None:
            self.store_dir.mkdir(parents=True, exist_ok=True)
        self.mapper = mapper or map
        # LSH as a partitioned exchange when partition tasks can run elsewhere (a pool, Ray) and the sketch tasks have
        # a scratch folder to write band keys to; in one process the band index is the same work done once
        self._exchange = self.store_dir is not None and self.mapper is not map and self.s.lsh_backend == "bands"
        self.batch_size = batch_size
        self.collapse_exact = collapse_exact
        self.driver_max_edges = driver_max_edges
        self.component_rounds = 0  # large/small-star rounds of the last partitioned computation (0: none ran)
        self.component_fallbacks = 0  # partitioned computations that did not converge, done again in this process
        self.exact: list[int] = []
        self._chars: list[np.ndarray] = []
        self._nsh: list[np.ndarray] = []
        self._sig: list[np.ndarray] = []
        self._fp: list[np.ndarray] = []
        self._fpc: list[np.ndarray] = []
        self._where: list[tuple] = []  # per row: (file, cp byte offset, cp count, set byte offset, set count) or (cp, set)
        self._bands: list[tuple[str, np.ndarray, int] | None] = []  # per batch: (band file, partition offsets, first row)
        self._batches = 0
        self.seconds: dict[str, float] = {}

    def _time(self, step: str, seconds: float) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + seconds

    def components(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Connected components over all rows (labelled by their smallest row): in this process up to
        ``driver_max_edges`` edges, beyond that by partitioned tasks where there is a mapper and a scratch folder."""
        big = self.driver_max_edges is not None and len(a) > self.driver_max_edges
        if big and self.store_dir is not None and self.mapper is not map:
            t0 = time.perf_counter()
            out = partitioned_components(self.count, a, b, self.store_dir / "components", self.mapper)
            self._time("clustering.partitioned_components", time.perf_counter() - t0)
            if out is not None:
                labels, self.component_rounds = out
                return labels
            self.component_fallbacks += 1
        return _components(self.count, a, b)

    @property
    def count(self) -> int:
        return len(self.exact)

    def _tasks(self, text_batches: Iterable[Sequence[str]]) -> Iterator[tuple]:
        store = str(self.store_dir) if self.store_dir is not None else None
        for texts in text_batches:
            for start in range(0, len(texts), self.batch_size):
                self._batches += 1
                part = texts[start : start + self.batch_size]
                yield (self._batches, part if isinstance(part, Utf8Batch) else list(part), self.s, store, self._exchange)

    def add(self, text_batches: Iterable[Sequence[str]]) -> None:
        """Sketch every text of every batch (batches are consumed lazily, so they can come from shards)."""
        t0 = time.perf_counter()
        for sk in self.mapper(sketch_batch, self._tasks(text_batches)):
            self._bands.append((sk.bands, sk.band_offsets, len(self.exact)) if sk.bands else None)
            self.exact.extend(sk.exact)
            self._chars.append(sk.chars)
            self._nsh.append(sk.n_shingles)
            self._sig.append(sk.sig)
            self._fp.append(sk.fp)
            self._fpc.append(sk.fp_counts)
            if sk.store is not None:
                cp_off = np.concatenate(([0], np.cumsum(sk.form_lengths)))
                total = int(cp_off[-1])
                set_base = 4 * (total + total % 2)  # byte offset of the sets, 8-byte aligned
                set_off = np.concatenate(([0], np.cumsum(sk.n_shingles)))
                for k, (cl, sl) in enumerate(zip(sk.form_lengths.tolist(), sk.n_shingles.tolist())):
                    self._where.append((sk.store, 4 * int(cp_off[k]), cl, set_base + 8 * int(set_off[k]), sl))
            else:
                self._where.extend(sk.forms or [])
            for k, v in (sk.seconds or {}).items():
                self._time(f"worker.{k}", v)
        self._time("sketch (wall)", time.perf_counter() - t0)

    @property
    def chars(self) -> np.ndarray:
        return np.concatenate(self._chars) if self._chars else np.empty(0, np.int64)

    @property
    def n_shingles(self) -> np.ndarray:
        return np.concatenate(self._nsh) if self._nsh else np.empty(0, np.int64)

    def measure(self, pairs: np.ndarray, check_slots: bool = False) -> np.ndarray:
        """Exact (jaccard, containment) for a (k, 2) array of row pairs, chunked over the mapper.

        With ``check_slots`` a third column says whether the pair swaps a number or a name (see verify).
        """
        cols = 3 if check_slots else 2
        if not len(pairs):
            return np.empty((0, cols))
        # pairs of one neighbourhood go to the same chunk, so each document is read and hashed about once
        comp = _components(self.count, pairs[:, 0], pairs[:, 1])  # only orders the chunks: no rounds of tasks for it
        order = np.lexsort((pairs[:, 1], pairs[:, 0], comp[pairs[:, 0]]))
        chunk = 4096
        tasks = []
        for start in range(0, len(order), chunk):
            sub = pairs[order[start : start + chunk]]
            tasks.append((sub, {int(r): self._where[int(r)] for r in np.unique(sub)}, self.s, check_slots))
        out = np.empty((len(pairs), 3))
        # even one chunk goes to the workers: they hold the compiled kernels, which this process would
        # otherwise import for it (0.45 s: the few removals linked to their keeper through other members)
        mapper = self.mapper
        for k, res in enumerate(mapper(verify_chunk, tasks)):
            out[order[k * chunk : k * chunk + len(res)]] = res
        return out[:, :cols]

    def _partitioned_lsh(self, reps: np.ndarray) -> np.ndarray:
        """LSH candidates as a hash-partitioned exchange: each partition's slices of every batch's band file go to one
        task (:func:`.candidates.partition_pairs`); the union of the partitions' pairs is :func:`lsh_candidates`'s."""
        if len(reps) < 2:
            return np.empty(0, U64)
        live = np.zeros(self.count, bool)
        live[reps] = True
        window = self.s.max_bucket
        tasks = [([(f, int(off[p]), int(off[p + 1]), first) for f, off, first in self._bands], live, window)
                 for p in range(LSH_PARTITIONS)]
        parts = list(self.mapper(partition_pairs, tasks))
        return np.unique(np.concatenate(parts)) if parts else np.empty(0, U64)

    def cluster(self) -> Clustering:
        """Exact pass, LSH and containment candidates, verification, near clusters and directed containment."""
        s = self.s
        n = self.count
        nsh = self.n_shingles
        chars = self.chars
        stats: dict[str, int] = {}
        t0 = time.perf_counter()
        # 1. exact duplicates of the comparison form
        first: dict[int, int] = {}
        rep = np.arange(n, dtype=np.int64)
        if self.collapse_exact:
            for row, h in enumerate(self.exact):
                rep[row] = first.setdefault(h, row)
        stats["exact_duplicates"] = int(np.count_nonzero(rep != np.arange(n)))
        reps = np.flatnonzero((rep == np.arange(n)) & (nsh > 0) & (chars >= s.min_near_chars))
        if not s.near:
            reps = reps[:0]
        # 2. LSH candidates among exact-unique documents long enough for a near match, in a thread while this one
        # finds the containment candidates (both are numpy sorts and gathers, which run without the GIL)
        # the sketch tasks wrote every batch's band keys (a scratch store and a pool): the exchange needs no signatures here
        exchange = self._exchange and bool(self._bands) and all(b is not None for b in self._bands)
        sig = (np.concatenate(self._sig)[reps] if (self._sig and len(reps) and not exchange)
               else np.empty((0, s.num_perm), U32))

        def lsh_pass(signatures: np.ndarray) -> tuple[np.ndarray, float]:
            start = time.perf_counter()
            if exchange:  # the band keys the sketch tasks wrote, one task per partition (the pool's or Ray's)
                return self._partitioned_lsh(reps), time.perf_counter() - start
            return lsh_candidates(signatures, reps, s), time.perf_counter() - start

        with ThreadPoolExecutor(1, thread_name_prefix="dedup-lsh") as side:
            lsh_future = side.submit(lsh_pass, sig)
            est: dict[int, float] = {}
            cc = None
            # 3. containment candidates
            if s.containment and len(reps) > 1:
                fpc_all = np.concatenate(self._fpc)
                chosen = np.zeros(n, bool)
                chosen[reps] = True
                fp = np.concatenate(self._fp)[np.repeat(chosen, fpc_all)]  # the fingerprints of reps, in row order
                task = (fp, fpc_all[reps], reps, s)
                # a compiled loop (numba): in a worker where there is a mapper (the workers load the compiled
                # kernels for verification anyway), so this process needs neither numba's import nor its memory
                cc, cest = (containment_candidates(*task) if self.mapper is map
                            else next(iter(self.mapper(_containment_task, [task]))))
                del fp, chosen
                if not s.verify:
                    est = dict(zip(cc.tolist(), cest.tolist()))
            t_cont = time.perf_counter() - t0
            lsh, t_lsh = lsh_future.result()
        del sig
        stats["candidate_pairs_lsh"] = len(lsh)
        codes = [lsh]
        if cc is not None:
            stats["candidate_pairs_containment"] = len(np.setdiff1d(cc, lsh))
            codes.append(cc)
        self._time("candidates.lsh", t_lsh)  # the two ran side by side: each step's own seconds
        self._time("candidates.containment", t_cont)
        t1 = time.perf_counter()
        cand = np.unique(np.concatenate(codes)) if codes else np.empty(0, U64)
        pairs = _unpack(cand)
        # LSH-only candidates whose signatures agree far less than any threshold are not worth measuring:
        # with 128 permutations the estimate's standard deviation is <= 0.045, so a pair at the threshold
        # scores below threshold - ESTIMATE_SLACK about once in 10^5 (containment candidates always go on)
        if len(pairs) and s.verify and self._sig:
            allsig = np.concatenate(self._sig)
            est_j = np.empty(len(pairs))
            for start in range(0, len(pairs), 16384):
                sl = pairs[start : start + 16384]
                est_j[start : start + len(sl)] = (allsig[sl[:, 0]] == allsig[sl[:, 1]]).mean(axis=1)
            del allsig
            keep = (est_j >= s.threshold - ESTIMATE_SLACK) | np.isin(cand, codes[1] if len(codes) > 1 else cand[:0])
            stats["candidate_pairs_skipped_by_estimate"] = int(len(pairs) - keep.sum())
            pairs, cand = pairs[keep], cand[keep]
        # pairs that no measurement could make duplicates (size ratio below every threshold) are not verified
        if len(pairs):
            lo_sh = np.minimum(nsh[pairs[:, 0]], nsh[pairs[:, 1]])
            hi_sh = np.maximum(nsh[pairs[:, 0]], nsh[pairs[:, 1]])
            small_c = np.minimum(chars[pairs[:, 0]], chars[pairs[:, 1]])
            can_j = lo_sh >= s.threshold_for(small_c) * hi_sh
            can_c = (lo_sh >= s.min_containment_shingles) if s.containment else np.zeros(len(pairs), bool)
            keep = can_j | can_c
            pairs, cand = pairs[keep], cand[keep]
        stats["candidate_pairs"] = len(pairs)
        t2 = time.perf_counter()
        self._time("candidates.containment", t2 - t1)
        # 4. verification
        if s.verify:
            meas = self.measure(pairs, check_slots=True)
            jac, con, slot = meas[:, 0], meas[:, 1], meas[:, 2] > 0
        else:
            allsig = np.concatenate(self._sig) if self._sig else np.empty((0, s.num_perm), U32)
            jac = np.array([float(np.mean(allsig[i] == allsig[j])) for i, j in pairs.tolist()]) if len(pairs) else np.empty(0)
            con = np.array([est.get(c, 0.0) for c in cand.tolist()]) if len(pairs) else np.empty(0)
            slot = np.zeros(len(pairs), bool)
        t3 = time.perf_counter()
        self._time("verification", t3 - t2)
        a, b = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.empty(0, np.int64), np.empty(0, np.int64))
        small_chars = np.minimum(chars[a], chars[b])
        is_j = jac >= s.threshold_for(small_chars)
        is_c = np.zeros(len(pairs), bool)
        if s.containment and len(pairs):
            small = np.minimum(nsh[a], nsh[b])
            is_c = (con >= s.containment_threshold) & (small >= s.min_containment_shingles) & ~is_j
        stats["distinct_slots"] = int(np.count_nonzero((is_j | is_c) & slot))
        is_j &= ~slot
        is_c &= ~slot
        good = is_j | is_c
        stats["verified_pairs"] = int(good.sum())
        stats["verified_jaccard"] = int(is_j.sum())
        stats["verified_containment"] = int(is_c.sum())
        stats["failed_verification"] = int(len(pairs) - good.sum())
        # 5. near clusters: exact and verified Jaccard edges (never containment), strongest first, and never
        # joining two groups between which a pair was found to swap a number or a name (same template,
        # different events): a repost of event A that lost its distinguishing sentence cannot chain A to B
        ex = np.flatnonzero(rep != np.arange(n))
        slot_pairs = pairs[slot & (jac >= s.threshold_for(small_chars))] if len(pairs) else np.empty((0, 2), np.int64)
        labels, blocked = _constrained_components(n, ex, rep[ex], a[is_j], b[is_j], jac[is_j], slot_pairs,
                                                  components=self.components)
        stats["jaccard_edges_blocked"] = blocked
        if self.component_rounds:
            stats["partitioned_component_rounds"] = self.component_rounds
        if self.component_fallbacks:
            stats["partitioned_components_done_in_driver"] = self.component_fallbacks
        sizes = np.bincount(labels)[labels] if n else np.empty(0, np.int64)
        stats["near_clusters"] = int(np.count_nonzero(np.bincount(labels) > 1)) if n else 0
        # 6. directed containment: smaller (shingles, then characters, then later row) inside larger
        ca, cb = a[is_c], b[is_c]
        a_small = (nsh[ca] < nsh[cb]) | ((nsh[ca] == nsh[cb]) & ((chars[ca] < chars[cb]) | ((chars[ca] == chars[cb]) & (ca > cb))))
        small_rows = np.where(a_small, ca, cb)
        large_rows = np.where(a_small, cb, ca)
        stats["containment_edges"] = int(len(small_rows))
        dp = DuplicatePairs(a=a[good], b=b[good], jaccard=jac[good], containment=con[good],
                            match=np.where(is_j[good], "jaccard", "containment").tolist())
        self._time("clustering", time.perf_counter() - t3)
        return Clustering(labels=labels, sizes=sizes, exact_rep=rep, pairs=dp, contained=small_rows, container=large_rows,
                          containment=con[is_c], contained_jaccard=jac[is_c], stats=stats)

    def resolve(self, cl: Clustering, keep: str = "longest", published: Sequence[str | None] | None = None,
                sources: Sequence[str | None] | None = None, source_priority: Sequence[str] = ()) -> Resolution:
        """Pick the survivors: the keep policy inside each near cluster, then containment, directed."""
        t0 = time.perf_counter()
        out = resolve(cl, self.chars, self.n_shingles, self.s, keep, published, sources, source_priority)
        self._time("clustering", time.perf_counter() - t0)
        return out

    def removal_measures(self, cl: Clustering, res: Resolution) -> np.ndarray:
        """(jaccard, containment) of each removed row against the document it was matched to (``res.via``).

        Pairs verified during :meth:`cluster` are looked up; only the others (rows linked to their keeper
        through other members) are measured again. Rows follow ``res.removed``.
        """
        removed = res.removed
        out = np.empty((len(removed), 2))
        if not len(removed):
            return out
        via = res.via[removed]
        p = cl.pairs
        known = _pack_pairs(p.a, p.b)
        want = _pack_pairs(removed, via)
        order = np.argsort(known)
        at = np.searchsorted(known[order], want)
        at[at == len(known)] = 0
        hit = known[order][at] == want if len(known) else np.zeros(len(want), bool)
        out[hit, 0] = p.jaccard[order[at[hit]]]
        out[hit, 1] = p.containment[order[at[hit]]]
        exact = cl.exact_rep[removed] == cl.exact_rep[via]
        out[exact & ~hit] = (1.0, 1.0)
        rest = ~hit & ~exact
        if rest.any():
            out[rest] = self.measure(np.stack([removed[rest], via[rest]], axis=1))
        return out

    def close(self) -> None:
        if self.store_dir is not None:
            shutil.rmtree(self.store_dir, ignore_errors=True)


def _containment_task(task: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Worker: :func:`.candidates.containment_candidates` of (fingerprints, counts, rows, settings)."""
    return containment_candidates(*task)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of an undirected graph, each labelled by its smallest row (numpy min-label
    propagation with pointer jumping; importing scipy.sparse cost the stage almost a second)."""
    label = np.arange(n, dtype=np.int64)
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    while len(a):
        m = np.minimum(label[a], label[b])
        before = label.copy()
        np.minimum.at(label, a, m)
        np.minimum.at(label, b, m)
        while True:  # pointer jumping: every row points at its label's label until nothing moves
            nxt = label[label]
            if np.array_equal(nxt, label):
                break
            label = nxt
        if np.array_equal(label, before):
            break
    return label


def _pack_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    return (np.minimum(a, b).astype(U64) << U64(32)) | np.maximum(a, b).astype(U64)


def _constrained_components(n: int, ea: np.ndarray, eb: np.ndarray, ja: np.ndarray, jb: np.ndarray, jw: np.ndarray,
                            cannot: np.ndarray, components: Callable | None = None) -> tuple[np.ndarray, int]:
    """Union-find labels: exact edges (ea, eb) first, then Jaccard edges by weight, skipping any that would put
    both rows of a ``cannot`` pair in one group. Returns (labels 0..k-1, Jaccard edges skipped).

    An edge can only be skipped inside a connected component (of all edges) that holds both rows of a
    ``cannot`` pair; every other component is taken whole, in numpy, and only the edges of those few go
    through the ordered union-find (the result is the same: groups are labelled by their smallest row).
    ``components(a, b)`` computes the plain components (default: :func:`_components` in this process)."""
    edges = (np.concatenate((ea, ja)), np.concatenate((eb, jb)))
    allc = components(*edges) if components is not None else _components(n, *edges)
    cannot = np.asarray(cannot, np.int64).reshape(-1, 2)
    torn = np.unique(allc[cannot[:, 0]][allc[cannot[:, 0]] == allc[cannot[:, 1]]])
    if not len(torn):
        _, labels = np.unique(allc, return_inverse=True)
        return labels.astype(np.int64), 0
    inside = np.isin(allc, torn)
    keep_e, keep_j = inside[ea], inside[ja]
    ea, eb, ja, jb, jw = ea[keep_e], eb[keep_e], ja[keep_j], jb[keep_j], jw[keep_j]
    cannot = cannot[inside[cannot[:, 0]] & inside[cannot[:, 1]]]
    par = np.where(inside, np.arange(n, dtype=np.int64), allc).tolist()

    def find(x: int) -> int:
        root = x
        while par[root] != root:
            root = par[root]
        while par[x] != root:
            par[x], x = root, par[x]
        return root

    for x, y in zip(ea.tolist(), eb.tolist()):
        rx, ry = find(x), find(y)
        if rx != ry:
            par[max(rx, ry)] = min(rx, ry)
    conflicts: dict[int, list[int]] = {}
    for x, y in cannot.tolist():
        conflicts.setdefault(find(x), []).append(y)
        conflicts.setdefault(find(y), []).append(x)
    blocked = 0
    for k in np.argsort(-jw, kind="stable").tolist():
        rx, ry = find(int(ja[k])), find(int(jb[k]))
        if rx == ry:
            continue
        cx, cy = conflicts.get(rx, ()), conflicts.get(ry, ())
        if (cx or cy) and (any(find(z) == ry for z in cx) or any(find(z) == rx for z in cy)):
            blocked += 1
            continue
        root, other = min(rx, ry), max(rx, ry)
        par[other] = root
        if cx or cy:
            conflicts[root] = list(cx) + list(cy)
            conflicts.pop(other, None)
    roots = np.fromiter((find(x) for x in range(n)), dtype=np.int64, count=n)
    _, labels = np.unique(roots, return_inverse=True)
    return labels.astype(np.int64), blocked


# -- keep policy and containment ---------------------------------------------------------------------------------

def choose_keepers(labels: np.ndarray, chars: Sequence[int], policy: str = "longest",
                   published: Sequence[str | None] | None = None, sources: Sequence[str | None] | None = None,
                   source_priority: Sequence[str] = ()) -> np.ndarray:
    """The row kept for each row's cluster.

    longest: most characters, ties to the first added; earliest: earliest ``published`` (undated
    last), ties to the first added (an original usually precedes its reposts in a corpus too);
    source_priority: first listed source, ties to the longer text, then the first added.
    """
    if policy not in KEEP_POLICIES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, got {policy!r}")
    n = len(labels)
    chars = np.asarray(chars, dtype=np.int64)
    rowno = np.arange(n)
    if policy == "earliest":
        dates = np.array([(p or "9999")[:19] for p in (published if published is not None else [None] * n)])
        order = np.lexsort((rowno, dates, labels))
    elif policy == "source_priority":
        rank_of = {name: k for k, name in enumerate(source_priority)}
        srcs = sources if sources is not None else [None] * n
        rank = np.array([rank_of.get(x, len(rank_of)) for x in srcs], dtype=np.int64)
        order = np.lexsort((rowno, -chars, rank, labels))
    else:
        order = np.lexsort((rowno, -chars, labels))
    first_of_label = np.empty(labels.max() + 1 if n else 0, dtype=np.int64)
    lab_sorted = labels[order]
    is_first = np.r_[True, lab_sorted[1:] != lab_sorted[:-1]] if n else np.empty(0, bool)
    first_of_label[lab_sorted[is_first]] = order[is_first]
    return first_of_label[labels] if n else np.empty(0, np.int64)


def resolve(cl: Clustering, chars: np.ndarray, nsh: np.ndarray, s: MinHashSettings, keep: str = "longest",
            published: Sequence[str | None] | None = None, sources: Sequence[str | None] | None = None,
            source_priority: Sequence[str] = ()) -> Resolution:
    """Survivors of a clustering (see :meth:`MinHashDeduper.resolve`)."""
    labels = cl.labels
    n = len(labels)
    if not n:
        return Resolution(keeper=np.empty(0, np.int64), match=[], via=np.empty(0, np.int64))
    keeper_row = choose_keepers(labels, chars, keep, published, sources, source_priority)
    K = np.arange(labels.max() + 1)
    K[labels] = keeper_row
    # inside a near cluster, a keeper that is an excerpt of another member (contained in it, and under
    # EXCERPT_SHARE of its size) gives way to the container; a repost with a header stays a repost
    p = cl.pairs
    if s.containment and len(p.a):
        ct = s.containment_threshold
        same = labels[p.a] == labels[p.b]
        for _ in range(3):
            changed = False
            for x, y, c in zip(p.a[same].tolist(), p.b[same].tolist(), p.containment[same].tolist()):
                if c < ct:
                    continue
                small, large = (x, y) if nsh[x] <= nsh[y] else (y, x)
                lab = labels[small]
                if K[lab] == small and nsh[small] < EXCERPT_SHARE * nsh[large] and nsh[small] >= s.min_containment_shingles:
                    K[lab] = large
                    changed = True
            if not changed:
                break
    # containment between clusters: a cluster whose keeper is contained in another document points at
    # that document's cluster. The best container: highest containment; then the one that contains the
    # fewest other groups (a roundup quoting ten briefs is a compilation, the brief's own article is its
    # source); then the most similar overall. A non-keeper member contained elsewhere moves nothing: it is
    # already removed for its own keeper.
    holds: dict[int, set[int]] = {}
    for x, y in zip(cl.contained.tolist(), cl.container.tolist()):
        holds.setdefault(y, set()).add(int(labels[x]))
    target: dict[int, tuple[tuple, int, int]] = {}
    for x, y, c, j in zip(cl.contained.tolist(), cl.container.tolist(), cl.containment.tolist(), cl.contained_jaccard.tolist()):
        lx, ly = int(labels[x]), int(labels[y])
        if lx == ly or K[lx] != x:
            continue
        rank = (round(c, 2), -len(holds[y]), j)
        best = target.get(lx)
        if best is None or rank > best[0]:
            target[lx] = (rank, ly, y)

    def root(lab: int) -> int:
        seen = {lab}
        while lab in target:
            nxt = target[lab][1]
            if nxt in seen:  # a cycle (rare: mutual containment between clusters): stop where we are
                return lab
            seen.add(nxt)
            lab = nxt
        return lab

    lab_target = np.full(len(K), -1, np.int64)
    lab_via = np.full(len(K), -1, np.int64)
    for lab, (_, _, container_row) in target.items():
        r = root(lab)
        if r != lab:
            lab_target[lab] = r
            lab_via[lab] = container_row
    t = lab_target[labels]
    contained_rows = t >= 0
    keeper = K[labels].copy()
    keeper[contained_rows] = K[t[contained_rows]]
    via = keeper.copy()
    via[contained_rows] = lab_via[labels[contained_rows]]
    rowno = np.arange(n)
    rep = cl.exact_rep
    match = np.where(keeper == rowno, "kept",
                     np.where(rep == rep[keeper], "exact",
                              np.where(contained_rows, "containment", "jaccard"))).tolist()
    via[keeper == rowno] = rowno[keeper == rowno]
    return Resolution(keeper=keeper, match=match, via=via)
