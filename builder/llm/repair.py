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


def item_list(value: Any, list_key: str | None) -> list | None:
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
        items = item_list(value, list_key)
        if items and not CLOSED_TAIL.search(candidate):
            dropped = items.pop()
            repairs.append("truncated_item_dropped")
        elif not repairs and ok:
            return ParsedReply("valid", value)
    return ParsedReply("repaired" if repairs else "valid", value, repairs, None, dropped)


# -- items out of any reply shape ---------------------------------------------------------------------------
_DECODER = json.JSONDecoder()
_SEPARATORS = " \t\r\n,"
ITEM_KEYS = ("instruction", "output")  # a dict with one of these is an item, not a wrapper


@dataclass
class ItemsReply:
    """The items of one reply and how they were got out of it.

    ``shape`` says where the list was (unwrapping, free: the JSON was fine), ``repairs`` what syntax had to
    be mended (json-repair or missing brackets), ``truncated`` whether ``finish_reason`` was ``length``, in
    which case ``dropped_tail`` holds the raw text of the item that was cut (never kept).
    """

    items: list[Any] | None = None
    shape: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    truncated: bool = False
    dropped_tail: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.items is not None

    @property
    def outcome(self) -> str:
        """valid | unwrapped | repaired | truncated | invalid: the one word for the request's counters."""
        if self.items is None:
            return "invalid"
        if self.truncated:
            return "truncated"
        if self.repairs:
            return "repaired"
        return "unwrapped" if self.shape else "valid"


def _is_item(value: Any) -> bool:
    return isinstance(value, dict) and any(k in value for k in ITEM_KEYS)


def unwrap(value: Any, list_key: str = "items") -> tuple[list[Any] | None, str]:
    """The list of items in a parsed reply and the shape it came in ("" for ``{list_key: [...]}``).

    Shapes: a bare array (``bare_array``), an object with the list under another single key
    (``wrapped_list``), a single item object (``single_item``), an object of item objects keyed by number or
    name (``keyed_items``). None when the value holds no list of items.
    """
    if isinstance(value, list):
        return value, "bare_array"
    if not isinstance(value, dict):
        return None, ""
    if isinstance(value.get(list_key), list):
        return value[list_key], ""
    if _is_item(value):
        return [value], "single_item"
    lists = [v for v in value.values() if isinstance(v, list)]
    if len(lists) > 1:  # several lists: the one holding items
        lists = [v for v in lists if v and all(_is_item(x) for x in v)]
    if len(lists) == 1:
        return lists[0], "wrapped_list"
    if value and all(_is_item(v) for v in value.values()):
        return list(value.values()), "keyed_items"
    nested = [v for v in value.values() if isinstance(v, dict)]
    if len(nested) == 1:  # {"data": {"items": [...]}}
        inner, _ = unwrap(nested[0], list_key)
        if inner is not None:
            return inner, "wrapped_list"
    return None, ""


def _stream(text: str, pos: int) -> tuple[list[Any], int, bool, bool]:
    """Decode JSON values one after another from ``pos`` (separated by whitespace or commas).

    Returns (values, end, comma_separated, stopped_on_error); stops at a ``]``, at the end, or at the first
    value that does not decode (then ``end`` is where it starts)."""
    values: list[Any] = []
    commas = False
    n = len(text)
    while True:
        start = pos
        while pos < n and text[pos] in _SEPARATORS:
            pos += 1
        if values and "," in text[start:pos]:
            commas = True
        if pos >= n or text[pos] == "]":
            return values, pos, commas, False
        if text[pos] not in "{[\"0123456789-tfn":
            return values, pos, commas, False
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except ValueError:
            return values, pos, commas, True
        values.append(value)


def _items_from_array(text: str, bracket: int) -> tuple[list[Any], int, bool]:
    """The items of the array opening at ``text[bracket]``: (items, where decoding stopped, closed)."""
    items, end, _commas, broken = _stream(text, bracket + 1)
    return items, end, (not broken and end < len(text) and text[end] == "]")


def extract_items(text: str | None, finish_reason: str | None = None, list_key: str = "items") -> ItemsReply:
    """Every item of a reply, whatever its shape; a syntax repair only when the JSON itself is broken.

    In order: the whole reply as JSON; a fenced block; the JSON value(s) after any prose (one value, or
    several one after another: JSON lines, or objects separated by commas without the outer brackets); for a
    reply cut by ``max_tokens``, the complete items before the cut; and last json-repair. Strict parsing
    comes first everywhere, so a well-formed reply costs one ``json.loads``.
    """
    raw = (text or "").strip()
    truncated = finish_reason == "length"
    if not raw:
        return ItemsReply(error="the reply is empty", truncated=truncated)
    shape: list[str] = []
    ok, value = _strict(raw)
    if ok:
        items, how = unwrap(value, list_key)
        if items is not None:
            return ItemsReply(items, [how] if how else [], [], truncated)
        return ItemsReply(error="the JSON holds no list of items", truncated=truncated)
    body = raw
    fenced = _fenced(raw)
    if fenced is not None:
        shape.append("code_fence")
        ok, value = _strict(fenced)
        if ok:
            items, how = unwrap(value, list_key)
            if items is not None:
                return ItemsReply(items, shape + ([how] if how else []), [], truncated)
        body = fenced
    start = min((i for i in (body.find("{"), body.find("[")) if i >= 0), default=-1)
    if start < 0:
        return ItemsReply(error="no JSON object or array in the reply", shape=shape, truncated=truncated)
    if start > 0 and not shape:
        shape.append("surrounding_prose")
    values, end, commas, broken = _stream(body, start)
    if values and not broken:
        if len(values) == 1:
            items, how = unwrap(values[0], list_key)
            if items is not None:
                if body[end:].strip() and "surrounding_prose" not in shape and "code_fence" not in shape:
                    shape.append("surrounding_prose")
                return ItemsReply(items, shape + ([how] if how else []), [], truncated)
        elif all(_is_item(v) for v in values):
            if commas:  # {..}, {..}: an array without its brackets, a syntax slip
                return ItemsReply(values, shape, ["missing_brackets"], truncated)
            return ItemsReply(values, shape + ["json_lines"], [], truncated)
    # the first value does not decode: cut by max_tokens, or broken syntax
    bracket = body.find("[", start)
    if bracket >= 0 and body[start] in "{[":
        items, stop, closed = _items_from_array(body, bracket)
        if items and all(_is_item(x) for x in items) and (truncated or closed):
            tail = body[stop:].strip().rstrip("]}").strip() or None
            if truncated and not closed:
                return ItemsReply(items, shape, [], True, tail)
            slip = "trailing_comma" if TRAILING_COMMA.search(body) else "missing_brackets" if _unbalanced(body[start:]) else "syntax"
            return ItemsReply(items, shape, [slip], truncated)
    if values and all(_is_item(v) for v in values) and truncated:  # JSON lines cut inside the last line
        return ItemsReply(values, shape + ["json_lines"], [], True, body[end:].strip() or None)
    parsed = parse_json_reply(body, finish_reason, list_key)
    if not parsed.ok:
        return ItemsReply(error=parsed.error, shape=shape, truncated=truncated)
    items, how = unwrap(parsed.value, list_key)
    if items is None:
        return ItemsReply(error="the JSON holds no list of items", shape=shape, truncated=truncated)
    repairs = [r for r in parsed.repairs if r not in ("code_fence", "surrounding_prose", "truncated_item_dropped")] or ["syntax"]
    return ItemsReply(items, shape + ([how] if how else []), repairs, truncated, parsed.dropped_tail)
