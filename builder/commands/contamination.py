"""``builder contamination``: is an evaluation set already inside the training data?

Uses the dedup stage's engine (``builder.text.minhash.contamination``): an evaluation item counts as
contaminated when a training item is an exact, near (Jaccard) or containing duplicate of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..errors import BuilderError

FIELDS = ("instruction", "input", "output")


def read_items(path: Path) -> list[dict]:
    """Evaluation items from JSONL, a JSON list, or Parquet (instruction/input/output, or text)."""
    if not path.is_file():
        raise BuilderError(f"{path}: file not found")
    if path.suffix == ".parquet":
        import polars as pl

        try:
            return pl.read_parquet(path).to_dicts()
        except Exception as exc:  # noqa: BLE001 - polars raises several kinds for a damaged file
            raise BuilderError(f"{path}: not a readable Parquet file: {str(exc).splitlines()[0][:120]}") from None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BuilderError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise BuilderError(f"{path}: invalid JSON: {exc}") from None
        if not isinstance(data, list):
            raise BuilderError(f"{path}: expected a JSON list of items")
        return data
    items = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except ValueError as exc:
                raise BuilderError(f"{path}:{n}: invalid JSON: {exc}") from None
    return items


def item_text(item: dict) -> str:
    if not isinstance(item, dict):
        return str(item)
    if item.get("text"):
        return str(item["text"])
    return "\n".join(str(item.get(f) or "") for f in FIELDS).strip()


def register(app: typer.Typer) -> None:
    from ..options import ConfigOpt, OutputOpt

    @app.command()
    def contamination(eval_file: Path = typer.Argument(..., help="Evaluation items: .jsonl, .json or .parquet with instruction/input/output (or text)."),
                      config: Optional[Path] = ConfigOpt, output: Optional[Path] = OutputOpt,
                      split: str = typer.Option("train", "--split", help="Split of the export to compare against."),
                      threshold: float = typer.Option(0.5, "--threshold", min=0.0, max=1.0, help="Jaccard of character 5-grams at which an item is a near duplicate."),
                      containment: float = typer.Option(0.8, "--containment", min=0.0, max=1.0, help="Share of the shorter text found in the other."),
                      write: Optional[Path] = typer.Option(None, "--write", help="Write the hits to this .parquet file."),
                      fail: bool = typer.Option(False, "--fail", help="Exit 1 when any item is contaminated (for CI).")) -> None:
        """Check an evaluation set against the exported training items.

        Example:

            builder contamination eval.jsonl -c corpora/demo/build.toml --write hits.parquet
        """
        import polars as pl
        from rich.console import Console
        from rich.table import Table

        from ..config import load_config
        from ..shards import shard_files
        from ..text.minhash import contamination as find

        build = load_config(config, output)
        data = build.output / "export" / "data"
        if not shard_files(data):
            raise BuilderError(f"no export in {build.output} (run 'builder run export' first)")
        train = pl.read_parquet(shard_files(data)).filter(pl.col("split") == split)
        if train.height == 0:
            raise BuilderError(f"the export has no '{split}' items")
        evals = read_items(eval_file)
        if not evals:
            raise BuilderError(f"{eval_file}: no items")
        train_texts = [item_text(r) for r in train.select(FIELDS).to_dicts()]
        hits = find([item_text(e) for e in evals], train_texts, threshold=threshold, containment_threshold=containment)
        console = Console()
        table = Table(title=f"{len(hits)} of {len(evals)} evaluation items ({len(hits) / len(evals):.1%}) "
                            f"have a duplicate among {train.height} {split} items", title_justify="left")
        for col in ("eval item", "train id", "match", "jaccard", "containment", "eval text"):
            table.add_column(col, overflow="fold", max_width=60)
        ids = train["id"].to_list()
        rows = []
        for h in hits:
            text = item_text(evals[h.eval_index])
            rows.append({"eval_index": h.eval_index, "train_id": ids[h.train_index], "match": h.match,
                         "jaccard": h.jaccard, "containment": h.containment, "eval_text": text})
            table.add_row(str(h.eval_index), ids[h.train_index], h.match, f"{h.jaccard:.3f}", f"{h.containment:.3f}",
                          text.replace("\n", " ")[:60])
        console.print(table)
        if write:
            pl.DataFrame(rows, schema={"eval_index": pl.Int64, "train_id": pl.String, "match": pl.String,
                                       "jaccard": pl.Float64, "containment": pl.Float64, "eval_text": pl.String}).write_parquet(write)
            console.print(f"wrote {write}")
        if fail and hits:
            raise typer.Exit(1)
