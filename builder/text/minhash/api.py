"""One-call uses of the engine on lists of strings: find_duplicates, contamination, describe_bands."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .engine import Mapper, MinHashDeduper
from .settings import MinHashSettings


@dataclass
class DuplicateResult:
    """Duplicates in a list of texts. ``keep[i]`` says whether text i survives."""

    ids: list[Any]
    keep: list[bool]
    removed: dict[Any, tuple[Any, float, str]]  # removed id -> (kept id, similarity to what it matched, match)
    clusters: list[list[Any]]  # ids of each group with removals, keeper first
    pairs: list[tuple[Any, Any, float, float, str]]  # verified pairs: (id_a, id_b, jaccard, containment, match)
    stats: dict[str, int]
    container: dict[Any, Any] | None = None  # removed id -> the document that contains it (containment matches)


def removal_match(match: str, jaccard: float, containment: float, s: MinHashSettings) -> tuple[str, float, bool]:
    """How a removed document matches the one it was measured against: (match, similarity, direct).

    A member of a near cluster that is, measured against its keeper, an excerpt of it (containment
    reached, Jaccard not) is reported as a containment match; ``direct`` is False when neither
    measure reaches its threshold (the document was linked to its keeper through other members).
    """
    if match in ("exact", "kept"):
        return match, 1.0, True
    ct = s.containment_threshold if s.containment else None
    if match == "jaccard" and jaccard < s.threshold and ct is not None and containment >= ct:
        match = "containment"
    if match == "containment":
        return match, containment, ct is not None and containment >= ct
    return match, jaccard, jaccard >= s.threshold


def _settings(settings: MinHashSettings | None, overrides: dict[str, Any]) -> MinHashSettings:
    base = settings or MinHashSettings()
    return replace(base, **overrides) if overrides else base


def find_duplicates(texts: Sequence[str], ids: Sequence[Any] | None = None, settings: MinHashSettings | None = None,
                    keep: str = "longest", published: Sequence[str | None] | None = None,
                    sources: Sequence[str | None] | None = None, source_priority: Sequence[str] = (),
                    mapper: Mapper | None = None, store_dir: Path | str | None = None, **overrides: Any) -> DuplicateResult:
    """Exact and near duplicates in a list of texts (see the package docstring for an example).

    ``overrides`` are :class:`MinHashSettings` fields (``threshold=0.6, ngram=3`` …).
    """
    s = _settings(settings, overrides)
    ids = list(ids) if ids is not None else list(range(len(texts)))
    if len(ids) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(ids)} ids")
    dd = MinHashDeduper(s, store_dir=store_dir, mapper=mapper)
    try:
        dd.add([list(texts)])
        cl = dd.cluster()
        res = dd.resolve(cl, keep, published, sources, source_priority)
        removed_rows = res.removed
        sims = dd.removal_measures(cl, res)
    finally:
        dd.close()
    removed: dict[Any, tuple[Any, float, str]] = {}
    container: dict[Any, Any] = {}
    for row, (jac, con) in zip(removed_rows.tolist(), sims.tolist()):
        k = int(res.keeper[row])
        m, sim, _ = removal_match(res.match[row], jac, con, s)
        removed[ids[row]] = (ids[k], round(sim, 4), m)
        if m == "containment":
            container[ids[row]] = ids[int(res.via[row])]
    groups: dict[int, list[int]] = {}
    for row in removed_rows.tolist():
        groups.setdefault(int(res.keeper[row]), []).append(row)
    clusters = [[ids[k]] + [ids[r] for r in rows] for k, rows in groups.items()]
    p = cl.pairs
    pairs = [(ids[a], ids[b], round(j, 4), round(c, 4), m)
             for a, b, j, c, m in zip(p.a.tolist(), p.b.tolist(), p.jaccard.tolist(), p.containment.tolist(), p.match)]
    keep_flags = (res.keeper == np.arange(len(ids))).tolist()
    return DuplicateResult(ids=ids, keep=keep_flags, removed=removed, clusters=clusters, pairs=pairs,
                           stats=cl.stats, container=container)


@dataclass(frozen=True)
class ContaminationHit:
    eval_index: int
    train_index: int
    jaccard: float
    containment: float
    match: str  # exact | jaccard | containment


def contamination(eval_texts: Sequence[str], train_texts: Sequence[str], threshold: float = 0.5,
                  containment_threshold: float | None = 0.8, settings: MinHashSettings | None = None,
                  mapper: Mapper | None = None, **overrides: Any) -> list[ContaminationHit]:
    """Evaluation items that have an exact, near or containing duplicate in the training texts (best match each).

    Evaluation items are often short questions, so the short-text rules of the dedup stage do not
    apply here unless asked for (``min_near_chars=0, short_chars=0``), and an item copied with its
    numbers or names changed still counts (``distinct_slots=False``).
    """
    overrides = {"min_near_chars": 0, "short_chars": 0, "distinct_slots": False, **overrides}
    s = _settings(settings, dict(overrides, threshold=threshold, containment_threshold=containment_threshold))
    n_eval = len(eval_texts)
    dd = MinHashDeduper(s, mapper=mapper, collapse_exact=False)
    dd.add([list(eval_texts) + list(train_texts)])
    cl = dd.cluster()
    best: dict[int, ContaminationHit] = {}
    exact = dd.exact
    p = cl.pairs
    for a, b, j, c, m in zip(p.a.tolist(), p.b.tolist(), p.jaccard.tolist(), p.containment.tolist(), p.match):
        if (a < n_eval) == (b < n_eval):
            continue
        e, t = (a, b) if a < n_eval else (b, a)
        match = "exact" if exact[e] == exact[t] else m
        hit = ContaminationHit(e, t - n_eval, round(j, 4), round(c, 4), match)
        old = best.get(e)
        if old is None or max(hit.jaccard, hit.containment) > max(old.jaccard, old.containment):
            best[e] = hit
    return [best[k] for k in sorted(best)]


def describe_bands(settings: MinHashSettings) -> dict[str, float]:
    """Bands, rows and the probability that a pair at a few Jaccard values becomes a candidate."""
    b, r = settings.bands_rows()
    out: dict[str, float] = {"bands": b, "rows": r}
    for j in (0.3, 0.5, 0.7, 0.9):
        out[f"p_candidate_at_{j}"] = round(1 - (1 - j**r) ** b, 4)
    return out
