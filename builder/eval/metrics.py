"""Rank metrics of an evaluation: average rank, Rank-n counts, pairwise win rates with bootstrap intervals,
position bias, and agreement between two rankers (the judge and people).

Everything works from *per-question rankings*: for each question, each candidate's rank (1 = best, ties
share the mean position). The judge's per-question ranking aggregates its reliable judgments: candidates
ordered by their mean rank over the permutations.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Iterable, Mapping, Sequence

import numpy as np
import polars as pl

from .judge import Judgment, tier_ranks

Rankings = dict[str, dict[str, float]]  # question id -> candidate -> rank


def aggregate(judgments: Iterable[Judgment]) -> Rankings:
    """Per question, the candidates ranked by their mean rank over the reliable judgments (ties share)."""
    by_q: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for j in judgments:
        if j.reliable:
            for name, r in j.ranks.items():
                by_q[j.question][name].append(r)
    out: Rankings = {}
    for q, per in by_q.items():
        means = {name: float(np.mean(rs)) for name, rs in per.items()}
        tiers: dict[float, list[str]] = defaultdict(list)
        for name, m in means.items():
            tiers[round(m, 9)].append(name)
        out[q] = tier_ranks([sorted(tiers[m]) for m in sorted(tiers)])
    return out


def rank_table(rankings: Rankings, candidates: Sequence[str], bootstrap: int = 1000, seed: int = 0) -> pl.DataFrame:
    """Average rank (with a 95% bootstrap interval over questions) and Rank-n counts per candidate."""
    qs = sorted(rankings)
    n = len(candidates)
    if not qs:
        return pl.DataFrame(schema={"candidate": pl.String, "questions": pl.Int64, "average_rank": pl.Float64})
    matrix = np.array([[rankings[q].get(c, np.nan) for c in candidates] for q in qs], dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(qs), size=(bootstrap, len(qs)))
    boot = np.nanmean(matrix[idx], axis=1)  # (bootstrap, candidates)
    rows = []
    for k, c in enumerate(candidates):
        col = matrix[:, k]
        valid = col[~np.isnan(col)]
        row = {"candidate": c, "questions": int(valid.size), "average_rank": round(float(valid.mean()), 3) if valid.size else None,
               "ci_low": round(float(np.nanpercentile(boot[:, k], 2.5)), 3), "ci_high": round(float(np.nanpercentile(boot[:, k], 97.5)), 3)}
        places = [_place(rankings[q], c) for q in qs if c in rankings[q]]
        for place in range(1, n + 1):  # a tie for a place counts for the best place it shares
            row[f"rank_{place}"] = places.count(place)
        rows.append(row)
    return pl.DataFrame(rows).sort("average_rank")


def _place(ranks: Mapping[str, float], c: str) -> int:
    return 1 + sum(1 for r in ranks.values() if r < ranks[c])


def win_rates(rankings: Rankings, candidates: Sequence[str], bootstrap: int = 1000, seed: int = 0) -> pl.DataFrame:
    """Pairwise win rate of row over column (a tie counts half), with a 95% bootstrap interval."""
    qs = sorted(rankings)
    rng = np.random.default_rng(seed + 1)
    rows = []
    for a in candidates:
        for b in candidates:
            if a == b:
                continue
            scores = np.array([_score(rankings[q], a, b) for q in qs if a in rankings[q] and b in rankings[q]], dtype=float)
            if not scores.size:
                continue
            boot = scores[rng.integers(0, scores.size, size=(bootstrap, scores.size))].mean(axis=1)
            rows.append({"candidate": a, "versus": b, "questions": int(scores.size), "win_rate": round(float(scores.mean()), 3),
                         "ci_low": round(float(np.percentile(boot, 2.5)), 3), "ci_high": round(float(np.percentile(boot, 97.5)), 3)})
    return pl.DataFrame(rows, schema={"candidate": pl.String, "versus": pl.String, "questions": pl.Int64, "win_rate": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64})


def _score(ranks: Mapping[str, float], a: str, b: str) -> float:
    return 1.0 if ranks[a] < ranks[b] else 0.5 if ranks[a] == ranks[b] else 0.0


def by_group(rankings: Rankings, candidates: Sequence[str], groups: Mapping[str, str], name: str) -> pl.DataFrame:
    """Per group of questions (family, sub-category): each candidate's average rank, Rank-1 count and win
    rate against all the others (a tie counts half)."""
    rows = []
    members: dict[str, list[str]] = defaultdict(list)
    for q in rankings:
        members[groups.get(q, "")].append(q)
    for g, qs in sorted(members.items()):
        for c in candidates:
            vals = [rankings[q][c] for q in qs if c in rankings[q]]
            if not vals:
                continue
            duels = [_score(rankings[q], c, d) for q in qs for d in candidates if d != c and c in rankings[q] and d in rankings[q]]
            rows.append({name: g, "candidate": c, "questions": len(vals), "average_rank": round(float(np.mean(vals)), 3),
                         "rank_1": sum(1 for q in qs if c in rankings[q] and _place(rankings[q], c) == 1),
                         "win_rate": round(float(np.mean(duels)), 3) if duels else None})
    return pl.DataFrame(rows, schema={name: pl.String, "candidate": pl.String, "questions": pl.Int64, "average_rank": pl.Float64,
                                      "rank_1": pl.Int64, "win_rate": pl.Float64})


def position_bias(judgments: Sequence[Judgment], listed: Sequence[str]) -> pl.DataFrame:
    """Where the winners (first tier) stood: by the position shown to the judge, and by the position in the
    listed order of the candidates (the order the judge would have seen without the shuffle), each against
    the 1/n a judge without position bias gives.

    Counted over every judgment that parsed, reliable or not: the bias is the judge's, before the shuffle
    and the anchor correct for it. A judge that favours the first position shows it in ``share_shown``;
    the shuffle spreads that over the candidates, so ``share_listed`` stays near fair."""
    shown: dict[int, int] = defaultdict(int)
    won: dict[int, int] = defaultdict(int)
    won_listed: dict[int, int] = defaultdict(int)
    expected: dict[int, list[float]] = defaultdict(list)
    index = {name: k for k, name in enumerate(listed)}
    for j in judgments:
        if j.problem == "invalid_ranking" or j.problem == "request_failed":
            continue
        n = len(j.order)
        for p in range(n):
            shown[p] += 1
            expected[p].append(1 / n)
        for p in j.top_positions:
            won[p] += 1
            name = j.order[p]
            if name in index:
                won_listed[index[name]] += 1
    return pl.DataFrame([{"position": p + 1, "judgments": shown[p], "won_shown": won[p], "share_shown": round(won[p] / shown[p], 3),
                          "won_listed": won_listed[p], "share_listed": round(won_listed[p] / shown[p], 3),
                          "fair_share": round(float(np.mean(expected[p])), 3)} for p in sorted(shown)],
                        schema={"position": pl.Int64, "judgments": pl.Int64, "won_shown": pl.Int64, "share_shown": pl.Float64,
                                "won_listed": pl.Int64, "share_listed": pl.Float64, "fair_share": pl.Float64})


def _pref(ranks: Mapping[str, float], a: str, b: str) -> int:
    return 0 if ranks[a] == ranks[b] else (1 if ranks[a] < ranks[b] else -1)


def agreement(first: Rankings, second: Mapping[str, Sequence[dict[str, float]]], candidates: Sequence[str]) -> dict[str, float]:
    """Agreement of ranker ``first`` (one ranking per question) with every ranking of ``second`` (several
    annotators per question): pairwise agreement with and without ties, and mean Kendall's tau-b."""
    from scipy.stats import kendalltau

    same = total = same_nt = total_nt = 0
    taus = []
    for q, theirs in second.items():
        mine = first.get(q)
        if not mine:
            continue
        for other in theirs:
            shared = [c for c in candidates if c in mine and c in other]
            for a, b in combinations(shared, 2):
                p, r = _pref(mine, a, b), _pref(other, a, b)
                total += 1
                same += p == r
                if p and r:
                    total_nt += 1
                    same_nt += p == r
            if len(shared) >= 2:
                tau = kendalltau([mine[c] for c in shared], [other[c] for c in shared]).statistic
                if tau == tau:  # nan when one side ranks everything equal
                    taus.append(float(tau))
    return {"pairs": total, "agreement_with_ties": round(same / total, 3) if total else None,
            "pairs_without_ties": total_nt, "agreement_without_ties": round(same_nt / total_nt, 3) if total_nt else None,
            "kendall_tau": round(float(np.mean(taus)), 3) if taus else None}


def win_rate_svg(table: pl.DataFrame, candidates: Sequence[str]) -> str:
    """The win-rate matrix as a small SVG heat map (row beats column; green high, red low)."""
    cell, pad = 64, 110
    n = len(candidates)
    rates = {(r["candidate"], r["versus"]): r["win_rate"] for r in table.iter_rows(named=True)}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{pad + n * cell + 10}" height="{pad + n * cell + 10}" font-family="sans-serif" font-size="12">']
    for i, c in enumerate(candidates):
        parts.append(f'<text x="{pad - 6}" y="{pad + i * cell + cell / 2 + 4}" text-anchor="end">{_esc(c)}</text>')
        parts.append(f'<text x="{pad + i * cell + cell / 2}" y="{pad - 8}" text-anchor="middle">{_esc(c)}</text>')
        for k, d in enumerate(candidates):
            x, y = pad + k * cell, pad + i * cell
            v = rates.get((c, d))
            color = "#eeeeee" if v is None else f"rgb({int(255 * (1 - v))},{int(200 * v + 40)},90)"
            label = "" if v is None else f"{v:.2f}"
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{color}"/>'
                         f'<text x="{x + cell / 2 - 1}" y="{y + cell / 2 + 4}" text-anchor="middle">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
