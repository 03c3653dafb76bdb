"""Bench: the templates stage's per-article work, ours vs the jieba defaults a user would reach for.

Ours: words from ``jieba.cut`` (HMM on) tagged from jieba's dictionary, each paragraph cut once and
shared by keywords (TF-IDF with jieba's IDF table), TextRank and entities. Peer: ``jieba.posseg`` with
its HMM tagger, which is what ``jieba.analyse.extract_tags(allowPOS=...)`` runs on every call.

Both run the full routing + derivation + rendering of every sub-category on the same articles, one
process, the per-paragraph cache cleared before each article so no article profits from another.
Also reports how far the two keyword lists agree (top-8 overlap), so the speed is not bought with
worse keywords.

    python bench/templates/derivations.py [--docs out/demo/dedup/data] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import psutil

from builder.shards import iter_rows
from builder.stages.templates import WorkerSetup, load_setup, process_document
from builder.stages.templates import textkit as tk

ROOT = Path(__file__).resolve().parents[2]


def peer_pos_tokens(text: str):
    _, _, posseg = tk.jieba_modules()
    return tuple((p.word, p.flag) for p in posseg.cut(text))


def run(docs, setup, repeat: int) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        for d in docs:
            tk.pos_tokens.cache_clear()
            process_document((d, setup))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", default=str(ROOT / "out/demo/dedup/data"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    docs = list(iter_rows(Path(args.docs)))
    chars = sum(len(d["text"] or "") for d in docs) * args.repeat
    setup = WorkerSetup(str(ROOT / "prompts/templates"), seed=42, root=str(ROOT))
    load_setup(setup)
    t = time.perf_counter()
    tk.jieba_modules()
    init = time.perf_counter() - t
    run(docs[:3], setup, 1)  # warm: compile templates, load OpenCC tables

    ours = run(docs, setup, args.repeat)
    original = tk.pos_tokens
    cached_peer = __import__("functools").lru_cache(maxsize=8192)(peer_pos_tokens)
    tk.pos_tokens = cached_peer
    try:
        peer = run(docs, setup, args.repeat)
    finally:
        tk.pos_tokens = original

    # keyword agreement: ours vs jieba.analyse.extract_tags with the same parts of speech
    _, analyse, _ = tk.jieba_modules()
    overlaps = []
    for d in docs:
        text = f"{d['title'] or ''}\n{d['text']}"
        a = set(tk.keywords(text, 8))
        b = [w for w in analyse.extract_tags(text, topK=16, allowPOS=tuple(tk.KEYWORD_POS)) if len(w) >= 2][:8]
        overlaps.append(len(a & set(b)) / max(len(b), 1))
    rss = psutil.Process().memory_info().rss / 2**20
    n = len(docs) * args.repeat
    print(f"articles: {n} ({chars} characters), jieba init {init:.2f}s (once per process)")
    print(f"ours (jieba.cut + dictionary tags, one cut per paragraph): {ours:.2f}s  {n / ours:.1f} articles/s  {chars / ours / 1000:.1f}k chars/s")
    print(f"peer (jieba.posseg HMM tagger):                          {peer:.2f}s  {n / peer:.1f} articles/s  {chars / peer / 1000:.1f}k chars/s")
    print(f"speed ratio ours/peer: {peer / ours:.2f}x    top-8 keyword overlap with jieba.analyse.extract_tags: {sum(overlaps) / len(overlaps):.2f}")
    print(f"peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
