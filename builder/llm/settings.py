"""The ``[llm]`` settings (``schemas/config/llm.schema.json``) and the parameters a request is sent with.

Nothing here imports the openai SDK: the cache key and the endpoint check work without it.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from .cache import request_key
from .redaction import display_url

SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "seed", "response_format", "stop", "presence_penalty", "frequency_penalty")


def _schema_default(key: str) -> Any:
    from ..resources import load_schema

    return copy.deepcopy(load_schema("config/llm.schema.json")["properties"][key]["default"])


@dataclass(frozen=True)
class LLMSettings:
    base_url: str = ""
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    rpm: int = 0
    tpm: int = 0
    timeout: float = 120.0
    max_retries: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    response_format: str = "json_schema"
    temperature: float = 0.7
    top_p: float | None = None
    max_tokens: int = 4096
    seed: int | None = None
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: _schema_default("prices"))
    transport: str = "aiohttp"  # how requests are sent (builder/llm/transport.py); not part of any cache key

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "LLMSettings":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def sampling(self) -> dict[str, Any]:
        """Default parameters of every request (the ones that change the result, hence the cache key)."""
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens, "seed": self.seed}

    def price(self) -> Mapping[str, float] | None:
        return self.prices.get(self.model)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """US dollars for these tokens at the configured price of the model; None when no price is set."""
        p = self.price()
        if p is None:
            return None
        return prompt_tokens / 1e6 * p["input"] + completion_tokens / 1e6 * p["output"]


def request_params(settings: LLMSettings, overrides: Mapping[str, Any] | None = None, text_mode: bool | None = None) -> dict[str, Any]:
    """The parameters a request is sent (and cached) with: the settings' sampling defaults and ``overrides``."""
    params = settings.sampling()
    params.update(overrides or {})
    if settings.response_format == "text" if text_mode is None else text_mode:
        params.pop("response_format", None)
    return {k: v for k, v in params.items() if v is not None}


def cache_key(settings: LLMSettings, messages: Sequence[Mapping[str, Any]], **params: Any) -> str:
    """The cache key a client with these settings gives a request, without making a client (no SDK import)."""
    return request_key(settings.model, messages, request_params(settings, params),
                       display_url(settings.base_url) if settings.base_url else "")


def endpoint_problem(settings: LLMSettings | Mapping[str, Any]) -> str | None:
    """Why no request can be sent with these settings, as a sentence; None when the endpoint is usable."""
    s = settings if isinstance(settings, LLMSettings) else LLMSettings.from_mapping(settings)
    if not s.base_url.strip():
        return "no endpoint is configured ([llm] base_url is empty)"
    if not s.model.strip():
        return "no model is configured ([llm] model is empty)"
    if s.api_key_env and not os.environ.get(s.api_key_env):
        return (f"the environment variable {s.api_key_env} named by [llm] api_key_env is not set "
                "(set it, or set api_key_env = \"\" for an endpoint that needs no key)")
    return None


def response_format_for(mode: str, schema: Mapping[str, Any] | None = None, name: str = "reply") -> dict[str, Any] | None:
    """The ``response_format`` parameter for a mode of the config: json_schema, json_object or text (None)."""
    if mode == "json_schema" and schema is not None:
        return {"type": "json_schema", "json_schema": {"name": name, "schema": _strict_schema(schema), "strict": True}}
    if mode in ("json_schema", "json_object"):
        return {"type": "json_object"}
    return None


UNSUPPORTED_IN_STRICT = {"$schema", "$id", "title", "minLength", "maxLength", "minItems", "maxItems", "pattern", "format",
                         "minimum", "maximum", "default"}


def _strict_schema(node: Any) -> Any:
    """A copy of a JSON Schema without the keywords that structured-output endpoints reject."""
    if isinstance(node, dict):
        return {k: (_strict_schema(v) if k != "properties" else {p: _strict_schema(s) for p, s in v.items()})
                for k, v in node.items() if k not in UNSUPPORTED_IN_STRICT}
    if isinstance(node, list):
        return [_strict_schema(v) for v in node]
    return node
