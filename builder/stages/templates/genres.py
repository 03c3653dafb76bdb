"""The genre router: rules and keywords from ``prompts/templates/genres.toml`` decide what an article is.

Each genre has weighted rules (a regex over the title, the text, the narration — the text without
what is inside quotation marks, so a source's 我们认为 in a news report is not the paper's — the lead,
the path or the author; a negative weight counts against the genre);
an article's genre is the one with the highest score at or above ``min_score``, else the default.
Matched rules are kept as evidence: they explain the decision in the report and in the
体裁判断 items. Topics (交通, 教育 …) are keyword lists used for 事件分类.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import BuilderError

FIELDS = ("title", "text", "narration", "lead", "path", "author")
QUOTED = re.compile(r"“[^“”]{0,400}”|「[^「」]{0,400}」")


@dataclass(frozen=True)
class Rule:
    field: str
    pattern: re.Pattern
    weight: float
    reason: str
    max_hits: int


@dataclass(frozen=True)
class Genre:
    id: str
    name: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Topic:
    name: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class GenreDecision:
    genre: str
    score: float
    evidence: tuple[str, ...]
    overridden: bool = False
    runner_up: str = ""  # the genre with the next highest score, and that score: how clear the decision is
    runner_up_score: float = 0.0

    @property
    def margin(self) -> float:
        return self.score - self.runner_up_score if self.runner_up else float("inf")


@dataclass
class GenreClassifier:
    genres: dict[str, Genre]
    default: str
    min_score: float
    topics: list[Topic] = field(default_factory=list)
    min_topic_hits: int = 2
    overrides: dict[str, str] = field(default_factory=dict)  # path glob -> genre id
    answer_margin: dict[str, float] = field(default_factory=dict)  # genre -> lead over the runner-up its answers need
    label_margin: float = 0.0  # the lead a genre needs to be given as the answer of 体裁判断
    model: Any = None  # a GenreModel (genre_model.py): the learned second opinion, or None (rules only)
    model_override: float = 1.0  # the model's probability on another genre that overrules the rules

    def margin_problem(self, decision: GenreDecision, as_label: bool = False) -> str | None:
        """Why the decision is too close to stand as an answer (an article of the genre, or the genre as a label), or None."""
        need = self.label_margin if as_label else self.answer_margin.get(decision.genre, 0.0)
        if decision.overridden or decision.margin >= need:
            return None
        return (f"genre {decision.genre} {decision.score:g} leads {decision.runner_up} {decision.runner_up_score:g} by "
                f"{decision.margin:g}, under the {need:g} {'a genre label' if as_label else 'its answers'} need")

    def classify(self, doc: dict[str, Any], lead: str = "") -> GenreDecision:
        path = doc.get("path") or ""
        for pattern, genre in self.overrides.items():
            if fnmatch.fnmatch(path, pattern):
                return GenreDecision(genre, 0.0, (f"配置指定：{pattern}",), overridden=True)
        text = doc.get("text") or ""
        values = {"title": doc.get("title") or "", "text": text, "lead": lead, "path": path,
                  "author": doc.get("author") or "", "narration": QUOTED.sub("“”", text)}
        scored: list[GenreDecision] = []
        for g in self.genres.values():
            score, evidence = 0.0, []
            for r in g.rules:
                hits = len(r.pattern.findall(values[r.field]))
                if hits:
                    score += r.weight * min(hits, r.max_hits)
                    evidence.append(r.reason)
            scored.append(GenreDecision(g.id, score, tuple(dict.fromkeys(evidence))))
        if not scored:
            return GenreDecision(self.default, 0.0, ())
        order = sorted(range(len(scored)), key=lambda i: (-scored[i].score, i))  # ties: the genre listed first
        best = scored[order[0]]
        if best.score < self.min_score:  # the default wins; the best-scoring genre is its rival
            rival = best if best.genre != self.default else (scored[order[1]] if len(order) > 1 else None)
            decision = GenreDecision(self.default, best.score, (), runner_up=rival.genre if rival else "",
                                     runner_up_score=rival.score if rival else 0.0)
        else:
            second = scored[order[1]] if len(order) > 1 else None
            decision = GenreDecision(best.genre, best.score, best.evidence, runner_up=second.genre if second else "",
                                     runner_up_score=second.score if second else 0.0)
        return self._second_opinion(values, decision, {d.genre: d for d in scored})

    def _second_opinion(self, values: dict[str, str], decision: GenreDecision, scored: dict[str, GenreDecision]) -> GenreDecision:
        """The rules' decision, or the model's genre when the model puts ``model_override`` or more of its probability
        on another one: its score and the runner-up's are then ten times the probabilities (so 0.9 against 0.06
        leads by 8.4, and the answer margins of the contract read the model's confidence), its evidence the
        probability and what the rules found for that genre."""
        if self.model is None or self.model_override >= 1.0 or decision.overridden or decision.genre not in self.model.classes:
            return decision  # a genre the model was not taught (selfmedia_tutorial) is the rules' alone
        probs = self.model.probabilities(values["title"], values["narration"], values["text"])
        top = max(probs, key=probs.get)
        if top == decision.genre or top not in self.genres or probs[top] < self.model_override:
            return decision
        rest = max((g for g in probs if g != top), key=probs.get)
        found = scored[top].evidence if top in scored else ()
        evidence = (f"字符模型判为{self.name(top)}（概率{probs[top]:.2f}）",) + found
        return GenreDecision(top, round(10 * probs[top], 2), evidence, runner_up=rest, runner_up_score=round(10 * probs[rest], 2))

    def topic(self, text: str, title: str | None = None) -> str | None:
        """The topic with the most keyword hits, when it is clear: at least ``min_topic_hits``, twice the runner-up,
        and, when a title is given, named by the title too (a story about a mermaid contest is not 体育赛事). A story
        in traditional script is counted in simplified script, as the keywords are written (社區 is 社区)."""
        if title is not None and _simplified(title) != title:
            text, title = _simplified(text), _simplified(title)
        scored = sorted(((sum(text.count(k) for k in t.keywords), t) for t in self.topics), key=lambda x: -x[0])
        if not scored or scored[0][0] < self.min_topic_hits:
            return None
        if sum(k in text for k in scored[0][1].keywords) < 2:  # one word said twice (安全 of a pedestrian story) is no topic
            return None
        hits, best = scored[0]
        if len(scored) > 1 and hits < 2 * scored[1][0]:
            return None
        if title is not None and not any(k in title for k in best.keywords):
            return None
        return best.name

    def name(self, genre_id: str) -> str:
        g = self.genres.get(genre_id)
        return g.name if g else genre_id


def load_genres(path: Path, overrides: dict[str, str] | None = None) -> GenreClassifier:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BuilderError(f"{path}: cannot read the genre config: {exc}") from None
    genres: dict[str, Genre] = {}
    for i, g in enumerate(data.get("genre", [])):
        where = f"{path}: genre '{g.get('id', i)}'"
        if not g.get("id") or not g.get("name"):
            raise BuilderError(f"{where}: 'id' and 'name' are required")
        rules = []
        for j, r in enumerate(g.get("rule", [])):
            if r.get("field") not in FIELDS:
                raise BuilderError(f"{where}: rule {j + 1}: 'field' must be one of {', '.join(FIELDS)}, got {r.get('field')!r}")
            try:
                pat = re.compile(r["pattern"], re.M)
            except (KeyError, re.error) as exc:
                raise BuilderError(f"{where}: rule {j + 1}: 'pattern' is not a valid regex: {exc}") from None
            rules.append(Rule(r["field"], pat, float(r.get("weight", 1)), r.get("reason", r["pattern"]), int(r.get("max_hits", 1))))
        genres[g["id"]] = Genre(g["id"], g["name"], tuple(rules))
    default = data.get("default", "news")
    if default not in genres:
        raise BuilderError(f"{path}: 'default' genre '{default}' is not defined")
    for pattern, genre in (overrides or {}).items():
        if genre not in genres:
            raise BuilderError(f"[templates] genre_overrides: '{pattern}' -> unknown genre '{genre}' (genres: {', '.join(genres)})")
    topics = [Topic(t["name"], tuple(t.get("keywords", []))) for t in data.get("topic", [])]
    margins = data.get("answer_margin", {})
    unknown = sorted(set(margins) - set(genres))
    if unknown:
        raise BuilderError(f"{path}: answer_margin: unknown genre '{unknown[0]}' (genres: {', '.join(genres)})")
    model = None
    if data.get("model"):  # the learned second opinion, a file beside the config (genre_model.py)
        from .genre_model import load_model

        model_path = path.parent / data["model"]
        try:
            model = load_model(str(model_path))
        except (OSError, KeyError, ValueError) as exc:
            raise BuilderError(f"{path}: model: cannot read {model_path}: {exc}") from None
    return GenreClassifier(genres, default, float(data.get("min_score", 1)), topics, int(data.get("min_topic_hits", 2)),
                           dict(overrides or {}), {g: float(v) for g, v in margins.items()}, float(data.get("label_margin", 0)),
                           model, float(data.get("model_override", 1.0)))


def _simplified(text: str) -> str:
    from opencc import OpenCC  # pure Python, loads its tables on first use

    global _T2S
    if _T2S is None:
        _T2S = OpenCC("t2s")
    return _T2S.convert(text)


_T2S = None
