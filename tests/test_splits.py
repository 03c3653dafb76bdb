"""The one split rule of every origin (``builder.items.SplitRule``), checked on what the real stages write.

An article's side comes from a stable rank (a hash of the build seed and its id): below
``validation_share`` it is validation, at or above ``validation_max_share`` train, and in between the
per-family floor takes articles in rank order. These tests run corpus -> dedup -> templates -> export
through the CLI on demo articles, and selfinstruct against a fake endpoint on 127.0.0.1.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import polars as pl

from builder import pipeline
from builder.items import SplitRule, split_rank
from builder.stages.selfinstruct.chunks import chunk_documents
from conftest import DEMO
from fake_openai import FakeOpenAI
from test_selfinstruct import KEY, doc_text, grounded_items, make_build as make_si_build, material, valid

SEED = 42
PARTIAL = 'allow_partial = ["templates", "selfinstruct"]\n'  # no endpoint: model-made items are skipped


def copy_demo(dest: Path, folders: list[str]) -> None:
    for folder in folders:
        shutil.copytree(DEMO / folder, dest / folder)


def sides(out: Path) -> dict[str, str]:
    """source_id -> split of the exported items (one side per article, checked)."""
    data = pl.read_parquet(sorted((out / "export" / "data").glob("*.parquet")))
    per = data.group_by("source_id").agg(pl.col("split").unique())
    assert all(len(s) == 1 for s in per["split"]), "an article is on both sides"
    return {r["source_id"]: r["split"][0] for r in per.iter_rows(named=True)}


def run_all(cli, cfg: Path, out: Path) -> None:
    r = cli("run", "all", "-c", cfg, "--output", out)
    assert r.code == 0, r


def test_no_article_changes_side_when_caps_change_templates_change_and_a_source_is_added(tmp_path, make_build, cli):
    copy_demo(tmp_path / "a", ["news", "commentary"])
    copy_demo(tmp_path / "b", ["feature", "selfmedia", "extra", "interview"])
    source_a = '[[corpus.sources]]\nname = "a"\npath = "a"\nlicense = "CC-BY-4.0"\n'
    source_b = '[[corpus.sources]]\nname = "b"\npath = "b"\nlicense = "CC-BY-4.0"\n'
    cfg = make_build(PARTIAL + source_a + "[templates]\nmax_items_per_subcategory = 4\n")
    run_all(cli, cfg, tmp_path / "v1")
    # v2: another source, every cap changed, one sub-category off, one capped hard
    make_build(PARTIAL + source_a + source_b + "[templates]\nmax_items_per_subcategory = 60\nmax_source_share = 0.8\n"
               'disabled_subcategories = ["news_brief"]\ncaps = { headline_generation = 2 }\n')
    run_all(cli, cfg, tmp_path / "v2")
    v1, v2 = sides(tmp_path / "v1"), sides(tmp_path / "v2")
    common = set(v1) & set(v2)
    assert len(v2) > len(v1) and len(common) >= 0.8 * len(v1)
    moved = {s: (v1[s], v2[s]) for s in common if v1[s] != v2[s]}
    assert not moved, f"articles changed side: {moved}"
    assert {v1[s] for s in common} == {"train", "validation"}  # both sides are compared, not one
    # the stages behind the export wrote the same sides for their items, and the floor took part
    for out in (tmp_path / "v1", tmp_path / "v2"):
        tpl = pl.read_parquet(sorted((out / "templates" / "data").glob("*.parquet")))
        exp = sides(out)
        assert all(exp.get(r["source_id"], r["split"]) == r["split"] for r in tpl.iter_rows(named=True))
        summary = dict(pl.read_parquet(out / "export" / "report" / "summary.parquet").iter_rows())
        assert summary["count.validation_articles_by_floor"] > 0


def test_the_floor_fills_each_family_in_rank_order_within_the_band(tmp_path, make_build, cli):
    copy_demo(tmp_path / "docs", ["news", "commentary", "selfmedia", "feature"])
    share, floor, ceiling = 0.05, 40, 0.6
    cfg = make_build(PARTIAL + '[[corpus.sources]]\nname = "demo"\npath = "docs"\nlicense = "CC-BY-4.0"\n'
                     f"[export]\nvalidation_share = {share}\nvalidation_items_per_family = {floor}\nvalidation_max_share = {ceiling}\n"
                     "[export.cross_split]\nenabled = false\n")
    out = tmp_path / "out"
    run_all(cli, cfg, out)
    data = pl.read_parquet(sorted((out / "export" / "data").glob("*.parquet")))
    side = sides(out)
    fams: dict[str, Counter] = defaultdict(Counter)
    for r in data.iter_rows(named=True):
        fams[r["source_id"]][r["family"]] += 1
    rank = {s: split_rank(s, SEED) for s in side}
    for s, r in rank.items():  # the hash alone outside the band
        if r < share:
            assert side[s] == "validation"
        if r >= ceiling:
            assert side[s] == "train"
    # inside the band, in rank order: taken exactly when a family of the article is still short of the floor
    have: Counter = Counter()
    for s in sorted(side, key=rank.get):
        if rank[s] < share:
            have.update(fams[s])
        elif rank[s] < ceiling:
            short = [f for f in fams[s] if have[f] < floor]
            assert (side[s] == "validation") == bool(short), (s, rank[s], dict(fams[s]), dict(have))
            if short:
                have.update(fams[s])
    totals = Counter(data["family"].to_list())
    val = Counter(data.filter(pl.col("split") == "validation")["family"].to_list())
    band_items = Counter(f for s in side if rank[s] < ceiling for f in fams[s].elements())
    for family, n in totals.items():
        # the floor, or all of a family's items in articles ranked below the ceiling (its share)
        assert val[family] >= min(floor, band_items[family]), (family, val[family], band_items[family])
    assert any(val[f] >= floor for f in totals) and any(val[f] < floor for f in totals), (dict(val), dict(band_items))  # both cases occur
    table = pl.read_parquet(out / "export" / "report" / "splits.parquet")
    assert dict(table.select("family", "validation").iter_rows()) == dict(val)
    # floor 0: the hash alone decides every article
    make_build(PARTIAL + '[[corpus.sources]]\nname = "demo"\npath = "docs"\nlicense = "CC-BY-4.0"\n'
               f"[export]\nvalidation_share = {ceiling}\nvalidation_items_per_family = 0\n"
               f"validation_max_share = {ceiling}\n[export.cross_split]\nenabled = false\n")
    run_all(cli, cfg, tmp_path / "hash")
    assert all((rank[s] < ceiling) == (v == "validation") for s, v in sides(tmp_path / "hash").items())


def test_the_guarantee_holds_for_any_items(tmp_path):
    """Property check of the documented guarantee on random item sets: ranks outside the band never move,
    and a band article never moves when only articles ranked above it change."""
    rule = SplitRule(SEED, share=0.1, floor=30, ceiling=0.4)
    families = ["媒体理解", "文章转写", "观点创作", "其他QA"]
    rnd = random.Random(7)
    for trial in range(30):
        articles = [f"t{trial}-{k}" for k in range(rnd.randint(40, 200))]
        items = [(a, rnd.choice(families)) for a in articles for _ in range(rnd.randint(1, 6))]
        base = rule.assign(items).sides
        # more items per article for some (caps), new articles (a source), some items gone (a template)
        more = items + [(a, rnd.choice(families)) for a in rnd.sample(articles, len(articles) // 3)]
        more = [x for x in more if rnd.random() > 0.1] + [(f"new{trial}-{k}", rnd.choice(families)) for k in range(60)]
        changed = rule.assign(more).sides
        for a in set(base) & set(changed):
            if rule.fixed_side(a) is not None:
                assert base[a] == changed[a] == rule.fixed_side(a)
        # only articles ranked above a band article change: it keeps its side
        for a in base:
            if rule.fixed_side(a) is None:
                r = rule.rank(a)
                above = [x for x in items if rule.rank(x[0]) <= r] + [x for x in more if rule.rank(x[0]) > r]
                assert rule.assign(above).sides[a] == base[a]
                break


def test_selfinstruct_packs_only_documents_of_one_side_and_band_documents_alone():
    rule = SplitRule(SEED, share=0.3, floor=100, ceiling=0.6)
    docs = [{"id": f"doc{i:03d}", "title": f"第{i}篇", "text": "短文。" * 10, "source": "s"} for i in range(60)]
    chunks = list(chunk_documents(docs, 4000, 0, lambda d: rule.pack_group(d["id"])))
    assert sorted(i for c in chunks for i in c.doc_ids) == sorted(d["id"] for d in docs)  # nothing lost
    packed = 0
    for c in chunks:
        groups = {rule.fixed_side(i) for i in c.doc_ids}
        assert len(groups) == 1, c.doc_ids
        if None in groups:
            assert len(c.doc_ids) == 1  # a band document's side is not known yet: it shares with none
        packed += len(c.doc_ids) > 1
    assert packed >= 2  # both fixed sides still pack
    assert len(chunks) == 2 + sum(rule.fixed_side(d["id"]) is None for d in docs)


def test_selfinstruct_items_never_carry_text_of_the_other_side(tmp_path, monkeypatch):
    """Through the stage: six short documents on both sides, one chunk budget that could hold them all."""
    monkeypatch.setenv("FAKE_LLM_KEY", KEY)
    seen: list[str] = []

    def script(body, n):
        text = material(body)
        seen.append(text)
        return valid(grounded_items(body, 4))

    with FakeOpenAI(script) as srv:
        build = make_si_build(tmp_path, srv.url, n_docs=6, sentences=3, si={"chunk_tokens": 4000},
                              export={"validation_share": 0.5, "validation_max_share": 0.5})
        m = pipeline.execute(build, "selfinstruct")
    rule = SplitRule(SEED, share=0.5, floor=100, ceiling=0.5)
    by_side = Counter(rule.fixed_side(f"doc{i:03d}") for i in range(6))
    assert set(by_side) == {"train", "validation"}
    assert m.counters.get("chunks") == 2 == len(seen), (dict(m.counters), m.notes)  # one chunk per side
    df = pl.read_parquet(build.output / "selfinstruct" / "data")
    assert df.height
    for row in df.iter_rows(named=True):
        doc_ids = json.loads(row["meta"])["doc_ids"]
        assert {rule.fixed_side(d) for d in doc_ids} == {row["split"]}, (doc_ids, row["split"])
    assert doc_text(0, 3)[:10] in "".join(seen)


def test_a_release_ledger_keeps_every_side_even_where_the_floor_alone_would_move_one(tmp_path, make_build, cli):
    """The floor band is the one place the rule alone may move an article (higher caps fill a family with
    fewer articles); the ledger of the earlier export pins every side."""
    copy_demo(tmp_path / "a", ["news", "commentary", "selfmedia"])
    copy_demo(tmp_path / "b", ["feature", "extra", "interview"])
    source_a = '[[corpus.sources]]\nname = "a"\npath = "a"\nlicense = "CC-BY-4.0"\n'
    source_b = '[[corpus.sources]]\nname = "b"\npath = "b"\nlicense = "CC-BY-4.0"\n'
    split = "[export]\nvalidation_share = 0.05\nvalidation_items_per_family = 30\nvalidation_max_share = 0.7\n"
    cfg = make_build(PARTIAL + source_a + split + "[templates]\nmax_items_per_subcategory = 3\n")
    run_all(cli, cfg, tmp_path / "v1")
    v1 = sides(tmp_path / "v1")
    ledger = (tmp_path / "v1" / "export" / "splits.tsv").read_text(encoding="utf-8").splitlines()
    assert ledger[0] == "source_id\tsplit" and dict(x.split("\t") for x in ledger[1:]) == v1
    shutil.copy(tmp_path / "v1" / "export" / "splits.tsv", tmp_path / "release-1.tsv")

    make_build(PARTIAL + source_a + source_b + split + "[templates]\nmax_items_per_subcategory = 60\nmax_source_share = 1\n")
    run_all(cli, cfg, tmp_path / "rule-only")
    alone = sides(tmp_path / "rule-only")
    moved = {s for s in set(v1) & set(alone) if v1[s] != alone[s]}
    assert moved  # the case the ledger is for: only band articles move, never those the hash fixes
    rule = SplitRule(SEED, 0.05, 30, 0.7)
    assert all(rule.fixed_side(s) is None for s in moved)

    make_build(PARTIAL + source_a + source_b + split + 'keep_splits = "release-1.tsv"\n[templates]\nmax_items_per_subcategory = 60\nmax_source_share = 1\n')
    run_all(cli, cfg, tmp_path / "v2")
    v2 = sides(tmp_path / "v2")
    assert {s: (v1[s], v2[s]) for s in set(v1) & set(v2) if v1[s] != v2[s]} == {}
    assert set(v2) - set(v1)  # the new source's articles were placed by the rule
    summary = dict(pl.read_parquet(tmp_path / "v2" / "export" / "report" / "summary.parquet").iter_rows())
    assert summary["count.articles_with_kept_split"] == len(set(v1) & set(v2))
    tpl = pl.read_parquet(sorted((tmp_path / "v2" / "templates" / "data").glob("*.parquet")))
    assert all(v2.get(r["source_id"], r["split"]) == r["split"] for r in tpl.iter_rows(named=True))  # templates used it too

    (tmp_path / "release-1.tsv").write_text("source_id\tsplit\nabc\ttest\n", encoding="utf-8")
    r = cli("run", "export", "-c", cfg, "--output", tmp_path / "v2")
    assert r.code == 1 and "release-1.tsv:2: expected 'source_id<TAB>train|validation'" in r.err
    assert len(r.err.strip().splitlines()) == 1
