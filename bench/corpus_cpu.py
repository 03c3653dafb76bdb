"""Corpus stage work in one process, timed in CPU seconds (time.process_time): read, extract and clean every
input of ../shared/realdata (html, pdf, SogouCA records) and of a generated demo-style corpus, through the
stage's own worker functions. CPU time is steadier than wall time on a shared machine, so two versions can
be compared by running this file with each on PYTHONPATH:

    PYTHONPATH=/path/to/old/checkout python bench/corpus_cpu.py --gen-mb 10
    PYTHONPATH=.                     python bench/corpus_cpu.py --gen-mb 10
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(1, str(HERE))


def settings(root: Path) -> dict:
    schema = json.loads((root / "schemas" / "config" / "corpus.schema.json").read_text(encoding="utf-8"))
    return {k: v["default"] for k, v in schema["properties"]["clean"]["properties"].items()}


def run_inputs(inputs: list[tuple[str, Path, dict]], clean: dict) -> tuple[float, int, int]:
    from builder.stages.corpus import process_file, process_records
    from builder.stages.corpus.records import ITERATORS

    t0 = time.process_time()
    kept = total = 0
    held: list[dict] = []  # kept documents, for the corpus-level repeated_across_pages pass (when the checkout has it)
    for fmt, path, src in inputs:
        src = dict(src, name=src.get("name", "bench"))
        if fmt in ITERATORS:
            extra = {"record_tag": "doc"} if fmt == "xmlrecords" else {}
            items = [(s, r) for s, r in ITERATORS[fmt](path, "auto", **extra) if isinstance(r, dict)]
            for i in range(0, len(items), 32):
                out, _ = process_records((items[i:i + 32], path.name, dict(src, _format=fmt), clean))
                total += len(out)
                kept += sum(1 for o in out if type(o).__name__ == "Kept")  # outcomes are Kept/Rejected objects
                held += [o.document for o in out if type(o).__name__ == "Kept"]
        else:
            out, _ = process_file((fmt, str(path), src, clean, path.name))
            total += len(out)
            kept += sum(1 for o in out if type(o).__name__ == "Kept")  # outcomes are Kept/Rejected objects
            held += [o.document for o in out if type(o).__name__ == "Kept"]
    if clean.get("repeated_across_pages"):
        repeat_pass(held, clean["repeated_across_pages"])
    return time.process_time() - t0, kept, total


def repeat_pass(docs: list[dict], min_docs: int) -> int:
    """What the stage's main process adds with repeated_across_pages: the spill (pickle out and in), the line
    keys, the count and the stripping. Returns the lines removed."""
    import pickle

    from builder.stages.corpus.repeats import SKIP_FORMATS, group_of
    from builder.text.boilerplate_repeats import RepeatCounter, line_keys, strip_repeated

    counter = RepeatCounter(min_docs)
    spill = []
    for doc in docs:
        if doc.get("format") not in SKIP_FORMATS:
            counter.add(line_keys(group_of(doc), doc.get("text") or ""))
        spill.append(pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL))
    repeated = counter.repeated()
    removed = 0
    for blob in spill:
        doc = pickle.loads(blob)
        if repeated and doc.get("format") not in SKIP_FORMATS:
            removed += len(strip_repeated(group_of(doc), doc["text"], repeated)[1])
    return removed


def main() -> None:
    from _common import OUT, REALDATA

    import builder

    ap = argparse.ArgumentParser()
    ap.add_argument("--gen-mb", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--repeated-across-pages", type=int, default=3, metavar="N",
                    help="run the corpus-level repeated_across_pages pass at N (0: off) when the checkout has it")
    args = ap.parse_args()
    root = Path(builder.__file__).resolve().parent.parent
    clean = settings(root)
    if "repeated_across_pages" in clean:
        clean["repeated_across_pages"] = args.repeated_across_pages
    sets = {}
    if REALDATA.is_dir():
        real = [("html", p, {}) for p in sorted((REALDATA / "html").glob("*.html"))]
        real += [("pdf", p, {}) for p in sorted((REALDATA / "pdf").glob("*.pdf"))]
        real += [("xmlrecords", p, {}) for p in sorted((REALDATA / "encoding").glob("*.dat"))]
        sets["realdata"] = real
    if args.gen_mb:
        from corpus_bench import generate

        folder = OUT / f"cpu-gen{args.gen_mb}mb"
        if not folder.is_dir():
            generate(args.gen_mb, folder)
        gen = [("txt", p, {}) for p in sorted((folder / "txt").rglob("*.txt"))] + [("jsonl", folder / "records.jsonl", {})]
        sets[f"generated-{args.gen_mb}MB"] = gen
    print(f"builder from {root}")
    for name, inputs in sets.items():
        nbytes = sum(p.stat().st_size for _, p, _ in inputs)
        run_inputs(inputs[:3], clean)  # warm up imports and caches
        best = min(run_inputs(inputs, clean)[0] for _ in range(args.repeat))
        _, kept, total = run_inputs(inputs, clean)
        print(json.dumps({"corpus": name, "input_MB": round(nbytes / 1e6, 2), "docs": total, "kept": kept,
                          "cpu_seconds": round(best, 2), "MB_per_cpu_s": round(nbytes / 1e6 / best, 3)}))


if __name__ == "__main__":
    main()
