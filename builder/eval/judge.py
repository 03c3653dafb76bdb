"""The judge: one prompt per (question, order), a ranking back, and whether that ranking can be trusted.

Four tricks against a strong-model judge's biases, after the seed's evaluation of media models:

* **neutral labels**: answers are shown as 回答 A, B, C …, never under a model name;
* **shuffled order, several times**: each question is judged in ``k`` orders, balanced rotations of a
  seeded shuffle, so every candidate is seen in every position as often as ``k`` allows; the rankings
  are aggregated, and the position that wins is counted (``position_bias``);
* **an empty anchor**: an empty answer sits at a seeded position; a judgment that does not put it in its
  last tier is unreliable and left out of the aggregate (counted);
* **ranking, not scores**: the judge returns tiers, best first (a tier of several is a tie), validated
  against ``schemas/judge_reply.schema.json`` and repaired like selfinstruct replies.

The reference answer (the real article's text, where the question has one) is shown when configured.
"""

from __future__ import annotations

import random
import string
import tomllib
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import jinja2

from ..config import first_error, schema_validator
from ..llm import parse_json_reply
from ..resources import prompts_dir

ANCHOR = "<empty>"
LABELS = string.ascii_uppercase


@dataclass(frozen=True)
class Question:
    id: str
    instruction: str
    input: str = ""
    reference: str = ""
    family: str = ""
    subcategory: str = ""


@dataclass(frozen=True)
class JudgeTask:
    question: Question
    permutation: int
    order: tuple[str, ...]  # candidate names (and ANCHOR) in the order shown, position 0 first
    messages: tuple[dict[str, str], ...]

    @property
    def labels(self) -> dict[str, str]:
        return {LABELS[i]: name for i, name in enumerate(self.order)}


@dataclass
class Judgment:
    """One judge reply read: ranks per candidate (1 = best, ties averaged), reliability and why."""

    question: str
    permutation: int
    order: tuple[str, ...]
    ranks: dict[str, float] = field(default_factory=dict)  # candidates only, anchor left out, re-ranked
    top_positions: tuple[int, ...] = ()  # display positions of the first tier
    tied: bool = False
    reliable: bool = False
    problem: str = ""  # why it cannot be used: anchor_not_last | invalid_ranking | request_failed


def orders(candidates: Sequence[str], question_id: str, k: int, seed: int, anchor: bool) -> list[tuple[str, ...]]:
    """``k`` display orders: rotations of a seeded shuffle spread evenly, the anchor at a seeded position."""
    rng = random.Random(f"{seed}:{question_id}")
    base = list(candidates)
    rng.shuffle(base)
    n = len(base)
    out = []
    for j in range(k):
        shift = (j * n) // k if k <= n else j % n
        order = base[shift:] + base[:shift]
        if anchor:
            order.insert(rng.randrange(n + 1), ANCHOR)
        out.append(tuple(order))
    return out


class JudgePrompt:
    """``prompts/judge/judge.zh.j2`` with the criteria of ``prompts/judge/criteria.toml``."""

    def __init__(self) -> None:
        folder = prompts_dir() / "judge"
        self.criteria = tomllib.loads((folder / "criteria.toml").read_text(encoding="utf-8"))
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), trim_blocks=True, lstrip_blocks=True,
                                 undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
        self.template = env.get_template("judge.zh.j2")

    def messages(self, q: Question, order: Sequence[str], answers: Mapping[str, str], reference: bool) -> tuple[dict[str, str], ...]:
        shown = [{"label": LABELS[i], "text": "" if name == ANCHOR else (answers.get(name) or "").strip()} for i, name in enumerate(order)]
        text = self.template.render(general=self.criteria["general"], family_criteria=self.criteria["families"].get(q.family, []),
                                    instruction=q.instruction, input=q.input, reference=q.reference if reference else "",
                                    answers=shown, labels=[a["label"] for a in shown])
        return ({"role": "user", "content": text},)


def read_judgment(task: JudgeTask, text: str | None, finish_reason: str | None) -> Judgment:
    """Parse and check one reply: every label exactly once; the anchor (if shown) in the last tier."""
    j = Judgment(task.question.id, task.permutation, task.order)
    parsed = parse_json_reply(text, finish_reason, "ranking")
    value = parsed.value
    if isinstance(value, list):  # a bare list of tiers
        value = {"ranking": value}
    if isinstance(value, dict) and isinstance(value.get("ranking"), list):  # ["A", "B"] without tiers: one label each
        value["ranking"] = [t if isinstance(t, list) else [t] for t in value["ranking"]]
    problem = "not JSON" if not parsed.ok else first_error(_validator(), value)
    if problem:
        j.problem = "invalid_ranking"
        return j
    tiers = [[str(x) for x in tier] for tier in value["ranking"]]
    labels = task.labels
    seen = [x for tier in tiers for x in tier]
    if sorted(seen) != sorted(labels):
        j.problem = "invalid_ranking"
        return j
    names = [[labels[x] for x in tier] for tier in tiers]
    if ANCHOR in task.order and ANCHOR not in names[-1]:
        j.problem = "anchor_not_last"
    j.top_positions = tuple(sorted(task.order.index(n) for n in names[0]))
    j.tied = any(len(t) > 1 for t in names)
    j.ranks = tier_ranks([[n for n in tier if n != ANCHOR] for tier in names])
    j.reliable = not j.problem
    return j


def tier_ranks(tiers: Sequence[Sequence[str]]) -> dict[str, float]:
    """1-based ranks from tiers, a tie sharing the mean of its positions (empty tiers skipped)."""
    ranks: dict[str, float] = {}
    pos = 1
    for tier in tiers:
        if not tier:
            continue
        mean = pos + (len(tier) - 1) / 2
        for name in tier:
            ranks[name] = mean
        pos += len(tier)
    return ranks


_VALIDATOR: list[Any] = []


def _validator():
    if not _VALIDATOR:
        _VALIDATOR.append(schema_validator("judge_reply"))
    return _VALIDATOR[0]
