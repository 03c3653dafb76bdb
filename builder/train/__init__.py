"""A thin LoRA trainer over the export (``builder train``), and hand-off configs for LLaMA-Factory and TRL.

Training needs the optional ``[train]`` extra (torch, transformers, peft, accelerate); this package
imports them only inside the functions that train, so ``builder`` works without them and the hand-off
recipes (``builder.train.recipes``) can be written without them.
"""

from __future__ import annotations

from importlib.util import find_spec

TRAIN_EXTRA = ("torch", "transformers", "peft", "accelerate")
INSTALL_HINT = "pip install 'builder[train]'"


def missing_packages() -> list[str]:
    """The packages of the ``[train]`` extra that are not installed."""
    return [name for name in TRAIN_EXTRA if find_spec(name) is None]
