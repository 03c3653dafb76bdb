"""Near-duplicate detection on Chinese text: builder vs a plain datasketch loop vs datatrove, same corpus, same run.

Each contender runs in its own subprocess (clean peak RSS: the whole process tree is sampled every
20 ms and summed, so worker processes count) and writes a cluster id per document; the parent
scores pairwise precision / recall / F1 against the generator's ground truth.

    python bench/dedup/bench.py --docs 2000 100000            # all three contenders
    python bench/dedup/bench.py --docs 100000 --only builder datasketch
    python bench/dedup/bench.py --docs 100000 --timeout 1500  # datatrove is slow: give it time

Contenders (all on the same raw texts):
  builder     builder.text.minhash.MinHashDeduper with the dedup stage defaults (char 5-grams of the
              comparison form, 128 perms, Jaccard 0.5, containment 0.8, verification on), 2 workers.
  datasketch  what a user writes: same shingles, MinHash(num_perm=128).update_batch per document
              (default sha1 hash), MinHashLSH(threshold=0.5) query then insert, union-find.
  datatrove   datatrove's MinHash pipeline (signatures -> buckets -> clusters -> filter) with its
              defaults and language "cmn_Hani" (its Chinese word tokenizer: spaCy + jieba), 2 tasks.
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
WORKERS = 2


# -- contenders (run in a child process) ------------------------------------------------------------------------

def run_builder(corpus: Path, work: Path) -> list[int]:
    import multiprocessing as mp

    import pyarrow.parquet as pq

    from builder.text.minhash import MinHashDeduper, MinHashSettings

    ctx = mp.get_context("fork")
    with ctx.Pool(WORKERS) as pool:
        def mapper(func, items):
            # bounded rounds, as StageRun.map does in the stage: at most 2 batches per worker in flight
            batch = []
            for item in items:
                batch.append(item)
                if len(batch) >= 2 * WORKERS:
                    yield from pool.map(func, batch, chunksize=1)
                    batch = []
            if batch:
                yield from pool.map(func, batch, chunksize=1)

        dd = MinHashDeduper(MinHashSettings(), store_dir=work / "store", mapper=mapper, batch_size=256)
        # stream the corpus like the stage streams shards: texts are never all in memory
        batches = (b.column("text").to_pylist() for b in pq.ParquetFile(corpus).iter_batches(batch_size=4096, columns=["text"]))
        dd.add(batches)
        cl = dd.cluster()
        dd.close()
    return cl.labels.tolist()


def run_datasketch(corpus: Path, work: Path) -> list[int]:
    from datasketch import MinHash, MinHashLSH

    from builder.text.minhash import shingles

    texts = pl.read_parquet(corpus, columns=["text"])["text"].to_list()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    parent = list(range(len(texts)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, text in enumerate(texts):
        m = MinHash(num_perm=128)
        m.update_batch([s.encode("utf-8") for s in shingles(text)])
        for j in lsh.query(m):
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
        lsh.insert(i, m, check_duplication=False)
    return [find(i) for i in range(len(texts))]


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


CONTENDERS = {"builder": run_builder, "datasketch": run_datasketch, "datatrove": run_datatrove}


def child(name: str, corpus: Path, result: Path) -> None:
    work = OUT / f"work-{name}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.perf_counter()
    labels = CONTENDERS[name](corpus, work)
    seconds = time.perf_counter() - t0
    shutil.rmtree(work, ignore_errors=True)
    result.write_text(json.dumps({"seconds": seconds, "labels": labels}))


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
    return {"status": "ok", "seconds": data["seconds"], "peak_rss_mb": round(peak / 2**20), "labels": data["labels"]}


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
    """Share of duplicates (non-originals) put in the same cluster as their original, per variant kind."""
    d = df.with_columns(pl.Series("p", pred))
    orig = d.filter(pl.col("kind") == "original").select("cluster", pl.col("p").alias("p_orig"))
    dup = d.filter(pl.col("kind") != "original").join(orig, on="cluster")
    dup = dup.with_columns(pl.col("kind").str.replace(r"^mix:.*", "mix"))
    out = dup.group_by("kind").agg((pl.col("p") == pl.col("p_orig")).mean().round(3).alias("r")).sort("kind")
    return dict(zip(out["kind"], out["r"]))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, nargs="+", default=[2000, 100000])
    ap.add_argument("--only", nargs="+", choices=list(CONTENDERS), default=list(CONTENDERS))
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from generate import generate

    rows = []
    for n in args.docs:
        corpus = OUT / f"corpus_{n}_s{args.seed}.parquet"
        if not corpus.exists():
            corpus.parent.mkdir(parents=True, exist_ok=True)
            generate(n, args.seed).write_parquet(corpus)
        truth_df = pl.read_parquet(corpus, columns=["cluster", "kind"])
        truth = truth_df["cluster"].to_list()
        for name in args.only:
            m = measure(name, corpus, args.timeout)
            row = {"docs": n, "contender": name, "status": m["status"], "peak_rss_mb": m["peak_rss_mb"]}
            if m["status"] == "ok":
                row.update(seconds=round(m["seconds"], 1), docs_per_s=round(n / m["seconds"]), **pairwise(truth, m["labels"]))
                row["recall_by_kind"] = json.dumps(recall_by_kind(truth_df, m["labels"]))
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    table = pl.DataFrame(rows)
    with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=200, tbl_width_chars=250):
        print(table.drop("recall_by_kind", strict=False))
    for n in args.docs:
        sub = {r["contender"]: r for r in rows if r["docs"] == n and r["status"] == "ok"}
        if "builder" in sub:
            for other in ("datasketch", "datatrove"):
                if other in sub:
                    print(f"{n} docs: builder is {sub['builder']['docs_per_s'] / sub[other]['docs_per_s']:.1f}x {other}'s docs/s")
    (OUT / "results.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
