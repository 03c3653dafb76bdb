"""``builder train``: a LoRA adapter from the export, with the Hugging Face ``Trainer`` and ``peft``.

The HF Trainer owns the loop, the optimizer, the schedule, seeding and checkpoints (model, optimizer,
scheduler and RNG state every ``save_steps``); this module owns what is specific to the build: reading
the export, the prompt format and its loss mask, the guard that a resumed run has the same settings
and data, and the run report.

Run folder (``[train].output``, default ``<build output>/train``)::

    train_config.json      the exact config used (settings, base model, data files and hashes, versions)
    checkpoints/checkpoint-N/   resumable state; a rerun continues from the last complete one
    adapter/               the LoRA adapter (save_pretrained) and the tokenizer
    report/                README.md, loss.csv, loss.parquet, loss.svg, skipped.jsonl, summary.json
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ..config import BuildConfig
from ..errors import BuilderError
from ..shards import atomic_write_text
from . import data as train_data
from .report import loss_table, write_report

CHECKPOINT_PREFIX = "checkpoint-"
TRAINER_STATE = "trainer_state.json"  # the HF Trainer writes it last, so its presence marks a complete checkpoint
# settings that may change between a run and its resumption without changing what is trained
RESUMABLE_CHANGES = ("save_steps", "keep_checkpoints", "evaluate", "output", "cpu_threads")


@dataclass(frozen=True)
class TrainPlan:
    """What one ``builder train`` will do: settings after CLI overrides, and where things are."""

    build: BuildConfig
    settings: dict[str, Any]
    base_model: str
    run_dir: Path
    export_dir: Path
    seed: int

    @property
    def checkpoints_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    @property
    def adapter_dir(self) -> Path:
        return self.run_dir / "adapter"

    @property
    def report_dir(self) -> Path:
        return self.run_dir / "report"

    @property
    def config_path(self) -> Path:
        return self.run_dir / "train_config.json"


def plan(build: BuildConfig, base_model: str | None = None, output: str | os.PathLike | None = None,
         max_steps: int | None = None, export_dir: str | os.PathLike | None = None) -> TrainPlan:
    settings = json.loads(json.dumps(build.stage("train")))
    if max_steps is not None:
        if max_steps < 1:
            raise BuilderError(f"--max-steps must be at least 1, got {max_steps}")
        settings["max_steps"] = max_steps
    base = base_model or settings["base_model"]
    if not base:
        raise BuilderError(f"{build.path}: no base model: set [train].base_model or pass --base-model PATH_OR_ID")
    # a local folder is resolved against the config's folder; anything else is a Hub id
    local = build.resolve(base)
    if local.exists() or base.startswith((".", "/", "~")):
        base = str(local.resolve())
    settings["base_model"] = base
    if output:
        run_dir = Path(output).resolve()
    elif settings["output"]:
        run_dir = build.resolve(settings["output"]).resolve()
    else:
        run_dir = build.output / "train"
    settings["output"] = str(run_dir)
    exp = Path(export_dir).resolve() if export_dir else build.output / "export"
    seed = settings["seed"] if settings["seed"] is not None else int(build.settings["build"]["seed"])
    return TrainPlan(build, settings, base, run_dir, exp, seed)


# -- checkpoints ---------------------------------------------------------------------------------------

def _step_of(path: Path) -> int:
    try:
        return int(path.name[len(CHECKPOINT_PREFIX):])
    except ValueError:
        return -1


def last_complete_checkpoint(folder: Path) -> tuple[Path | None, list[Path]]:
    """The newest checkpoint whose trainer state was written (the last file the Trainer saves), and the
    incomplete ones a kill mid-save left behind."""
    if not folder.is_dir():
        return None, []
    found = sorted((p for p in folder.iterdir() if p.is_dir() and p.name.startswith(CHECKPOINT_PREFIX) and _step_of(p) >= 0),
                   key=_step_of)
    complete = [p for p in found if (p / TRAINER_STATE).is_file()]
    broken = [p for p in found if not (p / TRAINER_STATE).is_file()]
    return (complete[-1] if complete else None), broken


# -- helpers -------------------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    try:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return kb / 1024 if sys.platform != "darwin" else kb / (1024 * 1024)
    except ImportError:  # pragma: no cover - Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / (1 << 20)


def _write_json_atomic(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2))


def _fingerprint(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of the config that a resumed run must share with the run it continues."""
    settings = {k: v for k, v in config["settings"].items() if k not in RESUMABLE_CHANGES}
    return {"settings": settings, "seed": config["seed"], "data": config["data"], "prompt": config["prompt"]}


def _diff(old: Any, new: Any, path: str = "") -> str | None:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            d = _diff(old.get(k), new.get(k), f"{path}.{k}" if path else k)
            if d:
                return d
        return None
    return None if old == new else f"{path}: {json.dumps(old, ensure_ascii=False)[:60]} -> {json.dumps(new, ensure_ascii=False)[:60]}"


def batch_collator(tokenizer):
    """transformers' own collator: input ids padded with the pad token, labels with -100 (never trained),
    the attention mask with 0, on the tokenizer's padding side."""
    from transformers import DataCollatorForSeq2Seq

    return DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=train_data.IGNORE_INDEX, return_tensors="pt")


class SampleList:
    """A map-style dataset over tokenised samples (what the Trainer's DataLoader indexes)."""

    def __init__(self, samples: Sequence[train_data.TokenizedSample]):
        self.samples = list(samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        sample = self.samples[index]
        return {"input_ids": sample.input_ids, "labels": sample.labels}


def _progress_callback(progress, total: int):
    from transformers import TrainerCallback

    class RichProgress(TrainerCallback):
        """Steps and the latest loss on the CLI's progress bar (instead of the Trainer's printed dicts)."""

        def __init__(self):
            self.task = None

        def on_train_begin(self, args, state, control, **kw):
            if progress is not None:
                self.task = progress.add_task("train", total=state.max_steps or total, completed=state.global_step)

        def on_step_end(self, args, state, control, **kw):
            if self.task is not None:
                progress.update(self.task, completed=state.global_step)

        def on_log(self, args, state, control, logs=None, **kw):
            if self.task is not None and logs and "loss" in logs:
                progress.update(self.task, description=f"train (loss {logs['loss']:.4f})")

    return RichProgress()


def _pick_format(plan: TrainPlan, tokenizer):
    use = plan.settings["use_chat_template"]
    has = bool(getattr(tokenizer, "chat_template", None))
    if use is True and not has:
        raise BuilderError(f"{plan.base_model}: the tokenizer has no chat template ([train].use_chat_template = true); "
                           f"set it to \"auto\" to use the prompt template instead")
    if has and use in ("auto", True):
        return train_data.ChatTemplateFormat(tokenizer), {"format": "chat_template", "template_sha256": hashlib.sha256(
            str(tokenizer.chat_template).encode("utf-8")).hexdigest()}
    template, path = train_data.load_prompt_template(plan.settings["prompt_template"], plan.build.root)
    return train_data.PromptTemplateFormat(tokenizer, template), {
        "format": "prompt_template", "template": str(path),
        "template_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("builder", "torch", "transformers", "peft", "accelerate"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def train(plan: TrainPlan, restart: bool = False, console=None, progress=None,
          callbacks: Sequence[Any] = (), log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train (or resume) the LoRA adapter described by ``plan``; return the run summary.

    A run whose adapter is already complete with the same config and data is not redone (its summary
    is returned with ``up_to_date`` set); ``restart=True`` discards checkpoints and trains from step 0.
    """
    with warnings.catch_warnings():
        # deprecation notices that the libraries raise about each other's APIs are not the user's to fix
        warnings.filterwarnings("ignore", category=FutureWarning, module=_LIBRARIES)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=_LIBRARIES)
        return _train(plan, restart, console, progress, callbacks, log)


_LIBRARIES = r"(torch|transformers|peft|accelerate)(\.|$)"


def _train(plan: TrainPlan, restart: bool, console, progress, callbacks: Sequence[Any],
           log: Callable[[str], None] | None) -> dict[str, Any]:
    say = log or (lambda msg: console.print(msg, highlight=False) if console is not None else None)
    say = say or (lambda msg: None)
    started = time.time()

    # data first: a missing export fails before the model loads
    train_file = train_data.export_file(plan.export_dir, plan.settings["dataset"], "train")
    val_file = train_data.export_file(plan.export_dir, plan.settings["dataset"], "validation")
    train_records = train_data.read_export(plan.export_dir, plan.settings["dataset"], "train")
    val_records = train_data.read_export(plan.export_dir, plan.settings["dataset"], "validation", required=False)

    import torch
    import transformers
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    try:
        tokenizer = AutoTokenizer.from_pretrained(plan.base_model)
    except (OSError, ValueError) as exc:
        raise BuilderError(f"{plan.base_model}: cannot load the tokenizer: {str(exc).splitlines()[0]}") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    fmt, prompt_info = _pick_format(plan, tokenizer)

    max_length = plan.settings["max_length"]
    prepared = train_data.prepare(train_records, fmt, tokenizer, max_length, "train")
    prepared_val = train_data.prepare(val_records, fmt, tokenizer, max_length, "validation")
    skipped = prepared.skipped + prepared_val.skipped
    if not prepared.samples:
        reasons = ", ".join(f"{r} {n}" for r, n in prepared.skipped_by_reason().most_common()) or "the file is empty"
        raise BuilderError(f"{train_file}: no sample can be trained on ({prepared.read} read; skipped: {reasons})")

    config = {
        "build": plan.build.settings["build"]["name"],
        "build_config": str(plan.build.path),
        "settings": plan.settings,
        "seed": plan.seed,
        "data": {"train": {"file": str(train_file), "sha256": sha256_file(train_file)},
                 "validation": {"file": str(val_file), "sha256": sha256_file(val_file)} if val_file.is_file() else None},
        "prompt": prompt_info,
        "versions": _versions(),
    }

    # resume guard: same settings and data as the checkpoints, else say how to start over
    if restart:
        for sub in (plan.checkpoints_dir, plan.adapter_dir, plan.report_dir):
            shutil.rmtree(sub, ignore_errors=True)
    checkpoint, broken = last_complete_checkpoint(plan.checkpoints_dir)
    if plan.config_path.is_file() and (checkpoint or plan.adapter_dir.is_dir()):
        old = json.loads(plan.config_path.read_text(encoding="utf-8"))
        change = _diff(_fingerprint(old), _fingerprint(config))
        if change:
            raise BuilderError(f"{plan.run_dir}: holds a run with other settings or data ({change}); "
                               f"pass --restart to discard it, or --output for a new folder")
        summary_path = plan.report_dir / "summary.json"
        if plan.adapter_dir.is_dir() and summary_path.is_file():
            done = json.loads(summary_path.read_text(encoding="utf-8"))
            if done.get("complete"):
                say(f"up to date: adapter in {plan.adapter_dir} ({done['global_step']} steps); pass --restart to train again")
                return {**done, "up_to_date": True}
    for incomplete in broken:  # a kill during a save leaves a checkpoint without its trainer state
        say(f"removing incomplete checkpoint {incomplete.name} (the run was stopped while saving it)")
        shutil.rmtree(incomplete, ignore_errors=True)
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    _write_json_atomic(plan.config_path, config)

    # model
    cuda = torch.cuda.is_available()
    if plan.settings["cpu_threads"]:
        torch.set_num_threads(plan.settings["cpu_threads"])
    precision = plan.settings["precision"]
    if precision == "auto":
        precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
    if precision in ("bf16", "fp16") and not cuda:
        raise BuilderError(f"[train].precision = {precision!r} needs a GPU; use \"auto\" or \"fp32\" on the CPU")
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float32}[precision]
    transformers.set_seed(plan.seed)
    try:
        model = AutoModelForCausalLM.from_pretrained(plan.base_model, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise BuilderError(f"{plan.base_model}: cannot load the base model: {str(exc).splitlines()[0]}") from None
    lora = plan.settings["lora"]
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    missing = [m for m in lora["target_modules"] if m not in names]
    if missing:
        linear = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)})
        raise BuilderError(f"{plan.base_model}: no module named {', '.join(missing)} ([train.lora].target_modules); "
                           f"this model's linear layers are: {', '.join(linear)}")
    model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", r=lora["r"], lora_alpha=lora["alpha"],
                                             lora_dropout=lora["dropout"], target_modules=list(lora["target_modules"])))
    trainable, total = model.get_nb_trainable_parameters()

    settings = plan.settings
    args = TrainingArguments(
        output_dir=str(plan.checkpoints_dir),
        per_device_train_batch_size=settings["batch_size"], per_device_eval_batch_size=settings["batch_size"],
        gradient_accumulation_steps=settings["gradient_accumulation"], learning_rate=settings["learning_rate"],
        num_train_epochs=float(settings["epochs"]), max_steps=settings["max_steps"] or -1,
        lr_scheduler_type=settings["lr_scheduler"], warmup_steps=settings["warmup_steps"],
        logging_strategy="steps", logging_steps=1, save_strategy="steps", save_steps=settings["save_steps"],
        save_total_limit=settings["keep_checkpoints"], seed=plan.seed, data_seed=plan.seed,
        bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=not cuda,
        report_to="none", disable_tqdm=True, remove_unused_columns=False, dataloader_num_workers=0,
        include_num_input_tokens_seen="non_padding", eval_strategy="no", do_train=True,
    )
    trainer = Trainer(model=model, args=args, data_collator=batch_collator(tokenizer),
                      train_dataset=SampleList(prepared.samples),
                      eval_dataset=SampleList(prepared_val.samples) if prepared_val.samples else None,
                      processing_class=tokenizer, callbacks=[_progress_callback(progress, settings["max_steps"]), *callbacks])
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)

    resumed_from = str(checkpoint) if checkpoint else None
    resumed_step = _step_of(checkpoint) if checkpoint else 0
    say(f"resuming from {checkpoint.name} (step {resumed_step})" if checkpoint else
        f"training {plan.base_model} on {len(prepared.samples)} samples ({fmt.name}); "
        f"{len(prepared.skipped)} skipped")
    # the validation loss of the base model (the adapter starts as a no-op), to compare with the end
    eval_before = None
    before_path = plan.run_dir / "eval_before.json"
    if settings["evaluate"] and prepared_val.samples:
        if checkpoint and before_path.is_file():
            eval_before = json.loads(before_path.read_text(encoding="utf-8"))["eval_loss"]
        elif not checkpoint:
            eval_before = float(trainer.evaluate()["eval_loss"])
            _write_json_atomic(before_path, {"eval_loss": eval_before})
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=resumed_from)
    train_s = time.time() - t0

    eval_loss = None
    if settings["evaluate"] and prepared_val.samples:
        eval_loss = float(trainer.evaluate()["eval_loss"])

    # the adapter, written beside and swapped in, so a kill here leaves the old one or none
    tmp = plan.run_dir / "adapter.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(plan.adapter_dir, ignore_errors=True)
    os.replace(tmp, plan.adapter_dir)

    table = loss_table(trainer.state.log_history)
    steps_this_run = trainer.state.global_step - resumed_step
    first = table.row(0, named=True) if table.height else None
    last = table.row(-1, named=True) if table.height else None
    summary = {
        "complete": trainer.state.global_step >= trainer.state.max_steps,
        "build_name": config["build"],
        "base_model": plan.base_model,
        "dataset": settings["dataset"], "train_file": str(train_file),
        "prompt_format": prompt_info["format"] + (f" ({Path(prompt_info['template']).name})" if "template" in prompt_info else ""),
        "samples_read": prepared.read, "samples_train": len(prepared.samples), "samples_skipped": len(prepared.skipped),
        "samples_validation": len(prepared_val.samples),
        "skipped_by_reason": dict(prepared.skipped_by_reason()),
        "skipped_validation_by_reason": dict(prepared_val.skipped_by_reason()),
        "global_step": trainer.state.global_step, "max_steps": trainer.state.max_steps,
        "epochs_done": float(trainer.state.epoch or 0.0),
        "resumed_from": resumed_from, "resumed_from_step": resumed_step,
        "first_step": first["step"] if first else None, "first_loss": first["loss"] if first else None,
        "last_step": last["step"] if last else None, "last_loss": last["loss"] if last else None,
        "train_loss_this_run": float(result.training_loss) if not math.isnan(result.training_loss) else None,
        "eval_loss_before": eval_before, "eval_loss": eval_loss,
        "tokens_seen": int(trainer.state.num_input_tokens_seen),
        "tokens_trained_per_epoch": sum(sample.trained_tokens for sample in prepared.samples),
        "wall_s": round(time.time() - started, 2), "train_s": round(train_s, 2),
        "steps_this_run": steps_this_run, "steps_per_s": round(steps_this_run / train_s, 3) if train_s > 0 else 0.0,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / (1 << 20), 1) if cuda else None,
        "trainable_params": int(trainable), "total_params": int(total),
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "precision": precision,
        "adapter_dir": str(plan.adapter_dir), "run_dir": str(plan.run_dir),
    }
    write_report(plan.report_dir, summary, table, skipped)
    return summary
