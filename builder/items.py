"""Instruction items: the id, the split rule and the length measure every stage that makes or assembles items shares."""

from __future__ import annotations

import re

import xxhash

WHITESPACE = re.compile(r"\s")


def cjk_len(text: str | None) -> int:
    """Characters without whitespace: the length an editor means by 字数 (limits of templates and selfinstruct)."""
    return len(WHITESPACE.sub("", text or ""))


def item_id(instruction: str, input_: str, output: str) -> str:
    """xxh3-64 hex of instruction, input and output (joined by a unit separator, so fields cannot run together)."""
    return xxhash.xxh3_64_hexdigest("\x1f".join((instruction, input_, output)).encode("utf-8"))


def hashed_split(source_id: str, seed: int, validation_share: float) -> str:
    """A stable split for a source document: the same document always lands on the same side."""
    h = xxhash.xxh3_64_intdigest(f"{seed}:{source_id}".encode("utf-8"))
    return "validation" if h / 2**64 < validation_share else "train"
