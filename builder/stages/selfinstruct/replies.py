"""One reply -> its items: every shape unwrapped, each item tidied or rejected with its reason.

This is the only per-reply work done while requests are in flight: one ``json.loads`` for a well-formed
reply (``builder.llm.repair.extract_items``) and a few dict operations per item, so the event loop is free
to send and receive. Everything heavier (grounding, filters, records) happens on the stage's worker thread.

Outcomes of a reply (``Reading.status``): ``valid`` (JSON as asked), ``unwrapped`` (well-formed JSON in
another shape: a bare array, another wrapper key, one item, a fence, prose around it, JSON lines),
``repaired`` (the JSON syntax had to be mended), ``truncated`` (cut by ``max_tokens``: its complete items
are kept, the cut one is rejected) or ``invalid`` (no usable item: the stage re-asks once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ...llm import Completion, extract_items
from .prompt import DEFAULT_FAMILY, FAMILIES

TEXT_FIELDS = ("task_type", "instruction", "input", "output")
FAMILY_SET = frozenset(FAMILIES)


@dataclass
class Reading:
    """What one reply gave: usable items, the others with their reason, and how the list was got out."""

    status: str  # valid | unwrapped | repaired | truncated | invalid
    items: list[dict[str, str]] = field(default_factory=list)
    invalid: list[tuple[Any, str]] = field(default_factory=list)  # (raw item, why)
    empty: list[dict[str, Any]] = field(default_factory=list)
    shape: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)  # item-level: filled_input, joined_output … (one per item)
    error: str | None = None
    problem: str = ""  # invalid_json | schema | refusal, when invalid
    dropped_tail: Any = None
    returned: int = 0


def tidy(raw: Any, family_of: dict[str, str]) -> tuple[dict[str, str] | None, list[str], str]:
    """An item with its five string fields, the fixes made, or None and why it is unusable.

    An omitted input or task type is "", a list answer is joined by lines, a number becomes text. The
    family is the item's own when it is one of the four, else its task type's (``family_from_task_type``),
    else 其他QA (``family_missing`` / ``family_invalid``)."""
    if not isinstance(raw, dict):
        return None, [], f"the item is a {type(raw).__name__}, not an object"
    fixes: list[str] = []
    item: dict[str, str] = {}
    for k in TEXT_FIELDS:
        v = raw.get(k)
        if v is None:
            if k in ("input", "task_type"):
                v = ""
                fixes.append(f"filled_{k}")
            else:
                return None, fixes, f"'{k}' is missing"
        elif isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v):
            v = "\n".join(str(x) for x in v)
            fixes.append(f"joined_{k}")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            v = str(v)
            fixes.append(f"coerced_{k}")
        elif not isinstance(v, str):
            return None, fixes, f"'{k}' is a {type(v).__name__}, not a string"
        item[k] = v.strip()
    family = raw.get("family")
    family = family.strip() if isinstance(family, str) else ""
    if family not in FAMILY_SET:
        fixes.append("family_invalid" if family else "family_missing")
        if item["task_type"] in family_of:
            family = family_of[item["task_type"]]
            fixes.append("family_from_task_type")
        else:
            family = DEFAULT_FAMILY
            fixes.append("family_defaulted")
    item["family"] = family
    if set(raw) - set(TEXT_FIELDS) - {"family"}:
        fixes.append("extra_fields")
    return item, fixes, ""


def read_reply(c: Completion, family_of: dict[str, str], is_refusal: Callable[[str], bool]) -> Reading:
    """Unwrap, repair and check one reply (see the module docstring)."""
    if c.refusal and not (c.text or "").strip():
        return Reading("invalid", error=f"the model refused: {c.refusal[:200]}", problem="refusal")
    got = extract_items(c.text, c.finish_reason, "items")
    if not got.ok:
        refused = is_refusal(c.text or "")
        return Reading("invalid", shape=got.shape, error="the reply is a refusal, not JSON" if refused else got.error,
                       problem="refusal" if refused else "invalid_json")
    reading = Reading(got.outcome, shape=got.shape, repairs=got.repairs, dropped_tail=got.dropped_tail, returned=len(got.items))
    for raw in got.items:
        item, fixes, problem = tidy(raw, family_of)
        if item is None:
            reading.invalid.append((raw, problem))
            continue
        if not (item["instruction"] and item["output"]):
            reading.empty.append(item)
            continue
        reading.fixes.extend(fixes)
        reading.items.append(item)
    if not reading.items:
        first = (reading.invalid[0][1] if reading.invalid else
                 "every item has an empty instruction or answer" if reading.empty else "the list of items is empty")
        reading.status, reading.error, reading.problem = "invalid", f"no valid item: {first}", "schema"
    return reading
