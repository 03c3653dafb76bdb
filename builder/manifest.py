"""Why a stage is up to date: the manifest each stage writes last.

Like a dvc lock entry, it records the hash of the settings that shape the output, a fingerprint of
every input, and a fingerprint of the output. A stage reruns exactly when one of them changes.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import xxhash

from . import __version__
from .shards import atomic_write_text

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

    def why_stale(self, config_hash: str, inputs: dict[str, str]) -> str | None:
        """None when fresh, else the reason in a few words."""
        if self.version != __version__:
            return f"builder version changed ({self.version} -> {__version__})"
        if self.config_hash != config_hash:
            return "config changed"
        for name in sorted(set(self.inputs) | set(inputs)):
            if self.inputs.get(name) != inputs.get(name):
                return f"input changed: {name}"
        return None
