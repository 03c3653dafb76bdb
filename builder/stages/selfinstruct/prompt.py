"""The selfinstruct prompt: Jinja2 templates, task types and few-shot examples from ``prompts/selfinstruct/``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import jinja2
import xxhash

from ...errors import BuilderError
from ...resources import prompts_dir
from .chunks import Chunk

FOLDER = "selfinstruct"
FAMILIES = ("观点创作", "文章转写", "媒体理解", "其他QA")
DEFAULT_FAMILY = "其他QA"
MATERIAL_SLOT = re.compile(r"\{\{-?\s*material\s*-?\}\}")
SENTINEL = "\x00material\x00"  # stands in for the material in a render made once per few-shot rotation


def material_slot_only(template_text: str) -> bool:
    """Whether a generate template uses the material exactly once, as is (``{{ material }}``, no filter and no
    other mention): then the rest of its text does not depend on the material and can be rendered once."""
    return len(MATERIAL_SLOT.findall(template_text)) == 1 and len(re.findall(r"\bmaterial\b", template_text)) == 1


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BuilderError(f"{path}: cannot read the selfinstruct prompt file ({exc.strerror or exc})") from None


def load_fewshot(path: Path) -> list[dict[str, str]]:
    """Few-shot examples, one JSON object per line with task_type, instruction, input, output."""
    examples = []
    for no, line in enumerate(_read(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            ex = json.loads(line)
        except ValueError as exc:
            raise BuilderError(f"{path}:{no}: not valid JSON ({exc})") from None
        missing = [k for k in ("task_type", "instruction", "input", "output") if not isinstance(ex.get(k), str)]
        if missing:
            raise BuilderError(f"{path}:{no}: a few-shot example needs string fields {', '.join(missing)}")
        examples.append({k: ex[k] for k in ("task_type", "instruction", "input", "output")})
    return examples


def group_by_family(families: Mapping[str, Any], task_types: list[dict[str, str]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The configured task types under the four families of ``families.json``; a type it does not place is 其他QA's."""
    family_of = {t: name for name in FAMILIES for t in (families.get(name) or {}).get("task_types", [])}
    grouped = []
    for name in FAMILIES:
        types = [t for t in task_types if family_of.get(t["name"], DEFAULT_FAMILY) == name]
        grouped.append({"name": name, "description": (families.get(name) or {}).get("description", ""), "task_types": types})
    return grouped, {t["name"]: family_of.get(t["name"], DEFAULT_FAMILY) for t in task_types}


@dataclass
class SelfInstructPrompt:
    """Renders the messages for a chunk and the re-ask after a bad reply."""

    system: str
    generate: jinja2.Template
    reask_template: jinja2.Template
    task_types: list[dict[str, str]]
    examples: list[dict[str, str]]
    settings: Mapping[str, Any]
    prompt_id: str
    families: list[dict[str, Any]] = None  # type: ignore[assignment]
    family_of: dict[str, str] = None  # type: ignore[assignment]  # task type -> family
    material_slot: bool = False  # see material_slot_only
    _around: dict[int, tuple[str, str]] = field(default_factory=dict, repr=False)  # rotation -> text before and after the material

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], build) -> "SelfInstructPrompt":
        folder = prompts_dir() / FOLDER
        env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)
        generate_path = build.resolve(settings["prompt_file"]) if settings.get("prompt_file") else folder / "generate.zh.j2"
        fewshot_path = build.resolve(settings["fewshot_file"]) if settings.get("fewshot_file") else folder / "fewshot.jsonl"
        texts = {"system": _read(folder / "system.zh.j2"), "generate": _read(generate_path), "reask": _read(folder / "reask.zh.j2"),
                 "task_types": _read(folder / "task_types.json"), "families": _read(folder / "families.json"),
                 "fewshot": _read(fewshot_path)}
        try:
            generate = env.from_string(texts["generate"])
            reask = env.from_string(texts["reask"])
            system = env.from_string(texts["system"]).render().strip()
        except jinja2.TemplateSyntaxError as exc:
            raise BuilderError(f"{generate_path}: Jinja2 syntax error on line {exc.lineno}: {exc.message}") from None
        described = json.loads(texts["task_types"])
        task_types = [{"name": t, "description": described.get(t, "")} for t in settings["task_types"]]
        families, family_of = group_by_family(json.loads(texts["families"]), task_types)
        examples = [{**ex, "family": ex.get("family") or family_of.get(ex["task_type"], DEFAULT_FAMILY)} for ex in load_fewshot(fewshot_path)]
        digest = xxhash.xxh3_64_hexdigest(json.dumps(texts, sort_keys=True, ensure_ascii=False).encode("utf-8"))[:10]
        return cls(system, generate, reask, task_types, examples, settings,
                   f"selfinstruct/{generate_path.stem}@{digest}", families, family_of, material_slot_only(texts["generate"]))

    def fingerprint(self) -> dict[str, Any]:
        return {"prompt_id": self.prompt_id}

    def shown_examples(self, chunk_index: int) -> list[dict[str, str]]:
        return self._examples_at(self._rotation(chunk_index))

    def _examples_at(self, start: int) -> list[dict[str, str]]:
        k = min(self.settings["fewshot_per_prompt"], len(self.examples))
        return [self.examples[(start + i) % len(self.examples)] for i in range(k)]

    def messages(self, chunk: Chunk) -> list[dict[str, str]]:
        """The system and user messages for a chunk. Only the material changes within a few-shot rotation, so
        when the template takes it as is the text around it is rendered once per rotation (Jinja2 spent
        about 0.3 ms a request on the event loop); the result is the same string as a full render."""
        start = self._rotation(chunk.index)
        if not self.material_slot:
            return self._messages(self._render(start, chunk.text))
        around = self._around.get(start)
        if around is None:
            whole = self._render(start, SENTINEL)
            head, found, tail = whole.partition(SENTINEL)
            if not found or SENTINEL in tail:
                self.material_slot = False
                return self._messages(self._render(start, chunk.text))
            around = self._around[start] = (head, tail)
        return self._messages(around[0] + chunk.text + around[1])

    def _messages(self, user: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user.strip()}]

    def _rotation(self, chunk_index: int) -> int:
        k = min(self.settings["fewshot_per_prompt"], len(self.examples))
        return (chunk_index * k) % len(self.examples) if k else 0

    def _render(self, start: int, material: str) -> str:
        n = self.settings["items_per_request"]
        examples = self._examples_at(start)
        order = ("family", "task_type", "instruction", "input", "output")
        shown = json.dumps({"items": [{k: e[k] for k in order} for e in examples]}, ensure_ascii=False, indent=1) if examples else "（无）"
        try:
            return self.generate.render(
                n=n, task_types=self.task_types, answer_min=self.settings["answer_min_chars"],
                answer_max=self.settings["answer_max_chars"], max_per_type=max(2, -(-n // max(1, min(len(self.task_types), n))) + 1),
                examples=shown, material=material, families=self.families)
        except jinja2.UndefinedError as exc:
            raise BuilderError(f"selfinstruct prompt: {exc.message} (variables: n, task_types, families, answer_min, answer_max, "
                               "max_per_type, examples, material)") from None

    def reask(self, messages: list[dict[str, str]], reply: str, error: str, truncated: bool) -> list[dict[str, str]]:
        text = self.reask_template.render(error=error, truncated=truncated, n=self.settings["items_per_request"]).strip()
        return [*messages, {"role": "assistant", "content": reply}, {"role": "user", "content": text}]
