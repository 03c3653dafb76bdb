"""Shared LLM rooms: the one client (limits, retries, cache), the request -> read -> re-ask -> classify flow
(``flow``) and JSON reply repair. See ``client``."""

from .cache import RequestCache, request_key
from .client import (ChatRequest, cache_key, request_params, Completion, LLMClient, LLMError, LLMFatalError, LLMSettings, RateLimiter, Usage,
                     display_url, endpoint_problem, estimate_prompt_tokens, in_order, response_format_for, run_requests)
from .flow import Asked, TextReading, ask, ask_all, read_text
from .repair import ItemsReply, ParsedReply, extract_items, parse_json_reply, unwrap

__all__ = ["Asked", "TextReading", "ask", "ask_all", "read_text", "cache_key", "request_params", "ChatRequest", "Completion", "ItemsReply", "extract_items", "unwrap", "LLMClient", "LLMError", "LLMFatalError", "LLMSettings", "ParsedReply", "RateLimiter",
           "RequestCache", "Usage", "display_url", "endpoint_problem", "estimate_prompt_tokens", "in_order", "parse_json_reply", "request_key",
           "response_format_for", "run_requests"]
