"""The dry run: requests, tokens and cost of a selfinstruct run before anything is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from ...llm import LLMSettings, RequestCache, cache_key, estimate_prompt_tokens, response_format_for
from ...resources import load_schema
from .chunks import Chunk
from .prompt import SelfInstructPrompt

REPLY_SCHEMA = "selfinstruct_reply"
NEAR_MAX_TOKENS = 0.8  # the dry run warns when the expected reply is this close to max_tokens


def estimate_run(settings: Mapping[str, Any], llm: LLMSettings, prompt: SelfInstructPrompt, chunks: Iterable[Chunk],
                 cache_file: Path) -> dict[str, Any]:
    """Requests, tokens and cost of a run, before sending anything.

    The expected reply length comes from the replies already in the cache when there are any (this
    run's own requests first, else every usable reply of the model: the prompt settings' guess was 18%
    high on real replies), else from the prompt settings. Requests whose reply is cached cost nothing."""
    s = settings
    requests = input_tokens = uncached_input = chunk_tokens = chunk_chars = 0
    keys: list[str] = []
    fmt = response_format_for(llm.response_format, load_schema(REPLY_SCHEMA), "selfinstruct_items")
    params = {"response_format": fmt} if fmt else {}
    cache = RequestCache(cache_file) if cache_file.exists() else None
    try:
        for chunk in chunks:
            requests += 1
            messages = prompt.messages(chunk)
            tokens = estimate_prompt_tokens(messages)
            input_tokens += tokens
            chunk_tokens += chunk.tokens
            chunk_chars += len(chunk.text)
            if cache is not None:
                keys.append(cache_key(llm, messages, **params))
                if not cache.reply_lengths([keys[-1]]):
                    uncached_input += tokens
            else:
                uncached_input += tokens
        own = cache.reply_lengths(keys) if cache is not None and keys else []
        seen = own or (cache.reply_lengths(model=llm.model) if cache is not None else [])
    finally:
        if cache is not None:
            cache.close()
    per_char = chunk_tokens / chunk_chars if chunk_chars else 1.0
    # an item: instruction (~40 chars), some input (~80), an answer in the middle of the asked range, JSON overhead
    item_chars = 40 + 80 + (s["answer_min_chars"] + s["answer_max_chars"]) / 2
    expected = int(s["items_per_request"] * (item_chars * per_char + 25))
    basis = "prompt settings"
    cut_share = None
    if seen:
        expected = int(round(sum(t for t, _ in seen) / len(seen)))
        cut_share = round(sum(1 for _, f in seen if f == "length") / len(seen), 4)
        basis = f"{len(seen)} cached replies" + (" of these requests" if own else f" of {llm.model}")
    cached = len(own)
    to_send = requests - cached
    output_tokens = to_send * min(llm.max_tokens, expected)
    upper = to_send * llm.max_tokens
    return {"requests": requests, "requests_cached": cached, "reply_tokens_expected": expected, "reply_tokens_basis": basis,
            "replies_cut_share": cut_share, "max_tokens": llm.max_tokens, "input_tokens": input_tokens,
            "input_tokens_to_pay": uncached_input, "output_tokens": output_tokens, "output_tokens_max": upper,
            "model": llm.model, "cost_usd": llm.cost(uncached_input, output_tokens), "cost_usd_max": llm.cost(uncached_input, upper)}


def length_warning(est: Mapping[str, Any], items_per_request: int) -> str | None:
    """A sentence when the expected reply comes within 20% of max_tokens (replies would be cut)."""
    expected, limit = est["reply_tokens_expected"], est["max_tokens"]
    if expected < NEAR_MAX_TOKENS * limit and not (est.get("replies_cut_share") or 0):
        return None
    cut = est.get("replies_cut_share")
    seen = f"; {cut:.0%} of the cached replies were cut (finish_reason=length)" if cut else ""
    where = "more than" if expected > limit else f"within {1 - NEAR_MAX_TOKENS:.0%} of"
    return (f"a reply of {items_per_request} items is expected to need about {expected:,} tokens "
            f"({est['reply_tokens_basis']}), {where} [llm] max_tokens = {limit:,}: replies would be cut{seen}; "
            "raise max_tokens or lower items_per_request / answer_max_chars")


def describe_estimate(est: Mapping[str, Any], plain: bool = True) -> str:
    """One line. ``plain=False``: without square brackets, for text that rich may read as markup."""
    where = "in [llm.prices]" if plain else "under llm.prices"
    cost = (f"about ${est['cost_usd']:.2f} (at most ${est['cost_usd_max']:.2f}) at the configured {est['model']} prices"
            if est["cost_usd"] is not None else f"cost unknown (no price for {est['model']} {where})")
    cached = f" ({est['requests_cached']} answered from the cache)" if est.get("requests_cached") else ""
    return (f"{est['requests']} requests{cached}, {est['input_tokens']:,} input tokens, about {est['output_tokens']:,} output tokens "
            f"(at most {est['output_tokens_max']:,}), {cost}")


def print_estimate(console, est: Mapping[str, Any]) -> None:
    """The estimate as a rich table (nothing without a console)."""
    if console is None:
        return
    from rich.table import Table

    t = Table(title="selfinstruct dry-run estimate (re-asks not included)", title_justify="left")
    t.add_column("measure")
    t.add_column("value", justify="right")
    for k in ("requests", "requests_cached", "input_tokens", "input_tokens_to_pay", "output_tokens", "output_tokens_max",
              "reply_tokens_expected", "max_tokens"):
        t.add_row(k, f"{est[k]:,}")
    t.add_row("reply_tokens_basis", str(est["reply_tokens_basis"]))
    if est.get("replies_cut_share") is not None:
        t.add_row("replies_cut_share", f"{est['replies_cut_share']:.0%}")
    t.add_row("model", str(est["model"]))
    for k in ("cost_usd", "cost_usd_max"):
        t.add_row(k, "no price configured" if est[k] is None else f"${est[k]:.4f}")
    console.print(t)
