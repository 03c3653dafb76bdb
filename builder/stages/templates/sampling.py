"""Balance: a seeded cap per sub-category and phrasing rotation (the split is ``builder.items.SplitRule``).

Sampling keeps the ``cap`` candidates with the smallest seeded hash, so the result does not depend
on the order documents arrive in and memory stays bounded by the caps.
"""

from __future__ import annotations

import heapq
from typing import Any, Callable

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
