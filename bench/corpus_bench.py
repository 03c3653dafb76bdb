"""Corpus stage: throughput (MB/s, docs/s) on the demo and on ../shared/realdata, what each cleaning
rule removed there, and peak memory on the demo against a generated corpus of about 1 GB.

    python bench/corpus_bench.py                 # demo + realdata
    python bench/corpus_bench.py --big-mb 1024   # plus the generated corpus (takes a while)
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path

from _common import OUT, REALDATA, ROOT, builder_cmd, run_measured


def input_bytes(folder: Path, patterns: list[str]) -> int:
    return sum(p.stat().st_size for pat in patterns for p in folder.glob(pat) if p.is_file())


def run_build(name: str, cfg: Path, nbytes: int) -> dict:
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    secs, peak, rc = run_measured(builder_cmd("run", "corpus", "-c", str(cfg), "--output", str(out)))
    m = json.loads((out / "corpus" / "manifest.json").read_text())
    docs_in = m["counters"].get("rows_in", 0)
    return {"corpus": name, "input_MB": round(nbytes / 1e6, 2), "docs_in": docs_in, "kept": m["rows"]["data"],
            "rejected": m["rows"]["rejected"], "seconds_total": round(secs, 2), "stage_seconds": m["seconds"],
            "MB_per_s": round(nbytes / 1e6 / m["seconds"], 2), "docs_per_s": round(docs_in / m["seconds"], 1),
            "peak_pss_MB": round(peak / 1e6, 1), "counters": m["counters"], "rc": rc}


def realdata_config() -> Path:
    cfg = OUT / "realdata.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f"""[build]
name = "realdata"
[[corpus.sources]]
name = "html"
path = "{REALDATA / 'html'}"
include = ["*.html"]
[[corpus.sources]]
name = "pdf"
path = "{REALDATA / 'pdf'}"
include = ["*.pdf"]
[[corpus.sources]]
name = "gbk-records"
path = "{REALDATA / 'encoding'}"
include = ["*.dat"]
format = "xmlrecords"
[[corpus.sources]]
name = "feeds"
path = "{REALDATA / 'rss'}"
include = ["*.xml"]
""", encoding="utf-8")
    return cfg


def generate(target_mb: int, folder: Path, seed: int = 1) -> int:
    """Demo-style documents (sentences of the demo corpus recombined) in txt and jsonl, about target_mb."""
    rnd = random.Random(seed)
    sentences: list[str] = []
    for p in (ROOT / "corpora" / "demo").rglob("*"):
        if p.suffix in {".txt", ".md"} and "junk" not in p.parts and not p.name.startswith("GROUND_TRUTH"):
            try:
                text = p.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            sentences += [s + "。" for s in text.replace("\n", "").split("。") if len(s) > 8]
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "txt").mkdir(parents=True)
    total, n = 0, 0
    jsonl = open(folder / "records.jsonl", "w", encoding="utf-8")
    while total < target_mb * 1_000_000:
        paras = ["".join(rnd.sample(sentences, rnd.randint(3, 6))) for _ in range(rnd.randint(3, 8))]
        title = rnd.choice(sentences)[:20]
        body = "\n\n".join(paras)
        if n % 2:
            line = json.dumps({"title": title, "content": body}, ensure_ascii=False) + "\n"
            jsonl.write(line)
            total += len(line.encode())
        else:
            sub = folder / "txt" / f"{n // 20000:03d}"
            sub.mkdir(exist_ok=True)
            data = f"{title}\n2025-01-01\n\n{body}\n".encode()
            (sub / f"d{n:08d}.txt").write_bytes(data)
            total += len(data)
        n += 1
    jsonl.close()
    return total


def big_config(folder: Path) -> Path:
    cfg = folder.parent / f"{folder.name}.toml"
    cfg.write_text(f'[build]\nname = "big"\n[[corpus.sources]]\nname = "big"\npath = "{folder}"\n', encoding="utf-8")
    return cfg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big-mb", type=int, default=0, help="also generate and build a corpus of about this many MB")
    args = ap.parse_args()
    rows = []
    demo = ROOT / "corpora" / "demo"
    rows.append(run_build("demo", demo / "build.toml", input_bytes(demo, ["**/*.txt", "**/*.md", "**/*.html", "**/*.pdf", "**/*.jsonl"])))
    if REALDATA.is_dir():
        rows.append(run_build("realdata", realdata_config(), input_bytes(REALDATA, ["html/*.html", "pdf/*.pdf", "encoding/*.dat", "rss/*.xml"])))
    if args.big_mb:
        folder = OUT / f"gen{args.big_mb}mb"
        nbytes = generate(args.big_mb, folder)
        rows.append(run_build(f"generated-{args.big_mb}MB", big_config(folder), nbytes))
    for r in rows:
        counters = r.pop("counters")
        print(json.dumps(r, ensure_ascii=False))
        print("   counters:", json.dumps(counters, ensure_ascii=False, sort_keys=True))


if __name__ == "__main__":
    main()
