"""The train/validation split of instruction items by their source document (builder.items.hashed_split)."""

from __future__ import annotations

from builder.items import hashed_split

SOURCES = [f"doc-{i:04d}" for i in range(400)]


def validation(seed: int, share: float) -> set[str]:
    return {s for s in SOURCES if hashed_split(s, seed, share) == "validation"}


def test_a_source_lands_on_the_same_side_every_time_and_the_share_is_kept():
    first = validation(7, 0.25)
    assert first == validation(7, 0.25)
    assert 0.18 <= len(first) / len(SOURCES) <= 0.32
    assert validation(7, 0.0) == set() and validation(7, 1.0) == set(SOURCES)


def test_the_build_seed_draws_another_split():
    # a different seed is a different sample of validation documents, not the same one
    a, b = validation(1, 0.5), validation(2, 0.5)
    assert a != b and len(a ^ b) >= len(SOURCES) // 4
