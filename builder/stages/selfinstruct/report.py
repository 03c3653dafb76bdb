"""selfinstruct's report tables: requests by outcome, repairs and failures, filters, tokens and cost,
latency, grounding, and samples of kept items with their source chunk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import polars as pl

from .prompt import FAMILIES

if TYPE_CHECKING:
    from ...llm import LLMSettings
    from .state import GenerationRun

OUTCOMES = ("valid", "unwrapped", "repaired", "truncated", "reasked", "failed")


def report_tables(run: "GenerationRun", llm: "LLMSettings", counters: Mapping[str, Any]) -> dict[str, pl.DataFrame]:
    """The tables of one generation run, from its counters and its state (``state.GenerationRun``); ``llm``
    prices the tokens. The dry-run estimate is reported where it is made (``SelfInstructStage.run``)."""
    tables: dict[str, pl.DataFrame] = {}
    c = counters
    if not c.get("chunks"):
        return tables
    outcomes = [f"request_{k}" for k in OUTCOMES]
    total = sum(c.get(k, 0) for k in outcomes) or 1
    tables["requests"] = pl.DataFrame({"outcome": [k.removeprefix("request_") for k in outcomes],
                                       "requests": [c.get(k, 0) for k in outcomes],
                                       "share": [round(c.get(k, 0) / total, 4) for k in outcomes]})
    failed = sorted(k for k in c if k.startswith(("failed_", "reasked_", "repaired_", "unwrapped_", "item_", "truncated_")))
    tables["repairs_and_failures"] = pl.DataFrame({"what": failed, "count": [c[k] for k in failed]},
                                                  schema={"what": pl.String, "count": pl.Int64})
    per = sorted(run.items_per_request.items())
    tables["items_per_request"] = pl.DataFrame({"items": [k for k, _ in per], "requests": [v for _, v in per]},
                                               schema={"items": pl.Int64, "requests": pl.Int64})
    tables["families"] = pl.DataFrame({"family": list(FAMILIES), "kept": [c.get(f"kept_family_{f}", 0) for f in FAMILIES]},
                                      schema={"family": pl.String, "kept": pl.Int64})
    drops = sorted(k for k in c if k.startswith(("dropped_", "invalid_record")))
    returned = c.get("items_returned", 0) or 1
    tables["filters"] = pl.DataFrame({"filter": drops + ["kept"], "items": [c[k] for k in drops] + [c.get("kept", 0)],
                                      "share_of_returned": [round(c[k] / returned, 4) for k in drops] + [round(c.get("kept", 0) / returned, 4)]},
                                     schema={"filter": pl.String, "items": pl.Int64, "share_of_returned": pl.Float64})
    stats, latencies = run.client_stats, run.latencies
    u = run.used
    paid_cost = llm.cost(u["paid_prompt_tokens"], u["paid_completion_tokens"])
    all_cost = llm.cost(u["paid_prompt_tokens"] + u["cached_prompt_tokens"], u["paid_completion_tokens"] + u["cached_completion_tokens"])
    rows = [("chunks", c.get("chunks", 0)), ("http_requests_sent", stats.get("requests", 0)),
            ("replies_paid_this_run", u["paid_replies"]), ("replies_from_cache", u["cached_replies"]),
            ("prompt_tokens_paid", u["paid_prompt_tokens"]), ("completion_tokens_paid", u["paid_completion_tokens"]),
            ("prompt_tokens_all_replies", u["paid_prompt_tokens"] + u["cached_prompt_tokens"]),
            ("completion_tokens_all_replies", u["paid_completion_tokens"] + u["cached_completion_tokens"]),
            ("cost_usd_this_run", "no price" if paid_cost is None else round(paid_cost, 6)),
            ("cost_usd_all_replies", "no price" if all_cost is None else round(all_cost, 6))]
    rows += [(k, v) for k, v in sorted(stats.items()) if k.startswith(("retried_", "error_", "response_format"))]
    tables["tokens_and_cost"] = pl.DataFrame({"measure": [r[0] for r in rows], "value": [str(r[1]) for r in rows]})
    if latencies:
        lat = pl.Series(latencies)
        tables["latency_seconds"] = pl.DataFrame([{"n": lat.len(), "mean": round(float(lat.mean()), 3),
                                                   **{f"p{q}": round(float(lat.quantile(q / 100, "nearest")), 3) for q in (10, 50, 90, 99)},
                                                   "max": round(float(lat.max()), 3)}])
    if run.grounding:
        g = pl.DataFrame(run.grounding, schema={"task": pl.String, "grounding": pl.Float64}, orient="row")
        tables["grounding"] = (g.group_by("task").agg(pl.len().alias("items"), pl.col("grounding").mean().round(3).alias("mean"),
                                                     pl.col("grounding").quantile(0.1, "nearest").alias("p10"),
                                                     pl.col("grounding").median().alias("p50")).sort("task"))
    if run.samples:
        tables["item_samples"] = pl.DataFrame(run.samples)
    return tables
