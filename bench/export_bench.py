"""Export: time and sizes on the demo build, and the two heavy steps against what a user would write instead.

    python bench/export_bench.py [--scale 10] [--repeats 3]

1. The demo build (corpora/demo/build.toml, output bench/out/export_demo): upstream stages are built
   once, then the export stage runs ``--repeats`` times (median wall time, peak RSS of the process)
   and the size of every export folder is listed.
2. The final near-duplicate pass on the export's input repeated ``--scale`` times with planted edits:
   builder (the dedup engine's numpy shingles/signatures/LSH, per-side verification) against a plain
   datasketch loop (``MinHash.update_batch`` per item, ``MinHashLSH`` insert and query, the same
   per-side verification with Python sets), in the same run, with their agreement.
3. The Hub layout (5 configs × 2 splits of Parquet): builder's pyarrow writer against
   ``datasets.Dataset.from_list(...).to_parquet`` per config and split.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, ROOT, builder_cmd, run_measured  # noqa: E402


def folder_size(p: Path) -> tuple[int, int]:
    files = [f for f in p.rglob("*") if f.is_file()]
    return len(files), sum(f.stat().st_size for f in files)


def demo_export(repeats: int) -> dict:
    out = OUT / "export_demo"
    cfg = ROOT / "corpora" / "demo" / "build.toml"
    secs, peak, rc = run_measured(builder_cmd("run", "selfinstruct", "-c", str(cfg), "-o", str(out)), cwd=ROOT)
    if rc:
        raise SystemExit("upstream build failed")
    runs = []
    for _ in range(repeats):
        secs, peak, rc = run_measured(builder_cmd("run", "export", "-c", str(cfg), "-o", str(out), "--force"), cwd=ROOT)
        if rc:
            raise SystemExit("export failed")
        manifest = json.loads((out / "export" / "manifest.json").read_text())
        runs.append((secs, peak, manifest["seconds"]))
    manifest = json.loads((out / "export" / "manifest.json").read_text())
    sizes = {}
    for sub in ("data", "rejected", "hub", "hub/data/default", "llamafactory", "trl", "report"):
        n, b = folder_size(out / "export" / sub)
        sizes[sub] = {"files": n, "bytes": b}
    sizes["hub/README.md"] = {"files": 1, "bytes": (out / "export" / "hub" / "README.md").stat().st_size}
    return {"rows": manifest["rows"], "counters": manifest["counters"],
            "command_seconds_median": round(statistics.median(r[0] for r in runs), 2),
            "stage_seconds_median": round(statistics.median(r[2] for r in runs), 2),
            "peak_rss_mb": round(max(r[1] for r in runs) / 2**20, 1), "sizes": sizes, "output": str(out)}


def scaled_items(out: Path, scale: int, seed: int = 7) -> list[dict]:
    import polars as pl

    base = pl.read_parquet(sorted((out / "templates" / "data").glob("*.parquet"))).to_dicts()
    rnd = random.Random(seed)
    items = list(base)
    for k in range(1, scale):  # each copy: every item with a few characters changed, a tenth left as it was
        for it in base:
            text = list(it["output"])
            if rnd.random() > 0.1:
                for _ in range(max(1, len(text) // 8)):
                    text[rnd.randrange(len(text))] = rnd.choice("的一是在不了有和人这中大为上个国")
            items.append(dict(it, output="".join(text), instruction=f"{it['instruction']}（{k}）"))
    return items


def datasketch_loop(items: list[dict], threshold: float, ngram: int = 5, num_perm: int = 128) -> list[tuple[int, int]]:
    """What a user would write: datasketch per item, then the same both-sides check with Python sets."""
    from datasketch import MinHash, MinHashLSH

    from builder.stages.export.assemble import prompt_text
    from builder.text.shingles import char_ngrams, jaccard

    lsh = MinHashLSH(threshold=max(0.05, threshold - 0.1), num_perm=num_perm)
    sides = []
    found, dropped = [], set()
    for j, it in enumerate(items):
        p = char_ngrams(it["instruction"]) | char_ngrams(it["input"] or "")
        o = char_ngrams(it["output"])
        sides.append((p, o))
        m = MinHash(num_perm=num_perm)
        m.update_batch([s.encode("utf-8") for s in (p | o)])
        for i in sorted(lsh.query(m)):
            if i not in dropped and jaccard(sides[i][0], p) >= threshold and jaccard(sides[i][1], o) >= threshold:
                dropped.add(j)
                found.append((j, i))
                break
        lsh.insert(j, m)
    return found


def near_dup_bench(out: Path, scale: int, threshold: float = 0.9) -> dict:
    from builder.stages.export.assemble import near_duplicates
    from builder.text.minhash import permutations

    items = scaled_items(out, scale)
    permutations(128, 42)  # both sides pay their imports before the clock starts
    import datasketch  # noqa: F401

    t = time.perf_counter()
    ours = near_duplicates(items, threshold, seed=42)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    peer = datasketch_loop(items, threshold)
    t_peer = time.perf_counter() - t
    a, b = {j for j, _, _ in ours}, {j for j, _ in peer}
    return {"items": len(items), "builder_seconds": round(t_ours, 2), "datasketch_loop_seconds": round(t_peer, 2),
            "builder_items_per_s": round(len(items) / t_ours), "datasketch_items_per_s": round(len(items) / t_peer),
            "speedup": round(t_peer / t_ours, 2), "builder_dropped": len(a), "datasketch_dropped": len(b),
            "dropped_by_both": len(a & b)}


def hub_bench(out: Path, scale: int) -> dict:
    import datasets
    import polars as pl

    from builder.stages.export.formats import hub_configs, write_hub

    items = pl.read_parquet(sorted((out / "export" / "data").glob("*.parquet"))).to_dicts()
    items = [dict(it, id=f"{it['id']}{k}") for k in range(scale) for it in items]
    tmp = Path(tempfile.mkdtemp(dir=OUT))
    try:
        t = time.perf_counter()
        write_hub(items, tmp / "builder", 100_000)
        t_ours = time.perf_counter() - t
        datasets.disable_progress_bars()
        t = time.perf_counter()
        for config, family in hub_configs(items).items():
            for split in ("train", "validation"):
                rows = [it for it in items if it["split"] == split and family in (None, it["family"])]
                if rows:
                    path = tmp / "datasets" / config / f"{split}.parquet"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    cols = ["id", "instruction", "input", "output", "family", "subcategory", "template_id", "phrasing_id",
                            "source_id", "origin", "meta"]
                    datasets.Dataset.from_list([{c: r.get(c) for c in cols} for r in rows]).to_parquet(str(path))
        t_peer = time.perf_counter() - t
        return {"items": len(items), "builder_seconds": round(t_ours, 3), "datasets_seconds": round(t_peer, 3),
                "speedup": round(t_peer / t_ours, 2), "builder_bytes": folder_size(tmp / "builder")[1],
                "datasets_bytes": folder_size(tmp / "datasets")[1]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"demo_export": demo_export(args.repeats)}
    out = Path(result["demo_export"]["output"])
    result["near_duplicates"] = near_dup_bench(out, args.scale)
    result["hub_layout"] = hub_bench(out, args.scale)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    (OUT / "export_bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
