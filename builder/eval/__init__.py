"""``builder eval``: rank candidate models' answers to the export's validation questions with a debiased judge.

1. questions: the export's validation items (seeded sample of ``per_family`` per family), or a JSONL file;
2. answers: each candidate answers through its own OpenAI-compatible endpoint (the project's cached,
   rate-limited client: a rerun pays nothing twice) or from a JSONL file of answers;
3. judge: each question in ``permutations`` orders with an empty anchor (``judge.py``), rankings back;
4. metrics (``metrics.py``): average rank and Rank-n with bootstrap intervals, win rates, per family and
   sub-category, position bias; with ``import-human`` rankings, the same for people and the judge's
   agreement with them.

Everything lands in ``<output>/eval/``: Parquet tables, ``rejected.parquet`` (unreliable judgments and
failed requests, with the reason), ``report/README.md`` and ``report/win_rate.svg``.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import polars as pl

from .. import aio
from ..config import BuildConfig
from ..errors import BuilderError
from ..llm import ChatRequest, Completion, LLMClient, LLMError, LLMSettings, RequestCache, endpoint_problem, estimate_prompt_tokens
from ..shards import iter_rows, shard_files, write_parquet
from .judge import JudgePrompt, JudgeTask, Judgment, Question, orders, read_judgment
from . import metrics

FOLDER = "eval"


@dataclass
class EvalRun:
    """What one ``builder eval run`` did, for the CLI and the report."""

    questions: list[Question]
    candidates: list[str]
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    judgments: list[Judgment] = field(default_factory=list)
    counters: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


# -- questions ------------------------------------------------------------------------------------------
def load_questions(build: BuildConfig) -> list[Question]:
    s = build.settings["eval"]
    seed = build.settings["build"]["seed"]
    if s["questions"] == "validation":
        folder = build.output / "export" / "data"
        if not shard_files(folder):
            raise BuilderError(f"no export in {build.output} (run 'builder run export' first, or set [eval] questions to a .jsonl file)")
        rows = [r for r in iter_rows(folder, ["id", "instruction", "input", "output", "family", "subcategory", "split"])
                if r["split"] == "validation"]
        questions = [Question(r["id"], r["instruction"], r["input"] or "", r["output"] or "", r["family"] or "", r["subcategory"] or "")
                     for r in rows]
    else:
        questions = _questions_file(build.resolve(s["questions"]))
    by_family: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        by_family[q.family].append(q)
    picked = []
    for family in sorted(by_family):
        qs = sorted(by_family[family], key=lambda q: q.id)
        random.Random(f"{seed}:{family}").shuffle(qs)
        picked += sorted(qs[: s["per_family"]], key=lambda q: q.id)
    if not picked:
        raise BuilderError("no questions to evaluate (the export has no validation items)")
    return picked


def _questions_file(path: Path) -> list[Question]:
    if not path.is_file():
        raise BuilderError(f"{path}: questions file not found")
    out = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError as exc:
            raise BuilderError(f"{path}:{no}: not valid JSON ({exc})") from None
        if not isinstance(r, dict) or not r.get("instruction"):
            raise BuilderError(f"{path}:{no}: a question needs an 'instruction'")
        out.append(Question(str(r.get("id") or no), r["instruction"], r.get("input") or "", r.get("reference") or "",
                            r.get("family") or "", r.get("subcategory") or ""))
    return out


def prompt_of(q: Question) -> str:
    return f"{q.instruction}\n\n{q.input}" if q.input else q.instruction


# -- clients -------------------------------------------------------------------------------------------
def _settings(build: BuildConfig, endpoint: dict[str, Any]) -> LLMSettings:
    """An endpoint's settings: its own base_url/model/key variable over the [llm] limits and prices."""
    llm = dict(build.settings.get("llm", {}))
    for k in ("base_url", "model"):
        if endpoint.get(k):
            llm[k] = endpoint[k]
    if "api_key_env" in endpoint:  # "" = an endpoint without a key
        llm["api_key_env"] = endpoint["api_key_env"]
    llm["response_format"] = "text"
    return LLMSettings.from_mapping(llm)


def _client(build: BuildConfig, settings: LLMSettings) -> LLMClient:
    import os

    problem = endpoint_problem(settings)
    if problem:
        raise BuilderError(f"{build.path}: {problem}")
    key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
    return LLMClient(settings, RequestCache(build.cache_dir / "llm.sqlite"), api_key=key)


async def _ask(client: LLMClient, requests: list[ChatRequest]) -> list[Completion | LLMError]:
    out = []
    try:
        async for r in client.map(requests):
            out.append(r)
    finally:
        await client.aclose()
    return out


# -- the run ---------------------------------------------------------------------------------------------
def candidates_of(build: BuildConfig) -> list[dict[str, Any]]:
    cands = build.settings["eval"]["candidates"]
    if len(cands) < 2:
        raise BuilderError(f"{build.path}: [eval] needs at least two [[eval.candidates]] to rank")
    names = [c["name"] for c in cands]
    if len(set(names)) != len(names):
        raise BuilderError(f"{build.path}: [[eval.candidates]] names must differ (got {', '.join(names)})")
    return cands


def estimate(build: BuildConfig) -> dict[str, Any]:
    """Requests and prompt tokens the run would send (answers and judge), nothing sent."""
    s = build.settings["eval"]
    questions = load_questions(build)
    cands = candidates_of(build)
    live = [c for c in cands if not c.get("answers")]
    answer_tokens = sum(estimate_prompt_tokens([{"role": "user", "content": prompt_of(q)}]) for q in questions) * len(live)
    per_answer = sum(c.get("max_tokens", 1024) for c in live) // max(len(live), 1)
    judge_prompt = sum(len(prompt_of(q)) + len(q.reference) for q in questions) // 2 + 600 * len(questions)
    judge = _settings(build, s["judge"])
    judge_in = (judge_prompt + per_answer * len(cands) * len(questions)) * s["permutations"]
    judge_out = 80 * len(questions) * s["permutations"]
    return {"questions": len(questions), "answer_requests": len(questions) * len(live), "answer_prompt_tokens": answer_tokens,
            "judge_requests": len(questions) * s["permutations"], "judge_requests_per_question": s["permutations"],
            "judge_prompt_tokens_at_most": judge_in, "judge_completion_tokens": judge_out,
            "judge_cost_usd_at_most": judge.cost(judge_in, judge_out), "judge_model": judge.model}


def run(build: BuildConfig, log: Callable[[str], None] = lambda _t: None) -> EvalRun:
    seed = build.settings["build"]["seed"]
    questions = load_questions(build)
    cands = candidates_of(build)
    result = EvalRun(questions, [c["name"] for c in cands])
    result.counters["questions"] = len(questions)
    for c in cands:
        result.answers[c["name"]] = _answers(build, c, questions, result, log)
    result.judgments = _judge(build, questions, result, seed)
    write(build, result)
    return result


def _answers(build: BuildConfig, cand: dict[str, Any], questions: list[Question], result: EvalRun, log) -> dict[str, str]:
    name = cand["name"]
    if cand.get("answers"):
        path = build.resolve(cand["answers"])
        if not path.is_file():
            raise BuilderError(f"{path}: answers file of candidate '{name}' not found")
        given = {}
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    r = json.loads(line)
                    given[str(r["id"])] = str(r["answer"] or "")
                except (ValueError, KeyError, TypeError):
                    raise BuilderError(f"{path}:{no}: an answer line needs 'id' and 'answer'") from None
        missing = [q.id for q in questions if q.id not in given]
        if missing:
            result.counters[f"missing_answer:{name}"] += len(missing)
            result.problems.append(f"candidate '{name}': no answer for {len(missing)} of {len(questions)} questions in {path.name}")
        return {q.id: given[q.id] for q in questions if q.id in given}
    if not cand.get("base_url"):
        raise BuilderError(f"{build.path}: candidate '{name}' needs a base_url (and model) or an answers file")
    settings = _settings(build, cand)
    log(f"eval: {name}: {len(questions)} answers from {settings.model}")
    reqs = [ChatRequest([{"role": "user", "content": prompt_of(q)}], {"temperature": cand.get("temperature", 0.0),
                                                                        "max_tokens": cand.get("max_tokens", 1024)}) for q in questions]
    replies = aio.run(_ask(_client(build, settings), reqs))
    out = {}
    for q, r in zip(questions, replies):
        if isinstance(r, LLMError):
            result.counters[f"answer_failed:{name}"] += 1
            continue
        result.counters["answers_cached" if r.cached else "answers_paid"] += 1
        out[q.id] = r.text or ""
    failed = result.counters.get(f"answer_failed:{name}", 0)
    if failed:
        result.problems.append(f"candidate '{name}': {failed} of {len(questions)} answer requests failed; a rerun retries them")
    return out


def _judge(build: BuildConfig, questions: list[Question], result: EvalRun, seed: int) -> list[Judgment]:
    s = build.settings["eval"]
    prompt = JudgePrompt()
    tasks: list[JudgeTask] = []
    for q in questions:
        present = [c for c in result.candidates if q.id in result.answers[c]]
        if len(present) < 2:
            result.counters["questions_without_two_answers"] += 1
            continue
        for k, order in enumerate(orders(present, q.id, s["permutations"], seed, s["anchor"])):
            answers = {c: result.answers[c][q.id] for c in present}
            tasks.append(JudgeTask(q, k, order, prompt.messages(q, order, answers, s["reference"] and bool(q.reference))))
    settings = _settings(build, s["judge"])
    reqs = [ChatRequest(list(t.messages), {"temperature": 0.0, "max_tokens": s["judge"]["max_tokens"]}) for t in tasks]
    replies = aio.run(_ask(_client(build, settings), reqs)) if reqs else []
    judgments = []
    for t, r in zip(tasks, replies):
        if isinstance(r, LLMError):
            j = Judgment(t.question.id, t.permutation, t.order, problem="request_failed")
        else:
            result.counters["judge_cached" if r.cached else "judge_paid"] += 1
            j = read_judgment(t, r.text, r.finish_reason)
            j.raw = r.text  # type: ignore[attr-defined]
        result.counters[f"judgment_{j.problem or 'reliable'}"] += 1
        result.counters["judgment_tied"] += j.tied
        judgments.append(j)
    failed = result.counters.get("judgment_request_failed", 0)
    if failed:
        result.problems.append(f"{failed} of {len(tasks)} judge requests failed; a rerun retries them")
    return judgments


# -- output -------------------------------------------------------------------------------------------------
def folder(build: BuildConfig) -> Path:
    return build.output / FOLDER


def write(build: BuildConfig, result: EvalRun) -> None:
    out = folder(build)
    write_parquet(pl.DataFrame([{"id": q.id, "family": q.family, "subcategory": q.subcategory, "instruction": q.instruction,
                                  "input": q.input, "reference": q.reference} for q in result.questions]), out / "questions.parquet")
    write_parquet(pl.DataFrame([{"candidate": c, "id": qid, "answer": a} for c, per in result.answers.items() for qid, a in per.items()],
                               schema={"candidate": pl.String, "id": pl.String, "answer": pl.String}), out / "answers.parquet")
    rows = [{"id": j.question, "permutation": j.permutation, "order": list(j.order), "ranks": json.dumps(j.ranks, ensure_ascii=False),
             "top_positions": list(j.top_positions), "tied": j.tied, "reliable": j.reliable, "problem": j.problem,
             "reply": getattr(j, "raw", None)} for j in result.judgments]
    schema = {"id": pl.String, "permutation": pl.Int64, "order": pl.List(pl.String), "ranks": pl.String, "top_positions": pl.List(pl.Int64),
              "tied": pl.Boolean, "reliable": pl.Boolean, "problem": pl.String, "reply": pl.String}
    table = pl.DataFrame(rows, schema=schema)
    write_parquet(table.filter(pl.col("reliable")), out / "judgments.parquet")
    write_parquet(table.filter(~pl.col("reliable")).rename({"problem": "reason"}), out / "rejected.parquet")
    report(build, result)


def human_rankings(build: BuildConfig) -> dict[str, list[dict[str, float]]]:
    path = folder(build) / "human.parquet"
    if not path.is_file():
        return {}
    out: dict[str, list[dict[str, float]]] = defaultdict(list)
    for r in pl.read_parquet(path).iter_rows(named=True):
        out[r["id"]].append(json.loads(r["ranks"]))
    return out


def parse_human_ranking(text: str) -> dict[str, float]:
    """'a>b=c>d' -> ranks (ties share the mean place)."""
    from .judge import tier_ranks

    tiers = [[n.strip() for n in tier.split("=") if n.strip()] for tier in text.split(">")]
    if not all(tiers) or len({n for t in tiers for n in t}) != sum(len(t) for t in tiers):
        raise ValueError(f"'{text}' is not a ranking like a>b=c (each name once)")
    return tier_ranks(tiers)


def import_human(build: BuildConfig, path: Path) -> int:
    """Read a CSV of question_id, annotator, ranking ('a>b=c'); store it for the report. Returns rows read."""
    if not path.is_file():
        raise BuilderError(f"{path}: file not found")
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"question_id", "annotator", "ranking"}
        if not need <= set(reader.fieldnames or []):
            raise BuilderError(f"{path}: expected the columns question_id, annotator, ranking (got {', '.join(reader.fieldnames or [])})")
        for no, r in enumerate(reader, 2):
            try:
                ranks = parse_human_ranking(r["ranking"])
            except ValueError as exc:
                raise BuilderError(f"{path}:{no}: {exc}") from None
            rows.append({"id": r["question_id"], "annotator": r["annotator"], "ranks": json.dumps(ranks, ensure_ascii=False)})
    write_parquet(pl.DataFrame(rows, schema={"id": pl.String, "annotator": pl.String, "ranks": pl.String}), folder(build) / "human.parquet")
    return len(rows)


def load_judgments(build: BuildConfig) -> list[Judgment]:
    path = folder(build) / "judgments.parquet"
    if not path.is_file():
        raise BuilderError(f"no evaluation in {build.output} (run 'builder eval run' first)")
    out = []
    for r in pl.read_parquet(path).iter_rows(named=True):
        out.append(Judgment(r["id"], r["permutation"], tuple(r["order"]), json.loads(r["ranks"]), tuple(r["top_positions"]),
                            r["tied"], r["reliable"], r["problem"]))
    return out


def report(build: BuildConfig, result: EvalRun | None = None) -> dict[str, pl.DataFrame]:
    """The rank tables (judge, people, agreement) as Parquet, README.md and a win-rate SVG in eval/report/."""
    s = build.settings["eval"]
    seed = build.settings["build"]["seed"]
    out = folder(build) / "report"
    if result is None:
        judgments = load_judgments(build)
        qs = pl.read_parquet(folder(build) / "questions.parquet")
        candidates = [c["name"] for c in build.settings["eval"]["candidates"]]
        groups = {r["id"]: (r["family"], r["subcategory"]) for r in qs.iter_rows(named=True)}
        rejected = pl.read_parquet(folder(build) / "rejected.parquet")
        counters = Counter({f"judgment_{k}": v for k, v in Counter(rejected["reason"].to_list()).items()})
        counters["judgment_reliable"] = len(judgments)
        problems: list[str] = []
    else:
        judgments = result.judgments
        candidates = result.candidates
        groups = {q.id: (q.family, q.subcategory) for q in result.questions}
        counters, problems = result.counters, result.problems
    rankings = metrics.aggregate(judgments)
    tables = {"ranks": metrics.rank_table(rankings, candidates, s["bootstrap"], seed),
              "win_rates": metrics.win_rates(rankings, candidates, s["bootstrap"], seed),
              "by_family": metrics.by_group(rankings, candidates, {q: g[0] for q, g in groups.items()}, "family"),
              "by_subcategory": metrics.by_group(rankings, candidates, {q: g[1] for q, g in groups.items()}, "subcategory"),
              "position_bias": metrics.position_bias(judgments, candidates)}
    human = human_rankings(build)
    if human:
        people = {q: _mean_ranking(rs) for q, rs in human.items()}
        tables["human_ranks"] = metrics.rank_table(people, candidates, s["bootstrap"], seed)
        tables["human_win_rates"] = metrics.win_rates(people, candidates, s["bootstrap"], seed)
        tables["human_by_family"] = metrics.by_group(people, candidates, {q: g[0] for q, g in groups.items()}, "family")
        agree = metrics.agreement(rankings, human, candidates)
        between = _between_annotators(human, candidates)
        tables["agreement"] = pl.DataFrame([{"between": "judge and people", **agree}, {"between": "people and people", **between}])
    tables["counts"] = pl.DataFrame({"what": list(counters), "count": [int(v) for v in counters.values()]},
                                    schema={"what": pl.String, "count": pl.Int64})
    for name, df in tables.items():
        write_parquet(df, out / f"{name}.parquet")
    (out / "win_rate.svg").write_text(metrics.win_rate_svg(tables["win_rates"], candidates), encoding="utf-8")
    from ..report import render_markdown

    notes = [f"{len(rankings)} questions ranked from {counters.get('judgment_reliable', 0)} reliable judgments; "
             f"{counters.get('judgment_anchor_not_last', 0)} judgments left out because the empty anchor was not ranked last, "
             f"{counters.get('judgment_invalid_ranking', 0)} because the ranking was not valid; "
             f"{counters.get('judgment_tied', 0)} judgments had ties. Win-rate heat map: win_rate.svg"]
    (out / "README.md").write_text(render_markdown("eval", tables, notes, problems), encoding="utf-8")
    return tables


def _mean_ranking(rankings: list[dict[str, float]]) -> dict[str, float]:
    from .judge import tier_ranks

    names = sorted({n for r in rankings for n in r})
    means = {n: sum(r[n] for r in rankings if n in r) / sum(1 for r in rankings if n in r) for n in names}
    tiers: dict[float, list[str]] = defaultdict(list)
    for n, m in means.items():
        tiers[round(m, 9)].append(n)
    return tier_ranks([tiers[m] for m in sorted(tiers)])


def _between_annotators(human: dict[str, list[dict[str, float]]], candidates: list[str]) -> dict[str, Any]:
    """Each annotator against the others on the questions they share (the ceiling a judge can reach)."""
    firsts = {q: rs[0] for q, rs in human.items() if len(rs) > 1}
    rest = {q: rs[1:] for q, rs in human.items() if len(rs) > 1}
    return metrics.agreement(firsts, rest, candidates) if firsts else {"pairs": 0}
