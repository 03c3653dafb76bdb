"""Assembly of the final dataset: review decisions, the last near-duplicate pass across origins, and the
mix of origins (splits are ``builder.items.SplitRule``).

Each function takes plain item dicts (INSTRUCTION_SCHEMA records) and returns its decisions; the stage
turns every decision to drop an item into a rejected row with its reason.
"""

from __future__ import annotations

import csv
import json
import math
import random
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping

from ...errors import BuilderError
from ...items import SPLITS  # noqa: F401 - re-exported for the stage

ORIGINS = ("templates", "selfinstruct")  # also the keep priority of the near-duplicate pass


# -- review decisions and blocklist -----------------------------------------------------------------
def read_blocklist(path: Path) -> set[str]:
    """Item ids, one per line; blank lines and '#' comments are ignored."""
    if not path.is_file():
        raise BuilderError(f"{path}: blocklist file not found ([export] blocklist)")
    ids = set()
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ids.add(line)
    return ids


def read_review_decisions(path: Path) -> dict[str, str]:
    """Ids a reviewer rejected -> the reviewer's reason. Accepts .csv or .jsonl with id, decision[, reason]."""
    if not path.is_file():
        raise BuilderError(f"{path}: review decisions file not found ([export] review_decisions)")
    rows: list[tuple[str, Mapping[str, Any]]] = []
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = {"id", "decision"} - set(reader.fieldnames or [])
            if missing:
                raise BuilderError(f"{path}: missing column(s) {', '.join(sorted(missing))} (expected id, decision[, reason])")
            rows = [(f"line {i + 2}", r) for i, r in enumerate(reader)]
    elif path.suffix.lower() in (".jsonl", ".ndjson"):
        for i, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BuilderError(f"{path}:{i}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise BuilderError(f"{path}:{i}: expected a JSON object with id and decision")
            rows.append((f"line {i}", obj))
    else:
        raise BuilderError(f"{path}: review decisions must be .csv or .jsonl")
    rejected: dict[str, str] = {}
    for where, r in rows:
        item_id = str(r.get("id") or "").strip()
        decision = str(r.get("decision") or "").strip().lower()
        if not item_id:
            raise BuilderError(f"{path}: {where}: empty id")
        if decision not in ("accept", "reject"):
            raise BuilderError(f"{path}: {where}: decision must be 'accept' or 'reject', got '{r.get('decision')}'")
        if decision == "reject":
            rejected[item_id] = str(r.get("reason") or "").strip() or "rejected in review"
        else:
            rejected.pop(item_id, None)  # a later accept overrides an earlier reject
    return rejected


# -- near-duplicates --------------------------------------------------------------------------------
def prompt_text(item: Mapping[str, Any]) -> str:
    instruction, given = item.get("instruction") or "", item.get("input") or ""
    return f"{instruction}\n\n{given}" if given else instruction


def near_duplicates(items: list[Mapping[str, Any]], threshold: float, ngram: int = 5, num_perm: int = 128,
                    seed: int = 42) -> list[tuple[int, int, float]]:
    """(dropped index, kept index, similarity) for items that repeat an earlier kept item.

    Items are compared in the order given (the caller puts the preferred ones first). Two items are
    near-duplicates when both the prompt (instruction + input) and the output reach ``threshold``
    (character n-gram Jaccard of the comparison form): two tasks made from the same article share
    their input but not their output, and both are kept.

    Shingles, MinHash signatures and LSH candidates come from the dedup stage's engine
    (``builder.text.minhash``). An item's signature is taken over all its shingles (instruction, input
    and output) at a threshold 0.1 lower than asked, since both sides reaching ``threshold`` makes the
    whole reach about as much; every candidate is then measured exactly on each side before anything
    is dropped. Shingle sets and signatures are computed once per distinct text.
    """
    if len(items) < 2:
        return []
    import numpy as np

    from ...text.minhash import MinHashSettings, lsh_candidates, shingle_hashes, signatures
    from ...text.minhash.verify import measure_sets

    # one shingle set and one signature per distinct text: the items of one article share its input,
    # and MinHash(A ∪ B) is the element-wise minimum of MinHash(A) and MinHash(B)
    texts: dict[str, int] = {}
    parts = np.empty((len(items), 3), dtype=np.int64)
    for k, it in enumerate(items):
        for c, field in enumerate(("instruction", "input", "output")):
            parts[k, c] = texts.setdefault(it.get(field) or "", len(texts))
    distinct = list(texts)
    del texts
    hashes = [shingle_hashes(t, ngram) for t in distinct]
    sig_of = np.concatenate([signatures(hashes[k:k + 2048], num_perm, seed) for k in range(0, len(hashes), 2048)])
    sig = np.minimum(np.minimum(sig_of[parts[:, 0]], sig_of[parts[:, 1]]), sig_of[parts[:, 2]])
    del sig_of
    sizes = np.array([len(h) for h in hashes])
    rows = np.flatnonzero(sizes[parts].sum(axis=1) > 0)
    settings = MinHashSettings(ngram=ngram, num_perm=num_perm, threshold=max(0.05, threshold - 0.1),
                               containment_threshold=None, seed=seed)
    codes = lsh_candidates(sig[rows], rows, settings)
    del sig
    earlier: dict[int, list[int]] = defaultdict(list)
    for code in codes.tolist():
        a, b = code >> 32, code & 0xFFFFFFFF
        earlier[max(a, b)].append(min(a, b))

    prompts: dict[tuple[int, int], np.ndarray] = {}

    def prompt(k: int) -> np.ndarray:
        key = (int(parts[k, 0]), int(parts[k, 1]))
        if key not in prompts:
            prompts[key] = np.union1d(hashes[key[0]], hashes[key[1]])
        return prompts[key]

    def jaccard(a: np.ndarray, b: np.ndarray) -> float:
        """Exact Jaccard of two sorted unique hash arrays; 0 early when the sizes alone rule ``threshold`` out."""
        small, large = sorted((len(a), len(b)))
        if large and small < threshold * large:
            return small / large  # an upper bound below the threshold
        return measure_sets(a, b)[0]

    dropped: set[int] = set()
    found: list[tuple[int, int, float]] = []
    for j in sorted(earlier):
        for i in sorted(earlier[j]):
            if i in dropped:
                continue
            # outputs first: tasks made from one article share the input, rarely the output
            sim_output = 1.0 if parts[i, 2] == parts[j, 2] else jaccard(hashes[parts[i, 2]], hashes[parts[j, 2]])
            if sim_output < threshold:
                continue
            same_prompt = parts[i, 0] == parts[j, 0] and parts[i, 1] == parts[j, 1]
            sim_prompt = 1.0 if same_prompt else jaccard(prompt(i), prompt(j))
            if sim_prompt >= threshold:
                dropped.add(j)
                found.append((j, i, round(min(sim_prompt, sim_output), 4)))
                break
    return found


# -- mix ------------------------------------------------------------------------------------------------
def mix_quotas(available: Mapping[str, int], mix: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, int], list[str]]:
    """How many items of each origin to keep, and notes about weights that could not apply.

    ``available`` counts each origin's items after the checks. A cap is a hard maximum. Weights are
    relative shares among the origins that have a weight and items: the largest total the items allow
    is taken. An origin without a weight is kept whole (up to its cap); weight 0 excludes it.
    """
    notes: list[str] = []
    capped = {}
    for origin, n in available.items():
        cap = (mix.get(origin) or {}).get("cap")
        capped[origin] = n if cap is None else min(n, int(cap))
    weighted = {o: float(w) for o in capped if (w := (mix.get(o) or {}).get("weight")) is not None}
    quotas = dict(capped)
    for o, w in weighted.items():
        if w == 0:
            quotas[o] = 0
    live = {o: w for o, w in weighted.items() if w > 0 and capped[o] > 0}
    for o, w in weighted.items():
        if w > 0 and capped[o] == 0:
            notes.append(f"mix weight of '{o}' ignored: it has no items")
    if len(live) >= 1:
        total_w = sum(live.values())
        total = min(capped[o] / (w / total_w) for o, w in live.items())
        for o, w in live.items():
            quotas[o] = min(capped[o], int(math.floor(total * w / total_w + 1e-9)))
    return quotas, notes


def sample_keeping_split_shares(indices: list[int], splits: list[str], quota: int, seed: int, salt: str) -> set[int]:
    """A seeded sample of ``quota`` indices that keeps each split's share (largest remainders)."""
    if quota >= len(indices):
        return set(indices)
    by_split: dict[str, list[int]] = defaultdict(list)
    for i, s in zip(indices, splits):
        by_split[s].append(i)
    n = len(indices)
    exact = {s: quota * len(v) / n for s, v in by_split.items()}
    take = {s: int(math.floor(x)) for s, x in exact.items()}
    for s in sorted(exact, key=lambda s: (take[s] - exact[s], s))[: quota - sum(take.values())]:
        take[s] += 1
    rnd = random.Random(f"{seed}:{salt}")
    chosen: set[int] = set()
    for s in sorted(by_split):
        chosen.update(rnd.sample(sorted(by_split[s]), take[s]))
    return chosen


def origin_order(items: Iterable[Mapping[str, Any]]) -> list[int]:
    """Indices in keep-priority order: templates first, then selfinstruct, each in its upstream order."""
    rank = {o: i for i, o in enumerate(ORIGINS)}
    indexed = list(enumerate(items))
    return [i for i, _ in sorted(indexed, key=lambda p: (rank.get(p[1].get("origin") or "", len(rank)), p[0]))]
