"""What one answered request becomes: rows for rejected/, items waiting for the duplicate check, counters.

:class:`ReplyRecorder` runs in a worker process of its own (one, started with the stage), so the grounding
scores, filters and records of one reply are computed while the next replies are still on their way, on
the other core, instead of holding up the event loop that sends and receives. It is a pure function of a
:class:`ChunkResult`: it returns a :class:`Recorded`, which the stage applies in request order (writers and
counters stay in the stage's process, so the output is the same as if it had run inline).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ...items import SplitRule, item_id
from ...text.normalize import compare_form
from ...text.shingles import char_ngrams
from .chunks import Chunk
from .filters import ItemFilters, dup_forms, grounding_of
from .replies import Reading

OTHER_TYPE = "其他"


@dataclass
class ChunkResult:
    chunk: Chunk
    outcome: str  # valid | unwrapped | repaired | truncated | reasked | failed
    reason: str = ""
    detail: str = ""
    reading: Reading | None = None
    first: Reading | None = None
    replies: list = field(default_factory=list)  # Completion


@dataclass
class PendingItem:
    """An item that passed the filters and waits for the duplicate check (a block at a time, in the stage)."""

    record: dict[str, Any]
    task_type: str
    family: str
    grounding: float
    chunk_id: str
    chunk_text: str  # the head shown in the report's samples


@dataclass
class Recorded:
    counts: Counter = field(default_factory=Counter)
    used: Counter = field(default_factory=Counter)  # tokens and replies, paid or cached
    returned: int | None = None  # items in the reply that was used
    rejects: list[tuple[str, str, dict, dict]] = field(default_factory=list)  # reason, detail, record, extra columns
    invalid: list[tuple[dict, dict]] = field(default_factory=list)  # records jsonschema must word the problem of
    pending: list[tuple[PendingItem, tuple[str, str]]] = field(default_factory=list)

    def reject(self, reason: str, detail: str, record: dict, **extra: Any) -> None:
        self.rejects.append((reason, detail, record, extra))


def written_from(grams: set[str], doc_grams: list[set[str]]) -> int:
    """The index of the chunk's document that an item's output and input (their character n-grams, ``grams``)
    share most n-grams with.

    A chunk packs several short documents, all on one side of the split; an item is credited to the one it
    was written from, so its provenance names the right article. Ties go to the first.
    """
    best, best_shared = 0, -1
    for k, doc in enumerate(doc_grams):
        shared = len(grams & doc)
        if shared > best_shared:
            best, best_shared = k, shared
    return best


class ReplyRecorder:
    """Everything the recording of a reply needs, picklable, so it can live in a worker process."""

    def __init__(self, settings: Mapping[str, Any], examples: Sequence[Mapping[str, str]], split: SplitRule, prompt_id: str,
                 default_model: str, record_check):
        self.settings = settings
        self.filters = ItemFilters(settings, examples)
        self.known_types = set(settings["task_types"])
        self.split = split  # the one split rule; export applies the floor over all origins
        self.prompt_id = prompt_id
        self.default_model = default_model
        self.record_check = record_check  # fast yes/no on the record schema, or None

    def __call__(self, res: ChunkResult) -> Recorded:
        out = Recorded()
        chunk = res.chunk
        out.counts["chunks"] += 1
        for c in res.replies:
            key = "cached" if c.cached else "paid"
            out.used[f"{key}_prompt_tokens"] += c.usage.prompt_tokens
            out.used[f"{key}_completion_tokens"] += c.usage.completion_tokens
            out.used[f"{key}_replies"] += 1
        out.counts[f"request_{res.outcome}"] += 1
        base = {"source": chunk.source, "chunk_id": chunk.id}
        first = res.first
        if res.outcome == "reasked" and first is not None:
            out.counts[f"reasked_{first.problem}"] += 1
            self.reject_reading(out, first, chunk, base, "first reply, re-asked: ", res.replies[0])
        if res.outcome == "failed":
            raw = {"id": chunk.id, "source": chunk.source, "doc_ids": chunk.doc_ids,
                   "replies": [{"text": c.text, "finish_reason": c.finish_reason, "refusal": c.refusal} for c in res.replies]}
            out.reject(res.reason, res.detail, raw, chunk_id=chunk.id)
            return out
        reading = res.reading
        assert reading is not None
        for how in reading.shape:
            out.counts[f"unwrapped_{how}"] += 1
        for r in reading.repairs:
            out.counts[f"repaired_{r}"] += 1
        for fix in reading.fixes:
            out.counts[f"item_{fix}"] += 1
        out.returned = reading.returned
        out.counts["items_returned"] += reading.returned
        self.reject_reading(out, reading, chunk, base, "", None)
        f = self.filters
        n = f.grounding_n
        chunk_grams = char_ngrams(chunk.text, n)
        doc_grams = [char_ngrams(t, n) for t in chunk.doc_texts()] if len(chunk.doc_ids) > 1 else []
        model = res.replies[-1].model if res.replies else self.default_model
        head = chunk.text[:400]  # one string for all the reply's items: pickled once on the way back
        cid = base["chunk_id"]  # a hash of the chunk's text: made once
        for item in reading.items:
            task_type = item["task_type"] if item["task_type"] in self.known_types else OTHER_TYPE
            if task_type != item["task_type"]:
                out.counts["unlisted_task_type"] += 1
            forms = (compare_form(item["instruction"]), compare_form(item["input"]), compare_form(item["output"]))
            output_grams = char_ngrams(forms[2], n, normalized=True)  # once, for the grounding and the document
            grounding = grounding_of(output_grams, chunk_grams)
            if doc_grams:
                source_id = chunk.doc_ids[written_from(output_grams | char_ngrams(forms[1], n, normalized=True), doc_grams)]
            else:
                source_id = chunk.doc_ids[0]
            record = {
                "id": item_id(item["instruction"], item["input"], item["output"]), "instruction": item["instruction"],
                "input": item["input"], "output": item["output"],
                "family": item["family"], "subcategory": f"selfinstruct/{task_type}", "template_id": None, "phrasing_id": None,
                "source_id": source_id, "split": self.split.provisional_side(source_id),
                "origin": "selfinstruct",
                "meta": json.dumps({"doc_ids": chunk.doc_ids, "pages": chunk.pages, "chunk_id": cid, "chunk_part": chunk.part,
                                    "model": model, "prompt_id": self.prompt_id, "grounding": grounding,
                                    "task_type": item["task_type"], "request_outcome": res.outcome},
                                   ensure_ascii=False, sort_keys=True),
            }
            verdict = f.check(item, grounding, forms)
            if verdict is not None:
                out.reject(verdict.reason, verdict.detail, record, source=record["subcategory"], chunk_id=cid)
                continue
            if self.record_check is None or not self.record_check(record):
                out.invalid.append((record, {"chunk_id": cid}))  # the stage words the problem with jsonschema
                continue
            pending = PendingItem(record, task_type, item["family"], grounding, cid, head)
            out.pending.append((pending, dup_forms(item, forms)))
        return out

    @staticmethod
    def reject_reading(out: Recorded, reading: Reading, chunk: Chunk, base: Mapping[str, Any], why: str, reply) -> None:
        """Rows for what a reading could not use; for a re-asked first reply (``reply``) the raw reply too when
        nothing could be read from it."""
        for item in reading.empty:
            out.reject("dropped_empty", why + ("empty instruction" if not item["instruction"] else "empty answer"),
                       {"id": chunk.id, "item": item}, **base)
        for raw, problem in reading.invalid:
            out.reject("dropped_invalid_item", why + problem, {"id": chunk.id, "item": raw}, **base)
        if reading.dropped_tail is not None:
            out.reject("dropped_truncated_item", why + "the reply was cut by max_tokens inside this item (finish_reason=length)",
                       {"id": chunk.id, "item": reading.dropped_tail}, **base)
        if reply is not None:
            for item in reading.items:
                out.reject("dropped_reasked_item", why + (reading.error or ""), {"id": chunk.id, "item": item}, **base)
            if not (reading.items or reading.invalid or reading.empty or reading.dropped_tail is not None):
                out.reject("dropped_reasked_reply", why + (reading.error or "no item could be read"),
                           {"id": chunk.id, "text": reply.text, "finish_reason": reply.finish_reason, "refusal": reply.refusal}, **base)
