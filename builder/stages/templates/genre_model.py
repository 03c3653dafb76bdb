"""A learned second opinion for the genre router: a character n-gram linear classifier.

The rules of ``genres.toml`` know the wordings they were written for; pages from sites never seen before
keep bringing new ones (a signed column that tells a story reads as a feature, a scene piece without a
scene opening reads as news). This model generalises from the labelled articles instead: a softmax
regression over hashed character 1-3-grams of the title, 2-3-grams of the narration (the text without what
is inside quotation marks, the first ``HEAD`` characters) and the first two characters of each line
(问：, 第一, 【…). It is trained by ``bench/quality/train_genre_model.py`` on the labelled set and the
labelled written pages and shipped as ``genre_model.npz`` beside this file (non-zero weight rows only).

The router asks it after the rules: when the model puts ``override`` or more of its probability on another
genre than the rules chose, the model's genre stands, with its probability as the evidence (see
:meth:`GenreClassifier.classify`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DIM = 1 << 16  # 65,536 buckets: a few thousand documents need no more, and the shipped file stays small
HEAD = 2000  # characters of narration the n-grams are taken from
LINES = 30  # lines whose first two characters are features


def feature_counts(title: str, narration: str, text: str) -> dict[int, int]:
    """Hashed feature ids and their counts (stable across runs and machines: CRC-32 of each feature's text)."""
    nar = narration[:HEAD]
    names = [f"t{title[i:i + n]}" for n in (1, 2, 3) for i in range(len(title) - n + 1)]
    names += [f"x{nar[i:i + n]}" for n in (2, 3) for i in range(len(nar) - n + 1)]
    names += [f"l{line.strip()[:2]}" for line in text.split("\n") if line.strip()][:LINES]
    counts: dict[int, int] = {}
    for name in names:
        k = zlib.crc32(name.encode("utf-8")) % DIM
        counts[k] = counts.get(k, 0) + 1
    return counts


def vector(counts: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, values): log counts scaled to unit length, so a long article weighs no more than a short one."""
    ids = np.array(sorted(counts), dtype=np.int64)
    vals = np.log1p(np.array([counts[k] for k in ids], dtype=np.float64))
    norm = float(np.linalg.norm(vals))
    return ids, vals / norm if norm else vals


@dataclass
class GenreModel:
    classes: tuple[str, ...]
    rows: np.ndarray  # the feature ids with a weight, sorted
    weights: np.ndarray  # (len(rows), len(classes))
    bias: np.ndarray

    def probabilities(self, title: str, narration: str, text: str) -> dict[str, float]:
        ids, vals = vector(feature_counts(title, narration, text))
        pos = np.searchsorted(self.rows, ids)
        pos[pos >= len(self.rows)] = 0
        hit = self.rows[pos] == ids
        z = vals[hit] @ self.weights[pos[hit]] + self.bias
        z = np.exp(z - z.max())
        p = z / z.sum()
        return {c: float(x) for c, x in zip(self.classes, p)}

    def save(self, path: Path) -> None:
        np.savez_compressed(path, classes=np.array(self.classes), rows=self.rows.astype(np.int32),
                            weights=self.weights.astype(np.float16), bias=self.bias.astype(np.float32))


@lru_cache(maxsize=4)
def load_model(path: str) -> GenreModel:
    with np.load(path) as data:
        return GenreModel(tuple(str(c) for c in data["classes"]), data["rows"].astype(np.int64),
                          data["weights"].astype(np.float64), data["bias"].astype(np.float64))


def train(docs: list[tuple[str, str, str, str]], classes: tuple[str, ...], steps: int = 300, lr: float = 0.1,
          l2: float = 1e-5) -> GenreModel:
    """Softmax regression by Adam on (title, narration, text, genre) rows; deterministic (no sampling)."""
    from scipy import sparse

    from ...text.line_model import adam

    indices: list[int] = []
    values: list[float] = []
    indptr = [0]
    for title, narration, text, _ in docs:
        ids, vals = vector(feature_counts(title, narration, text))
        indices += ids.tolist()
        values += vals.tolist()
        indptr.append(len(indices))
    x = sparse.csr_matrix((values, indices, indptr), shape=(len(docs), DIM))
    y = np.eye(len(classes))[[classes.index(g) for *_, g in docs]]

    def gradient(params):
        w, b = params
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return [x.T @ (p - y) / len(docs) + l2 * w, (p - y).mean(axis=0)]

    w, b = adam(gradient, [np.zeros((DIM, len(classes))), np.zeros(len(classes))], steps, lr)
    rows = np.flatnonzero(np.abs(w).max(axis=1) > 1e-4)
    return GenreModel(tuple(classes), rows, w[rows], b)
