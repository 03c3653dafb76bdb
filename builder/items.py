"""Instruction items: the id, the split rule and the length measure every stage that makes or assembles items shares."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import xxhash

from .errors import BuilderError, ConfigError

WHITESPACE = re.compile(r"\s")


def cjk_len(text: str | None) -> int:
    """Characters without whitespace: the length an editor means by 字数 (limits of templates and selfinstruct)."""
    return len(WHITESPACE.sub("", text or ""))


def item_id(instruction: str, input_: str, output: str) -> str:
    """xxh3-64 hex of instruction, input and output (joined by a unit separator, so fields cannot run together)."""
    return xxhash.xxh3_64_hexdigest("\x1f".join((instruction, input_, output)).encode("utf-8"))


# -- the split rule -------------------------------------------------------------------------------
SPLITS = ("train", "validation")


def split_rank(source_id: str, seed: int) -> float:
    """A source document's place in [0, 1): xxh3-64 of the seed and the id, so it depends on nothing else."""
    return xxhash.xxh3_64_intdigest(f"{seed}:split:{source_id}".encode("utf-8")) / 2**64


@dataclass(frozen=True)
class SplitRule:
    """The one split rule of every origin (templates, selfinstruct, export); see README, "Splits".

    Every source document has a stable rank (:func:`split_rank`). A rank below ``share`` puts it in
    validation and a rank at or above ``ceiling`` in train, whatever the caps, templates, sources or
    origins. Between the two (the floor band) a document goes to validation only when a family it has
    items of is still short of ``floor`` validation items once every document ranked below it has been
    placed; documents are taken in rank order. So a document's side depends on its own items and the
    items of documents ranked below it, never on documents ranked above it. ``floor = 0`` empties the band.
    A document in ``pinned`` (the ledger of an earlier export, ``[export] keep_splits``) keeps its side.
    """

    seed: int
    share: float = 0.05
    floor: int = 100
    ceiling: float = 0.2
    pinned: Mapping[str, str] = field(default_factory=dict)  # sides an earlier release fixed ([export] keep_splits)

    @classmethod
    def from_settings(cls, seed: int, export: Mapping[str, Any], pinned: Mapping[str, str] | None = None) -> "SplitRule":
        share = float(export.get("validation_share", cls.share))
        ceiling = float(export.get("validation_max_share", cls.ceiling))
        if ceiling < share:
            raise ConfigError(f"[export] validation_max_share ({ceiling}) is below validation_share ({share}): "
                              "documents ranked below validation_share are always in validation")
        return cls(int(seed), share, int(export.get("validation_items_per_family", cls.floor)), ceiling, dict(pinned or {}))

    @classmethod
    def from_build(cls, build: Any) -> "SplitRule":
        """The rule of a build: ``[build] seed``, the ``[export]`` split keys and the ``keep_splits`` file."""
        export = build.stage("export")
        pinned = read_split_ledger(build.resolve(export["keep_splits"])) if export.get("keep_splits") else None
        return cls.from_settings(build.settings["build"]["seed"], export, pinned)

    def fingerprint(self) -> dict[str, Any]:
        pins = xxhash.xxh3_64_hexdigest("\n".join(f"{k}\t{v}" for k, v in sorted(self.pinned.items())).encode("utf-8"))
        return {"seed": self.seed, "share": self.share, "floor": self.floor, "ceiling": self.ceiling,
                "pinned": pins if self.pinned else None}

    def rank(self, source_id: str) -> float:
        return split_rank(source_id, self.seed)

    def fixed_side(self, source_id: str) -> str | None:
        """The side an earlier release pinned or the hash alone decides, or None for a document in the floor band."""
        if source_id in self.pinned:
            return self.pinned[source_id]
        r = self.rank(source_id)
        if r < self.share:
            return "validation"
        if r >= self.ceiling or not self.floor:
            return "train"
        return None

    def provisional_side(self, source_id: str) -> str:
        """The side before the floor is known: a band document is train until the floor takes it."""
        return self.fixed_side(source_id) or "train"

    def pack_group(self, source_id: str) -> str | None:
        """Documents that may share a selfinstruct chunk: those of one fixed side; a band document shares with none."""
        return self.fixed_side(source_id)

    def assign(self, items: Iterable[tuple[str, str]]) -> "SplitDecision":
        """Sides for the source documents of (source_id, family) pairs, one pair per item."""
        by_source: dict[str, Counter] = defaultdict(Counter)
        for source, family in items:
            by_source[source][family] += 1
        have: Counter = Counter()
        sides: dict[str, str] = {}
        band: list[tuple[float, str]] = []
        for source, fams in by_source.items():
            side = self.fixed_side(source)
            if side is None:
                band.append((self.rank(source), source))
                continue
            sides[source] = side
            if side == "validation":
                have.update(fams)
        floor_taken: list[str] = []
        for _, source in sorted(band):
            fams = by_source[source]
            if any(have[f] < self.floor for f in fams):
                sides[source] = "validation"
                floor_taken.append(source)
                have.update(fams)
            else:
                sides[source] = "train"
        totals: Counter = Counter()
        for fams in by_source.values():
            totals.update(fams)
        return SplitDecision(sides, floor_taken, dict(totals), dict(have), self)


LEDGER_HEADER = "source_id\tsplit"


def read_split_ledger(path: Path) -> dict[str, str]:
    """source_id -> split from a ledger an export wrote (``export/splits.tsv``: a header, then id TAB split)."""
    if not path.is_file():
        raise BuilderError(f"{path}: split ledger not found ([export] keep_splits; an export writes export/splits.tsv)")
    sides: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    if not lines or lines[0].strip() != LEDGER_HEADER:
        raise BuilderError(f"{path}:1: not a split ledger (expected the header 'source_id<TAB>split')")
    for no, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) != 2 or not parts[0] or parts[1] not in SPLITS:
            raise BuilderError(f"{path}:{no}: expected 'source_id<TAB>train|validation', got {line[:80]!r}")
        if sides.get(parts[0], parts[1]) != parts[1]:
            raise BuilderError(f"{path}:{no}: {parts[0]} is listed on both sides")
        sides[parts[0]] = parts[1]
    return sides


def format_split_ledger(sides: Mapping[str, str]) -> str:
    return LEDGER_HEADER + "\n" + "".join(f"{k}\t{v}\n" for k, v in sorted(sides.items()))


@dataclass
class SplitDecision:
    sides: dict[str, str]  # source_id -> split
    floor_taken: list[str]  # band documents the floor put in validation, in rank order
    items: dict[str, int]  # family -> items
    validation: dict[str, int]  # family -> validation items
    rule: SplitRule

    def families(self) -> list[dict[str, Any]]:
        """One row per family: items, validation items, their share, the floor and whether it was reached."""
        rows = []
        for family in sorted(self.items):
            n, v = self.items[family], self.validation.get(family, 0)
            rows.append({"family": family, "items": n, "validation": v, "validation_share": round(v / n, 4) if n else 0.0,
                         "floor": self.rule.floor, "floor_reached": v >= self.rule.floor})
        return rows

    def counts(self) -> Counter:
        c: Counter = Counter()
        c["validation_articles"] = sum(1 for s in self.sides.values() if s == "validation")
        c["validation_articles_by_floor"] = len(self.floor_taken)
        c["articles_with_kept_split"] = sum(1 for s in self.sides if s in self.rule.pinned)
        return c
