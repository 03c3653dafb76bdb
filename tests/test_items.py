"""The hash part of the one split rule (builder.items.SplitRule with no floor band): a source document's side
depends on its id and the build seed only."""

from __future__ import annotations

from builder.items import SplitRule

SOURCES = [f"doc-{i:04d}" for i in range(400)]


def validation(seed: int, share: float) -> set[str]:
    rule = SplitRule.from_settings(seed, {"validation_share": share, "validation_max_share": share, "validation_items_per_family": 0})
    return {s for s in SOURCES if rule.fixed_side(s) == "validation"}


def test_a_source_lands_on_the_same_side_every_time_and_the_share_is_kept():
    first = validation(7, 0.25)
    assert first == validation(7, 0.25)
    assert 0.18 <= len(first) / len(SOURCES) <= 0.32
    assert validation(7, 0.0) == set() and validation(7, 1.0) == set(SOURCES)


def test_the_build_seed_draws_another_split():
    # a different seed is a different sample of validation documents, not the same one
    a, b = validation(1, 0.5), validation(2, 0.5)
    assert a != b and len(a ^ b) >= len(SOURCES) // 4
