"""Model-made inputs: render a sub-category's prompt (``prompts/templates/llm/*.j2``) for each sampled
item, send them through the project's one LLM client (limits, retries, a request cache so a rerun
after a crash pays nothing twice) and put the reply into the item's input as ``{{ llm }}``.

A reply that is empty, cut off at max_tokens, or that simply copies the output is not used: the item
is rejected with that reason and the raw reply kept in ``rejected/``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ...llm import ChatRequest, Completion, run_requests
from ..base import StageRun
from . import textkit as tk
from .catalog import LLM_DIR, SubCategory, jinja_env

MAX_TOKENS = 1500


def prompt_for(folder, sub: SubCategory, values: dict[str, Any]) -> str:
    src = (folder / LLM_DIR / sub.llm_prompt).read_text(encoding="utf-8")
    return jinja_env().from_string(src).render(**values).strip()


def fill_inputs(stage, ctx: StageRun, needs: dict[str, list[dict[str, Any]]], by_id: dict[str, SubCategory],
                stats: dict[str, Counter]) -> dict[str, list[dict[str, Any]]]:
    folder = stage.template_dir()
    order: list[tuple[str, dict[str, Any]]] = []
    requests: list[ChatRequest] = []
    for sid, items in needs.items():
        sub = by_id[sid]
        for cand in items:
            prompt = prompt_for(folder, sub, cand["llm_values"])
            order.append((sid, cand))
            requests.append(ChatRequest([{"role": "user", "content": prompt}], {"max_tokens": MAX_TOKENS}))
    ctx.log(f"asking the model for {len(requests)} inputs ({', '.join(sorted(needs))})")
    results = run_requests(stage.build, requests)
    out: dict[str, list[dict[str, Any]]] = {sid: [] for sid in needs}
    for (sid, cand), res in zip(order, results):
        sub = by_id[sid]
        rec = {"subcategory": sid, "source_id": cand["source_id"], "output": cand["output"][:300]}
        if not isinstance(res, Completion):
            ctx.reject("llm_failed", f"{sid}: {getattr(res, 'kind', 'error')}: {res}", rec,
                       source=cand["source"], path=cand["path"], id=cand["source_id"])
            continue
        reply = (res.text or "").strip()
        rec["llm_reply"] = reply
        if res.cached:
            ctx.count("llm_cached")
        if not reply or res.refusal:
            ctx.reject("llm_empty_reply", f"{sid}: the model returned no usable text", rec,
                       source=cand["source"], path=cand["path"], id=cand["source_id"])
            continue
        if res.finish_reason == "length":
            ctx.reject("llm_reply_truncated", f"{sid}: the reply was cut off at max_tokens={MAX_TOKENS}", rec,
                       source=cand["source"], path=cand["path"], id=cand["source_id"])
            continue
        values = dict(cand["llm_values"], llm=reply)
        text = sub.template("input").render(**values).strip()
        if tk.cjk_len(cand["output"]) >= 20 and cand["output"] in text:
            ctx.reject("llm_input_copies_output", f"{sid}: the model's input contains the whole output", rec,
                       source=cand["source"], path=cand["path"], id=cand["source_id"])
            continue
        lim = sub.limits.get("input_chars")
        n = tk.cjk_len(text)
        if lim and not lim[0] <= n <= lim[1]:
            reason = "input_too_short" if n < lim[0] else "input_too_long"
            ctx.reject(reason, f"{sid}: model-made input has {n} characters, allowed {lim[0]}–{lim[1]}", rec,
                       source=cand["source"], path=cand["path"], id=cand["source_id"])
            continue
        ctx.count("llm_inputs_made")
        cand = dict(cand, input=text, llm={"model": res.model, "prompt": sub.llm_prompt, "cached": res.cached})
        cand.pop("llm_values", None)
        out[sid].append(cand)
    return out
