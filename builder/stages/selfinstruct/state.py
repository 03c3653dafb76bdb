"""The state of one generation run: made in ``SelfInstructStage.run``, passed to each step, dropped after.

The stage object holds only its settings; everything a run gathers (counts of items per request, tokens
used, the grounding of kept items, the report samples, the spill file of items waiting for the duplicate
check, the client's statistics) lives here, so a second run on the same stage starts clean and the report
tables (``report.py``) are made from this object and the run's counters alone.
"""

from __future__ import annotations

import pickle
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from .filters import NearDuplicates
from .recorder import PendingItem


class Spill:
    """Items waiting for the duplicate check, pickled to an unlinked temporary file: memory stays flat however
    many requests a run makes; only each item's short comparison key stays in memory."""

    def __init__(self, folder: Path):
        self._file = tempfile.TemporaryFile(dir=folder)
        self.count = 0

    def add(self, p: PendingItem) -> None:
        pickle.dump(p, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def __iter__(self) -> Iterator[PendingItem]:
        self._file.flush()
        self._file.seek(0)
        for _ in range(self.count):
            yield pickle.load(self._file)

    def close(self) -> None:
        self._file.close()


@dataclass
class GenerationRun:
    """What one run of the stage gathers (see the module docstring)."""

    spill: Spill
    near: NearDuplicates
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
    def start(cls, folder: Path, filter_settings: Mapping[str, Any], seed: int, samples: int) -> GenerationRun:
        return cls(Spill(folder), NearDuplicates(filter_settings), random.Random(seed), samples)

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

    def close(self) -> None:
        self.spill.close()
