"""dedup: the MinHash engine (builder.text.minhash) and the dedup stage on the demo corpus."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from datasketch import MinHash

from builder.config import load_config, parse_config
from builder.errors import ConfigError
from builder.pipeline import run as run_pipeline
from builder.text.minhash import (MinHashDeduper, MinHashSettings, choose_keepers, contamination, find_duplicates,
                                  gram_hash, is_slot, lsh_candidates, measure_sets, shingle_hashes, shingles, signatures,
                                  slot_substitutions)
from builder.text.minhash.sketch import code_points, comparison_form, form_code_points

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "corpora" / "demo"


def _body(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def articles() -> list[str]:
    files = sorted((DEMO / "news").glob("*.txt")) + sorted((DEMO / "commentary").glob("*.md")) + sorted((DEMO / "selfmedia").glob("*.txt"))
    return [_body(f) for f in files]


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n") if p.strip()]


# -- signatures -------------------------------------------------------------------------------------------------

def test_numpy_signature_equals_datasketch_minhash_with_the_same_shingle_hash(articles):
    sets = [shingle_hashes(t) for t in articles[:5]]
    sig = signatures(sets, num_perm=128, seed=7, backend="numpy")
    for text, row in zip(articles[:5], sig):
        m = MinHash(num_perm=128, seed=7, hashfunc=lambda b: gram_hash(b.decode("utf-8")) & 0xFFFFFFFF)
        m.update_batch([g.encode("utf-8") for g in shingles(text)])
        assert np.array_equal(m.hashvalues, row)


def test_shingles_ignore_punctuation_width_and_spaces():
    a = "青川市，4月1日起调整 12条公交线路！"
    b = "青川市,４月１日起调整12条公交线路!"
    assert shingles(a) == shingles(b)
    assert shingles("短") == ["短"] and shingles("，。") == []
    words = shingles("青川市交通运输局发布通告", ngram=2, tokenizer="word")
    assert words and all("\x1f" in w for w in words)


def test_band_index_finds_the_same_candidates_as_datasketch_minhashlsh(articles):
    rnd = random.Random(3)
    texts = list(articles)
    for t in articles[:10]:  # near copies with a few character edits
        chars = list(t)
        for _ in range(8):
            chars[rnd.randrange(len(chars))] = rnd.choice("的一是在不了有和人这中大为上个国")
        texts.append("".join(chars))
    s = MinHashSettings()
    sig = signatures([shingle_hashes(t) for t in texts], s.num_perm, s.seed)
    rows = np.arange(len(texts))
    ours = lsh_candidates(sig, rows, s)
    theirs = lsh_candidates(sig, rows, MinHashSettings(lsh_backend="datasketch"))
    assert len(ours) >= 10
    assert set(ours.tolist()) == set(theirs.tolist())


def test_lsh_as_a_partitioned_exchange_finds_exactly_the_pairs_of_the_band_index(articles, tmp_path):
    """The sketch tasks write band keys by partition, one task per partition pairs its buckets: the union is the
    band index's candidate set, with only some rows live (exact duplicates and short texts are left out) and a
    bucket window small enough to bite."""
    from builder.text.minhash.candidates import LSH_PARTITIONS, partition_pairs

    rnd = random.Random(5)
    texts = list(articles)
    for t in articles[:30]:
        for _ in range(3):  # a hot bucket: several near copies of one text
            chars = list(t)
            for _ in range(6):
                chars[rnd.randrange(len(chars))] = rnd.choice("的一是在不了有和人这中大为上个国")
            texts.append("".join(chars))
    for window in (64, 2):
        s = MinHashSettings(max_bucket=window)
        in_process_pool = lambda func, items: map(func, items)  # noqa: E731  # stands for a pool's mapper
        dd = MinHashDeduper(s, store_dir=tmp_path / f"forms{window}", batch_size=16, mapper=in_process_pool)
        dd.add([texts])
        assert all(b is not None for b in dd._bands)
        live = np.flatnonzero(np.arange(dd.count) % 7 != 3)  # some rows are not LSH's
        sig = np.concatenate(dd._sig)[live]
        expected = lsh_candidates(sig, live, s)
        mask = np.zeros(dd.count, bool)
        mask[live] = True
        parts = [partition_pairs(([(f, int(off[p]), int(off[p + 1]), first) for f, off, first in dd._bands], mask, window))
                 for p in range(LSH_PARTITIONS)]
        got = np.unique(np.concatenate(parts))
        assert len(expected) >= 30 and np.array_equal(got, expected)
        assert np.array_equal(dd._partitioned_lsh(live), expected)  # the same through the mapper
        dd.close()
    one_process = MinHashDeduper(MinHashSettings(), store_dir=tmp_path / "forms-one", batch_size=16)
    one_process.add([texts[:40]])
    assert one_process._bands and all(b is None for b in one_process._bands)  # no band files nobody would read
    one_process.close()


# -- find_duplicates ----------------------------------------------------------------------------------------------

def _variants(text: str, rnd: random.Random) -> dict[str, str]:
    paras = _paragraphs(text)
    body = "\n".join(paras)
    chars = list(body)
    for pos in rnd.sample(range(len(chars)), 4):
        chars[pos] = "的" if chars[pos] != "的" else "地"
    shuffled = paras[:1] + rnd.sample(paras[1:], len(paras) - 1)
    cut = int(len(body) * 0.65)
    mid = paras[len(paras) // 3 : len(paras) // 3 + 2]
    return {
        "repost": "原标题：另一个标题\n来源：某某日报\n" + body + "\n责任编辑：张三\n扫码关注我们，获取更多资讯",
        "typos": "".join(chars),
        "reordered": "\n".join(shuffled),
        "truncated": body[:cut],
        "excerpt": "\n".join(mid),
        "exact_but_spacing": body.replace("，", ",").replace("\n", "\n\n  "),
    }


def test_reposts_truncations_and_excerpts_are_found_and_originals_stay_apart(articles):
    rnd = random.Random(11)
    texts, ids, truth = [], [], {}
    for k, art in enumerate(articles[:8]):
        texts.append(art)
        ids.append(f"a{k}")
        for name, v in _variants(art, rnd).items():
            texts.append(v)
            ids.append(f"a{k}-{name}")
            truth[f"a{k}-{name}"] = f"a{k}"
    for k, art in enumerate(articles[8:], start=8):  # distinct articles, no copies
        texts.append(art)
        ids.append(f"a{k}")
    result = find_duplicates(texts, ids=ids, keep="earliest")  # undated: the first added (the original) wins
    groups = {frozenset(c) for c in result.clusters}
    expected = {frozenset([f"a{k}"] + [i for i, o in truth.items() if o == f"a{k}"]) for k in range(8)}
    assert groups == expected
    assert sum(result.keep) == len(articles)
    matches = {rid: m for rid, (_, _, m) in result.removed.items()}
    assert all(m in ("exact", "jaccard", "containment") for m in matches.values())
    assert all(kept == f"a{k}" for k in range(8) for rid, (kept, _, _) in result.removed.items() if rid.startswith(f"a{k}-"))
    # spacing/punctuation-only copies are exact duplicates of the comparison form; excerpts are containment matches
    assert {rid for rid, m in matches.items() if m == "exact"} == {f"a{k}-exact_but_spacing" for k in range(8)}
    assert all(matches[f"a{k}-excerpt"] == "containment" for k in range(8))
    assert result.stats["verified_pairs"] >= 8 * 4


def test_verification_rejects_lsh_candidates_below_the_threshold(articles):
    a, b = articles[0], articles[1]
    pa, pb = _paragraphs(a), _paragraphs(b)
    half = "\n".join(pa[:5] + pb[5:])  # shares 5 of 8 paragraphs: Jaccard 0.37, containment 0.56
    texts = [a, half]
    s = MinHashSettings(candidate_recall_weight=0.99, containment_threshold=None)
    dd = MinHashDeduper(s)
    dd.add([texts])
    cl = dd.cluster()
    j, _ = dd.measure(np.array([[0, 1]]))[0]
    assert j < s.threshold
    assert cl.stats["candidate_pairs"] == 1, "the pair should be an LSH candidate for this test to mean anything"
    assert cl.stats["failed_verification"] == 1 and cl.stats["verified_pairs"] == 0
    assert cl.labels[0] != cl.labels[1]
    # the same candidate is merged when verification is off and the estimate is trusted at a low threshold
    loose = MinHashDeduper(MinHashSettings(threshold=max(0.05, j - 0.2), candidate_recall_weight=0.99,
                                           containment_threshold=None, verify=False))
    loose.add([texts])
    assert loose.cluster().labels.tolist() == [0, 0]


def test_stock_sentence_inside_a_long_text_is_not_a_containment_duplicate(articles):
    short = "记者了解到该项目已经完成。"
    result = find_duplicates([articles[0] + short, short * 2], ids=["long", "short"])
    assert result.removed == {}


def test_keep_policies():
    labels = np.array([0, 0, 0, 1, 1])
    chars = [100, 300, 200, 50, 50]
    assert choose_keepers(labels, chars, "longest").tolist() == [1, 1, 1, 3, 3]
    pub = ["2025-03-02", None, "2025-03-01", None, None]
    assert choose_keepers(labels, chars, "earliest", published=pub).tolist() == [2, 2, 2, 3, 3]
    src = ["wire", "blog", "paper", "blog", "paper"]
    assert choose_keepers(labels, chars, "source_priority", sources=src, source_priority=["paper", "wire"]).tolist() == [2, 2, 2, 4, 4]
    with pytest.raises(ValueError, match="keep must be one of"):
        choose_keepers(labels, chars, "random")


def test_instruction_lists_dedup_with_short_ngrams():
    instructions = ["请为这篇报道写一个新闻标题。", "请为这篇报道写一个新闻标题", "请为这篇报道拟一个新闻标题。",
                    "总结这篇文章的三个要点。", "把这段话改写成微博文案。"]
    result = find_duplicates(instructions, ngram=3, threshold=0.5, containment_threshold=None, min_near_chars=0, short_chars=0)
    assert result.keep == [True, False, False, True, True]
    assert result.removed[1][2] == "exact" and result.removed[2][2] == "jaccard"


def test_contamination_flags_copied_and_excerpted_eval_items(articles):
    train = articles[:12]
    paras = _paragraphs(articles[3])
    eval_items = ["\n".join(paras[2:4]), articles[5].replace("，", ","), articles[20], "一条与训练集无关的测试问题，讲的是天文望远镜的维护。"]
    hits = contamination(eval_items, train)
    by_item = {h.eval_index: h for h in hits}
    assert set(by_item) == {0, 1}
    assert by_item[0].train_index == 3 and by_item[0].match == "containment" and by_item[0].containment >= 0.8
    assert by_item[1].train_index == 5 and by_item[1].match == "exact"


def test_word_tokenizer_finds_typo_reposts(articles):
    rnd = random.Random(5)
    texts = [articles[0], _variants(articles[0], rnd)["typos"], articles[1]]
    result = find_duplicates(texts, tokenizer="word", ngram=2)
    assert result.keep.count(False) == 1 and 2 not in result.removed


def test_empty_and_tiny_texts_do_not_crash():
    result = find_duplicates(["", "，。", "短", "短", "一段足够长的中文文本用来测试"], ids=list("abcde"))
    # "" and "，。" share one comparison form (no text at all): an exact pair, like the two "短"
    assert result.removed == {"b": ("a", 1.0, "exact"), "d": ("c", 1.0, "exact")}
    assert result.keep == [True, False, True, False, True]


# -- the stage on the demo corpus ---------------------------------------------------------------------------------

def _demo_config(tmp_path: Path, extra: str = "", build: str = "") -> Path:
    text = (DEMO / "build.toml").read_text(encoding="utf-8")
    text = text.replace('path = "."', f'path = "{DEMO.as_posix()}"').replace('output = "../../out/demo"   # relative to this file', f'output = "{(tmp_path / "out").as_posix()}"\n{build}')
    cfg = tmp_path / "build.toml"
    cfg.write_text(text + "\n" + extra, encoding="utf-8")
    return cfg


def _run(cfg: Path, target: str = "dedup"):
    build = load_config(cfg)
    return {name: m for name, _, m in run_pipeline(build, target)}, build


@pytest.mark.parametrize("shards", ["", "shard_rows = 7\nworkers = 2\n"], ids=["one-shard", "many-shards-2-workers"])
def test_demo_dedup_removes_exactly_the_six_planted_reposts(tmp_path, shards):
    cfg = _demo_config(tmp_path, build=shards)
    manifests, build = _run(cfg)
    out = build.output / "dedup"
    rejected = pl.read_parquet(out / "rejected" / "*.parquet")
    kept = pl.read_parquet(out / "data" / "*.parquet")
    corpus = pl.read_parquet(build.output / "corpus" / "data" / "*.parquet")
    rejected = rejected.with_columns(pl.col("path").str.replace(r"^.*corpora/demo/", ""))
    corpus = corpus.with_columns(pl.col("path").str.replace(r"^.*corpora/demo/", ""))
    assert sorted(rejected["path"].to_list()) == [f"reposts/repost_0{k}.txt" for k in range(1, 7)]
    assert kept.height == corpus.height - 6
    kept = kept.with_columns(pl.col("path").str.replace(r"^.*corpora/demo/", ""))
    path_of = dict(zip(kept["id"], kept["path"]))  # (repost_01 has news_01's id: same text once boilerplate is gone)
    for row in rejected.iter_rows(named=True):
        k = row["path"][-5]
        assert path_of[row["kept_id"]].startswith(f"news/news_0{k}_")
        assert row["cluster_id"] and 0.0 < row["similarity"] <= 1.0
        assert row["reason"] in ("duplicate_exact", "duplicate_near")
        assert json.loads(row["record"])["text"]  # the removed document itself is kept in rejected/
    reasons = dict(zip(rejected["path"], rejected["match"]))
    assert reasons["reposts/repost_06.txt"] == "exact"
    assert reasons["reposts/repost_05.txt"] == "containment"
    report = out / "report"
    rates = pl.read_parquet(report / "duplicate_rates.parquet")
    overall = rates.filter(pl.col("source") == "(all)").row(0, named=True)
    assert overall["exact_duplicates"] + overall["near_duplicates"] == 6
    assert pl.read_parquet(report / "cluster_sizes.parquet")["clusters"].to_list() == [6]
    pairs = pl.read_parquet(report / "review_pairs.parquet")
    assert pairs.height == 6 and all(pairs["removed_text"].str.len_chars() > 0) and all(pairs["kept_text"].str.len_chars() > 0)
    assert manifests["dedup"].counters["duplicate_exact"] + manifests["dedup"].counters["duplicate_near"] == 6


def test_partitioned_components_are_the_driver_components(tmp_path):
    """Large-star/small-star rounds over partitioned edge files label every row by its component's smallest row,
    exactly as the driver's own computation does: random graphs, long chains (the most rounds), stars, self loops."""
    from builder.text.minhash.components import partitioned_components
    from builder.text.minhash.engine import _components

    rng = np.random.default_rng(7)
    graphs = []
    for k in range(12):
        n = int(rng.integers(2, 4000))
        e = int(rng.integers(0, 2 * n))
        graphs.append((n, rng.integers(0, n, e), rng.integers(0, n, e)))
    perm = rng.permutation(3000)
    graphs.append((3000, perm[:-1], perm[1:]))  # one path through shuffled rows
    graphs.append((500, np.full(499, 250), np.r_[0:250, 251:500]))  # a star around a middle row
    graphs.append((10, np.array([3, 4, 4]), np.array([3, 4, 9])))  # self loops
    graphs.append((5, np.empty(0, np.int64), np.empty(0, np.int64)))
    for k, (n, a, b) in enumerate(graphs):
        out = partitioned_components(n, a, b, tmp_path / f"g{k}", map)
        assert out is not None, k
        assert np.array_equal(out[0], _components(n, a, b)), k
        assert not (tmp_path / f"g{k}").exists()  # every round's files are removed
    # rounds that cannot converge give None (the engine then computes the components in the driver)
    assert partitioned_components(3000, perm[:-1], perm[1:], tmp_path / "short", map, max_rounds=1) is None
    assert not (tmp_path / "short").exists()  # nor are they left behind when the rounds give up


def test_partitioned_components_that_do_not_converge_are_computed_in_the_driver_and_counted(tmp_path, articles, monkeypatch):
    import builder.text.minhash.engine as engine

    texts = list(articles[:20]) + [a + "。本文转自某某日报。" for a in articles[:5]]
    runs = {}
    for name, limit in (("driver", None), ("fallback", 0)):
        dd = MinHashDeduper(MinHashSettings(), store_dir=tmp_path / name, batch_size=8,
                            mapper=lambda f, items: map(f, items), driver_max_edges=limit)
        if limit == 0:
            monkeypatch.setattr(engine, "partitioned_components", lambda *a, **k: None)
        dd.add([texts])
        runs[name] = dd.cluster()
        dd.close()
    assert runs["fallback"].stats.pop("partitioned_components_done_in_driver") >= 1
    assert np.array_equal(runs["driver"].labels, runs["fallback"].labels) and runs["driver"].stats == runs["fallback"].stats
    assert runs["driver"].stats["near_clusters"] >= 5


def test_demo_dedup_same_rows_with_components_in_worker_tasks(tmp_path):
    """driver_max_edges = 0 sends the connected components to the pool's tasks: the same rows, rejects and counters."""
    frames = {}
    for name, extra in (("driver", ""), ("tasks", "[dedup]\ndriver_max_edges = 0\n")):
        (tmp_path / name).mkdir()
        cfg = _demo_config(tmp_path / name, build="workers = 2\n", extra=extra)
        manifests, build = _run(cfg)
        out = build.output / "dedup"
        frames[name] = [pl.read_parquet(out / part / "*.parquet").drop("created", strict=False)
                        for part in ("data", "rejected")]
        counters = dict(manifests["dedup"].counters)
        rounds = counters.pop("partitioned_component_rounds", 0)
        frames[name].append(counters)
        assert (rounds > 0) == (name == "tasks")
    for a, b in zip(frames["driver"][:2], frames["tasks"][:2]):
        assert a.equals(b)
    assert frames["driver"][2] == frames["tasks"][2]


def test_dedup_settings_defaults_and_errors(tmp_path):
    cfg = _demo_config(tmp_path)
    build = load_config(cfg)
    d = build.stage("dedup")
    assert (d["threshold"], d["ngram"], d["tokenizer"], d["num_perm"], d["verify"], d["keep"]) == (0.5, 5, "char", 128, True, "earliest")
    with pytest.raises(ConfigError, match="dedup.tokenizer"):
        parse_config('[build]\n[dedup]\ntokenizer = "bpe"\n', tmp_path / "x.toml")
    with pytest.raises(ConfigError, match="unknown key 'dedup.treshold'"):
        parse_config('[build]\n[dedup]\ntreshold = 0.5\n', tmp_path / "x.toml")
    # the datasketch LSH backend (a cross-check of our banding) is reachable from the config
    chosen = parse_config('[build]\n[dedup]\nlsh_backend = "datasketch"\n', tmp_path / "x.toml").stage("dedup")
    assert MinHashSettings.from_config(chosen).lsh_backend == "datasketch" and d["lsh_backend"] == "bands"
    with pytest.raises(ConfigError, match="dedup.lsh_backend"):
        parse_config('[build]\n[dedup]\nlsh_backend = "faiss"\n', tmp_path / "x.toml")


def test_longest_keep_policy_on_the_stage(tmp_path):
    extra = '[dedup]\nkeep = "longest"\n'
    cfg = _demo_config(tmp_path, extra=extra)
    _, build = _run(cfg)
    rejected = pl.read_parquet(build.output / "dedup" / "rejected" / "*.parquet")
    rejected = rejected.with_columns(pl.col("path").str.replace(r"^.*corpora/demo/", ""))
    assert rejected.height == 6
    # longest keeps repost_02 (it has an inserted sentence) and drops the original
    assert "news/news_02_after_school.txt" in rejected["path"].to_list()


@pytest.mark.parametrize("trusted, dropped_from", [("wire", "paper"), ("paper", "wire")])
def test_source_priority_keep_policy_on_the_stage(tmp_path, trusted, dropped_from):
    # the news folder and its reposts as two sources: the trusted one keeps every duplicate pair between them
    cfg = tmp_path / "build.toml"
    sources = ", ".join(f'{{name = "{name}", path = "{(DEMO / folder).as_posix()}"}}' for name, folder in (("paper", "news"), ("wire", "reposts")))
    cfg.write_text(f'[build]\noutput = "{(tmp_path / "out").as_posix()}"\n[corpus]\nsources = [{sources}]\n'
                   f'[dedup]\nkeep = "source_priority"\nsource_priority = ["{trusted}"]\n', encoding="utf-8")
    _, build = _run(cfg)
    rejected = pl.read_parquet(build.output / "dedup" / "rejected" / "*.parquet")
    kept = pl.read_parquet(build.output / "dedup" / "data" / "*.parquet")
    pairs = rejected.select("source", "kept_id", "removed_chars", "kept_chars").join(
        kept.select(pl.col("id").alias("kept_id"), pl.col("source").alias("kept_source")), on="kept_id")
    # copies of about the same length; a shortened repost (repost_03, _05) falls to the fuller text whatever the priority
    across = pairs.filter((pl.col("source") != pl.col("kept_source"))
                          & (pl.col("removed_chars") >= 0.9 * pl.col("kept_chars")) & (pl.col("kept_chars") >= 0.9 * pl.col("removed_chars")))
    assert across.height == 4  # news/repost 01, 02, 04, 06
    assert set(across["source"].to_list()) == {dropped_from} and set(across["kept_source"].to_list()) == {trusted}


# -- issue 13: containment without chaining, same-template events, short texts, review data ------------------------

STATE_VISIT = (
    "国家主席习近平{d}日在人民大会堂东门外广场举行仪式，欢迎{c}总统{p}对我国进行国事访问。"
    "{c}总统{p}抵达时，礼兵列队致敬。两国元首登上检阅台，军乐团奏{c}国歌和中国国歌，天安门广场鸣放礼炮21响。"
    "{p}在习近平陪同下检阅中国人民解放军三军仪仗队，并观看分列式。欢迎仪式结束后，两国元首举行会谈，"
    "就双边关系和共同关心的国际和地区问题深入交换意见，一致同意推动中{s}关系不断向前发展。"
)


def _visit(country: str, president: str, day: str, short: str) -> str:
    return STATE_VISIT.format(c=country, p=president, d=day, s=short)


def test_state_visit_reports_that_differ_only_in_names_and_dates_both_stay_but_a_repost_is_removed():
    maldives = _visit("马尔代夫", "穆伊兹", "10", "马")
    uzbek = _visit("乌兹别克斯坦", "米尔济约耶夫", "24", "乌")
    repost = "来源：新华网\n原标题：习近平举行仪式欢迎马尔代夫总统访华\n" + maldives + "\n责任编辑：王小明"
    jac, _ = measure_sets(shingle_hashes(maldives), shingle_hashes(uzbek))
    assert jac >= MinHashSettings().threshold, "the two events must look alike to the Jaccard test for this to mean anything"
    result = find_duplicates([maldives, uzbek, repost], ids=["maldives", "uzbek", "repost"], keep="earliest")
    assert result.removed.keys() == {"repost"}
    assert result.removed["repost"][0] == "maldives"
    assert result.stats["distinct_slots"] >= 1
    # with the check off, the same pair is merged: the check is what keeps them apart
    loose = find_duplicates([maldives, uzbek], ids=["maldives", "uzbek"], keep="earliest", distinct_slots=False)
    assert loose.removed.keys() == {"uzbek"}


def test_slots_are_numbers_ordinals_and_names_not_typos_or_insertions():
    assert is_slot("11", "8") and is_slot("第二", "第三") and is_slot("马尔代夫", "乌兹别克斯坦") and is_slot("宣传", "组织")
    assert not is_slot("的", "地")  # a one-character typo
    assert not is_slot("心1月21", "的1月2的")  # two typos, one over a digit: most positions unchanged, no digit-for-digit
    assert not is_slot("个月", "的的")  # a particle is not part of a name
    base = code_points(comparison_form("记者从市交通运输局获悉，全市今年新开通公交线路十二条，方便市民出行。"))
    inserted = code_points(comparison_form("记者从市交通运输局获悉，全市今年新开通公交线路十二条，另有两条正在规划，方便市民出行。"))
    renumbered = code_points(comparison_form("记者从市交通运输局获悉，全市今年新开通公交线路十五条，方便市民出行。"))
    assert slot_substitutions(base, inserted) == []
    assert slot_substitutions(base, renumbered) == [("二", "五")]


def test_a_hub_excerpt_contained_in_ten_distinct_articles_removes_only_itself(articles):
    hub = "新华社北京电，国务院新闻办公室今天举行新闻发布会，介绍今年一季度国民经济运行情况，一季度国内生产总值同比增长百分之五点三，就业形势总体稳定。"
    longs = sorted(articles, key=len, reverse=True)[:10]  # 10 distinct articles, 400-900 characters
    assert len(longs) == 10
    texts = [hub] + [a[: len(a) // 2] + "\n" + hub + "\n" + a[len(a) // 2 :] for a in longs]
    ids = ["hub"] + [f"long{k}" for k in range(10)]
    published = ["2025-01-01"] + ["2025-02-01"] * 10  # the excerpt is the earliest: the keep policy must still not win
    for keep in ("earliest", "longest"):
        result = find_duplicates(texts, ids=ids, keep=keep, published=published)
        assert result.removed.keys() == {"hub"}
        kept, similarity, match = result.removed["hub"]
        assert match == "containment" and similarity >= 0.99
        assert kept.startswith("long") and result.container["hub"] == kept
        assert sum(result.keep) == 10


def test_an_excerpt_dated_earlier_never_removes_the_article_that_contains_it(articles):
    article = articles[0]
    paras = _paragraphs(article)
    excerpt = "\n".join(paras[1:4])
    repost = "来源：某某日报\n" + article
    result = find_duplicates([excerpt, article, repost], ids=["excerpt", "article", "repost"], keep="earliest",
                             published=["2025-01-01", "2025-01-02", "2025-01-03"])
    assert set(result.removed) == {"excerpt", "repost"}
    assert result.removed["excerpt"][2] == "containment" and result.removed["excerpt"][0] == "article"


def test_short_texts_need_an_exact_match():
    heads = ["纪录片《江河》第三集", "纪录片《江河》第四集", "临江代表团今天获得11枚金牌", "临江代表团今天获得8枚金牌",
             "纪录片《江河》第三集！"]
    result = find_duplicates(heads, ids=list("abcde"))
    assert result.removed == {"e": ("a", 1.0, "exact")}
    near = "临江市召开全市宣传部长会议，部署下半年重点工作任务"
    other = "临江市召开全市组织部长会议，部署下半年重点工作任务"
    assert find_duplicates([near, other]).removed == {}


def test_comparison_form_equals_compare_form_on_every_bmp_character(articles):
    from builder.text.normalize import compare_form

    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        text = "中" + chr(cp) + "文 ２０２５年"
        assert comparison_form(text) == compare_form(text), hex(cp)
        assert form_code_points(text).tobytes().decode("utf-32-le") == compare_form(text), hex(cp)
    for a in articles + ["ΣΑΣ ΟΔΟΣ", "한국어 텍스트", "e\u0301cole", "𠀀𠀁 ext-B", ""]:
        assert comparison_form(a) == compare_form(a)
        assert form_code_points(a).tobytes().decode("utf-32-le") == compare_form(a)


def test_texts_sent_as_one_utf8_buffer_give_the_same_sketches_as_a_list_of_strings(articles):
    import polars as pl

    from builder.text.minhash.settings import MinHashSettings
    from builder.text.minhash.sketch import Utf8Batch, batch_code_points, sketch_batch

    texts = articles[:6] + ["", None, "ΣΑΣ ΟΔΟΣ", "한국어 텍스트", "e\u0301cole 𠀀𠀁 ext-B 😀", "短"]
    batch = Utf8Batch.from_series(pl.Series(texts, dtype=pl.String))
    strings = [t or "" for t in texts]
    assert len(batch) == len(texts) and batch.strings() == strings
    for got, want in zip(batch_code_points(batch), batch_code_points(strings)):
        assert np.array_equal(got, want)
    part = batch[3:9]  # a slice is re-based and still decodes to the same texts
    assert part.strings() == strings[3:9] and len(batch[5:5]) == 0
    s = MinHashSettings()
    a, b = sketch_batch((1, batch, s, None)), sketch_batch((1, strings, s, None))
    assert a.exact == b.exact and np.array_equal(a.sig, b.sig) and np.array_equal(a.n_shingles, b.n_shingles)
    assert np.array_equal(a.fp, b.fp) and np.array_equal(a.chars, b.chars)
    sliced = Utf8Batch.from_series(pl.Series(texts, dtype=pl.String)[4:])  # an Arrow array with an offset
    assert sliced.strings() == strings[4:]


def test_engine_defaults_are_the_schema_defaults():
    schema = json.loads((ROOT / "schemas" / "config" / "dedup.schema.json").read_text(encoding="utf-8"))
    s = MinHashSettings()
    for name, spec in schema["properties"].items():
        if hasattr(s, name):
            assert getattr(s, name) == spec["default"], name


@pytest.mark.realdata
def test_sohu_pairs_about_the_same_event_in_different_articles_are_rarely_merged(realdata):
    rows = [json.loads(line) for line in (realdata / "dedup_pairs" / "sohu2021_dd_test.jsonl").read_text(encoding="utf-8").splitlines()]
    merged: dict[int, int] = {}
    for r in rows:
        result = find_duplicates([r["sentence1"], r["sentence2"]])
        if any(m != "exact" for _, _, m in result.removed.values()):
            merged[r["label"]] = merged.get(r["label"], 0) + 1
    different_article = sum(1 for r in rows if r["label"] == 3)
    assert merged.get(0, 0) == 0
    assert merged.get(3, 0) <= 0.03 * different_article  # near (non-exact) merges of label-3 pairs: about none
    assert merged.get(5, 0) >= 3  # the same story is still found


def test_band_parameters_are_datasketchs_choice_without_scipy():
    from datasketch.lsh import _optimal_param

    for threshold in (0.3, 0.5, 0.7, 0.9):
        for num_perm in (64, 128, 256):
            for weight in (0.5, 0.95):
                s = MinHashSettings(threshold=threshold, num_perm=num_perm, candidate_recall_weight=weight)
                assert s.bands_rows() == _optimal_param(threshold, num_perm, 1 - weight, weight)


def test_dedup_report_gives_lengths_match_kind_container_and_lists_large_groups(tmp_path):
    cfg = _demo_config(tmp_path, extra="[dedup]\nreview_cluster_size = 1\n")
    manifests, build = _run(cfg)
    out = build.output / "dedup"
    rejected = pl.read_parquet(out / "rejected" / "*.parquet")
    assert rejected.height == 6
    assert rejected["removed_chars"].min() > 0 and rejected["kept_chars"].min() > 0
    assert set(rejected["match"]) <= {"exact", "jaccard", "containment"}
    contained = rejected.filter(pl.col("match") == "containment")
    assert contained.height >= 1
    assert contained["container_id"].null_count() == 0 and (contained["containment"] >= 0.8).all()
    assert (contained["removed_chars"] < contained["kept_chars"]).all()  # an excerpt, never its container
    report = out / "report"
    removals = pl.read_parquet(report / "removals.parquet")
    assert sorted(removals["removed_id"]) == sorted(rejected["id"])
    large = pl.read_parquet(report / "large_clusters.parquet")
    assert large.filter(pl.col("role") == "kept").height == 6  # every group of 2 > 1 is listed, keeper and member
    assert large.filter(pl.col("role") == "removed").height == 6
    assert (large["size"] == 2).all() and large["text"].str.len_chars().min() > 0
    assert manifests["dedup"].counters["large_clusters_flagged"] == 6
    timings = pl.read_parquet(report / "timings.parquet")
    assert {"verification", "candidates.lsh", "clustering"} <= set(timings["step"])


# -- speed work that must not change a decision --------------------------------------------------------------------

def _verifier_cases(articles: list[str]) -> list[str]:
    """Articles with reposts, number and name swaps, excerpts, typos, short items and identical copies: pairs of
    every kind the verifier sees (duplicates, same-template events, containments, no match)."""
    rnd = random.Random(3)
    out: list[str] = []
    for a in articles[:12]:
        paras = _paragraphs(a)
        out.append(a)
        out.append("来源：新华网\n" + a + "\n责任编辑：王小明")
        out.append(a.replace("1", "7").replace("二", "五"))
        out.append("\n".join(paras[1:3]))
        chars = list(a)
        for _ in range(5):
            chars[rnd.randrange(len(chars))] = "的"
        out.append("".join(chars))
        out.append(a)
        out.append(paras[0][:40])
    out += [_visit("马尔代夫", "穆伊兹", "10", "马"), _visit("乌兹别克斯坦", "米尔济约耶夫", "24", "乌"), "", "短"]
    return out


@pytest.mark.parametrize("store", [False, True])
def test_block_verification_equals_pair_by_pair(articles, tmp_path, store):
    from builder.text.minhash.verify import verify_chunk, verify_chunk_pairwise

    texts = _verifier_cases(articles)
    dd = MinHashDeduper(MinHashSettings(), store_dir=tmp_path / "forms" if store else None, batch_size=16)
    dd.add([texts])
    n = dd.count
    pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=np.int64)
    task = (pairs, {r: dd._where[r] for r in range(n)}, dd.s, True)
    block, single = verify_chunk(task), verify_chunk_pairwise(task)
    dd.close()
    assert np.array_equal(block, single)
    assert single[:, 2].sum() >= 5 and (single[:, 0] >= 0.5).sum() >= 20  # slots and duplicates were both there to find


def test_components_without_scipy_match_scipy_and_constrained_clusters_match_the_plain_union_find():
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from builder.text.minhash.engine import _components, _constrained_components

    rnd = np.random.default_rng(5)
    for n, m in ((1, 0), (50, 30), (3000, 2500)):
        a, b = rnd.integers(0, n, m), rnd.integers(0, n, m)
        mine = _components(n, a, b)
        _, ref = connected_components(coo_matrix((np.ones(m), (a, b)), shape=(n, n)), directed=False)
        assert len(set(zip(mine.tolist(), ref.tolist()))) == len(set(ref.tolist())) == len(set(mine.tolist()))
        assert all(mine[i] <= i for i in range(n))  # labelled by the smallest row
    # the rule itself, one edge at a time: exact edges, then Jaccard edges by weight unless they join a cannot pair
    n = 400
    ea, eb = rnd.integers(0, n, 40), rnd.integers(0, n, 40)
    ja, jb, jw = rnd.integers(0, n, 300), rnd.integers(0, n, 300), rnd.random(300)
    cannot = rnd.integers(0, n, (25, 2))
    labels, blocked = _constrained_components(n, ea, eb, ja, jb, jw, cannot)
    group = list(range(n))

    def find(x):
        while group[x] != x:
            x = group[x]
        return x

    def join(x, y):
        rx, ry = find(x), find(y)
        group[max(rx, ry)] = min(rx, ry)

    for x, y in zip(ea.tolist(), eb.tolist()):
        join(x, y)
    ref_blocked = 0
    for k in np.argsort(-jw, kind="stable").tolist():
        x, y = int(ja[k]), int(jb[k])
        rx, ry = find(x), find(y)
        if rx == ry:
            continue
        if any({find(u), find(v)} == {rx, ry} for u, v in cannot.tolist()):
            ref_blocked += 1
            continue
        join(x, y)
    ref = [find(x) for x in range(n)]
    assert blocked == ref_blocked > 0
    assert len(set(zip(labels.tolist(), ref))) == len(set(ref)) == len(set(labels.tolist()))


def test_a_brief_made_of_common_wording_is_still_found_in_its_article(articles):
    # the brief's middle sentence is stock phrasing (in more documents than max_posting): the containment
    # share is taken over the brief's other fingerprints, so its article is still a candidate
    stock = "会议强调，要坚持稳中求进工作总基调，完整准确全面贯彻新发展理念，加快构建新发展格局，着力推动高质量发展。"
    brief = "临江市举行首届长江文化艺术节。" + stock + "三百余个文艺团体参加演出。"
    article = brief + max(articles, key=len)  # long enough that LSH (Jaccard under 0.1) does not pair them
    others = [f"第{k}届全市经济工作会议召开。" + stock + f"会议听取了{k}个部门的工作汇报，研究部署了明年的重点任务和{k + 3}项改革举措。"
              for k in range(2, 8)]
    texts = [brief, article] + others
    ids = ["brief", "article"] + [f"other{k}" for k in range(len(others))]
    result = find_duplicates(texts, ids=ids, keep="earliest", max_posting=4, sample_bits=1)
    assert result.stats["candidate_pairs_lsh"] == 0 or result.stats["candidate_pairs_containment"] >= 1
    assert result.removed.get("brief", (None, 0, ""))[::2] == ("article", "containment")
    assert not any(k.startswith("other") for k in result.removed)


def test_shard_writer_frames_and_rows_land_in_order_in_the_same_shards(tmp_path):
    from builder.shards import ShardWriter

    schema = {"id": pl.String, "n": pl.Int64}
    rows = [{"id": f"r{k}", "n": k} for k in range(23)]
    with ShardWriter(tmp_path / "rows", schema, 5) as w:
        for r in rows:
            w.write(r)
    with ShardWriter(tmp_path / "mixed", schema, 5) as w:
        w.write(rows[0])
        w.write_frame(pl.DataFrame(rows[1:8]))
        w.write(rows[8])
        w.write_frame(pl.DataFrame(rows[9:9]))
        w.write_frame(pl.DataFrame([{"id": r["id"], "n": r["n"], "extra": 1} for r in rows[9:21]]))
        w.write(rows[21])
        w.write_frame(pl.DataFrame({"id": ["r22"]}).with_columns(pl.lit(22).alias("n")))
        assert w.count == 23
    a = sorted((tmp_path / "rows").glob("*.parquet"))
    b = sorted((tmp_path / "mixed").glob("*.parquet"))
    assert [f.name for f in a] == [f.name for f in b] and len(a) == 5
    for x, y in zip(a, b):
        assert pl.read_parquet(x).equals(pl.read_parquet(y))


def test_compiled_slot_scan_falls_back_to_the_reference_when_sets_are_not_the_texts_positions(articles):
    """The compiled scan builds each pair's table from b's positions; a stored set that is not the set of
    those positions (not made by this engine) must not change the answer: those pairs go the reference way."""
    from builder.text.minhash.verify import verify_chunk, verify_chunk_pairwise

    texts = _verifier_cases(articles)
    dd = MinHashDeduper(MinHashSettings(), batch_size=16)
    dd.add([texts])
    n = dd.count
    where = {}
    for r in range(n):
        cp, hset = dd._where[r]
        where[r] = (cp, hset[::2].copy() if r % 3 == 0 and len(hset) > 4 else hset)  # every third set thinned
    pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=np.int64)
    task = (pairs, where, dd.s, True)
    block, single = verify_chunk(task), verify_chunk_pairwise(task)
    assert np.array_equal(block, single)
    assert single[:, 2].sum() >= 1
