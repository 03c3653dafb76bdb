"""The HTML report's size and render time on the demo and on a build of about 20k items.

    python bench/report_html.py [--copies 24] [--sources 6]

The large build is the real pipeline on a corpus made from the demo's article files, copied ``--copies``
times into ``--sources`` sources; each copy permutes the Arabic digits and a few place-name characters
(市县区镇村 …, a different permutation per copy), so few documents or items are exact duplicates
(those that are go to rejected/ as duplicate_exact and duplicate_item, as in any build). Its config switches the near-duplicate
passes off (dedup ``near = false``, export ``near_dup`` and ``cross_split`` off), since the copies are
near-duplicates by construction, and lifts the per-sub-category cap, so the item count grows with the
copies. Items that still come out identical are rejected by templates as ``duplicate_item``, as in any build.

Prints, for each build: items exported, the page size in MB, the seconds ``write_html`` took and the
seconds headless chromium (Debian's, through Playwright; skipped when either is missing) took to load
the page from disk (best of three each), and the page's number of charts. ``--measure-only`` measures
the outputs of an earlier run without building again.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, ROOT, builder_cmd, run_measured  # noqa: E402

PLACES = "市县区镇村局院校厂店站路街园省"
FOLDERS = ("news", "commentary", "feature", "interview", "selfmedia", "reposts", "extra")


def make_corpus(folder: Path, copies: int, sources: int) -> Path:
    import random

    if folder.exists():
        shutil.rmtree(folder)
    demo = ROOT / "corpora" / "demo"
    files = [f for d in FOLDERS for f in sorted((demo / d).glob("*")) if f.suffix in (".txt", ".md")]
    for k in range(copies):
        rnd = random.Random(k)
        digits, places = list("0123456789"), list(PLACES)
        rnd.shuffle(digits)
        rnd.shuffle(places)
        table = str.maketrans("0123456789" + PLACES, "".join(digits + places))
        for f in files:
            out = folder / f"site{k % sources}" / f"copy{k}" / f.relative_to(demo)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(f.read_text(encoding="utf-8").translate(table), encoding="utf-8")
    config = folder / "build.toml"
    body = ['[build]\nname = "scale"\noutput = "out"\nallow_partial = ["templates", "selfinstruct"]\n']
    for s in range(sources):
        body.append(f'[[corpus.sources]]\nname = "site{s}"\npath = "site{s}"\ninclude = ["**/*.txt", "**/*.md"]\nlicense = "CC-BY-4.0"\n')
    body.append("[dedup]\nnear = false\n\n[templates]\nmax_items_per_subcategory = 5000\nmax_source_share = 1.0\n\n"
                "[export]\nsource_kind = \"written\"\nnear_dup = { enabled = false }\ncross_split = { enabled = false }\n")
    config.write_text("\n".join(body), encoding="utf-8")
    return config


def measure(output: Path, name: str) -> dict:
    from builder.report.html import write_html

    best = float("inf")
    for _ in range(3):
        path, size, seconds = write_html(output, name)
        best = min(best, seconds)
    page = path.read_text(encoding="utf-8")
    import polars as pl

    items = pl.scan_parquet(str(output / "export" / "data" / "*.parquet")).select(pl.len()).collect().item()
    return {"items": items, "mb": size / 1e6, "seconds": best, "charts": page.count('<svg class="chart"'), "load": browser_load(path)}


def browser_load(path: Path) -> str:
    """Seconds from navigation to the load event in headless chromium, best of three; '-' without a browser."""
    exe = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "-"
    if exe is None:
        return "-"
    best = float("inf")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        for _ in range(3):
            page = browser.new_page()
            t0 = time.perf_counter()
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            best = min(best, time.perf_counter() - t0)
            page.close()
        browser.close()
    return f"{best:.1f} s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=24)
    ap.add_argument("--sources", type=int, default=6)
    ap.add_argument("--measure-only", action="store_true", help="measure the outputs of an earlier run, build nothing")
    args = ap.parse_args()
    rows = []
    demo_out = OUT / "report_demo"
    if not args.measure_only:
        rc = run_measured(builder_cmd("run", "all", "-c", str(ROOT / "corpora" / "demo" / "build.toml"), "-o", str(demo_out)), cwd=ROOT)[2]
        if rc:
            raise SystemExit("demo build failed")
    rows.append(("demo", measure(demo_out, "demo")))
    scale = OUT / "report_scale"
    built = ""
    if not args.measure_only:
        config = make_corpus(scale, args.copies, args.sources)
        t0 = time.time()
        rc = run_measured(builder_cmd("run", "all", "-c", str(config)), cwd=ROOT)[2]
        if rc:
            raise SystemExit(f"scaled build failed ({rc})")
        built = f", build {time.time() - t0:.0f} s"
    rows.append((f"demo articles × {args.copies} copies, {args.sources} sources{built}", measure(scale / "out", "scale")))
    print("| build | items exported | report.html | write_html | chromium load | charts |\n|---|---|---|---|---|---|")
    for name, m in rows:
        print(f"| {name} | {m['items']:,} | {m['mb']:.2f} MB | {m['seconds']:.1f} s | {m['load']} | {m['charts']} |")


if __name__ == "__main__":
    main()
