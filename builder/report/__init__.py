"""Quality reports: a stage's counters and outputs -> Polars tables -> ``report/``.

Every table is computed from what the stage wrote and counted, so the report cannot disagree with
the run. ``report/summary.parquet`` holds the headline metrics; the other tables sit beside it and
``report/README.md`` renders all of them for a person to review before the next stage.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Mapping

import polars as pl

from ..shards import atomic_write_text, shard_files, write_parquet
from ..text.tokens import count_tokens_batch
from .glossary import is_routing, meaning

CJK = r"\p{Han}"
TOKEN_SAMPLE = 500  # tokens are counted on a uniform sample of this many records: their quantiles to about two
# percentile points; 2,000 took 0.3 s of every stage's finish on 2 cores (tiktoken reads Chinese at ~2 µs a character)
SAMPLES = 3


def _scan(folder: Path) -> pl.LazyFrame | None:
    files = shard_files(folder)
    return pl.scan_parquet([str(f) for f in files]) if files else None


REJECTED_SAMPLES = 2  # rows shown per reject reason


def _rejected_summary(files: list[Path]) -> tuple[dict[str, int], pl.DataFrame | None, list[dict]]:
    """Rows per reason, rows per source, and the first rows of each reason (reason, id, detail, path), read shard
    by shard: only the reason and source columns of one shard, and the few sample rows, are in memory at a time.
    (One query over every shard read the id and detail columns of all rejected rows to pick two per reason: the
    selfinstruct stage's peak memory grew with its rejected rows, +27 MB at 107k rows.)"""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    by_reason: dict[str, int] = {}
    by_source: dict[str | None, int] = {}
    has_source = False
    samples: list[dict] = []
    shown: dict[str, int] = {}
    for f in files:
        shard = pq.ParquetFile(f)  # not pq.read_table: its dataset reader's threads kept ~60 MB more resident
        names = shard.schema_arrow.names
        has_source = has_source or "source" in names
        cols = [c for c in ("reason", "source") if c in names]
        table = shard.read(columns=cols, use_threads=False)
        reasons = table.column("reason").to_pylist()
        if "source" in cols:
            for value in pc.value_counts(table.column("source")).to_pylist():
                by_source[value["values"]] = by_source.get(value["values"], 0) + value["counts"]
        elif table.num_rows:
            by_source[None] = by_source.get(None, 0) + table.num_rows  # a shard without the column: no source
        picks = []
        for i, r in enumerate(reasons):
            by_reason[r] = by_reason.get(r, 0) + 1
            if shown.get(r, 0) < REJECTED_SAMPLES:
                shown[r] = shown.get(r, 0) + 1
                picks.append(i)
        if picks:
            show = [c for c in ("reason", "id", "detail", "path") if c in names]  # not the records: they can be large
            samples += shard.read(columns=show, use_threads=False).take(picks).to_pylist()
    per_source = (pl.DataFrame({"source": list(by_source), "rejected": list(by_source.values())},
                               schema={"source": pl.String, "rejected": pl.UInt32}) if has_source else None)
    first = {r: k for k, r in enumerate(dict.fromkeys(row["reason"] for row in samples))}
    samples.sort(key=lambda row: first[row["reason"]])  # grouped by reason, reasons in order of first appearance
    return by_reason, per_source, samples


def _text_measures(folder: Path, column: str, rows: int, seed: int) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Per-record character counts and Han ratios, shard by shard (only numbers stay in memory),
    and token counts on a uniform sample of records."""
    rnd = random.Random(seed)
    wanted = set(rnd.sample(range(rows), min(TOKEN_SAMPLE, rows)))
    chars, ratios, sample, offset = [], [], [], 0
    for f in shard_files(folder):
        texts = pl.read_parquet(f, columns=[column]).to_series().fill_null("")
        nonspace = texts.str.replace_all(r"\s", "").str.len_chars()
        chars.append(texts.str.len_chars())
        ratios.append((texts.str.count_matches(CJK) / nonspace.clip(lower_bound=1)).round(4))
        sample += [texts[i - offset] for i in range(offset, offset + texts.len()) if i in wanted]
        offset += texts.len()
        del texts
    tokens = pl.Series(count_tokens_batch(sample), dtype=pl.Int64)
    return pl.concat(chars), pl.concat(ratios), tokens


def _quantiles(values: pl.Series, name: str) -> dict:
    if values.len() == 0:
        return {"measure": name, "n": 0, "mean": None, "min": None, "p10": None, "p50": None, "p90": None, "max": None}
    v = values.cast(pl.Float64)
    return {
        "measure": name,
        "n": v.len(),
        "mean": round(float(v.mean()), 3),
        "min": float(v.min()),
        "p10": float(v.quantile(0.1, "nearest")),
        "p50": float(v.quantile(0.5, "nearest")),
        "p90": float(v.quantile(0.9, "nearest")),
        "max": float(v.max()),
    }


def build_report(stage_dir: Path, stage_name: str, counters: Mapping[str, int], rows: Mapping[str, int],
                 text_column: str = "text", source_column: str = "source", extra: Mapping[str, pl.DataFrame] | None = None,
                 notes: list[str] | None = None, seed: int = 0, seconds: float = 0.0,
                 problems: list[str] | None = None, routing: tuple[str, ...] = ()) -> dict[str, pl.DataFrame]:
    data = _scan(stage_dir / "data")
    tables: dict[str, pl.DataFrame] = {}
    kept, dropped = rows.get("data", 0), rows.get("rejected", 0)
    rejected_files = shard_files(stage_dir / "rejected")
    by_reason, rejected_by_source, rejected_samples = _rejected_summary(rejected_files) if rejected_files else ({}, None, [])
    if not dropped:
        by_reason, rejected_samples = {}, []
    routed = sum(n for r, n in by_reason.items() if is_routing(r, routing))
    rows_in = counters.get("rows_in", kept + dropped - routed)

    summary = [("rows_in", float(rows_in)), ("rows_out", float(kept)), ("rejected", float(dropped)),
               ("kept_share", round(kept / rows_in, 4) if rows_in else 0.0), ("seconds", round(seconds, 3))]
    for k, v in sorted(counters.items()):
        if k not in {"rows_in"}:
            summary.append((f"count.{k}", float(v)))

    # drop reasons, from the rejected rows themselves; routing rows (candidates never made) apart from losses
    tables["flow"] = flow_table(rows_in, kept, by_reason, routing)
    if by_reason:
        drops = pl.DataFrame([{"reason": r, "kind": "routing" if is_routing(r, routing) else "rejected", "count": n,
                               "share_of_input": round(n / max(rows_in, 1), 4), "meaning": meaning(r)}
                              for r, n in sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))],
                             schema={"reason": pl.String, "kind": pl.String, "count": pl.Int64, "share_of_input": pl.Float64,
                                     "meaning": pl.String})
        tables["drops"] = drops

    lengths = []
    if data is not None and kept and text_column in data.collect_schema().names():
        chars, cjk_ratio, token_sample = _text_measures(stage_dir / "data", text_column, kept, seed)
        lengths.append(_quantiles(chars, "chars"))
        lengths.append(_quantiles(cjk_ratio, "cjk_ratio"))
        lengths.append(_quantiles(token_sample, f"tokens_cl100k (sample of {token_sample.len()})"))
        summary += [("chars_total", float(chars.sum())), ("cjk_ratio_mean", round(float(cjk_ratio.mean()), 4))]
    if lengths:
        tables["lengths"] = pl.DataFrame(lengths)

    # per-source table
    parts = []
    if data is not None and source_column in data.collect_schema().names():
        lf = data.group_by(source_column).agg(pl.len().alias("kept"))
        if text_column in data.collect_schema().names():
            lf = data.group_by(source_column).agg(pl.len().alias("kept"), pl.col(text_column).str.len_chars().sum().alias("kept_chars"))
        parts.append(lf.collect(engine="streaming").rename({source_column: "source"}))
    if rejected_by_source is not None:
        parts.append(rejected_by_source)
    if parts:
        per_source = parts[0]
        for p in parts[1:]:
            per_source = per_source.join(p, on="source", how="full", coalesce=True)
        per_source = per_source.fill_null(0).sort("source", nulls_last=True)
        if per_source.height:
            tables["sources"] = per_source

    # samples a person can read: kept, and rejected per reason
    samples = []
    if data is not None and kept:
        cols = data.collect_schema().names()
        show = [c for c in ("id", source_column, "title", "instruction", text_column) if c in cols]
        sample = data.select(show).head(2000).collect()
        if sample.height:
            sample = sample.sample(min(SAMPLES, sample.height), seed=seed)
            for row in sample.iter_rows(named=True):
                samples.append({"kind": "kept", "reason": "", "id": str(row.get("id") or ""),
                                "excerpt": _excerpt(row)})
    for row in rejected_samples:
        samples.append({"kind": "rejected", "reason": row["reason"], "id": row.get("id") or "",
                        "excerpt": (row.get("detail") or "") + " | " + (row.get("path") or "")})
    if samples:
        tables["samples"] = pl.DataFrame(samples, schema={"kind": pl.String, "reason": pl.String, "id": pl.String, "excerpt": pl.String})

    for name, df in (extra or {}).items():
        if df.height:  # an empty table says nothing: the notes say why a view is missing
            tables[name] = df
    tables = {"summary": pl.DataFrame(summary, schema={"metric": pl.String, "value": pl.Float64}, orient="row"), **tables}
    write_report(stage_dir / "report", stage_name, tables, notes or [], problems or [])
    return tables


def flow_table(rows_in: int, kept: int, by_reason: Mapping[str, int], routing: tuple[str, ...] = ()) -> pl.DataFrame:
    """In -> kept + rejected by reason, as integers; routing rows (candidates that were never made) listed apart,
    and any difference between rows in and kept + rejected stated in a row of its own."""
    losses = {r: n for r, n in by_reason.items() if not is_routing(r, routing)}
    routes = {r: n for r, n in by_reason.items() if is_routing(r, routing)}
    rows = [{"step": "in", "reason": "", "rows": rows_in, "meaning": "records this stage read"},
            {"step": "kept", "reason": "", "rows": kept, "meaning": "records written to data/"}]
    rows += [{"step": "rejected", "reason": r, "rows": n, "meaning": meaning(r)} for r, n in sorted(losses.items(), key=lambda kv: (-kv[1], kv[0]))]
    gap = rows_in - kept - sum(losses.values())
    if gap:
        rows.append({"step": "difference", "reason": "", "rows": gap,
                     "meaning": ("records read but neither kept nor rejected" if gap > 0 else
                                 "rejected rows that were not records read (files, folders or sources that could not be opened)")})
    rows += [{"step": "routing", "reason": r, "rows": n, "meaning": meaning(r)} for r, n in sorted(routes.items(), key=lambda kv: (-kv[1], kv[0]))]
    return pl.DataFrame(rows, schema={"step": pl.String, "reason": pl.String, "rows": pl.Int64, "meaning": pl.String})


def fmt(v) -> str:
    """A value for a person: whole numbers without '.0', other floats to 6 significant digits."""
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.6g}"
    return str(v)


def _excerpt(row: Mapping, width: int = 120) -> str:
    parts = []
    for key in ("title", "instruction"):
        if row.get(key):
            parts.append(f"[{row[key]}]")
    body = next((str(v) for k, v in row.items() if k not in ("id", "source", "title", "instruction") and isinstance(v, str)), "")
    parts.append(body.replace("\n", " ")[:width])
    return " ".join(parts)


def write_report(folder: Path, stage: str, tables: Mapping[str, pl.DataFrame], notes: list[str],
                 problems: list[str] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        write_parquet(df, folder / f"{name}.parquet")
    index = {"stage": stage, "tables": list(tables), "notes": notes, "problems": problems or []}
    atomic_write_text(folder / "index.json", json.dumps(index, ensure_ascii=False, indent=2))
    atomic_write_text(folder / "README.md", render_markdown(stage, tables, notes, problems or []))


def _md_table(df: pl.DataFrame, max_rows: int = 60) -> str:
    if df.width == 0:
        return "_(empty)_\n"
    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * df.width + "\n"
    lines = []
    for row in df.head(max_rows).iter_rows():
        cells = [fmt(v).replace("|", "\\|").replace("\n", " ") for v in row]
        lines.append("| " + " | ".join(c[:160] for c in cells) + " |")
    more = f"\n_… {df.height - max_rows} more rows in the Parquet file_\n" if df.height > max_rows else ""
    return head + "\n".join(lines) + "\n" + more


def render_markdown(stage: str, tables: Mapping[str, pl.DataFrame], notes: list[str], problems: list[str] | None = None) -> str:
    out = [f"# Quality report: `{stage}`\n"]
    if problems:
        out.append("**Partial build.** This stage did less than asked:\n\n" + "\n".join(f"- {p}" for p in problems) + "\n")
    if notes:
        out.append("\n".join(f"> {n}" for n in notes) + "\n")
    for name, df in tables.items():
        out.append(f"## {name}\n\n{_md_table(df)}")
    return "\n".join(out)


def load_report(folder: Path) -> tuple[list[str], dict[str, pl.DataFrame]]:
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    notes = [f"partial: {p}" for p in index.get("problems", [])] + index.get("notes", [])
    return notes, {t: pl.read_parquet(folder / f"{t}.parquet") for t in index["tables"]}


def print_report(console, stage: str, folder: Path, max_rows: int = 25) -> None:
    from rich.table import Table

    notes, tables = load_report(folder)
    console.rule(f"[bold]{stage}[/] quality report")
    from rich.markup import escape

    for n in notes:
        console.print(f"[yellow]note:[/] {escape(n)}")  # "[llm]" in a note is text, not markup
    for name, df in tables.items():
        t = Table(title=name, title_justify="left", show_lines=False)
        for c in df.columns:
            t.add_column(c, overflow="fold", max_width=70)
        for row in df.head(max_rows).iter_rows():
            t.add_row(*[escape(fmt(v)[:200]) for v in row])
        if df.height > max_rows:
            t.caption = f"{df.height - max_rows} more rows in {folder / (name + '.parquet')}"
        console.print(t)
