"""The state of one generation run: made in ``SelfInstructStage.run``, passed to each step, dropped after.

The stage object holds only its settings; everything a run gathers (counts of items per request, tokens
used, the grounding of kept items, the report samples, the items waiting for the duplicate check, the
client's statistics) lives here, so a second run on the same stage starts clean and the report
tables (``report.py``) are made from this object and the run's counters alone.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Mapping

from .filters import NearDuplicates
from .recorder import PendingItem


@dataclass
class GenerationRun:
    """What one run of the stage gathers (see the module docstring)."""

    near: NearDuplicates
    waiting: deque[PendingItem]  # items that passed the filters, not yet settled by ``near`` (at most a block)
    rng: random.Random  # the reservoir sample of kept items, seeded by [build] seed
    samples_wanted: int
    samples: list[dict[str, Any]] = field(default_factory=list)
    kept_seen: int = 0
    grounding: list[tuple[str, float]] = field(default_factory=list)  # (task type, grounding) of each kept item
    families: Counter[str] = field(default_factory=Counter)
    items_per_request: Counter[int] = field(default_factory=Counter)
    used: Counter[str] = field(default_factory=Counter)  # tokens and replies, paid and cached
    client_stats: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    @classmethod
    def start(cls, filter_settings: Mapping[str, Any], seed: int, samples: int) -> GenerationRun:
        return cls(NearDuplicates(filter_settings), deque(), random.Random(seed), samples)

    def sample(self, record: Mapping[str, Any], chunk_id: str, chunk_text: str, grounding: float) -> None:
        """Reservoir sample of kept items with their source chunk, for the report."""
        self.kept_seen += 1
        row = {"id": record["id"], "task": record["subcategory"], "grounding": grounding, "instruction": record["instruction"],
               "input": record["input"][:200], "output": record["output"][:300], "chunk_id": chunk_id,
               "source_chunk": chunk_text}
        if len(self.samples) < self.samples_wanted:
            self.samples.append(row)
        else:
            j = self.rng.randrange(self.kept_seen)
            if j < self.samples_wanted:
                self.samples[j] = row
