"""The run report: loss per step as a table (CSV + Parquet) and a plot (SVG), and a README.md.

The plot is a small hand-written SVG (a polyline with axes and ticks), so the report needs no plotting
library; it renders in any browser and on GitHub.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl

LOSS_COLUMNS = {"step": pl.Int64, "loss": pl.Float64, "learning_rate": pl.Float64, "grad_norm": pl.Float64,
                "epoch": pl.Float64, "tokens_seen": pl.Int64}


def loss_table(log_history: list[dict[str, Any]]) -> pl.DataFrame:
    """One row per logged training step, from the HF Trainer's ``state.log_history``."""
    rows = []
    seen = set()
    for entry in log_history:
        if "loss" not in entry or "step" not in entry or entry["step"] in seen:
            continue
        seen.add(entry["step"])
        rows.append({"step": int(entry["step"]), "loss": float(entry["loss"]),
                     "learning_rate": float(entry.get("learning_rate", float("nan"))),
                     "grad_norm": float(entry["grad_norm"]) if entry.get("grad_norm") is not None else None,
                     "epoch": float(entry.get("epoch", float("nan"))),
                     "tokens_seen": int(entry["num_input_tokens_seen"]) if "num_input_tokens_seen" in entry else None})
    return pl.DataFrame(rows, schema=LOSS_COLUMNS).sort("step")


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    first = math.ceil(lo / step) * step
    ticks = []
    t = first
    while t <= hi + 1e-12:
        ticks.append(round(t, 10))
        t += step
    return ticks


def loss_svg(table: pl.DataFrame, title: str = "training loss", width: int = 640, height: int = 320) -> str:
    """An SVG line plot of loss against step (with a dotted marker where a run resumed)."""
    left, right, top, bottom = 56, 16, 28, 40
    w, h = width - left - right, height - top - bottom
    steps = table["step"].to_list()
    losses = table["loss"].to_list()
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">{title}</text>']
    if not steps:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no steps logged</text></svg>')
        return "\n".join(parts)
    x0, x1 = min(steps), max(steps)
    y0, y1 = min(losses), max(losses)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    pad = (y1 - y0) * 0.05 or abs(y1) * 0.05 or 1.0
    y0, y1 = y0 - pad, y1 + pad

    def sx(x):
        return left + (x - x0) / (x1 - x0) * w

    def sy(y):
        return top + (1 - (y - y0) / (y1 - y0)) * h

    parts.append(f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#888"/>')
    for t in _nice_ticks(y0, y1):
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    for t in _nice_ticks(x0, x1):
        if float(t).is_integer():
            parts.append(f'<text x="{sx(t):.1f}" y="{top + h + 16}" text-anchor="middle">{int(t)}</text>')
    parts.append(f'<text x="{left + w / 2}" y="{height - 6}" text-anchor="middle">step</text>')
    parts.append(f'<text x="14" y="{top + h / 2}" text-anchor="middle" transform="rotate(-90 14 {top + h / 2})">loss</text>')
    points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(steps, losses))
    parts.append(f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.6" points="{points}"/>')
    if len(steps) <= 60:
        parts += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2" fill="#1f77b4"/>' for x, y in zip(steps, losses)]
    parts.append("</svg>")
    return "\n".join(parts)


def _md_table(df: pl.DataFrame, max_rows: int = 40) -> str:
    if df.height > max_rows:  # keep the first and last steps and an even spread between
        idx = sorted({round(i * (df.height - 1) / (max_rows - 1)) for i in range(max_rows)})
        df = df[idx]
    cols = df.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---:" for _ in cols) + "|"]
    for row in df.iter_rows():
        cells = []
        for v in row:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                cells.append("")
            elif isinstance(v, float):
                cells.append(f"{v:.4g}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(folder: Path, summary: dict[str, Any], table: pl.DataFrame, skipped: list[dict[str, Any]]) -> Path:
    """Write loss.csv, loss.parquet, loss.svg, skipped.jsonl, summary.json and README.md to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    table.write_csv(folder / "loss.csv")
    table.write_parquet(folder / "loss.parquet")
    (folder / "loss.svg").write_text(loss_svg(table, f"training loss - {summary.get('base_model', '')}"), encoding="utf-8")
    with (folder / "skipped.jsonl").open("w", encoding="utf-8") as fh:
        for s in skipped:
            fh.write(json.dumps(s, ensure_ascii=False) + "\n")
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")

    s = summary
    rows = [
        ("base model", s["base_model"]),
        ("dataset", f"{s['dataset']} ({s['train_file']})"),
        ("prompt format", s["prompt_format"]),
        ("samples", f"{s['samples_train']} trained on, {s['samples_skipped']} skipped, of {s['samples_read']} read"),
        ("steps", f"{s['global_step']} of {s['max_steps']} ({s['epochs_done']:.2f} epochs)"),
        ("resumed from", f"step {s['resumed_from_step']} ({s['resumed_from']})" if s.get("resumed_from") else "- (fresh start)"),
        ("loss", f"{s['first_loss']:.4f} at step {s['first_step']} -> {s['last_loss']:.4f} at step {s['last_step']}"
         if s.get("first_loss") is not None else "-"),
        ("validation loss", (f"{s['eval_loss_before']:.4f} before -> " if s.get("eval_loss_before") is not None else "")
         + f"{s['eval_loss']:.4f} after, on {s['samples_validation']} samples" if s.get("eval_loss") is not None else "-"),
        ("tokens seen", f"{s['tokens_seen']:,} (of which {s['tokens_trained_per_epoch']:,} response tokens per epoch are in the loss)"),
        ("wall time", f"{s['wall_s']:.1f} s this run ({s['steps_this_run']} steps, {s['steps_per_s']:.2f} steps/s)"),
        ("peak memory", f"{s['peak_rss_mb']:.0f} MB RSS" + (f", {s['peak_gpu_mb']:.0f} MB GPU" if s.get("peak_gpu_mb") else "")),
        ("trainable parameters", f"{s['trainable_params']:,} of {s['total_params']:,} ({100 * s['trainable_params'] / max(s['total_params'], 1):.3f}%)"),
        ("device", s["device"]),
        ("adapter", s["adapter_dir"]),
    ]
    skipped_counts = {}
    for item in skipped:
        key = (item["split"], item["reason"])
        skipped_counts[key] = skipped_counts.get(key, 0) + 1
    md = [f"# train report: {s['build_name']}", "",
          "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), "",
          "## Loss", "", "![training loss](loss.svg)", "",
          _md_table(table.select("step", "loss", "learning_rate", "grad_norm", "tokens_seen")), "",
          "Every step is in `loss.csv` / `loss.parquet`.", "",
          "## Samples skipped", ""]
    if skipped_counts:
        md += ["| split | reason | samples |", "|---|---|---:|"]
        md += [f"| {sp} | {r} | {n} |" for (sp, r), n in sorted(skipped_counts.items())]
        md += ["", "Each one, with where it came from, is in `skipped.jsonl`."]
    else:
        md.append("None.")
    md += ["", "## Use the adapter", "", "```python",
           "from peft import AutoPeftModelForCausalLM",
           "from transformers import AutoTokenizer",
           f"model = AutoPeftModelForCausalLM.from_pretrained({s['adapter_dir']!r})",
           f"tokenizer = AutoTokenizer.from_pretrained({s['adapter_dir']!r})",
           "```", ""]
    (folder / "README.md").write_text("\n".join(md), encoding="utf-8")
    return folder / "README.md"
