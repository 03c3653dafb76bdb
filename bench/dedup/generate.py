"""A Chinese near-duplicate benchmark with ground truth, built from the demo corpus's texts.

Base articles: distinct but realistic. Sentences of the demo corpus are cut into clauses, segmented
once with jieba, and every base article is assembled from random clauses in which about 40% of the
words are swapped for other demo words of the same length and every number is redrawn, so 100,000
base articles read like Chinese news but share almost no 5-gram runs.

Duplicates (ground truth = the base article they were made from), one kind or several mixed:
repost (new title, 原标题/来源/本文转自 header, 责任编辑/扫码关注 footer), sentences inserted and deleted,
typos (character swaps), paragraphs reordered after the lead, truncation to the first 60-90%,
excerpt (a run of paragraphs, 35-60% of the article), and mixes of two or three of these.

    python bench/dedup/generate.py --docs 2000 --out bench/out/dedup/corpus_2000.parquet
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "corpora" / "demo"
SENT = re.compile(r"(?<=[。！？])")
CLAUSE = re.compile(r"(?<=[，；：])")
TAG = re.compile(r"<[^>]+>")
NUM = re.compile(r"\d+(?:\.\d+)?")

HEADERS = ["原标题：{t}", "来源：{s}", "本文转自“{s}”微信公众号", "转自：{s}客户端", "编者按：本文经授权转载"]
FOOTERS = ["责任编辑：{n}", "扫码关注{s}，获取更多资讯", "点击阅读原文查看更多", "（本文来源：{s}，转载请注明出处）", "声明：转载此文是出于传递更多信息之目的"]
OUTLETS = ["青川日报", "临江晚报", "南屏融媒", "江川新闻网", "嘉和发布", "滨海观察", "云岭之声"]
NAMES = ["王小明", "李静", "周晓岚", "陈思远", "刘洋", "赵敏", "孙浩"]


def demo_texts() -> list[str]:
    texts = []
    for f in sorted(DEMO.rglob("*")):
        if f.name.startswith(("GROUND_TRUTH", "README")):
            continue
        if f.suffix in (".txt", ".md") and "junk" not in f.parts and "reposts" not in f.parts and "gbk" not in f.parts:
            t = f.read_text(encoding="utf-8", errors="ignore")
            if t.startswith("---"):
                t = t.split("---", 2)[-1]
            texts.append(t)
        elif f.suffix == ".html":
            texts.append(TAG.sub("\n", f.read_text(encoding="utf-8", errors="ignore")))
        elif f.suffix == ".jsonl":
            for line in f.read_text(encoding="utf-8").splitlines():
                try:
                    texts.append(json.loads(line).get("content", ""))
                except json.JSONDecodeError:
                    pass
    return texts


def clause_pool() -> tuple[list[list[str]], dict[int, list[str]]]:
    import jieba

    jieba.setLogLevel(60)
    clauses: list[list[str]] = []
    for text in demo_texts():
        for line in text.splitlines():
            line = line.strip()
            if len(re.findall(r"[\u4e00-\u9fff]", line)) < 8:
                continue
            for sent in SENT.split(line):
                for cl in CLAUSE.split(sent):
                    if len(cl) >= 4:
                        clauses.append(jieba.lcut(cl))
    vocab: dict[int, set[str]] = {}
    for words in clauses:
        for w in words:
            if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", w):
                vocab.setdefault(len(w), set()).add(w)
    return clauses, {k: sorted(v) for k, v in vocab.items()}


class ArticleMaker:
    def __init__(self, seed: int):
        self.rnd = random.Random(seed)
        self.clauses, self.vocab = clause_pool()

    def clause(self) -> str:
        rnd = self.rnd
        out = []
        for w in rnd.choice(self.clauses):
            if len(w) in self.vocab and len(w) >= 2 and rnd.random() < 0.4 and re.fullmatch(r"[\u4e00-\u9fff]+", w):
                w = rnd.choice(self.vocab[len(w)])
            elif NUM.fullmatch(w):
                w = str(rnd.randint(1, 31) if rnd.random() < 0.6 else rnd.randint(32, 9800))
            out.append(w)
        return "".join(out)

    def sentence(self) -> str:
        parts = [self.clause() for _ in range(self.rnd.randint(1, 3))]
        s = "".join(parts).rstrip("，；：。！？")
        return s + "。"

    def article(self) -> tuple[str, list[list[str]]]:
        rnd = self.rnd
        paras = [[self.sentence() for _ in range(rnd.randint(2, 4))] for _ in range(rnd.randint(4, 8))]
        title = self.clause().rstrip("，；：。")[:24]
        return title, paras


def render(title: str, paras: list[list[str]]) -> str:
    return title + "\n\n" + "\n\n".join("".join(p) for p in paras)


def make_variant(kind: str, title: str, paras: list[list[str]], maker: ArticleMaker) -> tuple[str, list[list[str]]]:
    rnd = maker.rnd
    paras = [list(p) for p in paras]
    if kind == "repost":
        outlet = rnd.choice(OUTLETS)
        head = [h.format(t=title, s=outlet) for h in rnd.sample(HEADERS, rnd.randint(1, 3))]
        foot = [f.format(n=rnd.choice(NAMES), s=outlet) for f in rnd.sample(FOOTERS, rnd.randint(1, 3))]
        title = maker.clause().rstrip("，；：。")[:24]
        paras = [[h] for h in head] + paras + [[f] for f in foot]
    elif kind == "edit":  # sentences inserted and deleted
        for _ in range(rnd.randint(1, 2)):
            p = rnd.choice(paras)
            if len(p) > 1:
                p.pop(rnd.randrange(len(p)))
        for _ in range(rnd.randint(1, 2)):
            p = rnd.choice(paras)
            p.insert(rnd.randrange(len(p) + 1), maker.sentence())
    elif kind == "typos":
        flat = [(i, j) for i, p in enumerate(paras) for j in range(len(p))]
        for _ in range(rnd.randint(2, 6)):
            i, j = rnd.choice(flat)
            s = paras[i][j]
            k = rnd.randrange(len(s))
            paras[i][j] = s[:k] + rnd.choice("的地得在再做作已以即既那哪") + s[k + 1 :]
    elif kind == "reorder":
        rest = paras[1:]
        rnd.shuffle(rest)
        paras = paras[:1] + rest
    elif kind == "truncate":
        text = "\n\n".join("".join(p) for p in paras)
        cut = int(len(text) * rnd.uniform(0.6, 0.9))
        paras = [[x] for x in text[:cut].split("\n\n") if x]
    elif kind == "excerpt":
        n = len(paras)
        k = max(2, round(n * rnd.uniform(0.35, 0.6)))
        start = rnd.randrange(0, n - k + 1)
        paras = paras[start : start + k]
        title = maker.clause().rstrip("，；：。")[:24]
    return title, paras


SINGLE = ["repost", "edit", "typos", "reorder", "truncate", "excerpt"]


def variant(title, paras, maker):
    rnd = maker.rnd
    kind = rnd.choice(SINGLE + ["mix", "mix"])
    if kind != "mix":
        return kind, *make_variant(kind, title, paras, maker)
    kinds = rnd.sample(["repost", "edit", "typos", "reorder", "truncate"], rnd.randint(2, 3))
    for k in kinds:
        title, paras = make_variant(k, title, paras, maker)
    return "mix:" + "+".join(kinds), title, paras


def generate(n_docs: int, seed: int = 0, dup_share: float = 0.4) -> pl.DataFrame:
    maker = ArticleMaker(seed)
    rnd = maker.rnd
    rows = []
    cluster = 0
    while len(rows) < n_docs:
        title, paras = maker.article()
        rows.append({"cluster": cluster, "kind": "original", "text": render(title, paras)})
        if rnd.random() < dup_share:
            for _ in range(min(rnd.choice([1, 1, 2, 2, 3, 4]), n_docs - len(rows))):
                kind, t2, p2 = variant(title, paras, maker)
                rows.append({"cluster": cluster, "kind": kind, "text": render(t2, p2)})
        cluster += 1
    order = list(range(len(rows)))
    rnd.shuffle(order)  # reposts come before or after their original
    df = pl.DataFrame([rows[i] for i in order])
    return df.with_row_index("row").with_columns(pl.format("d{}", pl.col("row")).alias("id")).select("id", "cluster", "kind", "text")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    df = generate(args.docs, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(args.out)
    dup_docs = df.height - df["cluster"].n_unique()
    print(f"{df.height} documents, {df['cluster'].n_unique()} base articles, {dup_docs} duplicates; "
          f"mean {df['text'].str.len_chars().mean():.0f} chars -> {args.out}")


if __name__ == "__main__":
    main()
