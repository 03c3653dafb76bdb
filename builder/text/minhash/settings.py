"""The one typed config shared by every step of the engine (sketch, candidates, verification, decisions)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, Mapping

KEEP_POLICIES = ("longest", "earliest", "source_priority")


@dataclass(frozen=True)
class MinHashSettings:
    """Everything that changes which documents are duplicates. Defaults match ``schemas/config/dedup.schema.json``."""

    ngram: int = 5
    tokenizer: str = "char"  # char | word (jieba)
    num_perm: int = 128
    threshold: float = 0.5
    containment_threshold: float | None = 0.8
    min_containment_shingles: int = 40
    min_near_chars: int = 30  # a pair whose smaller text is shorter (comparison form) is a duplicate only when exact
    short_chars: int = 100  # ... and one whose smaller text is shorter than this needs short_threshold
    short_threshold: float = 0.7
    distinct_slots: bool = True  # same wording with different numbers / ordinals / names at the same place: not a duplicate
    max_slot_chars: int = 12
    verify: bool = True
    seed: int = 1
    signature_backend: str = "rensa"  # rensa | numpy (datasketch affine32, kept for comparison and for tests)
    candidate_recall_weight: float = 0.95
    sample_bits: int = 3
    containment_margin: float = 0.25
    max_bucket: int = 64
    max_posting: int = 64
    lsh_backend: str = "bands"  # bands | datasketch
    near: bool = True  # False = exact duplicates only

    def __post_init__(self):
        if self.tokenizer not in ("char", "word"):
            raise ValueError(f"tokenizer must be 'char' or 'word', got {self.tokenizer!r}")
        if self.lsh_backend not in ("bands", "datasketch"):
            raise ValueError(f"lsh_backend must be 'bands' or 'datasketch', got {self.lsh_backend!r}")
        if self.signature_backend not in ("rensa", "numpy"):
            raise ValueError(f"signature_backend must be 'rensa' or 'numpy', got {self.signature_backend!r}")
        if self.ngram < 1 or self.num_perm < 2:
            raise ValueError("ngram must be >= 1 and num_perm >= 2")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], **overrides: Any) -> "MinHashSettings":
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in dict(cfg, **overrides).items() if k in names}
        ct = values.get("containment_threshold", cls.containment_threshold)
        if ct is not None and ct <= 0:
            values["containment_threshold"] = None
        return cls(**values)

    @property
    def containment(self) -> bool:
        return self.containment_threshold is not None

    def bands_rows(self) -> tuple[int, int]:
        """LSH bands and rows from datasketch's own optimiser, weighted towards recall (candidates are verified).

        Banded for ``threshold``, the lowest Jaccard any pair can be merged at (short texts need more).
        """
        return _bands_rows(self.threshold, self.num_perm, self.candidate_recall_weight)

    def threshold_for(self, smaller_chars):
        """The Jaccard a pair needs, given the length of its smaller text (numpy arrays welcome)."""
        import numpy as np

        small = np.asarray(smaller_chars)
        need = np.where(small < self.short_chars, max(self.threshold, self.short_threshold), self.threshold)
        return np.where(small < self.min_near_chars, np.inf, need)

    def threshold_at(self, smaller_chars: int) -> float:
        """:meth:`threshold_for` for one pair (no numpy)."""
        if smaller_chars < self.min_near_chars:
            return float("inf")
        return max(self.threshold, self.short_threshold) if smaller_chars < self.short_chars else self.threshold

    def describe(self) -> str:
        b, r = self.bands_rows()
        cont = f", containment ≥ {self.containment_threshold} (directed)" if self.containment else ""
        slots = ", different numbers/names = distinct" if self.distinct_slots else ""
        return (f"{self.tokenizer} {self.ngram}-grams, {self.num_perm} permutations ({self.signature_backend}), "
                f"LSH {b} bands × {r} rows, Jaccard ≥ {self.threshold} (≥ {self.short_threshold} under "
                f"{self.short_chars} chars, exact only under {self.min_near_chars}){cont}{slots}, "
                f"verification {'on' if self.verify else 'off (estimates)'}")


@lru_cache(maxsize=64)
def _bands_rows(threshold: float, num_perm: int, recall_weight: float) -> tuple[int, int]:
    """datasketch's ``lsh._optimal_param`` (bands and rows minimising weighted false positive and negative
    areas), integrated with Simpson's rule in numpy instead of scipy's quad: the same choice (a test checks
    it against datasketch) without importing scipy.integrate, which cost 2 s per process."""
    import numpy as np

    def area(lo: float, hi: float, f) -> np.ndarray:
        x = np.linspace(lo, hi, 401)
        y = f(x[:, None])
        w = np.ones(401)
        w[1:-1:2], w[2:-1:2] = 4, 2
        return (y * w[:, None]).sum(axis=0) * (hi - lo) / 1200

    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    bs = np.array([p[0] for p in pairs], dtype=float)
    rs = np.array([p[1] for p in pairs], dtype=float)
    fp = area(0.0, threshold, lambda t: 1 - (1 - t**rs) ** bs)
    fn = area(threshold, 1.0, lambda t: (1 - t**rs) ** bs)
    error = fp * (1.0 - recall_weight) + fn * recall_weight
    return pairs[int(np.argmin(error))]
