"""builder train: LoRA on the export with a tiny Llama built here (no download, CPU only).

The training tests run the real demo pipeline into a temporary output (``builder run all --output``),
build a tiny Llama-architecture model and a byte-level BPE tokenizer from the demo texts, and train on
the demo export through the CLI. They need the [train] extra and are marked ``slow`` and ``train``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpora" / "demo"
DEMO_TEXT_DIRS = ("news", "selfmedia", "feature", "commentary", "interview")  # utf-8 prose (gbk/, junk/ left out)
# LoRA on every linear layer: a 64-wide model has too little in q/v alone for a few steps to show
TINY_LORA = '["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]'


def _need_train_extra():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("peft")
    pytest.importorskip("accelerate")
    return torch


def demo_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for d in DEMO_TEXT_DIRS for p in sorted((DEMO / d).iterdir()) if p.is_file()]


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory) -> Path:
    """The demo build run through every stage into a temporary output: its export is what we train on."""
    out = tmp_path_factory.mktemp("demo-build")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "HF_TOKEN", "BUILDER_CONFIG")}
    proc = subprocess.run([sys.executable, "-m", "builder.cli", "run", "all", "-c", str(DEMO / "build.toml"), "--output", str(out)],
                          capture_output=True, text=True, timeout=240, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "export" / "llamafactory" / "alpaca_train.json").is_file()
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    torch = _need_train_extra()
    torch.set_num_threads(1)  # 2 shared cores: one thread avoids OpenMP contention (10x faster here)
    from builder.train.tiny import build_tiny_llama

    return build_tiny_llama(demo_texts(), tmp_path_factory.mktemp("tiny") / "llama", vocab_size=1024, pretrain_steps=100)


def write_config(folder: Path, build_output: Path, base_model: Path, run_dir: Path, **train) -> Path:
    settings = {"base_model": str(base_model), "output": str(run_dir), "max_length": 160, "batch_size": 4,
                "gradient_accumulation": 1, "learning_rate": 0.01, "save_steps": 5, "cpu_threads": 1, **train}
    lines = ["[build]", 'name = "demo"', f"output = {json.dumps(str(build_output))}", "[train]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    lines += ["[train.lora]", "r = 16", f"target_modules = {TINY_LORA}"]
    path = folder / "train.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "report" / "summary.json").read_text(encoding="utf-8"))


def loss_column(run_dir: Path) -> tuple[list[int], list[float]]:
    import polars as pl

    table = pl.read_csv(run_dir / "report" / "loss.csv")
    return table["step"].to_list(), table["loss"].to_list()


# -- without the extra ---------------------------------------------------------------------------------

def test_without_the_extra_says_how_to_install_in_one_line(cli, tmp_path, monkeypatch):
    import builder.train

    monkeypatch.setattr(builder.train, "missing_packages", lambda: ["torch", "peft"])
    cfg = tmp_path / "build.toml"
    cfg.write_text('[build]\nname = "x"\n', encoding="utf-8")
    res = cli("train", "-c", cfg)
    assert res.code == 1
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and "pip install 'builder[train]'" in lines[0] and "torch, peft" in lines[0], res


# -- formatting and masking (tokenizer only) ---------------------------------------------------------

@pytest.mark.train
def test_prompt_is_masked_response_trained_and_long_samples_dropped(tmp_path):
    _need_train_extra()
    from builder.train import data as D
    from builder.train.tiny import build_tokenizer

    tok = build_tokenizer(demo_texts()[:10], vocab_size=600)
    lf = tmp_path / "export" / "llamafactory"
    lf.mkdir(parents=True)
    items = [
        {"instruction": "为这段新闻拟一个标题。", "input": "青川市交通运输局发布通告，自4月1日起调整12条公交线路。", "output": "青川调整12条公交线路"},
        {"instruction": "用一句话概括。", "input": "", "output": "长" * 400},  # over max_length
        {"instruction": "概括", "input": "正文", "output": "   "},  # nothing to learn
        {"instruction": "缺了输出"},  # malformed
    ]
    (lf / "alpaca_train.json").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    records = D.read_export(tmp_path / "export", "alpaca", "train")
    template, _ = D.load_prompt_template("alpaca")
    fmt = D.PromptTemplateFormat(tok, template)
    prepared = D.prepare(records, fmt, tok, max_length=200, split="train")

    assert len(prepared.samples) == 1
    reasons = {s["where"]: s["reason"] for s in prepared.skipped}
    assert reasons == {"alpaca_train.json:1": "too_long", "alpaca_train.json:2": "empty_response", "alpaca_train.json:3": "bad_record"}
    assert "> max_length 200" in prepared.skipped[0]["detail"]

    sample = prepared.samples[0]
    assert sample.input_ids[0] == tok.bos_token_id
    trained = [i for i, lab in zip(sample.input_ids, sample.labels) if lab != D.IGNORE_INDEX]
    first = sample.labels.index(next(lab for lab in sample.labels if lab != D.IGNORE_INDEX))
    # everything before the response is masked, everything from it on is trained: exactly the answer + eos
    assert all(lab == D.IGNORE_INDEX for lab in sample.labels[:first])
    assert tok.decode(trained) == "青川调整12条公交线路" + tok.eos_token
    prompt = tok.decode(sample.input_ids[1:first])
    assert prompt.endswith("### 回答：\n") and "### 输入：\n青川市交通运输局" in prompt


@pytest.mark.train
def test_chat_template_masks_every_user_turn_and_trains_every_assistant_turn(tmp_path):
    _need_train_extra()
    from builder.train import data as D
    from builder.train.tiny import build_tokenizer

    tok = build_tokenizer(demo_texts()[:10], vocab_size=600, chat_template=True)
    trl = tmp_path / "export" / "trl"
    trl.mkdir(parents=True)
    conv = {"messages": [{"role": "system", "content": "你是新闻编辑。"}, {"role": "user", "content": "这篇稿件是什么体裁？"},
                         {"role": "assistant", "content": "消息"}, {"role": "user", "content": "为什么？"},
                         {"role": "assistant", "content": "有导语和电头。"}]}
    lines = [json.dumps(conv, ensure_ascii=False), "{not json", json.dumps({"messages": [{"role": "bot", "content": "x"}]})]
    (trl / "messages_train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = D.read_export(tmp_path / "export", "messages", "train")
    prepared = D.prepare(records, D.ChatTemplateFormat(tok), tok, max_length=512, split="train")
    assert [s["reason"] for s in prepared.skipped] == ["bad_record", "bad_record"]
    assert [s["where"] for s in prepared.skipped] == ["messages_train.jsonl:2", "messages_train.jsonl:3"]
    sample = prepared.samples[0]
    full = tok.decode(sample.input_ids)
    assert full == tok.apply_chat_template(conv["messages"], tokenize=False)
    trained = tok.decode([i for i, lab in zip(sample.input_ids, sample.labels) if lab != D.IGNORE_INDEX])
    assert trained == "消息<|im_end|>\n有导语和电头。<|im_end|>\n"
    # token by token: the ids are the chat template's own, and a label is its token's id exactly where the
    # token lies inside an assistant reply (with its end mark), -100 everywhere else
    assert sample.input_ids == tok.apply_chat_template(conv["messages"], tokenize=True, return_dict=False)
    spans = []
    for reply in ("消息<|im_end|>\n", "有导语和电头。<|im_end|>\n"):
        start = full.index(reply, spans[-1][1] if spans else 0)
        spans.append((start, start + len(reply)))
    enc = tok(full, add_special_tokens=False, return_offsets_mapping=True)
    assert enc["input_ids"] == sample.input_ids
    expected = [tid if any(a <= lo and hi <= b for a, b in spans) else D.IGNORE_INDEX
                for tid, (lo, hi) in zip(enc["input_ids"], enc["offset_mapping"])]
    assert sample.labels == expected and sum(lab != D.IGNORE_INDEX for lab in expected) >= 4


@pytest.mark.train
def test_batches_pad_ids_with_the_pad_token_labels_with_ignore_index_and_mask_with_zero():
    _need_train_extra()
    from builder.train import data as D
    from builder.train.tiny import build_tokenizer
    from builder.train.trainer import batch_collator

    tok = build_tokenizer(demo_texts()[:10], vocab_size=600)
    batch = batch_collator(tok)([{"input_ids": [5, 6, 7, 8], "labels": [-100, -100, 7, 8]},
                                 {"input_ids": [9, 10], "labels": [-100, 10]}])
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8], [9, 10, tok.pad_token_id, tok.pad_token_id]]
    assert batch["labels"].tolist() == [[-100, -100, 7, 8], [-100, 10, D.IGNORE_INDEX, D.IGNORE_INDEX]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]


# -- training ----------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.train
@pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")  # peft calls it on load
def test_trains_on_the_demo_export_loss_falls_and_the_adapter_generates(cli, demo_output, tiny_model, tmp_path):
    run_dir = tmp_path / "run"
    # 320 tokens: enough of the demo export fits (15+ validation samples) for the validation loss to be a measure;
    # at 160 only 15 and 5 fit, and which ones depends on which sub-categories the export has (at 288, 14 once the
    # writing tasks gave their material in full sentences)
    cfg = write_config(tmp_path, demo_output, tiny_model, run_dir, max_length=320)
    res = cli("train", "-c", cfg, "--max-steps", "80")  # at 288 tokens 40 steps moved the losses too little to tell
    assert res.code == 0, res
    assert "adapter:" in res.out

    s = read_summary(run_dir)
    assert s["complete"] and s["global_step"] == 80 and s["resumed_from_step"] == 0
    assert s["prompt_format"] == "prompt_template (alpaca.txt)"
    # over-long samples are dropped and counted, and every skipped one is listed with its reason
    assert s["skipped_by_reason"]["too_long"] > 0
    assert s["samples_train"] + s["samples_skipped"] == s["samples_read"] == len(
        json.loads((demo_output / "export/llamafactory/alpaca_train.json").read_text(encoding="utf-8")))
    skipped = [json.loads(x) for x in (run_dir / "report" / "skipped.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len([x for x in skipped if x["split"] == "train"]) == s["samples_skipped"]
    assert all(x["reason"] and x["where"].startswith("alpaca_") for x in skipped)

    # the loss falls: on the fixed validation set, and along the training steps
    assert s["samples_validation"] >= 15
    assert s["eval_loss"] < s["eval_loss_before"] - 0.01, (s["eval_loss_before"], s["eval_loss"])
    steps, losses = loss_column(run_dir)
    assert steps == list(range(1, 81))
    # the first and the last quarter of the steps (twenty each: one step's loss is one small batch, too noisy to
    # compare eight against eight once the export's items change)
    first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
    assert last < first - 0.02, (first, last, losses)
    assert s["tokens_seen"] > 0 and s["wall_s"] > 0 and s["steps_per_s"] > 0 and s["peak_rss_mb"] > 0

    # the report: table, plot, the exact config used
    readme = (run_dir / "report" / "README.md").read_text(encoding="utf-8")
    assert "![training loss](loss.svg)" in readme and "| too_long |" in readme
    svg = ET.fromstring((run_dir / "report" / "loss.svg").read_text(encoding="utf-8"))
    assert svg.find("{http://www.w3.org/2000/svg}polyline") is not None
    used = json.loads((run_dir / "train_config.json").read_text(encoding="utf-8"))
    assert used["settings"]["lora"] == {"r": 16, "alpha": 32, "dropout": 0.1, "target_modules": json.loads(TINY_LORA)}
    assert used["settings"]["max_steps"] == 80 and used["seed"] == 42 and len(used["data"]["train"]["sha256"]) == 64

    # the adapter loads with PeftModel, changes the model, and the loaded model generates
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(run_dir / "adapter")
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    ids = tok("以下是描述任务的指令。请写出恰当完成该请求的回答。\n\n### 指令：\n这是一篇什么体裁的稿件？\n\n### 回答：\n",
              return_tensors="pt")
    with torch.no_grad():
        base_logits = base(**ids).logits
    model = PeftModel.from_pretrained(base, run_dir / "adapter")
    model.eval()
    with torch.no_grad():
        tuned_logits = model(**ids).logits
        out = model.generate(**ids, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
    assert not torch.allclose(base_logits, tuned_logits)
    assert out.shape[1] > ids["input_ids"].shape[1]
    text = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert text.strip() and "###" not in text[:3]  # it generates words, not the prompt's section markers


@pytest.mark.slow
@pytest.mark.train
def test_a_killed_run_resumes_from_its_last_checkpoint(cli, demo_output, tiny_model, tmp_path):
    run_dir = tmp_path / "run"
    cfg = write_config(tmp_path, demo_output, tiny_model, run_dir, save_steps=4, evaluate=False)
    env = {k: v for k, v in os.environ.items() if k != "BUILDER_CONFIG"}
    proc = subprocess.Popen([sys.executable, "-m", "builder.cli", "train", "-c", str(cfg), "--max-steps", "60"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    target = run_dir / "checkpoints" / "checkpoint-8" / "trainer_state.json"
    deadline = time.time() + 120
    while not target.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "the first run ended before it could be killed"
    assert not (run_dir / "adapter").exists()
    killed_at = max(int(p.name.split("-")[1]) for p in (run_dir / "checkpoints").glob("checkpoint-*")
                    if (p / "trainer_state.json").is_file())
    assert 8 <= killed_at < 60

    res = cli("train", "-c", cfg, "--max-steps", "60")
    assert res.code == 0, res
    assert f"resuming from checkpoint-{killed_at}" in res.out
    s = read_summary(run_dir)
    assert s["resumed_from_step"] == killed_at and s["steps_this_run"] == 60 - killed_at and s["global_step"] == 60
    steps, _ = loss_column(run_dir)
    assert steps == list(range(1, 61))  # the steps before the checkpoint come from its state, none twice

    # done means done: the same command does not train again ...
    res = cli("train", "-c", cfg, "--max-steps", "60")
    assert res.code == 0 and "up to date" in res.out, res
    # ... and a run folder with other settings is not silently continued
    res = cli("train", "-c", cfg, "--max-steps", "300")
    assert res.code == 1 and "max_steps: 60 -> 300" in res.err and "--restart" in res.err, res


@pytest.mark.slow
@pytest.mark.train
def test_messages_export_with_a_chat_template(cli, demo_output, tiny_model, tmp_path):
    import shutil

    from transformers import AutoTokenizer

    from builder.train.tiny import CHATML_TEMPLATE

    chat_model = tmp_path / "chat-llama"
    shutil.copytree(tiny_model, chat_model)
    tok = AutoTokenizer.from_pretrained(chat_model)
    tok.chat_template = CHATML_TEMPLATE
    tok.save_pretrained(chat_model)

    run_dir = tmp_path / "run"
    cfg = write_config(tmp_path, demo_output, chat_model, run_dir, dataset="messages", max_length=200)
    res = cli("train", "-c", cfg, "--max-steps", "3")
    assert res.code == 0, res
    s = read_summary(run_dir)
    assert s["prompt_format"] == "chat_template" and s["train_file"].endswith("trl/messages_train.jsonl")
    assert s["global_step"] == 3 and s["samples_train"] > 0

    # use_chat_template = false falls back to the alpaca prompt even though the tokenizer has a template
    cfg = write_config(tmp_path, demo_output, chat_model, tmp_path / "run2", dataset="messages", max_length=200,
                       use_chat_template=False)
    res = cli("train", "-c", cfg, "--max-steps", "1")
    assert res.code == 0, res
    assert read_summary(tmp_path / "run2")["prompt_format"] == "prompt_template (alpaca.txt)"


@pytest.mark.train
def test_bad_settings_are_one_line_errors(cli, tmp_path):
    _need_train_extra()
    cfg = tmp_path / "build.toml"
    cfg.write_text(f'[build]\nname = "x"\noutput = {json.dumps(str(tmp_path / "out"))}\n', encoding="utf-8")
    res = cli("train", "-c", cfg)
    assert res.code == 1 and "no base model" in res.err and "--base-model" in res.err, res
    assert len(res.err.strip().splitlines()) == 1
    res = cli("train", "-c", cfg, "--base-model", str(tmp_path / "nowhere"))
    assert res.code == 1 and "alpaca_train.json: no alpaca train file in the export" in res.err, res
    assert len(res.err.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.train
def test_the_exported_trl_script_trains_on_prompt_completion_files_on_cpu(demo_output, tiny_model, tmp_path):
    pytest.importorskip("trl")
    import shutil

    from transformers import AutoTokenizer

    from builder.train.tiny import CHATML_TEMPLATE

    chat_model = tmp_path / "chat-llama"
    shutil.copytree(tiny_model, chat_model)
    tok = AutoTokenizer.from_pretrained(chat_model)
    tok.chat_template = CHATML_TEMPLATE  # conversational prompt-completion rows need one
    tok.save_pretrained(chat_model)
    trl_dir = tmp_path / "trl"
    shutil.copytree(demo_output / "export" / "trl", trl_dir)
    script = (trl_dir / "sft_trl.py").read_text(encoding="utf-8")
    assert "prompt_completion_train.jsonl" in script and "messages_train.jsonl" not in script
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "sft_trl.py", "--model", str(chat_model), "--max-steps", "3", "--max-length", "256",
                           "--output-dir", str(tmp_path / "saves")], cwd=trl_dir, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = json.loads(next((tmp_path / "saves").rglob("trainer_state.json")).read_text(encoding="utf-8"))
    assert state["global_step"] == 3
    assert (tmp_path / "saves" / "adapter_config.json").is_file()  # a LoRA adapter, not a full model
