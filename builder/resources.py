"""Where the project's data files live: ``schemas/`` and ``prompts/``.

In a checkout (or an editable install) they are the top-level folders next to ``builder/``;
in a wheel they are packaged under ``builder/_resources/``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PKG.parent / name, _PKG / "_resources" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ folder next to the builder package")


def schemas_dir() -> Path:
    return _find("schemas")


def prompts_dir() -> Path:
    return _find("prompts")


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    """Load ``schemas/<name>`` (``.schema.json`` is appended when missing)."""
    if not name.endswith(".json"):
        name = f"{name}.schema.json"
    return json.loads((schemas_dir() / name).read_text(encoding="utf-8"))
