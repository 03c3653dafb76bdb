"""User-facing errors: one line, no traceback (the CLI prints them as ``error: ...``)."""


class BuilderError(Exception):
    """A problem the user can fix: bad config, missing file, bad input."""


class ConfigError(BuilderError):
    """The build config is invalid."""


class DryRunFinished(Exception):
    """A stage made its ``--dry-run`` estimate and did no work: the pipeline keeps its previous output and stops."""
