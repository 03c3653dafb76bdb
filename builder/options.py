"""What every command shares: the consoles, the common options, the progress display and the run mode.

The CLI and the commands in ``builder/commands/`` both import from here, never from each other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console(stderr=False)
err = Console(stderr=True)

ConfigOpt = typer.Option(None, "--config", "-c", help="Build config (default: ./build.toml or $BUILDER_CONFIG).")
OutputOpt = typer.Option(None, "--output", "-o", help="Output folder (overrides [build].output).")

ExecutorOpt = typer.Option(None, "--executor", help="Where per-item work runs: local or ray (overrides [build] executor; see docs/ray.md).")
RayAddressOpt = typer.Option(None, "--ray-address", help="--executor ray: the cluster to join, 'auto' for $RAY_ADDRESS (overrides [build] ray_address).")

EXIT_PARTIAL = 3  # the build finished but did less than asked (see 'builder run --help')


@dataclass
class RunMode:
    """Per-invocation switches: set by the entry point for each call (tests run many calls in one process)."""

    debug: bool = bool(os.environ.get("BUILDER_DEBUG"))


MODE = RunMode()


def progress() -> Progress:
    """A progress display on the terminal; nothing when the output is a pipe or a file."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=not console.is_terminal)


def say(text: str) -> None:
    """A line of plain text on stdout: no markup (paths and '[llm]' keep their brackets), no wrapping."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def choose_executor(build, executor: str | None, ray_address: str | None) -> None:
    """Apply ``--executor``/``--ray-address`` to a loaded build, and fail in one line when Ray is asked for
    but not installed (before the build's lock is taken)."""
    from .errors import ConfigError
    from .executors import EXECUTORS, check

    b = build.settings["build"]
    if executor is not None:
        if executor not in EXECUTORS:
            raise ConfigError(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
        b["executor"] = executor
    if ray_address is not None:
        b["ray_address"] = ray_address
        if executor is None and b.get("executor") == "local":
            b["executor"] = "ray"  # an address means Ray
    check(build)
