"""The reviewer's loop: decisions made in ``report.html``, recorded in the build folder, obeyed by export.

A reviewer marks sampled records accept or reject (with a note), or rejects a whole sub-category or corpus
source, in the static page ``<output>/report.html`` and downloads the decisions as JSON.
``builder review apply FILE -c CONFIG`` checks that file and merges it into ``<output>/review/decisions.json``
(the latest decision on a record, sub-category or source wins). Only export reads that file: it leaves
out every rejected item (``rejected_by_review``), and the file's hash is one of export's inputs, so
changed decisions make export, and nothing before it, stale.

Why a downloaded file rather than a local server: the report opens from disk anywhere (a laptop, a
mail attachment), needs no process kept running and no port, and the file is a plain record of who
decided what that ``apply`` validates before anything changes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import BuilderError
from ..shards import atomic_write_text

FORMAT = "builder-review"
VERSION = 1
KINDS = ("record", "subcategory", "source")
DECISIONS = ("accept", "reject")
APPLIED = Path("review") / "decisions.json"  # under the build output


@dataclass(frozen=True)
class Decision:
    kind: str  # record | subcategory | source
    key: str  # the record id, the sub-category id or the source name
    decision: str  # accept | reject
    stage: str = ""  # the stage whose record it is (records only)
    note: str = ""
    reviewer: str = ""
    decided_at: str = ""

    @property
    def slot(self) -> str:
        """What the decision is about: a later decision on the same slot replaces an earlier one."""
        return f"{self.kind}:{self.key}"

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.key, "stage": self.stage, "decision": self.decision, "note": self.note,
                "reviewer": self.reviewer, "decided_at": self.decided_at}


def parse_decisions(path: Path) -> list[Decision]:
    """The decisions of a file downloaded from report.html; a bad file or entry is one line naming it."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise BuilderError(f"{path}: review file not found") from None
    except json.JSONDecodeError as exc:
        raise BuilderError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BuilderError(f"{path}: not a review file (expected a JSON object with \"format\": \"{FORMAT}\", "
                           "as report.html downloads it)")
    if doc.get("version") != VERSION:
        raise BuilderError(f"{path}: review file version {doc.get('version')!r} is not supported (expected {VERSION})")
    entries = doc.get("decisions")
    if not isinstance(entries, list):
        raise BuilderError(f"{path}: 'decisions' must be a list")
    out = []
    for i, e in enumerate(entries):
        where = f"{path}: decisions[{i}]"
        if not isinstance(e, dict):
            raise BuilderError(f"{where}: expected an object with kind, id and decision")
        kind, key, decision = str(e.get("kind") or ""), str(e.get("id") or "").strip(), str(e.get("decision") or "").lower()
        if kind not in KINDS:
            raise BuilderError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if not key:
            raise BuilderError(f"{where}: empty id")
        if decision not in DECISIONS:
            raise BuilderError(f"{where}: decision must be 'accept' or 'reject', got {decision!r}")
        out.append(Decision(kind, key, decision, str(e.get("stage") or ""), str(e.get("note") or "").strip(),
                            str(e.get("reviewer") or doc.get("reviewer") or ""), str(e.get("decided_at") or doc.get("created") or "")))
    return out


def read_applied(output: Path) -> list[Decision]:
    """The decisions recorded in a build folder (none when nothing was applied)."""
    path = output / APPLIED
    if not path.is_file():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [Decision(e["kind"], e["id"], e["decision"], e.get("stage", ""), e.get("note", ""), e.get("reviewer", ""),
                     e.get("decided_at", "")) for e in doc["decisions"]]


@dataclass
class Applied:
    """What ``apply`` changed: counts for the one line the command prints."""
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    total: int = 0
    rejected: int = 0
    path: Path = field(default_factory=Path)


def apply_decisions(output: Path, decisions: Iterable[Decision]) -> Applied:
    """Merge ``decisions`` into ``<output>/review/decisions.json``; a later decision on a slot replaces the earlier one."""
    current = {d.slot: d for d in read_applied(output)}
    result = Applied(path=output / APPLIED)
    for d in decisions:
        old = current.get(d.slot)
        if old is None:
            result.added += 1
        elif (old.decision, old.note) != (d.decision, d.note):
            result.changed += 1
        else:
            result.unchanged += 1
            continue
        current[d.slot] = d
    ordered = sorted(current.values(), key=lambda d: (KINDS.index(d.kind), d.key))
    result.total = len(ordered)
    result.rejected = sum(d.decision == "reject" for d in ordered)
    if not (result.added or result.changed) and result.path.is_file():
        return result  # nothing new: the file (and so export's freshness) stays as it was
    doc = {"format": FORMAT, "version": VERSION, "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "decisions": [d.as_json() for d in ordered]}
    result.path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(result.path, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    return result


class ReviewFilter:
    """Export's view of the recorded decisions: which items they reject, and the card's review facts."""

    def __init__(self, decisions: Iterable[Decision]):
        self.decisions = list(decisions)
        by = {k: {d.key: d for d in self.decisions if d.kind == k} for k in KINDS}
        self.records, self.subcategories, self.sources = by["record"], by["subcategory"], by["source"]

    def __bool__(self) -> bool:
        return bool(self.decisions)

    @staticmethod
    def item_source(item: Mapping[str, Any]) -> str:
        """The corpus source an item was made from (its meta), else its origin."""
        try:
            meta = json.loads(item.get("meta") or "{}")
        except (TypeError, ValueError):
            meta = {}
        return str(meta.get("source") or item.get("origin") or "")

    def rejects(self, item: Mapping[str, Any]) -> str | None:
        """Why a reviewer's decision leaves ``item`` out (one line), or None."""
        for d, what in ((self.records.get(item.get("id") or ""), "the item"),
                        (self.records.get(item.get("source_id") or ""), f"its article {item.get('source_id')}"),
                        (self.subcategories.get(item.get("subcategory") or ""), f"its sub-category {item.get('subcategory')}"),
                        (self.sources.get(self.item_source(item)), f"its source {self.item_source(item)}")):
            if d is not None and d.decision == "reject":
                return f"item {item.get('id')}: a reviewer rejected {what}" + (f": {d.note}" if d.note else "")
        return None

    def reviewed(self, item: Mapping[str, Any]) -> bool:
        """A person looked at the item itself (a decision on its id)."""
        return (item.get("id") or "") in self.records

    def card_rows(self, items: list[Mapping[str, Any]], removed: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Per sub-category: items before review, items a person reviewed, and the share of them rejected."""
        rows: dict[str, dict[str, Any]] = {}
        for it, gone in [(it, False) for it in items] + [(it, True) for it in removed]:
            r = rows.setdefault(it.get("subcategory") or "", {"subcategory": it.get("subcategory") or "", "items": 0, "reviewed": 0,
                                                            "rejected": 0})
            r["items"] += 1
            if self.reviewed(it) or gone:
                r["reviewed"] += 1
            r["rejected"] += gone
        out = []
        for r in sorted(rows.values(), key=lambda r: r["subcategory"]):
            r["reviewed_share"] = round(r["reviewed"] / r["items"], 4) if r["items"] else 0.0
            r["rejection_rate"] = round(r["rejected"] / r["reviewed"], 4) if r["reviewed"] else 0.0
            out.append(r)
        return out


def review_filter(output: Path) -> ReviewFilter:
    return ReviewFilter(read_applied(output))
