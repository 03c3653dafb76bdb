"""``builder review``: record a reviewer's decisions (downloaded from ``report.html``) in the build folder.

The next ``builder run export`` leaves out every rejected item, article, sub-category and source
(reason ``rejected_by_review``) and states the reviewed share and rejection rate per sub-category in the
card; see ``builder.review``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    from ..options import ConfigOpt, OutputOpt

    review = typer.Typer(help="Record review decisions made in report.html; the next export obeys them.\n\n"
                              "Example:\n\n    builder review apply review-demo.json -c corpora/demo/build.toml",
                         no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(review, name="review")

    @review.command("apply")
    def apply(file: Path = typer.Argument(..., help="The JSON file report.html's 'Download decisions' saved."),
              config: Optional[Path] = ConfigOpt, output: Optional[Path] = OutputOpt) -> None:
        """Check a review file and record its decisions in <output>/review/decisions.json.

        A later decision on the same record, sub-category or source replaces the earlier one. Only export
        reads the decisions, so only export goes stale; run it to apply them.

        Example:

            builder review apply ~/Downloads/review-demo.json -c corpora/demo/build.toml && builder run export -c corpora/demo/build.toml
        """
        from ..config import load_config
        from ..errors import BuilderError
        from ..options import console
        from ..review import apply_decisions, parse_decisions

        build = load_config(config, output)
        decisions = parse_decisions(file)
        if not build.output.is_dir():
            raise BuilderError(f"{build.output}: no build here to review (run 'builder run all -c {build.path}' first)")
        done = apply_decisions(build.output, decisions)
        console.print(f"recorded {len(decisions)} decisions from {file} ({done.added} new, {done.changed} changed, "
                      f"{done.unchanged} unchanged); {done.path} now holds {done.total} ({done.rejected} reject). "
                      f"Next: builder run export -c {build.path}", markup=False, highlight=False, soft_wrap=True)
