"""The build config: one TOML file, validated against ``schemas/build.schema.json``.

Validation fills in the defaults that the schema declares, so every stage reads a complete,
typed-by-schema settings dict and the defaults are documented in one place (the schema).
"""

from __future__ import annotations

import codecs
import copy
import difflib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .errors import ConfigError
from .resources import load_schema, schemas_dir

CONFIG_ENV = "BUILDER_CONFIG"
DEFAULT_CONFIG = "build.toml"


def _with_defaults(validator_class):
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if "$ref" in sub and "default" not in sub:
                    sub = validator._resolver.lookup(sub["$ref"]).contents
                if isinstance(sub, dict) and "default" in sub and prop not in instance:
                    instance[prop] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


_DefaultingValidator = _with_defaults(Draft202012Validator)


def _registry() -> Registry:
    def retrieve(uri: str) -> Resource:
        name = uri.rsplit("/schemas/", 1)[-1]
        path = schemas_dir() / name
        return Resource.from_contents(json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT202012)

    return Registry(retrieve=retrieve)


FORMATS = FormatChecker()
FORMATS.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)


@FORMATS.checks("codec", raises=LookupError)
def _is_codec(value: object) -> bool:
    """"auto" or a text encoding Python knows (gb18030, big5, utf-16 …), looked up, not guessed."""
    if not isinstance(value, str) or value == "auto":
        return True
    codecs.lookup(value)
    return True


def schema_validator(name: str, fill_defaults: bool = False):
    schema = load_schema(name)
    cls = _DefaultingValidator if fill_defaults else Draft202012Validator
    return cls(schema, registry=_registry(), format_checker=FORMATS)


def _where(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def describe_error(error) -> str:
    """Turn a jsonschema error into one line that names the key and what was expected."""
    where = _where(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unexpected = [k for k in error.instance if k not in allowed]
        key = unexpected[0] if unexpected else "?"
        full = f"{where}.{key}" if error.absolute_path else key
        hint = difflib.get_close_matches(key, allowed, n=1)
        did_you_mean = f"did you mean '{hint[0]}'? " if hint else ""
        return f"unknown key '{full}' ({did_you_mean}expected one of: {', '.join(allowed)})"
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"'{where}' must be {expected}, got {json.dumps(error.instance, ensure_ascii=False, default=str)[:60]}"
    if error.validator == "required":
        return f"'{where}' is missing a required key: {error.message.split(' is a required')[0]}"
    if error.validator == "format" and error.validator_value == "codec":
        return f"'{where}' must be 'auto' or a known text encoding, got {json.dumps(error.instance, ensure_ascii=False)}"
    if error.validator == "enum":
        options = ", ".join(json.dumps(v, ensure_ascii=False) for v in error.validator_value)
        return f"'{where}' must be one of {options}, got {json.dumps(error.instance, ensure_ascii=False)}"
    return f"'{where}': {error.message}"


def first_error(validator, instance) -> str | None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return describe_error(errors[0]) + more


@dataclass(frozen=True)
class BuildConfig:
    """A validated build: the config file, its folder, and settings with defaults filled in."""

    path: Path
    settings: dict[str, Any] = field(repr=False)
    output: Path = Path("build")

    @property
    def root(self) -> Path:
        return self.path.parent

    def stage(self, name: str) -> dict[str, Any]:
        return self.settings.get(name, {})

    def resolve(self, p: str | os.PathLike) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(os.path.expanduser(str(p)))
        return p if p.is_absolute() else (self.root / p)

    @property
    def workers(self) -> int:
        n = int(self.settings["build"].get("workers", 0))
        return n if n > 0 else (os.cpu_count() or 1)

    @property
    def cache_dir(self) -> Path:
        return self.output / ".cache"


def find_config(path: str | os.PathLike | None) -> Path:
    if path is None:
        path = os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    p = Path(path)
    if p.is_dir():
        p = p / DEFAULT_CONFIG
    if not p.is_file():
        raise ConfigError(f"{p}: config file not found (create one with 'builder init DIR' or pass -c)")
    return p.resolve()


def parse_config(text: str, path: Path, output: str | os.PathLike | None = None) -> BuildConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    validator = schema_validator("build", fill_defaults=True)
    problem = first_error(validator, data)
    if problem:
        raise ConfigError(f"{path}: {problem}")
    cfg = BuildConfig(path=path, settings=data)
    out = Path(output) if output else cfg.resolve(data["build"]["output"])
    object.__setattr__(cfg, "output", out.resolve())
    return cfg


def load_config(path: str | os.PathLike | None = None, output: str | os.PathLike | None = None) -> BuildConfig:
    p = find_config(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 ({exc.reason} at byte {exc.start}); save the config as UTF-8") from None
    return parse_config(text, p, output)
