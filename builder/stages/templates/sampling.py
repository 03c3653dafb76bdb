"""Balance and splits: a seeded cap per sub-category, phrasing rotation, a split by source article.

Sampling keeps the ``cap`` candidates with the smallest seeded hash, so the result does not depend
on the order documents arrive in and memory stays bounded by the caps. The split moves whole source
articles to validation until every family has about its target, so no article is on both sides.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from typing import Any, Callable, Iterable

import xxhash


def seeded_key(seed: int, *parts: Any) -> int:
    return xxhash.xxh3_64_intdigest(":".join(map(str, (seed, *parts))).encode("utf-8"))


class CappedSample:
    """Keep the ``cap`` items with the smallest key; hand each evicted item to ``on_evict``."""

    def __init__(self, cap: int, on_evict: Callable[[dict[str, Any]], None]):
        self.cap = cap
        self.on_evict = on_evict
        self._heap: list[tuple[int, int, dict[str, Any]]] = []
        self._n = 0

    def offer(self, key: int, item: dict[str, Any]) -> None:
        self._n += 1
        if self.cap <= 0:
            self.on_evict(item)
            return
        entry = (-key, self._n, item)
        if len(self._heap) < self.cap:
            heapq.heappush(self._heap, entry)
        elif -self._heap[0][0] > key:
            _, _, out = heapq.heapreplace(self._heap, entry)
            self.on_evict(out)
        else:
            self.on_evict(item)

    def items(self) -> list[dict[str, Any]]:
        """Kept items, smallest key first (the order phrasings rotate in)."""
        return [e[2] for e in sorted(self._heap, key=lambda e: (-e[0], e[1]))]

    def __len__(self) -> int:
        return len(self._heap)


def rotate_phrasings(n_items: int, n_phrasings: int, seed: int, sub_id: str) -> list[int]:
    """Phrasing ids for the items of one sub-category: round-robin from a seeded start."""
    start = seeded_key(seed, "phrasing", sub_id) % n_phrasings
    return [(start + i) % n_phrasings for i in range(n_items)]


def validation_targets(family_totals: Counter, per_family: int, max_share: float) -> dict[str, int]:
    return {f: min(per_family, int(math.floor(n * max_share))) for f, n in family_totals.items()}


def split_by_source(items: Iterable[tuple[str, str]], per_family: int, max_share: float, seed: int) -> set[str]:
    """Source ids that go to validation, from (source_id, family) pairs, one per item.

    Families are filled scarcest first (fewest source articles): whole articles are taken in a seeded
    order while the family is below its target and no family would pass its limit (a quarter over its
    target, or one article's worth). A family with a zero target gets no validation items.
    """
    by_source: dict[str, Counter] = defaultdict(Counter)
    totals: Counter = Counter()
    for source, family in items:
        by_source[source][family] += 1
        totals[family] += 1
    targets = validation_targets(totals, per_family, max_share)
    biggest = {f: max(c[f] for c in by_source.values()) for f in totals}
    limit = {f: (max(math.ceil(t * 1.25), t + biggest[f]) if t else 0) for f, t in targets.items()}
    order = sorted(by_source, key=lambda s: seeded_key(seed, "split", s))
    articles = Counter(f for c in by_source.values() for f in c)
    have: Counter = Counter()
    chosen: set[str] = set()
    for family in sorted(targets, key=lambda f: (articles[f], f)):
        for source in order:
            if have[family] >= targets[family]:
                break
            counts = by_source[source]
            if source in chosen or family not in counts:
                continue
            if any(have[f] + c > limit[f] for f, c in counts.items()):
                continue
            chosen.add(source)
            have.update(counts)
    return chosen
