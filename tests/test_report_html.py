"""The HTML report and the report tables: flows that add up, routing apart, no empty tables, integers as
integers, a glossary sentence for every reason, charts that are drawn, and a page that stays offline."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from builder.report import flow_table, fmt, load_report
from builder.report.glossary import REASONS, is_routing, meaning

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "corpora" / "demo" / "build.toml"
STAGES = ("corpus", "dedup", "templates", "selfinstruct", "export")


def run_cli(*args) -> int:
    from builder.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo built once for this module (report.html included); tests that change it work on a copy."""
    out = tmp_path_factory.mktemp("report") / "demo"
    with pytest.MonkeyPatch.context() as mp:
        for var in ("BUILDER_CONFIG", "OPENAI_API_KEY", "HF_TOKEN"):
            mp.delenv(var, raising=False)
        assert run_cli("run", "all", "-c", DEMO_CONFIG, "-o", out) == 0
    return out


# -- units -------------------------------------------------------------------------------------------------
def test_flow_table_adds_up_and_states_a_difference():
    t = flow_table(10, 6, {"too_short": 3, "missing_title": 5}, routing=("missing_",))
    rows = {(r["step"], r["reason"]): r["rows"] for r in t.iter_rows(named=True)}
    assert rows == {("in", ""): 10, ("kept", ""): 6, ("rejected", "too_short"): 3, ("difference", ""): 1, ("routing", "missing_title"): 5}
    assert t["rows"].dtype == pl.Int64
    # more rejected than read: files that were never records; the difference is negative and says so
    t = flow_table(2, 1, {"unsupported_format": 3})
    diff = t.filter(pl.col("step") == "difference")
    assert diff["rows"][0] == -2 and "could not be opened" in diff["meaning"][0]
    assert flow_table(4, 3, {"dup": 1}).filter(pl.col("step") == "difference").height == 0


def test_values_print_as_people_read_them():
    assert [fmt(v) for v in (2156.0, 0.25, 3, None, 1e-7)] == ["2156", "0.25", "3", "", "1e-07"]


def test_glossary_and_routing():
    assert meaning("missing_quotes").startswith("routing: the article has no 'quotes'")
    assert meaning("dropped_something_new") == "dropped by the 'something new' filter"
    assert "no glossary entry" in meaning("made_up_reason")
    assert is_routing("missing_title", ("missing_",)) and is_routing("unrouted_article", ("unrouted_article",))
    assert not is_routing("missing_title", ()) and not is_routing("unrouted_article_x", ("unrouted_article",))


# -- the demo's reports -------------------------------------------------------------------------------------
def test_every_stage_flow_adds_up_and_no_table_is_empty(demo):
    for stage in STAGES:
        tables = load_report(demo / stage / "report")[1]
        empty = [n for n, df in tables.items() if df.height == 0]
        assert not empty, f"{stage}: empty tables {empty}"
        flow = tables["flow"]
        by = {s: int(flow.filter(pl.col("step") == s)["rows"].sum()) for s in ("in", "kept", "rejected", "difference", "routing")}
        assert by["in"] == by["kept"] + by["rejected"] + by["difference"], stage
        rejected = pl.read_parquet(demo / stage / "rejected") if any((demo / stage / "rejected").glob("*.parquet")) else None
        n_rejected = 0 if rejected is None else rejected.height
        assert by["rejected"] + by["routing"] == n_rejected, stage  # every rejected row is in the flow, once
        kept = pl.read_parquet(demo / stage / "data").height if any((demo / stage / "data").glob("*.parquet")) else 0
        assert by["kept"] == kept
        # every reason has a sentence of its own (no fallback)
        for reason in flow.filter(pl.col("reason") != "")["reason"]:
            assert "no glossary entry" not in meaning(reason), reason
        readme = (demo / stage / "report" / "README.md").read_text(encoding="utf-8")
        assert not re.search(r"\| rows_in \| \d+\.0 \|", readme), stage
        assert "_(empty)_" not in readme
    templates = load_report(demo / "templates" / "report")[1]["flow"]
    routing = templates.filter(pl.col("step") == "routing")
    # templates: article x sub-category pairs never made are routing, not rejections, and the 'in' counts candidates
    assert routing.height > 0 and routing["reason"].str.starts_with("missing_").all()
    assert not templates.filter((pl.col("step") == "rejected") & pl.col("reason").str.starts_with("missing_")).height
    assert all(r in REASONS or r.startswith("missing_") for r in templates["reason"] if r)


def test_stage_tables_come_through_the_run_not_side_channels(demo):
    for stage, names in {"dedup": {"cluster_sizes", "review_pairs", "removals", "passes"},
                         "templates": {"coverage", "families", "routing", "source_cap", "checks"},
                         "selfinstruct": {"estimate"}, "export": {"mix", "families", "files"}}.items():
        tables = load_report(demo / stage / "report")[1]
        assert names <= set(tables), (stage, names - set(tables))
    src = (ROOT / "builder").rglob("*.py")
    offenders = [str(p) for p in src if re.search(r"ctx\.(dedup_summary|crawl_tables)\b|getattr\(self, \"_(stats|routing|genres|mix_rows|facts)\"",
                                                  p.read_text(encoding="utf-8"))]
    assert not offenders


def test_the_html_report_is_self_contained_and_every_chart_has_marks(demo):
    page = (demo / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and len(page.encode()) < 5_000_000
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page), "nothing is loaded from outside the file"
    assert "https://cdn" not in page and "@import" not in page
    for stage in STAGES:
        assert f'id="stage-{stage}"' in page
    charts = re.findall(r'<svg class="chart" data-chart="([^"]+)".*?</svg>', page, flags=re.S)
    assert len(charts) >= 12
    for m in re.finditer(r'<svg class="chart" data-chart="([^"]+)"(.*?)</svg>', page, flags=re.S):
        assert 'class="mark"' in m.group(2), f"chart {m.group(1)} has no marks"
    names = set(charts)
    assert {"corpus-funnel", "dedup-funnel", "dedup-cluster-sizes", "dedup-similarity", "templates-families", "templates-subcategories",
            "selfinstruct-estimate", "export-family", "export-split", "export-origin"} <= names
    assert any(n.startswith("corpus-lengths-") for n in names) and any(n.startswith("export-lengths-") for n in names)
    # flags: dedup kept the shorter of a pair in the demo; the export comes from one source
    assert "removed the longer document" in page and "every item comes from one source" in page
    # reject examples: every reason of every stage, up to 10 each, with the full record
    for stage in STAGES:
        rej = list((demo / stage / "rejected").glob("*.parquet"))
        if not rej:
            continue
        counts = pl.read_parquet(rej).group_by("reason").len()
        section = page.split(f'id="stage-{stage}"')[1].split('<section class="stage"')[0]
        for reason, n in counts.iter_rows():
            m = re.search(rf"<b>{re.escape(reason)}</b>.*?\((\d+) shown\)", section)
            assert m and int(m.group(1)) == min(n, 10), (stage, reason)
    # integers as integers in the page's tables
    assert not re.search(r'<td class="n">\d+\.0</td>', page)


def test_builder_report_html_writes_the_page_and_measures_it(demo, tmp_path):
    out = tmp_path / "demo"
    shutil.copytree(demo, out)
    (out / "report.html").unlink()
    assert run_cli("report", "--html", "-c", DEMO_CONFIG, "-o", out) == 0
    assert (out / "report.html").stat().st_size > 100_000


def test_review_loop_without_a_browser(demo, tmp_path):
    """apply a review file -> only export is stale -> export leaves out exactly what was rejected -> the card says so."""
    from builder import pipeline
    from builder.config import load_config

    out = tmp_path / "demo"
    shutil.copytree(demo, out)
    items = pl.read_parquet(out / "export" / "data")
    subs = items.group_by("subcategory").len().sort(["len", "subcategory"])
    small = subs["subcategory"][0]
    others = items.filter(pl.col("subcategory") != small).sort("id")
    picked = others["id"][:2].to_list()
    accepted = others["id"][2]
    doc = {"format": "builder-review", "version": 1, "build": "demo", "decisions": [
        {"kind": "record", "id": picked[0], "stage": "export", "decision": "reject", "note": "事实有误"},
        {"kind": "record", "id": picked[1], "stage": "templates", "decision": "reject", "note": ""},
        {"kind": "record", "id": accepted, "stage": "export", "decision": "accept", "note": "好"},
        {"kind": "subcategory", "id": small, "decision": "reject", "note": "太少"}]}
    review = tmp_path / "review.json"
    review.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert run_cli("review", "apply", review, "-c", DEMO_CONFIG, "-o", out) == 0
    states = {s.name: (s.state, s.reason) for s in pipeline.statuses(load_config(DEMO_CONFIG, out))}
    assert {n: s for n, (s, _) in states.items()} == {"corpus": "done", "dedup": "done", "templates": "done", "selfinstruct": "done",
                                                       "export": "stale"}
    assert "review" in states["export"][1]
    assert run_cli("run", "export", "-c", DEMO_CONFIG, "-o", out) == 0
    after = pl.read_parquet(out / "export" / "data")
    gone = set(picked) | set(items.filter(pl.col("subcategory") == small)["id"])
    assert after.height == items.height - len(gone)
    assert set(items["id"]) - set(after["id"]) == gone
    rej = pl.read_parquet(out / "export" / "rejected").filter(pl.col("reason") == "rejected_by_review")
    assert set(rej["id"]) == gone and any("事实有误" in d for d in rej["detail"])
    card = (out / "export" / "hub" / "README.md").read_text(encoding="utf-8")
    assert f"| {small} |" in card and "rejection rate" in card
    facts = json.loads((out / "export" / "card.json").read_text(encoding="utf-8"))
    row = next(r for r in facts["review"] if r["subcategory"] == small)
    assert row["rejection_rate"] == 1.0 and row["reviewed_share"] == 1.0
    # the same decisions again: nothing changes, export stays up to date
    assert run_cli("review", "apply", review, "-c", DEMO_CONFIG, "-o", out) == 0
    assert [s.state for s in pipeline.statuses(load_config(DEMO_CONFIG, out))][-1] == "done"


def test_selfinstruct_section_draws_request_outcomes_tokens_and_cost(tmp_path, monkeypatch):
    """With a (fake, local) endpoint: the selfinstruct section charts request outcomes and tokens, and lists the cost."""
    from fake_openai import FakeOpenAI
    from test_selfinstruct import KEY, make_build

    from builder import pipeline
    from builder.report.html import stage_section

    monkeypatch.setenv("FAKE_LLM_KEY", KEY)
    with FakeOpenAI() as srv:
        build = make_build(tmp_path, srv.url, n_docs=3)
        pipeline.execute(build, "selfinstruct")
    section = stage_section(build.output, "selfinstruct", 0)
    for chart in ("selfinstruct-funnel", "selfinstruct-requests", "selfinstruct-tokens"):
        m = re.search(rf'<svg class="chart" data-chart="{chart}"(.*?)</svg>', section, flags=re.S)
        assert m and 'class="mark"' in m.group(1), chart
    assert "cost_usd_this_run" in section and "Review a sample" in section


def test_every_reason_an_item_check_returns_has_a_glossary_entry():
    import re
    from pathlib import Path

    from builder.report.glossary import REASONS

    src = (Path(__file__).resolve().parent.parent / "builder" / "stages" / "templates" / "checks.py").read_text(encoding="utf-8")
    reasons = set(re.findall(r'return "([a-z_]+)", f?"', src))
    assert len(reasons) >= 10
    assert not sorted(r for r in reasons if r not in REASONS)
