"""The common report tables read from a stage's shards (builder.report.build_report)."""

import polars as pl

from builder.report import build_report
from builder.shards import REJECTED_SCHEMA, write_parquet


def test_rejected_counts_and_samples_come_from_every_shard_in_order(tmp_path):
    """Reasons and sources are counted over all shards; the samples are each reason's first two rows in shard
    order (read shard by shard: a run with 100k+ rejected rows no longer reads all their details at once)."""
    stage = tmp_path / "stage"
    shards = [
        [("dropped_duplicate_exact", "a", "r1"), ("dropped_refusal", "a", "r2"), ("dropped_duplicate_exact", "b", "r3")],
        [("dropped_duplicate_exact", "b", "r4"), ("dropped_empty", None, "r5")],
        [("dropped_refusal", "a", "r6"), ("dropped_refusal", "b", "r7")],
    ]
    for k, rows in enumerate(shards):
        df = pl.DataFrame([{"reason": r, "source": s, "id": i, "detail": f"why {i}", "path": f"p/{i}", "record": "{}" * 1000}
                           for r, s, i in rows], schema={c: REJECTED_SCHEMA.get(c, pl.String) for c in
                                                          ("reason", "source", "id", "detail", "path", "record")})
        write_parquet(df, stage / "rejected" / f"part-{k:05d}.parquet")
    tables = build_report(stage, "test", {}, {"data": 0, "rejected": 7})
    drops = dict(tables["drops"].select("reason", "count").iter_rows())
    assert drops == {"dropped_duplicate_exact": 3, "dropped_refusal": 3, "dropped_empty": 1}
    sources = dict(tables["sources"].select("source", "rejected").iter_rows())
    assert sources == {"a": 3, "b": 3, None: 1}
    samples = tables["samples"].filter(pl.col("kind") == "rejected")
    assert samples["id"].to_list() == ["r1", "r3", "r2", "r6", "r5"]  # grouped by reason, in order of first appearance
    assert samples["excerpt"].to_list()[0] == "why r1 | p/r1"
