"""``builder contamination``: evaluation items found inside the exported training data, via the dedup engine."""

from __future__ import annotations

import json

import polars as pl
import pytest

from conftest import DEMO


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory):
    from builder.cli import main

    out = tmp_path_factory.mktemp("demo")
    try:
        main(["run", "all", "-c", str(DEMO / "build.toml"), "--output", str(out)])
    except SystemExit as exc:
        assert exc.code in (0, None)
    return out


def test_copied_and_reworded_items_are_found_fresh_ones_are_not(demo_build, tmp_path, cli):
    train = pl.read_parquet(sorted((demo_build / "export" / "data").glob("*.parquet"))).filter(pl.col("split") == "train")
    a, b = train.row(0, named=True), train.row(1, named=True)
    reworded = dict(b, output=b["output"].replace("，", ",").replace("。", ".") + "以上。")
    fresh = {"instruction": "请为下面的新闻写一个标题。", "input": "河湾镇今年首次举办乡村音乐节，吸引周边十余个村庄的合唱队登台演出，"
             "镇文化站负责人表示将把音乐节办成一年一度的群众文化品牌。", "output": "河湾镇首届乡村音乐节开幕"}
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(json.dumps({k: d[k] for k in ("instruction", "input", "output")}, ensure_ascii=False)
                              for d in (a, reworded, fresh)) + "\n", encoding="utf-8")
    r = cli("contamination", path, "-c", DEMO / "build.toml", "--output", demo_build, "--write", tmp_path / "hits.parquet", "--fail")
    assert r.code == 1, r
    hits = pl.read_parquet(tmp_path / "hits.parquet")
    assert hits["eval_index"].to_list() == [0, 1]
    assert hits["train_id"].to_list() == [a["id"], b["id"]]
    assert hits["match"][0] == "exact"
    assert "2 of 3 evaluation items" in r.out


def test_bad_eval_file_is_one_line(demo_build, tmp_path, cli):
    bad = tmp_path / "eval.jsonl"
    bad.write_text('{"instruction": "x"}\n{oops\n', encoding="utf-8")
    r = cli("contamination", bad, "-c", DEMO / "build.toml", "--output", demo_build)
    assert r.code == 1 and "eval.jsonl:2: invalid JSON" in r.err and r.err.strip().count("\n") == 0
