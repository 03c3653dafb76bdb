"""From the export's files to token ids with the prompt masked out of the loss.

The export is read as it is: ``llamafactory/alpaca_<split>.json`` (a JSON list of
``{"instruction", "input", "output"}``) or ``trl/messages_<split>.jsonl`` (one ``{"messages": [...]}``
per line). Every record becomes a conversation (a list of role/content turns). A conversation is
rendered either with the tokenizer's chat template or with the alpaca prompt from ``prompts/train/``
into segments, each marked as prompt (masked, label -100) or response (trained on); each segment is
tokenised on its own, so the mask falls exactly on the boundary. A sample longer than ``max_length``
is dropped and counted, never cut; every dropped sample is kept with its reason.

Nothing here imports torch: the tokenizer is passed in.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..errors import BuilderError
from ..resources import prompts_dir

IGNORE_INDEX = -100

# the agreed export layout: dataset kind -> (sub-folder, file name pattern)
EXPORT_FILES = {
    "alpaca": ("llamafactory", "alpaca_{split}.json"),
    "messages": ("trl", "messages_{split}.jsonl"),
}


def export_file(export_dir: Path, dataset: str, split: str) -> Path:
    folder, pattern = EXPORT_FILES[dataset]
    return Path(export_dir) / folder / pattern.format(split=split)


@dataclass
class Record:
    """One exported item as a conversation, with where it came from (file:index)."""

    where: str
    turns: list[dict[str, str]] | None  # None when the record is malformed
    problem: str = ""


def _alpaca_turns(item: Any) -> tuple[list[dict[str, str]] | None, str]:
    if not isinstance(item, dict):
        return None, "bad_record: not an object"
    instruction, inp, output = item.get("instruction"), item.get("input", ""), item.get("output")
    if not isinstance(instruction, str) or not isinstance(output, str) or not isinstance(inp, (str, type(None))):
        return None, "bad_record: instruction, input and output must be strings"
    turns: list[dict[str, str]] = []
    if isinstance(item.get("system"), str) and item["system"].strip():
        turns.append({"role": "system", "content": item["system"]})
    for pair in item.get("history") or []:  # LLaMA-Factory's optional [[prompt, response], ...]
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            return None, "bad_record: history must be [prompt, response] pairs"
        turns += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    user = instruction if not inp else f"{instruction}\n\n{inp}"
    turns += [{"role": "user", "content": user, "instruction": instruction, "input": inp or ""},
              {"role": "assistant", "content": output}]
    return turns, ""


def _message_turns(item: Any) -> tuple[list[dict[str, str]] | None, str]:
    messages = item.get("messages") if isinstance(item, dict) else None
    if not isinstance(messages, list) or not messages:
        return None, "bad_record: no 'messages' list"
    turns = []
    for m in messages:
        if not (isinstance(m, dict) and m.get("role") in ("system", "user", "assistant") and isinstance(m.get("content"), str)):
            return None, "bad_record: each message needs role system/user/assistant and string content"
        turns.append({"role": m["role"], "content": m["content"]})
    return turns, ""


def read_export(export_dir: Path, dataset: str, split: str, required: bool = True) -> list[Record]:
    """Read one split of the export as conversations. A missing required file is a one-line error."""
    path = export_file(export_dir, dataset, split)
    if not path.is_file():
        if required:
            raise BuilderError(f"{path}: no {dataset} {split} file in the export (run 'builder run export' first, "
                               f"or set [train].dataset)")
        return []
    records: list[Record] = []
    if dataset == "alpaca":
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BuilderError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(items, list):
            raise BuilderError(f"{path}: expected a JSON list of {{instruction, input, output}} objects")
        for i, item in enumerate(items):
            turns, problem = _alpaca_turns(item)
            records.append(Record(f"{path.name}:{i}", turns, problem))
    else:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    records.append(Record(f"{path.name}:{n}", None, f"bad_record: not valid JSON ({exc.msg})"))
                    continue
                turns, problem = _message_turns(item)
                records.append(Record(f"{path.name}:{n}", turns, problem))
    return records


# -- prompt formats ----------------------------------------------------------------------------------

def load_prompt_template(name_or_path: str, base: Path | None = None):
    """The alpaca-style prompt: ``prompts/train/<name>.txt`` or a file path (relative to ``base``)."""
    import jinja2

    p = Path(name_or_path)
    if p.suffix or "/" in name_or_path:
        path = p if p.is_absolute() or base is None else base / p
    else:
        path = prompts_dir() / "train" / f"{name_or_path}.txt"
    if not path.is_file():
        raise BuilderError(f"{path}: prompt template not found ([train].prompt_template = {name_or_path!r})")
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        return env.from_string(path.read_text(encoding="utf-8")), path
    except jinja2.TemplateSyntaxError as exc:
        raise BuilderError(f"{path}:{exc.lineno}: prompt template is not valid Jinja2: {exc.message}") from None


class SampleRejected(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


class ChatTemplateFormat:
    """Segments from the tokenizer's chat template: what it adds for each assistant turn is trained on."""

    name = "chat_template"
    add_bos = False  # the template writes any begin-of-sequence token itself

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def _render(self, turns, generation_prompt: bool) -> str:
        clean = [{"role": t["role"], "content": t["content"]} for t in turns]
        return self.tokenizer.apply_chat_template(clean, tokenize=False, add_generation_prompt=generation_prompt)

    def segments(self, turns: list[dict[str, str]]) -> list[tuple[str, bool]]:
        out: list[tuple[str, bool]] = []
        done = ""
        for i, turn in enumerate(turns):
            if turn["role"] != "assistant":
                continue
            prefix = self._render(turns[:i], True)
            full = self._render(turns[: i + 1], False)
            if not (prefix.startswith(done) and full.startswith(prefix)):
                raise SampleRejected("chat_template_not_incremental",
                                     "the chat template renders earlier turns differently once later ones follow")
            out.append((prefix[len(done):], False))
            out.append((full[len(prefix):], True))
            done = full
        return out


class PromptTemplateFormat:
    """Segments from the alpaca-style template; the response gets the end-of-sequence token."""

    name = "prompt_template"
    add_bos = True

    def __init__(self, tokenizer, template):
        self.tokenizer = tokenizer
        self.template = template

    def segments(self, turns: list[dict[str, str]]) -> list[tuple[str, bool]]:
        system = "\n".join(t["content"] for t in turns if t["role"] == "system")
        out: list[tuple[str, bool]] = []
        history: list[tuple[str, str]] = []
        pending: dict[str, str] | None = None
        eos = self.tokenizer.eos_token or ""
        for turn in turns:
            if turn["role"] == "user":
                pending = turn
            elif turn["role"] == "assistant" and pending is not None:
                instruction = pending.get("instruction", pending["content"])
                prompt = self.template.render(instruction=instruction, input=pending.get("input", ""),
                                              history=history, system=system)
                # each turn's prompt repeats the history, so only the last one is trained: one sample per
                # conversation, prompt = everything before the final answer
                out = [(prompt, False), (turn["content"] + eos, True)]
                history.append((pending["content"], turn["content"]))
                pending = None
        return out


@dataclass
class TokenizedSample:
    input_ids: list[int]
    labels: list[int]

    @property
    def trained_tokens(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE_INDEX)


@dataclass
class PreparedSplit:
    samples: list[TokenizedSample] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {"split", "where", "reason", "detail"}
    read: int = 0

    def skipped_by_reason(self) -> Counter:
        return Counter(s["reason"] for s in self.skipped)


def tokenize_segments(tokenizer, segments: list[tuple[str, bool]], add_bos: bool) -> TokenizedSample:
    ids: list[int] = []
    labels: list[int] = []
    if add_bos and tokenizer.bos_token_id is not None:
        ids.append(tokenizer.bos_token_id)
        labels.append(IGNORE_INDEX)
    for text, trained in segments:
        if not text:
            continue
        piece = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids += piece
        labels += piece if trained else [IGNORE_INDEX] * len(piece)
    return TokenizedSample(ids, labels)


def prepare(records: list[Record], fmt, tokenizer, max_length: int, split: str) -> PreparedSplit:
    """Render, tokenise and mask every record; drop (and keep the reason for) those that cannot train."""
    out = PreparedSplit(read=len(records))

    def skip(rec: Record, reason: str, detail: str = "") -> None:
        out.skipped.append({"split": split, "where": rec.where, "reason": reason, "detail": detail})

    for rec in records:
        if rec.turns is None:
            reason, _, detail = rec.problem.partition(": ")
            skip(rec, reason, detail)
            continue
        answers = [t for t in rec.turns if t["role"] == "assistant"]
        if not answers or not answers[-1]["content"].strip():
            skip(rec, "empty_response", "no assistant turn with text")
            continue
        if not any(t["role"] == "user" and t["content"].strip() for t in rec.turns):
            skip(rec, "empty_prompt", "no user turn with text")
            continue
        try:
            segments = fmt.segments(rec.turns)
        except SampleRejected as exc:
            skip(rec, exc.reason, exc.detail)
            continue
        except Exception as exc:  # a chat template that raises (e.g. one that forbids a system turn)
            skip(rec, "chat_template_error", f"{type(exc).__name__}: {exc}"[:200])
            continue
        sample = tokenize_segments(tokenizer, segments, add_bos=fmt.add_bos)
        if len(sample.input_ids) > max_length:
            skip(rec, "too_long", f"{len(sample.input_ids)} tokens > max_length {max_length}")
            continue
        if sample.trained_tokens == 0:
            skip(rec, "empty_response", "the response has no tokens")
            continue
        out.samples.append(sample)
    return out


def corpus_texts(records: list[Record]) -> Iterator[str]:
    """All text of the records (for building a tokenizer in tests and benches)."""
    for rec in records:
        for t in rec.turns or []:
            yield t["content"]
