"""A learned second opinion on the lines the boilerplate rules leave: is this short line the site's furniture?

The rules (``boilerplate_rules.toml``) know the shapes they were written for; every batch of pages from sites
never seen before still kept about a fifth of its in-text furniture after them (credits, series lines, notes
and prompts worded a new way). This model generalises from the labelled pages instead of from one wording: a
logistic regression over hashed character 1-3-grams of the line's first 40 characters, its first and last two
characters, a length bucket and where it stands (above the article, inside it, below it). It is trained by
``bench/corpus/train_line_model.py`` on the labelled written pages and shipped as ``line_model.npz``
(the non-zero weights only).

The remover asks it only about lines no rule took that are not prose (a sentence of some length), on web
pages, and removes a line when the model's probability reaches the threshold (``[corpus.clean]
line_model_threshold``, 0.9 by default; 1.0 switches it off). Counted as ``boilerplate_learned``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_FILE = Path(__file__).with_name("line_model.npz")
DIM = 1 << 18
HEAD = 40  # characters of a line the n-grams are taken from
WHERE = ("lead", "mid", "tail")


def features(line: str, where: str, prose: bool) -> list[int]:
    """Hashed feature ids of a line (stable across runs and machines: CRC-32 of each feature's text)."""
    s = "\x02" + line[:HEAD] + "\x03"
    names = [f"g{s[i:i + n]}" for n in (1, 2, 3) for i in range(len(s) - n + 1)]
    names += [f"len{min(len(line) // 5, 12)}", f"edge_{where}", f"prose{int(prose)}", f"start_{line[:2]}", f"end_{line[-2:]}"]
    return sorted({zlib.crc32(name.encode("utf-8")) % DIM for name in names})


@dataclass
class LineModel:
    weights: np.ndarray  # dense, DIM floats
    bias: float

    def probability(self, line: str, where: str, prose: bool = False) -> float:
        z = self.bias + float(self.weights[features(line, where, prose)].sum())
        return 1.0 / (1.0 + np.exp(-z))

    @classmethod
    def load(cls, path: Path | str = MODEL_FILE) -> "LineModel":
        with np.load(path) as z:
            weights = np.zeros(int(z["dim"]), np.float32)
            weights[z["idx"]] = z["w"]
            return cls(weights, float(z["bias"]))

    def save(self, path: Path | str) -> None:
        idx = np.flatnonzero(np.abs(self.weights) > 1e-4).astype(np.int32)
        np.savez_compressed(path, dim=np.int64(len(self.weights)), idx=idx, w=self.weights[idx].astype(np.float32),
                            bias=np.float64(self.bias))


@lru_cache(maxsize=1)
def default_model() -> LineModel | None:
    """The shipped model, or None when the file is missing (a checkout that never trained one)."""
    return LineModel.load(MODEL_FILE) if MODEL_FILE.is_file() else None


def adam(gradient, params: list[np.ndarray], steps: int, lr: float) -> list[np.ndarray]:
    """Minimise by Adam: ``gradient(params)`` gives the gradient of each parameter array; deterministic. Shared by
    this model and the genre router's (builder/stages/templates/genre_model.py)."""
    m = [np.zeros_like(x) for x in params]
    v = [np.zeros_like(x) for x in params]
    for t in range(1, steps + 1):
        for x, g, mi, vi in zip(params, gradient(params), m, v):
            mi *= 0.9
            mi += 0.1 * g
            vi *= 0.999
            vi += 0.001 * g * g
            x -= lr * (mi / (1 - 0.9**t)) / (np.sqrt(vi / (1 - 0.999**t)) + 1e-8)
    return params


def train(rows: list[tuple[str, str, bool, bool]], l2: float = 1e-4, steps: int = 300, lr: float = 0.05) -> LineModel:
    """Logistic regression by Adam on (line, where, prose, is_furniture) rows; deterministic (no sampling)."""
    from scipy import sparse

    indices, indptr = [], [0]
    for line, where, prose, _ in rows:
        indices += features(line, where, prose)
        indptr.append(len(indices))
    x = sparse.csr_matrix((np.ones(len(indices), np.float64), indices, indptr), shape=(len(rows), DIM))
    y = np.array([furniture for *_, furniture in rows], np.float64)

    def gradient(params):
        w, b = params
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        return [x.T @ (p - y) / len(y) + l2 * w, np.array((p - y).mean())]

    w, b = adam(gradient, [np.zeros(DIM), np.zeros(())], steps, lr)
    return LineModel(w.astype(np.float32), float(b))
