"""Steps/s and peak memory of the test-size LoRA run on the CPU: `builder train` vs TRL's SFTTrainer.

Both train the same tiny Llama (built from the demo texts, as in tests/test_train.py) with the same LoRA
(r 16, alpha 32, every linear layer), batch 4, lr 1e-2, max length 160, a checkpoint every 5 steps, on
the same samples of the demo export (the alpaca rows that fit in 160 tokens, rendered with
prompts/train/alpaca.txt; the prompt is masked in both). Each contender runs in its own process so its
peak RSS is its own. TRL is the peer a user would pick instead (pip install trl).

    python bench/train_cpu.py [--steps 40] [--threads 1] [--repeat 2]

Writes bench/out/train_cpu/results.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "train_cpu"
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def prepare(threads: int) -> tuple[Path, Path]:
    """The demo export (built once) and the tiny model (built once)."""
    build_out = OUT / "demo"
    if not (build_out / "export" / "llamafactory" / "alpaca_train.json").is_file():
        subprocess.run([sys.executable, "-m", "builder.cli", "run", "all", "-c", str(ROOT / "corpora/demo/build.toml"),
                        "--output", str(build_out)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    model = OUT / "tiny-llama"
    if not (model / "config.json").is_file():
        import torch

        torch.set_num_threads(threads)
        from builder.train.tiny import build_tiny_llama

        texts = [p.read_text(encoding="utf-8") for d in ("news", "selfmedia", "feature", "commentary", "interview")
                 for p in sorted((ROOT / "corpora/demo" / d).iterdir()) if p.is_file()]
        build_tiny_llama(texts, model, vocab_size=1024, pretrain_steps=100)
    return build_out, model


def run_builder(build_out: Path, model: Path, steps: int, threads: int, run_dir: Path) -> dict:
    from builder.config import parse_config
    from builder.train.trainer import plan, train

    toml = (f'[build]\nname = "demo"\noutput = {json.dumps(str(build_out))}\n[train]\nbase_model = {json.dumps(str(model))}\n'
            f'max_length = 160\nbatch_size = 4\ngradient_accumulation = 1\nlearning_rate = 0.01\nsave_steps = 5\n'
            f'cpu_threads = {threads}\nevaluate = false\n[train.lora]\nr = 16\ntarget_modules = {json.dumps(LORA_TARGETS)}\n')
    cfg = parse_config(toml, run_dir / "bench.toml")
    s = train(plan(cfg, output=run_dir, max_steps=steps), restart=True)
    return {"steps": s["steps_this_run"], "train_s": s["train_s"], "steps_per_s": s["steps_per_s"], "peak_rss_mb": s["peak_rss_mb"],
            "samples": s["samples_train"], "first_loss": s["first_loss"], "last_loss": s["last_loss"]}


def run_trl(build_out: Path, model: Path, steps: int, threads: int, run_dir: Path) -> dict:
    import torch
    import transformers
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from builder.train import data as D
    from builder.train.trainer import peak_rss_mb

    torch.set_num_threads(threads)
    transformers.utils.logging.set_verbosity_error()
    tok = AutoTokenizer.from_pretrained(model)
    template, _ = D.load_prompt_template("alpaca")
    fmt = D.PromptTemplateFormat(tok, template)
    rows = []
    for rec in D.read_export(build_out / "export", "alpaca", "train"):  # the same samples builder trains on
        try:
            segs = fmt.segments(rec.turns)
        except Exception:
            continue
        if len(D.tokenize_segments(tok, segs, True).input_ids) <= 160:
            rows.append({"prompt": tok.bos_token + segs[0][0], "completion": segs[1][0]})
    transformers.set_seed(42)
    args = SFTConfig(output_dir=str(run_dir), max_steps=steps, per_device_train_batch_size=4, gradient_accumulation_steps=1,
                     learning_rate=0.01, lr_scheduler_type="cosine", logging_steps=1, save_steps=5, save_total_limit=2,
                     report_to="none", disable_tqdm=True, use_cpu=True, max_length=160, seed=42, dataloader_num_workers=0,
                     completion_only_loss=True)
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model), args=args, train_dataset=Dataset.from_list(rows),
                         processing_class=tok, peft_config=LoraConfig(task_type="CAUSAL_LM", r=16, lora_alpha=32, lora_dropout=0.1,
                                                                      target_modules=LORA_TARGETS))
    t0 = time.time()
    trainer.train()
    train_s = time.time() - t0
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return {"steps": trainer.state.global_step, "train_s": round(train_s, 2), "steps_per_s": round(trainer.state.global_step / train_s, 3),
            "peak_rss_mb": round(peak_rss_mb(), 1), "samples": len(rows), "first_loss": losses[0], "last_loss": losses[-1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--contender", choices=["builder", "trl"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if a.contender:  # child process: one run, JSON on the last line of stdout
        import warnings

        warnings.simplefilter("ignore")
        build_out, model = prepare(a.threads)
        fn = run_builder if a.contender == "builder" else run_trl
        print(json.dumps(fn(build_out, model, a.steps, a.threads, OUT / f"run-{a.contender}")))
        return
    prepare(a.threads)
    results: dict[str, list[dict]] = {"builder": [], "trl": []}
    for _ in range(a.repeat):
        for name in results:  # alternate, so machine load hits both alike
            proc = subprocess.run([sys.executable, __file__, "--contender", name, "--steps", str(a.steps), "--threads", str(a.threads)],
                                  capture_output=True, text=True, cwd=ROOT, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
            if proc.returncode != 0:
                sys.exit(f"{name} failed:\n{proc.stderr[-3000:]}")
            results[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    best = {n: max(r, key=lambda x: x["steps_per_s"]) for n, r in results.items()}
    (OUT / "results.json").write_text(json.dumps({"args": vars(a), "runs": results, "best": best}, indent=2), encoding="utf-8")
    print(f"test-size LoRA run on the CPU: {a.steps} steps, batch 4, max length 160, {a.threads} thread(s), best of {a.repeat}")
    print(f"{'contender':<10} {'samples':>7} {'steps/s':>8} {'train s':>8} {'peak RSS MB':>12} {'loss first->last':>18}")
    for n, r in best.items():
        print(f"{n:<10} {r['samples']:>7} {r['steps_per_s']:>8.2f} {r['train_s']:>8.1f} {r['peak_rss_mb']:>12.0f} "
              f"{r['first_loss']:>8.3f}->{r['last_loss']:.3f}")
    b, t = best["builder"], best["trl"]
    print(f"ratio builder/trl: steps/s x{b['steps_per_s'] / t['steps_per_s']:.2f}, peak RSS x{b['peak_rss_mb'] / t['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
