"""What selfinstruct reads: the dedup stage's documents (as chunks for the model) and a quick check of the
records it makes against the instruction schema."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import pyarrow.parquet as pq

from ...errors import BuilderError
from ...shards import shard_files
from .chunks import Chunk, chunk_documents


def read_documents(folder: Path) -> Iterator[dict[str, Any]]:
    """The dedup output's documents (id, source, title, text, meta), 256 rows in memory at a time."""
    for f in shard_files(folder):
        names = pq.read_schema(f).names
        cols = [c for c in ("id", "source", "title", "text", "meta") if c in names]
        if "id" not in cols or "text" not in cols:
            raise BuilderError(f"{f}: the dedup output has no 'id' or 'text' column (columns: {', '.join(names)})")
        for batch in pq.ParquetFile(f).iter_batches(batch_size=256, columns=cols):
            yield from batch.to_pylist()


def document_chunks(documents: Iterable[Mapping[str, Any]], settings: Mapping[str, Any],
                    group: Callable[[Mapping[str, Any]], Any] | None = None) -> Iterator[Chunk]:
    """The chunks one request each, by the token budget of ``[selfinstruct]``; at most ``max_chunks``.
    Documents share a chunk only when ``group`` gives them the same value (the split side)."""
    chunks = chunk_documents(documents, settings["chunk_tokens"], settings["overlap_tokens"], group)
    return itertools.islice(chunks, settings["max_chunks"]) if settings["max_chunks"] else chunks


SIMPLE_KEYWORDS = {"type", "minLength", "pattern", "enum", "minimum", "description", "title", "$schema", "$id", "default", "examples"}
JSON_TYPES = {"string": str, "integer": int, "null": type(None), "number": (int, float), "boolean": bool, "array": list, "object": dict}


def fast_check(schema: Mapping[str, Any]):
    """A quick yes/no check of a flat record against ``schema`` (type, minLength, pattern, enum, minimum,
    required, additionalProperties), or None when the schema uses other keywords.

    jsonschema spends about 1.5 ms on one instruction record; this takes a few µs, so a run validates every
    record without holding up its requests. A record it refuses is checked again by jsonschema, which
    words the problem, so a message never comes from here."""
    if not set(schema) <= SIMPLE_KEYWORDS | {"properties", "required", "additionalProperties"} or schema.get("type") != "object":
        return None
    props = schema.get("properties", {})
    checks = []
    for name, p in props.items():
        if not set(p) <= SIMPLE_KEYWORDS:
            return None
        types = p.get("type")
        pytypes = tuple(JSON_TYPES[t] for t in ([types] if isinstance(types, str) else types or []))
        pattern = re.compile(p["pattern"]) if "pattern" in p else None
        checks.append((name, pytypes, p.get("minLength"), pattern, frozenset(p["enum"]) if "enum" in p else None, p.get("minimum")))
    required = tuple(schema.get("required", ()))
    closed = schema.get("additionalProperties") is False
    allowed = frozenset(props)

    def ok(record: Mapping[str, Any]) -> bool:
        if any(k not in record for k in required) or (closed and not allowed.issuperset(record)):
            return False
        for name, pytypes, min_len, pattern, enum, minimum in checks:
            if name not in record:
                continue
            v = record[name]
            if pytypes and (not isinstance(v, pytypes) or (isinstance(v, bool) and bool not in pytypes)):
                return False
            if enum is not None and v not in enum:
                return False
            if isinstance(v, str):
                if min_len is not None and len(v) < min_len:
                    return False
                if pattern is not None and not pattern.search(v):
                    return False
            elif minimum is not None and isinstance(v, (int, float)) and v < minimum:
                return False
        return True

    return ok
