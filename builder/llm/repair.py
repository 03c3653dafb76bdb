"""JSON out of a model's reply: extract, repair, and drop a truncated tail.

Chat models wrap JSON in code fences, add a sentence before and after, use Chinese quotation marks
(“ ”) as JSON quotes, leave trailing commas, or stop mid-item when ``max_tokens`` runs out. The
`json-repair <https://github.com/mangiucugna/json_repair>`_ library fixes the syntax; this module decides
what to hand it and reports what was wrong, so each kind of repair can be counted.

``parse_json_reply(text, finish_reason)`` -> :class:`ParsedReply` with ``status`` one of ``valid`` (parsed as
is), ``repaired`` (parsed after repairs, listed in ``repairs``) or ``invalid`` (``error`` says why). When the
reply was cut (``finish_reason == "length"``) and its last list item was not closed, that item is removed and
returned in ``dropped_tail``: json-repair would close it, but its last field is cut short.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

FENCE = re.compile(r"```[ \t]*(?:json|JSON|json5)?[ \t]*\n?(.*?)(?:```|$)", re.S)
CHINESE_QUOTE_AS_JSON = re.compile(r"[{\[,:]\s*[“”]|[“”]\s*[:,}\]]")
TRAILING_COMMA = re.compile(r",\s*[}\]]")
CLOSED_TAIL = re.compile(r"\}\s*(?:,\s*)?(?:\]\s*)?(?:\}\s*)?$")


@dataclass
class ParsedReply:
    status: str  # valid | repaired | invalid
    value: Any = None
    repairs: list[str] = field(default_factory=list)
    error: str | None = None
    dropped_tail: Any = None

    @property
    def ok(self) -> bool:
        return self.status != "invalid"


def _strict(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def _fenced(text: str) -> str | None:
    blocks = [m.group(1).strip() for m in FENCE.finditer(text)]
    blocks = [b for b in blocks if b.startswith(("{", "["))]
    return blocks[0] if blocks else None


def _unbalanced(text: str) -> bool:
    depth, in_str, esc = 0, False, False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return depth != 0 or in_str


def the_list(value: Any, list_key: str | None) -> list | None:
    """The list of items inside a reply: the value itself, ``value[list_key]`` or its only list field."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if list_key and isinstance(value.get(list_key), list):
            return value[list_key]
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
    return None


def parse_json_reply(text: str | None, finish_reason: str | None = None, list_key: str | None = "items") -> ParsedReply:
    """Parse a reply's JSON, repairing what a model typically gets wrong (see the module docstring)."""
    import json_repair

    raw = (text or "").strip()
    if not raw:
        return ParsedReply("invalid", error="the reply is empty")
    truncated = finish_reason == "length"
    ok, value = _strict(raw)
    if ok and not truncated:
        return ParsedReply("valid", value)
    repairs: list[str] = []
    candidate = raw
    fenced = _fenced(raw)
    if fenced is not None:
        candidate = fenced
        repairs.append("code_fence")
        ok, value = _strict(candidate)
    if not ok:
        start = min((i for i in (candidate.find("{"), candidate.find("[")) if i >= 0), default=-1)
        if start < 0:
            return ParsedReply("invalid", repairs=repairs, error="no JSON object or array in the reply")
        if start > 0:
            repairs.append("surrounding_prose")
        candidate = candidate[start:]
        if CHINESE_QUOTE_AS_JSON.search(candidate):
            repairs.append("chinese_quotes")
        if TRAILING_COMMA.search(candidate):
            repairs.append("trailing_comma")
        if _unbalanced(candidate):
            repairs.append("missing_brackets")
        value = json_repair.repair_json(candidate, return_objects=True)
        if not isinstance(value, (dict, list)) or value in ({}, []):
            return ParsedReply("invalid", repairs=repairs, error="no JSON object or array could be recovered from the reply")
        if not any(r in repairs for r in ("chinese_quotes", "trailing_comma", "missing_brackets")):
            repairs.append("syntax")
    dropped = None
    if truncated:
        items = the_list(value, list_key)
        if items and not CLOSED_TAIL.search(candidate):
            dropped = items.pop()
            repairs.append("truncated_item_dropped")
        elif not repairs and ok:
            return ParsedReply("valid", value)
    return ParsedReply("repaired" if repairs else "valid", value, repairs, None, dropped)
