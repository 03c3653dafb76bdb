"""corpus + dedup on a generated Chinese corpus, with the local executor and with Ray: time, memory, ratio.

The corpus is made at run time by ``bench/dedup/generate.py`` from real sentences (the demo corpus and,
when ``../shared/realdata`` is there, SogouCA records, Sohu 2021 pair texts and saved article pages):
original articles, same-template events that differ in a name or a number, headline series, roundups
quoting briefs, and reposts/edits/excerpts of stories (about 40% of stories have duplicates). It is
written as JSON Lines files of 5,000 records (title, content, published, url), with a few broken
records (empty text, a number where text belongs, a truncated line) as real dumps have.

Each executor runs ``builder run dedup`` (corpus, then dedup) in a child process on the same files,
twice per size at most, while the peak memory of its whole process tree (driver, pool workers, or for
Ray the GCS, raylet and Ray workers it starts) is sampled as PSS, so pages shared between forked
workers or through Ray's object store are counted once. Then the two outputs are compared row for row
(kept and rejected shards of both stages); a difference fails the run.

    python bench/scale.py --docs 20000                 # ~3 min on 2 cores
    python bench/scale.py --docs 1000000 --keep-going  # the issue's size (~1.4 GB of text), unattended

Results go to ``bench/results/scale_<docs>.json`` and ``.md`` (the numbers and the commands).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "dedup"))

from _common import builder_cmd  # noqa: E402

RESULTS = ROOT / "bench" / "results"
FILE_ROWS = 5000
BROKEN_EVERY = 997  # about one record in a thousand is broken, as in real dumps


def write_corpus(n_docs: int, folder: Path, seed: int = 0) -> dict:
    """``n_docs`` generated documents as JSON Lines files under ``folder``; returns what was written."""
    import generate  # bench/dedup/generate.py

    folder.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    written = 0
    nbytes = 0
    # generated in parts so a 1M-document corpus never sits in memory at once
    part_docs = 50_000
    file_no = 0
    for part, start in enumerate(range(0, n_docs, part_docs)):
        df = generate.generate(min(part_docs, n_docs - start), seed=seed * 1000 + part)
        texts = df["text"].to_list()
        ids = df["id"].to_list()
        for f0 in range(0, len(texts), FILE_ROWS):
            path = folder / f"feed-{file_no:05d}.jsonl"
            file_no += 1
            with path.open("w", encoding="utf-8") as fh:
                for k in range(f0, min(f0 + FILE_ROWS, len(texts))):
                    title, _, body = texts[k].partition("\n")
                    if not body.strip():
                        title, body = "", title
                    rec = {"id": f"{part}-{ids[k]}", "title": title.strip(), "content": body.strip(),
                           "published": f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} {rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}",
                           "url": f"https://news.example.cn/{part}/{ids[k]}.html"}
                    written += 1
                    if written % BROKEN_EVERY == 0:
                        kind = written // BROKEN_EVERY % 3
                        if kind == 0:
                            rec["content"] = ""
                        elif kind == 1:
                            rec["content"] = 12345
                        else:
                            line = json.dumps(rec, ensure_ascii=False)
                            fh.write(line[: len(line) // 2] + "\n")  # a truncated line
                            continue
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            nbytes += path.stat().st_size
    return {"documents": written, "files": file_no, "bytes": nbytes}


def write_config(folder: Path, corpus: Path, workers: int, dedup: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "build.toml"
    cfg.write_text(dedup + f"""[build]
name = "scale"
output = "out"
workers = {workers}

[[corpus.sources]]
name = "feeds"
path = "{corpus}"
include = ["*.jsonl"]
license = "generated"
""", encoding="utf-8")
    return cfg


def stage_seconds(out: Path) -> dict:
    secs = {}
    for stage in ("corpus", "dedup"):
        m = json.loads((out / stage / "manifest.json").read_text())
        secs[stage] = round(float(m.get("seconds", 0.0)), 2)
        secs[f"{stage}_rows"] = m.get("rows", {})
        if stage == "dedup":
            secs["partitioned_component_rounds"] = m.get("counters", {}).get("partitioned_component_rounds", 0)
    # dedup's own steps (the driver-side ones bound the scale-out) and its pair counts: the projection's inputs
    steps = pl.read_parquet(out / "dedup" / "report" / "timings.parquet")
    secs["dedup_steps"] = dict(zip(steps["step"].to_list(), steps["seconds"].to_list()))
    counters = json.loads((out / "dedup" / "manifest.json").read_text()).get("counters", {})
    secs["dedup_pairs"] = {k: v for k, v in counters.items() if "pairs" in k or k.startswith("verified") or k == "near_clusters"}
    return secs


def compare(a: Path, b: Path) -> list[str]:
    """Differences between two outputs: shard names and every row of kept and rejected shards."""
    problems = []
    for stage in ("corpus", "dedup"):
        for part in ("data", "rejected"):
            fa = sorted(p.name for p in (a / stage / part).glob("*.parquet"))
            fb = sorted(p.name for p in (b / stage / part).glob("*.parquet"))
            if fa != fb:
                problems.append(f"{stage}/{part}: shards differ ({len(fa)} vs {len(fb)})")
                continue
            for name in fa:
                da, db = pl.read_parquet(a / stage / part / name), pl.read_parquet(b / stage / part / name)
                if not da.equals(db):
                    problems.append(f"{stage}/{part}/{name}: rows differ ({da.height} vs {db.height})")
    return problems


def run_tree(cmd: list[str], **kw) -> tuple[float, tuple[int, int], float, int]:
    """Run cmd; (seconds, (peak PSS of its process tree, of the driver alone), CPU seconds of every process seen in the tree, exit code).

    CPU time is summed per process id from samples, so processes that are not reaped by our child (Ray's
    workers belong to its raylet) count too; on a shared machine it is the fairer figure than wall time."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    peak, cpu, driver = 0, {}, 0
    stop = threading.Event()

    def sample():
        nonlocal peak, driver
        try:
            root = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not stop.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                procs = []
            for q in procs:
                try:
                    with q.oneshot():
                        t = q.cpu_times()
                        cpu[q.pid] = t.user + t.system
                        pss = q.memory_full_info().pss  # PSS: pages shared by forked workers count once
                        total += pss
                        if q.pid == proc.pid:
                            driver = max(driver, pss)
                except psutil.Error:
                    pass
            peak = max(peak, total)
            time.sleep(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, err = proc.communicate()
    stop.set()
    th.join()
    if proc.returncode:
        sys.stderr.write(err.decode(errors="replace")[-2000:])
    return time.perf_counter() - t0, (peak, driver), sum(cpu.values()), proc.returncode


def run_one(executor: str, cfg: Path) -> dict:
    out = cfg.parent / "out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = builder_cmd("run", "dedup", "-c", str(cfg), "--executor", executor)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("RAY_ADDRESS", None)  # a private Ray on this machine, started (and measured) by the run itself
    load = os.getloadavg()[0]
    seconds, (peak, driver), cpu, code = run_tree(cmd, env=env, cwd=cfg.parent)
    row = {"executor": executor, "exit_code": code, "wall_s": round(seconds, 1), "cpu_s": round(cpu, 1),
           "peak_pss_mb": round(peak / 2**20), "driver_peak_pss_mb": round(driver / 2**20), "load_before": round(load, 1), "load_after": round(os.getloadavg()[0], 1)}
    if code in (0, 3):
        row.update(stage_seconds(out))
    return row


def markdown(res: dict) -> str:
    lines = [f"# bench/scale.py at {res['documents']:,} documents", "",
             f"`{res['command']}` on {res['machine']}, {res['date']}.", "",
             f"Corpus: {res['documents']:,} generated documents in {res['files']} JSON Lines files, "
             f"{res['bytes'] / 2**20:.0f} MiB (generated in {res['generate_s']:.0f} s).", "",
             "| executor | wall s | CPU s (tree) | corpus s | dedup s | peak PSS MiB (tree) | docs/s (corpus+dedup) | load avg before/after |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["runs"]:
        dps = res["documents"] / r["wall_s"] if r.get("wall_s") else 0
        lines.append(f"| {r['executor']} | {r['wall_s']} | {r['cpu_s']} | {r.get('corpus', '-')} | {r.get('dedup', '-')} | {r['peak_pss_mb']} | "
                     f"{dps:.0f} | {r['load_before']}/{r['load_after']} |")
    for r in res["runs"]:
        if r.get("partitioned_component_rounds"):
            steps = r.get("dedup_steps", {})
            lines += ["", f"{r['executor']}: connected components computed by worker tasks over partitioned edge files "
                      f"([dedup] driver_max_edges = {res.get('ray_driver_max_edges')}): {r['partitioned_component_rounds']} "
                      f"large/small-star rounds per computation, {steps.get('clustering.partitioned_components', 0):.1f} s "
                      f"in all (grouping the candidate pairs for verification, then the clusters)."]
    if res.get("projection_100m"):
        p = res["projection_100m"]
        lines += ["", f"Projection to 100M documents on {p['cluster']} (see docs/ray.md): {p['total_h']} h "
                  f"(parallel {p['parallel_h']} h, network {p['transfer_h']} h, driver {p['driver_h']} h); "
                  f"driver memory ~{p['driver_memory_gb']} GB."]
    if res["ratio_wall"] is None:
        lines += ["", "Only one executor finished, so there is no ratio and no row-for-row comparison."]
    else:
        lines += ["", f"Ray / local: wall {res['ratio_wall']}×, CPU {res['ratio_cpu']}×, peak memory {res['ratio_memory']}×. "
                  f"Outputs identical row for row: {'yes' if not res['differences'] else 'NO: ' + '; '.join(res['differences'][:5])}."]
    return "\n".join(lines) + "\n"


# -- projection ----------------------------------------------------------------------------------------------------

BANDS, PERM = 26, 128  # the default MinHash settings (26 bands x 3 rows of 128 permutations; see builder/text/minhash)


def project(res: dict, docs: float = 100e6, nodes: int = 16, cores: int = 32, efficiency: float = 0.8,
            nic_gbytes_s: float = 1.25) -> dict:
    """Wall time of corpus + dedup for ``docs`` documents on ``nodes`` x ``cores``, from a measured local run.

    Measured (local executor, ``res['workers']`` workers): dedup's per-step seconds (the report's timings
    table) and both stages' seconds. Split into work that Ray spreads over the cluster (the corpus stage's
    per-file work; dedup's sketches and verification) and work that stays on the driver (dedup's exact
    pass, LSH grouping, union-find clustering and keep policy; reading inputs and writing every shard of
    both stages). Assumptions: parallel work scales linearly with cores at ``efficiency``; the driver's
    work grows linearly with documents (LSH sorts are n log n: ignored); the corpus stage's driver share
    equals dedup's write pass (the same rows read and written once); candidate pairs per document stay as
    measured (a corpus with more reposts has more); the driver's NIC moves ``nic_gbytes_s`` GB/s."""
    local = next(r for r in res["runs"] if r["executor"] == "local")
    n, w = res["documents"], res["workers"]
    steps = local["dedup_steps"]
    sketch_wall = steps.get("sketch (wall)", 0.0)
    verify_wall = steps.get("verification", 0.0)
    sketch_work = sum(v for k, v in steps.items() if k.startswith("worker."))  # summed inside the workers
    driver_dedup = steps.get("candidates.lsh", 0.0) + steps.get("candidates.containment", 0.0) + steps.get("clustering", 0.0)
    write_pass = max(0.0, local["dedup"] - sketch_wall - verify_wall - driver_dedup)
    parallel = max(0.0, local["corpus"] - write_pass) * w + sketch_work + verify_wall * w  # worker-seconds
    driver = driver_dedup + 2 * write_pass
    # these are clock seconds; on a shared machine they are inflated by the other processes' load, so the
    # split is scaled to the CPU seconds the run really used (sampled over its whole process tree)
    scale = local["cpu_s"] / (parallel + driver) if local.get("cpu_s") else 1.0
    per_doc = {"parallel_cpu_s": parallel * scale / n, "driver_s": driver * scale / n, "load_scale": round(scale, 3)}
    text_bytes = res["bytes"] / n
    # bytes that cross the network per document: texts out to workers and results back (corpus), texts out
    # and sketches back (dedup: a 512-byte signature, containment fingerprints ~ as many again), band keys
    # if grouped by a shuffle (26 keys x (8-byte key + 8-byte row))
    network = {"corpus_bytes": 2 * text_bytes, "dedup_bytes": text_bytes + 2 * 4 * PERM, "band_shuffle_bytes": BANDS * 16}
    total_cores = nodes * cores
    parallel_s = per_doc["parallel_cpu_s"] * docs / (total_cores * efficiency)
    driver_s = per_doc["driver_s"] * docs
    transfer_s = (network["corpus_bytes"] + network["dedup_bytes"]) * docs / (nic_gbytes_s * 1e9)
    # driver memory in dedup: per document a signature (512 B), fingerprints and counts (~600 B), its id,
    # source, date and path as Python strings (~300 B) and the scratch offsets (~150 B)
    driver_mem_gb = docs * 1560 / 1e9
    if local.get("driver_peak_pss_mb"):  # measured: the driver's peak, less a 150 MB interpreter and imports
        driver_mem_gb = docs * max(0.0, local["driver_peak_pss_mb"] - 150) * 2**20 / n / 1e9
    return {"documents": docs, "cluster": f"{nodes} nodes x {cores} cores", "per_doc": per_doc, "network_per_doc": network,
            "parallel_h": round(parallel_s / 3600, 2), "driver_h": round(driver_s / 3600, 2), "transfer_h": round(transfer_s / 3600, 2),
            "total_h": round((parallel_s + driver_s + transfer_s) / 3600, 1), "driver_memory_gb": round(driver_mem_gb),
            "band_shuffle_gb": round(network["band_shuffle_bytes"] * docs / 1e9, 1),
            "measured_from": res["command"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20000, help="documents to generate (the issue's size is 1000000)")
    ap.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", "2")))
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "scale", help="scratch folder (corpus and outputs)")
    ap.add_argument("--executors", default="local,ray")
    ap.add_argument("--keep-going", action="store_true", help="write the results even when an executor fails")
    ap.add_argument("--keep-work", action="store_true", help="leave the scratch folder in place")
    ap.add_argument("--resume", action="store_true",
                    help="reuse the scratch folder: the corpus and any executor whose run finished (its row.json)")
    ap.add_argument("--project", type=Path, help="print the 100M-document projection from a results JSON and exit")
    ap.add_argument("--ray-driver-max-edges", type=int, default=None,
                    help="[dedup] driver_max_edges of the Ray run (0: connected components always in worker tasks); "
                         "the results are then written as scale_<docs>_partitioned.*")
    args = ap.parse_args()
    if args.project:
        print(json.dumps(project(json.loads(args.project.read_text())), indent=1))
        return

    work = args.work / str(args.docs)
    corpus = work / "corpus"
    if args.resume and (work / "corpus.json").exists():
        info = json.loads((work / "corpus.json").read_text())
        gen_s = info.pop("generate_s")
    else:
        shutil.rmtree(work, ignore_errors=True)
        t0 = time.perf_counter()
        info = write_corpus(args.docs, corpus)
        gen_s = time.perf_counter() - t0
        (work / "corpus.json").write_text(json.dumps({**info, "generate_s": gen_s}))
    print(f"generated {info['documents']} documents, {info['files']} files, {info['bytes'] / 2**20:.0f} MiB in {gen_s:.0f} s", flush=True)

    runs = []
    outs = {}
    for ex in args.executors.split(","):
        limit = args.ray_driver_max_edges if ex == "ray" else None
        cfg = write_config(work / ex, corpus, args.workers,
                           "" if limit is None else f"[dedup]\ndriver_max_edges = {limit}\n\n")
        done = cfg.parent / "row.json"
        if args.resume and done.exists():
            row = json.loads(done.read_text())
        else:
            row = run_one(ex, cfg)
            if row["exit_code"] in (0, 3):
                done.write_text(json.dumps(row))
        print(json.dumps(row, ensure_ascii=False), flush=True)
        runs.append(row)
        outs[ex] = cfg.parent / "out"
        if row["exit_code"] not in (0, 3) and not args.keep_going:
            sys.exit(f"{ex}: builder exited {row['exit_code']}")
    diffs = compare(outs["local"], outs["ray"]) if {"local", "ray"} <= set(outs) else []
    by = {r["executor"]: r for r in runs}
    ratio = lambda k: round(by["ray"][k] / by["local"][k], 2) if {"local", "ray"} <= set(by) and by["local"][k] else None  # noqa: E731
    res = {"documents": info["documents"], "files": info["files"], "bytes": info["bytes"], "generate_s": round(gen_s, 1),
           "workers": args.workers, "runs": runs, "ratio_wall": ratio("wall_s"), "ratio_memory": ratio("peak_pss_mb"), "ratio_cpu": ratio("cpu_s"),
           "differences": diffs, "command": "python bench/scale.py " + " ".join(sys.argv[1:]),
           "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if "local" in by and "dedup_steps" in by["local"]:
        res["projection_100m"] = project(res)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"scale_{args.docs}" + ("_partitioned" if args.ray_driver_max_edges is not None else "")
    if args.ray_driver_max_edges is not None:
        res["ray_driver_max_edges"] = args.ray_driver_max_edges
    (RESULTS / f"{name}.json").write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(res))
    print(markdown(res))
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    if diffs:
        sys.exit("outputs differ between executors: " + "; ".join(diffs[:5]))


if __name__ == "__main__":
    main()
