"""``builder train``: a LoRA adapter from the export (needs the ``[train]`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train_cmd(config: Optional[Path] = typer.Option(None, "--config", "-c", help="Build config (default: ./build.toml or $BUILDER_CONFIG)."),
                  base_model: Optional[str] = typer.Option(None, "--base-model", help="Local folder or Hugging Face id (overrides [train].base_model)."),
                  output: Optional[Path] = typer.Option(None, "--output", help="Run folder for the adapter, checkpoints and report (overrides [train].output; default <build output>/train)."),
                  max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Optimizer steps to train (overrides [train].max_steps and epochs)."),
                  export: Optional[Path] = typer.Option(None, "--export", help="Export folder to read (default <build output>/export)."),
                  restart: bool = typer.Option(False, "--restart", help="Discard checkpoints and the adapter in the run folder and start at step 0.")) -> None:
        """Train a LoRA adapter on the export (alpaca or messages files) with transformers + peft.

        Uses the tokenizer's chat template when it has one, else prompts/train/alpaca.txt; only the
        responses are in the loss; samples over [train].max_length are dropped and counted. Writes the
        adapter, train_config.json and a report (loss table and plot, tokens seen, samples skipped, wall
        time) to the run folder. Run the same command again after a kill or Ctrl-C to resume from the
        last checkpoint.

        Example:

            builder train -c corpora/demo/build.toml --base-model Qwen/Qwen2.5-0.5B-Instruct --max-steps 100
        """
        from ..options import console, progress
        from ..config import load_config
        from ..errors import BuilderError
        from ..train import INSTALL_HINT, missing_packages

        missing = missing_packages()
        if missing:
            raise BuilderError(f"builder train needs the [train] extra ({', '.join(missing)} missing): {INSTALL_HINT}")
        from ..train.trainer import plan, train

        build = load_config(config)
        run = plan(build, base_model=base_model, output=output, max_steps=max_steps, export_dir=export)
        with progress() as bar:
            summary = train(run, restart=restart, console=console, progress=bar)
        if summary.get("up_to_date"):
            return
        loss = (f"loss {summary['first_loss']:.4f} -> {summary['last_loss']:.4f}" if summary.get("first_loss") is not None else "no loss logged")
        console.print(f"trained {summary['steps_this_run']} steps (to step {summary['global_step']} of {summary['max_steps']}), {loss}, "
                      f"{summary['samples_skipped']} samples skipped, {summary['wall_s']:.0f} s, {summary['peak_rss_mb']:.0f} MB peak RSS",
                      highlight=False)
        console.print(f"adapter: {summary['adapter_dir']}", highlight=False)
        console.print(f"report:  {Path(summary['run_dir']) / 'report' / 'README.md'}", highlight=False)
