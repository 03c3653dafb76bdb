"""Model-made inputs and outputs: render a sub-category's prompt (``prompts/templates/llm/*.j2``) for each
sampled item, send them through the project's one LLM client and its request flow (``builder.llm.flow``,
shared with selfinstruct: limits, retries, a request cache so a rerun after a crash pays nothing twice,
each failure classified) and put the reply into the item's input (``input_source = "llm"``) or output
(``output_source = "llm"``) as ``{{ llm }}``.

A reply that is empty, cut off at max_tokens, or that simply copies the output is not used; the item
is then checked like every other (``checks.py``: lengths, grounding in the article, the 5W subject …).
A failing item is rejected with that reason and the raw reply kept in ``rejected/``. The item's
provenance (``meta.llm``) says which side the model wrote, with the model and the prompt file.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ...llm.flow import ask_all, read_text
from ..base import StageRun
from . import textkit as tk
from .catalog import LLM_DIR, SubCategory, jinja_env

MAX_TOKENS = 1500
FAILURES = {"empty_reply": ("llm_empty_reply", "the model returned no usable text"),  # read_text's problem -> reason, detail
            "truncated": ("llm_reply_truncated", f"the reply was cut off at max_tokens={MAX_TOKENS}")}


def side(sub: SubCategory) -> str:
    return "input" if sub.input_source == "llm" else "output"


def prompt_for(folder, sub: SubCategory, values: dict[str, Any]) -> str:
    name = sub.llm_prompt if side(sub) == "input" else sub.output_llm_prompt
    src = (folder / LLM_DIR / name).read_text(encoding="utf-8")
    return jinja_env().from_string(src).render(**values).strip()


def fill_inputs(stage, ctx: StageRun, needs: dict[str, list[dict[str, Any]]], by_id: dict[str, SubCategory],
                stats: dict[str, Counter], checks: Counter) -> dict[str, list[dict[str, Any]]]:
    """Ask the model for each item's input or answer; ``stats`` (per sub-category) and ``checks`` ((sub-category,
    reason) -> items) count the items whose model-made text failed a check."""
    folder = stage.template_dir()
    order: list[tuple[str, dict[str, Any]]] = []
    requests: list[tuple[list[dict[str, str]], dict[str, Any]]] = []
    for sid, items in needs.items():
        sub = by_id[sid]
        for cand in items:
            question = next((p for p, ok in zip(cand["phrasings"], cand["phrasing_ok"]) if ok), cand["phrasings"][0])
            prompt = prompt_for(folder, sub, dict(cand["llm_values"], question=question))
            order.append((sid, cand))
            requests.append(([{"role": "user", "content": prompt}], {"max_tokens": MAX_TOKENS}))
    ctx.log(f"asking the model for {len(requests)} inputs ({', '.join(sorted(needs))})")
    # the shared request -> read -> classify flow; no re-ask, and an unusable reply stays served from the cache
    results = ask_all(stage.build, requests, read_text, discard=False)
    out: dict[str, list[dict[str, Any]]] = {sid: [] for sid in needs}
    for (sid, cand), asked in zip(order, results):
        sub = by_id[sid]
        rec = {"subcategory": sid, "source_id": cand["source_id"], "output": (cand["output"] or "")[:300]}
        res = asked.reply
        if res is None:
            ctx.reject("llm_failed", f"{sid}: {asked.problem}: {asked.error}", rec,
                       source=cand["source"], path=cand["path"], id=cand["source_id"])
            continue
        reply = asked.first.text if asked.first is not None else ""
        rec["llm_reply"] = reply
        if res.cached:
            ctx.count("llm_cached")
        if asked.outcome == "failed":
            reason, detail = FAILURES[asked.problem]
            ctx.reject(reason, f"{sid}: {detail}", rec, source=cand["source"], path=cand["path"], id=cand["source_id"])
            continue
        values = dict(cand["llm_values"], llm=reply)
        where = side(sub)
        if where == "output":
            from . import _phrasings_ok  # the stage module: phrasing lengths are checked the same way for every item

            output = sub.template("output").render(**values).strip()
            rec["output"] = output[:300]
            if cand["input"] and tk.cjk_len(output) >= 20 and output in cand["input"]:
                problem = ("llm_output_copies_input", f"{sid}: the model's answer is a passage of the input")
            else:
                cand = dict(cand, output=output, phrasing_ok=_phrasings_ok(sub, cand["phrasings"], output))
                problem = _limit(sub, "output", output)
        else:
            text = sub.template("input").render(**values).strip()
            if tk.cjk_len(cand["output"]) >= 20 and cand["output"] in text:
                problem = ("llm_input_copies_output", f"{sid}: the model's input contains the whole output")
            else:
                cand = dict(cand, input=text)
                problem = _limit(sub, "input", text)
        if problem is None:
            from . import check_candidate

            problem = check_candidate(sub, cand)
        if problem:
            stats[sid]["failed_checks"] += 1
            checks[(sid, problem[0])] += 1
            ctx.reject(problem[0], problem[1], rec, source=cand["source"], path=cand["path"], id=cand["source_id"])
            continue
        ctx.count(f"llm_{where}s_made")
        cand = dict(cand, llm={"side": where, "model": res.model, "prompt": sub.llm_prompt if where == "input" else sub.output_llm_prompt,
                               "cached": res.cached})
        cand.pop("llm_values", None)
        cand.pop("article_text", None)
        out[sid].append(cand)
    return out


def _limit(sub: SubCategory, field: str, text: str) -> tuple[str, str] | None:
    lim = sub.limits.get(f"{field}_chars")
    n = tk.cjk_len(text)
    if lim and not lim[0] <= n <= lim[1]:
        return (f"{field}_too_short" if n < lim[0] else f"{field}_too_long",
                f"{sub.id}: model-made {field} has {n} characters, allowed {lim[0]}–{lim[1]}")
    return None
