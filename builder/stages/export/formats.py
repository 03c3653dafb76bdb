"""Writers for the hand-off formats: the Hub's Parquet layout, LLaMA-Factory and TRL.

Every writer takes the final items (INSTRUCTION_SCHEMA dicts, each with its split) and a folder, and
returns the files it wrote. Ready-to-run configs are rendered from templates in ``prompts/export/``.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from ...resources import prompts_dir
from ...shards import FAMILIES, atomic_write_text

SPLITS = ("train", "validation")
DEFAULT_CONFIG = "default"

# the columns of the published Parquet files (the split is the file's place, not a column)
HUB_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("instruction", pa.string()),
    ("input", pa.string()),
    ("output", pa.string()),
    ("family", pa.string()),
    ("subcategory", pa.string()),
    ("template_id", pa.string()),
    ("phrasing_id", pa.int64()),
    ("source_id", pa.string()),
    ("origin", pa.string()),
    ("meta", pa.string()),
])

# rows per Parquet row group: items made from one article repeat its text, and the dictionary encoding of a
# large row group stores it once (1,000-row groups made the files 5x larger); 10,000 rows keep a group in
# the tens of MB the Hub's dataset viewer reads comfortably
ROW_GROUP_ROWS = 10_000

# LoRA defaults in the spirit of the seed's second work; [train] settings override them
LORA_DEFAULTS = {"rank": 8, "alpha": 32, "dropout": 0.1, "target": ["q_proj", "v_proj"],
                 "base_model": "Qwen/Qwen2.5-0.5B-Instruct", "learning_rate": 1e-4, "epochs": 3, "batch_size": 1,
                 "gradient_accumulation": 8, "max_length": 2048}
_LORA_KEYS = {
    "rank": ("lora_rank", "lora_r", "rank", "r"),
    "alpha": ("lora_alpha", "alpha"),
    "dropout": ("lora_dropout", "dropout"),
    "target": ("lora_target", "target_modules", "lora_target_modules", "target"),
    "base_model": ("base_model", "model", "model_name_or_path"),
    "learning_rate": ("learning_rate",),
    "epochs": ("epochs", "num_train_epochs"),
    "batch_size": ("batch_size", "per_device_train_batch_size"),
    "gradient_accumulation": ("gradient_accumulation", "gradient_accumulation_steps"),
    "max_length": ("max_length", "cutoff_len"),
}


def prompt_of(item: Mapping[str, Any]) -> str:
    """The user turn: the instruction, then the input after a blank line when there is one."""
    instruction, given = item.get("instruction") or "", item.get("input") or ""
    return f"{instruction}\n\n{given}" if given else instruction


def config_name(family: str) -> str:
    return FAMILIES.get(family, re.sub(r"[^a-z0-9_]+", "_", family.lower()).strip("_") or "other")


def split_items(items: list[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    return {s: [it for it in items if it.get("split") == s] for s in SPLITS}


# -- Hub layout --------------------------------------------------------------------------------------
def hub_configs(items: list[Mapping[str, Any]]) -> dict[str, str | None]:
    """config -> the family it holds: 'default' (None: everything), then one per family present, in FAMILIES order."""
    present = {it["family"] for it in items}
    configs: dict[str, str | None] = {DEFAULT_CONFIG: None}
    for family in list(FAMILIES) + sorted(present - set(FAMILIES)):
        if family in present:
            configs[config_name(family)] = family
    return configs


def write_hub(items: list[Mapping[str, Any]], folder: Path, shard_rows: int) -> list[dict[str, Any]]:
    """``data/<config>/<split>-0000i-of-0000N.parquet``; a split without rows gets no file.

    Returns one row per (config, split): the files, rows and bytes, for the card and the report.
    """
    import pyarrow.compute as pc

    table = pa.Table.from_pydict({c: [it.get(c) for it in items] for c in HUB_SCHEMA.names}, schema=HUB_SCHEMA)
    splits_col = pa.array([it.get("split") for it in items], pa.string())
    written = []
    for config, family in hub_configs(items).items():
        in_config = pa.array([True] * len(items), pa.bool_()) if family is None else pc.equal(table["family"], family)
        for split in SPLITS:
            part = table.filter(pc.and_(in_config, pc.equal(splits_col, split)))
            if not part.num_rows:
                written.append({"config": config, "split": split, "rows": 0, "files": [], "bytes": 0})
                continue
            n = max(1, math.ceil(part.num_rows / shard_rows))
            files = []
            for k in range(n):
                path = folder / "data" / config / f"{split}-{k:05d}-of-{n:05d}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(part.slice(k * shard_rows, shard_rows), path, compression="zstd", row_group_size=ROW_GROUP_ROWS)
                files.append(path)
            written.append({"config": config, "split": split, "rows": part.num_rows,
                            "files": [str(f.relative_to(folder)) for f in files],
                            "bytes": sum(f.stat().st_size for f in files)})
    return written


# -- LLaMA-Factory ------------------------------------------------------------------------------------
def _write_json(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=1) + "\n")
    return path


def _write_jsonl(path: Path, rows: Iterable[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def alpaca_row(item: Mapping[str, Any], system: str | None) -> dict[str, str]:
    row = {"instruction": item["instruction"], "input": item.get("input") or "", "output": item["output"]}
    if system:
        row["system"] = system
    return row


def sharegpt_row(item: Mapping[str, Any], system: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"conversations": [{"from": "human", "value": prompt_of(item)}, {"from": "gpt", "value": item["output"]}]}
    if system:
        row["system"] = system
    return row


def dataset_info(name: str, system: str | None) -> dict[str, Any]:
    """LLaMA-Factory's dataset_info.json: alpaca and sharegpt entries for train and validation."""
    info: dict[str, Any] = {}
    for split in SPLITS:
        suffix = "" if split == "train" else "_validation"
        alpaca_cols = {"prompt": "instruction", "query": "input", "response": "output"}
        share_cols = {"messages": "conversations"}
        if system:
            alpaca_cols["system"] = share_cols["system"] = "system"
        info[f"{name}_alpaca{suffix}"] = {"file_name": f"alpaca_{split}.json", "columns": alpaca_cols}
        info[f"{name}_sharegpt{suffix}"] = {
            "file_name": f"sharegpt_{split}.jsonl", "formatting": "sharegpt", "columns": share_cols,
            "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"},
        }
    return info


def lora_settings(train: Mapping[str, Any]) -> dict[str, Any]:
    """LoRA rank, alpha, dropout, target modules, base model and the main training settings: the [train]
    (or [train.lora]) keys when set, else the defaults."""
    scopes = [train.get("lora") if isinstance(train.get("lora"), Mapping) else {}, train]
    out = dict(LORA_DEFAULTS)
    for key, names in _LORA_KEYS.items():
        for scope in scopes:
            hit = next((scope[n] for n in names if scope.get(n) not in (None, "")), None)
            if hit is not None:
                out[key] = hit
                break
    out["learning_rate"] = f"{float(out['learning_rate']):.1e}"  # a float in YAML 1.1 needs the dot: 1.0e-04
    if isinstance(out["target"], str):
        out["target"] = [t.strip() for t in out["target"].split(",") if t.strip()]
    return out


def chat_template_name(base_model: str) -> str:
    """LLaMA-Factory's ``template`` for a base model id (its README's table, most common families)."""
    m = base_model.lower()
    for needle, name in (("qwen3", "qwen3"), ("qwen", "qwen"), ("llama-3", "llama3"), ("llama3", "llama3"),
                         ("chatglm", "chatglm3"), ("glm-4", "glm4"), ("baichuan2", "baichuan2"), ("yi-", "yi"),
                         ("deepseek", "deepseek3"), ("internlm", "intern2"), ("mistral", "mistral"), ("gemma", "gemma")):
        if needle in m:
            return name
    return "default"


def _render(template_file: str, **values: Any) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(prompts_dir() / "export")), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters["tojson_u"] = lambda v: json.dumps(v, ensure_ascii=False)
    return env.get_template(template_file).render(**values)


def write_llamafactory(items: list[Mapping[str, Any]], folder: Path, name: str, system: str | None,
                       train: Mapping[str, Any]) -> list[Path]:
    """alpaca JSON, sharegpt JSONL, dataset_info.json and a LoRA SFT YAML that reads them from its own folder."""
    files = []
    for split, rows in split_items(items).items():
        files.append(_write_json(folder / f"alpaca_{split}.json", [alpaca_row(it, system) for it in rows]))
        files.append(_write_jsonl(folder / f"sharegpt_{split}.jsonl", (sharegpt_row(it, system) for it in rows)))
    files.append(_write_json(folder / "dataset_info.json", dataset_info(name, system)))
    lora = lora_settings(train)
    has_validation = any(it.get("split") == "validation" for it in items)
    text = _render("lora_sft.yaml.j2", name=name, lora=lora,
                   template=chat_template_name(str(lora["base_model"])), has_validation=has_validation)
    path = folder / "lora_sft.yaml"
    atomic_write_text(path, text)
    files.append(path)
    return files


# -- TRL ----------------------------------------------------------------------------------------------
def messages_row(item: Mapping[str, Any], system: str | None) -> dict[str, Any]:
    msgs = [{"role": "system", "content": system}] if system else []
    msgs += [{"role": "user", "content": prompt_of(item)}, {"role": "assistant", "content": item["output"]}]
    return {"messages": msgs}


def prompt_completion_row(item: Mapping[str, Any], system: str | None) -> dict[str, Any]:
    prompt = [{"role": "system", "content": system}] if system else []
    prompt.append({"role": "user", "content": prompt_of(item)})
    return {"prompt": prompt, "completion": [{"role": "assistant", "content": item["output"]}]}


def write_trl(items: list[Mapping[str, Any]], folder: Path, name: str, system: str | None, train: Mapping[str, Any]) -> list[Path]:
    """Conversational ``messages`` and prompt-completion JSONL, and an SFTTrainer script beside them."""
    files = []
    for split, rows in split_items(items).items():
        files.append(_write_jsonl(folder / f"messages_{split}.jsonl", (messages_row(it, system) for it in rows)))
        files.append(_write_jsonl(folder / f"prompt_completion_{split}.jsonl", (prompt_completion_row(it, system) for it in rows)))
    path = folder / "sft_trl.py"
    atomic_write_text(path, _render("sft_trl.py.j2", lora=lora_settings(train), name=name))
    files.append(path)
    return files
