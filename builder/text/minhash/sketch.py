"""Worker side: comparison form, shingle hashes, MinHash signatures and containment fingerprints of a batch.

Shingles of the ``char`` tokenizer are hashed in numpy, all positions of a text at once: the code
points of the comparison form are combined as a polynomial (``h = h * P + c`` over the n characters,
wrapping at 2**64) and mixed with splitmix64's finaliser. :func:`gram_hash` is the same function for
one shingle string, so ``datasketch.MinHash(hashfunc=lambda b: gram_hash(b.decode()) & 0xffffffff)``
reproduces the ``numpy`` signature backend exactly (a test pins it). This replaced one Python call
to xxh3 per shingle (6× faster on 770-character news: 35 µs instead of 200 µs a document).

Signatures come from rensa's R-MinHash (Rust) by default, fed the flat array of a batch's shingle
hashes in one call: 4 µs a document, against 460 µs for the numpy affine32 path (measured on 3,000
demo news articles, 128 permutations). Its per-slot collision probability estimates Jaccard like
classic MinHash, which is all the LSH bands need; every candidate is verified exactly afterwards.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import xxhash

from ..normalize import _PUNCT, compare_form
from ..shingles import char_grams
from .settings import MinHashSettings

# rensa spreads a large batch over a Rayon thread pool; a process that forks after that pool exists (the
# dedup stage's workers are forked) hangs in the child's first rensa call, and the stage already runs one
# worker per core. So rensa stays on the calling thread here (set before rensa is first imported).
os.environ.setdefault("RENSA_DOC_PAR_BATCH_SIZE", str(2**62))

U32 = np.uint32
U64 = np.uint64
MAX32 = np.uint32(0xFFFFFFFF)
WORD_JOIN = "\x1f"
_P = U64(0x100000001B3)
_M1, _M2 = U64(0xBF58476D1CE4E5B9), U64(0x94D049BB133111EB)

_JIEBA = None


def _jieba():
    global _JIEBA
    if _JIEBA is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _JIEBA = jieba
    return _JIEBA


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, vectorised (wrapping uint64 arithmetic)."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> U64(30))) * _M1
        h = (h ^ (h >> U64(27))) * _M2
        return h ^ (h >> U64(31))


# punctuation and spaces that stay punctuation under NFKC: dropped before folding, so that most Chinese
# texts are NFKC-normal afterwards and skip the (slow) normalisation; the result equals compare_form's
# (a test checks every BMP character and the corpora)
_PRE_PUNCT = re.compile("[\\s!-/:-@\\[-`{-~\u2000-\u206f\u3000-\u3004\u3008-\u3020\u3030"
                        "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+")


def comparison_form(text: str) -> str:
    """:func:`builder.text.normalize.compare_form`, twice as fast on Chinese news (NFKC only when needed)."""
    if "Σ" in text:  # Greek final sigma lower-cases by context, which dropping punctuation first would change
        return compare_form(text)
    t = _PRE_PUNCT.sub("", text)
    if not unicodedata.is_normalized("NFKC", t):
        t = unicodedata.normalize("NFKC", t)
    return _PUNCT.sub("", t.lower())


_UNKNOWN, _UNSAFE, _DROP = -3, -2, -1
_TABLE = np.full(0x10000, _UNKNOWN, np.int32)
_JAMO = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xD7B0, 0xD7FF), (0xD800, 0xDFFF))


def _fold_char(c: int) -> int:
    """What BMP character ``c`` becomes in the comparison form: a code point, _DROP, or _UNSAFE (combining
    marks, Hangul jamo, final-sigma casing, or a multi-character result: such texts take the string path)."""
    if any(lo <= c <= hi for lo, hi in _JAMO) or c == 0x3A3:
        return _UNSAFE
    ch = chr(c)
    if unicodedata.combining(ch):
        return _UNSAFE
    folded = unicodedata.normalize("NFKC", ch)
    if any(unicodedata.combining(x) for x in folded):
        return _UNSAFE
    out = "".join(x for x in folded.lower() if x.isalnum())
    return _DROP if not out else ord(out) if len(out) == 1 else _UNSAFE


def form_code_points(text: str) -> np.ndarray:
    """Code points of :func:`comparison_form` (text), by table lookup in numpy when every character allows it."""
    cp = np.frombuffer(text.encode("utf-32-le"), dtype=U32)
    if len(cp) and int(cp.max()) < 0x10000:
        mapped = _TABLE[cp]
        if (mapped == _UNKNOWN).any():  # the table fills in as characters are first seen
            for c in np.unique(cp[mapped == _UNKNOWN]).tolist():
                _TABLE[c] = _fold_char(c)
            mapped = _TABLE[cp]
        if not (mapped == _UNSAFE).any():
            return mapped[mapped >= 0].astype(U32)
    return code_points(comparison_form(text)) if text else np.empty(0, U32)


class Utf8Batch:
    """Texts as one UTF-8 buffer and byte offsets (Arrow's string layout): what the dedup stage sends its
    workers instead of a list of ``str``, so neither side builds or pickles a Python object per text (the
    driver's share of sketching fell from about 0.3 to 0.07 s per 50,000 news articles)."""

    def __init__(self, data: bytes, offsets: np.ndarray):
        self.data = data
        self.offsets = offsets  # int64, len(texts) + 1, starting at 0

    @classmethod
    def from_series(cls, series) -> "Utf8Batch":
        """A polars String series (nulls read as empty texts), without a per-text copy."""
        import pyarrow as pa

        arr = series.fill_null("").to_arrow()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if arr.type != pa.large_string():
            arr = arr.cast(pa.large_string())
        _, off_buf, data_buf = arr.buffers()
        off = np.frombuffer(off_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
        if not len(off):
            return cls(b"", np.zeros(1, np.int64))
        return cls(bytes(memoryview(data_buf)[int(off[0]) : int(off[-1])]) if data_buf is not None else b"",
                   (off - off[0]).astype(np.int64))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, key: slice) -> "Utf8Batch":
        start, stop, _ = key.indices(len(self))
        stop = max(start, stop)
        off = self.offsets[start : stop + 1]
        return Utf8Batch(self.data[int(off[0]) : int(off[-1])], off - off[0])

    def strings(self) -> list[str]:
        o = self.offsets.tolist()
        return [self.data[o[k] : o[k + 1]].decode("utf-8") for k in range(len(self))]

    def code_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(all code points, per-text character counts): one decode and one encode for the whole batch."""
        allcp = np.frombuffer(self.data.decode("utf-8").encode("utf-32-le"), dtype=U32)
        starts = np.concatenate(([0], np.cumsum((np.frombuffer(self.data, np.uint8) & 0xC0) != 0x80)))
        return allcp, np.diff(starts[self.offsets]).astype(np.int64)


def batch_code_points(texts: Sequence[str] | Utf8Batch) -> list[np.ndarray]:
    """:func:`form_code_points` of every text of a batch: one encode and one table lookup for the whole batch,
    then views per text (texts with characters the table cannot fold take the per-text path)."""
    n = len(texts)
    if not n:
        return []
    if isinstance(texts, Utf8Batch):
        allcp, lens = texts.code_points()
        text_of = lambda k: texts.data[texts.offsets[k] : texts.offsets[k + 1]].decode("utf-8")  # noqa: E731
    else:
        try:
            allcp = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=U32)
        except UnicodeEncodeError:  # lone surrogates: per text, as form_code_points does
            return [form_code_points(t) for t in texts]
        lens = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
        text_of = texts.__getitem__
    doc = np.repeat(np.arange(n), lens)
    mapped = _TABLE[np.minimum(allcp, 0xFFFF)]
    mapped[allcp > 0xFFFF] = _UNSAFE
    if (mapped == _UNKNOWN).any():  # the table fills in as characters are first seen
        for c in np.unique(allcp[mapped == _UNKNOWN]).tolist():
            _TABLE[c] = _fold_char(c)
        mapped = _TABLE[np.minimum(allcp, 0xFFFF)]
        mapped[allcp > 0xFFFF] = _UNSAFE
    unsafe = np.zeros(n, bool)
    unsafe[doc[mapped == _UNSAFE]] = True
    keep = mapped >= 0
    flat = mapped[keep].astype(U32)
    counts = np.bincount(doc[keep], minlength=n)
    offs = np.concatenate(([0], np.cumsum(counts))).tolist()
    out = [flat[offs[k] : offs[k + 1]] for k in range(n)]
    for k in np.flatnonzero(unsafe).tolist():
        out[k] = code_points(comparison_form(text_of(k)))
    return out


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` for 1-d arrays, by sorting (5x faster than numpy 2's hash-based unique here)."""
    if len(a) < 2:
        return a.copy()
    s = np.sort(a)
    return s[np.concatenate(([True], s[1:] != s[:-1]))]


def code_points(form: str) -> np.ndarray:
    """A string as a uint32 array of its code points (what the scratch store keeps per document)."""
    return np.frombuffer(form.encode("utf-32-le"), dtype=U32)


HASH_BITS = 48  # shingle hashes keep 48 bits, so a batch sorts (document << 48 | hash) in one array


def positional_hashes(cp: np.ndarray, ngram: int) -> np.ndarray:
    """48-bit hash of the character n-gram starting at each position (one hash of the whole text when shorter)."""
    if not len(cp):
        return np.empty(0, U64)
    n = min(ngram, len(cp))
    L = len(cp) - n + 1
    c = cp.astype(U64)
    h = np.zeros(L, dtype=U64)
    with np.errstate(over="ignore"):
        for k in range(n):
            h = h * _P + c[k : k + L]
    return _mix(h) >> U64(64 - HASH_BITS)


def gram_hash(gram: str) -> int:
    """The hash :func:`positional_hashes` gives one shingle (for datasketch's ``hashfunc``)."""
    return int(positional_hashes(code_points(gram), len(gram))[0]) if gram else 0


def shingles(text: str, ngram: int = 5, tokenizer: str = "char", form: str | None = None) -> list[str]:
    """The shingles of a text: character n-grams of its comparison form, or n-grams of jieba words."""
    if tokenizer == "char":
        return char_grams(comparison_form(text) if form is None else form, ngram)
    words = [w for w in (compare_form(t) for t in _jieba().lcut(unicodedata.normalize("NFKC", text).lower())) if w]
    if len(words) <= ngram:
        return [WORD_JOIN.join(words)] if words else []
    return [WORD_JOIN.join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]


def shingle_hashes(text: str, ngram: int = 5, tokenizer: str = "char", form: str | None = None) -> np.ndarray:
    """Sorted unique uint64 hashes of a text's shingles: its exact shingle set."""
    if tokenizer == "char":
        return sorted_unique(positional_hashes(code_points(comparison_form(text) if form is None else form), ngram))
    h = xxhash.xxh3_64_intdigest
    grams = shingles(text, ngram, tokenizer)
    return sorted_unique(np.fromiter((h(g.encode("utf-8")) >> (64 - HASH_BITS) for g in grams), dtype=U64, count=len(grams)))


# -- signatures ----------------------------------------------------------------------------------------------

def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch's affine32 scheme applies it before permuting."""
    h = h ^ (h >> U32(16))
    h = h * U32(0x85EBCA6B)
    h = h ^ (h >> U32(13))
    h = h * U32(0xC2B2AE35)
    return h ^ (h >> U32(16))


_PERMS: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a, b) for this seed."""
    key = (num_perm, seed)
    if key not in _PERMS:
        from datasketch import MinHash

        a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        _PERMS[key] = (np.asarray(a, dtype=U32), np.asarray(b, dtype=U32))
    return _PERMS[key]


def signatures(hash_sets: Sequence[np.ndarray], num_perm: int = 128, seed: int = 1, chunk: int = 16384,
               backend: str = "numpy") -> np.ndarray:
    """MinHash signatures of many shingle sets at once: one (len(hash_sets), num_perm) uint32 matrix.

    ``backend="rensa"``: rensa's R-MinHash over the flat hash array, one Rust call. ``"numpy"``:
    datasketch's affine32 scheme, all shingles of a chunk permuted in one numpy expression and
    reduced per document with ``np.minimum.reduceat``. Empty sets get all-ones rows either way.
    """
    if backend == "rensa":
        return _rensa_signatures(hash_sets, num_perm, seed)
    a, b = permutations(num_perm, seed)
    out = np.full((len(hash_sets), num_perm), MAX32, dtype=U32)
    docs = [i for i, h in enumerate(hash_sets) if len(h)]
    start = 0
    while start < len(docs):
        group, total = [], 0
        while start < len(docs) and (not group or total + len(hash_sets[docs[start]]) <= chunk):
            group.append(docs[start])
            total += len(hash_sets[docs[start]])
            start += 1
        hv = np.concatenate([hash_sets[i] for i in group]).astype(U32)  # low 32 bits, as hashfunc & 0xffffffff
        hv = _fmix32(hv)
        with np.errstate(over="ignore"):
            phv = hv[:, None] * a[None, :] + b[None, :]
        offsets = np.cumsum([0] + [len(hash_sets[i]) for i in group[:-1]])
        out[group] = np.minimum.reduceat(phv, offsets, axis=0)
    return out


def _rensa_signatures(hash_sets: Sequence[np.ndarray], num_perm: int, seed: int) -> np.ndarray:
    from rensa import RMinHash

    out = np.full((len(hash_sets), num_perm), MAX32, dtype=U32)
    docs = [i for i, h in enumerate(hash_sets) if len(h)]
    if not docs:
        return out
    flat = np.ascontiguousarray(np.concatenate([hash_sets[i] for i in docs]), dtype=U64)
    offsets = np.zeros(len(docs) + 1, dtype=U64)
    np.cumsum([len(hash_sets[i]) for i in docs], out=offsets[1:])
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, num_perm, seed)
    out[docs] = np.asarray(matrix.to_rows(), dtype=U32)
    return out


def _rensa_flat(flat: np.ndarray, counts: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """:func:`_rensa_signatures` of a batch's flat sets and per-document counts (no per-document arrays)."""
    from rensa import RMinHash

    out = np.full((len(counts), num_perm), MAX32, dtype=U32)
    docs = np.flatnonzero(counts)
    if not len(docs):
        return out
    offsets = np.zeros(len(docs) + 1, dtype=U64)
    np.cumsum(counts[docs], out=offsets[1:])
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(np.ascontiguousarray(flat, dtype=U64), offsets, num_perm, seed)
    out[docs] = np.asarray(matrix.to_rows(), dtype=U32)
    return out


def fingerprints(hashes: np.ndarray, sample_bits: int) -> np.ndarray:
    """Consistent sample of a shingle set: hashes whose top ``sample_bits`` bits are zero, kept as 31-bit values."""
    picked = hashes[_sampled(hashes, sample_bits)] if sample_bits else hashes
    return sorted_unique((picked & U64(0x7FFFFFFF)).astype(U32))


def _sampled(hashes: np.ndarray, sample_bits: int) -> np.ndarray:
    """Consistent 1-in-2**sample_bits sample: the top bits of the 48-bit hash (word hashes: of the 64-bit one) are zero."""
    return (hashes >> U64(HASH_BITS - sample_bits)) == 0 if sample_bits else np.ones(len(hashes), bool)


# -- one batch -----------------------------------------------------------------------------------------------

@dataclass
class BatchSketch:
    """What a worker returns for a batch of texts (no text)."""

    exact: list[int]
    chars: np.ndarray
    n_shingles: np.ndarray
    sig: np.ndarray
    fp: np.ndarray
    fp_counts: np.ndarray
    form_lengths: np.ndarray  # code points stored per document
    store: str | None = None  # file: the batch's code points (uint32), then its sorted shingle sets (uint64)
    bands: str | None = None  # file: the batch's LSH band keys grouped by partition (candidates.write_band_partitions)
    band_offsets: np.ndarray | None = None  # byte offset of each partition's slice in ``bands``
    forms: list[tuple[np.ndarray, np.ndarray]] | None = None  # (code points, set) per document, without a store
    seconds: dict[str, float] | None = None


def _batch_sets(cps: list[np.ndarray], ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique shingle hashes of every document of a batch at once: (flat sets, per-document counts).

    All code points are hashed in one pass, windows that cross a document boundary are dropped, and one
    sort of ``document << 48 | hash`` orders and deduplicates every document's set together.
    """
    lens = np.fromiter((len(c) for c in cps), dtype=np.int64, count=len(cps))
    counts = np.zeros(len(cps), np.int64)
    if not lens.sum():
        return np.empty(0, U64), counts
    allcp = np.concatenate(cps)
    starts = np.concatenate(([0], np.cumsum(lens)[:-1]))
    full = positional_hashes(allcp, ngram) if len(allcp) >= ngram else np.empty(0, U64)
    pieces_doc, pieces_hash = [], []
    long_docs = np.flatnonzero(lens >= ngram)
    if len(long_docs):
        per = lens[long_docs] - ngram + 1
        pos = np.repeat(starts[long_docs], per) + (np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per))
        pieces_doc.append(np.repeat(long_docs.astype(U64), per))
        pieces_hash.append(full[pos])
    for d in np.flatnonzero((lens > 0) & (lens < ngram)).tolist():  # shorter than one shingle: the whole text
        pieces_doc.append(np.array([d], U64))
        pieces_hash.append(positional_hashes(cps[d], ngram))
    key = np.concatenate(pieces_hash) | (np.concatenate(pieces_doc) << U64(HASH_BITS))
    key = sorted_unique(key)
    doc = (key >> U64(HASH_BITS)).astype(np.int64)
    counts = np.bincount(doc, minlength=len(cps)).astype(np.int64)
    return key & U64((1 << HASH_BITS) - 1), counts


def _batch_fingerprints(flat: np.ndarray, counts: np.ndarray, sample_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fingerprints` of every document of a batch at once: (flat fingerprints, per-document counts)."""
    doc = np.repeat(np.arange(len(counts), dtype=U64), counts)
    pick = _sampled(flat, sample_bits)
    key = sorted_unique(((flat[pick] & U64(0x7FFFFFFF)) | (doc[pick] << U64(32))))
    fp_counts = np.bincount((key >> U64(32)).astype(np.int64), minlength=len(counts)).astype(np.int64)
    return (key & U64(0xFFFFFFFF)).astype(U32), fp_counts


def sketch_batch(task: tuple) -> BatchSketch:
    """Worker: exact hash, shingle set, signature and fingerprints of a batch of texts (picklable, top level).
    ``task`` = (batch id, texts (a list or a :class:`Utf8Batch`), settings, scratch folder or None[, write band keys]): the band keys go to the
    scratch folder only when the caller will pair them in partition tasks (a pool or Ray, not one process)."""
    import time

    batch_id, texts, s, store_dir = task[:4]
    write_bands = bool(task[4]) if len(task) > 4 else False
    t0 = time.perf_counter()
    cps = batch_code_points(texts if isinstance(texts, Utf8Batch) else [text or "" for text in texts])
    exact = [xxhash.xxh3_128_intdigest(c.tobytes()) for c in cps]
    if s.tokenizer == "char":
        flat, counts = _batch_sets(cps, s.ngram)
    else:
        strings = texts.strings() if isinstance(texts, Utf8Batch) else texts
        sets = [shingle_hashes(text or "", s.ngram, "word") for text in strings]
        counts = np.fromiter((len(h) for h in sets), dtype=np.int64, count=len(sets))
        flat = np.concatenate(sets) if sets else np.empty(0, U64)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    t1 = time.perf_counter()
    if s.near and s.signature_backend == "rensa":
        sig = _rensa_flat(flat, counts, s.num_perm, s.seed)
    elif s.near:
        sets_view = [flat[offsets[k] : offsets[k + 1]] for k in range(len(texts))]
        sig = signatures(sets_view, s.num_perm, s.seed, backend=s.signature_backend)
    else:
        sig = np.empty((len(texts), 0), U32)
    t2 = time.perf_counter()
    if s.containment and s.near:
        fp, fp_counts = _batch_fingerprints(flat, counts, s.sample_bits)
    else:
        fp, fp_counts = np.empty(0, U32), np.zeros(len(texts), np.int64)
    lens = np.fromiter((len(c) for c in cps), dtype=np.int64, count=len(cps))
    result = BatchSketch(exact=exact, chars=lens, n_shingles=counts, sig=sig, fp=fp, fp_counts=fp_counts, form_lengths=lens)
    if store_dir is not None:
        path = Path(store_dir) / f"{batch_id:07d}.bin"
        allcp = np.concatenate(cps).astype(U32) if cps else np.empty(0, U32)
        with open(path, "wb") as f:
            f.write(allcp.tobytes())
            if len(allcp) % 2:
                f.write(b"\0\0\0\0")  # the sets start 8-byte aligned
            f.write(flat.astype(U64).tobytes())
        result.store = str(path)
        if write_bands and s.near and s.lsh_backend == "bands" and len(texts) < 2**16:
            from .candidates import write_band_partitions

            result.bands = str(path.with_suffix(".bands"))
            result.band_offsets = write_band_partitions(result.bands, sig, s)
    else:
        result.forms = [(cps[k], flat[offsets[k] : offsets[k + 1]].copy()) for k in range(len(texts))]
    t3 = time.perf_counter()
    result.seconds = {"shingles": t1 - t0, "signatures": t2 - t1, "fingerprints_store": t3 - t2}
    return result
