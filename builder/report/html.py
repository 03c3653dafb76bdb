"""``<output>/report.html``: one self-contained page for reviewing a build, stage by stage.

Everything is read from what the stages wrote (their ``report/`` tables, ``data/`` and ``rejected/``
shards), so the page cannot disagree with the run. Per stage: the funnel (in -> kept, rejected by reason,
routing apart) with the glossary of reasons, length histograms per source, per-source shares, the stage's
own views, up to ``EXAMPLES`` examples per reject reason (full text on click, with source, path and
detail), and a sample of kept records that a reviewer marks accept or reject. The page has no server,
no CDN and no chart library: charts are inline SVG (``svg.py``) and the only script keeps the reviewer's
decisions and downloads them as JSON for ``builder review apply``.

The size stays bounded on large builds by sampling (examples, review samples, table rows, text length),
never by leaving a chart out.
"""

from __future__ import annotations

import importlib
import json
import time
from html import escape
from itertools import pairwise
from pathlib import Path
from typing import Any, Iterable, Mapping

import polars as pl

from ..shards import atomic_write_text, shard_files
from . import fmt, load_report
from .glossary import meaning
from .svg import bars, histogram

EXAMPLES = 10  # per reject reason
REVIEW_SAMPLE = 24  # kept records offered for review, per stage
REVIEW_PER_SUBCATEGORY = 2  # export: kept items offered per sub-category
TEXT_LIMIT = 6000  # characters of one text shown in full; longer ones say where the rest is
TABLE_ROWS = 40
TOP_SOURCES = 8
LENGTH_EDGES = (0, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
SIM_EDGES = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0001)
SHARE_FLAG = 0.5  # a source above this share of an export is flagged


def _stage_order() -> list[str]:
    from ..stages import ORDER

    return [n for n in ORDER if n not in ("train", "eval")]


def _stage_attrs(name: str) -> tuple[str, str, tuple[str, ...]]:
    from ..stages import ORDER

    try:
        cls = importlib.import_module(ORDER[name]).STAGE
        return cls.text_column, cls.source_column, tuple(cls.routing_reasons)
    except Exception:  # noqa: BLE001 - a stage that cannot be imported here still gets a page from its files
        return "text", "source", ()


def _scan(folder: Path) -> pl.LazyFrame | None:
    files = shard_files(folder)
    return pl.scan_parquet([str(f) for f in files]) if files else None


def _source_expr(cols: list[str], source: str) -> pl.Expr:
    """The corpus source of a record: an item's meta names it (its origin otherwise), a document has a column."""
    if "source_id" in cols and "meta" in cols:
        return pl.col("meta").str.json_path_match("$.source").fill_null(pl.col("origin") if "origin" in cols else pl.lit("")).fill_null("")
    return pl.col(source).fill_null("") if source in cols else pl.lit("(all)")


def _length_histograms(data: pl.LazyFrame, text: str, source: str, stage: str) -> list[str]:
    """Character-length histograms per source (the largest sources, the rest as 'other'), numbers only in memory."""
    cols = data.collect_schema().names()
    if text not in cols:
        return []
    src = _source_expr(cols, source)
    df = data.select(src.alias("source"), pl.col(text).fill_null("").str.len_chars().alias("chars")).collect(engine="streaming")
    top = df.group_by("source").agg(pl.len()).sort(["len", "source"], descending=[True, False]).head(TOP_SOURCES)["source"].to_list()
    df = df.with_columns(pl.when(pl.col("source").is_in(top)).then(pl.col("source")).otherwise(pl.lit("(other sources)")).alias("source"))
    edges = list(LENGTH_EDGES)
    labels = [f"{lo}–{hi - 1}" for lo, hi in pairwise(edges)] + [f"≥{edges[-1]}"]
    out = []
    for name in top + (["(other sources)"] if df["source"].eq("(other sources)").any() else []):
        chars = df.filter(pl.col("source") == name)["chars"].to_numpy()
        counts = [int(((chars >= lo) & (chars < hi)).sum()) for lo, hi in pairwise(edges)] + [int((chars >= edges[-1]).sum())]
        out.append(histogram(counts, labels, f"{stage}-lengths-{name}", f"{name or '(no source)'}: {len(chars):,} records, characters"))
    return [c for c in out if c]


def _text_block(text: str, where: str) -> str:
    text = text or ""
    more = ""
    if len(text) > TEXT_LIMIT:
        more = f'<p class="muted">… {len(text) - TEXT_LIMIT:,} more characters in {escape(where)}</p>'
        text = text[:TEXT_LIMIT]
    return f"<pre>{escape(text)}</pre>{more}"


def _record_text(rec: Mapping[str, Any]) -> str:
    """The readable fields of a record (document or item), labelled."""
    parts = []
    for key in ("title", "instruction", "input", "output", "text", "raw"):
        v = rec.get(key)
        if isinstance(v, str) and v.strip():
            parts.append(f"【{key}】\n{v}")
    if not parts:
        parts.append(json.dumps(dict(rec), ensure_ascii=False, indent=1, default=str))
    return "\n\n".join(parts)


def _link(path: str | None) -> str:
    if not path:
        return ""
    if path.startswith(("http://", "https://")):
        return f'<a href="{escape(path, quote=True)}">{escape(path)}</a>'
    return f"<code>{escape(path)}</code>"


def _table(df: pl.DataFrame, rows: int = TABLE_ROWS, where: str = "") -> str:
    if df.height == 0 or df.width == 0:
        return ""
    head = "".join(f"<th>{escape(c)}</th>" for c in df.columns)
    body = []
    for row in df.head(rows).iter_rows():
        cells = []
        for v in row:
            s = fmt(v)
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            cells.append(f'<td class="n">{escape(s)}</td>' if num else f"<td>{escape(s[:300])}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f'<p class="muted">{df.height - rows:,} more rows in {escape(where)}</p>' if df.height > rows else ""
    return f'<div class="tw"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{more}'


def _flow(tables: Mapping[str, pl.DataFrame], stage: str) -> tuple[str, pl.DataFrame | None]:
    flow = tables.get("flow")
    if flow is None:
        return "", None
    rows = [(("in" if r["step"] == "in" else "kept" if r["step"] == "kept" else f"{r['step']}: {r['reason']}" if r["reason"] else r["step"]),
             r["rows"], r["step"]) for r in flow.iter_rows(named=True)]
    return bars([r for r in rows if r[1] > 0], f"{stage}-funnel", f"{stage}: in → kept, rejected by reason (routing apart)"), flow


def _review_controls(stage: str, rid: str) -> str:
    slot = escape(f"record:{rid}", quote=True)
    name = escape(f"d-{stage}-{rid}", quote=True)
    return (f'<span class="decide" data-slot="{slot}" data-kind="record" data-id="{escape(rid, quote=True)}" data-stage="{stage}">'
            f'<label><input type="radio" name="{name}" value="accept"> accept</label> '
            f'<label><input type="radio" name="{name}" value="reject"> reject</label> '
            f'<input type="text" class="note" placeholder="note" size="18"></span>')


def _group_button(kind: str, key: str, count: int) -> str:
    return (f'<button type="button" class="group" data-slot="{escape(f"{kind}:{key}", quote=True)}" data-kind="{kind}" '
            f'data-id="{escape(key, quote=True)}">reject all {count:,}</button>')


def _examples(rejected: pl.LazyFrame | None, stage: str) -> str:
    if rejected is None:
        return ""
    cols = rejected.collect_schema().names()
    want = [c for c in ("reason", "detail", "source", "path", "id", "record", "kept_id", "similarity") if c in cols]
    # the rows to show are picked on the reason column alone; only those rows' records are read (grouping the
    # records themselves held every rejected record of the stage in memory: 150 MB at 4,000 selfinstruct replies)
    picked = (rejected.select("reason").with_row_index("_row").group_by("reason", maintain_order=True).head(EXAMPLES)
              .collect(engine="streaming")["_row"].to_list())
    ex = (rejected.with_row_index("_row").filter(pl.col("_row").is_in(picked)).select(want)
          .collect(engine="streaming"))
    if ex.height == 0:
        return ""
    out = [f"<h3>Reject examples (up to {EXAMPLES} per reason; click one for the full record)</h3>"]
    for reason in sorted(set(ex["reason"]), key=lambda r: (-ex.filter(pl.col("reason") == r).height, r)):
        rows = ex.filter(pl.col("reason") == reason)
        out.append(f'<details class="reason"><summary><b>{escape(reason)}</b> — {escape(meaning(reason))} '
                   f'<span class="muted">({rows.height} shown)</span></summary>')
        for r in rows.iter_rows(named=True):
            try:
                rec = json.loads(r.get("record") or "null") or {}
            except ValueError:
                rec = {"raw": r.get("record")}
            extra = f" · kept {escape(str(r['kept_id']))}" if r.get("kept_id") else ""
            out.append(f'<details class="ex"><summary><code>{escape(str(r.get("id") or "-"))}</code> · {escape(str(r.get("source") or ""))} · '
                       f'{_link(r.get("path"))}{extra} — {escape((r.get("detail") or "")[:160])}</summary>'
                       f'<p>{escape(r.get("detail") or "")}</p>{_text_block(_record_text(rec) if rec else "(no record kept)", f"{stage}/rejected/")}</details>')
        out.append("</details>")
    return "".join(out)


def _review_samples(data: pl.LazyFrame | None, stage: str, seed: int) -> str:
    if data is None:
        return ""
    cols = data.collect_schema().names()
    if "id" not in cols:
        return ""
    # the sample is chosen on (id, key) alone, then only its rows are read: sorting whole records would hold
    # every text of the stage in memory at once (824 MB for a 1 GB corpus)
    key = pl.col("id").hash(seed).alias("_k")
    if "subcategory" in cols:
        ids = (data.select("id", "subcategory", key).sort("_k").group_by("subcategory", maintain_order=True)
               .head(REVIEW_PER_SUBCATEGORY).collect(engine="streaming")["id"].to_list())
        df = data.filter(pl.col("id").is_in(ids)).collect(engine="streaming").sort(["subcategory", "id"])
    else:
        ids = data.select("id", key).sort("_k").head(REVIEW_SAMPLE).collect(engine="streaming")["id"].to_list()
        df = data.filter(pl.col("id").is_in(ids)).with_columns(key).collect(engine="streaming").sort("_k").drop("_k")
    if df.height == 0:
        return ""
    out = [f'<h3>Review a sample ({df.height} kept records; decide, then “Download decisions” at the top)</h3><div class="samples">']
    for r in df.iter_rows(named=True):
        label = " · ".join(str(r[c]) for c in ("subcategory", "source", "title") if r.get(c))
        head = (r.get("instruction") or r.get("title") or "")[:80]
        out.append(f'<div class="sample"><div>{_review_controls(stage, str(r["id"]))} <code>{escape(str(r["id"]))}</code> '
                   f'{escape(label)} {_link(r.get("url") or r.get("path"))}</div>'
                   f'<details><summary>{escape(head)}</summary>{_text_block(_record_text(r), f"{stage}/data/")}</details></div>')
    out.append("</div>")
    return "".join(out)


def _shares(data: pl.LazyFrame | None, stage: str, source: str) -> tuple[str, list[str]]:
    """Kept records per source (the corpus source; items carry it in their meta) and the flag above SHARE_FLAG."""
    if data is None:
        return "", []
    cols = data.collect_schema().names()
    src = _source_expr(cols, source)
    items = "source_id" in cols
    per = data.select(src.alias("source")).group_by("source").agg(pl.len().alias("kept")).collect().sort(["kept", "source"], descending=[True, False])
    total = int(per["kept"].sum())
    if not total:
        return "", []
    flags = [f"{r['source']} is {r['kept'] / total:.0%} of the kept {'items' if items else 'records'} ({r['kept']:,} of {total:,})"
             for r in per.iter_rows(named=True) if r["kept"] / total > SHARE_FLAG and per.height > 1]
    if per.height == 1:
        flags.append(f"every {'item' if items else 'record'} comes from one source ({per['source'][0]})")
    flagged = stage == "export"
    rows = [(f"{r['source'] or '(none)'} ({r['kept'] / total:.0%})", r["kept"], "flag" if flagged and r["kept"] / total > SHARE_FLAG else "bar")
            for r in per.head(20).iter_rows(named=True)]
    chart = bars(rows, f"{stage}-sources", f"{stage}: kept per source (share)")
    return chart, flags


def _dedup_view(tables: Mapping[str, pl.DataFrame], folder: Path) -> tuple[str, list[str]]:
    out, flags = [], []
    cs = tables.get("cluster_sizes")
    if cs is not None and cs.height:
        out.append(bars([(str(r["cluster_size"]), r["clusters"]) for r in cs.iter_rows(named=True)], "dedup-cluster-sizes",
                        "dedup: clusters by size (documents per cluster)"))
    rem = tables.get("removals")
    if rem is not None and rem.height:
        sim = rem.select(pl.max_horizontal(pl.col("jaccard").fill_null(0), pl.col("containment").fill_null(0)).alias("s"))["s"].to_numpy()
        edges = SIM_EDGES
        counts = [int(((sim >= lo) & (sim < hi)).sum()) for lo, hi in pairwise(edges)]
        below = int((sim < edges[0]).sum())
        labels = [f"{lo:.2f}–{min(hi, 1.0):.2f}" for lo, hi in pairwise(edges)]
        out.append(histogram([below] + counts, [f"<{edges[0]:.2f}"] + labels, "dedup-similarity",
                             "dedup: similarity of removed documents to their kept one", width=520))
        longer = rem.filter(pl.col("removed_chars") > pl.col("kept_chars"))
        if longer.height:
            flags.append(f"dedup removed the longer document of {longer.height:,} pair(s) (e.g. {longer['removed_id'][0]}: "
                         f"{longer['removed_chars'][0]:,} chars removed, {longer['kept_chars'][0]:,} kept)")
    pairs = tables.get("review_pairs")
    if pairs is not None and pairs.height:
        ids = set(pairs["removed_id"]) | set(pairs["kept_id"])
        full = _texts_by_id(folder, ids)
        out.append("<h3>Pairs side by side (the removed one marked)</h3>")
        for r in pairs.iter_rows(named=True):
            warn = ' <span class="flag">removed the longer one</span>' if (r["removed_chars"] or 0) > (r["kept_chars"] or 0) else ""
            out.append(f'<div class="pair"><p>{escape(r["match"] or "")} · similarity {fmt(r["similarity"])} · Jaccard {fmt(r["jaccard"])} · '
                       f'containment {fmt(r["containment"])}{warn}</p><div class="cols">'
                       f'<div class="removed"><b>REMOVED</b> <code>{escape(r["removed_id"])}</code> · {fmt(r["removed_chars"])} chars'
                       f'<details><summary>{escape((r["removed_text"] or "")[:90])}</summary>'
                       f'{_text_block(full.get(r["removed_id"], r["removed_text"] or ""), "dedup/rejected/")}</details></div>'
                       f'<div class="kept"><b>kept</b> <code>{escape(r["kept_id"])}</code> · {fmt(r["kept_chars"])} chars'
                       f'<details><summary>{escape((r["kept_text"] or "")[:90])}</summary>'
                       f'{_text_block(full.get(r["kept_id"], r["kept_text"] or ""), "dedup/data/")}</details></div></div></div>')
    return "".join(out), flags


def _texts_by_id(folder: Path, ids: set[str]) -> dict[str, str]:
    """Full texts of a few documents, kept ones from data/, removed ones from the record in rejected/."""
    out: dict[str, str] = {}
    data = _scan(folder / "data")
    if data is not None and ids:
        for r in data.filter(pl.col("id").is_in(list(ids))).select("id", "text").collect().iter_rows():
            out[r[0]] = r[1] or ""
    rej = _scan(folder / "rejected")
    if rej is not None and ids:
        for r in rej.filter(pl.col("id").is_in(list(ids))).select("id", "record").collect().iter_rows():
            try:
                out[r[0]] = (json.loads(r[1] or "{}") or {}).get("text") or ""
            except ValueError:
                pass
    return out


def _templates_view(tables: Mapping[str, pl.DataFrame]) -> str:
    out = []
    fam = tables.get("families")
    if fam is not None and fam.height:
        out.append(bars([(r["family"], r["items"]) for r in fam.iter_rows(named=True)], "templates-families", "templates: items per family"))
    cov = tables.get("coverage")
    if cov is not None and cov.height:
        covered = cov.filter(pl.col("items") > 0).sort(["family", "items"], descending=[False, True])
        out.append(bars([(f"{r['family'][:4]} · {r['subcategory']}", r["items"]) for r in covered.iter_rows(named=True)],
                        "templates-subcategories", f"templates: items per sub-category ({covered.height} of {cov.height} covered)"))
        zero = cov.filter(pl.col("items") == 0).select("family", "subcategory", "name", "why")
        if zero.height:
            out.append(f"<h3>Sub-categories with no items, and why ({zero.height})</h3>" + _table(zero, rows=200))
    return "".join(out)


def _selfinstruct_view(tables: Mapping[str, pl.DataFrame]) -> str:
    out = []
    req = tables.get("requests")
    if req is not None:
        out.append(bars([(r["outcome"], r["requests"]) for r in req.iter_rows(named=True)], "selfinstruct-requests",
                        "selfinstruct: request outcomes"))
    tok = tables.get("tokens_and_cost")
    if tok is not None:
        vals = {r["measure"]: r["value"] for r in tok.iter_rows(named=True)}
        rows = [(k, float(vals[k])) for k in ("prompt_tokens_paid", "completion_tokens_paid", "prompt_tokens_all_replies",
                                               "completion_tokens_all_replies") if k in vals and _is_number(vals[k])]
        out.append(bars(rows, "selfinstruct-tokens", "selfinstruct: tokens"))
        out.append("<h3>Tokens and cost</h3>" + _table(tok))
    est = tables.get("estimate")
    if est is not None:
        vals = {r["measure"]: r["value"] for r in est.iter_rows(named=True)}
        rows = [(k, float(v)) for k, v in vals.items() if "tokens" in k and _is_number(v)]
        out.append(bars(rows, "selfinstruct-estimate", "selfinstruct: estimated tokens (nothing sent)"))
        out.append("<h3>Estimate: requests, tokens and cost</h3>" + _table(est))
    return "".join(out)


def _is_number(v: Any) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _export_view(data: pl.LazyFrame | None, tables: Mapping[str, pl.DataFrame]) -> str:
    if data is None:
        return ""
    cols = data.collect_schema().names()
    out = []
    for col in ("family", "split", "origin"):
        if col in cols:
            per = data.group_by(col).agg(pl.len().alias("n")).collect().sort(["n", col], descending=[True, False])
            out.append(bars([(str(r[col]), r["n"]) for r in per.iter_rows(named=True)], f"export-{col}", f"export: items per {col}"))
    if "subcategory" in cols:
        per = (data.group_by("subcategory", "family").agg(pl.len().alias("items"), pl.col("source_id").n_unique().alias("articles"))
               .collect().sort(["family", "subcategory"]))
        rows = [f'<tr><td>{escape(r["family"])}</td><td>{escape(r["subcategory"])}</td><td class="n">{r["items"]:,}</td>'
                f'<td class="n">{r["articles"]:,}</td><td>{_group_button("subcategory", r["subcategory"], r["items"])}</td></tr>'
                for r in per.iter_rows(named=True)]
        out.append('<h3>Sub-categories (reject a whole one)</h3><div class="tw"><table><thead><tr><th>family</th><th>sub-category</th>'
                   f'<th>items</th><th>articles</th><th>review</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
    if "meta" in cols:
        per = (data.select(pl.col("meta").str.json_path_match("$.source").fill_null(pl.col("origin")).alias("source"))
               .group_by("source").agg(pl.len().alias("items")).collect().sort("source"))
        rows = [f'<tr><td>{escape(r["source"] or "")}</td><td class="n">{r["items"]:,}</td><td>{_group_button("source", r["source"] or "", r["items"])}</td></tr>'
                for r in per.iter_rows(named=True)]
        out.append('<h3>Corpus sources (reject a whole one)</h3><div class="tw"><table><thead><tr><th>source</th><th>items</th><th>review</th>'
                   f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
    return "".join(out)


def _count(v: float | None) -> str:
    return "-" if v is None else f"{int(v):,}"


def stage_section(output: Path, stage: str, seed: int) -> str | None:
    folder = output / stage
    if not (folder / "report" / "index.json").is_file():
        return None
    notes, tables = load_report(folder / "report")
    text, source, _ = _stage_attrs(stage)
    data, rejected = _scan(folder / "data"), _scan(folder / "rejected")
    summary = dict(tables["summary"].iter_rows()) if "summary" in tables else {}
    steps: dict[str, int] = {}
    for r in (tables["flow"].iter_rows(named=True) if "flow" in tables else []):
        steps[r["step"]] = steps.get(r["step"], 0) + r["rows"]
    routed = f' · routing <b>{steps["routing"]:,}</b> (candidates never made)' if steps.get("routing") else ""
    gap = f' · difference <b>{steps["difference"]:,}</b> (see the funnel table)' if steps.get("difference") else ""
    parts = [f'<section class="stage" id="stage-{stage}"><h2>{escape(stage)}</h2>',
             f'<p class="kpi">in <b>{_count(summary.get("rows_in"))}</b> · kept <b>{_count(summary.get("rows_out"))}</b> · rejected '
             f'<b>{steps.get("rejected", 0):,}</b>{routed}{gap} · {fmt(summary.get("seconds"))} s</p>']
    flags: list[str] = []
    funnel, flow = _flow(tables, stage)
    views = [funnel]
    if stage == "dedup":
        view, more = _dedup_view(tables, folder)
        views.append(view)
        flags += more
    share_chart, more = _shares(data, stage, source)
    flags += more if stage in ("export", "templates") else []
    views.append(share_chart)
    if data is not None:
        hists = _length_histograms(data, text, source, stage)
        if hists:
            views.append(f'<h3>Lengths per source ({escape(text)}, characters)</h3><div class="hists">{"".join(hists)}</div>')
    if stage == "templates":
        views.append(_templates_view(tables))
    elif stage == "selfinstruct":
        views.append(_selfinstruct_view(tables))
    elif stage == "export":
        views.append(_export_view(data, tables))
    if flags:
        parts.append('<div class="flags">' + "".join(f'<p class="flag">⚑ {escape(f)}</p>' for f in flags) + "</div>")
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    parts += [v for v in views if v]
    if flow is not None:
        parts.append("<h3>Funnel and glossary (in = kept + rejected; routing: candidates never made)</h3>" + _table(flow, rows=200))
    parts.append(_examples(rejected, stage))
    parts.append(_review_samples(data, stage, seed))
    shown = {"flow", "summary", "samples"}
    rest = [f"<h4>{escape(n)}</h4>{_table(df, where=f'{stage}/report/{n}.parquet')}" for n, df in tables.items() if n not in shown and df.height]
    if rest:
        parts.append(f'<details class="all"><summary>All report tables of {escape(stage)} ({len(rest)})</summary>{"".join(rest)}</details>')
    parts.append("</section>")
    return "".join(p for p in parts if p)


STYLE = """
body{font:14px/1.45 system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#111}
header{position:sticky;top:0;background:#f8fafc;border-bottom:1px solid #ddd;padding:8px 16px;z-index:2}
nav a{margin-right:12px}main{padding:0 16px 40px;max-width:1100px}
section.stage{border-top:2px solid #334155;margin-top:18px}
.ct{font-weight:600;font-size:12px}.cl,.cv,.cx{font-size:11px}.cv{fill:#333}
.kpi b{font-size:15px}.muted{color:#666}.flag{color:#b45309;font-weight:600}
.tw{overflow-x:auto}table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:2px 6px;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f1f5f9}
pre{white-space:pre-wrap;background:#f8fafc;padding:6px;max-height:420px;overflow:auto}
.hists{display:flex;flex-wrap:wrap;gap:8px}.cols{display:flex;gap:10px}.cols>div{flex:1;min-width:0}
.removed{background:#fef2f2;padding:4px}.kept{background:#f0fdf4;padding:4px}
.sample{border-bottom:1px solid #eee;padding:3px 0}.decide{white-space:nowrap}
button.group.on{background:#dc2626;color:#fff}
"""

SCRIPT = """
(function(){
  const key = 'builder-review:' + document.body.dataset.output;
  const decisions = new Map(Object.entries(JSON.parse(localStorage.getItem(key) || '{}')));
  function save(){ localStorage.setItem(key, JSON.stringify(Object.fromEntries(decisions))); show(); }
  function show(){
    let r = 0; decisions.forEach(d => { if (d.decision === 'reject') r++; });
    document.getElementById('count').textContent = decisions.size + ' decisions (' + r + ' reject)';
  }
  function restore(){
    document.querySelectorAll('.decide').forEach(el => {
      const d = decisions.get(el.dataset.slot); if (!d) return;
      const radio = el.querySelector('input[value="' + d.decision + '"]'); if (radio) radio.checked = true;
      el.querySelector('.note').value = d.note || '';
    });
    document.querySelectorAll('button.group').forEach(b => b.classList.toggle('on', !!decisions.get(b.dataset.slot)));
  }
  document.addEventListener('change', e => {
    const box = e.target.closest('.decide'); if (!box) return;
    const picked = box.querySelector('input[type=radio]:checked'); if (!picked) return;
    decisions.set(box.dataset.slot, {kind: 'record', id: box.dataset.id, stage: box.dataset.stage, decision: picked.value,
                                     note: box.querySelector('.note').value, decided_at: new Date().toISOString()});
    save();
  });
  document.addEventListener('click', e => {
    const b = e.target.closest('button.group'); if (!b) return;
    if (decisions.get(b.dataset.slot)) decisions.delete(b.dataset.slot);
    else decisions.set(b.dataset.slot, {kind: b.dataset.kind, id: b.dataset.id, stage: 'export', decision: 'reject',
                                        note: prompt('Why reject all of ' + b.dataset.id + '?') || '', decided_at: new Date().toISOString()});
    b.classList.toggle('on', !!decisions.get(b.dataset.slot)); save();
  });
  document.getElementById('download').addEventListener('click', () => {
    const doc = {format: 'builder-review', version: 1, build: document.body.dataset.build, output: document.body.dataset.output,
                 created: new Date().toISOString(), decisions: Array.from(decisions.values())};
    const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 1)], {type: 'application/json'}));
    const a = document.createElement('a'); a.href = url; a.download = 'review-' + document.body.dataset.build + '.json';
    document.body.appendChild(a); a.click(); a.remove(); setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  document.getElementById('clear').addEventListener('click', () => { decisions.clear(); save(); restore();
    document.querySelectorAll('.decide input[type=radio]').forEach(r => { r.checked = false; }); });
  restore(); show();
})();
"""


def render_html(output: Path, build_name: str, seed: int = 0, stages: Iterable[str] | None = None) -> str:
    sections = [(s, stage_section(output, s, seed)) for s in (stages or _stage_order())]
    sections = [(s, html) for s, html in sections if html]
    nav = "".join(f'<a href="#stage-{s}">{escape(s)}</a>' for s, _ in sections)
    body = "".join(html for _, html in sections) or "<p>No stage has a report yet: run <code>builder run all</code>.</p>"
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(build_name)}: quality report</title>'
            f'<style>{STYLE}</style></head><body data-build="{escape(build_name, quote=True)}" data-output="{escape(str(output), quote=True)}">'
            f'<header><b>{escape(build_name)}</b> quality report · {time.strftime("%Y-%m-%d %H:%M")} · <nav>{nav}</nav> '
            f'<button type="button" id="download">Download decisions</button> <button type="button" id="clear">Clear</button> '
            f'<span id="count"></span> <span class="muted">then: builder review apply FILE -c CONFIG</span></header>'
            f"<main>{body}</main><script>{SCRIPT}</script></body></html>")


def write_html(output: Path, build_name: str, seed: int = 0, path: Path | None = None) -> tuple[Path, int, float]:
    """Write the page (default ``<output>/report.html``); returns its path, size in bytes and seconds taken."""
    t0 = time.perf_counter()
    page = render_html(output, build_name, seed)
    path = path or output / "report.html"
    atomic_write_text(path, page)
    return path, path.stat().st_size, time.perf_counter() - t0
