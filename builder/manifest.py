"""Why a stage is up to date: the manifest each stage writes last.

Like a dvc lock entry, it records the hash of the settings that shape the output, a fingerprint of
every input, and a fingerprint of the output. A stage reruns exactly when one of them changes.
"""

from __future__ import annotations

import ast
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import xxhash

from . import __version__
from .shards import atomic_write_text, shard_files

MANIFEST = "manifest.json"


def stable_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def hash_obj(obj: Any) -> str:
    return hashlib.sha256(stable_json(obj).encode("utf-8")).hexdigest()[:16]


def hash_files_content(paths: Iterable[Path], root: Path | None = None) -> str:
    """Fingerprint files by content (used for a stage's own outputs and for prompt/template files)."""
    h = xxhash.xxh3_128()
    for p in sorted(paths):
        name = str(p.relative_to(root)) if root and p.is_relative_to(root) else p.name
        h.update(name.encode() + b"\0")
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


@dataclass
class Manifest:
    stage: str
    config_hash: str
    inputs: dict[str, str]
    output: str  # fingerprint of data/ and rejected/
    rows: dict[str, int]
    counters: dict[str, int] = field(default_factory=dict)
    version: str = __version__
    finished: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    code_hash: str = ""  # the stage's code and the builder modules it imports
    files: dict[str, list[int]] = field(default_factory=dict)  # data/ and rejected/ shards: relative path -> [bytes, rows]
    problems: list[str] = field(default_factory=list)  # what the stage did not do that was asked (a partial build)
    rerun: bool = False  # the next run does the stage again (failed requests are retried)

    def write(self, stage_dir: Path) -> None:
        self.finished = self.finished or time.strftime("%Y-%m-%dT%H:%M:%S%z")
        atomic_write_text(stage_dir / MANIFEST, json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, stage_dir: Path) -> "Manifest | None":
        p = stage_dir / MANIFEST
        if not p.is_file():
            return None
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            return cls(**data)
        except (ValueError, TypeError):
            return None

    def why_stale(self, config_hash: str, inputs: dict[str, str], code_hash: str | None = None) -> str | None:
        """None when fresh, else the reason in a few words."""
        if self.version != __version__:
            return f"builder version changed ({self.version} -> {__version__})"
        if code_hash is not None and self.code_hash != code_hash:
            return "code changed"
        if self.config_hash != config_hash:
            return "config changed"
        for name in sorted(set(self.inputs) | set(inputs)):
            if self.inputs.get(name) != inputs.get(name):
                return f"input changed: {name}"
        if self.rerun:
            return "the last run was partial: " + (self.problems[0] if self.problems else "retrying")
        return None

    def damage(self, stage_dir: Path, verify: bool = False) -> str | None:
        """None when the shards the manifest names are on disk with their sizes (and, with ``verify``,
        their content hash), else what is wrong, naming a file."""
        for rel, (size, _rows) in sorted(self.files.items()):
            p = stage_dir / rel
            try:
                actual = p.stat().st_size
            except OSError:
                return f"output damaged: {rel} is missing"
            if actual != size:
                return f"output damaged: {rel} has {actual} bytes, the manifest says {size}"
        on_disk = {str(p.relative_to(stage_dir)) for part in ("data", "rejected") for p in shard_files(stage_dir / part)}
        extra = sorted(on_disk - set(self.files))
        if self.files and extra:
            return f"output damaged: {extra[0]} is not in the manifest"
        if verify and hash_files_content([stage_dir / rel for rel in self.files], root=stage_dir) != self.output:
            return "output damaged: the shards' content differs from the manifest's fingerprint"
        return None


_PACKAGE_DIR = Path(__file__).resolve().parent


def _module_file(name: str) -> Path | None:
    """The source file of a ``builder.*`` module (a package's ``__init__.py``), or None."""
    rel = name.split(".")[1:]
    base = _PACKAGE_DIR.joinpath(*rel)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, module: str) -> set[str]:
    """The ``builder.*`` modules a source file imports (absolute or relative; lazy imports inside functions too)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "builder")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.split(".")[0] != "builder":
                continue
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)  # "from . import x" may name a module
    return found


def code_modules(module: str) -> dict[str, Path]:
    """``module`` and every ``builder`` module it imports, transitively, with their source files."""
    todo, seen = [module], {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        seen[name] = path
        if path is None:
            continue
        parent = name.rpartition(".")[0]
        if parent and parent not in seen:  # importing a.b.c runs a/__init__.py and a/b/__init__.py
            todo.append(parent)
        todo.extend(_imports(path, name))
    return {n: p for n, p in sorted(seen.items()) if p is not None}


@lru_cache(maxsize=None)
def code_fingerprint(module: str) -> str:
    """A hash of the source of ``module`` and of every ``builder`` module it imports, transitively.

    A stage's manifest records it, so a change to the stage's code, or to a shared module it uses
    (cleaning rules, the MinHash engine), or to a ``.toml`` data file beside them (the boilerplate rules), makes the
    stage stale; an edit elsewhere does not."""
    h = xxhash.xxh3_128()
    modules = code_modules(module)
    for name, path in modules.items():
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    # the data files beside that code are code too (builder/text/boilerplate_rules.toml: a new rule changes the text)
    for folder in sorted({path.parent for path in modules.values()}):
        for data in sorted([*folder.glob("*.toml"), *folder.glob("*.npz")]):  # rules and the boilerplate line model
            h.update(str(data.relative_to(_PACKAGE_DIR)).encode() + b"\0" + data.read_bytes() + b"\0")
    return h.hexdigest()
