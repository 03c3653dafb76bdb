"""The face: ``builder`` commands, rich output, one-line errors.

Every user error is raised as ``BuilderError`` and printed as one line on stderr with a non-zero
exit; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from . import __version__
from .config import load_config
from .errors import BuilderError
from .options import EXIT_PARTIAL, MODE, ConfigOpt, ExecutorOpt, OutputOpt, RayAddressOpt, choose_executor, console, err, progress

app = typer.Typer(
    help="Build Chinese media instruction datasets in stages: corpus -> dedup -> templates -> selfinstruct -> export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
          version: bool = typer.Option(False, "--version", help="Print the version and exit.")) -> None:
    if debug:
        MODE.debug = True
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
            dry_run: bool = typer.Option(False, "--dry-run", help="selfinstruct: print requests, tokens and cost without calling the model."),
            allow_partial: bool = typer.Option(False, "--allow-partial", help="Exit 0 even if a stage did less than asked (see [build] allow_partial)."),
            executor: Optional[str] = ExecutorOpt, ray_address: Optional[str] = RayAddressOpt) -> None:
    """Run a stage (and the stale stages before it), or all stages.

    A stage whose manifest still matches its config, code and inputs is skipped, and says why. A build
    that did less than asked (a missing source, a stage that kept nothing, model requests that failed or
    were skipped for want of an endpoint) prints one line per problem and exits 3, unless partial builds
    are allowed. Exit codes: 0 done, 1 error, 2 usage, 3 partial, 130 interrupted (Ctrl-C), 143 terminated.

    Example:

        builder run all -c corpora/demo/build.toml
        builder run corpus -c mybuild/build.toml --force
        builder run all -c mybuild/build.toml --executor ray --ray-address auto
    """
    from . import pipeline

    build = load_config(config, output)
    choose_executor(build, executor, ray_address)
    table = Table(title=f"build {build.settings['build']['name']} -> {build.output}", title_justify="left")
    for col in ("stage", "outcome", "kept", "rejected", "seconds"):
        table.add_column(col)
    results = []
    command = " ".join(["builder", "run", stage] + (["-c", str(build.path)] if build.path else []))
    with progress() as bar:
        for name, why, m in pipeline.run(build, stage, force=force, from_stage=from_stage, console=console,
                                         progress=bar, options={"dry_run": dry_run}, command=command):
            results.append((name, m))
            if why.startswith("up to date"):
                console.print(f"[bold]{name}[/]: {escape(why)}")
                outcome = "skipped (up to date)"
            else:
                outcome = why if m is None else f"built ({why})"
            if m is not None and m.problems:
                outcome += ", partial"
            table.add_row(name, escape(outcome), str(m.rows.get("data", 0)) if m else "-", str(m.rows.get("rejected", 0)) if m else "-",
                          f"{m.seconds:.1f}" if m else "-")
    console.print(table)
    if any(m is not None for _, m in results):
        try:
            path, size, seconds = _write_html(build)
        except Exception as exc:  # noqa: BLE001 - the stages are built; a page that cannot be drawn must not undo that
            if MODE.debug:
                raise
            err.print(f"warning: report.html not written: {type(exc).__name__}: {exc} (builder report --html --debug shows why)",
                      markup=False, highlight=False, soft_wrap=True)
        else:
            console.print(f"report: {path} ({size / 1e6:.2f} MB); review it, then: builder review apply FILE -c {build.path}",
                          markup=False, highlight=False, soft_wrap=True)
    console.print(f"reports: builder report STAGE -c {build.path}")
    refused = 0
    for name, problem, allowed in pipeline.partial_problems(build, results):
        if allowed or allow_partial:
            console.print(f"partial (allowed): {name}: {problem}", markup=False, highlight=False)
        else:
            err.print(f"partial: {name}: {problem}", markup=False, highlight=False, soft_wrap=True)
            refused += 1
    if refused:
        err.print(f"error: the build is partial ({refused} problem(s) above); fix them, or allow it with --allow-partial "
                  "or [build] allow_partial", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def status(config: Optional[Path] = ConfigOpt, output: Optional[Path] = OutputOpt,
           verify: bool = typer.Option(False, "--verify", help="Re-hash every shard against its manifest (slower).")) -> None:
    """Show which stages are done, stale or missing, and why.

    The shards each manifest names are checked on disk (present, same size); --verify re-hashes them.

    Example:

        builder status -c mybuild/build.toml --verify
    """
    from . import pipeline

    build = load_config(config, output)
    table = Table(title=f"{build.output}", title_justify="left")
    for col in ("stage", "state", "why", "rows"):
        table.add_column(col)
    colors = {"done": "green", "stale": "yellow", "missing": "red"}
    problems = []
    for st in pipeline.statuses(build, verify=verify):
        rows = f"{st.manifest.rows.get('data', 0)} kept / {st.manifest.rows.get('rejected', 0)} rejected" if st.manifest else "-"
        partial = bool(st.manifest and st.manifest.problems)
        problems += [(st.name, p) for p in (st.manifest.problems if partial else [])]
        table.add_row(st.name, f"[{colors[st.state]}]{st.state}[/]" + (" [yellow](partial)[/]" if partial else ""), escape(st.reason), rows)
    console.print(table)
    for name, problem in problems:
        console.print(f"partial: {name}: {problem}", markup=False, highlight=False)


@app.command()
def report(stage: Optional[str] = typer.Argument(None, help="Stage to show; all built stages when omitted."),
           config: Optional[Path] = ConfigOpt, output: Optional[Path] = OutputOpt,
           rows: int = typer.Option(25, "--rows", help="Rows to show per table."),
           html: bool = typer.Option(False, "--html", help="Write <output>/report.html (all stages, charts, review) instead of printing.")) -> None:
    """Print a stage's quality report (also in <output>/<stage>/report/README.md), or write the HTML report.

    Example:

        builder report corpus -c mybuild/build.toml
        builder report --html -c mybuild/build.toml     # then open <output>/report.html in a browser
    """
    from . import pipeline
    from .report import print_report

    build = load_config(config, output)
    if html:
        path, size, seconds = _write_html(build)
        console.print(f"wrote {path} ({size / 1e6:.2f} MB in {seconds:.1f} s)", markup=False, highlight=False)
        return
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


def _write_html(build):
    from .report.html import write_html

    if not build.output.is_dir():
        raise BuilderError(f"no reports in {build.output} yet (run 'builder run all' first)")
    return write_html(build.output, build.settings["build"]["name"], build.settings["build"]["seed"])


def _register_commands() -> None:
    import importlib
    import pkgutil

    from . import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(app)


_register_commands()


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt, so the same clean-up runs."""


_TERMINATED: list[int] = []


def _on_sigterm(signum, frame):
    _TERMINATED.append(signum)
    raise Terminated()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors; exit codes 1 (error), 2 (usage), 3 (partial build), 130 (Ctrl-C), 143 (SIGTERM)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    MODE.debug = "--debug" in argv or bool(os.environ.get("BUILDER_DEBUG"))  # per call: tests run many in one process
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading.current_thread() is threading.main_thread() else None
    _TERMINATED.clear()
    try:
        code = app(args=argv, standalone_mode=False, prog_name="builder")
        if _TERMINATED:
            _interrupted(143)
        if code == 130:  # typer turns a KeyboardInterrupt (Ctrl-C) into a silent Exit(130)
            _interrupted(130)
        if isinstance(code, int) and code:  # typer.Exit(n) comes back as a return value here
            sys.exit(code)
    except BuilderError as exc:
        if MODE.debug:
            raise
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        _interrupted(143 if _TERMINATED else 130)
    except OSError as exc:
        if MODE.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(f"error: {where}{exc.strerror or exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except Exception as exc:  # click's exceptions, which typer vendors under a private module
        kind = type(exc).__name__
        if kind == "Exit":
            code = getattr(exc, "exit_code", 0)
            if _TERMINATED or code == 130:
                _interrupted(143 if _TERMINATED else 130)
            sys.exit(code)
        if kind == "Abort":
            _interrupted(143 if _TERMINATED else 130)
        if kind == "NoArgsIsHelpError" and getattr(exc, "ctx", None) is not None:
            err.print(exc.ctx.get_help(), markup=False, highlight=False)
            sys.exit(2)
        if hasattr(exc, "format_message"):
            ctx = getattr(exc, "ctx", None)
            hint = f" (try '{ctx.command_path} --help')" if ctx is not None else ""
            err.print(f"error: {exc.format_message()}{hint}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(2)
        if MODE.debug:
            raise
        err.print(f"error: internal: {kind}: {exc} (rerun with --debug for the traceback)", markup=False, soft_wrap=True)
        sys.exit(1)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupted(code: int) -> None:
    """The one line an interrupted run prints, on stderr whether it is a terminal or a pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while we say goodbye changes nothing
    try:  # file descriptor 2 itself: a progress display may still hold sys.stderr, buffered
        os.write(2, b"interrupted: run the same command again to resume\n")
    except OSError:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
