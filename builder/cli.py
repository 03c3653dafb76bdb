"""The face: ``builder`` commands, rich output, one-line errors.

Every user error is raised as ``BuilderError`` and printed as one line on stderr with a non-zero
exit; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .config import load_config
from .errors import BuilderError

app = typer.Typer(
    help="Build Chinese media instruction datasets in stages: corpus -> dedup -> templates -> selfinstruct -> export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console(stderr=False)
err = Console(stderr=True)
DEBUG = {"on": bool(os.environ.get("BUILDER_DEBUG"))}

ConfigOpt = typer.Option(None, "--config", "-c", help="Build config (default: ./build.toml or $BUILDER_CONFIG).")
OutputOpt = typer.Option(None, "--output", "-o", help="Output folder (overrides [build].output).")


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=not console.is_terminal)


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
          version: bool = typer.Option(False, "--version", help="Print the version and exit.")) -> None:
    if debug:
        DEBUG["on"] = True
    if version:
        console.print(f"builder {__version__}")
        raise typer.Exit()


@app.command()
def init(folder: Path = typer.Argument(..., help="Folder for the new build."),
         force: bool = typer.Option(False, "--force", help="Overwrite an existing build.toml.")) -> None:
    """Write FOLDER/build.toml, a commented config to edit.

    Example:

        builder init mybuild && builder run all -c mybuild/build.toml
    """
    from .init import write_init

    path = write_init(folder, force=force)
    console.print(f"wrote {path}; edit its [corpus] sources, then: builder run all -c {path}", markup=False)


@app.command("run")
def run_cmd(stage: str = typer.Argument(..., help="A stage (corpus, dedup, templates, selfinstruct, export) or 'all'."),
            config: Optional[Path] = ConfigOpt, output: Optional[Path] = OutputOpt,
            force: bool = typer.Option(False, "--force", "-f", help="Rerun the stage (all stages with 'all') even if up to date."),
            from_stage: Optional[str] = typer.Option(None, "--from", help="Rerun from this stage onwards."),
            dry_run: bool = typer.Option(False, "--dry-run", help="selfinstruct: print requests, tokens and cost without calling the model.")) -> None:
    """Run a stage (and the stale stages before it), or all stages.

    A stage whose manifest still matches its config and inputs is skipped, and says why.

    Example:

        builder run all -c corpora/demo/build.toml
        builder run corpus -c mybuild/build.toml --force
    """
    from . import pipeline

    build = load_config(config, output)
    table = Table(title=f"build {build.settings['build']['name']} -> {build.output}", title_justify="left")
    for col in ("stage", "outcome", "kept", "rejected", "seconds"):
        table.add_column(col)
    with _progress() as progress:
        for name, why, m in pipeline.run(build, stage, force=force, from_stage=from_stage, console=console,
                                         progress=progress, options={"dry_run": dry_run}):
            if why.startswith("up to date"):
                console.print(f"[bold]{name}[/]: {why}")
                outcome = "skipped (up to date)"
            else:
                outcome = why if m is None else f"built ({why})"
            table.add_row(name, outcome, str(m.rows.get("data", 0)) if m else "-", str(m.rows.get("rejected", 0)) if m else "-",
                          f"{m.seconds:.1f}" if m else "-")
    console.print(table)
    console.print(f"reports: builder report STAGE -c {build.path}")


@app.command()
def status(config: Optional[Path] = ConfigOpt, output: Optional[Path] = OutputOpt) -> None:
    """Show which stages are done, stale or missing, and why.

    Example:

        builder status -c mybuild/build.toml
    """
    from . import pipeline

    build = load_config(config, output)
    table = Table(title=f"{build.output}", title_justify="left")
    for col in ("stage", "state", "why", "rows"):
        table.add_column(col)
    colors = {"done": "green", "stale": "yellow", "missing": "red"}
    for st in pipeline.statuses(build):
        rows = f"{st.manifest.rows.get('data', 0)} kept / {st.manifest.rows.get('rejected', 0)} rejected" if st.manifest else "-"
        table.add_row(st.name, f"[{colors[st.state]}]{st.state}[/]", st.reason, rows)
    console.print(table)


@app.command()
def report(stage: Optional[str] = typer.Argument(None, help="Stage to show; all built stages when omitted."),
           config: Optional[Path] = ConfigOpt, output: Optional[Path] = OutputOpt,
           rows: int = typer.Option(25, "--rows", help="Rows to show per table.")) -> None:
    """Print a stage's quality report (also in <output>/<stage>/report/README.md).

    Example:

        builder report corpus -c mybuild/build.toml
    """
    from . import pipeline
    from .report import print_report

    build = load_config(config, output)
    names = [stage] if stage else pipeline.stage_names()
    shown = 0
    for name in names:
        pipeline.stage_class(name)
        folder = pipeline.stage_dir(build, name) / "report"
        if not (folder / "index.json").is_file():
            if stage:
                raise BuilderError(f"no report for '{name}' in {build.output} (run 'builder run {name}' first)")
            continue
        print_report(console, name, folder, rows)
        shown += 1
    if not shown:
        raise BuilderError(f"no reports in {build.output} yet (run 'builder run all' first)")


def _register_commands() -> None:
    import importlib
    import pkgutil

    from . import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(app)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors, exit codes 1 (user error), 2 (usage), 130 (interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    DEBUG["on"] = "--debug" in argv or bool(os.environ.get("BUILDER_DEBUG"))  # per call: tests run many in one process
    try:
        code = app(args=argv, standalone_mode=False, prog_name="builder")
        if isinstance(code, int) and code:  # typer.Exit(n) comes back as a return value here
            sys.exit(code)
    except BuilderError as exc:
        if DEBUG["on"]:
            raise
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to resume", markup=False)
        sys.exit(130)
    except OSError as exc:
        if DEBUG["on"]:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(f"error: {where}{exc.strerror or exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except Exception as exc:  # click's exceptions, which typer vendors under a private module
        kind = type(exc).__name__
        if kind == "Exit":
            sys.exit(getattr(exc, "exit_code", 0))
        if kind == "Abort":
            err.print("interrupted: run the same command again to resume", markup=False)
            sys.exit(130)
        if kind == "NoArgsIsHelpError" and getattr(exc, "ctx", None) is not None:
            err.print(exc.ctx.get_help(), markup=False, highlight=False)
            sys.exit(2)
        if hasattr(exc, "format_message"):
            ctx = getattr(exc, "ctx", None)
            hint = f" (try '{ctx.command_path} --help')" if ctx is not None else ""
            err.print(f"error: {exc.format_message()}{hint}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(2)
        if DEBUG["on"]:
            raise
        err.print(f"error: internal: {kind}: {exc} (rerun with --debug for the traceback)", markup=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
