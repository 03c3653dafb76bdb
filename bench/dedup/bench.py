"""Near-duplicate detection on generated Chinese news: builder's dedup stage vs plain datasketch and rensa loops.

Same documents, same run. Each contender runs in its own subprocess; its peak memory is the RSS of
its whole process tree (worker processes included), sampled every 20 ms and summed. Each writes a
group id per document; the parent scores pairwise precision / recall / F1 against the generator's
truth (``bench/dedup/generate.py``), recall per kind of duplicate, and wrong merges of distinct
same-template events. Speeds are only comparable within one run (the machine is shared): read the
ratios.

    python bench/dedup/bench.py --docs 2000 50000 100000            # builder, datasketch, rensa
    python bench/dedup/bench.py --docs 2000 --only builder datatrove  # datatrove is slow: small sizes only
    python bench/dedup/bench.py --sohu                                # merges per label on the Sohu pairs

Contenders (all on the same raw texts, char 5-grams of the comparison form, 128 permutations):
  builder     ``DedupStage.run`` on corpus shards of the documents, default settings, 2 workers: what
              ``builder run dedup`` does (sketch, candidates, verification, decisions, output shards).
  datasketch  the loop a user writes: MinHash(num_perm=128).update_batch per document, MinHashLSH
              (threshold=0.5) query then insert, union-find over every candidate, one process.
  rensa       the same loop with rensa (as its README shows): RMinHash.update, RMinHashLSH(threshold=0.5,
              num_bands=16) query then insert, a candidate kept when the sketches' Jaccard >= 0.5.
  datatrove   datatrove's MinHash pipeline with its defaults and language "cmn_Hani", 2 tasks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out" / "dedup"
REALDATA = Path(os.environ.get("BUILDER_REALDATA", ROOT.parent / "shared" / "realdata"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))


# -- contenders (run in a child process) ------------------------------------------------------------------------

def stage_corpus(corpus: Path, folder: Path, shard_rows: int = 5000) -> None:
    """The generated documents as corpus-stage shards (what the dedup stage reads)."""
    df = pl.read_parquet(corpus, columns=["id", "text"])
    df = df.with_columns(pl.lit("bench").alias("source"), pl.format("bench/{}", pl.col("id")).alias("path"),
                         pl.lit(None, pl.String).alias("title"), pl.lit(None, pl.String).alias("published"),
                         pl.lit(None, pl.String).alias("author"), pl.lit("txt").alias("format"),
                         pl.lit("{}").alias("meta"))
    df = df.select("id", "source", "path", "title", "text", "published", "author", "format", "meta")
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for k, start in enumerate(range(0, df.height, shard_rows)):
        df[start : start + shard_rows].write_parquet(folder / "data" / f"part-{k:05d}.parquet")


def run_builder(corpus: Path, work: Path) -> dict:
    from builder.config import parse_config
    from builder.stages.base import StageRun
    from builder.stages.dedup import DedupStage

    shards = corpus.with_suffix(".stage")
    build = parse_config(f'[build]\nname = "bench"\noutput = "{(work / "out").as_posix()}"\nworkers = {WORKERS}\n',
                         work / "build.toml")
    stage = DedupStage(build)
    ctx = StageRun(stage, work / "out" / "dedup", {"corpus": shards})
    stage.run(ctx)
    ctx.close()
    ids = pl.read_parquet(corpus, columns=["id"])["id"].to_list()
    row_of = {d: k for k, d in enumerate(ids)}
    labels = list(range(len(ids)))
    rej = pl.read_parquet(work / "out" / "dedup" / "rejected" / "*.parquet", columns=["id", "reason", "kept_id", "match"])
    bad = rej.filter(pl.col("kept_id").is_null())
    if bad.height:
        raise RuntimeError(f"{bad.height} rows rejected for other reasons than duplication: {bad['reason'].unique().to_list()}")
    for rid, kid in zip(rej["id"].to_list(), rej["kept_id"].to_list()):
        labels[row_of[rid]] = row_of[kid]
    tables = ctx.tables
    return {"labels": labels,
            "timings": tables["timings"].to_dicts() if "timings" in tables else [],
            "cluster_sizes": tables["cluster_sizes"].to_dicts() if "cluster_sizes" in tables else [],
            "matches": rej.group_by("match").len().to_dicts(),
            "counters": dict(ctx.counters)}


class UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        p = self.parent
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def run_datasketch(corpus: Path, work: Path) -> dict:
    from datasketch import MinHash, MinHashLSH

    from builder.text.minhash import shingles

    texts = pl.read_parquet(corpus, columns=["text"])["text"].to_list()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    uf = UnionFind(len(texts))
    for i, text in enumerate(texts):
        m = MinHash(num_perm=128)
        m.update_batch([s.encode("utf-8") for s in shingles(text)])
        for j in lsh.query(m):
            uf.union(i, j)
        lsh.insert(i, m, check_duplication=False)
    return {"labels": [uf.find(i) for i in range(len(texts))]}


def run_rensa(corpus: Path, work: Path) -> dict:
    from rensa import RMinHash, RMinHashLSH

    from builder.text.minhash import shingles

    texts = pl.read_parquet(corpus, columns=["text"])["text"].to_list()
    lsh = RMinHashLSH(threshold=0.5, num_perm=128, num_bands=16)
    uf = UnionFind(len(texts))
    sketches = []
    for i, text in enumerate(texts):
        m = RMinHash(num_perm=128, seed=42)
        m.update(shingles(text))
        for j in lsh.query(m):
            if m.jaccard(sketches[j]) >= 0.5:
                uf.union(i, j)
        lsh.insert(i, m)
        sketches.append(m)
    return {"labels": [uf.find(i) for i in range(len(texts))]}


def run_datatrove(corpus: Path, work: Path) -> list[int]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                  MinhashDedupFilter, MinhashDedupSignature)
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import JsonlWriter

    import xxhash

    import datatrove.utils.hashes.xxhash as dt_xxhash

    # datatrove 0.10.1 hashes str with xxhash, which xxhash>=4 refuses ("Strings must be encoded"):
    # encode first, so its default hash config (xxhash, 64 bits) runs unchanged otherwise
    dt_xxhash.xxhash32 = lambda s: xxhash.xxh32_intdigest(s.encode("utf-8") if isinstance(s, str) else s)
    dt_xxhash.xxhash64 = lambda s: xxhash.xxh64_intdigest(s.encode("utf-8") if isinstance(s, str) else s)
    cfg = MinhashConfig()  # defaults: 5-grams, 14 buckets x 8 hashes
    lang = "cmn_Hani"
    src = work / "input"
    src.mkdir(parents=True, exist_ok=True)
    # two files so the two tasks share the signature work
    df = pl.read_parquet(corpus, columns=["id", "text"])
    half = df.height // 2
    df[:half].write_parquet(src / "a.parquet")
    df[half:].write_parquet(src / "b.parquet")
    order = df["id"].to_list()
    del df
    reader = lambda: ParquetReader(str(src), text_key="text", id_key="id")  # noqa: E731
    logs = str(work / "logs")
    LocalPipelineExecutor(pipeline=[reader(), MinhashDedupSignature(str(work / "sigs"), config=cfg, language=lang)],
                          tasks=WORKERS, workers=WORKERS, logging_dir=logs + "/1").run()
    LocalPipelineExecutor(pipeline=[MinhashDedupBuckets(str(work / "sigs"), str(work / "buckets"), config=cfg)],
                          tasks=cfg.num_buckets, workers=WORKERS, logging_dir=logs + "/2").run()
    LocalPipelineExecutor(pipeline=[MinhashDedupCluster(str(work / "buckets"), str(work / "remove"), config=cfg, save_cluster_id=True)],
                          tasks=1, logging_dir=logs + "/3").run()
    LocalPipelineExecutor(pipeline=[reader(), MinhashDedupFilter(str(work / "remove"), load_cluster_ids=True,
                                                                 exclusion_writer=JsonlWriter(str(work / "removed"))),
                                    JsonlWriter(str(work / "kept"))],
                          tasks=WORKERS, workers=WORKERS, logging_dir=logs + "/4").run()
    cluster_of: dict[str, int] = {}
    for folder in ("kept", "removed"):
        for f in (work / folder).glob("*.jsonl.gz"):
            for row in pl.read_ndjson(f).iter_rows(named=True):
                cid = (row.get("metadata") or {}).get("minhash_cluster_id")
                if cid is not None and cid != -1:
                    cluster_of[row["id"]] = int(cid)
    labels, fresh = [], 10**9
    for i, doc in enumerate(order):
        labels.append(cluster_of.get(doc, fresh + i))
    return labels


CONTENDERS = {"builder": run_builder, "datasketch": run_datasketch, "rensa": run_rensa,
              "datatrove": lambda corpus, work: {"labels": run_datatrove(corpus, work)}}


def child(name: str, corpus: Path, result: Path) -> None:
    work = OUT / f"work-{name}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.perf_counter()
    out = CONTENDERS[name](corpus, work)
    out["seconds"] = time.perf_counter() - t0
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out["cpu_s"] = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime  # all processes, robust to a busy machine
    out["cpu_main_s"] = me.ru_utime + me.ru_stime  # the contender's own process (the stage's serial part)
    shutil.rmtree(work, ignore_errors=True)
    result.write_text(json.dumps(out))


# -- parent: run, measure, score -----------------------------------------------------------------------------------

def tree_rss(proc) -> int:
    total = 0
    try:
        for p in [proc] + proc.children(recursive=True):
            try:
                total += p.memory_info().rss
            except Exception:
                pass
    except Exception:
        pass
    return total


def measure(name: str, corpus: Path, timeout: float) -> dict:
    import psutil

    result = OUT / f"result-{name}.json"
    result.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--child", name, str(corpus), str(result)]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(p.pid)
    peak = 0
    while p.poll() is None:
        peak = max(peak, tree_rss(ps))
        if time.perf_counter() - t0 > timeout:
            for c in ps.children(recursive=True):
                c.kill()
            p.kill()
            p.wait()
            return {"status": f"timed out after {timeout:.0f}s", "peak_rss_mb": round(peak / 2**20)}
        time.sleep(0.02)
    err = p.stderr.read() if p.stderr else ""
    if p.returncode != 0 or not result.exists():
        return {"status": f"failed: {err.strip().splitlines()[-1] if err.strip() else p.returncode}", "peak_rss_mb": round(peak / 2**20)}
    data = json.loads(result.read_text())
    data.update(status="ok", peak_rss_mb=round(peak / 2**20))
    return data


def pairwise(truth: list[int], pred: list[int]) -> dict:
    df = pl.DataFrame({"t": truth, "p": pred})
    c2 = lambda col: (col * (col - 1) / 2).sum()  # noqa: E731
    tp = df.group_by("t", "p").len().select(c2(pl.col("len"))).item()
    true_pairs = df.group_by("t").len().select(c2(pl.col("len"))).item()
    pred_pairs = df.group_by("p").len().select(c2(pl.col("len"))).item()
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "true_pairs": int(true_pairs), "found_pairs": int(pred_pairs)}


def recall_by_kind(df: pl.DataFrame, pred: list[int]) -> dict:
    """Share of duplicates put in the same group as their story's first document, per kind."""
    d = df.with_columns(pl.Series("p", pred), pl.col("kind").str.replace(r"^mix:.*", "mix"))
    head = d.filter(pl.col("kind").is_in(["original", "event", "headline"])).select("cluster", pl.col("p").alias("p_orig"))
    dup = d.filter(~pl.col("kind").is_in(["original", "event", "headline", "roundup"])).join(head, on="cluster")
    out = dup.group_by("kind").agg((pl.col("p") == pl.col("p_orig")).mean().round(3).alias("r")).sort("kind")
    return dict(zip(out["kind"], out["r"]))


def wrong_merges(df: pl.DataFrame, pred: list[int]) -> dict:
    """Groups holding documents of different stories, by what the stories are (template events, headlines, roundups)."""
    d = df.with_columns(pl.Series("p", pred))
    g = d.group_by("p").agg(pl.col("cluster").n_unique().alias("stories"), pl.len().alias("size"),
                            pl.col("kind").is_in(["event"]).any().alias("has_event"),
                            pl.col("kind").is_in(["headline", "headline_repost"]).any().alias("has_headline"),
                            (pl.col("kind") == "roundup").any().alias("has_roundup"))
    bad = g.filter(pl.col("stories") > 1)
    return {"groups_mixing_stories": bad.height, "largest_group": int(g["size"].max() or 0),
            "mixed_with_events": int(bad["has_event"].sum()), "mixed_with_headlines": int(bad["has_headline"].sum()),
            "mixed_with_roundups": int(bad["has_roundup"].sum())}


def sohu_merges() -> list[dict]:
    """Per label of the Sohu 2021 pairs: how many pairs each contender would merge (builder: exact / near)."""
    path = REALDATA / "dedup_pairs" / "sohu2021_dd_test.jsonl"
    if not path.exists():
        print(f"{path} not found: Sohu check skipped")
        return []
    from datasketch import MinHash, MinHashLSH
    from rensa import RMinHash, RMinHashLSH

    from builder.text.minhash import find_duplicates, shingles

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    counts: dict[tuple[int, str], int] = {}

    def add(label: int, who: str) -> None:
        counts[(label, who)] = counts.get((label, who), 0) + 1

    for r in rows:
        a, b, label = r["sentence1"], r["sentence2"], int(r["label"])
        add(label, "pairs")
        res = find_duplicates([a, b], keep="earliest")
        if res.removed:
            add(label, "builder_" + next(iter(res.removed.values()))[2])
        ms = []
        for t in (a, b):
            m = MinHash(num_perm=128)
            m.update_batch([s.encode("utf-8") for s in shingles(t)])
            ms.append(m)
        lsh = MinHashLSH(threshold=0.5, num_perm=128)
        lsh.insert(0, ms[0])
        if lsh.query(ms[1]):
            add(label, "datasketch")
        rs = []
        for t in (a, b):
            m = RMinHash(num_perm=128, seed=42)
            m.update(shingles(t))
            rs.append(m)
        rl = RMinHashLSH(threshold=0.5, num_perm=128, num_bands=16)
        rl.insert(0, rs[0])
        if rl.query(rs[1]) and rs[0].jaccard(rs[1]) >= 0.5:
            add(label, "rensa")
    out = []
    for label in sorted({lab for lab, _ in counts}):
        row = {"label": label}
        for who in ("pairs", "builder_exact", "builder_jaccard", "builder_containment", "datasketch", "rensa"):
            row[who] = counts.get((label, who), 0)
        out.append(row)
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, nargs="*", default=[2000, 50000])
    ap.add_argument("--only", nargs="+", choices=list(CONTENDERS), default=["builder", "datasketch", "rensa"])
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sohu", action="store_true", help="also count merges per label on the Sohu 2021 pairs")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from generate import generate

    rows = []
    for n in args.docs:
        corpus = OUT / f"news_{n}_s{args.seed}.parquet"
        if not corpus.exists():
            corpus.parent.mkdir(parents=True, exist_ok=True)
            generate(n, args.seed).write_parquet(corpus)
        if not corpus.with_suffix(".stage").exists():
            stage_corpus(corpus, corpus.with_suffix(".stage"))
        truth_df = pl.read_parquet(corpus, columns=["cluster", "kind", "family"])
        truth = truth_df["cluster"].to_list()
        for name in args.only:
            m = measure(name, corpus, args.timeout)
            row = {"docs": n, "contender": name, "status": m["status"], "peak_rss_mb": m["peak_rss_mb"]}
            if m["status"] == "ok":
                row.update(seconds=round(m["seconds"], 1), docs_per_s=round(n / m["seconds"]),
                           cpu_ms_per_doc=round(1000 * m.get("cpu_s", 0) / n, 3),
                           main_cpu_ms_per_doc=round(1000 * m.get("cpu_main_s", 0) / n, 3), **pairwise(truth, m["labels"]))
                row.update(wrong_merges(truth_df, m["labels"]))
                row["recall_by_kind"] = json.dumps(recall_by_kind(truth_df, m["labels"]))
                for key in ("timings", "cluster_sizes", "matches"):
                    if key in m:
                        row[key] = json.dumps(m[key], ensure_ascii=False)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    if rows:
        table = pl.DataFrame(rows)
        with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=200, tbl_width_chars=250):
            print(table.select([c for c in ("docs", "contender", "status", "precision", "recall", "f1", "docs_per_s",
                                            "seconds", "cpu_ms_per_doc", "main_cpu_ms_per_doc", "peak_rss_mb", "groups_mixing_stories", "largest_group") if c in table.columns]))
        for n in args.docs:
            sub = {r["contender"]: r for r in rows if r["docs"] == n and r["status"] == "ok"}
            if "builder" in sub:
                for other in ("datasketch", "rensa", "datatrove"):
                    if other in sub:
                        print(f"{n} docs: builder is {sub['builder']['docs_per_s'] / sub[other]['docs_per_s']:.2f}x {other}'s docs/s")
        (OUT / "results.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    if args.sohu:
        sohu = sohu_merges()
        if sohu:
            print("Sohu 2021 pairs, merges per label (builder split by match kind):")
            print(pl.DataFrame(sohu))
            (OUT / "sohu.json").write_text(json.dumps(sohu, indent=1))


if __name__ == "__main__":
    main()
