"""Near-duplicate detection for Chinese text: exact hash, MinHash + LSH, directed containment, verification.

The engine behind the ``dedup`` stage, written so any stage can reuse it on a list of strings.
Modules, in the order the work happens: :mod:`.settings` (one frozen config), :mod:`.sketch`
(worker side: shingles, signatures, fingerprints), :mod:`.candidates` (LSH bands, containment
fingerprints), :mod:`.verify` (exact measures, the same-template check), :mod:`.engine` (clusters,
containment, keep policy), :mod:`.api` (one-call helpers).

How it decides that two texts are duplicates
--------------------------------------------
1. Both texts are put in comparison form (:func:`builder.text.normalize.compare_form`: NFKC width
   folding, lower case, punctuation and whitespace dropped). Same form = *exact* duplicate (xxh3-128).
2. Shingles: character n-grams of the comparison form (default n=5), hashed in numpy all positions
   at once (``tokenizer="word"``: n-grams of jieba words, hashed with xxh3).
3. Signatures: rensa's R-MinHash over a whole batch in one Rust call (``signature_backend="numpy"``:
   datasketch's affine32 scheme in numpy, equal to ``datasketch.MinHash`` with :func:`gram_hash`).
4. Candidates: LSH bands (rows and bands from datasketch's optimiser, weighted towards recall) and,
   for excerpts, documents sharing enough consistently sampled fingerprints.
5. Verification on the exact shingle sets, re-made from the stored comparison forms. A pair is a
   near duplicate when its Jaccard reaches ``threshold`` (``short_threshold`` when the smaller text
   has under ``short_chars`` characters; below ``min_near_chars`` only exact matches count), and a
   containment when the smaller one's shingles are ``containment_threshold`` inside the larger.
   Either way, not when the two swap a number, an ordinal or a name at the same place in shared
   wording (``distinct_slots``: same template, different event; see :mod:`.verify`).
6. Near clusters are the connected components of exact and Jaccard pairs. Containment is directed
   and never joins clusters: a contained cluster is removed in favour of its container's cluster,
   and the keep policy never removes a container for its excerpt (:mod:`.engine`).

Reuse: dedup a list of generated instructions
---------------------------------------------
>>> from builder.text.minhash import find_duplicates
>>> result = find_duplicates(instructions, ids=instruction_ids, ngram=3, threshold=0.6,
...                          containment_threshold=None, min_near_chars=0, short_chars=0)
>>> result.removed            # {removed_id: (kept_id, similarity, "exact"|"jaccard"|"containment")}
>>> kept = [i for i, keep in zip(instruction_ids, result.keep) if keep]

Reuse: contamination between an evaluation set and a training set
------------------------------------------------------------------
>>> from builder.text.minhash import contamination
>>> hits = contamination(eval_texts, train_texts, threshold=0.5, containment_threshold=0.8)
>>> for h in hits: print(h.eval_index, h.train_index, h.jaccard, h.containment, h.match)
"""

from __future__ import annotations

from .api import ContaminationHit, DuplicateResult, contamination, describe_bands, find_duplicates, removal_match
from .candidates import band_keys, containment_candidates, lsh_candidates
from .engine import Clustering, DuplicatePairs, Mapper, MinHashDeduper, Resolution, choose_keepers, pool_mapper, resolve
from .settings import KEEP_POLICIES, MinHashSettings
from .sketch import (BatchSketch, fingerprints, gram_hash, permutations, positional_hashes, shingle_hashes, shingles,
                     signatures, sketch_batch)
from .verify import is_slot, measure_sets, slot_substitutions

__all__ = ["MinHashSettings", "MinHashDeduper", "Clustering", "Resolution", "DuplicatePairs", "DuplicateResult",
           "ContaminationHit", "Mapper", "BatchSketch", "find_duplicates", "contamination", "choose_keepers", "resolve",
           "shingles", "shingle_hashes", "positional_hashes", "gram_hash", "signatures", "permutations", "fingerprints",
           "sketch_batch", "lsh_candidates", "containment_candidates", "band_keys", "measure_sets", "slot_substitutions",
           "is_slot", "describe_bands", "removal_match", "pool_mapper", "KEEP_POLICIES"]
