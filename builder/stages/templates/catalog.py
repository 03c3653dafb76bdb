"""Sub-categories as data: load ``prompts/templates/<family>.toml``, check them, compile their templates.

A file is validated against ``schemas/template.schema.json``; then the checks a schema cannot make:
Jinja2 syntax, every template variable a known derivation, the LLM prompt file present, ids unique.
Any problem is one line naming the file, the sub-category and the field.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from ...config import schema_validator
from ...errors import BuilderError
from . import textkit as tk
from .derivations import DERIVATIONS

GENRES_FILE = "genres.toml"
LLM_DIR = "llm"

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False,
                          trim_blocks=True, lstrip_blocks=True)


def inner_quotes(text: str) -> str:
    """Double quotation marks inside a text a template wraps in “…” become single ones: “别让短视频‘偷走’孩子的暑假”."""
    return str(text).replace("“", "‘").replace("”", "’")


_ENV.filters["inner_quotes"] = inner_quotes


def facts_filter(text: str, hook: bool = False) -> str:
    """``{{ body | facts }}``: the material a writing task gives with its title: the sentences of the answer that state
    a checkable fact (:func:`textkit.facts_block`), one per line under 素材, or nothing when it states none.
    ``{{ body | facts(hook=True) }}`` gives a commentary's news hook too: its opening sentences before it takes a
    position, which tell an event the writer cannot make up (为拼搏喝彩: 一名年轻选手在终点前意外摔倒…)."""
    block = tk.facts_block(text, hook)
    return f"\n素材：\n{block}" if block else ""


_ENV.filters["facts"] = facts_filter


def jinja_env() -> jinja2.Environment:
    return _ENV


@dataclass
class SubCategory:
    id: str
    family: str
    name: str
    description: str
    genres: tuple[str, ...]
    requires: tuple[str, ...]
    input_source: str
    output_src: str
    phrasing_srcs: tuple[str, ...]
    limits: dict[str, list[int]]
    file: str
    input_src: str = ""
    each: str | None = None
    max_per_article: int = 1
    cap: int | None = None
    keywords_any: tuple[str, ...] = ()
    llm_prompt: str | None = None
    check: str = "write"
    output_source: str = "article"
    output_llm_prompt: str | None = None
    variables: frozenset[str] = frozenset()  # derivations the templates read
    off: str | None = None  # off by default, and why ([templates] enabled_subcategories turns it on)
    _compiled: dict[str, Any] = field(default_factory=dict, repr=False)

    def template(self, which: str) -> jinja2.Template:
        if which not in self._compiled:
            src = {"input": self.input_src, "output": self.output_src}.get(which)
            if src is None:  # phrasing-N
                src = self.phrasing_srcs[int(which.split("-")[1])]
            self._compiled[which] = _ENV.from_string(src)
        return self._compiled[which]

    def suits(self, genre: str) -> bool:
        return "*" in self.genres or genre in self.genres


def _schema_message(file: str, data: dict, error) -> str:
    path = list(error.absolute_path)
    where = file
    if len(path) >= 2 and path[0] == "subcategory" and isinstance(path[1], int):
        items = data.get("subcategory") or []
        sid = items[path[1]].get("id") if path[1] < len(items) and isinstance(items[path[1]], dict) else None
        where += f": subcategory '{sid or '#' + str(path[1] + 1)}'"
        path = path[2:]
    key = ".".join(str(p) for p in path)
    v = error.validator
    if v == "minItems":
        what = f"'{key}' must have at least {error.validator_value} items"
    elif v == "maxItems":
        what = f"'{key}' must have at most {error.validator_value} items"
    elif v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        what = f"'{missing}' is required" + (f" in '{key}'" if key else "")
    elif v == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        what = f"unknown field '{extra[0] if extra else '?'}'" + (f" in '{key}'" if key else "") + f" (expected one of: {', '.join(allowed)})"
    elif v == "type":
        what = f"'{key}' must be {error.validator_value}"
    elif v == "enum":
        what = f"'{key}' must be one of {', '.join(map(str, error.validator_value))}, got {error.instance!r}"
    elif v == "pattern":
        what = f"'{key}' must match {error.validator_value}, got {error.instance!r}"
    elif v == "minLength":
        what = f"'{key}' must have at least {error.validator_value} characters"
    else:
        what = f"'{key}': {error.message}"
    return f"{where}: {what}"


def _variables(file: str, sid: str, fld: str, src: str) -> set[str]:
    try:
        ast = _ENV.parse(src)
    except jinja2.TemplateSyntaxError as exc:
        raise BuilderError(f"{file}: subcategory '{sid}': '{fld}' is not a valid Jinja2 template (line {exc.lineno}: {exc.message})") from None
    return set(jinja2.meta.find_undeclared_variables(ast))


def load_file(path: Path, shown: str | None = None, genres: set[str] | None = None) -> list[SubCategory]:
    shown = shown or str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BuilderError(f"{shown}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise BuilderError(f"{shown}: cannot read: {exc.strerror}") from None
    validator = schema_validator("template")
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise BuilderError(_schema_message(shown, data, errors[0]))
    family = data["family"]
    llm_dir = path.parent / LLM_DIR
    out = []
    for s in data["subcategory"]:
        sid = s["id"]
        where = f"{shown}: subcategory '{sid}'"
        if s.get("family", family) != family:
            raise BuilderError(f"{where}: 'family' is {s['family']!r} but the file is {family!r}")
        src, inp = s["input_source"], s.get("input", "")
        if src in ("code", "llm") and not inp.strip():
            raise BuilderError(f"{where}: 'input' is required when input_source is '{src}'")
        if src == "none" and inp.strip():
            raise BuilderError(f"{where}: 'input' must be empty when input_source is 'none'")
        out_src = s.get("output_source", "article")
        if out_src == "llm":
            if src == "llm":
                raise BuilderError(f"{where}: 'input_source' and 'output_source' cannot both be 'llm'")
            if not s.get("output_llm_prompt"):
                raise BuilderError(f"{where}: 'output_llm_prompt' is required when output_source is 'llm'")
            if not (llm_dir / s["output_llm_prompt"]).is_file():
                raise BuilderError(f"{where}: 'output_llm_prompt' file not found: {llm_dir / s['output_llm_prompt']}")
        if src == "llm":
            if not s.get("llm_prompt"):
                raise BuilderError(f"{where}: 'llm_prompt' is required when input_source is 'llm'")
            if not (llm_dir / s["llm_prompt"]).is_file():
                raise BuilderError(f"{where}: 'llm_prompt' file not found: {llm_dir / s['llm_prompt']}")
        each = s.get("each")
        allowed = set(DERIVATIONS) | ({"item"} if each else set()) | ({"llm"} if "llm" in (src, out_src) else set())
        used: set[str] = set()
        fields = [("input", inp), ("output", s["output"])] + [(f"phrasings.{i}", p) for i, p in enumerate(s["phrasings"])]
        for fld, text in fields:
            names = _variables(shown, sid, fld, text)
            unknown = sorted(names - allowed)
            if unknown:
                hint = " ('item' needs 'each')" if "item" in unknown else ""
                raise BuilderError(f"{where}: '{fld}' uses unknown variable '{unknown[0]}'{hint} (derivations: see builder/stages/templates/derivations/)")
            used |= names
        for key in ("llm_prompt", "output_llm_prompt"):
            if s.get(key) and ((key == "llm_prompt" and src == "llm") or (key == "output_llm_prompt" and out_src == "llm")):
                used |= _variables(shown, sid, key, (llm_dir / s[key]).read_text(encoding="utf-8")) - {"llm", "question"}
        for r in s["requires"]:
            base = r.split(".", 1)[0]
            if base == "item" and not each:
                raise BuilderError(f"{where}: 'requires' names '{r}' but there is no 'each'")
            if base != "item" and base not in DERIVATIONS:
                raise BuilderError(f"{where}: 'requires' names an unknown derivation '{r}'")
        if each and each not in DERIVATIONS:
            raise BuilderError(f"{where}: 'each' names an unknown derivation '{each}'")
        if genres is not None:
            bad = [g for g in s["genres"] if g != "*" and g not in genres]
            if bad:
                raise BuilderError(f"{where}: 'genres' names an unknown genre '{bad[0]}' (genres.toml: {', '.join(sorted(genres))})")
        lim = s["limits"]
        for k, (lo, hi) in lim.items():
            if lo > hi:
                raise BuilderError(f"{where}: 'limits.{k}' minimum {lo} is above maximum {hi}")
        out.append(SubCategory(
            id=sid, family=family, name=s["name"], description=s["description"], genres=tuple(s["genres"]),
            requires=tuple(s["requires"]), input_source=src, output_src=s["output"], phrasing_srcs=tuple(s["phrasings"]),
            limits=dict(lim), file=shown, input_src=inp, each=each, max_per_article=s.get("max_per_article", 1),
            cap=s.get("cap"), keywords_any=tuple(s.get("keywords_any", [])), llm_prompt=s.get("llm_prompt"),
            check=s.get("check", "write"), output_source=out_src, output_llm_prompt=s.get("output_llm_prompt"),
            variables=frozenset((used - {"item", "llm"}) | {r for r in s["requires"] if not r.startswith("item.")}),
            off=s.get("off"),
        ))
    return out


def template_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.toml") if p.name != GENRES_FILE)


def load_catalog(folder: Path, genres: set[str] | None = None, root: Path | None = None) -> list[SubCategory]:
    """All sub-categories of a template folder, in file order; ids must be unique."""
    files = template_files(folder)
    if not files:
        raise BuilderError(f"{folder}: no template files (*.toml)")
    seen: dict[str, str] = {}
    out: list[SubCategory] = []
    for f in files:
        shown = _shown(f, root)
        for sub in load_file(f, shown, genres):
            if sub.id in seen:
                raise BuilderError(f"{shown}: subcategory '{sub.id}': 'id' is already used in {seen[sub.id]}")
            seen[sub.id] = shown
            out.append(sub)
    return out


def _shown(path: Path, root: Path | None) -> str:
    for base in (root, Path.cwd()):
        if base is not None:
            try:
                return str(path.resolve().relative_to(base.resolve()))
            except ValueError:
                pass
    return str(path)
