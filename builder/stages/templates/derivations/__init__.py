"""Named derivations of an article: what a sub-category's templates may use (``{{ lead }}``, ``{{ quotes }}`` …).

``core`` holds the ``Article`` and the registry; each other module registers the derivations of one
kind of article part when it is imported, which this package does, so ``DERIVATIONS`` is complete
as soon as anything here is imported.
"""

from __future__ import annotations

from . import article, commentary, exercises, facts, knowledge, lead, structure  # noqa: F401 - register derivations
from .core import DERIVATIONS, DESCRIPTIONS, Article, Derivation, derivation, first_sentence, numbered

__all__ = ["Article", "DERIVATIONS", "DESCRIPTIONS", "Derivation", "derivation", "first_sentence", "numbered"]
