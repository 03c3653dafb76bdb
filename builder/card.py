"""The dataset card: Hub metadata that huggingface_hub's ``DatasetCardData`` accepts, and a body built
from what the stages wrote (their reports, the corpus documents and the exported items).

``card_facts`` gathers everything the card says into one JSON-able dict (the export stage keeps it as
``export/card.json``); ``render_card`` turns facts into ``README.md`` with ``prompts/card/README.md.j2``.
``builder push`` renders the same facts again with the repo id it pushes to, so the loading examples
name the real repository.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping

import polars as pl

from . import __version__
from .items import SplitRule
from .resources import prompts_dir
from .shards import FAMILIES, shard_files

REPO_PLACEHOLDER = "ORG/NAME"
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"))
USAGE = re.compile(r"token|cost|usd|price|request", re.IGNORECASE)
PROMPT_KEYS = ("prompt_id", "prompt", "prompt_version", "prompt_hash")
MODEL_KEYS = ("model",)


# what a counter of the stages means, in words a card reader knows (an unlisted one is shown with spaces)
PLAIN = {
    "dropped_cjk_ratio": "too little Chinese text", "dropped_dup_lines": "mostly repeated lines",
    "dropped_dup_ngrams": "mostly repeated phrases", "dropped_garbled": "garbled text", "dropped_too_short": "too short",
    "dropped_too_long": "too long", "empty_file": "empty file", "unreadable_encoding": "text encoding not readable",
    "unreadable_record": "malformed record", "missing_text_field": "record without text", "missing_source": "source not found",
    "boilerplate_lines_removed": "site furniture lines removed", "normalized_changed": "characters normalised",
    "pii_masked_phone": "phone numbers masked", "pii_masked_email": "emails masked", "pii_masked_id_number": "ID numbers masked",
    "rows_in": "documents in", "rows_out": "documents kept", "rejected": "documents removed", "kept_share": "share kept",
    "duplicate_exact": "exact duplicates", "duplicate_near": "near duplicates", "clusters": "duplicate clusters",
    "candidate_pairs": "candidate pairs", "verified_pairs": "pairs confirmed by exact similarity",
    "failed_verification": "candidate pairs below the threshold", "near_duplicate": "near-duplicate items removed",
    "split_differs_from_upstream": "items whose split export decided over both origins",
}
SPLIT_ARTICLE_COUNTS = ("validation_articles", "validation_articles_by_floor", "articles_with_kept_split")  # articles, not items


def plain(name: str) -> str:
    return PLAIN.get(name, name.replace("_", " "))


def size_category(n: int) -> str:
    for bound, name in SIZE_CATEGORIES:
        if n < bound:
            return name
    return "n>1T"


def hub_license(value: str | None) -> str | None:
    """Licence ids on the Hub are lower case (cc-by-4.0, apache-2.0, other)."""
    return value.strip().lower() if value and value.strip() else None


def read_report(stage_dir: Path) -> tuple[list[str], dict[str, pl.DataFrame]] | None:
    """(notes, tables) of a stage's report, or None when the stage has no report."""
    folder = stage_dir / "report"
    index = folder / "index.json"
    if not index.is_file():
        return None
    meta = json.loads(index.read_text(encoding="utf-8"))
    tables = {}
    for name in meta.get("tables", []):
        f = folder / f"{name}.parquet"
        if f.is_file():
            tables[name] = pl.read_parquet(f)
    return meta.get("notes", []), tables


def _summary(tables: Mapping[str, pl.DataFrame]) -> dict[str, float]:
    df = tables.get("summary")
    if df is None or not {"metric", "value"} <= set(df.columns):
        return {}
    return {m: v for m, v in df.select("metric", "value").iter_rows()}


def _num(v: float | int | None) -> int | float | None:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else round(float(v), 4)


def _pretty(value: Any) -> str:
    """A report value for a person: integers without '.0', other numbers to 6 significant digits."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(f)) if f.is_integer() else f"{f:.6g}"


# -- facts ------------------------------------------------------------------------------------------------
def sources_table(corpus_dir: Path, items: list[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Per source and licence: corpus documents, documents used by items, items. And licence problems."""
    files = shard_files(corpus_dir / "data")
    used_docs = Counter(it["source_id"] for it in items)
    problems: list[str] = []
    if not files:
        problems.append("the corpus documents were not found, so the sources' licences cannot be shown")
        return [], problems
    docs = pl.read_parquet([str(f) for f in files], columns=["id", "source", "meta"])
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    seen: set[str] = set()  # exact reposts share an id (the content hash): count their items once
    for doc_id, source, meta in docs.iter_rows():
        try:
            licence = json.loads(meta or "{}").get("license")
        except (json.JSONDecodeError, AttributeError):
            licence = None
        key = (source or "(unnamed)", licence or "")
        r = rows.setdefault(key, {"source": key[0], "license": licence, "documents": 0, "documents_used": 0, "item_count": 0})
        r["documents"] += 1
        if doc_id in used_docs and doc_id not in seen:
            seen.add(doc_id)
            r["documents_used"] += 1
            r["item_count"] += used_docs[doc_id]
    out = sorted(rows.values(), key=lambda r: (r["source"], r["license"] or ""))
    for r in out:
        if not r["license"] and r["documents_used"]:
            problems.append(f"source '{r['source']}' has no licence ({r['documents_used']} documents used): set license in its [[corpus.sources]] entry")
    known = set(docs["id"].to_list())
    unknown = sorted(set(used_docs) - known)
    if unknown:
        problems.append(f"{len(unknown)} source documents of items are not in the corpus (e.g. {unknown[0]}), so their licence is unknown")
    return out, problems


def cleaning_table(corpus: tuple[list[str], dict[str, pl.DataFrame]] | None) -> list[dict[str, Any]]:
    """Each corpus cleaning counter (``count.*`` in its summary) and whether it dropped documents or edited text."""
    if corpus is None:
        return []
    _, tables = corpus
    drops = set(tables["drops"]["reason"].to_list()) if "drops" in tables and tables["drops"].height else set()
    rows = []
    for metric, value in _summary(tables).items():
        if metric.startswith("count.") and metric != "count.kept" and not metric.startswith("count.clean_us_"):  # timings
            rule = metric[len("count."):]
            rows.append({"rule": rule, "count": _num(value), "effect": "documents dropped" if rule in drops else "text edited (lines, masks, fixes)"})
    rows.sort(key=lambda r: (r["effect"], -(r["count"] or 0), r["rule"]))
    return rows


def families_table(items: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
    for it in items:
        counts[(it["family"], it["subcategory"], it["origin"])][it["split"]] += 1
    order = {f: i for i, f in enumerate(FAMILIES)}
    rows = [{"family": f, "config": FAMILIES.get(f, f), "subcategory": s, "origin": o, "train": c["train"], "validation": c["validation"]}
            for (f, s, o), c in counts.items()]
    return sorted(rows, key=lambda r: (order.get(r["family"], 99), r["subcategory"], r["origin"]))


def validation_by_family(items: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per family: articles and items in all and in validation."""
    rows: dict[str, dict[str, Any]] = {}
    for it in items:
        r = rows.setdefault(it["family"], {"family": it["family"], "articles": set(), "val_articles": set(), "all_items": 0, "val_items": 0})
        r["articles"].add(it["source_id"])
        r["all_items"] += 1
        if it["split"] == "validation":
            r["val_articles"].add(it["source_id"])
            r["val_items"] += 1
    order = {f: i for i, f in enumerate(FAMILIES)}
    return [{**r, "articles": len(r["articles"]), "val_articles": len(r["val_articles"])}
            for r in sorted(rows.values(), key=lambda r: order.get(r["family"], 99))]


def split_rule_facts(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The split rule's parameters as the export used them (``[export]`` keys with their defaults)."""
    rule = SplitRule.from_settings(0, settings)
    return {"share": rule.share, "ceiling": rule.ceiling, "floor": rule.floor,
            "pinned": bool(settings.get("keep_splits"))}


def generation_facts(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Models and prompt ids named in the items' provenance, with how many items each made."""
    models: Counter = Counter()
    prompts: Counter = Counter()
    templates: set[str] = set()
    by_origin: Counter = Counter()
    for it in items:
        by_origin[it["origin"]] += 1
        if it.get("template_id"):
            templates.add(it["template_id"])
        try:
            meta = json.loads(it.get("meta") or "{}")
        except json.JSONDecodeError:
            meta = {}
        if not isinstance(meta, dict):
            continue
        for k in MODEL_KEYS:
            if isinstance(meta.get(k), str) and meta[k]:
                models[(it["origin"], meta[k])] += 1
        for k in PROMPT_KEYS:
            if isinstance(meta.get(k), str) and meta[k]:
                prompts[(it["origin"], meta[k])] += 1
                break
    return {
        "models": [{"origin": o, "model": m, "items": n} for (o, m), n in sorted(models.items())],
        "prompt_ids": [{"origin": o, "prompt_id": p, "items": n} for (o, p), n in sorted(prompts.items())],
        "template_ids": len(templates),
        "items_by_origin": dict(sorted(by_origin.items())),
    }


def usage_table(reports: Mapping[str, tuple[list[str], dict[str, pl.DataFrame]] | None]) -> list[dict[str, Any]]:
    """Tokens, requests and cost as the generating stages reported them: their summary metrics about
    tokens, requests or cost, their ``tokens_and_cost`` / ``usage`` tables, and a dry-run ``estimate``
    (marked as an estimate: nothing was spent)."""
    rows = []
    for stage, rep in reports.items():
        if rep is None:
            continue
        tables = rep[1]
        for metric, value in _summary(tables).items():
            if USAGE.search(metric):
                rows.append({"stage": stage, "metric": metric.removeprefix("count."), "value": _pretty(value)})
        for name in ("tokens_and_cost", "usage"):  # what was spent; a dry-run estimate is not a fact of the data
            df = tables.get(name)
            if df is None or "value" not in df.columns:
                continue
            key = "measure" if "measure" in df.columns else "metric" if "metric" in df.columns else None
            if key is None:
                continue
            for measure, value in df.select(key, "value").iter_rows():
                rows.append({"stage": stage, "metric": str(measure).replace("_", " "), "value": _pretty(value)})
    return rows


def shared_outputs(items: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Items whose output is the exact output of another item: in all, and per sub-category (items per
    distinct output), so a user sees how often one article is the target of several tasks."""
    by_output = Counter(it["output"] for it in items)
    per_sub: dict[str, Counter] = defaultdict(Counter)
    for it in items:
        per_sub[it["subcategory"]][it["output"]] += 1
    rows = [{"subcategory": sub, "items": sum(c.values()), "distinct_outputs": len(c),
             "items_per_output": round(sum(c.values()) / len(c), 2)} for sub, c in per_sub.items()]
    rows = sorted((r for r in rows if r["items"] > r["distinct_outputs"]), key=lambda r: -r["items_per_output"])
    return {"items": sum(n for n in by_output.values() if n > 1), "outputs": sum(1 for n in by_output.values() if n > 1),
            "max_items_per_output": max(by_output.values(), default=0), "by_subcategory": rows[:15]}


def _meta(item: Mapping[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(item.get("meta") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def how_made(items: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per family: items whose output is text of a source article (templates) and items a model wrote."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for it in items:
        model_input = it["origin"] == "templates" and _meta(it).get("input_source") == "llm"
        counts[it["family"]]["model_written" if it["origin"] == "selfinstruct" else "model_input" if model_input else "from_article"] += 1
    order = {f: i for i, f in enumerate(FAMILIES)}
    return [{"family": f, "from_article": c["from_article"], "model_input": c["model_input"], "model_written": c["model_written"]}
            for f, c in sorted(counts.items(), key=lambda kv: order.get(kv[0], 99))]


def card_facts(*, output: Path, build_name: str, settings: Mapping[str, Any], items: list[Mapping[str, Any]],
               hub_files: list[Mapping[str, Any]], export_counters: Mapping[str, int], dataset_tokens: Mapping[str, int],
               reviewed: int = 0, review: list[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Everything the card says, from the stage outputs under ``output`` and the exported items."""
    reports = {s: read_report(output / s) for s in ("corpus", "dedup", "templates", "selfinstruct")}
    sources, problems = sources_table(output / "corpus", items)
    licence = hub_license(settings.get("license"))
    if licence is None:
        shared = {hub_license(r["license"]) for r in sources if r["documents_used"]}
        if len(shared) == 1 and None not in shared:
            licence = shared.pop()
        else:
            problems.insert(0, "no dataset licence: set [export] license (the sources do not share one licence)")
    splits = Counter(it["split"] for it in items)
    configs = []
    for row in hub_files:
        if not row["rows"]:
            continue
        c = next((c for c in configs if c["config"] == row["config"]), None)
        if c is None:
            c = {"config": row["config"], "splits": []}
            configs.append(c)
        c["splits"].append({"split": row["split"], "rows": row["rows"],
                            "path": f"data/{row['config']}/{row['split']}-*.parquet", "files": list(row["files"]), "bytes": row["bytes"]})
    corpus = reports["corpus"]
    corpus_summary = _summary(corpus[1]) if corpus else {}
    dedup = reports["dedup"]
    generation = generation_facts(items)
    facts = {
        "name": settings.get("name") or build_name,
        "build_name": build_name,
        "pretty_name": settings.get("pretty_name") or f"{build_name} Chinese media instructions",
        "license": licence,
        "license_problems": problems,
        "tags": list(settings.get("tags") or []),
        "task_categories": list(settings.get("task_categories") or []),
        "repo_id": settings.get("repo_id"),
        "builder_version": __version__,
        "rows": {"train": splits["train"], "validation": splits["validation"], "total": len(items)},
        "size_category": size_category(len(items)),
        "configs": configs,
        "sources": sources,
        "corpus": {k: _num(corpus_summary.get(k)) for k in ("rows_in", "rows_out", "rejected")} if corpus else None,
        "cleaning": cleaning_table(corpus),
        "dedup": [{"metric": m.removeprefix("count."), "value": _num(v)} for m, v in _summary(dedup[1]).items()
                  if m in ("rows_in", "rows_out", "rejected", "kept_share") or (m.startswith("count.") and m != "count.kept")]
                 if dedup else None,
        "dedup_drops": dedup[1]["drops"].to_dicts() if dedup and "drops" in dedup[1] else [],
        "export_checks": [{"reason": k, "count": v} for k, v in sorted(export_counters.items())
                          if k not in ("kept", "rows_in", *SPLIT_ARTICLE_COUNTS) and v],
        "families": families_table(items),
        "validation_by_family": validation_by_family(items),
        "split_rule": split_rule_facts(settings),
        "generation": generation,
        "usage": usage_table({k: reports[k] for k in ("templates", "selfinstruct")}),
        "dataset_tokens": dict(dataset_tokens),
        "reviewed": reviewed,
        "review": [dict(r) for r in review or [] if r["reviewed"]],  # per sub-category: reviewed share and rejection rate
        "near_dup": {k: (settings.get("near_dup") or {}).get(k) for k in ("enabled", "threshold", "ngram")},
        "examples": examples(items),
        "upstream_notes": {s: notes for s, notes in ((s, [n for n in rep[0] if not n.startswith("Dry-run estimate")])
                                                     for s, rep in reports.items() if rep) if notes},  # an estimate is no fact of the data
        "source_kind": settings.get("source_kind") or "published",
        "curated_by": settings.get("curated_by"),
        "contact": settings.get("contact"),
        "citation": settings.get("citation"),
        "shared_outputs": shared_outputs(items),
        "how_made": how_made(items),
    }
    facts["limitations"] = limitations(facts)
    return facts


def examples(items: list[Mapping[str, Any]], width: int = 90) -> list[dict[str, str]]:
    """One short example per family (the first train item in the export's order)."""
    seen: dict[str, dict[str, str]] = {}
    for it in items:
        if it["family"] not in seen and it["split"] == "train":
            seen[it["family"]] = {"family": it["family"], "subcategory": it["subcategory"],
                                  **{k: _clip(it.get(k) or "", width) for k in ("instruction", "input", "output")}}
    order = {f: i for i, f in enumerate(FAMILIES)}
    return [seen[f] for f in sorted(seen, key=lambda f: order.get(f, 99))]


def _clip(text: str, width: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= width else text[:width] + "…"


def limitations(f: Mapping[str, Any]) -> list[str]:
    """Known limitations, stated from what this build actually contains."""
    out = []
    by_origin = f["generation"]["items_by_origin"]
    total = max(f["rows"]["total"], 1)
    if by_origin.get("templates"):
        out.append("Template items take their outputs verbatim from the source articles, so they carry the articles' "
                   "style, opinions and any factual errors; inputs were derived by code (titles, leads, keywords, sentences).")
    if by_origin.get("selfinstruct"):
        share = by_origin["selfinstruct"] / total
        out.append(f"{by_origin['selfinstruct']} items ({share:.0%}) were written by a language model from source chunks and "
                   "checked automatically (schema, refusals, duplicates, grounding), not each by a person.")
    else:
        out.append("No model-generated items are included: the selfinstruct stage produced none in this build.")
    if f.get("reviewed"):
        out.append(f"Review decisions were applied to {f['reviewed']} item ids.")
    missing = [name for name in FAMILIES if name not in {r["family"] for r in f["families"]}]
    if missing:
        out.append(f"No items for the families: {', '.join(missing)}.")
    shared = f.get("shared_outputs") or {}
    if shared.get("items"):
        out.append(f"{shared['items']} of {f['rows']['total']} items share their exact output with another item "
                   f"({shared['outputs']} distinct outputs; at most {shared['max_items_per_output']} items per output): one article "
                   "is the target of several tasks, so these outputs weigh more in training than their count of articles suggests.")
    if f["rows"]["validation"] < 100:
        out.append(f"The validation split is small ({f['rows']['validation']} items): treat scores on it as indicative only.")
    out.append("Mainland phone numbers, resident ID numbers and emails were masked by pattern ([手机号], [身份证号], [邮箱]); "
               "names, addresses and other personal data in news text were not removed.")
    out.append("Splits are by source document: no article contributes items to both train and validation; "
               "near-duplicate articles were removed by the dedup stage before items were made.")
    for stage, notes in f.get("upstream_notes", {}).items():
        for n in notes:
            out.append(f"{stage}: {n}")
    return out


# -- rendering ------------------------------------------------------------------------------------------
def card_data(facts: Mapping[str, Any]):
    """The YAML header, as huggingface_hub's DatasetCardData."""
    from huggingface_hub import DatasetCardData

    configs = [{"config_name": c["config"], "data_files": [{"split": s["split"], "path": s["path"]} for s in c["splits"]],
                **({"default": True} if c["config"] == "default" else {})} for c in facts["configs"]]
    written = facts.get("source_kind") == "written"
    model = any(r["model_written"] or r["model_input"] for r in facts.get("how_made", []))
    return DatasetCardData(language=["zh"], license=facts["license"], task_categories=facts["task_categories"] or ["text-generation"],
                           task_ids=["language-modeling", "dialogue-modeling"],
                           annotations_creators=["machine-generated"] + (["expert-generated"] if facts.get("reviewed") else []),
                           language_creators=(["expert-generated"] if written else ["found"]) + (["machine-generated"] if model else []),
                           multilinguality=["monolingual"], source_datasets=["original"],
                           size_categories=[facts["size_category"]], pretty_name=facts["pretty_name"],
                           tags=facts["tags"] or None, configs=configs)


def _cell(value: Any, width: int = 100) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        value = f"{value:g}"
    text = re.sub(r"\s+", " ", str(value)).replace("|", "\\|")
    return text if len(text) <= width else text[:width] + "…"


def _bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def render_card(facts: Mapping[str, Any], repo_id: str | None = None) -> str:
    """README.md: the YAML header from DatasetCardData, then the body from prompts/card/README.md.j2."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(prompts_dir() / "card")), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)
    env.filters["cell"] = _cell
    env.filters["size"] = _bytes
    env.filters["plain"] = plain
    env.filters["tojson_u"] = lambda v: json.dumps(v, ensure_ascii=False)
    repo = repo_id or facts.get("repo_id") or REPO_PLACEHOLDER
    return env.get_template("README.md.j2").render(card_data=card_data(facts).to_yaml(), f=facts, repo_id=repo,
                                                   families=FAMILIES)


def check_card(text: str):
    """Parse a rendered card the way the Hub does; returns the DatasetCard (raises on bad YAML)."""
    from huggingface_hub import DatasetCard

    return DatasetCard(text)
