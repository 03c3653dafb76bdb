"""``builder eval``: rank candidate models with a debiased judge (``builder.eval``), import people's rankings."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import BuilderError


def register(app: typer.Typer) -> None:
    from ..options import EXIT_PARTIAL, ConfigOpt, OutputOpt, console, err

    group = typer.Typer(help="Rank candidate models' answers with a debiased judge; import people's rankings.\n\n"
                             "Example:\n\n    builder eval run -c build.toml --dry-run",
                        no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(group, name="eval")
    say = lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True)  # noqa: E731

    @group.command("run")
    def run_cmd(config: Optional[Path] = ConfigOpt, output: Optional[Path] = OutputOpt,
                dry_run: bool = typer.Option(False, "--dry-run", help="Print questions, requests, tokens and the judge's cost; send nothing."),
                allow_partial: bool = typer.Option(False, "--allow-partial", help="Exit 0 even if some answer or judge requests failed.")) -> None:
        """Answer the export's validation questions with every candidate, rank the answers with the judge.

        Each question is judged in [eval] permutations orders, under neutral labels, with an empty anchor
        that a sound judgment ranks last. Requests go through the cached client: a rerun pays nothing twice.

        Example:

            builder eval run -c build.toml --dry-run
            builder eval run -c build.toml && builder eval report -c build.toml
        """
        from .. import eval as ev
        from ..config import load_config
        from ..lock import build_lock

        build = load_config(config, output)
        if dry_run:
            est = ev.estimate(build)
            for k, v in est.items():
                say(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}")
            return
        with build_lock(build.output, f"builder eval run -c {build.path}"):
            result = ev.run(build, log=say)
        ranks = ev.report(build, result)["ranks"]
        for row in ranks.iter_rows(named=True):
            say(f"{row['candidate']}: average rank {row['average_rank']} (95% CI {row['ci_low']}–{row['ci_high']}) over {row['questions']} questions")
        say(f"report: {ev.folder(build) / 'report' / 'README.md'}")
        if result.problems and not allow_partial:
            for p in result.problems:
                err.print(f"partial: eval: {p}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_PARTIAL)

    @group.command("import-human")
    def import_human(file: Path = typer.Argument(..., help="CSV with question_id, annotator, ranking (names, best first: a>b=c)."),
                     config: Optional[Path] = ConfigOpt, output: Optional[Path] = OutputOpt) -> None:
        """Import people's rankings of the same candidates; the report then compares the judge with them.

        Example:

            builder eval import-human editors.csv -c build.toml && builder eval report -c build.toml
        """
        from .. import eval as ev
        from ..config import load_config

        build = load_config(config, output)
        n = ev.import_human(build, file)
        say(f"imported {n} rankings from {file}")

    @group.command("report")
    def report_cmd(config: Optional[Path] = ConfigOpt, output: Optional[Path] = OutputOpt) -> None:
        """Rebuild the evaluation report (ranks, win rates, position bias, agreement with people).

        Example:

            builder eval report -c build.toml
        """
        from .. import eval as ev
        from ..config import load_config

        build = load_config(config, output)
        ev.report(build)
        folder = ev.folder(build) / "report"
        if not (folder / "README.md").is_file():
            raise BuilderError(f"no evaluation in {build.output} (run 'builder eval run' first)")
        say((folder / "README.md").read_text(encoding="utf-8"))
