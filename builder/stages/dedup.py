"""dedup: remove exact and near-duplicate documents (reposts, excerpts, truncations) from the corpus.

Two streaming passes over the corpus shards:

1. sketch: each shard is read, its texts go to the workers in batches (one process pool for the
   stage, forked before anything big is held, a few batches in flight), which return only an exact hash, a MinHash signature, containment fingerprints and counts; the
   comparison forms go to a scratch folder for verification. Ids, sources, dates and lengths stay
   in memory, texts do not.
2. decide (:class:`builder.text.minhash.MinHashDeduper`): exact duplicates of the normalised text
   first, then LSH and containment candidates, verified on the exact shingle sets (same-template
   pairs that swap a number or a name are not duplicates), near clusters, the keep policy inside
   each, then directed containment: a contained document goes to its container, never the reverse.
3. write: the shards are read again; kept documents go to ``data/`` shard by shard, removed ones to
   ``rejected/`` with reason ``duplicate_exact`` or ``duplicate_near``, the kind of match, the kept
   document's id, the container's id for excerpts, both lengths and the measured Jaccard and
   containment. The report flags groups larger than ``review_cluster_size`` with their members.
"""

from __future__ import annotations

import random
import shutil
import time
from typing import Any, Iterator

import numpy as np
import polars as pl
import xxhash

from ..shards import REJECTED_SCHEMA, shard_files
from ..text.minhash import MinHashDeduper, MinHashSettings, describe_bands, removal_match
from ..text.minhash.sketch import Utf8Batch
from ..executors import executor_for
from .base import Stage, StageRun

SIZE_BINS = [(2, 2, "2"), (3, 3, "3"), (4, 4, "4"), (5, 5, "5"), (6, 10, "6-10"), (11, 20, "11-20"), (21, 100, "21-100"),
             (101, 10**12, "101+")]
EXCERPT = 160
MEMBER_EXCERPT = 60
MAX_FLAGGED_MEMBERS = 5000  # members listed in the large-cluster table, all clusters together


def load_kernels() -> None:
    """Import (or compile) the compiled verification loops; run in each worker (see ``DedupStage.run``)."""
    from ..text.minhash.kernels import warm

    warm()


def load_kernels_aside() -> None:
    """Each worker's setup: load the compiled kernels in a thread while the worker sketches. The sketch leaves
    some of the CPU idle (waiting for batches, writing its store), and loading them once sketching was done put
    0.8 s on the stage's critical path; a worker that needs them before they are in waits at the import."""
    import threading

    threading.Thread(target=load_kernels, daemon=True, name="dedup-kernels").start()


class DedupStage(Stage):
    name = "dedup"
    needs = ("corpus",)
    summary = "remove exact and near-duplicate documents (MinHash LSH, directed containment, verified)"
    rejected_columns = {**REJECTED_SCHEMA, "cluster_id": pl.String, "kept_id": pl.String, "container_id": pl.String,
                        "similarity": pl.Float64, "match": pl.String, "jaccard": pl.Float64, "containment": pl.Float64,
                        "removed_chars": pl.Int64, "kept_chars": pl.Int64}

    def minhash_settings(self) -> MinHashSettings:
        s = self.settings
        return MinHashSettings.from_config(s, seed=s["seed"])

    def config_fingerprint(self) -> dict[str, Any]:
        fp = super().config_fingerprint()
        # neither the batch size nor where the components are computed changes results
        fp["stage"] = {k: v for k, v in self.settings.items() if k not in ("batch_size", "driver_max_edges")}
        return fp

    def run(self, ctx: StageRun) -> None:
        folder = ctx.input("corpus")
        files = shard_files(folder)
        s = self.minhash_settings()
        if not self.settings["exact"] and not s.near:
            ctx.note("dedup: both exact and near passes are off; documents are passed through")
        ids: list[str] = []
        sources: list[str | None] = []
        published: list[str | None] = []
        paths: list[str | None] = []
        # scratch for the comparison forms; a fixed place, so a killed run's leftovers are cleared here
        store = self.build.output / ".tmp" / "dedup-forms"
        shutil.rmtree(store, ignore_errors=True)
        # one pool for the whole stage, forked now while this process is small (forked workers share its
        # pages, and later pools would each copy a grown parent), fed a few batches ahead without barriers
        seconds: dict[str, float] = {}  # the stage's own steps, next to the engine's (report table "timings")
        executor = executor_for(self.build)  # this machine's pool or a Ray cluster ([build] executor)
        workers = executor.workers
        kernels = s.near and s.verify  # the compiled verification loops (numba, cached next to their module)
        # killed on any exit: Ctrl-C or a dead worker never hangs the stage
        pool = executor.pool(load_kernels_aside if kernels else None)
        dd = MinHashDeduper(s, store_dir=store, batch_size=self.settings["batch_size"], mapper=pool.mapper(2 * workers + 1),
                            collapse_exact=self.settings["exact"], driver_max_edges=self.settings["driver_max_edges"])
        with pool:
            try:
                def texts() -> Iterator[list[str]]:
                    for f in ctx.track(files, "sketch shards"):
                        df = pl.read_parquet(f, columns=["id", "source", "path", "published", "text"])
                        ids.extend(df["id"].to_list())
                        sources.extend(df["source"].to_list())
                        published.extend(df["published"].to_list())
                        paths.extend(df["path"].to_list())
                        yield Utf8Batch.from_series(df["text"])  # no str per text, here or in the pickle

                dd.add(texts())
                ctx.log(f"{dd.count} documents sketched; {s.describe()}")
                cl = dd.cluster()
                res = dd.resolve(cl, self.settings["keep"], published, sources, self.settings["source_priority"])
                removed = res.removed
                sims = dd.removal_measures(cl, res)
                chars = dd.chars
            finally:
                dd.close()
                shutil.rmtree(store, ignore_errors=True)
        for k, v in cl.stats.items():
            if k != "exact_duplicates":
                ctx.count(k, v)

        t0 = time.perf_counter()
        # what each removed row becomes
        keeper = res.keeper
        group_size = np.bincount(keeper, minlength=len(keeper))
        decision: dict[int, dict[str, Any]] = {}
        cluster_ids: dict[int, str] = {}

        def cluster_id(k: int) -> str:
            if k not in cluster_ids:
                cluster_ids[k] = xxhash.xxh3_64_hexdigest(f"cluster:{ids[k]}:{k}".encode())
            return cluster_ids[k]

        for row, (jac, con) in zip(removed.tolist(), sims.tolist()):
            k = int(keeper[row])
            via = int(res.via[row])
            match, sim, direct = removal_match(res.match[row], jac, con, s)
            reason = "duplicate_exact" if match == "exact" else "duplicate_near"
            if match == "containment":
                what = f"contained in {ids[via]} ({paths[via]}; {con:.3f} of its shingles, jaccard {jac:.3f})"
                what += f"; kept {ids[k]}" if via != k else ""
            else:
                what = f"{'exact' if match == 'exact' else 'near'} duplicate of {ids[k]} ({paths[k]}; jaccard {jac:.3f}, containment {con:.3f})"
            link = "" if direct else " (linked through other cluster members)"
            decision[row] = {
                "reason": reason, "match": match, "similarity": round(float(sim), 4), "kept_row": k,
                "cluster_id": cluster_id(k), "kept_id": ids[k], "container_id": ids[via] if match == "containment" else None,
                "jaccard": round(float(jac), 4), "containment": round(float(con), 4),
                "removed_chars": int(chars[row]), "kept_chars": int(chars[k]),
                "detail": f"{what}{link}; {chars[row]} vs {chars[k]} characters; group of {int(group_size[k])}",
            }

        # pairs a person can review: sampled removed rows and their kept rows, texts collected in the write pass
        rnd = random.Random(self.build.settings["build"]["seed"])
        review = sorted(rnd.sample(sorted(decision), min(self.settings["review_pairs"], len(decision))))
        big = np.flatnonzero(group_size > self.settings["review_cluster_size"])
        flagged = np.flatnonzero(np.isin(keeper, big))[:MAX_FLAGGED_MEMBERS] if len(big) else np.empty(0, np.int64)
        want = set(review) | {decision[r]["kept_row"] for r in review} | set(flagged.tolist())
        texts_of: dict[int, str] = {}

        # the write pass: each shard's kept rows go to data/ as one frame (no per-row Python work), removed rows
        # to rejected/ one by one with their decision; rows wanted for the report tables keep their texts
        removed_rows = np.array(sorted(decision), dtype=np.int64)
        want_rows = np.array(sorted(want), dtype=np.int64)
        row = 0
        t1 = time.perf_counter()
        seconds["stage.decisions"] = t1 - t0
        for f in ctx.track(files, "write shards"):
            df = pl.read_parquet(f)
            end = row + df.height
            ctx.count("rows_in", df.height)
            text_col = df["text"]
            for r in want_rows[(want_rows >= row) & (want_rows < end)].tolist():
                texts_of[r] = text_col[r - row] or ""
            gone = removed_rows[(removed_rows >= row) & (removed_rows < end)]
            mask = np.zeros(df.height, bool)
            mask[gone - row] = True
            if len(gone):
                self._reject_frame(ctx, [decision[r] for r in gone.tolist()], df.filter(pl.Series(mask)))
            kept = df.filter(pl.Series(~mask)) if len(gone) else df
            # records pass through unchanged from the corpus stage, which checked them against the same schema:
            # the first of each shard is checked again (a wrong input folder fails loudly: it goes to rejected/
            # and the next is checked), the rest are written directly
            checked = 0
            for rec in kept.iter_rows(named=True):
                checked += 1
                if ctx.keep(rec):
                    break
            ctx.data.write_frame(kept[checked:])
            ctx.count("kept", kept.height - checked)
            row = end

        t2 = time.perf_counter()
        seconds["stage.write"] = t2 - t1
        ctx.count("large_clusters_flagged", int(len(big)))
        tables = self._tables(s, ids, sources, keeper, chars, decision, review, flagged, texts_of, cl.stats, {**dd.seconds, **seconds})
        seconds["stage.report"] = time.perf_counter() - t2
        tables["timings"] = pl.concat([tables["timings"].filter(pl.col("step") != "stage.report"),
                                       pl.DataFrame({"step": ["stage.report"], "seconds": [round(seconds["stage.report"], 3)]})])
        ctx.tables.update(tables)
        n_exact = sum(1 for d in decision.values() if d["reason"] == "duplicate_exact")
        n_cont = sum(1 for d in decision.values() if d["match"] == "containment")
        ctx.note(f"{len(decision)} of {len(ids)} documents removed ({n_exact} exact, {len(decision) - n_exact - n_cont} near, "
                 f"{n_cont} contained in a longer one); {int(np.count_nonzero(group_size > 1))} groups, "
                 f"{len(big)} larger than {self.settings['review_cluster_size']} flagged for review; {s.describe()}")

    def _reject_frame(self, ctx: StageRun, decided: list[dict[str, Any]], removed: pl.DataFrame) -> None:
        """Removed records with their decisions, as the rows ``ctx.reject`` writes, in one frame (the record's JSON
        is encoded by polars, column by column, not one ``json.dumps`` per row)."""
        def text_or_null(col: str) -> pl.Expr:
            if col not in removed.columns:
                return pl.lit(None, pl.String)
            return pl.when(pl.col(col) == "").then(pl.lit(None, pl.String)).otherwise(pl.col(col))

        base = removed.select(text_or_null("source").alias("source"), text_or_null("path").alias("path"),
                              text_or_null("id").alias("id"), pl.struct(pl.all()).struct.json_encode().alias("record"))
        cols: dict[str, list] = {"reason": [d["reason"] for d in decided], "detail": [d["detail"] for d in decided]}
        for key in ("cluster_id", "kept_id", "container_id", "similarity", "match", "jaccard", "containment", "removed_chars",
                    "kept_chars"):
            cols[key] = [d[key] for d in decided]
        frame = pl.concat([pl.DataFrame(cols), base], how="horizontal")
        ctx.rejected.write_frame(frame.select([pl.col(c).cast(t) for c, t in self.rejected_columns.items()]))
        for reason in cols["reason"]:
            ctx.count(reason)

    def _tables(self, s: MinHashSettings, ids, sources, keeper, chars, decision, review, flagged, texts_of, stats,
                seconds) -> dict[str, pl.DataFrame]:
        n = len(ids)
        reasons = [decision.get(r, {}).get("reason") for r in range(n)]
        df = pl.DataFrame({"source": [x or "" for x in sources], "reason": reasons}, schema={"source": pl.String, "reason": pl.String})

        def rates(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.agg(
                pl.len().alias("documents"),
                (pl.col("reason") == "duplicate_exact").sum().alias("exact_duplicates"),
                (pl.col("reason") == "duplicate_near").sum().alias("near_duplicates"),
            ).with_columns(
                (pl.col("exact_duplicates") / pl.col("documents")).round(4).alias("exact_rate"),
                (pl.col("near_duplicates") / pl.col("documents")).round(4).alias("near_rate"),
                ((pl.col("exact_duplicates") + pl.col("near_duplicates")) / pl.col("documents")).round(4).alias("duplicate_rate"),
            )

        overall = rates(df.select(pl.lit("(all)").alias("source"), "reason").group_by("source")) if n else pl.DataFrame()
        per_source = rates(df.group_by("source")).sort("source") if n else pl.DataFrame()
        rate_table = pl.concat([overall, per_source], how="vertical_relaxed") if n else pl.DataFrame(schema={"source": pl.String})

        group_sizes = np.bincount(keeper) if n else np.empty(0, np.int64)
        multi = group_sizes[group_sizes > 1]
        hist = []
        for lo, hi, label in SIZE_BINS:
            sel = multi[(multi >= lo) & (multi <= hi)]
            if len(sel):
                hist.append({"cluster_size": label, "clusters": int(len(sel)), "documents": int(sel.sum()),
                             "removed": int(sel.sum() - len(sel))})
        hist_table = pl.DataFrame(hist, schema={"cluster_size": pl.String, "clusters": pl.Int64, "documents": pl.Int64, "removed": pl.Int64})

        pairs = []
        for r in review:
            d = decision[r]
            k = d["kept_row"]
            pairs.append({"match": d["match"], "similarity": d["similarity"], "jaccard": d["jaccard"],
                          "containment": d["containment"], "removed_chars": d["removed_chars"], "kept_chars": d["kept_chars"],
                          "removed_id": ids[r], "kept_id": ids[k],
                          "removed_text": _excerpt(texts_of.get(r, "")), "kept_text": _excerpt(texts_of.get(k, ""))})
        pair_table = pl.DataFrame(pairs, schema={"match": pl.String, "similarity": pl.Float64, "jaccard": pl.Float64,
                                                 "containment": pl.Float64, "removed_chars": pl.Int64, "kept_chars": pl.Int64,
                                                 "removed_id": pl.String, "kept_id": pl.String, "removed_text": pl.String,
                                                 "kept_text": pl.String})

        removals = pl.DataFrame([{"removed_id": ids[r], "kept_id": d["kept_id"], "container_id": d["container_id"],
                                  "match": d["match"], "jaccard": d["jaccard"], "containment": d["containment"],
                                  "removed_chars": d["removed_chars"], "kept_chars": d["kept_chars"], "cluster_id": d["cluster_id"]}
                                 for r, d in sorted(decision.items())],
                                schema={"removed_id": pl.String, "kept_id": pl.String, "container_id": pl.String, "match": pl.String,
                                        "jaccard": pl.Float64, "containment": pl.Float64, "removed_chars": pl.Int64,
                                        "kept_chars": pl.Int64, "cluster_id": pl.String})

        members = []
        for r in flagged.tolist():
            k = int(keeper[r])
            d = decision.get(r)
            members.append({"cluster_id": xxhash.xxh3_64_hexdigest(f"cluster:{ids[k]}:{k}".encode()), "size": int(group_sizes[k]),
                            "member_id": ids[r], "role": "kept" if d is None else "removed", "match": None if d is None else d["match"],
                            "chars": int(chars[r]), "text": _excerpt(texts_of.get(r, ""), MEMBER_EXCERPT)})
        large = pl.DataFrame(members, schema={"cluster_id": pl.String, "size": pl.Int64, "member_id": pl.String, "role": pl.String,
                                              "match": pl.String, "chars": pl.Int64, "text": pl.String})

        passes = [{"step": k, "pairs": int(v)} for k, v in stats.items()]
        bands = describe_bands(s)
        passes += [{"step": f"lsh.{k}", "pairs": v} for k, v in bands.items()]
        pass_table = pl.DataFrame(passes, schema={"step": pl.String, "pairs": pl.Float64})
        time_table = pl.DataFrame([{"step": k, "seconds": round(v, 3)} for k, v in seconds.items()],
                                  schema={"step": pl.String, "seconds": pl.Float64})
        return {"duplicate_rates": rate_table, "cluster_sizes": hist_table, "review_pairs": pair_table, "removals": removals,
                "large_clusters": large, "passes": pass_table, "timings": time_table}


def _excerpt(text: str, limit: int = EXCERPT) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


STAGE = DedupStage
