"""builder eval: a ranked, debiased judge over the demo export, with scripted judges on a real HTTP server.

The candidates and the judge are OpenAI-compatible endpoints served by ``fake_openai`` on 127.0.0.1; the
script tells them apart by the model name of the request. One demo build (all stages, no endpoint) is made
per module and copied for each test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from builder.eval.judge import ANCHOR, JudgeTask, Question, orders, read_judgment
from builder.eval.metrics import agreement
from conftest import DEMO, ROOT
from fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval-demo") / "out"
    proc = subprocess.run([sys.executable, "-m", "builder.cli", "run", "all", "-c", str(DEMO / "build.toml"), "--output", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "HF_TOKEN")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def validation_items(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "export" / "data").filter(pl.col("split") == "validation")


def prompt_of(row) -> str:
    return f"{row['instruction']}\n\n{row['input']}" if row["input"] else row["instruction"]


def shown_answers(prompt: str) -> tuple[dict[str, str], str]:
    """The labelled answers and the reference inside a judge prompt."""
    answers = dict(re.findall(r"【回答 ([A-Z])】\n(.*?)\n\n(?=【回答|只输出)", prompt, re.S))
    ref = re.search(r"【参考答案】[^\n]*\n(.*?)\n\n", prompt, re.S)
    return {k: ("" if v == "（空）" else v) for k, v in answers.items()}, ref.group(1) if ref else ""


def bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def sound_judge(prompt: str) -> list[list[str]]:
    """Best = closest to the reference (character bigram overlap); the empty answer last."""
    answers, ref = shown_answers(prompt)
    score = {k: (-1.0 if not v else len(bigrams(v) & bigrams(ref)) / max(len(bigrams(v) | bigrams(ref)), 1)) for k, v in answers.items()}
    return [[k] for k in sorted(score, key=lambda k: -score[k])]


def first_position_judge(prompt: str) -> list[list[str]]:
    answers, _ = shown_answers(prompt)
    return [[k] for k in sorted(answers)]  # A, B, C: whatever is shown first wins


def anchor_first_judge(prompt: str) -> list[list[str]]:
    answers, _ = shown_answers(prompt)
    return [[k] for k in sorted(answers, key=lambda k: (answers[k] != "", k))]


def weak_answer(reference: str) -> str:
    """The other candidate: a truncated lead, or a non-answer where the reference is short."""
    return reference[: len(reference) // 3] if len(reference) >= 30 else "这个问题我无法回答。"


def server_script(judge, references: dict[str, str]):
    def script(body, n):
        text = body["messages"][-1]["content"]
        if body["model"] == "judge":
            return Reply(json.dumps({"ranking": judge(text), "reason": "按参考答案比较"}, ensure_ascii=False))
        ref = references[text]
        return Reply(ref if body["model"] == "cand-ref" else weak_answer(ref))
    return script


def eval_build(tmp_path: Path, out: Path, url: str, per_family: int = 10, permutations: int = 2, candidates: str | None = None) -> Path:
    target = tmp_path / "out"
    shutil.copytree(out, target)
    cand = candidates or (f'[[eval.candidates]]\nname = "lead"\nbase_url = "{url}"\nmodel = "cand-lead"\napi_key_env = ""\n\n'
                          f'[[eval.candidates]]\nname = "ref"\nbase_url = "{url}"\nmodel = "cand-ref"\napi_key_env = ""\n\n')
    cfg = tmp_path / "build.toml"
    cfg.write_text(f'[build]\nname = "demo"\noutput = "out"\n\n[llm]\nconcurrency = 4\ntimeout = 5\nmax_retries = 1\nbackoff_base = 0.05\n\n'
                   f'[eval]\nper_family = {per_family}\npermutations = {permutations}\nbootstrap = 200\n'
                   f'judge = {{ base_url = "{url}", model = "judge", api_key_env = "" }}\n\n{cand}', encoding="utf-8")
    return cfg


def references(out: Path) -> dict[str, str]:
    return {prompt_of(r): r["output"] for r in validation_items(out).iter_rows(named=True)}


def ranks(tmp_path: Path) -> dict[str, dict]:
    df = pl.read_parquet(tmp_path / "out" / "eval" / "report" / "ranks.parquet")
    return {r["candidate"]: r for r in df.iter_rows(named=True)}


def win_rate(tmp_path: Path, a: str, b: str) -> float:
    df = pl.read_parquet(tmp_path / "out" / "eval" / "report" / "win_rates.parquet")
    return df.filter((pl.col("candidate") == a) & (pl.col("versus") == b))["win_rate"][0]


def test_two_candidates_served_by_the_fake_server_are_ranked_correctly_on_the_demo(demo_export, tmp_path, cli):
    with FakeOpenAI(server_script(sound_judge, references(demo_export))) as srv:
        cfg = eval_build(tmp_path, demo_export, srv.url, per_family=5)
        r = cli("eval", "run", "-c", cfg)
        assert r.code == 0, r
    got = ranks(tmp_path)
    assert got["ref"]["average_rank"] < got["lead"]["average_rank"] and got["ref"]["rank_1"] > got["lead"]["rank_1"]
    assert got["ref"]["ci_high"] < got["lead"]["ci_low"]  # the interval separates them
    assert win_rate(tmp_path, "ref", "lead") >= 0.9
    by_family = pl.read_parquet(tmp_path / "out" / "eval" / "report" / "by_family.parquet")
    assert set(by_family["family"]) == {"观点创作", "文章转写", "媒体理解", "其他QA"}
    assert by_family.filter(pl.col("candidate") == "ref")["win_rate"].min() >= 0.75  # per family too
    readme = (tmp_path / "out" / "eval" / "report" / "README.md").read_text(encoding="utf-8")
    assert "## ranks" in readme and "win_rate.svg" in readme
    assert (tmp_path / "out" / "eval" / "report" / "win_rate.svg").read_text(encoding="utf-8").startswith("<svg")
    # the judge never saw a model name, and saw the reference
    bodies = [b for b in srv.bodies if b["model"] == "judge"]
    assert bodies and all("cand-ref" not in b["messages"][-1]["content"] and "【参考答案】" in b["messages"][-1]["content"] for b in bodies)


def test_a_judge_that_prefers_the_first_position_is_exposed_and_corrected_by_the_shuffle(demo_export, tmp_path, cli):
    with FakeOpenAI(server_script(first_position_judge, references(demo_export))) as srv:
        cfg = eval_build(tmp_path, demo_export, srv.url, per_family=10, permutations=2)
        r = cli("eval", "run", "-c", cfg)
        assert r.code == 0, r
    bias = pl.read_parquet(tmp_path / "out" / "eval" / "report" / "position_bias.parquet")
    first = bias.filter(pl.col("position") == 1).row(0, named=True)
    assert first["share_shown"] == 1.0 and first["fair_share"] < 0.5  # exposed: the answer shown first always wins
    assert first["share_listed"] < 0.75  # the shuffle spreads it: 'lead', listed first, does not win every time
    # corrected: neither candidate gains from it, although 'lead' is listed first in the config
    assert 0.25 <= win_rate(tmp_path, "ref", "lead") <= 0.75


def test_judgments_that_rank_the_empty_anchor_first_are_excluded_and_counted(demo_export, tmp_path, cli):
    with FakeOpenAI(server_script(anchor_first_judge, references(demo_export))) as srv:
        cfg = eval_build(tmp_path, demo_export, srv.url, per_family=3, permutations=2)
        r = cli("eval", "run", "-c", cfg)
        assert r.code == 0, r
        sent = sum(1 for b in srv.bodies if b["model"] == "judge")
    judged = pl.read_parquet(tmp_path / "out" / "eval" / "questions.parquet").height * 2  # two orders each
    rejected = pl.read_parquet(tmp_path / "out" / "eval" / "rejected.parquet")
    assert rejected.height == judged >= sent and set(rejected["reason"]) == {"anchor_not_last"}  # identical prompts are sent once
    assert pl.read_parquet(tmp_path / "out" / "eval" / "judgments.parquet").height == 0
    assert f"{judged} judgments left out because the empty anchor was not ranked last" in \
        (tmp_path / "out" / "eval" / "report" / "README.md").read_text(encoding="utf-8")


def test_a_killed_eval_resumes_without_asking_the_judge_twice(demo_export, tmp_path):
    items = validation_items(demo_export)
    for name, weak in (("ref", False), ("lead", True)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps({"id": r["id"], "answer": weak_answer(r["output"]) if weak else r["output"]},
                                                                   ensure_ascii=False) + "\n" for r in items.iter_rows(named=True)), encoding="utf-8")
    cands = '[[eval.candidates]]\nname = "ref"\nanswers = "ref.jsonl"\n\n[[eval.candidates]]\nname = "lead"\nanswers = "lead.jsonl"\n'
    with FakeOpenAI(server_script(sound_judge, references(demo_export)), delay=0.05) as srv:
        cfg = eval_build(tmp_path, demo_export, srv.url, per_family=5, candidates=cands)
        srv.hold_after = 6
        proc = subprocess.Popen([sys.executable, "-m", "builder.cli", "eval", "run", "-c", str(cfg)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cache = tmp_path / "out" / ".cache" / "llm.sqlite"
        deadline = time.monotonic() + 120
        stored = 0
        while time.monotonic() < deadline and stored < 6:
            assert proc.poll() is None, proc.communicate()
            if cache.exists():
                with sqlite3.connect(cache) as db:
                    try:
                        stored = db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
                    except sqlite3.OperationalError:
                        pass
            time.sleep(0.05)
        assert stored == 6
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)  # reaps it and closes its pipes
        answered = srv.answered
        srv.release()
        done = subprocess.run([sys.executable, "-m", "builder.cli", "eval", "run", "-c", str(cfg)], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        counts = dict(pl.read_parquet(tmp_path / "out" / "eval" / "report" / "counts.parquet").iter_rows())
        assert counts["judge_cached"] == 6 and srv.answered - answered == counts["judge_paid"]


def test_people_rankings_and_their_agreement_with_the_judge(demo_export, tmp_path, cli):
    with FakeOpenAI(server_script(sound_judge, references(demo_export))) as srv:
        cfg = eval_build(tmp_path, demo_export, srv.url, per_family=3)
        assert cli("eval", "run", "-c", cfg).code == 0
    ids = pl.read_parquet(tmp_path / "out" / "eval" / "questions.parquet")["id"].to_list()
    rows = ["question_id,annotator,ranking"]
    for k, q in enumerate(ids):
        rows.append(f"{q},editor1,ref>lead")
        rows.append(f"{q},editor2,{'lead>ref' if k == 0 else 'ref=lead' if k == 1 else 'ref>lead'}")
    (tmp_path / "human.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = cli("eval", "import-human", tmp_path / "human.csv", "-c", cfg)
    assert r.code == 0 and f"imported {2 * len(ids)} rankings" in r.out, r
    assert cli("eval", "report", "-c", cfg).code == 0
    agree = {r["between"]: r for r in pl.read_parquet(tmp_path / "out" / "eval" / "report" / "agreement.parquet").iter_rows(named=True)}
    n = len(ids)
    judge = agree["judge and people"]
    assert judge["pairs"] == 2 * n and judge["agreement_with_ties"] == round((2 * n - 2) / (2 * n), 3)
    assert judge["agreement_without_ties"] == round((2 * n - 2) / (2 * n - 1), 3)
    human_wins = pl.read_parquet(tmp_path / "out" / "eval" / "report" / "human_win_rates.parquet")
    assert human_wins.filter((pl.col("candidate") == "ref") & (pl.col("versus") == "lead"))["win_rate"][0] > 0.5
    humans = pl.read_parquet(tmp_path / "out" / "eval" / "report" / "human_ranks.parquet")
    assert humans.filter(pl.col("candidate") == "ref")["average_rank"][0] < humans.filter(pl.col("candidate") == "lead")["average_rank"][0]
    bad = tmp_path / "bad.csv"
    bad.write_text("question_id,annotator,ranking\nq1,e,ref>ref\n", encoding="utf-8")
    r = cli("eval", "import-human", bad, "-c", cfg)
    assert r.code == 1 and "bad.csv:2" in r.err and r.err.count("\n") == 1


def test_orders_are_balanced_rotations_with_the_anchor_inside():
    got = orders(["a", "b", "c"], "q1", 3, seed=7, anchor=True)
    firsts = [tuple(n for n in o if n != ANCHOR)[0] for o in got]
    assert sorted(firsts) == ["a", "b", "c"] and all(ANCHOR in o and len(o) == 4 for o in got)
    assert orders(["a", "b", "c"], "q1", 3, seed=7, anchor=True) == got  # seeded


def test_a_ranking_must_name_every_label_once():
    task = JudgeTask(Question("q", "指令"), 0, ("x", ANCHOR, "y"), ())
    ok = read_judgment(task, '{"ranking": [["C"], ["A"], ["B"]]}', "stop")
    assert ok.reliable and ok.ranks == {"y": 1.0, "x": 2.0} and ok.top_positions == (2,)
    tie = read_judgment(task, '```json\n{"ranking": [["A", "C"], ["B"]]}\n```', "stop")
    assert tie.reliable and tie.tied and tie.ranks == {"x": 1.5, "y": 1.5}
    for bad in ('{"ranking": [["A"], ["B"]]}', '{"ranking": [["A"], ["A"], ["B"], ["C"]]}', "我认为A最好"):
        assert read_judgment(task, bad, "stop").problem == "invalid_ranking"
    assert read_judgment(task, '{"ranking": [["B"], ["A"], ["C"]]}', "stop").problem == "anchor_not_last"


def test_agreement_with_and_without_ties():
    judge = {"q1": {"a": 1, "b": 2}, "q2": {"a": 1, "b": 2}}
    people = {"q1": [{"a": 1, "b": 2}, {"a": 1.5, "b": 1.5}], "q2": [{"a": 2, "b": 1}]}
    got = agreement(judge, people, ["a", "b"])
    assert got["pairs"] == 3 and got["agreement_with_ties"] == round(1 / 3, 3)
    assert got["pairs_without_ties"] == 2 and got["agreement_without_ties"] == 0.5


def test_questions_and_answers_from_jsonl_files_without_an_export(tmp_path, cli):
    qs = [{"id": f"q{i}", "instruction": f"用一句话概括第{i}条消息。", "input": f"第{i}条：某县新开通{i + 2}条公交线路，覆盖城东新区。",
           "reference": f"某县新开通{i + 2}条公交线路。", "family": "文章转写"} for i in range(6)]
    (tmp_path / "questions.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in qs), encoding="utf-8")
    for name, weak in (("good", False), ("bad", True)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps({"id": q["id"], "answer": weak_answer(q["reference"]) if weak else q["reference"]},
                                                                   ensure_ascii=False) + "\n" for q in qs), encoding="utf-8")
    with FakeOpenAI(server_script(sound_judge, {})) as srv:
        cfg = tmp_path / "build.toml"
        cfg.write_text(f'[build]\nname = "q"\noutput = "out"\n\n[eval]\nquestions = "questions.jsonl"\nbootstrap = 200\n'
                       f'judge = {{ base_url = "{srv.url}", model = "judge", api_key_env = "" }}\n\n'
                       '[[eval.candidates]]\nname = "bad"\nanswers = "bad.jsonl"\n\n[[eval.candidates]]\nname = "good"\nanswers = "good.jsonl"\n',
                       encoding="utf-8")
        r = cli("eval", "run", "-c", cfg)
        assert r.code == 0, r
        assert sum(1 for b in srv.bodies if b["model"] == "judge") == 12  # 6 questions x 2 orders
    got = ranks(tmp_path)
    assert got["good"]["rank_1"] == 6 and got["bad"]["average_rank"] == 2.0
