"""export: templates + selfinstruct items -> one checked dataset, in the Hub's layout, with a dataset card,
and the files LLaMA-Factory and TRL read.

Assembly, in order; every item left out lands in ``rejected/`` with its reason:

1. items failing ``schemas/instruction.schema.json`` -> ``invalid_record``;
2. ids on the blocklist -> ``blocklisted``; ids a reviewer rejected -> ``review_rejected``;
3. the same id twice (same instruction, input and output) -> ``duplicate_id``;
4. near-duplicates across both origins, templates kept first -> ``near_duplicate`` (with the kept id and
   the similarity);
5. at most ``max_items_per_article`` items per article -> ``over_article_cap``;
6. every item gets its source document's split by the one rule of every origin (``builder.items.SplitRule``:
   a stable hash rank of the document id, plus the per-family floor, decided here over all origins);
7. validation items near-duplicating a train item of another article -> ``cross_split_duplicate``;
8. the mix of origins (weights, caps) -> ``over_mix_quota`` / ``over_origin_cap``.

Written in the stage folder (so they are swapped in with the rest): ``data/`` (the items, the stage
contract), ``hub/`` (README.md + ``data/<config>/<split>-0000i-of-0000N.parquet``), ``llamafactory/``,
``trl/``, ``card.json`` (the facts the card states, re-rendered by ``builder push``) and ``splits.tsv`` (the side of
every source article: the ledger a later release passes as ``[export] keep_splits`` so no article changes side).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from typing import Any

import polars as pl
import xxhash

from ...card import card_facts, check_card, render_card
from ...config import first_error
from ...items import SplitRule, format_split_ledger
from ...manifest import hash_files_content
from ...resources import prompts_dir
from ...review import APPLIED, review_filter
from ...shards import FAMILIES, INSTRUCTION_SCHEMA, REJECTED_SCHEMA, atomic_write_text, iter_rows
from ...text import pii
from ...text.tokens import count_tokens
from ..base import Stage, StageRun
from .assemble import (ORIGINS, SPLITS, mix_quotas, near_duplicates, origin_order, read_blocklist, read_review_decisions,
                       sample_keeping_split_shares)
from .formats import lora_settings, prompt_of, write_hub, write_llamafactory, write_trl

PII_FIELDS = ("instruction", "input", "output")


def dataset_name(settings: dict[str, Any], build_name: str) -> str:
    """An ASCII name for file and LLaMA-Factory entry names."""
    return settings.get("name") or re.sub(r"[^A-Za-z0-9_-]+", "_", build_name).strip("_") or "dataset"


@lru_cache(maxsize=1)
def _instruction_validator():
    from ...config import schema_validator

    return schema_validator("instruction")


def inspect_item(item: dict[str, Any]) -> tuple[str | None, list[str], int]:
    """The per-record work of export, run by the executor (this machine's pool or Ray tasks): the item's first
    problem against ``schemas/instruction.schema.json``, the kinds of PII it still holds, and its tokens
    (prompt and answer, cl100k_base) for the card. Everything that decides stays in the driver."""
    problem = first_error(_instruction_validator(), dict(item))
    tokens = 0 if problem else count_tokens(prompt_of(item) + "\n" + (item.get("output") or ""))
    return problem, sorted(item_pii(item)), tokens


def item_pii(item: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for field in PII_FIELDS:
        for kind, hits in pii.scan(item.get(field) or "").items():
            found.setdefault(kind, []).extend(hits)
    return found


class ExportStage(Stage):
    name = "export"
    needs = ("templates", "selfinstruct")
    reads = ("corpus", "dedup")  # the card reads their reports and documents
    summary = "assemble templates and selfinstruct items; write the Hub layout, the card, LLaMA-Factory and TRL files"
    record_schema = "instruction"
    data_columns = INSTRUCTION_SCHEMA
    rejected_columns = {**REJECTED_SCHEMA, "origin": pl.String, "kept_id": pl.String, "similarity": pl.Float64}
    text_column = "output"
    source_column = "origin"

    # -- freshness ----------------------------------------------------------------------------------
    def config_fingerprint(self) -> dict[str, Any]:
        fp = super().config_fingerprint()
        templates = sorted((prompts_dir() / "card").glob("*")) + sorted((prompts_dir() / "export").glob("*"))
        fp["templates"] = hash_files_content(templates, root=prompts_dir())
        fp["lora"] = lora_settings(self.build.stage("train"))
        return fp

    def input_fingerprints(self, upstream):
        prints = super().input_fingerprints(upstream)
        for key in ("blocklist", "review_decisions", "keep_splits"):
            if self.settings.get(key):
                p = self.build.resolve(self.settings[key])
                prints[key] = hash_files_content([p]) if p.is_file() else "missing"
        if (self.build.output / APPLIED).is_file():  # decisions recorded by 'builder review apply': export alone goes stale
            prints["review"] = hash_files_content([self.build.output / APPLIED])
        return prints

    # -- work ---------------------------------------------------------------------------------------
    def run(self, ctx: StageRun) -> None:
        s = self.settings
        seed = self.build.settings["build"]["seed"]
        blocked = read_blocklist(self.build.resolve(s["blocklist"])) if s.get("blocklist") else set()
        review = read_review_decisions(self.build.resolve(s["review_decisions"])) if s.get("review_decisions") else {}

        split = SplitRule.from_build(self.build)
        items: list[dict[str, Any]] = []
        upstream_splits: list[str | None] = []
        for origin in ORIGINS:
            for row in ctx.track(iter_rows(ctx.input(origin)), f"reading {origin}"):
                ctx.count("rows_in")
                item = {k: row.get(k) for k in INSTRUCTION_SCHEMA}
                upstream_splits.append(item.get("split"))
                item["origin"] = item["origin"] or origin
                if item.get("source_id"):  # provisional until the floor is known (step 6); no source fails the check
                    item["split"] = split.provisional_side(item["source_id"])
                items.append(item)
        upstream = {id(it): row_split for it, row_split in zip(items, upstream_splits)}

        checked: list[dict[str, Any]] = []
        pii_ids: set[str] = set()
        tokens_of: dict[str, int] = {}

        def failed(f) -> tuple[str, list[str], int]:  # the check itself failed (a dead worker, a timeout): said, not lost
            return f"{f.kind}: {f.detail}", [], 0

        for it, (problem, pii_kinds, tokens) in zip(items, ctx.map(inspect_item, items, on_error=failed)):
            if pii_kinds:
                pii_ids.add(it["id"])
            tokens_of[it["id"]] = tokens
            if problem:
                self._drop(ctx, "invalid_record", f"item {it.get('id')}: {problem}", it)
            elif it["id"] in blocked:
                self._drop(ctx, "blocklisted", f"item {it['id']} is on the blocklist {s['blocklist']}", it)
            elif it["id"] in review:
                self._drop(ctx, "review_rejected", f"item {it['id']}: {review[it['id']]}", it)
            else:
                checked.append(it)
        del items

        unique: list[dict[str, Any]] = []
        first: dict[str, dict[str, Any]] = {}
        for i in origin_order(checked):
            it = checked[i]
            if it["id"] in first:
                kept = first[it["id"]]
                self._drop(ctx, "duplicate_id", f"item {it['id']} repeats the {kept['origin']} item with the same text", it,
                           kept_id=kept["id"], similarity=1.0)
            else:
                first[it["id"]] = it
                unique.append(it)

        nd = s["near_dup"]
        if nd["enabled"]:
            dropped = set()
            for j, i, sim in near_duplicates(unique, nd["threshold"], nd["ngram"], nd["num_perm"], seed):
                dropped.add(j)
                self._drop(ctx, "near_duplicate", f"item {unique[j]['id']} ({unique[j]['origin']}) repeats {unique[i]['id']} "
                           f"({unique[i]['origin']}): prompt and output similarity ≥ {sim}", unique[j],
                           kept_id=unique[i]["id"], similarity=sim)
            unique = [it for k, it in enumerate(unique) if k not in dropped]

        unique = self._cap_per_article(ctx, unique, s["max_items_per_article"], seed)
        self._assign_splits(ctx, unique, split, upstream)
        del upstream
        if s["cross_split"]["enabled"]:
            unique = self._cross_split(ctx, unique, s["cross_split"])
        final = self._mix(ctx, unique, seed)
        final, review_rows = self._apply_review(ctx, final)
        family_rank = {f: i for i, f in enumerate(FAMILIES)}
        origin_rank = {o: i for i, o in enumerate(ORIGINS)}
        final.sort(key=lambda it: (family_rank.get(it["family"], 99), it["subcategory"], origin_rank.get(it["origin"], 9), it["id"]))

        with_pii = 0
        for it in final:
            if it["id"] in pii_ids:
                with_pii += 1
            ctx.keep(it)
        if with_pii:
            ctx.count("items_with_unmasked_pii", with_pii)
            ctx.note(f"{with_pii} items still contain phone numbers, ID numbers or emails; 'builder push' refuses them "
                     "until they are masked (or --allow-pii)")
        split_rows = Counter(it["split"] for it in final)
        for split in SPLITS:
            if not split_rows[split]:
                ctx.note(f"the {split} split is empty: 'builder push' refuses an empty split")
        self._write_formats(ctx, final, len(review), review_rows, tokens_of)
        files = [{"file": str(p.relative_to(ctx.dir)), "bytes": p.stat().st_size}
                 for sub in ("hub", "llamafactory", "trl") for p in sorted((ctx.dir / sub).rglob("*")) if p.is_file()]
        if files:
            ctx.report_table("files", pl.DataFrame(files))

    def _apply_review(self, ctx: StageRun, items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Leave out what a reviewer rejected ('builder review apply'), last, so the dataset shrinks by exactly those items."""
        review = review_filter(self.build.output)
        if not review:
            return items, []
        kept, removed = [], []
        for it in items:
            why = review.rejects(it)
            if why:
                removed.append(it)
                self._drop(ctx, "rejected_by_review", why, it)
            else:
                kept.append(it)
        rows = review.card_rows(kept, removed)
        ctx.report_table("review", pl.DataFrame(rows))
        return kept, rows

    def _cap_per_article(self, ctx: StageRun, items: list[dict[str, Any]], cap: int, seed: int) -> list[dict[str, Any]]:
        """At most ``cap`` items per source article, a seeded choice (0 = no cap)."""
        if not cap:
            return items
        by_article: dict[str, list[int]] = {}
        for k, it in enumerate(items):
            by_article.setdefault(it["source_id"], []).append(k)
        dropped: set[int] = set()
        for source, ks in by_article.items():
            if len(ks) > cap:
                ranked = sorted(ks, key=lambda k: xxhash.xxh3_64_intdigest(f"{seed}:cap:{items[k]['id']}".encode()))
                dropped.update(ranked[cap:])
        for k in sorted(dropped):
            it = items[k]
            self._drop(ctx, "over_article_cap", f"item {it['id']}: article {it['source_id']} already has "
                       f"{cap} items ([export] max_items_per_article)", it)
        return [it for k, it in enumerate(items) if k not in dropped]

    def _assign_splits(self, ctx: StageRun, items: list[dict[str, Any]], split: SplitRule, upstream: dict[int, str | None]) -> None:
        """The final split of every kept item: its source document's side by the one rule, with the floor
        counted over the items of all origins that reached this step."""
        decision = split.assign((it["source_id"], it["family"]) for it in items)
        for it in items:
            it["split"] = decision.sides[it["source_id"]]
            if upstream.get(id(it)) != it["split"]:
                ctx.count("split_differs_from_upstream")  # a floor-band article decided over all origins here
        ctx.counters.update(decision.counts())
        # the ledger a later release keeps its sides with ([export] keep_splits): every article decided here,
        # and every article an earlier ledger listed, so one that drops out and comes back keeps its side
        atomic_write_text(ctx.dir / "splits.tsv", format_split_ledger({**split.pinned, **decision.sides}))
        short = [r for r in decision.families() if not r["floor_reached"]]
        if short and split.floor:
            counts = ", ".join(f"{r['family']} {r['validation']}" for r in short)
            ctx.note(f"{len(short)} families have fewer validation items than the floor of {split.floor} ([export] "
                     f"validation_items_per_family): {counts}; every "
                     f"document of theirs ranked below validation_max_share ({split.ceiling}) is already in validation")
        if decision.families():
            ctx.report_table("splits", pl.DataFrame(decision.families()))  # per family, before cross_split and the mix

    def _cross_split(self, ctx: StageRun, items: list[dict[str, Any]], cs: dict[str, Any]) -> list[dict[str, Any]]:
        """Drop validation items that near-duplicate a train item of another article (counted, with the match)."""
        from ...text.minhash import contamination

        val = [k for k, it in enumerate(items) if it["split"] == "validation"]
        train = [k for k, it in enumerate(items) if it["split"] == "train"]
        if not val or not train:
            return items
        text = lambda it: f"{prompt_of(it)}\n{it['output']}"  # noqa: E731
        hits = contamination([text(items[k]) for k in val], [text(items[k]) for k in train], threshold=cs["threshold"],
                             containment_threshold=cs["containment"], mapper=None)
        dropped = set()
        for h in hits:
            v, t = items[val[h.eval_index]], items[train[h.train_index]]
            if v["source_id"] == t["source_id"]:
                continue  # one article is on one side by construction; nothing crosses here
            dropped.add(val[h.eval_index])
            self._drop(ctx, "cross_split_duplicate", f"validation item {v['id']} ({v['source_id']}) is a {h.match} duplicate of train item "
                       f"{t['id']} ({t['source_id']}): Jaccard {h.jaccard}, containment {h.containment}", v,
                       kept_id=t["id"], similarity=max(h.jaccard, h.containment))
        return [it for k, it in enumerate(items) if k not in dropped]

    def _drop(self, ctx: StageRun, reason: str, detail: str, item: dict[str, Any], **extra: Any) -> None:
        ctx.reject(reason, detail, item, source=item.get("origin"), origin=item.get("origin"), **extra)

    def _mix(self, ctx: StageRun, items: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
        by_origin: dict[str, list[int]] = {}
        for k, it in enumerate(items):
            by_origin.setdefault(it["origin"], []).append(k)
        available = {o: len(v) for o, v in by_origin.items()}
        mix = self.settings["mix"]
        quotas, notes = mix_quotas(available, mix)
        for n in notes:
            ctx.note(n)
        keep: set[int] = set()
        mix_rows = []
        for origin, idx in by_origin.items():
            quota = quotas[origin]
            chosen = sample_keeping_split_shares(idx, [items[k]["split"] for k in idx], quota, seed, origin)
            keep |= chosen
            cap = (mix.get(origin) or {}).get("cap")
            reason = "over_origin_cap" if cap is not None and quota == min(cap, len(idx)) else "over_mix_quota"
            for k in idx:
                if k not in chosen:
                    self._drop(ctx, reason, f"item {items[k]['id']}: {origin} keeps {quota} of {len(idx)} items "
                               f"(weight {(mix.get(origin) or {}).get('weight')}, cap {cap})", items[k])
            mix_rows.append({"origin": origin, "available": len(idx), "kept": len(chosen),
                                   "weight": (mix.get(origin) or {}).get("weight"), "cap": cap})
        ctx.report_table("mix", pl.DataFrame(mix_rows, schema={"origin": pl.String, "available": pl.Int64, "kept": pl.Int64,
                                                              "weight": pl.Float64, "cap": pl.Int64}))
        return [it for k, it in enumerate(items) if k in keep]

    def _write_formats(self, ctx: StageRun, items: list[dict[str, Any]], reviewed: int, review_rows: list[dict[str, Any]],
                       tokens_of: dict[str, int]) -> None:
        s = self.settings
        build_name = self.build.settings["build"]["name"]
        name = dataset_name(s, build_name)
        train = self.build.stage("train")
        formats = set(s["formats"])
        hub_files: list[dict[str, Any]] = []
        if "hub" in formats:
            hub_files = write_hub(items, ctx.dir / "hub", s["hub_shard_rows"])
        if "llamafactory" in formats:
            write_llamafactory(items, ctx.dir / "llamafactory", name, s.get("system_prompt"), train)
        if "trl" in formats:
            write_trl(items, ctx.dir / "trl", name, s.get("system_prompt"), train)
        tokens: Counter = Counter({split: 0 for split in SPLITS})
        for it in items:
            tokens[it["split"]] += tokens_of[it["id"]]
        facts = card_facts(output=self.build.output, build_name=build_name, settings={**s, "name": name}, items=items,
                           hub_files=hub_files, export_counters=dict(ctx.counters), dataset_tokens=tokens,
                           reviewed=reviewed + sum(r["reviewed"] for r in review_rows), review=review_rows)
        atomic_write_text(ctx.dir / "card.json", json.dumps(facts, ensure_ascii=False, indent=1, default=str) + "\n")
        if "hub" in formats:
            text = render_card(facts)
            check_card(text)
            atomic_write_text(ctx.dir / "hub" / "README.md", text)
        for problem in facts["license_problems"]:
            ctx.note(problem)
        if facts["families"]:
            ctx.report_table("families", pl.DataFrame(facts["families"]))


STAGE = ExportStage
